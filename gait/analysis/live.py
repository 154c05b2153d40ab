"""Live analysis: the last seconds of a stream in a ring buffer, and quick estimates from them.

``cadence_spm`` reads the step period from the autocorrelation of the acceleration magnitude over the last
10 s (no events needed, works with any mounting); ``snapshot`` runs the full pipeline on the window and returns
its ``RunRecord`` (the numbers a live view shows: contact time, pelvic drop per side, braking, ...).
"""

from __future__ import annotations

import math

import numpy as np

from gait.analysis.summary import RunRecord
from gait.errors import GaitError

CADENCE_WINDOW_S = 10.0
MIN_SPM, MAX_SPM = 120.0, 230.0  # running
MIN_PEAK = 0.3  # autocorrelation needed to call it a cadence


class LiveWindow:
    """A ring buffer of the most recent ``seconds`` of IMU samples (preallocated; no copying per block)."""

    def __init__(self, seconds: float = 30.0, rate_hz: float = 104.0) -> None:
        self.capacity = int(seconds * rate_hz * 1.5) + 16
        self.t = np.full(self.capacity, np.nan)
        self.acc = np.zeros((self.capacity, 3))
        self.gyr = np.zeros((self.capacity, 3))
        self.has_gyro = True
        self.n_total = 0

    def append(self, t: np.ndarray, values: np.ndarray) -> None:
        n = len(t)
        if n == 0:
            return
        if n > self.capacity:
            t, values, n = t[-self.capacity :], values[-self.capacity :], self.capacity
        idx = (self.n_total + np.arange(n)) % self.capacity
        self.t[idx] = t
        self.acc[idx] = values[:, 0:3]
        if values.shape[1] >= 6:
            self.gyr[idx] = values[:, 3:6]
        else:
            self.has_gyro = False
        self.n_total += n

    def last(self, seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of the last ``seconds`` in time order: (t, acc, gyr)."""
        n = min(self.n_total, self.capacity)
        if n == 0:
            return np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
        idx = (self.n_total - n + np.arange(n)) % self.capacity
        t = self.t[idx]
        keep = t >= t[-1] - seconds
        return t[keep], self.acc[idx][keep], self.gyr[idx][keep]


def cadence_spm(t: np.ndarray, acc: np.ndarray) -> float | None:
    """Steps per minute from the autocorrelation of |acc|, or None when the window shows no steady running."""
    if len(t) < 32 or t[-1] - t[0] < 4.0:
        return None
    dt = float(np.median(np.diff(t)))
    if not math.isfinite(dt) or dt <= 0:
        return None
    x = np.linalg.norm(acc, axis=1)
    x = x - x.mean()
    if not np.any(x):
        return None
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac /= ac[0]
    lo, hi = int(60.0 / MAX_SPM / dt), math.ceil(60.0 / MIN_SPM / dt) + 1
    if hi >= n - 1 or lo < 1:
        return None
    k = lo + int(np.argmax(ac[lo:hi]))
    if ac[k] < MIN_PEAK:
        return None
    # parabolic refinement of the peak
    a, b, c = ac[k - 1], ac[k], ac[k + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return 60.0 / ((k + shift) * dt)


class LiveAnalyzer:
    """Keeps the recent window of the analysed IMU stream and answers the live view's questions."""

    def __init__(self, window_s: float = 30.0, rate_hz: float = 104.0) -> None:
        self.window = LiveWindow(window_s, rate_hz)
        self.window_s = window_s

    def append(self, t: np.ndarray, values: np.ndarray) -> None:
        self.window.append(t, values)

    def cadence_spm(self) -> float | None:
        t, acc, _ = self.window.last(CADENCE_WINDOW_S)
        return cadence_spm(t, acc)

    def snapshot(self) -> RunRecord | None:
        """Full analysis of the window as a ``RunRecord`` (cadence, contact time, pelvic drop per side, braking,
        ...); ``None`` before there is enough of it or when it cannot be analysed."""
        from gait.analysis.pipeline import analyze
        from gait.recording.model import Recording

        t, acc, gyr = self.window.last(self.window_s)
        if len(t) < 100:
            return None
        try:
            return analyze(Recording.from_arrays(t - t[0], acc, gyr if self.window.has_gyro else None)).record
        except GaitError:
            return None
