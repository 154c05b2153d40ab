"""gait batch: a folder of simulated runs (known cadence) plus broken and foreign files, analysed in parallel."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from gait.batch import COLUMNS, analyse_folder, list_recordings, run_batch
from gait.cli.main import main
from gait.errors import GaitError
from gait.simulate import SimConfig, simulate, write

CADENCES = (158.0, 172.0, 186.0)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    """Three short simulated runs, a CSV that is not IMU data, a recording folder whose samples are cut, a note."""
    folder = tmp_path_factory.mktemp("cohort")
    truth: dict[str, float] = {}
    for i, cadence in enumerate(CADENCES):
        sim = simulate(SimConfig(duration_s=40.0, rate_hz=104.0, cadence_spm=cadence, seed=10 + i))
        write(sim, folder / f"run{i}")
        truth[f"run{i}"] = float(sim.truth_summary()["cadence_spm"])
    (folder / "broken.csv").write_text("heart_rate,when\n140,yesterday\n")
    shutil.copytree(folder / "run0", folder / "truncated")
    samples = folder / "truncated" / "imu.arrow"
    samples.write_bytes(samples.read_bytes()[:500])
    (folder / "notes.txt").write_text("not a recording\n")
    return folder, truth


def test_rows_match_truth_and_bad_files_are_reported(cohort: tuple[Path, dict[str, float]]) -> None:
    folder, truth = cohort
    result = analyse_folder(folder, workers=1)
    assert [p.name for p in result.ignored] == ["notes.txt"]
    assert list(result.rows.columns) == list(COLUMNS)
    ok = result.succeeded.set_index("name")
    assert sorted(ok.index) == sorted(truth)
    for name, cadence in truth.items():
        assert abs(ok.loc[name, "cadence_spm"] - cadence) < 1.0, name
        assert ok.loc[name, "steps"] > 100
        assert ok.loc[name, "findings"] >= 0
    failed = result.failed.set_index("name")
    assert sorted(failed.index) == ["broken", "truncated"]
    assert str(folder / "broken.csv") in failed.loc["broken", "error"]
    assert failed["cadence_spm"].isna().all()


def test_two_workers_give_the_same_rows(cohort: tuple[Path, dict[str, float]]) -> None:
    folder, _ = cohort
    paths, _ = list_recordings(folder)
    one = run_batch(paths, workers=1)
    seen: list[str] = []
    two = run_batch(paths, workers=2, progress=lambda row: seen.append(row["path"]))
    pd.testing.assert_frame_equal(one, two)
    assert sorted(seen) == sorted(str(p) for p in paths)


def test_dask_local_cluster_gives_the_same_rows(cohort: tuple[Path, dict[str, float]]) -> None:
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the dev extra")
    folder, _ = cohort
    paths, _ = list_recordings(folder)
    local = run_batch(paths, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        on_dask = run_batch(paths, dask_address=c.scheduler_address)
    pd.testing.assert_frame_equal(local, on_dask)


def test_cli_writes_parquet_and_exits_1_when_some_were_skipped(
    cohort: tuple[Path, dict[str, float]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, truth = cohort
    out = tmp_path / "summary.parquet"
    assert main(["batch", str(folder), "--workers", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "ignored: " in err and "notes.txt" in err
    assert sum(line.startswith("gait: skipped: ") for line in err.splitlines()) == 2
    table = pd.read_parquet(out)
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == len(truth) + 2
    good = table[table["error"].isna()].set_index("name")
    for name, cadence in truth.items():
        assert abs(good.loc[name, "cadence_spm"] - cadence) < 1.0


def test_cli_exits_0_when_every_recording_was_analysed(
    cohort: tuple[Path, dict[str, float]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = cohort
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copytree(folder / "run1", clean / "run1")
    out = tmp_path / "summary.csv"
    assert main(["batch", str(clean), "--workers", "1", "--out", str(out)]) == 0
    assert "1 of 1 recordings analysed" in capsys.readouterr().out
    assert pd.read_csv(out)["error"].isna().all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "summary.xlsx"], "unsupported output type .xlsx"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_cli_bad_options_are_one_line_errors(
    cohort: tuple[Path, dict[str, float]], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    folder, _ = cohort
    assert main(["batch", str(folder), *args]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("gait: error: ")
    assert message in err


def test_unreachable_dask_scheduler_is_a_clear_error(cohort: tuple[Path, dict[str, float]]) -> None:
    pytest.importorskip("distributed", reason="dask[distributed] is in the dev extra")
    folder, _ = cohort
    paths, _ = list_recordings(folder)
    with pytest.raises(GaitError, match=r"tcp://127\.0\.0\.1:1: cannot reach the Dask scheduler"):
        run_batch(paths, dask_address="tcp://127.0.0.1:1", dask_timeout_s=1.0)


def test_a_recording_is_not_a_folder_of_recordings(cohort: tuple[Path, dict[str, float]]) -> None:
    folder, _ = cohort
    with pytest.raises(GaitError, match="not a folder of recordings"):
        list_recordings(folder / "run0")


def test_recursive_finds_recordings_in_sub_folders(cohort: tuple[Path, dict[str, float]], tmp_path: Path) -> None:
    folder, _ = cohort
    (tmp_path / "subject_a").mkdir()
    shutil.copytree(folder / "run2", tmp_path / "subject_a" / "run2")
    (tmp_path / "subject_a" / "readme.md").write_text("cohort notes\n")
    flat, ignored_flat = list_recordings(tmp_path)
    assert flat == [] and [p.name for p in ignored_flat] == ["subject_a"]
    deep, ignored_deep = list_recordings(tmp_path, recursive=True)
    assert deep == [tmp_path / "subject_a" / "run2"]
    assert [p.name for p in ignored_deep] == ["readme.md"]
