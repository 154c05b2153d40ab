"""The runs the dashboard shows: every recording under one data folder, analysed once and cached.

Recordings are found only inside the data folder (symbolic links leading out of it are ignored) and are
addressed by their path relative to it, looked up in this catalog: a URL can never name a file elsewhere.
Each recording is analysed oldest first with ``gait.analyze`` against the local run history (and saved to it,
so trends and baselines include it); the JSON result and the per-step table are cached under
``$GAIT_HOME/cache/dashboard`` keyed by the files' size and modification time, so the second start is instant
and a 1-hour run's page only reads a small per-step table. The speed and grade track is cached beside them with
the route's coordinates: the cache is gait's own, on this computer, like the recordings it comes from (nothing
the dashboard sends elsewhere or exports carries them).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gait.api import (
    BoundedZip,
    GaitError,
    Recording,
    RecordingError,
    RunRecord,
    RunStore,
    Severity,
    analyze,
    chronological,
    create_new,
    default_store_path,
    is_recording_folder,
    load,
    read_any,
    run_day,
    runner_of,
    save,
    short_name,
    write_atomic,
)

CACHE_VERSION = 4  # 4: speed, grade and the terrain split (and the track beside); older entries are redone
MAX_DEPTH = 4  # data/runner/year/recording
UPLOAD_MAX_BYTES = 64 * 1024 * 1024
UPLOAD_TYPES = (".csv", ".zip", ".fit")
UPLOADS = "uploads"
LIVE = "live"
RAW_CACHE = 2  # recordings kept in memory for the raw-signal viewer


@dataclass(frozen=True)
class RunEntry:
    """One recording in the data folder and what its analysis said (or why it could not be analysed)."""

    slug: str  # path relative to the data folder, '/'-separated: the run's address in the dashboard
    path: Path
    name: str
    title: str
    runner: str
    day: str | None  # ISO date
    synthetic: bool
    analysis: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.analysis is not None

    @property
    def record(self) -> RunRecord:
        """The run's numbers (the run-record fields of the analysis JSON); a run that could not be analysed has none."""
        if self.analysis is None:
            raise ValueError(f"{self.slug}: not analysed ({self.error})")
        return RunRecord.from_dict(self.analysis)

    def n_findings(self) -> int:
        """Findings worth a look (watch / act), as in the runs table."""
        return sum(
            1 for f in (self.analysis or {}).get("findings", []) if f["severity"] in (Severity.WATCH, Severity.ACT)
        )


