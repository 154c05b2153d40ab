"""Stages: running contacts and walking contacts, from the level vertical force of one sacral IMU.

Running (spring-mass gait): the vertical specific force of the body is ~0 g in flight and rises to 2-3 g in
stance, so each stance is a hump. Each hump is fitted with the spring-mass contact model: a half-sine force
from initial contact (IC) to toe-off (TO), a flight baseline and, when the recording shows heel-strike
transients (rearfoot strikers), an impact term. Model
and data are band-limited by the same 10 Hz low-pass before the least-squares fit, so the smoothing (ours and
any the sensor applied) does not bias the timing, and the whole hump, not one noisy edge sample, sets IC
and TO.

Walking (inverted pendulum): IC is the steepest rise of the vertical force as the leading foot takes the load,
just before each vertical peak.

Each stage owns a frozen parameter set (``RunningContactParams``, ``WalkingContactParams``) and returns
``Contacts``. Left and right are labelled by the next stage (``sides``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from gait.analysis.align import step_period
from gait.analysis.rotations import dot_rows
from gait.analysis.signal import crossing_time, lowpass, windows

Array = np.ndarray

IMPACT_PEAK_S, IMPACT_WIDTH_S = 0.025, 0.008  # heel-strike impact: a narrow peak ~25 ms after contact


@dataclass(frozen=True)
class RunningContactParams:
    """Parameters of the running-contacts stage (``running_contacts``): the spring-mass contact fit."""

    event_cutoff_hz: float = 15.0  # hump finding and first guesses (Hz): keeps the hump's edges, drops vibration
    hump_cutoff_per_step: float = 1.8  # humps are found low-passed at this many times the step frequency ...
    hump_cutoff_hz: tuple[float, float] = (3.0, 9.0)  # ... kept within these bounds (Hz)
    min_hump_g: float = 1.1  # a hump reaches at least this vertical force (g)
    min_prominence_g: float = 0.5  # ... and stands out from its surroundings by this much (g)
    min_hump_spacing: float = 0.6  # humps are at least this fraction of the step period apart
    peak_search: float = 0.35  # a hump's top is looked for within this fraction of the step period of its peak
    edge_search: float = 0.8  # its edges within this fraction of the step period before and after the top
    edge_fraction: float = 0.25  # first guesses read the edges where the hump passes this fraction of its height
    contact_s: tuple[float, float] = (0.09, 0.45)  # plausible contact times (s)
    fit_cutoff_hz: float = 10.0  # model and data are both band-limited here (Hz) before fitting
    fit_rate_hz: float = 50.0  # the fit signal is compared at about this rate (Hz)
    fit_margin_s: float = 0.12  # flight on either side of the contact included in the fit (s)
    fit_iterations: int = 3  # Gauss-Newton iterations (each updates every stance at once)
    impact_peak_s: float = IMPACT_PEAK_S  # heel-strike transient: peak this long after contact (s) ...
    impact_width_s: float = IMPACT_WIDTH_S  # ... with this standard deviation (s)
    impact_window_s: float = 0.08  # transients are looked for from 10 ms before contact over this long (s)
    impact_evidence_g: float = 0.2  # median early-stance dip (g, full rate) that shows heel-strike transients
    tail_fraction: float = 0.10  # toe-off is read where the descent reaches this fraction of the fitted height
    max_tail_s: float = 0.08  # ... at most this long (s) after the fitted half sine ends
    max_overlap_s: float = 0.02  # a stance may start at most this long (s) before the previous one ends
    period_search_s: tuple[float, float] = (0.22, 0.75)  # step periods looked for in each bout (s)


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
    NaN where toe-off is not measurable (walking)."""

    ic_s: Array
    to_s: Array
    peak_g: Array  # hump height (running) or vertical peak (walking), in g

    @classmethod
    def none(cls) -> Contacts:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.ic_s)


def _hump_peaks(x: Array, fs: float, period: float, params: RunningContactParams) -> Array:
    fc = float(np.clip(params.hump_cutoff_per_step / period, *params.hump_cutoff_hz))
    s = lowpass(x, fs, fc)
    distance = max(1, int(params.min_hump_spacing * period * fs))
    peaks, _ = find_peaks(s, height=params.min_hump_g, distance=distance, prominence=params.min_prominence_g)
    return peaks


