"""Dashboard pieces without a browser: figure builders against simulator truth, the catalog's safety rules,
uploads, and a live session against an emulated sensor."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dash", reason="the dashboard needs dash (pip install -e .)")

from dashboards import figures
from dashboards.catalog import CACHE_VERSION, UPLOAD_MAX_BYTES, Catalog
from dashboards.live import LiveController, LiveRequest
from dashboards.pages.trends import compare_rows
from dashboards.style import LEFT, RIGHT, WARN, fmt
from gait.analysis.summary import RunRecord
from gait.errors import GaitError, RecordingError
from gait.recording import save
from gait.simulate import SimConfig, simulate


def _sim(folder: Path, seed: int = 1, **kw: object) -> Path:
    cfg = SimConfig(segments=(("stand", 2.0), ("run", 90.0)), rate_hz=104.0, seed=seed, **kw)  # type: ignore[arg-type]
    save(simulate(cfg).recording, folder)
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    _sim(root / "asym_run", drop_left_deg=4.0, drop_right_deg=8.0, cadence_spm=176.0)
    _sim(root / "nested" / "second", seed=2, cadence_spm=160.0)
    (root / "notes.txt").write_text("not a recording")
    return root


@pytest.fixture(scope="module")
def catalog(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    home = tmp_path_factory.mktemp("home")
    cat = Catalog(data, home / "gait.sqlite")
    cat.refresh()
    return cat


def test_catalog_finds_nested_recordings_and_caches(catalog: Catalog, data: Path) -> None:
    assert sorted(catalog.runs) == ["asym_run", "nested/second"]
    assert all(e.ok for e in catalog.runs.values())
    # a second catalog on the same cache reads the analyses instead of recomputing them
    again = Catalog(data, catalog.store_path)
    t0 = time.perf_counter()
    again.refresh()
    assert time.perf_counter() - t0 < 1.0
    assert again.runs["asym_run"].analysis == catalog.runs["asym_run"].analysis


def test_a_cached_analysis_from_schema_1_is_analysed_again(catalog: Catalog, data: Path) -> None:
    """A cache entry written by version 1 (schema gait.analysis/1, braking as ``braking_dv_ms``) for an unchanged
    recording is not shown as it is: the run is analysed again and the cache rewritten."""
    import json

    js, _, _ = catalog._cache_files(catalog.runs["asym_run"].path)
    current = json.loads(js.read_text())
    old = dict(current["entry"])
    old["analysis"] = {k: v for k, v in old["analysis"].items() if k != "braking_dv_mps"}
    old["analysis"].update(schema="gait.analysis/1", braking_dv_ms=0.123)
    js.write_text(json.dumps({"version": 1, "signature": current["signature"], "entry": old}))
    again = Catalog(data, catalog.store_path)
    again.refresh()
    a = again.runs["asym_run"].analysis
    assert a["schema"] == "gait.analysis/2" and "braking_dv_ms" not in a
    assert a["braking_dv_mps"] == catalog.runs["asym_run"].analysis["braking_dv_mps"]
    assert json.loads(js.read_text())["version"] == CACHE_VERSION


def test_catalog_never_leaves_the_data_folder(catalog: Catalog, data: Path, tmp_path: Path) -> None:
    outside = _sim(tmp_path / "outside")
    link = data / "link_out"
    link.symlink_to(outside, target_is_directory=True)
    try:
        assert all("outside" not in str(p) and "link_out" not in str(p) for p in catalog.discover())
        assert catalog.get("../outside") is None
        assert catalog.get(str(outside)) is None
        with pytest.raises(RecordingError, match="outside the data folder"):
            catalog.add_folder(outside)
    finally:
        link.unlink()


def test_step_series_shows_each_side_at_its_simulated_drop(catalog: Catalog) -> None:
    steps = catalog.steps("asym_run")
    fig = figures.step_series(steps, "pelvic_drop_deg")
    medians = {t.name: np.nanmedian(np.asarray(t.y, dtype=float)) for t in fig.data if "rolling" in t.name}
    assert medians["left stance, rolling median"] == pytest.approx(4.0, abs=1.0)  # simulator truth
    assert medians["right stance, rolling median"] == pytest.approx(8.0, abs=1.0)
    colours = {t.name: t.line.color for t in fig.data if "rolling" in t.name}
    assert colours == {"left stance, rolling median": LEFT, "right stance, rolling median": RIGHT}
    cad = figures.step_series(steps, "cadence_spm")
    assert np.nanmedian(np.asarray(cad.data[0].y, dtype=float)) == pytest.approx(176.0, abs=1.5)
    assert cad.layout.yaxis.title.text == "Cadence (spm)"
    assert fig.layout.xaxis.title.text == "Time in the run (min)"


def test_long_runs_are_aggregated_within_the_point_budget() -> None:
    import pandas as pd

    n = 10_000  # an hour of steps
    rng = np.random.default_rng(1)
    side = np.where(np.arange(n) % 2 == 0, "L", "R")
    steps = pd.DataFrame(
        {
            "side": side,
            "ic_s": np.arange(n) * 0.36,
            "step_time_s": 0.36,
            "pelvic_drop_deg": np.where(side == "L", 4.0, 8.0) + rng.normal(0, 0.5, n),
            "activity": "run",
            "low_confidence": False,
        }
    )
    fig = figures.step_series(steps, "pelvic_drop_deg")
    assert all(len(t.x) <= figures.MAX_STEP_POINTS for t in fig.data)
    for tr in fig.data:
        if "rolling median" in tr.name:
            truth = 4.0 if tr.name.startswith("left") else 8.0
            assert np.nanmax(np.abs(np.asarray(tr.y, dtype=float) - truth)) < 0.45  # 4 SE of a 31-step median
        elif tr.fill == "tonexty":  # the lower edge of the middle-half band: the 25th percentile
            truth = 4.0 if tr.name.startswith("left") else 8.0
            assert np.nanmedian(np.asarray(tr.y, dtype=float)) == pytest.approx(truth - 0.674 * 0.5, abs=0.1)


def test_envelope_keeps_peaks_within_the_point_budget() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(200_000) / 208.0
    y = rng.normal(size=t.size)
    y[123_457] = 40.0  # one impact
    y[77_777] = -35.0
    te, ye = figures.envelope(t, y, max_points=2000)
    assert len(te) <= 2000
    assert ye.max() == 40.0 and ye.min() == -35.0
    assert np.all(np.diff(te) > 0)


def test_raw_window_in_g_and_degrees(catalog: Catalog) -> None:
    rec = catalog.recording("asym_run")
    imu = rec.imu
    fig = figures.raw_window(imu.t, imu.acc, imu.gyr, 0.0, 1.5, [(1.0, "L")])  # standing still at the start
    acc = np.array([np.asarray(tr.y, dtype=float) for tr in fig.data if tr.name.startswith("acc")])
    assert np.median(np.linalg.norm(acc, axis=0)) == pytest.approx(1.0, abs=0.05)  # gravity = 1 g
    assert fig.layout.yaxis.title.text == "Acceleration (g)"
    assert figures.raw_window(imu.t, imu.acc, imu.gyr, 1e6, 5.0).layout.annotations  # past the end: says so


def test_weekly_load_flags_spikes() -> None:
    weeks = [
        {"week_start": "2026-11-02", "running_min": 60.0, "runs": 3, "change_pct": None, "spike": False},
        {"week_start": "2026-11-09", "running_min": 100.0, "runs": 4, "change_pct": 66.7, "spike": True},
    ]
    bar = figures.weekly_load(weeks).data[0]
    assert list(bar.marker.color) == [figures.SKY, WARN]
    assert bar.text[1] == "+67 %"


def test_trend_and_compare_handle_missing_values() -> None:
    runs = [
        {"day": "2026-11-01", "name": "a", "record": RunRecord(pelvic_drop_left_deg=4.0, pelvic_drop_right_deg=None)},
        {"day": "2026-11-03", "name": "b", "record": RunRecord(pelvic_drop_left_deg=5.0, pelvic_drop_right_deg=6.0)},
    ]
    fig = figures.metric_trend(runs, "pelvic_drop_deg")
    assert [t.name for t in fig.data] == ["left stance", "right stance"]
    assert np.isnan(fig.data[1].y[0])
    rows = compare_rows(
        RunRecord(cadence_spm=170.0, braking_dv_mps=0.201), RunRecord(cadence_spm=178.5, braking_dv_mps=0.199)
    )
    by = {r["metric"]: r for r in rows}
    assert by["Cadence (spm)"]["diff"] == "+8.5"
    assert by["Braking (m/s per step)"]["diff"] == "+0.00"  # never "-0.00"
    assert by["Contact time (ms)"]["diff"] == "n/a"
    assert fmt(float("nan")) == "n/a" and fmt(None) == "n/a" and fmt(3.14159, 2, "deg") == "3.14 deg"


def _data_url(raw: bytes, kind: str = "text/csv") -> str:
    return f"data:{kind};base64,{base64.b64encode(raw).decode()}"


def test_upload_csv_is_analysed_against_truth(catalog: Catalog) -> None:
    res = simulate(SimConfig(segments=(("run", 60.0),), rate_hz=100.0, cadence_spm=182.0, seed=5))
    imu = res.recording.imu
    g = 9.80665
    lines = ["time_s,acc_x,acc_y,acc_z"] + [
        f"{t:.4f},{a[0] / g:.5f},{a[1] / g:.5f},{a[2] / g:.5f}" for t, a in zip(imu.t, imu.acc, strict=True)
    ]
    entry = catalog.import_upload("my run (1).csv", _data_url("\n".join(lines).encode()), acc_unit="g")
    assert entry.slug == "uploads/my_run_1"
    assert entry.analysis["cadence_spm"] == pytest.approx(182.0, abs=1.0)
    assert catalog.get(entry.slug) is entry


def test_upload_a_sensor_logger_export(catalog: Catalog, tmp_path: Path) -> None:
    from tests.fixtures.phone.phone_sim import phone_sim, write_sensorlogger

    sim = phone_sim(40.0)
    z = write_sensorlogger(sim, "ios", tmp_path / "export", as_zip=True)
    entry = catalog.import_upload("Sensor Logger 2026-11-20.zip", _data_url(z.read_bytes(), "application/zip"))
    assert entry.analysis["recording"]["source"] != "csv-import"
    assert entry.analysis["cadence_spm"] == pytest.approx(sim.truth_summary()["cadence_spm"], abs=1.0)


def test_upload_a_watch_fit_file(catalog: Catalog) -> None:
    """A watch's FIT file (test encoder, Stryd fields) is kept with its own numbers; a cyclist's is refused."""
    from dashboards.pages.runs import watch_text
    from tests.fixtures.phone.phone_sim import FitSession, fit_bytes, watch_records

    run = fit_bytes(watch_records(90, stryd=True), stryd=True, sessions=(FitSession("running", 0, 90, "trail"),))
    entry = catalog.import_upload("Trail run.fit", _data_url(run, "application/octet-stream"))
    assert entry.slug == "uploads/Trail_run" and not entry.ok and "raw IMU samples" in (entry.error or "")
    text = watch_text(catalog, entry)
    assert "running (trail)" in text and "cadence 173.0 spm" in text and "power 250 W, form power 70 W" in text
    ride = fit_bytes(watch_records(90, cadence=90), sessions=(FitSession("cycling", 0, 90, "road"),))
    with pytest.raises(GaitError, match=r"Ride.fit: a cycling \(road\) activity, not running or walking"):
        catalog.import_upload("Ride.fit", _data_url(ride, "application/octet-stream"))
    assert not (catalog.data_dir / "uploads" / "Ride").exists()


@pytest.mark.parametrize(
    ("name", "contents", "message"),
    [
        ("run.exe", _data_url(b"MZ"), "unsupported file type"),
        ("../../etc/passwd.csv", "data:text/csv;base64,@@@", "damaged"),
        ("huge.csv", "data:text/csv;base64," + "A" * (UPLOAD_MAX_BYTES * 4 // 3 + 8), "upload limit"),
        ("run.zip", _data_url(b"not a zip", "application/zip"), "not a valid zip"),
        ("empty.csv", _data_url(b"time_s,acc_x\n"), "empty.csv"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(catalog: Catalog, name: str, contents: str, message: str) -> None:
    before = set(catalog.runs)
    with pytest.raises(GaitError, match=message):
        catalog.import_upload(name, contents)
    assert set(catalog.runs) == before
    assert not any(p.name.startswith("passwd") for p in (catalog.data_dir / "uploads").glob("*"))


def test_zipped_recording_upload_ignores_paths_outside(catalog: Catalog, data: Path, tmp_path: Path) -> None:
    buf = io.BytesIO()
    src = data / "asym_run"
    with zipfile.ZipFile(buf, "w") as z:
        for f in src.iterdir():
            z.write(f, f"asym_run/{f.name}")
        z.writestr("../../escape.txt", "should never be written")
    entry = catalog.import_upload("asym copy.zip", _data_url(buf.getvalue(), "application/zip"))
    assert entry.ok and entry.slug.startswith("uploads/asym_copy")
    assert not (data.parent / "escape.txt").exists() and not (data / "escape.txt").exists()
    assert entry.record.pelvic_drop_left_deg == catalog.runs["asym_run"].record.pelvic_drop_left_deg
    assert entry.record.pelvic_drop_right_deg == catalog.runs["asym_run"].record.pelvic_drop_right_deg


def test_live_session_with_an_emulated_sensor(catalog: Catalog) -> None:
    saved: list[Path] = []
    live = LiveController(catalog.data_dir / "live", on_saved=lambda p: saved.append(catalog.add_folder(p).path))
    live.start(LiveRequest("emulated", "movesense"))
    with pytest.raises(GaitError, match="already running"):
        live.start(LiveRequest("emulated", "polar"))
    deadline = time.monotonic() + 40
    cadences = []
    while time.monotonic() < deadline and len(cadences) < 4:
        time.sleep(1.0)
        c = (live.state().get("tiles") or {}).get("cadence_spm")
        if c is not None:
            cadences.append(c)
    state = live.state()
    live.stop()
    assert state["phase"] == "recording", state.get("message")
    assert len(cadences) >= 4, "the live cadence tile did not update"
    assert np.median(cadences) == pytest.approx(170.0, abs=3.0)  # the emulator streams a 170 spm simulated run
    assert state["streams"][0]["lost"] == 0
    assert len(state["history"]) >= 4
    end = live.state()
    assert end["phase"] == "stopped" and not end["running"]
    assert saved and saved[0].parent == catalog.data_dir / "live"
    assert catalog.get(f"live/{saved[0].name}") is not None


def test_live_refuses_unknown_sources(tmp_path: Path) -> None:
    live = LiveController(tmp_path)
    for req, msg in [
        (LiveRequest("carrier-pigeon", "x"), "unknown live source"),
        (LiveRequest("emulated", ""), "choose what to stream"),
        (LiveRequest("emulated", "garmin"), "no emulated sensor"),
    ]:
        with pytest.raises(GaitError, match=msg):
            live.start(req)
    assert not live.running


def test_gait_dashboard_command_serves_and_stops_cleanly(data: Path, tmp_path: Path) -> None:
    """The README's main command: analyses the folder, serves on 127.0.0.1, Ctrl-C stops it with exit code 0."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GAIT_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "gait.cli.main", "dashboard", "--data", str(data), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        page = ""
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.5)
        assert "<title>gait</title>" in page
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "open http://localhost:" in err and "stopped" in err and "Traceback" not in err
    assert (tmp_path / "gait.sqlite").is_file()  # the runs joined the local history


