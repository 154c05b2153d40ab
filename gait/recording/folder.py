"""Recording folders on disk: ``meta.json`` + one Arrow IPC ("Feather v2") file per stream (+ ``<stream>.log``
while writing).

Arrow IPC is a columnar file that loads without decoding work (an hour at 208 Hz in ~20 ms, lz4-compressed
to ~20 MiB) and is read by pandas, R and most data tools. Reading prefers the compacted file; when only the
crash log exists (the recorder was killed), the samples are recovered from it and the recording is marked
``recovered``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc

from gait.errors import RecordingError
from gait.recording.limits import (
    MAX_EVENTS_BYTES,
    MAX_SAMPLE_FILE_BYTES,
    MAX_SAMPLES,
    open_regular,
    read_bytes,
    replacing,
)
from gait.recording.log import read_log
from gait.recording.meta import IMU_CHANNELS, RENAMED_CHANNELS, Gap, StreamInfo, read_meta, write_meta
from gait.recording.model import ImuData, Recording, StreamData

EVENTS_FILE = "events.jsonl"


def is_recording_folder(path: Path) -> bool:
    return path.is_dir() and (path / "meta.json").is_file()


def write_table(path: Path, t: np.ndarray, values: np.ndarray, channels: tuple[str, ...]) -> None:
    """Write one stream: float64 time, float32 channels, lz4-compressed Arrow IPC, atomically."""
    cols = {"t_s": pa.array(np.asarray(t, dtype=np.float64))}
    for j, name in enumerate(channels[1:]):
        cols[name] = pa.array(np.asarray(values[:, j], dtype=np.float32))
    with replacing(path) as f:  # a fresh temporary file, never a link planted in the folder
        feather.write_feather(pa.table(cols), f, compression="lz4")


def write_samples(path: Path, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> None:
    """Write one IMU stream (see ``write_table``)."""
    values = acc if gyr is None else np.hstack((acc, gyr))
    write_table(path, t, values, IMU_CHANNELS if gyr is not None else IMU_CHANNELS[:4])


def _read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """The file (or some of its columns), decoded into the system allocator's memory, which goes back to the
    operating system when the table is freed (Arrow's default pool keeps it for the rest of the process)."""
    try:
        _check_start(path)
        with pa.memory_map(str(path)) as f:  # the compressed bytes are read from the file's pages, not copied
            reader = pa.ipc.open_file(f, memory_pool=pa.system_memory_pool())
            if columns is not None:
                fields = [reader.schema.get_field_index(c) for c in columns]
                options = pa.ipc.IpcReadOptions(included_fields=fields, use_threads=False)
                reader = pa.ipc.open_file(f, options=options, memory_pool=pa.system_memory_pool())
            table = reader.read_all()
    except (OSError, pa.ArrowException) as exc:  # incl. absurd sizes from a damaged header (ArrowMemoryError)
        raise RecordingError(f"{path}: cannot read samples ({str(exc).splitlines()[0]})") from None
    if table.num_rows > MAX_SAMPLES:
        raise RecordingError(f"{path}: holds {table.num_rows} samples, over the limit of {MAX_SAMPLES}")
    return table


def _read_schema(path: Path) -> pa.Schema:
    try:
        _check_start(path)
        with pa.memory_map(str(path)) as f:
            return pa.ipc.open_file(f).schema
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"{path}: cannot read samples ({str(exc).splitlines()[0]})") from None


def _check_start(path: Path) -> None:
    """A regular file (not a link, pipe or device) under the size limit, checked before it is mapped; and an
    Arrow IPC file starts as it ends: a damaged start is refused even though the footer alone would do."""
    with open_regular(path, MAX_SAMPLE_FILE_BYTES, "the sample file") as raw:
        if raw.read(6) != b"ARROW1":
            raise RecordingError(f"{path}: cannot read samples (not an Arrow file: its start is damaged)")


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_floating(t) or pa.types.is_integer(t)


