"""Hostile input, bounded resources, and no acknowledged sample lost: one regression test (or a few) per defect
of issue 17, each named after what the user now sees (docs/reliability.md, "Hostile input").

Bombs run in a child process under a 3 GiB data limit (RLIMIT_DATA), so a build without the limits fails fast
instead of swapping the machine; the child's peak resident memory (``ru_maxrss`` from ``wait4``) must stay
under 1 GiB and is printed (``pytest -s``) for the record. Fixture files are made here by gait's simulator
and small encoders written for these tests (zip, deflate), never copied from anywhere.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import resource
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import gait
from gait.cli.main import main
from gait.errors import GaitError, RecordingError
from gait.recording import RecordingWriter, save
from gait.recording.meta import RecordingMeta
from gait.simulate import SimConfig
from tests.conftest import REPO, simulated
from tests.fixtures.phone.push import post, record_push

GiB = 1 << 30
MiB = 1 << 20
PEAK_LIMIT_MIB = 1024.0
DATA_RLIMIT = 3 * GiB


# -- running a child under a memory limit and measuring its peak --------------------------------------------------


@dataclass
class Child:
    code: int
    out: str
    err: str
    peak_mib: float
    timed_out: bool

    def one_line_error(self, *needles: str) -> str:
        """The child failed with exactly one ``gait: error:`` line holding every needle; returns the line."""
        assert not self.timed_out, "the child hung and was killed"
        lines = self.err.strip().splitlines()
        assert self.code == 1, (self.code, self.err[-2000:])
        assert len(lines) == 1 and lines[0].startswith("gait: error: "), self.err[-2000:]
        for n in needles:
            assert n in lines[0], (n, lines[0])
        return lines[0]


def run_child(argv: list[str], *, timeout: float = 180.0, env: dict | None = None, prefix: tuple = ()) -> Child:
    """Run ``python ARGV`` (cwd: the repository) with RLIMIT_DATA set; wait for it with wait4 for its peak RSS."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (DATA_RLIMIT, DATA_RLIMIT))

    killed = threading.Event()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [*prefix, sys.executable, *argv],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            preexec_fn=limit,
        )

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        return Child(
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            usage.ru_maxrss / 1024.0,  # KiB on Linux
            killed.is_set(),
        )


def gait_child(*args: str, **kw) -> Child:
    return run_child(["-m", "gait.cli.main", *args], **kw)


def report_peak(case: str, child: Child) -> None:
    print(f"\n[peak memory] {case}: {child.peak_mib:.0f} MiB (exit {child.code})")
    assert child.peak_mib < PEAK_LIMIT_MIB, f"{case}: peak {child.peak_mib:.0f} MiB"


def no_long_numbers(text: str) -> None:
    """Error messages never print an absurd number at full length (1e300 once came out with 300 digits)."""
    assert not re.search(r"\d{16,}", text), text[:400]


# -- fixtures: recordings, CSV files, zips ----------------------------------------------------------------------------


def sim(seconds: float = 60.0, rate_hz: float = 104.0, seed: int = 1, **kw):
    return simulated(SimConfig(segments=(("run", seconds),), rate_hz=rate_hz, seed=seed, **kw))


def recording_folder(folder: Path, seconds: float = 30.0, seed: int = 1) -> Path:
    save(sim(seconds, seed=seed).recording, folder)
    return folder


def crashed_folder(folder: Path, seconds: float = 12.0) -> Path:
    """A live recording killed before it was closed: meta.json (incomplete), imu.log, events.jsonl."""
    imu = sim(seconds).recording.imu
    w = RecordingWriter(folder, RecordingMeta(title="crashed"), flush_interval_s=1e9)
    for k in range(0, imu.n, 500):
        w.append(imu.t[k : k + 500], imu.acc[k : k + 500], imu.gyr[k : k + 500])
        w.flush()
    for s in w._streams.values():  # what kill -9 leaves: the logs as flushed, nothing compacted
        s.log.close()
    w._events.close()
    return folder


def csv_text(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None = None, fmt: str = "%.6g") -> str:
    cols = [t[:, None], acc] + ([gyr] if gyr is not None else [])
    header = "time_s,acc_x,acc_y,acc_z" + (",gyr_x,gyr_y,gyr_z" if gyr is not None else "")
    rows = np.hstack(cols)
    body = "\n".join(",".join(fmt % v for v in r) for r in rows)
    return header + "\n" + body + "\n"


