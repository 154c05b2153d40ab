"""Garmin FIT activity files: the watch's running dynamics as a second opinion beside gait's own numbers.

A small decoder of the documented FIT binary format (file header, definition and data messages, compressed
timestamp headers; developer fields are skipped, the file CRC is checked). Only ``record`` messages (global
number 20) are read, one per second or so, so the per-message loop is cheap even for long runs.

Profile facts used (FIT SDK profile, ``record``): ``timestamp`` (253, s since 1989-12-31 UTC), ``cadence`` (4,
uint8, for running *cycles* per minute, i.e. strides of one foot; steps/min = 2 x (cadence + fractional_cadence)),
``fractional_cadence`` (53, /128), ``distance`` (5, /100 m), ``speed`` (6, /1000 m/s), ``enhanced_speed`` (73,
/1000 m/s), ``vertical_oscillation`` (39, /10 mm), ``stance_time`` (41, /10 ms; ground contact time),
``stance_time_balance`` (84, /100 %; 50 % = even; Garmin shows it as the left foot's share), ``step_length``
(85, /10 mm). A FIT file holds no raw sacral IMU samples: it makes a recording with a ``watch`` stream only, or
one attached to an IMU recording of the same run (``attach_watch``).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from gait.errors import RecordingError
from gait.recording.meta import DeviceInfo, RecordingMeta, StreamInfo
from gait.recording.model import ImuData, Recording, StreamData

FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
WATCH_STREAM = "watch"
WATCH_CHANNELS: tuple[str, ...] = (
    "t_s",
    "cadence_spm",
    "vertical_oscillation_cm",
    "contact_time_ms",
    "contact_balance_pct",
    "step_length_m",
    "speed_mps",
    "distance_m",
)

# base type -> (struct code, size, invalid value)
_BASE = {
    0x00: ("B", 1, 0xFF), 0x01: ("b", 1, 0x7F), 0x02: ("B", 1, 0xFF), 0x83: ("h", 2, 0x7FFF),
    0x84: ("H", 2, 0xFFFF), 0x85: ("i", 4, 0x7FFFFFFF), 0x86: ("I", 4, 0xFFFFFFFF), 0x88: ("f", 4, None),
    0x89: ("d", 8, None), 0x0A: ("B", 1, 0), 0x8B: ("H", 2, 0), 0x8C: ("I", 4, 0), 0x8E: ("q", 8, None),
    0x8F: ("Q", 8, None), 0x90: ("Q", 8, 0),
}  # fmt: skip
RECORD = 20
# record field number -> (name, scale)
_RECORD_FIELDS = {
    253: ("timestamp", 1.0), 4: ("cadence", 1.0), 53: ("fractional_cadence", 128.0), 5: ("distance", 100.0),
    6: ("speed", 1000.0), 73: ("enhanced_speed", 1000.0), 39: ("vertical_oscillation", 10.0),
    41: ("stance_time", 10.0), 84: ("stance_time_balance", 100.0), 85: ("step_length", 10.0),
}  # fmt: skip


def _byte_table() -> tuple[int, ...]:
    """CRC-16 (reflected polynomial 0xA001, as the FIT protocol's nibble table) for every byte value."""
    table = []
    for b in range(256):
        crc = b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _byte_table()


def fit_crc(data: bytes, crc: int = 0) -> int:
    """The FIT file CRC-16: one table lookup per byte (a FIT file is small: ~25 bytes per second of activity)."""
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def is_fit(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[8:12] == b".FIT"


def decode_records(buf: bytes, where: str = "FIT file") -> list[dict[str, float]]:
    """The ``record`` messages of a FIT file as dicts of scaled values (invalid fields left out)."""
    if len(buf) < 14 or buf[8:12] != b".FIT":
        raise RecordingError(f"{where}: not a FIT file (no '.FIT' signature)")
    header = buf[0]
    if header not in (12, 14):
        raise RecordingError(f"{where}: unexpected FIT header size {header}")
    data_size = struct.unpack_from("<I", buf, 4)[0]
    end = header + data_size
    if len(buf) < end + 2:
        raise RecordingError(f"{where}: truncated FIT file ({len(buf)} bytes, header says {end + 2})")
    if fit_crc(buf[: end + 2]) != 0:
        raise RecordingError(f"{where}: FIT file is corrupt (CRC check failed)")
    defs: dict[int, tuple[int, str, list[tuple[int, int, int]], int]] = {}
    out: list[dict[str, float]] = []
    pos, last_ts = header, None
    try:
        while pos < end:
            h = buf[pos]
            pos += 1
            ts = None
            if h & 0x80:  # compressed timestamp header: 5-bit offset on the last full timestamp
                local, offset = (h >> 5) & 0x3, h & 0x1F
                if last_ts is None:
                    raise RecordingError(f"{where}: compressed timestamp before any full timestamp")
                ts = (last_ts & ~0x1F) + offset + (0x20 if offset < (last_ts & 0x1F) else 0)
                last_ts = ts
            elif h & 0x40:  # definition message
                local = h & 0x0F
                endian = ">" if buf[pos + 1] == 1 else "<"
                gnum = struct.unpack_from(endian + "H", buf, pos + 2)[0]
                n = buf[pos + 4]
                pos += 5
                fields = [(buf[pos + 3 * i], buf[pos + 3 * i + 1], buf[pos + 3 * i + 2]) for i in range(n)]
                pos += 3 * n
                dev = 0
                if h & 0x20:  # developer fields: sizes only (skipped)
                    nd = buf[pos]
                    dev = sum(buf[pos + 1 + 3 * i + 1] for i in range(nd))
                    pos += 1 + 3 * nd
                defs[local] = (gnum, endian, fields, dev)
                continue
            else:
                local = h & 0x0F
            if local not in defs:
                raise RecordingError(f"{where}: data message {local} at byte {pos - 1} has no definition")
            gnum, endian, fields, dev = defs[local]
            values: dict[str, float] = {}
            for num, size, base in fields:
                code = _BASE.get(base)
                if code is not None and size == code[1]:
                    raw = struct.unpack_from(endian + code[0], buf, pos)[0]
                    if num == 253:
                        last_ts = int(raw)
                    if gnum == RECORD and num in _RECORD_FIELDS and raw != code[2]:
                        name, scale = _RECORD_FIELDS[num]
                        values[name] = raw / scale
                pos += size
            pos += dev
            if gnum == RECORD:
                if ts is not None:
                    values["timestamp"] = float(ts)
                if "timestamp" in values:
                    out.append(values)
    except (IndexError, struct.error):
        raise RecordingError(f"{where}: truncated or malformed FIT message at byte {pos}") from None
    return out


def watch_stream(records: list[dict[str, float]], t0_unix: float) -> StreamData:
    """Records -> the ``watch`` stream (SI-ish units named in the channels), time relative to ``t0_unix``."""

    def col(name: str) -> np.ndarray:
        return np.array([r.get(name, np.nan) for r in records], float)

    t = col("timestamp") + FIT_EPOCH_S - t0_unix
    cad = col("cadence")
    frac = np.nan_to_num(col("fractional_cadence"))
    speed = col("enhanced_speed")
    speed = np.where(np.isfinite(speed), speed, col("speed"))
    values = np.column_stack(
        (
            2.0 * (cad + frac),  # cycles (one foot) per minute -> steps per minute
            col("vertical_oscillation") / 10.0,  # mm -> cm
            col("stance_time"),
            col("stance_time_balance"),
            col("step_length") / 1000.0,  # mm -> m
            speed,
            col("distance"),
        )
    )
    order = np.argsort(t, kind="stable")
    return StreamData(t[order], values[order], WATCH_CHANNELS)


def read_fit(path: Path | str) -> Recording:
    """A FIT activity as a recording holding only the watch's running dynamics (no raw IMU samples)."""
    path = Path(path)
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror})") from None
    records = decode_records(buf, str(path))
    if not records:
        raise RecordingError(f"{path}: no record messages (is this an activity file?)")
    t0 = records[0]["timestamp"] + FIT_EPOCH_S
    watch = watch_stream(records, t0)
    start = datetime.fromtimestamp(t0, UTC).replace(tzinfo=None).isoformat() + "Z"
    empty = ImuData(t=np.zeros(0), acc=np.zeros((0, 3)), gyr=None)
    meta = RecordingMeta(
        title=path.stem,
        start_utc=start,
        device=DeviceInfo(name="Garmin FIT"),
        placement="other",
        streams=(
            StreamInfo(
                n_samples=0, has_gyro=False, clock="file", channels=("t_s", "acc_x_ms2", "acc_y_ms2", "acc_z_ms2")
            ),
            watch_info(len(watch.t)),
        ),
        source="fit-import",
        source_detail=f"{path.name}: {len(records)} records (running dynamics only, no raw IMU samples)",
    )
    return Recording(meta=meta, imu=empty, path=path, extra={WATCH_STREAM: watch})


