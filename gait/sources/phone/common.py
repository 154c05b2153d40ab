"""What both phone sources share: the phone-to-session clock, and turning separately timed accelerometer,
gyroscope and gravity readings into one IMU stream of ``SampleBlock``s (merged, gaps marked).

Phone timestamps are the sample times (a phone samples evenly; its clock is a network-disciplined wall clock or
an experiment clock, drifting far less than a second over a run), so they are mapped to the session clock by one
constant offset: the arrival lag of the first readings (an arrival is never earlier than the sample).

Each accelerometer sample is written as soon as the gyroscope (and, without gravity in the accelerometer, the
gravity sensor) have readings close on both sides of it, usually with the message that brought it; messages
may arrive out of order, so blocks are written in any order and put in order when the recording is compacted.
A sample waits at most ``hold_s`` of phone time for its readings (a late message); after that it is written as
it is: across a short hole (up to ``MAX_GAP_S``) the readings are interpolated, and where the gyroscope sent
nothing for longer the accelerometer is kept with the gyroscope missing (NaN) and the stretch is marked as a
gyroscope gap. A stretch without accelerometer samples over ``GAP_S`` is a gap of the stream.
"""

from __future__ import annotations

import math

import numpy as np

from gait.recording.meta import IMU_CHANNELS, DeviceInfo, StreamInfo
from gait.recording.phone_import import MAX_GAP_S, Series, specific_force
from gait.sources.blocks import SampleBlock, SourceEvent

GAP_S = MAX_GAP_S  # a longer stretch of phone time without accelerometer samples is a gap
DENSE_S = 0.1  # readings this close on both sides of a sample: it can be written now
GYRO_GAP_REASON = "gyroscope sent nothing (accelerometer kept)"


class PhoneClock:
    """Phone seconds -> session seconds by a constant offset, fixed by the first readings' arrival."""

    def __init__(self) -> None:
        self.offset = math.nan

    def observe(self, phone_t: float, host_t: float) -> None:
        if math.isnan(self.offset):
            self.offset = host_t - phone_t

    def map(self, t: np.ndarray) -> np.ndarray:
        return np.asarray(t, float) + self.offset


