"""Foot contacts and left/right labels from one sacral IMU.

Running (spring-mass gait): the vertical specific force of the body is ~0 g in flight and rises to 2-3 g in
stance, so each stance is a hump. Each hump is fitted with the spring-mass contact model: a half-sine force
from initial contact (IC) to toe-off (TO), a flight baseline and, when the recording shows heel-strike
transients (rearfoot strikers), an impact term. Model
and data are band-limited by the same 10 Hz low-pass before the least-squares fit, so the smoothing (ours and
any the sensor applied) does not bias the timing, and the whole hump, not one noisy edge sample, sets IC
and TO.

Walking (inverted pendulum): IC is the steepest rise of the vertical force as the leading foot takes the load,
just before each vertical peak.

Left/right: during single-leg stance the unsupported (swing) side of the pelvis is lower and the stance side
swings backwards (the pelvis turns with the swinging leg). Each step votes with its medio-lateral
acceleration and, with a gyroscope, its obliquity and rotation (see ``side_votes``). Because steps alternate, a whole
chain of regular steps is labelled by the sum of its alternating votes, which is far more reliable than any
single step; each step's confidence combines the chain's margin and its own vote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from gait.analysis.align import step_period
from gait.analysis.signal import crossing_time, lowpass, lowpass_slow, windows

Array = np.ndarray

EVENT_CUTOFF_HZ = 15.0  # hump finding and first guesses: keeps the hump's edges, drops clip vibration
EDGE_FRACTION = 0.25  # first guesses read the edges where the hump passes this fraction of its height
FIT_CUTOFF_HZ = 10.0  # model and data are both band-limited here before fitting
FIT_RATE_HZ = 50.0  # the 10 Hz fit signal is compared every ~20 ms
FIT_MARGIN_S = 0.12  # flight on either side of the contact included in the fit
IMPACT_PEAK_S, IMPACT_WIDTH_S = 0.025, 0.008  # heel-strike impact: a narrow peak ~25 ms after contact
TAIL_FRACTION = 0.10  # toe-off is read where the descent reaches this fraction of the fitted height
MAX_TAIL_S = 0.08  # ... at most this long after the fitted half sine ends
IMPACT_WINDOW_S = 0.08  # heel-strike transients are looked for from 10 ms before to 70 ms after contact
IMPACT_EVIDENCE_G = 0.2  # median early-stance dip (g) that indicates heel-strike transients
MIN_CONTACT_S, MAX_CONTACT_S = 0.09, 0.45
WALK_STEP_S = (0.33, 1.1)  # 55-180 steps/min
MIN_WALK_STEPS = 4
LEFT, UNKNOWN, RIGHT = -1, 0, 1


@dataclass(frozen=True)
class Contacts:
    """Per-step event times in s (segment-relative); ``to_s`` is NaN where toe-off is not measurable."""

    ic_s: Array
    to_s: Array
    peak_g: Array  # hump height (running) or vertical peak (walking), in g


def _hump_peaks(x: Array, fs: float, period: float, min_height: float, prominence: float) -> Array:
    fc = float(np.clip(1.8 / period, 3.0, 9.0))
    s = lowpass(x, fs, fc)
    peaks, _ = find_peaks(s, height=min_height, distance=max(1, int(0.6 * period * fs)), prominence=prominence)
    return peaks


def running_contacts(
    vert_g: Array,
    fs: float,
    norm_g: Array,
    fs_norm: float,
    offset_s: float = 0.0,
    start: int = 0,
    stop: int | None = None,
) -> Contacts:
    """Stances in a running bout from the level vertical specific force (g); times relative to sample 0.

    ``norm_g`` is the acceleration magnitude at the sensor's full rate ``fs_norm`` (impact evidence); its
    first sample lies ``offset_s`` after sample 0 of ``vert_g``.
    """
    stop = len(vert_g) if stop is None else stop
    raw = vert_g[start:stop]
    x = lowpass(raw, fs, EVENT_CUTOFF_HZ)
    period = step_period(x, fs)
    if not np.isfinite(period):
        return Contacts(np.zeros(0), np.zeros(0), np.zeros(0))
    coarse = _hump_peaks(x, fs, period, min_height=1.1, prominence=0.5)
    if len(coarse) == 0:
        return Contacts(np.zeros(0), np.zeros(0), np.zeros(0))
    half = max(2, int(0.35 * period * fs))
    # hump height: the maximum of the event signal near each coarse peak (flight baseline is 0 g)
    w, valid = windows(x, coarse - half, 2 * half)
    w = np.where(valid, w, -np.inf)
    peak_idx = coarse - half + np.argmax(w, axis=1)
    height = x[peak_idx]
    level = EDGE_FRACTION * height
    back = max(3, int(0.8 * period * fs))
    ic = _edge(x, peak_idx, level, back, rising=True, fs=fs)
    to = _edge(x, peak_idx, level, back, rising=False, fs=fs)
    # initial guess from the half-sine model: a crossing at fraction p lies arcsin(p)/pi of the contact inside
    frac = np.arcsin(EDGE_FRACTION) / np.pi
    tc = (to - ic) / (1.0 - 2.0 * frac)
    ok = np.isfinite(tc) & (tc >= MIN_CONTACT_S) & (tc <= MAX_CONTACT_S)
    ic0, tc0, height = ic[ok] - frac * tc[ok], tc[ok], height[ok]
    if len(ic0) == 0:
        return Contacts(np.zeros(0), np.zeros(0), np.zeros(0))
    fit_signal = lowpass(raw, fs, FIT_CUTOFF_HZ)
    with_impact = has_impacts(norm_g, fs_norm, ic0 + start / fs - offset_s, tc0)
    fit = fit_contacts(fit_signal, fs, ic0, tc0, with_impact=with_impact)
    to_ref = refine_toe_off(x, fs, fit)
    tc_fit = to_ref - fit.ic
    ok = (tc_fit >= MIN_CONTACT_S) & (tc_fit <= MAX_CONTACT_S)
    ic_fit, to_fit, height = fit.ic[ok], to_ref[ok], height[ok]
    # one stance per hump: drop humps whose contact would overlap the previous one
    keep = np.ones(len(ic_fit), bool)
    keep[1:] = ic_fit[1:] > to_fit[:-1] - 0.02
    return Contacts(ic_fit[keep] + start / fs, to_fit[keep] + start / fs, height[keep])


def impact_shape(t: Array) -> Array:
    """Unit heel-strike transient at time t after contact (rearfoot running: peak ~25 ms, ~20 ms wide)."""
    return np.where(t >= 0, np.exp(-0.5 * ((t - IMPACT_PEAK_S) / IMPACT_WIDTH_S) ** 2), 0.0)


class _Templates:
    """Low-passed half-sine contacts of every duration and the impact transient, with their derivatives,
    tabulated on a 1 kHz grid so that the fit only interpolates."""

    RATE = 1000.0
    TC_STEP = 0.002

    def __init__(self, fc: float) -> None:
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
        self.m = sosfiltfilt(sos, impact_shape(tau))

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


_TEMPLATES: dict[float, _Templates] = {}


def _templates(fc: float) -> _Templates:
    if fc not in _TEMPLATES:
        _TEMPLATES[fc] = _Templates(fc)
    return _TEMPLATES[fc]


def has_impacts(norm_g: Array, fs: float, ic: Array, tc: Array) -> bool:
    """Heel-strike transients present? Just after contact the full-rate acceleration magnitude (``norm_g``,
    g, rate ``fs``) of a rearfoot striker spikes and dips before rising to the main peak; a forefoot landing
    (or a band-limited signal) rises without a dip. The evidence is the median depth of that early dip (g)."""
    length = max(5, int(IMPACT_WINDOW_S * fs)) + 1
    start = np.round((ic - 0.01) * fs).astype(int)
    w, valid = windows(norm_g, start, length)
    w = np.where(valid, w, np.nan)
    dip = np.nanmax(np.fmax.accumulate(w, axis=1) - w, axis=1)
    return bool(np.nanmedian(dip) > IMPACT_EVIDENCE_G)


def fit_contacts(
    x: Array, fs: float, ic0: Array, tc0: Array, with_impact: bool = True, iterations: int = 3
) -> ContactFit:
    """Least-squares spring-mass fit of every stance at once: IC and contact time by Gauss-Newton.

    For a given (IC, contact time) the model is linear in the half-sine height, the impact height (>= 0) and
    the flight baseline; these are solved in closed form each iteration, and the timing is updated from the
    analytic derivatives of the tabulated templates. ``x`` is the vertical specific force (g) low-passed at
    ``FIT_CUTOFF_HZ``; it is compared every ~1/``FIT_RATE_HZ`` s.
    """
    tpl = _templates(FIT_CUTOFF_HZ)
    stride = max(1, round(fs / FIT_RATE_HZ))
    # fit over the contact and half of each neighbouring flight (never into the next hump)
    to0 = ic0 + tc0
    gap_before = np.concatenate(([2 * FIT_MARGIN_S], ic0[1:] - to0[:-1]))
    gap_after = np.concatenate((ic0[1:] - to0[:-1], [2 * FIT_MARGIN_S]))
    lo = ic0 - np.clip(0.5 * gap_before, 0.02, FIT_MARGIN_S)
    hi = to0 + np.clip(0.5 * gap_after, 0.02, FIT_MARGIN_S)
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
    for _ in range(iterations):
        sv, s_tau, s_tc, mv, m_tau = tpl.lookup(tk - ic[:, None], tc)
        if not with_impact:
            mv = m_tau = np.zeros_like(sv)
        ws, wm = w * sv, w * mv
        g = np.empty((len(ic), 3, 3))
        g[:, 0, 0] = (ws * sv).sum(1)
        g[:, 0, 1] = g[:, 1, 0] = (ws * mv).sum(1)
        g[:, 0, 2] = g[:, 2, 0] = ws.sum(1)
        g[:, 1, 1] = (wm * mv).sum(1) + 1e-9
        g[:, 1, 2] = g[:, 2, 1] = wm.sum(1)
        g[:, 2, 2] = n1 + 1e-9
        h = np.column_stack(((ws * y).sum(1), (wm * y).sum(1), wy.sum(1)))
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
        a11, a12, a22 = (j_ic * j_ic).sum(1), (j_ic * j_tc).sum(1), (j_tc * j_tc).sum(1)
        b1, b2 = (j_ic * r).sum(1), (j_tc * r).sum(1)
        det = a11 * a22 - a12 * a12
        det = np.where(np.abs(det) > 1e-12, det, np.inf)
        d_ic = -(a22 * b1 - a12 * b2) / det
        d_tc = -(a11 * b2 - a12 * b1) / det
        d_ic = np.clip(d_ic, -0.02, 0.02)
        d_tc = np.clip(d_tc, -0.02, 0.02)
        ic += d_ic
        tc = np.clip(tc + d_tc, MIN_CONTACT_S * 0.8, MAX_CONTACT_S * 1.1)
        if max(np.max(np.abs(d_ic)), np.max(np.abs(d_tc))) < 2e-4:
            break
    rms = np.sqrt((r * r).sum(1) / np.maximum(n1, 1))
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


def refine_toe_off(x: Array, fs: float, fit: ContactFit) -> Array:
    """Toe-off where the force really ends: the last, low part of push-off decays more slowly than a half
    sine (the toe rolls off), so the fitted half sine ends early. Take the descent's crossing of
    ``TAIL_FRACTION`` of the fitted height above the flight baseline (on the 15 Hz signal) and add the half
    sine's remaining time below that level; never more than ``MAX_TAIL_S`` after the fitted end."""
    to_fit = fit.ic + fit.tc
    level = fit.baseline + TAIL_FRACTION * fit.amplitude
    start = np.round((to_fit - 0.04) * fs).astype(int)
    span = int(np.ceil((0.04 + MAX_TAIL_S) * fs)) + 1
    w, valid = windows(x, start, span)
    below = (w < level[:, None]) & valid
    found = below.any(axis=1) & ~below[:, 0]
    k = np.argmax(below, axis=1)
    i1 = np.clip(start + k, 1, len(x) - 1)
    t_cross = crossing_time((i1 - 1) / fs, x[i1 - 1], i1 / fs, x[i1], level)
    to = t_cross + fit.tc * np.arcsin(TAIL_FRACTION) / np.pi
    return np.where(found, np.clip(to, to_fit, to_fit + MAX_TAIL_S), to_fit)


