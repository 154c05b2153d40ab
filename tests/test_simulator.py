"""The simulator's own truth is consistent with its physics and its configuration."""

from __future__ import annotations

import numpy as np
import pytest

from gait.constants import G0
from gait.errors import SimulationError
from gait.simulate import SimConfig, load_truth, simulate, write


def test_truth_follows_the_configuration():
    r = simulate(
        SimConfig(
            duration_s=60,
            cadence_spm=180,
            drop_left_deg=3,
            drop_right_deg=9,
            seed=4,
            contact_time_ms=220,
            braking_dv_mps=0.3,
        )
    )
    run = r.truth[r.truth["activity"] == "run"]
    s = r.truth_summary()
    assert abs(s["cadence_spm"] - 180) < 2.0
    assert abs(np.median(run["contact_time_ms"]) - 220) < 6
    # the spline through the knots may overshoot a little; truth is measured on the curve itself
    assert abs(s["pelvic_drop_deg_left"] - 3) < 0.6 and abs(s["pelvic_drop_deg_right"] - 9) < 0.6
    assert abs(s["braking_dv_mps"] - 0.3) < 0.03
    assert list(run["side"][:6]) in (["L", "R"] * 3, ["R", "L"] * 3)  # sides alternate


def test_momentum_balance_free_fall_in_flight_and_one_g_on_average():
    """The COM-level signal (no lever arm, upright, noiseless) averages 1 g and is ~0 g in mid-flight."""
    cfg = SimConfig(
        duration_s=30,
        lever_arm_m=(0.0, 0.0, 0.0),
        acc_noise_ms2=0,
        acc_bias_ms2=0,
        gyro_noise_rads=0,
        gyro_bias_rads=0,
        impact_g=0.0,
        tilt_range_deg=0,
        rotation_range_deg=0,
        obliquity_ic_deg=0,
        drop_left_deg=0,
        drop_right_deg=0,
        step_jitter_pct=0,
        segments=(("run", 30.0),),
    )
    r = simulate(cfg)
    t, acc = r.recording.imu.t, r.recording.imu.acc
    up = acc @ r.mounting_matrix[:, 1]  # sensor axis along body "up"
    tilt = np.radians(15.0)  # the simulated pelvis is tilted 15 deg anteriorly
    vertical = up / np.cos(tilt)
    run = r.truth[r.truth["activity"] == "run"]
    mid_flight = (run["to_s"] + run["ic_s"].shift(-1)) / 2
    idx = np.searchsorted(t, mid_flight.dropna())
    assert np.all(np.abs(acc[idx]).max(axis=1) < 0.2 * G0)
    steady = (t > run["ic_s"].iloc[2]) & (t < run["ic_s"].iloc[-3])
    assert abs(np.mean(vertical[steady]) / G0 - 1.0) < 0.05


def test_mounting_rotates_gravity_into_the_sensor_frame():
    r = simulate(SimConfig(duration_s=20, mounting="upside_down", seed=1))
    still = r.recording.imu.t < 2.5  # the plan starts standing
    g = r.recording.imu.acc[still].mean(axis=0)
    assert g[1] < -0.9 * G0  # body "up" is the sensor's -y


@pytest.mark.parametrize("rate", [50, 104, 208, 416, 833])
def test_supported_rates(rate):
    r = simulate(SimConfig(duration_s=10, rate_hz=rate))
    assert np.isclose(r.recording.imu.rate_hz, rate, rtol=1e-3)


def test_rejects_what_it_cannot_model():
    with pytest.raises(SimulationError, match="outside 50-833"):
        simulate(SimConfig(rate_hz=20))
    with pytest.raises(SimulationError, match="unknown mounting"):
        simulate(SimConfig(mounting="sideways"))
    with pytest.raises(SimulationError, match="bad segment"):
        simulate(SimConfig(segments=(("swim", 10.0),)))


def test_dropouts_remove_bursts_and_seed_reproduces():
    a = simulate(SimConfig(duration_s=60, dropout_fraction=0.05, seed=9))
    b = simulate(SimConfig(duration_s=60, dropout_fraction=0.05, seed=9))
    n_full = 65 * 208
    assert 0.93 * n_full < a.recording.imu.n < 0.96 * n_full
    assert np.array_equal(a.recording.imu.acc, b.recording.imu.acc)
    gaps = np.diff(a.recording.imu.t) > 1.5 / 208
    assert 0 < gaps.sum() < 200  # bursts, not scattered single samples


def test_walking_segments_and_written_truth(tmp_path):
    r = simulate(SimConfig(segments=(("stand", 3.0), ("walk", 20.0), ("run", 30.0)), seed=2))
    acts = set(r.truth["activity"])
    assert acts == {"walk", "run"}
    walk = r.truth[r.truth["activity"] == "walk"]
    assert 100 < 60 / walk["step_time_s"].mean() < 125
    folder = write(r, tmp_path / "sim")
    assert (folder / "truth.json").exists()
    back = load_truth(folder)
    assert len(back) == len(r.truth)
    meta_notes = (folder / "meta.json").read_text()
    assert '"synthetic": true' in meta_notes and "simulate" in meta_notes
