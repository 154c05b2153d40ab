"""Each analysis stage alone, on small synthetic inputs whose answer is known analytically, plus one shared
API-conformance test over every stage (frozen parameters, documented result type, pure, no input mutation,
parameters that can be overridden and change the result)."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.transform import Rotation

from gait.analysis import AnalysisConfig, ConfigError
from gait.analysis.align import Mounting, MountingParams, estimate_mounting
from gait.analysis.bouts import RUN, STILL, WALK, Activity, ActivityParams, activity_bouts
from gait.analysis.events import (
    Contacts,
    RunningContactParams,
    WalkingContactParams,
    running_contacts,
    walking_contacts,
)
from gait.analysis.lever import LeverArm, LeverArmParams, fit_lever_arm, flight_mask, flight_stats
from gait.analysis.metrics import (
    MEASURED_COLUMNS,
    STEP_COLUMNS,
    StepMetricParams,
    StepSignals,
    measure_steps,
    step_table,
)
from gait.analysis.orientation import BodyKinematics, OrientationParams, body_kinematics
from gait.analysis.rotations import matrix_from_euler_yxz
from gait.analysis.sides import (
    LEFT,
    RIGHT,
    SideLabels,
    SideParams,
    label_sides,
    side_votes,
    vote_features,
)
from gait.analysis.summary import RunSummary, summarise
from gait.analysis.terrain import Source, TerrainConfig, TerrainTrack, terrain_track
from gait.constants import G0
from gait.simulate_route import RouteConfig, simulate_route
from tests.fixtures.stances import stance_force

FS = 52.0  # the analysis rate of a 208 Hz sensor
STEP_S, CONTACT_S = 0.35, 0.24  # 171 steps/min, 69 % of the step on the ground
IDENTITY = Mounting(np.eye(3), 1.0, 1.0)


def stance_phase(t: np.ndarray, n_steps: int, t0: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step index, time since that step's IC, in stance) for a steady run of ``n_steps`` from ``t0``."""
    k = np.clip(np.floor((t - t0) / STEP_S).astype(int), 0, n_steps - 1)
    tau = t - (t0 + k * STEP_S)
    return k, tau, (tau >= 0) & (tau <= CONTACT_S)


