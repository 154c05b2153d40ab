"""The simulator's own truth is consistent with its physics and its configuration."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait.constants import G0
from gait.errors import SimulationError
from gait.simulate import CONTACT_THRESHOLD_BW, SimConfig, load_truth, simulate, write

REPO = Path(__file__).resolve().parents[1]


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


# --------------------------------------------------------------------------------------------------------- #
# the simulator is independent of the analysis, and its truth is measured on its own force


def _gait_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n == "gait" or n.startswith("gait.")}


def test_simulator_imports_nothing_from_the_analysis():
    """Simulator tests can only catch a detector that misfits real signals if the simulator does not share the
    detector's templates: neither gait.simulate nor any gait module it pulls in may import gait.analysis."""
    seen: set[str] = set()
    todo = ["gait.simulate"]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        rel = Path(*mod.split("."))
        path = REPO / f"{rel}.py" if (REPO / f"{rel}.py").exists() else REPO / rel / "__init__.py"
        if mod != "gait" and path.exists():
            todo.extend(_gait_imports(path))
    assert not [m for m in seen if m.startswith("gait.analysis")], sorted(seen)
    assert "gait.recording.model" in seen  # the walk did follow the simulator's imports
    out = subprocess.run(
        [sys.executable, "-c", "import sys, gait.simulate; print([m for m in sys.modules if 'gait.analysis' in m])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def _steady(r, k: int = 3):
    run = r.truth[r.truth["activity"] == "run"]
    return run.iloc[k:-k]


@pytest.mark.parametrize("cfg", [SimConfig(duration_s=20, seed=5), SimConfig(duration_s=20, seed=6, slope_deg=10)])
def test_truth_is_where_the_force_crosses_the_force_plate_threshold(cfg):
    r = simulate(cfg)
    run = _steady(r)
    for col in ("ic_s", "to_s"):
        before = r.normal_force_bw(run[col].to_numpy() - 0.001)
        after = r.normal_force_bw(run[col].to_numpy() + 0.001)
        inside, outside = (after, before) if col == "ic_s" else (before, after)
        assert np.all(outside < CONTACT_THRESHOLD_BW) and np.all(inside > CONTACT_THRESHOLD_BW), col
    mid_flight = (run["to_s"].to_numpy() + run["ic_s"].shift(-1).to_numpy())[:-1] / 2
    assert np.all(r.normal_force_bw(mid_flight) == 0.0)


def _mean_force(r):
    """Mean normal force (BW) per millisecond after each steady contact's truth IC, over the first 60 ms."""
    run = _steady(r)
    u = np.arange(0.0, 0.060, 0.001)
    return r.normal_force_bw((run["ic_s"].to_numpy()[:, None] + u[None, :]).ravel()).reshape(len(run), -1).mean(0)


def test_foot_strikes_and_hills_shape_the_landing():
    base = dict(duration_s=20, seed=8, step_jitter_pct=0.0)
    rear, mid, fore = (_mean_force(simulate(SimConfig(strike=s, **base))) for s in ("rearfoot", "midfoot", "forefoot"))
    # rearfoot: a distinct impact peak 20-35 ms in, followed by a dip; forefoot: a monotonic rise, no impact
    k = int(np.argmax(rear[:45]))
    assert 20 <= k <= 35 and rear[k] > 1.6 and rear[k:50].min() < rear[k] - 0.1
    assert np.all(np.diff(fore) > 0)
    assert rear[k] > mid[k] > fore[k] - 0.3
    down, up = (_mean_force(simulate(SimConfig(slope_deg=s, **base))) for s in (-10, 10))
    assert down[:40].max() > 1.3 * rear[:40].max()  # downhill: larger impact (Gottschall & Kram: +54 % at -9 deg)
    assert np.all(np.diff(up[:45]) > 0)  # steep uphill: the impact is gone


def test_hills_keep_momentum_balance_and_change_contact_and_braking():
    """Over whole steps the ground carries body weight and the speed is unchanged; uphill the contacts are longer,
    the push stronger; downhill the braking is stronger."""
    out = {}
    for slope in (-10.0, 0.0, 10.0):
        cfg = SimConfig(segments=(("run", 30.0),), slope_deg=slope, seed=9, step_jitter_pct=0.0)
        r = simulate(cfg)
        run = _steady(r)
        t = np.arange(run["ic_s"].iloc[0], run["ic_s"].iloc[-1], 0.0005)
        f = r.forces.at(t) / G0  # world: forward, up, right
        assert abs(f[:, 1].mean() - 1.0) < 0.01 and abs(f[:, 0].mean()) < 0.01, slope
        out[slope] = (run["contact_time_ms"].median(), run["braking_dv_mps"].median())
    assert out[10.0][0] > out[0.0][0] > out[-10.0][0]
    assert out[-10.0][1] > 1.5 * out[0.0][1]


def test_contact_times_from_fast_to_slow_runners_are_what_a_force_plate_measures():
    for cadence, contact in ((230, 150), (170, 240), (150, 320)):
        r = simulate(SimConfig(duration_s=20, cadence_spm=cadence, contact_time_ms=contact, seed=10))
        assert abs(_steady(r)["contact_time_ms"].median() - contact) < 3, (cadence, contact)


def test_soft_tissue_wobble_rings_at_its_frequency_after_landings():
    kw = dict(duration_s=20, seed=11, acc_noise_ms2=0, acc_bias_ms2=0, rate_hz=416)
    rigid = simulate(SimConfig(wobble_hz=0.0, **kw)).recording.imu.acc
    for hz in (10.0, 20.0):
        ring = simulate(SimConfig(wobble_hz=hz, **kw)).recording.imu.acc - rigid
        spectrum = np.abs(np.fft.rfft(ring[2000:6000, 1] * np.hanning(4000)))
        freq = np.fft.rfftfreq(4000, 1 / 416)
        band = (freq > 4) & (freq < 60)
        assert abs(freq[band][np.argmax(spectrum[band])] - hz) < 0.25 * hz, hz


def test_clip_tilt_turns_gravity_in_the_sensor_frame_by_the_tilt():
    kw = dict(duration_s=10, seed=12, acc_noise_ms2=0, acc_bias_ms2=0)
    g0, g1 = (
        simulate(SimConfig(clip_tilt_deg=tilt, **kw)).recording.imu.acc[100:500].mean(0)
        for tilt in ((0.0, 0.0), (20.0, 10.0))
    )
    angle = np.degrees(np.arccos(g0 @ g1 / np.linalg.norm(g0) / np.linalg.norm(g1)))
    assert 21.0 < angle < 23.5  # pitch 20 then roll 10 deg: 22.3 deg between the two gravity directions


def test_the_pelvis_is_lifted_around_toe_off_with_no_net_impulse():
    kw = dict(segments=(("run", 20.0),), seed=13, lever_arm_m=(0.0, 0.0, 0.0), step_jitter_pct=0.0)
    lifted, com = (simulate(SimConfig(push_off_lift_g=g, **kw)) for g in (0.6, 0.0))
    run = _steady(com)
    t = run["to_s"].to_numpy()
    assert np.all(lifted.forces.pelvis(t)[:, 1] - com.forces.pelvis(t)[:, 1] > 0.4 * G0)
    tt = np.arange(run["ic_s"].iloc[0], run["ic_s"].iloc[-1], 0.0005)
    assert abs((lifted.forces.pelvis(tt)[:, 1] - lifted.forces.at(tt)[:, 1]).mean()) < 0.005 * G0


def test_the_bundled_samples_regenerate_unchanged():
    """recordings/make_samples.py pins the earlier spring-mass model, so the committed samples are reproducible."""
    from recordings.make_samples import SAMPLES

    cfg = SAMPLES["easy_run_208hz"]
    assert cfg.force_model == "spring_mass"
    r = simulate(cfg)
    committed = pd.read_feather(REPO / "recordings" / "easy_run_208hz" / "imu.arrow")
    assert np.array_equal(committed["acc_y_ms2"].to_numpy(), r.recording.imu.acc[:, 1].astype(np.float32))
    assert np.array_equal(committed["gyr_x_rads"].to_numpy(), r.recording.imu.gyr[:, 0].astype(np.float32))
