"""WitMotion BLE 5.0 IMUs (WT901BLECL 5.0, BWT901BLE5.0 and the same register family).

The sensor streams 20-byte ``55 61`` packets (acceleration, angular rate, Euler angles as int16) as soon as
notifications are on; several packets may share one notification and a packet may be split across two.
There is no timestamp: samples are timed by arrival and the nominal rate. The UUIDs use a non-standard base
(``...00805f9a34fb``). Spec: firmware_specs/witmotion_ble5.json.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gait.constants import G0
from gait.sources.ble.devices.base import DEG, Driver, Frame
from gait.sources.ble.link import GattLink

SERVICE = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE = "0000ffe9-0000-1000-8000-00805f9a34fb"

PACKET = 20
HEADER = b"\x55\x61"
RATE_CODES = {10.0: 0x06, 50.0: 0x08, 100.0: 0x09}  # 200 Hz: documented inconsistently (0x0A or 0x0B), not used
ACC_G, GYRO_DPS, ANGLE_DEG = 16.0, 2000.0, 180.0


def rate_command(rate_hz: float) -> bytes:
    return bytes((0xFF, 0xAA, 0x03, RATE_CODES[rate_hz], 0x00))


def decode_packets(data: bytes) -> tuple[np.ndarray, int]:
    """Every whole ``55 61`` packet in ``data`` -> (array (n, 9): acc g, gyro deg/s, angles deg; bytes used).

    Bytes before a header are skipped (resynchronisation); an incomplete packet at the end is left for the next
    notification (``bytes used`` stops before it)."""
    buf = np.frombuffer(data, np.uint8)
    starts = np.flatnonzero((buf[:-1] == 0x55) & (buf[1:] == 0x61)) if len(buf) > 1 else np.zeros(0, int)
    chosen: list[int] = []
    nxt = 0
    for s in starts:  # packets cannot overlap; a loop over packets (a handful per notification), not samples
        if s >= nxt and s + PACKET <= len(buf):
            chosen.append(int(s))
            nxt = int(s) + PACKET
    tail = [int(s) for s in starts if s >= nxt and s + PACKET > len(buf)]
    used = tail[0] if tail else len(buf) - (1 if len(buf) and buf[-1] == 0x55 else 0)
    if not chosen:
        return np.zeros((0, 9)), used
    idx = np.array(chosen)[:, None] + 2 + np.arange(18)[None, :]
    raw = buf[idx].reshape(len(chosen), 9, 2).astype(np.int16)
    words = (raw[:, :, 0].astype(np.uint16) | (raw[:, :, 1].astype(np.uint16) << 8)).view(np.int16).astype(float)
    scale = np.repeat([ACC_G, GYRO_DPS, ANGLE_DEG], 3) / 32768.0
    return words * scale, used


def encode_packet(acc_g: np.ndarray, gyr_dps: np.ndarray, angle_deg: np.ndarray) -> bytes:
    """Packets for emulation: rows of acc (g), gyro (deg/s), angles (deg) -> concatenated 20-byte packets."""
    vals = np.hstack((acc_g / ACC_G, gyr_dps / GYRO_DPS, angle_deg / ANGLE_DEG)) * 32768.0
    words = np.clip(np.round(vals), -32768, 32767).astype("<i2")
    head = np.tile(np.frombuffer(HEADER, np.uint8), (len(words), 1))
    return np.hstack((head, words.view(np.uint8).reshape(len(words), 18))).tobytes()


class WitMotionDriver(Driver):
    family = "witmotion"
    label = "WitMotion BLE 5.0"
    service_uuid = SERVICE
    name_prefixes = ("WT",)
    device_clock = False
    rates_hz = tuple(RATE_CODES)
    default_rate_hz = 100.0

    def reset(self) -> None:
        self._buffer = b""

    def on_notify(self, data: bytes, emit: Callable[[Frame], None]) -> None:
        buf = self._buffer + data
        values, used = decode_packets(buf)
        self._buffer = buf[used:][-PACKET:]
        if len(values):
            emit(Frame(values=np.hstack((values[:, 0:3] * G0, values[:, 3:6] * DEG))))

    async def start(self, link: GattLink, emit: Callable[[Frame], None]) -> None:
        self.reset()
        await link.subscribe(NOTIFY, self.guard(lambda data: self.on_notify(data, emit)))
        await link.write(WRITE, rate_command(self.rate_hz), response=False)
