"""The fault matrix rows that other test files do not cover (see docs/reliability.md for the whole matrix).

Live faults go through the real path: emulated sensors speaking their GATT protocol over bumble, the
reconnecting session, the stream timer and the crash-safe recorder; each recording is checked against what the
emulated sensor actually sent. Bad files and signals go through ``gait analyze`` as a user would run it: exit
code, one error line naming the file, or a result whose quality flags say what is wrong.
"""

from __future__ import annotations

import asyncio
import errno
import json
import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

import gait
import gait.recording.writer as writer_module
from gait.cli.main import main
from gait.errors import DeviceError
from gait.recording import Recording, StreamInfo, save
from gait.recording.model import ImuData
from gait.simulate import SimConfig
from gait.sources.emulate import make_sensor
from gait.sources.emulate.sensors import EmulatedSensor
from tests.conftest import REPO, simulated
from tests.test_ble_live import match_sent, record_emulated

# -- live faults (all scenarios recorded concurrently, once per module) -------------------------------------------


def lossy(sensor: EmulatedSensor, loss: float = 0.0, seed: int = 0, dup_every: int = 0, late_every: int = 0) -> None:
    """Make the air between ``sensor`` and gait unreliable: a fraction ``loss`` of notifications vanish (the
    sensor believes they went out), every ``dup_every``-th is delivered twice and every ``late_every``-th
    arrives after the one that followed it."""
    rng = np.random.default_rng(seed)
    real = sensor.notify
    count = {"n": 0}
    held: list[tuple[object, bytes]] = []

    async def notify(characteristic, data: bytes) -> bool:
        if sensor.connection is None or not sensor.streaming:  # set-up replies are acknowledged, never lost
            return await real(characteristic, data)
        count["n"] += 1
        k = count["n"]
        if loss and rng.random() < loss:
            return True  # lost in the air
        if late_every and k % late_every == 0:
            held.append((characteristic, data))
            return True
        ok = await real(characteristic, data)
        if dup_every and k % dup_every == 0:
            await real(characteristic, data)
        while held:
            await real(*held.pop())
        return ok

    sensor.notify = notify  # type: ignore[method-assign]


class FailingRadio:
    """Wraps a radio; after ``fail()`` every scan and connect fails as when the Bluetooth adapter is unplugged."""

    def __init__(self, radio) -> None:
        self.radio = radio
        self.gone = False

    def __getattr__(self, name: str):
        return getattr(self.radio, name)

    async def scan(self, timeout: float):
        if self.gone:
            await asyncio.sleep(0.05)
            raise DeviceError("scanning failed (Bluetooth adapter hci0 is gone)")
        return await self.radio.scan(timeout)

    def link(self, advert):
        if self.gone:
            raise DeviceError("Bluetooth adapter hci0 is gone")
        return self.radio.link(advert)


LOSS_RATES = (0.01, 0.05, 0.20)


def running_sensor(family: str, rate_hz: float | None = None) -> EmulatedSensor:
    """An emulated sensor already running when it connects (the simulated standing start is skipped, so
    every sample it sends is distinct and a recording can be matched to it sample by sample)."""
    sensor = make_sensor(family, rate_hz=rate_hz, duration_s=30)
    skip = int(2.5 * sensor.feed.rate_hz)
    sensor.feed.acc, sensor.feed.gyr = sensor.feed.acc[skip:], sensor.feed.gyr[skip:]
    return sensor


def drops(sensor: EmulatedSensor, n: int, off_s: float = 0.4):
    async def chaos() -> None:
        for _ in range(n):  # each time: streaming for a while, then out of range
            while sensor.connection is None or not sensor.streaming:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.8)
            await sensor.drop_link(off_air_s=off_s)
            await asyncio.sleep(off_s)

    return chaos


