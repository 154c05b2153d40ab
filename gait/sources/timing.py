"""From a sensor's frames to session-clock samples: clock mapping with drift, duplicates, reordering, losses.

Every sensor has its own clock (or none). The session clock is the host's monotonic clock, 0 when recording
started; several sensors recorded together share it. A frame's arrival is its last sample's time plus a
latency that is never negative, so the device-to-host mapping is fitted to the *lower envelope* of
``host - device`` (per-window minima), with its slope giving the sensor's drift. Corrections are slewed
(a rate change of at most 0.1 %) so mapped times stay continuous and evenly spaced.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from gait.sources.ble.devices.base import Frame
from gait.sources.blocks import SampleBlock

WINDOW_S = 2.0  # lower-envelope window
FIT_SPAN_S = 300.0  # drift is fitted over the last 5 minutes of windows
MIN_FIT_SPAN_S = 20.0
MAX_DRIFT = 2e-3  # crystals are within +-100 ppm; more means a bad fit
MAX_SLEW = 1e-3  # seconds of correction per second (a 0.1 % rate change at most)
JUMP_S = 1.0  # a frame whose device time disagrees with its arrival by more than this: the sensor's clock jumped


class DeviceClock:
    """Maps one sensor's clock (seconds) to the session clock: ``t = a + b * device_t``."""

    def __init__(self) -> None:
        self.a = math.nan
        self.b = 1.0
        self._minima: dict[int, tuple[float, float]] = {}  # window -> (device_t, host - device)
        self._first_device_t = math.nan
        self._last_update_t = math.nan

    @property
    def ready(self) -> bool:
        return not math.isnan(self.a)

    @property
    def settled(self) -> bool:
        """The first window is over: from now on the mapping only slews, so it can be used for samples."""
        return self.ready and self._last_update_t - self._first_device_t >= WINDOW_S

    def observe(self, device_t: float, host_t: float) -> None:
        """One frame: its last sample's device time and the session time it arrived."""
        lag = host_t - device_t
        if not self.ready:
            self.a, self._first_device_t, self._last_update_t = lag, device_t, device_t
        w = math.floor(device_t / WINDOW_S)
        old = self._minima.get(w)
        if old is None or lag < old[1]:
            self._minima[w] = (device_t, lag)
        if device_t - self._first_device_t < WINDOW_S:
            # the first window: take a lower arrival at once (samples wait until it is over, see StreamTimer)
            self.a = min(self.a, host_t - self.b * device_t)
            self._last_update_t = device_t
            return
        if self._last_update_t - self._first_device_t < WINDOW_S:
            self._last_update_t = device_t  # the first window just ended: the mapping is settled
        if old is None:  # a window just began: refit from the finished ones
            self._refit(device_t)

    def _refit(self, now: float) -> None:
        keys = sorted(k for k in self._minima if (now - self._minima[k][0]) <= FIT_SPAN_S)
        for k in [k for k in self._minima if k not in keys]:
            del self._minima[k]
        pts = np.array([self._minima[k] for k in keys[:-1]])  # the current window is still filling
        if len(pts) == 0:
            return
        d, lag = pts[:, 0], pts[:, 1]
        if d[-1] - d[0] >= MIN_FIT_SPAN_S and len(pts) >= 5:
            slope, icept = np.polyfit(d - d[0], lag, 1)
            slope = float(np.clip(slope, -MAX_DRIFT, MAX_DRIFT))
            icept = float(icept) - slope * d[0]
            icept += float(np.min(lag - (icept + slope * d)))  # shift under every window minimum
            b_target, a_target = 1.0 + slope, icept
        else:
            b_target, a_target = self.b, float(np.min(lag - (self.b - 1.0) * d))
        # slew: keep the mapping continuous at ``now`` and reach the target over the next window by a rate change
        # of at most MAX_SLEW (0.1 %), so sample spacing never jumps
        current = self.a + self.b * now
        error = (a_target + b_target * now) - current
        self.b = b_target + float(np.clip(error / WINDOW_S, -MAX_SLEW, MAX_SLEW))
        self.a = current - self.b * now
        self._last_update_t = now

    def anchor(self, device_t: float, t: float, b: float = 1.0) -> None:
        """Start settled, mapping ``device_t`` to session time ``t`` (after a clock jump: no hold, no seam); the
        arrival envelope then corrects it by slewing, as always."""
        self.a, self.b = t - b * device_t, b
        self._minima.clear()
        self._first_device_t, self._last_update_t = device_t - WINDOW_S, device_t

    def map(self, device_t: np.ndarray) -> np.ndarray:
        return self.a + self.b * np.asarray(device_t, float)

    def unmap(self, t: float) -> float:
        return (t - self.a) / self.b