def running_contacts(
    vert_g: Array,
    fs: float,
    norm_g: Array,
    fs_norm: float,
    offset_s: float = 0.0,
    start: int = 0,
    stop: int | None = None,
    params: RunningContactParams = RunningContactParams(),
) -> Contacts:
    """Stances in a running bout ``vert_g[start:stop]`` of the level vertical specific force (g, rate ``fs``);
    times relative to sample 0.

    ``norm_g`` is the acceleration magnitude at the sensor's full rate ``fs_norm`` (impact evidence); its
    first sample lies ``offset_s`` after sample 0 of ``vert_g``.
    """
    stop = len(vert_g) if stop is None else stop
    raw = vert_g[start:stop]
    x = lowpass(raw, fs, params.event_cutoff_hz)
    ic0, tc0, height = _first_guesses(x, fs, params)
    if len(ic0) == 0:
        return Contacts.none()
    fit_signal = lowpass(raw, fs, params.fit_cutoff_hz)
    with_impact = has_impacts(norm_g, fs_norm, ic0 + start / fs - offset_s, tc0, params)
    fit = fit_contacts(fit_signal, fs, ic0, tc0, with_impact=with_impact, params=params)
    to_ref = refine_toe_off(x, fs, fit, params)
    tc_fit = to_ref - fit.ic
    ok = (tc_fit >= params.contact_s[0]) & (tc_fit <= params.contact_s[1])
    ic_fit, to_fit, height = fit.ic[ok], to_ref[ok], height[ok]
    # one stance per hump: drop humps whose contact would overlap the previous one
    keep = np.ones(len(ic_fit), bool)
    keep[1:] = ic_fit[1:] > to_fit[:-1] - params.max_overlap_s
    return Contacts(ic_fit[keep] + start / fs, to_fit[keep] + start / fs, height[keep])


def _first_guesses(x: Array, fs: float, params: RunningContactParams) -> tuple[Array, Array, Array]:
    """(IC, contact time, hump height) of every hump, from the crossings of ``edge_fraction`` of its height
    extrapolated along a half sine; empty when the bout shows no steady step period."""
    empty = (np.zeros(0), np.zeros(0), np.zeros(0))
    period = step_period(x, fs, *params.period_search_s)
    if not np.isfinite(period):
        return empty
    coarse = _hump_peaks(x, fs, period, params)
    if len(coarse) == 0:
        return empty
    half = max(2, int(params.peak_search * period * fs))
    # hump height: the maximum of the event signal near each coarse peak (flight baseline is 0 g)
    w, valid = windows(x, coarse - half, 2 * half)
    w = np.where(valid, w, -np.inf)
    peak_idx = coarse - half + np.argmax(w, axis=1)
    height = x[peak_idx]
    level = params.edge_fraction * height
    back = max(3, int(params.edge_search * period * fs))
    ic = _edge(x, peak_idx, level, back, rising=True, fs=fs)
    to = _edge(x, peak_idx, level, back, rising=False, fs=fs)
    # a crossing at fraction p of a half sine lies arcsin(p)/pi of the contact inside it
    frac = np.arcsin(params.edge_fraction) / np.pi
    tc = (to - ic) / (1.0 - 2.0 * frac)
    ok = np.isfinite(tc) & (tc >= params.contact_s[0]) & (tc <= params.contact_s[1])
    return ic[ok] - frac * tc[ok], tc[ok], height[ok]


def impact_shape(t: Array, peak_s: float = IMPACT_PEAK_S, width_s: float = IMPACT_WIDTH_S) -> Array:
    """Unit heel-strike transient at time t after contact (rearfoot running: peak ~25 ms, ~20 ms wide)."""
    return np.where(t >= 0, np.exp(-0.5 * ((t - peak_s) / width_s) ** 2), 0.0)