def gap_stuffed_csv(path: Path, n_rows: int) -> Path:
    """Half the intervals 0.3 ms, half 0.49 s (two more short ones, so the median interval is 0.3 ms)."""
    dt = np.empty(n_rows - 1)
    dt[0::2], dt[1::2] = 0.0003, 0.49
    dt[-3:] = 0.0003
    t = np.concatenate(([0.0], np.cumsum(dt)))
    rng = np.random.default_rng(0)
    acc = rng.normal(0.0, 0.5, (n_rows, 3)) + [0.0, 9.81, 0.0]
    rows = [f"{a:.4f},{b:.3f},{c:.3f},{d:.3f}" for a, (b, c, d) in zip(t, acc, strict=True)]
    lines = ["time_s,acc_x,acc_y,acc_z", *rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def deep_json(depth: int = 200_000) -> str:
    return "[" * depth + "]" * depth


def _zip_entry(name: str, raw_size: int, crc: int, data: bytes, offset: int) -> tuple[bytes, bytes]:
    """Local header + data, and the central-directory record, of one deflated member (plain zip, < 4 GiB)."""
    n = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), raw_size, len(n), 0) + n + data
    central = (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(data),
            raw_size,
            len(n),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + n
    )
    return local, central


def write_zip(path: Path, members: dict[str, bytes | tuple[bytes, int]]) -> Path:
    """A zip written by hand: ``bytes`` members are deflated normally; a ``(chunk, repeats)`` member is a
    deflate bomb: the chunk compressed once with a full flush and its compressed form repeated (a valid deflate
    stream that inflates to ``chunk * repeats`` without this test ever holding it)."""
    body, directory = b"", b""
    for name, content in members.items():
        if isinstance(content, bytes):
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            data, size, crc = c.compress(content) + c.flush(), len(content), zlib.crc32(content)
        else:
            chunk, repeats = content
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # no reference reaches back past a full flush
            data = block * repeats + zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # + an empty final block
            crc = 0
            for _ in range(repeats):
                crc = zlib.crc32(chunk, crc)
            size = len(chunk) * repeats
        local, central = _zip_entry(name, size, crc, data, len(body))
        body += local
        directory += central
    n = len(members)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(directory), len(body), 0)
    path.write_bytes(body + directory + end)
    return path


# ==== 1. a failed upload poisons the data folder ====================================================================

UPLOAD_CHILD = r"""
import base64, json, sys
from pathlib import Path
from dashboards.catalog import Catalog
from gait.errors import GaitError

data, name, raw = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]).read_bytes()
cat = Catalog(data, data.parent / "home" / "gait.sqlite")
cat.refresh()
try:
    cat.import_upload(name, "data:application/octet-stream;base64," + base64.b64encode(raw).decode())
    print(json.dumps({"ok": True}))
except GaitError as exc:
    print(json.dumps({"ok": False, "error": str(exc)}))
"""


def upload_in_child(data: Path, name: str, file: Path) -> tuple[Child, dict]:
    child = run_child(["-c", UPLOAD_CHILD, str(data), name, str(file)])
    assert child.code == 0, child.err[-2000:]
    return child, json.loads(child.out.strip().splitlines()[-1])


def zipped_recording_with_deep_meta(tmp: Path) -> Path:
    rec = recording_folder(tmp / "src", seconds=10.0)
    return write_zip(
        tmp / "deep.zip",
        {"run/meta.json": deep_json().encode(), "run/imu.arrow": (rec / "imu.arrow").read_bytes()},
    )


def test_a_failed_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    """Defect 1: a zipped recording whose meta.json is nested 200 000 deep, and a CSV with gap-stuffed
    timestamps, are refused with one line and leave nothing in the data folder."""
    data = tmp_path / "data"
    data.mkdir()
    cases = {
        "deep.zip": (zipped_recording_with_deep_meta(tmp_path), "nested"),
        "stuffed.csv": (gap_stuffed_csv(tmp_path / "stuffed.csv", 100_000), "irregular"),  # 4 MB
    }
    for name, (file, why) in cases.items():
        child, answer = upload_in_child(data, name, file)
        report_peak(f"upload {name}", child)
        assert answer["ok"] is False and why in answer["error"], answer
        assert "\n" not in answer["error"]
        assert not (data / "uploads").exists() or not any((data / "uploads").iterdir()), name


