"""``gait dashboard``: analyse the data folder and serve the Dash app on this machine.

The CLI is the one place that reaches up to the ``dashboards`` package (only when this command runs), so the
library itself never depends on Dash (the import contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gait.errors import GaitError


def dashboard(args: argparse.Namespace) -> int:
    try:
        from dashboards import app as app_module
    except ImportError as exc:
        raise GaitError(f"the dashboard needs Dash: pip install -e . (missing {exc.name})") from None
    data = Path(args.data) if args.data else app_module.default_data_dir()
    if args.data and not data.is_dir():
        raise GaitError(f"{data}: no such folder (give the folder of recordings with --data)")
    if not 0 < args.port < 65536:
        raise GaitError(f"--port {args.port}: choose a port between 1 and 65535")
    app = app_module.create_app(data, args.store, progress=True, host=args.host)
    n = len(app.gait_context.catalog.runs)
    url = f"http://{'localhost' if args.host in ('127.0.0.1', 'localhost') else args.host}:{args.port}/"
    print(f"gait dashboard: {n} runs from {data.resolve()}", file=sys.stderr)
    print(f"open {url} in a browser (Ctrl-C to stop)", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"note: listening on {args.host}: anyone on this network can open the dashboard and its recordings",
            file=sys.stderr,
        )
    try:
        app_module.serve(app, host=args.host, port=args.port)
    except OSError as exc:
        raise GaitError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); try --port") from None
    except KeyboardInterrupt:  # Ctrl-C is how a server is stopped: not an error
        pass
    print("gait dashboard: stopped", file=sys.stderr)
    return 0
