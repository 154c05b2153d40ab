"""Polar sensors over Polar Measurement Data (PMD): H10 (accelerometer) and Verity Sense (accelerometer and
gyroscope).

Control point writes ``02 <type> <settings TLV>`` to start a measurement and answers ``F0 <op> <type> <status>
<more> <params>``; the START answer may carry a FACTOR that scales delta-compressed samples. Data frames are
``[type, u64 ns since 2000-01-01 (last sample), frame type (bit 7 = compressed), content]``. Compressed content
is a reference sample followed by blocks ``[bit width, count, packed deltas]``, bits packed LSB first.
Spec: firmware_specs/polar_pmd.json.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gait.constants import G0
from gait.errors import DeviceError
from gait.sources.ble.devices.base import DEG, Driver, Frame, need
from gait.sources.ble.link import GattLink

SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

ECG, PPG, ACC, PPI, GYRO, MAG, SDK_MODE = 0, 1, 2, 3, 5, 6, 9
GET_SETTINGS, START, STOP = 1, 2, 3
SAMPLE_RATE, RESOLUTION, RANGE, RANGE_MILLIUNIT, CHANNELS, FACTOR = 0, 1, 2, 3, 4, 5
_SETTING_SIZE = {SAMPLE_RATE: 2, RESOLUTION: 2, RANGE: 2, RANGE_MILLIUNIT: 4, CHANNELS: 1, FACTOR: 4, 6: 16}
STATUS = (
    "success", "invalid op code", "invalid measurement type", "not supported", "invalid length", "invalid parameter",
    "already in state", "invalid resolution", "invalid sample rate", "invalid range", "invalid MTU",
    "invalid number of channels", "invalid state", "device in charger", "disk full",
)  # fmt: skip
EPOCH_2000_NS = 946_684_800_000_000_000  # Unix time of the Polar epoch


@dataclass(frozen=True)
class ControlResponse:
    op: int
    measurement: int
    status: int
    more: bool
    params: bytes

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def status_text(self) -> str:
        return STATUS[self.status] if self.status < len(STATUS) else f"status {self.status}"


def parse_control_response(data: bytes) -> ControlResponse:
    need(data, 5, "Polar control point response")
    if data[0] != 0xF0:
        raise DeviceError(f"Polar control point response: starts with {data[0]:#04x}, expected 0xf0")
    return ControlResponse(data[1], data[2] & 0x3F, data[3], bool(data[4]), bytes(data[5:]))


def parse_settings(data: bytes) -> dict[int, list[float]]:
    """Settings TLV ``[type, count, count x value]`` -> {type: values} (FACTOR as float, others as ints)."""
    out: dict[int, list[float]] = {}
    i = 0
    while i + 2 <= len(data):
        kind, count = data[i], data[i + 1]
        size = _SETTING_SIZE.get(kind)
        if size is None:
            raise DeviceError(f"Polar settings: unknown setting type {kind}")
        i += 2
        need(data[i:], size * count, "Polar settings")
        if kind == FACTOR:
            vals = list(struct.unpack_from(f"<{count}f", data, i))
        elif size in (1, 2, 4):
            vals = [int.from_bytes(data[i + k * size : i + (k + 1) * size], "little") for k in range(count)]
        else:
            vals = []
        out[kind] = vals
        i += size * count
    return out


def settings_tlv(settings: dict[int, int]) -> bytes:
    """Encode one value per setting (as a START request carries them)."""
    out = b""
    for kind, value in settings.items():
        out += bytes((kind, 1)) + int(value).to_bytes(_SETTING_SIZE[kind], "little")
    return out


def start_command(measurement: int, settings: dict[int, int]) -> bytes:
    return bytes((START, measurement)) + settings_tlv(settings)


def stop_command(measurement: int) -> bytes:
    return bytes((STOP, measurement))


def parse_timestamp(data: bytes) -> int:
    need(data, 8, "Polar timestamp")
    return int.from_bytes(data[:8], "little")


def unpack_deltas(data: bytes, bit_width: int, channels: int, count: int) -> np.ndarray:
    """``count`` x ``channels`` signed ``bit_width``-bit deltas, packed LSB first (bit i of byte k = stream bit
    8k+i), in the order sample 0 channel 0, channel 1, ..."""
    n = bit_width * channels * count
    need(data, (n + 7) // 8, "Polar delta block")
    bits = np.unpackbits(np.frombuffer(data, np.uint8, count=(n + 7) // 8), bitorder="little")[:n]
    words = bits.reshape(count * channels, bit_width).astype(np.int64)
    values = words @ (np.int64(1) << np.arange(bit_width, dtype=np.int64))
    values -= (values >> (bit_width - 1)) << bit_width  # two's complement
    return values.reshape(count, channels)


def pack_deltas(deltas: np.ndarray, bit_width: int) -> bytes:
    """Inverse of ``unpack_deltas`` (for emulated sensors)."""
    flat = np.asarray(deltas, np.int64).ravel() & ((1 << bit_width) - 1)
    bits = ((flat[:, None] >> np.arange(bit_width)) & 1).astype(np.uint8).ravel()
    return np.packbits(bits, bitorder="little").tobytes()


def decode_compressed(content: bytes, channels: int = 3, ref_bytes: int = 2) -> np.ndarray:
    """Reference sample (``ref_bytes`` signed LE per channel) then delta blocks -> (n, channels) int64.

    For float channels (gyroscope frame type 1) pass ``ref_bytes=4``: values are float32 bit patterns coded as
    int32 deltas; reinterpret the result with ``.astype(np.int32).view(np.float32)``.
    """
    need(content, channels * ref_bytes, "Polar compressed frame")
    ref = np.array(
        [int.from_bytes(content[c * ref_bytes : (c + 1) * ref_bytes], "little", signed=True) for c in range(channels)],
        dtype=np.int64,
    )
    samples = [ref[None, :]]
    i = channels * ref_bytes
    while i + 2 <= len(content):
        width, count = content[i], content[i + 1]
        i += 2
        if width == 0 or count == 0:
            break
        size = (width * channels * count + 7) // 8
        deltas = unpack_deltas(content[i : i + size], width, channels, count)
        samples.append(ref + np.cumsum(deltas, axis=0))
        ref = samples[-1][-1]
        i += size
    return np.concatenate(samples)


def encode_compressed(samples: np.ndarray, ref_bytes: int = 2) -> bytes:
    """Inverse of ``decode_compressed`` with one delta block of the smallest width that fits (emulation)."""
    samples = np.asarray(samples, np.int64)
    out = b"".join(int(v).to_bytes(ref_bytes, "little", signed=True) for v in samples[0])
    if len(samples) > 1:
        deltas = np.diff(samples, axis=0)
        peak = int(np.max(np.abs(deltas))) if deltas.size else 0
        width = max(2, peak.bit_length() + 1)
        out += bytes((width, len(deltas))) + pack_deltas(deltas, width)
    return out


def decode_uncompressed(content: bytes, frame_type: int, channels: int = 3) -> np.ndarray:
    """Frame types 0/1/2: int8/int16/int24 per channel -> (n, channels) int64."""
    size = {0: 1, 1: 2, 2: 3}.get(frame_type)
    if size is None:
        raise DeviceError(f"Polar frame: uncompressed frame type {frame_type} not supported")
    width = size * channels
    n = len(content) // width
    raw = np.frombuffer(content[: n * width], np.uint8).reshape(n * channels, size).astype(np.int64)
    values = raw @ (np.int64(1) << (8 * np.arange(size, dtype=np.int64)))
    values -= (values >> (8 * size - 1)) << (8 * size)
    return values.reshape(n, channels)


@dataclass(frozen=True)
class DataFrame:
    measurement: int
    timestamp_ns: int  # of the last sample, on the sensor clock, ns since 2000-01-01
    compressed: bool
    frame_type: int
    content: bytes


def parse_frame(data: bytes) -> DataFrame:
    need(data, 10, "Polar data frame")
    return DataFrame(data[0] & 0x3F, parse_timestamp(data[1:9]), bool(data[9] & 0x80), data[9] & 0x7F, bytes(data[10:]))


def frame_values(frame: DataFrame, factor: float) -> np.ndarray:
    """A data frame's samples in SI: acceleration m/s^2, angular rate rad/s."""
    if frame.measurement == ACC:
        if frame.compressed:
            raw = decode_compressed(frame.content).astype(float)
            mg = raw * factor * (1000.0 if frame.frame_type == 0 else 1.0)  # type 0 arrives in g
        else:
            mg = decode_uncompressed(frame.content, frame.frame_type).astype(float)
        return mg * (G0 / 1000.0)
    if frame.measurement == GYRO:
        if not frame.compressed:
            raise DeviceError("Polar gyroscope frame: only compressed frames are defined")
        if frame.frame_type == 1:  # float32 bit patterns; the factor scales them too (Polar SDK GyrDataTest)
            dps = decode_compressed(frame.content, ref_bytes=4).astype(np.int32).view(np.float32).astype(float)
        else:
            dps = decode_compressed(frame.content).astype(float)
        return dps * factor * DEG
    raise DeviceError(f"Polar data frame: measurement type {frame.measurement} is not streamed by gait")