class _Templates:
    """Low-passed half-sine contacts of every duration and the impact transient, with their derivatives,
    tabulated on a 1 kHz grid so that the fit only interpolates."""

    RATE = 1000.0
    TC_STEP = 0.002

    def __init__(self, fc: float, impact_peak_s: float, impact_width_s: float) -> None:
        self.tau0 = -0.3
        tau = np.arange(self.tau0, 0.75, 1.0 / self.RATE)
        self.n_tau = len(tau)
        self.tc0 = 0.06
        tcs = np.arange(self.tc0, 0.50, self.TC_STEP)
        self.n_tc = len(tcs)
        sos = butter(4, fc, fs=self.RATE, output="sos")
        t = tau[None, :]
        tc = tcs[:, None]
        sine = np.where((t >= 0) & (t <= tc), np.sin(np.pi * np.clip(t, 0, None) / tc), 0.0)
        self.s = sosfiltfilt(sos, sine, axis=1).ravel()
        self.m = sosfiltfilt(sos, impact_shape(tau, impact_peak_s, impact_width_s))

    def lookup(self, tau: Array, tc: Array) -> tuple[Array, Array, Array, Array, Array]:
        """S, dS/dtau, dS/dtc, M, dM/dtau at times ``tau`` (n, k) after contact for durations ``tc`` (n,).

        Bilinear interpolation; the derivatives are the slopes of that same interpolation, so one set of
        gathers serves all five.
        """
        fi = np.clip((tau - self.tau0) * self.RATE, 0.0, self.n_tau - 1.001)
        i0 = fi.astype(np.intp)
        a = fi - i0
        fj = np.clip((tc - self.tc0) / self.TC_STEP, 0.0, self.n_tc - 1.001)
        j0 = fj.astype(np.intp)
        b = (fj - j0)[:, None]
        flat = (j0 * self.n_tau)[:, None] + i0
        s = self.s
        lo0, lo1 = s[flat], s[flat + 1]
        hi0, hi1 = s[flat + self.n_tau], s[flat + self.n_tau + 1]
        lo = lo0 + a * (lo1 - lo0)
        hi = hi0 + a * (hi1 - hi0)
        sv = lo + b * (hi - lo)
        s_tau = ((lo1 - lo0) + b * ((hi1 - hi0) - (lo1 - lo0))) * self.RATE
        s_tc = (hi - lo) / self.TC_STEP
        m0, m1 = self.m[i0], self.m[i0 + 1]
        return sv, s_tau, s_tc, m0 + a * (m1 - m0), (m1 - m0) * self.RATE


_TEMPLATES: dict[tuple[float, float, float], _Templates] = {}


def _templates(params: RunningContactParams) -> _Templates:
    key = (params.fit_cutoff_hz, params.impact_peak_s, params.impact_width_s)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _Templates(*key)
    return _TEMPLATES[key]


def has_impacts(
    norm_g: Array, fs: float, ic: Array, tc: Array, params: RunningContactParams = RunningContactParams()
) -> bool:
    """Heel-strike transients present? Just after contact the full-rate acceleration magnitude (``norm_g``,
    g, rate ``fs``) of a rearfoot striker spikes and dips before rising to the main peak; a forefoot landing
    (or a band-limited signal) rises without a dip. The evidence is the median depth of that early dip (g)."""
    length = max(5, int(params.impact_window_s * fs)) + 1
    start = np.round((ic - 0.01) * fs).astype(int)
    w, valid = windows(norm_g, start, length)
    w = np.where(valid, w, np.nan)
    dip = np.nanmax(np.fmax.accumulate(w, axis=1) - w, axis=1)
    return bool(np.nanmedian(dip) > params.impact_evidence_g)


