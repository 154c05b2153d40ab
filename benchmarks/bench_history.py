"""Benchmark: judging a run against a long history (baseline + weekly load from the SQLite run store).

Fills a store with N synthetic past runs (default 2000, about five years of daily running), then times
``gait.runs.judge`` with the store (read earlier runs, build the baseline, weekly load, findings, save) and
``gait history`` style queries. The movement analysis itself is measured by bench_pipeline.py.

    python benchmarks/bench_history.py [--runs 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()

    from gait.analysis import analyze
    from gait.analysis.summary import RunRecord
    from gait.runs import judge
    from gait.simulate import SimConfig, simulate
    from gait.store import RunStore

    movement = analyze(
        simulate(SimConfig(duration_s=300, rate_hz=104, seed=3, start_utc="2031-01-01T07:00:00Z")).recording
    )
    template = dataclasses.asdict(movement.record)
    rng = np.random.default_rng(0)
    store = RunStore(Path(tempfile.mkdtemp(prefix="gait-bench-")) / "gait.sqlite")
    first = date(2031, 1, 1) - timedelta(days=int(args.runs * 0.9))
    t0 = time.perf_counter()
    for i in range(args.runs):
        values = {k: (None if v is None else v * (1 + 0.03 * rng.standard_normal())) for k, v in template.items()}
        record = RunRecord.from_dict(values)
        store.add(
            recording_id=f"r{i}",
            runner="bench",
            name=f"run {i}",
            path="",
            synthetic=True,
            day=first + timedelta(days=int(i * 0.9)),
            record=record,
            findings=[{"id": "x", "title": "t", "severity": "watch"}],
        )
    fill = time.perf_counter() - t0
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = judge(movement, store=store, runner="bench", save=True)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    weeks = store.weekly("bench")
    runs = store.runs("bench")
    query = time.perf_counter() - t0
    print(f"store: {args.runs} runs inserted in {fill:.2f} s ({store.path.stat().st_size / 2**20:.1f} MiB)")
    print(
        f"judge with history: best {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms "
        f"(baseline {result.context['baseline']['n_runs']} runs, {len(result.findings)} findings)"
    )
    print(f"history queries (all runs + {len(weeks)} weeks): {query * 1000:.1f} ms for {len(runs)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
