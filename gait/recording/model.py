"""In-memory recording: metadata plus SI samples in the sensor frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gait.errors import RecordingError
from gait.recording.meta import RecordingMeta, StreamInfo


@dataclass(frozen=True)
class ImuData:
    """Samples of one IMU: time in s from the recording start, specific force in m/s^2 (gravity included,
    about +9.81 along "up" when still), angular rate in rad/s; all in the sensor's own axes."""

    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.t.ndim != 1 or self.acc.shape != (len(self.t), 3):
            raise RecordingError(f"IMU arrays have inconsistent shapes: t {self.t.shape}, acc {self.acc.shape}")
        if self.gyr is not None and self.gyr.shape != self.acc.shape:
            raise RecordingError(f"IMU gyro shape {self.gyr.shape} does not match acc {self.acc.shape}")

    @property
    def n(self) -> int:
        return len(self.t)

    @property
    def has_gyro(self) -> bool:
        return self.gyr is not None

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if self.n > 1 else 0.0

    @property
    def rate_hz(self) -> float:
        dt = np.diff(self.t)
        dt = dt[dt > 0]
        return float(1.0 / np.median(dt)) if len(dt) else float("nan")


@dataclass(frozen=True)
class StreamData:
    """Samples of a stream other than the analysed IMU (a second IMU, a foot pod): ``values[:, j]`` is channel
    ``channels[j + 1]`` (``channels[0]`` is ``t_s``), in the unit its name says."""

    t: np.ndarray
    values: np.ndarray
    channels: tuple[str, ...]

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.channels.index(name) - 1]


@dataclass(frozen=True)
class Recording:
    """A loaded recording. ``recovered`` is True when it was rebuilt from a crash log (not closed cleanly).

    ``imu`` is the stream named "imu" (the sensor gait analyses); ``extra`` holds any other streams by name."""

    meta: RecordingMeta
    imu: ImuData
    path: Path | None = None
    recovered: bool = False
    notes: tuple[str, ...] = field(default=())  # load-time remarks (e.g. rows dropped by an importer)
    extra: dict[str, StreamData] = field(default_factory=dict)

    @property
    def name(self) -> str:
        if self.meta.title:
            return self.meta.title
        if self.path is not None:
            return self.path.name
        return self.meta.id

    @classmethod
    def from_arrays(
        cls,
        t: np.ndarray,
        acc: np.ndarray,
        gyr: np.ndarray | None = None,
        *,
        meta: RecordingMeta | None = None,
        **meta_fields: object,
    ) -> Recording:
        """Build a recording from SI arrays (sensor frame). Extra keyword arguments set metadata fields."""
        t = np.asarray(t, dtype=float)
        acc = np.asarray(acc, dtype=float)
        gyr = None if gyr is None else np.asarray(gyr, dtype=float)
        imu = ImuData(t=t, acc=acc, gyr=gyr)
        base = meta or RecordingMeta()
        stream = StreamInfo(
            rate_hz=round(imu.rate_hz, 3),
            has_gyro=gyr is not None,
            n_samples=imu.n,
            clock=base.streams[0].clock if base.streams else "device",
        )
        base = base.replace(streams=(stream,), **meta_fields)
        return cls(meta=base, imu=imu)
