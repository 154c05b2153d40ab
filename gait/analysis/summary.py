"""Run summary: medians overall and per side, left/right asymmetry, drift over the run; and ``RunRecord``, the
run in one flat row that everything downstream reads.

Summaries use only confident steps: timing confidence >= ``MIN_CONFIDENCE`` for every metric and, for
per-side values, side confidence >= ``MIN_SIDE_CONFIDENCE``. What was left out is counted, never averaged in.

``RunRecord`` is the one place a run's numbers are named: the JSON's numbers, the run store's columns, ``gait
batch`` rows, the dashboard, the reports and the live view are all derived from its fields, so a name is
defined once and a mistyped one raises instead of showing an empty value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIN_CONFIDENCE = 0.5
MIN_SIDE_CONFIDENCE = 0.6
MIN_DRIFT_RUN_S = 300.0  # drift needs at least 5 minutes of running
DRIFT_FRACTION = 0.2  # early = first 20 % of running time, late = last 20 %

#: metrics summarised per run (column -> unit label)
SUMMARY_METRICS = {
    "contact_time_ms": "ms",
    "flight_time_ms": "ms",
    "vertical_oscillation_cm": "cm",
    "impact_g": "g",
    "braking_peak_g": "g",
    "braking_dv_mps": "m/s",
    "braking_duration_ms": "ms",
    "pelvic_drop_deg": "deg",
    "pelvic_obliquity_range_deg": "deg",
    "pelvic_tilt_range_deg": "deg",
    "pelvic_rotation_range_deg": "deg",
}
DRIFT_METRICS = (
    "cadence_spm",
    "contact_time_ms",
    "pelvic_drop_deg",
    "braking_dv_mps",
    "vertical_oscillation_cm",
)


@dataclass(frozen=True)
class SideValues:
    left: float | None
    right: float | None

    def asymmetry_pct(self) -> float | None:
        """100 * (right - left) / mean(left, right); positive = right larger."""
        if self.left is None or self.right is None:
            return None
        mean = 0.5 * (self.left + self.right)
        return None if mean == 0 else round(100.0 * (self.right - self.left) / abs(mean), 2)


@dataclass(frozen=True)
class Drift:
    """Change of a metric over the run: early vs late medians and a per-10-minute slope."""

    early: float | None
    late: float | None
    change: float | None
    slope_per_10min: float | None
    left_change: float | None = None
    right_change: float | None = None


@dataclass(frozen=True)
class FieldInfo:
    """What a ``RunRecord`` field holds: its unit as shown, a short label, the decimals shown, one line of meaning."""

    name: str
    unit: str
    label: str
    digits: int
    meaning: str
    integer: bool = False  # a count


def _field(unit: str, label: str, digits: int, meaning: str) -> Any:
    return field(default=None, metadata={"info": (unit, label, digits, meaning)})


@dataclass(frozen=True)
class RunRecord:
    """One run in one flat row: every number gait reports for a run, in the unit its name says; ``None`` where
    it cannot be computed (``RunAnalysis.quality.unavailable`` says why) or, for a run stored by an older
    version, was not kept. Per-side values use confidently-sided steps only."""

    duration_s: float | None = _field("s", "Recorded", 1, "first to last sample")
    running_s: float | None = _field("s", "Running time", 1, "time classified as running")
    walking_s: float | None = _field("s", "Walking time", 1, "time classified as walking")
    still_s: float | None = _field("s", "Still time", 1, "time classified as standing still")
    steps: int | None = _field("", "Running steps", 0, "running steps (stances) detected")
    steps_used: int | None = _field("", "Steps used", 0, "running steps confident enough for the summary")
    steps_excluded_low_confidence: int | None = _field(
        "", "Steps left out", 0, "running steps left out (next to gaps, irregular)"
    )
    steps_left: int | None = _field("", "Left steps", 0, "used steps with a confident left label")
    steps_right: int | None = _field("", "Right steps", 0, "used steps with a confident right label")
    cadence_spm: float | None = _field(
        "spm", "Cadence", 1, "running steps per minute (least-squares step period over regular steps)"
    )
    walking_cadence_spm: float | None = _field("spm", "Walking cadence", 1, "the same for walking steps")
    contact_time_ms: float | None = _field("ms", "Contact time", 0, "median ground contact time")
    flight_time_ms: float | None = _field("ms", "Flight time", 0, "median time from toe-off to the next contact")
    vertical_oscillation_cm: float | None = _field(
        "cm", "Vertical oscillation", 1, "median up-down excursion of the pelvis per step (overestimates the "
        "centre of mass's by ~1.5 cm)"
    )  # fmt: skip
    impact_g: float | None = _field("g", "Impact", 2, "median peak acceleration in stance (gravity included)")
    braking_peak_g: float | None = _field(
        "g", "Braking peak", 2, "median largest deceleration between contact and the slowest point"
    )
    braking_dv_mps: float | None = _field("m/s per step", "Braking", 2, "median forward speed lost per step")
    braking_duration_ms: float | None = _field(
        "ms", "Braking time", 0, "median time from contact to the slowest point of the stance"
    )
    pelvic_drop_deg: float | None = _field(
        "deg", "Pelvic drop", 1, "median contralateral pelvic drop over confident steps of both sides"
    )
    pelvic_drop_left_deg: float | None = _field(
        "deg", "Pelvic drop, left stance", 1, "median drop of the right hip while the left foot is on the ground"
    )
    pelvic_drop_right_deg: float | None = _field(
        "deg", "Pelvic drop, right stance", 1, "median drop of the left hip while the right foot is on the ground"
    )
    pelvic_drop_right_minus_left_deg: float | None = _field(
        "deg", "Pelvic drop, right minus left", 1, "right-stance minus left-stance pelvic drop"
    )
    pelvic_obliquity_range_deg: float | None = _field(
        "deg", "Pelvic obliquity range", 1, "median range of pelvic obliquity during stance"
    )
    pelvic_tilt_range_deg: float | None = _field(
        "deg", "Pelvic tilt range", 1, "median range of pelvic tilt during stance"
    )
    pelvic_rotation_range_deg: float | None = _field(
        "deg", "Pelvic rotation range", 1, "median range of pelvic rotation during stance"
    )
    contact_time_asymmetry_pct: float | None = _field(
        "%", "Contact time R vs L", 1, "100 * (right - left) / mean of the per-side contact times"
    )
    braking_asymmetry_pct: float | None = _field(
        "%", "Braking R vs L", 1, "100 * (right - left) / mean of the per-side braking"
    )
    side_confidence: float | None = _field("", "Side confidence", 2, "0-1, median confidence of the side labels")
    cadence_drift_spm: float | None = _field(
        "spm",
        "Cadence drift",
        1,
        f"last fifth of the running minus the first (runs of {MIN_DRIFT_RUN_S / 60:g} min or more)",
    )
    contact_time_drift_ms: float | None = _field("ms", "Contact time drift", 0, "the same for contact time")
    pelvic_drop_left_drift_deg: float | None = _field(
        "deg", "Pelvic drop drift, left stance", 1, "the same for left-stance pelvic drop"
    )
    pelvic_drop_right_drift_deg: float | None = _field(
        "deg", "Pelvic drop drift, right stance", 1, "the same for right-stance pelvic drop"
    )
    braking_dv_drift_mps: float | None = _field("m/s per step", "Braking drift", 2, "the same for braking")
    vertical_oscillation_drift_cm: float | None = _field(
        "cm", "Vertical oscillation drift", 1, "the same for vertical oscillation"
    )
    speed_mps: float | None = _field(
        "m/s", "Speed", 2, "running speed, when known: a foot pod's median, else distance / running time"
    )
    distance_m: float | None = _field("m", "Distance", 0, "distance, when known (a foot pod, a watch, the runner)")

    @staticmethod
    def names() -> tuple[str, ...]:
        """Every field, in order: the store's columns and the batch table's value columns."""
        return tuple(RECORD_FIELDS)

    @staticmethod
    def info(name: str) -> FieldInfo:
        """A field's unit, label, decimals and meaning; an unknown name raises (never an empty card)."""
        try:
            return RECORD_FIELDS[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a RunRecord field (see gait.analysis.summary.RECORD_FIELDS)") from None

    def value(self, name: str) -> float | int | None:
        """A field by name (for tables generated from field names); an unknown name raises."""
        return getattr(self, self.info(name).name)

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready: floats to 3 decimals, NaN or infinite as ``None``."""
        return {k: _json_number(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunRecord:
        """From ``to_dict`` output or a store row: unknown keys are ignored, missing fields are ``None``."""
        return cls(**{k: _as_type(k, d[k]) for k in RECORD_FIELDS if k in d})


def _json_number(x: float | int | None) -> float | int | None:
    if x is None or isinstance(x, int):
        return x
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, 3)


def _as_type(name: str, x: Any) -> float | int | None:
    if x is None:
        return None
    return int(x) if RECORD_FIELDS[name].integer else float(x)


RECORD_FIELDS: dict[str, FieldInfo] = {
    f.name: FieldInfo(f.name, *f.metadata["info"], integer=str(f.type).startswith("int"))
    for f in dataclasses.fields(RunRecord)
}


def record_fields_markdown() -> str:
    """The fields as a markdown table (embedded in docs/json-schema.md; a test keeps it in step)."""
    rows = ["| key | unit | meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.unit or '-'} | {f.meaning} |" for f in RECORD_FIELDS.values()]
    return "\n".join(rows)


@dataclass(frozen=True)
class RunSummary:
    """Result of the summary stage: time per activity, step counts, medians overall and per side, drift."""

    duration_s: float
    running_s: float
    walking_s: float
    still_s: float
    n_steps: int
    n_used: int
    n_excluded: int
    n_left: int
    n_right: int
    cadence_spm: float | None
    walking_cadence_spm: float | None
    medians: dict[str, float | None]
    per_side: dict[str, SideValues]
    side_confidence: float | None
    drift: dict[str, Drift]
    drift_reason: str | None = None
    notes: tuple[str, ...] = field(default=())

    def record(self, speed_mps: float | None = None, distance_m: float | None = None) -> RunRecord:
        """The summary as one flat ``RunRecord`` (speed and distance come from outside the movement analysis)."""
        drop = self.per_side["pelvic_drop_deg"]

        def drift(metric: str, part: str = "change") -> float | None:
            d = self.drift.get(metric)
            return None if d is None else getattr(d, part)

        return RunRecord(
            duration_s=self.duration_s,
            running_s=self.running_s,
            walking_s=self.walking_s,
            still_s=self.still_s,
            steps=self.n_steps,
            steps_used=self.n_used,
            steps_excluded_low_confidence=self.n_excluded,
            steps_left=self.n_left,
            steps_right=self.n_right,
            cadence_spm=self.cadence_spm,
            walking_cadence_spm=self.walking_cadence_spm,
            **self.medians,
            pelvic_drop_left_deg=drop.left,
            pelvic_drop_right_deg=drop.right,
            pelvic_drop_right_minus_left_deg=None
            if drop.left is None or drop.right is None
            else drop.right - drop.left,
            contact_time_asymmetry_pct=self.per_side["contact_time_ms"].asymmetry_pct(),
            braking_asymmetry_pct=self.per_side["braking_dv_mps"].asymmetry_pct(),
            side_confidence=self.side_confidence,
            cadence_drift_spm=drift("cadence_spm"),
            contact_time_drift_ms=drift("contact_time_ms"),
            pelvic_drop_left_drift_deg=drift("pelvic_drop_deg", "left_change"),
            pelvic_drop_right_drift_deg=drift("pelvic_drop_deg", "right_change"),
            braking_dv_drift_mps=drift("braking_dv_mps"),
            vertical_oscillation_drift_cm=drift("vertical_oscillation_cm"),
            speed_mps=speed_mps,
            distance_m=distance_m,
        )


def _median(x: pd.Series | np.ndarray) -> float | None:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else None


def cadence_from_steps(steps: pd.DataFrame) -> float | None:
    """Steps per minute: the least-squares step period (step time against step number), pooled over bouts.

    Step numbers continue across a missed step or a gap (an interval of about two or three steps counts as
    that many), so one regression spans each whole bout and single-step timing noise averages out.
    Low-confidence steps are left out as points without breaking the count. Running steps are timed at
    mid-stance, where the fitted contact is best determined, walking steps at initial contact.
    """
    if len(steps) < 3:
        return None
    times = steps["ic_s"].to_numpy()
    if steps["to_s"].notna().all():
        times = 0.5 * (times + steps["to_s"].to_numpy())
    use = ~steps["low_confidence"].to_numpy(bool)
    bout = steps["bout"].to_numpy()
    dt = np.diff(times)
    local = pd.Series(dt).rolling(9, center=True, min_periods=1).median().to_numpy()
    ratio = dt / np.where(local > 0, local, np.nan)
    k = np.rint(ratio)
    link = (bout[1:] == bout[:-1]) & (k >= 1) & (k <= 3) & (np.abs(ratio - k) < 0.35)
    number = np.concatenate(([0.0], np.cumsum(np.where(link, k, 0.0))))
    chain = np.concatenate(([0], np.cumsum(~link)))
    num = den = 0.0
    for c in np.unique(chain):
        sel = (chain == c) & use
        if sel.sum() < 3:
            continue
        n_c = number[sel] - number[sel].mean()
        t_c = times[sel] - times[sel].mean()
        num += float(n_c @ t_c)
        den += float(n_c @ n_c)
    return 60.0 * den / num if num > 0 else None


def summarise(steps: pd.DataFrame, duration_s: float, activity_s: dict[str, float]) -> RunSummary:
    """Stage: summary. The run's medians, per-side values, cadence and drift from its per-step table."""
    run = steps[steps["activity"] == "run"]
    used = run[~run["low_confidence"]]
    sided = used[used["side_confidence"] >= MIN_SIDE_CONFIDENCE]
    steps[(steps["activity"] == "walk") & ~steps["low_confidence"]]
    medians = {m: _median(used[m]) for m in SUMMARY_METRICS}
    per_side = {
        m: SideValues(_median(sided.loc[sided["side"] == "L", m]), _median(sided.loc[sided["side"] == "R", m]))
        for m in SUMMARY_METRICS
    }
    drift, reason = compute_drift(used, activity_s.get("run", 0.0))
    return RunSummary(
        duration_s=duration_s,
        running_s=activity_s.get("run", 0.0),
        walking_s=activity_s.get("walk", 0.0),
        still_s=activity_s.get("still", 0.0),
        n_steps=len(run),
        n_used=len(used),
        n_excluded=len(run) - len(used),
        n_left=int((sided["side"] == "L").sum()),
        n_right=int((sided["side"] == "R").sum()),
        cadence_spm=cadence_from_steps(run),
        walking_cadence_spm=cadence_from_steps(steps[steps["activity"] == "walk"]),
        medians=medians,
        per_side=per_side,
        side_confidence=_median(run["side_confidence"]) if len(run) else None,
        drift=drift,
        drift_reason=reason,
    )


def compute_drift(used: pd.DataFrame, running_s: float) -> tuple[dict[str, Drift], str | None]:
    """Early vs late (first and last 20 % of the steps in time) and a least-squares slope per 10 min."""
    if running_s < MIN_DRIFT_RUN_S or len(used) < 50:
        return {}, f"needs at least {MIN_DRIFT_RUN_S / 60:.0f} min of running (have {running_s / 60:.1f} min)"
    t = used["ic_s"].to_numpy()
    t0, t1 = t.min(), t.max()
    span = t1 - t0
    early = t <= t0 + DRIFT_FRACTION * span
    late = t >= t1 - DRIFT_FRACTION * span
    out: dict[str, Drift] = {}
    for m in DRIFT_METRICS:
        vals = 60.0 / used["step_time_s"].to_numpy() if m == "cadence_spm" else used[m].to_numpy(float)
        ok = np.isfinite(vals)
        if ok.sum() < 20:
            continue
        e, la = _median(vals[early & ok]), _median(vals[late & ok])
        slope = float(np.polyfit(t[ok] / 600.0, vals[ok], 1)[0]) if span > 0 else None
        left_change = right_change = None
        if m == "pelvic_drop_deg":
            sides = used["side"].to_numpy()
            sc = used["side_confidence"].to_numpy() >= MIN_SIDE_CONFIDENCE
            changes = []
            for s in ("L", "R"):
                sel = ok & sc & (sides == s)
                a, b = _median(vals[early & sel]), _median(vals[late & sel])
                changes.append(None if a is None or b is None else b - a)
            left_change, right_change = changes
        out[m] = Drift(e, la, None if e is None or la is None else la - e, slope, left_change, right_change)
    return out, None
