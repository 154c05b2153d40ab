"""Emulated sensors (one per supported family) on an in-process BLE link, fed by the simulator: try gait
without hardware, and test the whole live path end to end."""

from __future__ import annotations

from gait.errors import DeviceError
from gait.sources.emulate.feed import SampleFeed
from gait.sources.emulate.radio import EmulatedRadio
from gait.sources.emulate.sensors import DEFAULT_NAMES, SENSORS, EmulatedRsc, EmulatedSensor

FAMILIES = tuple(SENSORS)


def make_sensor(
    family: str, k: int = 1, rate_hz: float | None = None, duration_s: float = 60.0, seed: int = 0, **sim: object
) -> EmulatedSensor:
    """An emulated sensor of ``family`` streaming a simulated run of ``duration_s`` (then starting over)."""
    if family not in SENSORS:
        raise DeviceError(f"cannot emulate {family!r} (choose from {', '.join(FAMILIES)})")
    name = DEFAULT_NAMES[family].format(k=k)
    if family == "rsc":
        return EmulatedRsc(EmulatedRsc.clock_feed(), name)
    default_rate = {"movesense": 104.0, "polar": 52.0, "witmotion": 100.0, "openimu": 104.0}[family]
    feed = SampleFeed.simulated(rate_hz or default_rate, duration_s=duration_s, seed=seed + k, **sim)
    return SENSORS[family](feed, name)


__all__ = ["FAMILIES", "EmulatedRadio", "EmulatedSensor", "SampleFeed", "make_sensor"]
