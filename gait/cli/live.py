"""``gait scan``, ``gait record`` and ``gait replay``: live sources, a status line, a crash-safe recording."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from gait.analysis.live import LiveAnalyzer
from gait.errors import DeviceError, RecordingError
from gait.recording.meta import PLACEMENTS, RecordingMeta
from gait.sources.connect import ble_sessions, live_meta, make_radio
from gait.sources.recorder import Recorder, RecorderStatus, RecordResult

SCAN_TIMEOUT_S = 5.0
#: the live cadence is recomputed this often (p95 notification -> metric < 0.1 s; ~3 ms of CPU each time)
LIVE_REFRESH_S = 0.1


def _quiet_bumble() -> None:
    import logging

    logging.getLogger("bumble").setLevel(logging.ERROR)


def scan(args: argparse.Namespace) -> int:
    from gait.sources.ble.devices import identify

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
    from gait.store import default_path

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return default_path().parent / "recordings" / f"{prefix}-{stamp}"


def _summarise(result: RecordResult, args: argparse.Namespace) -> None:
    print(f"wrote {result.folder} ({result.duration_s:.0f} s, stopped by {result.stopped_by})")
    for name, st in result.streams.items():
        extra = f", {st.gaps} gap(s)" if st.gaps else ""
        print(f"  {name}: {st.samples} samples, {st.lost} lost{extra}  {st.device}")
        if not st.connected and st.message not in ("", "ended", *result.errors):  # dropped, never came back
            print(f"  note: {name}: link lost and not re-established before the end ({st.message})")
    for err in result.errors:
        print(f"  note: {err}")
    if getattr(args, "no_analyze", False):
        return
    from gait.cli.report_text import format_text
    from gait.errors import GaitError
    from gait.recording import load
    from gait.runs import analyze
    from gait.store import RunStore, StoreError

    try:
        store = RunStore(getattr(args, "store", None)) if getattr(args, "save", True) else None
    except StoreError as exc:
        print(f"gait: warning: {exc}; not saved to the run history", file=sys.stderr)
        store = None
    try:
        print(format_text(analyze(load(result.folder), store=store, runner=args.runner, save=store is not None)))
    except GaitError as exc:
        print(f"  not analysed: {exc}")


def record_phone(args: argparse.Namespace) -> int:
    """``gait record --phone sensorlogger|phyphox``: a phone over the local network, same recorder and status line."""
    from gait.sources.phone.phyphox import PhyphoxSource
    from gait.sources.phone.sensorlogger import DEFAULT_HOST, DEFAULT_PORT, SensorLoggerSource

    if args.device or args.emulate:
        raise DeviceError("use either --phone or --device/--emulate, not both")
    placement = (args.placement or ["waist_belt"])[0]
    if placement not in PLACEMENTS:
        raise DeviceError(f"unknown placement {placement!r} (choose from {', '.join(PLACEMENTS)})")
    out = Path(args.out) if args.out else _default_out("phone")
    if out.exists() and any(out.iterdir()):
        raise RecordingError(f"{out}: already exists and is not empty (choose another --out)")
    source: SensorLoggerSource | PhyphoxSource
    if args.phone == "sensorlogger":
        if args.url:
            raise DeviceError("--url is for phyphox; Sensor Logger pushes to gait (use --host/--port/--token)")
        source = SensorLoggerSource(
            args.host or DEFAULT_HOST,
            DEFAULT_PORT if args.port is None else args.port,
            args.token,
            platform=args.phone_os,
            placement=placement,
        )
    else:
        if not args.url:
            raise DeviceError("give --url http://PHONE:PORT as phyphox shows it under 'Allow remote access'")
        source = PhyphoxSource(args.url, placement=placement, platform="ios" if args.phone_os == "ios" else "android")
    detail = json.dumps({"app": args.phone, "url": getattr(source, "base", "")})
    meta = live_meta(title=args.title, runner=args.runner, placement=placement, source="phone", detail=detail)
    recorder = Recorder(out, meta)
    recorder.add(source)
    live = LiveAnalyzer(window_s=30.0, rate_hz=100.0)
    recorder.on_block.append(lambda b: live.append(b.t, b.values) if b.stream == "imu" else None)

    async def announce() -> None:
        if isinstance(source, SensorLoggerSource):
            await source.listening.wait()
            print(f"listening on {source.host}:{source.port}. In Sensor Logger (Logger page, gear icon), turn on "
                  f"HTTP Push with the URL:\n  {source.url()}", file=sys.stderr)  # fmt: skip
            if source.token_generated:
                print("  (no --token given: gait generated the one in this URL; the phone needs it to send samples)",
                      file=sys.stderr)  # fmt: skip
            if source.host in ("127.0.0.1", "localhost"):
                print("  (only this machine can reach 127.0.0.1: for a phone on the Wi-Fi use --host 0.0.0.0)",
                      file=sys.stderr)  # fmt: skip
        else:
            print(f"polling phyphox at {source.base} ...", file=sys.stderr)
        print(f"recording to {out} (Ctrl-C to stop{'' if args.duration is None else f'; {args.duration:g} s'})",
              file=sys.stderr)  # fmt: skip

    async def go() -> RecordResult:
        task = asyncio.create_task(announce())
        try:
            return await _run(recorder, args.duration, StatusLine(live))
        finally:
            task.cancel()

    result = asyncio.run(go())
    if isinstance(source, SensorLoggerSource):
        c = source.counts
        late = f", {source.imu.late} readings over {source.imu.hold_s:g} s late (kept)" if source.imu.late else ""
        print(f"  push messages: {c['accepted']} accepted, {c['duplicate']} duplicate, {c['rejected']} rejected{late}"
              + (f" (last: {source.rejections[-1]})" if source.rejections else ""))  # fmt: skip
    _summarise(result, args)
    return 0


def record(args: argparse.Namespace) -> int:
    if getattr(args, "phone", None):
        return record_phone(args)
    _quiet_bumble()
    emulate = args.emulate or []
    devices = args.device or []
    if not devices and not emulate:
        raise DeviceError("give --device NAME_OR_ADDRESS (see 'gait scan') or --emulate FAMILY to try without one")
    if devices and emulate:
        raise DeviceError("use either --device (real sensors) or --emulate (emulated ones), not both")
    out = Path(args.out) if args.out else _default_out("run")
    if out.exists() and any(out.iterdir()):
        raise RecordingError(f"{out}: already exists and is not empty (choose another --out)")
    live = LiveAnalyzer(window_s=30.0, rate_hz=args.rate or 104.0)
    status = StatusLine(live)

    async def go() -> RecordResult:
        radio = make_radio(
            emulate, args.rate, duration_s=max(30.0, (args.duration or 600.0) + 10), adapter=args.adapter
        )
        try:
            if emulate:
                await radio.start()
            targets = [s.name for s in radio.sensors] if emulate else devices
            print(f"looking for {', '.join(targets)} ...", file=sys.stderr)
            meta, sessions = await ble_sessions(
                radio,
                targets,
                args.placement or [],
                rate_hz=args.rate,
                scan_timeout_s=1.0 if emulate else args.timeout,
                title=args.title,
                runner=args.runner,
                emulated=bool(emulate),
            )
            recorder = Recorder(out, meta)
            for session in sessions:
                recorder.add(session)
            recorder.on_block.append(lambda b: live.append(b.t, b.values) if b.stream == "imu" else None)
            print(
                f"recording to {out} (Ctrl-C to stop{'' if args.duration is None else f'; {args.duration:g} s'})",
                file=sys.stderr,
            )
            return await _run(recorder, args.duration, status)
        finally:
            await radio.close()

    result = asyncio.run(go())
    _summarise(result, args)
    return 0


def replay(args: argparse.Namespace) -> int:
    from gait.recording import load
    from gait.sources.replay import ReplaySource

    rec = load(args.recording)
    speed = math.inf if args.speed == "max" else float(args.speed)
    if speed <= 0:
        raise RecordingError(f"--speed must be positive or 'max', got {args.speed}")
    tmp = None
    out = Path(args.out) if args.out else None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="gait-replay-")
        out = Path(tmp.name) / "replay"
    meta = rec.meta.replace(
        id=RecordingMeta().id,
        title=f"replay of {rec.name}",
        source="replay",
        source_detail=str(rec.path or ""),
        complete=False,
        gaps=(),
    )
    recorder = Recorder(out, meta)
    recorder.add(ReplaySource(rec, "imu", speed))
    for name in rec.extra:
        recorder.add(ReplaySource(rec, name, speed))
    live = LiveAnalyzer(window_s=30.0, rate_hz=rec.imu.rate_hz)
    recorder.on_block.append(lambda b: live.append(b.t, b.values) if b.stream == "imu" else None)
    t0 = time.perf_counter()
    result = asyncio.run(_run(recorder, args.duration, StatusLine(live)))
    wall = time.perf_counter() - t0
    print(f"replayed {rec.imu.duration_s:.0f} s of {rec.name} in {wall:.1f} s")
    args.runner = rec.meta.subject.id or None
    args.save = False  # a replay is not a new run
    try:
        _summarise(result, args)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0
