"""Speed, grade and the terrain split against the simulator's truth: a hilly route with GPS noise, lag and a gap
and a drifting barometer (gait.simulate_route), laid out as Sensor Logger, phyphox and a FIT watch write it
(tests/fixtures/phone/phone_sim.py), imported and analysed by gait."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import gait
from gait.analysis.pipeline import analyze as analyze_movement
from gait.analysis.terrain import (
    DOWNHILL,
    FLAT,
    IMU_QUALITY,
    UNKNOWN,
    UPHILL,
    Source,
    TerrainTrack,
    add_step_terrain,
    classify,
    step_speed_loss,
    terrain_sources,
    terrain_track,
)
from gait.constants import G0
from gait.recording.fit_import import FIT_EPOCH_S
from gait.recording.model import Recording, StreamData
from gait.simulate_route import with_route
from tests.fixtures.phone.phone_sim import (
    EPOCH0_NS,
    GPS_GAP_S,
    fit_bytes,
    hilly_route,
    hilly_sim,
    phyphox_csvs,
    phyphox_route_csvs,
    route_watch_records,
    sensorlogger_files,
    sensorlogger_route_files,
    write_sensorlogger,
    zip_bytes,
)

#: what gait must reach against the route's truth (measured figures are in docs/terrain.md)
SPEED_RMSE_MPS, SPEED_MAX_MPS = 0.15, 0.6
GRADE_RMSE_PCT, GRADE_MAX_PCT = 0.6, 2.0


@pytest.fixture(scope="module")
def hills():
    sim = hilly_sim()
    return sim, hilly_route(sim)


def track_of(rec: Recording) -> TerrainTrack:
    kinds = {s.name: s.kind for s in rec.meta.streams}
    return terrain_track(terrain_sources(rec.extra, kinds), float(rec.imu.t[-1]))


def running(track: TerrainTrack, route, margin_s: float = 15.0) -> np.ndarray:
    """Grid points while running, away from the start and stop (where pace ramps from zero)."""
    t = track.t_s
    return (t > 5.0 + margin_s) & (t < 485.0 - margin_s)


def errors(track: TerrainTrack, route, column: str, values: np.ndarray) -> np.ndarray:
    run = running(track, route)
    return values[run] - route.at(track.t_s[run], column)


def check_against_truth(track: TerrainTrack, route) -> None:
    ev = errors(track, route, "speed_mps", track.speed_mps)
    eg = errors(track, route, "grade_pct", track.grade_pct)
    assert np.isfinite(ev).all() and np.isfinite(eg).all()  # the GPS gap is bridged, the barometer keeps going
    assert np.sqrt(np.mean(ev**2)) < SPEED_RMSE_MPS and np.abs(ev).max() < SPEED_MAX_MPS
    assert np.sqrt(np.mean(eg**2)) < GRADE_RMSE_PCT and np.abs(eg).max() < GRADE_MAX_PCT
    # the terrain split: every hill found, each boundary within 25 m of the truth's
    seg = track.segments
    assert list(seg["terrain"]) == [FLAT, UPHILL, FLAT, DOWNHILL, FLAT, UPHILL, FLAT]
    true_bounds = np.array([250.0, 500.0, 700.0, 950.0, 1150.0, 1350.0])
    assert np.abs(seg["start_m"].to_numpy()[1:] - true_bounds).max() <= 25.0
    hills = seg[seg["terrain"] != FLAT]
    assert np.allclose(hills["grade_pct"], [6.0, -6.0, 3.0], atol=0.8)


def test_track_from_simulated_streams_matches_truth(hills) -> None:
    sim, route = hills
    track = track_of(with_route(sim.recording, route))
    assert track.speed_source == "GPS (location)" and track.grade_source == "barometer (baro)"
    check_against_truth(track, route)
    gap = (track.t_s > GPS_GAP_S[0] + 2) & (track.t_s < GPS_GAP_S[1] - 2)
    assert (track.speed_quality[gap] < 0.5).all() and (track.speed_quality[running(track, route) & ~gap] > 0.5).any()
    assert any("bridged" in n for n in track.notes)


def test_sensorlogger_export_with_location_and_barometer(hills, tmp_path: Path) -> None:
    sim, route = hills
    files = sensorlogger_files(sim, "ios") | sensorlogger_route_files(route)
    rec = gait.load(write_sensorlogger(sim, "ios", tmp_path / "export.zip", as_zip=True, files=files))
    kinds = {s.name: s.kind for s in rec.meta.streams}
    assert kinds == {"imu": "imu", "location": "location", "baro": "baro"}
    loc = rec.extra["location"]
    # on the recording's clock: 0 = the first IMU sample kept (the first accelerometer sample with a gyroscope
    # reading on both sides, 10 ms into the simulation)
    assert len(loc.t) == len(route.location.t) and np.allclose(loc.t, route.location.t - 0.01, atol=1e-6)
    assert np.allclose(loc.column("latitude_deg"), route.location.column("latitude_deg"), atol=1e-8)
    assert np.allclose(rec.extra["baro"].column("pressure_hpa"), route.baro.values[:, 0], atol=1e-4)
    check_against_truth(track_of(rec), route)
    # the import keeps both streams on disk, and they read back the same
    folder = gait.recording.save(rec, tmp_path / "run")
    back = gait.load(folder)
    assert np.array_equal(back.extra["location"].t, loc.t)
    assert np.allclose(back.extra["location"].values, loc.values, equal_nan=True, rtol=1e-6, atol=1e-6)
    meta = json.loads((folder / "meta.json").read_text())
    units = next(s for s in meta["streams"] if s["name"] == "location")["units"]
    assert units["latitude_deg"] == "deg" and units["speed_accuracy_mps"] == "m/s"


def test_phyphox_export_with_location_and_pressure(hills, tmp_path: Path) -> None:
    sim, route = hills
    path = tmp_path / "phyphox.zip"
    path.write_bytes(zip_bytes(phyphox_csvs(sim) | phyphox_route_csvs(route)))
    rec = gait.load(path)
    assert set(rec.extra) == {"location", "baro"}
    assert np.isnan(rec.extra["baro"].column("altitude_m")).all()  # phyphox gives pressure only
    check_against_truth(track_of(rec), route)


def test_watch_fit_attached_to_an_imu_recording(hills, tmp_path: Path) -> None:
    """A watch started 10 s after the IMU: its positions, speed and barometric altitude are attached on the
    recording's clock, and speed and grade come out as from the phone."""
    sim, route = hills
    imu = gait.recording.save(sim.recording, tmp_path / "imu")
    start_fit = EPOCH0_NS // 10**9 - FIT_EPOCH_S + 10
    fit = tmp_path / "watch.fit"
    fit.write_bytes(fit_bytes(route_watch_records(route, start_offset_s=10), start_fit_s=start_fit, location=True))
    from gait.cli.main import main

    assert main(["import", str(fit), "--attach", str(imu), "--out", str(tmp_path / "both")]) == 0
    rec = gait.load(tmp_path / "both")
    loc = rec.extra["watch_location"]
    assert loc.t[0] == 10.0
    lat = loc.column("latitude_deg")
    assert np.isnan(lat[(loc.t > GPS_GAP_S[0] + 1) & (loc.t < GPS_GAP_S[1] - 1)]).all()  # no fix in the tunnel
    track = track_of(rec)
    assert track.speed_source == "watch (watch_location)" and track.grade_source == "watch altitude (watch_location)"
    run = running(track, route) & (track.t_s > 25)
    ev = track.speed_mps[run] - route.at(track.t_s[run], "speed_mps")
    eg = track.grade_pct[run] - route.at(track.t_s[run], "grade_pct")
    assert np.sqrt(np.nanmean(ev**2)) < SPEED_RMSE_MPS and np.sqrt(np.nanmean(eg**2)) < GRADE_RMSE_PCT
    assert list(track.segments["terrain"]) == [FLAT, UPHILL, FLAT, DOWNHILL, FLAT, UPHILL, FLAT]