def sample_times_ns(last_ns: int, n: int, previous_ns: int | None, rate_hz: float) -> np.ndarray:
    """Per-sample times: the frame stamp is the last sample's; spacing from the previous frame's stamp when
    there is one (so the clock's own rate is kept), else from the nominal rate."""
    step = 1000000000.0 / rate_hz if previous_ns is None or last_ns <= previous_ns else (last_ns - previous_ns) / n
    return last_ns - step * np.arange(n - 1, -1, -1, dtype=float)


class PolarDriver(Driver):
    family = "polar"
    label = "Polar"
    service_uuid = SERVICE
    name_prefixes = ("Polar",)

    H10_RATES = (25.0, 50.0, 100.0, 200.0)
    SENSE_RATES = (26.0, 52.0, 104.0, 208.0, 416.0)

    def __init__(self, rate_hz: float | None = None, model: str = "auto") -> None:
        super().__init__(rate_hz)
        self.requested_rate = rate_hz
        self.model = model
        self._factor = {ACC: 1.0, GYRO: 1.0}  # kept across reconnects: the stream keeps its settings
        self._started: set[int] = set()  # measurements we started (and know the settings of)
        self.reset()

    def reset(self) -> None:
        self._prev_ns: dict[int, int | None] = {ACC: None, GYRO: None}
        self._acc: list[tuple[np.ndarray, np.ndarray]] = []
        self._gyr: list[tuple[np.ndarray, np.ndarray]] = []
        self._responses: asyncio.Queue[ControlResponse] = asyncio.Queue()

    def _configure(self, name: str) -> None:
        model = self.model
        if model == "auto":
            model = "h10" if "H10" in name.upper() else "sense"
        self.model = model
        rates = self.H10_RATES if model == "h10" else self.SENSE_RATES
        rate = float(self.requested_rate or (200.0 if model == "h10" else 52.0))
        if rate not in rates:
            choices = ", ".join(f"{r:g}" for r in rates)
            raise DeviceError(f"Polar {model}: rate {rate:g} Hz not supported (choose from {choices})")
        self.rate_hz = rate
        self.has_gyro = model != "h10"

    def on_control(self, data: bytes) -> None:
        if data and data[0] == 0xF0:
            self._responses.put_nowait(parse_control_response(data))

    def on_data(self, data: bytes, emit: Callable[[Frame], None]) -> None:
        frame = parse_frame(data)
        if frame.measurement not in (ACC, GYRO):
            return
        values = frame_values(frame, self._factor[frame.measurement])
        if len(values) == 0:
            return
        t_ns = sample_times_ns(frame.timestamp_ns, len(values), self._prev_ns[frame.measurement], self.rate_hz)
        self._prev_ns[frame.measurement] = frame.timestamp_ns
        t = t_ns * 1e-9
        if not self.has_gyro:
            emit(Frame(values=values, device_t=t))
            return
        (self._acc if frame.measurement == ACC else self._gyr).append((t, values))
        self._merge(emit)

    def _merge(self, emit: Callable[[Frame], None], final: bool = False) -> None:
        """Emit accelerometer samples with the gyroscope interpolated to their times, once both cover them.

        The two streams share the sensor clock; accelerometer samples outside the gyroscope's span (it starts a
        moment later; its last frame may not arrive before a stop) are dropped rather than given invented rates."""
        if not self._acc or not self._gyr:
            if final:
                self._acc, self._gyr = [], []
            return
        ta = np.concatenate([t for t, _ in self._acc])
        va = np.concatenate([v for _, v in self._acc])
        tg = np.concatenate([t for t, _ in self._gyr])
        vg = np.concatenate([v for _, v in self._gyr])
        step = 1.0 / self.rate_hz
        lo, hi = tg[0] - step, tg[-1] + 1e-6  # never extrapolate the gyroscope past its last sample
        ready = (ta >= lo) & (ta <= hi)
        if ready.any():
            gyr = np.column_stack([np.interp(ta[ready], tg, vg[:, j]) for j in range(3)])
            emit(Frame(values=np.hstack((va[ready], gyr)), device_t=ta[ready]))
            k = max(0, int(np.searchsorted(tg, ta[ready][-1], side="right")) - 1)
            tg, vg = tg[k:], vg[k:]
        waiting = ta > hi
        if final:
            self._acc, self._gyr = [], []
            return
        self._acc = [(ta[waiting], va[waiting])] if waiting.any() else []
        if not waiting.any():
            keep = tg >= tg[-1] - 2.0  # the gyroscope alone: keep only what interpolation can still need
            tg, vg = tg[keep], vg[keep]
        self._gyr = [(tg, vg)]

    def finish(self, emit: Callable[[Frame], None]) -> None:
        if self.has_gyro:
            self._merge(emit, final=True)

    async def _request(self, link: GattLink, command: bytes) -> ControlResponse:
        await link.write(CONTROL, command, response=True)
        try:
            resp = await asyncio.wait_for(self._responses.get(), timeout=5.0)
        except TimeoutError:
            raise DeviceError(f"Polar: no answer to control command {command.hex()}") from None
        return resp

    async def _start(self, link: GattLink, measurement: int, settings: dict[int, int]) -> None:
        resp = await self._request(link, start_command(measurement, settings))
        if resp.status == 6 and measurement in self._started:
            return  # still streaming from before the reconnect, with our settings: carry on (no restart gap)
        if resp.status == 6:  # started by someone else, settings unknown: restart it with ours
            await self._request(link, stop_command(measurement))
            resp = await self._request(link, start_command(measurement, settings))
        if not resp.ok:
            name = "accelerometer" if measurement == ACC else "gyroscope"
            raise DeviceError(f"Polar refused to start the {name} at {self.rate_hz:g} Hz: {resp.status_text}")
        if resp.params:
            factor = parse_settings(resp.params).get(FACTOR)
            if factor:
                self._factor[measurement] = float(factor[0])
        self._started.add(measurement)

    async def start(self, link: GattLink, emit: Callable[[Frame], None]) -> None:
        self.reset()
        self._configure(link.name)
        await link.subscribe(CONTROL, self.guard(self.on_control))
        await link.subscribe(DATA, self.guard(lambda data: self.on_data(data, emit)))
        if self.model == "h10":
            await self._start(link, ACC, {SAMPLE_RATE: int(self.rate_hz), RESOLUTION: 16, RANGE: 8})
            return
        if self.rate_hz != 52.0:
            resp = await self._request(link, bytes((START, SDK_MODE)))
            if not resp.ok and resp.status != 6:
                raise DeviceError(
                    f"Polar Verity Sense: SDK mode (needed for {self.rate_hz:g} Hz) refused: {resp.status_text}"
                )
        await self._start(link, ACC, {SAMPLE_RATE: int(self.rate_hz), RESOLUTION: 16, RANGE: 8, CHANNELS: 3})
        await self._start(link, GYRO, {SAMPLE_RATE: int(self.rate_hz), RESOLUTION: 16, RANGE: 2000, CHANNELS: 3})

    async def stop(self, link: GattLink) -> None:
        for m in (ACC, GYRO) if self.has_gyro else (ACC,):
            await link.write(CONTROL, stop_command(m), response=True)
        self._started.clear()
