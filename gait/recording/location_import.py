"""Position fixes and barometer readings from phone exports, as ``location`` and ``baro`` streams.

Both streams are put on the recording's clock (seconds from its first IMU sample); the speed and altitude of
a run are derived from them by ``gait.analysis.terrain``. The apps' conventions (Sensor Logger's UNITS.md,
phyphox's "Location (GPS)" and "Pressure" experiments):

* Sensor Logger ``Location.csv``: ``time`` (UTC ns), ``latitude``/``longitude`` (deg), ``altitude`` (m above the
  WGS84 ellipsoid), ``speed`` (m/s), ``horizontalAccuracy``, ``verticalAccuracy`` (m, one sigma),
  ``speedAccuracy`` (m/s); a negative speed or accuracy means "invalid" and becomes NaN.
  ``Barometer.csv``: ``pressure`` (hPa) and ``relativeAltitude`` (m since the start).
* phyphox: ``Latitude (°)``, ``Longitude (°)``, ``Height (m)`` or ``Altitude (m)``, ``Velocity (m/s)`` or
  ``Speed (m/s)``, ``Horizontal Accuracy (m)``, ``Vertical Accuracy (m)`` (an older app labels it "(°)");
  ``Pressure (hPa)``; all on the experiment clock the acceleration sheets share.

Coordinates are private: they are kept in the recording (the runner's own files) and left out of reports and
exports unless asked for (docs/terrain.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from gait.recording.meta import BARO_CHANNELS, LOCATION_CHANNELS, baro_info, location_info
from gait.recording.model import Recording, StreamData

Array = np.ndarray


def _rate(t: Array) -> float:
    dt = np.diff(t)
    dt = dt[dt > 0]
    return round(float(1.0 / np.median(dt)), 3) if len(dt) else 0.0


def location_data(
    t: Array,
    latitude: Array,
    longitude: Array,
    altitude: Array | None = None,
    speed: Array | None = None,
    horizontal_accuracy: Array | None = None,
    vertical_accuracy: Array | None = None,
    speed_accuracy: Array | None = None,
    distance: Array | None = None,
) -> StreamData | None:
    """A ``location`` stream from columns (None = the source has none); invalid values (negative speeds and
    accuracies, coordinates out of range) become NaN; rows without time are dropped. None when nothing is left."""
    t = np.asarray(t, float)
    n = len(t)

    def col(x: Array | None) -> Array:
        return np.full(n, np.nan) if x is None else np.array(pd.to_numeric(pd.Series(x), errors="coerce"), float)

    lat, lon = col(latitude), col(longitude)
    bad_pos = ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180)) | ((lat == 0) & (lon == 0))
    lat[bad_pos], lon[bad_pos] = np.nan, np.nan
    values = [lat, lon, col(altitude), col(speed), col(distance)]
    values += [col(horizontal_accuracy), col(vertical_accuracy), col(speed_accuracy)]
    for j in (3, 4, 5, 6, 7):  # speed, distance and accuracies: negative = invalid
        values[j] = np.where(values[j] >= 0, values[j], np.nan)
    return _stream(t, np.column_stack(values), LOCATION_CHANNELS)


def baro_data(t: Array, pressure_hpa: Array | None, altitude_m: Array | None = None) -> StreamData | None:
    """A ``baro`` stream: pressure (hPa; values outside 100-1200 hPa become NaN) and the source's relative
    altitude (m). None when neither holds a number."""
    t = np.asarray(t, float)
    n = len(t)
    p = np.full(n, np.nan) if pressure_hpa is None else np.array(pd.to_numeric(pd.Series(pressure_hpa),
                                                                                  errors="coerce"), float)  # fmt: skip
    p = np.where((p >= 100) & (p <= 1200), p, np.nan)
    h = np.full(n, np.nan) if altitude_m is None else np.array(pd.to_numeric(pd.Series(altitude_m),
                                                                                errors="coerce"), float)  # fmt: skip
    return _stream(t, np.column_stack((p, h)), BARO_CHANNELS)


def _stream(t: Array, block: Array, channels: tuple[str, ...]) -> StreamData | None:
    """The rows with a time and at least one number, in time order, one per time stamp; None when none is left."""
    keep = np.isfinite(t) & np.isfinite(block).any(axis=1)
    if not keep.any():
        return None
    t, block = t[keep], block[keep]
    order = np.argsort(t, kind="stable")
    t, block = t[order], block[order]
    first = np.concatenate(([True], np.diff(t) > 0))
    return StreamData(t[first], block[first], channels)


def with_streams(recording: Recording, streams: dict[str, StreamData], device: str = "") -> Recording:
    """``recording`` with the ``location``/``baro`` streams in ``streams`` added (names as keys), metadata too."""
    if not streams:
        return recording
    infos = [s for s in recording.meta.streams if s.name not in streams]
    for name, data in streams.items():
        make = location_info if data.channels == LOCATION_CHANNELS else baro_info
        infos.append(make(name, len(data.t), _rate(data.t), device))
    meta = recording.meta.replace(streams=tuple(infos))
    return dataclasses.replace(recording, meta=meta, extra={**recording.extra, **streams})


def frame_columns(df: pd.DataFrame) -> dict[str, str]:
    """Lower-case, stripped column names -> the frame's own names."""
    return {str(c).strip().lower(): c for c in df.columns}


