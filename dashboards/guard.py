"""The dashboard's HTTP-level checks, before Dash sees a request: its size, its ``Host`` and its ``Origin``.

A request body over ``MAX_REQUEST_BYTES`` is refused (413) by Flask before it is read (an upload of 64 MiB
arrives base64-encoded inside a JSON callback body, about 86 MiB); ``Host`` and ``Origin`` are checked by
``gait.api.web_refusal`` (gait.sources.web) against the address the dashboard was started for (403, one line).
"""

from __future__ import annotations

from flask import Flask, Response, request

from gait.api import web_refusal

MAX_REQUEST_BYTES = 96 * 1024 * 1024


def guard(server: Flask, host: str) -> None:
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    server.config["GAIT_HOST"] = host

    @server.before_request
    def check() -> Response | None:
        headers = request.headers
        why = web_refusal(request.method, headers.get("Host"), headers.get("Origin"), server.config["GAIT_HOST"])
        return None if why is None else Response(why + "\n", status=403, mimetype="text/plain")
