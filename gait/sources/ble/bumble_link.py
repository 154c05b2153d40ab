"""The GATT interface over bumble: a central on an in-process link, talking to emulated peripherals.

The link is real GATT: an MTU exchange, service discovery, ATT writes with responses, notifications and
indications, disconnections with reasons; only the radio is missing. Used by ``gait record --emulate`` and
the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bumble.core import AdvertisingData, BaseBumbleError
from bumble.device import Connection, Device, Peer

from gait.errors import DeviceError
from gait.sources.ble.link import Advert, norm_uuid

MTU = 247


def _uuid_str(u: Any) -> str:
    return norm_uuid(u.to_hex_str("-"))


class BumbleLink:
    """One connection from the bumble central to an emulated peripheral."""

    def __init__(self, central: Device, advert: Advert) -> None:
        self._central = central
        self.address = advert.address
        self.name = advert.name
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._chars: dict[str, Any] = {}
        self._on_drop: Callable[[], None] | None = None
        self._closing = False

    @property
    def mtu(self) -> int:
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        self._on_drop = callback

    async def connect(self, timeout: float = 10.0) -> None:
        self._closing = False
        try:
            conn = await asyncio.wait_for(self._central.connect(self.address), timeout)
            peer = Peer(conn)
            await peer.request_mtu(MTU)
            await peer.discover_services()
            for service in peer.services:
                await service.discover_characteristics()
                for c in service.characteristics:
                    self._chars[_uuid_str(c.uuid)] = c
        except (TimeoutError, BaseBumbleError, OSError) as exc:
            raise DeviceError(f"{self.name} ({self.address}): cannot connect ({exc or type(exc).__name__})") from None
        self._connection, self._peer = conn, peer
        conn.on("disconnection", self._dropped)

    def _dropped(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        if not self._closing and self._on_drop is not None:
            self._on_drop()

    async def disconnect(self) -> None:
        self._closing = True
        conn, self._connection = self._connection, None
        if conn is not None:
            with contextlib.suppress(BaseBumbleError, OSError):
                await conn.disconnect()

    def has(self, uuid: str) -> bool:
        return norm_uuid(uuid) in self._chars

    def _char(self, uuid: str) -> Any:
        if self._connection is None:
            raise DeviceError(f"{self.name}: not connected")
        try:
            return self._chars[norm_uuid(uuid)]
        except KeyError:
            raise DeviceError(f"{self.name}: has no characteristic {uuid}") from None

    async def read(self, uuid: str) -> bytes:
        try:
            return bytes(await self._char(uuid).read_value())
        except BaseBumbleError as exc:
            raise DeviceError(f"{self.name}: reading {uuid} failed ({exc})") from None

    async def write(self, uuid: str, data: bytes, response: bool = True) -> None:
        try:
            await self._char(uuid).write_value(bytes(data), with_response=response)
        except BaseBumbleError as exc:
            raise DeviceError(f"{self.name}: writing {uuid} failed ({exc})") from None

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        try:
            await self._char(uuid).subscribe(lambda value: callback(bytes(value)))
        except BaseBumbleError as exc:
            raise DeviceError(f"{self.name}: subscribing to {uuid} failed ({exc})") from None

    async def unsubscribe(self, uuid: str) -> None:
        with contextlib.suppress(BaseBumbleError):
            await self._char(uuid).unsubscribe()


def advert_from(adv: Any) -> Advert:
    """An Advert from a bumble advertisement."""
    data = adv.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME) or ""
    uuids: list[str] = []
    for kind in (
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    ):
        for group in data.get_all(kind):
            uuids += [_uuid_str(u) for u in (group if isinstance(group, list) else [group])]
    return Advert(name=str(name), address=str(adv.address), rssi=int(adv.rssi), service_uuids=tuple(uuids))
