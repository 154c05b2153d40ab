"""Per-step table: one row per stance, computed for all steps at once on 2-D step windows.

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
``braking_dv_mps``              forward speed lost in the braking phase (m/s), the "step speed loss"
``vertical_oscillation_cm``    up-down excursion over the step (IC to next IC), drift-free double integral
``impact_g``                   peak resultant acceleration during stance (gravity included), in g
``side_confidence``            0..1 confidence in ``side``
``confidence``                 0..1 confidence in the step's timing (plausibility, regularity, gaps)
=============================  ==============================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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

BRAKING_CUTOFF_HZ = 20.0


STANCE_POINTS = 32  # stance resampled to this many points (peaks and ranges read between samples)
STANCE_BATCH = 2000  # stances whose full-rate windows are processed together (bounds the 2-D temporaries)
STEP_POINTS = 64  # steps resampled for the double integral of vertical oscillation


def pelvis_step_angles(
    gyr_body: Array,
    fs_gyr: float,
    offset_s: float,
    tilt_deg: Array,
    obl_deg: Array,
    fs: float,
    ic: Array,
    to: Array,
    side: Array,
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
    if len(ic) > STANCE_BATCH:  # about 20 (stances x window) arrays live at once below: a long run goes in batches
        parts = [
            pelvis_step_angles(
                gyr_body, fs_gyr, offset_s, tilt_deg, obl_deg, fs, *(x[k : k + STANCE_BATCH] for x in (ic, to, side))
            )
            for k in range(0, len(ic), STANCE_BATCH)
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

    def integral(rate: Array) -> Array:  # cumulative angle in each window (deg), trapezoids
        cum = np.cumsum(0.5 * (rate[:, 1:] + rate[:, :-1]), axis=1)
        return np.degrees(np.concatenate((np.zeros((len(rate), 1)), cum), axis=1) / fs_gyr)

    def masked_range(x: Array) -> Array:
        return np.where(inside, x, -np.inf).max(axis=1) - np.where(inside, x, np.inf).min(axis=1)

    # obliquity: resampled between the exact IC and TO (the drop is read from IC); the other ranges directly
    obl = sample_rows(integral(d_obl), a_pos, e_pos, STANCE_POINTS)
    rot_range = masked_range(integral(d_rot))
    tilt_range = masked_range(integral(d_tilt))
    s = np.where(side == 0, np.nan, side)[:, None]
    q = s * obl
    return {
        "pelvic_drop_deg": np.max(q, axis=1) - q[:, 0],
        "pelvic_obliquity_range_deg": obl.max(axis=1) - obl.min(axis=1),
        "pelvic_tilt_range_deg": tilt_range,
        "pelvic_rotation_range_deg": rot_range,
    }


def braking(acc_ap: Array, ic: Array, to: Array, fs: float) -> dict[str, Array]:
    """Step speed loss: forward speed at IC minus the lowest forward speed in stance (Garmin's "step speed
    loss" idea), the time from IC to that slowest point, and the largest deceleration before it. The stance
    is resampled to ``STANCE_POINTS`` and the fore-aft acceleration integrated by trapezoids."""
    a = lowpass(acc_ap, fs, BRAKING_CUTOFF_HZ)
    a = a - lowpass_slow(a, fs, 0.3)
    w = sample_between(a, ic * fs, to * fs, STANCE_POINTS)
    dt = ((to - ic) / (STANCE_POINTS - 1))[:, None]
    v = np.concatenate((np.zeros((len(w), 1)), np.cumsum(0.5 * (w[:, 1:] + w[:, :-1]), axis=1) * dt), axis=1)
    k_min = np.argmin(v, axis=1)
    dv = np.maximum(-v[np.arange(len(v)), k_min], 0.0)
    before = np.arange(STANCE_POINTS)[None, :] <= k_min[:, None]
    peak = np.maximum(-np.where(before, w, np.inf).min(axis=1), 0.0) / G0
    return {
        "braking_peak_g": peak,
        "braking_duration_ms": k_min * dt[:, 0] * 1000.0,
        "braking_dv_mps": dv,
    }


def vertical_oscillation(acc_v: Array, ic: Array, next_ic: Array, fs: float) -> Array:
    """Peak-to-peak vertical displacement per step (cm): double integral of the vertical acceleration over
    the step with zero mean velocity and no net displacement, which steady running implies and which
    removes integration drift. The step is resampled to ``STEP_POINTS`` and integrated by trapezoids."""
    ok = np.isfinite(next_ic) & (next_ic > ic)
    out = np.full(len(ic), np.nan)
    if not ok.any():
        return out
    a = sample_between(acc_v - G0, ic[ok] * fs, next_ic[ok] * fs, STEP_POINTS)
    dt = ((next_ic[ok] - ic[ok]) / (STEP_POINTS - 1))[:, None]
    v = np.concatenate((np.zeros((len(a), 1)), np.cumsum(0.5 * (a[:, 1:] + a[:, :-1]), axis=1)), axis=1) * dt
    v -= _trapezoid_mean(v)
    p = np.concatenate((np.zeros((len(a), 1)), np.cumsum(0.5 * (v[:, 1:] + v[:, :-1]), axis=1)), axis=1) * dt
    p -= np.linspace(0.0, 1.0, STEP_POINTS)[None, :] * p[:, -1:]
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
