"""Stage: activity bouts. Running vs walking vs standing, from the vertical specific force alone (so it works
before alignment).

Running is the gait with a flight phase: twice per stride the body is in free fall and the sensor feels ~0 g
vertically. Walking always has a foot on the ground (vertical force never far below 1 g). Standing is quiet.
Windows (2.5 s, hop 1 s by default) are labelled from: vertical variability, the fraction of time near free
fall, and the step period from the autocorrelation; labels are smoothed and short bouts dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gait.analysis.signal import in_chunks, lowpass

Array = np.ndarray

STILL, OTHER, WALK, RUN = 0, 1, 2, 3
ACTIVITY_NAMES = {STILL: "still", OTHER: "other", WALK: "walk", RUN: "run"}


@dataclass(frozen=True)
class ActivityParams:
    """Parameters of the activity stage (``activity_bouts``)."""

    window_s: float = 2.5  # length of each labelled window (s): a few steps
    hop_s: float = 1.0  # window spacing (s)
    feature_rate_hz: float = 40.0  # features are computed at about this rate (keeps 60-150 ms flight dips)
    feature_cutoff_hz: float = 15.0  # low-pass before the features (Hz)
    free_fall_g: float = 0.3  # below this vertical specific force (g) the body is (nearly) in flight
    min_flight_fraction: float = 0.08  # running spends ~20-45 % of the time in flight, walking none
    still_std_g: float = 0.025  # quieter windows (std of the vertical force, g) are standing still
    walk_min_std_g: float = 0.05  # walking moves the trunk at least this much (g, std)
    period_search_s: tuple[float, float] = (0.22, 1.0)  # step periods looked for in the autocorrelation (s)
    min_periodicity: float = 0.25  # autocorrelation a step period needs to count
    step_peak_fraction: float = 0.7  # the step is the first lag within this fraction of the best peak (not 2x)
    run_period_s: tuple[float, float] = (0.22, 0.55)  # running step periods, 109-273 steps/min
    walk_period_s: tuple[float, float] = (0.33, 1.0)  # walking step periods, 60-180 steps/min
    smoothing_windows: int = 5  # majority vote over this many consecutive windows (odd)
    min_run_s: float = 3.0  # shorter running bouts become "other"
    min_walk_s: float = 3.0  # shorter walking bouts become "other"
    min_still_s: float = 1.0  # shorter still bouts become "other"

    def min_bout_s(self, activity: int) -> float:
        return {RUN: self.min_run_s, WALK: self.min_walk_s, STILL: self.min_still_s}.get(activity, 0.0)


@dataclass(frozen=True)
class Bout:
    activity: int
    start: int  # sample index (inclusive)
    stop: int  # sample index (exclusive)

    @property
    def name(self) -> str:
        return ACTIVITY_NAMES[self.activity]


@dataclass(frozen=True)
class Activity:
    """Result of the activity stage: a label per sample and the bouts they form, at rate ``fs``."""

    labels: Array  # (n,) int8: STILL / OTHER / WALK / RUN
    bouts: tuple[Bout, ...]
    fs: float

    def seconds(self) -> dict[str, float]:
        """Time spent in each activity (s), by name."""
        return {name: float((self.labels == k).sum() / self.fs) for k, name in ACTIVITY_NAMES.items()}


def activity_bouts(vert_g: Array, fs: float, params: ActivityParams = ActivityParams()) -> Activity:
    """Label every sample of the vertical specific force ``vert_g`` (g, rate ``fs``) and group the labels
    into bouts."""
    labels = classify(vert_g, fs, params)
    return Activity(labels, tuple(bouts_from_labels(labels, fs, params)), fs)


def window_features(
    vert_g: Array, fs: float, params: ActivityParams = ActivityParams()
) -> tuple[Array, Array, Array, Array]:
    """Per-window (centre index, std in g, free-fall fraction, step period in s or NaN)."""
    k = max(1, int(fs // params.feature_rate_hz))
    fc = min(params.feature_cutoff_hz, 0.4 * fs / k)
    x = in_chunks(lambda v: lowpass(v, fs, fc), vert_g, fs)[::k]
    fs_w = fs / k
    win = round(params.window_s * fs_w)
    hop = max(1, round(params.hop_s * fs_w))
    if len(x) < win:
        return (np.zeros(0, int),) + (np.zeros(0),) * 3
    w = sliding_window_view(x, win)[::hop]
    centres = (np.arange(len(w)) * hop + win // 2) * k
    # a batch of windows at a time: the whole run's windows at once would need ~50 MiB per hour
    parts = [_features(w[i : i + 512], fs_w, params) for i in range(0, len(w), 512)]
    std, flight, period = (np.concatenate(f) for f in zip(*parts, strict=True))
    return centres, std, flight, period


def _features(w: Array, fs_w: float, params: ActivityParams) -> tuple[Array, Array, Array]:
    """(std in g, free-fall fraction, step period in s or NaN) of each row of ``w`` (windows at ``fs_w``)."""
    win = w.shape[1]
    z = w - w.mean(axis=1, keepdims=True)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    spec = np.fft.rfft(z, nfft, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), nfft, axis=1)[:, :win]
    ac /= np.where(ac[:, :1] > 0, ac[:, :1], 1.0)
    lo, hi = int(params.period_search_s[0] * fs_w), int(params.period_search_s[1] * fs_w)
    seg = ac[:, lo:hi]
    # the step is the first lag whose correlation is near the best peak (not the stride at twice the lag)
    is_peak = np.zeros_like(seg, bool)
    is_peak[:, 1:-1] = (seg[:, 1:-1] > seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    best = np.where(is_peak, seg, -np.inf).max(axis=1)
    strong = is_peak & (seg >= params.step_peak_fraction * best[:, None]) & (seg > params.min_periodicity)
    period = np.where(strong.any(axis=1), (np.argmax(strong, axis=1) + lo) / fs_w, np.nan)
    return w.std(axis=1), (w < params.free_fall_g).mean(axis=1), period


def classify(vert_g: Array, fs: float, params: ActivityParams = ActivityParams()) -> Array:
    """Activity code per sample (STILL / OTHER / WALK / RUN)."""
    n = len(vert_g)
    centres, std, flight, period = window_features(vert_g, fs, params)
    if len(centres) == 0:
        return np.full(n, OTHER, dtype=np.int8)
    lab = np.full(len(centres), OTHER, dtype=np.int8)
    periodic = np.isfinite(period)
    flighty = flight >= params.min_flight_fraction
    run = periodic & flighty & _within(period, params.run_period_s)
    walk = periodic & ~run & ~flighty & (std > params.walk_min_std_g) & _within(period, params.walk_period_s)
    lab[run] = RUN
    lab[walk] = WALK
    lab[std < params.still_std_g] = STILL
    lab = _mode_filter(lab, params.smoothing_windows)
    # each sample takes the label of the nearest window centre (a tie goes to the later one): the label
    # changes at the first sample at or past each midpoint between centres
    change = np.clip((centres[:-1] + centres[1:] + 1) // 2, 0, n)
    return np.repeat(lab, np.diff(np.concatenate(([0], change, [n]))))


def _within(x: Array, bounds: tuple[float, float]) -> Array:
    return (x >= bounds[0]) & (x <= bounds[1])


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


def bouts_from_labels(labels: Array, fs: float, params: ActivityParams = ActivityParams()) -> list[Bout]:
    """Contiguous runs of one activity; runs shorter than their minimum duration become OTHER."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [len(labels)]))
    out: list[Bout] = []
    for a, b in zip(starts, stops, strict=True):
        act = int(labels[a])
        if (b - a) / fs < params.min_bout_s(act):
            act = OTHER
        if out and out[-1].activity == act:
            out[-1] = Bout(act, out[-1].start, int(b))
        else:
            out.append(Bout(act, int(a), int(b)))
    return out