def test_gait_dashboard_bad_folder_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "gait.cli.main", "dashboard", "--data", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "nope: no such folder" in r.stderr


def _wait_tiles(live: LiveController, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = live.state()
        if (state.get("tiles") or {}).get("pelvic_drop_left_deg") is not None or state.get("phase") == "error":
            return state
        time.sleep(0.3)
    return live.state()


def test_live_session_from_a_phone_pushing_to_sensor_logger_receiver(catalog: Catalog) -> None:
    import http.client
    import json
    import socket

    from tests.fixtures.phone.phone_sim import phone_sim, push_messages

    sim = phone_sim(40.0)
    truth = sim.truth_summary()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    live = LiveController(catalog.data_dir / "live", on_saved=catalog.add_folder)
    live.start(LiveRequest("sensorlogger", str(port), token="t0k"))
    deadline = time.monotonic() + 20
    while "push_url" not in live.state() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.state()["push_url"] == f"http://127.0.0.1:{port}/push?token=t0k"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    statuses = []
    for m in push_messages(sim, "android", batch_s=0.5, with_total=True):
        conn.request("POST", "/push?token=t0k", json.dumps(m).encode(), {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
    conn.request("POST", "/push?token=wrong", b"{}", {"Content-Type": "application/json"})
    refused = conn.getresponse().status
    conn.close()
    state = _wait_tiles(live)
    live.stop()
    assert set(statuses) == {200} and refused == 403
    tiles = state["tiles"]
    assert tiles["cadence_spm"] == pytest.approx(truth["cadence_spm"], abs=2.0)
    assert tiles["pelvic_drop_right_deg"] == pytest.approx(truth["pelvic_drop_deg_right"], abs=1.5)
    end = live.state()
    assert end["phase"] == "stopped", end.get("message")
    saved = catalog.get(f"live/{Path(end['folder']).name}")
    assert saved is not None and saved.analysis["recording"]["source"] == "phone"


def test_live_session_polling_phyphox(catalog: Catalog, tmp_path: Path) -> None:
    from tests.fixtures.phone.phone_sim import FakePhyphox, phone_sim

    sim = phone_sim(40.0)
    truth = sim.truth_summary()
    live = LiveController(tmp_path / "live")
    with pytest.raises(GaitError, match="phyphox's address"):
        live.start(LiveRequest("phyphox", "192.168.1.20:8080"))
    with pytest.raises(GaitError, match="between 1024 and 65535"):
        live.start(LiveRequest("sensorlogger", "80"))
    with FakePhyphox(sim, speed=8.0) as fake:
        live.start(LiveRequest("phyphox", fake.url))
        state = _wait_tiles(live)
        live.stop()
    assert state["tiles"]["cadence_spm"] == pytest.approx(truth["cadence_spm"], abs=2.0), state.get("message")
    assert live.state()["phase"] == "stopped"
