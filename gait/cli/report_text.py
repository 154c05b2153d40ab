"""Plain-text run summary for the terminal."""

from __future__ import annotations

from gait.analysis.imu_speed import ERROR_RANGE
from gait.analysis.result import DISCLAIMER, RunAnalysis
from gait.analysis.summary import TERRAIN_FIELDS, SideValues, TerrainSplit
from gait.analysis.terrain import TERRAINS
from gait.insights.rules import Severity


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
    s, r = result.summary, result.record
    q = result.quality
    meta = result.recording.meta
    origin = (
        ("emulated sensor, simulated runner" if meta.source == "ble" else "simulated")
        if meta.synthetic
        else (meta.source)
    )
    lines = [
        f"{result.recording.name}  ({origin}; {meta.device.name}; {meta.placement})",
        f"  Duration      {_mmss(s.duration_s)} min: running {_mmss(s.running_s)}, walking {_mmss(s.walking_s)}, "
        f"still {_mmss(s.still_s)}, other {_mmss(s.other_s)}",
    ]
    if not r.steps:
        lines.append(
            "  No running detected."
            + (f" Walking cadence {r.walking_cadence_spm:.1f} spm." if r.walking_cadence_spm else "")
        )
    else:
        lines += _running_lines(result)
    lines += _second_opinions(result)
    lines.append(
        f"  Quality       {q.sample_rate_hz:.0f} Hz, {'acc + gyro' if q.has_gyroscope else 'accelerometer only'}"
        f", mounting: {q.mounting}"
    )
    lines += [f"    - {msg}" for msg in (*q.messages, *result.recording.notes)]
    lines += _findings_lines(result)
    lines.append(f"  {DISCLAIMER}")
    return "\n".join(lines)


def _running_lines(result: RunAnalysis) -> list[str]:
    r, side = result.record, result.summary.per_side
    lines = [
        f"  Steps         {r.steps} running ({r.steps_used} used, {r.steps_excluded_low_confidence} low-confidence "
        f"excluded); L {r.steps_left} / R {r.steps_right}",
        f"  Cadence       {_fmt(r.cadence_spm, 'spm', 1)}",
        f"  Contact time  {_fmt(r.contact_time_ms, 'ms')}{_sides(side['contact_time_ms'], 'ms', 0)}",
        f"  Flight time   {_fmt(r.flight_time_ms, 'ms')}",
        f"  Vertical osc. {_fmt(r.vertical_oscillation_cm, 'cm', 1)}",
        f"  Impact        {_fmt(r.impact_g, 'g', 2)} peak acceleration in stance",
    ]
    if r.braking_dv_mps is None:
        lines.append(f"  Braking       n/a ({result.quality.unavailable.get('braking_dv_mps', 'not measured')})")
    else:
        lines.append(
            f"  Braking       {_fmt(r.braking_dv_mps, 'm/s', 2)} speed lost per step, peak "
            f"{_fmt(r.braking_peak_g, 'g', 2)} over {_fmt(r.braking_duration_ms, 'ms')}"
            f"{_sides(side['braking_dv_mps'], 'm/s', 2)}"
        )
    lines += _speed_lines(result)
    if r.pelvic_drop_left_deg is not None or r.pelvic_drop_right_deg is not None:
        lines.append(
            f"  Pelvic drop   L stance {_fmt(r.pelvic_drop_left_deg, 'deg', 1)} / R stance "
            f"{_fmt(r.pelvic_drop_right_deg, 'deg', 1)} (opposite hip dropping while that foot is on the ground)"
        )
        lines.append(
            f"  Pelvis range  obliquity {_fmt(r.pelvic_obliquity_range_deg, 'deg', 1)}, tilt "
            f"{_fmt(r.pelvic_tilt_range_deg, 'deg', 1)}, rotation {_fmt(r.pelvic_rotation_range_deg, 'deg', 1)} "
            "during stance"
        )
    if result.summary.drift:
        parts = [
            f"{label} {change:+.{d}f} {unit}"
            for change, label, unit, d in (
                (r.cadence_drift_spm, "cadence", "spm", 1),
                (r.contact_time_drift_ms, "contact", "ms", 0),
                (r.braking_dv_drift_mps, "braking", "m/s", 2),
            )
            if change is not None
        ]
        if r.pelvic_drop_left_drift_deg is not None and r.pelvic_drop_right_drift_deg is not None:
            parts.append(f"drop L {r.pelvic_drop_left_drift_deg:+.1f} / R {r.pelvic_drop_right_drift_deg:+.1f} deg")
        within = result.summary.drift_terrains
        where = f"within like terrain ({', '.join(within)})" if within else "of the run"
        lines.append(f"  Drift         first vs last 20 % {where}: " + ", ".join(parts))
    elif result.summary.drift_reason:
        lines.append(f"  Drift         n/a ({result.summary.drift_reason})")
    return lines


