"""What gait's two small web servers (the phone receiver and the dashboard) check on every request.

* ``Host`` must name this machine: an IP address, ``localhost``, this computer's own name, or the name the
  server was started for. A web page elsewhere whose name an attacker points at 127.0.0.1 (DNS rebinding)
  reaches the server with its own name in ``Host`` and is refused.
* A state-changing request (POST, PUT, DELETE, ...) that carries ``Origin`` must come from the server's own
  page: a page on another site may make the browser post to us, but it cannot forge ``Origin``. Requests
  without it (the Sensor Logger app, command-line clients) are not from a browser page and pass.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def _split(netloc: str) -> tuple[str, int | None] | None:
    """(host, port) of ``name:port`` / ``[v6]:port``, lower case; None when it does not parse."""
    try:
        u = urlsplit(f"//{netloc.strip()}")
        return (u.hostname or "").lower(), u.port
    except ValueError:
        return None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(host: str | None, bound: str) -> bool:
    """Whether a request's ``Host`` names this machine (``bound``: the address or name the server listens on)."""
    if host is None:
        return True  # HTTP/1.0 without Host: not a browser
    parsed = _split(host)
    if parsed is None or not parsed[0]:
        return False
    name = parsed[0].rstrip(".")
    if _is_ip(name) or name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    me = socket.gethostname().lower()
    return name in {bound.lower(), me, f"{me}.local", me.split(".")[0]}


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """Whether a browser's ``Origin`` is the server's own page (same host and port as ``Host``)."""
    if origin is None:
        return True
    u = urlsplit(origin)
    if u.scheme not in ("http", "https") or not u.netloc or host is None:
        return False  # "null" (a sandboxed frame, a file) or garbage
    own, theirs = _split(host), _split(u.netloc)
    if own is None or theirs is None:
        return False
    default = 443 if u.scheme == "https" else 80
    return (theirs[0], theirs[1] or default) == (own[0], own[1] or default)


def refusal(method: str, host: str | None, origin: str | None, bound: str) -> str | None:
    """The one-line reason a request is refused (answered 403), or None when it may proceed."""
    if not host_allowed(host, bound):
        return f"Host {host!r:.60} is not this machine; open gait by its address or as localhost"
    if method.upper() not in SAFE_METHODS and not origin_allowed(origin, host):
        return f"cross-origin request refused (Origin {origin!r:.60} is not this page)"
    return None