def read_samples(path: Path) -> ImuData:
    schema = _read_schema(path)
    names = set(schema.names)
    need = {"t_s", "acc_x_ms2", "acc_y_ms2", "acc_z_ms2"}
    if not need <= names:
        raise RecordingError(f"{path}: missing columns {sorted(need - names)}")
    odd = [f.name for f in schema if f.name.endswith(("_s", "_ms2", "_rads")) and not _numeric(f.type)]
    if odd:
        raise RecordingError(f"{path}: columns {odd} do not hold numbers (the file is damaged)")

    def column(name: str) -> np.ndarray:  # one column decoded at a time: never the whole table beside the arrays
        return _read_table(path, [name]).column(0).to_numpy()

    t = column("t_s").astype(np.float64)
    n = len(t)

    def block(prefix: str, unit: str) -> np.ndarray:
        out = np.empty((n, 3))
        for j, axis in enumerate("xyz"):
            out[:, j] = column(f"{prefix}_{axis}_{unit}")
        return out

    bad = np.flatnonzero(~(np.diff(t) > 0))  # the writer only stores increasing times: anything else is damage
    if len(bad) or (n and not np.isfinite(t[0])):
        k = int(bad[0]) + 1 if len(bad) else 0
        raise RecordingError(f"{path}: time does not increase at sample {k} (the file is damaged)")
    acc = block("acc", "ms2")
    gyr = block("gyr", "rads") if {"gyr_x_rads", "gyr_y_rads", "gyr_z_rads"} <= names else None
    return ImuData(t=t, acc=acc, gyr=gyr)


def read_stream(path: Path, channels: tuple[str, ...]) -> StreamData:
    """One stream's columns by name; a file written by an older version may hold a channel under its old name."""
    table = _read_table(path)
    old_name = {new: old for old, new in RENAMED_CHANNELS.items()}
    stored = [c if c in table.column_names else old_name.get(c, c) for c in channels]
    missing = [c for c, s in zip(channels, stored, strict=True) if s not in table.column_names]
    if missing:
        raise RecordingError(f"{path}: missing columns {missing}")
    values = np.empty((table.num_rows, len(channels) - 1))
    for j, name in enumerate(stored[1:]):
        values[:, j] = table.column(name).to_numpy()
    return StreamData(table.column("t_s").to_numpy().astype(np.float64), values, channels)


def save(recording: Recording, folder: Path | str, overwrite: bool = False) -> Path:
    """Write a complete recording folder (used by importers, the simulator and the live writer on close)."""
    folder = Path(folder)
    if folder.exists() and not overwrite and any(folder.iterdir()):
        raise RecordingError(f"{folder}: already exists and is not empty (choose another --out)")
    folder.mkdir(parents=True, exist_ok=True)
    imu = recording.imu
    streams = []
    for stream in recording.meta.streams:
        if stream.name == "imu":
            stream = dataclasses.replace(
                stream,
                n_samples=imu.n,
                has_gyro=imu.has_gyro,
                channels=IMU_CHANNELS if imu.has_gyro else IMU_CHANNELS[:4],
            )
            write_samples(folder / stream.file, imu.t, imu.acc, imu.gyr)
        elif stream.name in recording.extra:
            data = recording.extra[stream.name]
            stream = dataclasses.replace(stream, n_samples=len(data.t), channels=data.channels)
            write_table(folder / stream.file, data.t, data.values, data.channels)
        else:
            continue  # a stream that never received a sample
        streams.append(stream)
    write_meta(folder, recording.meta.replace(streams=tuple(streams), complete=True))
    return folder


def read_events(folder: Path) -> tuple[Gap, ...]:
    """Gaps appended by a live writer, one JSON object per line; a torn last line is ignored."""
    path = folder / EVENTS_FILE
    if not os.path.lexists(path):
        return ()
    gaps = []
    for line in read_bytes(path, MAX_EVENTS_BYTES, "the event log").decode("utf-8", errors="replace").splitlines():
        try:
            d = json.loads(line)
        except (json.JSONDecodeError, RecursionError):  # a damaged or absurdly nested line is skipped
            continue
        if not isinstance(d, dict) or d.get("type") != "gap":
            continue
        try:
            gap = Gap(float(d["start_s"]), float(d["end_s"]), str(d.get("reason", "")), str(d.get("stream", "imu")))
        except (KeyError, TypeError, ValueError):
            continue  # a damaged line: the samples themselves still show the hole
        if np.isfinite(gap.start_s) and np.isfinite(gap.end_s):
            gaps.append(gap)
    return tuple(gaps)


