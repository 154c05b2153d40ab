"""Recordings: the on-disk format, the crash-safe writer and importers."""

from __future__ import annotations

import os
from pathlib import Path

from gait.errors import RecordingError
from gait.recording.csv_import import read_csv
from gait.recording.folder import is_recording_folder, load_folder, recover, save
from gait.recording.limits import check_regular
from gait.recording.meta import DeviceInfo, Gap, RecordingMeta, StreamInfo, SubjectInfo
from gait.recording.model import ImuData, Recording
from gait.recording.writer import RecordingWriter

__all__ = [
    "DeviceInfo",
    "Gap",
    "ImuData",
    "Recording",
    "RecordingMeta",
    "RecordingWriter",
    "StreamInfo",
    "SubjectInfo",
    "find_recordings",
    "load",
    "read_csv",
    "recover",
    "save",
]


def load(path: Path | str, **csv_options: str) -> Recording:
    """Load a recording folder, a plain CSV file (``csv_options``: acc_unit, gyr_unit, placement), a phone app's
    export (Sensor Logger zip or folder, phyphox CSV) or a FIT file (docs/phones.md)."""
    path = Path(path)
    if is_recording_folder(path):
        return load_folder(path)
    if not os.path.lexists(path):
        raise RecordingError(f"{path}: no such file or folder")
    if not path.is_dir():
        check_regular(path)  # a link, pipe or device is refused before anything opens it
    from gait.recording.detect import importable, read_any  # phone exports (zip, folder, phyphox CSV) and FIT

    if path.is_file() and path.suffix.lower() == ".csv" and importable(path) == "csv":
        return read_csv(path, **csv_options)
    if importable(path):
        return read_any(path, placement=csv_options.get("placement"))
    if path.is_dir():
        raise RecordingError(f"{path}: not a recording folder (no meta.json); to analyse many, pass the parent")
    raise RecordingError(f"{path}: unsupported file type (expected a recording folder or a .csv file)")


def find_recordings(path: Path | str) -> list[Path]:
    """A recording itself, or every recording folder and CSV file directly inside a folder (sorted)."""
    path = Path(path)
    if is_recording_folder(path) or path.is_file():
        return [path]
    from gait.recording.detect import importable

    if path.is_dir() and importable(path) == "sensorlogger":  # an unzipped Sensor Logger export is one recording
        return [path]
    if not path.is_dir():
        raise RecordingError(f"{path}: no such file or folder")
    found = [p for p in sorted(path.iterdir()) if is_recording_folder(p) or (p.is_file() and p.suffix == ".csv")]
    return found
