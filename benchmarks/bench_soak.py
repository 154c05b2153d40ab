"""Soak benchmark: a long emulated run recorded with live analysis, watching memory, losses and CPU.

One emulated Movesense sensor streams IMU6 (acc + gyro) at 208 Hz over the in-process GATT link through the
real session (clock mapping, reordering, loss counting) into one crash-safe recording, with the live analysis
wired as ``gait record`` wires it (every block into the ring buffer, the cadence every second) plus a full
``snapshot`` of the window every 10 s, as a live view would ask. The process's resident memory is sampled
every minute of run time.

Two hours in real time take two hours. ``--speed N`` runs the emulated world N times faster than real time:
the monotonic clock and the event loop's timers are scaled (the selector's real waits are divided by N), so
the sensor, the BLE stack, the session's clock mapping, the writer's 1 s flushes and the live analysis all see
the same two hours, in 2 h / N of wall time. The work per sample is the same; only idle time shrinks, so the
CPU share is N times what a real-time run would use.

    python benchmarks/bench_soak.py [--hours 2] [--rate 208] [--speed 4] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import selectors
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

_real_monotonic = time.monotonic


def install_time_warp(speed: float) -> type[asyncio.AbstractEventLoop]:
    """Scale ``time.monotonic`` by ``speed`` and return an event-loop class whose real waits are shortened."""
    if speed == 1.0:
        return asyncio.SelectorEventLoop
    base = _real_monotonic()

    def warped() -> float:
        return base + (_real_monotonic() - base) * speed

    time.monotonic = warped  # the loop's clock (asyncio uses time.monotonic) and every module's timestamps

    class WarpSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
        def select(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
            return super().select(None if timeout is None else timeout / speed)

    class WarpLoop(asyncio.SelectorEventLoop):
        def __init__(self) -> None:
            super().__init__(WarpSelector())

    return WarpLoop


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def soak(seconds: float, rate: float, folder: Path, sample_every_s: float) -> dict:
    from gait.analysis.live import LiveAnalyzer
    from gait.recording.meta import RecordingMeta
    from gait.sources.ble.devices import driver_for
    from gait.sources.ble.session import DeviceSession
    from gait.sources.emulate import EmulatedRadio, make_sensor
    from gait.sources.recorder import Recorder, RecorderStatus

    radio = EmulatedRadio()
    # a 10-minute simulated run that the sensor plays over and over (the feed wraps around)
    sensor = radio.add(make_sensor("movesense", rate_hz=rate, duration_s=600.0))
    sent = {"samples": 0, "first_t": np.nan, "last_t": np.nan}

    def count_only(t: np.ndarray, values: np.ndarray) -> None:  # the emulator's full log would grow with the run
        sent["samples"] += len(t)
        sent["last_t"] = float(t[-1])
        if np.isnan(sent["first_t"]):
            sent["first_t"] = float(t[0])

    sensor.record = count_only  # type: ignore[method-assign]
    await radio.start()
    rec = Recorder(folder, RecordingMeta(source="ble", synthetic=True, title="soak"))
    rec.add(DeviceSession(radio, sensor.name, driver_for("movesense", rate), "imu", "sacrum", scan_timeout_s=0.5))
    live = LiveAnalyzer(window_s=30.0, rate_hz=rate)
    rec.on_block.append(lambda b: live.append(b.t, b.values) if b.stream == "imu" else None)
    updates = {"cadence": 0, "cadence_values": 0, "snapshots": 0, "snapshot_s": 0.0}
    rss: list[tuple[float, float]] = [(0.0, rss_mib())]
    last = {"snap": 0.0, "rss": 0.0}

    def on_status(status: RecorderStatus) -> None:
        cad = live.cadence_spm()
        updates["cadence"] += 1
        updates["cadence_values"] += cad is not None
        if status.elapsed_s - last["snap"] >= 10.0:
            t0 = time.perf_counter()
            live.snapshot()
            updates["snapshot_s"] += time.perf_counter() - t0
            updates["snapshots"] += 1
            last["snap"] = status.elapsed_s
        if status.elapsed_s - last["rss"] >= sample_every_s:
            rss.append((status.elapsed_s, rss_mib()))
            last["rss"] = status.elapsed_s
            print(f"  {status.elapsed_s / 60:6.1f} min  RSS {rss[-1][1]:.1f} MiB  samples {rec.streams['imu'].samples}",
                  flush=True)  # fmt: skip

    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = await rec.run(duration_s=seconds, on_status=on_status)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    after_close = rss_mib()  # closing compacts the whole log into Arrow: a one-off peak, not growth
    await radio.close()
    return {
        "result": result,
        "sent": sent,
        "updates": updates,
        "rss": rss,
        "rss_after_close": after_close,
        "cpu_s": cpu,
        "wall_s": wall,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, default=2.0)
    p.add_argument("--rate", type=float, default=208.0)
    p.add_argument("--speed", type=float, default=4.0, help="emulated time runs this many times faster (1 = real)")
    p.add_argument("--rss-every", type=float, default=60.0, help="sample memory every this many run seconds")
    p.add_argument("--keep", help="keep the recording in this folder (default: a temporary one)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args()
    logging.getLogger("bumble").setLevel(logging.ERROR)
    loop_cls = install_time_warp(args.speed)
    tmp = tempfile.mkdtemp(prefix="gait-soak-")
    folder = Path(args.keep) if args.keep else Path(tmp) / "soak"
    seconds = args.hours * 3600
    print(f"soak: emulated Movesense IMU6 at {args.rate:g} Hz for {args.hours:g} h at {args.speed:g}x", flush=True)
    try:
        with asyncio.Runner(loop_factory=loop_cls) as runner:
            r = runner.run(soak(seconds, args.rate, folder, args.rss_every))
        import gait

        stored = gait.load(folder)
        size = sum(f.stat().st_size for f in folder.iterdir())
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    res, sent, upd = r["result"], r["sent"], r["updates"]
    st = res.streams["imu"]
    t_rss = np.array([x[0] for x in r["rss"]]) / 3600
    m_rss = np.array([x[1] for x in r["rss"]])
    after_warmup = t_rss >= 10 / 60  # the first minutes fill the live window, imports, buffers
    slope = float(np.polyfit(t_rss[after_warmup], m_rss[after_warmup], 1)[0]) if after_warmup.sum() >= 3 else np.nan

    def rss_at(h: float) -> float:
        return float(m_rss[int(np.argmin(np.abs(t_rss - h)))])

    dt = np.diff(stored.imu.t)
    figures = {
        "run_s": res.duration_s,
        "wall_s": r["wall_s"],
        "speed": args.speed,
        "rate_hz": args.rate,
        "sent": sent["samples"],
        "received": st.samples,
        "stored": stored.imu.n,
        "not_stored": sent["samples"] - stored.imu.n,
        "lost": st.lost,
        "gaps": len(stored.meta.gaps),
        "stored_span_s": float(stored.imu.t[-1] - stored.imu.t[0]),
        "spacing_ms_min_max": [float(dt.min() * 1000), float(dt.max() * 1000)],
        "spacing_ms_p001_p999": [float(np.percentile(dt, 0.1) * 1000), float(np.percentile(dt, 99.9) * 1000)],
        "spacing_min_at_s": float(stored.imu.t[int(np.argmin(dt))] - stored.imu.t[0]),
        "rss_start_mib": float(m_rss[0]),
        "rss_10min_mib": rss_at(10 / 60),
        "rss_1h_mib": rss_at(1.0),
        "rss_2h_mib": rss_at(2.0),
        "rss_end_of_run_mib": float(m_rss[-1]),
        "rss_max_during_run_mib": float(m_rss.max()),
        "rss_after_close_mib": r["rss_after_close"],
        "rss_slope_mib_per_h": slope,
        "cpu_s": r["cpu_s"],
        "cpu_pct_of_wall": 100 * r["cpu_s"] / r["wall_s"],
        "cpu_pct_real_time_equiv": 100 * r["cpu_s"] / res.duration_s,
        "recording_mib": size / 2**20,
        "cadence_updates": upd["cadence"],
        "cadence_values": upd["cadence_values"],
        "snapshots": upd["snapshots"],
        "snapshot_mean_ms": 1000 * upd["snapshot_s"] / max(1, upd["snapshots"]),
        "errors": res.errors,
        "stopped_by": res.stopped_by,
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({**figures, "rss_series": r["rss"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
