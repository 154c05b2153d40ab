"""Command handlers: each takes parsed arguments, calls the library, prints, returns an exit code.

The library (numpy, pandas, scipy) is imported inside the commands, so building the parser and ``gait --help``
stay quick and light commands start fast.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gait.errors import GaitError, RecordingError

if TYPE_CHECKING:
    from gait.analysis import AnalysisConfig
    from gait.analysis.result import RunAnalysis
    from gait.store import RunStore


def _csv_options(args: argparse.Namespace) -> dict[str, str]:
    opts = {}
    if args.placement:
        opts["placement"] = args.placement
    if args.acc_unit:
        opts["acc_unit"] = args.acc_unit
    if args.gyr_unit:
        opts["gyr_unit"] = args.gyr_unit
    return opts


def _open_store(args: argparse.Namespace, required: bool) -> RunStore | None:
    """The run store; for analysis a store that cannot be opened is a warning (results still print)."""
    from gait.store import RunStore, StoreError

    try:
        return RunStore(args.store)
    except StoreError as exc:
        if required:
            raise
        print(f"gait: warning: {exc}; analysing without run history", file=sys.stderr)
        return None


def _analysis_config(args: argparse.Namespace) -> AnalysisConfig | None:
    """The analysis parameters of ``--config FILE.json`` (None: the validated defaults)."""
    if not args.config:
        return None
    from gait.analysis import AnalysisConfig

    return AnalysisConfig.from_file(args.config)


def _recordings(args: argparse.Namespace) -> list[Path]:
    """Every recording the PATH arguments name, oldest first (so each run is judged against the runs before it)."""
    from gait.recording import find_recordings
    from gait.runs import chronological

    paths: list[Path] = []
    for p in args.paths:
        found = find_recordings(p)
        if not found:
            raise RecordingError(f"{p}: no recordings or .csv files in this folder")
        paths += found
    if args.distance_km is not None and len(paths) > 1:
        raise RecordingError("--distance-km applies to one recording; analyse the others separately")
    return chronological(paths)


def _analyse_path(
    path: Path,
    args: argparse.Namespace,
    store: RunStore | None,
    steps_dir: Path | None,
    config: AnalysisConfig | None = None,
) -> RunAnalysis | dict[str, Any]:
    """One recording analysed against the history (and saved to it unless --no-save); its step table written.
    A watch's FIT file alone (no IMU samples) gives the watch's own numbers instead."""
    from gait.recording import load
    from gait.runs import analyze as run_analysis

    rec = load(path, **_csv_options(args))
    if rec.imu.n == 0 and "watch" in rec.extra:
        from gait.cli.importing import watch_only

        return watch_only(rec)
    result = run_analysis(
        rec,
        store=store,
        runner=args.runner,
        save=not args.no_save,
        distance_m=None if args.distance_km is None else 1000.0 * args.distance_km,
        config=config,
    )
    if args.steps_csv:
        out = steps_dir / f"{path.stem}.steps.csv" if steps_dir else Path(args.steps_csv)
        try:
            result.steps.to_csv(out, index=False, float_format="%.6g")
        except OSError as exc:
            raise RecordingError(f"{out}: cannot write the step table ({exc.strerror})") from None
    return result


def _show(found: RunAnalysis | dict[str, Any], args: argparse.Namespace, outputs: list[dict[str, Any]]) -> None:
    """Text now, or JSON collected for the end."""
    from gait.cli.importing import format_watch_only
    from gait.cli.report_text import format_text

    if args.format == "json":
        outputs.append(found if isinstance(found, dict) else found.to_dict(with_location=args.with_location))
    else:
        print(format_watch_only(found) if isinstance(found, dict) else format_text(found))


def analyze(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gait.batch import each

    paths = _recordings(args)
    store = _open_store(args, required=False)
    config = _analysis_config(args)
    many = len(paths) > 1
    steps_dir = Path(args.steps_csv) if args.steps_csv and many else None
    if steps_dir is not None:
        steps_dir.mkdir(parents=True, exist_ok=True)
    work = functools.partial(_analyse_path, args=args, store=store, steps_dir=steps_dir, config=config)
    outputs: list[dict[str, Any]] = []
    failures = 0
    with tqdm(total=len(paths), desc="analysing", unit="rec", disable=None if many else True, file=sys.stderr) as bar:
        for outcome in each(paths, work):  # one after another, in order: the history grows run by run
            bar.update(1)
            if outcome.error is not None:
                if not many:
                    raise GaitError(outcome.error)
                failures += 1
                tqdm.write(f"gait: skipped: {outcome.error}", file=sys.stderr)
                continue
            _show(outcome.value, args, outputs)
            if many and args.format != "json":
                print()
    if args.format == "json":
        print(json.dumps(outputs if many else outputs[0], indent=2))
    if store is not None and not args.no_save and not store.read_only:
        print(
            f"saved to the run history ({store.path}); see 'gait history'",
            file=sys.stderr if args.format == "json" else sys.stdout,
        )
    if failures:
        print(f"gait: {failures} of {len(paths)} recordings could not be analysed", file=sys.stderr)
        return 1
    return 0


def history(args: argparse.Namespace) -> int:
    from gait.cli.report_text import format_history
    from gait.insights.baseline import build_baseline
    from gait.insights.rules import Severity
    from gait.store import StoreError

    store = _open_store(args, required=True)
    assert store is not None
    runners = [args.runner] if args.runner else store.runners()
    if not runners:
        print(f"No runs stored yet in {store.path}. Analyse a recording first: gait analyze RECORDING")
        return 0
    reports = []
    for runner in runners:
        runs = store.runs(runner)
        if not runs:
            raise StoreError(
                f"{store.path}: no runs stored for runner {runner!r} (known: {', '.join(store.runners())})"
            )
        latest = runs[0]
        baseline, similar = build_baseline(latest.record, [r.record for r in runs[1:]])
        weeks = store.weekly(runner)
        reports.append(
            {
                "runner": runner,
                "runs": [
                    {
                        "day": r.day.isoformat() if r.day else None,
                        "name": r.name,
                        "recording_id": r.recording_id,
                        "synthetic": r.synthetic,
                        **r.record.to_dict(),
                        "findings": [
                            {"id": f["id"], "title": f["title"], "severity": f["severity"]}
                            for f in r.findings
                            if f["severity"] != Severity.NOT_ENOUGH_DATA
                        ],
                    }
                    for r in runs[: args.runs]
                ],
                "n_runs": len(runs),
                "weekly_load": [w.to_dict() for w in weeks[-args.weeks :]],
                "baseline": baseline.to_dict() if baseline else {"n_runs": similar, "status": "building"},
            }
        )
    if args.format == "json":
        print(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
    else:
        print("\n\n".join(format_history(r) for r in reports))
    return 0


def report(args: argparse.Namespace) -> int:
    from gait.recording import load
    from gait.reporting.html import render_report
    from gait.runs import analyze as run_analysis
    from gait.runs import short_name

    rec = load(args.recording, **_csv_options(args))
    store = None if args.no_history else _open_store(args, required=False)
    result = run_analysis(rec, store=store, runner=args.runner, save=False)
    out = Path(args.out) if args.out else Path(f"{short_name(rec)}.report.html")
    html = render_report(result, with_location=args.with_location)
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise RecordingError(f"{out}: cannot write the report ({exc.strerror})") from None
    print(f"wrote {out} ({len(html) / 1024:.0f} KiB, opens offline in any browser)")
    return 0


def simulate(args: argparse.Namespace) -> int:
    from gait.simulate import SimConfig, write
    from gait.simulate import simulate as run_simulation

    segments: tuple[tuple[str, float], ...] = (("stand", 3.0),)
    if args.walk > 0:
        segments += (("walk", args.walk),)
    segments += (("run", args.duration), ("stand", 2.0))
    cfg = SimConfig(
        segments=segments,
        rate_hz=args.rate,
        cadence_spm=args.cadence,
        contact_time_ms=args.contact_time,
        drop_left_deg=args.drop_left,
        drop_right_deg=args.drop_right,
        drop_drift_left_deg=args.fatigue_drop_left,
        drop_drift_right_deg=args.fatigue_drop_right,
        cadence_drift_spm=args.fatigue_cadence,
        braking_dv_mps=args.braking,
        strike=args.strike,
        slope_deg=args.slope,
        impact_g=args.impact,
        wobble_hz=args.wobble,
        clip_tilt_deg=tuple(args.clip_tilt),
        mounting=args.mounting,
        acc_noise_ms2=0.08 * args.noise,
        gyro_noise_rads=0.01 * args.noise,
        acc_bias_ms2=0.05 * args.noise,
        gyro_bias_rads=0.01 * args.noise,
        dropout_fraction=args.dropouts,
        gyro=not args.no_gyro,
        seed=args.seed,
    )
    result = run_simulation(cfg)
    folder = write(result, args.out, overwrite=args.overwrite)
    t = result.truth_summary()
    print(
        f"wrote {folder} ({result.recording.imu.n} samples at {args.rate:g} Hz, {t['n_run_steps']} running steps; "
        f"truth: cadence {t['cadence_spm']:.1f} spm, contact {t['contact_time_ms']:.0f} ms, drop L/R "
        f"{t['pelvic_drop_deg_left']:.1f}/{t['pelvic_drop_deg_right']:.1f} deg)"
    )
    return 0


def info(args: argparse.Namespace) -> int:
    from gait.recording import load

    rec = load(args.path, **_csv_options(args))
    m = rec.meta
    print(f"{rec.name}")
    print(f"  source     {m.source}{' (synthetic)' if m.synthetic else ''}  {m.source_detail[:200]}")
    print(f"  device     {m.device.name} {m.device.model}".rstrip())
    print(f"  placement  {m.placement}")
    if rec.imu.n:
        linear = ", gravity removed by the phone" if m.stream("imu").gravity_removed else ""
        print(
            f"  samples    {rec.imu.n} over {rec.imu.duration_s:.1f} s at {rec.imu.rate_hz:.1f} Hz, "
            f"{'acc + gyro' if rec.imu.has_gyro else 'accelerometer only'}{linear}, clock: {m.streams[0].clock}"
        )
    else:  # a watch's FIT file: no IMU samples, so no IMU rate to state
        print("  samples    none (no raw IMU samples)")
    for name, data in rec.extra.items():
        span = float(data.t[-1] - data.t[0]) if len(data.t) else 0.0
        print(f"  {name:<10} {len(data.t)} records over {span:.0f} s ({', '.join(data.channels[1:])})")
    print(f"  complete   {m.complete}{' (recovered from crash log)' if rec.recovered else ''}")
    if m.gaps:
        print(f"  gaps       {len(m.gaps)} ({sum(g.end_s - g.start_s for g in m.gaps):.1f} s)")
    if m.notes:
        print(f"  notes      {m.notes}")
    for note in rec.notes:
        print(f"  note       {note}")
    return 0


def recover(args: argparse.Namespace) -> int:
    from gait.recording import recover as recover_folder

    rec = recover_folder(args.path)
    print(f"{args.path}: complete, {rec.imu.n} samples ({rec.imu.duration_s:.1f} s)")
    return 0


def validate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gait.validation.datasets import lab_data_dir
    from gait.validation.report import markdown, summary_lines
    from gait.validation.run import run_validation

    root = Path(args.data) if args.data else lab_data_dir()
    if root is None or not root.is_dir():
        raise RecordingError(
            f"{args.data or '../shared/data'}: lab data folder not found (use --data or GAIT_LAB_DATA)"
        )
    bar = tqdm(desc="validating", unit="analysis", file=sys.stderr, disable=None)
    config = _analysis_config(args)
    result = run_validation(root, quick=args.quick, progress=lambda msg: bar.update(1), config=config)
    bar.close()
    print("\n".join(summary_lines(result)))
    if args.out:
        Path(args.out).write_text(markdown(result) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0 if result.passed else 1


def mechanisms(args: argparse.Namespace) -> int:
    from gait.insights import MECHANISMS
    from gait.insights.describe import markdown, text

    if args.format == "json":
        print(json.dumps([m.to_dict() for m in MECHANISMS], indent=2))
    else:
        print(markdown() if args.format == "markdown" else text())
    return 0