def watch_info(n: int) -> StreamInfo:
    return StreamInfo(
        name=WATCH_STREAM, kind="watch", file="watch.arrow", rate_hz=1.0, channels=WATCH_CHANNELS,
        frame="", clock="file", has_gyro=False, n_samples=n, placement="wrist",
    )  # fmt: skip


def attach_watch(recording: Recording, fit: Recording) -> Recording:
    """Put a FIT file's watch stream beside an IMU recording of the same run, aligned by UTC start times."""
    if not recording.meta.start_utc or not fit.meta.start_utc:
        raise RecordingError(f"{recording.name}: no start time to align the FIT file with")
    t_rec = datetime.fromisoformat(recording.meta.start_utc.replace("Z", "+00:00")).timestamp()
    t_fit = datetime.fromisoformat(fit.meta.start_utc.replace("Z", "+00:00")).timestamp()
    w = fit.extra[WATCH_STREAM]
    shifted = StreamData(w.t + (t_fit - t_rec), w.values, w.channels)
    overlap = (shifted.t >= 0) & (shifted.t <= recording.imu.t[-1])
    if not overlap.any():
        raise RecordingError(f"{fit.path}: the FIT file does not overlap the recording {recording.name} in time")
    streams = tuple(s for s in recording.meta.streams if s.name != WATCH_STREAM) + (watch_info(len(w.t)),)
    meta = recording.meta.replace(
        streams=streams, notes=(recording.meta.notes + f" Watch data from {fit.path}.").strip()
    )
    return Recording(meta=meta, imu=recording.imu, path=None, extra={**recording.extra, WATCH_STREAM: shifted})