def clock_jump(sensor: EmulatedSensor, at: float, jump_s: float):
    async def chaos() -> None:
        await asyncio.sleep(at)
        sensor.feed.t0 += jump_s  # the sensor's clock is set (e.g. synced by an app), its samples go on

    return chaos


async def adapter_gone(radio_box: dict) -> None:
    await asyncio.sleep(2.5)
    radio_box["radio"].gone = True
    await radio_box["sensor"].drop_link(off_air_s=100)


def fault_plans() -> dict[str, tuple[EmulatedSensor, float, object]]:
    """Each faulty session: the sensor, how long to record, and what goes wrong (a coroutine factory or None)."""
    plans: dict[str, tuple[EmulatedSensor, float, object]] = {}
    s = running_sensor("movesense")
    plans["repeated"] = (s, 12.0, drops(s, 3))
    for p in LOSS_RATES:
        s = running_sensor("openimu", 104)
        lossy(s, loss=p, seed=int(p * 100))
        plans[f"loss-openimu-{p:g}"] = (s, 8.0, None)
    s = running_sensor("movesense")  # 104 Hz, each packet in two notifications
    lossy(s, loss=0.05, seed=7)
    plans["loss-movesense-0.05"] = (s, 8.0, None)
    s = running_sensor("openimu", 104)
    lossy(s, dup_every=7, late_every=11)
    plans["dup-late"] = (s, 6.0, None)
    for name, jump in (("jump-forward", 5.0), ("jump-back", -5.0)):
        s = running_sensor("movesense")
        plans[name] = (s, 9.0, clock_jump(s, 3.5, jump))
    s = running_sensor("movesense")
    plans["adapter-gone"] = (s, 6.0, None)
    return plans


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, EmulatedSensor, object]]:
    root = tmp_path_factory.mktemp("faults")
    plans = fault_plans()

    async def go() -> list:
        jobs = []
        for name, (sensor, seconds, chaos) in plans.items():
            if name == "adapter-gone":
                jobs.append(record_adapter_gone(root / name, sensor, seconds, adapter_gone))
            else:
                jobs.append(record_emulated(root / name, [(sensor, "imu", "sacrum")], seconds, chaos))
        return await asyncio.gather(*jobs)

    results = asyncio.run(go())
    return {name: (root / name, plan[0], res[1]) for (name, plan), res in zip(plans.items(), results, strict=True)}


async def record_adapter_gone(folder: Path, sensor: EmulatedSensor, seconds: float, chaos) -> tuple[object, object]:
    from gait.recording.meta import RecordingMeta
    from gait.sources.ble.devices import driver_for
    from gait.sources.ble.session import DeviceSession
    from gait.sources.emulate import EmulatedRadio
    from gait.sources.recorder import Recorder

    inner = EmulatedRadio()
    inner.add(sensor)
    await inner.start()
    radio = FailingRadio(inner)
    rec = Recorder(folder, RecordingMeta(source="ble", synthetic=True))
    rec.add(DeviceSession(radio, sensor.name, driver_for(sensor.family), "imu", "sacrum", scan_timeout_s=0.3))  # type: ignore[arg-type]
    task = asyncio.create_task(chaos({"radio": radio, "sensor": sensor}))
    result = await rec.run(duration_s=seconds)
    await task
    await inner.close()
    return rec, result


def in_order_and_complete(rec: gait.Recording, sensor: EmulatedSensor) -> tuple[np.ndarray, np.ndarray]:
    """Every stored sample was sent, in order, once; returns (index into sent, sent device times)."""
    idx, sent_t, _ = match_sent(rec, sensor)
    assert (idx >= 0).all(), "a stored sample the sensor never sent"
    assert np.all(np.diff(idx) >= 1), "stored samples duplicated or out of order"
    assert np.all(np.diff(rec.imu.t) > 0)
    return idx, sent_t


