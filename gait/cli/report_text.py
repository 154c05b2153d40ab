"""Plain-text run summary for the terminal."""

from __future__ import annotations

from gait.analysis.result import DISCLAIMER, RunAnalysis
from gait.analysis.summary import SideValues


def _mmss(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def _fmt(x: float | None, unit: str, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:.{digits}f} {unit}"


def _sides(v: SideValues, unit: str, digits: int) -> str:
    if v.left is None and v.right is None:
        return ""
    asym = v.asymmetry_pct()
    tail = f", asymmetry {asym:+.1f} %" if asym is not None else ""
    return f"  (L {_fmt(v.left, unit, digits)} / R {_fmt(v.right, unit, digits)}{tail})"


def format_text(result: RunAnalysis) -> str:
    s = result.summary
    q = result.quality
    meta = result.recording.meta
    origin = "simulated" if meta.synthetic else meta.source
    lines = [
        f"{result.recording.name}  ({origin}; {meta.device.name}; {meta.placement})",
        f"  Duration      {_mmss(s.duration_s)} min: running {_mmss(s.running_s)}, walking {_mmss(s.walking_s)}, "
        f"still {_mmss(s.still_s)}",
    ]
    if s.n_steps == 0:
        lines.append(
            "  No running detected."
            + (f" Walking cadence {s.walking_cadence_spm:.1f} spm." if s.walking_cadence_spm else "")
        )
    else:
        med, side = s.medians, s.per_side
        lines += [
            f"  Steps         {s.n_steps} running ({s.n_used} used, {s.n_excluded} low-confidence excluded); "
            f"L {s.n_left} / R {s.n_right}",
            f"  Cadence       {_fmt(s.cadence_spm, 'spm', 1)}",
            f"  Contact time  {_fmt(med['contact_time_ms'], 'ms')}{_sides(side['contact_time_ms'], 'ms', 0)}",
            f"  Flight time   {_fmt(med['flight_time_ms'], 'ms')}",
            f"  Vertical osc. {_fmt(med['vertical_oscillation_cm'], 'cm', 1)}",
            f"  Impact        {_fmt(med['impact_g'], 'g', 2)} peak acceleration in stance",
        ]
        if med["braking_dv_ms"] is None:
            lines.append(f"  Braking       n/a ({result.quality.unavailable.get('braking_dv_ms', 'not measured')})")
        else:
            lines.append(
                f"  Braking       {_fmt(med['braking_dv_ms'], 'm/s', 2)} speed lost per step, peak "
                f"{_fmt(med['braking_peak_g'], 'g', 2)} over {_fmt(med['braking_duration_ms'], 'ms')}"
                f"{_sides(side['braking_dv_ms'], 'm/s', 2)}"
            )
        drop = side["pelvic_drop_deg"]
        if drop.left is not None or drop.right is not None:
            lines.append(
                f"  Pelvic drop   L stance {_fmt(drop.left, 'deg', 1)} / R stance {_fmt(drop.right, 'deg', 1)} "
                "(opposite hip dropping while that foot is on the ground)"
            )
            lines.append(
                f"  Pelvis range  obliquity {_fmt(med['pelvic_obliquity_range_deg'], 'deg', 1)}, tilt "
                f"{_fmt(med['pelvic_tilt_range_deg'], 'deg', 1)}, rotation "
                f"{_fmt(med['pelvic_rotation_range_deg'], 'deg', 1)} during stance"
            )
        if s.drift:
            parts = []
            for m, label, unit, d in (
                ("cadence_spm", "cadence", "spm", 1),
                ("contact_time_ms", "contact", "ms", 0),
                ("braking_dv_ms", "braking", "m/s", 2),
            ):
                if m in s.drift and s.drift[m].change is not None:
                    parts.append(f"{label} {s.drift[m].change:+.{d}f} {unit}")
            dd = s.drift.get("pelvic_drop_deg")
            if dd and dd.left_change is not None and dd.right_change is not None:
                parts.append(f"drop L {dd.left_change:+.1f} / R {dd.right_change:+.1f} deg")
            lines.append("  Drift         first vs last 20 % of the run: " + ", ".join(parts))
        elif s.drift_reason:
            lines.append(f"  Drift         n/a ({s.drift_reason})")
    lines.append(
        f"  Quality       {q.sample_rate_hz:.0f} Hz, {'acc + gyro' if q.has_gyroscope else 'accelerometer only'}"
        f", mounting: {q.mounting}"
    )
    for msg in q.messages:
        lines.append(f"    - {msg}")
    for note in result.recording.notes:
        lines.append(f"    - {note}")
    lines.append(f"  {DISCLAIMER}")
    return "\n".join(lines)
