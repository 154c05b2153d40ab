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
``braking_dv_ms``              forward speed lost in the braking phase (m/s), the "step speed loss"
``vertical_oscillation_cm``    up-down excursion over the step (IC to next IC), drift-free double integral
``impact_g``                   peak resultant acceleration during stance (gravity included), in g
``side_confidence``            0..1 confidence in ``side``
``confidence``                 0..1 confidence in the step's timing (plausibility, regularity, gaps)
=============================  ==============================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gait.analysis.signal import lowpass, lowpass_slow, sample_between, windows
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
    "braking_dv_ms",
    "vertical_oscillation_cm",
    "impact_g",
    "side_confidence",
    "confidence",
]
EXTRA_COLUMNS = ["activity", "bout", "low_confidence", "flags"]

BRAKING_CUTOFF_HZ = 20.0


def _interp_rows(w: Array, pos: Array) -> Array:
    """Linear interpolation of each row of w at fractional column position pos[i]."""
    i0 = np.clip(np.floor(pos).astype(int), 0, w.shape[1] - 2)
    f = pos - i0
    rows = np.arange(len(w))
    return w[rows, i0] * (1 - f) + w[rows, i0 + 1] * f


def stance_windows(x: Array, ic: Array, to: Array, fs: float, max_len_s: float) -> tuple[Array, Array, Array]:
    """Windows starting one sample before each IC; mask of samples inside [IC, TO]; IC position in window."""
    start = np.floor(ic * fs).astype(int) - 1
    length = int(np.ceil(max_len_s * fs)) + 3
    w, valid = windows(x, start, length)
    tt = (start[:, None] + np.arange(length)[None, :]) / fs
    inside = valid & (tt >= ic[:, None] - 0.5 / fs) & (tt <= to[:, None] + 0.5 / fs)
    return w, inside, ic * fs - start


STANCE_POINTS = 48  # stance resampled to this many points (peaks and ranges read between samples)
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
    obliquity that these need come from the orientation at the analysis rate. ``offset_s`` is the time of the
    first gyroscope sample on the analysis clock; ``ic``/``to`` are on the analysis clock.
    """
    n = len(gyr_body)
    t_gyr = offset_s + np.arange(n) / fs_gyr
    t_ana = np.arange(len(tilt_deg)) / fs
    c = np.radians(np.interp(t_gyr, t_ana, tilt_deg))
    b = -np.radians(np.interp(t_gyr, t_ana, obl_deg))
    wx, wy, wz = gyr_body[:, 0], gyr_body[:, 1], gyr_body[:, 2]
    cc, sc = np.cos(c), np.sin(c)
    rates = np.column_stack(
        (
            -(cc * wx - sc * wy),  # obliquity rate
            (sc * wx + cc * wy) / np.cos(b),  # rotation rate
            np.zeros(n),
        )
    )
    rates[:, 2] = wz - np.sin(b) * rates[:, 1]  # tilt rate
    # cumulative angles (deg), trapezoid rule, then each stance resampled between its IC and TO
    ang = np.degrees(np.concatenate((np.zeros((1, 3)), np.cumsum(0.5 * (rates[1:] + rates[:-1]), axis=0) / fs_gyr)))
    a = (ic - offset_s) * fs_gyr
    e = (to - offset_s) * fs_gyr
    obl = sample_between(ang[:, 0], a, e, STANCE_POINTS)
    rot = sample_between(ang[:, 1], a, e, STANCE_POINTS)
    tilt = sample_between(ang[:, 2], a, e, STANCE_POINTS)
    s = np.where(side == 0, np.nan, side)[:, None]
    q = s * obl
    return {
        "pelvic_drop_deg": np.max(q, axis=1) - q[:, 0],
        "pelvic_obliquity_range_deg": obl.max(axis=1) - obl.min(axis=1),
        "pelvic_tilt_range_deg": tilt.max(axis=1) - tilt.min(axis=1),
        "pelvic_rotation_range_deg": rot.max(axis=1) - rot.min(axis=1),
    }


def braking(acc_ap: Array, ic: Array, to: Array, fs: float) -> dict[str, Array]:
    """Step speed loss: forward speed at IC minus the lowest forward speed during stance (Garmin's SSL idea)."""
    a = lowpass(acc_ap, fs, BRAKING_CUTOFF_HZ)
    a = a - lowpass_slow(a, fs, 0.3)
    max_len = float(np.nanmax(to - ic)) if len(ic) else 0.3
    w, inside, pos_ic = stance_windows(a, ic, to, fs, max_len)
    a_in = np.where(inside, w, 0.0)
    v = np.cumsum(a_in, axis=1) / fs  # speed change since the window start (IC within one sample)
    v = v - _interp_rows(v, pos_ic)[:, None]
    v_masked = np.where(inside, v, np.inf)
    k_min = np.argmin(v_masked, axis=1)
    dv = -v_masked[np.arange(len(v)), k_min]
    dv = np.where(np.isfinite(dv), np.maximum(dv, 0.0), np.nan)
    cols = np.arange(w.shape[1])[None, :]
    in_braking = inside & (cols <= k_min[:, None])
    peak = -np.where(in_braking, w, np.inf).min(axis=1) / G0
    duration = np.maximum(k_min - pos_ic, 0.0) / fs * 1000.0
    return {
        "braking_peak_g": np.where(np.isfinite(peak), np.maximum(peak, 0.0), np.nan),
        "braking_duration_ms": duration,
        "braking_dv_ms": dv,
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
    max_len = float(np.nanmax(to - ic)) if len(ic) else 0.3
    w, inside, _ = stance_windows(acc_norm, ic, to, fs, max_len)
    peak = np.where(inside, w, -np.inf).max(axis=1) / G0
    return np.where(np.isfinite(peak), peak, np.nan)


def empty_steps() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in STEP_COLUMNS + EXTRA_COLUMNS}).astype(
        {"side": object, "activity": object, "flags": object, "low_confidence": bool, "bout": int}
    )
