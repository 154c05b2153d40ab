"""A phone's location and barometer readings in a live session, as the recording's ``location`` and ``baro``
streams (``gait.recording.location_import`` for their channels). They are written as soon as the phone's IMU has
fixed the clock offset (usually with the message that brought them, so an acknowledged reading is on disk), in
any order: the recording sorts them when it is compacted, as it does the phone's late IMU messages."""

from __future__ import annotations

import dataclasses

import numpy as np

from gait.recording.location_import import baro_data, location_data
from gait.recording.meta import DeviceInfo, baro_info, location_info
from gait.sources.blocks import SampleBlock, SourceEvent
from gait.sources.phone.common import PhoneImu

#: Sensor Logger's push fields, in the order of a location stream's channels after ``t_s``
LOCATION_FIELDS = ("latitude", "longitude", "altitude", "speed", "distance", "horizontalAccuracy",
                   "verticalAccuracy", "speedAccuracy")  # fmt: skip
BARO_FIELDS = ("pressure", "relativeAltitude")


class PhoneTerrain:
    """Collect location (n, 8: ``LOCATION_FIELDS``) and barometer (n, 2: ``BARO_FIELDS``) readings in phone
    seconds; ``release`` hands them out on the session clock once the clock offset is known."""

    def __init__(self, imu: PhoneImu) -> None:
        self.imu = imu
        self.pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"location": [], "baro": []}
        self.connected: set[str] = set()
        self.released = {"location": 0, "baro": 0}

    def add(self, stream: str, t: np.ndarray, values: np.ndarray) -> None:
        if len(t):
            self.pending[stream].append((np.asarray(t, float), np.asarray(values, float)))

    def release(self) -> list[SampleBlock | SourceEvent]:
        clock = self.imu.clock
        if not self.imu.connected or not np.isfinite(clock.offset):
            return []  # the offset is not fixed yet (or there never was an IMU): keep waiting
        out: list[SampleBlock | SourceEvent] = []
        for stream, parts in self.pending.items():
            if not parts:
                continue
            t = np.concatenate([p[0] for p in parts])
            v = np.vstack([p[1] for p in parts])
            self.pending[stream] = []
            tt, vv = clock.map(t), v
            if stream == "location":
                lat, lon, alt, speed, dist, hacc, vacc, sacc = vv.T
                data = location_data(tt, lat, lon, alt, speed, hacc, vacc, sacc, distance=dist)
            else:
                data = baro_data(tt, vv[:, 0], vv[:, 1])
            if data is None:
                continue
            if stream not in self.connected:
                self.connected.add(stream)
                make = location_info if stream == "location" else baro_info
                info = make(stream, 0, 1.0, self.imu.device.name)
                info = dataclasses.replace(info, clock="device")
                device = DeviceInfo(name=self.imu.device.name, address=self.imu.device.address)
                out.append(SourceEvent(stream, "connected", self.imu.device.name, stream_info=info, device=device))
            out.append(SampleBlock(stream, data.t, data.values, data.channels, ordered=False))
            self.released[stream] += len(data.t)
        return out
