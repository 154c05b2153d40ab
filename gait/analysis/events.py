"""Stages: running contacts and walking contacts, from the level vertical force of one sacral IMU.

Running (spring-mass gait): the vertical specific force of the body is ~0 g in flight and forms one hump per
stance. Initial contact (IC) is the knee of the hump's first rise: where the signal bends most below the chord
from the flight's minimum to the rise's crossing of ``onset_fraction`` of the hump's height. That is the kink
of a sharp (heel-strike) rise and the bottom of the bend of a soft, S-shaped (forefoot, smoothed or lagging)
one, where a line through the steep part lands 10-20 ms late.

Contact time runs from IC to the hump's fall through 50-70 % of its height. A half sine falls through level L
at (1 - asin(L)/pi) of its contact; a real stance unloads more slowly than it loads, so it falls through those
levels ``fall_stretch`` = 1.09 times earlier (the median of the force plates in ../shared/data, the same at
every level, 1.02-1.14 over level, uphill and downhill trials). Only the fall is read: the rise is where a
heel-strike impact and a pelvis that lags the feet distort the hump, and the upper part of the fall is steep,
so it hardly moves with what a sacral sensor adds at the bottom (the pelvis still rising after toe-off, a
"shoulder" of up to ~1 g for 50 ms, worst uphill; flight clipped to zero by a data set's maker). Toe-off (TO)
is IC plus the contact time.

This replaced a per-stance least-squares fit of a half sine with an optional heel-strike term: on runners,
slopes and sensors unlike the development runner, that fit had two solutions 30-50 ms apart (with and without
the impact term) and read toe-off in the post-toe-off shoulder.

Every stance is compared with its neighbours: one whose contact time differs from the local median by more
than ``shape_tolerance`` does not look like the runner's other stances (a shoulder above the fall's levels,
a merged or split hump) and is flagged (``shape_ok`` False), so that the step table marks it rather than
forcing it into the summary.

Walking (inverted pendulum): IC is the steepest rise of the vertical force as the leading foot takes the load,
just before each vertical peak.

Each stage owns a frozen parameter set (``RunningContactParams``, ``WalkingContactParams``) and returns
``Contacts``. Left and right are labelled by the next stage (``sides``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks, resample_poly

from gait.analysis.align import step_period
from gait.analysis.signal import lowpass, neighbour_median, windows

Array = np.ndarray


@dataclass(frozen=True)
class RunningContactParams:
    """Parameters of the running-contacts stage (``running_contacts``): the width of each stance hump."""

    period_cutoff_hz: float = 15.0  # the bout's step period is found on the force low-passed here (Hz)
    # edges are read on the force low-passed here (Hz); at the ~50 Hz analysis rate the decimation filter
    # (~20 Hz) already band-limits, at higher rates this only drops clip vibration
    edge_cutoff_hz: float = 30.0
    width_cutoff_hz: float = 15.0  # ... the hump's fall (where the sharper reading scatters) and its centre (Hz)
    edge_rate_hz: float = 200.0  # edges are timed on the signal interpolated to at least this rate (Hz)
    hump_cutoff_per_step: float = 1.8  # humps are found low-passed at this many times the step frequency ...
    hump_cutoff_hz: tuple[float, float] = (3.0, 9.0)  # ... kept within these bounds (Hz)
    min_hump_g: float = 1.1  # a hump reaches at least this vertical force (g)
    min_prominence_g: float = 0.5  # ... and stands out from its surroundings by this much (g)
    min_hump_spacing: float = 0.6  # humps are at least this fraction of the step period apart
    valley_search: float = 0.8  # the flight before the first hump is looked for this many step periods back
    onset_fraction: float = 0.20  # IC: the knee below the chord from the flight's minimum to this fraction of the rise
    # a running stance unloads more slowly than a half sine: the force falls through 50-70 % of its peak this
    # many times earlier than a half sine of the same contact would (force plates: 1.02-1.14, median 1.09 over
    # the 16 level, uphill and downhill stances of ../shared/data, the same at every level)
    fall_stretch: float = 1.09
    # the fall is read at these fractions of the hump's height and mapped to a contact time; the shortest wins
    # (what a sacral sensor adds after toe-off, the pelvis still rising, can only delay a fall)
    fall_levels: tuple[float, float, float] = (0.5, 0.6, 0.7)
    # a landing's impact peak and the dip after it lie within this many step periods of IC (impact peaks come
    # 20-50 ms after IC, toe-off after more than half a step: physics, not fitted; 0.3-0.5 read the same)
    impact_window: float = 0.3
    contact_s: tuple[float, float] = (0.09, 0.45)  # plausible contact times (s)
    max_overlap_s: float = 0.02  # a contact may run this long (s) into the next one before it is flagged
    period_search_s: tuple[float, float] = (0.22, 0.75)  # step periods looked for in each bout (s)
    shape_tolerance: float = 0.2  # a contact time this far (relative) from its neighbours' median is flagged
    shape_steps: int = 15  # ... the median over this many stances (also: how far the IC of a hump lies from its
    # centre is the median over this many of the same foot's stances)


@dataclass(frozen=True)
class WalkingContactParams:
    """Parameters of the walking-contacts stage (``walking_contacts``)."""

    smooth_cutoff_hz: float = 6.0  # vertical peaks are found low-passed here (Hz)
    jerk_cutoff_hz: float = 10.0  # the rise is differentiated from the force low-passed here (Hz)
    min_peak_g: float = 1.03  # a walking step's vertical peak reaches at least this (g) ...
    min_prominence_g: float = 0.06  # ... standing out by this much (g)
    search_back_s: float = 0.25  # IC is looked for this long (s) before each peak
    step_s: tuple[float, float] = (0.33, 1.1)  # plausible step times (s), 55-180 steps/min
    step_ratio: tuple[float, float] = (0.67, 1.5)  # a step time over the previous one lies within these bounds
    min_steps: int = 4  # only runs of at least this many regular steps count
    min_bout_s: float = 2.0  # shorter stretches (s) are not searched


@dataclass(frozen=True)
class Contacts:
    """Result of a contacts stage: per-step event times in s from sample 0 of the signal given; ``to_s`` is
    NaN where toe-off is not measurable (walking); ``shape_ok`` is False where a stance's force hump does not
    look like its neighbours' (running; always True for walking)."""

    ic_s: Array
    to_s: Array
    peak_g: Array  # hump height above the flight level (running) or vertical peak (walking), in g
    shape_ok: Array

    @classmethod
    def none(cls) -> Contacts:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.ic_s)


