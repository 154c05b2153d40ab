"""The GATT interface over bleak, for real radios (BlueZ on Linux, CoreBluetooth, WinRT).

Deliberately thin: everything a session does (matching, reconnecting, decoding, timing) lives above this
module and is the same code the emulated sensors exercise in the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from gait.errors import DeviceError
from gait.sources.ble.link import Advert, norm_uuid

UNAVAILABLE_HINT = "is Bluetooth on, and (Linux) is bluetoothd running and are you in the 'bluetooth' group?"


def _fail(what: str, exc: BaseException) -> DeviceError:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError, PermissionError)):
        return DeviceError(f"Bluetooth is not available ({text}): {UNAVAILABLE_HINT}")
    return DeviceError(f"{what} ({text})")


class BleakRadio:
    """Scans with ``BleakScanner`` and connects with ``BleakClient``; ``adapter`` selects e.g. hci1 (Linux)."""

    def __init__(self, adapter: str | None = None) -> None:
        self.adapter = adapter
        self.connect_lock = asyncio.Lock()  # BlueZ answers "InProgress" to overlapping connects

    def _kwargs(self) -> dict[str, Any]:
        return {"bluez": {"adapter": self.adapter}} if self.adapter else {}

    async def scan(self, timeout: float) -> list[Advert]:
        from bleak import BleakScanner
        from bleak.exc import BleakError

        try:
            found = await BleakScanner.discover(timeout=timeout, return_adv=True, **self._kwargs())
        except (BleakError, OSError) as exc:
            raise _fail("scanning failed", exc) from None
        adverts = [
            Advert(
                name=adv.local_name or dev.name or "",
                address=dev.address,
                rssi=int(adv.rssi),
                service_uuids=tuple(norm_uuid(u) for u in adv.service_uuids),
                raw=dev,
            )
            for dev, adv in found.values()
        ]
        return sorted(adverts, key=lambda a: -a.rssi)

    def link(self, advert: Advert) -> BleakLink:
        return BleakLink(advert, self._kwargs())

    async def close(self) -> None:
        return None


class BleakLink:
    def __init__(self, advert: Advert, kwargs: dict[str, Any]) -> None:
        from bleak import BleakClient

        self.address, self.name = advert.address, advert.name
        self._on_drop: Callable[[], None] | None = None
        self._closing = False
        self._client = BleakClient(advert.raw or advert.address, disconnected_callback=self._dropped, **kwargs)

    def _dropped(self, client: object) -> None:
        if not self._closing and self._on_drop is not None:
            self._on_drop()

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        self._on_drop = callback

    @property
    def mtu(self) -> int:
        return int(self._client.mtu_size)

    @property
    def is_connected(self) -> bool:
        return bool(self._client.is_connected)

    async def connect(self, timeout: float = 10.0) -> None:
        from bleak.exc import BleakError

        self._closing = False
        try:
            await self._client.connect(timeout=timeout)
            acquire = getattr(getattr(self._client, "_backend", None), "_acquire_mtu", None)
            if acquire is not None:  # BlueZ reports 23 until the MTU is acquired
                await acquire()
        except (BleakError, TimeoutError, OSError) as exc:
            raise _fail(f"{self.name} ({self.address}): cannot connect", exc) from None

    async def disconnect(self) -> None:
        from bleak.exc import BleakError

        self._closing = True
        with contextlib.suppress(BleakError, OSError):
            await self._client.disconnect()

    def has(self, uuid: str) -> bool:
        return self._client.services.get_characteristic(norm_uuid(uuid)) is not None

    async def read(self, uuid: str) -> bytes:
        from bleak.exc import BleakError

        try:
            return bytes(await self._client.read_gatt_char(norm_uuid(uuid)))
        except (BleakError, OSError) as exc:
            raise _fail(f"{self.name}: reading {uuid} failed", exc) from None

    async def write(self, uuid: str, data: bytes, response: bool = True) -> None:
        from bleak.exc import BleakError

        try:
            await self._client.write_gatt_char(norm_uuid(uuid), bytes(data), response=response)
        except (BleakError, OSError) as exc:
            raise _fail(f"{self.name}: writing {uuid} failed", exc) from None

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        from bleak.exc import BleakError

        try:
            await self._client.start_notify(norm_uuid(uuid), lambda _char, data: callback(bytes(data)))
        except (BleakError, OSError) as exc:
            raise _fail(f"{self.name}: subscribing to {uuid} failed", exc) from None

    async def unsubscribe(self, uuid: str) -> None:
        from bleak.exc import BleakError

        with contextlib.suppress(BleakError, OSError):
            await self._client.stop_notify(norm_uuid(uuid))