def test_repeated_disconnects_mark_every_gap_and_lose_nothing_else(live):
    folder, sensor, result = live["repeated"]
    rec = gait.load(folder)
    idx, sent_t = in_order_and_complete(rec, sensor)
    assert np.all(np.diff(idx) == 1), "everything the sensor sent while connected is in the recording"
    gaps = [g for g in rec.meta.gaps if g.stream == "imu"]
    assert len(gaps) == 3 and result.streams["imu"].gaps == 3
    sent_holes = np.sort(np.diff(sent_t))[-3:]  # the three radio silences, as the sensor saw them
    stored_holes = np.sort(np.diff(rec.imu.t))[-3:]
    np.testing.assert_allclose(stored_holes, sent_holes, atol=0.1)
    assert all(0.3 < h < 3.0 for h in sent_holes)
    lost = rec.meta.stream("imu").lost_samples
    assert abs(lost - round(float(np.sum(sent_holes - 1 / 104.0) * 104.0))) <= 6  # counted from the timestamps
    assert rec.meta.complete


@pytest.mark.parametrize("name", [f"loss-openimu-{p:g}" for p in LOSS_RATES] + ["loss-movesense-0.05"])
def test_packet_loss_is_counted_and_timestamps_stay_right(live, name: str):
    folder, sensor, _ = live[name]
    rate = float(name.split("-")[-1])
    rec = gait.load(folder)
    idx, sent_t = in_order_and_complete(rec, sensor)
    missing = int(idx[-1] - idx[0] + 1 - len(idx))  # sent between the first and last stored sample, never stored
    span = idx[-1] - idx[0] + 1
    lost = rec.meta.stream("imu").lost_samples
    assert abs(lost - missing) <= 8, (lost, missing)  # counted to within one packet (5 or 8 samples), not hidden
    assert missing / span < rate * 2.5 + 0.02  # the loss is what the air took, not more
    if rate >= 0.05:
        assert missing / span > rate * 0.3
    offset = rec.imu.t - sent_t[idx]  # session time minus the sensor's own time: constant if timing is right
    assert np.ptp(offset) < 0.01, "samples after a loss are not shifted in time (a packet is 48 ms)"
    assert rec.meta.complete


def test_duplicated_and_late_packets_are_deduplicated_and_reordered(live):
    folder, sensor, _ = live["dup-late"]
    rec = gait.load(folder)
    idx, sent_t = in_order_and_complete(rec, sensor)
    assert np.all(np.diff(idx) == 1)  # every sample once, in the sensor's order
    assert rec.meta.stream("imu").lost_samples == 0
    assert np.ptp(rec.imu.t - sent_t[idx]) < 0.01


@pytest.mark.parametrize("name", ["jump-forward", "jump-back"])
def test_sensor_clock_jumps_are_resynchronised_and_marked(live, name: str):
    folder, sensor, _ = live[name]
    rec = gait.load(folder)
    idx, sent_t = in_order_and_complete(rec, sensor)
    assert np.all(np.diff(idx) == 1), "no sample is dropped at the jump"
    assert rec.meta.stream("imu").lost_samples == 0, "a clock jump is not a loss"
    dt = np.diff(rec.imu.t)
    assert dt.max() < 0.5, "no invented 5-s gap and no overlap: the seam follows arrival times"
    sent_dt = np.diff(sent_t[idx])
    seam = int(np.argmax(np.abs(sent_dt - 1 / 104.0)))
    assert abs(abs(sent_dt[seam]) - 5.0) < 0.1  # the sensor really jumped by 5 s
    assert abs((rec.imu.t[-1] - rec.imu.t[0]) - (len(idx) - 1) / 104.0) < 0.5  # total duration is the real one
    gaps = [g for g in rec.meta.gaps if "clock jumped" in g.reason]
    assert len(gaps) == 1 and abs(gaps[0].start_s - rec.imu.t[seam]) < 0.05  # the seam is marked


