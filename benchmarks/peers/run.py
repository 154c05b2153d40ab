"""Benchmark gait against peer libraries for a lower-back IMU on the same simulated run, side by side.

One simulated run (sacral IMU, 208 Hz, acc + gyro, with per-step truth) is analysed, each in a fresh process, by:

* ``numpy floor``: what any analysis must at least do: a 4th-order Butterworth low-pass (zero phase, sosfiltfilt)
  on the 6 channels and ``scipy.signal.find_peaks`` on the vertical one (cadence from the median peak interval);
* ``gait``: ``gait.load`` + ``gait.analyze`` (the full analysis with findings, as ``gait analyze`` runs it);
* ``scikit-digital-health`` (``skdh.gait.GaitLumbar``, defaults): acceleration in g, gyroscope in rad/s, native rate;
* ``mobgap`` (``MobilisedPipelineHealthy``, the Mobilise-D pipeline with its defaults): resampled to 100 Hz,
  acceleration in m/s^2, gyroscope in deg/s, axes renamed to the Mobilise-D sensor frame.

For each: wall and CPU time of the analysis (the peer's own processing; the conversion into its expected units,
frame and rate is timed apart and printed), the import time (once per process, outside the timed region), the
process's peak resident memory (VmHWM) and its memory right after the imports, and its cadence against the
simulator's truth. ``--scaling`` times gait alone for several durations (cost and memory against duration).

    pip install -e .[bench]
    python benchmarks/peers/run.py [--minutes 60] [--repeat 3] [--tools numpy,gait,skdh,mobgap]
    python benchmarks/peers/run.py --scaling 10,60,240
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

RATE_HZ = 208.0
MOBGAP_RATE_HZ = 100.0  # the Mobilise-D algorithms' rate
HEIGHT_M = 1.75
TOOLS = ("numpy", "gait", "skdh", "mobgap")
LABELS = {
    "numpy": "numpy floor (filtfilt 6 ch + find_peaks)",
    "gait": "gait (load + full analysis)",
    "skdh": "scikit-digital-health GaitLumbar",
    "mobgap": "mobgap MobilisedPipelineHealthy",
}


# --------------------------------------------------------------------------------------------------------------
# in the child process: one tool, one run


def _peak_mib() -> float:
    """VmHWM: this process's own peak resident memory (ru_maxrss of a child can inherit the parent's)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def _child(tool: str, folder: Path) -> dict[str, Any]:
    ti = time.perf_counter()
    if tool == "gait":
        import gait
        import gait.runs  # gait loads lazily: the analysis stack is imported before the clock starts
    elif tool == "numpy":
        from scipy.signal import butter, find_peaks, sosfiltfilt
    elif tool == "skdh":
        import skdh
        from skdh.gait import GaitLumbar
    elif tool == "mobgap":
        import mobgap
        import pandas as pd
        from mobgap.data import GaitDatasetFromData
        from mobgap.pipeline import MobilisedPipelineHealthy
        from scipy.signal import resample_poly
    import_s = time.perf_counter() - ti
    out: dict[str, Any] = {"tool": tool, "import_s": import_s}
    arrays = None
    if tool != "gait":  # the peers read plain arrays (t in s, acc in m/s^2, gyro in rad/s, gait's sensor frame)
        with np.load(folder / "arrays.npz") as z:
            arrays = {k: z[k] for k in z.files}
    out["rss_after_import_mib"] = _rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    convert_s = 0.0
    if tool == "gait":
        res = gait.analyze(gait.load(folder / "recording"))
        out["cadence_spm"] = res.summary.cadence_spm
        out["version"] = gait.__version__
        out["detail"] = f"{res.summary.n_steps} steps, {len(res.findings or ())} findings"
    elif tool == "numpy":
        acc, gyr, fs = arrays["acc"], arrays["gyr"], float(arrays["fs"])
        sos = butter(4, 15.0, fs=fs, output="sos")
        filtered = sosfiltfilt(sos, np.column_stack([acc, gyr]), axis=0)
        vertical = filtered[:, int(np.argmax(np.abs(acc.mean(axis=0))))]  # the axis gravity is on
        peaks, _ = find_peaks(vertical, distance=int(fs * 60 / 230), prominence=0.5 * vertical.std())
        out["cadence_spm"] = 60.0 / float(np.median(np.diff(peaks))) * fs
        out["version"] = f"numpy {np.__version__}"
        out["detail"] = f"{len(peaks)} peaks"
    elif tool == "skdh":
        tc = time.perf_counter()
        accel_g = arrays["acc"] / 9.80665  # its documented units: g and rad/s, unix seconds
        unix_t = arrays["t"] + 1.7e9
        convert_s = time.perf_counter() - tc
        t0, c0 = time.perf_counter(), time.process_time()
        r = GaitLumbar().predict(
            time=unix_t, accel=accel_g, gyro=arrays["gyr"], fs=float(arrays["fs"]), height=HEIGHT_M
        )
        cadence = np.asarray(r["cadence"], float)
        out["cadence_spm"] = float(np.nanmedian(cadence)) if np.isfinite(cadence).any() else None
        out["version"] = f"scikit-digital-health {skdh.__version__}"
        out["detail"] = f"{len(r['IC Timestamp'])} initial contacts in {len(np.unique(r['Bout N']))} bout(s)"
    elif tool == "mobgap":
        tc = time.perf_counter()
        fs = float(arrays["fs"])
        up, down = int(MOBGAP_RATE_HZ), round(fs)
        a = resample_poly(arrays["acc"], up, down, axis=0)
        g = np.rad2deg(resample_poly(arrays["gyr"], up, down, axis=0))
        # gait's sensor frame (upright mounting): x forward, y up, z right -> Mobilise-D: x up, y left, z forward
        df = pd.DataFrame(
            {
                "acc_x": a[:, 1],
                "acc_y": -a[:, 2],
                "acc_z": a[:, 0],
                "gyr_x": g[:, 1],
                "gyr_y": -g[:, 2],
                "gyr_z": g[:, 0],
            }
        )
        dataset = GaitDatasetFromData(
            {"runner": {"LowerBack": df}},
            MOBGAP_RATE_HZ,
            {"runner": {"height_m": HEIGHT_M, "sensor_height_m": 0.53 * HEIGHT_M, "cohort": "HA"}},
            {"runner": {"measurement_condition": "free_living"}},
        )
        convert_s = time.perf_counter() - tc
        t0, c0 = time.perf_counter(), time.process_time()
        p = MobilisedPipelineHealthy().safe_run(dataset[0])
        wb = p.per_wb_parameters_
        strides = p.per_stride_parameters_
        w = wb["duration_s"].to_numpy(float)
        cad = wb["cadence_spm"].to_numpy(float)
        ok = np.isfinite(cad)
        out["cadence_spm"] = float(np.sum(cad[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else None
        stride_s = strides["stride_duration_s"].to_numpy(float)
        stride_s = stride_s[np.isfinite(stride_s)]
        out["cadence_from_strides_spm"] = 120.0 / float(np.median(stride_s)) if len(stride_s) else None
        out["version"] = f"mobgap {mobgap.__version__}"
        out["detail"] = f"{len(wb)} walking bout(s), {len(strides)} strides"
    out["process_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["convert_s"] = convert_s
    out["peak_mib"] = _peak_mib()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # work a library hands to helper processes, if any
    out["children_cpu_s"] = kids.ru_utime + kids.ru_stime
    out["children_peak_mib"] = kids.ru_maxrss / 1024
    return out


# --------------------------------------------------------------------------------------------------------------
# in the parent: make the input, run each tool in a fresh process, print the table


def make_input(minutes: float, folder: Path) -> dict[str, Any]:
    """Simulate the run once; a recording folder for gait and plain arrays for the others; the truth."""
    from gait.simulate import SimConfig, simulate, write

    folder.mkdir(parents=True, exist_ok=True)
    truth_file = folder / "truth.json"
    if truth_file.exists():
        return json.loads(truth_file.read_text())
    sim = simulate(SimConfig(duration_s=minutes * 60, rate_hz=RATE_HZ, seed=1, drop_drift_right_deg=2.0))
    write(sim, folder / "recording", overwrite=True)
    imu = sim.recording.imu
    np.savez(folder / "arrays.npz", t=imu.t, acc=imu.acc, gyr=imu.gyr, fs=RATE_HZ)
    truth = {
        "minutes": minutes,
        "cadence_spm": sim.truth_summary()["cadence_spm"],
        "samples": int(imu.n),
        "input_mib": imu.n * 7 * 8 / 2**20,  # t + 6 channels, float64
    }
    truth_file.write_text(json.dumps(truth))
    return truth


def run_child(tool: str, folder: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", tool, str(folder)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"tool": tool, "error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(tool: str, folder: Path, repeat: int) -> dict[str, Any]:
    runs = [run_child(tool, folder) for _ in range(repeat)]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    best = min(good, key=lambda r: r["process_s"])
    best["median_s"] = float(np.median([r["process_s"] for r in good]))
    best["peak_mib"] = max(r["peak_mib"] for r in good)
    best["runs"] = len(good)
    return best


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
        with open("/proc/meminfo") as f:
            mem_gib = int(next(line.split()[1] for line in f if line.startswith("MemTotal"))) / 2**20
    except (OSError, StopIteration):
        mem_gib = float("nan")
    import os

    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, Python {platform.python_version()}"


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def peers(args: argparse.Namespace) -> int:
    folder = Path(args.workdir or tempfile.mkdtemp(prefix="gait-peers-")) / f"{args.minutes:g}min"
    truth = make_input(args.minutes, folder)
    print(f"machine: {machine()}")
    print(
        f"input: {args.minutes:g} min simulated sacral running at {RATE_HZ:g} Hz, acc + gyro, {truth['samples']} "
        f"samples ({truth['input_mib']:.0f} MiB as float64); truth cadence {truth['cadence_spm']:.2f} spm"
    )
    results = []
    for tool in args.tools.split(","):
        r = best_of(tool, folder, args.repeat if tool in ("numpy", "gait") else args.peer_repeat)
        results.append(r)
        if "error" in r:
            print(f"{LABELS.get(tool, tool)}: failed: {r['error']}", flush=True)
            continue
        extra = ""
        if r.get("cadence_from_strides_spm") is not None:
            extra = f" (from its stride durations: {r['cadence_from_strides_spm']:.1f})"
        print(
            f"{LABELS[tool]} [{r['version']}]: {r['process_s']:.2f} s wall (median {r['median_s']:.2f} of "
            f"{r['runs']}), CPU {r['cpu_s']:.2f} s, conversion {r['convert_s']:.3f} s, import {r['import_s']:.1f} s; "
            f"peak {r['peak_mib']:.0f} MiB (after imports {r['rss_after_import_mib']:.0f}); cadence "
            f"{fmt(r['cadence_spm'], '.2f')} spm{extra}, error {fmt(_err(r, truth), '+.2f')}; {r['detail']}"
            + (
                f"; helper processes: CPU {r['children_cpu_s']:.1f} s, peak {r['children_peak_mib']:.0f} MiB"
                if r.get("children_cpu_s", 0) > 0.05  # (a fork that only runs a tool, e.g. ldconfig, is not work)
                else ""
            ),
            flush=True,
        )
    done = {r["tool"]: r for r in results if "error" not in r}
    if "numpy" in done and "gait" in done:
        floor, ours = done["numpy"], done["gait"]
        print(
            f"gait / numpy floor: {ours['process_s'] / floor['process_s']:.1f}x on best wall times, "
            f"{ours['median_s'] / floor['median_s']:.1f}x on medians, {ours['cpu_s'] / floor['cpu_s']:.1f}x on CPU "
            "(target <= 6x, aim 3x)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"truth": truth, "machine": machine(), "results": results}, indent=2))
    return 0


def _err(r: dict[str, Any], truth: dict[str, Any]) -> float | None:
    return None if r.get("cadence_spm") is None else r["cadence_spm"] - truth["cadence_spm"]


def scaling(args: argparse.Namespace) -> int:
    base = Path(args.workdir or tempfile.mkdtemp(prefix="gait-scaling-"))
    print(f"machine: {machine()}")
    print(
        "| duration | samples | input in memory | load + analyze, best | CPU time | per hour of run | peak memory "
        "| target: 2 x input + 200 MiB | cadence error |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for minutes in [float(m) for m in args.scaling.split(",")]:
        truth = make_input(minutes, base / f"{minutes:g}min")
        r = best_of("gait", base / f"{minutes:g}min", args.repeat)
        if "error" in r:
            print(f"| {minutes:g} min | failed: {r['error']} |")
            continue
        print(
            f"| {minutes:g} min | {truth['samples']:,} | {truth['input_mib']:.0f} MiB | {r['process_s']:.2f} s "
            f"(median {r['median_s']:.2f}) | {r['cpu_s']:.2f} s | {r['process_s'] / minutes * 60:.2f} s | "
            f"{r['peak_mib']:.0f} MiB | {2 * truth['input_mib'] + 200:.0f} MiB | {fmt(_err(r, truth), '+.2f')} spm |",
            flush=True,
        )
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", nargs=2, metavar=("TOOL", "FOLDER"), help=argparse.SUPPRESS)
    p.add_argument("--minutes", type=float, default=60.0, help="length of the simulated run (default 60)")
    p.add_argument("--repeat", type=int, default=3, help="runs of gait and the numpy floor; the best is shown")
    p.add_argument("--peer-repeat", type=int, default=1, help="runs of each peer library (slow; default 1)")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {', '.join(TOOLS)}")
    p.add_argument("--scaling", default=None, help="instead: gait alone at these durations in minutes, e.g. 10,60,240")
    p.add_argument("--workdir", default=None, help="keep (and reuse) the simulated inputs here")
    p.add_argument("--json", default=None, help="also write the results as JSON here")
    args = p.parse_args()
    unknown = sorted(set(args.tools.split(",")) - set(TOOLS))
    if unknown:
        p.error(f"unknown tool(s) {', '.join(unknown)}: choose from {', '.join(TOOLS)}")
    if args.child:
        import warnings

        warnings.filterwarnings("ignore")  # peers warn about their own internals; the output must stay one line
        print(json.dumps(_child(args.child[0], Path(args.child[1]))))
        return 0
    return scaling(args) if args.scaling else peers(args)


if __name__ == "__main__":
    sys.exit(main())
