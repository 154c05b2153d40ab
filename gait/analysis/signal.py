"""Signal conditioning: zero-phase filters, resampling to a uniform clock, gap segmentation, step windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

Array = np.ndarray


def decimate_for(x: Array, fs: float, target_hz: float) -> tuple[Array, float]:
    """A cheap low-rate copy for coarse, global estimates (activity, step period, mounting)."""
    k = max(1, int(fs // target_hz))
    if k == 1:
        return np.asarray(x, float), fs
    return lowpass(x, fs, 0.4 * fs / k)[::k], fs / k


def lowpass(x: Array, fs: float, fc: float, order: int = 4, axis: int = 0) -> Array:
    """Zero-phase Butterworth low-pass (forward-backward, so the effective order is 2*order).

    Short inputs that the filter cannot pad are returned unchanged rather than raising: the callers treat
    them as too short for analysis anyway.
    """
    if fc >= 0.45 * fs:
        return np.asarray(x, float)
    sos = sps.butter(order, fc, fs=fs, output="sos")
    padlen = 3 * (2 * len(sos) + 1)
    if x.shape[axis] <= padlen:
        return np.asarray(x, float)
    return sps.sosfiltfilt(sos, x, axis=axis)


def lowpass_slow(x: Array, fs: float, fc: float) -> Array:
    """Zero-phase low-pass for very low cut-offs (< 1 Hz) on long signals, at a fraction of the cost.

    Block means bring the signal to ~16x the cut-off (a boxcar that also rejects what could alias), the
    Butterworth runs there, and linear interpolation brings it back to every sample.
    """
    k = int(fs // (16.0 * fc))
    n = x.shape[0]
    if k < 4 or n < 20 * k:
        return lowpass(x, fs, fc)
    m = n // k
    blocks = x[: m * k].reshape((m, k) + x.shape[1:]).mean(axis=1)
    t_blocks = np.arange(m) * k + (k - 1) / 2.0
    slow = lowpass(blocks, fs / k, fc)
    t = np.arange(n)
    if slow.ndim == 1:
        return np.interp(t, t_blocks, slow)
    return np.column_stack([np.interp(t, t_blocks, slow[:, j]) for j in range(slow.shape[1])])


def highpass(x: Array, fs: float, fc: float, order: int = 2, axis: int = 0) -> Array:
    """Zero-phase Butterworth high-pass."""
    sos = sps.butter(order, fc, btype="highpass", fs=fs, output="sos")
    padlen = 3 * (2 * len(sos) + 1)
    if x.shape[axis] <= padlen:
        return np.asarray(x, float) - np.mean(x, axis=axis, keepdims=True)
    return sps.sosfiltfilt(sos, x, axis=axis)


@dataclass(frozen=True)
class Segment:
    """A stretch of contiguous samples on a uniform clock: t = t0 + k / fs, k = 0..n-1."""

    t0: float
    fs: float
    acc: Array  # (n, 3) m/s^2, sensor frame
    gyr: Array | None  # (n, 3) rad/s, sensor frame
    filled: Array  # (n,) bool, True where the sample was interpolated over a short gap
    acc_peak: Array  # (n,) largest |acc| over the original samples each sample stands for (m/s^2)
    full_gyr: Array | None = None  # the gyroscope before decimation (kept for stance-level angle changes)
    full_acc_norm: Array | None = None  # |acc| before decimation (kept for heel-strike transients)
    full_fs: float = 0.0
    full_t0: float = 0.0

    def decimated(self, factor: int) -> Segment:
        """The segment at fs / factor: zero-phase anti-alias low-pass at 0.4 of the new rate, then every
        ``factor``-th sample. ``acc_peak`` keeps the full-rate peaks and the full-rate gyroscope is kept
        for stance-level angles."""
        n = self.n // factor * factor
        fc = 0.4 * self.fs / factor
        acc = lowpass(self.acc[:n], self.fs, fc)[::factor].copy()  # copy: let the full-rate result go
        gyr = None if self.gyr is None else lowpass(self.gyr[:n], self.fs, fc)[::factor].copy()
        filled = self.filled[:n].reshape(-1, factor).any(axis=1)
        peak = self.acc_peak[:n].reshape(-1, factor).max(axis=1)
        return Segment(self.t0, self.fs / factor, acc, gyr, filled, peak, self.gyr, self.acc_peak, self.fs, self.t0)

    @property
    def n(self) -> int:
        return len(self.acc)

    @property
    def t(self) -> Array:
        return self.t0 + np.arange(self.n) / self.fs

    @property
    def duration_s(self) -> float:
        return self.n / self.fs


def nominal_rate(t: Array) -> float:
    """Sample rate from the median interval (robust to gaps and jitter)."""
    dt = np.diff(t)
    dt = dt[dt > 0]
    if len(dt) == 0:
        return float("nan")
    return float(1.0 / np.median(dt))


def uniform_segments(
    t: Array,
    acc: Array,
    gyr: Array | None,
    fs: float,
    max_fill_s: float = 0.5,
    min_len_s: float = 2.0,
) -> list[Segment]:
    """Resample irregular samples onto uniform clocks, bridging short gaps and splitting at long ones.

    Gaps up to ``max_fill_s`` are linearly interpolated and marked in ``filled`` so that steps touching them
    are flagged rather than silently trusted; longer gaps split the data into separate segments.
    """
    t = np.asarray(t, float)
    dt = np.diff(t)
    breaks = np.flatnonzero(dt > max_fill_s) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [len(t)]))
    segments: list[Segment] = []
    for a, b in zip(starts, stops, strict=True):
        if t[b - 1] - t[a] < min_len_s:
            continue
        ts = t[a:b]
        if np.all(np.abs(np.diff(ts) * fs - 1.0) < 0.01):  # already uniform: no resampling needed
            acc_u = np.asarray(acc[a:b], float)
            gyr_u = None if gyr is None else np.asarray(gyr[a:b], float)
            segments.append(
                Segment(
                    float(ts[0]),
                    fs,
                    acc_u,
                    gyr_u,
                    np.zeros(b - a, bool),
                    np.sqrt((acc_u * acc_u).sum(axis=1)),
                )
            )
            continue
        n = int(np.floor((ts[-1] - ts[0]) * fs + 1e-6)) + 1
        tu = ts[0] + np.arange(n) / fs
        acc_u = _interp_columns(tu, ts, acc[a:b])
        gyr_u = None if gyr is None else _interp_columns(tu, ts, gyr[a:b])
        # a uniform sample is "filled" when no real sample lies within 0.75 sample periods of it
        pos = np.searchsorted(ts, tu)
        left = np.abs(tu - ts[np.clip(pos - 1, 0, len(ts) - 1)])
        right = np.abs(ts[np.clip(pos, 0, len(ts) - 1)] - tu)
        filled = np.minimum(left, right) > 0.75 / fs
        segments.append(
            Segment(
                t0=float(ts[0]),
                fs=fs,
                acc=acc_u,
                gyr=gyr_u,
                filled=filled,
                acc_peak=np.sqrt((acc_u * acc_u).sum(axis=1)),
            )
        )
    return segments


def _interp_columns(tu: Array, ts: Array, x: Array) -> Array:
    out = np.empty((len(tu), x.shape[1]))
    for j in range(x.shape[1]):
        out[:, j] = np.interp(tu, ts, x[:, j])
    return out


def windows(x: Array, starts: Array, length: int) -> tuple[Array, Array]:
    """Gather fixed-length windows x[starts[i] : starts[i] + length] into a 2-D array.

    Returns (values, valid) where ``valid`` marks samples that exist (windows running past the end are padded
    with the last value and marked invalid). Used to compute per-step quantities without a loop per step.
    """
    idx = np.asarray(starts)[:, None] + np.arange(length)[None, :]
    valid = (idx >= 0) & (idx < len(x))
    return x[np.clip(idx, 0, len(x) - 1)], valid


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


def crossing_time(t0: Array, y0: Array, t1: Array, y1: Array, level: Array) -> Array:
    """Linear interpolation of the time where a signal passes ``level`` between two samples."""
    denom = np.where(y1 != y0, y1 - y0, 1.0)
    frac = np.clip((level - y0) / denom, 0.0, 1.0)
    return t0 + frac * (t1 - t0)
