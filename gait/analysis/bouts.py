"""Running vs walking vs standing, from the vertical specific force alone (so it works before alignment).

Running is the gait with a flight phase: twice per stride the body is in free fall and the sensor feels ~0 g
vertically. Walking always has a foot on the ground (vertical force never far below 1 g). Standing is quiet.
Windows of 2.5 s (hop 0.5 s) are labelled from: vertical variability, the fraction of time near free fall,
and the step period from the autocorrelation; labels are smoothed and short bouts dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gait.analysis.signal import lowpass

Array = np.ndarray

STILL, OTHER, WALK, RUN = 0, 1, 2, 3
ACTIVITY_NAMES = {STILL: "still", OTHER: "other", WALK: "walk", RUN: "run"}

WINDOW_S = 2.5
HOP_S = 1.0
FREE_FALL_G = 0.3  # below this vertical specific force the body is (nearly) in flight
MIN_FLIGHT_FRACTION = 0.08  # running spends ~20-45 % of the time in flight; walking none
STILL_STD_G = 0.025
RUN_PERIOD_S = (0.22, 0.55)  # 109-273 steps/min
WALK_PERIOD_S = (0.33, 1.0)  # 60-180 steps/min
MIN_BOUT_S = {RUN: 3.0, WALK: 3.0, STILL: 1.0}


@dataclass(frozen=True)
class Bout:
    activity: int
    start: int  # sample index (inclusive)
    stop: int  # sample index (exclusive)

    @property
    def name(self) -> str:
        return ACTIVITY_NAMES[self.activity]


def window_features(vert_g: Array, fs: float) -> tuple[Array, Array, Array, Array]:
    """Per-window (centre index, std in g, free-fall fraction, step period in s or NaN)."""
    # activity is coarse: work at ~40 Hz, keeping the flight dips (they last 60-150 ms)
    k = max(1, int(fs // 40.0))
    x = lowpass(vert_g, fs, min(15.0, 0.4 * fs / k))[::k]
    fs_w = fs / k
    win = round(WINDOW_S * fs_w)
    hop = max(1, round(HOP_S * fs_w))
    if len(x) < win:
        return (np.zeros(0, int),) + (np.zeros(0),) * 3
    w = sliding_window_view(x, win)[::hop]
    centres = (np.arange(len(w)) * hop + win // 2) * k
    std = w.std(axis=1)
    flight = (w < FREE_FALL_G).mean(axis=1)
    # autocorrelation of every window at once
    z = w - w.mean(axis=1, keepdims=True)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    spec = np.fft.rfft(z, nfft, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), nfft, axis=1)[:, :win]
    ac /= np.where(ac[:, :1] > 0, ac[:, :1], 1.0)
    lo, hi = int(0.22 * fs_w), int(1.0 * fs_w)
    seg = ac[:, lo:hi]
    # the step is the first lag whose correlation is within 70 % of the best peak (not the stride at 2x)
    is_peak = np.zeros_like(seg, bool)
    is_peak[:, 1:-1] = (seg[:, 1:-1] > seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    peak_vals = np.where(is_peak, seg, -np.inf)
    best = peak_vals.max(axis=1)
    strong = is_peak & (seg >= 0.7 * best[:, None]) & (seg > 0.25)
    has = strong.any(axis=1)
    first = np.argmax(strong, axis=1)
    period = np.where(has, (first + lo) / fs_w, np.nan)
    return centres, std, flight, period


def classify(vert_g: Array, fs: float) -> Array:
    """Activity code per sample (STILL / OTHER / WALK / RUN)."""
    n = len(vert_g)
    centres, std, flight, period = window_features(vert_g, fs)
    if len(centres) == 0:
        return np.full(n, OTHER, dtype=np.int8)
    lab = np.full(len(centres), OTHER, dtype=np.int8)
    periodic = np.isfinite(period)
    run = periodic & (flight >= MIN_FLIGHT_FRACTION) & (period >= RUN_PERIOD_S[0]) & (period <= RUN_PERIOD_S[1])
    walk = (
        periodic
        & ~run
        & (flight < MIN_FLIGHT_FRACTION)
        & (std > 0.05)
        & (period >= WALK_PERIOD_S[0])
        & (period <= WALK_PERIOD_S[1])
    )
    lab[run] = RUN
    lab[walk] = WALK
    lab[std < STILL_STD_G] = STILL
    lab = _mode_filter(lab, 5)
    # each sample takes the label of the nearest window centre
    idx = np.clip(np.searchsorted(centres, np.arange(n)), 0, len(centres) - 1)
    prev = np.clip(idx - 1, 0, len(centres) - 1)
    nearer_prev = np.abs(np.arange(n) - centres[prev]) < np.abs(centres[idx] - np.arange(n))
    return lab[np.where(nearer_prev, prev, idx)]


def _mode_filter(lab: Array, k: int) -> Array:
    """Majority vote over k consecutive windows (k odd); ties keep the original label."""
    if len(lab) < k:
        return lab
    pad = np.pad(lab, k // 2, mode="edge")
    w = sliding_window_view(pad, k)
    counts = np.stack([(w == c).sum(axis=1) for c in (STILL, OTHER, WALK, RUN)], axis=1)
    best = counts.argmax(axis=1).astype(np.int8)
    keep = counts.max(axis=1) <= k // 2
    return np.where(keep, lab, best)


def bouts_from_labels(labels: Array, fs: float) -> list[Bout]:
    """Contiguous runs of one activity; runs shorter than their minimum duration become OTHER."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [len(labels)]))
    out: list[Bout] = []
    for a, b in zip(starts, stops, strict=True):
        act = int(labels[a])
        if (b - a) / fs < MIN_BOUT_S.get(act, 0.0):
            act = OTHER
        if out and out[-1].activity == act:
            out[-1] = Bout(act, out[-1].start, int(b))
        else:
            out.append(Bout(act, int(a), int(b)))
    return out
