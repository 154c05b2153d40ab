"""A local SQLite store of analysed runs: history, personal baselines, weekly load.

Everything stays on this machine: ``$GAIT_HOME/gait.sqlite`` (default ``~/.local/share/gait``). One row per
recording (re-analysing replaces it), keyed by the recording's id, with one column per ``RunRecord`` field
and the full JSON of the analysis. A store written by an older version is brought up to date when opened.

A damaged row is skipped with a warning (logger ``gait.store``; the CLI prints it as ``gait: warning: ...``),
never fatal; a history that cannot be written (read-only file or disk, another user's) is opened read-only:
it is listed and compared with, and runs are not saved to it (said once).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from gait.analysis.summary import RunRecord
from gait.errors import GaitError
from gait.insights.load import RunLoad, WeekLoad, parse_day, weekly_load
from gait.insights.rules import Severity

log = logging.getLogger("gait.store")
SCHEMA_VERSION = 3
#: one REAL column per column of the run record (its fields, then the terrain split flattened)
VALUE_COLUMNS = RunRecord.names()
#: columns older versions wrote, renamed in place when such a store is opened: version 1 also meant m/s by
#: ``_ms``; versions 1 and 2 kept short names for some fields
RENAMED_COLUMNS = {
    "braking_dv_ms": "braking_dv_mps",
    "speed_ms": "speed_mps",
    "drop_left_deg": "pelvic_drop_left_deg",
    "drop_right_deg": "pelvic_drop_right_deg",
    "drop_diff_deg": "pelvic_drop_right_minus_left_deg",
    "asym_contact_pct": "contact_time_asymmetry_pct",
    "asym_braking_pct": "braking_asymmetry_pct",
    "rotation_range_deg": "pelvic_rotation_range_deg",
    "tilt_range_deg": "pelvic_tilt_range_deg",
}


class StoreError(GaitError):
    """The run store cannot be opened or written."""


def default_path() -> Path:
    home = os.environ.get("GAIT_HOME")
    base = Path(home) if home else Path.home() / ".local" / "share" / "gait"
    return base / "gait.sqlite"


@dataclass(frozen=True)
class StoredRun:
    recording_id: str
    runner: str
    name: str
    path: str
    day: date | None
    synthetic: bool
    n_findings: int
    record: RunRecord
    findings: list[dict[str, object]]

    def load(self) -> RunLoad | None:
        if self.day is None:
            return None
        return RunLoad(self.day, self.record.running_s or 0.0, self.record.steps or 0, self.record.distance_m)


class RunStore:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the run store ({exc})") from None
        self._db.row_factory = sqlite3.Row
        self.read_only = False
        self._warned: set[str] = set()
        try:
            self._create()
        except StoreError as exc:
            self._db.close()
            if "readonly" not in str(exc) or not self.path.is_file():
                raise
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)  # still readable
            self._db.row_factory = sqlite3.Row
            self.read_only = True
            self._warn("read-only", f"{self.path}: the run history is read-only: runs are read from it, not saved")

    def _create(self) -> None:
        cols = ", ".join(f"{c} REAL" for c in VALUE_COLUMNS)
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.execute(
                "CREATE TABLE IF NOT EXISTS runs (recording_id TEXT PRIMARY KEY, runner TEXT NOT NULL, name TEXT, "
                f"path TEXT, day TEXT, synthetic INTEGER, analysed_utc TEXT, n_findings INTEGER, {cols}, "
                "analysis_json TEXT, findings_json TEXT)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS runs_by_runner ON runs (runner, day)")
            self._migrate(db)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring a store written by an older version up to date: renamed columns keep their values, new ones
        start empty; nothing stored is lost."""
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and int(row["value"]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: run store schema {row['value']} is newer than this gait (reads up to {SCHEMA_VERSION})"
            )
        have = {r["name"] for r in db.execute("PRAGMA table_info(runs)")}
        for old, new in RENAMED_COLUMNS.items():
            if old in have and new not in have:
                db.execute(f"ALTER TABLE runs RENAME COLUMN {old} TO {new}")
                have = (have - {old}) | {new}
        for column in VALUE_COLUMNS:
            if column not in have:
                db.execute(f"ALTER TABLE runs ADD COLUMN {column} REAL")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                yield self._db
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)

    def add(
        self,
        *,
        recording_id: str,
        runner: str,
        name: str,
        path: str,
        day: date | None,
        synthetic: bool,
        record: RunRecord,
        analysis: dict[str, object] | None = None,
        findings: Sequence[dict[str, object]] = (),
    ) -> None:
        """Insert or replace one run (not in a read-only history: it said so when opened)."""
        if self.read_only:
            return
        row = {
            "recording_id": recording_id,
            "runner": runner or "default",
            "name": name,
            "path": path,
            "day": day.isoformat() if day else None,
            "synthetic": int(synthetic),
            "analysed_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "n_findings": sum(
                1 for f in findings if f.get("severity") in (Severity.ACT, Severity.WATCH, Severity.INFO)
            ),
            **record.row(),
            "analysis_json": json.dumps(analysis) if analysis else None,
            "findings_json": json.dumps(list(findings)),
        }
        keys = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._tx() as db:
            db.execute(f"INSERT OR REPLACE INTO runs ({keys}) VALUES ({marks})", tuple(row.values()))

    def runs(
        self, runner: str | None = None, before: date | None = None, exclude: str | None = None
    ) -> list[StoredRun]:
        """Runs, most recent first (runs without a date last)."""
        q = "SELECT * FROM runs WHERE 1=1"
        args: list[object] = []
        if runner is not None:
            q += " AND runner = ?"
            args.append(runner or "default")
        if before is not None:
            q += " AND day <= ?"
            args.append(before.isoformat())
        if exclude is not None:
            q += " AND recording_id != ?"
            args.append(exclude)
        q += " ORDER BY day IS NULL, day DESC, analysed_utc DESC"
        with self._tx() as db:
            rows = db.execute(q, args).fetchall()
        runs = []
        for r in rows:
            try:
                runs.append(_stored(r))
            except (ValueError, TypeError, RecursionError) as exc:  # one damaged row never hides the others
                why = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
                self._warn(
                    f"row {r['recording_id']}", f"{self.path}: skipped 1 damaged run ({r['recording_id']!r:.40}: {why})"
                )
        return runs

    def runners(self) -> list[str]:
        with self._tx() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT runner FROM runs ORDER BY runner")]

    def weekly(
        self, runner: str | None = None, extra: RunLoad | None = None, until: date | None = None
    ) -> list[WeekLoad]:
        loads = [load for r in self.runs(runner) if (load := r.load()) is not None]
        if extra is not None:
            loads.append(extra)
        return weekly_load(loads, until=until)


def _stored(r: sqlite3.Row) -> StoredRun:
    """One row as a StoredRun; ValueError/TypeError when it is damaged (findings not a JSON list, text in a
    value column). A read-only store may still be of an older version: old column names are read too."""
    have = set(r.keys())
    old = {new: old for old, new in RENAMED_COLUMNS.items() if old in have}
    values = {c: r[c if c in have else old[c]] for c in VALUE_COLUMNS if c in have or c in old}
    odd = [c for c, v in values.items() if v is not None and not (isinstance(v, int | float) and math.isfinite(v))]
    if odd:
        raise ValueError(f"{odd[0]} holds {values[odd[0]]!r:.20}")
    findings = json.loads(r["findings_json"] or "[]")
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise ValueError("findings are not a list of objects")
    return StoredRun(
        recording_id=r["recording_id"],
        runner=r["runner"],
        name=r["name"] or "",
        path=r["path"] or "",
        day=parse_day(r["day"]),
        synthetic=bool(r["synthetic"]),
        n_findings=r["n_findings"] or 0,
        record=RunRecord.from_dict(values),
        findings=findings,
    )
