"""Analyse a folder of recordings in parallel: one summary row per run, for cohorts and long histories.

Each recording is loaded and analysed on its own (in a worker process, or on a Dask cluster) and judged on its own,
*without* a run history: the findings count is what the run shows by itself, never against a personal baseline,
so the rows do not depend on the order the workers finish in. Nothing is written to the run store.

A recording that cannot be read or analysed becomes a row with an ``error`` message (the other columns empty); the
others still succeed. Entries of the folder that are neither recording folders nor ``.csv`` files are listed in
``BatchResult.ignored`` and not analysed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pandas as pd

from gait.analysis.summary import RunRecord
from gait.errors import GaitError, RecordingError
from gait.insights.rules import Severity
from gait.recording import find_recordings
from gait.recording.folder import is_recording_folder

if TYPE_CHECKING:
    from gait.analysis import AnalysisConfig

#: the run's numbers: one column per ``RunRecord`` column (its fields, the terrain split flattened)
VALUE_COLUMNS = RunRecord.names()
#: findings that say something (``act``, ``watch``, ``info``); ``not_enough_data`` is not counted
COUNTED_SEVERITIES = (Severity.ACT, Severity.WATCH, Severity.INFO)
COLUMNS = (
    "path",
    "name",
    "date",
    "sample_rate_hz",
    "has_gyroscope",
    *VALUE_COLUMNS,
    "findings",
    "findings_act",
    "findings_watch",
    "error",
)
OUTPUT_FORMATS = (".parquet", ".csv")

Progress = Callable[[dict[str, Any]], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What became of one recording: ``value``, or the one-line ``error`` that says why there is none."""

    path: Path
    value: T | None = None
    error: str | None = None


def attempt(work: Callable[[Path], T], path: Path, contain: bool = False) -> Outcome[T]:
    """``work(path)``: a ``GaitError`` becomes the outcome's error, and with ``contain`` so does a bug (a cohort
    must not stop at one file); otherwise a bug propagates."""
    try:
        return Outcome(path, work(path))
    except GaitError as exc:
        return Outcome(path, error=str(exc))
    except Exception as exc:
        if not contain:
            raise
        return Outcome(path, error=f"{path}: internal error: {type(exc).__name__}: {exc}")


def each(
    paths: Sequence[Path],
    work: Callable[[Path], T],
    *,
    workers: int = 1,
    dask_address: str | None = None,
    dask_timeout_s: float = 10.0,
    contain: bool = False,
) -> Iterator[Outcome[T]]:
    """The one loop over many recordings (``gait analyze``, ``gait batch``): ``work(path)`` for each path, one
    after another in this process and in order with one worker, else in a pool of ``workers`` processes or on a
    Dask cluster as they finish (``work`` must then pickle: a module-level function or a partial of one)."""
    if dask_address:
        yield from _on_dask(paths, work, dask_address, dask_timeout_s, contain)
    elif workers == 1 or len(paths) <= 1:
        for p in paths:
            yield attempt(work, Path(p), contain)
    else:
        import gait.runs  # noqa: F401  (imported once here, so forked workers start with the analysis stack)

        with ProcessPoolExecutor(max_workers=min(workers, len(paths))) as pool:
            futures = [pool.submit(attempt, work, Path(p), contain) for p in paths]
            for future in as_completed(futures):
                yield future.result()


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


def summary_row(
    path: Path, csv_options: dict[str, str] | None = None, config: AnalysisConfig | None = None
) -> dict[str, Any]:
    """Load, analyse (with ``config``'s stage parameters) and judge (on its own) one recording: its row (raises
    ``GaitError`` for a bad recording)."""
    from gait.recording import load
    from gait.runs import analyze, run_day, short_name

    rec = load(path, **(csv_options or {}))
    day = run_day(rec)
    result = analyze(rec, config=config)  # no store: judged on its own
    severities = [f.severity for f in result.findings or ()]
    return {
        **dict.fromkeys(COLUMNS),
        "path": str(path),
        "name": short_name(rec),
        "date": day.isoformat() if day else None,
        "sample_rate_hz": result.quality.sample_rate_hz,
        "has_gyroscope": result.quality.has_gyroscope,
        **result.record.row(),
        "findings": sum(s in COUNTED_SEVERITIES for s in severities),
        "findings_act": severities.count(Severity.ACT),
        "findings_watch": severities.count(Severity.WATCH),
    }


def _row(outcome: Outcome[dict[str, Any]]) -> dict[str, Any]:
    """The outcome's row; for a failed recording, a row with only its path, name and error."""
    if outcome.value is not None:
        return outcome.value
    p = outcome.path
    return {**dict.fromkeys(COLUMNS), "path": str(p), "name": p.stem if p.is_file() else p.name, "error": outcome.error}


def analyse_one(
    path: str, csv_options: dict[str, str] | None = None, config: AnalysisConfig | None = None
) -> dict[str, Any]:
    """One recording's row; never raises for a bad recording (its ``error`` says why)."""
    work = functools.partial(summary_row, csv_options=csv_options, config=config)
    return _row(attempt(work, Path(path), contain=True))


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(COLUMNS))
    counts = [c for c in VALUE_COLUMNS if RunRecord.info(c).integer]
    for column in (*counts, "findings", "findings_act", "findings_watch"):
        df[column] = df[column].astype("Int64")
    for column in (*VALUE_COLUMNS, "sample_rate_hz"):
        if column not in counts:
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
    config: AnalysisConfig | None = None,
) -> pd.DataFrame:
    """Analyse ``paths`` with ``workers`` processes (default: every core), or on a Dask cluster; rows by path.

    One worker analyses in this process (no pool). ``progress`` is called with each row as it completes.
    ``config`` sets the analysis stages' parameters (default: the validated settings).
    """
    report = progress or (lambda row: None)
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise GaitError(f"--workers must be at least 1 (got {workers})")
    work = functools.partial(summary_row, csv_options=csv_options, config=config)
    rows = []
    for outcome in each(
        paths, work, workers=workers, dask_address=dask_address, dask_timeout_s=dask_timeout_s, contain=True
    ):
        rows.append(_row(outcome))
        report(rows[-1])
    return _frame(rows)


def _on_dask(
    paths: Sequence[Path], work: Callable[[Path], T], address: str, timeout_s: float, contain: bool
) -> Iterator[Outcome[T]]:
    """``attempt`` for each path on an existing Dask cluster (``distributed`` imported only here)."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise GaitError("--dask needs the 'distributed' package: pip install 'dask[distributed]'") from None
    try:
        client = Client(address, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise GaitError(f"{address}: cannot reach the Dask scheduler ({exc})") from None
    try:
        futures = client.map(attempt, [work] * len(paths), [Path(p) for p in paths], contain=contain, pure=False)
        for future in dask_completed(futures):
            yield future.result()
    finally:
        client.close()


def analyse_folder(
    folder: Path | str,
    workers: int | None = None,
    recursive: bool = False,
    csv_options: dict[str, str] | None = None,
    progress: Progress | None = None,
    dask_address: str | None = None,
    config: AnalysisConfig | None = None,
) -> BatchResult:
    """Every recording in ``folder`` (see ``list_recordings``), analysed in parallel: one row per recording."""
    paths, ignored = list_recordings(folder, recursive=recursive)
    if not paths:
        raise RecordingError(f"{folder}: no recordings or .csv files in this folder")
    rows = run_batch(paths, workers, csv_options, progress, dask_address, config=config)
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
