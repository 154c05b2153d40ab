"""Find the sensors a user asked for and turn them into live sources for the recorder.

Shared by ``gait record`` and the dashboard's live page, so both connect, name streams and describe the
recording the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gait.errors import DeviceError
from gait.recording.meta import PLACEMENTS, RecordingMeta, SubjectInfo


def make_radio(
    families: Sequence[str] = (), rate_hz: float | None = None, duration_s: float = 600.0, adapter: str | None = None
) -> Any:
    """Emulated sensors fed by the simulator when ``families`` is given, else the computer's Bluetooth radio."""
    if families:
        from gait.sources.emulate import EmulatedRadio, make_sensor

        radio = EmulatedRadio()
        counts: dict[str, int] = {}
        for fam in families:
            counts[fam] = counts.get(fam, 0) + 1
            radio.add(make_sensor(fam, k=counts[fam], rate_hz=rate_hz, duration_s=duration_s))
        return radio
    from gait.sources.ble.bleak_link import BleakRadio

    return BleakRadio(adapter=adapter)


def stream_names(families: Sequence[str], placements: Sequence[str]) -> list[tuple[str, str]]:
    """(stream name, placement) per sensor: the first IMU is 'imu' (the one analysed), others by placement."""
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    have_imu = False
    for i, fam in enumerate(families):
        place = placements[i] if i < len(placements) else ("shoe" if fam == "rsc" else "")
        if fam == "rsc":
            name = "rsc"
        elif not have_imu:
            name, have_imu = "imu", True
            place = place or "sacrum"
        else:
            if not place:
                raise DeviceError(
                    f"sensor {i + 1}: give its --placement (one per sensor, in order; e.g. {', '.join(PLACEMENTS[:6])})"
                )
            name = place
        if place and place not in PLACEMENTS:
            raise DeviceError(f"unknown placement {place!r} (choose from {', '.join(PLACEMENTS)})")
        base, k = name, 2
        while name in used:
            name, k = f"{base}{k}", k + 1
        used.add(name)
        out.append((name, place))
    if not have_imu:
        raise DeviceError("record needs at least one IMU sensor: a speed-and-cadence pod alone gives no gait data")
    return out


def live_meta(
    *,
    title: str | None,
    runner: str | None,
    placement: str,
    source: str,
    detail: str,
    synthetic: bool = False,
    notes: str = "",
) -> RecordingMeta:
    """The self-description of a recording made live: title, wall-clock start, placement, runner, source."""
    return RecordingMeta(
        title=title or f"run {datetime.now():%Y-%m-%d %H:%M}",
        start_utc=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        placement=placement,
        subject=SubjectInfo(id=runner or ""),
        source=source,
        source_detail=detail,
        synthetic=synthetic,
        notes=notes,
    )


async def ble_sessions(
    radio: Any,
    targets: Sequence[str],
    placements: Sequence[str],
    *,
    rate_hz: float | None,
    scan_timeout_s: float,
    title: str | None = None,
    runner: str | None = None,
    emulated: bool = False,
) -> tuple[RecordingMeta, list[Any]]:
    """Scan, match every target (name, address or family), and make one reconnecting session per sensor."""
    from gait.sources.ble.devices import identify
    from gait.sources.ble.session import DeviceSession, match_advert

    adverts = await radio.scan(scan_timeout_s)
    found = []
    for target in targets:
        advert = match_advert(target, adverts)
        driver_cls = identify(advert) if advert is not None else None
        if advert is None or driver_cls is None:
            seen = ", ".join(a.name for a in adverts if identify(a)) or "no supported sensors"
            raise DeviceError(f"sensor {target!r} not found or not supported (in range: {seen})")
        found.append((advert, driver_cls))
    names = stream_names([d.family for _, d in found], placements)
    primary = next(p for n, p in names if n == "imu")
    meta = live_meta(
        title=title,
        runner=runner,
        placement=primary,
        source="ble",
        detail=json.dumps({"sensors": [f"{a.name} ({a.address})" for a, _ in found], "emulated": emulated}),
        synthetic=emulated,
        notes="Emulated sensors streaming gait's simulator (not a person)." if emulated else "",
    )
    sessions = []
    for (advert, driver_cls), (stream, place) in zip(found, names, strict=True):
        driver = driver_cls(rate_hz if driver_cls.kind == "imu" else None)
        session = DeviceSession(
            radio, advert.name or advert.address, driver, stream, place, scan_timeout_s=scan_timeout_s
        )
        session.advert = advert
        sessions.append(session)
    return meta, sessions