@pytest.mark.parametrize("jump_s", [5.0, -5.0, 3600.0])
def test_timer_keeps_every_sample_and_a_continuous_time_line_across_a_clock_jump(jump_s: float):
    """The stream timer alone, 100 Hz frames of 4: a jump (or one frame with a wild stamp) neither drops samples
    nor invents a gap or an overlap; it is counted."""
    from gait.sources.ble.devices.base import Frame
    from gait.sources.timing import StreamTimer

    for wild_only in (False, True):
        timer = StreamTimer("imu", ("t_s", "x"), 100.0, True)
        blocks = []
        for k in range(1000):
            shifted = k == 500 if wild_only else k >= 500
            device = 100.0 + 0.04 * k + (jump_s if shifted else 0.0)
            f = Frame(values=np.full((4, 1), float(k)), device_t=device + np.arange(4) / 100.0)
            blocks += timer.push(f, 0.52 + 0.04 * k)
        blocks += timer.flush()
        t = np.concatenate([b.t for b in blocks])
        k = np.concatenate([b.values[:, 0] for b in blocks])
        assert len(t) == 4000 and np.all(np.diff(k) >= 0), "every sample, in order"
        assert np.all(np.diff(t) > 0) and np.diff(t).max() < 0.011, "no gap, no overlap"
        assert timer.lost == 0 and timer.clock_jumps == (2 if wild_only else 1)
        assert abs(t[-1] - t[0] - 39.99) < 0.01


def test_adapter_gone_keeps_and_closes_the_recording_and_says_so(live, capsys):
    from gait.cli.live import _summarise

    folder, sensor, result = live["adapter-gone"]
    rec = gait.load(folder)
    idx, _ = in_order_and_complete(rec, sensor)
    assert np.all(np.diff(idx) == 1) and rec.imu.duration_s > 1.0  # everything before the adapter went
    assert rec.meta.complete and not rec.recovered
    assert result.stopped_by == "duration"
    _summarise(result, analyze=False, runner=None, save=False)
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if "link lost and not re-established" in line]
    assert len(notes) == 1 and "adapter hci0 is gone" in notes[0]


# -- disk full ------------------------------------------------------------------------------------------------


class QuotaFile:
    """A log file on a disk with ``room`` bytes left: the write that does not fit is cut short and fails."""

    def __init__(self, f, room: int) -> None:
        self.f, self.room = f, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.f.write(data[: self.room])
            self.f.flush()
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name: str):
        return getattr(self.f, name)


