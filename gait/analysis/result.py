"""Analysis results: ``RunAnalysis`` (per-step table, summary, bouts, quality) and its stable JSON form.

JSON schema ``gait.analysis/2`` (documented in docs/json-schema.md). A metric that cannot be computed is
``null`` and ``quality.unavailable`` says why.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gait.analysis.summary import SUMMARY_METRICS, RunSummary

if TYPE_CHECKING:
    from gait.analysis.align import Mounting
    from gait.analysis.orientation import LeverArm
    from gait.analysis.screen import Screened
    from gait.analysis.signal import Segment
    from gait.recording.model import Recording

SCHEMA = "gait.analysis/2"
DISCLAIMER = (
    "Estimates from a single body-worn sensor. Not a medical device and not a diagnosis; values depend on "
    "sensor placement and speed, so compare with your own baseline."
)
ANGLE_METRICS = (
    "pelvic_drop_deg",
    "pelvic_obliquity_range_deg",
    "pelvic_tilt_range_deg",
    "pelvic_rotation_range_deg",
)


@dataclass(frozen=True)
class Quality:
    """What the data allowed: flags (machine codes), plain messages, and why any metric is missing."""

    flags: tuple[str, ...]
    messages: tuple[str, ...]
    unavailable: dict[str, str]
    sample_rate_hz: float
    has_gyroscope: bool
    gap_count: int
    gap_total_s: float
    mounting: str
    lever_arm_m: tuple[float, float, float] | None
    recovered: bool
    excluded_steps: dict[str, int] = field(default_factory=dict)

    @classmethod
    def assess(
        cls,
        recording: Recording,
        fs: float,
        segments: list[Segment],
        mounting: Mounting,
        lever: LeverArm | None,
        steps: pd.DataFrame,
        summary: RunSummary,
        screened: Screened | None = None,
    ) -> Quality:
        flags: list[str] = []
        msgs: list[str] = []
        unavailable: dict[str, str] = {}
        has_gyro = recording.imu.has_gyro
        t = recording.imu.t
        dt = np.diff(t)
        gaps = dt > 3.0 / fs
        gap_total = float(np.sum(dt[gaps] - 1.0 / fs)) if gaps.any() else 0.0
        run = steps[steps["activity"] == "run"] if len(steps) else steps
        if not has_gyro:
            flags.append("no_gyroscope")
            msgs.append(
                "No gyroscope: pelvic angles (drop, tilt, rotation) need angular rate; left/right comes "
                "from side-to-side acceleration only and is less certain."
            )
            for m in ANGLE_METRICS:
                unavailable[m] = "no gyroscope in this recording"
        if fs < 0.99 * 100:  # within 1 % of 100 Hz is nominal (a phone at 99.8 Hz)
            flags.append("low_sample_rate")
            msgs.append(f"Sample rate {fs:.0f} Hz: impact peaks are underestimated below ~100 Hz.")
        if gaps.any():
            flags.append("gaps")
            msgs.append(
                f"{int(gaps.sum())} gaps in the samples ({gap_total:.1f} s in total); steps next to "
                "them are flagged and excluded."
            )
        if screened is not None and screened.non_finite:
            flags.append("non_finite")
            msgs.append(f"{screened.non_finite} samples were not numbers (NaN or infinite) and were left out as gaps.")
        if screened is not None and screened.out_of_range:
            flags.append("out_of_range")
            msgs.append(
                f"{screened.out_of_range} samples beyond any real sensor's range (|acc| > 200 g or |gyro| > 70 rad/s) "
                "were left out as gaps."
            )
        if screened is not None and screened.gyro_dropped:
            flags.append("gyroscope_missing")
            msgs.append("The gyroscope sent nothing for most of the recording: analysed with the accelerometer alone.")
        if recording.recovered:
            flags.append("recovered")
            msgs.append("The recording was not closed cleanly and was recovered from its crash log.")
        if summary.running_s < 10 or summary.n_used < 10:
            flags.append("little_running")
            msgs.append(
                f"Only {summary.running_s:.0f} s of running ({summary.n_used} usable steps): "
                "running metrics are unavailable or unreliable."
            )
            if summary.n_used == 0:
                for m in ("cadence_spm", *SUMMARY_METRICS):
                    unavailable.setdefault(m, "no running detected")
        if mounting.forward_sign_margin < 0.1:
            flags.append("forward_uncertain")
            msgs.append("The forward direction of the sensor is uncertain: braking and left/right may be swapped.")
        if len(run) and summary.side_confidence is not None and summary.side_confidence < 0.6:
            flags.append("sides_uncertain")
            msgs.append("Left/right labels are uncertain; per-side values are withheld where confidence is low.")
        if lever is None and summary.n_used >= 10:
            if has_gyro:
                flags.append("no_rotation_compensation")
                msgs.append(
                    "The pelvis-rotation correction could not be fitted, so braking is not reported and "
                    "contact times are read at the sensor itself."
                )
            for m in ("braking_peak_g", "braking_dv_mps", "braking_duration_ms"):
                unavailable[m] = (
                    "needs a gyroscope: at the sacrum the pelvis's own tilting swamps the body's braking"
                    if not has_gyro
                    else "pelvis-rotation correction could not be fitted"
                )
        if summary.drift_reason:
            unavailable["drift"] = summary.drift_reason
        excluded = {}
        if len(run):
            excluded["low_confidence"] = int(run["low_confidence"].sum())
            excluded["side_unknown_or_uncertain"] = int((run["side_confidence"] < 0.6).sum())
        return cls(
            flags=tuple(flags),
            messages=tuple(msgs),
            unavailable=unavailable,
            sample_rate_hz=round(fs, 3),
            has_gyroscope=has_gyro,
            gap_count=int(gaps.sum()),
            gap_total_s=round(gap_total, 3),
            mounting=mounting.describe(),
            lever_arm_m=None if lever is None else tuple(round(float(x), 3) for x in lever.r_m),
            recovered=recording.recovered,
            excluded_steps=excluded,
        )


@dataclass(frozen=True)
class RunAnalysis:
    """Everything ``gait.analyze`` found in one recording."""

    recording: Recording
    steps: pd.DataFrame
    summary: RunSummary
    bouts: pd.DataFrame
    quality: Quality
    mounting: Mounting
    #: filled by ``gait.analyze`` (the insights layer), which judges the run against the runner's history;
    #: ``None`` when only the movement analysis ran. Kept as plain objects so analysis never imports insights.
    findings: tuple[Any, ...] | None = None
    #: what the findings were judged against (runner, baseline, weekly load, red flags), JSON-ready
    context: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON object (schema ``gait.analysis/2``)."""
        s = self.summary
        meta = self.recording.meta
        d: dict[str, Any] = {
            "schema": SCHEMA,
            "recording": {
                "name": self.recording.name,
                "path": str(self.recording.path) if self.recording.path else None,
                "id": meta.id,
                "source": meta.source,
                "synthetic": meta.synthetic,
                "device": meta.device.name,
                "placement": meta.placement,
                "start_utc": meta.start_utc,
            },
            "duration_s": _num(s.duration_s, 2),
            "running_s": _num(s.running_s, 1),
            "walking_s": _num(s.walking_s, 1),
            "still_s": _num(s.still_s, 1),
            "steps": s.n_steps,
            "steps_used": s.n_used,
            "steps_excluded_low_confidence": s.n_excluded,
            "steps_left": s.n_left,
            "steps_right": s.n_right,
            "cadence_spm": _num(s.cadence_spm, 2),
            "walking_cadence_spm": _num(s.walking_cadence_spm, 2),
        }
        for m in SUMMARY_METRICS:
            if m == "pelvic_drop_deg":
                side = s.per_side[m]
                d[m] = {"left": _num(side.left, 2), "right": _num(side.right, 2)}
            else:
                d[m] = _num(s.medians[m], 3)
        d["per_side"] = {m: {"left": _num(v.left, 3), "right": _num(v.right, 3)} for m, v in s.per_side.items()}
        d["asymmetry_pct"] = {m: v.asymmetry_pct() for m, v in s.per_side.items()}
        d["side_confidence"] = _num(s.side_confidence, 3)
        d["drift"] = {
            "available": not s.drift_reason,
            "reason": s.drift_reason,
            "metrics": {m: {k: _num(v, 3) for k, v in dataclasses.asdict(dr).items()} for m, dr in s.drift.items()},
        }
        q = self.quality
        d["quality"] = {
            "flags": list(q.flags),
            "messages": list(q.messages),
            "unavailable": dict(q.unavailable),
            "sample_rate_hz": q.sample_rate_hz,
            "has_gyroscope": q.has_gyroscope,
            "gaps": {"count": q.gap_count, "total_s": q.gap_total_s},
            "mounting": q.mounting,
            "lever_arm_m": list(q.lever_arm_m) if q.lever_arm_m else None,
            "recovered": q.recovered,
            "excluded_steps": q.excluded_steps,
        }
        if self.findings is not None:
            d["findings"] = [f.to_dict() for f in self.findings]
            d.update(self.context or {})
        d["disclaimer"] = DISCLAIMER
        return d


def _num(x: float | None, digits: int) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, digits)
