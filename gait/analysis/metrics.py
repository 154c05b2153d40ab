"""Stage: per-step metrics. One row per stance, computed for all steps at once on 2-D step windows.

``measure_steps`` reads every signal-dependent quantity of the steps of one stretch (it can run window by
window); ``step_table`` then adds what needs the whole run's steps (regularity, side labels, confidence) and
returns the documented per-step table.

Columns (units in names; angles relative to the runner's mean posture):

=============================  ==============================================================================
``side``                       "L" / "R" (stance foot), "?" when unknown
``ic_s`` / ``to_s``            initial contact / toe-off, s from the recording start
``step_time_s``                IC to the next IC (NaN when the next step is missing)
``contact_time_ms``            IC to TO
``flight_time_ms``             TO to the next IC
``pelvic_drop_deg``            contralateral pelvic drop in this stance: the largest rise, after IC, of the
                               side-signed obliquity (+ = swing side lower); ``R`` rows reflect the right hip
``pelvic_obliquity_range_deg``  max - min obliquity during stance
``pelvic_tilt_range_deg``      max - min sagittal tilt during stance
``pelvic_rotation_range_deg``  max - min transverse rotation during stance
``braking_peak_g``             largest deceleration of the body between IC and its slowest point, in g
``braking_duration_ms``        IC to the slowest point of the stance (end of braking)
``braking_dv_mps``             forward speed lost in the braking phase (m/s), the "step speed loss"
``vertical_oscillation_cm``    up-down excursion over the step (IC to next IC), drift-free double integral
``impact_g``                   peak resultant acceleration during stance (gravity included), in g
``side_confidence``            0..1 confidence in ``side``
``confidence``                 0..1 confidence in the step's timing (plausibility, regularity, gaps)
=============================  ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gait.analysis.sides import LEFT, RIGHT, SideLabels
from gait.analysis.signal import lowpass, lowpass_slow, sample_between, sample_rows, windows
from gait.constants import G0

Array = np.ndarray

STEP_COLUMNS = [
    "side",
    "ic_s",
    "to_s",
    "step_time_s",
    "contact_time_ms",
    "flight_time_ms",
    "pelvic_drop_deg",
    "pelvic_obliquity_range_deg",
    "pelvic_tilt_range_deg",
    "pelvic_rotation_range_deg",
    "braking_peak_g",
    "braking_duration_ms",
    "braking_dv_mps",
    "vertical_oscillation_cm",
    "impact_g",
    "side_confidence",
    "confidence",
]
EXTRA_COLUMNS = ["activity", "bout", "low_confidence", "flags"]
#: what ``measure_steps`` returns per step (before side labels and regularity)
MEASURED_COLUMNS = [
    "ic_s",
    "to_s",
    "running",
    "bout",
    "next_ic_s",  # the next contact found in the same stretch (any bout), NaN if none
    "pelvic_rise_deg",  # largest rise of obliquity after IC: the drop if this is a right stance
    "pelvic_fall_deg",  # largest fall of obliquity after IC: the drop if this is a left stance
    "pelvic_obliquity_range_deg",
    "pelvic_tilt_range_deg",
    "pelvic_rotation_range_deg",
    "braking_peak_g",
    "braking_duration_ms",
    "braking_dv_mps",
    "vertical_oscillation_cm",  # over IC to the next IC in the same bout (kept only for regular steps)
    "impact_g",
    "near_gap",
]


@dataclass(frozen=True)
class StepMetricParams:
    """Parameters of the per-step metrics stage (``measure_steps`` and ``step_table``)."""

    braking_cutoff_hz: float = 20.0  # fore-aft acceleration low-pass before the speed-loss integral (Hz)
    drift_cutoff_hz: float = 0.3  # ... read relative to its slow drift below this (Hz)
    stance_points: int = 32  # stances are resampled to this many points (peaks and ranges read between samples)
    step_points: int = 64  # steps are resampled to this many points for the vertical double integral
    stance_batch: int = 500  # stances whose full-rate windows are processed together (bounds 2-D temporaries)
    regularity_steps: int = 9  # a step time is compared with the running median over this many steps
    regularity_tolerance: float = 0.25  # ... and is regular within this fraction of it
    gap_lead_s: float = 0.05  # a step touches a gap when a bridged sample lies from this long (s) before IC ...
    default_step_s: float = 0.5  # ... to the next IC (or this long after IC when there is none)
    gap_penalty: float = 0.6  # timing confidence lost next to a gap
    irregular_penalty: float = 0.3  # ... and when the step time is irregular
    min_confidence: float = 0.5  # steps below this confidence are flagged low_confidence (left out of summaries)


@dataclass(frozen=True)
class StepSignals:
    """What the per-step metrics read on one stretch at the analysis rate ``fs`` (sample 0 at time 0 s)."""

    fs: float
    acc_level: Array  # (n, 3) level-frame specific force [anterior, up, right], m/s^2
    acc_peak: Array  # (n,) largest full-rate |acc| each sample stands for, m/s^2
    filled: Array  # (n,) bool: bridged gaps
    tilt_deg: Array | None  # (n,) pelvis angles from the orientation stage (None without a gyroscope)
    obliquity_deg: Array | None
    gyr_body_full: Array | None  # (m, 3) body-frame angular rate at the source rate ``fs_full`` (rad/s)
    fs_full: float
    compensated: bool  # ``acc_level`` has the lever arm removed: only then is braking the body's own
    origin: int = 0  # index of sample 0 on the run's clock (see ``lowpass_slow``)


def measure_steps(
    signals: StepSignals,
    ic: Array,
    to: Array,
    running: Array,
    bout: Array,
    params: StepMetricParams = StepMetricParams(),
) -> pd.DataFrame:
    """Per-step quantities read from the signals (``MEASURED_COLUMNS``), for contacts ``ic``/``to`` (s, sorted;
    ``to`` NaN for walking), their gait (``running``) and bout ids."""
    fs = signals.fs
    n = len(ic)
    if n == 0:
        return pd.DataFrame(
            {c: pd.Series(dtype=bool if c in ("running", "near_gap") else float) for c in MEASURED_COLUMNS}
        )
    next_ic = np.append(ic[1:], np.nan)
    same_bout = np.append(bout[1:] == bout[:-1], False)
    cols: dict[str, Array] = {c: np.full(n, np.nan) for c in MEASURED_COLUMNS}
    cols.update(ic_s=ic, to_s=to, running=running, bout=bout, next_ic_s=next_ic)
    r = np.flatnonzero(running)
    if len(r):
        if signals.obliquity_deg is not None and signals.tilt_deg is not None and signals.gyr_body_full is not None:
            ang = pelvis_step_angles(
                signals.gyr_body_full, signals.fs_full, 0.0, signals.tilt_deg, signals.obliquity_deg, fs,
                ic[r], to[r], params,
            )  # fmt: skip
            for k, v in ang.items():
                cols[k][r] = v
        if signals.compensated:  # braking needs the pelvis's own rotation removed (gyroscope + lever arm)
            for k, v in braking(signals.acc_level[:, 0], ic[r], to[r], fs, params, signals.origin).items():
                cols[k][r] = v
        cols["impact_g"][r] = impact(signals.acc_peak, ic[r], to[r], fs)
    cols["vertical_oscillation_cm"] = vertical_oscillation(
        signals.acc_level[:, 1], ic, np.where(same_bout, next_ic, np.nan), fs, params
    )
    filled_c = np.concatenate(([0], np.cumsum(signals.filled)))
    m = len(signals.filled)
    a = np.clip(((ic - params.gap_lead_s) * fs).astype(int), 0, m)
    b = np.clip(((np.where(np.isfinite(next_ic), next_ic, ic + params.default_step_s)) * fs).astype(int) + 1, 0, m)
    cols["near_gap"] = filled_c[b] - filled_c[a] > 0
    return pd.DataFrame(cols)


def step_table(
    measured: pd.DataFrame, sides: SideLabels, t0: float = 0.0, params: StepMetricParams = StepMetricParams()
) -> pd.DataFrame:
    """The per-step table (``STEP_COLUMNS`` + ``EXTRA_COLUMNS``) of one stretch from its measured steps (all of
    them, in time order) and their side labels; times are shifted by ``t0`` (s)."""
    ic, to = measured["ic_s"].to_numpy(), measured["to_s"].to_numpy()
    is_run = measured["running"].to_numpy(bool)
    bout = measured["bout"].to_numpy()
    n = len(ic)
    next_ic = np.append(ic[1:], np.nan)
    same_bout = np.append(bout[1:] == bout[:-1], False)
    step_time = np.where(same_bout, next_ic - ic, np.nan)
    local = pd.Series(step_time).rolling(params.regularity_steps, center=True, min_periods=1).median().to_numpy()
    regular = np.abs(step_time / local - 1.0) < params.regularity_tolerance
    step_time = np.where(regular, step_time, np.nan)

    cols: dict[str, Array] = {c: np.full(n, np.nan) for c in STEP_COLUMNS if c != "side"}
    cols["ic_s"], cols["to_s"] = ic, to
    cols["step_time_s"] = step_time
    cols["contact_time_ms"] = (to - ic) * 1000.0
    cols["flight_time_ms"] = np.where(is_run & np.isfinite(step_time), (next_ic - to) * 1000.0, np.nan)
    rise, fall = measured["pelvic_rise_deg"].to_numpy(), measured["pelvic_fall_deg"].to_numpy()
    cols["pelvic_drop_deg"] = np.where(sides.side == RIGHT, rise, np.where(sides.side == LEFT, fall, np.nan))
    for k in (
        "pelvic_obliquity_range_deg", "pelvic_tilt_range_deg", "pelvic_rotation_range_deg",
        "braking_peak_g", "braking_duration_ms", "braking_dv_mps", "impact_g",
    ):  # fmt: skip
        cols[k] = measured[k].to_numpy()
    cols["vertical_oscillation_cm"] = np.where(
        np.isfinite(step_time), measured["vertical_oscillation_cm"].to_numpy(), np.nan
    )
    cols["side_confidence"] = sides.confidence
    # timing confidence: plausibility, regularity, gaps
    near_gap = measured["near_gap"].to_numpy(bool)
    irregular = ~regular & same_bout
    unknown = sides.side == 0
    conf = np.clip(1.0 - params.gap_penalty * near_gap - params.irregular_penalty * irregular, 0.0, 1.0)
    cols["confidence"] = conf

    steps = pd.DataFrame(cols)
    steps.insert(0, "side", np.where(sides.side == RIGHT, "R", np.where(sides.side == LEFT, "L", "?")))
    steps["ic_s"] += t0
    steps["to_s"] += t0
    steps["activity"] = np.where(is_run, "run", "walk")
    steps["bout"] = bout
    steps["low_confidence"] = conf < params.min_confidence
    steps["flags"] = _flags(near_gap, irregular, unknown)
    return steps


def _flags(near_gap: Array, irregular: Array, unknown: Array) -> Array:
    """Comma-separated flags per step, from the 8 possible combinations (no loop over steps)."""
    names = np.array(
        [",".join(f for f, on in zip(("gap", "irregular", "side_unknown"), bits, strict=True) if on)
         for bits in np.ndindex(2, 2, 2)],
        dtype=object,
    )  # fmt: skip
    return names[4 * near_gap.astype(int) + 2 * irregular.astype(int) + unknown.astype(int)]


def pelvis_step_angles(
    gyr_body: Array,
    fs_gyr: float,
    offset_s: float,
    tilt_deg: Array,
    obl_deg: Array,
    fs: float,
    ic: Array,
    to: Array,
    params: StepMetricParams = StepMetricParams(),
) -> dict[str, Array]:
    """Per-stance pelvis angle changes, integrated from the gyroscope at its own rate.

    The analysis runs at ~50 Hz, too coarse to catch the brief peak of contralateral drop; within one stance
    (~0.25 s) the Cardan-angle rates are integrated from the full-rate body angular velocity instead:
    obliquity' = -(cos(tilt) w_x - sin(tilt) w_y), rotation' = (sin(tilt) w_x + cos(tilt) w_y) / cos(obl),
    tilt' = w_z - sin(obl) rotation' (ISB order; obliquity + = right side up). The slowly varying tilt and
    obliquity these need come from the orientation at the analysis rate. ``offset_s`` is the time of the first
    gyroscope sample on the analysis clock; ``ic``/``to`` are on the analysis clock. Only the samples inside
    stances are touched (2-D stance windows).
    """
    batch = params.stance_batch
    if len(ic) > batch:  # about 20 (stances x window) arrays live at once below: a long run goes in batches
        parts = [
            pelvis_step_angles(
                gyr_body, fs_gyr, offset_s, tilt_deg, obl_deg, fs, ic[k : k + batch], to[k : k + batch], params
            )
            for k in range(0, len(ic), batch)
        ]
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    first = np.floor((ic - offset_s) * fs_gyr).astype(int) - 1
    length = int(np.ceil(float(np.max(to - ic)) * fs_gyr)) + 4
    w = [windows(gyr_body[:, j], first, length)[0] for j in range(3)]
    t_win = offset_s + (first[:, None] + np.arange(length)[None, :]) / fs_gyr  # analysis-clock times
    pos = np.clip(t_win * fs, 0, len(tilt_deg) - 1.001)
    i0 = pos.astype(np.intp)
    frac = pos - i0
    # tilt and obliquity relative to the mean posture stay within ~+-15 deg: second-order small angles
    c = np.radians(tilt_deg[i0] + frac * (tilt_deg[i0 + 1] - tilt_deg[i0]))
    b = np.radians(obl_deg[i0] + frac * (obl_deg[i0 + 1] - obl_deg[i0]))
    cc, sc = 1.0 - 0.5 * c * c, c * (1.0 - c * c / 6.0)
    d_obl = -(cc * w[0] - sc * w[1])
    d_rot = (sc * w[0] + cc * w[1]) * (1.0 + 0.5 * b * b)  # / cos(obliquity)
    d_tilt = w[2] + b * d_rot  # - sin(-obliquity) * rotation'
    a_pos = (ic - offset_s) * fs_gyr - first
    e_pos = (to - offset_s) * fs_gyr - first
    inside = (np.arange(length)[None, :] >= np.floor(a_pos)[:, None]) & (
        np.arange(length)[None, :] <= np.ceil(e_pos)[:, None]
    )

    to_deg = np.degrees(1.0) / fs_gyr

    def integral(rate: Array) -> Array:  # cumulative angle in each window (in units of to_deg), trapezoids
        out = np.empty_like(rate)
        out[:, 0] = 0.0
        np.cumsum(rate[:, 1:] + rate[:, :-1], axis=1, out=out[:, 1:])
        return out

    def masked_range(x: Array) -> Array:  # deg
        return (np.where(inside, x, -np.inf).max(axis=1) - np.where(inside, x, np.inf).min(axis=1)) * (0.5 * to_deg)

    # obliquity: resampled between the exact IC and TO (the drop is read from IC); the other ranges directly
    obl = sample_rows(integral(d_obl), a_pos, e_pos, params.stance_points) * (0.5 * to_deg)
    rot_range = masked_range(integral(d_rot))
    tilt_range = masked_range(integral(d_tilt))
    return {
        "pelvic_rise_deg": np.max(obl, axis=1) - obl[:, 0],
        "pelvic_fall_deg": obl[:, 0] - np.min(obl, axis=1),
        "pelvic_obliquity_range_deg": obl.max(axis=1) - obl.min(axis=1),
        "pelvic_tilt_range_deg": tilt_range,
        "pelvic_rotation_range_deg": rot_range,
    }


def braking(
    acc_ap: Array, ic: Array, to: Array, fs: float, params: StepMetricParams = StepMetricParams(), origin: int = 0
) -> dict[str, Array]:
    """Step speed loss: forward speed at IC minus the lowest forward speed in stance (Garmin's "step speed
    loss" idea), the time from IC to that slowest point, and the largest deceleration before it. The stance
    is resampled to ``stance_points`` and the fore-aft acceleration integrated by trapezoids."""
    points = params.stance_points
    a = lowpass(acc_ap, fs, params.braking_cutoff_hz)
    a = a - lowpass_slow(a, fs, params.drift_cutoff_hz, origin)
    w = sample_between(a, ic * fs, to * fs, points)
    dt = ((to - ic) / (points - 1))[:, None]
    v = np.concatenate((np.zeros((len(w), 1)), np.cumsum(0.5 * (w[:, 1:] + w[:, :-1]), axis=1) * dt), axis=1)
    k_min = np.argmin(v, axis=1)
    dv = np.maximum(-v[np.arange(len(v)), k_min], 0.0)
    before = np.arange(points)[None, :] <= k_min[:, None]
    peak = np.maximum(-np.where(before, w, np.inf).min(axis=1), 0.0) / G0
    return {
        "braking_peak_g": peak,
        "braking_duration_ms": k_min * dt[:, 0] * 1000.0,
        "braking_dv_mps": dv,
    }


def vertical_oscillation(
    acc_v: Array, ic: Array, next_ic: Array, fs: float, params: StepMetricParams = StepMetricParams()
) -> Array:
    """Peak-to-peak vertical displacement per step (cm): double integral of the vertical acceleration over
    the step with zero mean velocity and no net displacement, which steady running implies and which
    removes integration drift. The step is resampled to ``step_points`` and integrated by trapezoids."""
    points = params.step_points
    ok = np.isfinite(next_ic) & (next_ic > ic)
    out = np.full(len(ic), np.nan)
    if not ok.any():
        return out
    a = sample_between(acc_v - G0, ic[ok] * fs, next_ic[ok] * fs, points)
    dt = ((next_ic[ok] - ic[ok]) / (points - 1))[:, None]
    v = np.concatenate((np.zeros((len(a), 1)), np.cumsum(0.5 * (a[:, 1:] + a[:, :-1]), axis=1)), axis=1) * dt
    v -= _trapezoid_mean(v)
    p = np.concatenate((np.zeros((len(a), 1)), np.cumsum(0.5 * (v[:, 1:] + v[:, :-1]), axis=1)), axis=1) * dt
    p -= np.linspace(0.0, 1.0, points)[None, :] * p[:, -1:]
    out[ok] = (p.max(axis=1) - p.min(axis=1)) * 100.0
    return out


def _trapezoid_mean(x: Array) -> Array:
    return (0.5 * (x[:, 1:] + x[:, :-1])).mean(axis=1, keepdims=True)


def impact(acc_norm: Array, ic: Array, to: Array, fs: float) -> Array:
    """Peak acceleration magnitude in stance (g); ``acc_norm`` keeps the full-rate peaks of each sample."""
    first = np.floor(ic * fs).astype(int)
    length = int(np.ceil(float(np.max(to - ic)) * fs)) + 2
    w, valid = windows(acc_norm, first, length)
    tt = (first[:, None] + np.arange(length)[None, :]) / fs
    inside = valid & (tt >= ic[:, None] - 0.5 / fs) & (tt <= to[:, None] + 0.5 / fs)
    peak = np.where(inside, w, -np.inf).max(axis=1) / G0
    return np.where(np.isfinite(peak), peak, np.nan)


def empty_steps() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in STEP_COLUMNS + EXTRA_COLUMNS}).astype(
        {"side": object, "activity": object, "flags": object, "low_confidence": bool, "bout": int}
    )