def hump_train(fs: float = FS, n_steps: int = 30, t0: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spring-mass running: a vertical force of 2.5 g in each stance, shaped like a force plate's (a half sine
    that unloads through a long tail, tests/fixtures/stances.py), free fall (0 g) in flight.
    Returns (vertical force in g, true IC s, true TO s)."""
    t = np.arange(int((t0 + n_steps * STEP_S + 0.5) * fs)) / fs
    _, tau, stance = stance_phase(t, n_steps, t0)
    x = np.where(stance, stance_force(tau, CONTACT_S, 2.5), 0.0)
    ic = t0 + np.arange(n_steps) * STEP_S
    return x, ic, ic + CONTACT_S


def running_body_acc(fs: float = FS, n_steps: int = 60) -> np.ndarray:
    """Body-frame specific force of a steady run (m/s^2, [anterior, up, right]): vertical humps; braking then
    propulsion in each stance (decelerating while the vertical force rises); the sacrum pushed towards the
    stance side, alternating every step."""
    t = np.arange(int((0.5 + n_steps * STEP_S + 0.5) * fs)) / fs
    k, tau, stance = stance_phase(t, n_steps)
    ph = np.clip(tau, 0, CONTACT_S) / CONTACT_S
    up = np.where(stance, 2.5 * G0 * np.sin(np.pi * ph), 0.0)
    ap = np.where(stance, -3.0 * np.sin(2 * np.pi * ph), 0.0)
    ml = np.where(stance, 2.0 * np.sin(np.pi * ph) * np.where(k % 2 == 0, 1.0, -1.0), 0.0)
    return np.column_stack((ap, up, ml))


def rocking_pelvis(fs: float, seconds: float) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """A pelvis rocking in place (no translation): rotation 4 deg, obliquity 5 deg at 1.4 Hz, tilt 3 deg at
    2.8 Hz. Returns (specific force m/s^2, angular rate rad/s, both in body axes; true (rotation, obliquity,
    tilt) in deg)."""
    t = np.arange(int(seconds * fs)) / fs

    def angles(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w = 2 * np.pi * 1.4 * t
        return np.radians(4) * np.sin(w + 0.3), -np.radians(5) * np.sin(w), np.radians(3) * np.sin(2 * w + 1.0)

    r = matrix_from_euler_yxz(*angles(t))  # level <- body, ISB order (obliquity is minus the x angle)
    h = 1e-5
    dr = (matrix_from_euler_yxz(*angles(t + h)) - matrix_from_euler_yxz(*angles(t - h))) / (2 * h)
    w_skew = np.einsum("nji,njk->nik", r, dr)  # R^T dR/dt = [omega]x in body axes
    gyr = np.column_stack((w_skew[:, 2, 1], w_skew[:, 0, 2], w_skew[:, 1, 0]))
    acc = np.einsum("nji,j->ni", r, np.array([0.0, G0, 0.0]))  # gravity seen in body axes
    a, b, c = angles(t)
    return acc, gyr, (np.degrees(a), -np.degrees(b), np.degrees(c))


# --------------------------------------------------------------------------------------------------------------
# activity bouts


def activity_signal(fs: float = FS) -> np.ndarray:
    """10 s standing, 30 s running (humps with flight), 30 s walking (a 1.8 Hz sway without flight), in g."""
    rng = np.random.default_rng(0)
    still = 1.0 + 0.005 * rng.standard_normal(int(10 * fs))
    run, _, _ = hump_train(fs, n_steps=int(30 / STEP_S), t0=0.0)
    run = run[: int(30 * fs)]
    t = np.arange(int(30 * fs)) / fs
    walk = 1.0 + 0.2 * np.sin(2 * np.pi * 1.8 * t)
    return np.concatenate((still, run, walk))


def test_activity_labels_standing_running_and_walking_where_they_are():
    act = activity_bouts(activity_signal(), FS)
    t = np.arange(len(act.labels)) / FS
    for activity, lo, hi in ((STILL, 0, 8.5), (RUN, 11.5, 38.5), (WALK, 41.5, 68.5)):
        inside = (t >= lo) & (t <= hi)
        assert (act.labels[inside] == activity).all(), activity
    runs = [b for b in act.bouts if b.activity == RUN]
    assert len(runs) == 1 and abs(runs[0].start / FS - 10) <= 1.5 and abs(runs[0].stop / FS - 40) <= 1.5
    seconds = act.seconds()
    assert abs(seconds["run"] - 30) <= 2 and abs(seconds["walk"] - 30) <= 2.5


def test_activity_thresholds_are_the_stages_own():
    # the hump train spends 31 % of the time in flight: demanding more flight than that leaves no running
    act = activity_bouts(activity_signal(), FS, ActivityParams(min_flight_fraction=0.5))
    assert not (act.labels == RUN).any()


# --------------------------------------------------------------------------------------------------------------
# mounting and orientation


def test_mounting_recovers_a_known_rotation():
    truth = Rotation.from_euler("xyz", [20, -35, 110], degrees=True).as_matrix()  # body axes in sensor coordinates
    acc = running_body_acc() @ truth.T
    m = estimate_mounting(acc, FS, np.ones(len(acc), bool))
    error_deg = np.degrees(Rotation.from_matrix(m.matrix.T @ truth).magnitude())
    assert error_deg < 0.5
    assert m.ap_separation > 0.9 and m.forward_sign_margin > 0.9


def test_mounting_turned_round_is_a_half_turn_about_up():
    m = estimate_mounting(running_body_acc(), FS, np.ones(len(running_body_acc()), bool))
    f = m.flipped()
    assert np.allclose(f.matrix[:, 1], m.matrix[:, 1]) and np.allclose(f.matrix[:, [0, 2]], -m.matrix[:, [0, 2]])


def test_orientation_recovers_known_pelvis_angles():
    fs = 100.0
    acc, gyr, (rotation, obliquity, tilt) = rocking_pelvis(fs, 60.0)
    kin = body_kinematics(acc, gyr, fs, IDENTITY)
    mid = slice(int(10 * fs), int(50 * fs))  # away from the slow reference filter's ends
    assert kin.obliquity_deg is not None and kin.rotation_deg is not None and kin.tilt_deg is not None
    assert np.abs(kin.obliquity_deg - obliquity)[mid].max() < 0.05
    assert np.abs(kin.rotation_deg - rotation)[mid].max() < 0.05
    assert np.abs(kin.tilt_deg - tilt)[mid].max() < 0.05
    # standing in place: the level frame sees only gravity
    assert np.abs(kin.acc_level - [0.0, G0, 0.0])[mid].max() < 0.01


def test_orientation_of_a_window_equals_the_whole_run_away_from_its_ends():
    fs = 52.0
    acc, gyr, _ = rocking_pelvis(fs, 240.0)
    whole = body_kinematics(acc, gyr, fs, IDENTITY)
    a, b = 3000, 9000  # a window read with margins of ~58 s on both sides of its middle
    part = body_kinematics(acc[a:b], gyr[a:b], fs, IDENTITY, origin=a)
    inner = slice(int(30 * fs), b - a - int(30 * fs))
    assert np.abs(part.obliquity_deg[inner] - whole.obliquity_deg[a:b][inner]).max() < 1e-6
    assert np.abs(part.acc_level[inner] - whole.acc_level[a:b][inner]).max() < 1e-6


# --------------------------------------------------------------------------------------------------------------
# lever arm


def rotating_sensor(fs: float, seconds: float, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Angular rate (smooth, 1.3-3.1 Hz) and the specific force a sensor at ``r`` from a freely falling point
    feels: alpha x r + omega x (omega x r)."""
    t = np.arange(int(seconds * fs)) / fs
    amp, freq, phase = np.array([2.0, 1.5, 1.0]), np.array([1.3, 2.2, 3.1]), np.array([0.0, 0.7, 1.9])
    w = amp * np.sin(2 * np.pi * freq * t[:, None] + phase)
    alpha = amp * 2 * np.pi * freq * np.cos(2 * np.pi * freq * t[:, None] + phase)
    return np.cross(alpha, r) + np.cross(w, np.cross(w, r)), w


