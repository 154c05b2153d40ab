"""The ``gait`` command end to end on the bundled recordings, and its error behaviour."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gait.cli.main import main
from tests.conftest import REPO

RECORDINGS = REPO / "recordings"
JSON_KEYS = {
    "steps",
    "duration_s",
    "cadence_spm",
    "contact_time_ms",
    "flight_time_ms",
    "vertical_oscillation_cm",
    "impact_g",
    "pelvic_drop_deg",
    "braking_peak_g",
    "braking_dv_ms",
    "braking_duration_ms",
    "side_confidence",
    "drift",
    "quality",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gait.cli.main", *args], capture_output=True, text=True)


def test_analyze_all_bundled_recordings_as_text():
    out = run("analyze", str(RECORDINGS))
    assert out.returncode == 0, out.stderr
    for name in (
        "easy_run_208hz",
        "fatigue_10min_104hz",
        "overstride_upside_down_52hz",
        "phone_belt_acc_only",
    ):
        assert name in out.stdout or "simulated run" in out.stdout
    assert out.stdout.count("Cadence") == 4
    assert "not a diagnosis" in out.stdout


def test_analyze_json_schema_and_truth(capsys):
    folder = RECORDINGS / "easy_run_208hz"
    assert main(["analyze", str(folder), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= JSON_KEYS
    assert set(d["pelvic_drop_deg"]) == {"left", "right"}
    truth = json.loads((folder / "truth.json").read_text())["summary"]
    assert abs(d["cadence_spm"] - truth["cadence_spm"]) < 1.0
    assert abs(d["pelvic_drop_deg"]["left"] - truth["pelvic_drop_deg_left"]) < 1.0
    assert abs(d["pelvic_drop_deg"]["right"] - truth["pelvic_drop_deg_right"]) < 1.0
    assert 0.9 <= d["side_confidence"] <= 1.0
    assert d["drift"]["available"] is False and d["quality"]["unavailable"]["drift"]


def test_json_nulls_carry_reasons_for_accelerometer_only(capsys):
    assert main(["analyze", str(RECORDINGS / "phone_belt_acc_only.csv"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("pelvic_drop_deg",):
        assert d[key] == {"left": None, "right": None} and key in d["quality"]["unavailable"]
    assert d["braking_dv_ms"] is None and "gyroscope" in d["quality"]["unavailable"]["braking_dv_ms"]
    assert d["cadence_spm"] is not None


def test_steps_csv_has_the_documented_columns(tmp_path: Path):
    out = tmp_path / "steps.csv"
    assert main(["analyze", str(RECORDINGS / "fatigue_10min_104hz"), "--steps-csv", str(out)]) == 0
    steps = pd.read_csv(out)
    for col in (
        "side",
        "ic_s",
        "to_s",
        "step_time_s",
        "contact_time_ms",
        "flight_time_ms",
        "pelvic_drop_deg",
        "pelvic_obliquity_range_deg",
        "pelvic_tilt_range_deg",
        "pelvic_rotation_range_deg",
        "braking_peak_g",
        "braking_duration_ms",
        "braking_dv_ms",
        "vertical_oscillation_cm",
        "impact_g",
        "side_confidence",
    ):
        assert col in steps.columns
    assert len(steps) > 1500 and set(steps["side"]) <= {"L", "R", "?"}


def test_steps_csv_for_many_recordings_goes_to_a_folder(tmp_path: Path):
    out = tmp_path / "steps"
    assert main(["analyze", str(RECORDINGS), "--steps-csv", str(out), "--format", "json"]) == 0
    assert len(list(out.glob("*.steps.csv"))) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "/no/such/place"], "no such file or folder"),
        (["info", str(REPO / "pyproject.toml")], "unsupported file type"),
        (["simulate", "--out", "x", "--rate", "5"], "outside 50-833 Hz"),
    ],
)
def test_errors_are_one_line_without_traceback(args, message):
    out = run(*args)
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_bad_csv_names_the_file_and_problem(tmp_path: Path):
    p = tmp_path / "bad.csv"
    p.write_text("time_s,acc_x,acc_y,acc_z\n" + "\n".join(f"{i / 100},0,1.0,0" for i in range(1000)))
    out = run("analyze", str(p))
    assert out.returncode == 1 and "bad.csv" in out.stderr and "look like g" in out.stderr
    out = run("analyze", str(p), "--acc-unit", "g")  # a sensor lying still: analysed, nothing invented
    assert out.returncode == 0 and "No running detected" in out.stdout


def test_simulate_import_info_and_recover(tmp_path: Path):
    assert main(["simulate", "--out", str(tmp_path / "s"), "--duration", "30", "--rate", "104", "--seed", "5"]) == 0
    assert (tmp_path / "s" / "truth_steps.csv").exists()
    assert main(["info", str(tmp_path / "s")]) == 0
    assert main(["import", str(RECORDINGS / "phone_belt_acc_only.csv"), "--out", str(tmp_path / "imp")]) == 0
    assert (tmp_path / "imp" / "meta.json").exists()
    assert main(["recover", str(tmp_path / "imp")]) == 0


def test_every_subcommand_has_help():
    for cmd in ("analyze", "simulate", "import", "info", "recover"):
        out = run(cmd, "--help")
        assert out.returncode == 0 and "usage: gait" in out.stdout


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "gait"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("gait ")