def _speed_lines(result: RunAnalysis) -> list[str]:
    """Speed and grade (and where they came from), the hill-adjusted step speed loss, the terrain split."""
    r, track = result.record, result.terrain
    lines = []
    source = track.speed_source if track is not None else ""
    if r.speed_mps is not None:
        dist = f", {r.distance_m / 1000:.2f} km" if r.distance_m is not None else ""
        lines.append(f"  Speed         {_fmt(r.speed_mps, 'm/s', 2)}{dist}{f' ({source})' if source else ''}")
    elif source:
        v = result.steps.loc[result.steps["activity"] == "run", "speed_mps"].median()
        lines.append(f"  Speed         ~{v:.2f} m/s ({source}: {ERROR_RANGE}, not used to match baselines)")
    if track is not None and track.grade_source:
        lines.append(f"  Grade         from the {track.grade_source}")
    if r.step_speed_loss_mps is not None:
        adjusted = "hill-adjusted" if track is not None and track.grade_source else "no grade: not hill-adjusted"
        pct = f" ({r.step_speed_loss_pct:.1f} % of speed)" if r.step_speed_loss_pct is not None else ""
        lines.append(
            f"  Step speed loss {_fmt(r.step_speed_loss_mps, 'm/s', 2)}{pct} per step, {adjusted}"
            f"{_sides(result.summary.per_side['step_speed_loss_mps'], 'm/s', 2)}"
        )
    if r.by_terrain is not None:
        lines += _terrain_lines(r.by_terrain)
    return lines


#: what the text report shows per terrain class (TerrainMedians fields) and how
_TERRAIN_CELLS = (("speed_mps", "speed"), ("cadence_spm", "cadence"), ("contact_time_ms", "contact"),
                  ("braking_dv_mps", "braking"), ("step_speed_loss_mps", "step speed loss"))  # fmt: skip


def _terrain_lines(split: TerrainSplit) -> list[str]:
    lines = [f"  By terrain    a {split.kind} run (uphill > +2 % grade, downhill < -2 %; medians)"]
    for name in TERRAINS:
        part = split.of(name)
        if not part.steps:
            continue
        cells = []
        for key, label in _TERRAIN_CELLS:
            info = TERRAIN_FIELDS[key]
            cells.append(f"{label} {_fmt(getattr(part, key), info.unit.removesuffix(' per step'), info.digits)}")
        cells.append(
            f"drop L {_fmt(part.pelvic_drop_left_deg, 'deg', 1)} / R {_fmt(part.pelvic_drop_right_deg, 'deg', 1)}"
        )
        lines.append(
            f"    {name:<9} {(part.distance_m or 0) / 1000:.2f} km ({part.share_pct or 0:.0f} %), grade "
            f"{_fmt(part.grade_pct, '%', 1)}, {part.steps} steps: " + ", ".join(cells)
        )
    return lines


def _second_opinions(result: RunAnalysis) -> list[str]:
    """A foot pod's or a watch's own numbers beside gait's."""
    from gait.runs import pod_summary, watch_summary

    lines = []
    pod = pod_summary(result.recording)
    if pod is not None:
        dist = f", {pod.distance_m / 1000:.2f} km" if pod.distance_m is not None else ""
        lines.append(
            f"  Foot pod      speed {_fmt(pod.speed_mps, 'm/s', 2)}, cadence {_fmt(pod.cadence_spm, 'spm', 0)} "
            f"(its own count, a second opinion){dist}"
        )
    watch = watch_summary(result.recording)
    if watch is not None:
        r = result.record
        pairs = (
            ("cadence", watch.cadence_spm, r.cadence_spm, "spm", 1),
            ("contact", watch.contact_time_ms, r.contact_time_ms, "ms", 0),
            ("vert. osc.", watch.vertical_oscillation_cm, r.vertical_oscillation_cm, "cm", 1),
        )
        cells = [f"{n} {_fmt(w, u, d)} (gait {_fmt(g, u, d)})" for n, w, g, u, d in pairs]
        lines.append(
            "  Watch (FIT)   " + ", ".join(cells) + f", contact balance {_fmt(watch.contact_balance_pct, '%', 1)}"
            f", step {_fmt(watch.step_length_m, 'm', 2)}"
            + (f", power {_fmt(watch.power_w, 'W', 0)}" if watch.power_w is not None else "")
            + (f", form power {_fmt(watch.form_power_w, 'W', 0)}" if watch.form_power_w is not None else "")
        )
    return lines


