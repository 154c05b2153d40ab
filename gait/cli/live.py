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
from datetime import UTC, datetime
from pathlib import Path

from gait.analysis.live import LiveAnalyzer
from gait.errors import DeviceError, RecordingError
from gait.recording.meta import PLACEMENTS, RecordingMeta, SubjectInfo
from gait.sources.recorder import Recorder, RecorderStatus, RecordResult

SCAN_TIMEOUT_S = 5.0


def _radio(args: argparse.Namespace, families: list[str], duration_s: float = 600.0) -> object:
    """Emulated sensors when asked for, else the real radio."""
    if families:
        from gait.sources.emulate import EmulatedRadio, make_sensor

        radio = EmulatedRadio()
        counts: dict[str, int] = {}
        for fam in families:
            counts[fam] = counts.get(fam, 0) + 1
            radio.add(make_sensor(fam, k=counts[fam], rate_hz=getattr(args, "rate", None), duration_s=duration_s))
        return radio
    from gait.sources.ble.bleak_link import BleakRadio

    return BleakRadio(adapter=getattr(args, "adapter", None))


def _quiet_bumble() -> None:
    import logging

    logging.getLogger("bumble").setLevel(logging.ERROR)


def scan(args: argparse.Namespace) -> int:
    from gait.sources.ble.devices import identify

    _quiet_bumble()

    async def go() -> list:
        radio = _radio(args, args.emulate or [])
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


def _stream_names(families: list[str], placements: list[str]) -> list[tuple[str, str]]:
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
        return await recorder.run(duration_s=duration, stop=stop, on_status=status)
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


def record(args: argparse.Namespace) -> int:
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
        from gait.sources.ble.devices import identify
        from gait.sources.ble.session import DeviceSession, match_advert

        radio = _radio(args, emulate, duration_s=max(30.0, (args.duration or 600.0) + 10))
        try:
            if emulate:
                await radio.start()  # type: ignore[attr-defined]
            targets = [s.name for s in radio.sensors] if emulate else devices  # type: ignore[attr-defined]
            print(f"looking for {', '.join(targets)} ...", file=sys.stderr)
            adverts = await radio.scan(1.0 if emulate else args.timeout)  # type: ignore[attr-defined]
            found = []
            for target in targets:
                advert = match_advert(target, adverts)
                driver_cls = identify(advert) if advert is not None else None
                if advert is None or driver_cls is None:
                    seen = ", ".join(a.name for a in adverts if identify(a)) or "no supported sensors"
                    raise DeviceError(f"sensor {target!r} not found or not supported (in range: {seen})")
                found.append((advert, driver_cls))
            names = _stream_names([d.family for _, d in found], args.placement or [])
            primary = next(p for n, p in names if n == "imu")
            meta = RecordingMeta(
                title=args.title or f"run {datetime.now():%Y-%m-%d %H:%M}",
                start_utc=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                placement=primary,
                subject=SubjectInfo(id=args.runner or ""),
                source="ble",
                source_detail=json.dumps(
                    {"sensors": [f"{a.name} ({a.address})" for a, _ in found], "emulated": bool(emulate)}
                ),
                synthetic=bool(emulate),
                notes="Emulated sensors streaming gait's simulator (not a person)." if emulate else "",
            )
            recorder = Recorder(out, meta)
            for (advert, driver_cls), (stream, place) in zip(found, names, strict=True):
                driver = driver_cls(args.rate if driver_cls.kind == "imu" else None)
                session = DeviceSession(
                    radio,
                    advert.name or advert.address,
                    driver,
                    stream,
                    place,  # type: ignore[arg-type]
                    scan_timeout_s=1.0 if emulate else args.timeout,
                )
                session.advert = advert
                recorder.add(session)
            recorder.on_block.append(lambda b: live.append(b.t, b.values) if b.stream == "imu" else None)
            print(
                f"recording to {out} (Ctrl-C to stop{'' if args.duration is None else f'; {args.duration:g} s'})",
                file=sys.stderr,
            )
            return await _run(recorder, args.duration, status)
        finally:
            await radio.close()  # type: ignore[attr-defined]

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
