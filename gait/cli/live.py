"""``gait scan``, ``gait record`` and ``gait replay``: live sources, a status line, a crash-safe recording.

The session itself (sources, recorder, live analysis) is ``gait.live``, shared with the dashboard; this module
turns options into a ``LiveRequest``, shows the status line and prints what was recorded. Heavy modules are
imported inside the commands, so ``gait --help`` stays quick.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gait.errors import DeviceError, RecordingError

if TYPE_CHECKING:
    from gait.analysis.live import LiveAnalyzer
    from gait.live import LiveRequest, LiveSession
    from gait.sources.recorder import Recorder, RecorderStatus, RecordResult

#: the live cadence is recomputed this often (p95 notification -> metric < 0.1 s; ~3 ms of CPU each time)
LIVE_REFRESH_S = 0.1


def _quiet_bumble() -> None:
    import logging

    logging.getLogger("bumble").setLevel(logging.ERROR)


def scan(args: argparse.Namespace) -> int:
    import asyncio

    from gait.sources.ble.devices import identify
    from gait.sources.connect import make_radio

    _quiet_bumble()

    async def go() -> list:
        radio = make_radio(args.emulate or [], adapter=args.adapter)
        try:
            return await radio.scan(args.timeout)  # type: ignore[attr-defined]
        finally:
            await radio.close()  # type: ignore[attr-defined]

    adverts = asyncio.run(go())
    rows = [(a, identify(a)) for a in adverts]
    shown = [(a, d) for a, d in rows if d is not None or args.all]
    if not shown:
        print(
            f"No supported sensors found in {args.timeout:g} s (seen {len(adverts)} Bluetooth devices; --all lists "
            "them). Is the sensor awake and not connected to a phone?"
        )
        return 0
    print(f"{'type':<11} {'name':<28} {'address':<19} {'RSSI':>5}")
    for a, d in shown:
        print(f"{d.family if d else '-':<11} {(a.name or '?')[:28]:<28} {a.address:<19} {a.rssi:>5}")
    imus = [a for a, d in shown if d is not None and d.kind == "imu"]
    if imus:
        print(f'\nRecord with: gait record --device "{imus[0].name or imus[0].address}"')
    return 0


class StatusLine:
    """One line on stderr, rewritten in place on a terminal (every 10 s as plain lines otherwise)."""

    def __init__(self, live: LiveAnalyzer | None) -> None:
        self.live = live
        self.tty = sys.stderr.isatty()
        self._last_plain = -math.inf
        self.width = 0

    def __call__(self, status: RecorderStatus) -> None:
        m, s = divmod(int(status.elapsed_s), 60)
        parts = [f"{m:02d}:{s:02d}"]
        for name, st in status.streams.items():
            state = "ok" if st.connected else (st.message[:40] or "waiting")
            bat = f" bat {st.battery:.0f}%" if st.battery is not None else ""
            lost = f" lost {st.lost}" if st.lost else ""
            parts.append(f"{name}: {state} {st.rate_hz:.0f}/s{lost}{bat}")
        if self.live is not None:
            cad = self.live.cadence_spm()
            parts.append(f"cadence {cad:.0f} spm" if cad else "cadence --")
        line = "  ".join(parts)
        if self.tty:
            sys.stderr.write("\r" + line.ljust(self.width)[:200])
            sys.stderr.flush()
            self.width = len(line)
        elif status.elapsed_s - self._last_plain >= 10:
            print(line, file=sys.stderr)
            self._last_plain = status.elapsed_s

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


async def _run(recorder: Recorder, duration: float | None, status: StatusLine) -> RecordResult:
    """Run the recorder; Ctrl-C (or SIGTERM) stops it cleanly and the recording is closed either way."""
    import asyncio
    import contextlib
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        return await recorder.run(duration_s=duration, stop=stop, on_status=status, status_every_s=LIVE_REFRESH_S)
    finally:
        status.done()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)


def _default_out(prefix: str) -> Path:
    from datetime import datetime

    from gait.store import default_path

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return default_path().parent / "recordings" / f"{prefix}-{stamp}"


def _summarise(
    result: RecordResult, *, analyze: bool = True, store: str | None = None, runner: str | None, save: bool
) -> None:
    """What was recorded, per stream; then the run analysed (and, with ``save``, added to the run history)."""
    print(f"wrote {result.folder} ({result.duration_s:.0f} s, stopped by {result.stopped_by})")
    for name, st in result.streams.items():
        extra = f", {st.gaps} gap(s)" if st.gaps else ""
        print(f"  {name}: {st.samples} samples, {st.lost} lost{extra}  {st.device}")
        if not st.connected and st.message not in ("", "ended", *result.errors):  # dropped, never came back
            print(f"  note: {name}: link lost and not re-established before the end ({st.message})")
    for err in result.errors:
        print(f"  note: {err}")
    if not analyze:
        return
    from gait.cli.report_text import format_text
    from gait.errors import GaitError
    from gait.recording import load
    from gait.runs import analyze as analyze_run
    from gait.store import RunStore, StoreError

    try:
        run_store = RunStore(store) if save else None
    except StoreError as exc:
        print(f"gait: warning: {exc}; not saved to the run history", file=sys.stderr)
        run_store = None
    try:
        print(format_text(analyze_run(load(result.folder), store=run_store, runner=runner, save=run_store is not None)))
    except GaitError as exc:
        print(f"  not analysed: {exc}")


def _request(args: argparse.Namespace) -> LiveRequest:
    """``gait record``'s options as a live request (the same the dashboard's live page makes)."""
    from gait.live import LiveRequest
    from gait.sources.phone.sensorlogger import DEFAULT_HOST, DEFAULT_PORT

    common = {
        "rate_hz": args.rate,
        "runner": args.runner,
        "title": args.title,
        "placements": tuple(args.placement or ()),
    }
    if args.phone:
        if args.device or args.emulate:
            raise DeviceError("use either --phone or --device/--emulate, not both")
        if args.phone == "phyphox" and not args.url:
            raise DeviceError("give --url http://PHONE:PORT as phyphox shows it under 'Allow remote access'")
        if args.phone == "sensorlogger" and args.url:
            raise DeviceError("--url is for phyphox; Sensor Logger pushes to gait (use --host/--port/--token)")
        target = args.url if args.phone == "phyphox" else str(DEFAULT_PORT if args.port is None else args.port)
        host = args.host or DEFAULT_HOST
        return LiveRequest(args.phone, target, host=host, token=args.token, phone_os=args.phone_os, **common)
    if not args.device and not args.emulate:
        raise DeviceError("give --device NAME_OR_ADDRESS (see 'gait scan') or --emulate FAMILY to try without one")
    if args.device and args.emulate:
        raise DeviceError("use either --device (real sensors) or --emulate (emulated ones), not both")
    kind, targets = ("emulated", args.emulate) if args.emulate else ("ble", args.device)
    feed_s = max(30.0, (args.duration or 600.0) + 10)  # emulated sensors: samples for the whole recording
    return LiveRequest(kind, tuple(targets), adapter=args.adapter, scan_timeout_s=args.timeout, feed_s=feed_s, **common)


async def _announce(session: LiveSession, duration: float | None) -> None:
    """Tell the user where the phone should send its samples (once the receiver listens) and where they go."""
    phone = session.phone
    if phone is not None and hasattr(phone, "listening"):  # Sensor Logger pushes to gait
        await phone.listening.wait()
        print(f"listening on {phone.host}:{phone.port}. In Sensor Logger (Logger page, gear icon), turn on "
              f"HTTP Push with the URL:\n  {phone.url()}", file=sys.stderr)  # fmt: skip
        if phone.token_generated:
            print("  (no --token given: gait generated the one in this URL; the phone needs it to send samples)",
                  file=sys.stderr)  # fmt: skip
        if phone.host in ("127.0.0.1", "localhost"):
            print("  (only this machine can reach 127.0.0.1: for a phone on the Wi-Fi use --host 0.0.0.0)",
                  file=sys.stderr)  # fmt: skip
    elif phone is not None:
        print(f"polling phyphox at {phone.base} ...", file=sys.stderr)
    until = "" if duration is None else f"; {duration:g} s"
    print(f"recording to {session.folder} (Ctrl-C to stop{until})", file=sys.stderr)


def _phone_counts(session: LiveSession) -> None:
    phone = session.phone
    if phone is None or not hasattr(phone, "counts"):
        return
    c = phone.counts
    late = f", {phone.imu.late} readings over {phone.imu.hold_s:g} s late (kept)" if phone.imu.late else ""
    print(f"  push messages: {c['accepted']} accepted, {c['duplicate']} duplicate, {c['rejected']} rejected{late}"
          + (f" (last: {phone.rejections[-1]})" if phone.rejections else ""))  # fmt: skip


def record(args: argparse.Namespace) -> int:
    """``gait record``: sensors, emulated sensors or a phone, a status line, a crash-safe recording, then analysis."""
    import asyncio

    from gait.live import open_session

    _quiet_bumble()
    req = _request(args)
    req.check()
    out = Path(args.out) if args.out else _default_out("phone" if args.phone else "run")
    if out.exists() and any(out.iterdir()):
        raise RecordingError(f"{out}: already exists and is not empty (choose another --out)")

    async def go() -> tuple[RecordResult, LiveSession]:
        if not args.phone:
            print(f"looking for {', '.join(req.targets)} ...", file=sys.stderr)
        async with open_session(req, out) as session:
            task = asyncio.create_task(_announce(session, args.duration))
            try:
                return await _run(session.recorder, args.duration, StatusLine(session.analyzer)), session
            finally:
                task.cancel()

    result, session = asyncio.run(go())
    _phone_counts(session)
    _summarise(result, analyze=not args.no_analyze, store=args.store, runner=args.runner, save=True)
    return 0


def replay(args: argparse.Namespace) -> int:
    """``gait replay``: a recording through the live path (status line, live cadence, recorder), then analysis."""
    import asyncio
    import contextlib
    import tempfile
    import time

    from gait.live import LiveRequest, open_session

    speed = math.inf if args.speed == "max" else float(args.speed)
    if speed <= 0:
        raise RecordingError(f"--speed must be positive or 'max', got {args.speed}")
    req = LiveRequest("replay", args.recording, speed=speed)
    with contextlib.ExitStack() as stack:
        out = Path(args.out) if args.out else None
        if out is None:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gait-replay-"))) / "replay"

        async def go() -> tuple[RecordResult, LiveSession]:
            async with open_session(req, out) as session:
                return await _run(session.recorder, args.duration, StatusLine(session.analyzer)), session

        t0 = time.perf_counter()
        result, session = asyncio.run(go())
        rec = session.replayed
        assert rec is not None
        print(f"replayed {rec.imu.duration_s:.0f} s of {rec.name} in {time.perf_counter() - t0:.1f} s")
        # a replay is not a new run: analysed as the original runner's, not saved
        _summarise(result, analyze=not args.no_analyze, runner=rec.meta.subject.id or None, save=False)
    return 0
