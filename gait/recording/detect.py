"""Which importer a file needs: a recording folder, the plain CSV, a phone app's export, or a FIT file."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from gait.errors import RecordingError
from gait.recording.limits import MAX_CSV_BYTES, BoundedZip, check_regular, open_regular
from gait.recording.model import Recording

FORMATS = ("csv", "sensorlogger", "phyphox", "fit")


def detect_format(path: Path | str) -> str:
    """``csv``, ``sensorlogger``, ``phyphox`` or ``fit`` from the file's contents (names are only a hint)."""
    from gait.recording.fit_import import is_fit
    from gait.recording.phone_import import is_phyphox_csv, is_sensorlogger

    path = Path(path)
    if not os.path.lexists(path):
        raise RecordingError(f"{path}: no such file or folder")
    if not path.is_dir():
        check_regular(path)  # a link, pipe or device is refused before anything opens it
    if path.is_file() and (path.suffix.lower() == ".fit" or is_fit(path)):
        return "fit"
    if path.is_dir() or zipfile.is_zipfile(path):
        if is_sensorlogger(path):
            return "sensorlogger"
        if path.is_dir():
            heads = [_head(_first_bytes(p)) for p in path.iterdir() if p.suffix.lower() == ".csv"]
        else:
            z = BoundedZip(path)
            heads = [_head(z.head(n, 400)) for n in z.infos if n.lower().endswith(".csv")]
        if any("time (s)" in h for h in heads):
            return "phyphox"
        raise RecordingError(f"{path}: neither a Sensor Logger nor a phyphox export (no Accelerometer.csv)")
    if path.suffix.lower() == ".csv":
        return "phyphox" if is_phyphox_csv(path) else "csv"
    raise RecordingError(f"{path}: unsupported file type (expected .csv, a phone app's export, or .fit)")


def _first_bytes(path: Path) -> bytes:
    with open_regular(path, MAX_CSV_BYTES, "the CSV file") as f:
        return f.read(400)


def _head(raw: bytes) -> str:
    return raw.decode("utf-8-sig", errors="replace").split("\n", 1)[0].lower()


def importable(path: Path) -> str | None:
    """The format of a file or folder gait can import, None for anything else (no error)."""
    try:
        return detect_format(path)
    except (RecordingError, OSError, zipfile.BadZipFile):
        return None


def read_any(
    path: Path | str,
    fmt: str = "auto",
    *,
    placement: str | None = None,
    platform: str | None = None,
    **csv_options: str,
) -> Recording:
    """Import ``path`` with the importer its format needs."""
    from gait.recording.csv_import import read_csv
    from gait.recording.fit_import import read_fit
    from gait.recording.phone_import import read_phyphox, read_sensorlogger

    if fmt != "auto" and os.path.lexists(path) and not Path(path).is_dir():
        check_regular(path)  # detect_format does this for "auto"
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "csv":
        return read_csv(path, **({"placement": placement} if placement else {}), **csv_options)
    if fmt == "sensorlogger":
        return read_sensorlogger(path, placement=placement or "waist_belt", platform=platform)
    if fmt == "phyphox":
        return read_phyphox(path, placement=placement or "waist_belt", platform=platform)
    if fmt == "fit":
        return read_fit(path)
    raise RecordingError(f"{path}: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
