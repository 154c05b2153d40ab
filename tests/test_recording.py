"""The recording format: round trips, crash safety (kill -9), torn and corrupt logs, metadata errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gait
from gait.errors import RecordingError
from gait.recording import Recording, RecordingMeta, RecordingWriter, load, recover, save
from gait.recording.log import read_log
from gait.recording.meta import DeviceInfo, Gap


def _imu(n: int = 2000, fs: float = 208.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    acc = rng.normal(0, 1, (n, 3)) + [0, 9.81, 0]
    gyr = rng.normal(0, 0.5, (n, 3))
    return t, acc, gyr


def test_save_load_round_trip_keeps_samples_and_metadata(tmp_path: Path):
    t, acc, gyr = _imu()
    rec = Recording.from_arrays(
        t, acc, gyr, meta=RecordingMeta(device=DeviceInfo(name="test IMU")), placement="sacrum", notes="hello"
    )
    save(rec, tmp_path / "r")
    back = load(tmp_path / "r")
    assert np.array_equal(back.imu.t, t)
    assert np.allclose(back.imu.acc, acc, atol=1e-5)  # float32 on disk
    assert np.allclose(back.imu.gyr, gyr, atol=1e-6)
    assert back.meta.device.name == "test IMU" and back.meta.notes == "hello" and back.meta.complete
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["streams"][0]["units"]["acc_x_ms2"] == "m/s^2"
    assert meta["streams"][0]["units"]["gyr_x_rads"] == "rad/s"


def test_accelerometer_only_recording_round_trips(tmp_path: Path):
    t, acc, _ = _imu()
    save(Recording.from_arrays(t, acc), tmp_path / "r")
    back = load(tmp_path / "r")
    assert back.imu.gyr is None and back.meta.streams[0].has_gyro is False


def _old_footpod_recording(folder: Path, crashed: bool = False) -> np.ndarray:
    """A recording with a foot-pod stream as gait version 1 wrote it: speed in a channel named ``speed_ms`` (then
    metres per second), in the Arrow file or, for a recording never closed, in the crash log; returns the speeds."""
    import pyarrow as pa
    import pyarrow.feather as feather

    from gait.recording.log import encode_record, open_log

    t, acc, gyr = _imu()
    save(Recording.from_arrays(t, acc, gyr), folder)
    pod_t = np.arange(10.0)
    speed = np.linspace(2.8, 3.4, 10)
    cols = ("t_s", "speed_ms", "cadence_spm", "stride_length_m", "distance_m")
    values = np.column_stack((speed, np.full(10, 170.0), np.full(10, 2.1), 3.1 * pod_t))
    if crashed:
        with open_log(folder / "rsc.log", "rsc", cols) as f:
            f.write(encode_record(pod_t, values))
    else:
        table = {"t_s": pod_t, **{c: values[:, j].astype(np.float32) for j, c in enumerate(cols[1:])}}
        feather.write_feather(pa.table(table), folder / "rsc.arrow", compression="lz4")
    meta = json.loads((folder / "meta.json").read_text())
    units = {"t_s": "s", "speed_ms": "m/s", "cadence_spm": "1/min", "stride_length_m": "m", "distance_m": "m"}
    meta["streams"].append(
        {"name": "rsc", "kind": "rsc", "file": "rsc.arrow", "rate_hz": 1.0, "channels": list(cols), "units": units,
         "frame": "sensor", "clock": "host", "has_gyro": False, "n_samples": 10}
    )  # fmt: skip
    (folder / "meta.json").write_text(json.dumps(meta))
    return speed


@pytest.mark.parametrize("crashed", [False, True], ids=["compacted", "crash log"])
def test_a_foot_pod_stream_with_the_old_speed_ms_channel_still_loads(tmp_path: Path, crashed: bool):
    from gait.runs import pod_summary

    speed = _old_footpod_recording(tmp_path / "old", crashed=crashed)
    rec = load(tmp_path / "old")
    assert rec.meta.stream("rsc").channels[1] == "speed_mps"
    assert np.allclose(rec.extra["rsc"].column("speed_mps"), speed, atol=1e-6)
    assert pod_summary(rec).speed_mps == pytest.approx(float(np.median(speed)), abs=1e-6)
    save(rec, tmp_path / "again")  # written again, it carries today's name
    assert "speed_mps" in json.loads((tmp_path / "again" / "meta.json").read_text())["streams"][1]["channels"]
    assert np.allclose(load(tmp_path / "again").extra["rsc"].column("speed_mps"), speed, atol=1e-6)


def test_save_refuses_to_overwrite_a_recording(tmp_path: Path):
    t, acc, gyr = _imu()
    save(Recording.from_arrays(t, acc, gyr), tmp_path / "r")
    with pytest.raises(RecordingError, match="not empty"):
        save(Recording.from_arrays(t, acc, gyr), tmp_path / "r")


def test_writer_compacts_on_close_and_keeps_gaps(tmp_path: Path):
    t, acc, gyr = _imu(4000)
    with RecordingWriter(tmp_path / "w", RecordingMeta(), rate_hz=208) as w:
        for k in range(0, 4000, 100):
            w.append(t[k : k + 100], acc[k : k + 100], gyr[k : k + 100])
        w.mark_gap(5.0, 6.5, "sensor disconnected")
        w.append(t[:10], acc[:10], gyr[:10])  # duplicates (old timestamps) are dropped
    files = {p.name for p in (tmp_path / "w").iterdir()}
    assert files == {"meta.json", "imu.arrow"}
    back = load(tmp_path / "w")
    assert back.imu.n == 4000 and not back.recovered
    assert back.meta.gaps == (Gap(5.0, 6.5, "sensor disconnected"),)


CHILD = textwrap.dedent("""
    import sys, time, numpy as np
    from gait.recording import RecordingWriter, RecordingMeta
    w = RecordingWriter(sys.argv[1], RecordingMeta(), rate_hz=208, flush_interval_s=1.0)
    k = 0
    while True:
        t = (k + np.arange(52)) / 208.0
        w.append(t, np.tile([0.0, 9.81, 0.0], (52, 1)), np.zeros((52, 3)))
        k += 52
        print(f"{t[-1]:.6f} {time.monotonic():.6f}", flush=True)
        time.sleep(0.02)
