"""The ``gait`` command: thin argument parsing around the library. Errors are one line, exit code non-zero.

Each subcommand names the function that runs it (``gait.cli.commands``, ``live``, ``batch``, ...). Those modules
import the analysis stack inside their functions, so building the parser (and ``gait --help``) stays quick.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from gait import __version__
from gait.cli import batch, commands, dashboard, importing, live
from gait.constants import EMULATED_FAMILIES as EMULATED
from gait.errors import GaitError

EXIT_ERROR = 1
SCAN_TIMEOUT = 5.0
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


def _add_location_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--with-location",
        action="store_true",
        help=f"include the route's coordinates ({what}); left out by default: location is private",
    )


def _add_config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE.json",
        default=None,
        help='analysis parameters to change, e.g. {"running": {"onset_fraction": 0.3}} (see docs/method.md)',
    )


def _add_csv_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("plain CSV input")
    g.add_argument(
        "--acc-unit",
        choices=["m/s^2", "g"],
        default=None,
        help="unit of acc_x/y/z columns (default m/s^2, or as the column names say)",
    )
    g.add_argument(
        "--gyr-unit",
        choices=["rad/s", "deg/s"],
        default=None,
        help="unit of gyr_x/y/z columns (default rad/s, or as the column names say)",
    )
    g.add_argument(
        "--placement",
        default=None,
        help="where the sensor was worn (default: sacrum for a plain CSV, waist_belt for a phone app's export)",
    )


def _add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=None,
        help="run store file (default: $GAIT_HOME/gait.sqlite, GAIT_HOME defaults to ~/.local/share/gait)",
    )


def _add_history_options(p: argparse.ArgumentParser) -> None:
    _add_store_option(p)
    p.add_argument(
        "--runner",
        default=None,
        help="whose history the run belongs to (default: the recording's subject id, else 'default')",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gait",
        description="Running-gait analysis from one sacral IMU: cadence, contact time, pelvic drop, braking, "
        "and more. Local-first: nothing leaves your machine.",
        epilog="Run 'gait COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"gait {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "dashboard",
        help="open the dashboard: runs, run detail with hip findings, trends, live sessions",
        description="Analyse every recording in the data folder (cached after the first time) and serve the "
        "dashboard in your browser. It listens on this computer only unless --host says otherwise.",
        epilog="Examples:\n  gait dashboard                      # the bundled sample recordings\n"
        "  gait dashboard --data ~/runs --port 8051\n"
        "  gait dashboard --host 0.0.0.0        # reachable from a tablet on the same network",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        default=None,
        help="folder of recordings and CSV files (default: the bundled samples, else $GAIT_HOME/recordings)",
    )
    p.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    _add_store_option(p)
    p.set_defaults(func=dashboard.dashboard)

    p = sub.add_parser(
        "analyze",
        help="analyse recordings or CSV files",
        description="Analyse a recording folder, a plain CSV file, or every recording in a folder.",
        epilog="Examples:\n  gait analyze recordings/\n  gait analyze run.csv --acc-unit g --format json\n"
        "  gait analyze recordings/easy_run_208hz --steps-csv steps.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="recording folder, .csv file, or folder of them")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    p.add_argument(
        "--steps-csv",
        metavar="OUT",
        help="write the per-step table (a file for one recording, a folder for several)",
    )
    _add_history_options(p)
    p.add_argument("--no-save", action="store_true", help="compare with the run history but do not add these runs")
    p.add_argument(
        "--distance-km",
        type=float,
        default=None,
        help="distance of this run from a watch or treadmill: adds distance to the weekly load and matches "
        "baselines by speed",
    )
    _add_location_option(p, "the JSON's terrain.route")
    _add_config_option(p)
    _add_csv_options(p)
    p.set_defaults(func=commands.analyze)

    p = sub.add_parser(
        "history",
        help="stored runs, weekly load and personal baseline",
        description="List the runs in the local run history (newest first) with their key numbers and findings, "
        "the weekly running load with week-on-week change (> 30 %% flagged), and the personal baseline status.",
        epilog="Examples:\n  gait history\n  gait history --runner demo-runner --weeks 8\n  gait history --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--runner", default=None, help="only this runner (default: every runner in the store)")
    p.add_argument("--runs", type=int, default=20, help="how many recent runs to list (default 20)")
    p.add_argument("--weeks", type=int, default=8, help="how many recent weeks of load to show (default 8)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    _add_store_option(p)
    p.set_defaults(func=commands.history)

    p = sub.add_parser(
        "mechanisms",
        help="the hip-pain mechanism map: rules, evidence grades, sources",
        description="Print the mechanism map gait judges runs by: what the articles claim, the gait signals, the "
        "rule, the evidence grade, suggested actions, caveats and sources.",
    )
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text", help="output format")
    p.set_defaults(func=commands.mechanisms)

    p = sub.add_parser(
        "report",
        help="write a standalone HTML report for a physiotherapist",
        description="Analyse one recording and write a single HTML file (summary, charts, findings with sources "
        "and evidence grades, red flags) that opens offline in any browser. Reads the run history for the "
        "baseline but does not add the run to it.",
        epilog="Example:\n  gait report recordings/fatigue_10min_104hz --out fatigue.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("recording", help="recording folder or CSV file")
    p.add_argument("--out", default=None, help="output file (default: NAME.report.html here)")
    _add_history_options(p)
    p.add_argument("--no-history", action="store_true", help="judge the run on its own, without the run history")
    _add_location_option(p, "a drawing of the route")
    _add_csv_options(p)
    p.set_defaults(func=commands.report)

    p = sub.add_parser(
        "simulate",
        help="make a synthetic recording with known truth",
        description="Simulate a runner wearing a sacral IMU; writes a recording folder plus truth_steps.csv and "
        "truth.json. See docs/simulator.md for the model.",
        epilog="Example:\n  gait simulate --out sim_run --duration 600 --cadence 165 --drop-right 8 "
        "--fatigue-drop-right 3 --mounting random",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, help="output recording folder (must not exist or be empty)")
    p.add_argument("--duration", type=float, default=120.0, help="running time in s (default 120)")
    p.add_argument("--walk", type=float, default=0.0, help="walking warm-up before the run, s (default 0)")
    p.add_argument("--rate", type=float, default=208.0, help="sample rate, 50-833 Hz (default 208)")
    p.add_argument("--cadence", type=float, default=170.0, help="steps per minute (default 170)")
    p.add_argument("--contact-time", type=float, default=None, help="contact time in ms (default: 68%% of a step)")
    p.add_argument("--drop-left", type=float, default=5.0, help="pelvic drop during left stance, deg (default 5)")
    p.add_argument("--drop-right", type=float, default=5.0, help="pelvic drop during right stance, deg (default 5)")
    p.add_argument("--fatigue-drop-left", type=float, default=0.0, help="drop added by the end of the run, deg")
    p.add_argument("--fatigue-drop-right", type=float, default=0.0, help="drop added by the end of the run, deg")
    p.add_argument("--fatigue-cadence", type=float, default=0.0, help="cadence change by the end, spm")
    p.add_argument("--braking", type=float, default=0.20, help="forward speed lost per step, m/s (default 0.20)")
    p.add_argument(
        "--strike",
        default="rearfoot",
        choices=["rearfoot", "midfoot", "forefoot"],
        help="foot strike: how the force rises at landing (default rearfoot)",
    )
    p.add_argument("--slope", type=float, default=0.0, help="hill, deg: + uphill, - downhill (default 0, max 15)")
    p.add_argument(
        "--impact", type=float, default=None, help="impact force at landing, body weights (default: from --strike)"
    )
    p.add_argument("--wobble", type=float, default=15.0, help="clip wobble on soft tissue, Hz (0 = rigid; default 15)")
    p.add_argument(
        "--clip-tilt",
        type=float,
        nargs=2,
        default=(0.0, 0.0),
        metavar=("PITCH", "ROLL"),
        help="the clip tilted on the pelvis, deg (default 0 0)",
    )
    p.add_argument(
        "--mounting",
        default="upright",
        choices=["upright", "upside_down", "rot90", "rot180", "tilted", "random"],
        help="how the sensor is clipped on (default upright)",
    )
    p.add_argument("--noise", type=float, default=1.0, help="noise scale (0 = noiseless, default 1)")
    p.add_argument("--dropouts", type=float, default=0.0, help="fraction of samples lost in bursts (e.g. 0.05)")
    p.add_argument("--no-gyro", action="store_true", help="accelerometer only")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.set_defaults(func=commands.simulate)

    p = sub.add_parser(
        "import",
        help="turn a CSV file, a phone app's export or a FIT file into a recording folder",
        description="Import a plain CSV file (docs/csv-format.md), a Sensor Logger export (zip or folder), a phyphox "
        "CSV export, or a Garmin FIT file (the watch's running dynamics, docs/phones.md) as a recording folder. "
        "The format is detected unless --format says it.",
        epilog="Examples:\n  gait import run.csv --out run1\n  gait import sensorlogger_2026-05-01.zip --out run2\n"
        "  gait import watch.fit --attach run2 --out run2_with_watch",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="CSV file, Sensor Logger zip/folder, phyphox CSV export, or .fit file")
    p.add_argument("--out", required=True, help="output recording folder")
    p.add_argument(
        "--format", choices=["auto", "csv", "sensorlogger", "phyphox", "fit"], default="auto", help="(default: auto)"
    )
    p.add_argument(
        "--phone-os",
        choices=["android", "ios"],
        default=None,
        help="the phone's axis convention (Sensor Logger: default from Metadata.csv; phyphox: default android)",
    )
    p.add_argument("--attach", metavar="RECORDING", help="FIT: put the watch's numbers beside this IMU recording")
    _add_csv_options(p)
    p.set_defaults(func=importing.import_file)

    p = sub.add_parser("info", help="show what a recording says about itself")
    p.add_argument("path", help="recording folder or CSV file")
    _add_csv_options(p)
    p.set_defaults(func=commands.info)

    p = sub.add_parser(
        "validate",
        help="measure accuracy against the lab references and the simulator",
        description="Run the analysis over every reference data set in ../shared/data (or --data) and a simulator "
        "grid, under 24 axis-aligned mountings, random tilts, resampling, noise and dropouts; print the figures "
        "per target and write a markdown report. Exits non-zero when a target is missed.",
    )
    p.add_argument("--data", default=None, help="folder of lab data sets (default: $GAIT_LAB_DATA or ../shared/data)")
    p.add_argument("--out", default=None, help="write the markdown report here (e.g. docs/accuracy.md)")
    p.add_argument("--quick", action="store_true", help="fewer mountings and simulator cases (for a fast look)")
    _add_config_option(p)
    p.set_defaults(func=commands.validate)

    p = sub.add_parser(
        "scan",
        help="list nearby supported Bluetooth sensors",
        description="Scan for Bluetooth Low Energy sensors gait can record: Movesense, Polar (H10, Verity Sense), "
        "WitMotion BLE 5.0, Running Speed and Cadence pods, and boards speaking gait's open IMU profile.",
        epilog="Examples:\n  gait scan\n  gait scan --timeout 10 --all\n"
        "  gait scan --emulate movesense --emulate polar",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to listen (default 5)")
    p.add_argument("--all", action="store_true", help="also list devices gait cannot record")
    p.add_argument("--adapter", default=None, help="Bluetooth adapter, e.g. hci1 (Linux)")
    p.add_argument(
        "--emulate",
        action="append",
        metavar="FAMILY",
        choices=EMULATED,
        help=f"scan emulated sensors instead of the radio ({', '.join(EMULATED)}); repeatable",
    )
    p.set_defaults(func=live.scan)

    p = sub.add_parser(
        "record",
        help="record from Bluetooth sensors, emulated ones or a phone, crash-safely",
        description="Connect to one or more sensors, stream, show a live status line, and write a crash-safe "
        "recording (flushed to disk every second). A dropped link is reconnected with back-off and the gap is "
        "marked; Ctrl-C stops cleanly. The first IMU is the one analysed; give --placement per sensor when "
        "recording several (e.g. sacrum, left_shoe, right_shoe). After recording, the run is analysed and saved to "
        "the run history.",
        epilog='Examples:\n  gait record --device "Movesense 233830000123" --duration 1800\n'
        '  gait record --device movesense --device "Foot pod" --placement sacrum --placement shoe\n'
        "  gait record --emulate movesense --duration 60      # no hardware: an emulated sensor\n"
        "  gait record --phone sensorlogger --host 0.0.0.0 --token s3cret   # a phone (docs/phones.md)\n"
        "  gait record --phone phyphox --url http://192.168.1.20:8080",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--device",
        action="append",
        metavar="NAME_OR_ADDRESS",
        help="sensor to record: full or leading part of its name, its address, or its family; repeatable",
    )
    p.add_argument(
        "--emulate",
        action="append",
        metavar="FAMILY",
        choices=EMULATED,
        help=f"record an emulated sensor fed by the simulator ({', '.join(EMULATED)}); repeatable",
    )
    p.add_argument(
        "--placement",
        action="append",
        metavar="PLACE",
        help="where each sensor is worn, in the order given (default: the first on the sacrum)",
    )
    p.add_argument("--rate", type=float, default=None, help="IMU sample rate in Hz (default: the sensor's usual)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")
    p.add_argument("--out", default=None, help="recording folder (default: $GAIT_HOME/recordings/run-DATE-TIME)")
    p.add_argument("--title", default=None, help="a title for the recording")
    p.add_argument("--runner", default=None, help="whose run this is (for the run history and baselines)")
    p.add_argument("--timeout", type=float, default=SCAN_TIMEOUT, help="seconds to look for the sensors (default 5)")
    p.add_argument("--adapter", default=None, help="Bluetooth adapter, e.g. hci1 (Linux)")
    p.add_argument("--no-analyze", action="store_true", help="only record; do not analyse or save to the history")
    _add_store_option(p)
    g = p.add_argument_group("phones (docs/phones.md)")
    g.add_argument("--phone", choices=["sensorlogger", "phyphox"], help="record a phone app over the local network")
    g.add_argument("--host", default=None, help="Sensor Logger: interface to listen on (default 127.0.0.1; "
                   "a phone on the Wi-Fi needs --host 0.0.0.0)")  # fmt: skip
    g.add_argument("--port", type=int, default=None, help="Sensor Logger: port to listen on (default 8000)")
    g.add_argument("--token", default=None, help="Sensor Logger: shared token the push URL must carry")
    g.add_argument("--phone-os", choices=["auto", "android", "ios"], default="auto",
                   help="the phone's axis convention (default auto: Sensor Logger from the payload, "
                   "phyphox android)")  # fmt: skip
    g.add_argument("--url", default=None, help="phyphox: the remote-access address, e.g. http://192.168.1.20:8080")
    p.set_defaults(func=live.record)

    p = sub.add_parser(
        "replay",
        help="play a recording as a live source",
        description="Play a recording through the same live path as a sensor (status line, live cadence, "
        "crash-safe writer), in real time or faster, then analyse what came through.",
        epilog="Examples:\n  gait replay recordings/easy_run_208hz --speed 10\n"
        "  gait replay run/ --speed max --out copy/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("recording", help="recording folder or CSV file")
    p.add_argument("--speed", default="1", help="1 = real time, 10 = ten times faster, max = as fast as possible")
    p.add_argument("--out", default=None, help="keep what came through as a new recording here")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds of wall time")
    p.add_argument("--no-analyze", action="store_true", help="do not analyse after the replay")
    _add_csv_options(p)
    p.set_defaults(func=live.replay)

    p = sub.add_parser(
        "batch",
        help="analyse a folder of recordings in parallel into one summary table",
        description="Analyse every recording folder and .csv file in DIR in parallel (all cores by default, or "
        "on a Dask cluster): one row per run with its summary metrics and findings count, each run judged on "
        "its own (no run history is read or written). Unreadable recordings are skipped and reported; the exit "
        "code is 1 if any was skipped (the others are still written), 0 otherwise.",
        epilog="Examples:\n  gait batch cohort/ --out summary.parquet\n  gait batch runs/ --workers 2 --out runs.csv\n"
        "  gait batch cohort/ --recursive --dask tcp://scheduler:8786 --out summary.parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("folder", metavar="DIR", help="folder holding recording folders and/or .csv files")
    p.add_argument("--workers", type=int, default=None, help="parallel processes (default: every core)")
    p.add_argument("--out", default=None, help="write the table here: .parquet or .csv (default: print only)")
    p.add_argument("--recursive", action="store_true", help="also search sub-folders that are not recordings")
    p.add_argument("--dask", metavar="SCHEDULER_ADDRESS", default=None, help="run on an existing Dask cluster")
    _add_config_option(p)
    _add_csv_options(p)
    p.set_defaults(func=batch.batch)

    p = sub.add_parser(
        "recover",
        help="compact a recording that was not closed cleanly (after a crash)",
        description="Rebuild a recording's sample file from its crash log and mark it complete.",
    )
    p.add_argument("path", help="recording folder")
    p.set_defaults(func=commands.recover)
    return parser


class _Stderr(logging.StreamHandler):
    """Library warnings (logger ``gait``, e.g. a damaged row in the run history) as one line each on whatever
    ``sys.stderr`` is at the time."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("gait: warning: %(message)s"))

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _show_warnings() -> None:
    logger = logging.getLogger("gait")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr())
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    _show_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except GaitError as exc:
        print(f"gait: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("gait: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line unless asked for the traceback
        if os.environ.get("GAIT_DEBUG"):
            traceback.print_exc()
        print(
            f"gait: internal error: {type(exc).__name__}: {exc} (set GAIT_DEBUG=1 for details; please report)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
