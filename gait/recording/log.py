"""Append-only, checksummed sample log: the crash-safe half of a recording.

Layout (little-endian)::

    header : b"GAITLOG1" | u32 header_len | header_len bytes of UTF-8 JSON {"stream", "channels"}
    record : b"REC1" | u32 n_samples | u32 payload_len | u32 crc32(payload) | payload
    payload: n float64 timestamps, then n x (channels-1) float32 values, row-major

A record is written with a single ``write`` and followed by flush + fsync, so after ``kill -9`` (or a power
cut) every record but possibly the last is intact; the reader keeps records up to the first torn or corrupt
one and reports how many bytes it had to ignore. It reads record by record (a huge or sparse file costs only
what its intact records hold) and refuses more than ``MAX_SAMPLES`` samples.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from gait.errors import RecordingError
from gait.recording.limits import MAX_SAMPLES, create_new, open_regular

MAGIC = b"GAITLOG1"
REC_MAGIC = b"REC1"
_REC_HEAD = struct.Struct("<4sIII")
MAX_HEADER = 1 << 16


@dataclass(frozen=True)
class LogContents:
    channels: tuple[str, ...]
    t: np.ndarray
    values: np.ndarray  # (n, len(channels) - 1), float64
    n_records: int
    ignored_bytes: int  # bytes after the last intact record (a torn write or corruption)


def open_log(path: Path, stream: str, channels: tuple[str, ...]) -> BinaryIO:
    """Create a new log file (exclusively, never through a link) and write its header."""
    header = json.dumps({"stream": stream, "channels": list(channels)}).encode()
    f = create_new(path)
    f.write(MAGIC + struct.pack("<I", len(header)) + header)
    f.flush()
    os.fsync(f.fileno())
    return f


def encode_record(t: np.ndarray, values: np.ndarray) -> bytes:
    payload = np.ascontiguousarray(t, dtype="<f8").tobytes() + np.ascontiguousarray(values, dtype="<f4").tobytes()
    return _REC_HEAD.pack(REC_MAGIC, len(t), len(payload), zlib.crc32(payload)) + payload


def read_log(path: Path) -> LogContents:
    """Read every intact record of a log; raise only when the header itself is unusable."""
    try:
        f = open_regular(path, 1 << 62, "sample log")  # any size: it is read record by record
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read sample log ({exc.strerror})") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(12)
        if len(head) < 12 or head[:8] != MAGIC:
            raise RecordingError(f"{path}: not a gait sample log (bad header)")
        (hlen,) = struct.unpack_from("<I", head, 8)
        try:
            header = json.loads(f.read(min(hlen, MAX_HEADER)).decode()) if hlen <= MAX_HEADER else None
            channels = tuple(header["channels"])  # type: ignore[index]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
            raise RecordingError(f"{path}: sample log header is corrupt") from None
        k = len(channels) - 1
        pos = 12 + hlen
        ts: list[np.ndarray] = []
        vs: list[np.ndarray] = []
        n_records = n_samples = 0
        while True:
            head = f.read(_REC_HEAD.size)
            if len(head) < _REC_HEAD.size:
                break
            magic, n, plen, crc = _REC_HEAD.unpack(head)
            if magic != REC_MAGIC or plen != n * (8 + 4 * k) or pos + _REC_HEAD.size + plen > size:
                break
            payload = f.read(plen)
            if len(payload) < plen or zlib.crc32(payload) != crc:
                break
            n_samples += n
            if n_samples > MAX_SAMPLES:
                raise RecordingError(f"{path}: holds more than {MAX_SAMPLES} samples (the limit for one stream)")
            ts.append(np.frombuffer(payload, dtype="<f8", count=n))
            vs.append(np.frombuffer(payload, dtype="<f4", offset=8 * n).reshape(n, k))
            pos += _REC_HEAD.size + plen
            n_records += 1
    t = np.concatenate(ts) if ts else np.zeros(0)
    values = np.concatenate(vs).astype(float) if vs else np.zeros((0, k))
    return LogContents(channels, t, values, n_records, size - pos)
