"""Small layout pieces shared by the pages: number cards with the runner's baseline, findings, notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from dashboards.style import fmt, metric_info
from gait.api import CARD_FIELDS, TERRAIN_FIELDS, TERRAINS, RunRecord, Severity, palette

GRAPH_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def graph(id_: str | dict[str, str], figure: Any, **kw: Any) -> dcc.Graph:
    return dcc.Graph(id=id_, figure=figure, config=GRAPH_CONFIG, className="graph", **kw)


def card(key: str, label: str, value: str, note: str = "", help_: str = "") -> html.Div:
    """A number with its label, a note (e.g. the personal baseline) and plain-language help on hover."""
    return html.Div(
        [
            html.Div(label, className="card-label"),
            html.Div(value, id=f"card-{key}", className="card-value"),
            html.Div(note, className="card-note"),
        ],
        className="card",
        title=help_,
    )


def baseline_note(base: Mapping[str, Any], key: str) -> str:
    """The runner's usual value of a run-record field, when the baseline has it."""
    m = base.get("metrics", {}).get(key)
    if not m:
        return ""
    info = metric_info(key)
    return f"your usual {m['mean']:.{info.digits}f} ± {m['sd']:.{info.digits}f} {info.unit}"


def value_card(record: RunRecord, key: str, base: Mapping[str, Any]) -> html.Div:
    """One run-record field as a card beside the runner's usual; a mistyped field raises."""
    m = metric_info(key)
    return card(key, m.label, fmt(record.value(key), m.digits, m.unit), baseline_note(base, key), m.help)


def summary_cards(record: RunRecord, base: Mapping[str, Any]) -> html.Div:
    """The run's headline numbers, each beside the runner's usual value when a baseline exists (``base``: the
    JSON ``baseline`` object)."""
    status = (
        f"baseline: {base['n_runs']} similar earlier runs"
        if "metrics" in base
        else f"baseline: building ({base.get('n_runs', 0)} of {base.get('needed', 3)} similar runs)"
        if base.get("status") == "building"
        else "no run history used"
    )
    cards = [
        card(
            "running",
            "Running time",
            fmt((record.running_s or 0) / 60.0, 1, "min"),
            f"{record.steps_used or 0} steps used, {record.steps_excluded_low_confidence or 0} low-confidence left out",
            "Time spent running (walking and standing are left out of the numbers below).",
        )
    ]
    cards += [value_card(record, "speed_mps", base)] if record.speed_mps is not None else []
    cards += [value_card(record, key, base) for key in CARD_FIELDS]
    usual = base.get("metrics", {})
    left, right = "pelvic_drop_left_deg", "pelvic_drop_right_deg"
    cards.append(
        card(
            "pelvic_drop_deg",
            "Pelvic drop L / R stance",
            f"{fmt(record.pelvic_drop_left_deg)} / {fmt(record.pelvic_drop_right_deg)} deg",
            f"your usual {usual[left]['mean']:.1f} / {usual[right]['mean']:.1f} deg"
            if left in usual and right in usual
            else "",
            metric_info("pelvic_drop_deg").help,
        )
    )
    tilt, rot = metric_info("pelvic_tilt_range_deg"), metric_info("pelvic_rotation_range_deg")
    cards.append(
        card(
            "pelvic_angles",
            "Pelvic tilt / rotation range",
            f"{fmt(record.pelvic_tilt_range_deg)} / {fmt(record.pelvic_rotation_range_deg)} deg",
            "lower-confidence angles",
            f"{tilt.help} {rot.help}",
        )
    )
    if record.contact_time_asymmetry_pct is not None:
        cards.append(
            card(
                "asymmetry",
                "Contact time R vs L",
                f"{record.contact_time_asymmetry_pct:+.1f} %",
                "right minus left, % of the mean",
                "How much longer the right foot stays on the ground than the left.",
            )
        )
    return html.Div([html.Div(status, className="baseline-status"), html.Div(cards, className="cards")])