def fit_contacts(
    x: Array,
    fs: float,
    ic0: Array,
    tc0: Array,
    with_impact: bool = True,
    params: RunningContactParams = RunningContactParams(),
) -> ContactFit:
    """Least-squares spring-mass fit of every stance at once: IC and contact time by Gauss-Newton.

    For a given (IC, contact time) the model is linear in the half-sine height, the impact height (>= 0) and
    the flight baseline; these are solved in closed form each iteration, and the timing is updated from the
    analytic derivatives of the tabulated templates. ``x`` is the vertical specific force (g) low-passed at
    ``params.fit_cutoff_hz``; it is compared every ~1/``params.fit_rate_hz`` s.
    """
    tpl = _templates(params)
    stride = max(1, round(fs / params.fit_rate_hz))
    # fit over the contact and half of each neighbouring flight (never into the next hump)
    margin = params.fit_margin_s
    to0 = ic0 + tc0
    gap_before = np.concatenate(([2 * margin], ic0[1:] - to0[:-1]))
    gap_after = np.concatenate((ic0[1:] - to0[:-1], [2 * margin]))
    lo = ic0 - np.clip(0.5 * gap_before, 0.02, margin)
    hi = to0 + np.clip(0.5 * gap_after, 0.02, margin)
    span = int(np.ceil(float(np.max(hi - lo)) * fs / stride)) + 2
    first = np.floor(lo * fs).astype(int)
    idx = first[:, None] + stride * np.arange(span)[None, :]
    valid = (idx >= 0) & (idx < len(x))
    y = x[np.clip(idx, 0, len(x) - 1)]
    tk = idx / fs
    w = (valid & (tk >= lo[:, None]) & (tk <= hi[:, None])).astype(float)
    wy = w * y
    n1 = w.sum(axis=1)
    ic, tc = ic0.astype(float).copy(), tc0.astype(float).copy()
    for _ in range(params.fit_iterations):
        sv, s_tau, s_tc, mv, m_tau = tpl.lookup(tk - ic[:, None], tc)
        if not with_impact:
            mv = m_tau = np.zeros_like(sv)
        ws, wm = w * sv, w * mv
        g = np.empty((len(ic), 3, 3))
        g[:, 0, 0] = dot_rows(ws, sv)
        g[:, 0, 1] = g[:, 1, 0] = dot_rows(ws, mv)
        g[:, 0, 2] = g[:, 2, 0] = ws.sum(1)
        g[:, 1, 1] = dot_rows(wm, mv) + 1e-9
        g[:, 1, 2] = g[:, 2, 1] = wm.sum(1)
        g[:, 2, 2] = n1 + 1e-9
        h = np.column_stack((dot_rows(ws, y), dot_rows(wm, y), wy.sum(1)))
        g_inv = _inverse_sym3(g)
        coef = np.einsum("nij,nj->ni", g_inv, h)
        neg = coef[:, 1] < 0  # an impact cannot be negative: refit those without it
        if neg.any():
            g2 = g[neg][:, [0, 2]][:, :, [0, 2]]
            c2 = np.linalg.solve(g2, h[neg][:, [0, 2], None])[..., 0]
            coef[neg] = np.column_stack((c2[:, 0], np.zeros(neg.sum()), c2[:, 1]))
        amp, imp, base = coef[:, :1], coef[:, 1:2], coef[:, 2:3]
        r = w * (y - amp * sv - imp * mv - base)
        # Jacobian of the variable-projection residual (Kaufman): the derivative of the model with its linear
        # coefficients held fixed, minus its projection on the linear basis (the coefficients re-adapt)
        j_ic = _project_out(w * (amp * s_tau + imp * m_tau), ws, wm, w, g_inv)
        j_tc = _project_out(-w * amp * s_tc, ws, wm, w, g_inv)
        a11, a12, a22 = dot_rows(j_ic, j_ic), dot_rows(j_ic, j_tc), dot_rows(j_tc, j_tc)
        b1, b2 = dot_rows(j_ic, r), dot_rows(j_tc, r)
        det = a11 * a22 - a12 * a12
        det = np.where(np.abs(det) > 1e-12, det, np.inf)
        d_ic = -(a22 * b1 - a12 * b2) / det
        d_tc = -(a11 * b2 - a12 * b1) / det
        d_ic = np.clip(d_ic, -0.02, 0.02)
        d_tc = np.clip(d_tc, -0.02, 0.02)
        ic += d_ic
        tc = np.clip(tc + d_tc, params.contact_s[0] * 0.8, params.contact_s[1] * 1.1)
        if max(np.max(np.abs(d_ic)), np.max(np.abs(d_tc))) < 2e-4:
            break
    rms = np.sqrt(dot_rows(r, r) / np.maximum(n1, 1))
    return ContactFit(ic, tc, rms, coef[:, 0], coef[:, 1], coef[:, 2])