def test_lever_arm_is_recovered_from_free_fall():
    r = np.array([-0.10, 0.08, 0.02])
    acc, gyr = rotating_sensor(208.0, 20.0, r)
    lever = fit_lever_arm(acc, gyr, 208.0, np.ones(len(acc), bool))
    assert lever is not None
    assert np.abs(lever.r_m - r).max() < 1e-3
    assert lever.residual_ms2 < 0.01 * lever.raw_ms2
    flipped = lever.flipped()
    assert np.allclose(flipped.r_m, r * [-1, 1, -1], atol=1e-3)


def test_lever_arm_normal_equations_add_up_over_windows():
    acc, gyr = rotating_sensor(104.0, 30.0, np.array([-0.12, 0.1, 0.0]))
    flight = np.zeros(len(acc), bool)
    flight[::3] = True
    whole = flight_stats(acc, gyr, 104.0, flight)
    half = len(acc) // 2
    f1, f2 = flight.copy(), flight.copy()
    f1[half:], f2[:half] = False, False
    parts = flight_stats(acc, gyr, 104.0, f1) + flight_stats(acc, gyr, 104.0, f2)
    assert parts.n == whole.n and np.allclose(parts.ata, whole.ata) and np.allclose(parts.aty, whole.aty)


def test_implausible_lever_arms_are_shortened_and_missing_flight_gives_no_correction():
    acc, gyr = rotating_sensor(208.0, 20.0, np.array([0.0, 0.5, 0.0]))  # half a metre from the centre of mass
    bounded = fit_lever_arm(acc, gyr, 208.0, np.ones(len(acc), bool))
    assert bounded.basis == "bounded" and np.allclose(bounded.r_m, [0.0, 0.35, 0.0], atol=1e-3)
    fitted = fit_lever_arm(acc, gyr, 208.0, np.ones(len(acc), bool), LeverArmParams(max_lever_arm_m=0.6))
    assert fitted.basis == "fitted" and np.allclose(fitted.r_m, [0.0, 0.5, 0.0], atol=1e-3)
    few = np.zeros(len(acc), bool)
    few[:10] = True
    prior = fit_lever_arm(acc, gyr, 208.0, few)
    assert prior.basis == "prior" and np.all(prior.r_m == 0.0)


def test_a_sensor_near_the_centre_of_rotation_still_gets_its_lever_arm():
    """A small offset explains little of the flight signal (noise dominates), yet it is the right one: braking
    must not be withheld for it (issue 14)."""
    r = np.array([-0.01, 0.01, 0.0])
    acc, gyr = rotating_sensor(208.0, 20.0, r)
    acc = acc + np.random.default_rng(3).normal(0.0, 0.8, acc.shape)
    lever = fit_lever_arm(acc, gyr, 208.0, np.ones(len(acc), bool))
    assert lever.basis == "fitted" and lever.explained < 0.1
    assert np.abs(lever.r_m - r).max() < 0.01


def test_flight_mask_keeps_inside_the_flight_phases():
    x, ic, to = hump_train(208.0)
    t = np.arange(len(x)) / 208.0
    mask = flight_mask(x, np.ones(len(x), bool), 208.0)
    in_stance = ((t[:, None] >= ic - 1e-9) & (t[:, None] <= to + 1e-9)).any(axis=1)
    assert not (mask & in_stance).any()
    middle = ((t[:, None] >= to[:-1] + 0.04) & (t[:, None] <= ic[1:] - 0.04)).any(axis=1)
    assert mask[middle].all()


