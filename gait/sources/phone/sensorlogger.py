"""Live from Sensor Logger's HTTP Push: a receiver on ``aiohttp.web`` (a maintained HTTP server: request size,
timeouts, keep-alive and chunked bodies handled there, not by hand).

The app POSTs JSON once per batch period: ``{"messageId", "sessionId", "deviceId", "payload": [{"name",
"time" (UTC epoch ns), "values": {"x","y","z"}}, ...]}``; messages may arrive out of order. Each request is
checked completely before anything from it is used, so a bad one never touches the recording:

* ``Host`` not naming this machine, or a browser page from elsewhere (``Origin``) -> 403 (gait.sources.web);
* larger than ``max_bytes`` (default 1 MiB) -> 413, by Content-Length before reading, or while reading;
* a shared token as ``?token=T`` in the URL or an ``Authorization: Bearer T`` header: missing -> 401, wrong
  -> 403. Listening beyond this machine there is always a token (one is generated when none is given);
* not valid JSON or not the documented shape (nested too deep, values not finite or beyond float32) -> 400
  with a one-line reason;
* otherwise 200, and only once the message's samples are in the recording's crash-safe log (written and
  fsync'ed before the answer; a repeated ``messageId`` of the same session is acknowledged and ignored).

``location`` and ``barometer`` readings become the recording's ``location`` and ``baro`` streams on the same
clock (gait.sources.phone.location); a field that is there must be a finite number within float32.

Platform: the app's accelerometer is user acceleration (gravity removed) plus a separate ``gravity`` sensor,
negated on iOS (see gait.recording.phone_import). With ``platform="auto"`` Android is recognised by what only
Android sends (``totalacceleration``, an ``accuracy`` field); otherwise the iOS convention is assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import math
import secrets
import socket
import time
from dataclasses import dataclass, field

import numpy as np
from aiohttp import web

from gait.errors import RecordingError
from gait.recording.limits import MAX_JSON_DEPTH, json_depth
from gait.recording.meta import DeviceInfo
from gait.sources.blocks import SampleBlock, SourceEvent
from gait.sources.phone.common import PhoneImu
from gait.sources.phone.location import BARO_FIELDS, LOCATION_FIELDS, PhoneTerrain
from gait.sources.recorder import Emit
from gait.sources.web import refusal

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_BYTES = 1 << 20
MAX_HEADER_LINES = 100
IDLE_TIMEOUT_S = 60.0  # a connection that sends no complete request for this long is closed (slow headers too)
BODY_TIMEOUT_S = 30.0  # the whole body must arrive within this
LINGER_S = 2.0  # after a 413: how long the refused body is read and dropped, so the phone sees the answer
F32_MAX = float(np.finfo(np.float32).max)
HOLD_S = 1.0  # the longest a sample of an acknowledged message may wait for its gyroscope/gravity readings
XYZ = {"accelerometer": "acc", "totalacceleration": "acc_total", "gyroscope": "gyr", "gravity": "grav"}
#: readings kept as the recording's location and barometer streams: reading name -> (stream, fields)
TERRAIN = {"location": ("location", LOCATION_FIELDS), "barometer": ("baro", BARO_FIELDS)}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PayloadError(ValueError):
    """A push message that does not follow the documented format (the reason is sent back with the 400)."""


@dataclass
class PushMessage:
    message_id: int | None
    session_id: str
    device_id: str
    readings: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # kind -> (t_ns, xyz)
    android: bool = False  # carried something only Android sends
    #: "location" -> (t_ns, n x LOCATION_FIELDS), "baro" -> (t_ns, n x BARO_FIELDS); NaN where a field is absent
    terrain: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def parse_push(body: bytes) -> PushMessage:
    """Check and decode one Sensor Logger push message (raises PayloadError with a one-line reason)."""
    msg, payload = _envelope(body)
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    terrain_rows: dict[str, list[list[float]]] = {}
    for i, item in enumerate(payload):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise PayloadError(f"reading {i}: expected an object with a 'name'")
        if "accuracy" in item:
            msg.android = True
        name = item["name"].lower()
        if name in TERRAIN:
            stream, fields = TERRAIN[name]
            row = _fields(i, item, fields)
            if not all(math.isnan(x) for x in row[1:]):  # a reading without any field gait reads is skipped
                terrain_rows.setdefault(stream, []).append(row)
        elif (kind := XYZ.get(name)) is not None:  # else a sensor gait does not use (magnetometer, ...)
            rows.setdefault(kind, []).append(_reading(i, item))
    for kind, r in rows.items():
        a = np.array(r, float)
        msg.readings[kind] = (a[:, 0], a[:, 1:])
    for stream, r in terrain_rows.items():
        a = np.array(r, float)
        msg.terrain[stream] = (a[:, 0], a[:, 1:])
    if "acc_total" in msg.readings:
        msg.android = True
    return msg


def _envelope(body: bytes) -> tuple[PushMessage, list]:
    """The message's ids and its list of readings, not yet checked one by one."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise PayloadError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels (the limit)")
    try:
        d = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PayloadError(f"not valid JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(d, dict):
        raise PayloadError("expected a JSON object with 'payload'")
    payload = d.get("payload")
    if not isinstance(payload, list):
        raise PayloadError("'payload' must be a list of readings")
    mid = d.get("messageId")
    if mid is not None and (not isinstance(mid, int) or isinstance(mid, bool)):
        raise PayloadError("'messageId' must be an integer")
    return PushMessage(mid, str(d.get("sessionId", "")), str(d.get("deviceId", ""))), payload


def _reading(i: int, item: dict) -> tuple[float, float, float, float]:
    """One reading of a sensor gait uses as (time in ns, x, y, z): numeric, finite and within float32."""
    t, v = item.get("time"), item.get("values")
    if not isinstance(t, int | float) or isinstance(t, bool) or not isinstance(v, dict):
        raise PayloadError(f"reading {i} ({item['name']}): needs a numeric 'time' (ns) and 'values'")
    try:
        x, y, z = (float(v[a]) for a in "xyz")
    except (KeyError, TypeError, ValueError):
        raise PayloadError(f"reading {i} ({item['name']}): 'values' needs numeric x, y, z") from None
    if not all(math.isfinite(a) for a in (x, y, z)):
        raise PayloadError(f"reading {i} ({item['name']}): values are not finite")
    if max(abs(x), abs(y), abs(z)) > F32_MAX:  # stored as float32: this would become inf
        raise PayloadError(f"reading {i} ({item['name']}): values beyond the float32 range")
    return float(t), x, y, z


def _fields(i: int, item: dict, fields: tuple[str, ...]) -> list[float]:
    """[time, field values...] of a location or barometer reading; an absent field is NaN, a present one must be a
    finite number (a phone's -1 for "invalid" is kept here and becomes NaN on the way into the recording)."""
    t, v = item.get("time"), item.get("values")
    if not isinstance(t, int | float) or isinstance(t, bool) or not isinstance(v, dict):
        raise PayloadError(f"reading {i} ({item['name']}): needs a numeric 'time' (ns) and 'values'")
    out = [float(t)]
    for f in fields:
        x = v.get(f)
        if x is None:
            out.append(math.nan)
            continue
        if not isinstance(x, int | float) or isinstance(x, bool) or not math.isfinite(x) or abs(x) > F32_MAX:
            raise PayloadError(f"reading {i} ({item['name']}): '{f}' is not a finite number")
        out.append(float(x))
    return out


def lan_address() -> str:
    """This machine's address on the local network (the one a phone on the same Wi-Fi can reach)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
        return str(s.getsockname()[0])
    return "127.0.0.1"


class SensorLoggerSource:
    """A LiveSource: runs the receiver until ``stop`` and emits the phone's IMU stream.

    ``durable_emit`` is set by the Recorder: it writes an item and syncs the log before returning, so a 200 is
    sent only for samples on disk."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        token: str | None = None,
        *,
        platform: str = "auto",
        placement: str = "waist_belt",
        max_bytes: int = MAX_BYTES,
        hold_s: float = HOLD_S,
        stream: str = "imu",
    ) -> None:
        self.stream = stream
        self.host, self.port = host, port
        self.token_generated = token is None and not is_loopback(host)
        self.token = secrets.token_urlsafe(12) if self.token_generated else token  # never open to the network
        self.platform = platform
        self.max_bytes = max_bytes
        self.imu = PhoneImu(stream, DeviceInfo(name="Sensor Logger"), placement, has_gravity=False, hold_s=hold_s)
        self.terrain = PhoneTerrain(self.imu)
        self.listening = asyncio.Event()
        self.counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        self.rejections: list[str] = []
        self._seen: dict[str, set[int]] = {}  # message ids per session: a new session starts again from 0
        self._base_ns: float | None = None
        self._emit: Emit | None = None
        self.durable_emit: Emit | None = None
        self._clock0 = 0.0
        self._android = False
        self._total = False

    def url(self, host: str | None = None) -> str:
        """The push URL to type into the app (the LAN address when listening on every interface)."""
        h = host or (lan_address() if self.host in ("0.0.0.0", "") else self.host)
        q = f"?token={self.token}" if self.token else ""
        return f"http://{h}:{self.port}/push{q}"

    async def run(self, stop: asyncio.Event, emit: Emit, clock0: float) -> None:
        self._emit, self._clock0 = emit, clock0
        app = web.Application(client_max_size=self.max_bytes)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            keepalive_timeout=IDLE_TIMEOUT_S,
            lingering_time=LINGER_S,
            max_headers=MAX_HEADER_LINES,
            auto_decompress=False,  # a gzip body is refused as not JSON, never inflated
            shutdown_timeout=1.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            why = f"cannot listen on {self.host}:{self.port} ({exc.strerror}); choose another --port or --host"
            emit(SourceEvent(self.stream, "error", why))
            return
        self.port = runner.addresses[0][1]
        self.listening.set()
        try:
            await stop.wait()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner.cleanup(), 2.0)
            with contextlib.suppress(RecordingError):
                for item in self.imu.release(final=True):
                    self._out(item)
            for item in self.terrain.release():
                self._out(item)

    # -- HTTP ------------------------------------------------------------------------------------------------------

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        """One request -> one line of text. Only a fully valid push message reaches the recording."""
        why = refusal(request.method, request.headers.get("Host"), request.headers.get("Origin"), self.host)
        if why is not None:
            self._reject(why)
            return _answer(403, why)
        length = request.content_length
        if length is not None and length > self.max_bytes:
            self._reject(f"payload of {length} bytes is over the {self.max_bytes}-byte limit")
            return _answer(413, f"payload over the {self.max_bytes}-byte limit", close=True)
        status, text = self._authorise(request.query.get("token"), request.headers.get("Authorization", ""))
        if status == 200 and request.method == "GET":
            return _answer(200, "gait is listening: set this URL as Sensor Logger's HTTP Push URL")
        if status == 200 and request.method != "POST":
            return _answer(405, "POST Sensor Logger push messages here")
        if status != 200:
            return _answer(status, text)
        try:
            async with asyncio.timeout(BODY_TIMEOUT_S):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self._reject(f"payload over the {self.max_bytes}-byte limit")
            return _answer(413, f"payload over the {self.max_bytes}-byte limit", close=True)
        except TimeoutError:
            self._reject("body not received in time")
            return _answer(408, f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s", close=True)
        return _answer(*self.handle(body))

    def _authorise(self, given: str | None, auth: str) -> tuple[int, str]:
        if self.token is None:
            return 200, ""
        if given is None and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if given is None:
            self._reject("no token")
            return 401, "token required (?token=... in the URL or an Authorization: Bearer header)"
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            self._reject("wrong token")
            return 403, "wrong token"
        return 200, ""

    def _reject(self, why: str) -> None:
        self.counts["rejected"] += 1
        self.rejections.append(why)

    def handle(self, body: bytes) -> tuple[int, str]:
        """An authorised POST body -> (status, one-line text); 200 only once its samples are on disk."""
        try:
            msg = parse_push(body)
        except PayloadError as exc:
            self._reject(str(exc))
            return 400, f"rejected: {exc}"
        if msg.message_id is not None:
            seen = self._seen.setdefault(msg.session_id, set())
            if msg.message_id in seen:
                self.counts["duplicate"] += 1
                return 200, "duplicate message ignored"
            seen.add(msg.message_id)
        try:
            self._feed(msg)
        except RecordingError as exc:  # the disk refused the write: not acknowledged
            self._out(SourceEvent(self.stream, "error", str(exc)))
            return 507, f"not stored: {exc}"
        self.counts["accepted"] += 1
        return 200, "ok"

    # -- samples ---------------------------------------------------------------------------------------------------

    def _out(self, item: SampleBlock | SourceEvent) -> None:
        emit = self.durable_emit or self._emit
        if emit is not None:
            emit(item)

    def _phone_s(self, t_ns: np.ndarray) -> np.ndarray:
        """Phone epoch ns -> phone seconds since the session's first reading."""
        if self._base_ns is None:
            self._base_ns = float(np.min(t_ns))
        return (t_ns - self._base_ns) * 1e-9

    def _feed(self, msg: PushMessage) -> None:
        host_t = time.monotonic() - self._clock0
        self._android |= msg.android
        if msg.device_id and self.imu.device.name == "Sensor Logger":
            self.imu.device = DeviceInfo(name=f"Sensor Logger ({msg.device_id[:12]})", address=msg.device_id)
        if "acc_total" in msg.readings and not self._total:
            self._total = True  # Android with gravity included: use it, ignore the gravity-free series
            self.imu.has_gravity = True
        for kind, (t_ns, v) in msg.readings.items():
            t = self._phone_s(t_ns)
            if kind == "acc_total" or (kind == "acc" and not self._total):
                self.imu.add("acc", t, v, host_t)
            elif kind in ("gyr", "grav"):
                self.imu.add(kind, t, v, host_t)
        for stream, (t_ns, v) in msg.terrain.items():
            self.terrain.add(stream, self._phone_s(t_ns), v)
        if not self.imu.connected:
            self.imu.platform = self.platform if self.platform != "auto" else ("android" if self._android else "ios")
        try:
            items = self.imu.release()
        except RecordingError as exc:  # e.g. gravity removed and no gravity sensor: the user must change a setting
            items = [SourceEvent(self.stream, "error", str(exc))]
        for item in items + self.terrain.release():
            self._out(item)


def _answer(status: int, text: str, close: bool = False) -> web.Response:
    resp = web.Response(status=status, text=text + "\n", content_type="text/plain")
    if close:
        resp.force_close()
    return resp
