"""Movesense sensors over the GATT SensorData Protocol (GSP).

Commands ``[cmd, ref, path]`` subscribe to Whiteboard paths such as ``/Meas/IMU6/104``. Data notifications are
``[0x02, ref, u32 timestamp ms (first sample), N acc vectors, N gyro vectors (, N magnetometer vectors)]`` as
float32, acc in m/s^2 and gyro in deg/s, arrays one after another (not interleaved). A value longer than one
notification continues in a ``0x03`` (DATA_PART2) notification for the same reference. A successful subscribe
sends no reply: the first data packet is the acknowledgement. Spec: firmware_specs/movesense_gsp.json.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

from gait.errors import DeviceError
from gait.sources.ble.devices.base import DEG, Driver, Frame, SampleClock, need
from gait.sources.ble.link import GattLink

SERVICE = "34802252-7185-4d5d-b431-630e7050e8f0"
COMMAND = "34800001-7185-4d5d-b431-630e7050e8f0"
DATA = "34800002-7185-4d5d-b431-630e7050e8f0"

HELLO, SUBSCRIBE, UNSUBSCRIBE = 0, 1, 2
COMMAND_RESULT, DATA_PART1, DATA_PART2 = 1, 2, 3
RATES_HZ = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0)
VECTORS = {"IMU6": 2, "IMU9": 3}  # acc + gyro (+ magnetometer)
MAX_PART_BYTES = 155  # the sensor's largest notification (MTU up to 158)
REFERENCE = 99


def subscribe_command(ref: int, path: str) -> bytes:
    if not 0 < ref < 256:
        raise DeviceError(f"Movesense: reference must be 1-255, got {ref}")
    return bytes((SUBSCRIBE, ref)) + path.encode("utf-8")


def unsubscribe_command(ref: int) -> bytes:
    return bytes((UNSUBSCRIBE, ref))


def decode_imu(body: bytes, n_vectors: int) -> tuple[int, np.ndarray]:
    """Decode a data value (the notification without its 2-byte header).

    Returns (timestamp of the first sample in ms, array (n_vectors, N, 3) float64 in the sensor's units).
    """
    need(body, 4, "Movesense data")
    group = 12 * n_vectors
    if (len(body) - 4) % group:
        raise DeviceError(f"Movesense data: {len(body) - 4} value bytes is not a whole number of {group}-byte samples")
    (ts,) = struct.unpack_from("<I", body, 0)
    n = (len(body) - 4) // group
    with np.errstate(invalid="ignore"):  # a damaged frame's NaN bit patterns: rejected by the driver, not warned
        arr = np.frombuffer(body, dtype="<f4", offset=4).astype(float).reshape(n_vectors, n, 3)
    return ts, arr


def encode_imu(ref: int, ts_ms: int, vectors: list[np.ndarray]) -> bytes:
    """One whole data packet (before splitting): the inverse of ``decode_imu`` with its header."""
    body = struct.pack("<I", ts_ms & 0xFFFFFFFF) + b"".join(np.asarray(v, "<f4").tobytes() for v in vectors)
    return bytes((DATA_PART1, ref)) + body


def split_packet(packet: bytes, max_bytes: int = MAX_PART_BYTES) -> list[bytes]:
    """Split a data packet the way the sensor does: the first ``max_bytes``, then ``0x03 ref`` + the rest."""
    if len(packet) <= max_bytes:
        return [packet]
    return [packet[:max_bytes], bytes((DATA_PART2, packet[1])) + packet[max_bytes:]]


class Unwrap:
    """Extend a wrapping counter (e.g. u32 milliseconds) to an ever-increasing integer."""

    def __init__(self, bits: int) -> None:
        self.span = 1 << bits
        self.offset = 0
        self.last: int | None = None

    def __call__(self, value: int) -> int:
        if self.last is not None and value < self.last - self.span // 2:
            self.offset += self.span
        elif self.last is not None and value > self.last + self.span // 2 and self.offset:
            return value + self.offset - self.span  # a late packet from before the wrap
        self.last = value
        return value + self.offset


class MovesenseDriver(Driver):
    family = "movesense"
    label = "Movesense"
    service_uuid = SERVICE
    name_prefixes = ("Movesense",)
    rates_hz = RATES_HZ
    default_rate_hz = 104.0

    def __init__(self, rate_hz: float | None = None, mode: str = "IMU6") -> None:
        super().__init__(rate_hz)
        if mode not in VECTORS:
            raise DeviceError(f"Movesense: mode {mode!r} not supported (IMU6 or IMU9)")
        self.mode = mode
        self.path = f"/Meas/{mode}/{self.rate_hz:.0f}"
        self.reset()

    def reset(self) -> None:
        self._pending: bytes | None = None
        self._unwrap = Unwrap(32)
        self._max_part = MAX_PART_BYTES
        self._clock = SampleClock(self.rate_hz, 0.001)  # stamps are whole milliseconds

    def _decode(self, body: bytes) -> Frame | None:
        ts, arr = decode_imu(body, VECTORS[self.mode])
        n = arr.shape[1]
        if n == 0:
            return None
        values = np.hstack((arr[0], arr[1] * DEG))
        if not np.isfinite(values).all():  # float32 on the wire: a corrupted frame can hold NaN or inf
            raise DeviceError("Movesense data: frame holds values that are not numbers")
        return Frame(values=values, device_t=self._clock.times(self._unwrap(ts) / 1000.0, n))

    def finish(self, emit: Callable[[Frame], None]) -> None:
        self._flush_pending(emit)

    def _flush_pending(self, emit: Callable[[Frame], None]) -> None:
        body, self._pending = self._pending, None
        if body is None:
            return
        try:
            frame = self._decode(body)
        except DeviceError:
            return  # its second part never came: the samples count as lost from the next timestamp
        if frame is not None:
            emit(frame)

    def on_notify(self, data: bytes, emit: Callable[[Frame], None]) -> None:
        if len(data) < 2:
            return
        kind, ref = data[0], data[1]
        if kind == COMMAND_RESULT:
            if len(data) >= 4 and ref == REFERENCE:
                self.last_error = f"Movesense refused {self.path} (status bytes {data[2:4].hex()})"
        elif ref == REFERENCE and kind == DATA_PART2:
            self._second_part(data, emit)
        elif ref == REFERENCE and kind == DATA_PART1:
            self._first_part(data, emit)

    def _first_part(self, data: bytes, emit: Callable[[Frame], None]) -> None:
        """A data notification: a whole frame, or the first part of one too long for a notification."""
        self._flush_pending(emit)
        body = bytes(data[2:])
        group = 12 * VECTORS[self.mode]
        if (len(body) - 4) % group or len(data) >= self._max_part:
            self._pending = body  # a second part may follow
            return
        frame = self._decode(body)
        if frame is not None:
            emit(frame)

    def _second_part(self, data: bytes, emit: Callable[[Frame], None]) -> None:
        if self._pending is None:
            return
        body, self._pending = self._pending + data[2:], None
        frame = self._decode(body)
        if frame is not None:
            emit(frame)

    async def start(self, link: GattLink, emit: Callable[[Frame], None]) -> None:
        self.reset()
        self._max_part = min(MAX_PART_BYTES, link.mtu - 3)
        await link.subscribe(DATA, self.guard(lambda data: self.on_notify(data, emit)))
        await link.write(COMMAND, subscribe_command(REFERENCE, self.path), response=True)

    async def stop(self, link: GattLink) -> None:
        await link.write(COMMAND, unsubscribe_command(REFERENCE), response=True)
