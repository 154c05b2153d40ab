"""Crash-safe recording writer for live sources.

Each stream's samples go to an append-only checksummed log (``<stream>.log``), flushed and fsync'ed at least
every ``flush_interval_s`` (default 1 s); gaps go to ``events.jsonl`` immediately. ``close()`` compacts the logs
to Arrow IPC and marks ``meta.json`` complete. After ``kill -9`` the folder still loads (from the logs) with at
most the last flush interval missing, and ``gait recover`` compacts it.

A recording can hold several streams that share one clock (e.g. a sacral IMU named ``imu``, shoe IMUs, a
foot pod); the one named ``imu`` is the one gait analyses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np

from gait.errors import RecordingError
from gait.recording.folder import EVENTS_FILE, load_folder, save
from gait.recording.limits import create_new
from gait.recording.log import encode_record, open_log
from gait.recording.meta import IMU_CHANNELS, RecordingMeta, StreamInfo, write_meta


class _StreamLog:
    """Pending samples and the open log of one stream."""

    def __init__(self, folder: Path, info: StreamInfo) -> None:
        self.info = info
        self.k = len(info.channels) - 1
        self.log: BinaryIO = open_log(folder / f"{info.name}.log", info.name, info.channels)
        self.pending_t: list[np.ndarray] = []
        self.pending_v: list[np.ndarray] = []
        self.last_t = -np.inf
        self.n_samples = 0


class RecordingWriter:
    """Write live streams to ``folder`` as they arrive.

    >>> with RecordingWriter("run1", meta) as w:      # doctest: +SKIP
    ...     w.append(t, acc, gyr)

    Without ``streams`` the recording has one IMU stream named ``imu`` (``has_gyro``, ``rate_hz``).
    """

    def __init__(
        self,
        folder: Path | str,
        meta: RecordingMeta,
        *,
        has_gyro: bool = True,
        rate_hz: float = 0.0,
        flush_interval_s: float = 1.0,
        streams: Sequence[StreamInfo] | None = None,
    ) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and any(self.folder.iterdir()):
            raise RecordingError(f"{self.folder}: already exists and is not empty (choose another --out)")
        if streams is None:
            streams = (
                StreamInfo(
                    rate_hz=rate_hz,
                    channels=IMU_CHANNELS if has_gyro else IMU_CHANNELS[:4],
                    has_gyro=has_gyro,
                    clock=meta.streams[0].clock if meta.streams else "device",
                ),
            )
        names = [s.name for s in streams]
        if len(set(names)) != len(names):
            raise RecordingError(f"{self.folder}: stream names must be unique (got {names})")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordingError(f"{self.folder}: cannot create recording folder ({exc.strerror})") from None
        self.meta = meta.replace(streams=tuple(streams), complete=False)
        self.flush_interval_s = flush_interval_s
        write_meta(self.folder, self.meta)
        self._streams = {s.name: _StreamLog(self.folder, s) for s in streams}
        self._events = io.TextIOWrapper(create_new(self.folder / EVENTS_FILE), encoding="utf-8")
        self._last_flush = time.monotonic()
        self.closed = False
        self.failed = ""  # set when the disk refused a write: nothing more is written, the logs keep what was safe

    def add_stream(self, info: StreamInfo) -> None:
        """Start a new stream (e.g. a sensor whose channels are known once it is connected)."""
        if self.closed:
            raise RecordingError(f"{self.folder}: recording already closed")
        if info.name in self._streams:
            raise RecordingError(f"{self.folder}: stream {info.name!r} already exists")
        self._streams[info.name] = _StreamLog(self.folder, info)
        self.meta = self.meta.replace(streams=tuple(s.info for s in self._streams.values()))
        write_meta(self.folder, self.meta)

    def has_stream(self, name: str) -> bool:
        return name in self._streams

    @property
    def n_samples(self) -> int:
        """Samples safely on disk, over all streams."""
        return sum(s.n_samples for s in self._streams.values())

    def stream_samples(self, name: str) -> int:
        return self._streams[name].n_samples

    def append(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None = None, stream: str = "imu") -> None:
        """Queue IMU samples (SI, sensor frame). Samples not after the stream's last time are dropped (duplicates)."""
        s = self._stream(stream)
        t = np.atleast_1d(np.asarray(t, float))
        values = np.asarray(acc, float).reshape(len(t), 3)
        if s.k == 6:
            if gyr is None:
                raise RecordingError(f"{self.folder}: stream {stream!r} expects gyroscope samples")
            values = np.hstack((values, np.asarray(gyr, float).reshape(len(t), 3)))
        self.append_values(stream, t, values)

    def append_values(self, stream: str, t: np.ndarray, values: np.ndarray, *, any_order: bool = False) -> None:
        """Queue samples of any stream: ``values[:, j]`` is channel ``j + 1`` of the stream. Samples not after
        the stream's last time are dropped as duplicates, unless ``any_order`` (then they are stored, and put in
        order when the recording is compacted or recovered)."""
        s = self._stream(stream)
        t = np.atleast_1d(np.asarray(t, float))
        values = np.asarray(values, float).reshape(len(t), s.k)
        keep = np.ones(len(t), bool) if any_order else t > s.last_t
        if not keep.all():
            t, values = t[keep], values[keep]
        if len(t) == 0:
            return
        order = np.argsort(t, kind="stable")
        t, values = t[order], values[order]
        s.last_t = max(s.last_t, float(t[-1]))
        s.pending_t.append(t)
        s.pending_v.append(values)
        if time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def _stream(self, name: str) -> _StreamLog:
        if self.closed:
            raise RecordingError(f"{self.folder}: recording already closed")
        try:
            return self._streams[name]
        except KeyError:
            raise RecordingError(f"{self.folder}: no stream named {name!r}") from None

    def mark_gap(self, start_s: float, end_s: float, reason: str, stream: str = "imu") -> None:
        """Record a stretch without samples (e.g. a disconnect); written and synced at once."""
        event = {"type": "gap", "start_s": start_s, "end_s": end_s, "reason": reason, "stream": stream}
        self._events.write(json.dumps(event) + "\n")
        self._events.flush()
        os.fsync(self._events.fileno())

    def note_lost(self, stream: str, n: int) -> None:
        """Count samples a device sent that never arrived (kept in the stream's metadata on close)."""
        s = self._streams[stream]
        s.info = dataclasses.replace(s.info, lost_samples=s.info.lost_samples + int(n))

    def flush(self) -> None:
        """Write each stream's queued samples as one checksummed record and sync it to disk."""
        if self.failed:
            raise RecordingError(self.failed)
        self._last_flush = time.monotonic()
        for s in self._streams.values():
            if not s.pending_t:
                continue
            t = np.concatenate(s.pending_t)
            v = np.concatenate(s.pending_v)
            s.pending_t.clear()
            s.pending_v.clear()
            try:
                s.log.write(encode_record(t, v))
                s.log.flush()
                os.fsync(s.log.fileno())
            except OSError as exc:
                self.failed = (
                    f"{self.folder}: cannot write samples ({exc.strerror}); everything before "
                    f"t={t[0]:.2f} s is safe on disk"
                )
                raise RecordingError(self.failed) from None
            s.n_samples += len(t)

    def close(self) -> Path:
        """Flush, compact the logs into columnar files, mark the recording complete. Safe to call twice."""
        if self.closed:
            return self.folder
        if self.failed:  # keep the logs as they are: loading recovers everything that reached the disk
            for s in self._streams.values():
                with contextlib.suppress(OSError):
                    s.log.close()
            self._events.close()
            self.closed = True
            return self.folder
        self.flush()
        for s in self._streams.values():
            s.log.close()
        self._events.close()
        self.closed = True
        if self._streams.get("imu") is None or self._streams["imu"].n_samples < 2:
            return self.folder  # nothing to compact: the logs stay and say what little arrived
        self.meta = self.meta.replace(streams=tuple(s.info for s in self._streams.values()))
        write_meta(self.folder, self.meta)
        rec = load_folder(self.folder)  # reads the logs we just wrote (and the gap events)
        save(rec, self.folder, overwrite=True)
        for s in self._streams.values():
            (self.folder / f"{s.info.name}.log").unlink(missing_ok=True)
        (self.folder / EVENTS_FILE).unlink(missing_ok=True)
        return self.folder

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
