"""Phones live: Sensor Logger's HTTP Push into gait's receiver (an in-process HTTP client posting simulator-fed
payloads in the documented schema) and phyphox's remote access (a local fake phyphox server honouring the documented
endpoints), each recorded by the crash-safe recorder and analysed against the simulator's truth."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gait
from gait.cli.main import main
from gait.errors import DeviceError
from gait.recording.meta import RecordingMeta
from gait.sources.phone.phyphox import PhyphoxSource
from gait.sources.phone.sensorlogger import SensorLoggerSource, lan_address, parse_push
from gait.sources.recorder import Recorder
from tests.conftest import REPO
from tests.fixtures.phone.phone_sim import FakePhyphox, phone_sim, push_messages
from tests.fixtures.phone.push import post, record_push

PAUSE = (20.0, 22.0)  # seconds of the run during which the phone sent nothing


@pytest.fixture(scope="module")
def sim():
    return phone_sim(40.0)


def shuffled_messages(sim, platform: str) -> list[dict]:
    """Every message, a few pairs swapped (out of order), one sent twice, and a pause with nothing sent."""
    msgs = push_messages(sim, platform, batch_s=0.5, with_total=platform == "android")
    kept = [m for m in msgs if not PAUSE[0] <= m["messageId"] * 0.5 < PAUSE[1]]
    for i in range(3, len(kept) - 1, 9):
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    kept.insert(30, kept[12])  # a repeated message (same messageId)
    return kept


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_sensorlogger_push_end_to_end(sim, tmp_path: Path, platform: str) -> None:
    msgs = shuffled_messages(sim, platform)
    bodies = [(json.dumps(m).encode(), "/push", {}) for m in msgs]
    src, _result, answers = asyncio.run(record_push(tmp_path / "rec", bodies))
    assert all(status == 200 for status, _ in answers)
    assert src.counts == {"accepted": len(msgs) - 1, "duplicate": 1, "rejected": 0}
    assert src.imu.platform == platform  # recognised from what the payload carries
    rec = gait.load(tmp_path / "rec")
    truth_imu = sim.recording.imu
    # every sample outside the pause arrived once, in order, with the phone's own spacing
    outside = (truth_imu.t < PAUSE[0] - 0.01) | (truth_imu.t >= PAUSE[1])
    assert abs(rec.imu.n - int(outside.sum())) <= 2
    assert np.all(np.diff(rec.imu.t) > 0)
    assert np.allclose(np.diff(rec.imu.t)[:100], 0.01, atol=1e-6)
    # specific force in gait's convention (iOS negation undone, gravity added back): float32 on disk
    assert np.allclose(rec.imu.acc[:500], truth_imu.acc[1:501], atol=1e-4)
    gaps = [g for g in rec.meta.gaps if g.stream == "imu"]
    assert len(gaps) == 1 and abs((gaps[0].end_s - gaps[0].start_s) - (PAUSE[1] - PAUSE[0])) < 0.05
    assert rec.meta.device.name == "Sensor Logger (phone-abc)"
    analysis = gait.analyze(rec)
    truth = sim.truth_summary()
    s = analysis.summary
    assert abs(s.cadence_spm - truth["cadence_spm"]) < 1.0
    drop = s.per_side["pelvic_drop_deg"]
    assert abs(drop.left - truth["pelvic_drop_deg_left"]) < 1.0
    assert abs(drop.right - truth["pelvic_drop_deg_right"]) < 1.0
    assert s.n_left > 30 and s.n_right > 30


def test_bad_payloads_are_rejected_and_nothing_recorded_is_harmed(sim, tmp_path: Path) -> None:
    msgs = push_messages(sim, "android", batch_s=0.5)[:40]
    good = [json.dumps(m).encode() for m in msgs]
    q = "?token=s3cret"
    oversized = b'{"payload": [' + b" " * (1 << 20) + b"]}"
    broken_item = json.loads(good[5])
    broken_item["payload"][3]["values"] = {"x": "a lot", "y": 0, "z": 0}
    plan = (
        [
            (good[0], "/push" + q, {}, 200),
            (good[1], "/push", {}, 401),  # no token
            (good[1], "/push?token=guess", {}, 403),  # wrong token
            (good[1], "/push", {"Authorization": "Bearer s3cret"}, 200),
            (b'{"messageId": 2, "payload": [', "/push" + q, {}, 400),  # torn JSON
            (json.dumps(broken_item).encode(), "/push" + q, {}, 400),  # a reading that is not numbers
            (b'{"messageId": 3}', "/push" + q, {}, 400),  # no payload
            (oversized, "/push" + q, {}, 413),
        ]
        + [(b, "/push" + q, {}, 200) for b in good[2:]]
    )
    src, _result, answers = asyncio.run(record_push(tmp_path / "rec", [p[:3] for p in plan], token="s3cret"))
    assert [a[0] for a in answers] == [p[3] for p in plan]
    reasons = [a[1] for a in answers]
    assert "not valid JSON" in reasons[4] and "x, y, z" in reasons[5] and "'payload'" in reasons[6]
    assert "limit" in reasons[7] and "token required" in reasons[1]
    assert src.counts["rejected"] == 6 and src.counts["accepted"] == 40
    rec = gait.load(tmp_path / "rec")
    truth = sim.recording.imu
    n = rec.imu.n
    assert n >= 1990  # 40 messages x 0.5 s x 100 Hz, less the first sample (before the first gyro reading)
    assert np.allclose(rec.imu.acc, truth.acc[1 : n + 1], atol=1e-4)  # every stored sample is the truth
    assert rec.meta.gaps == ()


def test_parse_push_rejects_the_wrong_shape() -> None:
    for body, why in [
        (b"[1, 2]", "JSON object"),
        (b'{"payload": {}}', "list"),
        (b'{"messageId": "7", "payload": []}', "messageId"),
        (b'{"payload": [{"name": "gyroscope", "time": "soon", "values": {}}]}', "numeric 'time'"),
        (b'{"payload": [{"name": "gyroscope", "time": 1, "values": {"x": NaN, "y": 0, "z": 0}}]}', "not finite"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_push(body)
    ok = parse_push(b'{"payload": [{"name": "location", "time": 1, "values": {"latitude": 1}}]}')
    assert ok.readings == {}  # sensors gait does not use are skipped


def test_receiver_url_and_default_interface() -> None:
    """Safe by default: this machine only; on every interface the printed URL carries the LAN address."""
    local = SensorLoggerSource()
    assert (local.host, local.port, local.max_bytes) == ("127.0.0.1", 8000, 1 << 20)
    assert local.url() == "http://127.0.0.1:8000/push"
    lan = SensorLoggerSource(host="0.0.0.0", port=8123, token="t0k")
    assert lan.url() == f"http://{lan_address()}:8123/push?token=t0k"


def test_cli_record_phone_sensorlogger(sim, tmp_path: Path) -> None:
    """``gait record --phone sensorlogger --duration N``: prints the URL, takes the pushes, writes the recording."""
    out = tmp_path / "phone"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "gait.cli.main", "record", "--phone", "sensorlogger", "--port", "0",
           "--token", "tok", "--duration", "4", "--out", str(out), "--no-analyze"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "http://" in line:
                url = line.strip()
        assert url is not None and url.startswith("http://127.0.0.1:") and url.endswith("/push?token=tok")
        port = int(url.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        msgs = push_messages(sim, "ios", batch_s=0.5)[:30]
        statuses = [post(conn, json.dumps(m).encode(), "/push?token=tok")[0] for m in msgs]
        conn.close()
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert statuses == [200] * 30
    assert proc.returncode == 0, stderr
    assert "30 accepted, 0 duplicate, 0 rejected" in stdout
    rec = gait.load(out)
    assert rec.meta.source == "phone" and rec.meta.placement == "waist_belt"
    assert rec.imu.n >= 1490 and np.allclose(rec.imu.acc[:200], sim.recording.imu.acc[1:201], atol=1e-4)


def test_phyphox_polling_end_to_end(sim, tmp_path: Path) -> None:
    async def go(fake: FakePhyphox) -> tuple[PhyphoxSource, object]:
        src = PhyphoxSource(fake.url, poll_s=0.05)
        rec = Recorder(tmp_path / "rec", RecordingMeta(source="phone", placement="waist_belt"))
        rec.add(src)
        stop = asyncio.Event()

        async def until_done() -> None:
            while fake.now() < sim.recording.imu.t[-1] + 0.5:
                await asyncio.sleep(0.05)
            stop.set()

        task = asyncio.create_task(until_done())
        result = await rec.run(stop=stop)
        await task
        return src, result

    with FakePhyphox(sim, speed=20.0) as fake:
        src, _result = asyncio.run(go(fake))
        requests = list(fake.requests)
        stopped = fake.stopped_at is not None
    assert requests[:3] == ["/config", "/control?cmd=start", "/time"]
    assert requests[3].startswith("/get?acc_time=full&accX=full")
    partial = requests[5]
    assert "accX=" in partial and "|acc_time" in partial and "|gyr_time" in partial  # incremental reads
    assert requests[-2] == "/control?cmd=stop" and stopped  # then one last read of what came since
    assert requests[-1].startswith("/get?acc_time=")
    assert src.epoch0 == 1_763_770_000.0
    rec = gait.load(tmp_path / "rec")
    truth_imu = sim.recording.imu
    assert rec.imu.n == truth_imu.n - 1 and rec.imu.has_gyro
    assert np.allclose(rec.imu.acc, truth_imu.acc[1:], rtol=1e-6, atol=1e-5)  # 8 significant digits
    s = gait.analyze(rec).summary
    truth = sim.truth_summary()
    assert abs(s.cadence_spm - truth["cadence_spm"]) < 1.0
    drop = s.per_side["pelvic_drop_deg"]
    assert abs(drop.left - truth["pelvic_drop_deg_left"]) < 1.0
    assert abs(drop.right - truth["pelvic_drop_deg_right"]) < 1.0


def test_cli_record_phone_phyphox(sim, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``gait record --phone phyphox --url ...`` end to end (in-process), analysed, in front-pocket placement."""
    out = tmp_path / "pocket"
    with FakePhyphox(sim, speed=20.0) as fake:
        code = main(["record", "--phone", "phyphox", "--url", fake.url, "--duration", "3", "--out", str(out),
                     "--placement", "front_pocket"])  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "polling phyphox at" in printed.err
    rec = gait.load(out)
    assert rec.meta.placement == "front_pocket" and rec.meta.device.name == "phyphox (IMU)"
    assert "Cadence       17" in printed.out and "Pelvic drop   L stance" not in printed.out  # timing only
    assert "Placement front_pocket" in printed.out


def test_phyphox_unreachable_is_one_clear_error(tmp_path: Path) -> None:
    async def go() -> None:
        rec = Recorder(tmp_path / "rec", RecordingMeta(source="phone"))
        rec.add(PhyphoxSource("http://127.0.0.1:9"))  # nothing listens on the discard port
        await rec.run(duration_s=5)

    with pytest.raises(DeviceError, match=r"phyphox at http://127.0.0.1:9/config"):
        asyncio.run(go())
    assert not (tmp_path / "rec").exists()  # nothing half-written is left behind
