"""Analysis against simulator truth over a grid of runners, sensors and mountings.

The simulator's forces are its own (two-component, not the detector's half sine). This grid keeps the pelvis
moving with the centre of mass (``push_off_lift_g=0``): with the pelvis's push-off lift, which real sacral
signals show, today's detector reads toe-off late (contact time up to +23 ms on the level, +36 to +111 ms
uphill); that is measured, not asserted away, in tests/test_simulator_grid.py and docs/simulator.md.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import gait
from gait.recording.model import Recording
from gait.simulate import SimConfig
from tests.conftest import match_steps, simulated

# cadence 150-200 spm, drop 2-12 deg per side, rates 52-416 Hz, random mountings, noise
_RUNNERS = [
    SimConfig(
        duration_s=70,
        cadence_spm=150,
        drop_left_deg=2,
        drop_right_deg=12,
        rate_hz=52,
        mounting="random",
        seed=11,
    ),
    SimConfig(
        duration_s=70,
        cadence_spm=160,
        drop_left_deg=8,
        drop_right_deg=4,
        rate_hz=104,
        mounting="tilted",
        seed=12,
    ),
    SimConfig(
        duration_s=70,
        cadence_spm=170,
        drop_left_deg=5,
        drop_right_deg=5,
        rate_hz=208,
        mounting="upside_down",
        seed=13,
    ),
    SimConfig(
        duration_s=70,
        cadence_spm=180,
        drop_left_deg=12,
        drop_right_deg=2,
        rate_hz=416,
        mounting="random",
        seed=14,
    ),
    SimConfig(
        duration_s=70,
        cadence_spm=190,
        drop_left_deg=3,
        drop_right_deg=7,
        rate_hz=100,
        mounting="rot90",
        seed=15,
        impact_g=0.0,
    ),
    SimConfig(
        duration_s=70,
        cadence_spm=200,
        drop_left_deg=6,
        drop_right_deg=10,
        rate_hz=208,
        mounting="random",
        seed=16,
        acc_noise_ms2=0.25,
        gyro_noise_rads=0.03,
    ),
    SimConfig(
        duration_s=70,
        cadence_spm=165,
        drop_left_deg=10,
        drop_right_deg=6,
        rate_hz=52,
        mounting="rot180",
        seed=17,
        impact_g=0.0,
    ),
    SimConfig(
        duration_s=70,
        cadence_spm=175,
        drop_left_deg=4,
        drop_right_deg=9,
        rate_hz=333,
        mounting="random",
        seed=18,
        braking_dv_mps=0.35,
        contact_asymmetry_pct=8,
    ),
]
GRID = [dataclasses.replace(c, push_off_lift_g=0.0) for c in _RUNNERS]


def _compare(cfg: SimConfig):
    sim = simulated(cfg)
    res = gait.analyze(sim.recording)
    truth = sim.truth[sim.truth["activity"] == "run"]
    idx, ok = match_steps(res.steps, truth["ic_s"].to_numpy(), tol=0.08)
    return sim, res, truth, idx, ok


@pytest.mark.parametrize("cfg", GRID, ids=lambda c: f"{c.cadence_spm:.0f}spm-{c.rate_hz:.0f}Hz-{c.mounting}")
def test_grid_meets_simulator_targets(cfg: SimConfig):
    sim, res, truth, idx, ok = _compare(cfg)
    s = res.summary
    assert ok.mean() > 0.97, "steps found"
    t = sim.truth_summary()
    assert abs(s.cadence_spm - t["cadence_spm"]) <= 1.0, "cadence within 1 spm"
    est = res.steps.iloc[idx[ok]]
    ct_err = est["contact_time_ms"].to_numpy() - truth["contact_time_ms"].to_numpy()[ok]
    # issue 14's limit for a trial: 30 ms (the two-component rearfoot stances of these runners read 5-17 ms
    # long; docs/accuracy.md)
    assert abs(np.median(ct_err)) <= 30 and np.mean(np.abs(ct_err)) <= 30, "contact time within 30 ms"
    sides_ok = est["side"].to_numpy() == truth["side"].to_numpy()[ok]
    assert sides_ok.mean() >= 0.99, f"side labels {sides_ok.mean():.3f}"
    for side, name in (("L", "left"), ("R", "right")):
        est_drop = s.per_side["pelvic_drop_deg"].__getattribute__(name)
        true_drop = t[f"pelvic_drop_deg_{name}"]
        assert abs(est_drop - true_drop) <= 1.0, f"{side} drop {est_drop:.2f} vs {true_drop:.2f}"


def test_braking_vertical_oscillation_and_impact_follow_truth():
    # a rigidly attached sensor: a clip ringing on soft tissue adds its own fore-aft peak to the braking peak
    # (+0.1 g at 15 Hz; reported in docs/simulator.md), which no analysis of one sensor can take back out
    sim, res, truth, idx, ok = _compare(dataclasses.replace(GRID[2], wobble_hz=0.0))
    med = res.summary.medians
    t = sim.truth_summary()
    assert abs(med["braking_dv_mps"] - t["braking_dv_mps"]) < 0.03
    assert abs(med["braking_peak_g"] - t["braking_peak_g"]) < 0.06
    assert abs(med["vertical_oscillation_cm"] - t["vertical_oscillation_cm"]) < 0.5
    assert abs(med["impact_g"] - t["impact_g"]) < 0.15
    est = res.steps.iloc[idx[ok]]
    r = np.corrcoef(est["braking_dv_mps"], truth["braking_dv_mps"].to_numpy()[ok])[0, 1]
    assert r > 0.5, "per-step braking follows the simulated step-to-step variation"


AXIS_MOUNTINGS = [
    m
    for m in (np.array(p) for p in itertools.product([-1, 0, 1], repeat=9))
    if abs(np.linalg.det(m.reshape(3, 3)) - 1) < 1e-9 and np.allclose(m.reshape(3, 3) @ m.reshape(3, 3).T, np.eye(3))
]


def test_all_24_axis_aligned_mountings_give_the_same_answer():
    assert len(AXIS_MOUNTINGS) == 24
    sim = simulated(SimConfig(duration_s=60, seed=21))
    rec = sim.recording
    base = gait.analyze(rec).summary
    for m in AXIS_MOUNTINGS:
        r = m.reshape(3, 3)
        turned = Recording.from_arrays(rec.imu.t, rec.imu.acc @ r.T, rec.imu.gyr @ r.T)
        s = gait.analyze(turned).summary
        assert abs(s.cadence_spm - base.cadence_spm) < 0.05
        assert abs(s.medians["contact_time_ms"] - base.medians["contact_time_ms"]) < 1.0
        assert abs(s.per_side["pelvic_drop_deg"].left - base.per_side["pelvic_drop_deg"].left) < 0.05
        assert abs(s.per_side["pelvic_drop_deg"].right - base.per_side["pelvic_drop_deg"].right) < 0.05


def test_random_tilts_and_heading_give_the_same_answer():
    sim = simulated(SimConfig(duration_s=60, seed=22, drop_left_deg=4, drop_right_deg=8))
    rec = sim.recording
    truth = sim.truth_summary()
    for k in range(4):
        r = Rotation.random(random_state=k).as_matrix()
        s = gait.analyze(Recording.from_arrays(rec.imu.t, rec.imu.acc @ r.T, rec.imu.gyr @ r.T)).summary
        assert abs(s.per_side["pelvic_drop_deg"].left - truth["pelvic_drop_deg_left"]) < 1.0
        assert abs(s.per_side["pelvic_drop_deg"].right - truth["pelvic_drop_deg_right"]) < 1.0


def test_accelerometer_only_gives_timing_sides_and_says_what_is_missing():
    sim = simulated(SimConfig(duration_s=70, seed=23, gyro=False, mounting="random"))
    res = gait.analyze(sim.recording)
    truth = sim.truth[sim.truth["activity"] == "run"]
    idx, ok = match_steps(res.steps, truth["ic_s"].to_numpy(), tol=0.08)
    assert abs(res.summary.cadence_spm - sim.truth_summary()["cadence_spm"]) < 1.0
    ct_err = res.steps["contact_time_ms"].to_numpy()[idx[ok]] - truth["contact_time_ms"].to_numpy()[ok]
    assert abs(np.median(ct_err)) < 30  # issue 14's per-trial limit (rearfoot stances read long, see above)
    assert (res.steps["side"].to_numpy()[idx[ok]] == truth["side"].to_numpy()[ok]).mean() > 0.95
    d = res.to_dict()
    assert d["pelvic_drop_left_deg"] is None and d["pelvic_drop_right_deg"] is None
    assert "no gyroscope" in d["quality"]["unavailable"]["pelvic_drop_deg"]
    assert "no_gyroscope" in d["quality"]["flags"]


def test_dropouts_are_bridged_flagged_and_do_not_break_sides():
    sim = simulated(SimConfig(duration_s=90, seed=24, dropout_fraction=0.05, dropout_mean_s=0.15))
    res = gait.analyze(sim.recording)
    truth = sim.truth[sim.truth["activity"] == "run"]
    idx, ok = match_steps(res.steps, truth["ic_s"].to_numpy(), tol=0.08)
    est = res.steps.iloc[idx[ok]]
    assert ok.mean() > 0.85
    good = ~est["low_confidence"].to_numpy()
    assert (est["side"].to_numpy()[good] == truth["side"].to_numpy()[ok][good]).mean() > 0.98
    assert res.summary.n_excluded > 0 and "gaps" in res.quality.flags
    assert abs(res.summary.cadence_spm - sim.truth_summary()["cadence_spm"]) < 1.0


def test_walking_warm_up_is_recognised_and_kept_out_of_running_metrics():
    sim = simulated(SimConfig(segments=(("stand", 4.0), ("walk", 30.0), ("run", 60.0), ("stand", 3.0)), seed=25))
    res = gait.analyze(sim.recording)
    s = res.summary
    assert 20 < s.walking_s < 36 and 50 < s.running_s < 66
    walk = sim.truth[sim.truth["activity"] == "walk"]
    assert abs(s.walking_cadence_spm - 60 / walk["step_time_s"].mean()) < 2.0
    assert (res.steps.loc[res.steps["activity"] == "run", "ic_s"] > 33.0).all()


def test_fatigue_drift_is_reported():
    cfg = SimConfig(duration_s=600, seed=26, rate_hz=104, drop_drift_right_deg=4.0, cadence_drift_spm=-6.0)
    res = gait.analyze(simulated(cfg).recording)
    drift = res.summary.drift
    assert 2.5 < drift["pelvic_drop_deg"].right_change < 5.0
    assert abs(drift["pelvic_drop_deg"].left_change) < 1.0
    assert -7.0 < drift["cadence_spm"].change < -3.5


def test_step_period_of_a_signal_without_repetition_is_nan_not_a_crash() -> None:
    """Regression: a short random walk has only negative autocorrelation peaks, which crashed the live view."""
    from gait.analysis.align import step_period

    x = np.cumsum(np.random.default_rng(0).normal(size=230))
    assert np.isnan(step_period(x, 100.0))