def _bracket(src: Series, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each time in ``t``: the span between the readings of ``src`` on either side (inf where one side is
    missing) and ``src`` linearly interpolated there (NaN outside it)."""
    values = np.full((len(t), 3), np.nan)
    if src.n < 2:
        return np.full(len(t), np.inf), values
    i = np.searchsorted(src.t, t)
    inside = (i > 0) & (i < src.n)
    ic = np.clip(i, 1, src.n - 1)
    span = np.where(inside, src.t[ic] - src.t[ic - 1], np.inf)
    exact = (i < src.n) & (src.t[np.clip(i, 0, src.n - 1)] == t)
    span[exact] = 0.0
    for j in range(3):
        values[:, j] = np.interp(t, src.t, src.v[:, j], left=np.nan, right=np.nan)
    return span, values


def _nearest(times: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Distance from each of ``t`` to the nearest of ``times`` (sorted; inf when empty)."""
    if not len(times):
        return np.full(len(t), np.inf)
    i = np.searchsorted(times, t)
    left = np.where(i > 0, t - times[np.clip(i - 1, 0, len(times) - 1)], np.inf)
    right = np.where(i < len(times), times[np.clip(i, 0, len(times) - 1)] - t, np.inf)
    return np.minimum(left, right)


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
        self.acc = Series(np.zeros(0), np.zeros((0, 3)))  # accelerometer samples not yet written
        self.gyr = Series(np.zeros(0), np.zeros((0, 3)))  # recent readings, to merge with
        self.grav = Series(np.zeros(0), np.zeros((0, 3)))
        self.connected = False
        self.has_gyro = False
        self.newest = -math.inf  # phone time of the newest accelerometer reading seen
        self.last_t = -math.inf  # phone time of the newest sample released
        self.late = 0  # readings that arrived after a gap was already marked over their time (kept)
        self.released = 0
        self._recent_t = np.zeros(0)  # released sample times not yet looked at for gaps, and whether they
        self._recent_nogyr = np.zeros(0, bool)  # lack the gyroscope
        self._examined = -math.inf  # gaps are settled up to here
        self._gyro_gap: list[float] | None = None  # an open run of samples without the gyroscope (phone s)

    @staticmethod
    def _add(s: Series, t: np.ndarray, v: np.ndarray) -> Series:
        return Series(np.concatenate((s.t, t)), np.vstack((s.v, v))).sorted_unique() if len(t) else s

    def add(self, kind: str, t: np.ndarray, v: np.ndarray, host_t: float) -> None:
        """Readings of one sensor (``acc``, ``gyr`` or ``grav``) from one message, arriving at ``host_t``."""
        t = np.asarray(t, float)
        v = np.asarray(v, float).reshape(len(t), 3)
        if not len(t):
            return
        if kind == "acc":
            self.clock.observe(float(t.max()), host_t)
            self.newest = max(self.newest, float(t.max()))
            self.late += int((t <= self._examined).sum())
            self.acc = self._add(self.acc, t, v)
        elif kind == "gyr":
            self.gyr = self._add(self.gyr, t, v)
        elif kind == "grav":
            self.grav = self._add(self.grav, t, v)

    def release(self, final: bool = False) -> list[SampleBlock | SourceEvent]:
        """Blocks (and events) for the samples that can be written now; everything with ``final``."""
        out: list[SampleBlock | SourceEvent] = []
        if self.acc.n:
            if not self.connected:
                self.has_gyro = self.gyr.n >= 2
                out.append(self._connected(self.acc))
            out += self._write(final)
        out += self._gaps(final)
        return out

    def _write(self, final: bool) -> list[SampleBlock | SourceEvent]:
        t = self.acc.t
        expired = np.full(len(t), final) | (t <= self.newest - self.hold_s)  # waited long enough
        covered = np.ones(len(t), bool)  # readings close on both sides: no reason to wait
        keep = np.ones(len(t), bool)
        gyr = None
        if self.has_gyro:
            span, gyr = _bracket(self.gyr, t)
            covered &= span <= DENSE_S
            hole = span > MAX_GAP_S  # nothing to interpolate from: a gyroscope gap, or the stream's edge
            gyr[hole] = np.nan
            spacing = np.diff(self.gyr.t)
            edge_s = 1.5 * float(np.median(spacing)) if len(spacing) else DENSE_S
            keep &= ~(hole & (_nearest(self.gyr.t, t) <= edge_s))  # a sample at the edge of a pause or of the
            # stream, a few ms from a gyroscope reading: misalignment, not a gyroscope gap
        if not self.has_gravity:
            covered &= _bracket(self.grav, t)[0] <= DENSE_S
        ready = covered | expired
        if not ready.any():
            return []
        acc = Series(t[ready], self.acc.v[ready])
        force = specific_force(acc, self.grav if not self.has_gravity else None, self.platform,
                               has_gravity=self.has_gravity)  # fmt: skip
        keep = keep[ready] & np.isfinite(force).all(axis=1)  # no gravity to add back: unusable
        self.acc = Series(t[~ready], self.acc.v[~ready])
        self._trim()
        if not keep.any():
            return []
        ts = acc.t[keep]
        values = np.hstack((force[keep], gyr[ready][keep])) if gyr is not None else force[keep]
        nogyr = ~np.isfinite(values[:, 3:]).all(axis=1) if gyr is not None else np.zeros(len(ts), bool)
        self._recent_t = np.concatenate((self._recent_t, ts))
        self._recent_nogyr = np.concatenate((self._recent_nogyr, nogyr))
        self.last_t = max(self.last_t, float(ts[-1]))
        self.released += len(ts)
        channels = IMU_CHANNELS if self.has_gyro else IMU_CHANNELS[:4]
        return [SampleBlock(self.stream, self.clock.map(ts), values, channels, ordered=False)]

    def _trim(self) -> None:
        """Keep only the readings that samples still to come may need (a little before the oldest pending)."""
        start = min(float(self.acc.t[0]) if self.acc.n else self.newest, self.newest - self.hold_s) - 1.0
        self.gyr = Series(self.gyr.t[self.gyr.t >= start], self.gyr.v[self.gyr.t >= start])
        self.grav = Series(self.grav.t[self.grav.t >= start], self.grav.v[self.grav.t >= start])

    def _gaps(self, final: bool) -> list[SourceEvent]:
        """Gap events for the stretch that can no longer change (older than ``hold_s``, or all at the end)."""
        horizon = math.inf if final else self.newest - self.hold_s
        order = np.argsort(self._recent_t, kind="stable")
        t, nogyr = self._recent_t[order], self._recent_nogyr[order]
        settled = t <= horizon
        t_s, n_s = t[settled], nogyr[settled]
        self._recent_t, self._recent_nogyr = t[~settled], nogyr[~settled]
        out: list[SourceEvent] = []
        new = t_s > self._examined  # a sample older than what was examined came very late: kept, not re-examined
        t_s, n_s = t_s[new], n_s[new]
        if len(t_s):
            prev = np.concatenate(([self._examined], t_s[:-1]))
            for i in np.flatnonzero(np.isfinite(prev) & (t_s - prev > GAP_S)):
                a, b = self.clock.map(np.array([prev[i], t_s[i]]))
                out.append(SourceEvent(self.stream, "gap", "phone stream paused", start_s=float(a), end_s=float(b)))
            out += self._gyro_runs(t_s, n_s)
            self._examined = float(t_s[-1])
        if final and self._gyro_gap is not None:
            out.append(self._gyro_event())
        return out

    def _gyro_runs(self, t: np.ndarray, missing: np.ndarray) -> list[SourceEvent]:
        """Close the runs of samples without the gyroscope that end within ``t`` (in order); keep the last open."""
        state = np.concatenate(([self._gyro_gap is not None], missing)).astype(np.int8)
        edges = np.flatnonzero(np.diff(state))  # index into t where a run starts (+1) or ends (-1)
        out = []
        for i in edges:
            if missing[i]:
                self._gyro_gap = [float(t[i]), float(t[i])]
            else:
                assert self._gyro_gap is not None
                if i > 0:
                    self._gyro_gap[1] = float(t[i - 1])
                out.append(self._gyro_event())
        if self._gyro_gap is not None and missing[-1]:
            self._gyro_gap[1] = float(t[-1])
        return out

    def _gyro_event(self) -> SourceEvent:
        assert self._gyro_gap is not None
        a, b = self.clock.map(np.array(self._gyro_gap))
        self._gyro_gap = None
        return SourceEvent(self.stream, "gap", GYRO_GAP_REASON, start_s=float(a), end_s=float(b))

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
