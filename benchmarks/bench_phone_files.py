"""Benchmark: real-world phone and watch files (issue 16).

1. FIT reading through fitdecode: a 2-hour running activity (7200 records with Stryd's developer fields) made by
   the test encoder, best of --repeat.
2. Linear acceleration (gravity removed by the phone): cadence, contact and flight time against the simulator's
   truth on --n simulated runs (cadence 150-190 spm, duty factor 0.55-0.78, heel strike or not, random
   mounting, half with a gyroscope, 100 Hz), beside the same runs with gravity, and the time the vertical
   estimate adds.

    python benchmarks/bench_phone_files.py [--n 16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test fixtures (gait's own encoders)


def bench_fit(repeat: int) -> None:
    from gait.recording.fit_import import read_fit
    from tests.fixtures.phone.phone_sim import FitSession, fit_bytes, watch_records

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "two_hours.fit"
        path.write_bytes(
            fit_bytes(watch_records(7200, stryd=True), stryd=True, sessions=(FitSession("running", 0, 7200),))
        )
        best = min(_timed(lambda: read_fit(path)) for _ in range(repeat))
        print(f"FIT: 2 h activity ({path.stat().st_size / 1024:.0f} KiB, 7200 records) read in {best:.2f} s")


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_linear(n: int) -> None:
    from gait.analysis import analyze
    from gait.analysis.gravity import estimate_vertical
    from gait.simulate import SimConfig, simulate
    from tests.fixtures.phone.phone_sim import linear_acceleration

    rng = np.random.default_rng(0)
    rows = []
    est_s = 0.0
    for i in range(n):
        cadence = float(rng.uniform(150, 190))
        contact = float(rng.uniform(0.55, 0.78)) * 60000.0 / cadence
        cfg = SimConfig(
            segments=(("stand", 3.0), ("run", 90.0), ("stand", 2.0)), rate_hz=100.0, seed=100 + i,
            cadence_spm=cadence, contact_time_ms=contact, impact_g=float(rng.choice([0.0, 0.8, 1.5])),
            mounting="random", gyro=bool(i % 2),
        )  # fmt: skip
        res = simulate(cfg)
        rec = res.recording
        lin_acc = linear_acceleration(res)
        stream = dataclasses.replace(rec.meta.streams[0], gravity_removed=True)
        lin = dataclasses.replace(
            rec, imu=dataclasses.replace(rec.imu, acc=lin_acc), meta=rec.meta.replace(streams=(stream,))
        )
        est_s += _timed(lambda a=lin_acc: estimate_vertical(a, 100.0, "bench"))
        truth = res.truth_summary()
        a, b = analyze(lin), analyze(rec)
        rows.append(
            (
                a.summary.cadence_spm - truth["cadence_spm"],
                a.summary.medians["contact_time_ms"] - truth["contact_time_ms"],
                a.summary.medians["flight_time_ms"] - truth["flight_time_ms"],
                b.summary.cadence_spm - truth["cadence_spm"],
                b.summary.medians["contact_time_ms"] - truth["contact_time_ms"],
            )
        )
    r = np.array(rows)
    print(f"linear acceleration, {n} simulated 90-s runs at 100 Hz (error = gait - truth, median of steps):")
    for label, j, unit in (
        ("cadence (linear)", 0, "spm"),
        ("contact time (linear)", 1, "ms"),
        ("flight time (linear)", 2, "ms"),
        ("cadence (with gravity)", 3, "spm"),
        ("contact time (with gravity)", 4, "ms"),
    ):
        e = r[:, j]
        print(
            f"  {label:<28} mean {e.mean():+6.2f} {unit}, mean |error| {np.abs(e).mean():5.2f} {unit}, "
            f"max |error| {np.abs(e).max():5.2f} {unit}"
        )
    print(f"  vertical estimate: {1000 * est_s / n:.1f} ms per 95-s recording")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bench_fit(args.repeat)
    bench_linear(args.n)


if __name__ == "__main__":
    main()