def test_gps_altitude_alone_gives_a_rough_grade_and_no_split(hills) -> None:
    """A phone's GPS altitude wanders by metres: the grade from it is marked as poor and no terrain split is made
    from it, though a 6 % hill still shows in its sign."""
    sim, route = hills
    track = track_of(with_route(sim.recording, route, baro=False))
    assert track.grade_source == "GPS altitude (location)"
    assert track.grade_quality.max() < 0.31 < track.speed_quality.max()
    assert set(track.segments["terrain"]) == {UNKNOWN}
    truth = route.at(track.t_s, "grade_pct")
    assert np.nanmean(track.grade_pct[truth > 5]) > 3 and np.nanmean(track.grade_pct[truth < -5]) < -3


def test_foot_pod_covers_the_gps_gap(hills) -> None:
    _, route = hills
    t = np.arange(0.5, 490.0, 1.0)
    pod_speed = route.at(t, "speed_mps") * 1.02  # a pod calibrated 2 % long
    pod = StreamData(t, np.column_stack((pod_speed, np.full((len(t), 3), np.nan))),
                     ("t_s", "speed_mps", "cadence_spm", "stride_length_m", "distance_m"))  # fmt: skip
    sources = [Source("location", "location", route.location), Source("rsc", "rsc", pod)]
    track = terrain_track(sources, 490.0)
    gap = (track.t_s > GPS_GAP_S[0] + 3) & (track.t_s < GPS_GAP_S[1] - 3)
    assert "foot pod (rsc)" in track.speed_source and not any("bridged" in n for n in track.notes)
    truth = route.at(track.t_s[gap], "speed_mps")
    assert np.allclose(track.speed_mps[gap], truth * 1.02, rtol=0.03)


