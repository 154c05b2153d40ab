"""Benchmark: ``gait batch`` on a folder of recordings, one worker against several (and optionally Dask).

Simulates --n recordings of --minutes each (208 Hz acc + gyro, varied cadence and mounting), then times
``gait.batch.run_batch`` with 1 worker (in this process) and with each --workers count (a process pool), best of
--repeat. The analysis stack is imported before the clock starts; the pool's start-up is inside the timing.

    python benchmarks/bench_batch.py [--n 16] [--minutes 10] [--workers 2] [--repeat 2] [--dask]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def make_folder(folder: Path, n: int, minutes: float) -> list[Path]:
    from gait.simulate import SimConfig, simulate, write

    paths = []
    for i in range(n):
        path = folder / f"run{i:02d}"
        if not (path / "meta.json").exists():
            cfg = SimConfig(
                duration_s=minutes * 60,
                rate_hz=208.0,
                cadence_spm=160.0 + 2 * i,
                mounting=("upright", "tilted", "upside_down", "random")[i % 4],
                seed=i,
            )
            write(simulate(cfg), path, overwrite=True)
        paths.append(path)
    return paths


def timed(paths: list[Path], repeat: int, **kwargs: object) -> tuple[float, int]:
    from gait.batch import run_batch

    best, ok = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = run_batch(paths, **kwargs)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - t0)
        ok = int(rows["error"].isna().sum())
    return best, ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--workers", default="2", help="comma-separated worker counts to compare with 1")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--dask", action="store_true", help="also time a local Dask cluster (2 worker processes)")
    p.add_argument("--workdir", default=None, help="keep (and reuse) the simulated recordings here")
    args = p.parse_args()
    import gait.runs  # noqa: F401  (the analysis stack, imported before the clock starts)

    folder = Path(args.workdir or tempfile.mkdtemp(prefix="gait-batch-"))
    t0 = time.perf_counter()
    paths = make_folder(folder, args.n, args.minutes)
    print(f"{args.n} recordings of {args.minutes:g} min at 208 Hz in {folder} ({time.perf_counter() - t0:.0f} s)")
    print(f"cores: {os.cpu_count()}; load before: {os.getloadavg()[0]:.2f}")
    one, ok = timed(paths, args.repeat, workers=1)
    print(f"1 worker:  {one:.2f} s ({one / args.n:.2f} s per recording), {ok} analysed")
    for w in [int(x) for x in args.workers.split(",")]:
        t, ok = timed(paths, args.repeat, workers=w)
        print(f"{w} workers: {t:.2f} s, speed-up {one / t:.2f}x, {ok} analysed")
    if args.dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
            t, ok = timed(paths, args.repeat, dask_address=cluster.scheduler_address)
        print(f"Dask LocalCluster (2 processes): {t:.2f} s, speed-up {one / t:.2f}x, {ok} analysed")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