def _from_log(path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Samples of a crash log in time order (a source may write late samples after newer ones), each time once."""
    contents = read_log(path)
    t, values = contents.t, contents.values
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        order = np.argsort(t, kind="stable")
        t, values = t[order], values[order]
        first = np.concatenate(([True], np.diff(t) > 0))
        t, values = t[first], values[first]
    note = f"{path.stem}: recovered {len(t)} samples from the crash log ({contents.n_records} records" + (
        f", {contents.ignored_bytes} torn bytes ignored)" if contents.ignored_bytes else ")"
    )
    return t, values, note


def load_folder(folder: Path | str) -> Recording:
    """Load a recording folder, recovering from the crash logs when the recording was never closed."""
    folder = Path(folder)
    meta = read_meta(folder)
    imu_stream = meta.stream("imu")
    notes: list[str] = []
    imu: ImuData | None = None
    extra: dict[str, StreamData] = {}
    for stream in meta.streams:
        data, note = _read_stream(folder, stream)
        if note:
            notes.append(note)
        if isinstance(data, ImuData):
            imu = data
        elif data is not None:
            extra[stream.name] = data
    if imu is None:
        raise RecordingError(f"{folder}: no samples ({imu_stream.file} is missing)")
    recovered = bool(notes)
    if recovered:
        notes.append("run 'gait recover' to compact it")
        meta = meta.replace(gaps=meta.gaps + read_events(folder))
    if imu.n < 2 and not (imu.n == 0 and extra and meta.source == "fit-import"):  # a watch-only FIT import
        raise RecordingError(f"{folder}: recording holds fewer than 2 samples")
    return Recording(meta=meta, imu=imu, path=folder, recovered=recovered, notes=tuple(notes), extra=extra)


def _read_stream(folder: Path, stream: StreamInfo) -> tuple[ImuData | StreamData | None, str]:
    """One stream's samples from its compacted file, else from its crash log (with a note saying so)."""
    for part in (stream.file, stream.name):  # both name files: never let meta.json point outside the folder
        if not isinstance(part, str) or Path(part).name != part or part in ("", ".", ".."):
            raise RecordingError(
                f"{folder / 'meta.json'}: stream {stream.name!r} names {part!r}, outside the recording folder"
            )
    data_path, log_path = folder / stream.file, folder / (stream.name + ".log")
    if os.path.lexists(data_path):  # a link or special file is refused by the reader, not skipped
        return (read_samples(data_path) if stream.name == "imu" else read_stream(data_path, stream.channels)), ""
    if not os.path.lexists(log_path):
        if stream.name == "imu":
            raise RecordingError(f"{folder}: no samples ({stream.file} and imu.log are both missing)")
        return None, ""
    t, v, note = _from_log(log_path)
    if stream.name != "imu":
        return (StreamData(t, v, stream.channels) if t.size else None), note
    if t.size == 0:
        raise RecordingError(f"{folder}: recording holds no samples (crash log has no complete record)")
    return ImuData(t=t, acc=v[:, 0:3], gyr=v[:, 3:6] if v.shape[1] >= 6 else None), note


def recover(folder: Path | str) -> Recording:
    """Compact a crashed recording: rebuild the sample file from the log, mark it complete, drop the log."""
    folder = Path(folder)
    rec = load_folder(folder)
    if not rec.recovered:
        return rec
    save(rec, folder, overwrite=True)
    for stream in rec.meta.streams:
        (folder / (stream.name + ".log")).unlink(missing_ok=True)
    (folder / EVENTS_FILE).unlink(missing_ok=True)
    return load_folder(folder)