def test_imu_only_speed_is_used_only_without_another_source(hills) -> None:
    _, route = hills
    ic = np.arange(5.0, 485.0, 0.35)
    imu = (ic, np.full(len(ic), 3.0))
    alone = terrain_track([], 490.0, imu_speed=imu)
    inside = (alone.t_s > 20) & (alone.t_s < 470)
    assert alone.speed_source == "IMU-only estimate" and np.allclose(alone.speed_mps[inside], 3.0)
    assert set(np.unique(alone.speed_quality[alone.speed_quality > 0])) == {IMU_QUALITY}
    with_gps = terrain_track([Source("location", "location", route.location)], 490.0, imu_speed=imu)
    assert "IMU" not in with_gps.speed_source  # the 40-s gap is bridged from GPS, not filled from the IMU


def test_steps_get_speed_grade_and_hill_adjusted_speed_loss(hills) -> None:
    """Per step, against the simulator's truth: speed and grade at each contact, and the step speed loss
    adjusted by the true grade from the true braking."""
    sim, route = hills
    rec = with_route(sim.recording, route)
    steps = add_step_terrain(analyze_movement(rec).steps, track_of(rec))
    run = steps[(steps["activity"] == "run") & ~steps["low_confidence"] & (steps["ic_s"] > 20) & (steps["ic_s"] < 470)]
    assert np.sqrt(np.mean((run["speed_mps"] - route.at(run["ic_s"], "speed_mps")) ** 2)) < SPEED_RMSE_MPS
    assert np.sqrt(np.mean((run["grade_pct"] - route.at(run["ic_s"], "grade_pct")) ** 2)) < GRADE_RMSE_PCT
    assert (run["speed_quality"] > 0.3).all() and (run["grade_quality"] > 0.3).all()
    # the truth's steps, matched to gait's by initial contact
    truth = sim.truth[sim.truth["activity"] == "run"]
    k = np.clip(np.searchsorted(truth["ic_s"].to_numpy(), run["ic_s"].to_numpy()), 1, len(truth) - 1)
    k = np.where(np.abs(truth["ic_s"].to_numpy()[k - 1] - run["ic_s"].to_numpy()) <
                 np.abs(truth["ic_s"].to_numpy()[k] - run["ic_s"].to_numpy()), k - 1, k)  # fmt: skip
    tr = truth.iloc[k]
    true_grade = route.at(tr["ic_s"], "grade_pct")
    true_loss = tr["braking_dv_mps"].to_numpy() - G0 * np.sin(np.arctan(true_grade / 100)) * tr[
        "braking_duration_ms"].to_numpy() / 1000  # fmt: skip
    measured_adjustment = run["step_speed_loss_mps"].to_numpy() - run["braking_dv_mps"].to_numpy()
    true_adjustment = true_loss - tr["braking_dv_mps"].to_numpy()
    for terrain in (UPHILL, DOWNHILL):
        on = (run["terrain"] == terrain).to_numpy()
        assert on.sum() > 50
        # the slope's share: about -0.06 m/s per step on the 6 % climb, +0.06 down (braking ~110 ms)
        assert abs(np.median(measured_adjustment[on]) - np.median(true_adjustment[on])) < 0.015
        assert np.sign(np.median(measured_adjustment[on])) == (-1 if terrain == UPHILL else 1)
    err = run["step_speed_loss_mps"].to_numpy() - true_loss
    assert abs(np.median(err)) < 0.05
    pct = run["step_speed_loss_pct"].to_numpy()
    assert np.allclose(pct, 100 * run["step_speed_loss_mps"] / run["speed_mps"])


