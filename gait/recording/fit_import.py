"""Garmin FIT activity files: the watch's running dynamics as a second opinion beside gait's own numbers.

Decoding is fitdecode's (a maintained FIT reader): chained files (several FIT files one after the other, as a
triathlon watch writes them), developer fields, compressed timestamp headers and every file's CRC. This module
only picks what gait needs:

* ``record`` messages (about one per second): ``timestamp`` (s since 1989-12-31 UTC), ``cadence`` (for running,
  *cycles* per minute, i.e. strides of one foot: steps/min = 2 x (cadence + fractional_cadence)), ``distance``
  (m), ``enhanced_speed``/``speed`` (m/s), ``vertical_oscillation`` (mm), ``stance_time`` (ground contact, ms),
  ``stance_time_balance`` (%, 50 = even; Garmin shows it as the left foot's share), ``step_length`` (mm), the
  native ``power`` (W) and the developer fields a Stryd pod adds, ``Power`` and ``Form Power`` (W).
* the same records' ``position_lat``/``position_long`` (semicircles), ``enhanced_altitude``/``altitude`` (m; on
  most running watches from the barometer) with the speed and distance, as a ``watch_location`` stream (the
  run's speed and grade, ``gait.analysis.terrain``).
* ``session`` messages (one per leg of a multisport activity): ``sport``/``sub_sport`` and the leg's time span.
  Running (road, trail, treadmill, track, ...) and walking sessions are read; in a multisport file only the
  running legs. A file with neither is refused naming its sport: a cyclist's cadence is pedal revolutions, not
  steps. ``sport`` messages stand in when a file has no session.

A FIT file holds no raw sacral IMU samples: it makes a recording with a ``watch`` stream only, or one attached
to an IMU recording of the same run (``attach_watch``).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import fitdecode
import numpy as np

from gait.errors import RecordingError
from gait.recording.limits import MAX_FIT_BYTES, open_regular, read_bytes
from gait.recording.location_import import location_data, with_streams
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
    "power_w",
    "form_power_w",
)
RUNNING, WALKING = "running", "walking"

#: record fields read by name (fitdecode applies the profile's scale: values arrive in the units named above)
_RECORD_FIELDS = frozenset({
    "timestamp", "cadence", "fractional_cadence", "distance", "speed", "enhanced_speed", "vertical_oscillation",
    "stance_time", "stance_time_balance", "step_length", "power", "position_lat", "position_long", "altitude",
    "enhanced_altitude",
})  # fmt: skip
SEMICIRCLE_DEG = 180.0 / 2**31  # FIT positions are in semicircles
LOCATION_STREAM = "watch_location"
#: developer fields by their declared name (lower case) -> key; a Stryd pod declares these
_DEV_FIELDS = {"power": "dev_power", "form power": "form_power"}


@dataclass(frozen=True)
class FitSession:
    """One session of a FIT file (a leg of a multisport activity): its sport and time span in FIT seconds."""

    sport: str
    sub_sport: str
    start: float | None
    end: float | None

    @property
    def label(self) -> str:
        sub = self.sub_sport if self.sub_sport not in ("", "generic", "all") else ""
        return f"{self.sport} ({sub.replace('_', ' ')})" if sub else self.sport

    def holds(self, t: np.ndarray) -> np.ndarray:
        lo = -np.inf if self.start is None else self.start
        hi = np.inf if self.end is None else self.end
        return (t >= lo) & (t <= hi)


@dataclass(frozen=True)
class FitContents:
    """What gait reads from a FIT file: record messages (dicts of scaled values, FIT seconds) and sessions."""

    records: list[dict[str, float]]
    sessions: list[FitSession]
    sports: list[FitSession]  # from ``sport`` messages (no time span), used when there is no session
    n_files: int


def is_fit(path: Path) -> bool:
    try:
        with open_regular(path, MAX_FIT_BYTES, "the FIT file") as f:
            head = f.read(12)
    except (OSError, RecordingError):
        return False
    return len(head) == 12 and head[8:12] == b".FIT"


def _name(value: object) -> str:
    """An enum value as fitdecode renders it (a name, or the number when the profile does not know it)."""
    return "" if value is None else str(value)


def _time(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _record(frame: fitdecode.FitDataMessage) -> dict[str, float]:
    """A record message's numbers by name (the fields gait reads, and a Stryd pod's developer fields)."""
    rec: dict[str, float] = {}
    for field in frame.fields:
        value = field.value
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if field.field_def is not None and field.field_def.is_dev:
            key = _DEV_FIELDS.get(str(field.name or "").strip().lower())
            if key is not None:
                rec[key] = float(value)
        elif field.name in _RECORD_FIELDS:
            rec[field.name] = float(value)
    return rec


def _session(frame: fitdecode.FitDataMessage) -> FitSession:
    """A session or sport message: its sport and time span (the end from the elapsed time when it is later)."""
    values = {f.name: f.value for f in frame.fields if f.name}
    start = _time(values.get("start_time"))
    end = _time(values.get("timestamp"))
    elapsed = _time(values.get("total_elapsed_time"))
    if start is not None and elapsed is not None:
        end = max(end or 0.0, start + elapsed)
    return FitSession(_name(values.get("sport")), _name(values.get("sub_sport")), start, end)


def _damage(exc: Exception, where: str, n_files: int) -> RecordingError:
    """What went wrong reading a FIT file, in one line."""
    if isinstance(exc, fitdecode.FitCRCError):
        return RecordingError(f"{where}: FIT file is corrupt (CRC check failed)")
    if isinstance(exc, fitdecode.FitEOFError):
        return RecordingError(f"{where}: truncated FIT file (it ends inside a message)")
    if isinstance(exc, fitdecode.FitHeaderError):
        if n_files and "not a FIT file" in str(exc):
            return RecordingError(f"{where}: unexpected bytes after FIT file {n_files} (not a FIT header)")
        return RecordingError(f"{where}: truncated or damaged FIT header ({str(exc).splitlines()[0]})")
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return RecordingError(f"{where}: malformed FIT data ({detail[:120]})")


def decode_fit(buf: bytes, where: str = "FIT file") -> FitContents:
    """Records, sessions and sports of a (possibly chained) FIT file; any damage is one RecordingError line."""
    if len(buf) < 12 or buf[8:12] != b".FIT":
        raise RecordingError(f"{where}: not a FIT file (no '.FIT' signature)")
    records: list[dict[str, float]] = []
    sessions: list[FitSession] = []
    sports: list[FitSession] = []
    n_files = 0
    reader = fitdecode.FitReader(
        io.BytesIO(buf),
        processor=fitdecode.DataProcessorBase(),  # raw numbers: timestamps stay FIT seconds, no datetime objects
        check_crc=fitdecode.CrcCheck.RAISE,
        error_handling=fitdecode.ErrorHandling.IGNORE,  # a developer field without its description is skipped
    )
    try:
        for frame in reader:
            if isinstance(frame, fitdecode.FitHeader):
                n_files += 1
            if not isinstance(frame, fitdecode.FitDataMessage):
                continue
            if frame.name == "record" and "timestamp" in (rec := _record(frame)):
                records.append(rec)
            elif frame.name in ("session", "sport"):
                (sessions if frame.name == "session" else sports).append(_session(frame))
    except (fitdecode.FitError, AssertionError, struct.error, KeyError, IndexError, ValueError, TypeError) as exc:
        raise _damage(exc, where, n_files) from None
    finally:
        reader.close()
    return FitContents(records, sessions, sports, n_files)


def select_legs(contents: FitContents, where: str) -> tuple[list[dict[str, float]], str, str]:
    """The records gait reads (running legs; walking ones when the file has no running), the activity, and a
    note saying which legs were used. Refuses files with neither, naming their sport."""
    legs = contents.sessions or contents.sports
    if not legs:
        return contents.records, RUNNING, "no sport recorded: taken as running"
    running = [s for s in legs if s.sport == RUNNING]
    walking = [s for s in legs if s.sport == WALKING]
    chosen, activity = (running, RUNNING) if running else (walking, WALKING)
    if not chosen:
        sports = list(dict.fromkeys(s.label for s in legs))
        what = f"a {sports[0]} activity" if len(sports) == 1 else f"an activity of {', '.join(sports)}"
        raise RecordingError(f"{where}: {what}, not running or walking (gait reads running and walking sessions only)")
    if len(legs) == 1 or not contents.sessions:
        return contents.records, activity, chosen[0].label
    t = np.array([r["timestamp"] for r in contents.records])
    keep = np.zeros(len(t), bool)
    for s in chosen:
        keep |= s.holds(t)
    numbers = [str(i + 1) for i, s in enumerate(legs) if s in chosen]
    others = sorted({s.label for s in legs if s not in chosen})
    note = (
        f"multisport: {activity} leg{'s' if len(numbers) > 1 else ''} {' and '.join(numbers)} of {len(legs)} used"
        + (f" (left out: {', '.join(others)})" if others else "")
    )
    return [r for r, k in zip(contents.records, keep, strict=True) if k], activity, note


def watch_stream(records: list[dict[str, float]], t0_unix: float) -> StreamData:
    """Records -> the ``watch`` stream (units named in the channels), time relative to ``t0_unix``."""

    def col(name: str) -> np.ndarray:
        return np.array([r.get(name, np.nan) for r in records], float)

    t = col("timestamp") + FIT_EPOCH_S - t0_unix
    frac = np.nan_to_num(col("fractional_cadence"))
    speed = col("enhanced_speed")
    speed = np.where(np.isfinite(speed), speed, col("speed"))
    power = col("dev_power")
    power = np.where(np.isfinite(power), power, col("power"))  # a Stryd pod's own figure first
    values = np.column_stack(
        (
            2.0 * (col("cadence") + frac),  # cycles (one foot) per minute -> steps per minute
            col("vertical_oscillation") / 10.0,  # mm -> cm
            col("stance_time"),
            col("stance_time_balance"),
            col("step_length") / 1000.0,  # mm -> m
            speed,
            col("distance"),
            power,
            col("form_power"),
        )
    )
    order = np.argsort(t, kind="stable")
    return StreamData(t[order], values[order], WATCH_CHANNELS)


def location_stream(records: list[dict[str, float]], t0_unix: float) -> StreamData | None:
    """Records -> the ``watch_location`` stream (None when the file has neither positions nor altitude)."""

    def col(name: str) -> np.ndarray:
        return np.array([r.get(name, np.nan) for r in records], float)

    def first(a: str, b: str) -> np.ndarray:
        x = col(a)
        return np.where(np.isfinite(x), x, col(b))

    lat, lon = col("position_lat") * SEMICIRCLE_DEG, col("position_long") * SEMICIRCLE_DEG
    alt = first("enhanced_altitude", "altitude")
    if not (np.isfinite(lat).any() or np.isfinite(alt).any()):
        return None
    t = col("timestamp") + FIT_EPOCH_S - t0_unix
    return location_data(t, lat, lon, alt, first("enhanced_speed", "speed"), distance=col("distance"))


def read_fit(path: Path | str) -> Recording:
    """A FIT activity as a recording holding only the watch's running dynamics (no raw IMU samples)."""
    path = Path(path)
    try:
        buf = read_bytes(path, MAX_FIT_BYTES, "the FIT file")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror})") from None
    contents = decode_fit(buf, str(path))
    if not contents.records:
        raise RecordingError(f"{path}: no record messages (is this an activity file?)")
    records, activity, note = select_legs(contents, str(path))
    if not records:
        raise RecordingError(f"{path}: no record messages inside the {activity} sessions")
    t0 = min(r["timestamp"] for r in records) + FIT_EPOCH_S
    watch = watch_stream(records, t0)
    start = datetime.fromtimestamp(t0, UTC).replace(tzinfo=None).isoformat() + "Z"
    empty = ImuData(t=np.zeros(0), acc=np.zeros((0, 3)), gyr=None)
    chained = f", {contents.n_files} chained FIT files" if contents.n_files > 1 else ""
    meta = RecordingMeta(
        title=path.stem,
        start_utc=start,
        device=DeviceInfo(name="Garmin FIT"),
        placement="other",
        streams=(
            StreamInfo(
                n_samples=0, has_gyro=False, clock="file", channels=("t_s", "acc_x_ms2", "acc_y_ms2", "acc_z_ms2")
            ),
            watch_info(len(watch.t), activity),
        ),
        source="fit-import",
        source_detail=f"{path.name}: {len(records)} records, {note}{chained} (running dynamics only, no raw IMU "
        "samples)",
    )
    rec = Recording(meta=meta, imu=empty, path=path, extra={WATCH_STREAM: watch})
    located = location_stream(records, t0)
    return with_streams(rec, {LOCATION_STREAM: located}, "watch (FIT)") if located is not None else rec


def watch_info(n: int, activity: str = RUNNING) -> StreamInfo:
    return StreamInfo(
        name=WATCH_STREAM, kind="watch", file="watch.arrow", rate_hz=1.0, channels=WATCH_CHANNELS,
        frame="", clock="file", has_gyro=False, n_samples=n, placement="wrist", activity=activity,
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
    activity = fit.meta.stream(WATCH_STREAM).activity or RUNNING
    dropped = (WATCH_STREAM, LOCATION_STREAM)
    streams = tuple(s for s in recording.meta.streams if s.name not in dropped) + (watch_info(len(w.t), activity),)
    meta = recording.meta.replace(
        streams=streams, notes=(recording.meta.notes + f" Watch data from {fit.path}.").strip()
    )
    extra = {k: v for k, v in recording.extra.items() if k not in dropped} | {WATCH_STREAM: shifted}
    out = Recording(meta=meta, imu=recording.imu, path=None, extra=extra)
    loc = fit.extra.get(LOCATION_STREAM)
    if loc is None:
        return out
    return with_streams(out, {LOCATION_STREAM: StreamData(loc.t + (t_fit - t_rec), loc.values, loc.channels)},
                        "watch (FIT)")  # fmt: skip
