"""Live: pick a source, start and stop, tiles and charts updating every second, and a metronome."""

from __future__ import annotations

import secrets
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update

from dashboards import components as ui
from dashboards import figures
from dashboards.context import AppContext
from dashboards.live import TILES
from dashboards.style import fmt, metric_info
from gait.api import EMULATED_FAMILIES, GaitError, LiveRequest

TILE_DIGITS = {"cadence_spm": 0}  # a live cadence in whole steps; other tiles as the run record shows them


def tile(key: str) -> html.Div:
    """A live tile for a run-record field (label, unit and help from the record; a mistyped field raises)."""
    m = metric_info(key)
    return html.Div(
        [
            html.Div(m.label, className="card-label"),
            html.Div("--", id=f"live-tile-{key}", className="card-value"),
            html.Div(m.unit, className="card-note"),
        ],
        className="card tile",
        title=m.help,
    )


def tile_text(tiles: dict[str, Any], key: str) -> str:
    value = tiles.get(key)
    return "--" if value is None else fmt(value, TILE_DIGITS.get(key, metric_info(key).digits))


CHART_MINUTES = 15


def layout(ctx: AppContext) -> html.Div:
    runs = sorted((e for e in ctx.catalog.runs.values() if e.ok), key=lambda e: (e.day or "", e.name), reverse=True)
    return html.Div(
        [
            html.H2("Live session"),
            html.Div(
                [
                    dcc.RadioItems(
                        id="live-kind",
                        options=[
                            {"label": "Emulated sensor (no hardware)", "value": "emulated"},
                            {"label": "Bluetooth sensor", "value": "ble"},
                            {"label": "Replay a recording", "value": "replay"},
                            {"label": "Phone: Sensor Logger", "value": "sensorlogger"},
                            {"label": "Phone: phyphox", "value": "phyphox"},
                        ],
                        value="emulated",
                        inline=True,
                    ),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id="live-emulated",
                                options=[f for f in EMULATED_FAMILIES if f != "rsc"],
                                value="movesense",
                                clearable=False,
                                style={"width": "220px"},
                            ),
                            dcc.Input(
                                id="live-ble",
                                placeholder="sensor name or address (see 'gait scan')",
                                style={"width": "320px", "display": "none"},
                            ),
                            dcc.Dropdown(
                                id="live-replay",
                                options=[{"label": f"{e.day or ''} {e.name}", "value": e.slug} for e in runs],
                                value=runs[0].slug if runs else None,
                                style={"width": "360px", "display": "none"},
                            ),
                            dcc.Dropdown(
                                id="live-speed",
                                options=[{"label": f"{s}× speed", "value": s} for s in (1, 5, 10)],
                                value=1,
                                clearable=False,
                                style={"width": "120px", "display": "none"},
                            ),
                            html.Div(
                                [
                                    html.Label(
                                        [
                                            "port ",
                                            dcc.Input(
                                                id="live-phone-port",
                                                type="number",
                                                value=8000,
                                                min=1024,
                                                max=65535,
                                                style={"width": "90px"},
                                            ),
                                        ]
                                    ),
                                    html.Label(
                                        [
                                            "token ",
                                            dcc.Input(
                                                id="live-phone-token",
                                                value=secrets.token_urlsafe(6),
                                                style={"width": "120px"},
                                            ),
                                        ]
                                    ),
                                    dcc.Checklist(
                                        id="live-phone-lan",
                                        options=[
                                            {
                                                "label": " reachable over the Wi-Fi (listens on every interface)",
                                                "value": "lan",
                                            }
                                        ],
                                        value=[],  # 127.0.0.1 unless the user asks: safe by default
                                    ),
                                ],
                                id="live-phone",
                                className="live-controls",
                                style={"display": "none"},
                            ),
                            dcc.Input(
                                id="live-phyphox",
                                placeholder="http://PHONE:8080 (phyphox: Allow remote access)",
                                style={"width": "320px", "display": "none"},
                            ),
                            html.Button("Start", id="live-start", className="primary"),
                            html.Button("Stop", id="live-stop"),
                        ],
                        className="live-controls",
                    ),
                ]
            ),
            html.Div(id="live-action", role="status"),
            html.Div(id="live-message", className="muted", role="status"),
            html.Div([tile(k) for k in TILES], className="cards"),
            html.Div(id="live-streams", className="muted"),
            ui.graph("live-chart", figures.live_chart([])),
            html.H3("Metronome"),
            html.Div(
                [
                    dcc.Checklist(id="metronome-on", options=[{"label": " click at", "value": "on"}], value=[]),
                    dcc.Input(
                        id="metronome-bpm", type="number", min=100, max=230, step=1, value=170, style={"width": "80px"}
                    ),
                    html.Span(" steps per minute "),
                    html.Button("+5 % of the current cadence", id="metronome-plus5"),
                    html.Span(id="metronome-beat", className="beat"),
                    html.Span(id="metronome-state", className="muted"),
                ],
                className="live-controls",
            ),
            html.P(
                "A cue of about 5 % more steps per minute at the same speed is a common way to shorten the stride "
                "and reduce braking; change it gradually (see the cadence findings and 'gait mechanisms').",
                className="muted",
            ),
            dcc.Interval(id="live-tick", interval=1000),
        ]
    )


