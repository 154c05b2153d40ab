"""The small GATT interface drivers and sessions talk to.

Two implementations: ``bleak_link`` for real radios (BlueZ, CoreBluetooth, WinRT) and ``bumble_link`` for
emulated peripherals on an in-process link. Everything above this module is the same code in both cases.
UUIDs are lower-case 128-bit strings (``uuid16`` expands the SIG short form).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

SIG_BASE = "-0000-1000-8000-00805f9b34fb"

BATTERY_SERVICE = "0000180f" + SIG_BASE
BATTERY_LEVEL = "00002a19" + SIG_BASE
DEVICE_INFO_SERVICE = "0000180a" + SIG_BASE
MODEL_NUMBER = "00002a24" + SIG_BASE
FIRMWARE_REVISION = "00002a26" + SIG_BASE
MANUFACTURER_NAME = "00002a29" + SIG_BASE


def uuid16(short: int) -> str:
    return f"{short:08x}{SIG_BASE}"


def norm_uuid(u: str) -> str:
    u = u.lower()
    if len(u) == 4:
        return uuid16(int(u, 16))
    return u


@dataclass(frozen=True)
class Advert:
    """One device seen while scanning."""

    name: str
    address: str
    rssi: int
    service_uuids: tuple[str, ...] = ()
    raw: object = field(default=None, compare=False, repr=False)  # the backend's device object, for connect


class GattLink(Protocol):
    """One connection to one peripheral."""

    address: str
    name: str

    @property
    def mtu(self) -> int: ...

    @property
    def is_connected(self) -> bool: ...

    async def connect(self, timeout: float = 10.0) -> None: ...

    async def disconnect(self) -> None: ...

    def has(self, uuid: str) -> bool:
        """Whether the peripheral has this characteristic (after connect)."""
        ...

    async def read(self, uuid: str) -> bytes: ...

    async def write(self, uuid: str, data: bytes, response: bool = True) -> None: ...

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        """Notifications or indications of ``uuid`` go to ``callback`` (called on the event loop)."""
        ...

    async def unsubscribe(self, uuid: str) -> None: ...

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        """``callback`` runs when the link drops (not after our own ``disconnect``)."""
        ...


class Radio(Protocol):
    """Finds peripherals and makes links to them. Sessions hold ``connect_lock`` while connecting."""

    connect_lock: asyncio.Lock

    async def scan(self, timeout: float) -> list[Advert]: ...

    def link(self, advert: Advert) -> GattLink: ...

    async def close(self) -> None: ...
