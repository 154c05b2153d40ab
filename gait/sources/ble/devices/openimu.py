"""gait's open IMU profile, version 1: what a DIY board or a phone app implements to stream to gait.

Service ``6a670001-6761-4974-9d6f-70656e696d75`` with three characteristics:
* Data (notify) ``...0002``: ``u8 version=1, u8 flags (bit 0: gyroscope present), u16 sequence, u32 timestamp of
  the first sample (sensor clock, microseconds, wraps), u8 n, u8 reserved``, then n samples of
  ``int16 acc x, y, z`` (``+ int16 gyro x, y, z``), little-endian.
* Config (read) ``...0004``: ``u8 version, u8 flags, u16 rate Hz, f32 acc scale (m/s^2 per count), f32 gyro scale
  (rad/s per count)``, then the supported rates as u16.
* Control (write with response) ``...0003``: ``01 <u16 rate Hz, 0 = current>`` start, ``02`` stop.
Plus the standard Device Information and Battery services. Full text: firmware_specs/openimu.md.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gait.errors import DeviceError
from gait.sources.ble.devices.base import Driver, Frame, need
from gait.sources.ble.devices.movesense import Unwrap
from gait.sources.ble.link import GattLink

BASE = "-6761-4974-9d6f-70656e696d75"
SERVICE = "6a670001" + BASE
DATA = "6a670002" + BASE
CONTROL = "6a670003" + BASE
CONFIG = "6a670004" + BASE

VERSION = 1
FLAG_GYRO = 0x01
START, STOP = 0x01, 0x02
HEADER = struct.Struct("<BBHIBB")  # version, flags, seq, t0_us, n, reserved
CONFIG_HEAD = struct.Struct("<BBHff")


@dataclass(frozen=True)
class Config:
    rate_hz: int
    has_gyro: bool
    acc_scale: float  # m/s^2 per count
    gyro_scale: float  # rad/s per count
    rates_hz: tuple[int, ...]


def decode_config(data: bytes) -> Config:
    need(data, CONFIG_HEAD.size, "open IMU config")
    version, flags, rate, acc_scale, gyro_scale = CONFIG_HEAD.unpack_from(data)
    if version != VERSION:
        raise DeviceError(f"open IMU config: version {version} not supported (gait speaks version {VERSION})")
    rest = data[CONFIG_HEAD.size :]
    rates = struct.unpack_from(f"<{len(rest) // 2}H", rest) if len(rest) >= 2 else (rate,)
    return Config(rate, bool(flags & FLAG_GYRO), acc_scale, gyro_scale, tuple(rates))


def encode_config(c: Config) -> bytes:
    head = CONFIG_HEAD.pack(VERSION, FLAG_GYRO if c.has_gyro else 0, c.rate_hz, c.acc_scale, c.gyro_scale)
    return head + struct.pack(f"<{len(c.rates_hz)}H", *c.rates_hz)


@dataclass(frozen=True)
class Packet:
    seq: int
    t0_us: int
    counts: np.ndarray  # (n, 3 or 6) int16 counts
    has_gyro: bool


def decode_packet(data: bytes) -> Packet:
    need(data, HEADER.size, "open IMU data")
    version, flags, seq, t0, n, _ = HEADER.unpack_from(data)
    if version != VERSION:
        raise DeviceError(f"open IMU data: version {version} not supported (gait speaks version {VERSION})")
    k = 6 if flags & FLAG_GYRO else 3
    need(data, HEADER.size + 2 * k * n, "open IMU data")
    counts = np.frombuffer(data, "<i2", count=k * n, offset=HEADER.size).reshape(n, k)
    return Packet(seq, t0, counts, bool(flags & FLAG_GYRO))


def encode_packet(seq: int, t0_us: int, counts: np.ndarray) -> bytes:
    counts = np.asarray(counts, "<i2")
    flags = FLAG_GYRO if counts.shape[1] == 6 else 0
    return HEADER.pack(VERSION, flags, seq & 0xFFFF, t0_us & 0xFFFFFFFF, len(counts), 0) + counts.tobytes()


def start_command(rate_hz: int) -> bytes:
    return bytes((START,)) + struct.pack("<H", rate_hz)


def max_samples(mtu: int, has_gyro: bool) -> int:
    """How many samples fit one notification at this ATT MTU."""
    return max(1, (mtu - 3 - HEADER.size) // (12 if has_gyro else 6))


class OpenImuDriver(Driver):
    family = "openimu"
    label = "gait open IMU profile"
    service_uuid = SERVICE
    name_prefixes = ("gait-imu",)
    default_rate_hz = 104.0

    def reset(self) -> None:
        self._unwrap = Unwrap(32)
        self._config: Config | None = None

    def __init__(self, rate_hz: float | None = None) -> None:
        super().__init__(rate_hz)
        self.requested_rate = rate_hz
        self.reset()

    def on_notify(self, data: bytes, emit: Callable[[Frame], None]) -> None:
        c = self._config
        if c is None:
            return
        p = decode_packet(data)
        if len(p.counts) == 0:
            return
        if p.has_gyro != c.has_gyro:  # the stream's channels were fixed by the configuration
            has = "has" if p.has_gyro else "lacks"
            raise DeviceError(f"open IMU data: packet {has} a gyroscope, unlike the config")
        values = p.counts[:, :3] * c.acc_scale
        if p.has_gyro:
            values = np.hstack((values, p.counts[:, 3:6] * c.gyro_scale))
        t0 = self._unwrap(p.t0_us) * 1e-6
        emit(Frame(values=values.astype(float), device_t=t0 + np.arange(len(values)) / self.rate_hz, seq=p.seq))

    async def start(self, link: GattLink, emit: Callable[[Frame], None]) -> None:
        self.reset()
        config = decode_config(await link.read(CONFIG))
        rate = int(self.requested_rate or config.rate_hz)
        if rate not in config.rates_hz:
            raise DeviceError(f"{link.name}: rate {rate} Hz not supported (the sensor offers {list(config.rates_hz)})")
        self.rate_hz = float(rate)
        self.has_gyro = config.has_gyro
        self._config = config
        await link.subscribe(DATA, self.guard(lambda data: self.on_notify(data, emit)))
        await link.write(CONTROL, start_command(rate), response=True)

    async def stop(self, link: GattLink) -> None:
        await link.write(CONTROL, bytes((STOP,)), response=True)