def running_contacts(
    vert_g: Array,
    fs: float,
    start: int = 0,
    stop: int | None = None,
    params: RunningContactParams = RunningContactParams(),
) -> Contacts:
    """Stances in a running bout ``vert_g[start:stop]`` of the level vertical specific force (g, rate ``fs``);
    times relative to sample 0 of ``vert_g``."""
    p = params
    stop = len(vert_g) if stop is None else stop
    raw = vert_g[start:stop]
    n = len(raw)
    period = step_period(lowpass(raw, fs, p.period_cutoff_hz), fs, *p.period_search_s)
    if not np.isfinite(period) or n < int(3 * period * fs):
        return Contacts.none()
    smooth_fc = float(np.clip(p.hump_cutoff_per_step / period, *p.hump_cutoff_hz))
    # edges are timed on a band-limited interpolation at >= edge_rate_hz: at the ~50 Hz analysis rate a
    # landing's rise lasts two or three samples, and straight lines between samples would misplace it
    up = max(1, int(np.ceil(p.edge_rate_hz / fs)))
    if up > 1:
        raw, fs, n = resample_poly(raw, up, 1), fs * up, n * up
    x, smooth, xw = (lowpass(raw, fs, fc) for fc in (p.edge_cutoff_hz, smooth_fc, p.width_cutoff_hz))
    distance = max(1, int(p.min_hump_spacing * period * fs))
    peaks, _ = find_peaks(smooth, height=p.min_hump_g, distance=distance, prominence=p.min_prominence_g)
    if len(peaks) < 2:
        return Contacts.none()
    reach = int(p.valley_search * period * fs)
    before = _argmin_between(x, np.concatenate(([max(0, peaks[0] - reach)], peaks[:-1])), peaks)
    after = _argmin_between(x, peaks, np.concatenate((peaks[1:], [min(n - 1, peaks[-1] + reach)])) + 1)
    top = smooth[peaks]
    ic, base_before = _onsets(x, before, peaks, p.onset_fraction, fs)
    ic = _steady_onsets(ic, xw, before, after, peaks, xw[before], xw[after], top, fs, p.shape_steps)
    reach_impact = int(p.impact_window * period * fs)
    sharp = _contact_times(x, ic, after, peaks, top, fs, reach_impact, p)
    smooth_c = _contact_times(xw, ic, after, peaks, top, fs, reach_impact, p)
    # the sharper signal keeps a post-toe-off shoulder apart from the force's fall; where it scatters from
    # stance to stance (clip wobble crossing a level early), the smoother one is used
    local = neighbour_median(sharp, p.shape_steps)
    steady = np.abs(sharp / local - 1.0) <= p.shape_tolerance
    contact = np.where(steady, sharp, smooth_c)
    ok = np.isfinite(ic) & np.isfinite(contact) & (contact >= p.contact_s[0]) & (contact <= p.contact_s[1])
    ic, contact, height = ic[ok], contact[ok], (top - base_before)[ok]
    to = ic + contact
    if len(ic) == 0:
        return Contacts.none()
    local = neighbour_median(contact, p.shape_steps)
    shape_ok = np.abs(contact / local - 1.0) <= p.shape_tolerance
    # a contact that runs into the next one has been read in something else than the force (a shoulder above
    # the fall's levels): kept as a step, flagged
    shape_ok[:-1] &= to[:-1] <= ic[1:] + p.max_overlap_s
    return Contacts(ic + start / (fs / up), to + start / (fs / up), height, shape_ok)


