"""Stage: side labelling. Which foot each step stands on, with a confidence.

During single-leg stance the unsupported (swing) side of the pelvis is lower and the stance side swings
backwards (the pelvis turns with the swinging leg). Each step votes with its medio-lateral acceleration and,
with a gyroscope, its obliquity and rotation (``vote_features``, ``side_votes``). Because steps alternate, a
whole chain of regular steps is labelled by the sum of its alternating votes, which is far more reliable than
any single step; each step's confidence combines the chain's margin and its own vote (``label_sides``).

The raw evidence is measured per step (``vote_features``, which can run window by window) and only then
standardised over the whole run and chained, so a long run gets the labels of its whole-run analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.analysis.signal import lowpass_slow

Array = np.ndarray

LEFT, UNKNOWN, RIGHT = -1, 0, 1


@dataclass(frozen=True)
class SideParams:
    """Parameters of the side-labelling stage."""

    highpass_hz: float = 0.3  # evidence is read relative to each signal's slow drift (high-pass, Hz)
    walk_rotation_weight: float = 0.5  # weight of the walking rotation cue (weaker than the lateral one)
    median_steps: int = 9  # the local step time is the running median over this many intervals
    extra_step_ratio: float = 0.6  # a contact sooner than this fraction of the local step time is an extra one
    chain_ratios: tuple[float, float, float] = (1.6, 2.6, 3.5)  # interval / local step time below these counts
    # as 1, 2 or 3 steps (missed steps keep the chain); beyond the last the chain breaks
    disagree_factor: float = 0.7  # confidence kept by a step whose own vote disagrees with its chain's label
    max_walk_window_s: float = 1.5  # a walking step's evidence is read over the step when shorter than this (s)
    default_walk_window_s: float = 0.5  # ... else over this long (s)


@dataclass(frozen=True)
class VoteFeatures:
    """Raw per-step side evidence, before standardisation (each + for a right step unless said).

    ``obliquity``, ``rotation`` and ``turn`` are None without a gyroscope.
    """

    ml: Array  # mean high-passed medio-lateral (rightward) acceleration over the window read (m/s^2)
    obliquity: Array | None  # mean high-passed obliquity over the first half of the window (deg)
    rotation: Array | None  # mean high-passed rotation over the window (deg; + = right side forward)
    turn: Array | None  # rotation change over the first half of the window (deg)


@dataclass(frozen=True)
class SideLabels:
    """Result of the side-labelling stage, per step."""

    side: Array  # +1 right, -1 left, 0 unknown
    confidence: Array  # 0..1, probability-like confidence that the label is right
    vote: Array  # the step's own standardised vote (+ = right)
    chain: Array  # chain id (steps labelled together)


def vote_features(
    start: Array,
    end: Array,
    fs: float,
    obliquity_deg: Array | None,
    rotation_deg: Array | None,
    acc_ml: Array,
    params: SideParams = SideParams(),
    origin: int = 0,
) -> VoteFeatures:
    """Per-step evidence read between sample positions ``start`` and ``end`` (the stance for running steps,
    the whole step for walking steps) of signals at rate ``fs``. ``origin`` is the index of sample 0 on the
    run's clock (see ``lowpass_slow``)."""
    n = len(acc_ml)
    a = np.clip(np.round(start).astype(int), 0, n - 1)
    b = np.clip(np.round(end).astype(int), 0, n - 1)
    b = np.maximum(b, a + 1)
    first_half = a + np.maximum((b - a) // 2, 1)

    def window_mean(x: Array, stop: Array = b) -> Array:
        hp = x - lowpass_slow(x, fs, params.highpass_hz, origin)
        c = np.concatenate(([0.0], np.cumsum(hp)))
        return (c[np.minimum(stop, n)] - c[a]) / (stop - a)

    ml = window_mean(acc_ml)
    if obliquity_deg is None or rotation_deg is None:
        return VoteFeatures(ml, None, None, None)
    turn = rotation_deg[np.minimum(first_half, n - 1)] - rotation_deg[a]
    return VoteFeatures(ml, window_mean(obliquity_deg, first_half), window_mean(rotation_deg), turn)


def side_votes(features: VoteFeatures, running: Array, params: SideParams = SideParams()) -> Array:
    """Per-step vote for "right foot" (positive), standardised within running and within walking steps.

    * running: the sacrum accelerates towards the stance side (it sits above the hips and the pelvis rolls
      over the stance hip); with a gyroscope also the stance side of the pelvis is higher in the first half
      of stance and turned backwards over the stance (treadmill motion capture, RBDS);
    * walking: over the step the lower trunk accelerates towards the other side (the body vaults over a foot
      placed lateral to it), and, a weaker cue, the stance side of the pelvis is still turning forwards
      through the first half of the step (its forward rotation peaks after initial contact; Mobilise-D data).
    """
    votes = np.zeros(len(features.ml))
    walking = ~running
    f = features
    if running.any():
        v = _standardise(f.ml[running])
        if f.obliquity is not None and f.rotation is not None:
            v = v + _standardise(f.obliquity[running]) - _standardise(f.rotation[running])
        votes[running] = v
    if walking.any():
        v = -_standardise(f.ml[walking])
        if f.turn is not None:
            v = v + params.walk_rotation_weight * _standardise(f.turn[walking])
        votes[walking] = v
    return votes


def _standardise(v: Array) -> Array:
    scale = np.median(np.abs(v - np.median(v))) * 1.4826
    return v / scale if scale > 0 else np.zeros_like(v)


def label_sides(
    ic_s: Array, votes: Array, bout_id: Array, params: SideParams = SideParams(), odd: Array | None = None
) -> SideLabels:
    """Chain steps (allowing slow and missed steps), label each chain by its alternating vote sum.

    A contact that follows the previous one after less than ``extra_step_ratio`` of the local step time is
    taken as a spurious extra (a stumble, a shuffle, a double detection): it is labelled unknown and the chain
    runs past it, so it cannot shift the alternation of the steps after it. A stance marked ``odd`` (the
    pipeline marks one unlike its neighbours next to a bridged gap: possibly two stances the bridge merged) is
    also left out of the chain, then labelled from it where it lies a whole number of steps after the chained
    step before it (else unknown).
    """
    n = len(ic_s)
    extra = np.zeros(n, bool)
    if n > 2:
        dt = np.diff(ic_s)
        med = _running_median(dt, params.median_steps)
        extra[1:] = (dt < params.extra_step_ratio * med) & (bout_id[1:] == bout_id[:-1])
    skip = extra if odd is None else extra | np.asarray(odd, bool)
    if not skip.any() or skip.all():
        return _label_chains(ic_s, votes, bout_id, params)
    kept = _label_chains(ic_s[~skip], votes[~skip], bout_id[~skip], params)
    side, conf, chain = np.zeros(n, int), np.zeros(n), np.full(n, -1)
    side[~skip], conf[~skip], chain[~skip] = kept.side, kept.confidence, kept.chain
    _place_by_parity(ic_s, bout_id, skip & ~extra, ~skip, side, conf, chain, params)
    return SideLabels(side, conf, votes, chain)


def _place_by_parity(
    ic_s: Array, bout_id: Array, place: Array, kept: Array, side: Array, conf: Array, chain: Array, p: SideParams
) -> None:
    """Label the ``place`` steps (in place) from the kept step before them in the same bout: a whole number of
    local step times after it (within a quarter step) alternates its label; otherwise they stay unknown."""
    where = np.flatnonzero(place)
    k_idx = np.flatnonzero(kept)
    if not len(where) or len(k_idx) < 2:
        return
    j = np.searchsorted(k_idx, where) - 1  # the kept step before each one to place
    ok = j >= 0
    where, prev = where[ok], k_idx[j[ok]]
    step = _running_median(np.diff(ic_s[k_idx]), p.median_steps)
    local = step[np.clip(j[ok], 0, len(step) - 1)]
    r = (ic_s[where] - ic_s[prev]) / local
    whole = np.round(r)
    fits = (np.abs(r - whole) <= 0.25) & (whole >= 1) & (bout_id[where] == bout_id[prev]) & (side[prev] != 0)
    where, prev, whole = where[fits], prev[fits], whole[fits].astype(int)
    side[where] = side[prev] * np.where(whole % 2 == 0, 1, -1)
    conf[where] = conf[prev] * p.disagree_factor
    chain[where] = chain[prev]


def _label_chains(ic_s: Array, votes: Array, bout_id: Array, params: SideParams) -> SideLabels:
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
    med = _running_median(dt, params.median_steps) if len(dt) else dt
    ratio = dt / np.where(med > 0, med, np.nan)
    k = np.digitize(ratio, [params.extra_step_ratio, *params.chain_ratios])  # 0: extra, 1-3 steps, 4: too long
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
        conf[a:b] = chain_conf * np.where(agree, 1.0, params.disagree_factor)
    return SideLabels(side, conf, votes, chain)


def _running_median(x: Array, k: int) -> Array:
    from scipy.ndimage import median_filter  # imported on first use: scipy.ndimage is slow to import

    return median_filter(x, size=min(k, len(x)), mode="nearest")
