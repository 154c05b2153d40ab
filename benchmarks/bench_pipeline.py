"""Benchmark: load + analyse a one-hour 208 Hz acc+gyro recording (made by the simulator).

Prints wall time (best and median of --repeat runs) and peak memory of a fresh process doing load + analyze.
Targets on a 2-core machine: <= 1.5 s and <= 500 MiB.

    python benchmarks/bench_pipeline.py [--minutes 60] [--rate 208] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys, time
ti = time.perf_counter()
import gait, gait.runs  # gait's names load lazily: import the analysis stack before the clock starts
t_import = time.perf_counter() - ti
t0, c0 = time.perf_counter(), time.process_time()
rec = gait.load(sys.argv[1])
t1 = time.perf_counter()
res = gait.analyze(rec)
t2, c2 = time.perf_counter(), time.process_time()
# VmHWM: this process's peak resident memory (ru_maxrss would include the parent's peak before exec)
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"import_s": t_import, "load_s": t1 - t0, "analyze_s": t2 - t1, "cpu_s": c2 - c0,
                  "peak_mib": peak_kib / 1024, "steps": res.summary.n_steps}))
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=208.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep", type=Path, default=None, help="reuse/keep the simulated recording here")
    args = p.parse_args()

    from gait.simulate import SimConfig, simulate, write

    folder = args.keep or Path(tempfile.mkdtemp(prefix="gait-bench-")) / "run"
    if not (folder / "meta.json").exists():
        t0 = time.perf_counter()
        result = simulate(SimConfig(duration_s=args.minutes * 60, rate_hz=args.rate, seed=1, drop_drift_right_deg=2.0))
        write(result, folder, overwrite=True)
        print(f"simulated {args.minutes:g} min at {args.rate:g} Hz in {time.perf_counter() - t0:.1f} s -> {folder}")
    size = sum(f.stat().st_size for f in folder.iterdir())
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    total = [r["load_s"] + r["analyze_s"] for r in runs]
    print(f"input: {args.minutes:g} min, {args.rate:g} Hz, acc+gyro, {size / 2**20:.1f} MiB on disk")
    print(f"import      best {min(r['import_s'] for r in runs):.3f} s (numpy, scipy, pandas: once per process)")
    print(f"load        best {min(r['load_s'] for r in runs):.3f} s")
    print(f"analyze     best {min(r['analyze_s'] for r in runs):.3f} s")
    print(f"load+analyze best {min(total):.3f} s, median {statistics.median(total):.3f} s  (target <= 1.5 s)")
    print(f"cpu time    best {min(r['cpu_s'] for r in runs):.3f} s (all threads; wall time is what the user waits)")
    print(f"peak memory {max(r['peak_mib'] for r in runs):.0f} MiB  (target <= 500 MiB)")
    print(f"steps found {runs[0]['steps']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
