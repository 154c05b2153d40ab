"""A live session: the sources a user asked for, the crash-safe recorder and the live analysis, wired once for
``gait record`` / ``gait replay`` and the dashboard's live page.

``open_session`` finds the sensors (real, emulated, a phone, or a recording replayed), describes the recording,
hooks a ``LiveAnalyzer`` to the analysed IMU stream and hands back a ``LiveSession`` whose recorder the caller
runs (with its own status display and stop signal); the radio is closed when the session ends.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gait.analysis.live import LiveAnalyzer
from gait.constants import EMULATED_FAMILIES
from gait.errors import DeviceError
from gait.recording import Recording, load
from gait.recording.meta import PLACEMENTS, RecordingMeta
from gait.sources.connect import ble_sessions, live_meta, make_radio
from gait.sources.recorder import Recorder

#: where samples can come from
KINDS = ("emulated", "ble", "replay", "sensorlogger", "phyphox")
PHONES = ("sensorlogger", "phyphox")
WINDOW_S = 30.0  # the live analysis looks at the last 30 s
PHONE_RATE_HZ = 100.0
IMU_RATE_HZ = 104.0  # the live window's size when the sensor's rate is not given


@dataclass(frozen=True)
class LiveRequest:
    """What to stream. ``targets``: emulated families (emulated), sensor names, addresses or families (ble), a
    recording folder or file (replay), the phone's URL (phyphox) or the port to listen on (sensorlogger); one
    target may be given as a plain string."""

    kind: str
    targets: tuple[str, ...] | str = ()
    speed: float = 1.0  # replay: 1 = real time
    rate_hz: float | None = None
    runner: str | None = None
    host: str = "127.0.0.1"  # sensorlogger: where the receiver listens (0.0.0.0 for a phone on the Wi-Fi)
    token: str | None = None  # sensorlogger: the shared token the phone must send
    placements: tuple[str, ...] = ()  # per sensor, in order (phones: the first)
    title: str | None = None
    phone_os: str = "auto"
    adapter: str | None = None  # a Bluetooth adapter, e.g. hci1
    scan_timeout_s: float = 5.0  # how long to look for real sensors
    feed_s: float = 600.0  # how long emulated sensors have samples for

    def __post_init__(self) -> None:
        if isinstance(self.targets, str):
            object.__setattr__(self, "targets", (self.targets,) if self.targets else ())

    @property
    def target(self) -> str:
        return self.targets[0] if self.targets else ""

    def check(self) -> None:
        """Refuse a request that cannot work, in one line, before anything is started."""
        if self.kind not in KINDS:
            raise DeviceError(f"unknown live source {self.kind!r} (choose from {', '.join(KINDS)})")
        if not self.targets:
            raise DeviceError("choose what to stream first")
        unknown = [t for t in self.targets if t not in EMULATED_FAMILIES] if self.kind == "emulated" else []
        if unknown:
            raise DeviceError(f"no emulated sensor called {unknown[0]!r} (choose from {', '.join(EMULATED_FAMILIES)})")
        if self.kind == "phyphox" and not self.target.startswith(("http://", "https://")):
            raise DeviceError(
                "give phyphox's address as shown under 'Allow remote access', e.g. http://192.168.1.20:8080"
            )
        if self.kind == "sensorlogger" and not self.target.isdigit():
            raise DeviceError(f"port {self.target!r} is not a number")
        if self.kind in PHONES and self.placements and self.placements[0] not in PLACEMENTS:
            raise DeviceError(f"unknown placement {self.placements[0]!r} (choose from {', '.join(PLACEMENTS)})")


@dataclass
class LiveSession:
    """A recorder with its sources added and the live analysis hooked to the analysed IMU stream."""

    recorder: Recorder
    analyzer: LiveAnalyzer
    folder: Path
    phone: Any = None  # the phone source (to tell the user where to point the app), else None
    replayed: Recording | None = None  # the recording played back (replay)
    sources: list[Any] = field(default_factory=list)


@asynccontextmanager
async def open_session(req: LiveRequest, folder: Path) -> AsyncIterator[LiveSession]:
    """Connect what ``req`` asks for and record into ``folder``; run ``session.recorder`` inside the block."""
    req.check()
    radio = replayed = None
    try:
        if req.kind in PHONES:
            meta, sources, rate = _phone(req)
        elif req.kind == "replay":
            replayed = load(req.target)
            meta, sources, rate = _replay(replayed, req.speed)
        else:
            radio = make_radio(req.targets if req.kind == "emulated" else (), req.rate_hz, req.feed_s, req.adapter)
            meta, sources, rate = await _sensors(req, radio)
        analyzer = LiveAnalyzer(window_s=WINDOW_S, rate_hz=rate)
        recorder = Recorder(folder, meta)
        for source in sources:
            recorder.add(source)
        recorder.on_block.append(lambda b: analyzer.append(b.t, b.values) if b.stream == "imu" else None)
        phone = sources[0] if req.kind in PHONES else None
        yield LiveSession(recorder, analyzer, folder, phone, replayed, sources)
    finally:
        if radio is not None:
            await radio.close()


def _phone(req: LiveRequest) -> tuple[RecordingMeta, list[Any], float]:
    from gait.sources.phone.phyphox import PhyphoxSource
    from gait.sources.phone.sensorlogger import SensorLoggerSource

    placement = (req.placements or ("waist_belt",))[0]
    source: SensorLoggerSource | PhyphoxSource
    if req.kind == "sensorlogger":
        source = SensorLoggerSource(
            req.host, int(req.target), req.token or None, platform=req.phone_os, placement=placement
        )
    else:
        platform = "ios" if req.phone_os == "ios" else "android"
        source = PhyphoxSource(req.target, placement=placement, platform=platform)
    detail = json.dumps({"app": req.kind, "url": getattr(source, "base", "")})
    meta = live_meta(title=req.title, runner=req.runner, placement=placement, source="phone", detail=detail)
    return meta, [source], PHONE_RATE_HZ


def _replay(rec: Recording, speed: float) -> tuple[RecordingMeta, list[Any], float]:
    """Every stream of a recording, played through the live path (a new recording: a new id, no gaps yet)."""
    from gait.sources.replay import ReplaySource

    meta = rec.meta.replace(
        id=RecordingMeta().id,
        title=f"replay of {rec.name}",
        source="replay",
        source_detail=str(rec.path or ""),
        complete=False,
        gaps=(),
    )
    sources = [ReplaySource(rec, "imu", speed), *(ReplaySource(rec, name, speed) for name in rec.extra)]
    return meta, sources, rec.imu.rate_hz


async def _sensors(req: LiveRequest, radio: Any) -> tuple[RecordingMeta, list[Any], float]:
    emulated = req.kind == "emulated"
    if emulated:
        await radio.start()
    targets = [s.name for s in radio.sensors] if emulated else list(req.targets)
    meta, sessions = await ble_sessions(
        radio,
        targets,
        req.placements,
        rate_hz=req.rate_hz,
        scan_timeout_s=1.0 if emulated else req.scan_timeout_s,
        title=req.title,
        runner=req.runner,
        emulated=emulated,
    )
    return meta, sessions, req.rate_hz or IMU_RATE_HZ
