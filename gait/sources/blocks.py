"""What every live source yields: blocks of samples on the session clock, and events (connect, gap, battery)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.recording.meta import DeviceInfo, StreamInfo


@dataclass(frozen=True)
class SampleBlock:
    """Consecutive samples of one stream.

    ``t``: seconds on the session clock (0 = when recording started; device timestamps mapped to it where the
    sensor has them, host receive time otherwise). ``values[:, j]``: channel ``channels[j + 1]`` in SI, sensor
    frame (IMU: acc m/s^2 with gravity, gyro rad/s). ``lost_before``: samples the device sent just before this
    block that never arrived (from its timestamps or sequence numbers). ``ordered``: False when the block may
    hold samples older than ones already handed over (a phone's late message): stored, sorted at compaction.
    """

    stream: str
    t: np.ndarray
    values: np.ndarray
    channels: tuple[str, ...]
    lost_before: int = 0
    ordered: bool = True

    @property
    def n(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class SourceEvent:
    """Something a live source reports besides samples.

    kind: ``connected`` (with ``stream_info`` and ``device``), ``disconnected``, ``reconnecting``, ``gap``
    (``start_s``..``end_s`` on the session clock), ``battery`` (``value`` %), ``info`` (``message``), ``error``
    (``message``; the source gave up), ``ended`` (a finite source such as a replay has no more samples).
    """

    stream: str
    kind: str
    message: str = ""
    start_s: float = float("nan")
    end_s: float = float("nan")
    value: float = float("nan")
    stream_info: StreamInfo | None = None
    device: DeviceInfo | None = None
