"""Live from Sensor Logger's HTTP Push: a small HTTP receiver (asyncio streams, standard library only).

The app POSTs JSON once per batch period: ``{"messageId", "sessionId", "deviceId", "payload": [{"name",
"time" (UTC epoch ns), "values": {"x","y","z"}}, ...]}``; messages may arrive out of order. Each request is
checked completely before anything from it is used, so a bad one never touches the recording:

* larger than ``max_bytes`` (default 1 MiB) -> 413, without reading the body;
* a shared token, when set, as ``?token=T`` in the URL or an ``Authorization: Bearer T`` header: missing -> 401,
  wrong -> 403;
* not valid JSON or not the documented shape -> 400 with a one-line reason;
* otherwise 200 (a repeated ``messageId`` is acknowledged and ignored).

Platform: the app's accelerometer is user acceleration (gravity removed) plus a separate ``gravity`` sensor,
negated on iOS (see gait.recording.phone_import). With ``platform="auto"`` Android is recognised by what only
Android sends (``totalacceleration``, an ``accuracy`` field); otherwise the iOS convention is assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import math
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import numpy as np

from gait.errors import RecordingError
from gait.recording.meta import DeviceInfo
from gait.sources.blocks import SourceEvent
from gait.sources.phone.common import PhoneImu
from gait.sources.phone.location import BARO_FIELDS, LOCATION_FIELDS, PhoneTerrain
from gait.sources.recorder import Emit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_BYTES = 1 << 20
MAX_HEADER_LINES = 100
IDLE_TIMEOUT_S = 60.0
LINGER_BYTES, LINGER_S = 16 << 20, 2.0  # after a 413: how much of the refused body is read and dropped, how long
XYZ = {"accelerometer": "acc", "totalacceleration": "acc_total", "gyroscope": "gyr", "gravity": "grav"}
#: readings kept as the recording's location and barometer streams: reading name -> (stream, fields)
TERRAIN = {"location": ("location", LOCATION_FIELDS), "barometer": ("baro", BARO_FIELDS)}


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
    msg = PushMessage(mid, str(d.get("sessionId", "")), str(d.get("deviceId", "")))
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    terrain_rows: dict[str, list[list[float]]] = {}
    for i, item in enumerate(payload):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise PayloadError(f"reading {i}: expected an object with a 'name'")
        kind = XYZ.get(item["name"].lower())
        if "accuracy" in item:
            msg.android = True
        if item["name"].lower() in TERRAIN:
            stream, fields = TERRAIN[item["name"].lower()]
            row = _fields(i, item, fields)
            if not all(math.isnan(x) for x in row[1:]):  # a reading without any field gait reads is skipped
                terrain_rows.setdefault(stream, []).append(row)
            continue
        if kind is None:
            continue  # a sensor gait does not use (magnetometer, ...)
        t, v = item.get("time"), item.get("values")
        if not isinstance(t, int | float) or isinstance(t, bool) or not isinstance(v, dict):
            raise PayloadError(f"reading {i} ({item['name']}): needs a numeric 'time' (ns) and 'values'")
        try:
            x, y, z = (float(v[a]) for a in "xyz")
        except (KeyError, TypeError, ValueError):
            raise PayloadError(f"reading {i} ({item['name']}): 'values' needs numeric x, y, z") from None
        if not all(math.isfinite(a) for a in (x, y, z)):
            raise PayloadError(f"reading {i} ({item['name']}): values are not finite")
        rows.setdefault(kind, []).append((float(t), x, y, z))
    for kind, r in rows.items():
        a = np.array(r, float)
        msg.readings[kind] = (a[:, 0], a[:, 1:])
    for stream, r in terrain_rows.items():
        a = np.array(r, float)
        msg.terrain[stream] = (a[:, 0], a[:, 1:])
    if "acc_total" in msg.readings:
        msg.android = True
    return msg


_F32_MAX = float(np.finfo(np.float32).max)  # stored as float32: anything beyond would become inf


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
        if not isinstance(x, int | float) or isinstance(x, bool) or not math.isfinite(x) or abs(x) > _F32_MAX:
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
    """A LiveSource: runs the receiver until ``stop`` and emits the phone's IMU stream."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        token: str | None = None,
        *,
        platform: str = "auto",
        placement: str = "waist_belt",
        max_bytes: int = MAX_BYTES,
        hold_s: float = 1.5,
        stream: str = "imu",
    ) -> None:
        self.stream = stream
        self.host, self.port, self.token = host, port, token
        self.platform = platform
        self.max_bytes = max_bytes
        self.imu = PhoneImu(stream, DeviceInfo(name="Sensor Logger"), placement, has_gravity=False, hold_s=hold_s)
        self.terrain = PhoneTerrain(self.imu)
        self.listening = asyncio.Event()
        self.counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        self.rejections: list[str] = []
        self._seen: set[int] = set()
        self._base_ns: float | None = None
        self._emit: Emit | None = None
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
        try:
            server = await asyncio.start_server(self._serve, self.host, self.port)
        except OSError as exc:
            why = f"cannot listen on {self.host}:{self.port} ({exc.strerror}); choose another --port or --host"
            emit(SourceEvent(self.stream, "error", why))
            return
        self.port = server.sockets[0].getsockname()[1]
        self.listening.set()
        try:
            await stop.wait()
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)
            with contextlib.suppress(RecordingError):
                for item in self.imu.release(final=True):
                    emit(item)
            for item in self.terrain.release(final=True):
                emit(item)

    # -- HTTP ------------------------------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT_S)
                if not line:
                    break
                parts = line.decode("latin-1").split()
                if len(parts) != 3:
                    await self._respond(writer, 400, "malformed request line", close=True)
                    break
                method, target, version = parts
                headers: dict[str, str] = {}
                for _ in range(MAX_HEADER_LINES):
                    h = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT_S)
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                else:
                    await self._respond(writer, 431, "too many header lines", close=True)
                    break
                close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    await self._respond(writer, 411, "send a Content-Length (chunked bodies are not accepted)", True)
                    break
                try:
                    length = int(headers.get("content-length", "0"))
                except ValueError:
                    await self._respond(writer, 400, "bad Content-Length", close=True)
                    break
                if length > self.max_bytes or length < 0:
                    self._reject(f"payload of {length} bytes is over the {self.max_bytes}-byte limit")
                    await self._respond(writer, 413, f"payload over the {self.max_bytes}-byte limit", close=True)
                    await self._discard(reader, length)
                    break
                body = await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT_S) if length else b""
                status, text = self.handle(method, target, headers, body)
                await self._respond(writer, status, text, close)
                if close:
                    break
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # a client that went away or stalled: nothing of its request was used
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _discard(reader: asyncio.StreamReader, n: int) -> None:
        """Drop what the client is still sending (briefly, bounded), so it reads our answer instead of a reset."""
        n = min(max(n, 0), LINGER_BYTES)
        with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            async with asyncio.timeout(LINGER_S):
                while n > 0 and (chunk := await reader.read(min(n, 1 << 16))):
                    n -= len(chunk)

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, status: int, text: str, close: bool) -> None:
        reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                   405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
                   431: "Request Header Fields Too Large"}  # fmt: skip
        body = (text + "\n").encode()
        head = (
            f"HTTP/1.1 {status} {reasons.get(status, 'Error')}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()

    def _reject(self, why: str) -> None:
        self.counts["rejected"] += 1
        self.rejections.append(why)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """One request -> (status, one-line text). Only a fully valid push message reaches the recording."""
        url = urlsplit(target)
        if self.token is not None:
            given = parse_qs(url.query).get("token", [None])[0]
            auth = headers.get("authorization", "")
            if given is None and auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if given is None:
                self._reject("no token")
                return 401, "token required (?token=... in the URL or an Authorization: Bearer header)"
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                self._reject("wrong token")
                return 403, "wrong token"
        if method == "GET":
            return 200, "gait is listening: set this URL as Sensor Logger's HTTP Push URL"
        if method != "POST":
            return 405, "POST Sensor Logger push messages here"
        try:
            msg = parse_push(body)
        except PayloadError as exc:
            self._reject(str(exc))
            return 400, f"rejected: {exc}"
        if msg.message_id is not None:
            if msg.message_id in self._seen:
                self.counts["duplicate"] += 1
                return 200, "duplicate message ignored"
            self._seen.add(msg.message_id)
        self.counts["accepted"] += 1
        self._feed(msg)
        return 200, "ok"

    # -- samples ---------------------------------------------------------------------------------------------------

    def _feed(self, msg: PushMessage) -> None:
        host_t = time.monotonic() - self._clock0
        self._android |= msg.android
        if msg.device_id and self.imu.device.name == "Sensor Logger":
            self.imu.device = DeviceInfo(name=f"Sensor Logger ({msg.device_id[:12]})", address=msg.device_id)
        if "acc_total" in msg.readings and not self._total:
            self._total = True  # Android with gravity included: use it, ignore the gravity-free series
            self.imu.has_gravity = True
        for kind, (t_ns, v) in msg.readings.items():
            if self._base_ns is None:
                self._base_ns = float(np.min(t_ns))
            t = (t_ns - self._base_ns) * 1e-9
            if kind == "acc_total" or (kind == "acc" and not self._total):
                self.imu.add("acc", t, v, host_t)
            elif kind in ("gyr", "grav"):
                self.imu.add(kind, t, v, host_t)
        for stream, (t_ns, v) in msg.terrain.items():
            if self._base_ns is None:
                self._base_ns = float(np.min(t_ns))
            self.terrain.add(stream, (t_ns - self._base_ns) * 1e-9, v)
        if not self.imu.connected:
            self.imu.platform = self.platform if self.platform != "auto" else ("android" if self._android else "ios")
        if self._emit is not None:
            try:
                items = self.imu.release()
            except RecordingError as exc:  # e.g. gravity removed and no gravity sensor: the user must change a setting
                items = [SourceEvent(self.stream, "error", str(exc))]
            for item in items + self.terrain.release():
                self._emit(item)
