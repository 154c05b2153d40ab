"""What both phone sources share: the phone-to-session clock, and turning separately timed accelerometer,
gyroscope and gravity readings into one IMU stream of ``SampleBlock``s (reordered, merged, gaps marked).

Phone timestamps are the sample times (a phone samples evenly; its clock is a network-disciplined wall clock or
an experiment clock, drifting far less than a second over a run), so they are mapped to the session clock by one
constant offset: the smallest arrival lag seen while the first ``WINDOW_S`` of phone time came in (an arrival is
never earlier than the sample). Samples wait until that window is over, so the offset never changes under
samples already written, and a further ``hold_s`` so that messages arriving out of order are put back in order.
"""

from __future__ import annotations

import math

import numpy as np

from gait.recording.meta import IMU_CHANNELS, DeviceInfo, StreamInfo
from gait.recording.phone_import import MAX_GAP_S, Series, merge_imu, specific_force
from gait.sources.blocks import SampleBlock, SourceEvent

WINDOW_S = 2.0
GAP_S = MAX_GAP_S  # a longer stretch of phone time without accelerometer samples is a gap


class PhoneClock:
    """Phone seconds -> session seconds by a constant offset fixed from the first ``WINDOW_S`` of arrivals."""

    def __init__(self) -> None:
        self.offset = math.nan
        self._first = math.nan

    @property
    def settled_at(self) -> float:
        return self._first + WINDOW_S

    def observe(self, phone_t: float, host_t: float) -> None:
        lag = host_t - phone_t
        if math.isnan(self.offset):
            self.offset, self._first = lag, phone_t
        elif phone_t - self._first < WINDOW_S:
            self.offset = min(self.offset, lag)

    def map(self, t: np.ndarray) -> np.ndarray:
        return np.asarray(t, float) + self.offset


class PhoneImu:
    """Collect a phone's readings (phone seconds) and release merged IMU blocks on the session clock.

    ``platform`` (android / ios) is read at the first release, so a source may settle it from what it saw.
    """

    def __init__(self, stream: str, device: DeviceInfo, placement: str, *, has_gravity: bool, hold_s: float = 1.0):
        self.stream = stream
        self.device = device
        self.placement = placement
        self.has_gravity = has_gravity  # the accelerometer readings include gravity
        self.hold_s = hold_s
        self.platform = "android"
        self.clock = PhoneClock()
        self.acc = Series(np.zeros(0), np.zeros((0, 3)))
        self.gyr = Series(np.zeros(0), np.zeros((0, 3)))
        self.grav = Series(np.zeros(0), np.zeros((0, 3)))
        self.connected = False
        self.has_gyro = False
        self.last_t = -math.inf  # phone time of the last released sample
        self.late = 0  # readings that came after their time was already written (dropped)
        self.released = 0

    @staticmethod
    def _add(s: Series, t: np.ndarray, v: np.ndarray) -> Series:
        return Series(np.concatenate((s.t, t)), np.vstack((s.v, v))).sorted_unique() if len(t) else s

    def add(self, kind: str, t: np.ndarray, v: np.ndarray, host_t: float) -> None:
        """Readings of one sensor (``acc``, ``gyr`` or ``grav``) from one message, arriving at ``host_t``."""
        t = np.asarray(t, float)
        v = np.asarray(v, float).reshape(len(t), 3)
        if kind == "acc":
            fresh = t > self.last_t
            self.late += int((~fresh).sum())
            t, v = t[fresh], v[fresh]
            if len(t):
                self.clock.observe(float(t.max()), host_t)
            self.acc = self._add(self.acc, t, v)
        elif kind == "gyr":
            self.gyr = self._add(self.gyr, t, v)
        elif kind == "grav":
            self.grav = self._add(self.grav, t, v)

    def release(self, final: bool = False) -> list[SampleBlock | SourceEvent]:
        """Blocks (and events) for the samples old enough to be in order; everything with ``final``."""
        if self.acc.n == 0:
            return []
        newest = float(self.acc.t[-1])
        if not final and newest < self.clock.settled_at + self.hold_s:
            return []
        horizon = math.inf if final else newest - self.hold_s
        if not final:  # wait for the other sensors to cover the horizon too
            if self.gyr.n:
                horizon = min(horizon, float(self.gyr.t[-1]))
            if not self.has_gravity and self.grav.n:
                horizon = min(horizon, float(self.grav.t[-1]))
        take = self.acc.t <= horizon
        if not take.any():
            return []
        acc = Series(self.acc.t[take], self.acc.v[take])
        out: list[SampleBlock | SourceEvent] = []
        if not self.connected:
            self.has_gyro = self.gyr.n >= 2
            out.append(self._connected(acc))
        force = specific_force(acc, self.grav if not self.has_gravity else None, self.platform,
                               has_gravity=self.has_gravity)  # fmt: skip
        t, force, gyr = merge_imu(acc.t, force, self.gyr if self.has_gyro else None)
        if self.has_gyro and gyr is None:
            t, force = t[:0], force[:0]
        self.acc = Series(self.acc.t[~take], self.acc.v[~take])
        keep_from = float(acc.t[-1]) - 1.0  # keep a little of the other sensors for interpolating the next block
        self.gyr = Series(self.gyr.t[self.gyr.t >= keep_from], self.gyr.v[self.gyr.t >= keep_from])
        self.grav = Series(self.grav.t[self.grav.t >= keep_from], self.grav.v[self.grav.t >= keep_from])
        if len(t) == 0:
            return out
        prev = np.concatenate(([self.last_t], t[:-1]))
        holes = np.flatnonzero(np.isfinite(prev) & (t - prev > GAP_S))
        for i in holes:
            a, b = self.clock.map(np.array([prev[i], t[i]]))
            out.append(SourceEvent(self.stream, "gap", "phone stream paused", start_s=float(a), end_s=float(b)))
        values = np.hstack((force, gyr)) if self.has_gyro else force
        channels = IMU_CHANNELS if self.has_gyro else IMU_CHANNELS[:4]
        out.append(SampleBlock(self.stream, self.clock.map(t), values, channels))
        self.last_t = float(t[-1])
        self.released += len(t)
        return out

    def _connected(self, acc: Series) -> SourceEvent:
        self.connected = True
        dt = np.diff(acc.t)
        rate = float(1.0 / np.median(dt)) if len(dt) and np.median(dt) > 0 else 0.0
        info = StreamInfo(
            name=self.stream,
            rate_hz=round(rate, 1),
            channels=IMU_CHANNELS if self.has_gyro else IMU_CHANNELS[:4],
            clock="device",
            has_gyro=self.has_gyro,
            placement=self.placement,
            device=self.device.name,
        )
        return SourceEvent(self.stream, "connected", self.device.name, stream_info=info, device=self.device)
