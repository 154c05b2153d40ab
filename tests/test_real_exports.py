"""Files as real apps and devices write them (issue 16), made by gait's own encoders and simulator in each app's
documented layout (no third-party files): FIT files read through fitdecode (chained, developer fields, sports,
multisport legs), linear-acceleration phone exports against simulator truth, exports at the wrong rate or
without the right sensor, semicolon and tab CSVs, and the phone placement default."""

from __future__ import annotations

import dataclasses
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import fitdecode
import numpy as np
import pytest

import gait
from gait.analysis import analyze
from gait.analysis.gravity import estimate_vertical
from gait.cli.main import main
from gait.errors import AnalysisError, RecordingError
from gait.recording.csv_import import read_csv
from gait.recording.fit_import import decode_fit, read_fit
from gait.recording.phone_import import read_phyphox, read_sensorlogger
from gait.simulate import SimConfig, simulate
from tests.fixtures.phone.phone_sim import (
    FitSession,
    fit_bytes,
    linear_acceleration,
    phone_sim,
    phyphox_linear_csv,
    sensorlogger_files,
    sensorlogger_linear_files,
    true_gravity,
    watch_records,
    write_sensorlogger,
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def gait_cli(capsys: pytest.CaptureFixture[str]):
    def run(*args: str) -> Run:
        code = main(list(args))
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


@pytest.fixture(scope="module")
def sim():
    return phone_sim(60.0)


def _fitdecode_messages(data: bytes) -> list[tuple[str, dict]]:
    """Every data message as fitdecode reads it (the independent check of the test encoder)."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the encoder must not need fitdecode's leniency
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as fr:
            for frame in fr:
                if isinstance(frame, fitdecode.FitDataMessage):
                    out.append((frame.name, {f.name: f.value for f in frame.fields}))
    return out


# -- FIT --------------------------------------------------------------------------------------------------------------


def test_fit_encoder_sessions_and_stryd_fields_read_by_fitdecode() -> None:
    data = fit_bytes(
        watch_records(30, stryd=True), stryd=True, sessions=(FitSession("running", 0, 30, "treadmill"),)
    ) + fit_bytes(watch_records(10, t0=40, cadence=90), stryd=True, sessions=(FitSession("cycling", 40, 10, "road"),))
    msgs = _fitdecode_messages(data)
    records = [m for n, m in msgs if n == "record"]
    sessions = [m for n, m in msgs if n == "session"]
    assert len(records) == 40  # fitdecode reads both chained files
    assert records[3]["Power"] == 250 and records[3]["Form Power"] == 70  # named by the field descriptions
    assert [(s["sport"], s["sub_sport"]) for s in sessions] == [("running", "treadmill"), ("cycling", "road")]
    assert sessions[0]["total_elapsed_time"] == 30.0
    assert records[35]["cadence"] == 90 and records[35].get("stance_time") is None  # invalid = not recorded


def test_chained_fit_files_are_read_to_the_end(tmp_path: Path, gait_cli) -> None:
    """A run saved as two FIT files one after the other: the hand-written decoder stopped after the first."""
    first = fit_bytes(watch_records(60), sessions=(FitSession("running", 0, 60),))
    second = fit_bytes(watch_records(60, t0=60), sessions=(FitSession("running", 60, 60),))
    path = tmp_path / "chained.fit"
    path.write_bytes(first + second)
    contents = decode_fit(path.read_bytes())
    assert contents.n_files == 2 and len(contents.records) == 120 and len(contents.sessions) == 2
    rec = read_fit(path)
    w = rec.extra["watch"]
    assert np.array_equal(w.t, np.arange(120.0)) and "2 chained FIT files" in rec.meta.source_detail
    # a CRC error in the second file is one line, like one in the first
    bad = bytearray(first + second)
    bad[len(first) + 40] ^= 0xFF
    path.write_bytes(bytes(bad))
    r = gait_cli("analyze", str(path), "--no-save")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "CRC check failed" in r.stderr


def test_stryd_power_and_form_power_are_shown(tmp_path: Path, gait_cli) -> None:
    path = tmp_path / "stryd.fit"
    path.write_bytes(fit_bytes(watch_records(90, stryd=True), stryd=True, sessions=(FitSession("running", 0, 90),)))
    w = read_fit(path).extra["watch"]
    assert np.all(w.column("power_w") == 250.0) and np.all(w.column("form_power_w") == 70.0)
    r = gait_cli("analyze", str(path), "--no-save")
    assert r.returncode == 0 and "power 250 W, form power 70 W" in r.stdout
    d = json.loads(gait_cli("analyze", str(path), "--no-save", "--format", "json").stdout)
    assert d["watch"]["power_w"] == 250.0 and d["watch"]["form_power_w"] == 70.0
    # without Stryd there is no power column to show
    plain = tmp_path / "plain.fit"
    plain.write_bytes(fit_bytes(watch_records(30)))
    r = gait_cli("analyze", str(plain), "--no-save")
    assert "power" not in r.stdout and "no sport recorded: taken as running" in r.stdout


@pytest.mark.parametrize(
    ("sessions", "sport_message", "message"),
    [
        ((FitSession("cycling", 0, 60, "road"),), None, "a cycling (road) activity, not running or walking"),
        ((FitSession("rowing", 0, 60, "indoor_rowing"),), None, "a rowing (indoor rowing) activity"),
        ((), "cycling", "a cycling activity"),  # no session, a lone sport message
        ((FitSession("swimming", 0, 30), FitSession("cycling", 30, 30)), None, "an activity of swimming, cycling"),
    ],
)
def test_fit_without_running_or_walking_is_refused_naming_its_sport(
    tmp_path: Path, gait_cli, sessions, sport_message, message: str
) -> None:
    path = tmp_path / "other.fit"
    path.write_bytes(fit_bytes(watch_records(60, cadence=90), sessions=sessions, sport_message=sport_message))
    for cmd in (("analyze", str(path), "--no-save"), ("import", str(path), "--out", str(tmp_path / "o"))):
        r = gait_cli(*cmd)
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and message in r.stderr and "other.fit" in r.stderr
    assert not (tmp_path / "o").exists()


def test_treadmill_and_trail_runs_are_running(tmp_path: Path) -> None:
    for sub in ("treadmill", "trail"):
        path = tmp_path / f"{sub}.fit"
        path.write_bytes(fit_bytes(watch_records(60), sessions=(FitSession("running", 0, 60, sub),)))
        rec = read_fit(path)
        assert f"running ({sub})" in rec.meta.source_detail
        assert gait.runs.watch_summary(rec).cadence_spm == 173.0


def test_walking_is_read_as_walking(tmp_path: Path, gait_cli) -> None:
    path = tmp_path / "walk.fit"
    path.write_bytes(fit_bytes(watch_records(120, cadence=55), sessions=(FitSession("walking", 0, 120),)))
    rec = read_fit(path)
    w = gait.runs.watch_summary(rec)
    assert w.activity == "walking" and w.cadence_spm == 110.0 and w.n == 120  # 55 strides/min, no running filter
    r = gait_cli("analyze", str(path), "--no-save")
    assert "walking: cadence 110.0 spm" in r.stdout
    # kept through a recording folder (the stream says what the file declared)
    gait_cli("import", str(path), "--out", str(tmp_path / "w"))
    assert gait.runs.watch_summary(gait.load(tmp_path / "w")).activity == "walking"


def test_multisport_uses_the_running_legs_only(tmp_path: Path, gait_cli) -> None:
    """A triathlon in one file: swim, transition, bike, transition, run (cadences 30, 0, 90, 0, 86.5 x 2)."""
    legs = (
        FitSession("swimming", 0, 100, "open_water"),
        FitSession("transition", 100, 20),
        FitSession("cycling", 120, 100, "road"),
        FitSession("transition", 220, 10),
        FitSession("running", 230, 120),
    )
    records = (
        watch_records(100, cadence=30)
        + watch_records(20, t0=100, cadence=0)
        + watch_records(100, t0=120, cadence=90)
        + watch_records(10, t0=220, cadence=0)
        + watch_records(120, t0=230)
    )
    path = tmp_path / "tri.fit"
    path.write_bytes(fit_bytes(records, sessions=legs, stryd=True))  # declared developer fields, no power
    sessions = [m for n, m in _fitdecode_messages(path.read_bytes()) if n == "session"]  # the encoder, checked
    assert [s["sport"] for s in sessions] == ["swimming", "transition", "cycling", "transition", "running"]
    assert [s["start_time"].timestamp() - sessions[0]["start_time"].timestamp() for s in sessions] == [
        0,
        100,
        120,
        220,
        230,
    ]
    rec = read_fit(path)
    w = rec.extra["watch"]
    assert len(w.t) == 120 and np.all(w.column("cadence_spm") == 173.0)  # no pedal or stroke rate in it
    assert "multisport: running leg 5 of 5 used (left out: cycling (road), swimming (open water), transition)" in (
        rec.meta.source_detail
    )
    assert rec.meta.start_utc == "2024-11-08T11:37:10Z"  # the run leg's start (230 s into the file)
    # the same triathlon as three chained files, as some watches write it
    chained = tmp_path / "tri3.fit"
    chained.write_bytes(
        fit_bytes(records[:120], sessions=legs[:1])
        + fit_bytes(records[120:230], sessions=legs[2:3])
        + fit_bytes(records[230:], sessions=legs[4:])
    )
    rec = read_fit(chained)
    assert len(rec.extra["watch"].t) == 120 and "running leg 3 of 3 used" in rec.meta.source_detail
    r = gait_cli("analyze", str(chained), "--no-save")
    assert r.returncode == 0 and "running: cadence 173.0 spm" in r.stdout


def test_gait_info_on_a_fit_only_recording(tmp_path: Path, gait_cli) -> None:
    path = tmp_path / "watch.fit"
    path.write_bytes(fit_bytes(watch_records(60)))
    for target in (path, tmp_path / "folder"):
        if target != path:
            gait_cli("import", str(path), "--out", str(target))
        r = gait_cli("info", str(target))
        assert r.returncode == 0 and "nan" not in r.stdout.lower()
        assert "samples    none (no raw IMU samples)" in r.stdout and "watch      60 records over 59 s" in r.stdout


# -- linear acceleration (gravity removed by the phone) ---------------------------------------------------------------


def _linear(sim_result) -> gait.Recording:
    """The simulator's recording as a phone's linear acceleration (its own gravity estimate removed)."""
    rec = sim_result.recording
    stream = dataclasses.replace(rec.meta.streams[0], gravity_removed=True)
    return dataclasses.replace(
        rec,
        imu=dataclasses.replace(rec.imu, acc=linear_acceleration(sim_result)),
        meta=rec.meta.replace(streams=(stream,)),
    )


def test_vertical_found_from_the_step_rhythm(sim) -> None:
    v = estimate_vertical(linear_acceleration(sim), 100.0, "x")
    g = true_gravity(sim)
    up = g.mean(axis=0) / np.linalg.norm(g.mean(axis=0))
    assert np.degrees(np.arccos(v.up @ up)) < 8.0  # the pelvis tilts +-3 deg about its mean every step
    assert v.asymmetry > 0.3 and 0.2 < v.flight_fraction < 0.45
    # the phone turned upside down (half a turn about its x axis): the vertical turns with it, sign included
    flip = np.diag([1.0, -1.0, -1.0])
    assert estimate_vertical(linear_acceleration(sim) @ flip.T, 100.0, "x").up @ (flip @ v.up) > 0.999


@pytest.mark.parametrize("seed", range(6))
def test_linear_acceleration_timing_against_truth(seed: int) -> None:
    """Cadence, contact and flight time (and their left/right asymmetry) from linear acceleration, against the
    simulator's truth: varied cadence, contact time, heel strike, mounting, with and without a gyroscope."""
    rng = np.random.default_rng(seed)
    cadence = float(rng.uniform(150, 190))
    contact = float(rng.uniform(0.55, 0.78)) * 60000.0 / cadence
    # the simulator's own two-component forces, not the detector's model
    cfg = SimConfig(
        segments=(("stand", 3.0), ("run", 90.0), ("stand", 2.0)), rate_hz=100.0, seed=200 + seed,
        cadence_spm=cadence, contact_time_ms=contact, impact_g=float(rng.choice([0.0, 1.5])),
        contact_asymmetry_pct=8.0, mounting="random", gyro=bool(seed % 2),
    )  # fmt: skip
    res = simulate(cfg)
    truth = res.truth_summary()
    result = analyze(_linear(res))
    s, q = result.summary, result.quality
    assert abs(s.cadence_spm - truth["cadence_spm"]) < 0.3
    # the linear path adds no timing error of its own: the same run with gravity gives the same contacts
    # (the detector's own error against the simulator's truth is measured in the simulator grid)
    full = analyze(res.recording).summary
    for m in ("contact_time_ms", "flight_time_ms"):
        assert abs(s.medians[m] - full.medians[m]) < 5.0
        assert abs(s.medians[m] - truth[m]) < 20.0
    asym = s.per_side["contact_time_ms"].asymmetry_pct()
    assert asym is not None and abs(asym - 8.0) < 2.5  # right contacts 8 % longer
    assert "linear_acceleration" in q.flags
    for m in ("pelvic_drop_deg", "braking_dv_mps", "vertical_oscillation_cm", "impact_g"):
        assert s.medians[m] is None and m in q.unavailable
    assert "gravity was removed by the phone" in q.unavailable["vertical_oscillation_cm"]
    if cfg.gyro:  # even with a gyroscope: the angles and braking need gravity measured
        assert "gravity was removed" in q.unavailable["pelvic_drop_deg"]
        assert "gravity was removed" in q.unavailable["braking_dv_mps"]
    assert result.steps["pelvic_drop_deg"].isna().all() and result.steps["contact_time_ms"].notna().any()


def test_linear_acceleration_walking_gives_walking_cadence() -> None:
    """Walking has no flight to fix the sign of up; walking cadence does not depend on it."""
    res = simulate(SimConfig(segments=(("stand", 3.0), ("walk", 60.0), ("stand", 2.0)), rate_hz=100.0, seed=11,
                             mounting="random"))  # fmt: skip
    s = analyze(_linear(res)).summary
    assert abs(s.walking_cadence_spm - res.config.walk_cadence_spm) < 0.5 and s.running_s == 0


def test_phyphox_without_g_from_cli_and_json(sim, tmp_path: Path, gait_cli) -> None:
    csv = tmp_path / "Raw Data.csv"
    csv.write_text(phyphox_linear_csv(sim))
    out = tmp_path / "rec"
    r = gait_cli("import", str(csv), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "placement waist_belt" in r.stdout and "analysed as linear acceleration" in r.stdout
    r = gait_cli("info", str(out))
    assert "gravity removed by the phone" in r.stdout
    d = json.loads(gait_cli("analyze", str(out), "--no-save", "--format", "json").stdout)
    truth = sim.truth_summary()
    assert abs(d["cadence_spm"] - truth["cadence_spm"]) < 0.5
    assert abs(d["contact_time_ms"] - truth["contact_time_ms"]) < 30  # issue 14's per-trial limit
    assert (
        d["pelvic_drop_left_deg"] is None
        and d["pelvic_drop_right_deg"] is None
        and d["vertical_oscillation_cm"] is None
    )
    assert "linear_acceleration" in d["quality"]["flags"]
    assert d["asymmetry_pct"]["contact_time_ms"] is not None
    text = gait_cli("analyze", str(csv), "--no-save").stdout  # the CSV directly
    assert "Linear acceleration (gravity removed by the phone)" in text
    # semicolon-separated with decimal commas, as phyphox exports in many locales
    semi = tmp_path / "semi.csv"
    semi.write_text(phyphox_linear_csv(sim, sep=";"))
    assert np.allclose(read_phyphox(semi).imu.acc, read_phyphox(csv).imu.acc, atol=1e-6)


@pytest.mark.parametrize(("platform", "gyroscope"), [("android", True), ("ios", False)])
def test_sensorlogger_without_gravity_against_truth(
    sim, tmp_path: Path, gait_cli, platform: str, gyroscope: bool
) -> None:
    files = sensorlogger_linear_files(sim, platform, gyroscope=gyroscope)
    path = write_sensorlogger(sim, platform, tmp_path / "export.zip", as_zip=True, files=files)
    rec = read_sensorlogger(path)
    assert rec.meta.stream("imu").gravity_removed and rec.imu.has_gyro == gyroscope
    assert rec.meta.placement == "waist_belt"
    result = gait.analyze(rec)
    truth = sim.truth_summary()
    assert abs(result.summary.cadence_spm - truth["cadence_spm"]) < 0.5
    assert abs(result.summary.medians["contact_time_ms"] - truth["contact_time_ms"]) < 30  # issue 14's limit
    r = gait_cli("analyze", str(path), "--no-save")
    assert r.returncode == 0 and "linear acceleration" in r.stdout.lower()


def test_linear_acceleration_without_a_gait_is_one_clear_error(tmp_path: Path, gait_cli) -> None:
    """A phone lying still with gravity removed (sensor noise only): nothing is measurable, and the error says
    why."""
    t = np.arange(3000) / 100.0
    noise = np.random.default_rng(2).normal(0.0, 0.05, (len(t), 3))
    rec = gait.Recording.from_arrays(t, noise, title="still")
    rec = dataclasses.replace(
        rec, meta=rec.meta.replace(streams=(dataclasses.replace(rec.meta.streams[0], gravity_removed=True),))
    )
    with pytest.raises(AnalysisError, match="nothing is measurable"):
        analyze(rec)
    folder = gait.recording.save(rec, tmp_path / "still")
    r = gait_cli("analyze", str(folder), "--no-save")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "gravity was removed by the phone" in r.stderr


def test_live_phone_without_gravity_still_asks_for_it() -> None:
    """Live, a push without gravity is not turned into linear acceleration silently: the receiver asks for the
    Gravity sensor (exports, which carry the flag on disk, are the linear path)."""
    from gait.recording.meta import DeviceInfo
    from gait.sources.phone.common import PhoneImu

    imu = PhoneImu("imu", DeviceInfo(name="Sensor Logger"), "waist_belt", has_gravity=False)
    t = np.arange(200) / 100.0
    imu.add("acc", t, np.zeros((200, 3)), host_t=0.0)
    with pytest.raises(RecordingError, match="turn on 'Gravity' in the app"):
        imu.release(final=True)


# -- errors that name the real problem --------------------------------------------------------------------------------


def _slow_export(sim, tmp_path: Path, every: int, sensors: tuple[str, ...]) -> Path:
    """A Sensor Logger export with ``sensors`` kept at every ``every``-th sample (100 Hz -> 100 / every Hz)."""
    files = sensorlogger_files(sim, "android")
    for name in sensors:
        head, *rows = files[name].splitlines()
        files[name] = "\n".join([head, *rows[::every]]) + "\n"
    return write_sensorlogger(sim, "android", tmp_path / f"slow{every}.zip", as_zip=True, files=files)


def test_a_1_hz_export_names_the_rate(sim, tmp_path: Path, gait_cli) -> None:
    path = _slow_export(sim, tmp_path, 100, ("TotalAcceleration.csv", "Accelerometer.csv", "Gravity.csv",
                                             "Gyroscope.csv"))  # fmt: skip
    for cmd in (("import", str(path), "--out", str(tmp_path / "o")), ("analyze", str(path), "--no-save")):
        r = gait_cli(*cmd)
        assert r.returncode == 1 and r.stderr.count("\n") == 1
        assert "TotalAcceleration.csv was recorded at 1 Hz; gait needs at least 40 Hz" in r.stderr


def test_a_slow_gyroscope_is_left_out_and_said(sim, tmp_path: Path) -> None:
    rec = read_sensorlogger(_slow_export(sim, tmp_path, 100, ("Gyroscope.csv",)))
    assert not rec.imu.has_gyro and rec.imu.n > 5000
    assert any("Gyroscope.csv was recorded at 1 Hz, too slowly to use" in n for n in rec.notes)


@pytest.mark.parametrize("share", [0.3, 0.8])
def test_a_gyroscope_that_stops_early(sim, tmp_path: Path, share: float) -> None:
    """The app stopped the gyroscope early: under half of the run, the gyroscope is left out and the accelerometer
    kept whole; over half, the run is cut to the gyroscope's span. Either way the note says what was left out."""
    files = sensorlogger_files(sim, "android")
    head, *rows = files["Gyroscope.csv"].splitlines()
    files["Gyroscope.csv"] = "\n".join([head, *rows[: int(share * len(rows))]]) + "\n"
    rec = read_sensorlogger(write_sensorlogger(sim, "android", tmp_path / "stop.zip", as_zip=True, files=files))
    whole = read_sensorlogger(write_sensorlogger(sim, "android", tmp_path / "all.zip", as_zip=True))
    if share < 0.5:
        assert not rec.imu.has_gyro and abs(rec.imu.n - whole.imu.n) <= 2
        assert any("the gyroscope covers only" in n and "accelerometer kept whole" in n for n in rec.notes)
    else:
        assert rec.imu.has_gyro and abs(rec.imu.n - share * whole.imu.n) < 0.01 * whole.imu.n
        assert any("outside the gyroscope's left out" in n for n in rec.notes)


def test_a_missing_accelerometer_is_named(sim, tmp_path: Path, gait_cli) -> None:
    files = {k: v for k, v in sensorlogger_files(sim, "android").items() if k in ("Gyroscope.csv", "Metadata.csv")}
    path = write_sensorlogger(sim, "android", tmp_path / "noacc.zip", as_zip=True, files=files)
    r = gait_cli("import", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "has no accelerometer (it holds: Gyroscope); turn on Accelerometer" in r.stderr


def test_a_wrong_phyphox_experiment_is_named(tmp_path: Path, gait_cli) -> None:
    path = tmp_path / "Raw Data.csv"
    rows = ['"Time (s)","Magnetic field x (µT)","Magnetic field y (µT)","Magnetic field z (µT)"']
    rows += [f"{k / 100:.3f},{20 + k % 3},{-5},{40}" for k in range(500)]
    path.write_text("\n".join(rows) + "\n")
    r = gait_cli("import", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "holds no acceleration (columns: Time (s), Magnetic field x (µT)" in r.stderr
    assert "'Acceleration with g' experiment" in r.stderr


def test_a_phone_at_99_8_hz_is_not_flagged_as_slow() -> None:
    flags = {}
    for rate in (99.8, 90.0):
        res = simulate(SimConfig(segments=(("stand", 2.0), ("run", 40.0)), rate_hz=rate, seed=4))
        flags[rate] = analyze(res.recording).quality.flags
    assert "low_sample_rate" not in flags[99.8] and "low_sample_rate" in flags[90.0]


# -- CSV dialects and the phone placement default ---------------------------------------------------------------------


@pytest.mark.parametrize(("sep", "decimal"), [(";", ","), (";", "."), ("\t", ".")])
def test_semicolon_and_tab_csvs(tmp_path: Path, sep: str, decimal: str) -> None:
    res = simulate(SimConfig(segments=(("run", 30.0),), rate_hz=100.0, seed=6))
    imu = res.recording.imu
    lines = [sep.join(("time_s", "acc_x", "acc_y", "acc_z"))]
    lines += [sep.join(f"{v:.5f}".replace(".", decimal) for v in (t, *a)) for t, a in zip(imu.t, imu.acc, strict=True)]
    path = tmp_path / "run.csv"
    path.write_text("\n".join(lines) + "\n")
    rec = read_csv(path)
    assert np.allclose(rec.imu.acc, imu.acc, atol=1e-5) and np.allclose(rec.imu.t, imu.t, atol=1e-5)


def test_phone_exports_default_to_the_waist_belt(sim, tmp_path: Path, gait_cli) -> None:
    """docs/phones.md: phones default to waist_belt (a pelvis placement: everything is reported); a plain CSV
    stays at the sacrum; --placement still wins."""
    export = write_sensorlogger(sim, "android", tmp_path / "a.zip", as_zip=True)
    r = gait_cli("import", str(export), "--out", str(tmp_path / "p"))
    assert "placement waist_belt" in r.stdout and gait.load(tmp_path / "p").meta.placement == "waist_belt"
    assert gait.load(export).meta.placement == "waist_belt"
    r = gait_cli("import", str(export), "--out", str(tmp_path / "q"), "--placement", "front_pocket")
    assert "placement front_pocket" in r.stdout
    d = json.loads(gait_cli("analyze", str(tmp_path / "p"), "--no-save", "--format", "json").stdout)
    assert "placement_limits" not in d["quality"]["flags"] and d["pelvic_drop_left_deg"] is not None
    csv = tmp_path / "plain.csv"
    imu = sim.recording.imu
    rows = "".join(f"{t},{a[0]},{a[1]},{a[2]}\n" for t, a in zip(imu.t, imu.acc, strict=True))
    csv.write_text("time_s,acc_x,acc_y,acc_z\n" + rows)
    assert gait.load(csv).meta.placement == "sacrum"


def test_dashboard_upload_of_linear_and_slow_exports(sim, tmp_path: Path) -> None:
    pytest.importorskip("dash", reason="the dashboard needs dash (pip install -e .)")
    import base64

    from dashboards.catalog import Catalog

    data = tmp_path / "data"
    data.mkdir()
    catalog = Catalog(data, tmp_path / "gait.sqlite")
    raw = phyphox_linear_csv(sim).encode()
    entry = catalog.import_upload("Raw Data.csv", "data:text/csv;base64," + base64.b64encode(raw).decode())
    assert entry.ok and "linear_acceleration" in entry.analysis["quality"]["flags"]
    assert abs(entry.analysis["cadence_spm"] - sim.truth_summary()["cadence_spm"]) < 0.5
    assert entry.analysis["recording"]["placement"] == "waist_belt"  # a phone's default
    # a plain CSV with semicolons and decimal commas, as a spreadsheet in many locales saves it
    imu = sim.recording.imu
    rows = "".join(
        f"{t:.4f};{a[0]:.5f};{a[1]:.5f};{a[2]:.5f}\n".replace(".", ",") for t, a in zip(imu.t, imu.acc, strict=True)
    )
    semi = ("time_s;acc_x;acc_y;acc_z\n" + rows).encode()
    entry = catalog.import_upload("semicolons.csv", "data:text/csv;base64," + base64.b64encode(semi).decode())
    assert abs(entry.analysis["cadence_spm"] - sim.truth_summary()["cadence_spm"]) < 1.0
    assert entry.analysis["recording"]["placement"] == "sacrum"
    slow = _slow_export(sim, tmp_path, 100, ("TotalAcceleration.csv",))
    url = "data:application/zip;base64," + base64.b64encode(slow.read_bytes()).decode()
    with pytest.raises(RecordingError, match=r"^slow.zip: TotalAcceleration.csv was recorded at 1 Hz"):
        catalog.import_upload("slow.zip", url)
