"""Recording metadata: what a recording says about itself (device, placement, streams, units, clock, subject).

Serialised as ``meta.json`` beside the sample files; see ``recordings/README.md`` for the specification.
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gait.errors import RecordingError
from gait.recording.limits import MAX_JSON_BYTES, parse_json, read_bytes, write_atomic

FORMAT_NAME = "gait-recording"
FORMAT_VERSION = 1

#: Channels of an IMU stream on disk, with their units (names carry the unit, see the spec).
IMU_CHANNELS: tuple[str, ...] = (
    "t_s",
    "acc_x_ms2",
    "acc_y_ms2",
    "acc_z_ms2",
    "gyr_x_rads",
    "gyr_y_rads",
    "gyr_z_rads",
)

#: Channels of a Running Speed and Cadence stream (a foot pod: a second opinion beside the IMU, and speed).
RSC_CHANNELS: tuple[str, ...] = ("t_s", "speed_mps", "cadence_spm", "stride_length_m", "distance_m")
_UNITS = {"speed_mps": "m/s", "cadence_spm": "1/min", "stride_length_m": "m", "distance_m": "m"}
#: a watch's running dynamics (FIT import, stream "watch")
_UNITS.update(vertical_oscillation_cm="cm", contact_time_ms="ms", contact_balance_pct="%", step_length_m="m")
_UNITS.update(power_w="W", form_power_w="W")  # running power (a Stryd pod or the watch)

#: Channels of a ``location`` stream (a phone's or watch's position fixes, about one a second); NaN where the
#: source has none. Speed is the source's own (Doppler) ground speed; accuracies are the source's one-sigma radii.
LOCATION_CHANNELS: tuple[str, ...] = (
    "t_s",
    "latitude_deg",
    "longitude_deg",
    "altitude_m",
    "speed_mps",
    "distance_m",
    "horizontal_accuracy_m",
    "vertical_accuracy_m",
    "speed_accuracy_mps",
)
#: Channels of a ``baro`` stream (a barometer): pressure, and the altitude change since the start the source
#: derived from it itself (NaN when it gives none; gait derives its own from the pressure).
BARO_CHANNELS: tuple[str, ...] = ("t_s", "pressure_hpa", "altitude_m")
_UNITS.update(latitude_deg="deg", longitude_deg="deg", altitude_m="m", horizontal_accuracy_m="m")
_UNITS.update(vertical_accuracy_m="m", speed_accuracy_mps="m/s", pressure_hpa="hPa")
#: channel names older versions wrote, read under today's name (``_ms`` once also meant metres per second)
RENAMED_CHANNELS = {"speed_ms": "speed_mps"}

PLACEMENTS = (
    "sacrum",
    "lower_back",
    "waist_belt",
    "left_shoe",
    "right_shoe",
    "shoe",
    "front_pocket",
    "arm_band",
    "hand",
    "chest",
    "other",
)


def utc_now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class DeviceInfo:
    """The sensor that produced the samples."""

    name: str = "unknown"
    model: str = ""
    manufacturer: str = ""
    firmware: str = ""
    address: str = ""
    emulated: bool = False  # True for the simulator and emulated peripherals


@dataclass(frozen=True)
class SubjectInfo:
    """Who wore the sensor. All optional; mass enables force-normalised outputs later."""

    id: str = ""
    height_cm: float | None = None
    mass_kg: float | None = None


@dataclass(frozen=True)
class StreamInfo:
    """One sample stream stored in ``file`` (Arrow IPC, columns ``channels``)."""

    name: str = "imu"
    kind: str = "imu"
    file: str = "imu.arrow"
    rate_hz: float = 0.0  # nominal rate; actual timestamps are authoritative
    channels: tuple[str, ...] = IMU_CHANNELS
    frame: str = "sensor"  # samples are in the sensor's own axes; gait aligns them to the body itself
    clock: str = "device"  # where timestamps come from: device | host | simulated | file
    has_gyro: bool = True
    n_samples: int = 0
    placement: str = ""  # where this stream's sensor was worn, when it differs per stream (several sensors)
    device: str = ""  # the sensor behind this stream (name and address), for recordings of several sensors
    lost_samples: int = 0  # samples the device sent that never arrived (from its timestamps or sequence numbers)
    #: the phone removed gravity from the accelerometer (a linear-acceleration export): the analysis estimates
    #: the vertical itself and reports only what does not need gravity measured (gait/analysis/gravity.py)
    gravity_removed: bool = False
    activity: str = ""  # what the source file declared (a FIT file's sport: running or walking)


def location_info(name: str = "location", n: int = 0, rate_hz: float = 1.0, device: str = "") -> StreamInfo:
    """A ``location`` stream's description (position fixes; see ``LOCATION_CHANNELS``)."""
    return StreamInfo(name=name, kind="location", file=f"{name}.arrow", rate_hz=rate_hz, channels=LOCATION_CHANNELS,
                      frame="", clock="file", has_gyro=False, n_samples=n, device=device)  # fmt: skip


def baro_info(name: str = "baro", n: int = 0, rate_hz: float = 1.0, device: str = "") -> StreamInfo:
    """A ``baro`` stream's description (barometer; see ``BARO_CHANNELS``)."""
    return StreamInfo(name=name, kind="baro", file=f"{name}.arrow", rate_hz=rate_hz, channels=BARO_CHANNELS,
                      frame="", clock="file", has_gyro=False, n_samples=n, device=device)  # fmt: skip


@dataclass(frozen=True)
class Gap:
    """A stretch without samples, e.g. a radio disconnect; gaps are data, not errors."""

    start_s: float
    end_s: float
    reason: str = ""
    stream: str = "imu"


