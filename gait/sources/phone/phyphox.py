"""Live from phyphox's remote access: discover the buffers, start the measurement, poll incrementally.

phyphox serves an experiment over HTTP once "Allow remote access" is on (port 8080 on Android, 80 on iOS):
``/config`` names the buffers each sensor input writes (``inputs[].source``/``outputs``), ``/control?cmd=start``
starts, ``/get?acc_time=T&accX=T|acc_time...`` returns only the values whose reference-time buffer is past ``T``
(``/get?acc_time=full`` the whole buffer), ``/time`` gives the start and pause events. Each poll is one short
request without keep-alive (a known pitfall with phyphox); the phone's experiment time is the sample clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

import numpy as np

from gait.errors import DeviceError, RecordingError
from gait.recording.meta import DeviceInfo
from gait.sources.blocks import SourceEvent
from gait.sources.phone.common import PhoneImu
from gait.sources.recorder import Emit

POLL_S = 0.1
TIMEOUT_S = 5.0
MAX_FAILURES = 20  # consecutive failed polls (about 2 s plus timeouts) before giving up
#: phyphox sensor inputs gait can use: acceleration with gravity, and the gyroscope
ACC_SOURCES = ("accelerometer",)
GYR_SOURCES = ("gyroscope",)


PHYPHOX_PORTS = (80, 8080)  # phyphox's remote access: 80 on iOS, 8080 on Android
_LAN = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))


def check_lan_url(url: str) -> str:
    """The address of a phone on this network, for a server that must not fetch arbitrary addresses (the
    dashboard): plain ``http://`` to an IP address in a private LAN range (10/8, 172.16/12, 192.168/16,
    fc00::/7) on phyphox's port (80 or 8080), or to this computer (127.0.0.0/8, ::1: an emulator or a USB
    forward) on any port. Names are refused: they could be pointed anywhere. Returns ``http://HOST:PORT``."""
    hint = "phyphox's address as it shows under 'Allow remote access', e.g. http://192.168.1.20:8080"
    try:
        u = urlsplit(url.strip())
        port = u.port or 80
        ip = ipaddress.ip_address(u.hostname or "")
    except ValueError:
        raise DeviceError(f"phyphox's address {url!r:.60} is not an IP address and port: give {hint}") from None
    if u.scheme != "http" or u.username is not None or u.password is not None:
        raise DeviceError(f"phyphox's address {url!r:.60}: give {hint} (plain http, no user name)")
    if not ip.is_loopback and not (any(ip in n for n in _LAN) and port in PHYPHOX_PORTS):
        raise DeviceError(
            f"phyphox's address {url!r:.60}: the dashboard only connects to a phone on this network "
            f"(10.x, 172.16-31.x, 192.168.x or fc00::/7 on port 80 or 8080) or to this computer"
        )
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"http://{host}:{port}"


def _buffers(config: dict, sources: tuple[str, ...]) -> tuple[str, str, str, str] | None:
    """(t, x, y, z) buffer names of the first input from ``sources``, from /config."""
    for inp in config.get("inputs", []) or []:
        if not isinstance(inp, dict) or inp.get("source") not in sources:
            continue
        outs: dict[str, str] = {}
        for o in inp.get("outputs", []) or []:
            if isinstance(o, dict):
                outs.update({str(k): str(v) for k, v in o.items()})
        if all(k in outs for k in "xyzt"):
            return outs["t"], outs["x"], outs["y"], outs["z"]
    return None