def _findings_lines(result: RunAnalysis) -> list[str]:
    if result.findings is None:
        return []
    ctx = result.context or {}
    lines = [f"  Findings      runner {ctx.get('runner', '?')}; associations from research, not a diagnosis"]
    shown = [f for f in result.findings if f.severity is not Severity.NOT_ENOUGH_DATA]
    if not shown:
        lines.append("    none: nothing in this run stands out against the rules gait applies")
    for f in shown:
        lines.append(f"    [{f.severity}] {f.title} - evidence grade {f.evidence_grade}; confidence {f.confidence:.1f}")
        lines.append(f"      {f.evidence}")
        lines.append(f"      Try: {f.action}")
    for f in result.findings:
        if f.severity is Severity.NOT_ENOUGH_DATA:
            lines.append(f"    [not enough data] {f.title}: {f.evidence}")
    week = (ctx.get("weekly_load") or [None])[-1]
    if week:
        change = f", {week['change_pct']:+.0f} % on the week before" if week["change_pct"] is not None else ""
        lines.append(
            f"  This week     {week['runs']} run(s), {week['running_min']:.0f} min of running{change}"
            f"{' (over 30 %)' if week['spike'] else ''}"
        )
    lines.append(
        "  See a clinician for pain at rest or at night, grinding or clicking, or deep groin pain when "
        "standing on the leg."
    )
    return lines


def _cell(x: object, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def format_history(h: dict) -> str:
    """A runner's stored runs, weekly load and baseline status (the dict ``gait history --format json`` prints)."""
    lines = [f"Runner {h['runner']}: {h['n_runs']} run(s) stored"]
    lines.append(
        f"  {'day':<10}  {'run':<28} {'min':>5} {'spm':>6} {'CT ms':>6} {'drop L/R deg':>12} {'brake m/s':>9}  findings"
    )
    for r in h["runs"]:
        drop = f"{_cell(r['pelvic_drop_left_deg'])}/{_cell(r['pelvic_drop_right_deg'])}"
        fs = r["findings"]
        found = f"{fs[0]['severity']}: {fs[0]['title']}" if fs else "-"
        if len(fs) > 1:
            found += f" (+{len(fs) - 1} more)"
        lines.append(
            f"  {r['day'] or '?':<10}  {r['name'][:28]:<28} {_cell((r['running_s'] or 0) / 60):>5} "
            f"{_cell(r['cadence_spm']):>6} {_cell(r['contact_time_ms'], 0):>6} {drop:>12} "
            f"{_cell(r['braking_dv_mps'], 2):>9}  {found}"
        )
    if h["n_runs"] > len(h["runs"]):
        lines.append(f"  ... {h['n_runs'] - len(h['runs'])} older run(s) not shown (--runs)")
    lines.append("  Weekly load (running time; > 30 % on the week before is flagged)")
    for w in h["weekly_load"]:
        change = "" if w["change_pct"] is None else f"{w['change_pct']:+.0f} %"
        chronic = "" if w["chronic_min"] is None else f"4-wk avg {w['chronic_min']:.0f} min"
        dist = "" if w["distance_km"] is None else f"{w['distance_km']:.1f} km"
        flag = "  <- more than 30 % up" if w["spike"] else ""
        lines.append(
            f"    week of {w['week_start']}  {w['runs']} run(s) {w['running_min']:6.1f} min {w['steps']:6d} steps "
            f"{dist:>8} {change:>7}  {chronic}{flag}"
        )
    b = h["baseline"]
    if "metrics" in b:
        lines.append(f"  Baseline      ready: {b['how']}")
    else:
        lines.append(f"  Baseline      building: {b['n_runs']} earlier run(s) at the latest run's pace; 3 are needed")
    return "\n".join(lines)
