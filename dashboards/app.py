"""The Dash app: a header with the four pages, a router, and the server entry point ``serve``.

``create_app`` builds everything from a data folder and a run store, so tests can make as many apps as they
like; the pages live in ``dashboards/pages`` and the figures in ``dashboards/figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from dash import Dash, Input, Output, dcc, html
from tqdm import tqdm

from dashboards.catalog import LIVE, Catalog
from dashboards.context import AppContext
from dashboards.guard import guard
from dashboards.live import LiveController
from dashboards.pages import live, run, runs, trends

TITLE = "gait"
NAV = (("/", "Runs"), ("/trends", "Trends"), ("/live", "Live"))


def bundled_recordings() -> Path | None:
    """The sample recordings of a source checkout (an editable install), if present."""
    here = Path(__file__).resolve().parents[1] / "recordings"
    return here if here.is_dir() else None


def default_data_dir() -> Path:
    from gait.api import default_store_path

    return bundled_recordings() or default_store_path().parent / "recordings"


def create_app(
    data_dir: Path | str | None = None,
    store_path: Path | str | None = None,
    *,
    progress: bool = False,
    host: str = "127.0.0.1",
) -> Dash:
    """Analyse (or read from the cache) every recording under ``data_dir`` and build the app, answering only
    requests for ``host`` (the address it will listen on; see dashboards/guard.py)."""
    folder = Path(data_dir) if data_dir else default_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(folder, Path(store_path) if store_path else None)

    def bar(paths: Any, n: int) -> Any:
        return tqdm(paths, total=n, desc="analysing runs", unit="run", file=sys.stderr, disable=None)

    catalog.refresh(progress=bar if progress else None)
    ctx = AppContext(catalog, LiveController(catalog.data_dir / LIVE, on_saved=catalog.add_folder))
    app = Dash(
        __name__,
        title=TITLE,
        suppress_callback_exceptions=True,
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    guard(app.server, host)
    app.layout = html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),  # callbacks navigate without reloading the app
            html.Header(
                [
                    html.Span("gait", className="brand"),
                    html.Nav([dcc.Link(label, href=href, id=f"nav-{label.lower()}") for href, label in NAV]),
                    html.Span("Estimates from one body-worn sensor · not a diagnosis", className="muted tagline"),
                ]
            ),
            html.Main(id="page"),
        ]
    )

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(path: str | None) -> Any:
        path = path or "/"
        if path.startswith("/run/"):
            return run.layout(ctx, unquote(path[len("/run/") :]))
        if path == "/trends":
            return trends.layout(ctx)
        if path == "/live":
            return live.layout(ctx)
        if path == "/":
            return runs.layout(ctx)
        return html.Div([html.H2("Page not found"), dcc.Link("All runs", href="/")])

    for page in (runs, run, trends, live):
        page.register(app, ctx)
    app.gait_context = ctx  # type: ignore[attr-defined]  # for tests and the server's shutdown
    return app


def serve(app: Dash, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Serve until Ctrl-C; a live session still running is stopped and its recording closed."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request, no development-server banner
    app.server.config["GAIT_HOST"] = host
    try:
        app.run(host=host, port=port, debug=debug)
    finally:
        app.gait_context.live.stop()  # type: ignore[attr-defined]