# --------------------------------------------------------------------------------------------------------------
# contacts


def test_running_contacts_find_every_hump_at_its_true_edges():
    x, ic, to = hump_train()
    c = running_contacts(x, FS)
    assert len(c) == len(ic)
    # an ideal kink sampled at 52 Hz with nothing to band-limit it first rings in the band-limited
    # interpolation (Nyquist 26 Hz): the knee is read in the ring, up to ~10 ms early, never late
    assert np.all(c.ic_s - ic > -0.011) and np.all(c.ic_s - ic < 0.002)
    assert np.abs(c.to_s - to).max() < 0.010
    assert np.allclose(c.peak_g, 2.5, atol=0.1)


def test_running_contacts_respect_their_plausible_contact_times():
    x, _, _ = hump_train()
    assert len(running_contacts(x, FS, params=RunningContactParams(contact_s=(0.09, 0.2)))) == 0


def test_running_contacts_in_part_of_a_signal_are_timed_from_its_start():
    x, ic, _ = hump_train(n_steps=40)
    start = int(5.0 * FS)
    c = running_contacts(x, FS, start=start)
    assert c.ic_s.min() >= 5.0 - 0.011 and np.abs(c.ic_s - ic[-len(c) :]).max() < 0.011  # as above


def test_walking_contacts_are_the_steepest_rise_before_each_peak():
    period = 0.55
    t = np.arange(int(20 * FS)) / FS
    c = walking_contacts(1.0 + 0.15 * np.sin(2 * np.pi * t / period), FS)
    k = np.round(c.ic_s / period)
    assert len(c) >= 30 and np.abs(c.ic_s - k * period).max() <= 0.5 / FS + 1e-9
    assert np.isnan(c.to_s).all()
    assert len(walking_contacts(1.0 + 0.15 * np.sin(2 * np.pi * t / period), FS,
                                params=WalkingContactParams(min_steps=100))) == 0  # fmt: skip


# --------------------------------------------------------------------------------------------------------------
# sides


def test_alternating_votes_label_alternating_sides_with_the_chain_margin():
    n = 20
    ic = 0.5 + np.arange(n) * STEP_S
    votes = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    s = label_sides(ic, votes, np.zeros(n, int))
    assert (s.side == np.where(votes > 0, RIGHT, LEFT)).all()
    # every vote agrees: z = n / sqrt(n), confidence 1 - exp(-z^2 / 2)
    assert np.allclose(s.confidence, 1 - np.exp(-n / 2))
    one_wrong = votes.copy()
    one_wrong[7] *= -1
    s2 = label_sides(ic, one_wrong, np.zeros(n, int))
    assert (s2.side == s.side).all()
    z = (n - 2) / np.sqrt(n)
    assert np.isclose(s2.confidence[7], (1 - np.exp(-z * z / 2)) * SideParams().disagree_factor)


def test_an_extra_contact_is_unknown_and_does_not_shift_the_alternation():
    n = 20
    ic = 0.5 + np.arange(n) * STEP_S
    votes = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    ic_x = np.insert(ic, 6, ic[5] + 0.08)  # a double detection 80 ms after step 5
    votes_x = np.insert(votes, 6, 3.0)
    s = label_sides(ic_x, votes_x, np.zeros(n + 1, int))
    assert s.side[6] == 0
    assert (np.delete(s.side, 6) == np.where(votes > 0, RIGHT, LEFT)).all()


def test_a_stance_merged_across_a_gap_does_not_flip_the_steps_after_it():
    """Two steps lost in a gap and one odd hump found between them: counted as a step, it would make the gap
    1.5 + 1.5 steps instead of 3 and flip every label after it. Left out of the chain (``odd``), it stays
    unknown; an odd stance a whole number of steps after the one before it is labelled by the alternation."""
    n = 30
    ic = 0.5 + np.arange(n) * STEP_S
    truth = np.where(np.arange(n) % 2 == 0, RIGHT, LEFT)
    votes = truth * 1.0
    votes[12:] *= 0.5  # the steps after the gap vote less firmly than those before it: they would be outvoted
    keep = np.ones(n, bool)
    keep[[10, 11]] = False  # lost in the gap
    ic_g = np.insert(ic[keep], 10, 0.5 * (ic[9] + ic[12]))  # the merged hump, 1.5 steps after step 9
    votes_g = np.insert(votes[keep], 10, 0.2)
    truth_g = np.insert(truth[keep], 10, 0)
    odd = np.zeros(len(ic_g), bool)
    odd[10] = True
    plain = label_sides(ic_g, votes_g, np.zeros(len(ic_g), int))
    assert (plain.side != truth_g)[11:].all()  # the failure this guards against
    s = label_sides(ic_g, votes_g, np.zeros(len(ic_g), int), odd=odd)
    assert s.side[10] == 0 and s.confidence[10] == 0.0
    assert (np.delete(s.side, 10) == np.delete(truth_g, 10)).all()
    odd_real = np.zeros(n, bool)
    odd_real[5] = True  # a real stance with an odd shape, one step after the one before it
    s2 = label_sides(ic, votes, np.zeros(n, int), odd=odd_real)
    assert (s2.side == truth).all() and 0 < s2.confidence[5] < s2.confidence[4]


