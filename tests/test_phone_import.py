"""Imports of phone exports (Sensor Logger zip/folder on Android and iOS, phyphox CSV) and Garmin FIT files, built
from the apps' documented formats and the simulator (truth), and the placement rule for phones off the pelvis."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import fitdecode
import numpy as np
import pytest

import gait
from gait.cli.main import main
from gait.errors import RecordingError
from gait.recording.detect import detect_format
from gait.recording.fit_import import FIT_EPOCH_S, decode_fit, read_fit
from gait.recording.phone_import import read_phyphox, read_sensorlogger
from tests.fixtures.phone.phone_sim import (
    fit_bytes,
    phone_sim,
    phyphox_csvs,
    watch_records,
    write_sensorlogger,
    zip_bytes,
)


@pytest.fixture(scope="module")
def sim():
    return phone_sim(40.0)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def gait_cli(capsys: pytest.CaptureFixture[str]):
    """The ``gait`` command in-process (same parser, handlers and error printing as the console script)."""

    def run(*args: str) -> Run:
        code = main(list(args))
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


@pytest.mark.parametrize("platform", ["android", "ios"])
@pytest.mark.parametrize("as_zip", [True, False])
def test_sensorlogger_export_matches_truth(sim, tmp_path: Path, platform: str, as_zip: bool) -> None:
    path = write_sensorlogger(sim, platform, tmp_path / ("export.zip" if as_zip else "export"), as_zip=as_zip)
    assert detect_format(path) == "sensorlogger"
    rec = read_sensorlogger(path)
    truth = sim.recording.imu
    # specific force back in gait's convention (+g up): equal to the simulator's to the CSV's 6 decimals
    k = truth.n - rec.imu.n  # the first sample has no gyroscope reading before it (the gyro starts 4 ms later)
    assert k == 1
    assert np.allclose(rec.imu.acc, truth.acc[k:], atol=2e-5)
    assert np.allclose(rec.imu.t, truth.t[k:] - truth.t[k], atol=1e-6)
    # the gyroscope, sampled 4 ms later by the phone, is put back on the accelerometer's times (interpolation)
    assert np.median(np.abs(rec.imu.gyr - truth.gyr[k:])) < 0.02
    assert rec.meta.start_utc and rec.meta.start_utc.startswith("2025-11-2")
    assert rec.meta.source == "phone" and rec.meta.placement == "waist_belt"


def test_sensorlogger_wrong_platform_mirrors_the_frame(sim, tmp_path: Path) -> None:
    """The iOS sign convention matters: read as Android, gravity comes out pointing down."""
    path = write_sensorlogger(sim, "ios", tmp_path / "ios.zip", as_zip=True)
    right = read_sensorlogger(path)
    wrong = read_sensorlogger(path, platform="android")
    assert np.allclose(wrong.imu.acc, -right.imu.acc)


def test_sensorlogger_import_analyses_like_truth(sim, tmp_path: Path, gait_cli) -> None:
    path = write_sensorlogger(sim, "android", tmp_path / "a.zip", as_zip=True)
    out = tmp_path / "rec"
    r = gait_cli("import", str(path), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "sensorlogger" in r.stdout
    result = gait.analyze(gait.load(out))
    truth = sim.truth_summary()
    assert abs(result.summary.cadence_spm - truth["cadence_spm"]) < 1.0
    drop = result.summary.per_side["pelvic_drop_deg"]
    assert abs(drop.left - truth["pelvic_drop_deg_left"]) < 1.0
    assert abs(drop.right - truth["pelvic_drop_deg_right"]) < 1.0


def test_sensorlogger_without_gravity_is_linear_acceleration(sim, tmp_path: Path) -> None:
    """An iPhone export without Gravity.csv: the accelerometer alone, imported as linear acceleration (see
    tests/test_real_exports.py for what its analysis yields against truth)."""
    path = write_sensorlogger(sim, "ios", tmp_path / "x", as_zip=False)
    (path / "Gravity.csv").unlink()
    rec = read_sensorlogger(path)
    assert rec.meta.stream("imu").gravity_removed and any("linear acceleration" in n for n in rec.notes)
    assert np.linalg.norm(rec.imu.acc.mean(axis=0)) < 0.5  # gravity is not in it


def test_phyphox_export(sim, tmp_path: Path) -> None:
    sheets = phyphox_csvs(sim)
    z = tmp_path / "phyphox.zip"
    z.write_bytes(zip_bytes(sheets))
    single = tmp_path / "Raw Data.csv"
    single.write_text(sheets["Accelerometer.csv"])
    assert detect_format(z) == "phyphox" and detect_format(single) == "phyphox"
    rec = read_phyphox(z)
    truth = sim.recording.imu
    assert rec.imu.has_gyro and rec.imu.n == truth.n - 1  # the first sample precedes the gyroscope's first
    assert np.allclose(rec.imu.acc, truth.acc[1:], atol=1e-6)
    assert np.median(np.abs(rec.imu.gyr - truth.gyr[1:])) < 0.02
    acc_only = gait.load(single)  # gait.load opens phyphox exports too
    assert not acc_only.imu.has_gyro and acc_only.imu.n == truth.n
    linear = tmp_path / "linear.csv"
    linear.write_text(sheets["Accelerometer.csv"].replace("Acceleration", "Linear Acceleration"))
    with pytest.raises(RecordingError, match=r"linear acceleration averages 0.9\d g: it still holds gravity"):
        read_phyphox(linear)  # columns named "without g" whose values hold gravity: a mislabelled file


def test_fit_fixture_is_valid_for_an_independent_decoder() -> None:
    """The test encoder writes what the FIT SDK profile says: checked with fitdecode (not gait's decoder)."""
    data = fit_bytes(watch_records(12))
    recs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixture's developer field has no description message
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as fr:
            for frame in fr:
                if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                    recs.append({f.name: f.value for f in frame.fields if f.name})
    assert len(recs) == 12
    assert recs[4]["cadence"] == 86 and recs[4]["fractional_cadence"] == 0.5
    assert recs[4]["vertical_oscillation"] == 84.0 and recs[4]["stance_time"] == 245.3  # mm, ms
    assert recs[4]["step_length"] == 1123.0 and recs[4]["stance_time_balance"] == 49.6  # mm, %
    assert (recs[9]["timestamp"] - recs[0]["timestamp"]).total_seconds() == 9  # incl. compressed timestamps


def test_fit_import_carries_values_exactly(tmp_path: Path) -> None:
    path = tmp_path / "watch.fit"
    path.write_bytes(fit_bytes(watch_records(120)))
    raw = decode_fit(path.read_bytes()).records
    assert [r["timestamp"] for r in raw] == [1_100_000_000 + k for k in range(120)]
    rec = read_fit(path)
    w = rec.extra["watch"]
    assert rec.imu.n == 0 and len(w.t) == 120
    assert np.array_equal(w.t, np.arange(120.0))
    assert np.all(w.column("cadence_spm") == 173.0)  # 2 x (86 + 64/128) strides/min
    assert np.allclose(w.column("vertical_oscillation_cm"), 8.4)
    assert np.allclose(w.column("contact_time_ms"), 245.3)
    assert np.allclose(w.column("step_length_m"), 1.123)
    assert np.allclose(w.column("contact_balance_pct")[[0, 119]], [49.6, 50.4])
    assert np.allclose(w.column("distance_m")[-1], 320.0 * 119 / 100)
    assert rec.meta.start_utc == "2024-11-08T11:33:20Z"  # 1_100_000_000 s after the FIT epoch
    assert FIT_EPOCH_S + 1_100_000_000 == 1731065600


def test_fit_cli_watch_only_and_attached(sim, tmp_path: Path, gait_cli) -> None:
    fit = tmp_path / "watch.fit"
    fit.write_bytes(fit_bytes(watch_records(60), start_fit_s=1_100_000_000))
    r = gait_cli("analyze", str(fit), "--no-save")
    assert r.returncode == 0, r.stderr
    assert "cadence 173.0 spm" in r.stdout and "needs raw IMU samples" in r.stdout
    r = gait_cli("analyze", str(fit), "--no-save", "--format", "json")
    d = json.loads(r.stdout)
    assert d["analysis_available"] is False and d["watch"]["contact_time_ms"] == 245.3
    # beside an IMU recording of the same run: both opinions side by side
    imu = tmp_path / "imu"
    rec = sim.recording
    gait.recording.save(rec.__class__(meta=rec.meta.replace(start_utc="2024-11-08T11:33:10Z"), imu=rec.imu), imu)
    both = tmp_path / "both"
    r = gait_cli("import", str(fit), "--attach", str(imu), "--out", str(both))
    assert r.returncode == 0, r.stderr
    w = gait.load(both).extra["watch"]
    assert w.t[0] == 10.0  # the watch started 10 s after the IMU recording
    r = gait_cli("analyze", str(both), "--no-save")
    assert r.returncode == 0, r.stderr
    assert "Watch (FIT)   cadence 173.0 spm (gait 17" in r.stdout
    d = json.loads(gait_cli("analyze", str(both), "--no-save", "--format", "json").stdout)
    assert d["watch"]["cadence_spm"] == 173.0 and abs(d["cadence_spm"] - sim.truth_summary()["cadence_spm"]) < 1


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:], "CRC"),
        (lambda b: b"hello world, not fit at all", "not a FIT file"),
    ],
)
def test_broken_fit_files_give_one_line_errors(tmp_path: Path, mangle, message: str, gait_cli) -> None:
    path = tmp_path / "bad.fit"
    path.write_bytes(mangle(fit_bytes(watch_records(30))))
    with pytest.raises(RecordingError, match=message):
        read_fit(path)
    r = gait_cli("import", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "bad.fit" in r.stderr


def test_broken_exports_give_one_line_errors(sim, tmp_path: Path, gait_cli) -> None:
    good = write_sensorlogger(sim, "android", tmp_path / "a.zip", as_zip=True)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[:5000])
    r = gait_cli("import", str(cut), "--format", "sensorlogger", "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and "cut.zip" in r.stderr and r.stderr.count("\n") == 1
    nometa = tmp_path / "nometa.zip"
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(nometa, "w") as w:
        for n in z.namelist():
            if n != "Metadata.csv":
                w.writestr(n, z.read(n))
    with pytest.raises(RecordingError, match="platform"):
        read_sensorlogger(nometa)
    assert read_sensorlogger(nometa, platform="android").imu.n > 1000  # --phone-os settles it


@pytest.mark.parametrize("placement", ["front_pocket", "arm_band", "hand"])
def test_placement_off_the_pelvis_keeps_timing_only(sim, placement: str) -> None:
    rec = sim.recording
    result = gait.analyze(rec.__class__(meta=rec.meta.replace(placement=placement), imu=rec.imu))
    s, q = result.summary, result.quality
    truth = sim.truth_summary()
    assert abs(s.cadence_spm - truth["cadence_spm"]) < 1.0
    assert s.medians["contact_time_ms"] is not None
    for m in ("pelvic_drop_deg", "pelvic_rotation_range_deg", "braking_dv_mps", "vertical_oscillation_cm"):
        assert s.medians[m] is None and "needs a sensor at the sacrum" in q.unavailable[m]
    assert s.per_side["pelvic_drop_deg"].left is None and "placement_limits" in q.flags
    d = result.to_dict()
    assert d["pelvic_drop_left_deg"] is None and d["pelvic_drop_right_deg"] is None
    assert d["contact_time_ms"] is not None
    drop_findings = [f for f in result.findings if f.mechanism_id == "gluteus_medius_pelvic_drop"]
    assert all(f.severity == "not_enough_data" for f in drop_findings)
    assert any("needs a sensor at the sacrum" in f.evidence for f in drop_findings)