def test_disk_full_stops_with_one_line_and_keeps_what_was_flushed(tmp_path: Path, monkeypatch, capsys):
    real_open_log = writer_module.open_log
    monkeypatch.setattr(writer_module, "open_log", lambda *a: QuotaFile(real_open_log(*a), room=20000))
    folder = tmp_path / "run"
    code = main(["record", "--emulate", "movesense", "--duration", "8", "--out", str(folder), "--no-analyze"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("gait:")]
    assert len(errors) == 1 and errors[0].startswith("gait: error:")
    assert "No space left on device" in errors[0] and str(folder) in errors[0]
    safe_before = float(re.search(r"before t=([\d.]+) s", errors[0]).group(1))
    rec = gait.load(folder)  # what reached the disk loads (from the crash log), the torn record is ignored
    assert rec.recovered and not rec.meta.complete
    assert rec.imu.t[-1] < safe_before and rec.imu.t[-1] > safe_before - 0.1
    assert rec.imu.n > 150 and np.all(np.diff(rec.imu.t) > 0)


# -- bad files ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = simulated(SimConfig(duration_s=40, seed=31, rate_hz=104))
    return save(sim.recording, tmp_path_factory.mktemp("good") / "run")


def analyze_cli(capsys, path: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["analyze", str(path), "--no-save", *extra])
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "internal error" not in out.err
    return code, out.out, out.err


def one_line_error(capsys, path: Path, *extra: str) -> str:
    code, _, err = analyze_cli(capsys, path, *extra)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("gait: error:"), err
    return lines[0]


def copy_of(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize(
    ("how", "message"),
    [
        (lambda b: b[: len(b) // 2], "imu.arrow: cannot read samples"),
        (lambda b: b[:7], "imu.arrow: cannot read samples"),
        (lambda b: b"", "imu.arrow: cannot read samples"),
        (lambda b: bytes(x ^ 0x5A for x in b[:400]) + b[400:], "imu.arrow: cannot read samples"),
    ],
    ids=["half", "seven-bytes", "empty", "scrambled-header"],
)
def test_corrupted_or_truncated_sample_file_is_one_line_naming_it(run_folder, tmp_path, capsys, how, message):
    folder = copy_of(run_folder, tmp_path / "bad")
    data = (folder / "imu.arrow").read_bytes()
    (folder / "imu.arrow").write_bytes(how(data))
    assert message in one_line_error(capsys, folder)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (lambda t: t[: len(t) // 2], "meta.json is not valid JSON"),
        (lambda t: "", "meta.json is not valid JSON"),
        (lambda t: t.replace('"streams": [', '"streams": 5, "x": ['), "meta.json"),
        (lambda t: t.replace('"rate_hz": 104', '"rate_hz": "fast"'), "meta.json"),
        (lambda t: t.replace('"file": "imu.arrow"', '"file": "../../etc/passwd"'), "outside the recording folder"),
        (lambda t: json.dumps([1, 2]), "meta.json"),
    ],
    ids=["truncated", "empty", "streams-not-a-list", "rate-not-a-number", "file-outside-folder", "not-an-object"],
)
def test_corrupted_meta_json_is_one_line_naming_it(run_folder, tmp_path, capsys, text, message):
    folder = copy_of(run_folder, tmp_path / "bad")
    meta = folder / "meta.json"
    meta.write_text(text(meta.read_text()))
    assert message in one_line_error(capsys, folder)


def test_truncated_csv_last_line_cut_mid_row(tmp_path: Path, capsys):
    sim = simulated(SimConfig(duration_s=40, seed=32, rate_hz=104))
    imu = sim.recording.imu
    rows = [f"{t:.6f},{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},{g[0]:.5f},{g[1]:.5f},{g[2]:.5f}"
            for t, a, g in zip(imu.t, imu.acc, imu.gyr, strict=True)]  # fmt: skip
    text = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n" + "\n".join(rows)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.rfind(",") - 3])  # the recorder died while writing the last row
    code, out, _ = analyze_cli(capsys, path, "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert abs(d["cadence_spm"] - sim.truth_summary()["cadence_spm"]) < 1.0  # everything before it is used
    assert d["duration_s"] == pytest.approx(imu.t[-2] - imu.t[0], abs=0.02)
    path.write_text(text[: text.rfind("\n") + 5])  # cut inside the time column of the last row
    code, out, _ = analyze_cli(capsys, path, "--format", "json")
    assert code == 0 and json.loads(out)["steps_used"] > 50


# -- bad signals ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim40():
    return simulated(SimConfig(duration_s=40, seed=33, rate_hz=104))


def saved(tmp_path: Path, name: str, sim, t=None, acc=None, gyr=None, **meta) -> Path:
    imu = sim.recording.imu
    rec = Recording(
        sim.recording.meta.replace(**meta),
        ImuData(imu.t if t is None else t, imu.acc if acc is None else acc, imu.gyr if gyr is None else gyr),
    )
    return save(rec, tmp_path / name)


def analyze_json(capsys, path: Path) -> dict:
    code, out, err = analyze_cli(capsys, path, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_nans_are_left_out_as_gaps_and_flagged(tmp_path, capsys, sim40):
    acc = sim40.recording.imu.acc.copy()
    acc[1500:1530] = np.nan  # 0.3 s of a sensor's NaNs
    acc[2500, 1] = np.inf
    d = analyze_json(capsys, saved(tmp_path, "nan", sim40, acc=acc))
    assert {"non_finite", "gaps"} <= set(d["quality"]["flags"])
    assert any("31 samples were not numbers" in m for m in d["quality"]["messages"])
    assert abs(d["cadence_spm"] - sim40.truth_summary()["cadence_spm"]) < 1.0  # the rest is still right
    assert d["steps_excluded_low_confidence"] > 0  # steps touching the hole are not trusted
    acc[::2] = np.nan  # most samples NaN: nothing to stand on
    assert "samples are not finite" in one_line_error(capsys, saved(tmp_path, "nan2", sim40, acc=acc))


def test_constant_signal_finds_no_running_and_invents_no_numbers(tmp_path, capsys, sim40):
    n = sim40.recording.imu.n
    path = saved(tmp_path, "still", sim40, acc=np.tile([0.3, 9.7, 1.0], (n, 1)), gyr=np.zeros((n, 3)))
    d = analyze_json(capsys, path)
    assert "little_running" in d["quality"]["flags"]
    assert d["steps"] == 0 and d["cadence_spm"] is None and d["contact_time_ms"] is None
    assert d["quality"]["unavailable"]["cadence_spm"] == "no running detected"
    assert d["pelvic_drop_left_deg"] is None and d["pelvic_drop_right_deg"] is None
    code, out, _ = analyze_cli(capsys, path)
    assert code == 0 and "No running detected" in out
    dead = saved(tmp_path, "dead", sim40, acc=np.zeros((n, 3)), gyr=np.zeros((n, 3)))  # a sensor sending zeros
    assert "expected about 1 g" in one_line_error(capsys, dead)


def test_too_short_recordings(tmp_path, capsys, sim40):
    imu = sim40.recording.imu
    few = saved(tmp_path, "few", sim40, t=imu.t[:6], acc=imu.acc[:6], gyr=imu.gyr[:6])
    assert "only 6 samples; too short to analyse" in one_line_error(capsys, few)
    short = saved(tmp_path, "short", sim40, t=imu.t[:150], acc=imu.acc[:150], gyr=imu.gyr[:150])  # 1.4 s
    assert "too short to analyse" in one_line_error(capsys, short)
    brief = saved(tmp_path, "brief", sim40, t=imu.t[:600], acc=imu.acc[:600], gyr=imu.gyr[:600])  # ~6 s
    d = analyze_json(capsys, brief)
    assert "little_running" in d["quality"]["flags"]
    assert d["steps_used"] < 10 or d["cadence_spm"] is None or "little_running" in d["quality"]["flags"]


def test_absurd_sample_rates(tmp_path, capsys, sim40):
    imu = sim40.recording.imu
    n = imu.n
    slow = saved(tmp_path, "1hz", sim40, t=np.arange(n) * 1.0)
    assert "sample rate 1 Hz is too low" in one_line_error(capsys, slow)
    fast = saved(tmp_path, "100khz", sim40, t=np.arange(n) * 1e-5)  # 40 s of samples squeezed into 42 ms
    assert "too short to analyse" in one_line_error(capsys, fast)
    # the header says 208 Hz but the timestamps say 104 Hz: the timestamps win, the numbers stay right
    stream = StreamInfo(rate_hz=208.0, n_samples=n)
    liar = saved(tmp_path, "liar", sim40, streams=(stream,))
    assert gait.load(liar).meta.stream("imu").rate_hz == 208.0
    d = analyze_json(capsys, liar)
    assert d["quality"]["sample_rate_hz"] == pytest.approx(104.0, rel=1e-3)
    assert abs(d["cadence_spm"] - sim40.truth_summary()["cadence_spm"]) < 1.0


def test_wrong_units_in_a_recording_folder(tmp_path, capsys, sim40):
    imu = sim40.recording.imu
    as_g = saved(tmp_path, "g", sim40, acc=imu.acc / 9.80665)  # g stored where m/s^2 belong
    assert "look like g" in one_line_error(capsys, as_g)
    as_deg = saved(tmp_path, "deg", sim40, gyr=np.degrees(imu.gyr))
    assert "look like deg/s" in one_line_error(capsys, as_deg)


def test_clock_jump_back_inside_a_file_is_one_line(tmp_path, capsys, sim40):
    t = sim40.recording.imu.t.copy()
    t[2000:] -= 3.0
    assert "time does not increase at sample 2000" in one_line_error(capsys, saved(tmp_path, "back", sim40, t=t))
    t = sim40.recording.imu.t.copy()
    t[2000:] += 600.0  # a clock set forward by ten minutes: a gap, flagged, the running is still measured
    d = analyze_json(capsys, saved(tmp_path, "fwd", sim40, t=t))
    assert "gaps" in d["quality"]["flags"] and d["quality"]["gaps"]["count"] == 1
    assert abs(d["cadence_spm"] - sim40.truth_summary()["cadence_spm"]) < 1.0


def limb_like(kind: str, fs: float = 208.0, seconds: float = 60.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rough signals of a sensor on the wrong body part while running at 170 steps/min: an ankle (one sharp
    impact per stride, big swing rotation) or a wrist (arm swing at the stride rate)."""
    t = np.arange(0, seconds, 1 / fs)
    f = 170 / 120  # strides per second
    ph = (t * f) % 1
    acc = np.zeros((len(t), 3))
    gyr = np.zeros((len(t), 3))
    if kind == "ankle":
        acc[:, 2] = 9.81 + 60 * np.exp(-(((ph - 0.05) / 0.01) ** 2)) - 7.8 * ((ph > 0.35) & (ph < 0.95))
        acc[:, 0] = 8 * np.sin(2 * np.pi * f * t)
        gyr[:, 1] = 8 * np.sin(2 * np.pi * f * t)
    else:
        acc[:, 2] = 9.81 + 3 * np.sin(2 * np.pi * 2 * f * t)
        acc[:, 0] = 15 * np.sin(2 * np.pi * f * t)
        gyr[:, 0] = 6 * np.sin(2 * np.pi * f * t)
    return t, acc, gyr


@pytest.mark.parametrize("kind", ["ankle", "wrist", "noise"])
def test_sensor_on_the_wrong_body_part_gives_no_confident_numbers(tmp_path, capsys, kind):
    if kind == "noise":
        rng = np.random.default_rng(3)
        t = np.arange(0, 60, 1 / 104)
        acc, gyr = rng.normal(0, 3, (len(t), 3)) + [0, 0, 9.81], rng.normal(0, 1, (len(t), 3))
    else:
        t, acc, gyr = limb_like(kind)
    path = save(Recording.from_arrays(t, acc, gyr, title=kind), tmp_path / kind)
    d = analyze_json(capsys, path)
    assert "little_running" in d["quality"]["flags"]
    assert d["cadence_spm"] is None and d["steps_used"] == 0
    assert d["pelvic_drop_left_deg"] is None and d["pelvic_drop_right_deg"] is None


# -- nothing is sent anywhere -----------------------------------------------------------------------------------


def test_analyze_record_and_replay_open_no_outbound_connection(tmp_path, capsys, monkeypatch):
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if not (isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost") or "/" in host)):
            attempts.append(address)
            raise OSError(f"test: outbound connection to {address!r} refused")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: guarded(None, address))
    code, out, _ = analyze_cli(capsys, REPO / "recordings" / "easy_run_208hz", "--format", "json")
    assert code == 0 and json.loads(out)["steps_used"] > 100
    assert main(["replay", str(REPO / "recordings" / "easy_run_208hz"), "--speed", "max", "--no-analyze"]) == 0
    assert main(["record", "--emulate", "movesense", "--duration", "3", "--out", str(tmp_path / "r")]) == 0
    assert attempts == [], f"gait tried to reach {attempts}"