def page_request(
    ctx: AppContext,
    kind: str,
    fam: str,
    ble: str | None,
    slug: str | None,
    speed: float | None,
    port: int | None,
    token: str | None,
    lan: list[str] | None,
    phyphox: str | None,
) -> LiveRequest:
    """What the page's controls ask to stream (a replay by the run's address in the catalog, never a path)."""
    if kind == "replay":
        entry = ctx.catalog.get(slug or "")
        if entry is None:
            raise GaitError("choose a recording to replay")
        return LiveRequest("replay", str(entry.path), speed=float(speed or 1))
    if kind == "sensorlogger":
        host = "0.0.0.0" if "lan" in (lan or []) else "127.0.0.1"
        return LiveRequest(kind, str(port or ""), host=host, token=(token or "").strip() or None)
    if kind == "phyphox":
        return LiveRequest(kind, (phyphox or "").strip())
    return LiveRequest(kind, fam if kind == "emulated" else (ble or "").strip())


def status_message(s: dict[str, Any]) -> Any:
    """The clock and where it records; a failed live analysis; where the phone should push."""
    msg: Any = s.get("message", "")
    elapsed = s.get("elapsed_s")
    if s.get("running") and elapsed is not None:
        m, sec = divmod(int(elapsed), 60)
        msg = f"{m:02d}:{sec:02d} recording" + (f" to {s['folder']}" if s.get("folder") else " (replay)")
    if s.get("analysis_error"):
        failed = f"live analysis failed (still recording): {s['analysis_error']}"
        msg = [msg, html.Br(), html.Span(failed, className="error")]
    if s.get("running") and s.get("push_url"):
        push = "In Sensor Logger (Logger page, gear icon) turn on HTTP Push with the URL "
        msg = [msg, html.Br(), push, html.Code(s["push_url"])]
    return msg


def streams_text(s: dict[str, Any]) -> str:
    return "  ·  ".join(
        f"{st['name']}: {'connected' if st['connected'] else st['message'] or 'waiting'}, {st['rate_hz']:.0f}/s, "
        f"{st['samples']} samples, {st['lost']} lost"
        + (f", {st['gaps']} gap(s)" if st["gaps"] else "")
        + (f", battery {st['battery']:.0f} %" if st.get("battery") is not None else "")
        for st in s.get("streams") or []
    )


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("live-emulated", "style"),
        Output("live-ble", "style"),
        Output("live-replay", "style"),
        Output("live-speed", "style"),
        Output("live-phone", "style"),
        Output("live-phyphox", "style"),
        Input("live-kind", "value"),
        State("live-emulated", "style"),
        State("live-ble", "style"),
        State("live-replay", "style"),
        State("live-speed", "style"),
        State("live-phone", "style"),
        State("live-phyphox", "style"),
    )
    def show_inputs(kind: str, *styles: dict[str, Any]) -> tuple[dict[str, Any], ...]:
        shown = {"emulated": (0,), "ble": (1,), "replay": (2, 3), "sensorlogger": (4,), "phyphox": (5,)}[kind]
        return tuple({**(s or {}), "display": "block" if i in shown else "none"} for i, s in enumerate(styles))

    @app.callback(
        Output("live-action", "children"),
        Input("live-start", "n_clicks"),
        Input("live-stop", "n_clicks"),
        State("live-kind", "value"),
        State("live-emulated", "value"),
        State("live-ble", "value"),
        State("live-replay", "value"),
        State("live-speed", "value"),
        State("live-phone-port", "value"),
        State("live-phone-token", "value"),
        State("live-phone-lan", "value"),
        State("live-phyphox", "value"),
        prevent_initial_call=True,
    )
    def control(
        _start: int | None,
        _stop: int | None,
        kind: str,
        fam: str,
        ble: str,
        slug: str,
        speed: int,
        port: int | None,
        token: str | None,
        lan: list[str] | None,
        phyphox: str | None,
    ) -> Any:
        from dash import ctx as cb

        if cb.triggered_id == "live-stop":
            if not ctx.live.running:
                return html.Span("Nothing to stop.", className="muted")
            ctx.live.stop()
            return html.Span("Stopped.", className="ok")
        try:
            ctx.live.start(page_request(ctx, kind, fam, ble, slug, speed, port, token, lan, phyphox))
        except GaitError as exc:
            return html.Span(f"Not started: {exc}", className="error")
        return html.Span("Started.", className="ok")

    @app.callback(
        *[Output(f"live-tile-{k}", "children") for k in TILES],
        Output("live-message", "children"),
        Output("live-streams", "children"),
        Output("live-chart", "figure"),
        Input("live-tick", "n_intervals"),
    )
    def tick(_n: int | None) -> tuple[Any, ...]:
        s = ctx.live.state()
        tiles = s.get("tiles") or {}
        values = [tile_text(tiles, k) for k in TILES]
        elapsed = s.get("elapsed_s")
        msg, streams = status_message(s), streams_text(s)
        hist = [h for h in s.get("history", []) if h["elapsed_s"] >= (elapsed or 0) - 60 * CHART_MINUTES]
        fig = figures.live_chart(hist) if s.get("running") or hist else no_update
        return (*values, msg, streams, fig)

    @app.callback(
        Output("metronome-bpm", "value"),
        Input("metronome-plus5", "n_clicks"),
        State("metronome-bpm", "value"),
        prevent_initial_call=True,
    )
    def plus5(_n: int | None, current: float | None) -> Any:
        cadence = (ctx.live.state().get("tiles") or {}).get("cadence_spm")
        return round(1.05 * cadence) if cadence else current

    app.clientside_callback(
        ClientsideFunction(namespace="gait", function_name="metronome"),
        Output("metronome-state", "children"),
        Input("metronome-on", "value"),
        Input("metronome-bpm", "value"),
    )