""")


def test_kill_9_loses_at_most_the_last_second(tmp_path: Path):
    folder = tmp_path / "crash"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], stdout=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline().split()]  # wait until the child is importing no more and writing
    start = time.monotonic()
    while time.monotonic() - start < 3.0:
        lines.append(proc.stdout.readline().split())
    killed_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    appended = [(float(x[0]), float(x[1])) for x in lines if len(x) == 2]
    # everything appended more than ~1 s (flush interval) before the kill must have survived
    must_have = max(t for t, wall in appended if wall < killed_at - 1.15)
    rec = load(folder)
    assert rec.recovered
    assert rec.imu.t[-1] >= must_have
    assert np.all(np.diff(rec.imu.t) > 0)
    assert "recovered" in rec.notes[0]
    # recover compacts it for good
    fixed = recover(folder)
    assert not fixed.recovered and fixed.meta.complete and fixed.imu.n == rec.imu.n
    assert not (folder / "imu.log").exists()


def test_torn_and_corrupt_log_records_are_dropped_not_fatal(tmp_path: Path):
    t, acc, gyr = _imu(600)
    w = RecordingWriter(tmp_path / "torn", RecordingMeta(), flush_interval_s=1e9)
    for k in range(0, 600, 200):
        w.append(t[k : k + 200], acc[k : k + 200], gyr[k : k + 200])
        w.flush()
    log = tmp_path / "torn" / "imu.log"
    data = log.read_bytes()
    log.write_bytes(data[:-100])  # the last record was torn by a crash
    contents = read_log(log)
    assert contents.n_records == 2 and len(contents.t) == 400 and contents.ignored_bytes > 0
    # flip one byte inside the second record's payload: its checksum fails, the first record survives
    header = 12 + int.from_bytes(data[8:12], "little")
    record = 16 + 200 * (8 + 6 * 4)
    raw = bytearray(log.read_bytes())
    raw[header + record + 16 + 100] ^= 0xFF
    log.write_bytes(bytes(raw))
    contents = read_log(log)
    assert contents.n_records == 1 and np.array_equal(contents.t, t[:200])
    rec = load(tmp_path / "torn")
    assert rec.recovered and rec.imu.n == 200


def test_bad_meta_json_is_a_clear_error(tmp_path: Path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "meta.json").write_text("{not json")
    with pytest.raises(RecordingError, match="not valid JSON"):
        load(tmp_path / "bad")
    (tmp_path / "bad" / "meta.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(RecordingError, match="not a gait recording"):
        load(tmp_path / "bad")


def test_missing_paths_and_unknown_files_are_clear_errors(tmp_path: Path):
    with pytest.raises(RecordingError, match="no such file"):
        gait.load(tmp_path / "nope")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(RecordingError, match="unsupported file type"):
        gait.load(tmp_path / "x.txt")