def test_side_evidence_reads_the_push_towards_the_stance_side():
    acc = running_body_acc(n_steps=40)
    ic = 0.5 + np.arange(40) * STEP_S
    f = vote_features(ic * FS, (ic + CONTACT_S) * FS, FS, None, None, acc[:, 2])
    votes = side_votes(f, np.ones(40, bool))
    assert (np.sign(votes) == np.where(np.arange(40) % 2 == 0, 1, -1)).all()  # even steps push right


# --------------------------------------------------------------------------------------------------------------
# per-step metrics


def step_signals(n_steps: int = 30, drop_deg: float = 6.0) -> tuple[StepSignals, np.ndarray, np.ndarray]:
    """A steady run with known per-step values: vertical displacement 8 cm peak to peak (a sinusoid over each
    step), fore-aft acceleration -3 sin(2 pi tau / tc) m/s^2 in stance (speed loss 3 tc / pi m/s over tc / 2),
    a peak |acc| of 3 g in stance, and obliquity rising by ``drop_deg`` to mid-stance and back in right stances
    and falling by as much in left ones, (1 - cos) shaped (integrated from a 208 Hz gyroscope)."""
    fs_full = 4 * FS
    n = int((0.5 + n_steps * STEP_S + 0.5) * FS)
    t = np.arange(n) / FS
    _, tau, stance = stance_phase(t, n_steps)
    ph = np.clip(tau, 0, CONTACT_S) / CONTACT_S
    w = 2 * np.pi / STEP_S
    vertical = G0 + 0.04 * w * w * np.cos(w * (t - 0.5))  # displacement -0.04 cos: 8 cm peak to peak
    acc_level = np.column_stack((np.where(stance, -3.0 * np.sin(2 * np.pi * ph), 0.0), vertical, np.zeros(n)))
    acc_peak = np.where(stance, G0 * (1 + 2 * np.sin(np.pi * ph)), G0)
    tf = np.arange(4 * n) / fs_full
    kf, tauf, stf = stance_phase(tf, n_steps)
    sign = np.where(kf % 2 == 0, 1.0, -1.0)  # even steps are right stances
    rate = np.radians(drop_deg) * np.pi / CONTACT_S * np.sin(2 * np.pi * tauf / CONTACT_S)
    d_obl = np.where(stf, sign * rate, 0.0)
    gyr = np.column_stack((-d_obl, np.zeros_like(tf), np.zeros_like(tf)))  # obliquity' = -w_x at zero tilt
    signals = StepSignals(FS, acc_level, acc_peak, np.zeros(n, bool), np.zeros(n), np.zeros(n), gyr, fs_full, True)
    ic = 0.5 + np.arange(n_steps) * STEP_S
    return signals, ic, ic + CONTACT_S


def test_per_step_metrics_match_the_known_values():
    signals, ic, to = step_signals()
    m = measure_steps(signals, ic, to, np.ones(len(ic), bool), np.zeros(len(ic), int))
    assert list(m.columns) == MEASURED_COLUMNS
    inner = slice(1, -1)
    assert np.allclose(m["vertical_oscillation_cm"][inner], 8.0, rtol=0.02)
    assert np.allclose(m["braking_dv_mps"][inner], 3.0 * CONTACT_S / np.pi, rtol=0.02)
    assert np.allclose(m["braking_duration_ms"][inner], 1000 * CONTACT_S / 2, atol=1000 * CONTACT_S / 31)
    assert np.allclose(m["braking_peak_g"][inner], 3.0 / G0, rtol=0.02)
    assert np.allclose(m["impact_g"], 3.0, atol=0.02)
    right = np.arange(len(ic)) % 2 == 0
    assert np.allclose(m["pelvic_rise_deg"][right], 6.0, atol=0.05)
    assert np.allclose(m["pelvic_fall_deg"][~right], 6.0, atol=0.05)
    assert np.allclose(m["pelvic_obliquity_range_deg"], 6.0, atol=0.05)
    assert not m["near_gap"].any()