@dataclass(frozen=True)
class ContactFit:
    """Spring-mass fit per stance: timing (s) and the half-sine height, impact height and baseline (g)."""

    ic: Array
    tc: Array
    rms: Array
    amplitude: Array
    impact: Array
    baseline: Array


def refine_toe_off(
    x: Array, fs: float, fit: ContactFit, params: RunningContactParams = RunningContactParams()
) -> Array:
    """Toe-off where the force really ends: the last, low part of push-off decays more slowly than a half
    sine (the toe rolls off), so the fitted half sine ends early. Take the descent's crossing of
    ``tail_fraction`` of the fitted height above the flight baseline (on the 15 Hz signal) and add the half
    sine's remaining time below that level; never more than ``max_tail_s`` after the fitted end."""
    to_fit = fit.ic + fit.tc
    level = fit.baseline + params.tail_fraction * fit.amplitude
    start = np.round((to_fit - 0.04) * fs).astype(int)
    span = int(np.ceil((0.04 + params.max_tail_s) * fs)) + 1
    w, valid = windows(x, start, span)
    below = (w < level[:, None]) & valid
    found = below.any(axis=1) & ~below[:, 0]
    k = np.argmax(below, axis=1)
    i1 = np.clip(start + k, 1, len(x) - 1)
    t_cross = crossing_time((i1 - 1) / fs, x[i1 - 1], i1 / fs, x[i1], level)
    to = t_cross + fit.tc * np.arcsin(params.tail_fraction) / np.pi
    return np.where(found, np.clip(to, to_fit, to_fit + params.max_tail_s), to_fit)


def _project_out(v: Array, ws: Array, wm: Array, w: Array, g_inv: Array) -> Array:
    """v minus its weighted least-squares projection on the basis columns (w*S, w*M, w)."""
    xtv = np.column_stack((dot_rows(ws, v), dot_rows(wm, v), dot_rows(w, v)))
    k = np.einsum("nij,nj->ni", g_inv, xtv)
    return v - (ws * k[:, :1] + wm * k[:, 1:2] + w * k[:, 2:3])


def _inverse_sym3(g: Array) -> Array:
    """Inverses of many symmetric 3x3 matrices (n, 3, 3) by the adjugate (far faster than a LAPACK loop)."""
    a, b, c = g[:, 0, 0], g[:, 0, 1], g[:, 0, 2]
    d, e, f = g[:, 1, 1], g[:, 1, 2], g[:, 2, 2]
    A, B, C = d * f - e * e, c * e - b * f, b * e - c * d
    D, E, F = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * A + b * B + c * C
    det = np.where(np.abs(det) > 1e-300, det, np.inf)
    inv = np.empty_like(g)
    inv[:, 0, 0], inv[:, 0, 1], inv[:, 0, 2] = A, B, C
    inv[:, 1, 0], inv[:, 1, 1], inv[:, 1, 2] = B, D, E
    inv[:, 2, 0], inv[:, 2, 1], inv[:, 2, 2] = C, E, F
    return inv / det[:, None, None]


def _edge(x: Array, peaks: Array, level: Array, span: int, rising: bool, fs: float) -> Array:
    """Sub-sample time where x crosses ``level`` on the rising (before) or falling (after) side of each peak."""
    if rising:
        w, valid = windows(x, peaks - span, span + 1)  # ends at the peak
        below = (w < level[:, None]) & valid
        below_r = below[:, ::-1]
        found = below_r.any(axis=1)
        k = span - np.argmax(below_r, axis=1)  # index in window of last sample below level
        i0 = peaks - span + k
        i1 = i0 + 1
    else:
        w, valid = windows(x, peaks, span + 1)  # starts at the peak
        below = (w < level[:, None]) & valid
        found = below.any(axis=1)
        k = np.argmax(below, axis=1)
        i1 = peaks + k
        i0 = i1 - 1
    i0 = np.clip(i0, 0, len(x) - 1)
    i1 = np.clip(i1, 0, len(x) - 1)
    t = crossing_time(i0 / fs, x[i0], i1 / fs, x[i1], level)
    return np.where(found, t, np.nan)


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
    return Contacts(ic[keep] + start / fs, np.full(keep.sum(), np.nan), smooth[peaks][keep])


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
