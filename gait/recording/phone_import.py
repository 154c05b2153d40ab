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
* Exports without gravity (phyphox "Acceleration without g", a Sensor Logger export without Gravity or
  TotalAcceleration) are imported as *linear* acceleration (``StreamInfo.gravity_removed``); the analysis finds
  the vertical itself and reports step timing only (gait/analysis/gravity.py).
* Each sensor's own rate is checked before merging, so a 1 Hz export is refused naming its rate.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait.errors import RecordingError
from gait.recording.csv_import import MIN_RATE_HZ, check_samples
from gait.recording.limits import MAX_CSV_BYTES, MAX_HEADER_BYTES, BoundedZip, check_csv, open_regular, read_bytes
from gait.recording.location_import import (
    phyphox_baro,
    phyphox_location,
    sensorlogger_baro,
    sensorlogger_location,
    with_streams,
)
from gait.recording.meta import DeviceInfo, RecordingMeta, StreamInfo
from gait.recording.model import ImuData, Recording, StreamData

PLATFORMS = ("android", "ios")
MAX_GAP_S = 0.5  # longer stretches without accelerometer samples are gaps: nothing is interpolated across them
#: a gyroscope that covers less than this share of the accelerometer's samples is left out rather than cutting the
#: recording down to it (a phone app may stop one sensor early): the longer run of step timing is worth more
MIN_GYRO_SHARE = 0.5


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


def specific_force(
    acc: Series, gravity: Series | None, platform: str, *, has_gravity: bool, linear_ok: bool = False
) -> np.ndarray:
    """Accelerometer values in gait's convention (m/s^2, Android signs): specific force (+g along up when
    still) when the series includes gravity (Android ``totalacceleration``, phyphox "with g") or ``gravity`` is
    given to add back (on the accelerometer's timestamps). Without either: the linear acceleration as it is
    when ``linear_ok`` (an export, marked ``gravity_removed``), else an error asking for Gravity (live)."""
    if platform not in PLATFORMS:
        raise RecordingError(f"unknown phone platform {platform!r} (choose from {', '.join(PLATFORMS)})")
    total = acc.v.copy()
    if not has_gravity:
        if gravity is not None and gravity.n >= 2:
            total = total + _interp(gravity, acc.t)
        elif not linear_ok:
            raise RecordingError(
                "the phone's accelerometer has gravity removed and no gravity sensor was logged: turn on "
                "'Gravity' in the app (gait needs acceleration including gravity)"
            )
    return -total if platform == "ios" else total


def series_rate(s: Series) -> float:
    """A sensor's rate from its median sample interval (NaN with fewer than two samples)."""
    dt = np.diff(s.t)
    return float(1.0 / np.median(dt)) if len(dt) and np.median(dt) > 0 else float("nan")


def need_rate(where: Path, name: str, s: Series, app: str) -> None:
    """One line naming the real problem when a sensor was logged too slowly for gait (e.g. at 1 Hz)."""
    rate = series_rate(s)
    if s.n < 2:
        raise RecordingError(f"{where}: {name} holds {s.n} sample(s); nothing to analyse")
    if not rate >= MIN_RATE_HZ:
        raise RecordingError(
            f"{where}: {name} was recorded at {rate:.3g} Hz; gait needs at least {MIN_RATE_HZ:.0f} Hz (set the "
            f"sampling rate to the highest, e.g. 100 Hz, in {app} before recording)"
        )


