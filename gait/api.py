"""gait's public API for applications built on it (the dashboard): every name here, and nothing deeper.

``import gait`` gives a user the short list (``gait.load``, ``gait.analyze``, ...); an application needs a little
more: the run record and its field tables (the terrain split's too), the route in metres, the run store,
importing any supported file, the live session, and the limits a server needs on what it is sent (bounded
unzipping, files created without following links, the ``Host``/``Origin`` check, the phone addresses it may
fetch from). They are collected here on purpose, so gait's internals can move without breaking an application.
An import contract (``.importlinter``, run by ``.ci/run``) keeps ``dashboards`` on ``gait`` and ``gait.api``.
"""

from __future__ import annotations

from gait import palette
from gait.analysis.result import RunAnalysis
from gait.analysis.summary import CARD_FIELDS, RECORD_FIELDS, TERRAIN_FIELDS, FieldInfo, RunRecord
from gait.analysis.terrain import TERRAINS, route_xy
from gait.constants import EMULATED_FAMILIES, G0
from gait.errors import DeviceError, GaitError, RecordingError
from gait.insights.rules import Severity
from gait.live import KINDS as LIVE_KINDS
from gait.live import LiveRequest, LiveSession, open_session
from gait.recording import Recording, load, save
from gait.recording.detect import read_any
from gait.recording.folder import is_recording_folder
from gait.recording.limits import BoundedZip, create_new, write_atomic
from gait.runs import analyze, chronological, run_day, runner_of, short_name, watch_summary
from gait.sources.phone.phyphox import check_lan_url
from gait.sources.recorder import RecorderStatus
from gait.sources.web import refusal as web_refusal
from gait.store import RunStore, StoredRun
from gait.store import default_path as default_store_path

__all__ = [
    "CARD_FIELDS",
    "EMULATED_FAMILIES",
    "G0",
    "LIVE_KINDS",
    "RECORD_FIELDS",
    "TERRAINS",
    "TERRAIN_FIELDS",
    "BoundedZip",
    "DeviceError",
    "FieldInfo",
    "GaitError",
    "LiveRequest",
    "LiveSession",
    "RecorderStatus",
    "Recording",
    "RecordingError",
    "RunAnalysis",
    "RunRecord",
    "RunStore",
    "Severity",
    "StoredRun",
    "analyze",
    "check_lan_url",
    "chronological",
    "create_new",
    "default_store_path",
    "is_recording_folder",
    "load",
    "open_session",
    "palette",
    "read_any",
    "route_xy",
    "run_day",
    "runner_of",
    "save",
    "short_name",
    "watch_summary",
    "web_refusal",
    "write_atomic",
]