def _project_out(v: Array, ws: Array, wm: Array, w: Array, g_inv: Array) -> Array:
    """v minus its weighted least-squares projection on the basis columns (w*S, w*M, w)."""
    xtv = np.column_stack(((ws * v).sum(1), (wm * v).sum(1), (w * v).sum(1)))
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


def walking_contacts(vert_g: Array, fs: float, start: int = 0, stop: int | None = None) -> Contacts:
    """Initial contacts while walking: the steepest rise of the vertical force (the leading foot taking the
    load) before each vertical peak. Only runs of at least ``MIN_WALK_STEPS`` regular steps are kept, so
    shuffling, turning on the spot or other movement does not produce steps."""
    stop = len(vert_g) if stop is None else stop
    if stop - start < int(2 * fs):
        return Contacts(np.zeros(0), np.zeros(0), np.zeros(0))
    smooth = lowpass(vert_g, fs, 6.0)[start:stop]
    jerk = np.gradient(lowpass(vert_g, fs, 10.0)[start:stop]) * fs
    peaks, _ = find_peaks(smooth, height=1.03, distance=max(1, int(WALK_STEP_S[0] * fs)), prominence=0.06)
    if len(peaks) < MIN_WALK_STEPS:
        return Contacts(np.zeros(0), np.zeros(0), np.zeros(0))
    back = max(2, int(0.25 * fs))
    w, valid = windows(jerk, peaks - back, back + 1)
    k = np.argmax(np.where(valid, w, -np.inf), axis=1)
    ic = (peaks - back + k) / fs
    keep = _regular_runs(ic, WALK_STEP_S, MIN_WALK_STEPS)
    return Contacts(ic[keep] + start / fs, np.full(keep.sum(), np.nan), smooth[peaks][keep])