class StreamTimer:
    """Frames of one sensor -> ``SampleBlock``s on the session clock.

    With a device clock: frames are released in device-time order; a frame that starts where the previous one
    ended goes straight through, one that leaves a hole waits up to ``hold_s`` for a late frame to fill it;
    duplicates and frames older than what was released are dropped (counted). Without a device clock
    (e.g. WitMotion): samples are spaced at the nominal rate from their arrival, re-anchored after a
    reconnect or a long silence (the missing time is counted as lost).
    """

    def __init__(
        self, stream: str, channels: Sequence[str], rate_hz: float, device_clock: bool, hold_s: float = 0.3
    ) -> None:
        self.stream = stream
        self.channels = tuple(channels)
        self.rate_hz = rate_hz
        self.device_clock = device_clock
        self.hold_s = hold_s
        self.clock = DeviceClock()
        self.lost = 0
        self.dropped = 0  # duplicates and frames that arrived too late
        self.released = 0
        self.clock_jumps = 0  # the sensor's clock jumped (reset, resynchronised): its time line was re-anchored
        self.last_jump_s = 0.0
        self.jump_at_s = math.nan  # session time where the latest jump's samples continue
        self._pending: list[tuple[float, int, Frame]] = []  # (device start, counter, frame), sorted
        self._counter = 0
        self._next_device_t = math.nan  # expected device time of the next sample
        self._virtual_t = math.nan  # arrival-timed streams: the running sample clock
        self._early: list[tuple[np.ndarray, np.ndarray, int]] = []  # held until the clock has settled

    def reconnected(self) -> None:
        """A new connection: arrival-timed streams re-anchor on the next frame."""
        self._virtual_t = math.nan

    def push(self, frame: Frame, host_t: float) -> list[SampleBlock]:
        if frame.n == 0:
            return []
        if not self.device_clock or frame.device_t is None:
            return self._push_arrival(frame, host_t)
        start = float(frame.device_t[0])
        out = self._check_jump(frame, host_t)
        self.clock.observe(float(frame.device_t[-1]), host_t)
        if not math.isnan(self._next_device_t) and start < self._next_device_t - 0.5 / self.rate_hz:
            self.dropped += 1
            return []
        if any(abs(p[0] - start) < 0.5 / self.rate_hz for p in self._pending):
            self.dropped += 1
            return []
        bisect.insort(self._pending, (start, self._counter, frame))
        self._counter += 1
        return out + self._release(newest=float(frame.device_t[-1]))

    def _check_jump(self, frame: Frame, host_t: float) -> list[SampleBlock]:
        """A frame stamped in the future of its arrival, or well before what was already released yet arriving
        late by as much, means the sensor's clock jumped (not lost samples): release what is held on the old
        mapping, then go on from where it ended (the caller marks the seam)."""
        if not self.clock.settled or frame.device_t is None:
            return []
        residual = host_t - float(self.clock.map(np.array([frame.device_t[-1]]))[0])
        back = float(frame.device_t[0]) < self._next_device_t - JUMP_S and residual > JUMP_S
        if residual > -JUMP_S and not back:
            return []
        out = self.flush()
        clock = DeviceClock()
        self.jump_at_s = math.nan
        if math.isnan(self._next_device_t):
            self.clock = clock  # nothing released yet: settle a new mapping from arrivals
        else:  # the sensor kept sampling; only its clock value jumped: continue the session time line seamlessly
            self.jump_at_s = float(self.clock.map(np.array([self._next_device_t]))[0])
            clock.anchor(float(frame.device_t[0]), self.jump_at_s, self.clock.b)
            self.clock = clock
        self._next_device_t = math.nan
        self.clock_jumps += 1
        self.last_jump_s = -residual
        return out

    def _release(self, newest: float, everything: bool = False) -> list[SampleBlock]:
        out = []
        step = 1.0 / self.rate_hz
        while self._pending:
            start, _, frame = self._pending[0]
            contiguous = math.isnan(self._next_device_t) or start <= self._next_device_t + 0.5 * step
            if not (contiguous or everything or newest - start >= self.hold_s):
                break
            self._pending.pop(0)
            lost = 0 if math.isnan(self._next_device_t) else max(0, round((start - self._next_device_t) * self.rate_hz))
            self.lost += lost
            assert frame.device_t is not None
            self._next_device_t = float(frame.device_t[-1]) + step
            out += self._emit(frame.device_t, frame.values, lost, force=everything)
        return out

    def _push_arrival(self, frame: Frame, host_t: float) -> list[SampleBlock]:
        n, step = frame.n, 1.0 / self.rate_hz
        lost = 0
        if math.isnan(self._virtual_t):
            start = (host_t if not self.clock.ready else self.clock.unmap(host_t)) - (n - 1) * step
        else:
            start = self._virtual_t
            expected_arrival = float(self.clock.map(np.array([start + (n - 1) * step]))[0])
            late = host_t - expected_arrival
            if late > 0.5 + n * step:  # silence much longer than the frame: samples went missing
                lost = round(late * self.rate_hz)
                start += lost * step
        device_t = start + np.arange(n) * step
        self._virtual_t = float(device_t[-1]) + step
        self.clock.observe(float(device_t[-1]), host_t)
        self.lost += lost
        return self._emit(device_t, frame.values, lost)

    def flush(self) -> list[SampleBlock]:
        """Release everything held (at a disconnect or the end)."""
        out = self._release(newest=math.inf, everything=True)
        if self._early:
            early, self._early = self._early, []
            out = [self._block(self.clock.map(d), v, k) for d, v, k in early] + out
        return out

    def _emit(self, device_t: np.ndarray, values: np.ndarray, lost: int, force: bool = False) -> list[SampleBlock]:
        """Map to the session clock, holding blocks back during the clock's first window (a few seconds at the
        start of a recording) so that early latency jitter never bends the timeline."""
        if not self.clock.settled and not force:
            self._early.append((device_t, values, lost))
            return []
        early, self._early = self._early, []
        out = [self._block(self.clock.map(d), v, k) for d, v, k in early]
        out.append(self._block(self.clock.map(device_t), values, lost))
        return out

    def _block(self, t: np.ndarray, values: np.ndarray, lost: int) -> SampleBlock:
        self.released += len(t)
        return SampleBlock(self.stream, t, values, self.channels, lost_before=lost)
