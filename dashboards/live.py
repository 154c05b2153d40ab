"""The live session behind the dashboard's live page: one recorder in a background thread.

The web server answers requests on its own threads; the session runs the same asyncio recorder as
``gait record`` on a thread of its own and publishes a small, lock-protected state (status per stream, the
live metrics, their history) that the page polls every second. Stopping closes the recording cleanly; a
recording made from a sensor lands in the data folder and joins the runs list.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from gait.api import (
    DeviceError,
    GaitError,
    LiveRequest,
    LiveSession,
    RecorderStatus,
    check_lan_url,
    open_session,
)

HISTORY_MAX = 3600  # one point per second: an hour of live history in the chart
#: the run-record fields shown live (the cadence from the last 10 s, the others from the last 30 s)
TILES = ("cadence_spm", "pelvic_drop_left_deg", "pelvic_drop_right_deg", "braking_dv_mps", "contact_time_ms")
CADENCE_EVERY_S = 0.1  # the live cadence: cheap (~3 ms), so within 0.1 s of each notification
SNAPSHOT_EVERY_S = 1.0  # the full analysis of the last 30 s (~100 ms): drop, braking, contact time


def _label(req: LiveRequest) -> str:
    """How a live recording's folder is named after its source."""
    return {"emulated": req.target, "sensorlogger": "phone", "phyphox": "phone"}.get(req.kind, "sensor")


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
        req.check()
        if req.kind == "phyphox":  # the dashboard never fetches an arbitrary address
            req = dataclasses.replace(req, targets=(check_lan_url(req.target),))
        if req.kind == "sensorlogger" and not 1024 <= int(req.target) < 65536:
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
        with contextlib.ExitStack() as stack:
            if req.kind == "replay":  # a replay is not a new run: not kept
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gait-live-replay-"))) / "replay"
            else:
                folder = self.out_dir / f"{stamp}-{_label(req)}"
            async with open_session(req, folder) as session:
                self._update(
                    phase="recording", message="Recording.", folder=None if req.kind == "replay" else str(folder)
                )
                if session.phone is not None and hasattr(session.phone, "listening"):
                    asyncio.get_running_loop().create_task(self._announce(session))
                on_status = self._status_hook(session)
                result = await session.recorder.run(
                    stop=self._stop, on_status=on_status, status_every_s=CADENCE_EVERY_S
                )
            saved = None if req.kind == "replay" else result.folder
            self._update(
                phase="stopped",
                message=f"Stopped ({result.stopped_by}); "
                + (f"saved {result.folder.name} to the runs." if saved else "replay finished."),
                folder=str(saved) if saved else None,
            )
        if saved is not None and self.on_saved is not None:
            self.on_saved(saved)

    async def _announce(self, session: LiveSession) -> None:
        """Tell the page the URL to type into Sensor Logger once the receiver listens."""
        await session.phone.listening.wait()
        self._update(push_url=session.phone.url())

    def _status_hook(self, session: LiveSession) -> Callable[[RecorderStatus], None]:
        analyzer = session.analyzer
        last_snapshot = -math.inf

        def on_status(status: RecorderStatus) -> None:
            nonlocal last_snapshot
            t0 = time.perf_counter()
            full = status.elapsed_s - last_snapshot >= SNAPSHOT_EVERY_S
            try:
                cadence = _clean(analyzer.cadence_spm())
                record = analyzer.snapshot() if full else None
                snap = {k: None if record is None else _clean(getattr(record, k)) for k in TILES}
            except Exception as exc:  # a bug in the live view must never stop the recording
                self._update(analysis_error=f"{type(exc).__name__}: {exc}")
                cadence, snap = None, dict.fromkeys(TILES)
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
                tiles.update(snap if full else {})
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
