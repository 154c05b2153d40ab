"""Phones as sensors: their axis conventions, merging their separately timed sensors, and importing their exports.

Phone apps log the accelerometer and the gyroscope as separate series, each with its own timestamps; gait's
IMU stream wants both on one clock. ``merge_imu`` puts the gyroscope (and a gravity series, when the
accelerometer has gravity removed) onto the accelerometer's timestamps by linear interpolation, vectorised.

Conventions (see docs/phones.md; Sensor Logger's COORDINATES.md and UNITS.md):

* Android reports *specific force*: about +9.81 m/s^2 along "up" when still (gait's convention). Sensor Logger's
  ``accelerometer`` on Android has gravity removed (``totalacceleration`` / ``TotalAcceleration.csv`` keeps it);
  its ``gravity`` series points up, so specific force = user acceleration + gravity.
* iOS (Sensor Logger without "Standardise Units & Frames") negates all three accelerometer and gravity axes, and
  logs only user acceleration and gravity: specific force = -(user acceleration + gravity).
* The gyroscope (rad/s, right-handed about the same axes) agrees on both platforms.
* phyphox's "Acceleration with g" is specific force in m/s^2; gait takes it in the Android convention (the iOS
  app's sign is not verified here: ``platform="ios"`` negates it, see docs/phones.md).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait.errors import RecordingError
from gait.recording.csv_import import check_samples
from gait.recording.limits import MAX_CSV_BYTES, MAX_HEADER_BYTES, BoundedZip, check_csv, open_regular, read_bytes
from gait.recording.meta import DeviceInfo, RecordingMeta, StreamInfo
from gait.recording.model import ImuData, Recording

PLATFORMS = ("android", "ios")
MAX_GAP_S = 0.5  # longer stretches without accelerometer samples are gaps: nothing is interpolated across them


@dataclass(frozen=True)
class Series:
    """One sensor's samples: times in s (any origin shared by the series of a session), values (n, 3)."""

    t: np.ndarray
    v: np.ndarray

    @property
    def n(self) -> int:
        return len(self.t)

    def sorted_unique(self) -> Series:
        order = np.argsort(self.t, kind="stable")
        t, v = self.t[order], self.v[order]
        keep = np.concatenate(([True], np.diff(t) > 0)) if len(t) else np.zeros(0, bool)
        return Series(t[keep], v[keep])


def _interp(src: Series, t: np.ndarray) -> np.ndarray:
    """``src`` at times ``t`` (linear; NaN where ``t`` lies outside ``src`` or across a hole over MAX_GAP_S)."""
    out = np.full((len(t), 3), np.nan)
    if src.n < 2:
        return out
    for j in range(3):
        out[:, j] = np.interp(t, src.t, src.v[:, j], left=np.nan, right=np.nan)
    i = np.clip(np.searchsorted(src.t, t), 1, src.n - 1)
    out[(src.t[i] - src.t[i - 1]) > MAX_GAP_S] = np.nan
    return out


def specific_force(acc: Series, gravity: Series | None, platform: str, *, has_gravity: bool) -> np.ndarray:
    """Accelerometer values as specific force in gait's convention (m/s^2, +g along up when still).

    ``has_gravity``: the accelerometer series already includes gravity (Android ``totalacceleration``, phyphox);
    else ``gravity`` is added back (on the accelerometer's timestamps)."""
    if platform not in PLATFORMS:
        raise RecordingError(f"unknown phone platform {platform!r} (choose from {', '.join(PLATFORMS)})")
    total = acc.v.copy()
    if not has_gravity:
        if gravity is None or gravity.n < 2:
            raise RecordingError(
                "the phone's accelerometer has gravity removed and no gravity sensor was logged: turn on "
                "'Gravity' in the app (gait needs acceleration including gravity)"
            )
        total = total + _interp(gravity, acc.t)
    return -total if platform == "ios" else total