def merge_imu(
    acc_t: np.ndarray, acc: np.ndarray, gyr: Series | None, notes: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Put the gyroscope onto the accelerometer's timestamps and keep the samples where both are there; a
    gyroscope covering under ``MIN_GYRO_SHARE`` of the accelerometer is left out instead. What is left out is
    said in ``notes`` (samples without gravity too) when it adds up to a second or more."""
    dt = float(np.median(np.diff(acc_t))) if len(acc_t) > 1 else 0.0
    say = notes.append if notes is not None else (lambda _: None)
    ok = np.isfinite(acc).all(axis=1)
    if (~ok).sum() * dt >= 1.0:
        say(f"{(~ok).sum() * dt:.1f} s of accelerometer samples without a gravity value left out")
    if gyr is None or gyr.n < 2:
        return acc_t[ok], acc[ok], None
    gyr_on = _interp(gyr.sorted_unique(), acc_t)
    both = ok & np.isfinite(gyr_on).all(axis=1)
    if both.sum() < MIN_GYRO_SHARE * ok.sum():
        say(
            f"the gyroscope covers only {both.sum() * dt:.0f} s of the accelerometer's {ok.sum() * dt:.0f} s: left "
            "out (pelvic angles and braking need it), the accelerometer kept whole"
        )
        return acc_t[ok], acc[ok], None
    if (ok.sum() - both.sum()) * dt >= 1.0:
        say(f"{(ok.sum() - both.sum()) * dt:.1f} s of accelerometer samples outside the gyroscope's left out")
    return acc_t[both], acc[both], gyr_on[both]


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
        return raw.decode("utf-8-sig", errors="replace").split("\n", 1)[0].strip().lower().replace('"', "")

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
    """A Sensor Logger export: a zip or folder of per-sensor CSVs with ``seconds_elapsed`` (or a Metadata.csv
    naming the platform), with or without the accelerometer (its absence is then named, not guessed at)."""
    try:
        files = _Files(path)
    except RecordingError:
        return False
    names = files.names()
    if "metadata.csv" in names and "platform" in files.head("metadata.csv").split(","):
        return True
    if "accelerometer.csv" in names:
        head = files.head("accelerometer.csv")  # phyphox names a sheet Accelerometer.csv too, with "Time (s)"
        return "seconds_elapsed" in head or ("time" in head.split(",") and "time (s)" not in head)
    return any("seconds_elapsed" in files.head(n) for n in sorted(names)[:20])


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
    names = files.names()
    if not {"accelerometer.csv", "totalacceleration.csv"} & names:
        held = sorted(" ".join(n.removesuffix(".csv").split()).title() for n in names if n != "metadata.csv")
        has = ", ".join(held[:8]) or "no sensors"
        raise RecordingError(
            f"{path}: this Sensor Logger export has no accelerometer (it holds: {has}); turn on Accelerometer, "
            "Gravity and Gyroscope in Sensor Logger"
        )
    info, platform = _sensorlogger_metadata(path, files, platform)
    total = files.frame("TotalAcceleration.csv")
    acc_name = "TotalAcceleration.csv" if total is not None else "Accelerometer.csv"
    acc_df = total if total is not None else files.frame("Accelerometer.csv")
    acc = _xyz(acc_df, f"{path}: {acc_name}")
    need_rate(path, acc_name, acc, "Sensor Logger")
    notes: list[str] = []
    gravity = _optional_series(path, files, "Gravity.csv", "to add back", notes) if total is None else None
    gyr = _optional_series(path, files, "Gyroscope.csv", "to use: left out", notes)
    linear = total is None and gravity is None
    if linear:
        notes.append(
            "no gravity in this export (no TotalAcceleration.csv or usable Gravity.csv): analysed as linear "
            "acceleration, step timing only"
        )
    try:
        force = specific_force(acc, gravity, platform, has_gravity=total is not None, linear_ok=True)
    except RecordingError as exc:
        raise RecordingError(f"{path}: {exc}") from None
    t, force, gyr_v = merge_imu(acc.t, force, gyr, notes)
    if len(t) < 10:
        raise RecordingError(
            f"{path}: only {len(t)} of {acc.n} accelerometer samples overlap the gyroscope"
            f"{'' if linear else ' and gravity'} in time; too short"
        )
    check_samples(path, t, force, gyr_v, gravity=not linear)
    start = pd.Timestamp(t[0], unit="s", tz="UTC").isoformat().replace("+00:00", "Z")
    device = DeviceInfo(
        name=f"Sensor Logger ({info.get('device name', '') or info.get('model', '') or 'phone'})",
        model=info.get("platform", platform),
        firmware=info.get("version", ""),
    )
    detail = f"Sensor Logger export {path.name} ({platform} convention{', linear acceleration' if linear else ''})"
    rec = _phone_recording(path, t, force, gyr_v, device, placement, detail, start_utc=start[:19] + "Z", linear=linear)
    terrain = _sensorlogger_terrain(files, float(t[0]), notes)
    return dataclasses.replace(with_streams(rec, terrain, device.name), notes=tuple(notes))


def _sensorlogger_terrain(files: _Files, t0: float, notes: list[str]) -> dict[str, StreamData]:
    """Location.csv and Barometer.csv as the ``location`` and ``baro`` streams; a damaged one costs only itself
    (a note), never the IMU import."""
    terrain: dict[str, StreamData] = {}
    for name, stream, read in (("Location.csv", "location", sensorlogger_location),
                               ("Barometer.csv", "baro", sensorlogger_baro)):  # fmt: skip
        try:
            df = files.frame(name)
        except RecordingError as exc:
            notes.append(f"{str(exc).split(': ', 1)[-1]}: left out")
            continue
        data = read(df, t0) if df is not None else None
        if data is not None:
            terrain[stream] = data
        elif df is not None:
            notes.append(f"{name} holds no usable readings: left out")
    return terrain


def _sensorlogger_metadata(path: Path, files: _Files, platform: str | None) -> tuple[dict[str, str], str]:
    """Metadata.csv's first row (keys in lower case), and the axis convention: as given, else from its
    ``platform`` and ``standardisation`` (standardised exports use Android's signs)."""
    meta_df = files.frame("Metadata.csv")
    info: dict[str, str] = {}
    if meta_df is not None and len(meta_df):
        info = {str(k).strip().lower(): str(v).strip() for k, v in meta_df.iloc[0].items()}
    if platform is not None:
        return info, platform
    plat = info.get("platform", "").lower()
    if plat not in PLATFORMS:
        raise RecordingError(f"{path}: Metadata.csv does not say the platform (android/ios); give --phone-os")
    standard = info.get("standardisation", "false").lower() in ("true", "1", "yes")
    return info, "android" if standard else plat


def _optional_series(path: Path, files: _Files, name: str, use: str, notes: list[str]) -> Series | None:
    """A sensor file the export may hold; left out, with a note, when it was recorded too slowly to use."""
    df = files.frame(name)
    series = _xyz(df, f"{path}: {name}") if df is not None else None
    if series is not None and not series_rate(series) > 1.0 / MAX_GAP_S:
        notes.append(f"{name} was recorded at {series_rate(series):.3g} Hz, too slowly {use}")
        return None
    return series


def _phone_recording(
    path: Path,
    t: np.ndarray,
    force: np.ndarray,
    gyr: np.ndarray | None,
    device: DeviceInfo,
    placement: str,
    detail: str,
    start_utc: str | None = None,
    linear: bool = False,
) -> Recording:
    """An imported phone recording (time from its first sample; the file's own clock)."""
    stream = StreamInfo(
        rate_hz=round(1.0 / float(np.median(np.diff(t))), 3),
        has_gyro=gyr is not None,
        n_samples=len(t),
        clock="file",
        gravity_removed=linear,
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

_PHYPHOX_ACC = ("acceleration x", "acceleration y", "acceleration z")  # "Acceleration with g"
_PHYPHOX_LINEAR = ("linear acceleration x", "linear acceleration y", "linear acceleration z")  # "without g"
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
    """phyphox's sheets start with a ``Time (s)`` column followed by columns that name their unit in brackets
    (whatever the experiment: a wrong one is then named by ``read_phyphox``, not mistaken for a plain CSV)."""
    try:
        with open_regular(path, MAX_CSV_BYTES, "the CSV file") as f:
            head = f.read(MAX_HEADER_BYTES).decode("utf-8-sig").split("\n", 1)[0].lower().replace('"', "").strip()
    except (OSError, UnicodeDecodeError, RecordingError):
        return False
    return head.startswith("time (s)") and "(" in head[len("time (s)") :]


def _phyphox_sheets(path: Path) -> list[tuple[str, bytes]]:
    """The CSV sheets of a phyphox export (one CSV, a zip or a folder), leaving out its meta/ folder."""
    try:
        if path.is_dir():
            sheets = [(p.name, read_bytes(p, MAX_CSV_BYTES, "the CSV file"))
                      for p in sorted(path.iterdir()) if p.suffix.lower() == ".csv"]  # fmt: skip
        elif zipfile.is_zipfile(path):
            z = BoundedZip(path)  # unpacked within the limit, counted while streaming
            names = [n for n in z.infos if n.lower().endswith(".csv") and not n.lower().startswith("meta/")]
            z.check_declared(names)
            sheets = [(n, z.read(n)) for n in names]
        else:
            sheets = [(path.name, read_bytes(path, MAX_CSV_BYTES, "the CSV file"))]
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise RecordingError(f"{path}: cannot read ({exc})") from None
    for name, raw in sheets:
        check_csv(raw, f"{path}: {name}")  # columns and rows before pandas allocates anything
    return sheets


def read_phyphox(path: Path | str, *, placement: str = "waist_belt", platform: str | None = None) -> Recording:
    """Import a phyphox CSV export: one CSV, or a zip/folder of the sheets (e.g. Accelerometer.csv + Gyroscope.csv).
    Accelerometer columns ``Acceleration x (m/s^2)``... ("Acceleration with g"), else ``Linear Acceleration x
    (m/s^2)``... ("Acceleration without g": imported as linear acceleration, step timing only)."""
    path = Path(path)
    found: dict[str, Series] = {}
    columns: list[str] = []
    others: list[pd.DataFrame] = []  # sheets that may hold location or pressure
    for name, raw in _phyphox_sheets(path):
        try:
            df = _phyphox_frame(path, raw)
        except UnicodeDecodeError:
            raise RecordingError(f"{path}: {name} is not UTF-8 text") from None
        others.append(df)
        columns += [c for c in (" ".join(str(c).split()) for c in df.columns) if c not in columns]  # one line
        for kind, names in (("acc", _PHYPHOX_ACC), ("linear", _PHYPHOX_LINEAR), ("gyr", _PHYPHOX_GYR)):
            cols = _phyphox_columns(df, names)
            if cols is None or kind in found:
                continue
            block = df[[cols[0], *cols[1]]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
            block = block[np.isfinite(block).all(axis=1)]
            found[kind] = Series(block[:, 0], block[:, 1:]).sorted_unique()
    linear = "acc" not in found and "linear" in found
    acc = found.get("acc", found.get("linear"))
    if acc is None:
        raise RecordingError(
            f"{path}: this phyphox export holds no acceleration (columns: {', '.join(columns[:6]) or 'none'}): "
            "record with the 'Acceleration with g' experiment, or one with acceleration and the gyroscope"
        )
    name = "Linear Acceleration" if linear else "Acceleration"
    need_rate(path, name, acc, "phyphox")
    gyr = found.get("gyr")
    notes = []
    if gyr is not None and not series_rate(gyr) > 1.0 / MAX_GAP_S:
        notes.append(f"the gyroscope was recorded at {series_rate(gyr):.3g} Hz, too slowly to use: left out")
        gyr = None
    if linear:
        notes.append("'Acceleration without g' (gravity removed): analysed as linear acceleration, step timing only")
    force = specific_force(acc, None, platform or "android", has_gravity=True)
    t, force, gyr_v = merge_imu(acc.t, force, gyr, notes)
    if len(t) < 10:
        raise RecordingError(f"{path}: only {len(t)} of {acc.n} accelerometer samples overlap the gyroscope; too short")
    check_samples(path, t, force, gyr_v, gravity=not linear)
    detail = f"phyphox export {path.name}{' (linear acceleration)' if linear else ''}"
    rec = _phone_recording(path, t, force, gyr_v, DeviceInfo(name="phyphox"), placement, detail, linear=linear)
    return dataclasses.replace(with_streams(rec, _phyphox_terrain(others, float(t[0])), "phyphox"), notes=tuple(notes))


def _phyphox_terrain(sheets: list[pd.DataFrame], t0: float) -> dict[str, StreamData]:
    """The first sheet holding location, and the first holding pressure, as the ``location``/``baro`` streams."""
    terrain: dict[str, StreamData] = {}
    for df in sheets:
        for stream, read in (("location", phyphox_location), ("baro", phyphox_baro)):
            data = read(df, t0) if stream not in terrain else None
            if data is not None:
                terrain[stream] = data
    return terrain
