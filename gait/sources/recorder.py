"""Record live sources into one crash-safe recording on a shared clock.

Sources (BLE sessions, replays) run concurrently and hand sample blocks and events to the recorder, which
writes each block as it comes (flushed to disk at least every second), marks gaps, counts losses, and reports
a status every second. It stops at the requested duration, on ``stop`` (Ctrl-C) or when every source has
ended, and always closes the recording: nothing already received is lost. A source that acknowledges what it
receives (the phone receiver) gets ``durable_emit``: it writes an item and syncs the log before returning.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gait.errors import DeviceError
from gait.recording.meta import DeviceInfo, RecordingMeta
from gait.recording.writer import RecordingWriter
from gait.sources.blocks import SampleBlock, SourceEvent

Emit = Callable[[SampleBlock | SourceEvent], None]
RATE_WINDOW_S = 1.0


class LiveSource(Protocol):
    stream: str

    async def run(self, stop: asyncio.Event, emit: Emit, clock0: float) -> None: ...


@dataclass
class StreamStatus:
    connected: bool = False
    samples: int = 0
    lost: int = 0
    gaps: int = 0
    battery: float | None = None
    rate_hz: float = 0.0  # samples per second over the last second (or the status interval, when longer)
    message: str = ""
    device: str = ""


@dataclass
class RecorderStatus:
    elapsed_s: float
    streams: dict[str, StreamStatus]
    extra: dict[str, object] = field(default_factory=dict)  # filled by the caller's hooks (e.g. live cadence)


@dataclass
class RecordResult:
    folder: Path
    duration_s: float
    streams: dict[str, StreamStatus]
    errors: list[str]
    stopped_by: str  # duration | stop | sources ended | error


class Recorder:
    def __init__(self, folder: Path | str, meta: RecordingMeta, *, flush_interval_s: float = 1.0) -> None:
        self.folder = Path(folder)
        self.meta = meta
        self.flush_interval_s = flush_interval_s
        self.sources: list[LiveSource] = []
        self.on_block: list[Callable[[SampleBlock], None]] = []  # hooks, e.g. a live analyzer
        self.writer: RecordingWriter | None = None
        self.streams: dict[str, StreamStatus] = {}
        self.errors: list[str] = []
        self._failed = False  # a source could not start: stop everything (the user asked for all of them)
        self._hooked: dict[str, float] = {}  # per stream: the newest time handed to the hooks

    def add(self, source: LiveSource) -> LiveSource:
        self.sources.append(source)
        self.streams[source.stream] = StreamStatus()
        return source

    def _handle(self, item: SampleBlock | SourceEvent, writer: RecordingWriter) -> None:
        st = self.streams.setdefault(item.stream, StreamStatus())
        if isinstance(item, SampleBlock):
            self._samples(item, writer, st)
        else:
            self._event(item, writer, st)

    def _samples(self, block: SampleBlock, writer: RecordingWriter, st: StreamStatus) -> None:
        if not writer.has_stream(block.stream):
            return  # samples before the stream was announced cannot happen with our sources; ignore
        writer.append_values(block.stream, block.t, block.values, any_order=not block.ordered)
        if block.lost_before:
            writer.note_lost(block.stream, block.lost_before)
            st.lost += block.lost_before
        st.samples += block.n
        newer = block.t > self._hooked.get(block.stream, -math.inf)  # hooks (live views) see time go forward
        if newer.any():
            self._hooked[block.stream] = float(block.t[newer][-1])
            if not newer.all():
                block = dataclasses.replace(block, t=block.t[newer], values=block.values[newer])
            for hook in self.on_block:
                hook(block)

    def _event(self, ev: SourceEvent, writer: RecordingWriter, st: StreamStatus) -> None:
        if ev.kind == "connected":
            st.connected, st.message, st.device = True, "", ev.message
            if ev.stream_info is not None and not writer.has_stream(ev.stream):
                writer.add_stream(ev.stream_info)
                if ev.stream == "imu" and ev.device is not None:
                    self._set_device(writer, ev.device)
        elif ev.kind == "disconnected":
            st.connected, st.message = False, ev.message
        elif ev.kind == "reconnecting":
            st.message = ev.message
        elif ev.kind == "gap" and math.isfinite(ev.start_s) and math.isfinite(ev.end_s):
            writer.mark_gap(ev.start_s, ev.end_s, ev.message, stream=ev.stream)
            st.gaps += 1
        elif ev.kind == "battery":
            st.battery = ev.value
        elif ev.kind == "error":
            st.connected, st.message = False, ev.message
            self.errors.append(ev.message)
            self._failed = True
        elif ev.kind == "ended":
            st.connected, st.message = False, "ended"

    def _write_now(self, item: SampleBlock | SourceEvent, writer: RecordingWriter) -> None:
        """Handle an item at once and sync it to disk (raises RecordingError when the disk refuses)."""
        self._handle(item, writer)
        writer.flush()

    def _set_device(self, writer: RecordingWriter, device: DeviceInfo) -> None:
        from gait.recording.meta import write_meta

        writer.meta = writer.meta.replace(device=device)
        write_meta(writer.folder, writer.meta)

    async def run(
        self,
        duration_s: float | None = None,
        stop: asyncio.Event | None = None,
        on_status: Callable[[RecorderStatus], None] | None = None,
        status_every_s: float = 1.0,
    ) -> RecordResult:
        if not self.sources:
            raise DeviceError("nothing to record: no sources")
        stop = stop or asyncio.Event()
        writer = RecordingWriter(self.folder, self.meta, streams=(), flush_interval_s=self.flush_interval_s)
        self.writer = writer
        queue: asyncio.Queue[SampleBlock | SourceEvent] = asyncio.Queue()
        clock0 = time.monotonic()
        for source in self.sources:
            if hasattr(source, "durable_emit"):
                source.durable_emit = lambda item: self._write_now(item, writer)  # type: ignore[attr-defined]
        tasks = [asyncio.create_task(s.run(stop, queue.put_nowait, clock0)) for s in self.sources]
        rates = _Rates(self.streams, clock0)
        try:
            while (stopped_by := self._why_stop(clock0, duration_s, stop, tasks, queue)) is None:
                with contextlib.suppress(TimeoutError):
                    item = await asyncio.wait_for(queue.get(), timeout=0.1)
                    self._handle(item, writer)
                    self._drain(queue, writer)
                now = time.monotonic()
                if on_status is not None and now - rates.last_status >= status_every_s:
                    rates.update(self.streams, now)
                    on_status(RecorderStatus(now - clock0, self.streams))
        finally:
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            try:
                self._drain(queue, writer)
            finally:
                writer.close()  # even when the disk failed: the logs are closed and keep what was written
        self._check(results, writer)
        return RecordResult(self.folder, time.monotonic() - clock0, self.streams, self.errors, stopped_by)

    def _why_stop(
        self,
        clock0: float,
        duration_s: float | None,
        stop: asyncio.Event,
        tasks: list[asyncio.Task],
        queue: asyncio.Queue,
    ) -> str | None:
        """Why recording ends now (duration, stop, error, sources ended), or ``None`` to go on."""
        if duration_s is not None and time.monotonic() - clock0 >= duration_s:
            return "duration"
        if stop.is_set() or self._failed:
            return "error" if self._failed else "stop"
        if all(t.done() for t in tasks) and queue.empty():
            return "error" if self.errors else "sources ended"
        return None

    def _drain(self, queue: asyncio.Queue, writer: RecordingWriter) -> None:
        while not queue.empty():
            self._handle(queue.get_nowait(), writer)

    def _check(self, results: list[object], writer: RecordingWriter) -> None:
        """Device failures become errors (a recording with no IMU samples at all is removed and refused); a bug
        in a source surfaces, after the recording was closed."""
        for r in results:
            if isinstance(r, DeviceError):
                self.errors.append(str(r))
            elif isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                raise r
        imu_samples = writer.stream_samples("imu") if writer.has_stream("imu") else 0
        if imu_samples == 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise DeviceError("; ".join(self.errors) or "no samples were received from the sensor")


class _Rates:
    """Samples per second per stream, over at least ``RATE_WINDOW_S``: a steady rate even when the status comes
    ten times a second."""

    def __init__(self, streams: dict[str, StreamStatus], clock0: float) -> None:
        self.last_status = self.last_rate = clock0
        self.last_samples = {k: 0 for k in streams}

    def update(self, streams: dict[str, StreamStatus], now: float) -> None:
        if now - self.last_rate >= RATE_WINDOW_S:
            for k, st in streams.items():
                st.rate_hz = (st.samples - self.last_samples.get(k, 0)) / (now - self.last_rate)
                self.last_samples[k] = st.samples
            self.last_rate = now
        self.last_status = now
