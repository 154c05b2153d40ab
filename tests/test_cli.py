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
    "braking_dv_mps",
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
        "emulated Movesense",
        "hilly run",
    ):
        assert name in out.stdout or "simulated run" in out.stdout
    assert out.stdout.count("  Cadence       ") == 6 and out.stdout.count("  Findings      ") == 6
    assert out.stdout.count("  By terrain    a rolling run") == 1  # the hilly sample, with GPS and barometer
    assert "Foot pod      speed 3.20 m/s" in out.stdout
    assert "not a diagnosis" in out.stdout


def test_analyze_json_schema_and_truth(capsys):
    folder = RECORDINGS / "easy_run_208hz"
    assert main(["analyze", str(folder), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= JSON_KEYS
    truth = json.loads((folder / "truth.json").read_text())["summary"]
    assert abs(d["cadence_spm"] - truth["cadence_spm"]) < 1.0
    assert abs(d["pelvic_drop_left_deg"] - truth["pelvic_drop_deg_left"]) < 1.0
    assert abs(d["pelvic_drop_right_deg"] - truth["pelvic_drop_deg_right"]) < 1.0
    assert 0.9 <= d["side_confidence"] <= 1.0
    assert d["drift"]["available"] is False and d["quality"]["unavailable"]["drift"]


def test_json_nulls_carry_reasons_for_accelerometer_only(capsys):
    assert main(["analyze", str(RECORDINGS / "phone_belt_acc_only.csv"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("pelvic_drop_deg",):
        assert d["pelvic_drop_left_deg"] is None and d["pelvic_drop_right_deg"] is None
        assert d[key] is None and key in d["quality"]["unavailable"]
    assert d["braking_dv_mps"] is None and "gyroscope" in d["quality"]["unavailable"]["braking_dv_mps"]
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
        "braking_dv_mps",
        "vertical_oscillation_cm",
        "impact_g",
        "side_confidence",
    ):
        assert col in steps.columns
    assert len(steps) > 1500 and set(steps["side"]) <= {"L", "R", "?"}


def test_steps_csv_for_many_recordings_goes_to_a_folder(tmp_path: Path):
    out = tmp_path / "steps"
    assert main(["analyze", str(RECORDINGS), "--steps-csv", str(out), "--format", "json"]) == 0
    assert len(list(out.glob("*.steps.csv"))) == 6
    head = (out / "hilly_run_52hz.steps.csv").read_text().splitlines()[0].split(",")
    assert {"speed_mps", "grade_pct", "terrain", "step_speed_loss_mps", "step_speed_loss_pct"} <= set(head)
    assert not any("itude" in c for c in head)  # latitude and longitude never leave with the steps


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "/no/such/place"], "no such file or folder"),
        (["info", str(REPO / "pyproject.toml")], "unsupported file type"),
        (["simulate", "--out", "x", "--rate", "5"], "outside 50-833 Hz"),
        (["simulate", "--out", "x", "--slope", "30"], "slope 30.0 deg is outside +-15 deg"),
        (["history", "--runner", "nobody"], "no runs stored for runner 'nobody'"),
        (["history", "--store", str(REPO / "pyproject.toml" / "x.sqlite")], "cannot open the run store"),
        (["report", "/no/such/place"], "no such file or folder"),
        (["analyze", str(RECORDINGS), "--distance-km", "5"], "--distance-km applies to one recording"),
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
    hill = ["--strike", "midfoot", "--slope", "8", "--wobble", "12", "--clip-tilt", "15", "-5", "--seed", "6"]
    assert main(["simulate", "--out", str(tmp_path / "hill"), "--duration", "20", *hill]) == 0
    cfg = json.loads((tmp_path / "hill" / "truth.json").read_text())["config"]
    assert (cfg["strike"], cfg["slope_deg"], cfg["wobble_hz"], cfg["clip_tilt_deg"]) == (
        "midfoot",
        8.0,
        12.0,
        [15.0, -5.0],
    )
    assert main(["info", str(tmp_path / "s")]) == 0
    assert main(["import", str(RECORDINGS / "phone_belt_acc_only.csv"), "--out", str(tmp_path / "imp")]) == 0
    assert (tmp_path / "imp" / "meta.json").exists()
    assert main(["recover", str(tmp_path / "imp")]) == 0


def test_every_subcommand_has_help():
    for cmd in ("analyze", "simulate", "import", "info", "recover", "history", "report", "mechanisms", "validate"):
        out = run(cmd, "--help")
        assert out.returncode == 0 and "usage: gait" in out.stdout


def test_the_parser_loads_no_numerical_or_network_stack():
    """``gait --help`` stays quick because building the parser imports the command functions but not what they
    use (the speed itself is a benchmark's business; this is its cause)."""
    code = (
        "import sys; from gait.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'pyarrow', 'asyncio', 'sqlite3', 'tqdm', 'bumble') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "gait"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("gait ")


def test_analyze_stores_runs_and_history_shows_baseline_and_weekly_load(capsys, private_gait_home: Path):
    """The bundled five-week history of a simulated runner: steady runs, then a week of more running whose last
    run has more right-stance drop (6.5 deg + 2.6 deg of fatigue drift vs 5.0 deg before)."""
    demo = RECORDINGS / "history_demo"
    assert main(["analyze", str(demo), "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 11 and all("findings" in r for r in runs)
    assert [r["run_day"] for r in runs] == sorted(r["run_day"] for r in runs)  # judged oldest first
    assert runs[2]["baseline"]["status"] == "building" and runs[3]["baseline"]["n_runs"] == 3
    steady = [{f["id"] for f in r["findings"] if f["severity"] in ("act", "watch")} for r in runs[:-1]]
    assert steady == [set()] * 10
    last = {f["id"]: f for f in runs[-1]["findings"]}
    assert last["gluteus_medius_pelvic_drop.right"]["severity"] == "act"
    assert "vs your baseline" in last["gluteus_medius_pelvic_drop.right"]["evidence"]
    assert last["drop_fatigue_drift.right"]["severity"] == "watch"
    assert last["training_load_spike"]["severity"] == "watch"
    assert runs[-1]["weekly_load"][-1]["spike"] and runs[-1]["weekly_load"][-1]["runs"] == 3
    assert (private_gait_home / "gait.sqlite").exists()

    assert main(["history", "--format", "json"]) == 0
    h = json.loads(capsys.readouterr().out)
    assert h["runner"] == "demo-runner" and h["n_runs"] == 11
    assert [w["spike"] for w in h["weekly_load"]] == [False] * 4 + [True]
    assert h["weekly_load"][-1]["running_min"] == pytest.approx(2 * 3 + 7, abs=0.3)
    assert h["baseline"]["n_runs"] == 10
    assert main(["history"]) == 0
    text = capsys.readouterr().out
    assert "more than 30 % up" in text and "2026-11-21_long" in text and "Baseline      ready" in text


def test_no_save_leaves_the_history_untouched(capsys):
    assert main(["analyze", str(RECORDINGS / "easy_run_208hz"), "--no-save"]) == 0
    assert "Findings" in capsys.readouterr().out
    assert main(["history"]) == 0
    assert "No runs stored yet" in capsys.readouterr().out


def test_report_is_a_standalone_html_file(tmp_path: Path):
    out = tmp_path / "r.html"
    assert main(["report", str(RECORDINGS / "fatigue_10min_104hz"), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 4 and "Pelvic drop grew through the run" in html
    assert "Not a diagnosis" in html and "grinding" in html.lower()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "src=" not in html and "<link" not in html