def test_step_table_reads_the_drop_for_the_labelled_side_and_scores_confidence():
    signals, ic, to = step_signals()
    m = measure_steps(signals, ic, to, np.ones(len(ic), bool), np.zeros(len(ic), int))
    side = np.where(np.arange(len(ic)) % 2 == 0, RIGHT, LEFT)
    steps = step_table(m, SideLabels(side, np.ones(len(ic)), side.astype(float), np.zeros(len(ic), int)), t0=100.0)
    assert list(steps.columns[: len(STEP_COLUMNS)]) == STEP_COLUMNS
    assert (steps["side"].to_numpy() == np.where(side == RIGHT, "R", "L")).all()
    assert np.allclose(steps["pelvic_drop_deg"], 6.0, atol=0.05)  # each side's own drop
    assert np.allclose(steps["ic_s"], ic + 100.0) and np.allclose(steps["contact_time_ms"], 1000 * CONTACT_S)
    assert np.allclose(steps["flight_time_ms"][:-1], 1000 * (STEP_S - CONTACT_S))
    assert np.isnan(steps["step_time_s"].iloc[-1])  # the last step has no next one
    assert (steps["confidence"] == 1.0).all() and (steps["flags"] == "").all()
    # a late step: irregular, less confident, flagged; an unknown side is flagged too
    m2 = m.copy()
    m2.loc[10:, ["ic_s", "to_s"]] += 0.2
    side2 = side.copy()
    side2[3] = 0
    steps2 = step_table(m2, SideLabels(side2, np.ones(len(ic)), side2.astype(float), np.zeros(len(ic), int)))
    assert steps2["flags"][9] == "irregular" and np.isclose(steps2["confidence"][9], 0.7)
    assert steps2["flags"][3] == "side_unknown" and np.isnan(steps2["pelvic_drop_deg"][3])


def test_steps_next_to_a_gap_lose_confidence():
    signals, ic, to = step_signals()
    filled = signals.filled.copy()
    filled[int(4.85 * FS)] = True  # inside step 12 (IC 4.70 s, next IC 5.05 s) only
    m = measure_steps(
        dataclasses.replace(signals, filled=filled), ic, to, np.ones(len(ic), bool), np.zeros(len(ic), int)
    )
    assert np.flatnonzero(m["near_gap"].to_numpy()).tolist() == [12]


# --------------------------------------------------------------------------------------------------------------
# the shared API conformance test


@dataclass(frozen=True)
class StageCase:
    """One stage: a function called with its inputs and its parameter set, its documented result type, and a
    parameter change that must change the result."""

    function: Callable[..., Any]
    inputs: Callable[[], dict[str, Any]]
    params: Any
    result_type: type
    override: dict[str, Any]


def _mounting_inputs() -> dict[str, Any]:
    acc = running_body_acc() @ Rotation.from_euler("xyz", [10, 20, 30], degrees=True).as_matrix().T
    return {"acc": acc, "fs": FS, "running": np.ones(len(acc), bool)}


def _orientation_inputs() -> dict[str, Any]:
    acc, gyr, _ = rocking_pelvis(FS, 40.0)
    return {"acc": acc, "gyr": gyr, "fs": FS, "mounting": IDENTITY}


def _lever_inputs() -> dict[str, Any]:
    acc, gyr = rotating_sensor(104.0, 10.0, np.array([-0.1, 0.08, 0.0]))
    return {"acc_body": acc, "gyr_body": gyr, "fs": 104.0, "flight": np.ones(len(acc), bool)}


def _running_inputs() -> dict[str, Any]:
    x, _, _ = hump_train()
    return {"vert_g": x, "fs": FS}


def _walking_inputs() -> dict[str, Any]:
    t = np.arange(int(20 * FS)) / FS
    return {"vert_g": 1.0 + 0.15 * np.sin(2 * np.pi * t / 0.55), "fs": FS}


def _sides_inputs() -> dict[str, Any]:
    votes = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    votes[4] = -0.5  # one step disagrees with its chain
    return {"ic_s": 0.5 + np.arange(20) * STEP_S, "votes": votes, "bout_id": np.zeros(20, int)}


def _steps_inputs() -> dict[str, Any]:
    signals, ic, to = step_signals(n_steps=12)
    return {"signals": signals, "ic": ic, "to": to, "running": np.ones(12, bool), "bout": np.zeros(12, int)}


