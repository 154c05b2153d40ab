"""The live session behind the dashboard's live page: one recorder in a background thread.

The web server answers requests on its own threads; the session runs the same asyncio recorder as
``gait record`` on a thread of its own and publishes a small, lock-protected state (status per stream, the
live metrics, their history) that the page polls every second. Stopping closes the recording cleanly; a
recording made from a sensor lands in the data folder and joins the runs list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gait.analysis.live import LiveAnalyzer
from gait.constants import EMULATED_FAMILIES
from gait.errors import DeviceError, GaitError
from gait.recording import load
from gait.sources.connect import ble_sessions, live_meta, make_radio
from gait.sources.phone.phyphox import check_lan_url
from gait.sources.recorder import Recorder, RecorderStatus
from gait.sources.replay import ReplaySource

KINDS = ("emulated", "ble", "replay", "sensorlogger", "phyphox")
HISTORY_MAX = 3600  # one point per second: an hour of live history in the chart
TILES = ("cadence_spm", "drop_left_deg", "drop_right_deg", "braking_dv_mps", "contact_time_ms")
CADENCE_EVERY_S = 0.1  # the live cadence: cheap (~3 ms), so within 0.1 s of each notification
SNAPSHOT_EVERY_S = 1.0  # the full analysis of the last 30 s (~100 ms): drop, braking, contact time


@dataclass(frozen=True)
class LiveRequest:
    """What to stream. ``target``: the family (emulated), a name or address (ble), a recording path (replay),
    the phone's URL (phyphox) or the port to listen on (sensorlogger)."""

    kind: str
    target: str
    speed: float = 1.0  # replay only
    rate_hz: float | None = None
    runner: str | None = None
    host: str = "127.0.0.1"  # sensorlogger: where the receiver listens (0.0.0.0 for a phone on the Wi-Fi)
    token: str | None = None  # sensorlogger: the shared token the phone must send


