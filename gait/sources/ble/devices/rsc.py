"""Bluetooth SIG Running Speed and Cadence (service 0x1814): foot pods and some watches/straps.

RSC Measurement (0x2A53) notifications: ``u8 flags, u16 speed (1/256 m/s), u8 cadence (1/min)``, then
``u16 stride length (cm)`` if flag bit 0 and ``u32 total distance (dm)`` if bit 1; bit 2 = running. Stored as a
second stream beside the IMU: a second opinion on cadence, and the speed and distance a sacral IMU cannot
measure. The standard counts cadence per foot with the sensor, many devices send steps per minute: values that
are only plausible per foot while running (below 110) are doubled. Spec: firmware_specs/sig_rsc.json.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gait.sources.ble.devices.base import Driver, Frame, need
from gait.sources.ble.link import GattLink, uuid16

SERVICE = uuid16(0x1814)
MEASUREMENT = uuid16(0x2A53)
FEATURE = uuid16(0x2A54)
PER_FOOT_BELOW_SPM = 110.0


@dataclass(frozen=True)
class RscMeasurement:
    speed_mps: float
    cadence_per_min: int
    stride_length_m: float | None
    distance_m: float | None
    running: bool


def decode_measurement(data: bytes) -> RscMeasurement:
    need(data, 4, "RSC measurement")
    flags = data[0]
    speed, cadence = struct.unpack_from("<HB", data, 1)
    i = 4
    stride = distance = None
    if flags & 0x01:
        need(data, i + 2, "RSC measurement")
        stride = struct.unpack_from("<H", data, i)[0] / 100.0
        i += 2
    if flags & 0x02:
        need(data, i + 4, "RSC measurement")
        distance = struct.unpack_from("<I", data, i)[0] / 10.0
    return RscMeasurement(speed / 256.0, cadence, stride, distance, bool(flags & 0x04))


def encode_measurement(m: RscMeasurement) -> bytes:
    flags = (0x01 if m.stride_length_m is not None else 0) | (0x02 if m.distance_m is not None else 0)
    flags |= 0x04 if m.running else 0
    out = struct.pack("<BHB", flags, round(m.speed_mps * 256), m.cadence_per_min)
    if m.stride_length_m is not None:
        out += struct.pack("<H", round(m.stride_length_m * 100))
    if m.distance_m is not None:
        out += struct.pack("<I", round(m.distance_m * 10))
    return out


def steps_per_minute(m: RscMeasurement) -> float:
    """Cadence in steps/min, doubling a per-foot value while running."""
    c = float(m.cadence_per_min)
    return 2 * c if m.running and 0 < c < PER_FOOT_BELOW_SPM else c


class RscDriver(Driver):
    family = "rsc"
    label = "Running Speed and Cadence sensor"
    service_uuid = SERVICE
    kind = "rsc"
    device_clock = False
    default_rate_hz = 1.0  # about one measurement per second

    def on_notify(self, data: bytes, emit: Callable[[Frame], None]) -> None:
        m = decode_measurement(data)
        nan = float("nan")
        row = [
            m.speed_mps,
            steps_per_minute(m),
            nan if m.stride_length_m is None else m.stride_length_m,
            nan if m.distance_m is None else m.distance_m,
        ]
        emit(Frame(values=np.array([row])))

    async def start(self, link: GattLink, emit: Callable[[Frame], None]) -> None:
        await link.subscribe(MEASUREMENT, self.guard(lambda data: self.on_notify(data, emit)))