def sensorlogger_location(df: pd.DataFrame, t0_s: float) -> StreamData | None:
    """Sensor Logger's ``Location.csv`` on the recording clock (``t0_s``: the first IMU sample, epoch s)."""
    c = frame_columns(df)
    if "time" not in c or "latitude" not in c or "longitude" not in c:
        return None

    def get(name: str) -> Array | None:
        return df[c[name]].to_numpy() if name in c else None

    t = pd.to_numeric(df[c["time"]], errors="coerce").to_numpy(float) * 1e-9 - t0_s
    return location_data(t, get("latitude"), get("longitude"), get("altitude"), get("speed"),
                         get("horizontalaccuracy"), get("verticalaccuracy"), get("speedaccuracy"))  # fmt: skip


def sensorlogger_baro(df: pd.DataFrame, t0_s: float) -> StreamData | None:
    """Sensor Logger's ``Barometer.csv`` on the recording clock."""
    c = frame_columns(df)
    if "time" not in c or not ({"pressure", "relativealtitude"} & set(c)):
        return None
    t = pd.to_numeric(df[c["time"]], errors="coerce").to_numpy(float) * 1e-9 - t0_s
    return baro_data(t, df[c["pressure"]] if "pressure" in c else None,
                     df[c["relativealtitude"]] if "relativealtitude" in c else None)  # fmt: skip


def _phyphox_col(c: dict[str, str], *prefixes: str) -> str | None:
    """The first column whose (lower-case) header starts with one of ``prefixes`` followed by a unit or nothing."""
    for p in prefixes:
        for low, name in c.items():
            if low == p or low.startswith(p + " ("):
                return name
    return None


def phyphox_location(df: pd.DataFrame, t0_s: float) -> StreamData | None:
    """A phyphox "Location (GPS)" sheet on the recording clock (``t0_s``: the first acceleration sample)."""
    c = frame_columns(df)
    lat, lon, time = _phyphox_col(c, "latitude"), _phyphox_col(c, "longitude"), _phyphox_col(c, "time")
    if lat is None or lon is None or time is None:
        return None
    alt = _phyphox_col(c, "height", "altitude")  # "Altitude (m)" before "Altitude WGS84 (m)"
    speed = _phyphox_col(c, "velocity", "speed")
    hacc = _phyphox_col(c, "horizontal accuracy")
    vacc = _phyphox_col(c, "vertical accuracy")

    def get(name: str | None) -> Array | None:
        return None if name is None else df[name].to_numpy()

    t = pd.to_numeric(df[time], errors="coerce").to_numpy(float) - t0_s
    return location_data(t, get(lat), get(lon), get(alt), get(speed), get(hacc), get(vacc))


def phyphox_baro(df: pd.DataFrame, t0_s: float) -> StreamData | None:
    """A phyphox "Pressure" sheet on the recording clock."""
    c = frame_columns(df)
    p, time = _phyphox_col(c, "pressure"), _phyphox_col(c, "time")
    if p is None or time is None:
        return None
    t = pd.to_numeric(df[time], errors="coerce").to_numpy(float) - t0_s
    return baro_data(t, df[p])