def merge_imu(
    acc_t: np.ndarray, acc: np.ndarray, gyr: Series | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Put the gyroscope onto the accelerometer's timestamps; drop samples where either is missing."""
    ok = np.isfinite(acc).all(axis=1)
    gyr_on = None
    if gyr is not None and gyr.n >= 2:
        gyr_on = _interp(gyr.sorted_unique(), acc_t)
        ok &= np.isfinite(gyr_on).all(axis=1)
        gyr_on = gyr_on[ok]
    return acc_t[ok], acc[ok], gyr_on


# -- Sensor Logger export (zip or folder of per-sensor CSVs) ------------------------------------------------------


class _Files:
    """The CSV files of an export, from a zip archive or a folder, by lower-case name (read when asked, within
    the limits of gait.recording.limits)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: BoundedZip | None = None
        self._members: dict[str, str] = {}
        self._paths: dict[str, Path] = {}
        if path.is_dir():
            self._paths = {p.name.lower(): p for p in path.iterdir() if p.suffix.lower() == ".csv"}
        else:
            self._zip = BoundedZip(path)
            self._members = {Path(n).name.lower(): n for n in self._zip.infos if n.lower().endswith(".csv")}

    def names(self) -> set[str]:
        return set(self._members) | set(self._paths)

    def head(self, name: str) -> str:
        """The header line of a file, lower case."""
        if self._zip is not None:
            raw = self._zip.head(self._members[name])
        else:
            with open_regular(self._paths[name], MAX_CSV_BYTES, "the CSV file") as f:
                raw = f.read(1000)
        return raw[:1000].decode("utf-8-sig", errors="replace").split("\n", 1)[0].strip().lower().replace('"', "")

    def frame(self, name: str) -> pd.DataFrame | None:
        name = name.lower()
        if name not in self.names():
            return None
        src: Path | io.BytesIO
        if self._zip is not None:
            raw = self._zip.read(self._members[name])
            check_csv(raw, f"{self.path}: {name}")
            src = io.BytesIO(raw)
        else:
            check_csv(self._paths[name], f"{self.path}: {name}")
            src = self._paths[name]
        try:
            return pd.read_csv(src, skipinitialspace=True, sep=None, engine="python")
        except pd.errors.EmptyDataError:
            raise RecordingError(f"{self.path}: {name} is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
            raise RecordingError(f"{self.path}: {name} is not a readable CSV ({str(exc).splitlines()[0]})") from None


def is_sensorlogger(path: Path) -> bool:
    """A Sensor Logger export: a zip or folder holding Accelerometer.csv (with ``seconds_elapsed``)."""
    try:
        files = _Files(path)
    except RecordingError:
        return False
    if "accelerometer.csv" not in files.names():
        return False
    head = files.head("accelerometer.csv")  # phyphox names a sheet Accelerometer.csv too, with "Time (s)"
    return "seconds_elapsed" in head or ("time" in head.split(",") and "time (s)" not in head)


def _xyz(df: pd.DataFrame, where: str) -> Series:
    cols = {str(c).strip().lower(): c for c in df.columns}
    missing = [c for c in ("time", "x", "y", "z") if c not in cols]
    if missing:
        raise RecordingError(
            f"{where}: missing column(s) {', '.join(missing)} (has: {', '.join(map(str, df.columns))})"
        )
    block = df[[cols["time"], cols["x"], cols["y"], cols["z"]]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    block = block[np.isfinite(block).all(axis=1)]
    return Series(block[:, 0] * 1e-9, block[:, 1:]).sorted_unique()  # epoch ns -> s


def read_sensorlogger(path: Path | str, *, placement: str = "waist_belt", platform: str | None = None) -> Recording:
    """Import a Sensor Logger export (zip or folder of per-sensor CSVs). The platform and its sign convention
    come from Metadata.csv (``platform``, ``standardisation``) unless given."""
    path = Path(path)
    if not path.exists():
        raise RecordingError(f"{path}: no such file or folder")
    files = _Files(path)
    meta_df = files.frame("Metadata.csv")
    info: dict[str, str] = {}
    if meta_df is not None and len(meta_df):
        info = {str(k).strip().lower(): str(v).strip() for k, v in meta_df.iloc[0].items()}
    if platform is None:
        plat = info.get("platform", "").lower()
        if plat not in PLATFORMS:
            raise RecordingError(f"{path}: Metadata.csv does not say the platform (android/ios); give --phone-os")
        standard = info.get("standardisation", "false").lower() in ("true", "1", "yes")
        platform = "android" if standard else plat
    total = files.frame("TotalAcceleration.csv")
    acc_df = total if total is not None else files.frame("Accelerometer.csv")
    if acc_df is None:
        raise RecordingError(f"{path}: no Accelerometer.csv (is this a Sensor Logger export?)")
    acc = _xyz(acc_df, f"{path}: {'TotalAcceleration' if total is not None else 'Accelerometer'}.csv")
    grav_df = files.frame("Gravity.csv")
    gravity = _xyz(grav_df, f"{path}: Gravity.csv") if grav_df is not None else None
    gyr_df = files.frame("Gyroscope.csv")
    gyr = _xyz(gyr_df, f"{path}: Gyroscope.csv") if gyr_df is not None else None
    try:
        force = specific_force(acc, gravity, platform, has_gravity=total is not None)
    except RecordingError as exc:
        raise RecordingError(f"{path}: {exc}") from None
    t, force, gyr_v = merge_imu(acc.t, force, gyr)
    if len(t) < 10:
        raise RecordingError(f"{path}: only {len(t)} accelerometer samples with gyroscope and gravity; too short")
    check_samples(path, t, force, gyr_v)
    start = pd.Timestamp(t[0], unit="s", tz="UTC").isoformat().replace("+00:00", "Z")
    device = DeviceInfo(
        name=f"Sensor Logger ({info.get('device name', '') or info.get('model', '') or 'phone'})",
        model=info.get("platform", platform),
        firmware=info.get("version", ""),
    )
    detail = f"Sensor Logger export {path.name} ({platform} convention)"
    return _phone_recording(path, t, force, gyr_v, device, placement, detail, start_utc=start[:19] + "Z")


def _phone_recording(
    path: Path,
    t: np.ndarray,
    force: np.ndarray,
    gyr: np.ndarray | None,
    device: DeviceInfo,
    placement: str,
    detail: str,
    start_utc: str | None = None,
) -> Recording:
    """An imported phone recording (time from its first sample; the file's own clock)."""
    stream = StreamInfo(
        rate_hz=round(1.0 / float(np.median(np.diff(t))), 3), has_gyro=gyr is not None, n_samples=len(t), clock="file"
    )
    meta = RecordingMeta(
        title=path.stem,
        start_utc=start_utc,
        device=device,
        placement=placement,
        streams=(stream,),
        source="phone",
        source_detail=detail,
    )
    return Recording(meta=meta, imu=ImuData(t=t - t[0], acc=force, gyr=gyr), path=path)


# -- phyphox CSV export ----------------------------------------------------------------------------------------------

_PHYPHOX_ACC = ("acceleration x", "acceleration y", "acceleration z")
_PHYPHOX_GYR = ("gyroscope x", "gyroscope y", "gyroscope z")


def _phyphox_frame(path: Path, raw: bytes) -> pd.DataFrame:
    text = raw.decode("utf-8-sig", errors="strict")
    first = text.splitlines()[0] if text else ""
    sep = "\t" if "\t" in first else (";" if first.count(";") > first.count(",") else ",")
    decimal = "," if sep == ";" else "."
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise RecordingError(f"{path}: not a readable phyphox CSV ({str(exc).splitlines()[0]})") from None


def _phyphox_columns(df: pd.DataFrame, names: tuple[str, ...]) -> tuple[str, list[str]] | None:
    """Time column and the three axis columns whose header starts with ``names`` (units in brackets follow)."""
    cols = [str(c) for c in df.columns]
    low = [c.strip().lower() for c in cols]
    found = []
    for n in names:
        hit = [i for i, c in enumerate(low) if c.startswith(n + " ") or c == n]
        if not hit:
            return None
        found.append(hit[0])
    times = [i for i, c in enumerate(low) if c.startswith("time") and i < found[0]]
    if not times:
        return None
    return cols[times[-1]], [cols[i] for i in found]


def is_phyphox_csv(path: Path) -> bool:
    try:
        with open_regular(path, MAX_CSV_BYTES, "the CSV file") as f:
            head = f.read(MAX_HEADER_BYTES).decode("utf-8-sig").split("\n", 1)[0].lower()
    except (OSError, UnicodeDecodeError, RecordingError):
        return False
    return "time (s)" in head and ("acceleration" in head or "gyroscope" in head)


def read_phyphox(path: Path | str, *, placement: str = "waist_belt", platform: str | None = None) -> Recording:
    """Import a phyphox CSV export: one CSV, or a zip/folder of the sheets (e.g. Accelerometer.csv + Gyroscope.csv).
    Accelerometer columns ``Acceleration x (m/s^2)``...; ``Linear Acceleration`` (gravity removed) is refused."""
    path = Path(path)
    raws: list[tuple[str, bytes]] = []
    try:
        if path.is_dir():
            raws = [(p.name, read_bytes(p, MAX_CSV_BYTES, "the CSV file"))
                    for p in sorted(path.iterdir()) if p.suffix.lower() == ".csv"]  # fmt: skip
        elif zipfile.is_zipfile(path):
            z = BoundedZip(path)
            names = [n for n in z.infos if n.lower().endswith(".csv")]
            z.check_declared(names)
            raws = [(n, z.read(n)) for n in names]
        else:
            raws = [(path.name, read_bytes(path, MAX_CSV_BYTES, "the CSV file"))]
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise RecordingError(f"{path}: cannot read ({exc})") from None
    for name, raw in raws:
        check_csv(raw, f"{path}: {name}")
    acc = gyr = None
    linear = False
    for name, raw in raws:
        try:
            df = _phyphox_frame(path, raw)
        except UnicodeDecodeError:
            raise RecordingError(f"{path}: {name} is not UTF-8 text") from None
        low = " ".join(str(c).lower() for c in df.columns)
        linear |= "linear acceleration" in low
        for kind, names in (("acc", _PHYPHOX_ACC), ("gyr", _PHYPHOX_GYR)):
            cols = _phyphox_columns(df, names)
            if cols is None or (kind == "acc" and "linear acceleration" in low):
                continue
            block = df[[cols[0], *cols[1]]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
            block = block[np.isfinite(block).all(axis=1)]
            s = Series(block[:, 0], block[:, 1:]).sorted_unique()
            if kind == "acc":
                acc = s
            else:
                gyr = s
    if acc is None:
        why = " (it is 'Linear Acceleration' without g: use the 'Acceleration with g' experiment)" if linear else ""
        raise RecordingError(f"{path}: no phyphox accelerometer columns 'Acceleration x/y/z'{why}")
    force = specific_force(acc, None, platform or "android", has_gravity=True)
    t, force, gyr_v = merge_imu(acc.t, force, gyr)
    if len(t) < 10:
        raise RecordingError(f"{path}: only {len(t)} usable samples; too short to analyse")
    check_samples(path, t, force, gyr_v)
    return _phone_recording(path, t, force, gyr_v, DeviceInfo(name="phyphox"), placement, f"phyphox export {path.name}")
