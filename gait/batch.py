"""Analyse a folder of recordings in parallel: one summary row per run, for cohorts and long histories.

Each recording is loaded and analysed on its own (in a worker process, or on a Dask cluster) and judged on its own,
*without* a run history: the findings count is what the run shows by itself, never against a personal baseline,
so the rows do not depend on the order the workers finish in. Nothing is written to the run store.

A recording that cannot be read or analysed becomes a row with an ``error`` message (the other columns empty); the
others still succeed. Entries of the folder that are neither recording folders nor ``.csv`` files are listed in
``BatchResult.ignored`` and not analysed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gait.errors import GaitError, RecordingError
from gait.recording import find_recordings
from gait.recording.folder import is_recording_folder

#: the summary metrics each row carries, from ``gait.insights.run_values`` (renamed where the name was short)
VALUE_COLUMNS = {
    "duration_s": "duration_s",
    "running_s": "running_s",
    "steps": "steps",
    "cadence_spm": "cadence_spm",
    "contact_time_ms": "contact_time_ms",
    "flight_time_ms": "flight_time_ms",
    "vertical_oscillation_cm": "vertical_oscillation_cm",
    "impact_g": "impact_g",
    "braking_dv_mps": "braking_dv_mps",
    "drop_left_deg": "pelvic_drop_left_deg",
    "drop_right_deg": "pelvic_drop_right_deg",
    "drop_diff_deg": "pelvic_drop_right_minus_left_deg",
    "asym_contact_pct": "contact_time_asymmetry_pct",
    "asym_braking_pct": "braking_asymmetry_pct",
    "tilt_range_deg": "pelvic_tilt_range_deg",
    "rotation_range_deg": "pelvic_rotation_range_deg",
}
#: change from the first to the last fifth of the running time (``RunSummary.drift``), per metric
DRIFT_COLUMNS = {
    ("cadence_spm", "change"): "cadence_drift_spm",
    ("contact_time_ms", "change"): "contact_time_drift_ms",
    ("pelvic_drop_deg", "left_change"): "pelvic_drop_left_drift_deg",
    ("pelvic_drop_deg", "right_change"): "pelvic_drop_right_drift_deg",
    ("braking_dv_mps", "change"): "braking_dv_drift_mps",
    ("vertical_oscillation_cm", "change"): "vertical_oscillation_drift_cm",
}
#: findings that say something (``act``, ``watch``, ``info``); ``not_enough_data`` is not counted
COUNTED_SEVERITIES = ("act", "watch", "info")
COLUMNS = (
    "path",
    "name",
    "date",
    "sample_rate_hz",
    "has_gyroscope",
    *VALUE_COLUMNS.values(),
    *DRIFT_COLUMNS.values(),
    "findings",
    "findings_act",
    "findings_watch",
    "error",
)
OUTPUT_FORMATS = (".parquet", ".csv")

Progress = Callable[[dict[str, Any]], None]


@dataclass
class BatchResult:
    """One row per recording (``error`` set where it failed), and the folder entries that were not recordings."""

    rows: pd.DataFrame
    ignored: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> pd.DataFrame:
        return self.rows[self.rows["error"].notna()]

    @property
    def succeeded(self) -> pd.DataFrame:
        return self.rows[self.rows["error"].isna()]


def list_recordings(folder: Path | str, recursive: bool = False) -> tuple[list[Path], list[Path]]:
    """The recordings in ``folder`` as ``gait analyze`` finds them, and the other (non-hidden) entries.

    With ``recursive``, sub-folders that are not recordings themselves are searched too (e.g. cohort/subject/run).
    """
    folder = Path(folder)
    if not folder.is_dir() or is_recording_folder(folder):
        raise RecordingError(f"{folder}: not a folder of recordings (give the folder that holds them)")
    found = find_recordings(folder)
    chosen = set(found)
    ignored: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry in chosen or entry.name.startswith("."):
            continue
        if recursive and entry.is_dir():
            sub_found, sub_ignored = list_recordings(entry, recursive=True)
            found += sub_found
            ignored += sub_ignored
        else:
            ignored.append(entry)
    return found, ignored


def analyse_one(path: str, csv_options: dict[str, str] | None = None) -> dict[str, Any]:
    """Load, analyse and judge (on its own) one recording; its summary row. Never raises for a bad recording."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["path"] = str(path)
    row["name"] = Path(path).stem if Path(path).is_file() else Path(path).name
    try:
        from gait.insights import run_values
        from gait.recording import load
        from gait.runs import analyze, run_day, short_name

        rec = load(path, **(csv_options or {}))
        row["name"] = short_name(rec)
        day = run_day(rec)
        row["date"] = day.isoformat() if day else None
        result = analyze(rec)  # no store: judged on its own
        values = run_values(result)
        for key, column in VALUE_COLUMNS.items():
            row[column] = values[key]
        drift = result.summary.drift
        for (metric, part), column in DRIFT_COLUMNS.items():
            row[column] = getattr(drift[metric], part) if metric in drift else None
        severities = [f.severity for f in result.findings or ()]
        row["findings"] = sum(s in COUNTED_SEVERITIES for s in severities)
        row["findings_act"] = severities.count("act")
        row["findings_watch"] = severities.count("watch")
        row["sample_rate_hz"] = result.quality.sample_rate_hz
        row["has_gyroscope"] = result.quality.has_gyroscope
    except GaitError as exc:
        row["error"] = str(exc)
    except Exception as exc:  # a bug on one file must not stop a cohort: reported in its row
        row["error"] = f"{path}: internal error: {type(exc).__name__}: {exc}"
    return row


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(COLUMNS))
    for column in ("steps", "findings", "findings_act", "findings_watch"):
        df[column] = df[column].astype("Int64")
    for column in (*VALUE_COLUMNS.values(), *DRIFT_COLUMNS.values(), "sample_rate_hz"):
        if column != "steps":
            df[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
    df["has_gyroscope"] = df["has_gyroscope"].astype("boolean")
    return df.sort_values("path", kind="stable").reset_index(drop=True)


def run_batch(
    paths: list[Path],
    workers: int | None = None,
    csv_options: dict[str, str] | None = None,
    progress: Progress | None = None,
    dask_address: str | None = None,
    dask_timeout_s: float = 10.0,
) -> pd.DataFrame:
    """Analyse ``paths`` with ``workers`` processes (default: every core), or on a Dask cluster; rows by path.

    One worker analyses in this process (no pool). ``progress`` is called with each row as it completes.
    """
    report = progress or (lambda row: None)
    if dask_address:
        rows = _run_dask(paths, dask_address, csv_options, report, dask_timeout_s)
    else:
        workers = (os.cpu_count() or 1) if workers is None else workers
        if workers < 1:
            raise GaitError(f"--workers must be at least 1 (got {workers})")
        rows = []
        if workers == 1 or len(paths) <= 1:
            for p in paths:
                rows.append(analyse_one(str(p), csv_options))
                report(rows[-1])
        else:
            import gait.runs  # noqa: F401  (imported once here, so forked workers start with the analysis stack)

            with ProcessPoolExecutor(max_workers=min(workers, len(paths))) as pool:
                futures = [pool.submit(analyse_one, str(p), csv_options) for p in paths]
                for future in as_completed(futures):
                    rows.append(future.result())
                    report(rows[-1])
    return _frame(rows)


def _run_dask(
    paths: list[Path], address: str, csv_options: dict[str, str] | None, report: Progress, timeout_s: float
) -> list[dict[str, Any]]:
    """The same per-recording function on an existing Dask cluster (``distributed`` imported only here)."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise GaitError("--dask needs the 'distributed' package: pip install 'dask[distributed]'") from None
    try:
        client = Client(address, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise GaitError(f"{address}: cannot reach the Dask scheduler ({exc})") from None
    rows: list[dict[str, Any]] = []
    try:
        futures = client.map(analyse_one, [str(p) for p in paths], csv_options=csv_options, pure=False)
        for future in dask_completed(futures):
            rows.append(future.result())
            report(rows[-1])
    finally:
        client.close()
    return rows


def analyse_folder(
    folder: Path | str,
    workers: int | None = None,
    recursive: bool = False,
    csv_options: dict[str, str] | None = None,
    progress: Progress | None = None,
    dask_address: str | None = None,
) -> BatchResult:
    """Every recording in ``folder`` (see ``list_recordings``), analysed in parallel: one row per recording."""
    paths, ignored = list_recordings(folder, recursive=recursive)
    if not paths:
        raise RecordingError(f"{folder}: no recordings or .csv files in this folder")
    rows = run_batch(paths, workers, csv_options, progress, dask_address)
    return BatchResult(rows, ignored)


def check_output(out: Path | str) -> Path:
    """The output path, if its extension names a format we write (checked before the work, not after)."""
    out = Path(out)
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise GaitError(f"{out}: unsupported output type {out.suffix or '(none)'} (use .parquet or .csv)")
    return out


def write_summary(rows: pd.DataFrame, out: Path | str) -> Path:
    """Write the rows as Parquet or CSV, chosen by the file's extension."""
    out = check_output(out)
    suffix = out.suffix.lower()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            rows.to_parquet(out, index=False)
        else:
            rows.to_csv(out, index=False, float_format="%.6g")
    except OSError as exc:
        raise RecordingError(f"{out}: cannot write the summary ({exc.strerror or exc})") from None
    return out
