"""Device decoders against the golden frames in firmware_specs/ (vendor vectors where they exist), and the
emulators' encoders against the decoders (round trips)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gait.errors import DeviceError
from gait.sources.ble.devices import movesense, openimu, polar, rsc, witmotion
from gait.sources.ble.devices.base import Frame
from tests.conftest import REPO

SPECS = REPO / "firmware_specs"


def golden(family_file: str) -> list[dict]:
    return json.loads((SPECS / family_file).read_text())["golden_frames"]


def frame_bytes(g: dict) -> bytes:
    return bytes.fromhex(g["hex"].replace(" ", ""))


def test_every_spec_has_the_required_sections():
    files = sorted(SPECS.glob("*.json"))
    assert {f.stem for f in files} == {"movesense_gsp", "polar_pmd", "witmotion_ble5", "sig_rsc", "openimu"}
    for f in files:
        d = json.loads(f.read_text())
        for key in (
            "family",
            "service",
            "characteristics",
            "commands",
            "frame",
            "scaling",
            "rates_hz",
            "timestamps",
            "quirks",
            "golden_frames",
            "sources",
        ):
            assert key in d, (f.name, key)
        assert d["golden_frames"] and all("source" in g and "decoded" in g for g in d["golden_frames"])


@pytest.mark.parametrize("g", golden("movesense_gsp.json"), ids=lambda g: g["name"])
def test_movesense_golden(g: dict):
    data = frame_bytes(g)
    want = g["decoded"]
    if g["kind"] == "command":
        assert data == movesense.subscribe_command(want["reference"], want["path"])
        return
    assert data[0] == movesense.DATA_PART1 and data[1] == want["reference"]
    ts, arr = movesense.decode_imu(data[2:], 2)
    assert ts == want["timestamp_ms"]
    np.testing.assert_allclose(arr[0], want["acc_ms2"], rtol=1e-6)
    np.testing.assert_allclose(arr[1], want["gyro_dps"], rtol=1e-6)


@pytest.mark.parametrize("g", golden("polar_pmd.json"), ids=lambda g: g["name"])
def test_polar_golden(g: dict):
    data = frame_bytes(g)
    want = g["decoded"]
    kind = g["kind"]
    if kind == "response":
        r = polar.parse_control_response(data)
        assert (r.op, r.measurement, r.status, r.more, r.params.hex()) == (
            want["op"],
            want["measurement"],
            want["status"],
            want["more"],
            want["params"],
        )
    elif kind == "settings":
        assert polar.parse_settings(data) == {int(k): v for k, v in want.items()}
    elif kind == "timestamp":
        assert polar.parse_timestamp(data) == want["ns"]
    elif kind == "frame":
        f = polar.parse_frame(data)
        assert (f.measurement, f.timestamp_ns, f.compressed, f.frame_type) == (
            want["measurement"],
            want["timestamp_ns"],
            want["compressed"],
            want["frame_type"],
        )
        counts = (
            polar.decode_compressed(f.content) if f.compressed else polar.decode_uncompressed(f.content, f.frame_type)
        )
        assert counts.tolist() == want["counts"]
    elif kind == "float_content":
        dps = polar.decode_compressed(data, ref_bytes=4).astype(np.int32).view(np.float32)
        np.testing.assert_allclose(dps, want["dps"], rtol=1e-6)
    elif kind == "scaled_frame":  # a whole frame through the driver's decoding, with the START answer's factor
        f = polar.parse_frame(data)
        assert (f.measurement, f.timestamp_ns, f.compressed, f.frame_type) == (
            want["measurement"],
            want["timestamp_ns"],
            want["compressed"],
            want["frame_type"],
        )
        dps = polar.frame_values(f, g["factor"]) / polar.DEG
        np.testing.assert_allclose(dps, want["dps"], rtol=1e-6)
    elif kind == "partial_deltas":
        ref = polar.decode_compressed(data[:6])
        width = data[6]
        deltas = polar.unpack_deltas(data[8:], width, 3, g["samples"])
        counts = np.vstack((ref, ref + np.cumsum(deltas, axis=0)))
        assert counts.tolist() == want["counts"][: g["samples"] + 1]
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("g", golden("witmotion_ble5.json"), ids=lambda g: g["name"])
def test_witmotion_golden(g: dict):
    data = frame_bytes(g)
    want = g["decoded"]
    if g["kind"] == "register":
        assert data[:2] == b"\x55\x71" and data[2] == want["register"]
        assert np.frombuffer(data[4:10], "<i2").tolist() == want["values"]
        return
    values, used = witmotion.decode_packets(data)
    assert used == 20 and values.shape == (1, 9)
    np.testing.assert_allclose(values[0, 0:3], want["acc_g"], atol=6e-5)
    np.testing.assert_allclose(values[0, 3:6], want["gyro_dps"], atol=6e-4)
    np.testing.assert_allclose(values[0, 6:9], want["angle_deg"], atol=6e-4)


@pytest.mark.parametrize("g", golden("sig_rsc.json"), ids=lambda g: g["name"])
def test_rsc_golden(g: dict):
    m = rsc.decode_measurement(frame_bytes(g))
    want = g["decoded"]
    assert (m.speed_mps, m.cadence_per_min, m.stride_length_m, m.distance_m, m.running) == (
        want["speed_mps"],
        want["cadence_per_min"],
        want["stride_length_m"],
        want["distance_m"],
        want["running"],
    )
    assert rsc.encode_measurement(m) == frame_bytes(g)


@pytest.mark.parametrize("g", golden("openimu.json"), ids=lambda g: g["name"])
def test_openimu_golden(g: dict):
    data = frame_bytes(g)
    want = g["decoded"]
    if g["kind"] == "config":
        c = openimu.decode_config(data)
        assert (c.rate_hz, c.has_gyro, list(c.rates_hz)) == (want["rate_hz"], want["has_gyro"], want["rates_hz"])
        assert math.isclose(c.acc_scale, want["acc_scale"], rel_tol=1e-7)
        assert math.isclose(c.gyro_scale, want["gyro_scale"], rel_tol=1e-7)
        assert openimu.encode_config(c) == data
    else:
        p = openimu.decode_packet(data)
        assert (p.seq, p.t0_us, p.counts.tolist()) == (want["seq"], want["t0_us"], want["counts"])
        assert openimu.encode_packet(p.seq, p.t0_us, p.counts) == data


# -- round trips of the emulators' encoders and the stateful parts of the drivers -----------------------------------


def collect() -> tuple[list[Frame], object]:
    out: list[Frame] = []
    return out, out.append


def test_movesense_part2_reassembly_and_timestamps():
    rng = np.random.default_rng(1)
    d = movesense.MovesenseDriver(rate_hz=104)
    frames, emit = collect()
    acc, gyr = rng.normal(0, 5, (8, 3)), rng.normal(0, 100, (8, 3))
    packet = movesense.encode_imu(movesense.REFERENCE, 5000, [acc, gyr])
    parts = movesense.split_packet(packet, 155)
    assert len(parts) == 2 and parts[1][0] == movesense.DATA_PART2
    for p in parts:
        d.on_notify(p, emit)
    assert len(frames) == 1
    np.testing.assert_allclose(frames[0].values[:, :3], acc, rtol=1e-6)
    np.testing.assert_allclose(frames[0].values[:, 3:], np.deg2rad(gyr), rtol=1e-6)
    np.testing.assert_allclose(frames[0].device_t, 5.0 + np.arange(8) / 104)
    # a small packet is complete at once; a lone first part is flushed (if whole) or dropped at the end
    d.on_notify(movesense.encode_imu(movesense.REFERENCE, 6000, [acc[:2], gyr[:2]]), emit)
    assert len(frames) == 2 and frames[1].n == 2
    d.on_notify(parts[0], emit)
    d.finish(emit)
    assert len(frames) == 2  # the half packet could not be decoded: lost, not invented


def test_movesense_timestamp_wraps():
    u = movesense.Unwrap(32)
    assert [u(v) for v in (2**32 - 10, 5, 20)] == [2**32 - 10, 2**32 + 5, 2**32 + 20]


def test_polar_compressed_round_trip_and_merge():
    rng = np.random.default_rng(2)
    counts = np.cumsum(rng.integers(-300, 300, (40, 3)), axis=0) + 1000
    assert polar.decode_compressed(polar.encode_compressed(counts)).tolist() == counts.tolist()
    bits = polar.pack_deltas(np.array([[-1, 3, 3]]), 3)
    assert polar.unpack_deltas(bits, 3, 3, 1).tolist() == [[-1, 3, 3]]
    d = polar.PolarDriver(rate_hz=52)
    d._configure("Polar Sense B5A1")
    frames, emit = collect()
    for k in range(3):  # acc and gyro frames of 10 samples each, gyro 1 ms later
        ts = int((k + 1) * 10 / 52 * 1e9)
        acc = polar.encode_compressed(np.full((10, 3), 1000 + k))
        gyr = polar.encode_compressed(np.full((10, 3), 100 * (k + 1)))
        d.on_data(bytes((polar.ACC,)) + ts.to_bytes(8, "little") + b"\x81" + acc, emit)
        d.on_data(bytes((polar.GYRO,)) + (ts + 1_000_000).to_bytes(8, "little") + b"\x80" + gyr, emit)
    d.finish(emit)
    t = np.concatenate([f.device_t for f in frames])
    v = np.concatenate([f.values for f in frames])
    assert len(t) >= 28 and np.all(np.diff(t) > 0)
    assert set(np.round(v[:, 0] / 9.80665 * 1000).astype(int)) <= {1000, 1001, 1002}  # mG counts -> m/s^2
    gyro_dps = np.rad2deg(v[:, 3:])
    assert gyro_dps.min() >= 100 - 1e-6 and gyro_dps.max() <= 300 + 1e-6  # interpolated within the gyro frames


def test_polar_timestamps_follow_the_sensor_clock():
    t = polar.sample_times_ns(2_000_000_000, 4, 1_000_000_000, 52)
    np.testing.assert_allclose(t, [1.25e9, 1.5e9, 1.75e9, 2e9])
    first = polar.sample_times_ns(2_000_000_000, 2, None, 100)
    np.testing.assert_allclose(first, [1.99e9, 2e9])


def test_witmotion_resynchronises_across_notifications():
    acc = np.array([[0.1, -0.2, 1.0], [0.0, 0.5, -1.0]])
    gyr = np.array([[10.0, -20.0, 30.0], [1.0, 2.0, 3.0]])
    stream = b"\x00\x55" + witmotion.encode_packet(acc, gyr, np.zeros((2, 3)))
    d = witmotion.WitMotionDriver(rate_hz=100)
    frames, emit = collect()
    for chunk in (stream[:13], stream[13:30], stream[30:]):
        d.on_notify(chunk, emit)
    v = np.concatenate([f.values for f in frames])
    np.testing.assert_allclose(v[:, :3] / 9.80665, acc, atol=1e-3)
    np.testing.assert_allclose(np.rad2deg(v[:, 3:]), gyr, atol=0.1)
    assert all(f.device_t is None for f in frames)


def test_rsc_cadence_per_foot_is_doubled_while_running():
    per_foot = rsc.RscMeasurement(3.2, 85, None, None, True)
    per_step = rsc.RscMeasurement(3.2, 170, None, None, True)
    walking = rsc.RscMeasurement(1.2, 100, None, None, False)
    assert [rsc.steps_per_minute(m) for m in (per_foot, per_step, walking)] == [170, 170, 100]


def test_openimu_max_samples_per_mtu():
    assert openimu.max_samples(247, True) == 19 and openimu.max_samples(23, True) == 1
    assert len(openimu.encode_packet(0, 0, np.zeros((19, 6)))) <= 244


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: movesense.decode_imu(b"\x01\x02", 2), "too short"),
        (lambda: movesense.decode_imu(bytes(4 + 25), 2), "not a whole number"),
        (lambda: polar.parse_control_response(b"\x01\x02\x03\x04\x05"), "expected 0xf0"),
        (lambda: polar.decode_uncompressed(b"\x00" * 6, 7), "not supported"),
        (lambda: openimu.decode_packet(bytes((2, 0, 0, 0, 0, 0, 0, 0, 0, 0))), "version 2"),
        (lambda: rsc.decode_measurement(b"\x01\x00"), "too short"),
    ],
)
def test_malformed_frames_raise_device_errors(call, message):
    with pytest.raises(DeviceError, match=message):
        call()
