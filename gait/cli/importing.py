"""``gait import``: any supported file to a recording folder; and what ``gait analyze`` shows for a watch-only
FIT file (the watch's own running dynamics, since gait's analysis needs raw IMU samples)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gait.errors import RecordingError

if TYPE_CHECKING:
    from gait.recording import Recording

NO_IMU = "gait's own analysis needs raw IMU samples (a phone or sensor at the sacrum); a FIT file holds only the " \
    "watch's summary numbers"  # fmt: skip


def import_file(args: argparse.Namespace) -> int:
    from gait.recording import load, save
    from gait.recording.detect import detect_format, read_any

    fmt = detect_format(args.file) if args.format == "auto" else args.format
    opts = {k: v for k, v in (("acc_unit", args.acc_unit), ("gyr_unit", args.gyr_unit)) if v}
    if opts and fmt != "csv":
        raise RecordingError(f"{args.file}: --acc-unit/--gyr-unit apply to the plain CSV only (this is {fmt})")
    rec = read_any(args.file, fmt, placement=args.placement, platform=args.phone_os, **opts)
    if args.attach:
        if fmt != "fit":
            raise RecordingError(f"{args.file}: --attach takes a FIT file (this is {fmt})")
        from gait.recording.fit_import import attach_watch

        rec = attach_watch(load(args.attach), rec)
    folder = save(rec, args.out)
    if rec.imu.n:
        print(
            f"wrote {folder} ({fmt}: {rec.imu.n} samples, {rec.imu.rate_hz:.1f} Hz, "
            f"{'acc + gyro' if rec.imu.has_gyro else 'accelerometer only'}, placement {rec.meta.placement}"
            f"{', with watch data' if 'watch' in rec.extra else ''})"
        )
    else:
        print(f"wrote {folder} (FIT: {len(rec.extra['watch'].t)} watch records; no raw IMU samples: {NO_IMU})")
    for note in rec.notes:
        print(f"note: {note}")
    return 0


def watch_only(rec: Recording) -> dict[str, Any]:
    """The JSON object ``gait analyze`` prints for a recording with watch data but no IMU samples."""
    import dataclasses

    from gait.analysis.result import SCHEMA
    from gait.runs import watch_summary

    w = watch_summary(rec)
    return {
        "schema": SCHEMA,
        "recording": {"name": rec.name, "path": str(rec.path) if rec.path else None, "id": rec.meta.id,
                      "source": rec.meta.source, "detail": rec.meta.source_detail,
                      "start_utc": rec.meta.start_utc},
        "analysis_available": False,
        "reason": NO_IMU,
        "watch": None if w is None else dataclasses.asdict(w),
    }  # fmt: skip


def format_watch_only(d: dict[str, Any]) -> str:
    w = d["watch"] or {}

    def f(key: str, unit: str, digits: int = 0) -> str:
        v = w.get(key)
        return "n/a" if v is None else f"{v:.{digits}f} {unit}"

    power = ""
    if w.get("power_w") is not None or w.get("form_power_w") is not None:
        power = f", power {f('power_w', 'W')}, form power {f('form_power_w', 'W')}"
    return "\n".join(
        [
            f"{d['recording']['name']}  (watch file; {d['recording']['source']}; {d['recording']['detail']})",
            f"  Watch         {w.get('activity', 'running')}: cadence {f('cadence_spm', 'spm', 1)}, contact "
            f"{f('contact_time_ms', 'ms')}, vertical osc. {f('vertical_oscillation_cm', 'cm', 1)}, contact balance "
            f"{f('contact_balance_pct', '%', 1)}, step length {f('step_length_m', 'm', 2)}{power} "
            f"({w.get('n', 0)} records)",
            f"  Not analysed  {d['reason']}",
        ]
    )
