"""Analysis results: ``RunAnalysis`` (per-step table, summary, its ``RunRecord``, bouts, quality) and its stable
JSON form.

JSON schema ``gait.analysis/2`` (documented in docs/json-schema.md, with the changes from ``/1``). A metric that
cannot be computed is ``null`` and ``quality.unavailable`` says why.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gait.analysis.screen import MAX_ACC_MS2, MAX_GYR_RADS, Screened
from gait.analysis.summary import SUMMARY_METRICS, RunRecord, RunSummary, terrain_split
from gait.analysis.terrain import TerrainTrack, measured_speed_mps
from gait.constants import G0

if TYPE_CHECKING:
    from gait.analysis.align import Mounting
    from gait.analysis.lever import LeverArm
    from gait.analysis.signal import Segment
    from gait.recording.model import Recording
    from gait.recording.units import UnitsCheck

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
        units: UnitsCheck | None = None,
    ) -> Quality:
        notes = _Notes()
        has_gyro = recording.imu.has_gyro
        dt = np.diff(recording.imu.t)
        gaps = dt > 3.0 / fs
        gap_total = float(np.sum(dt[gaps] - 1.0 / fs)) if gaps.any() else 0.0
        run = steps[steps["activity"] == "run"] if len(steps) else steps
        _input_notes(notes, recording, fs, int(gaps.sum()), gap_total, screened)
        for flag, message in zip(units.flags, units.messages, strict=True) if units else ():
            notes.add(flag, message)
        _result_notes(notes, summary, mounting, lever, has_gyro, has_run=len(run) > 0)
        excluded = {}
        if len(run):
            excluded["low_confidence"] = int(run["low_confidence"].sum())
            excluded["side_unknown_or_uncertain"] = int((run["side_confidence"] < 0.6).sum())
        return cls(
            flags=tuple(notes.flags),
            messages=tuple(notes.messages),
            unavailable=notes.unavailable,
            sample_rate_hz=round(fs, 3),
            has_gyroscope=has_gyro,
            gap_count=int(gaps.sum()),
            gap_total_s=round(gap_total, 3),
            mounting=mounting.describe(),
            lever_arm_m=None if lever is None else tuple(round(float(x), 3) for x in lever.r_m),
            recovered=recording.recovered,
            excluded_steps=excluded,
        )


@dataclass
class _Notes:
    """The quality notes as they are gathered: machine flags, their plain messages, and why metrics are missing."""

    flags: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)

    def add(self, flag: str, message: str) -> None:
        self.flags.append(flag)
        self.messages.append(message)


def _input_notes(
    notes: _Notes, recording: Recording, fs: float, n_gaps: int, gap_total: float, screened: Screened | None
) -> None:
    """What the samples themselves allow: a gyroscope, the rate, gaps, samples that are not measurements
    (``screen``), a recovered file."""
    if not recording.imu.has_gyro:
        notes.add(
            "no_gyroscope",
            "No gyroscope: pelvic angles (drop, tilt, rotation) need angular rate; left/right comes "
            "from side-to-side acceleration only and is less certain.",
        )
        notes.unavailable.update(dict.fromkeys(ANGLE_METRICS, "no gyroscope in this recording"))
    if fs < 0.99 * 100:  # within 1 % of 100 Hz is nominal (a phone at 99.8 Hz)
        notes.add("low_sample_rate", f"Sample rate {fs:.0f} Hz: impact peaks are underestimated below ~100 Hz.")
    if n_gaps:
        notes.add(
            "gaps",
            f"{n_gaps} gaps in the samples ({gap_total:.1f} s in total); steps next to them are flagged and excluded.",
        )
    if screened is not None:
        _screen_notes(notes, screened)
    if recording.recovered:
        notes.add("recovered", "The recording was not closed cleanly and was recovered from its crash log.")


def _screen_notes(notes: _Notes, screened: Screened) -> None:
    """The samples ``screen`` left out: not numbers, beyond any real sensor's range, a stopped gyroscope."""
    if screened.non_finite:
        notes.add(
            "non_finite", f"{screened.non_finite} samples were not numbers (NaN or infinite) and were left out as gaps."
        )
    if screened.out_of_range:
        notes.add(
            "out_of_range",
            f"{screened.out_of_range} samples beyond any real sensor's range (|acc| > {MAX_ACC_MS2 / G0:.0f} g or "
            f"|gyro| > {MAX_GYR_RADS:.0f} rad/s) were left out as gaps.",
        )
    if screened.gyro_dropped:
        notes.add(
            "gyroscope_missing",
            "The gyroscope sent nothing for most of the recording: analysed with the accelerometer alone.",
        )


