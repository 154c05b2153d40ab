"""Signal conditioning: zero-phase filters, uniform clocks over gaps, decimation in bounded chunks, step windows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal as sps

Array = np.ndarray


def decimate_for(x: Array, fs: float, target_hz: float) -> tuple[Array, float]:
    """A cheap low-rate copy for coarse, global estimates (activity, step period, mounting)."""
    k = max(1, int(fs // target_hz))
    if k == 1:
        return np.asarray(x, float), fs
    return lowpass(x, fs, 0.4 * fs / k)[::k], fs / k


@lru_cache(maxsize=256)
def _butter(order: int, fc: float, fs: float, btype: str) -> tuple[Array, Array]:
    """Second-order sections of a Butterworth filter and their steady-state initial conditions for a unit step,
    designed once per (order, cut-off, rate, type): shared between callers, never modified."""
    sos = sps.butter(order, fc, btype=btype, fs=fs, output="sos")
    return sos, sps.sosfilt_zi(sos)


def _filtfilt(sos: Array, zi: Array, x: Array, axis: int) -> Array:
    """Forward-backward filtering with odd extension at both ends (scipy's ``sosfiltfilt`` with its default
    padding), the initial conditions given rather than solved for on every call."""
    x = np.moveaxis(np.asarray(x, float), axis, 0)
    pad = 3 * (2 * len(sos) + 1)
    ext = np.concatenate((2 * x[:1] - x[pad:0:-1], x, 2 * x[-1:] - x[-2 : -pad - 2 : -1]))
    z = zi.reshape(zi.shape + (1,) * (x.ndim - 1))
    y, _ = sps.sosfilt(sos, ext, axis=0, zi=z * ext[:1])
    y, _ = sps.sosfilt(sos, y[::-1], axis=0, zi=z * y[-1:])
    return np.moveaxis(y[::-1][pad:-pad], 0, axis)


def lowpass(x: Array, fs: float, fc: float, order: int = 4, axis: int = 0) -> Array:
    """Zero-phase Butterworth low-pass (forward-backward, so the effective order is 2*order).

    Short inputs that the filter cannot pad are returned unchanged rather than raising: the callers treat
    them as too short for analysis anyway.
    """
    if fc >= 0.45 * fs:
        return np.asarray(x, float)
    sos, zi = _butter(order, fc, fs, "lowpass")
    if x.shape[axis] <= 3 * (2 * len(sos) + 1):
        return np.asarray(x, float)
    return _filtfilt(sos, zi, x, axis)


def lowpass_slow(x: Array, fs: float, fc: float, origin: int = 0) -> Array:
    """Zero-phase low-pass for very low cut-offs (< 1 Hz) on long signals, at a fraction of the cost.

    Block means bring the signal to ~16x the cut-off (a boxcar that also rejects what could alias), the
    Butterworth runs there, and linear interpolation brings it back to every sample. ``origin`` is the index of
    ``x[0]`` on the run's sample grid: blocks are aligned to that grid, so a window of a long run gets the same
    blocks (and, away from its ends, the same result) as the whole run.
    """
    k = int(fs // (16.0 * fc))
    n = x.shape[0]
    if k < 4 or n < 20 * k:
        return lowpass(x, fs, fc)
    s = (-origin) % k  # the first block starts where the run's grid of blocks does
    m = (n - s) // k
    blocks = x[s : s + m * k].reshape((m, k) + x.shape[1:]).mean(axis=1)
    t_blocks = s + np.arange(m) * k + (k - 1) / 2.0
    slow = lowpass(blocks, fs / k, fc)
    t = np.arange(n)
    if slow.ndim == 1:
        return np.interp(t, t_blocks, slow)
    return np.column_stack([np.interp(t, t_blocks, slow[:, j]) for j in range(slow.shape[1])])


def in_chunks(
    f: Callable[[Array], Array], x: Array, fs: float, chunk_s: float = 600.0, margin_s: float = 10.0
) -> Array:
    """``f(x)`` for a zero-phase filter ``f`` (along axis 0) whose response dies out within ``margin_s``,
    computed ``chunk_s`` at a time with that margin either side: the filter's temporaries (several copies of
    its input inside ``sosfiltfilt``) are then a chunk's, not a whole run's. The same as ``f(x)`` to rounding
    (exactly for inputs up to a chunk and its margins)."""
    chunk, margin = max(1, int(chunk_s * fs)), int(margin_s * fs)
    n = len(x)
    if n <= chunk + 2 * margin:
        return f(x)
    out = np.empty(x.shape)
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        r0, r1 = max(0, c0 - margin), min(n, c1 + margin)
        out[c0:c1] = f(x[r0:r1])[c0 - r0 : c1 - r0]
    return out


def highpass(x: Array, fs: float, fc: float, order: int = 2, axis: int = 0) -> Array:
    """Zero-phase Butterworth high-pass."""
    sos, zi = _butter(order, fc, fs, "highpass")
    if x.shape[axis] <= 3 * (2 * len(sos) + 1):
        return np.asarray(x, float) - np.mean(x, axis=axis, keepdims=True)
    return _filtfilt(sos, zi, x, axis)


@dataclass(frozen=True)
class InputParams:
    """How raw samples become uniform, analysable signals (the conditioning before any stage)."""

    min_rate_hz: float = 40.0  # slower inputs are refused: contacts last ~0.1-0.3 s and need a few samples each
    max_fill_s: float = 0.5  # gaps up to this long (s) are bridged by linear interpolation and flagged
    min_segment_s: float = 2.0  # stretches (s) between longer gaps shorter than this are left out
    analysis_rate_hz: float = 50.0  # faster inputs are analysed at about this rate (every quantity lives < 20 Hz)
    uniform_tolerance: float = 0.01  # sample intervals within this fraction of 1/fs are taken as already uniform


@dataclass(frozen=True)
class Span:
    """A stretch of source samples without long gaps, on the uniform clock ``t0 + k / fs`` (k < ``n``).

    The samples are not copied: ``read`` returns any part on the clock (views of the source when it is already
    uniform, else linearly interpolated), so a long run never needs a second full-rate copy.
    """

    t0: float
    fs: float
    n: int
    start: int  # source samples [start, stop)
    stop: int
    uniform: bool

    def read(self, t: Array, acc: Array, gyr: Array | None, k0: int, k1: int) -> tuple[Array, Array | None, Array]:
        """Clock samples k0..k1-1: (acc (k, 3), gyr or None, filled (k,) bool: True where no source sample lies
        within 0.75 sample periods, i.e. the value bridges a gap)."""
        a, b = self.start, self.stop
        if self.uniform:
            acc_u = np.asarray(acc[a + k0 : a + k1], float)
            gyr_u = None if gyr is None else np.asarray(gyr[a + k0 : a + k1], float)
            return acc_u, gyr_u, np.zeros(k1 - k0, bool)
        tu = self.t0 + np.arange(k0, k1) / self.fs
        # the source samples around the requested times (one either side, so neighbours and ends are the same
        # as when the whole span is resampled at once)
        i0 = max(0, int(np.searchsorted(t[a:b], tu[0])) - 1)
        i1 = min(b - a, int(np.searchsorted(t[a:b], tu[-1])) + 1)
        ts = t[a + i0 : a + i1]
        acc_u = _interp_columns(tu, ts, acc[a + i0 : a + i1])
        gyr_u = None if gyr is None else _interp_columns(tu, ts, gyr[a + i0 : a + i1])
        pos = np.searchsorted(ts, tu)
        left = np.abs(tu - ts[np.clip(pos - 1, 0, len(ts) - 1)])
        right = np.abs(ts[np.clip(pos, 0, len(ts) - 1)] - tu)
        return acc_u, gyr_u, np.minimum(left, right) > 0.75 / self.fs


def uniform_spans(t: Array, fs: float, params: InputParams = InputParams()) -> list[Span]:
    """Split the samples at gaps longer than ``params.max_fill_s``; each stretch of at least
    ``params.min_segment_s`` becomes a :class:`Span` on a uniform clock at ``fs`` (shorter gaps are bridged by
    ``Span.read`` and flagged there, so steps touching them are not silently trusted)."""
    t = np.asarray(t, float)
    dt = np.diff(t)
    breaks = np.flatnonzero(dt > params.max_fill_s) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [len(t)]))
    spans: list[Span] = []
    for a, b in zip(starts, stops, strict=True):
        a, b = int(a), int(b)
        if t[b - 1] - t[a] < params.min_segment_s:
            continue
        d = dt[a : b - 1]
        # |dt * fs - 1| < tol for every interval, from the extremes (no full-length temporaries)
        uniform = bool(d.max() * fs - 1.0 < params.uniform_tolerance and d.min() * fs - 1.0 > -params.uniform_tolerance)
        n = b - a if uniform else int(np.floor((t[b - 1] - t[a]) * fs + 1e-6)) + 1
        spans.append(Span(float(t[a]), fs, n, a, b, uniform))
    return spans


@dataclass(frozen=True)
class Segment:
    """One span at the analysis rate ``fs`` (the source rate / ``factor``): t = t0 + k / fs, k = 0..n-1."""

    t0: float
    fs: float
    acc: Array  # (n, 3) m/s^2, sensor frame, anti-alias filtered
    gyr: Array | None  # (n, 3) rad/s, sensor frame
    filled: Array  # (n,) bool, True where a source sample this one stands for was interpolated over a gap
    acc_peak: Array  # (n,) largest |acc| over the source samples each sample stands for (m/s^2)
    span: Span  # where the full-rate samples come from
    factor: int  # source samples per analysis sample

    @property
    def n(self) -> int:
        return len(self.acc)

    def full_rate(self, t: Array, acc: Array, gyr: Array | None, k0: int, k1: int) -> tuple[Array, Array | None]:
        """|acc| (m/s^2) and the gyroscope at the source rate for analysis samples k0..k1-1 (to the span's end
        for the last ones); sample 0 of both lies at analysis sample k0."""
        if self.factor == 1:
            return self.acc_peak[k0:k1], None if self.gyr is None else self.gyr[k0:k1]
        stop = self.span.n if k1 >= self.n else k1 * self.factor
        acc_f, gyr_f, _ = self.span.read(t, acc, gyr, k0 * self.factor, stop)
        return _norm(acc_f), gyr_f


def decimate(
    t: Array, acc: Array, gyr: Array | None, span: Span, factor: int, chunk_s: float = 600.0, margin_s: float = 2.0
) -> Segment:
    """The span at ``span.fs / factor``: zero-phase anti-alias low-pass at 0.4 of the new rate, then every
    ``factor``-th sample; ``acc_peak`` keeps the full-rate peaks.

    Done in chunks of ``chunk_s`` (analysis time) read with ``margin_s`` either side, so only one chunk of
    full-rate samples is ever copied; the filter's response dies out within the margin (its slowest pole
    decays by e^-25 in 0.5 s), so the result equals filtering the whole span at once to rounding.
    """
    fs = span.fs
    if factor == 1:
        acc_u, gyr_u, filled = span.read(t, acc, gyr, 0, span.n)
        return Segment(span.t0, fs, acc_u, gyr_u, filled, _norm(acc_u), span, 1)
    m = span.n // factor
    fc = 0.4 * fs / factor
    out_acc = np.empty((m, 3))
    out_gyr = None if gyr is None else np.empty((m, 3))
    filled = np.empty(m, bool)
    peak = np.empty(m)
    chunk = max(1, int(chunk_s * fs / factor))
    margin = int(np.ceil(margin_s * fs / factor))
    for c0 in range(0, m, chunk):
        c1 = min(m, c0 + chunk)
        r0, r1 = max(0, c0 - margin), min(m, c1 + margin)
        acc_f, gyr_f, filled_f = span.read(t, acc, gyr, r0 * factor, r1 * factor)
        core = slice((c0 - r0) * factor, (c1 - r0) * factor)
        out_acc[c0:c1] = lowpass(acc_f, fs, fc)[core][::factor]
        if out_gyr is not None and gyr_f is not None:
            out_gyr[c0:c1] = lowpass(gyr_f, fs, fc)[core][::factor]
        filled[c0:c1] = filled_f[core].reshape(-1, factor).any(axis=1)
        a = acc_f[core]
        peak[c0:c1] = _norm(a).reshape(-1, factor).max(axis=1)
    return Segment(span.t0, fs / factor, out_acc, out_gyr, filled, peak, span, factor)


def _norm(v: Array) -> Array:
    """Row lengths of v (n, 3), without the (n, 3) temporaries of ``np.linalg.norm``."""
    return np.sqrt(np.einsum("ij,ij->i", v, v))


def nominal_rate(t: Array) -> float:
    """Sample rate from the median interval (robust to gaps and jitter)."""
    dt = np.diff(t)
    dt = dt[dt > 0]
    if len(dt) == 0:
        return float("nan")
    return float(1.0 / np.median(dt))


def _interp_columns(tu: Array, ts: Array, x: Array) -> Array:
    out = np.empty((len(tu), x.shape[1]))
    for j in range(x.shape[1]):
        out[:, j] = np.interp(tu, ts, x[:, j])
    return out


def windows(x: Array, starts: Array, length: int) -> tuple[Array, Array]:
    """Gather fixed-length windows x[starts[i] : starts[i] + length] of a 1-D signal into a 2-D array.

    Returns (values, valid) where ``valid`` marks samples that exist (windows reaching before the start or past
    the end are padded with the first or last value and marked invalid). Used to compute per-step quantities
    without a loop per step; the values are a copy, never a view into ``x``.
    """
    starts = np.asarray(starts, dtype=np.intp)
    n, k = len(x), np.arange(length)
    if len(starts) == 0:
        return np.zeros((0, length), x.dtype), np.zeros((0, length), bool)
    before, after = max(0, -int(starts.min())), max(0, int(starts.max()) + length - n)
    if before or after:
        x = np.concatenate((np.full(before, x[0]), x, np.full(after, x[-1])))
    valid = (k[None, :] >= -starts[:, None]) & (k[None, :] < n - starts[:, None])
    return np.lib.stride_tricks.sliding_window_view(x, length)[starts + before], valid


def sample_between(x: Array, start: Array, stop: Array, k: int) -> Array:
    """x evaluated at k evenly spaced fractional sample positions from ``start`` to ``stop`` (per row).

    Catmull-Rom cubic interpolation: smooth signals sampled at ~50 Hz keep their peaks and integrals, which
    plain sample picking would clip (a 20 ms grid misses a pelvis peak by up to ~0.3 deg).
    """
    pos = start[:, None] + (stop - start)[:, None] * np.linspace(0.0, 1.0, k)[None, :]
    n = len(x)
    i1 = np.clip(np.floor(pos).astype(np.intp), 0, n - 1)
    f = np.clip(pos - i1, 0.0, 1.0)
    p0, p1 = x[np.clip(i1 - 1, 0, n - 1)], x[i1]
    p2, p3 = x[np.clip(i1 + 1, 0, n - 1)], x[np.clip(i1 + 2, 0, n - 1)]
    return p1 + 0.5 * f * (p2 - p0 + f * (2 * p0 - 5 * p1 + 4 * p2 - p3 + f * (3 * (p1 - p2) + p3 - p0)))


def sample_rows(w: Array, start: Array, stop: Array, k: int) -> Array:
    """Like :func:`sample_between`, but row i of ``w`` (a 2-D array of windows) is sampled between its own
    fractional column positions ``start[i]`` and ``stop[i]``."""
    pos = start[:, None] + (stop - start)[:, None] * np.linspace(0.0, 1.0, k)[None, :]
    m = w.shape[1]
    i1 = np.clip(np.floor(pos).astype(np.intp), 0, m - 1)
    f = np.clip(pos - i1, 0.0, 1.0)
    rows = np.arange(len(w))[:, None]
    p0, p1 = w[rows, np.clip(i1 - 1, 0, m - 1)], w[rows, i1]
    p2, p3 = w[rows, np.clip(i1 + 1, 0, m - 1)], w[rows, np.clip(i1 + 2, 0, m - 1)]
    return p1 + 0.5 * f * (p2 - p0 + f * (2 * p0 - 5 * p1 + 4 * p2 - p3 + f * (3 * (p1 - p2) + p3 - p0)))


def neighbour_median(x: Array, size: int) -> Array:
    """Median of each value with its neighbours, ``size`` values centred on it. Near the ends the window is
    completed by mirroring the values inside (the end value itself is not repeated: padding with it would let
    the last few values outvote the rest). NaNs count as the median of all values."""
    from scipy.ndimage import median_filter  # imported on first use: scipy.ndimage is slow to import

    x = np.asarray(x, float)
    ok = np.isfinite(x)
    if not ok.any():
        return np.full(len(x), np.nan)
    size = min(size, 2 * len(x) - 1)
    return median_filter(np.where(ok, x, np.median(x[ok])), size=size, mode="mirror")