def test_the_dashboard_starts_with_an_unreadable_recording_in_its_folder(tmp_path: Path) -> None:
    """Defect 1: one bad recording (here a meta.json nested 200 000 deep, as a failed upload once left behind)
    no longer stops the dashboard: it is listed as unreadable, with the reason, and the others are shown."""
    from dashboards.app import create_app
    from dashboards.catalog import Catalog

    data = tmp_path / "data"
    recording_folder(data / "good")
    bad = recording_folder(data / "uploads" / "poisoned", seconds=10.0)
    (bad / "meta.json").write_text(deep_json())
    cat = Catalog(data, tmp_path / "home" / "gait.sqlite")
    cat.refresh()
    assert cat.runs["good"].ok
    entry = cat.runs["uploads/poisoned"]
    assert not entry.ok and "nested deeper than" in entry.error and "\n" not in entry.error
    app = create_app(data, tmp_path / "home" / "gait.sqlite")
    page = app.server.test_client().get("/")
    assert page.status_code == 200


# ==== 2. zip bombs in phone exports =================================================================================


def sensorlogger_bomb(path: Path) -> Path:
    """A Sensor Logger export whose Gyroscope.csv inflates to 3 GiB (the zip is a few MB)."""
    from tests.fixtures.phone.phone_sim import phone_sim, sensorlogger_files

    files = {k: v.encode() for k, v in sensorlogger_files(phone_sim(5.0), "android").items()}
    line = b"1763770000000000000,0.000000,0.100000,0.200000,0.300000\n"
    chunk = line * (MiB // len(line))
    files["Gyroscope.csv"] = (chunk, 3 * GiB // len(chunk))  # type: ignore[assignment]
    return write_zip(path, files)  # type: ignore[arg-type]


def phyphox_bomb(path: Path) -> Path:
    head = b'"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)"\n'
    line = b"1.000000000E-2,1.000000000E-1,9.810000000E0,2.000000000E-1\n"
    chunk = line * (MiB // len(line))
    return write_zip(path, {"Accelerometer.csv": head, "Gyroscope.csv": (chunk, 3 * GiB // len(chunk))})


@pytest.mark.parametrize("app", ["sensorlogger", "phyphox"])
def test_a_zip_bomb_in_a_phone_export_is_refused_in_bounded_memory(tmp_path: Path, app: str) -> None:
    """Defect 2: a phone export whose Gyroscope.csv inflates to 3 GiB is refused by the unpack limit, in one
    line, without unpacking it, and leaves no output folder."""
    bomb = (sensorlogger_bomb if app == "sensorlogger" else phyphox_bomb)(tmp_path / f"{app}.zip")
    assert bomb.stat().st_size < 16 * MiB
    child = gait_child("import", str(bomb), "--out", str(tmp_path / "out"))
    report_peak(f"zip bomb ({app} export, 3 GiB Gyroscope.csv)", child)
    child.one_line_error(bomb.name, "unpacks to more than", "MiB")
    assert not (tmp_path / "out").exists()


# ==== 3. unbounded gap filling ======================================================================================


def test_gap_stuffed_timestamps_do_not_allocate_a_huge_grid(tmp_path: Path) -> None:
    """Defect 3: a 0.68 MB CSV with half its intervals 0.3 ms and half 0.49 s once made a 1.8 GB analysis grid
    (the grid came from the median interval). The grid is now bounded by the samples it is made from."""
    csv = gap_stuffed_csv(tmp_path / "stuffed.csv", 17_000)
    assert csv.stat().st_size < 0.8 * MiB
    child = gait_child("analyze", str(csv), "--no-save")
    report_peak("gap-stuffed CSV (0.68 MB)", child)
    line = child.one_line_error("stuffed.csv", "irregular")
    no_long_numbers(line)


# ==== 4. Host / Origin, tokens, the phyphox URL =====================================================================


def test_the_dashboard_answers_only_its_own_host_and_origin(tmp_path: Path) -> None:
    """Defect 4: DNS rebinding. A page on another site, its name pointed at 127.0.0.1, reaches the dashboard with
    its own name in ``Host``: refused; a state-changing call from another origin: refused."""
    from dashboards.app import create_app

    (tmp_path / "data").mkdir()
    app = create_app(tmp_path / "data", tmp_path / "home" / "gait.sqlite")
    client = app.server.test_client()
    assert client.get("/", headers={"Host": "localhost:8050"}).status_code == 200
    assert client.get("/", headers={"Host": "127.0.0.1:8050"}).status_code == 200
    foreign = client.get("/", headers={"Host": "rebind.attacker.example:8050"})
    assert foreign.status_code == 403 and b"Host" in foreign.data
    body = {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": "/"}],
        "changedPropIds": ["url.pathname"],
    }
    here = {"Host": "localhost:8050"}
    same = client.post("/_dash-update-component", json=body, headers={**here, "Origin": "http://localhost:8050"})
    assert same.status_code == 200
    cross = client.post("/_dash-update-component", json=body, headers={**here, "Origin": "http://attacker.example"})
    assert cross.status_code == 403 and b"Origin" in cross.data


def test_a_dashboard_receiver_on_the_wifi_always_has_a_token(tmp_path: Path) -> None:
    """Defect 4: the live page could start a Sensor Logger receiver on 0.0.0.0 with an empty token."""
    from dashboards.live import LiveController, LiveRequest

    port = free_port()
    live = LiveController(tmp_path / "live")
    live.start(LiveRequest("sensorlogger", str(port), host="0.0.0.0", token=""))
    try:
        deadline = time.monotonic() + 20
        while "push_url" not in live.state() and time.monotonic() < deadline:
            time.sleep(0.1)
        url = live.state().get("push_url", "")
        assert re.search(r"/push\?token=[A-Za-z0-9_-]{8,}$", url), url
        status, _ = post_once(port, b"{}", "/push")
        assert status == 401
    finally:
        live.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:8080",  # a name: anything on the internet, or DNS rebinding
        "http://169.254.169.254/latest/meta-data",  # a cloud metadata service
        "http://192.168.1.20:22",  # a phone's address but not phyphox's port
        "https://192.168.1.20:8080",  # phyphox serves plain http
        "http://8.8.8.8:8080",  # a public address
    ],
)
def test_the_dashboard_fetches_only_a_phone_on_this_network(tmp_path: Path, url: str) -> None:
    """Defect 4: the phyphox URL field made the dashboard fetch any address."""
    from dashboards.live import LiveController, LiveRequest

    live = LiveController(tmp_path / "live")
    try:
        with pytest.raises(GaitError, match="phyphox"):
            live.start(LiveRequest("phyphox", url))
        assert not live.running
    finally:
        live.stop()


def test_the_phyphox_address_rule() -> None:
    from gait.sources.phone.phyphox import check_lan_url

    for ok in (
        "http://192.168.1.20:8080",
        "http://10.0.0.7",
        "http://172.20.1.2:8080",
        "http://127.0.0.1:50123",
        "http://[fd00::5]:8080",
    ):
        assert check_lan_url(ok).startswith("http://")
    for bad in (
        "http://example.com:8080",
        "http://192.168.1.20:9000",
        "ftp://192.168.1.20",
        "http://0.0.0.0:8080",
        "http://224.0.0.1:8080",
        "http://user@192.168.1.20:8080",
    ):
        with pytest.raises(GaitError):
            check_lan_url(bad)


def test_the_receiver_answers_only_its_own_host_and_origin(tmp_path: Path) -> None:
    """Defect 4: the phone receiver checks ``Host`` and refuses cross-origin posts from a browser page."""
    from tests.fixtures.phone.phone_sim import phone_sim, push_messages

    msgs = push_messages(phone_sim(6.0), "android", batch_s=0.5)
    good = [json.dumps(m).encode() for m in msgs]
    plan = [
        (good[0], {}, 200),
        (good[1], {"Host": "rebind.attacker.example"}, 403),
        (good[1], {"Origin": "http://attacker.example"}, 403),
        (good[1], {}, 200),
    ]
    _src, _result, answers = asyncio.run(record_push(tmp_path / "rec", [(b, "/push", h) for b, h, _ in plan]))
    assert [a[0] for a in answers] == [p[2] for p in plan], answers
    assert "Host" in answers[1][1] and "Origin" in answers[2][1]


# -- helpers for the phone receiver ----------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_once(port: int, body: bytes, path: str, headers: dict | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def test_a_phone_whose_gyroscope_stops_keeps_its_accelerometer_and_marks_the_gap(tmp_path: Path) -> None:
    """Defect 5: after the gyroscope stopped, every later sample was lost while each post was answered 200 and
    the summary said "0 lost, 0 gaps"."""
    from tests.fixtures.phone.phone_sim import phone_sim, push_messages

    s = phone_sim(30.0)
    msgs = push_messages(s, "android", batch_s=0.5, with_total=True)
    stop_s = 15.0
    for m in msgs:  # the gyroscope goes quiet 15 s in; the accelerometer carries on
        m["payload"] = [p for p in m["payload"] if p["name"] != "gyroscope" or m["messageId"] * 0.5 < stop_s]
    _src, result, answers = asyncio.run(
        record_push(tmp_path / "rec", [(json.dumps(m).encode(), "/push", {}) for m in msgs])
    )
    assert {a[0] for a in answers} == {200}
    rec = gait.load(tmp_path / "rec")
    truth = s.recording.imu
    assert rec.imu.n >= truth.n - 3  # every accelerometer sample kept
    assert np.allclose(rec.imu.acc[-200:], truth.acc[-200:], atol=1e-4)
    t_stop = rec.imu.t[0] + stop_s - truth.t[1]
    gyr_ok = np.isfinite(rec.imu.gyr).all(axis=1)
    assert gyr_ok[rec.imu.t < t_stop - 0.1].all() and not gyr_ok[rec.imu.t > t_stop + 0.6].any()
    gaps = [g for g in rec.meta.gaps if "gyroscope" in g.reason]
    assert len(gaps) == 1 and abs(gaps[0].start_s - t_stop) < 0.6 and gaps[0].end_s >= rec.imu.t[-1] - 0.6
    assert result.streams["imu"].gaps == 1
    analysis = gait.analyze(rec)  # the accelerometer still gives the timing
    assert analysis.summary.cadence_spm == pytest.approx(s.truth_summary()["cadence_spm"], abs=1.0)


# ==== 6. message ids per session ====================================================================================


def test_message_ids_are_deduplicated_per_session_only(tmp_path: Path) -> None:
    """Defect 6: a new Sensor Logger session restarts its message ids; its first posts were ignored as repeats."""
    from tests.fixtures.phone.phone_sim import phone_sim, push_messages

    msgs = push_messages(phone_sim(12.0), "android", batch_s=0.5, with_total=True)
    half = len(msgs) // 2
    for k, m in enumerate(msgs[half:]):  # the runner stopped and started logging again: ids start from 0
        m["sessionId"], m["messageId"] = "s-2", k
    bodies = [(json.dumps(m).encode(), "/push", {}) for m in msgs]
    bodies.insert(5, bodies[3])  # a real repeat within the first session
    src, _result, _answers = asyncio.run(record_push(tmp_path / "rec", bodies))
    assert src.counts["accepted"] == len(msgs) and src.counts["duplicate"] == 1
    rec = gait.load(tmp_path / "rec")
    assert rec.imu.t[-1] - rec.imu.t[0] > 12.0 + 3.0 + 1.0  # the second session's samples are there


# ==== 7. acknowledged means durable =================================================================================


def start_phone_recorder(*args: str) -> tuple[subprocess.Popen, str | None, list[str]]:
    """``gait record --phone sensorlogger --port 0 --no-analyze ARGS`` in a child process, read until it prints its
    push URL (30 s at most): the process, the URL (None if it never came) and the lines it printed so far."""
    cmd = [sys.executable, "-m", "gait.cli.main", "record", "--phone", "sensorlogger", "--port", "0", "--no-analyze"]
    proc = subprocess.Popen([*cmd, *args], cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    url, lines = None, []
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "http://" in line:
            url = line.strip()
    return proc, url, lines


def test_kill_9_during_a_phone_recording_loses_at_most_1_s_of_acknowledged_samples(tmp_path: Path) -> None:
    """Defect 7: a 200 is an acknowledgement. ``gait record --phone sensorlogger`` is killed with SIGKILL right
    after a 200, while the phone posts at its real pace; every sample it acknowledged more than 1 s of phone time
    before the kill must be on disk (measured: the acknowledged samples missing after the kill, in seconds)."""
    from tests.fixtures.phone.phone_sim import phone_sim, push_messages

    s = phone_sim(12.0)
    msgs = push_messages(s, "android", batch_s=0.25, with_total=True)[:32]  # 8 s of phone time
    out = tmp_path / "phone"
    proc, url, _ = start_phone_recorder("--token", "tok", "--out", str(out))
    acked: list[int] = []
    try:
        assert url is not None
        port = int(url.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        t0 = time.monotonic()
        for k, m in enumerate(msgs):
            time.sleep(max(0.0, t0 + 0.25 * (k + 1) - time.monotonic()))  # the phone's batch period
            status, _ = post(conn, json.dumps(m).encode(), "/push?token=tok")
            assert status == 200
            acked.append(k)
        os.kill(proc.pid, 9)  # at once after the last acknowledgement
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait()
    n_acked = sum(1 for k in acked for p in msgs[k]["payload"] if p["name"] == "totalacceleration")
    rec = gait.load(out)
    assert rec.recovered
    lost_s = (n_acked - 1 - rec.imu.n) / 100.0  # 100 Hz; the first sample is before the first gyro reading
    print(f"\n[kill -9] acknowledged {n_acked} samples, on disk {rec.imu.n}: lost {lost_s:.2f} s")
    assert lost_s <= 1.0
    assert np.allclose(rec.imu.acc, s.recording.imu.acc[1 : rec.imu.n + 1], atol=1e-4)


# ==== 8-11. files: links, special files, huge files =================================================================


def test_recover_does_not_follow_planted_tmp_links(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Defect 8: ``gait recover`` wrote through ``imu.arrow.tmp`` / ``meta.json.tmp`` symlinks planted in the
    folder and overwrote files outside it."""
    folder = crashed_folder(tmp_path / "crashed")
    victims = {name: tmp_path / f"victim-{name}" for name in ("imu.arrow.tmp", "meta.json.tmp")}
    for name, victim in victims.items():
        victim.write_text("precious")
        (folder / name).symlink_to(victim)
    code = main(["recover", str(folder)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert all(v.read_text() == "precious" for v in victims.values())
    rec = gait.load(folder)
    assert rec.meta.complete and not rec.recovered and rec.imu.n > 1000
    assert not (folder / "imu.arrow").is_symlink() and not (folder / "meta.json").is_symlink()


def test_a_symlinked_sample_file_is_not_shown_in_the_dashboard(tmp_path: Path) -> None:
    """Defect 9: a recording whose imu.arrow is a symbolic link (here to another run's samples outside the data
    folder) was shown; links are refused, and the recording is listed as unreadable with the reason."""
    from dashboards.catalog import Catalog

    outside = recording_folder(tmp_path / "elsewhere", seed=4)
    data = tmp_path / "data"
    linked = recording_folder(data / "linked", seed=5)
    (linked / "imu.arrow").unlink()
    (linked / "imu.arrow").symlink_to(outside / "imu.arrow")
    cat = Catalog(data, tmp_path / "home" / "gait.sqlite")
    cat.refresh()
    entry = cat.runs["linked"]
    assert not entry.ok and "symbolic link" in entry.error


def test_a_fifo_named_imu_arrow_is_refused_not_waited_on(tmp_path: Path) -> None:
    """Defect 10: a FIFO named imu.arrow hung ``gait info`` and the dashboard's start."""
    folder = recording_folder(tmp_path / "data" / "fifo", seconds=10.0)
    (folder / "imu.arrow").unlink()
    os.mkfifo(folder / "imu.arrow")
    child = gait_child("info", str(folder), timeout=60)
    child.one_line_error("imu.arrow", "not a regular file")
    code = (
        "import sys\nfrom dashboards.catalog import Catalog\n"
        "cat = Catalog(sys.argv[1], sys.argv[2]); cat.refresh(); print(cat.runs['fifo'].error)"
    )
    child = run_child(["-c", code, str(tmp_path / "data"), str(tmp_path / "home.sqlite")], timeout=60)
    assert not child.timed_out and child.code == 0, child.err[-2000:]
    assert "not a regular file" in child.out


def test_a_sample_log_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    """Defect 10: ``imu.log -> /dev/zero`` ate memory."""
    folder = crashed_folder(tmp_path / "crashed")
    (folder / "imu.log").unlink()
    (folder / "imu.log").symlink_to("/dev/zero")
    child = gait_child("info", str(folder), timeout=60)
    report_peak("imu.log -> /dev/zero", child)
    child.one_line_error("imu.log", "symbolic link")


def test_a_deeply_nested_meta_json_is_one_line(tmp_path: Path) -> None:
    """Defect 10: a meta.json nested 200 000 deep ended in RecursionError."""
    folder = recording_folder(tmp_path / "deep", seconds=10.0)
    (folder / "meta.json").write_text(deep_json())
    child = gait_child("info", str(folder))
    child.one_line_error("meta.json", "nested deeper than")


def sparse(path: Path, head: bytes, size: int) -> Path:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def test_huge_files_are_checked_before_they_are_read(tmp_path: Path) -> None:
    """Defect 11: a 2 GB meta.json or CSV was read whole before any check (2-4 GB of memory); a 2 GB sparse crash
    log is read record by record (what is intact loads; the rest is counted as ignored)."""
    meta = recording_folder(tmp_path / "bigmeta", seconds=10.0)
    sparse(meta / "meta.json", (meta / "meta.json").read_bytes(), 2 * GiB)
    child = gait_child("info", str(meta))
    report_peak("2 GB sparse meta.json", child)
    child.one_line_error("meta.json", "limit")

    rows = csv_text(np.arange(2000) / 100.0, np.tile([0.0, 9.81, 0.0], (2000, 1)))
    csv = sparse(tmp_path / "big.csv", rows.encode(), 2 * GiB)
    child = gait_child("analyze", str(csv), "--no-save")
    report_peak("2 GB sparse CSV", child)
    child.one_line_error("big.csv", "limit")

    log = crashed_folder(tmp_path / "biglog")
    size = (log / "imu.log").stat().st_size
    sparse(log / "imu.log", (log / "imu.log").read_bytes(), 2 * GiB)
    child = gait_child("info", str(log))
    report_peak("2 GB sparse imu.log", child)
    assert child.code == 0, child.err
    assert "recovered 1248 samples" in child.out and f"{2 * GiB - size} torn bytes ignored" in child.out


# ==== 12-13. absurd values ==========================================================================================


def test_absurd_values_are_flagged_and_left_out_not_averaged_in() -> None:
    """Defect 12: 11 samples of 1e20 m/s^2 in a clean minute changed the cadence (164 instead of 170) and said
    "little running"; 1e308 printed warnings."""
    rec = sim(60.0, cadence_spm=170.0).recording
    clean = gait.analyze(rec).summary
    for value in (1e20, 1e308):
        acc = rec.imu.acc.copy()
        acc[np.linspace(500, 5500, 11).astype(int)] = value
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = gait.analyze(gait.Recording.from_arrays(rec.imu.t, acc, rec.imu.gyr, meta=rec.meta))
        assert res.summary.cadence_spm == pytest.approx(clean.cadence_spm, abs=0.3)
        assert "little_running" not in res.quality.flags and "out_of_range" in res.quality.flags
        assert any("11 samples" in m and "range" in m for m in res.quality.messages)


def test_error_messages_never_print_absurd_numbers_at_full_length(tmp_path: Path) -> None:
    """Defect 12: an error message printed a 309-digit number."""
    n = 3000
    t = np.arange(n) / 100.0
    for name, acc, gyr in [
        ("acc.csv", np.full((n, 3), 1e300), None),
        ("gyr.csv", np.tile([0.0, 9.81, 0.0], (n, 1)), np.full((n, 3), 1e300)),
    ]:
        (tmp_path / name).write_text(csv_text(t, acc, gyr, fmt="%.17g"))
        child = gait_child("analyze", str(tmp_path / name), "--no-save")
        no_long_numbers(child.one_line_error(name))


def test_phone_values_beyond_float32_are_refused_not_stored_as_inf(tmp_path: Path) -> None:
    """Defect 13: a phone's reading of 1e39 was answered 200 and stored as inf."""
    from tests.fixtures.phone.phone_sim import phone_sim, push_messages

    msgs = push_messages(phone_sim(8.0), "android", batch_s=0.5, with_total=True)
    bad = json.loads(json.dumps(msgs[6]))
    bad["messageId"] = 999
    total = next(p for p in bad["payload"] if p["name"] == "totalacceleration")  # the series gait records
    total["values"]["x"] = 1e39
    bodies = [(json.dumps(m).encode(), "/push", {}) for m in msgs[:6]]
    bodies += [(json.dumps(bad).encode(), "/push", {})]
    bodies += [(json.dumps(m).encode(), "/push", {}) for m in msgs[6:]]
    _src, _result, answers = asyncio.run(record_push(tmp_path / "rec", bodies))
    assert answers[6][0] == 400 and "float32" in answers[6][1]
    assert {a[0] for i, a in enumerate(answers) if i != 6} == {200}
    rec = gait.load(tmp_path / "rec")
    assert np.isfinite(rec.imu.acc).all() and np.isfinite(rec.imu.gyr).all()


# ==== 14. the run history ===========================================================================================


def test_a_damaged_history_row_is_skipped_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Defect 14: one damaged ``findings_json`` made ``history``, ``analyze`` and ``report`` exit with an internal
    error."""
    store = tmp_path / "h.sqlite"
    for seed in (1, 2):
        folder = recording_folder(tmp_path / f"run{seed}", seed=seed)
        assert main(["analyze", str(folder), "--store", str(store)]) == 0
    with sqlite3.connect(store) as db:
        db.execute("UPDATE runs SET findings_json = ? WHERE rowid = 1", ('[{"severity": "watch", ' + "x" * 50,))
    capsys.readouterr()
    for argv in (
        ["history", "--store", str(store)],
        ["analyze", str(tmp_path / "run2"), "--store", str(store), "--no-save"],
        ["report", str(tmp_path / "run2"), "--store", str(store), "--out", str(tmp_path / "r.html")],
    ):
        code = main(argv)
        printed = capsys.readouterr()
        assert code == 0, printed.err
        assert "internal error" not in printed.err
        assert "skipped 1 damaged run" in printed.err, printed.err


def test_a_read_only_history_can_be_listed(tmp_path: Path) -> None:
    """Defect 14: a history file that cannot be written (another user's, a read-only disk) could not be listed."""
    store = tmp_path / "h.sqlite"
    folder = recording_folder(tmp_path / "run", seed=3)
    assert main(["analyze", str(folder), "--store", str(store)]) == 0
    store.chmod(0o444)
    prefix: tuple = ()
    if os.geteuid() == 0:  # root ignores file permissions: drop the capability that lets it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a file read-only for the child")
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")
    child = gait_child("history", "--store", str(store), prefix=prefix)
    assert child.code == 0, child.err
    assert "run" in child.out and "read-only" in child.err
    child = gait_child("analyze", str(folder), "--store", str(store), prefix=prefix)
    assert child.code == 0, child.err
    assert "read-only" in child.err and "not saved" in child.err


# ==== 15. a receiver on the Wi-Fi without a token ===================================================================


def test_record_on_every_interface_without_a_token_generates_one(tmp_path: Path) -> None:
    """Defect 15: ``gait record --host 0.0.0.0`` without ``--token`` listened on the network for anyone."""
    proc, url, lines = start_phone_recorder("--host", "0.0.0.0", "--duration", "4", "--out", str(tmp_path / "rec"))
    try:
        assert url is not None and re.search(r"/push\?token=[A-Za-z0-9_-]{8,}$", url), lines
        port = int(url.split(":")[2].split("/")[0])
        assert post_once(port, b"{}", "/push")[0] == 401
        proc.wait(30)
        err = proc.stderr.read()  # not communicate(): it would skip what readline() has buffered
    finally:
        proc.kill()
    assert "token" in "".join(lines).lower() and "generated" in "".join(lines + [err]).lower()


# ==== 16. oversized bodies, a million columns =======================================================================

DASH_BODY_CHILD = r"""
import io, sys
from pathlib import Path
from werkzeug.test import create_environ, run_wsgi_app
from dashboards.app import create_app

class Zeros(io.RawIOBase):
    def __init__(self, n): self.left = n
    def readable(self): return True
    def readinto(self, b):
        k = min(len(b), self.left); b[:k] = b"0" * k; self.left -= k; return k

n = 420_000_000
Path(sys.argv[1]).mkdir(exist_ok=True)
app = create_app(sys.argv[1], sys.argv[2])
env = create_environ("/_dash-update-component", "http://localhost:8050/", method="POST",
                     content_type="application/json")
env["wsgi.input"], env["CONTENT_LENGTH"] = io.BufferedReader(Zeros(n)), str(n)  # streamed, never held here
body, status, _headers = run_wsgi_app(app.server, env)
b"".join(body)
print(status.split()[0])
"""


def test_an_oversized_dash_request_is_refused_at_the_http_layer(tmp_path: Path) -> None:
    """Defect 16: a 420 MB Dash callback body was refused only after 1.5 GB had been allocated."""
    child = run_child(["-c", DASH_BODY_CHILD, str(tmp_path / "data"), str(tmp_path / "h.sqlite")])
    report_peak("420 MB Dash callback body", child)
    assert child.code == 0, child.err[-2000:]
    assert child.out.strip().splitlines()[-1] == "413"


def test_a_csv_with_a_million_columns_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """Defect 16: a CSV with a million columns took 1.6 GB."""
    cols = ["time_s", "acc_x", "acc_y", "acc_z"] + [f"c{k}" for k in range(1_000_000)]
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(cols) + "\n" + ",".join(["0"] * len(cols)) + "\n")
    child = gait_child("analyze", str(wide), "--no-save")
    report_peak("CSV with a million columns", child)
    child.one_line_error("wide.csv", "columns", "limit")


def test_limits_are_named_in_one_line(tmp_path: Path) -> None:
    """Every limit is a constant in one module, and each refusal names it."""
    from gait.recording import limits

    assert limits.MAX_JSON_DEPTH <= 64 and 256 * MiB >= limits.MAX_UNZIPPED_BYTES
    with pytest.raises(RecordingError, match="nested deeper than"):
        limits.parse_json(deep_json(100).encode(), "x.json")
    p = tmp_path / "f"
    os.mkfifo(p)
    with pytest.raises(RecordingError, match="not a regular file"):
        limits.read_bytes(p, 10, "test")
    big = sparse(tmp_path / "big", b"x", 11)
    with pytest.raises(RecordingError, match=r"over the .* limit"):
        limits.read_bytes(big, 10, "test")
    assert stat.S_ISREG(os.stat(big).st_mode)