def _result_notes(
    notes: _Notes, summary: RunSummary, mounting: Mounting, lever: LeverArm | None, has_gyro: bool, has_run: bool
) -> None:
    """What the analysis could establish: enough running, the forward direction, sides, the lever arm, drift."""
    if summary.running_s < 10 or summary.n_used < 10:
        notes.add(
            "little_running",
            f"Only {summary.running_s:.0f} s of running ({summary.n_used} usable steps): "
            "running metrics are unavailable or unreliable.",
        )
        if summary.n_used == 0:
            for m in ("cadence_spm", *SUMMARY_METRICS):
                notes.unavailable.setdefault(m, "no running detected")
    if mounting.forward_sign_margin < 0.1:
        notes.add(
            "forward_uncertain",
            "The forward direction of the sensor is uncertain: braking and left/right may be swapped.",
        )
    if has_run and summary.side_confidence is not None and summary.side_confidence < 0.6:
        notes.add(
            "sides_uncertain", "Left/right labels are uncertain; per-side values are withheld where confidence is low."
        )
    if summary.n_used >= 10:
        _braking_notes(notes, lever, has_gyro)
    if summary.drift_reason:
        notes.unavailable["drift"] = summary.drift_reason


def _braking_notes(notes: _Notes, lever: LeverArm | None, has_gyro: bool) -> None:
    """How braking was read: with the fitted lever arm, a shortened one, none at all, or not without a gyroscope."""
    if not has_gyro:
        why = "needs a gyroscope: at the sacrum the pelvis's own tilting swamps the body's braking"
        braking = (
            "braking_peak_g",
            "braking_dv_mps",
            "braking_duration_ms",
            "step_speed_loss_mps",
            "step_speed_loss_pct",
        )
        notes.unavailable.update(dict.fromkeys(braking, why))
        return
    if lever is None:
        return
    if lever.basis == "prior":
        notes.add(
            "lever_arm_prior",
            f"Too few flight phases ({lever.n_samples} samples) to fit where the sensor sits relative to the body's "
            "centre of mass: braking is read at the sensor without removing the pelvis's rotation (less certain).",
        )
    elif lever.basis == "bounded":
        notes.add(
            "lever_arm_bounded",
            "The fitted sensor offset from the centre of mass was implausibly long and was shortened: braking is "
            "less certain.",
        )
    elif lever.explained < 0.1:
        notes.add(
            "lever_arm_small",
            f"The pelvis's rotation explains little of the flight signal ({100 * lever.explained:.0f} %): the "
            "sensor sits close to its centre of rotation and the correction before reading braking is small.",
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
    #: running speed and distance from outside the movement (a foot pod, a watch, the runner); filled by
    #: ``gait.analyze``. Without them the record takes the measured speed of the steps (``terrain``)
    speed_mps: float | None = None
    distance_m: float | None = None
    #: speed, grade and the terrain segments over the run, from the recording's location, barometer, foot-pod
    #: and watch streams (``gait.analysis.terrain``; empty when it has none)
    terrain: TerrainTrack | None = None

    @functools.cached_property
    def record(self) -> RunRecord:
        """The run in one row (``RunRecord``): what the JSON's numbers, the store, batch rows, the dashboard and
        the reports show. The terrain split is taken from the step table as it stands (so whatever a placement
        or a linear-acceleration recording withholds is withheld there too)."""
        speed = self.speed_mps if self.speed_mps is not None else measured_speed_mps(self.steps)
        distance = self.distance_m
        if distance is None and self.terrain is not None:
            distance = self.terrain.measured_distance_m
        return self.summary.record(speed_mps=speed, distance_m=distance, by_terrain=terrain_split(self.steps))

    def to_dict(self, with_location: bool = False) -> dict[str, Any]:
        """The documented JSON object (schema ``gait.analysis/2``); the route's coordinates only
        ``with_location`` (location is private)."""
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
            **self.record.to_dict(),  # the run's numbers, one key per RunRecord field
        }
        d["per_side"] = {m: {"left": _num(v.left, 3), "right": _num(v.right, 3)} for m, v in s.per_side.items()}
        d["asymmetry_pct"] = {m: v.asymmetry_pct() for m, v in s.per_side.items()}
        d["drift"] = {
            "available": not s.drift_reason,
            "reason": s.drift_reason,
            "metrics": {m: {k: _num(v, 3) for k, v in dataclasses.asdict(dr).items()} for m, dr in s.drift.items()},
            "within_terrain": list(s.drift_terrains),
        }
        d["terrain"] = None if self.terrain is None else self.terrain.to_dict(with_location)
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