def test_step_speed_loss_rules() -> None:
    loss, pct = step_speed_loss(np.array([0.3, 0.3, 0.3, 0.3]), np.array([100.0, 100.0, 100.0, 100.0]),
                                np.array([10.0, -10.0, np.nan, 0.0]), np.array([3.0, 3.0, 3.0, np.nan]))  # fmt: skip
    g_part = G0 * np.sin(np.arctan(0.1)) * 0.1  # 0.0976 m/s
    assert np.allclose(loss, [0.3 - g_part, 0.3 + g_part, 0.3, 0.3])
    assert np.allclose(pct[:3], 100 * loss[:3] / 3.0) and np.isnan(pct[3])


def test_classify_thresholds() -> None:
    labels = classify(np.array([2.5, 2.0, 0.0, -2.0, -2.01, np.nan]))
    assert list(labels) == [UPHILL, FLAT, FLAT, FLAT, DOWNHILL, UNKNOWN]


def test_short_bumps_do_not_split_the_run() -> None:
    """A 40-m ramp of 5 % (an underpass) inside flat road stays one flat segment."""
    from gait.simulate_route import HillProfile, RouteConfig, simulate_route

    prof = HillProfile(((0.0, 0.0), (600.0, 5.0), (640.0, -5.0), (680.0, 0.0)), transition_m=10.0)
    route = simulate_route((("run", 400.0),), RouteConfig(profile=prof, seed=2))
    track = terrain_track([Source("location", "location", route.location), Source("baro", "baro", route.baro)],
                          400.0)  # fmt: skip
    assert list(track.segments["terrain"]) == [FLAT]


def test_live_push_with_location_and_barometer(hills, tmp_path: Path) -> None:
    """Sensor Logger's HTTP Push with location and barometer readings beside the IMU: recorded as the ``location``
    and ``baro`` streams on the IMU's clock, and speed and grade come out as from the export."""
    import asyncio

    from tests.fixtures.phone.phone_sim import push_messages, route_push_readings
    from tests.fixtures.phone.push import record_push

    sim, route = hills
    msgs = push_messages(sim, "android", batch_s=1.0, with_total=True)
    for m in msgs:
        a = m["messageId"] * 1.0
        m["payload"] += route_push_readings(route, a, a + 1.0, android=True)
    msgs[100], msgs[101] = msgs[101], msgs[100]  # one pair out of order

    bodies = [(json.dumps(m).encode(), "/push", {}) for m in msgs]
    src, _result, answers = asyncio.run(record_push(tmp_path / "live", bodies))
    assert all(text == "ok\n" for _, text in answers)
    assert src.terrain.released["location"] == len(route.location.t)
    rec = gait.load(tmp_path / "live")
    kinds = {s.name: s.kind for s in rec.meta.streams}
    assert kinds["location"] == "location" and kinds["baro"] == "baro"
    loc, baro = rec.extra["location"], rec.extra["baro"]
    # the phone's clock maps onto the recording's with the IMU's one offset: location keeps its place beside it
    # (the first accelerometer sample has no gyroscope reading before it and is dropped: the IMU starts at the 2nd)
    offset = rec.imu.t[0] - sim.recording.imu.t[1]
    assert np.allclose(loc.t - offset, route.location.t, atol=1e-3)
    assert np.allclose(baro.column("pressure_hpa"), route.baro.values[:, 0], atol=1e-3)
    assert np.allclose(loc.column("speed_accuracy_mps"), route.location.column("speed_accuracy_mps"), atol=1e-5)
    track = track_of(rec)
    shifted = dataclasses.replace(track, t_s=track.t_s - offset)
    check_against_truth(shifted, route)