def _contact_times(
    x: Array, ic: Array, after: Array, peaks: Array, top: Array, fs: float, reach: int, p: RunningContactParams
) -> Array:
    """Contact time of each hump from IC to its fall through ``p.fall_levels`` of its height: a half sine falls
    through level L at (1 - asin(L)/pi) of its contact, a real stance ``p.fall_stretch`` times earlier; the
    shortest reading wins (what a sacral sensor adds after toe-off can only delay a fall). Only the fall is
    read: the rise is where a heel strike's impact and a lagging pelvis distort the hump.

    The fall through a level is the one after the last time the hump is above that level within ``reach``
    samples of IC: a landing's impact peak and the dip after it (deep on a downhill heel strike) lie within
    that reach, so the dip is not read as the fall; a post-toe-off shoulder lies beyond it."""
    levels = np.asarray(p.fall_levels, float)
    k = len(levels)
    base_after = x[after]
    fall_level = (base_after[:, None] + levels[None, :] * (top - base_after)[:, None]).ravel()
    start = np.where(np.isfinite(ic), np.floor(ic * fs), peaks).astype(np.intp)
    w, valid = windows(x, start, reach + 1)
    valid &= start[:, None] + np.arange(reach + 1)[None, :] < after[:, None]
    above = (np.repeat(w, k, axis=0) >= fall_level[:, None]) & np.repeat(valid, k, axis=0)
    last = np.repeat(start, k) + reach - np.argmax(above[:, ::-1], axis=1)
    anchor = np.where(above.any(axis=1), np.maximum(last, np.repeat(peaks, k)), np.repeat(peaks, k))
    fall = _first_crossing(x, anchor, np.repeat(after, k) + 1, fall_level, False, fs).reshape(-1, k)
    c = p.fall_stretch * (fall - ic[:, None]) / (1.0 - np.arcsin(levels)[None, :] / np.pi)
    contact = np.fmin.reduce(np.where(np.isfinite(c), c, np.inf), axis=1)
    return np.where(np.isfinite(contact), contact, np.nan)


