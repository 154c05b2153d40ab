"""Run detail: numbers beside the runner's baseline, per-step charts, speed and grade, metrics by terrain, the
route, sides, drift, findings, raw signals."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html

from dashboards import components as ui
from dashboards import figures
from dashboards.context import AppContext
from dashboards.style import STEP_CHARTS

SIDE_METRICS = ("pelvic_drop_deg", "contact_time_ms", "braking_dv_mps", "vertical_oscillation_cm")
RAW_WINDOWS_S = (5, 10, 30, 60)
ROUTE_DEFAULT = "contact_time_ms"


def not_found(slug: str) -> html.Div:
    return html.Div(
        [
            html.H2("Run not found"),
            html.P(f"No run called {slug!r} in the data folder."),
            dcc.Link("All runs", href="/"),
        ]
    )


def layout(ctx: AppContext, slug: str) -> html.Div:
    entry = ctx.catalog.get(slug)
    if entry is None:
        return not_found(slug)
    if not entry.ok:
        return html.Div([html.H2(entry.name), html.P(f"Could not be analysed: {entry.error}", className="error")])
    a = entry.analysis or {}
    steps = ctx.catalog.steps(slug)
    rec = a.get("recording") or {}
    first_run = figures.running_steps(steps)
    start = float(first_run["ic_s"].iloc[len(first_run) // 2]) if len(first_run) else 0.0
    record = entry.record
    duration = float(record.duration_s or 0.0)
    header = [
        html.H2(entry.title),
        html.P(
            [
                f"{entry.day or 'undated'} · runner {entry.runner} · {rec.get('device') or 'unknown sensor'} at the "
                f"{rec.get('placement', '?').replace('_', ' ')} · {duration / 60:.1f} min recorded",
                html.Span(" · synthetic (simulator / emulated sensor)", className="muted") if entry.synthetic else "",
            ],
            className="muted",
        ),
    ]
    return html.Div(
        [
            *header,
            ui.summary_cards(record, a.get("baseline") or {}),
            ui.foot_pod(a),
            ui.quality(a),
            html.H3("Over the run"),
            html.P(
                "One dot per step (a long run shows a band holding the middle half of every ten or so steps "
                "instead); the line is the median of the 31 steps around each.",
                className="muted",
            ),
            html.Div([ui.graph(f"steps-{m}", figures.step_series(steps, m)) for m in STEP_CHARTS], className="grid2"),
            ui.graph("speed-grade", figures.speed_grade(steps)),
            html.H3("By terrain"),
            ui.terrain_table(record, a.get("terrain")),
            *_route(ctx, slug, steps),
            html.H3("Left vs right"),
            ui.graph("sides", figures.side_distributions(steps, SIDE_METRICS)),
            html.H3("Drift"),
            ui.graph("drift", figures.drift_figure(a.get("drift") or {})),
            html.H3("Hip findings"),
            ui.findings(a.get("findings") or [], a.get("red_flags") or [], a.get("not_a_diagnosis") or ""),
            html.H3("Raw signal"),
            html.Div(
                [
                    html.Label(
                        [
                            "Window start (s) ",
                            dcc.Slider(
                                id="raw-start",
                                min=0,
                                max=max(1.0, duration - 5),
                                value=round(start, 1),
                                step=0.5,
                                marks=None,
                                tooltip={"placement": "bottom", "always_visible": True},
                            ),
                        ],
                        className="grow",
                    ),
                    html.Label(
                        [
                            "Length ",
                            dcc.Dropdown(
                                id="raw-length",
                                options=[{"label": f"{w} s", "value": w} for w in RAW_WINDOWS_S],
                                value=5,
                                clearable=False,
                                style={"width": "100px"},
                            ),
                        ],
                        className="inline",
                    ),
                ],
                className="raw-controls",
            ),
            dcc.Store(id="raw-slug", data=slug),
            dcc.Loading(ui.graph("raw", figures.empty("Choose a window"))),
        ]
    )


def _route(ctx: AppContext, slug: str, steps: Any) -> list[Any]:
    """The route coloured by a chosen metric, when the recording has positions (shown here only: this page is
    served by this computer; reports and exports leave coordinates out unless asked)."""
    track = ctx.catalog.track(slug)
    if "latitude_deg" not in track or track["latitude_deg"].notna().sum() < 2:
        return []
    options = [{"label": figures.label_of(m)[0], "value": m} for m in figures.ROUTE_METRICS]
    return [
        html.H3("Route"),
        html.Label(
            ["Colour by ", dcc.Dropdown(id="route-metric", options=options, value=ROUTE_DEFAULT, clearable=False)],
            className="inline wide",
        ),
        ui.graph("route", figures.route_figure(track, steps, ROUTE_DEFAULT)),
    ]


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(Output("route", "figure"), Input("route-metric", "value"), State("raw-slug", "data"))
    def route(metric: str | None, slug: str) -> Any:
        if ctx.catalog.get(slug) is None:
            return figures.empty("Run not found")
        metric = metric if metric in figures.ROUTE_METRICS else ROUTE_DEFAULT
        return figures.route_figure(ctx.catalog.track(slug), ctx.catalog.steps(slug), metric)

    @app.callback(
        Output("raw", "figure"),
        Input("raw-start", "value"),
        Input("raw-length", "value"),
        State("raw-slug", "data"),
    )
    def raw(start: float | None, length: float | None, slug: str) -> Any:
        if ctx.catalog.get(slug) is None:
            return figures.empty("Run not found")
        rec = ctx.catalog.recording(slug)
        steps = ctx.catalog.steps(slug)
        start, length = float(start or 0.0), float(length or 5)
        near = steps[(steps["ic_s"] >= start) & (steps["ic_s"] <= start + length)]
        contacts = list(zip(near["ic_s"].to_numpy(), near["side"].to_numpy(), strict=True))
        imu = rec.imu
        return figures.raw_window(imu.t, imu.acc, imu.gyr, start, length, contacts)
