"""Emulated sensors: bumble peripherals that speak each family's real GATT protocol, fed by the simulator.

Each keeps measuring on its own clock whether or not anybody listens (samples due while disconnected are
lost, as with a real sensor) and remembers exactly what it sent, so tests can check a recording against it.
Frames are built with the same encoders the decoder tests check against the vendors' vectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from typing import Any, ClassVar

import numpy as np
from bumble.att import ATT_Error
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from gait.constants import G0
from gait.sources.ble.devices import movesense, openimu, polar, rsc, witmotion
from gait.sources.ble.devices.base import DEG
from gait.sources.ble.link import (
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    DEVICE_INFO_SERVICE,
    FIRMWARE_REVISION,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
)
from gait.sources.emulate.feed import SampleFeed

READ = Characteristic.Properties.READ
WRITE = Characteristic.Properties.WRITE
WRITE_NR = Characteristic.Properties.WRITE_WITHOUT_RESPONSE
NOTIFY = Characteristic.Properties.NOTIFY
INDICATE = Characteristic.Properties.INDICATE
READABLE = Characteristic.Permissions.READABLE
WRITEABLE = Characteristic.Permissions.WRITEABLE
APPLICATION_ERROR = 0x80


def _chr(uuid: str, props: Any, value: Any = b"") -> Characteristic:
    perms = (READABLE if props & READ or props & NOTIFY or props & INDICATE else 0) | (
        WRITEABLE if props & (WRITE | WRITE_NR) else 0
    )
    return Characteristic(uuid, props, perms or READABLE, value)


class EmulatedSensor:
    """A peripheral on an in-process link; subclasses define services and packets."""

    family: ClassVar[str]
    model: ClassVar[str] = ""
    manufacturer: ClassVar[str] = ""
    service_uuid: ClassVar[str]
    tick_s: ClassVar[float] = 0.02

    def __init__(self, feed: SampleFeed, name: str, battery: int = 87) -> None:
        self.feed = feed
        self.name = name
        self.battery = battery
        self.device: Device | None = None
        self.connection: Connection | None = None
        self.streaming = False
        self.address = ""
        self.off_air_until = 0.0
        self.sent_t: list[np.ndarray] = []
        self.sent_values: list[np.ndarray] = []
        self.send_log: list[tuple[float, float]] = []  # (perf_counter at send, device time of the last sample)
        self.notifications = 0
        self._buffer = np.zeros(0, int)
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- the peripheral -------------------------------------------------------------------------------------------
    def services(self) -> list[Service]:
        raise NotImplementedError

    async def attach(self, link: LocalLink, address: str) -> None:
        controller = Controller(self.name, link=link, public_address=address)
        self.device = Device(name=self.name, address=Address(address), host=Host(controller, AsyncPipeSink(controller)))
        self.address = address
        info = Service(DEVICE_INFO_SERVICE, [
            _chr(MANUFACTURER_NAME, READ, self.manufacturer.encode()),
            _chr(MODEL_NUMBER, READ, self.model.encode()),
            _chr(FIRMWARE_REVISION, READ, b"emulated-1.0"),
        ])  # fmt: skip
        battery = Service(BATTERY_SERVICE, [_chr(BATTERY_LEVEL, READ, CharacteristicValue(read=self._battery))])
        self.device.add_services([*self.services(), info, battery])
        self.device.advertising_data = bytes(AdvertisingData([
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
            (self._uuid_list_type(), UUID(self.service_uuid).to_bytes()),
        ]))  # fmt: skip
        self.device.on("connection", self._connected)
        await self.device.power_on()
        await self._advertise()
        self._task = asyncio.create_task(self._run())

    def _uuid_list_type(self) -> int:
        if len(UUID(self.service_uuid).to_bytes()) == 2:
            return AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS
        return AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS

    def _battery(self, connection: Connection) -> bytes:
        return bytes((self.battery,))

    async def _advertise(self) -> None:
        assert self.device is not None
        await self.device.start_advertising(
            auto_restart=False, advertising_interval_min=20, advertising_interval_max=20
        )

    def _connected(self, connection: Connection) -> None:
        self.connection = connection
        connection.on("disconnection", lambda reason: self._disconnected())

    def _disconnected(self) -> None:
        self.connection = None
        self.on_link_lost()
        if not self._closed:
            self._readvertise_task = asyncio.get_running_loop().create_task(self._readvertise())

    async def _readvertise(self) -> None:
        wait = self.off_air_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if self.device is not None and self.connection is None:
            await self._advertise()

    def on_link_lost(self) -> None:
        """What the sensor does when the central goes away (default: stop streaming)."""
        self.streaming = False

    async def drop_link(self, off_air_s: float = 0.0) -> None:
        """Disconnect from the sensor's side and stay silent for ``off_air_s`` (out of range, battery swap)."""
        self.off_air_until = time.monotonic() + off_air_s
        if self.connection is not None:
            await self.connection.disconnect()

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.disconnect()

    # -- streaming ------------------------------------------------------------------------------------------------
    @property
    def mtu(self) -> int:
        return self.connection.att_mtu if self.connection is not None else 23

    def samples_per_packet(self) -> int:
        return 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            idx = self.feed.due()
            if self.connection is None or not self.streaming:
                self._buffer = np.zeros(0, int)
                continue
            self._buffer = np.concatenate((self._buffer, idx))
            n = self.samples_per_packet()
            while len(self._buffer) >= n and self.connection is not None and self.streaming:
                chunk, self._buffer = self._buffer[:n], self._buffer[n:]
                await self.send(chunk)

    async def send(self, idx: np.ndarray) -> None:
        raise NotImplementedError

    def listening(self, characteristic: Characteristic) -> bool:
        """Whether the central has enabled notifications on ``characteristic`` (else a send goes nowhere)."""
        if self.device is None or self.connection is None:
            return False
        subscribers = self.device.gatt_server.subscribers
        return any(cccd.get(characteristic.handle, b"\x00")[0] & 0x03 for cccd in subscribers.values())

    async def notify(self, characteristic: Characteristic, data: bytes) -> bool:
        """Send one notification; False when the link was down (the data never went out)."""
        if self.device is None or self.connection is None:
            return False
        await self.device.notify_subscribers(characteristic, data)
        self.notifications += 1
        return self.connection is not None

    def record(self, t: np.ndarray, values: np.ndarray) -> None:
        """Remember what was sent (SI, after the family's quantisation)."""
        self.sent_t.append(np.asarray(t, float))
        self.sent_values.append(np.asarray(values, float))
        self.send_log.append((time.perf_counter(), float(t[-1])))

    def sent(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.sent_t:
            return np.zeros(0), np.zeros((0, 6))
        return np.concatenate(self.sent_t), np.concatenate(self.sent_values)


class EmulatedMovesense(EmulatedSensor):
    family = "movesense"
    model = "Movesense MD"
    manufacturer = "Movesense"
    service_uuid = movesense.SERVICE

    def services(self) -> list[Service]:
        self.data = _chr(movesense.DATA, NOTIFY)
        command = _chr(movesense.COMMAND, WRITE, CharacteristicValue(write=self._command))
        self.ref = 0
        return [Service(movesense.SERVICE, [command, self.data])]

    def _command(self, connection: Connection, value: bytes) -> None:
        value = bytes(value)
        if len(value) < 2:
            return
        cmd, ref = value[0], value[1]
        if cmd == movesense.HELLO:
            asyncio.get_running_loop().create_task(self.notify(self.data, bytes((1, ref)) + b"Hello"))
        elif cmd == movesense.SUBSCRIBE:
            path = value[2:].decode("utf-8", "replace")
            parts = path.strip("/").split("/")
            ok = len(parts) == 3 and parts[:2] == ["Meas", "IMU6"] and float(parts[2]) == self.feed.rate_hz
            if not ok:  # 501 not implemented, status bytes big-endian as the firmware sends them
                asyncio.get_running_loop().create_task(self.notify(self.data, bytes((1, ref, 0x01, 0xF5))))
                return
            self.ref, self.streaming = ref, True
        elif cmd == movesense.UNSUBSCRIBE and ref == self.ref:
            self.streaming = False

    def samples_per_packet(self) -> int:
        return max(1, min(8, round(self.feed.rate_hz / 13)))

    async def send(self, idx: np.ndarray) -> None:
        t, acc, gyr = self.feed.values(idx)
        acc32, dps32 = acc.astype("<f4"), (gyr / DEG).astype("<f4")
        packet = movesense.encode_imu(self.ref, round(t[0] * 1000), [acc32, dps32])
        delivered = True
        for part in movesense.split_packet(packet, min(movesense.MAX_PART_BYTES, self.mtu - 3)):
            delivered = await self.notify(self.data, part) and delivered
        if delivered:  # a packet cut by a disconnect between its two parts is lost
            self.record(t, np.hstack((acc32, dps32.astype(float) * DEG)))


class EmulatedPolar(EmulatedSensor):
    """Polar Verity Sense (``model="sense"``: accelerometer + gyroscope) or H10 (accelerometer only)."""

    family = "polar"
    manufacturer = "Polar Electro Oy"
    service_uuid = polar.SERVICE
    tick_s = 0.05
    EPOCH_OFFSET_S = 770_000_000.0  # the sensor's clock: about 2024 in seconds since 2000
    GYRO_FACTOR = 2000.0 / 32768.0  # deg/s per count (range +-2000 deg/s, 16 bit)

    def __init__(self, feed: SampleFeed, name: str, polar_model: str = "sense", battery: int = 87) -> None:
        super().__init__(feed, name, battery)
        self.polar_model = polar_model
        self.started: set[int] = set()
        self.sdk_mode = False

    @property
    def model(self) -> str:  # type: ignore[override]
        return "Polar H10" if self.polar_model == "h10" else "Polar Sense"

    def services(self) -> list[Service]:
        features = bytes((0x0F, 0x04 | (0x20 if self.polar_model == "sense" else 0), 0x02))
        self.control = _chr(
            polar.CONTROL, READ | WRITE | INDICATE, CharacteristicValue(read=lambda c: features, write=self._command)
        )
        self.data = _chr(polar.DATA, NOTIFY)
        return [Service(polar.SERVICE, [self.control, self.data])]

    def _respond(self, op: int, meas: int, status: int, params: bytes = b"") -> None:
        msg = bytes((0xF0, op, meas, status, 0)) + params
        asyncio.get_running_loop().create_task(self._indicate(msg))

    async def _indicate(self, msg: bytes) -> None:
        if self.device is not None and self.connection is not None:
            await self.device.indicate_subscribers(self.control, msg)

    def _command(self, connection: Connection, value: bytes) -> None:
        value = bytes(value)
        op, meas = value[0], value[1] & 0x3F
        supported = {polar.ACC} | ({polar.GYRO} if self.polar_model == "sense" else set())
        if op == polar.START and meas == polar.SDK_MODE and self.polar_model == "sense":
            self.sdk_mode = True
            self._respond(op, meas, 0)
        elif op == polar.START:
            if meas not in supported:
                self._respond(op, meas, 3)
                return
            settings = polar.parse_settings(value[2:])
            rate = settings.get(polar.SAMPLE_RATE, [0])[0]
            rates = (
                (25, 50, 100, 200)
                if self.polar_model == "h10"
                else ((26, 52, 104, 208, 416) if self.sdk_mode else (52,))
            )
            if rate != self.feed.rate_hz or rate not in rates:
                self._respond(op, meas, 8)
                return
            if meas in self.started:
                self._respond(op, meas, 6)
                return
            self.started.add(meas)
            self.streaming = True
            factor = 1.0 if meas == polar.ACC else self.GYRO_FACTOR
            self._respond(op, meas, 0, bytes((polar.FACTOR, 1)) + struct.pack("<f", factor))
        elif op == polar.STOP:
            self.started.discard(meas)
            self.streaming = bool(self.started)
            self._respond(op, meas, 0)
        else:
            self._respond(op, meas, 1)

    def on_link_lost(self) -> None:
        pass  # Polar streams keep their state until the client stops them

    def samples_per_packet(self) -> int:
        return max(1, round(self.feed.rate_hz / 5))

    async def send(self, idx: np.ndarray) -> None:
        if not self.listening(self.data):
            return  # streaming before the client subscribed again: those samples are lost, as on a real sensor
        acc_on, gyro_on = polar.ACC in self.started, polar.GYRO in self.started  # decided before any await
        t, acc, gyr = self.feed.values(idx)
        ts = round((self.EPOCH_OFFSET_S + t[-1]) * 1e9).to_bytes(8, "little")
        mg = np.round(acc / G0 * 1000.0).astype(np.int64)
        counts = np.round(gyr / DEG / self.GYRO_FACTOR).astype(np.int64)
        if acc_on:  # IMU samples exist only where the accelerometer frame went out
            content = (
                (b"\x01" + mg.astype("<i2").tobytes())
                if self.polar_model == "h10"
                else (b"\x81" + polar.encode_compressed(mg))
            )
            if await self.notify(self.data, bytes((polar.ACC,)) + ts + content):
                self.record(self.EPOCH_OFFSET_S + t, np.hstack((mg * G0 / 1000.0, counts * self.GYRO_FACTOR * DEG)))
        if gyro_on:
            await self.notify(self.data, bytes((polar.GYRO,)) + ts + b"\x80" + polar.encode_compressed(counts))


class EmulatedWitMotion(EmulatedSensor):
    family = "witmotion"
    model = "WT901BLECL 5.0"
    manufacturer = "WitMotion"
    service_uuid = witmotion.SERVICE

    def services(self) -> list[Service]:
        self.data = _chr(witmotion.NOTIFY, NOTIFY)
        self.data.on("subscription", self._subscribed)
        write = _chr(witmotion.WRITE, WRITE | WRITE_NR, CharacteristicValue(write=self._command))
        return [Service(witmotion.SERVICE, [self.data, write])]

    def _subscribed(self, bearer: Any, notify: bool, indicate: bool) -> None:
        self.streaming = notify

    def _command(self, connection: Connection, value: bytes) -> None:
        pass  # rate and register commands are accepted; the feed's rate is the sensor's rate

    def samples_per_packet(self) -> int:
        return max(1, min(5, (self.mtu - 3) // witmotion.PACKET))

    async def send(self, idx: np.ndarray) -> None:
        t, acc, gyr = self.feed.values(idx)
        g = acc / G0
        angles = np.column_stack(
            (np.degrees(np.arctan2(g[:, 1], g[:, 2])), np.degrees(np.arctan2(-g[:, 0], g[:, 2])), np.zeros(len(g)))
        )
        data = witmotion.encode_packet(g, gyr / DEG, angles)
        decoded, _ = witmotion.decode_packets(data)
        if await self.notify(self.data, data):
            self.record(t, np.hstack((decoded[:, 0:3] * G0, decoded[:, 3:6] * DEG)))


class EmulatedOpenImu(EmulatedSensor):
    family = "openimu"
    model = "gait open IMU reference"
    manufacturer = "gait"
    service_uuid = openimu.SERVICE
    RATES = (52, 104, 208, 416, 833)
    ACC_SCALE = float(np.float32(16 * G0 / 32768))  # as published in the config characteristic (float32)
    GYRO_SCALE = float(np.float32(2000 * DEG / 32768))

    def services(self) -> list[Service]:
        self.seq = 0
        self.config = openimu.Config(int(self.feed.rate_hz), True, self.ACC_SCALE, self.GYRO_SCALE, self.RATES)
        self.data = _chr(openimu.DATA, NOTIFY)
        control = _chr(openimu.CONTROL, WRITE, CharacteristicValue(write=self._command))
        config = _chr(openimu.CONFIG, READ, CharacteristicValue(read=lambda c: openimu.encode_config(self.config)))
        return [Service(openimu.SERVICE, [self.data, control, config])]

    def _command(self, connection: Connection, value: bytes) -> None:
        value = bytes(value)
        if value[:1] == bytes((openimu.START,)):
            rate = struct.unpack_from("<H", value, 1)[0] if len(value) >= 3 else 0
            if rate not in (0, int(self.feed.rate_hz)):
                raise ATT_Error(APPLICATION_ERROR, message=f"rate {rate} Hz not supported")
            self.streaming = True
        elif value[:1] == bytes((openimu.STOP,)):
            self.streaming = False

    def samples_per_packet(self) -> int:
        return max(1, min(openimu.max_samples(self.mtu, True), round(self.feed.rate_hz * 0.05)))

    async def send(self, idx: np.ndarray) -> None:
        t, acc, gyr = self.feed.values(idx)
        counts = np.clip(np.round(np.hstack((acc / self.ACC_SCALE, gyr / self.GYRO_SCALE))), -32768, 32767)
        if await self.notify(self.data, openimu.encode_packet(self.seq, round(t[0] * 1e6), counts.astype(int))):
            self.record(t, np.hstack((counts[:, :3] * self.ACC_SCALE, counts[:, 3:] * self.GYRO_SCALE)))
        self.seq += 1


class EmulatedRsc(EmulatedSensor):
    """A foot pod: one RSC measurement per second (speed, cadence in steps/min, stride length, distance)."""

    family = "rsc"
    model = "Foot pod"
    manufacturer = "gait"
    service_uuid = rsc.SERVICE
    tick_s = 0.05

    def __init__(
        self, feed: SampleFeed, name: str, speed_mps: float = 3.2, cadence_spm: int = 170, battery: int = 87
    ) -> None:
        super().__init__(feed, name, battery)
        self.speed_mps, self.cadence_spm = speed_mps, cadence_spm
        self.distance_m = 0.0

    def services(self) -> list[Service]:
        self.data = _chr(rsc.MEASUREMENT, NOTIFY)
        self.data.on("subscription", lambda bearer, notify, indicate: setattr(self, "streaming", notify))
        feature = _chr(rsc.FEATURE, READ, struct.pack("<H", 0x0007))
        return [Service(rsc.SERVICE, [self.data, feature])]

    @classmethod
    def clock_feed(cls, minutes: float = 600.0) -> SampleFeed:
        """A 1 Hz feed: the pod's measurement clock (it has no IMU samples to send)."""
        n = int(minutes * 60)
        return SampleFeed(rate_hz=1.0, acc=np.zeros((n, 3)), gyr=np.zeros((n, 3)))

    async def send(self, idx: np.ndarray) -> None:
        t, _, _ = self.feed.values(idx)
        self.distance_m += self.speed_mps * len(idx) / self.feed.rate_hz
        stride = 2 * self.speed_mps * 60.0 / self.cadence_spm
        m = rsc.RscMeasurement(self.speed_mps, self.cadence_spm, round(stride, 2), round(self.distance_m, 1), True)
        if await self.notify(self.data, rsc.encode_measurement(m)):
            self.record(t[-1:], np.array([[m.speed_mps, m.cadence_per_min, stride, m.distance_m]]))


SENSORS: dict[str, type[EmulatedSensor]] = {
    s.family: s for s in (EmulatedMovesense, EmulatedPolar, EmulatedWitMotion, EmulatedOpenImu, EmulatedRsc)
}
DEFAULT_NAMES = {
    "movesense": "Movesense 233830000{k}",
    "polar": "Polar Sense B5A1C{k}D0",
    "witmotion": "WT901BLE6{k}",
    "openimu": "gait-imu-{k}",
    "rsc": "Foot pod {k}",
}
