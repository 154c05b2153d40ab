"""Runs: every recording in the data folder with its key numbers; sort, filter, upload a file."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dash import Dash, Input, Output, State, dash_table, dcc, html, no_update
from dash.dash_table.Format import Format, Scheme

from dashboards.catalog import UPLOAD_MAX_BYTES, Catalog, RunEntry
from dashboards.context import AppContext
from dashboards.style import LEFT, WARN, metric_info
from gait.api import GaitError, watch_summary

#: the run-record fields shown as columns (header and decimals from the record), between the run and its findings
VALUE_FIELDS = ("cadence_spm", "pelvic_drop_left_deg", "pelvic_drop_right_deg", "braking_dv_mps")
COLUMNS = [
    ("day", "Date", None),
    ("name", "Run", None),
    ("runner", "Runner", None),
    ("duration_min", "Running (min)", 1),
    *((key, f"{metric_info(key).label} ({metric_info(key).unit})", metric_info(key).digits) for key in VALUE_FIELDS),
    ("findings", "Findings", None),
    ("source", "Source", None),
]
TOOLTIPS = {
    **{key: metric_info(key).help for key in VALUE_FIELDS},
    "findings": "Findings marked 'watch' or 'act' (hip-related mechanisms; not a diagnosis).",
    "source": "Where the samples came from. 'synthetic' = made by gait's simulator or an emulated sensor.",
}


def _r(x: Any, digits: int) -> float | None:
    return None if x is None else round(float(x), digits)


def row(e: RunEntry) -> dict[str, Any]:
    r = e.record
    return {
        "slug": e.slug,
        "day": e.day or "",
        "id": e.slug,  # the row id: a click on the row opens the run
        "name": e.name,
        "runner": e.runner,
        "duration_min": _r((r.running_s or 0) / 60.0, 1),
        **{key: _r(r.value(key), metric_info(key).digits) for key in VALUE_FIELDS},
        "findings": e.n_findings(),
        "source": ("synthetic" if e.synthetic else "") or (e.analysis or {})["recording"]["source"],
    }


def table_data(ctx: AppContext) -> list[dict[str, Any]]:
    rows = [row(e) for e in ctx.catalog.runs.values() if e.ok]
    return sorted(rows, key=lambda r: (r["day"], r["name"]), reverse=True)


def failures(ctx: AppContext) -> html.Div:
    bad = [e for e in ctx.catalog.runs.values() if not e.ok]
    if not bad:
        return html.Div()
    return html.Details(
        [html.Summary(f"{len(bad)} file(s) could not be analysed"), html.Ul([html.Li(e.error) for e in bad])],
        className="failures",
    )


def watch_text(catalog: Catalog, entry: RunEntry) -> str:
    """What an uploaded watch file says (medians while running, or walking), and why gait shows no analysis."""
    rec = catalog.recording(entry.slug)
    w = watch_summary(rec)
    parts = [f"Imported {entry.name} ({rec.meta.source_detail.removeprefix('uploaded ')})."]
    if w is not None:
        vals = [
            ("cadence", w.cadence_spm, "spm", 1), ("contact", w.contact_time_ms, "ms", 0),
            ("vertical oscillation", w.vertical_oscillation_cm, "cm", 1), ("power", w.power_w, "W", 0),
            ("form power", w.form_power_w, "W", 0),
        ]  # fmt: skip
        shown = ", ".join(f"{n} {v:.{d}f} {u}" for n, v, u, d in vals if v is not None)
        parts.append(f"Watch, while {w.activity}: {shown or 'no running dynamics'}.")
    parts.append(
        "gait's own analysis needs raw IMU samples: attach it to a recording of the same run with "
        "'gait import FILE.fit --attach RECORDING'."
    )
    return " ".join(parts)


def _column(key: str, label: str, digits: int | None) -> dict[str, Any]:
    if key == "findings":
        return {"id": key, "name": label, "type": "numeric"}
    if digits is None:
        return {"id": key, "name": label, "type": "text"}
    return {
        "id": key,
        "name": label,
        "type": "numeric",
        "format": Format(precision=digits, scheme=Scheme.fixed, nully="n/a"),
    }


def layout(ctx: AppContext) -> html.Div:
    data = table_data(ctx)
    return html.Div(
        [
            html.H2("Runs"),
            html.P(
                f"{len(data)} runs in {ctx.catalog.data_dir}. Click a column title to sort, type in the row below "
                "it to filter (e.g. > 170), and a run's name for its detail.",
                className="muted",
            ),
            dash_table.DataTable(
                id="runs-table",
                columns=[_column(k, label, d) for k, label, d in COLUMNS],
                data=data,
                sort_action="native",
                filter_action="native",
                page_size=25,
                tooltip_header=TOOLTIPS,
                tooltip_delay=300,
                style_table={"overflowX": "auto"},
                style_cell={"fontFamily": "inherit", "padding": "6px 8px", "textAlign": "left"},
                style_header={"fontWeight": "600", "backgroundColor": "#f3f3f3"},
                style_cell_conditional=[
                    {"if": {"column_id": "name"}, "color": LEFT, "fontWeight": "600", "cursor": "pointer"}
                ],
                style_data_conditional=[
                    {
                        "if": {"filter_query": "{findings} > 0", "column_id": "findings"},
                        "color": WARN,
                        "fontWeight": "600",
                    }
                ],
            ),
            html.Div(id="runs-failures", children=failures(ctx)),
            html.H3("Add a run"),
            html.Div(
                [
                    dcc.Upload(
                        id="upload",
                        children=html.Div(["Drop a file here or ", html.A("choose one")]),
                        className="upload",
                        max_size=UPLOAD_MAX_BYTES,
                        accept=".csv,.zip,.fit",
                        multiple=False,
                    ),
                    html.Label(
                        [
                            "CSV acceleration unit ",
                            dcc.Dropdown(
                                id="upload-acc-unit",
                                options=[
                                    {"label": "as the columns say (default m/s²)", "value": "auto"},
                                    {"label": "g", "value": "g"},
                                    {"label": "m/s²", "value": "m/s^2"},
                                ],
                                value="auto",
                                clearable=False,
                                style={"width": "260px"},
                            ),
                        ],
                        className="inline",
                    ),
                ],
                className="upload-row",
            ),
            html.P(
                "A plain CSV (time_s, acc_x/y/z, optional gyr_x/y/z; see docs/csv-format.md), a phone app's export "
                "(Sensor Logger zip, phyphox CSV; see docs/phones.md), a watch's FIT file (its own numbers) or a "
                f"zipped recording folder, up to {UPLOAD_MAX_BYTES // 2**20} MiB. It is stored in the data folder "
                "under uploads/.",
                className="muted",
            ),
            dcc.Loading(html.Div(id="upload-status", role="status")),
        ]
    )


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Input("runs-table", "active_cell"),
        prevent_initial_call=True,
    )
    def open_run(cell: dict[str, Any] | None) -> Any:
        """A click on a run's name opens its page without reloading the app."""
        if not cell or cell.get("column_id") != "name" or not cell.get("row_id"):
            return no_update
        return f"/run/{quote(cell['row_id'])}"

    @app.callback(
        Output("upload-status", "children"),
        Output("runs-table", "data"),
        Input("upload", "contents"),
        State("upload", "filename"),
        State("upload-acc-unit", "value"),
        prevent_initial_call=True,
    )
    def upload(contents: str | None, filename: str | None, unit: str) -> tuple[Any, Any]:
        if not contents:
            return no_update, no_update
        try:
            entry = ctx.catalog.import_upload(filename or "", contents, None if unit == "auto" else unit)
        except GaitError as exc:
            return html.Span(f"Not imported: {exc}", className="error"), no_update
        if not entry.ok:  # a watch's FIT file: its own numbers; gait's analysis needs raw IMU samples
            return html.Span(watch_text(ctx.catalog, entry), className="ok"), table_data(ctx)
        return (
            html.Span(
                ["Imported ", dcc.Link(entry.name, href=f"/run/{quote(entry.slug)}"), f" ({entry.slug})."],
                className="ok",
            ),
            table_data(ctx),
        )
