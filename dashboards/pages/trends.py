"""Trends: weekly load, metrics across runs, and two runs side by side."""

from __future__ import annotations

from collections import Counter
from typing import Any

from dash import Dash, Input, Output, dash_table, dcc, html

from dashboards import components as ui
from dashboards import figures
from dashboards.context import AppContext
from dashboards.style import fmt, metric_info
from gait.api import RunRecord

TREND_METRICS = ("cadence_spm", "pelvic_drop_deg", "braking_dv_mps", "contact_time_ms")
COMPARE_METRICS = ("cadence_spm", "pelvic_drop_deg", "braking_dv_mps", "contact_time_ms")


def _runner_options(ctx: AppContext) -> tuple[list[dict[str, str]], str | None]:
    counts = Counter(e.runner for e in ctx.catalog.runs.values() if e.ok)
    if not counts:
        return [], None
    return [{"label": f"{r} ({n} runs)", "value": r} for r, n in sorted(counts.items())], counts.most_common(1)[0][0]


def _run_options(ctx: AppContext) -> list[dict[str, str]]:
    runs = sorted((e for e in ctx.catalog.runs.values() if e.ok), key=lambda e: (e.day or "", e.name), reverse=True)
    return [{"label": f"{e.day or 'undated'}  {e.name} ({e.runner})", "value": e.slug} for e in runs]


def layout(ctx: AppContext) -> html.Div:
    options, runner = _runner_options(ctx)
    runs = _run_options(ctx)
    mine = [o["value"] for o in runs if ctx.catalog.runs[o["value"]].runner == runner]
    a, b = (mine + [o["value"] for o in runs])[:2] if len(runs) >= 2 else (None, None)
    return html.Div(
        [
            html.H2("Trends"),
            html.Label(
                ["Runner ", dcc.Dropdown(id="trend-runner", options=options, value=runner, clearable=False)],
                className="inline wide",
            ),
            ui.graph("weekly-load", figures.empty("Loading")),
            html.Div(id="load-note", className="muted"),
            html.Div([ui.graph(f"trend-{m}", figures.empty("Loading")) for m in TREND_METRICS], className="grid2"),
            html.H3("Two runs side by side"),
            html.P(
                "For example two pairs of shoes, or before and after a cadence cue. Differences are B minus A.",
                className="muted",
            ),
            html.Div(
                [
                    html.Label(["Run A ", dcc.Dropdown(id="compare-a", options=runs, value=a)], className="grow"),
                    html.Label(["Run B ", dcc.Dropdown(id="compare-b", options=runs, value=b)], className="grow"),
                ],
                className="raw-controls",
            ),
            html.Div(id="compare-table"),
            ui.graph("compare", figures.empty("Choose two runs")),
        ]
    )


#: the run-record fields compared between two runs (label, unit and decimals from the record)
COMPARE_FIELDS = (
    "cadence_spm",
    "contact_time_ms",
    "pelvic_drop_left_deg",
    "pelvic_drop_right_deg",
    "braking_dv_mps",
    "vertical_oscillation_cm",
    "impact_g",
)


def compare_rows(a: RunRecord, b: RunRecord) -> list[dict[str, str]]:
    out = []
    for key in COMPARE_FIELDS:
        m = metric_info(key)
        x, y = a.value(key), b.value(key)
        diff = None if x is None or y is None else round(y - x, m.digits) + 0.0  # no "-0.00"
        out.append(
            {
                "metric": f"{m.label} ({m.unit})",
                "a": fmt(x, m.digits),
                "b": fmt(y, m.digits),
                "diff": "n/a" if diff is None else f"{diff:+.{m.digits}f}",
            }
        )
    return out


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("weekly-load", "figure"),
        Output("load-note", "children"),
        *[Output(f"trend-{m}", "figure") for m in TREND_METRICS],
        Input("trend-runner", "value"),
    )
    def trends(runner: str | None) -> tuple[Any, ...]:
        if runner is None:
            blank = figures.empty("No analysed runs")
            return (blank, "", *[blank for _ in TREND_METRICS])
        store = ctx.catalog.store()
        try:
            weeks = [w.to_dict() for w in store.weekly(runner)]
            runs = [
                {"day": r.day.isoformat() if r.day else None, "name": r.name, "record": r.record}
                for r in store.runs(runner)
            ]
        finally:
            store.close()
        spikes = [w for w in weeks if w.get("spike")]
        note = (
            f"{len(spikes)} week(s) rose more than 30 % over the week before: a quick rise in load is associated "
            "with overuse injuries (graded evidence in 'gait mechanisms')."
            if spikes
            else "No week rose more than 30 % over the week before."
        )
        return (figures.weekly_load(weeks), note, *[figures.metric_trend(runs, m) for m in TREND_METRICS])

    @app.callback(
        Output("compare-table", "children"),
        Output("compare", "figure"),
        Input("compare-a", "value"),
        Input("compare-b", "value"),
    )
    def compare(a: str | None, b: str | None) -> tuple[Any, Any]:
        ea, eb = ctx.catalog.get(a or ""), ctx.catalog.get(b or "")
        if ea is None or eb is None or not (ea.ok and eb.ok):
            return html.P("Choose two analysed runs.", className="muted"), figures.empty("Choose two runs")
        table = dash_table.DataTable(
            id="compare-values",
            columns=[
                {"id": "metric", "name": "Median"},
                {"id": "a", "name": f"A: {ea.name}"},
                {"id": "b", "name": f"B: {eb.name}"},
                {"id": "diff", "name": "B − A"},
            ],
            data=compare_rows(ea.record, eb.record),
            style_cell={"fontFamily": "inherit", "padding": "4px 8px", "textAlign": "left"},
            style_header={"fontWeight": "600", "backgroundColor": "#f3f3f3"},
        )
        fig = figures.compare_runs(
            ctx.catalog.steps(ea.slug), ctx.catalog.steps(eb.slug), f"A: {ea.name}", f"B: {eb.name}", COMPARE_METRICS
        )
        return table, fig