def _steady_onsets(
    edge: Array,
    x: Array,
    before: Array,
    after: Array,
    peaks: Array,
    base_before: Array,
    base_after: Array,
    top: Array,
    fs: float,
    steps: int,
) -> Array:
    """Each stance's IC placed by its hump's centre (midway between the half-height crossings, read where the
    edges are steepest, so hardly moved by noise), at the distance before the centre that the knees of the
    nearest ``steps`` stances of the same foot (every other stance) show: a runner's stances share their shape,
    the knee says where the force starts relative to the hump, the centre says where each hump is, and left
    and right may differ (contact-time asymmetry). The distance is taken from the centre itself, not from a
    contact time, so a stance whose contact time is misread does not move its neighbours."""
    rise = _first_crossing(x, before, peaks, 0.5 * (base_before + top), True, fs)
    fall = _first_crossing(x, peaks, after + 1, 0.5 * (base_after + top), False, fs)
    centre = 0.5 * (rise + fall)
    lead = edge - centre
    steady_lead = np.empty_like(lead)
    for parity in (0, 1):
        steady_lead[parity::2] = neighbour_median(lead[parity::2], steps)
    steady = centre + steady_lead
    return np.where(np.isfinite(steady), steady, edge)


def _onsets(x: Array, valley: Array, peak: Array, fraction: float, fs: float) -> tuple[Array, Array]:
    """Where each hump's first rise leaves the flight level (s), and that level (the flight's minimum).

    The rise leaves the flight where the signal bends most below the straight chord from the flight's minimum to
    the rise's crossing of ``fraction`` of the hump's height: the knee of the curve. For a flat flight and a
    sharp rise (a heel strike) that is the kink where the force starts; for a soft, S-shaped rise (a forefoot
    landing seen through a pelvis that lags the feet, or a smoothed signal) it is the bottom of the bend, where
    a line through the steep part would land 10-20 ms late; for a flight that dips before the landing it is
    the end of the dip. A low ``fraction`` keeps the chord within the bend."""
    base = x[valley]
    top = np.max(_between(x, valley, peak + 1, -np.inf), axis=1)
    level = base + fraction * (top - base)
    end = _first_crossing(x, valley, peak, level, True, fs)
    end = np.where(np.isfinite(end), end, peak / fs)
    span = int(max(3, np.max(np.ceil(end * fs) - valley) + 1))
    w, valid = windows(x, valley, span)
    t = (valley[:, None] + np.arange(span)[None, :]) / fs
    t0 = valley / fs
    with np.errstate(divide="ignore", invalid="ignore"):
        chord = base[:, None] + (level - base)[:, None] * (t - t0[:, None]) / (end - t0)[:, None]
    below = np.where(valid & (t <= end[:, None]), chord - w, -np.inf)
    k = np.clip(np.argmax(below, axis=1), 1, span - 2)
    rows = np.arange(len(k))
    # the knee between samples: the vertex of the parabola through the three samples around the largest gap
    y0, y1, y2 = below[rows, k - 1], below[rows, k], below[rows, k + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        curv = y0 - 2.0 * y1 + y2
        shift = np.where(np.isfinite(curv) & (curv < 0), 0.5 * (y0 - y2) / curv, 0.0)
    return (valley + k + np.clip(shift, -1.0, 1.0)) / fs, base


def _between(x: Array, start: Array, stop: Array, fill: float) -> Array:
    """Rows x[start:stop] padded with ``fill``."""
    span = int(max(1, np.max(stop - start)))
    w, valid = windows(x, start, span)
    valid &= np.arange(span)[None, :] < (stop - start)[:, None]
    return np.where(valid, w, fill)


def _first_crossing(x: Array, start: Array, stop: Array, level: Array, rising: bool, fs: float) -> Array:
    """Time (s, interpolated) of the first upward (``rising``) or downward crossing of ``level`` in
    x[start:stop] per row; NaN where there is none. ``level`` is one per row, or (rows x k) for k levels at once
    (the windows are gathered once), which gives rows x k times."""
    level = np.asarray(level, float)
    lv = level if level.ndim == 2 else level[:, None]
    span = int(max(2, np.max(stop - start))) + 1
    w, valid = windows(x, start, span)
    valid &= np.arange(span)[None, :] <= (stop - start)[:, None]
    w = w[:, None, :]
    past = ((w >= lv[:, :, None]) if rising else (w < lv[:, :, None])) & valid[:, None, :]
    past[:, :, 0] = False  # a crossing needs a sample before it
    found = past.any(axis=2)
    i1 = np.clip(start[:, None] + np.argmax(past, axis=2), 1, len(x) - 1)
    x0, x1 = x[i1 - 1], x[i1]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(x1 != x0, (lv - x0) / (x1 - x0), 0.0)
    t = np.where(found, (i1 - 1 + np.clip(frac, 0.0, 1.0)) / fs, np.nan)
    return t if level.ndim == 2 else t[:, 0]


def _argmin_between(x: Array, start: Array, stop: Array) -> Array:
    """Index of the minimum of x[start:stop] per row."""
    span = int(max(1, np.max(stop - start)))
    w, valid = windows(x, start, span)
    valid &= np.arange(span)[None, :] < (stop - start)[:, None]
    return start + np.argmin(np.where(valid, w, np.inf), axis=1)


def walking_contacts(
    vert_g: Array,
    fs: float,
    start: int = 0,
    stop: int | None = None,
    params: WalkingContactParams = WalkingContactParams(),
) -> Contacts:
    """Initial contacts while walking in ``vert_g[start:stop]`` (level vertical force, g): the steepest rise
    of the vertical force (the leading foot taking the load) before each vertical peak. Only runs of at least
    ``params.min_steps`` regular steps are kept, so shuffling, turning on the spot or other movement does not
    produce steps. Times relative to sample 0."""
    stop = len(vert_g) if stop is None else stop
    if stop - start < int(params.min_bout_s * fs):
        return Contacts.none()
    smooth = lowpass(vert_g, fs, params.smooth_cutoff_hz)[start:stop]
    jerk = np.gradient(lowpass(vert_g, fs, params.jerk_cutoff_hz)[start:stop]) * fs
    distance = max(1, int(params.step_s[0] * fs))
    peaks, _ = find_peaks(smooth, height=params.min_peak_g, distance=distance, prominence=params.min_prominence_g)
    if len(peaks) < params.min_steps:
        return Contacts.none()
    back = max(2, int(params.search_back_s * fs))
    w, valid = windows(jerk, peaks - back, back + 1)
    k = np.argmax(np.where(valid, w, -np.inf), axis=1)
    ic = (peaks - back + k) / fs
    keep = _regular_runs(ic, params)
    k = int(keep.sum())
    return Contacts(ic[keep] + start / fs, np.full(k, np.nan), smooth[peaks][keep], np.ones(k, bool))


def _regular_runs(ic: Array, params: WalkingContactParams) -> Array:
    """Mask of steps that belong to runs of >= ``min_steps`` with plausible, mutually consistent intervals."""
    n = len(ic)
    if n < params.min_steps:
        return np.zeros(n, bool)
    dt = np.diff(ic)
    links = (dt >= params.step_s[0]) & (dt <= params.step_s[1])
    ratio = dt[1:] / dt[:-1]
    links[1:] &= ((ratio > params.step_ratio[0]) & (ratio < params.step_ratio[1])) | ~links[:-1]
    keep = np.zeros(n, bool)
    breaks = np.flatnonzero(~links) + 1
    for a, b in zip(np.concatenate(([0], breaks)), np.concatenate((breaks, [n])), strict=True):
        if b - a >= params.min_steps:
            keep[a:b] = True
    return keep
