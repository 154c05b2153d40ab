"""Benchmark: latency from a BLE notification to the live metric that includes it, and CPU per sensor.

Emulated Movesense sensors stream IMU6 at --rate Hz (default 208) over the in-process GATT link into the same
Recorder the ``gait record`` command uses; each stream feeds a ``LiveAnalyzer`` through ``Recorder.on_block`` (as
gait/cli/live.py wires it) and the live metric is recomputed every --refresh seconds from the recorder's status
callback. Modes:

* ``none``: recording only (no live analysis): the baseline;
* ``cadence``: the live cadence the status line shows (autocorrelation of the last 10 s);
* ``snapshot``: ``LiveAnalyzer.snapshot`` (the full pipeline on the last 30 s: cadence, contact time, pelvic drop
  per side, braking).

Latency of a sample = (end of the first live-metric update whose input included that sample) - (when the emulated
sensor sent the notification carrying it). An update includes every sample appended to the analyzer before the
update started. Only the steady state counts: notifications in the first --warmup seconds are left out (the clock
mapping holds samples ~2 s at the start and cadence needs 4 s of signal).

CPU: the whole process (time.process_time) includes the emulated sensors and both sides of the bumble BLE stack,
which on a real phone or laptop run in the sensor and the OS. gait's own work is timed separately with the thread
CPU clock (everything runs on the event loop's thread): decoding notifications (driver.on_notify and the clock
mapping behind it), the recorder (writer + hooks) and the live-metric updates; "gait CPU per sensor" is their sum
divided by wall time and by the number of sensors.

    python benchmarks/bench_live_latency.py [--seconds 60] [--rate 208] [--sensors 1] [--modes none,cadence,snapshot]
        [--refresh 1.0,0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


class ThreadClock:
    """Accumulates this thread's CPU time spent inside wrapped callables."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            c0 = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds += time.thread_time() - c0

        return timed


async def run(seconds: float, rate: float, n_sensors: int, mode: str, refresh_s: float, folder: Path) -> dict:
    from gait.analysis.live import LiveAnalyzer
    from gait.recording.meta import RecordingMeta
    from gait.sources.ble.devices import driver_for
    from gait.sources.ble.session import DeviceSession
    from gait.sources.emulate import EmulatedRadio, make_sensor
    from gait.sources.recorder import Recorder

    radio = EmulatedRadio()
    sensors = [
        radio.add(make_sensor("movesense", k=k + 1, rate_hz=rate, duration_s=seconds + 30)) for k in range(n_sensors)
    ]
    await radio.start()
    rec = Recorder(folder, RecordingMeta(source="ble", synthetic=True))
    names = ["imu"] + [f"sensor{k + 1}" for k in range(1, n_sensors)]
    decode, record, live = ThreadClock(), ThreadClock(), ThreadClock()
    for s, name in zip(sensors, names, strict=True):
        driver = driver_for("movesense", rate)
        driver.on_notify = decode.wrap(driver.on_notify)  # type: ignore[method-assign]
        rec.add(DeviceSession(radio, s.name, driver, name, "sacrum" if name == "imu" else "other", scan_timeout_s=0.5))
    rec._handle = record.wrap(rec._handle)  # type: ignore[method-assign]

    analyzers = {n: LiveAnalyzer(window_s=30.0, rate_hz=rate) for n in names} if mode != "none" else {}
    updates: dict[str, list[tuple[float, float, int]]] = {n: [] for n in names}  # (start, end, samples included)
    values: dict[str, list[float | None]] = {n: [] for n in names}

    def on_block(b: Any) -> None:
        if b.stream in analyzers:
            analyzers[b.stream].append(b.t, b.values)

    def on_status(_status: Any) -> None:
        for name, a in analyzers.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            n = a.window.n_total
            snap = None if mode == "cadence" else a.snapshot()
            value = a.cadence_spm() if mode == "cadence" else snap and snap.contact_time_ms
            t1 = time.perf_counter()
            live.seconds += time.thread_time() - c0
            updates[name].append((t0, t1, n))
            values[name].append(value)

    rec.on_block.append(on_block)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await rec.run(duration_s=seconds, on_status=on_status, status_every_s=refresh_s)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await radio.close()
    out: dict[str, Any] = {
        "mode": mode,
        "refresh_s": refresh_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "decode_s": decode.seconds,
        "record_s": record.seconds,
        "live_s": live.seconds,
        "latency_ms": [],
        "update_ms": [],
    }
    if mode == "none":
        return out
    for s, name in zip(sensors, names, strict=True):
        sends = np.array([p for p, _ in s.send_log])
        sent_cum = np.cumsum([len(t) for t in s.sent_t])
        up = np.array(updates[name])
        ok_value = np.array([v is not None for v in values[name]])
        up = up[ok_value]  # an update that produced no value (warm-up) does not count as the metric updating
        k = np.searchsorted(up[:, 2], sent_cum)  # first update whose input covered this notification's samples
        covered = k < len(up)
        lat = up[k[covered], 1] - sends[covered]
        steady = sends[covered] > sends[0] + WARMUP_S
        out["latency_ms"].append(1000 * lat[steady])
        out["update_ms"].append(1000 * (up[:, 1] - up[:, 0]))
    return out


WARMUP_S = 8.0


def describe(r: dict, n_sensors: int) -> str:
    gait_s = r["decode_s"] + r["record_s"] + r["live_s"]
    pct = lambda s: 100 * s / r["wall_s"]  # noqa: E731
    line = (
        f"{r['mode']:>8} every {r['refresh_s']:g} s: process CPU {pct(r['cpu_s']):.1f} % of a core "
        f"({pct(r['cpu_s']) / n_sensors:.1f} % per sensor, emulation and both BLE stacks included); gait's own work "
        f"{pct(gait_s) / n_sensors:.1f} % per sensor (decode {pct(r['decode_s']) / n_sensors:.1f}, record "
        f"{pct(r['record_s']) / n_sensors:.1f}, live {pct(r['live_s']) / n_sensors:.1f})"
    )
    if r["latency_ms"]:
        lat = np.concatenate(r["latency_ms"])
        upd = np.concatenate(r["update_ms"])
        line += (
            f"\n{'':>9} latency notification -> live metric over {len(lat)} notifications: p50 "
            f"{np.percentile(lat, 50):.0f} ms, p95 {np.percentile(lat, 95):.0f} ms, max {lat.max():.0f} ms "
            f"(one update takes median {np.median(upd):.1f} ms, max {upd.max():.1f} ms)"
        )
    return line


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=208.0)
    p.add_argument("--sensors", type=int, default=1)
    p.add_argument("--modes", default="none,cadence,snapshot", help="comma-separated: none, cadence, snapshot")
    p.add_argument("--refresh", default="1.0,0.1", help="comma-separated live-metric refresh periods, s")
    args = p.parse_args()
    logging.getLogger("bumble").setLevel(logging.ERROR)
    print(f"{args.sensors} emulated Movesense IMU6 at {args.rate:g} Hz, {args.seconds:g} s per run")
    for mode in args.modes.split(","):
        for refresh in [float(x) for x in args.refresh.split(",")] if mode != "none" else [1.0]:
            with tempfile.TemporaryDirectory() as tmp:
                r = asyncio.run(run(args.seconds, args.rate, args.sensors, mode, refresh, Path(tmp) / "rec"))
            print(describe(r, args.sensors), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
