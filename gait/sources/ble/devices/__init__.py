"""Device drivers, one per family, and how a scanned device is recognised."""

from __future__ import annotations

from gait.errors import DeviceError
from gait.sources.ble.devices.base import Driver, Frame
from gait.sources.ble.devices.movesense import MovesenseDriver
from gait.sources.ble.devices.openimu import OpenImuDriver
from gait.sources.ble.devices.polar import PolarDriver
from gait.sources.ble.devices.rsc import RscDriver
from gait.sources.ble.devices.witmotion import WitMotionDriver
from gait.sources.ble.link import Advert

DRIVERS: dict[str, type[Driver]] = {
    d.family: d for d in (MovesenseDriver, PolarDriver, WitMotionDriver, RscDriver, OpenImuDriver)
}


def identify(advert: Advert) -> type[Driver] | None:
    """The driver for an advertised device: by its service UUIDs, else by its name."""
    uuids = {u.lower() for u in advert.service_uuids}
    for d in DRIVERS.values():
        if d.service_uuid in uuids:
            return d
    for d in DRIVERS.values():
        if any(advert.name.startswith(p) for p in d.name_prefixes):
            return d
    return None


def driver_for(family: str, rate_hz: float | None = None) -> Driver:
    try:
        cls = DRIVERS[family]
    except KeyError:
        raise DeviceError(f"unknown device family {family!r} (known: {', '.join(DRIVERS)})") from None
    return cls(rate_hz)


__all__ = ["DRIVERS", "Driver", "Frame", "driver_for", "identify"]