@dataclass
class Catalog:
    data_dir: Path
    store_path: Path | None = None
    cache_dir: Path | None = None
    runs: dict[str, RunEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        if not self.data_dir.is_dir():
            raise RecordingError(f"{self.data_dir}: no such folder (give the folder of recordings with --data)")
        self.store_path = Path(self.store_path) if self.store_path else default_store_path()
        self.cache_dir = Path(self.cache_dir) if self.cache_dir else self.store_path.parent / "cache" / "dashboard"
        self._lock = threading.RLock()
        self._raw: OrderedDict[str, Recording] = OrderedDict()
        self._steps_fallback: dict[str, pd.DataFrame] = {}  # only when the cache folder is not writable
        self._track_fallback: dict[str, pd.DataFrame] = {}

    # ---- discovery -------------------------------------------------------------------------------------------
    def discover(self) -> list[Path]:
        """Recording folders and CSV files under the data folder (not inside a recording, not hidden)."""
        found: list[Path] = []

        def walk(folder: Path, depth: int) -> None:
            for p in sorted(folder.iterdir()):
                if p.name.startswith(".") or not self.inside(p):
                    continue
                if is_recording_folder(p):
                    found.append(p)
                elif p.is_dir() and depth < MAX_DEPTH:
                    walk(p, depth + 1)
                elif p.is_file() and p.suffix.lower() == ".csv":
                    found.append(p)

        walk(self.data_dir, 1)
        return found

    def inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.data_dir)
        except OSError:
            return False

    def slug(self, path: Path) -> str:
        return path.resolve().relative_to(self.data_dir).as_posix()

    # ---- analysis --------------------------------------------------------------------------------------------
    def refresh(self, progress: Callable[[Iterator[Path], int], Iterator[Path]] | None = None) -> list[RunEntry]:
        """Analyse new or changed recordings (oldest first, so each is judged against the runs before it)."""
        with self._lock:
            paths = chronological(self.discover())
            todo = iter(paths) if progress is None else progress(iter(paths), len(paths))
            runs: dict[str, RunEntry] = {}
            for p in todo:
                entry = self._entry(p)
                runs[entry.slug] = entry
            self.runs = runs
            return list(runs.values())

    def _signature(self, path: Path) -> list[list[object]]:
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        stats = [(f.name, f.stat()) for f in files if f.is_file()]
        return [[name, st.st_size, st.st_mtime_ns] for name, st in stats]

    def _cache_files(self, path: Path) -> tuple[Path, Path, Path]:
        """The cached analysis (JSON), its step table and its track."""
        key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
        assert self.cache_dir is not None
        folder = self.cache_dir
        return folder / f"{key}.json", folder / f"{key}.steps.parquet", folder / f"{key}.track.parquet"

    def _entry(self, path: Path) -> RunEntry:
        slug = self.slug(path)
        js, pq, tr = self._cache_files(path)
        try:
            sig = self._signature(path)
        except OSError as exc:
            return RunEntry(slug, path, path.name, path.name, "", None, False, error=f"{path.name}: {exc.strerror}")
        if js.is_file() and pq.is_file() and tr.is_file():
            try:
                cached = json.loads(js.read_text())
                if cached.get("version") == CACHE_VERSION and cached.get("signature") == sig:
                    return RunEntry(path=path, **cached["entry"])
            except (OSError, ValueError, TypeError, RecursionError):
                pass  # a damaged cache entry is simply rebuilt
        try:
            rec = load(path)
            store = RunStore(self.store_path)
            try:
                result = analyze(rec, store=store, save=True)
            finally:
                store.close()
        except GaitError as exc:
            return RunEntry(slug, path, path.name, path.name, "", None, False, error=str(exc))
        except Exception as exc:  # one unreadable recording must never stop the dashboard (nor hide the others)
            why = f"{path}: cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})"
            return RunEntry(slug, path, path.name, path.name, "", None, False, error=why)
        day = run_day(rec)
        entry = RunEntry(
            slug=slug,
            path=path,
            name=short_name(rec),
            title=rec.meta.title or short_name(rec),
            runner=runner_of(rec),
            day=day.isoformat() if day else None,
            synthetic=rec.meta.synthetic,
            analysis=result.to_dict(),
        )
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            for table, target in ((result.steps, pq), (_track(result), tr)):
                buf = io.BytesIO()
                table.to_parquet(buf, index=False)
                write_atomic(target, buf.getvalue())  # never through a link planted in the cache folder
            fields = {k: v for k, v in entry.__dict__.items() if k != "path"}
            write_atomic(js, json.dumps({"version": CACHE_VERSION, "signature": sig, "entry": fields}).encode())
        except OSError as exc:  # no cache: still shown, analysed again next time
            print(f"gait: warning: cannot cache the analysis of {path.name} ({exc.strerror})", file=sys.stderr)
            self._steps_fallback[slug] = result.steps
            self._track_fallback[slug] = _track(result)
        return entry

    def get(self, slug: str) -> RunEntry | None:
        return self.runs.get(slug)

    def steps(self, slug: str) -> pd.DataFrame:
        entry = self.runs[slug]
        if slug in self._steps_fallback:
            return self._steps_fallback[slug]
        return pd.read_parquet(self._cache_files(entry.path)[1])

    def track(self, slug: str) -> pd.DataFrame:
        """Speed, grade and position over the run (``TerrainTrack.frame``; no rows without those streams)."""
        entry = self.runs[slug]
        if slug in self._track_fallback:
            return self._track_fallback[slug]
        return pd.read_parquet(self._cache_files(entry.path)[2])

    def recording(self, slug: str) -> Recording:
        """The samples, for the raw-signal viewer (the last few kept in memory)."""
        with self._lock:
            if slug in self._raw:
                self._raw.move_to_end(slug)
                return self._raw[slug]
            rec = load(self.runs[slug].path)
            self._raw[slug] = rec
            while len(self._raw) > RAW_CACHE:
                self._raw.popitem(last=False)
            return rec

    def runners(self) -> list[str]:
        return sorted({e.runner for e in self.runs.values() if e.ok})

    def store(self) -> RunStore:
        """A fresh connection (SQLite connections belong to one thread; Dash answers on several)."""
        return RunStore(self.store_path)

    # ---- adding runs -----------------------------------------------------------------------------------------
    def import_upload(self, filename: str, contents: str, acc_unit: str | None = None) -> RunEntry:
        """Import a file uploaded in the browser (``contents``: the data URL dcc.Upload gives) as a recording.

        Accepts a plain CSV (docs/csv-format.md), a phone app's export (Sensor Logger zip, phyphox CSV or zip;
        docs/phones.md), a watch's FIT file or a zip of a recording folder, up to 64 MiB; the result is a
        recording folder under ``DATA/uploads``. Raises RecordingError with a one-line reason otherwise. A FIT
        file holds no raw IMU samples: it is kept with the watch's numbers, and its entry says gait's own
        analysis needs raw samples (``entry.error``; the upload itself succeeded).
        """
        name = Path(filename or "").name
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_TYPES:
            raise RecordingError(f"{name or 'upload'}: unsupported file type (upload a .csv, .zip or .fit file)")
        _, _, b64 = (contents or "").partition(",")
        if len(b64) * 3 // 4 > UPLOAD_MAX_BYTES:
            raise RecordingError(f"{name}: larger than the {UPLOAD_MAX_BYTES // 2**20} MiB upload limit")
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise RecordingError(f"{name}: the upload arrived damaged (not base64)") from None
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._") or "upload"
        uploads = self.data_dir / UPLOADS
        if uploads.is_symlink() or (uploads.exists() and not uploads.is_dir()):
            raise RecordingError(f"{uploads}: is not a folder inside the data folder; uploads are not stored there")
        uploads.mkdir(exist_ok=True)
        watch_only = False
        with tempfile.TemporaryDirectory(prefix="gait-upload-") as tmp, \
                tempfile.TemporaryDirectory(prefix=".incoming-", dir=uploads) as staging:  # fmt: skip
            src = Path(tmp) / f"{stem}{suffix}"
            src.write_bytes(data)
            built = Path(staging) / stem  # hidden from the catalog until it is complete and analysed
            try:
                if suffix == ".zip" and _zipped_recording(src):
                    self._unzip_recording(src, built)
                else:  # a plain CSV, or a phone app's export (Sensor Logger zip, phyphox CSV or zip)
                    rec = read_any(src, **({"acc_unit": acc_unit} if acc_unit else {}))
                    detail = rec.meta.source_detail.replace(src.name, name)
                    meta = rec.meta.replace(title=Path(name).stem, source_detail=f"uploaded {detail}")
                    save(dataclasses.replace(rec, meta=meta), built)
                    watch_only = rec.imu.n == 0 and "watch" in rec.extra
            except GaitError as exc:
                raise RecordingError(str(exc).replace(str(src), name).replace(str(built), name)) from None
            except Exception as exc:  # e.g. MemoryError: still refused in one line, nothing left behind
                raise RecordingError(f"{name}: cannot be imported ({type(exc).__name__})") from None
            with self._lock:
                target, k = uploads / stem, 2
                while target.exists():
                    target, k = uploads / f"{stem}-{k}", k + 1
                built.rename(target)
                entry = self._entry(target)
                if entry.error and not watch_only:  # analysed and refused: the upload leaves nothing behind
                    shutil.rmtree(target, ignore_errors=True)
                    raise RecordingError(entry.error.replace(str(target), name))
                self.runs[entry.slug] = entry  # (a watch file without IMU samples: shown with its own numbers)
        return entry

    def _unzip_recording(self, src: Path, target: Path) -> None:
        """A zipped recording folder: meta.json and its sample files, nothing outside the target folder, at most
        MAX_UNZIPPED_BYTES in all (counted while unpacking)."""
        z = BoundedZip(src)
        members = list(z.infos)
        z.check_declared(members)
        metas = [m for m in members if Path(m).name == "meta.json"]
        if len(metas) != 1:
            raise RecordingError(f"{src}: not a zipped recording (expected exactly one meta.json)")
        root = Path(metas[0]).parent
        target.mkdir(parents=True)
        for m in members:
            rel = Path(m)
            if rel.parent != root or rel.name.startswith(".") or ".." in rel.parts:
                continue  # only the recording's own files, flat, never a path outside the target
            try:
                with create_new(target / rel.name) as fout:
                    z.stream(m, fout)
            except FileExistsError:
                raise RecordingError(f"{src}: {rel.name} is in the archive twice") from None
        load(target)  # a broken recording is refused now, not shown as a failed run

    def add_folder(self, folder: Path) -> RunEntry:
        """A recording just written inside the data folder (e.g. by the live page)."""
        if not self.inside(folder):
            raise RecordingError(f"{folder}: outside the data folder")
        with self._lock:
            entry = self._entry(folder)
            self.runs[entry.slug] = entry
            return entry


def _track(result: Any) -> pd.DataFrame:
    """The run's track with its positions (kept in the local cache only), or an empty table."""
    track = result.terrain
    return track.frame(with_location=True) if track is not None else pd.DataFrame({"t_s": []})


def _zipped_recording(path: Path) -> bool:
    """A zip holding a gait recording folder (its meta.json), as opposed to a phone app's export."""
    if not zipfile.is_zipfile(path):
        raise RecordingError(f"{path}: not a valid zip file")
    return any(Path(n).name == "meta.json" for n in BoundedZip(path).infos)
