"""``gait report``: one self-contained HTML file for a runner to send to a physiotherapist.

Everything is inline (CSS, SVG charts); there are no scripts, fonts or links to fetch, so it opens offline and
prints cleanly. Text is escaped; numbers come from the analysis and its findings. Location is private: the
report holds no coordinates, and no drawing of the route, unless ``with_location``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape
from typing import Any

from gait import __version__
from gait.analysis.imu_speed import ERROR_RANGE
from gait.analysis.result import DISCLAIMER, RunAnalysis
from gait.analysis.summary import CARD_FIELDS, TERRAIN_FIELDS, RunRecord
from gait.analysis.terrain import IMU_SOURCE, TERRAINS, route_xy
from gait.insights.mechanisms import BY_ID, NOT_A_DIAGNOSIS, RED_FLAGS
from gait.insights.rules import Severity
from gait.palette import TERRAIN_COLOUR
from gait.reporting.svg import LEFT, NEUTRAL, RIGHT, Series, bars, binned_median, chart, route

TREND_BIN_S = 30.0
ROUTE_STEPS = 31  # the route is coloured by the median of this many steps (~10 s)

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b1b1b;max-width:760px;margin:24px auto;
padding:0 16px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#555;margin:0 0 12px}.banner{background:#fff6e0;border:1px solid #e5c07b;padding:10px 12px;border-radius:6px}
.flags{background:#fdecea;border:1px solid #e0a39c;padding:10px 12px;border-radius:6px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 10px}.card b{display:block;font-size:1.25em}
.card span{color:#555;font-size:.85em}
.finding{border-left:5px solid #999;padding:6px 12px;margin:10px 0;background:#fafafa}
.finding h3{margin:0 0 4px;font-size:1.02em}.badge{font-size:.8em;padding:1px 6px;border-radius:4px;background:#eee;
margin-right:6px}.src{font-size:.85em;color:#444}.chart{width:100%;height:auto;margin:6px 0}
.chart .grid{stroke:#e6e6e6}.chart .tick{font-size:11px;fill:#444}.chart .lab{font-size:12px;fill:#222}
.chart .ct{font-size:13px;font-weight:600;fill:#222}table{border-collapse:collapse;font-size:.9em}
td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}.nodata{color:#777}.small{font-size:.85em;color:#555}
.chart.route{max-width:460px}@media print{.finding,.card,svg{break-inside:avoid}}
""" + "".join(f".finding.{s.value}{{border-color:{s.colour}}}" for s in Severity)