@dataclass(frozen=True)
class RecordingMeta:
    """Self-description of a recording (``meta.json``)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    title: str = ""
    created_utc: str = field(default_factory=utc_now_iso)
    start_utc: str | None = None  # wall-clock time of t = 0
    device: DeviceInfo = field(default_factory=DeviceInfo)
    placement: str = "sacrum"
    subject: SubjectInfo = field(default_factory=SubjectInfo)
    streams: tuple[StreamInfo, ...] = (StreamInfo(),)
    source: str = "unknown"  # simulator | csv-import | ble | phone | replay
    source_detail: str = ""
    synthetic: bool = False  # True when the samples were made by the simulator or an emulator
    notes: str = ""
    gaps: tuple[Gap, ...] = ()
    complete: bool = False  # True once the writer closed the recording cleanly
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    def stream(self, name: str = "imu") -> StreamInfo:
        for s in self.streams:
            if s.name == name:
                return s
        raise RecordingError(f"recording {self.id}: no stream named {name!r}")

    def replace(self, **changes: Any) -> RecordingMeta:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["streams"] = [
            {k: v for k, v in s.items() if k not in _OPTIONAL_STREAM or v != _OPTIONAL_STREAM[k]}
            | {"units": _units_for(s["channels"])}
            for s in d["streams"]
        ]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "meta.json") -> RecordingMeta:
        if d.get("format") != FORMAT_NAME:
            raise RecordingError(f"{where}: not a gait recording (format is {d.get('format')!r})")
        version = d.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise RecordingError(f"{where}: format_version must be a whole number (got {version!r:.40})")
        if version > FORMAT_VERSION:
            raise RecordingError(
                f"{where}: format version {d.get('format_version')} is newer than this gait "
                f"(reads up to {FORMAT_VERSION}); upgrade gait"
            )
        try:
            streams = tuple(
                StreamInfo(**{k: (_channels(v) if k == "channels" else v) for k, v in s.items() if k != "units"})
                for s in d.get("streams", [])
            )
            meta = cls(
                **{
                    **{k: v for k, v in d.items() if k in _SCALAR_FIELDS},
                    "device": DeviceInfo(**d.get("device", {})),
                    "subject": SubjectInfo(**d.get("subject", {})),
                    "streams": streams,
                    "gaps": tuple(Gap(**g) for g in d.get("gaps", [])),
                }
            )
        except (TypeError, AttributeError) as exc:  # a list where an object belongs, an unknown key, ...
            raise RecordingError(f"{where}: unexpected field ({str(exc).replace(chr(10), ' ')})") from None
        _check_types(meta, where)
        return meta


def _channels(names: Any) -> Any:
    """Channel names under today's names (``RENAMED_CHANNELS``); anything but a list is left to the type check."""
    return tuple(RENAMED_CHANNELS.get(c, c) for c in names) if isinstance(names, list) else names


_JSON_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "float": (int, float), "int": (int,), "bool": (bool,)}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "None":
        return value is None
    if kind not in _JSON_TYPES or (isinstance(value, bool) and kind != "bool"):
        return False
    return isinstance(value, _JSON_TYPES[kind]) and (kind != "float" or math.isfinite(value))


def _check_types(obj: Any, where: str) -> None:
    """A field of the wrong JSON type (text where a number belongs, NaN, a list for a name) would fail far
    from here, mid-analysis: name it now, in one line."""
    for f in dataclasses.fields(obj):
        value, kind = getattr(obj, f.name), str(f.type)
        if dataclasses.is_dataclass(value):
            _check_types(value, where)
            continue
        if kind.startswith("tuple["):
            inner = kind[len("tuple[") :].split(",")[0].strip()
            for v in value:
                if dataclasses.is_dataclass(v):
                    _check_types(v, where)
                elif not _type_ok(v, inner):
                    raise RecordingError(f"{where}: {f.name} holds {v!r:.40}, expected {inner}")
            continue
        if not any(_type_ok(value, k.strip()) for k in kind.split("|")):
            raise RecordingError(f"{where}: field {f.name!r} is {value!r:.40}, expected {kind}")


#: stream fields written only when set, so recordings without them stay readable by earlier versions of gait
_OPTIONAL_STREAM = {"gravity_removed": False, "activity": ""}
_SCALAR_FIELDS = {
    f.name for f in dataclasses.fields(RecordingMeta) if f.name not in {"device", "subject", "streams", "gaps"}
}


def _units_for(channels: list[str] | tuple[str, ...]) -> dict[str, str]:
    units = {}
    for c in channels:
        if c == "t_s":
            units[c] = "s"
        elif c.endswith("_ms2"):
            units[c] = "m/s^2"
        elif c.endswith("_rads"):
            units[c] = "rad/s"
        elif c in _UNITS:
            units[c] = _UNITS[c]
    return units


def write_meta(folder: Path, meta: RecordingMeta) -> None:
    """Write meta.json atomically (a fresh temporary file + rename), so a crash never leaves a half-written file
    and a link planted in the folder is never written through."""
    write_atomic(folder / "meta.json", (json.dumps(meta.to_dict(), indent=2) + "\n").encode())


def read_meta(folder: Path) -> RecordingMeta:
    path = folder / "meta.json"
    try:
        raw = read_bytes(path, MAX_JSON_BYTES, "meta.json")
    except FileNotFoundError:
        raise RecordingError(f"{folder}: not a recording folder (no meta.json)") from None
    try:
        d = parse_json(raw.decode("utf-8"), str(path))
    except UnicodeDecodeError:
        raise RecordingError(f"{path}: meta.json is not text (corrupted?)") from None
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{path}: meta.json is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(d, dict):
        raise RecordingError(f"{path}: meta.json must hold a JSON object")
    return RecordingMeta.from_dict(d, where=str(path))
