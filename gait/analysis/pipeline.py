"""``analyze(recording) -> RunAnalysis``: the whole single-sensor pipeline, the same for files and replays.

1. Resample onto uniform clocks; bridge gaps up to 0.5 s (flagged), split at longer ones.
2. Classify running / walking / still from the vertical signal; align the sensor to the body.
3. Orientation (with a gyroscope): pelvis angles and level, heading-aligned accelerations.
4. Running stances from the vertical force hump; fit the sensor's lever arm from flight phases and remove
   the pelvis-rotation acceleration; detect again. Walking contacts in walking bouts.
5. Left/right labels per chain of regular steps; per-step metrics; confidence; summary.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gait.analysis import bouts as act
from gait.analysis.align import Mounting, estimate_mounting
from gait.analysis.events import (
    LEFT,
    RIGHT,
    Contacts,
    label_sides,
    running_contacts,
    side_votes,
    walking_contacts,
)
from gait.analysis.gravity import analyze_linear, is_linear
from gait.analysis.metrics import (
    STEP_COLUMNS,
    braking,
    empty_steps,
    impact,
    pelvis_step_angles,
    vertical_oscillation,
)
from gait.analysis.orientation import LeverArm, body_kinematics, compensate, fit_lever_arm
from gait.analysis.placement import restrict as restrict_to_placement
from gait.analysis.result import Quality, RunAnalysis
from gait.analysis.screen import check_grid, screen_samples
from gait.analysis.signal import Segment, lowpass, nominal_rate, uniform_segments
from gait.analysis.summary import summarise
from gait.constants import G0
from gait.errors import AnalysisError
from gait.recording.model import Recording

Array = np.ndarray

MIN_RATE_HZ = 40.0
FLIGHT_LEVEL_G = 0.35  # vertical specific force below which the body is taken to be in flight
ANALYSIS_RATE_HZ = 50.0  # faster inputs are decimated to about this (impact peaks are kept from full rate)
FLIGHT_MARGIN_S = 0.02


@dataclass(frozen=True)
class SegmentResult:
    steps: pd.DataFrame
    activity_s: dict[str, float]
    bouts: list[tuple[str, float, float]]
    lever_arm: LeverArm | None
    forward_vote: float = 0.0  # correlation x samples; positive means forward is reversed
    forward_weight: float = 0.0


def analyze(recording: Recording) -> RunAnalysis:
    """Analyse a recording (any mounting; gyroscope optional) into per-step metrics and a run summary."""
    if is_linear(recording):  # gravity removed by the phone: vertical estimated, timing only (gravity.py)
        return analyze_linear(recording, analyze)
    imu = recording.imu
    where = str(recording.path) if recording.path is not None else recording.name
    if imu.n < 10:
        raise AnalysisError(f"{where}: only {imu.n} samples; too short to analyse")
    _check_time(where, imu.t)
    fs = nominal_rate(imu.t)
    if not np.isfinite(fs) or fs < MIN_RATE_HZ:
        raise AnalysisError(f"{where}: sample rate {fs:.3g} Hz is too low (need at least {MIN_RATE_HZ:.0f} Hz)")
    screened = screen_samples(where, imu)  # NaN, absurd values, a stopped gyroscope: left out and counted
    imu = screened.imu
    recording = dataclasses.replace(recording, imu=imu)  # the holes left are gaps, flagged as such
    _check_units(where, imu.acc, imu.gyr)
    check_grid(where, imu.t, fs)  # the uniform clock stays within a few points per real sample
    segments = uniform_segments(imu.t, imu.acc, imu.gyr, fs)
    if not segments:
        raise AnalysisError(f"{where}: no stretch of at least 2 s without gaps; too short to analyse")
    factor = max(1, int(fs // ANALYSIS_RATE_HZ))
    if factor > 1:
        segments = [s.decimated(factor) for s in segments]
    fs_in, fs = fs, fs / factor

    # activity from the vertical axis (gravity direction), then the full mounting from moving samples
    all_acc = np.concatenate([s.acc for s in segments])
    up0 = all_acc.mean(axis=0)
    up0 /= np.linalg.norm(up0)
    labels = [act.classify(s.acc @ up0 / G0, fs) for s in segments]
    lab_all = np.concatenate(labels)
    mounting = estimate_mounting(all_acc, fs, lab_all == act.RUN, lab_all == act.WALK)

    results = [_analyze_segment(s, lab, mounting, fs) for s, lab in zip(segments, labels, strict=True)]
    # With a gyroscope, the rotation-compensated forward acceleration is the body's own: in running it must
    # brake while the vertical force rises. That settles the forward sign better than the raw signal can.
    vote = sum(r.forward_vote for r in results)
    weight = sum(r.forward_weight for r in results)
    if weight > 0:
        margin = abs(vote) / weight
        if vote > 0:
            mounting = mounting.flipped()
            results = [_analyze_segment(s, lab, mounting, fs) for s, lab in zip(segments, labels, strict=True)]
        mounting = dataclasses.replace(mounting, forward_sign_margin=margin)
    parts, offset = [], 0
    for r in results:
        if len(r.steps):
            parts.append(r.steps.assign(bout=r.steps["bout"] + offset))
        offset += len(r.bouts)
    steps = pd.concat(parts, ignore_index=True) if parts else empty_steps()
    activity_s: dict[str, float] = {}
    for r in results:
        for k, v in r.activity_s.items():
            activity_s[k] = activity_s.get(k, 0.0) + v
    bouts = pd.DataFrame([b for r in results for b in r.bouts], columns=["activity", "start_s", "end_s"])
    if len(bouts):
        bouts["duration_s"] = bouts["end_s"] - bouts["start_s"]
    lever = next((r.lever_arm for r in results if r.lever_arm is not None), None)
    duration = float(imu.t[-1] - imu.t[0])
    summary = summarise(steps, duration, activity_s)
    quality = Quality.assess(recording, fs_in, segments, mounting, lever, steps, summary, screened=screened)
    result = RunAnalysis(
        recording=recording, steps=steps, summary=summary, bouts=bouts, quality=quality, mounting=mounting
    )
    return restrict_to_placement(result)  # withhold what a sensor off the pelvis cannot measure


def _check_time(where: str, t: Array) -> None:
    """Time must be finite and strictly increasing: a clock that jumped back would silently mis-time steps."""
    if not np.isfinite(t).all():
        k = int(np.flatnonzero(~np.isfinite(t))[0])
        raise AnalysisError(f"{where}: time of sample {k} is not a number")
    back = np.flatnonzero(np.diff(t) <= 0)
    if len(back):
        k = int(back[0])
        raise AnalysisError(
            f"{where}: time does not increase at sample {k + 1} ({t[k]:.6g} then {t[k + 1]:.6g} s); "
            "the clock jumped back or samples are out of order"
        )


def _check_units(where: str, acc: Array, gyr: Array | None) -> None:
    """Gravity must be there at about 1 g and a pelvis cannot spin at 40 rad/s: catches g stored as m/s^2,
    deg/s as rad/s, removed gravity and dead sensors before they become plausible-looking numbers."""
    with np.errstate(over="ignore", invalid="ignore"):  # absurd values fail the checks below, quietly
        mag = float(np.median(np.linalg.norm(acc, axis=1)))
    if 0.6 < mag < 1.6:
        raise AnalysisError(
            f"{where}: accelerometer magnitude is {mag:.2f} m/s^2, about 1: the values look like g, not m/s^2"
        )
    if not 0.5 * G0 < mag < 1.6 * G0:
        raise AnalysisError(
            f"{where}: median accelerometer magnitude is {mag / G0:.2f} g, expected about 1 g with gravity "
            "included (wrong units, gravity removed, or a dead sensor)"
        )
    if gyr is not None and float(np.percentile(np.abs(gyr), 99)) > 40.0:
        raise AnalysisError(
            f"{where}: gyroscope reaches {np.percentile(np.abs(gyr), 99):.0f} rad/s, impossible for a pelvis: "
            "the values look like deg/s, not rad/s"
        )


def _flight_mask(vert_g: Array, running: Array, fs: float) -> Array:
    """Samples well inside flight phases: running, and the vertical force near free fall for a while on
    both sides (erosion by ``FLIGHT_MARGIN_S`` keeps away from the edges of each contact)."""
    low = running & (lowpass(vert_g, fs, 15.0) < FLIGHT_LEVEL_G)
    k = max(1, int(FLIGHT_MARGIN_S * fs))
    c = np.concatenate(([0], np.cumsum(~low)))
    # a sample qualifies when no non-flight sample lies within k samples on either side
    idx = np.arange(len(low))
    lo = np.clip(idx - k, 0, len(low))
    hi = np.clip(idx + k + 1, 0, len(low))
    return (c[hi] - c[lo]) == 0


def _concat(parts: list[Contacts]) -> Contacts:
    if not parts:
        return Contacts(np.zeros(0), np.zeros(0), np.zeros(0))
    return Contacts(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("ic_s", "to_s", "peak_g")))


def _analyze_segment(seg: Segment, labels: Array, mounting: Mounting, fs: float) -> SegmentResult:
    kin = body_kinematics(seg.acc, seg.gyr, fs, mounting)
    acc_level = kin.acc_level
    bouts = act.bouts_from_labels(labels, fs)
    run_bouts = [b for b in bouts if b.activity == act.RUN]
    walk_bouts = [b for b in bouts if b.activity in (act.WALK, act.OTHER)]

    if seg.full_acc_norm is not None:
        norm_g, fs_norm, offset = seg.full_acc_norm / G0, seg.full_fs, seg.full_t0 - seg.t0
    else:
        norm_g, fs_norm, offset = seg.acc_peak / G0, fs, 0.0

    def detect_running(vert_g: Array) -> Contacts:
        return _concat([running_contacts(vert_g, fs, norm_g, fs_norm, offset, b.start, b.stop) for b in run_bouts])

    lever = None
    forward_vote = forward_weight = 0.0
    if kin.gyr_body is not None and run_bouts:
        flight = _flight_mask(acc_level[:, 1] / G0, labels == act.RUN, fs)
        lever = fit_lever_arm(seg.acc @ mounting.matrix, kin.gyr_body, fs, flight)
        if lever is not None and lever.useful:
            acc_level = compensate(kin, seg.acc, mounting, fs, lever)
            running = labels == act.RUN
            ap = lowpass(acc_level[:, 0], fs, 6.0)[running]
            dv = (np.gradient(lowpass(acc_level[:, 1], fs, 6.0)) * fs)[running]
            if len(ap) > fs * 2 and np.std(ap) > 0 and np.std(dv) > 0:
                forward_vote = float(np.corrcoef(ap, dv)[0, 1]) * len(ap)
                forward_weight = float(len(ap))
        else:
            lever = None
    run_c = detect_running(acc_level[:, 1] / G0)
    walk_c = _concat([walking_contacts(acc_level[:, 1] / G0, fs, b.start, b.stop) for b in walk_bouts])

    bout_of = np.full(seg.n, -1)
    for i, b in enumerate(bouts):
        bout_of[b.start : b.stop] = i
    ic = np.concatenate((run_c.ic_s, walk_c.ic_s))
    to = np.concatenate((run_c.to_s, walk_c.to_s))
    is_run = np.concatenate((np.ones(len(run_c.ic_s), bool), np.zeros(len(walk_c.ic_s), bool)))
    order = np.argsort(ic)
    ic, to, is_run = ic[order], to[order], is_run[order]
    bout_id = bout_of[np.clip((ic * fs).astype(int), 0, seg.n - 1)]
    activity_s = {act.ACTIVITY_NAMES[k]: float((labels == k).sum() / fs) for k in act.ACTIVITY_NAMES}
    bout_rows = [(b.name, seg.t0 + b.start / fs, seg.t0 + b.stop / fs) for b in bouts]
    if len(ic) == 0:
        return SegmentResult(empty_steps(), activity_s, bout_rows, lever, forward_vote, forward_weight)

    next_ic = np.append(ic[1:], np.nan)
    same_bout = np.append(bout_id[1:] == bout_id[:-1], False)
    step_time = np.where(same_bout, next_ic - ic, np.nan)
    local = pd.Series(step_time).rolling(9, center=True, min_periods=1).median().to_numpy()
    regular = np.abs(step_time / local - 1.0) < 0.25
    step_time = np.where(regular, step_time, np.nan)

    raw_step = np.where(same_bout, next_ic - ic, np.nan)
    walk_end = ic + np.where(np.isfinite(raw_step) & (raw_step < 1.5), raw_step, 0.5)
    read_end = np.where(is_run, to, walk_end)
    votes = side_votes(ic * fs, read_end * fs, is_run, fs, kin.obliquity_deg, kin.rotation_deg, acc_level[:, 2])
    sides = label_sides(ic, votes, bout_id)

    n = len(ic)
    cols: dict[str, Array] = {c: np.full(n, np.nan) for c in STEP_COLUMNS if c != "side"}
    cols["ic_s"], cols["to_s"] = ic, to
    cols["step_time_s"] = step_time
    cols["contact_time_ms"] = (to - ic) * 1000.0
    cols["flight_time_ms"] = np.where(is_run & np.isfinite(step_time), (next_ic - to) * 1000.0, np.nan)
    r = np.flatnonzero(is_run)
    if len(r):
        if kin.has_angles:
            if seg.full_gyr is not None:  # decimated: integrate the stance angles from the full-rate gyro
                gyr_src, fs_src, offset = seg.full_gyr, seg.full_fs, seg.full_t0 - seg.t0
            else:
                gyr_src, fs_src, offset = seg.gyr, fs, 0.0
            ang = pelvis_step_angles(
                gyr_src @ mounting.matrix,
                fs_src,
                offset,
                kin.tilt_deg,
                kin.obliquity_deg,
                fs,
                ic[r],
                to[r],
                sides.side[r],
            )
            for k, v in ang.items():
                cols[k][r] = v
        if lever is not None:  # braking needs the pelvis's own rotation removed (gyroscope + lever arm)
            for k, v in braking(acc_level[:, 0], ic[r], to[r], fs).items():
                cols[k][r] = v
        cols["impact_g"][r] = impact(seg.acc_peak, ic[r], to[r], fs)
    cols["vertical_oscillation_cm"] = vertical_oscillation(
        acc_level[:, 1], ic, np.where(np.isfinite(step_time), next_ic, np.nan), fs
    )
    cols["side_confidence"] = sides.confidence

    # timing confidence: plausibility, regularity, gaps
    conf = np.ones(n)
    flags: list[list[str]] = [[] for _ in range(n)]
    filled_c = np.concatenate(([0], np.cumsum(seg.filled)))
    a = np.clip(((ic - 0.05) * fs).astype(int), 0, seg.n)
    b = np.clip(((np.where(np.isfinite(next_ic), next_ic, ic + 0.5)) * fs).astype(int) + 1, 0, seg.n)
    near_gap = filled_c[b] - filled_c[a] > 0
    irregular = ~regular & same_bout
    for mask, penalty, flag in (
        (near_gap, 0.6, "gap"),
        (irregular, 0.3, "irregular"),
        (sides.side == 0, 0.0, "side_unknown"),
    ):
        conf[mask] -= penalty
        for i in np.flatnonzero(mask):
            flags[i].append(flag)
    conf = np.clip(conf, 0.0, 1.0)
    cols["confidence"] = conf

    steps = pd.DataFrame(cols)
    steps.insert(0, "side", np.where(sides.side == RIGHT, "R", np.where(sides.side == LEFT, "L", "?")))
    steps["ic_s"] += seg.t0
    steps["to_s"] += seg.t0
    steps["activity"] = np.where(is_run, "run", "walk")
    steps["bout"] = bout_id
    steps["low_confidence"] = conf < 0.5
    steps["flags"] = [",".join(f) for f in flags]
    return SegmentResult(steps, activity_s, bout_rows, lever, forward_vote, forward_weight)
