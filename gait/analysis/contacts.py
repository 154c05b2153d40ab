"""Running contacts from the width of each vertical-force hump (robust to terrain, foot strike and clip tails).

Physics. While running, the vertical specific force of the body is near zero in flight and forms one hump per
stance. A spring-mass stance is close to a half sine, whose width at half its height is two thirds of the
contact time (``CONTACT_PER_HALF_WIDTH`` = 1.5); real force plates give 1.47-1.70 across level, uphill and
downhill running and rearfoot to forefoot strikes. The half-height width is read where the hump's edges are
steepest, so it hardly moves with what a sacral sensor adds at the bottom of the hump: the heel-strike spike
(early, above the hump), the slow "shoulder" the pelvis's rotation leaves after toe-off (worst uphill, up to
~1 g for 50 ms), or flight phases clipped to zero. Initial contact is where the hump first rises through a
small fraction of its height above the flight level just before it: the force starts at contact, and the
steep rise makes this crossing precise.

Earlier versions fitted a half sine with an optional heel-strike term to each hump. On data unlike the
development runner that fit had two solutions per step (with or without the impact term, 30-50 ms apart)
and read toe-off in the post-toe-off shoulder; this estimator has neither failure mode.

Every step is checked against its neighbours: a hump whose half-height width or rise differs from the local
median by more than ``shape_tolerance`` does not look like the runner's other stances (a shoulder above half
height, a merged or split hump) and is flagged ``contact_shape`` rather than forced into the summary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import find_peaks

from gait.analysis.signal import lowpass, windows

Array = np.ndarray

#: contact time / width at half height of a half sine; the spring-mass stance (Morin's model)
CONTACT_PER_HALF_WIDTH = 1.5


@dataclass(frozen=True)
class RunningContactParams:
    """Parameters of :func:`running_contacts` (times in s, fractions of the hump's height, cut-offs in Hz)."""

    edge_cutoff_hz: float = 20.0  # edges are read on the vertical force band-limited here (sensor filters ~15-40)
    onset_fraction: float = 0.10  # initial contact: rise through this fraction of the height above flight
    onset_offset_s: float = 0.0  # added to every initial contact (a constant chosen by cross-validation)
    contact_per_half_width: float = CONTACT_PER_HALF_WIDTH
    min_height_g: float = 1.1  # a stance hump rises at least this far (body weight is 1 g on average)
    min_prominence_g: float = 0.5
    min_contact_s: float = 0.09
    max_contact_s: float = 0.45
    shape_tolerance: float = 0.2  # a half-height width this far (relative) from its neighbours' is flagged
    neighbours: int = 9  # steps in the running median that the shape check compares with


@dataclass(frozen=True)
class RunningContacts:
    """Per-stance results (times in s from sample 0 of the bout's signal).

    ``height_g`` is the hump's height above its flight level, ``half_width_s`` its width at half height and
    ``shape_ok`` whether the hump looks like the runner's neighbouring stances (see the module docstring).
    """

    ic_s: Array
    to_s: Array
    height_g: Array
    half_width_s: Array
    shape_ok: Array


def _empty() -> RunningContacts:
    z = np.zeros(0)
    return RunningContacts(z, z, z, z, np.zeros(0, bool))


def _first_crossing(x: Array, start: Array, stop: Array, level: Array, rising: bool, fs: float) -> Array:
    """Sub-sample time (s) of the first crossing of ``level`` in x[start:stop] (upwards or downwards); NaN if none."""
    span = int(max(2, np.max(stop - start))) + 1
    w, valid = windows(x, start, span)
    valid &= np.arange(span)[None, :] <= (stop - start)[:, None]
    past = (w >= level[:, None]) if rising else (w < level[:, None])
    past &= valid
    past[:, 0] = False  # a crossing needs a sample before it
    found = past.any(axis=1)
    k = np.argmax(past, axis=1)
    i1 = np.clip(start + k, 1, len(x) - 1)
    i0 = i1 - 1
    x0, x1 = x[i0], x[i1]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(x1 != x0, (level - x0) / (x1 - x0), 0.0)
    return np.where(found, (i0 + np.clip(frac, 0.0, 1.0)) / fs, np.nan)


def _argmin_between(x: Array, start: Array, stop: Array) -> Array:
    span = int(max(1, np.max(stop - start)))
    w, valid = windows(x, start, span)
    valid &= np.arange(span)[None, :] < (stop - start)[:, None]
    return start + np.argmin(np.where(valid, w, np.inf), axis=1)


def running_contacts(vert_g: Array, fs: float, period_s: float, params: RunningContactParams) -> RunningContacts:
    """Stances in one running bout from its vertical specific force ``vert_g`` (g, level frame) at rate ``fs``.

    ``period_s`` is the bout's step period (autocorrelation). Times are relative to sample 0 of ``vert_g``.
    """
    p = params
    n = len(vert_g)
    if not np.isfinite(period_s) or n < int(3 * period_s * fs):
        return _empty()
    x = lowpass(vert_g, fs, p.edge_cutoff_hz)
    # the hump's height and position on a signal smoothed relative to the step rate (impact spikes averaged out)
    smooth = lowpass(vert_g, fs, float(np.clip(1.8 / period_s, 3.0, 9.0)))
    peaks, _ = find_peaks(
        smooth, height=p.min_height_g, distance=max(1, int(0.6 * period_s * fs)), prominence=p.min_prominence_g
    )
    if len(peaks) < 2:
        return _empty()
    reach = int(0.8 * period_s * fs)
    prev_peak = np.concatenate(([max(0, peaks[0] - reach)], peaks[:-1]))
    next_peak = np.concatenate((peaks[1:], [min(n - 1, peaks[-1] + reach)]))
    v_before = _argmin_between(x, prev_peak, peaks)
    v_after = _argmin_between(x, peaks, next_peak + 1)
    height_top = smooth[peaks]
    base_before, base_after = x[v_before], x[v_after]
    # the first rise (to the heel-strike peak, or to the hump's top without one): crossings of two levels on it,
    # extended as a straight line back to the flight level, where the force starts
    span = int(max(1, np.max(peaks - v_before)))
    w, valid = windows(x, v_before, span + 1)
    valid &= np.arange(span + 1)[None, :] <= (peaks - v_before)[:, None]
    rise = np.max(np.where(valid, w, -np.inf), axis=1) - base_before
    low = _first_crossing(x, v_before, peaks, base_before + p.onset_fraction * rise, True, fs)
    mid = _first_crossing(x, v_before, peaks, base_before + 0.5 * rise, True, fs)
    ic = low - p.onset_fraction / (0.5 - p.onset_fraction) * (mid - low)
    rise_half = _first_crossing(x, v_before, peaks, 0.5 * (base_before + height_top), True, fs)
    fall_half = _first_crossing(x, peaks, v_after + 1, 0.5 * (base_after + height_top), False, fs)
    half_width = fall_half - rise_half
    contact = p.contact_per_half_width * half_width
    ic = ic + p.onset_offset_s
    ok = np.isfinite(ic) & np.isfinite(contact) & (contact >= p.min_contact_s) & (contact <= p.max_contact_s)
    ic, contact, half_width = ic[ok], contact[ok], half_width[ok]
    height = (height_top - base_before)[ok]
    if len(ic) == 0:
        return _empty()
    # one stance per hump: a contact cannot start before the previous one ended
    to = ic + contact
    keep = np.ones(len(ic), bool)
    keep[1:] = ic[1:] > to[:-1] - 0.02
    ic, to, height, half_width = ic[keep], to[keep], height[keep], half_width[keep]
    k = min(p.neighbours, len(half_width))
    local = median_filter(half_width, size=k, mode="nearest")
    shape_ok = np.abs(half_width / local - 1.0) <= p.shape_tolerance
    return RunningContacts(ic, to, height, half_width, shape_ok)
