"""What every device driver provides: UUIDs, start/stop, and decoding of notifications into frames.

A driver's decoding is made of pure functions (``bytes -> values``) tested against the vendors' vectors in
``firmware_specs/``; the driver object adds only the state a protocol needs (reassembly, scale factors from a
start response, the previous frame's timestamp).
"""

from __future__ import annotations

import contextlib
import math
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gait.errors import DeviceError
from gait.recording.meta import IMU_CHANNELS, RSC_CHANNELS, DeviceInfo
from gait.sources.ble.link import BATTERY_LEVEL, FIRMWARE_REVISION, MANUFACTURER_NAME, MODEL_NUMBER, GattLink

DEG = np.pi / 180.0


@dataclass(frozen=True)
class Frame:
    """Samples decoded from one notification (or a reassembled pair).

    ``device_t``: seconds on the sensor's own clock per sample, or None when the sensor sends no timestamps
    (the session then times samples by arrival). ``values``: (n, k) in SI, columns = the driver's channels[1:].
    ``seq``: the packet sequence number, where the protocol has one.
    """

    values: np.ndarray
    device_t: np.ndarray | None = None
    seq: int | None = None

    @property
    def n(self) -> int:
        return len(self.values)


class Driver(ABC):
    """One device family. Subclasses set the class attributes and implement ``start``/``stop``."""

    family: ClassVar[str]
    label: ClassVar[str]
    service_uuid: ClassVar[str]
    name_prefixes: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = "imu"  # "imu" or "rsc"
    device_clock: ClassVar[bool] = True  # False: no timestamps, samples are timed by arrival
    rates_hz: ClassVar[tuple[float, ...]] = ()
    default_rate_hz: ClassVar[float] = 0.0

    def __init__(self, rate_hz: float | None = None) -> None:
        rate = float(rate_hz or self.default_rate_hz)
        if self.rates_hz and rate not in self.rates_hz:
            choices = ", ".join(f"{r:g}" for r in self.rates_hz)
            raise DeviceError(f"{self.label}: rate {rate:g} Hz not supported (choose from {choices})")
        self.rate_hz = rate
        self.has_gyro = True
        self.info = DeviceInfo(name=self.label, manufacturer="", model="")
        self.bad_frames = 0  # notifications that could not be decoded (counted, never fatal)
        self.last_error = ""  # the latest problem the sensor reported or a frame showed
        self.reset()

    def guard(self, handler: Callable[[bytes], None]) -> Callable[[bytes], None]:
        """Wrap a notification handler so a malformed frame is counted instead of breaking the link's loop."""

        def safe(data: bytes) -> None:
            try:
                handler(bytes(data))
            except (DeviceError, ValueError, IndexError, struct.error) as exc:
                self.bad_frames += 1
                self.last_error = str(exc)

        return safe

    @property
    def channels(self) -> tuple[str, ...]:
        if self.kind == "rsc":
            return RSC_CHANNELS
        return IMU_CHANNELS if self.has_gyro else IMU_CHANNELS[:4]

    @abstractmethod
    async def start(self, link: GattLink, emit: Callable[[Frame], None]) -> None:
        """Subscribe and start streaming; decoded frames go to ``emit``. Called again after each reconnect."""

    async def stop(self, link: GattLink) -> None:  # noqa: B027 - optional: most sensors stop when the link goes
        """Ask the sensor to stop streaming (best effort: the link may already be gone)."""

    def reset(self) -> None:  # noqa: B027 - optional: only stateful protocols need it
        """Forget per-connection state (a half-received packet, the last timestamp) before a reconnect."""

    def finish(self, emit: Callable[[Frame], None]) -> None:  # noqa: B027 - optional: nothing held by default
        """Emit whatever is still held back (e.g. a packet waiting for a second part that will not come)."""

    async def describe(self, link: GattLink) -> DeviceInfo:
        """Device Information Service fields where the sensor has them."""
        fields = {}
        for key, uuid in (
            ("model", MODEL_NUMBER),
            ("firmware", FIRMWARE_REVISION),
            ("manufacturer", MANUFACTURER_NAME),
        ):
            if link.has(uuid):
                with contextlib.suppress(DeviceError):
                    fields[key] = (await link.read(uuid)).decode("utf-8", "replace").strip("\x00 ")
        self.info = DeviceInfo(
            name=link.name or self.label,
            model=fields.get("model", self.label),
            manufacturer=fields.get("manufacturer", ""),
            firmware=fields.get("firmware", ""),
            address=link.address,
        )
        return self.info

    @staticmethod
    async def battery(link: GattLink) -> int | None:
        """Battery level in % from the standard Battery Service, if the sensor has one."""
        if not link.has(BATTERY_LEVEL):
            return None
        try:
            data = await link.read(BATTERY_LEVEL)
        except DeviceError:
            return None
        return int(data[0]) if data else None


def need(data: bytes, n: int, what: str) -> None:
    """Raise a DeviceError naming the frame when ``data`` is shorter than ``n`` bytes."""
    if len(data) < n:
        raise DeviceError(f"{what}: frame of {len(data)} bytes is too short (need {n})")


class SampleClock:
    """Per-sample device times from coarse packet stamps (e.g. whole milliseconds).

    A sensor samples at a steady rate, so the stamps of a continuous stream lie on a line ``t = c + p * k``
    (k = sample number) up to their rounding. The line is fitted by running least squares and each packet's
    samples are read off it, which removes the rounding jitter; a stamp further off than the rounding allows
    (lost packets, a restart) starts a new line.
    """

    def __init__(self, rate_hz: float, resolution_s: float) -> None:
        self.nominal = 1.0 / rate_hz
        self.tolerance = 1.5 * resolution_s
        self.k = 0
        self._restart(float("nan"))

    def _restart(self, stamp_s: float) -> None:
        self.anchor_t, self.anchor_k = stamp_s, self.k
        self._n = 0
        self._sums = np.zeros(4)  # sum x, sum y, sum xx, sum xy (x = k - anchor_k, y = t - anchor_t)

    def _line(self) -> tuple[float, float]:
        """(intercept, period) relative to the anchor: the nominal period until the stretch is long enough."""
        n, (sx, sy, sxx, sxy) = self._n, self._sums
        if n >= 10 and sxx * n - sx * sx > 0 and (sx / n) * self.nominal > 2.0:
            p = (n * sxy - sx * sy) / (n * sxx - sx * sx)
            p = float(np.clip(p, 0.99 * self.nominal, 1.01 * self.nominal))
            return (sy - p * sx) / n, p
        return (sy - self.nominal * sx) / n if n else 0.0, self.nominal

    def times(self, stamp_s: float, n: int) -> np.ndarray:
        c, p = self._line()
        x = self.k - self.anchor_k
        if math.isnan(self.anchor_t) or abs(stamp_s - (self.anchor_t + c + p * x)) > self.tolerance:
            self._restart(stamp_s)
            c, p, x = 0.0, self.nominal, 0
        y = stamp_s - self.anchor_t
        self._sums += (x, y, x * x, x * y)
        self._n += 1
        c, p = self._line()
        self.k += n
        return self.anchor_t + c + p * (x + np.arange(n))