def _summary_inputs() -> dict[str, Any]:
    signals, ic, to = step_signals(n_steps=12)
    m = measure_steps(signals, ic, to, np.ones(12, bool), np.zeros(12, int))
    side = np.where(np.arange(12) % 2 == 0, RIGHT, LEFT)
    steps = step_table(m, SideLabels(side, np.ones(12), side.astype(float), np.zeros(12, int)))
    return {"steps": steps, "duration_s": 10.0, "activity_s": {"run": 4.2}}


def _terrain_inputs() -> dict[str, Any]:
    route = simulate_route((("stand", 3.0), ("run", 300.0)), RouteConfig(seed=4))
    sources = [Source("location", "location", route.location), Source("baro", "baro", route.baro)]
    return {"sources": sources, "duration_s": 303.0}


STAGES = {
    "activity bouts": StageCase(
        activity_bouts, lambda: {"vert_g": activity_signal(), "fs": FS}, ActivityParams(), Activity,
        {"min_flight_fraction": 0.5},
    ),
    "mounting": StageCase(estimate_mounting, _mounting_inputs, MountingParams(), Mounting, {"band_hz": (1.0, 8.0)}),
    "orientation": StageCase(
        body_kinematics, _orientation_inputs, OrientationParams(), BodyKinematics, {"reference_cutoff_hz": 0.1}
    ),
    "lever arm": StageCase(fit_lever_arm, _lever_inputs, LeverArmParams(), LeverArm, {"gyro_bandwidth_hz": 3.0}),
    "running contacts": StageCase(
        running_contacts, _running_inputs, RunningContactParams(), Contacts, {"contact_s": (0.09, 0.2)}
    ),
    "walking contacts": StageCase(
        walking_contacts, _walking_inputs, WalkingContactParams(), Contacts, {"min_steps": 100}
    ),
    "side labelling": StageCase(label_sides, _sides_inputs, SideParams(), SideLabels, {"disagree_factor": 0.2}),
    "per-step metrics": StageCase(measure_steps, _steps_inputs, StepMetricParams(), pd.DataFrame, {"stance_points": 8}),
    "summary": StageCase(summarise, _summary_inputs, None, RunSummary, {}),
    "terrain": StageCase(terrain_track, _terrain_inputs, TerrainConfig(), TerrainTrack, {"uphill_pct": 7.0}),
}  # fmt: skip


def same(a: Any, b: Any) -> bool:
    """Deep equality of stage inputs and results (arrays, frames, dataclasses, containers), NaN equal to NaN."""
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b)


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_api_conformance(name: str):
    case = STAGES[name]
    # documented: the function and its result type say what they are (not the dataclass's generated repr)
    assert case.function.__doc__ and len(case.function.__doc__.strip()) > 40
    doc = case.result_type.__doc__ or ""
    assert doc.strip() and not doc.startswith(case.result_type.__name__ + "(")
    # pure: the same inputs give the same result, and the inputs are left as they were
    inputs = case.inputs()
    before = copy.deepcopy(inputs)
    kwargs = {} if case.params is None else {"params": case.params}
    first = case.function(**inputs, **kwargs)
    assert isinstance(first, case.result_type)
    assert same(inputs, before), "the stage changed its inputs"
    assert same(case.function(**case.inputs(), **kwargs), first), "the same inputs gave another result"
    if case.params is None:  # the summary's thresholds are the run-summary record's (gait/analysis/summary.py)
        return
    # frozen parameters with defaults, part of AnalysisConfig, and overridable: the override changes the result
    params = case.params
    assert dataclasses.is_dataclass(params) and type(params).__dataclass_params__.frozen
    assert params == type(params)() and hash(params) == hash(type(params)())
    field = dataclasses.fields(params)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(params, field, 0)
    stage = [f.name for f in dataclasses.fields(AnalysisConfig) if isinstance(getattr(AnalysisConfig(), f.name),
                                                                              type(params))]  # fmt: skip
    assert len(stage) == 1, "every stage's parameters are settable through AnalysisConfig"
    changed = AnalysisConfig().replace(**{stage[0]: case.override})
    assert getattr(changed, stage[0]) != params
    assert not same(case.function(**case.inputs(), params=getattr(changed, stage[0])), first)


# --------------------------------------------------------------------------------------------------------------
# AnalysisConfig


