"""Benchmark: load + analyse 208 Hz acc+gyro recordings of one and four hours (made by the simulator).

For each duration prints wall time (best and median of --repeat runs), CPU time and the peak memory (VmHWM) of
a fresh process doing load + analyze, against the targets: load + analyze of one hour <= 1.5 s; peak memory
<= 2 x the samples' size in memory (t + 6 channels as float64) + 200 MiB.

    python benchmarks/bench_pipeline.py [--minutes 60,240] [--rate 208] [--repeat 3] [--keep DIR]
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
with open("/proc/self/status") as f:
    rss_import = next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
t0, c0 = time.perf_counter(), time.process_time()
rec = gait.load(sys.argv[1])
t1 = time.perf_counter()
res = gait.analyze(rec)
t2, c2 = time.perf_counter(), time.process_time()
# VmHWM: this process's peak resident memory (ru_maxrss would include the parent's peak before exec)
with open("/proc/self/status") as f:
    peak_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
print(json.dumps({"import_s": t_import, "load_s": t1 - t0, "analyze_s": t2 - t1, "cpu_s": c2 - c0,
                  "peak_mib": peak_kib / 1024, "import_mib": rss_import, "steps": res.summary.n_steps,
                  "samples": rec.imu.n}))
"""


def recording(minutes: float, rate: float, keep: Path | None) -> Path:
    """The simulated recording of ``minutes`` (made once, reused from ``keep``)."""
    from gait.simulate import SimConfig, simulate, write

    base = keep or Path(tempfile.mkdtemp(prefix="gait-bench-"))
    folder = base / f"{minutes:g}min_{rate:g}hz"
    if not (folder / "meta.json").exists():
        t0 = time.perf_counter()
        result = simulate(SimConfig(duration_s=minutes * 60, rate_hz=rate, seed=1, drop_drift_right_deg=2.0))
        write(result, folder, overwrite=True)
        print(f"simulated {minutes:g} min at {rate:g} Hz in {time.perf_counter() - t0:.1f} s -> {folder}")
    return folder


def measure(folder: Path, repeat: int) -> list[dict[str, float]]:
    """``repeat`` fresh processes, each loading and analysing the recording once."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", default="60,240", help="durations to measure, comma-separated (default 60,240)")
    p.add_argument("--rate", type=float, default=208.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep", type=Path, default=None, help="reuse/keep the simulated recordings in this folder")
    args = p.parse_args()
    for minutes in (float(m) for m in args.minutes.split(",")):
        folder = recording(minutes, args.rate, args.keep)
        runs = measure(folder, args.repeat)
        size = sum(f.stat().st_size for f in folder.iterdir())
        samples_mib = runs[0]["samples"] * 7 * 8 / 2**20  # t + 3 acc + 3 gyro as float64
        target_mib = 2 * samples_mib + 200
        total = [r["load_s"] + r["analyze_s"] for r in runs]
        peak = max(r["peak_mib"] for r in runs)
        print(
            f"== {minutes:g} min, {args.rate:g} Hz, acc+gyro: {runs[0]['samples']:,} samples "
            f"({samples_mib:.0f} MiB as float64), {size / 2**20:.1f} MiB on disk, {runs[0]['steps']} steps"
        )
        print(f"import       best {min(r['import_s'] for r in runs):.3f} s (numpy, scipy, pandas: once per process)")
        print(f"load         best {min(r['load_s'] for r in runs):.3f} s")
        print(f"analyze      best {min(r['analyze_s'] for r in runs):.3f} s")
        per_hour = f"{min(total) / minutes * 60:.2f} s per hour" + (", target <= 1.5 s" if minutes == 60 else "")
        print(f"load+analyze best {min(total):.3f} s, median {statistics.median(total):.3f} s  ({per_hour})")
        print(f"cpu time     best {min(r['cpu_s'] for r in runs):.3f} s (all threads)")
        verdict = "met" if peak <= target_mib else "MISSED"
        print(
            f"peak memory  {peak:.0f} MiB (after imports {max(r['import_mib'] for r in runs):.0f}); "
            f"target 2 x samples + 200 = {target_mib:.0f} MiB: {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