def foot_pod(a: Mapping[str, Any]) -> html.Div | None:
    pod = a.get("foot_pod")
    if not pod:
        return None
    speed = pod.get("speed_mps")
    dist = pod.get("distance_m")
    return html.P(
        [
            html.B("Foot pod (second opinion): "),
            f"cadence {fmt(pod.get('cadence_spm'), 1, 'spm')}, speed {fmt(speed, 2, 'm/s')}, "
            f"distance {fmt(None if dist is None else dist / 1000.0, 2, 'km')}",
        ],
        className="pod",
    )


def findings(items: Sequence[Mapping[str, Any]], red_flags: Sequence[str], not_a_diagnosis: str) -> html.Div:
    """Each finding with the runner's own numbers, the evidence grade, sources and one action."""
    order = {s: i for i, s in enumerate(Severity)}
    blocks = []
    for f in sorted(items, key=lambda f: order.get(f["severity"], 9)):
        colour = Severity(f["severity"]).colour
        blocks.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(
                                Severity(f["severity"]).label,
                                className="badge",
                                style={"backgroundColor": colour},
                            ),
                            html.B(f" {f['title']}"),
                            html.Span(
                                f"  evidence grade {f['evidence_grade']} · confidence {f['confidence']:.0%}",
                                className="muted",
                                title="Evidence grade of the mechanism (see 'gait mechanisms'); confidence in the "
                                "measurement behind this finding.",
                            ),
                        ]
                    ),
                    html.P(f["evidence"]),
                    html.P([html.I("Why it matters: "), f["mechanism"]]),
                    html.P([html.I("What to try: "), f["action"]]),
                    html.Details(
                        [html.Summary("Sources"), html.Ul([html.Li(s) for s in f["sources"]])], className="sources"
                    ),
                ],
                className="finding",
                style={"borderLeftColor": colour},
            )
        )
    if not blocks:
        blocks.append(html.P("Nothing in this run points to a hip-related mechanism.", className="muted"))
    return html.Div(
        [
            *blocks,
            html.Div(
                [
                    html.B("Not a diagnosis. "),
                    not_a_diagnosis,
                    html.Br(),
                    html.B("See a clinician if:"),
                    html.Ul([html.Li(r) for r in red_flags]),
                ],
                className="note",
            ),
        ]
    )


def quality(a: Mapping[str, Any]) -> html.Div | None:
    q = a.get("quality") or {}
    items = list(q.get("messages") or [])
    items += [f"{k.replace('_', ' ')}: {v}" for k, v in (q.get("unavailable") or {}).items()]
    if not items:
        return None
    return html.Details([html.Summary(f"Data quality ({len(items)} notes)"), html.Ul([html.Li(i) for i in items])])


def terrain_table(record: RunRecord, terrain: Mapping[str, Any] | None) -> html.Div:
    """Metrics by terrain (``record.by_terrain``) with where speed and grade came from (``terrain``: the JSON's
    ``terrain`` object), or why there is no split."""
    t = terrain or {}
    sources = (
        f"Speed from {t.get('speed_source') or 'nothing'}; grade from {t.get('grade_source') or 'nothing'}."
        + "".join(f" {n[:1].upper()}{n[1:]}." for n in t.get("notes") or [])
    )
    split = record.by_terrain
    if split is None:
        why = "No terrain split: it needs a grade (a barometer, or a watch's altitude) for most of the run."
        return html.Div([html.P(sources, className="muted"), html.P(why, className="muted")])
    head = html.Tr([html.Th(""), *(html.Th(n, style={"color": palette.TERRAIN_COLOUR[n]}) for n in TERRAINS)])
    rows = []
    for key, info in TERRAIN_FIELDS.items():
        cells = [html.Td(fmt(getattr(split.of(n), key), info.digits, info.unit)) for n in TERRAINS]
        rows.append(html.Tr([html.Td(info.label, title=info.meaning), *cells]))
    note = (
        f"A {split.kind} run. Medians of the confident running steps on each terrain (uphill above +2 % grade, "
        "downhill below -2 %); step speed loss is braking with the slope's share removed."
    )
    return html.Div([html.P([sources, " ", note], className="muted"), html.Table([head, *rows], className="terrain")])