def _regular_runs(ic: Array, step_range: tuple[float, float], min_steps: int) -> Array:
    """Mask of steps that belong to runs of >= min_steps with plausible, mutually consistent intervals."""
    n = len(ic)
    if n < min_steps:
        return np.zeros(n, bool)
    dt = np.diff(ic)
    links = (dt >= step_range[0]) & (dt <= step_range[1])
    ratio = dt[1:] / dt[:-1]
    links[1:] &= ((ratio > 0.67) & (ratio < 1.5)) | ~links[:-1]
    keep = np.zeros(n, bool)
    breaks = np.flatnonzero(~links) + 1
    for a, b in zip(np.concatenate(([0], breaks)), np.concatenate((breaks, [n])), strict=True):
        if b - a >= min_steps:
            keep[a:b] = True
    return keep


@dataclass(frozen=True)
class SideLabels:
    side: Array  # +1 right, -1 left, 0 unknown
    confidence: Array  # 0..1, probability-like confidence that the label is right
    vote: Array  # the step's own standardised vote (+ = right)
    chain: Array  # chain id (steps labelled together)


def side_votes(
    ic: Array,
    end: Array,
    running: Array,
    fs: float,
    obliquity_deg: Array | None,
    rotation_deg: Array | None,
    acc_ml: Array,
) -> Array:
    """Per-step vote for "right foot" (positive), standardised within running and within walking steps.

    ``ic`` and ``end`` are sample positions bounding the window read: the stance for running steps, the whole
    step for walking steps. Votes (each + for a right step):

    * running: the sacrum accelerates towards the stance side (it sits above the hips and the pelvis rolls
      over the stance hip); with a gyroscope also the stance side of the pelvis is higher in the first half
      of stance and turned backwards over the stance (treadmill motion capture, RBDS);
    * walking: over the step the lower trunk accelerates towards the other side (the body vaults over a foot
      placed lateral to it), and, a weaker cue, the stance side of the pelvis is still turning forwards
      through the first half of the step (its forward rotation peaks after initial contact; Mobilise-D data).
    """
    n = len(acc_ml)
    a = np.clip(np.round(ic).astype(int), 0, n - 1)
    b = np.clip(np.round(end).astype(int), 0, n - 1)
    b = np.maximum(b, a + 1)

    def window_mean(x: Array, stop: Array = b) -> Array:
        hp = x - lowpass_slow(x, fs, 0.3)
        c = np.concatenate(([0.0], np.cumsum(hp)))
        return (c[np.minimum(stop, n)] - c[a]) / (stop - a)

    votes = np.zeros(len(ic))
    ml = window_mean(acc_ml)
    walking = ~running
    if running.any():
        v = _standardise(ml[running])
        if obliquity_deg is not None and rotation_deg is not None:
            first_half = a + np.maximum((b - a) // 2, 1)
            v = (
                v
                + _standardise(window_mean(obliquity_deg, first_half)[running])
                - _standardise(window_mean(rotation_deg)[running])
            )
        votes[running] = v
    if walking.any():
        v = -_standardise(ml[walking])
        if rotation_deg is not None:  # a weaker cue: half weight
            half = np.minimum(a + np.maximum((b - a) // 2, 1), n - 1)
            v = v + 0.5 * _standardise((rotation_deg[half] - rotation_deg[a])[walking])
        votes[walking] = v
    return votes


def _standardise(v: Array) -> Array:
    scale = np.median(np.abs(v - np.median(v))) * 1.4826
    return v / scale if scale > 0 else np.zeros_like(v)


def label_sides(ic_s: Array, votes: Array, bout_id: Array) -> SideLabels:
    """Chain steps (allowing slow and missed steps), label each chain by its alternating vote sum.

    A contact that follows the previous one after less than 0.6 of the local step time is taken as a spurious
    extra (a stumble, a shuffle, a double detection): it is labelled unknown and the chain runs past it, so
    it cannot shift the alternation of the steps after it.
    """
    n = len(ic_s)
    if n > 2:
        dt = np.diff(ic_s)
        med = _running_median(dt, 9)
        extra = np.concatenate(([False], (dt < 0.6 * med) & (bout_id[1:] == bout_id[:-1])))
        if extra.any():
            kept = _label_chains(ic_s[~extra], votes[~extra], bout_id[~extra])
            side = np.zeros(n, int)
            conf = np.zeros(n)
            chain = np.full(n, -1)
            side[~extra], conf[~extra], chain[~extra] = kept.side, kept.confidence, kept.chain
            return SideLabels(side, conf, votes, chain)
    return _label_chains(ic_s, votes, bout_id)


def _label_chains(ic_s: Array, votes: Array, bout_id: Array) -> SideLabels:
    n = len(ic_s)
    side = np.zeros(n, int)
    conf = np.zeros(n)
    chain = np.full(n, -1)
    if n == 0:
        return SideLabels(side, conf, votes, chain)
    dt = np.diff(ic_s)
    # local step time: running median of neighbouring intervals. An interval up to 1.6 steps is one (slow,
    # irregular) step; ~2 or ~3 steps mean missed steps (gaps); beyond that, or a new bout, breaks the chain
    # (after a pause either foot may lead).
    med = _running_median(dt, 9) if len(dt) else dt
    ratio = dt / np.where(med > 0, med, np.nan)
    k = np.digitize(ratio, [0.6, 1.6, 2.6, 3.5])  # 0: too short (an extra step), 1-3 steps, 4: too long
    regular = (k >= 1) & (k <= 3) & (bout_id[1:] == bout_id[:-1])
    breaks = np.flatnonzero(~regular) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [n]))
    steps_parity = np.zeros(n, int)
    steps_parity[1:] = np.where(regular, k, 0).astype(int)
    for cid, (a, b) in enumerate(zip(starts, stops, strict=True)):
        par = np.cumsum(steps_parity[a:b]) - steps_parity[a]
        alt = np.where(par % 2 == 0, 1.0, -1.0)
        v = votes[a:b]
        s = float(np.sum(alt * v))
        denom = float(np.sqrt(np.sum(v * v)))
        chain[a:b] = cid
        if denom == 0 or b - a < 2:
            continue
        z = abs(s) / denom  # ~ sqrt(n) when every step agrees
        chain_conf = float(1.0 - np.exp(-0.5 * z * z))
        lab = np.sign(s) * alt
        side[a:b] = lab.astype(int)
        agree = np.sign(v) == lab
        conf[a:b] = chain_conf * np.where(agree, 1.0, 0.7)
    return SideLabels(side, conf, votes, chain)


def _running_median(x: Array, k: int) -> Array:
    from scipy.ndimage import median_filter

    return median_filter(x, size=min(k, len(x)), mode="nearest")
