"""Play a saved recording as a live source, through the same recorder and live path as a sensor.

``speed`` 1 is real time, 10 ten times faster, ``inf`` as fast as the machine goes. Every stream of the
recording is replayed on the recording's own clock; its gaps replay as gaps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import time
from collections.abc import Callable

import numpy as np

from gait.recording.meta import IMU_CHANNELS, StreamInfo
from gait.recording.model import Recording
from gait.sources.blocks import SampleBlock, SourceEvent

Emit = Callable[[SampleBlock | SourceEvent], None]
CHUNK_S = 0.1  # one block per 100 ms of recording


class ReplaySource:
    """One stream of a recording (``imu`` or an extra stream such as ``rsc``)."""

    def __init__(self, recording: Recording, stream: str = "imu", speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.recording = recording
        self.stream = stream
        self.speed = speed
        if stream == "imu":
            imu = recording.imu
            self.t = imu.t
            self.values = imu.acc if imu.gyr is None else np.hstack((imu.acc, imu.gyr))
            self.channels = IMU_CHANNELS if imu.has_gyro else IMU_CHANNELS[:4]
        else:
            data = recording.extra[stream]
            self.t, self.values, self.channels = data.t, data.values, data.channels
        self.info = dataclasses.replace(recording.meta.stream(stream), n_samples=0, lost_samples=0)

    def stream_info(self) -> StreamInfo:
        return self.info

    async def run(self, stop: asyncio.Event, emit: Emit, clock0: float) -> None:
        meta = self.recording.meta
        emit(
            SourceEvent(
                self.stream,
                "connected",
                message=f"replay of {self.recording.name}",
                stream_info=self.info,
                device=meta.device,
            )
        )
        t = self.t
        if len(t) == 0:
            emit(SourceEvent(self.stream, "ended"))
            return
        t0 = float(t[0])
        edges = np.searchsorted(t, np.arange(t0, float(t[-1]) + CHUNK_S, CHUNK_S), side="left")
        edges = np.unique(np.append(edges, len(t)))
        gaps = [g for g in meta.gaps if g.stream == self.stream]
        for a, b in itertools.pairwise(edges):
            if stop.is_set():
                return
            if b <= a:
                continue
            due = clock0 + (float(t[b - 1]) - t0) / self.speed
            wait = due - time.monotonic()
            if math.isfinite(self.speed) and wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                    return
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(0)
            emit(SampleBlock(self.stream, t[a:b], self.values[a:b], self.channels))
            for g in [g for g in gaps if t[a] <= g.start_s < t[b - 1] + CHUNK_S]:
                emit(
                    SourceEvent(
                        self.stream,
                        "gap",
                        message=g.reason or "gap in the original recording",
                        start_s=g.start_s,
                        end_s=g.end_s,
                    )
                )
                gaps.remove(g)
        emit(SourceEvent(self.stream, "ended"))
