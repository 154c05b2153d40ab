"""``gait batch``: analyse a folder of recordings in parallel and write one summary row per run."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from gait.cli.commands import _analysis_config, _csv_options

SHOWN = (
    ("name", "run", "{}"),
    ("cadence_spm", "spm", "{:.1f}"),
    ("contact_time_ms", "contact ms", "{:.0f}"),
    ("pelvic_drop_left_deg", "drop L°", "{:.1f}"),
    ("pelvic_drop_right_deg", "drop R°", "{:.1f}"),
    ("braking_dv_mps", "brake m/s", "{:.2f}"),
    ("findings", "findings", "{}"),
)


def _cell(value: Any, fmt: str) -> str:
    try:
        return "-" if value is None or value != value else fmt.format(value)  # NaN / NA -> "-"
    except (TypeError, ValueError):
        return "-"


def batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gait.batch import BatchResult, check_output, list_recordings, run_batch, write_summary
    from gait.errors import RecordingError

    if args.out:
        check_output(args.out)
    paths, ignored = list_recordings(args.folder, recursive=args.recursive)
    if not paths:
        raise RecordingError(f"{args.folder}: no recordings or .csv files in this folder")
    config = _analysis_config(args)
    bar = tqdm(total=len(paths), desc="analysing", unit="rec", file=sys.stderr, disable=None)
    start = time.perf_counter()
    try:
        rows = run_batch(paths, args.workers, _csv_options(args), lambda row: bar.update(1), args.dask, config=config)
    finally:
        bar.close()
    result = BatchResult(rows, ignored)
    wall = time.perf_counter() - start
    widths = [max(len(h), *(len(_cell(v, f)) for v in rows[c])) for c, h, f in SHOWN]
    print("  ".join(h.ljust(w) for (_, h, _), w in zip(SHOWN, widths, strict=True)))
    for _, row in result.succeeded.iterrows():
        print("  ".join(_cell(row[c], f).ljust(w) for (c, _, f), w in zip(SHOWN, widths, strict=True)))
    for entry in result.ignored:
        print(f"gait: ignored: {entry}: not a recording folder or .csv file", file=sys.stderr)
    for _, row in result.failed.iterrows():
        print(f"gait: skipped: {row['error']}", file=sys.stderr)
    where = f"on {args.dask}" if args.dask else f"with {args.workers or os.cpu_count()} worker(s)"
    print(
        f"{len(result.succeeded)} of {len(rows)} recordings analysed in {wall:.1f} s {where}"
        + (f"; {len(result.failed)} skipped" if len(result.failed) else "")
    )
    if args.out:
        out = write_summary(rows, args.out)
        print(f"wrote {out} ({len(rows)} rows, one per recording; 'error' says why a row is empty)")
    return 1 if len(result.failed) else 0