@pytest.mark.parametrize(
    "location, note",
    [
        ("", "location.csv is not a readable CSV"),
        ("time,seconds_elapsed,latitude,longitude\n", "Location.csv holds no usable readings"),
        ("time,seconds_elapsed,latitude,longitude\n1,0,abc,def\n2,0,-1,999\n", "Location.csv holds no usable"),
        ("time,seconds_elapsed,speed\n1,0,2.0\n", "Location.csv holds no usable readings"),
    ],
)
def test_a_damaged_location_file_costs_only_itself(hills, tmp_path: Path, location: str, note: str) -> None:
    sim, route = hills
    files = sensorlogger_files(sim, "android") | sensorlogger_route_files(route) | {"Location.csv": location}
    rec = gait.load(write_sensorlogger(sim, "android", tmp_path / "export", as_zip=False, files=files))
    assert "location" not in rec.extra and "baro" in rec.extra and rec.imu.n > 40000
    assert any(n.startswith(note) for n in rec.notes), rec.notes


def test_invalid_values_become_nan() -> None:
    from gait.recording.location_import import baro_data, location_data

    loc = location_data(np.array([0.0, 1.0, 1.0, np.nan]), np.array([47.0, 95.0, 47.0, 47.0]),
                        np.array([8.0, 8.0, 8.0, 8.0]), speed=np.array([-1.0, 3.0, 3.0, 3.0]),
                        horizontal_accuracy=np.array([-1.0, 4.0, 4.0, 4.0]))  # fmt: skip
    assert loc is not None and list(loc.t) == [0.0, 1.0]  # repeated and missing times dropped
    assert np.isnan(loc.column("speed_mps")[0]) and np.isnan(loc.column("horizontal_accuracy_m")[0])
    assert np.isnan(loc.column("latitude_deg")[1])  # 95 deg is no latitude
    baro = baro_data(np.array([0.0, 1.0]), np.array([1013.0, 5.0]), np.array([0.0, 0.4]))
    assert baro is not None and np.isnan(baro.column("pressure_hpa")[1])  # 5 hPa is no air pressure
    assert len(baro_data(np.array([0.0, 1.0]), np.array([1013.0, 5.0])).t) == 1  # nothing left in that row
    assert baro_data(np.array([0.0]), np.array([np.nan])) is None


def test_push_location_readings_are_checked() -> None:
    from gait.sources.phone.sensorlogger import PayloadError, parse_push

    def msg(values: object) -> bytes:
        return json.dumps({"messageId": 1, "payload": [{"name": "location", "time": 1, "values": values}]}).encode()

    ok = parse_push(msg({"latitude": 47.0, "longitude": 8.0, "speed": -1}))
    t, v = ok.terrain["location"]
    assert t[0] == 1 and v[0, 0] == 47.0 and v[0, 3] == -1 and np.isnan(v[0, 2])  # -1 becomes NaN on recording
    assert parse_push(msg({"bearing": 12.0})).terrain == {}  # nothing gait reads: skipped, not refused
    for bad in ({"latitude": "47"}, {"latitude": 1e39}, "47,8"):
        with pytest.raises(PayloadError):
            parse_push(msg(bad))
