"""Run summary: medians overall and per side, left/right asymmetry, drift over the run, data quality.

Summaries use only confident steps: timing confidence >= ``MIN_CONFIDENCE`` for every metric and, for
per-side values, side confidence >= ``MIN_SIDE_CONFIDENCE``. What was left out is counted, never averaged in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
class RunSummary:
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
