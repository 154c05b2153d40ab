"""Crash-safe recording writer for live sources.

Samples go to an append-only checksummed log (``imu.log``), flushed and fsync'ed at least every
``flush_interval_s`` (default 1 s); gaps go to ``events.jsonl`` immediately. ``close()`` compacts the log to
Arrow IPC and marks ``meta.json`` complete. After ``kill -9`` the folder still loads (from the log) with at most
the last flush interval missing, and ``gait recover`` compacts it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import TracebackType

import numpy as np

from gait.errors import RecordingError
from gait.recording.folder import EVENTS_FILE, load_folder, save
from gait.recording.log import encode_record, open_log
from gait.recording.meta import IMU_CHANNELS, RecordingMeta, StreamInfo, write_meta


class RecordingWriter:
    """Write an IMU stream to ``folder`` as it arrives.

    >>> with RecordingWriter("run1", meta) as w:      # doctest: +SKIP
    ...     w.append(t, acc, gyr)
    """

    def __init__(
        self,
        folder: Path | str,
        meta: RecordingMeta,
        *,
        has_gyro: bool = True,
        rate_hz: float = 0.0,
        flush_interval_s: float = 1.0,
    ) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and any(self.folder.iterdir()):
            raise RecordingError(f"{self.folder}: already exists and is not empty (choose another --out)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordingError(f"{self.folder}: cannot create recording folder ({exc.strerror})") from None
        channels = IMU_CHANNELS if has_gyro else IMU_CHANNELS[:4]
        self._stream = StreamInfo(
            rate_hz=rate_hz,
            channels=channels,
            has_gyro=has_gyro,
            clock=meta.streams[0].clock if meta.streams else "device",
        )
        self.meta = meta.replace(streams=(self._stream,), complete=False)
        self.flush_interval_s = flush_interval_s
        self._k = len(channels) - 1
        write_meta(self.folder, self.meta)
        self._log = open_log(self.folder / "imu.log", "imu", channels)
        self._events = open(self.folder / EVENTS_FILE, "a", encoding="utf-8")  # noqa: SIM115
        self._pending_t: list[np.ndarray] = []
        self._pending_v: list[np.ndarray] = []
        self._last_flush = time.monotonic()
        self._last_t = -np.inf
        self.n_samples = 0
        self.closed = False

    def append(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None = None) -> None:
        """Queue samples (SI, sensor frame). Samples not after the last written time are dropped (duplicates)."""
        if self.closed:
            raise RecordingError(f"{self.folder}: recording already closed")
        t = np.atleast_1d(np.asarray(t, float))
        values = np.asarray(acc, float).reshape(len(t), 3)
        if self._k == 6:
            if gyr is None:
                raise RecordingError(f"{self.folder}: this recording expects gyroscope samples")
            values = np.hstack((values, np.asarray(gyr, float).reshape(len(t), 3)))
        keep = t > self._last_t
        if not keep.all():
            t, values = t[keep], values[keep]
        if len(t) == 0:
            return
        order = np.argsort(t, kind="stable")
        t, values = t[order], values[order]
        self._last_t = float(t[-1])
        self._pending_t.append(t)
        self._pending_v.append(values)
        if time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def mark_gap(self, start_s: float, end_s: float, reason: str) -> None:
        """Record a stretch without samples (e.g. a disconnect); written and synced at once."""
        self._events.write(json.dumps({"type": "gap", "start_s": start_s, "end_s": end_s, "reason": reason}) + "\n")
        self._events.flush()
        os.fsync(self._events.fileno())

    def flush(self) -> None:
        """Write queued samples as one checksummed record and sync it to disk."""
        self._last_flush = time.monotonic()
        if not self._pending_t:
            return
        t = np.concatenate(self._pending_t)
        v = np.concatenate(self._pending_v)
        self._pending_t.clear()
        self._pending_v.clear()
        try:
            self._log.write(encode_record(t, v))
            self._log.flush()
            os.fsync(self._log.fileno())
        except OSError as exc:
            raise RecordingError(
                f"{self.folder}: cannot write samples ({exc.strerror}); everything before "
                f"t={t[0]:.1f} s is safe on disk"
            ) from None
        self.n_samples += len(t)

    def close(self) -> Path:
        """Flush, compact the log into the columnar file, mark the recording complete. Safe to call twice."""
        if self.closed:
            return self.folder
        self.flush()
        self._log.close()
        self._events.close()
        self.closed = True
        if self.n_samples == 0:
            return self.folder
        rec = load_folder(self.folder)  # reads the log we just wrote (and the gap events)
        save(rec, self.folder, overwrite=True)
        (self.folder / "imu.log").unlink(missing_ok=True)
        (self.folder / EVENTS_FILE).unlink(missing_ok=True)
        return self.folder

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