def _clean(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


class LiveController:
    def __init__(self, out_dir: Path, on_saved: Callable[[Path], object] | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.on_saved = on_saved
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._state: dict[str, Any] = {"phase": "idle", "message": "Not recording.", "history": []}

    # ---- control (called from web threads) --------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, req: LiveRequest) -> None:
        if req.kind not in KINDS:
            raise DeviceError(f"unknown live source {req.kind!r} (choose from {', '.join(KINDS)})")
        if not req.target:
            raise DeviceError("choose what to stream first")
        if req.kind == "emulated" and req.target not in EMULATED_FAMILIES:
            raise DeviceError(f"no emulated sensor called {req.target!r}")
        if req.kind == "phyphox":
            check_lan_url(req.target)  # the dashboard never fetches an arbitrary address
        if req.kind == "sensorlogger" and not (req.target.isdigit() and 1024 <= int(req.target) < 65536):
            raise DeviceError(f"port {req.target!r}: choose a number between 1024 and 65535")
        if self.running:
            raise DeviceError("a live session is already running: stop it first")
        with self._lock:
            self._state = {"phase": "connecting", "message": f"Connecting to {req.target} ...", "history": []}
        self._thread = threading.Thread(target=self._run, args=(req,), name="gait-live", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = 10.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(wait_s)

    def state(self) -> dict[str, Any]:
        """A JSON-ready copy: phase, message, elapsed_s, streams, tiles, history, folder, error."""
        with self._lock:
            s = dict(self._state)
            s["history"] = list(s.get("history", []))
        s["running"] = self.running
        return s

    def _update(self, **kw: Any) -> None:
        with self._lock:
            self._state.update(kw)

    # ---- the session thread -----------------------------------------------------------------------------------
    def _run(self, req: LiveRequest) -> None:
        try:
            asyncio.run(self._main(req))
        except GaitError as exc:
            self._update(phase="error", message=str(exc), error=str(exc))
        except Exception as exc:  # a bug: shown on the page, the recording is closed by the recorder
            self._update(phase="error", message=f"internal error: {type(exc).__name__}: {exc}", error=str(exc))

    async def _main(self, req: LiveRequest) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        radio = None
        tmp = None
        try:
            if req.kind in ("sensorlogger", "phyphox"):
                sources = [self._phone(req)]
                folder = self.out_dir / f"{stamp}-phone"
                meta = live_meta(
                    title=None,
                    runner=req.runner,
                    placement="waist_belt",
                    source="phone",
                    detail=json.dumps({"app": req.kind, "url": req.target if req.kind == "phyphox" else ""}),
                )
                rate = 100.0
            elif req.kind == "replay":
                rec = load(req.target)
                tmp = tempfile.TemporaryDirectory(prefix="gait-live-replay-")
                folder = Path(tmp.name) / "replay"  # a replay is not a new run: not kept
                meta = rec.meta.replace(title=f"replay of {rec.name}", source="replay", complete=False, gaps=())
                sources: list[Any] = [ReplaySource(rec, "imu", req.speed)]
                rate = rec.imu.rate_hz
            else:
                emulated = req.kind == "emulated"
                radio = make_radio([req.target] if emulated else [], req.rate_hz, duration_s=600.0)
                if emulated:
                    await radio.start()
                targets = [s.name for s in radio.sensors] if emulated else [req.target]
                meta, sources = await ble_sessions(
                    radio,
                    targets,
                    [],
                    rate_hz=req.rate_hz,
                    scan_timeout_s=1.0 if emulated else 5.0,
                    runner=req.runner,
                    emulated=emulated,
                )
                folder = self.out_dir / f"{stamp}-{req.target if emulated else 'sensor'}"
                rate = req.rate_hz or 104.0
            analyzer = LiveAnalyzer(window_s=30.0, rate_hz=rate)
            recorder = Recorder(folder, meta)
            for s in sources:
                recorder.add(s)
            recorder.on_block.append(lambda b: analyzer.append(b.t, b.values) if b.stream == "imu" else None)
            self._update(phase="recording", message="Recording.", folder=str(folder) if req.kind != "replay" else None)
            if req.kind == "sensorlogger":
                asyncio.get_running_loop().create_task(self._announce(sources[0]))
            on_status = self._status_hook(analyzer)
            result = await recorder.run(stop=self._stop, on_status=on_status, status_every_s=CADENCE_EVERY_S)
            saved = None if req.kind == "replay" else result.folder
            self._update(
                phase="stopped",
                message=f"Stopped ({result.stopped_by}); "
                + (f"saved {result.folder.name} to the runs." if saved else "replay finished."),
                folder=str(saved) if saved else None,
            )
            if saved is not None and self.on_saved is not None:
                self.on_saved(saved)
        finally:
            if radio is not None:
                await radio.close()
            if tmp is not None:
                tmp.cleanup()

    def _phone(self, req: LiveRequest) -> Any:
        from gait.sources.phone.phyphox import PhyphoxSource
        from gait.sources.phone.sensorlogger import SensorLoggerSource

        if req.kind == "phyphox":
            return PhyphoxSource(check_lan_url(req.target))
        try:
            port = int(req.target)
        except ValueError:
            raise DeviceError(f"port {req.target!r} is not a number") from None
        if not 1024 <= port < 65536:
            raise DeviceError(f"port {port}: choose one between 1024 and 65535")
        return SensorLoggerSource(req.host, port, req.token or None)

    async def _announce(self, source: Any) -> None:
        """Tell the page the URL to type into Sensor Logger once the receiver listens."""
        await source.listening.wait()
        self._update(push_url=source.url())

    def _status_hook(self, analyzer: LiveAnalyzer) -> Callable[[RecorderStatus], None]:
        last_snapshot = -math.inf

        def on_status(status: RecorderStatus) -> None:
            nonlocal last_snapshot
            t0 = time.perf_counter()
            full = status.elapsed_s - last_snapshot >= SNAPSHOT_EVERY_S
            try:
                cadence = _clean(analyzer.cadence_spm())
                snap = {k: _clean(v) for k, v in analyzer.snapshot().items()} if full else {}
            except Exception as exc:  # a bug in the live view must never stop the recording
                self._update(analysis_error=f"{type(exc).__name__}: {exc}")
                cadence, snap = None, {}
            streams = [
                {
                    "name": name,
                    "connected": st.connected,
                    "rate_hz": round(st.rate_hz, 1),
                    "samples": st.samples,
                    "lost": st.lost,
                    "gaps": st.gaps,
                    "battery": st.battery,
                    "message": st.message,
                    "device": st.device,
                }
                for name, st in status.streams.items()
            ]
            with self._lock:
                tiles = dict(self._state.get("tiles") or {})
                tiles.update({k: snap.get(k) for k in TILES} if full else {})
                tiles["cadence_spm"] = cadence
                if full:
                    last_snapshot = status.elapsed_s
                    hist = self._state.setdefault("history", [])
                    hist.append({"elapsed_s": round(status.elapsed_s, 2), **tiles})
                    del hist[:-HISTORY_MAX]
                self._state.update(
                    elapsed_s=status.elapsed_s,
                    streams=streams,
                    tiles=tiles,
                    updated=time.time(),
                    **({"analysis_ms": 1000 * (time.perf_counter() - t0)} if full else {}),
                )

        return on_status
