"""One sensor for the length of a recording: find it, connect, start its stream, and when the link drops,
reconnect with back-off, start again and report the gap. A disconnect is expected, not exceptional.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from gait.errors import DeviceError
from gait.recording.meta import DeviceInfo, StreamInfo
from gait.sources.ble.devices import identify
from gait.sources.ble.devices.base import Driver, Frame
from gait.sources.ble.link import Advert, GattLink, Radio
from gait.sources.blocks import SampleBlock, SourceEvent
from gait.sources.timing import StreamTimer

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
Emit = Callable[[SampleBlock | SourceEvent], None]


@dataclass
class SessionStatus:
    stream: str
    device: str
    connected: bool = False
    samples: int = 0
    lost: int = 0
    dropped: int = 0
    bad_frames: int = 0
    reconnects: int = 0
    battery: int | None = None
    message: str = ""


def match_advert(target: str, adverts: list[Advert]) -> Advert | None:
    """The advert a user means by ``target``: an address, an exact name, a name prefix, or a family name."""
    t = target.strip().lower()
    for a in adverts:
        if a.address.lower() == t or a.name.lower() == t:
            return a
    found = [a for a in adverts if a.name.lower().startswith(t)]
    if not found:
        found = [a for a in adverts if (d := identify(a)) is not None and d.family == t]
    if len(found) > 1:
        names = ", ".join(f"{a.name} ({a.address})" for a in found)
        raise DeviceError(f"{target!r} matches several sensors: {names}; give the full name or the address")
    return found[0] if found else None


class DeviceSession:
    """Streams one sensor into ``emit`` (sample blocks and events) until ``stop`` is set."""

    def __init__(
        self,
        radio: Radio,
        target: str,
        driver: Driver,
        stream: str = "imu",
        placement: str = "sacrum",
        *,
        scan_timeout_s: float = 4.0,
        connect_timeout_s: float = 10.0,
        first_attempts: int = 3,
        battery_every_s: float = 60.0,
        backoff_s: tuple[float, ...] = BACKOFF_S,
    ) -> None:
        self.radio = radio
        self.target = target
        self.driver = driver
        self.stream = stream
        self.placement = placement
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.first_attempts = first_attempts
        self.battery_every_s = battery_every_s
        self.backoff_s = backoff_s
        self.status = SessionStatus(stream, target)
        self.timer: StreamTimer | None = None
        self._emit: Emit = lambda item: None
        self._clock0 = 0.0
        self._gap_start = math.nan
        self._last_t = math.nan
        self._gap_attempts = 0
        self.advert: Advert | None = None  # known from an earlier scan; rescanned after a failed connect

    # -- frames -> blocks -----------------------------------------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        assert self.timer is not None
        jumps = self.timer.clock_jumps
        blocks = self.timer.push(frame, time.monotonic() - self._clock0)
        at = self.timer.jump_at_s
        if self.timer.clock_jumps != jumps and math.isfinite(at):
            # the time line continues seamlessly, but mark the seam: timing across it rests on the sample rate
            message = f"sensor clock jumped {self.timer.last_jump_s:+.1f} s; re-synchronised"
            start = at - 1.0 / self.driver.rate_hz
            self._emit(SourceEvent(self.stream, "gap", start_s=start, end_s=at, message=message))
        for block in blocks:
            self._deliver(block)

    def _deliver(self, block: SampleBlock) -> None:
        if not math.isnan(self._gap_start):
            if block.t[0] > self._gap_start:
                self._emit(
                    SourceEvent(
                        self.stream,
                        "gap",
                        start_s=self._gap_start,
                        end_s=float(block.t[0]),
                        message=f"disconnected; reconnected after {self._gap_attempts} attempt(s)",
                    )
                )
            self._gap_start = math.nan
        self.status.samples += block.n
        self.status.lost += block.lost_before
        self._last_t = float(block.t[-1]) + 1.0 / self.driver.rate_hz  # where the next sample is due
        self._emit(block)

    def _flush(self) -> None:
        if self.timer is not None:
            for block in self.timer.flush():
                self._deliver(block)
            self.status.dropped = self.timer.dropped

    # -- connection lifecycle -------------------------------------------------------------------------------------
    async def _find(self) -> Advert:
        if self.advert is not None:
            return self.advert
        adverts = await self.radio.scan(self.scan_timeout_s)
        advert = match_advert(self.target, adverts)
        if advert is None:
            seen = ", ".join(a.name or a.address for a in adverts if identify(a)) or "no supported sensors"
            raise DeviceError(f"sensor {self.target!r} not found (in range: {seen})")
        self.advert = advert
        return advert

    def stream_info(self) -> StreamInfo:
        d = self.driver
        return StreamInfo(
            name=self.stream,
            kind=d.kind,
            file=f"{self.stream}.arrow",
            rate_hz=d.rate_hz,
            channels=d.channels,
            clock="device" if d.device_clock else "host",
            has_gyro=d.kind == "imu" and d.has_gyro,
            placement=self.placement,
            device=f"{d.info.name} ({d.info.address})",
        )

    async def _connect(self, link: GattLink) -> DeviceInfo:
        await link.connect(self.connect_timeout_s)
        info = await self.driver.describe(link)
        self.driver.reset()
        await self.driver.start(link, self._on_frame)
        if self.timer is None:
            self.timer = StreamTimer(self.stream, self.driver.channels, self.driver.rate_hz, self.driver.device_clock)
        else:
            self.timer.reconnected()
        return info

    async def run(self, stop: asyncio.Event, emit: Emit, clock0: float) -> None:
        self._emit, self._clock0 = emit, clock0
        attempt = 0
        ever_connected = False
        while not stop.is_set():
            dropped = asyncio.Event()
            try:
                link, info = await self._open(dropped)
            except DeviceError as exc:
                if not ever_connected and attempt + 1 >= self.first_attempts:
                    emit(SourceEvent(self.stream, "error", message=str(exc)))
                    return
                emit(SourceEvent(self.stream, "reconnecting", message=str(exc)))
                self._gap_attempts += 1
                await _wait(stop, self.backoff_s[min(attempt, len(self.backoff_s) - 1)])
                attempt += 1
                continue
            attempt = 0
            self._connected(info, again=ever_connected)
            ever_connected = True
            await self._stream(link, dropped, stop)
            if stop.is_set():
                if link.is_connected:
                    await _quietly(self.driver.stop(link))
                await _quietly(link.disconnect())
                break
            self._dropped()
        self.status.connected = False

    async def _open(self, dropped: asyncio.Event) -> tuple[GattLink, DeviceInfo]:
        """Find the sensor and connect (one at a time per radio); a failure is one ``DeviceError``."""
        link: GattLink | None = None
        try:
            async with self.radio.connect_lock:
                advert = await self._find()
                link = self.radio.link(advert)
                link.on_disconnect(dropped.set)
                return link, await self._connect(link)
        except DeviceError as exc:
            if link is not None:
                await _quietly(link.disconnect())
            self.advert = None  # the device may have moved on (new address object): scan again
            self.status.message = str(exc)
            raise

    def _connected(self, info: DeviceInfo, again: bool) -> None:
        self.status.connected, self.status.device = True, f"{info.name} ({info.address})"
        self.status.message = ""
        if again:
            self.status.reconnects += 1
        self._emit(
            SourceEvent(
                self.stream, "connected", message=self.status.device, stream_info=self.stream_info(), device=info
            )
        )

    async def _stream(self, link: GattLink, dropped: asyncio.Event, stop: asyncio.Event) -> None:
        """Samples flow (through the notification callback) until the link drops or we stop; battery now and then."""
        await self._poll_battery(link)
        while not stop.is_set() and not dropped.is_set():
            waiter = asyncio.ensure_future(dropped.wait())
            stopper = asyncio.ensure_future(stop.wait())
            done, pending = await asyncio.wait(
                {waiter, stopper}, timeout=self.battery_every_s, return_when=asyncio.FIRST_COMPLETED
            )
            for p in pending:
                p.cancel()
            if not done:
                await self._poll_battery(link)
        self.driver.finish(self._on_frame)
        self._flush()
        self.status.bad_frames = self.driver.bad_frames

    def _dropped(self) -> None:
        """The link went: the gap starts after the last sample, and reconnecting starts."""
        self.status.connected = False
        self._gap_start = self._last_t if not math.isnan(self._last_t) else time.monotonic() - self._clock0
        self._gap_attempts = 1
        self._emit(
            SourceEvent(
                self.stream, "disconnected", message="link lost; reconnecting", start_s=time.monotonic() - self._clock0
            )
        )

    async def _poll_battery(self, link: GattLink) -> None:
        level = await self.driver.battery(link)
        if level is not None:
            self.status.battery = level
            self._emit(SourceEvent(self.stream, "battery", value=float(level)))


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _quietly(coro: object) -> None:
    with contextlib.suppress(DeviceError, TimeoutError, OSError):
        await asyncio.wait_for(coro, timeout=2.0)  # type: ignore[arg-type]
