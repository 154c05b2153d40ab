"""An in-process Bluetooth world: gait's bumble central and any number of emulated sensors on one link."""

from __future__ import annotations

import asyncio

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from gait.errors import DeviceError
from gait.sources.ble.bumble_link import BumbleLink, advert_from
from gait.sources.ble.link import Advert
from gait.sources.emulate.sensors import EmulatedSensor

CENTRAL_ADDRESS = "F0:F0:F0:F0:F0:F0"


class EmulatedRadio:
    """Implements the ``Radio`` interface over bumble; ``add`` sensors, then ``start``."""

    def __init__(self) -> None:
        self.bus = LocalLink()
        controller = Controller("gait", link=self.bus, public_address=CENTRAL_ADDRESS)
        self.central = Device(
            name="gait", address=Address(CENTRAL_ADDRESS), host=Host(controller, AsyncPipeSink(controller))
        )
        self.sensors: list[EmulatedSensor] = []
        self._started = False
        self.connect_lock = asyncio.Lock()  # one connection attempt at a time, as with a real controller

    def add(self, sensor: EmulatedSensor) -> EmulatedSensor:
        self.sensors.append(sensor)
        return sensor

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self.central.power_on()
        for k, sensor in enumerate(self.sensors, start=1):
            await sensor.attach(self.bus, f"F{k % 10}:{k:02X}:00:00:00:{k:02X}")

    async def scan(self, timeout: float) -> list[Advert]:
        await self.start()
        seen: dict[str, Advert] = {}

        def on_adv(adv: object) -> None:
            a = advert_from(adv)
            seen[a.address] = a

        self.central.on("advertisement", on_adv)
        try:
            await self.central.start_scanning(filter_duplicates=True)
            await asyncio.sleep(timeout)
            await self.central.stop_scanning()
        finally:
            self.central.remove_listener("advertisement", on_adv)
        return sorted(seen.values(), key=lambda a: a.name)

    def link(self, advert: Advert) -> BumbleLink:
        if not self._started:
            raise DeviceError("emulated radio: start() it before connecting")
        return BumbleLink(self.central, advert)

    async def close(self) -> None:
        for sensor in self.sensors:
            await sensor.close()
        await asyncio.sleep(0.05)  # let the last link-layer events settle before the loop goes away