def test_config_overrides_by_stage_and_round_trips_through_json(tmp_path):
    cfg = AnalysisConfig().replace(running={"onset_fraction": 0.3, "contact_s": [0.1, 0.4]}, sides=SideParams(0.5))
    assert cfg.running.onset_fraction == 0.3 and cfg.running.contact_s == (0.1, 0.4)
    assert cfg.sides.highpass_hz == 0.5 and cfg.walking == WalkingContactParams()
    assert cfg.changed() == {"running": {"onset_fraction": 0.3, "contact_s": (0.1, 0.4)}, "sides": {"highpass_hz": 0.5}}
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(cfg.changed()))
    assert AnalysisConfig.from_file(path) == cfg
    assert AnalysisConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"runing": {}}, "unknown analysis stage 'runing'"),
        ({"running": {"edge": 0.3}}, "running: unknown parameter 'edge'"),
        ({"running": {"onset_fraction": "a lot"}}, "running.onset_fraction: expected a number"),
        ({"running": {"contact_s": [0.1]}}, "running.contact_s: expected a list of 2 numbers"),
        ({"walking": {"min_steps": 2.5}}, "walking.min_steps: expected a whole number"),
        ({"running": 3}, "running: expected a dict of parameters"),
    ],
)
def test_config_mistakes_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        AnalysisConfig.from_dict(overrides)


def test_config_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{running: 1}")
    with pytest.raises(ConfigError, match=r"bad\.json: not valid JSON"):
        AnalysisConfig.from_file(bad)
    with pytest.raises(ConfigError, match=r"missing\.json: cannot read"):
        AnalysisConfig.from_file(tmp_path / "missing.json")


# --------------------------------------------------------------------------------------------------------------
# the configuration reaches every entry point

NO_RUNNING = {"activity": {"min_flight_fraction": 0.99}}  # no window is in flight 99 % of the time


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory):
    from gait.simulate import SimConfig, simulate, write

    return write(simulate(SimConfig(duration_s=40, seed=51)), tmp_path_factory.mktemp("cfg") / "run")


def test_gait_analyze_and_batch_take_the_config(run_folder):
    import gait
    from gait.batch import analyse_one

    rec = gait.load(run_folder)
    assert gait.analyze(rec).summary.n_steps > 100
    cfg = AnalysisConfig.from_dict(NO_RUNNING)
    assert gait.analyze(rec, config=cfg).summary.n_steps == 0
    assert analyse_one(str(run_folder))["steps"] > 100 and analyse_one(str(run_folder), config=cfg)["steps"] == 0


def test_validation_takes_the_config(tmp_path):
    from gait.validation.run import run_validation
    from gait.validation.simgrid import cells

    v = run_validation(tmp_path, quick=True, config=AnalysisConfig.from_dict(NO_RUNNING))  # no lab data: grid only
    assert len(v.simulator) == len(cells(quick=True)) and v.simulator["cadence err (spm)"].isna().all()


def test_cli_config_file(run_folder, tmp_path, capsys):
    from gait.cli.main import main

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(NO_RUNNING))
    assert main(["analyze", str(run_folder), "--no-save", "--format", "json", "--config", str(settings)]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 0
    settings.write_text('{"running": {"edge": 0.3}}')
    assert main(["analyze", str(run_folder), "--no-save", "--config", str(settings)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "settings.json: running: unknown parameter 'edge'" in err[0]


def test_walking_time_and_walking_steps_agree():
    """An "other" stretch that regular walking steps fill is walking time; walking steps left in "other" time
    are marked "other" and never give a walking cadence without walking time (issue 14)."""
    from gait.analysis.pipeline import _walking_from_steps

    bouts = pd.DataFrame(
        {"activity": ["still", "other", "other"], "start_s": [0.0, 5.0, 20.0], "end_s": [5.0, 15.0, 30.0]}
    )
    bouts["duration_s"] = bouts["end_s"] - bouts["start_s"]
    filled = 5.2 + 0.6 * np.arange(16)  # 9 s of regular steps in a 10-s "other" stretch
    stray = np.array([21.0, 21.6, 22.2, 22.8, 23.4])  # 2.4 s of steps in the other 10-s stretch
    ic = np.concatenate((filled, stray))
    steps = pd.DataFrame({"ic_s": ic, "activity": "walk", "bout": np.r_[np.full(16, 1), np.full(5, 2)]})
    activity_s = {"still": 5.0, "other": 20.0}
    steps2, bouts2, seconds = _walking_from_steps(steps, bouts, activity_s, min_steps=4)
    assert list(bouts2["activity"]) == ["still", "walk", "other"]
    assert seconds["walk"] == pytest.approx(10.0) and seconds["other"] == pytest.approx(10.0)
    kinds = steps2["activity"].to_numpy()
    assert (kinds[:16] == "walk").all() and (kinds[16:] == "other").all()