class PhyphoxSource:
    """A LiveSource polling a phyphox experiment at ``url`` (e.g. http://192.168.1.20:8080)."""

    def __init__(
        self,
        url: str,
        *,
        placement: str = "waist_belt",
        poll_s: float = POLL_S,
        stream: str = "imu",
        platform: str = "android",
    ) -> None:
        u = urlsplit(url if "//" in url else f"http://{url}")
        if u.scheme not in ("http", "") or not u.hostname:
            raise DeviceError(f"phyphox URL {url!r}: expected http://PHONE:PORT (shown in phyphox under remote access)")
        self.base = f"http://{u.netloc}"
        self.stream = stream
        self.poll_s = poll_s
        self.imu = PhoneImu(stream, DeviceInfo(name="phyphox", address=self.base), placement, has_gravity=True,
                            hold_s=0.3)  # fmt: skip
        self.imu.platform = platform  # "ios" negates the accelerometer (see gait.recording.phone_import)
        self.title = ""
        self.polls = 0
        self.epoch0: float | None = None  # Unix time of experiment time 0, from /time

    def _get(self, path: str) -> object:
        req = urllib.request.Request(self.base + path, headers={"Connection": "close"})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
                return json.loads(r.read())
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            why = getattr(exc, "reason", None) or exc
            raise DeviceError(f"phyphox at {self.base}{path.split('?')[0]}: {why}") from None

    async def get(self, path: str) -> object:
        return await asyncio.to_thread(self._get, path)

    async def discover(self) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
        config = await self.get("/config")
        if not isinstance(config, dict):
            raise DeviceError(f"phyphox at {self.base}: /config is not a JSON object")
        self.title = str(config.get("localTitle") or config.get("title") or "")
        acc = _buffers(config, ACC_SOURCES)
        if acc is None:
            linear = _buffers(config, ("linear_acceleration",)) is not None
            raise DeviceError(
                f"phyphox experiment {self.title!r} has no accelerometer with gravity"
                + (" (only linear acceleration: use 'Acceleration with g' or a custom experiment)" if linear else "")
            )
        return acc, _buffers(config, GYR_SOURCES)

    @staticmethod
    def _query(buffers: tuple[str, ...], since: float | None) -> str:
        t = buffers[0]
        spec = "full" if since is None else f"{since!r}"
        parts = [f"{quote(t)}={spec}"] + [
            f"{quote(b)}={spec}{'' if since is None else '|' + quote(t)}" for b in buffers[1:]
        ]
        return "&".join(parts)

    @staticmethod
    def _arrays(resp: dict, buffers: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        try:
            cols = [
                np.asarray([np.nan if x is None else x for x in resp["buffer"][b]["buffer"]], float) for b in buffers
            ]
        except (KeyError, TypeError, ValueError):
            raise DeviceError(f"phyphox /get answer lacks buffers {', '.join(buffers)}") from None
        n = min(len(c) for c in cols)
        block = np.column_stack([c[:n] for c in cols]) if n else np.zeros((0, 4))
        block = block[np.isfinite(block).all(axis=1)]
        return block[:, 0], block[:, 1:]

    async def run(self, stop: asyncio.Event, emit: Emit, clock0: float) -> None:
        buffers = await self._begin(emit)
        if buffers is None:
            return
        last: dict[str, float | None] = {"acc": None, "gyr": None}
        poll = functools.partial(self._poll, *buffers, last, clock0)
        try:
            if not await self._poll_until(stop, emit, poll):
                return
            # stopping: end the measurement on the phone, then fetch what it measured since the last poll
            with contextlib.suppress(DeviceError, TimeoutError):
                await asyncio.wait_for(self.get("/control?cmd=stop"), TIMEOUT_S)
            with contextlib.suppress(DeviceError, TimeoutError):
                await asyncio.wait_for(poll(), TIMEOUT_S)
        finally:
            for item in self.imu.release(final=True):
                emit(item)
            if not math.isinf(self.imu.last_t):
                emit(SourceEvent(self.stream, "ended", "phyphox measurement stopped"))

    async def _begin(self, emit: Emit) -> tuple[tuple[str, ...], tuple[str, ...] | None] | None:
        """Find the experiment's buffers and start the measurement; ``None`` (and an error event) if it cannot."""
        try:
            acc_b, gyr_b = await self.discover()
            await self.get("/control?cmd=start")
        except DeviceError as exc:
            emit(SourceEvent(self.stream, "error", str(exc)))
            return None
        self.imu.device = DeviceInfo(name=f"phyphox ({self.title})" if self.title else "phyphox", address=self.base)
        try:  # the wall-clock time of experiment time 0 (from the last START event), for the recording's start
            events = await self.get("/time")
            starts = [e for e in events if isinstance(e, dict) and e.get("event") == "START"]  # type: ignore[union-attr]
            if starts:
                self.epoch0 = float(starts[-1]["systemTime"]) - float(starts[-1]["experimentTime"])
        except (DeviceError, TypeError, KeyError, ValueError):
            pass  # older phyphox versions have no /time: the recording keeps the host's start time
        if gyr_b is None:
            emit(SourceEvent(self.stream, "info", "this phyphox experiment has no gyroscope: accelerometer only"))
        return acc_b, gyr_b

    async def _poll(
        self, acc_b: tuple[str, ...], gyr_b: tuple[str, ...] | None, last: dict[str, float | None], clock0: float
    ) -> dict:
        """One incremental read of every buffer; new samples go to the merger."""
        query = self._query(acc_b, last["acc"])
        if gyr_b is not None:
            query += "&" + self._query(gyr_b, last["gyr"])
        resp = await self.get("/get?" + query)
        if not isinstance(resp, dict):
            raise DeviceError(f"phyphox at {self.base}/get: the answer is not a JSON object")
        self.polls += 1
        host_t = time.monotonic() - clock0
        for kind, bufs in (("acc", acc_b), ("gyr", gyr_b)):
            if bufs is None:
                continue
            t, v = self._arrays(resp, bufs)
            if last[kind] is not None:
                keep = t > last[kind]
                t, v = t[keep], v[keep]
            if len(t):
                last[kind] = float(t.max())
                self.imu.add(kind, t, v, host_t)
        return resp

    async def _poll_until(self, stop: asyncio.Event, emit: Emit, poll: Callable[[], Awaitable[dict]]) -> bool:
        """Poll until ``stop``, releasing samples as they merge; ``False`` when it gave up (an error was sent)."""
        failures, was_measuring = 0, False
        while not stop.is_set():
            try:
                resp = await poll()
                failures = 0
            except DeviceError as exc:
                failures += 1
                if failures >= MAX_FAILURES:
                    emit(SourceEvent(self.stream, "error", f"{exc} (gave up after {failures} tries)"))
                    return False
                emit(SourceEvent(self.stream, "reconnecting", str(exc)[:60]))
                await asyncio.sleep(self.poll_s)
                continue
            measuring = bool((resp.get("status") or {}).get("measuring", True))
            if was_measuring and not measuring:
                emit(SourceEvent(self.stream, "info", "phyphox measurement paused on the phone"))
            was_measuring = measuring
            try:
                for item in self.imu.release():
                    emit(item)
            except RecordingError as exc:
                emit(SourceEvent(self.stream, "error", str(exc)))
                return False
            await asyncio.sleep(self.poll_s)
        return True