def _fmt(x: float | None, digits: int = 1, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    x = round(x, digits) + 0  # never "-0.0"
    return f"{x:.{digits}f}{' ' + unit if unit else ''}"


def _card(label: str, value: str, note: str = "") -> str:
    return f'<div class="card"><span>{escape(label)}</span><b>{escape(value)}</b><span>{escape(note)}</span></div>'


def _summary_cards(result: RunAnalysis) -> str:
    r = result.record
    base = ((result.context or {}).get("baseline") or {}).get("metrics", {})

    def field_card(key: str) -> str:
        info = RunRecord.info(key)
        usual = f"your usual {base[key]['mean']:.{info.digits}f} {info.unit}" if key in base else ""
        return _card(info.label, _fmt(r.value(key), info.digits, info.unit), usual)

    left, right = "pelvic_drop_left_deg", "pelvic_drop_right_deg"
    cards = [
        _card("Running time", f"{(r.running_s or 0) / 60:.1f} min", f"{r.steps_used} steps used"),
        *([field_card("speed_mps")] if r.speed_mps is not None else []),
        *(field_card(key) for key in CARD_FIELDS),
        _card(
            "Pelvic drop L / R stance",
            f"{_fmt(r.pelvic_drop_left_deg)} / {_fmt(r.pelvic_drop_right_deg)} deg",
            f"your usual {base[left]['mean']:.1f} / {base[right]['mean']:.1f} deg"
            if left in base and right in base
            else "",
        ),
        _card(
            "Pelvic tilt / rotation range",
            f"{_fmt(r.pelvic_tilt_range_deg)} / {_fmt(r.pelvic_rotation_range_deg)} deg",
            "low-confidence angles",
        ),
    ]
    if r.contact_time_asymmetry_pct is not None:
        cards.append(_card("Contact time L/R difference", f"{r.contact_time_asymmetry_pct:+.1f} %", "right minus left"))
    return f'<div class="cards">{"".join(cards)}</div>'


def _charts(result: RunAnalysis) -> str:
    st = result.steps
    if len(st) == 0:
        return '<p class="nodata">No running steps to plot.</p>'
    run = st[(st["activity"] == "run") & ~st["low_confidence"]]
    if len(run) == 0:
        return '<p class="nodata">No confident running steps to plot.</p>'
    t_min = run["ic_s"].to_numpy() / 60.0
    out = []
    cad = 60.0 / run["step_time_s"].to_numpy()
    x, y = binned_median(t_min, cad, TREND_BIN_S / 60)
    out.append(
        chart(
            [Series("per step", t_min, cad, NEUTRAL, "points"), Series("30-s median", x, y, NEUTRAL)],
            "Cadence through the run",
            "minutes",
            "steps/min",
        )
    )
    sided = run[run["side_confidence"] >= 0.6]
    for col, title, unit in (
        ("pelvic_drop_deg", "Pelvic drop per step (opposite hip dropping in stance)", "deg"),
        ("contact_time_ms", "Ground contact time per step", "ms"),
        ("braking_dv_mps", "Braking: forward speed lost per step", "m/s"),
    ):
        series = []
        for side, color, name in (("L", LEFT, "left stance"), ("R", RIGHT, "right stance")):
            part = sided[sided["side"] == side]
            ts, v = part["ic_s"].to_numpy() / 60.0, part[col].to_numpy(dtype=float)
            series.append(Series(name + " step", ts, v, color, "points"))
            bx, by = binned_median(ts, v, TREND_BIN_S / 60)
            series.append(Series(name, bx, by, color))
        out.append(chart(series, title, "minutes", unit))
    return "".join(out)


def _terrain(result: RunAnalysis, with_location: bool) -> str:
    """Speed and grade over the run (measured ones: the IMU-only estimate is only named), the medians by terrain,
    and (only ``with_location``) the route."""
    track, st = result.terrain, result.steps
    if not len(st):
        return '<p class="small">No steps.</p>'
    run = st[(st["activity"] == "run") & ~st["low_confidence"]]
    measured = track is not None and track.has_speed and IMU_SOURCE not in track.speed_source
    if track is None or not (measured or track.has_grade):
        guess = run["speed_mps"].median() if "speed_mps" in run else float("nan")
        about = f": from the sensor alone about {guess:.1f} m/s ({ERROR_RANGE})" if math.isfinite(guess) else ""
        return f'<p class="small">No GPS, barometer, watch or foot pod, so no measured speed or grade{about}.</p>'
    t_min = run["ic_s"].to_numpy() / 60.0
    grade_from = f"; grade from the {escape(track.grade_source)}" if track.grade_source else "; no grade source"
    out = [f'<p class="small">Speed from {escape(track.speed_source or "nothing")}{grade_from}. '
           f"{escape(' '.join(n[:1].upper() + n[1:] + '.' for n in track.notes))}</p>"]  # fmt: skip
    charts = (("speed_mps", "Speed per step", "m/s", measured), ("grade_pct", "Grade per step", "%", track.has_grade))
    for col, title, unit, shown in charts:
        if not shown:
            continue
        v = run[col].to_numpy(dtype=float)
        x, y = binned_median(t_min, v, TREND_BIN_S / 60)
        out.append(chart([Series("per step", t_min, v, NEUTRAL, "points"), Series("30-s median", x, y, NEUTRAL)],
                         title, "minutes", unit))  # fmt: skip
    split = result.record.by_terrain
    if split is not None:
        head = "".join(f'<th style="color:{TERRAIN_COLOUR[t]}">{t}</th>' for t in TERRAINS)
        rows = []
        for key, info in TERRAIN_FIELDS.items():
            cells = "".join(f"<td>{_fmt(getattr(split.of(t), key), info.digits, info.unit)}</td>" for t in TERRAINS)
            rows.append(f"<tr><td>{escape(info.label)}</td>{cells}</tr>")
        out.append(f'<p class="small">A {split.kind} run. Medians of the confident running steps on each terrain '
                   "(uphill above +2 % grade, downhill below -2 %); step speed loss is hill-adjusted.</p>"
                   f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>")  # fmt: skip
    if with_location and track.latitude_deg is not None and track.longitude_deg is not None:
        ic = run["ic_s"].to_numpy()
        east, north = route_xy(track.t_s, track.latitude_deg, track.longitude_deg, ic)
        contact = run["contact_time_ms"].rolling(ROUTE_STEPS, center=True, min_periods=3).median().to_numpy(float)
        out.append(f'<p class="small">The route (north up, no map), coloured by contact time: the median of '
                   f"{ROUTE_STEPS} steps around each, in five bands of equal size.</p>")  # fmt: skip
        out.append(route(east, north, contact, "Route by contact time", "ms"))
    return "".join(out)


def _weekly(ctx: dict[str, Any]) -> str:
    weeks = ctx.get("weekly_load") or []
    if len(weeks) < 2:
        return '<p class="small">Weekly load needs more than one week of stored runs.</p>'
    svg = bars(
        [w["week_start"][5:] for w in weeks],
        [w["running_min"] for w in weeks],
        [w["spike"] for w in weeks],
        "Weekly running time (week starting)",
        "minutes",
    )
    rows = []
    for w in weeks:
        change = "" if w["change_pct"] is None else f"{w['change_pct']:+.0f} %"
        chronic = "" if w["chronic_min"] is None else f"{w['chronic_min']:.0f}"
        rows.append(
            f"<tr><td>{escape(w['week_start'])}</td><td>{w['runs']}</td><td>{w['running_min']:.0f}</td>"
            f"<td>{change}</td><td>{chronic}</td><td>{'over 30 % up' if w['spike'] else ''}</td></tr>"
        )
    return (
        f"{svg}<table><tr><th>Week of</th><th>Runs</th><th>Minutes</th><th>vs week before</th>"
        f"<th>4-week avg</th><th></th></tr>{''.join(rows)}</table>"
    )


def _findings(result: RunAnalysis) -> str:
    findings = result.findings or ()
    shown = [f for f in findings if f.severity is not Severity.NOT_ENOUGH_DATA]
    parts = []
    if not shown:
        parts.append("<p>Nothing in this run stands out against the rules gait applies.</p>")
    for f in shown:
        mech = BY_ID[f.mechanism_id]
        sources = "".join(f"<li>{escape(s)}</li>" for s in f.sources)
        caveats = "".join(f"<li>{escape(c)}</li>" for c in mech.caveats)
        parts.append(
            f'<div class="finding {f.severity}"><h3><span class="badge">{f.severity.label}</span>'
            f"{escape(f.title)}</h3><p><b>Your numbers:</b> {escape(f.evidence)}</p>"
            f"<p><b>Why it may matter:</b> {escape(f.mechanism)}</p>"
            f"<p><b>What the evidence says</b> (grade {escape(f.evidence_grade)}): {escape(mech.evidence)}</p>"
            f"<p><b>One thing to try:</b> {escape(f.action)}</p>"
            f'<p class="small">Confidence in this finding: {f.confidence:.1f} of 1 (how well a single sensor '
            f"measures it, and how many runs your baseline has).</p>"
            f'<details><summary class="small">Sources and caveats</summary><ul class="src">{sources}</ul>'
            f'<ul class="src">{caveats}</ul></details></div>'
        )
    missing = [f for f in findings if f.severity is Severity.NOT_ENOUGH_DATA]
    if missing:
        items = "".join(f"<li><b>{escape(f.title)}:</b> {escape(f.evidence)}</li>" for f in missing)
        parts.append(f'<p class="small">Not enough data for:</p><ul class="small">{items}</ul>')
    return "".join(parts)


def render_report(result: RunAnalysis, with_location: bool = False) -> str:
    """The whole report as one HTML string (``result`` must come from ``gait.analyze``, with findings); the route
    is drawn only ``with_location``."""
    rec, r, q = result.recording, result.record, result.quality
    ctx = result.context or {}
    meta = rec.meta
    origin = "simulated recording (not from a person)" if meta.synthetic else f"recorded with {meta.device.name}"
    day = ctx.get("run_day") or "unknown day"
    base = ctx.get("baseline") or {}
    base_text = (
        f"Compared with your baseline: {base['how']}."
        if "metrics" in base
        else f"No personal baseline yet ({base.get('n_runs', 0)} of 3 similar earlier runs)."
    )
    quality = "".join(f"<li>{escape(m)}</li>" for m in q.messages) or "<li>No data-quality problems found.</li>"
    red = "".join(f"<li>{escape(r)}</li>" for r in RED_FLAGS)
    grades = "".join(f"<tr><td>{escape(m.title)}</td><td>{escape(m.evidence_grade)}</td></tr>" for m in BY_ID.values())
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Running gait report: {escape(rec.name)}</title><style>{CSS}</style></head><body>
<h1>Running gait report</h1>
<p class="sub">{escape(rec.name)} &middot; {escape(day)} &middot; runner {escape(str(ctx.get("runner", "?")))}
&middot; {escape(origin)} &middot; worn at the {escape(meta.placement)}</p>
<p class="banner"><b>Not a diagnosis.</b> {escape(NOT_A_DIAGNOSIS)}</p>
<h2>Summary</h2>{_summary_cards(result)}
<p class="small">{escape(base_text)} Per-side values use only steps whose left/right label is confident
({r.steps_left} left, {r.steps_right} right of {r.steps_used}).</p>
<h2>Findings</h2>{_findings(result)}
<div class="flags"><b>See a doctor or physiotherapist, whatever these numbers say, if you have:</b><ul>{red}</ul></div>
<h2>Through the run</h2>{_charts(result)}
<h2>Speed, grade and terrain</h2>{_terrain(result, with_location)}
<h2>Weekly load</h2>{_weekly(ctx)}
<h2>Data quality</h2><p class="small">{q.sample_rate_hz:.0f} Hz,
{"accelerometer and gyroscope" if q.has_gyroscope else "accelerometer only"}; sensor mounting found:
{escape(q.mounting)}.</p><ul class="small">{quality}</ul>
<h2>About these numbers</h2>
<p class="small">gait estimates gait events and pelvic motion from one sensor on the sacrum. Its accuracy is measured
against force plates and motion capture in public lab data (see the project's docs/accuracy.md). Pelvic tilt and
rotation are the least reliable; braking at the sacrum follows force-plate braking only loosely. Evidence grades:
A prospective or randomised support, B consistent cross-sectional or lab evidence, C mixed or weak, D clinical
opinion.</p><table><tr><th>Mechanism</th><th>Evidence grade</th></tr>{grades}</table>
<p class="small">{escape(DISCLAIMER)} Generated {generated} by gait {__version__}, entirely on this computer.</p>
</body></html>
"""
