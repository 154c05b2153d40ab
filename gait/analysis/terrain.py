"""Speed and grade per step from what the runner carries, the uphill/flat/downhill split, and the hill-adjusted
step speed loss. Pure: arrays and streams in, arrays and tables out.

Sources, best first (each sample carries a quality, 0-1, and the best available one is used second by second):

* **Speed**: a phone's or watch's GPS ground speed (Doppler; quality from the reported speed accuracy), a foot
  pod's (Running Speed and Cadence) or a watch's own speed, speed from successive GPS positions when a file has
  no speed field, and only when none of these exists the IMU-only estimate (``gait.analysis.imu_speed``).
* **Altitude for grade**: the barometer (pressure -> altitude by the standard atmosphere) first, then a watch's
  altitude (barometric on most running watches; a FIT file does not say), then GPS altitude.

Why these windows:

* **Speed** is averaged over ``speed_window_s`` = 5 s, centred. Doppler speed is noisy second to second (phones:
  0.1-0.3 m/s) while a runner's speed changes slowly (a change of pace takes several seconds: accelerations of a
  few tenths of a m/s^2), so 5 s cuts the noise by about 2 without smearing a change of pace. A phone's speed
  lags the truth by about a second (its own filter), so GPS speed is moved ``gps_speed_lag_s`` earlier; a
  centred window adds no lag of its own.
* **Grade** is the slope of a straight line fitted to altitude against horizontal distance over a window of
  distance (barometer: ``baro_window_m`` = 40 m, a watch's altitude: 60 m, GPS altitude: 200 m). A barometer's altitude
  is precise to a few tenths of a metre from second to second (noise ~0.02 hPa) but drifts with the weather
  (about 1 hPa, 8 m, in an hour); over 40 m of road that drift is worth under 0.1 % of grade, while the noise
  leaves about +-0.5 %. Pressure spikes (a gust, a door, a tunnel's pressure wave) are removed first by a 5-s
  running median. GPS altitude wanders by several metres over tens of seconds, so only long windows give a
  usable grade, marked with a low quality.
* **Gaps** (tunnels, underpasses, a phone that lost its fix): a GPS gap of up to ``max_bridge_s`` = 120 s is
  bridged by a straight line between the speeds on either side (pace rarely changes much in two minutes), with
  a lowered quality; longer gaps stay empty unless another source (a foot pod) covers them. The barometer does
  not need the sky, so grade continues through a tunnel as long as distance does (bridged speed).

The terrain split classifies distance by grade: **uphill** above +``uphill_pct`` (2 %), **downhill** below
-2 %, **flat** between. A stretch shorter than ``min_segment_m`` (100 m: about 30 s and 90 steps at an easy
pace, enough for a median) is merged into the neighbour whose grade is closer, so the split does not flicker on
a noisy grade or a speed bump. 2 % is a gentle slope, yet running up it already costs about 10 % more energy
than on the level (Minetti et al. 2002).

**Step speed loss** (``step_speed_loss``): the forward speed lost from initial contact to the slowest point of
the stance (``braking_dv_mps``), hill-adjusted the way the anchor (Garmin's HRM 600) adjusts it. On a slope the
ground's push is normal to the ground, so the part of it that carries the body's weight leans back on an uphill
and forward on a downhill: in gait's gravity-levelled frame it adds about g sin(atan(grade)) of deceleration
uphill (acceleration downhill) throughout the braking phase, which is the slope, not the runner's form.
The adjusted loss removes it: ``braking_dv_mps - g sin(atan(grade / 100)) braking_duration``. Uphill it is
smaller than the raw value, downhill larger; it can be negative on a steep uphill (the ground then pushes the
runner forward from the start). Also given as % of the running speed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter

from gait.analysis.imu_speed import ERROR_RANGE, speed_from_contact
from gait.constants import G0
from gait.recording.model import Recording, StreamData

Array = np.ndarray

UPHILL, FLAT, DOWNHILL, UNKNOWN = "uphill", "flat", "downhill", "unknown"
TERRAINS = (UPHILL, FLAT, DOWNHILL)
BARO_EXPONENT, BARO_SCALE_M = 0.190263, 44330.8  # standard atmosphere
EARTH_RADIUS_M = 6_371_000.0

#: quality of a source's samples when the source states no accuracy of its own
POD_QUALITY = 0.8  # a calibrated foot pod: within a few % of the truth
WATCH_QUALITY = 0.75  # a watch's own speed (GPS and its accelerometer)
POSITION_QUALITY = 0.5  # speed from successive positions
IMU_QUALITY = 0.2  # the IMU-only estimate (gait.analysis.imu_speed): its ERROR_RANGE
IMU_SOURCE = "IMU-only estimate"
BRIDGE_QUALITY = 0.4  # across a gap, at most
BARO_QUALITY = 0.9
DEVICE_ALTITUDE_QUALITY = 0.6
GPS_ALTITUDE_QUALITY = 0.3  # at best: a phone's GPS altitude wanders by metres over tens of seconds


@dataclass(frozen=True)
class TerrainConfig:
    """Parameters of the speed, grade and terrain estimates (the module docstring says why these values)."""

    grid_hz: float = 2.0  # the track's time grid
    speed_window_s: float = 5.0
    gps_speed_lag_s: float = 1.0
    max_sample_gap_s: float = 3.0  # samples further apart than this are not interpolated between (a gap)
    max_bridge_s: float = 120.0
    baro_median_s: float = 5.0
    bin_m: float = 5.0  # altitude is averaged into bins of horizontal distance
    baro_window_m: float = 40.0
    device_altitude_window_m: float = 60.0
    gps_altitude_window_m: float = 200.0
    max_vertical_accuracy_m: float = 30.0  # GPS altitude with a worse stated accuracy is not used
    uphill_pct: float = 2.0
    min_segment_m: float = 100.0
    min_split_quality: float = 0.4  # grades less sure than this are not split into terrain (GPS altitude)
    min_grade_quality: float = 0.15  # grades less sure than this are not given at all (GPS altitude near a gap)


@dataclass(frozen=True)
class TerrainTrack:
    """Speed, distance, altitude and grade over the run on a uniform time grid (``t_s``), with qualities (0-1,
    0 where unknown), the sources used, and the terrain segments (``segments``: one row per stretch,
    ``terrain``, ``start_s``, ``end_s``, ``start_m``, ``end_m``, ``length_m``, ``grade_pct`` (mean),
    ``climb_m``)."""

    t_s: Array
    speed_mps: Array  # along the ground
    speed_quality: Array
    distance_m: Array  # horizontal, cumulative
    altitude_m: Array  # relative to the first known value
    grade_pct: Array
    grade_quality: Array
    speed_source: str  # e.g. "GPS (location)", "foot pod (rsc)", "IMU-only estimate"; "" when none
    grade_source: str  # e.g. "barometer (baro)"; "" when none
    segments: pd.DataFrame
    notes: tuple[str, ...] = field(default=())
    latitude_deg: Array | None = None  # the route (from the location stream) on the grid; None without positions
    longitude_deg: Array | None = None

    @property
    def has_speed(self) -> bool:
        return bool(np.isfinite(self.speed_mps).any())

    @property
    def has_grade(self) -> bool:
        return bool(np.isfinite(self.grade_pct).any())

    @property
    def measured_distance_m(self) -> float | None:
        """The run's horizontal distance, when a measured speed (not the IMU-only estimate) covers all of it."""
        if not self.has_speed or IMU_SOURCE in self.speed_source:
            return None
        d = self.distance_m[np.isfinite(self.distance_m)]
        return float(d[-1]) if len(d) else None

    def frame(self, with_location: bool = False) -> pd.DataFrame:
        """The track as a table (one row per grid point; ``latitude_deg``/``longitude_deg`` only when asked for
        and known: location is private)."""
        cols = {"t_s": self.t_s, "speed_mps": self.speed_mps, "speed_quality": self.speed_quality,
                "distance_m": self.distance_m, "altitude_m": self.altitude_m, "grade_pct": self.grade_pct,
                "grade_quality": self.grade_quality}  # fmt: skip
        if with_location and self.latitude_deg is not None and self.longitude_deg is not None:
            cols |= {"latitude_deg": self.latitude_deg, "longitude_deg": self.longitude_deg}
        return pd.DataFrame(cols)

    def to_dict(self, with_location: bool = False) -> dict[str, Any]:
        """JSON-ready: the sources, notes and terrain segments; the route (``[t_s, latitude, longitude]`` once a
        second) only ``with_location``."""
        seg = self.segments
        out: dict[str, Any] = {
            "speed_source": self.speed_source or None,
            "grade_source": self.grade_source or None,
            "distance_m": _round(self.measured_distance_m, 1),
            "notes": list(self.notes),
            "segments": [_rounded(row) for row in seg.to_dict("records")],
        }
        if with_location:
            out["route"] = self.route_points()
        return out

    def route_points(self, every_s: float = 1.0) -> list[list[float]] | None:
        """``[t_s, latitude_deg, longitude_deg]`` every ``every_s`` where a position is known; None without."""
        if self.latitude_deg is None or self.longitude_deg is None:
            return None
        step = max(1, round(every_s * (len(self.t_s) - 1) / max(self.t_s[-1] - self.t_s[0], 1e-9)))
        t, la, lo = self.t_s[::step], self.latitude_deg[::step], self.longitude_deg[::step]
        ok = np.isfinite(la) & np.isfinite(lo)
        return [
            [round(float(a), 1), round(float(b), 7), round(float(c), 7)]
            for a, b, c in zip(t[ok], la[ok], lo[ok], strict=True)
        ]


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (_round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


@dataclass(frozen=True)
class Source:
    """One stream usable for speed or altitude, with its kind (``location``, ``baro``, ``rsc``, ``watch``)."""

    name: str
    kind: str
    data: StreamData


# -- helpers on a uniform grid ---------------------------------------------------------------------------------------


def _on_grid(t: Array, x: Array, grid: Array, max_gap_s: float) -> Array:
    """``x`` sampled at ``t`` -> values at ``grid`` (linear), NaN outside and across gaps longer than ``max_gap_s``."""
    ok = np.isfinite(t) & np.isfinite(x)
    t, x = t[ok], x[ok]
    out = np.full(len(grid), np.nan)
    if len(t) == 0:
        return out
    order = np.argsort(t, kind="stable")
    t, x = t[order], x[order]
    if len(t) == 1:
        near = np.abs(grid - t[0]) <= max_gap_s / 2
        out[near] = x[0]
        return out
    out = np.interp(grid, t, x, left=np.nan, right=np.nan)
    i = np.clip(np.searchsorted(t, grid), 1, len(t) - 1)
    out[(t[i] - t[i - 1]) > max_gap_s] = np.nan
    # just outside the first/last sample: keep within half a gap (a fix covers the moment around it)
    before = (grid < t[0]) & (t[0] - grid <= max_gap_s / 2)
    after = (grid > t[-1]) & (grid - t[-1] <= max_gap_s / 2)
    out[before], out[after] = x[0], x[-1]
    return out


def _window_mean(x: Array, k: int) -> Array:
    """Centred mean over ``k`` samples ignoring NaN (NaN where the window holds none, or where ``x`` is NaN)."""
    if k <= 1:
        return x.copy()
    ok = np.isfinite(x)
    c = np.concatenate(([0.0], np.cumsum(np.where(ok, x, 0.0))))
    n = np.concatenate(([0], np.cumsum(ok)))
    idx = np.arange(len(x))
    lo, hi = np.clip(idx - k // 2, 0, len(x)), np.clip(idx + k // 2 + 1, 0, len(x))
    cnt = n[hi] - n[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[hi] - c[lo]) / cnt
    return np.where(ok & (cnt > 0), out, np.nan)


def _runs(mask: Array) -> tuple[Array, Array]:
    """Start and end (exclusive) indices of the runs of True in ``mask``."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _bridge(x: Array, q: Array, grid_hz: float, max_s: float) -> tuple[Array, Array]:
    """Fill interior NaN runs of up to ``max_s`` by a straight line between their ends, with a lowered quality."""
    x, q = x.copy(), q.copy()
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return x, q
    starts, ends = _runs(~ok)
    idx = np.arange(len(x))
    fill = np.interp(idx, idx[ok], x[ok])
    for a, b in zip(starts, ends, strict=True):  # one iteration per gap, not per sample
        if a == 0 or b == len(x) or (b - a) / grid_hz > max_s:
            continue
        x[a:b] = fill[a:b]
        q[a:b] = BRIDGE_QUALITY * (1.0 - 0.5 * (b - a) / grid_hz / max_s)
    return x, q


def _haversine_m(lat1: Array, lon1: Array, lat2: Array, lon2: Array) -> Array:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def pressure_altitude_m(pressure_hpa: Array, reference_hpa: float) -> Array:
    """Altitude (m) above the level of ``reference_hpa``, by the standard atmosphere."""
    return BARO_SCALE_M * (1.0 - (np.asarray(pressure_hpa, float) / reference_hpa) ** BARO_EXPONENT)


# -- speed -----------------------------------------------------------------------------------------------------------


def _col(d: StreamData, name: str) -> Array:
    return d.column(name) if name in d.channels else np.full(len(d.t), np.nan)


class _Speed(NamedTuple):
    """One source's speed on the grid (m/s), its quality, and whether it is horizontal (GPS, watch) rather than
    along the ground (a foot pod)."""

    label: str
    speed: Array
    quality: Array
    horizontal: bool = True


def _speed_candidates(sources: Sequence[Source], grid: Array, cfg: TerrainConfig) -> list[_Speed]:
    """Every source of speed, on the grid."""
    out = []
    gap = cfg.max_sample_gap_s
    has_watch_location = any(s.kind == "location" and s.name.startswith("watch") for s in sources)
    for s in sources:
        d = s.data
        if s.kind == "location":
            speed = _col(d, "speed_mps")
            speed = np.where(speed >= 0, speed, np.nan)  # phones write -1 for "invalid"
            acc = _col(d, "speed_accuracy_mps")
            is_watch = s.name.startswith("watch")
            if np.isfinite(speed).sum() >= 2:
                q = np.where(acc > 0, np.clip(1.0 - acc / 2.0, 0.2, 1.0), WATCH_QUALITY if is_watch else 0.7)
                t = d.t - (0.0 if is_watch else cfg.gps_speed_lag_s)
                label = f"{'watch' if is_watch else 'GPS'} ({s.name})"
                out.append(_Speed(label, _on_grid(t, speed, grid, gap), _on_grid(t, q, grid, gap)))
                continue
            lat, lon = _col(d, "latitude_deg"), _col(d, "longitude_deg")
            ok = np.isfinite(lat) & np.isfinite(lon)
            if ok.sum() >= 5:  # speed from positions, central differences over +-2 fixes
                t, la, lo = d.t[ok], lat[ok], lon[ok]
                dist = _haversine_m(la[:-4], lo[:-4], la[4:], lo[4:])
                v = dist / np.maximum(t[4:] - t[:-4], 1e-3)
                tv = 0.5 * (t[4:] + t[:-4])
                good = (t[4:] - t[:-4]) <= 4 * gap
                vg = _on_grid(tv[good], v[good], grid, gap)
                out.append(_Speed(f"GPS positions ({s.name})", vg, np.where(np.isfinite(vg), POSITION_QUALITY, 0.0)))
        elif s.kind == "rsc":
            v = _on_grid(d.t, _col(d, "speed_mps"), grid, gap)
            out.append(_Speed(f"foot pod ({s.name})", v, np.where(np.isfinite(v), POD_QUALITY, 0.0), False))
        elif s.kind == "watch" and not has_watch_location:  # FIT imported before location streams existed
            v = _on_grid(d.t, _col(d, "speed_mps"), grid, gap)
            out.append(_Speed(f"watch ({s.name})", v, np.where(np.isfinite(v), WATCH_QUALITY, 0.0)))
    return out


def _best(cands: list[_Speed], n: int) -> tuple[Array, Array, Array, list[str]]:
    """Per grid point the candidate with the highest quality: speed, quality, whether it is horizontal, and the
    labels of the sources used."""
    if not cands:
        return np.full(n, np.nan), np.zeros(n), np.ones(n, bool), []
    vals = np.vstack([c.speed for c in cands])
    qual = np.vstack([np.where(np.isfinite(c.speed), np.nan_to_num(c.quality, nan=0.0), -1.0) for c in cands])
    pick = np.argmax(qual, axis=0)
    cols = np.arange(n)
    v, q = vals[pick, cols], qual[pick, cols]
    v = np.where(q >= 0, v, np.nan)
    horizontal = np.array([c.horizontal for c in cands])[pick]
    used = sorted({cands[i].label for i in np.unique(pick[np.isfinite(v)])})
    return v, np.where(np.isfinite(v), q, 0.0), horizontal, used


# -- altitude and grade ----------------------------------------------------------------------------------------------


def _altitude(sources: Sequence[Source], grid: Array, cfg: TerrainConfig) -> tuple[Array, Array, float, str]:
    """Altitude on the grid (relative), its quality, the grade window (m) and the source's label: the barometer
    first, else the location source with the best mean quality."""
    for s in sources:
        if s.kind == "baro" and (found := _baro_altitude(s, grid, cfg)) is not None:
            return found
    best: tuple[Array, Array, float, str] | None = None
    for s in sources:
        cand = _location_altitude(s, grid, cfg) if s.kind == "location" else None
        if cand is not None and (best is None or np.nanmean(cand[1]) > np.nanmean(best[1])):
            best = cand
    if best is None:
        return np.full(len(grid), np.nan), np.zeros(len(grid)), cfg.baro_window_m, ""
    h = best[0]
    first = h[np.isfinite(h)]
    return (h - first[0] if len(first) else h), best[1], best[2], best[3]


def _baro_altitude(s: Source, grid: Array, cfg: TerrainConfig) -> tuple[Array, Array, float, str] | None:
    """A barometer's altitude (from its pressure, else its own relative altitude), median-filtered on the grid."""
    p = _col(s.data, "pressure_hpa")
    p = np.where((p > 100) & (p < 1200), p, np.nan)  # hPa: anything else is not a pressure
    alt = (
        pressure_altitude_m(p, float(p[np.isfinite(p)][0])) if np.isfinite(p).sum() >= 2 else _col(s.data, "altitude_m")
    )
    if np.isfinite(alt).sum() < 2:
        return None
    h = _on_grid(s.data.t, alt, grid, cfg.max_sample_gap_s)
    ok = np.isfinite(h)
    if ok.sum() >= 2:
        k_med = max(1, round(cfg.baro_median_s * cfg.grid_hz) | 1)
        filled = np.interp(np.arange(len(h)), np.flatnonzero(ok), h[ok])
        h = np.where(ok, median_filter(filled, size=k_med, mode="nearest"), np.nan)
    return h, np.where(np.isfinite(h), BARO_QUALITY, 0.0), cfg.baro_window_m, f"barometer ({s.name})"


def _location_altitude(s: Source, grid: Array, cfg: TerrainConfig) -> tuple[Array, Array, float, str] | None:
    """A location source's altitude: a watch's (no vertical accuracy: barometric on most running watches) or a
    GPS fix's, weighted by its vertical accuracy."""
    gap = cfg.max_sample_gap_s
    alt, vacc = _col(s.data, "altitude_m"), _col(s.data, "vertical_accuracy_m")
    if np.isfinite(alt).sum() < 2:
        return None
    if not np.isfinite(vacc).any():
        h = _on_grid(s.data.t, alt, grid, gap)
        return (h, np.where(np.isfinite(h), DEVICE_ALTITUDE_QUALITY, 0.0), cfg.device_altitude_window_m,
                f"watch altitude ({s.name})")  # fmt: skip
    keep = (vacc > 0) & (vacc <= cfg.max_vertical_accuracy_m)
    h = _on_grid(s.data.t[keep], alt[keep], grid, gap)
    q = _on_grid(s.data.t[keep], np.clip(1.0 - vacc[keep] / 20.0, 0.05, GPS_ALTITUDE_QUALITY), grid, gap)
    return (h, np.where(np.isfinite(h), np.nan_to_num(q), 0.0), cfg.gps_altitude_window_m,
            f"GPS altitude ({s.name})")  # fmt: skip


def _slope(x: Array, y: Array, w: Array, k: int) -> Array:
    """Weighted least-squares slope of y on x over centred windows of ``k`` points, NaN-aware (needs 3)."""
    ok = np.isfinite(y) & (w > 0)
    w = np.where(ok, w, 0.0)
    xs, ys = np.where(ok, x, 0.0), np.where(ok, y, 0.0)

    def wsum(v: Array) -> Array:
        c = np.concatenate(([0.0], np.cumsum(v)))
        idx = np.arange(len(v))
        lo, hi = np.clip(idx - k // 2, 0, len(v)), np.clip(idx + k // 2 + 1, 0, len(v))
        return c[hi] - c[lo]

    n, sw, sx, sy = wsum(ok.astype(float)), wsum(w), wsum(w * xs), wsum(w * ys)
    sxx, sxy = wsum(w * xs * xs), wsum(w * xs * ys)
    den = sw * sxx - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        b = (sw * sxy - sx * sy) / den
    return np.where((n >= 3) & (den > 1e-12 * np.maximum(sw * sxx, 1e-300)), b, np.nan)


def _fill_near(x: Array, y: Array, reach: float) -> Array:
    """NaN values of ``y`` interpolated from known neighbours no further than ``reach`` away along ``x``."""
    ok = np.isfinite(y)
    if not ok.any() or ok.all():
        return y
    xk = x[ok]
    j = np.searchsorted(xk, x)
    left, right = xk[np.clip(j - 1, 0, len(xk) - 1)], xk[np.clip(j, 0, len(xk) - 1)]
    nearest = np.minimum(np.abs(x - left), np.abs(right - x))
    filled = np.interp(x, xk, y[ok])
    return np.where(ok, y, np.where(nearest <= reach, filled, np.nan))


def _grade_on_bins(
    distance: Array, altitude: Array, quality: Array, cfg: TerrainConfig, window_m: float
) -> tuple[Array, Array, Array]:
    """Grade (%) and its quality per distance bin (bin centres in m), from altitude averaged per bin (samples
    weighted by their quality squared, so poor GPS fixes count little). A bin's quality is the mean sample
    quality over its window, bins without samples counting 0 (so a grade bridged over a gap is marked)."""
    ok = np.isfinite(distance) & np.isfinite(altitude) & (quality > 0)
    if ok.sum() < 3 or np.nanmax(distance[ok]) < 2 * cfg.bin_m:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    b = (distance[ok] / cfg.bin_m).astype(int)
    nb = int(b.max()) + 1
    w = quality[ok] ** 2
    wsum = np.bincount(b, weights=w, minlength=nb)
    cnt = np.bincount(b, minlength=nb)
    mean = np.bincount(b, weights=altitude[ok] * w, minlength=nb) / np.where(wsum > 0, wsum, 1.0)
    mean[wsum == 0] = np.nan
    q = np.bincount(b, weights=quality[ok], minlength=nb) / np.maximum(cnt, 1)
    centres = (np.arange(nb) + 0.5) * cfg.bin_m
    k = max(3, round(window_m / cfg.bin_m) | 1)
    return centres, 100.0 * _slope(centres, mean, wsum, k), np.nan_to_num(_window_mean(q, k))


# -- terrain split ---------------------------------------------------------------------------------------------------


def classify(grade_pct: Array, uphill_pct: float = 2.0) -> Array:
    """``uphill`` / ``flat`` / ``downhill`` by the grade thresholds; ``unknown`` where the grade is."""
    g = np.asarray(grade_pct, float)
    out = np.where(g > uphill_pct, UPHILL, np.where(g < -uphill_pct, DOWNHILL, FLAT)).astype(object)
    out[~np.isfinite(g)] = UNKNOWN
    return out


def _segment_bins(grade: Array, cfg: TerrainConfig) -> list[list]:
    """Runs of one terrain class over the distance bins, short ones merged: [label, first bin, end bin] each."""
    labels = classify(grade, cfg.uphill_pct)
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    bounds = np.concatenate(([0], change, [len(labels)]))
    runs = [[labels[a], int(a), int(b)] for a, b in itertools.pairwise(bounds)]
    min_bins = cfg.min_segment_m / cfg.bin_m

    def mean_grade(r: list) -> float:
        g = grade[r[1] : r[2]]
        return float(np.nanmean(g)) if np.isfinite(g).any() else math.nan

    while len(runs) > 1:  # merge the shortest known run under the minimum into its closer neighbour
        short = [i for i, r in enumerate(runs) if r[0] != UNKNOWN and r[2] - r[1] < min_bins]
        if not short:
            break
        i = min(short, key=lambda j: runs[j][2] - runs[j][1])
        g = mean_grade(runs[i])
        nbrs = [j for j in (i - 1, i + 1) if 0 <= j < len(runs) and runs[j][0] != UNKNOWN]
        if not nbrs:  # a short stretch between unknown ones: too short to class on its own
            runs[i][0] = UNKNOWN
            continue
        j = min(nbrs, key=lambda m: abs(mean_grade(runs[m]) - g) if math.isfinite(g) else 0.0)
        lo, hi = min(i, j), max(i, j)
        merged = [runs[j][0], runs[lo][1], runs[hi][2]]
        runs[lo : hi + 1] = [merged]
        # neighbours that now share a label join up
        k = 0
        while k < len(runs) - 1:
            if runs[k][0] == runs[k + 1][0]:
                runs[k : k + 2] = [[runs[k][0], runs[k][1], runs[k + 1][2]]]
            else:
                k += 1
    return runs


def _segments(
    track_t: Array, distance: Array, altitude: Array, grade: Array, runs: list[list], cfg: TerrainConfig
) -> pd.DataFrame:
    """The segments table from the runs over distance bins (times where the distance first reaches each end)."""
    cols = ["terrain", "start_s", "end_s", "start_m", "end_m", "length_m", "grade_pct", "climb_m"]
    if not runs:
        return pd.DataFrame(columns=cols)
    d = np.where(np.isfinite(distance), distance, -np.inf)
    d = np.maximum.accumulate(d)
    rows = []
    for label, a, b in runs:
        start_m, end_m = a * cfg.bin_m, b * cfg.bin_m
        i0 = int(np.searchsorted(d, start_m, side="left"))
        i1 = int(np.searchsorted(d, end_m, side="left"))
        i0, i1 = min(i0, len(d) - 1), min(i1, len(d) - 1)
        seg_alt = altitude[i0 : i1 + 1]
        seg_alt = seg_alt[np.isfinite(seg_alt)]
        g = grade[a:b]
        rows.append((label, float(track_t[i0]), float(track_t[i1]), start_m, end_m, end_m - start_m,
                     float(np.nanmean(g)) if np.isfinite(g).any() else math.nan,
                     float(seg_alt[-1] - seg_alt[0]) if len(seg_alt) > 1 else math.nan))  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


# -- the track -------------------------------------------------------------------------------------------------------


def terrain_sources(streams: Mapping[str, StreamData], kinds: Mapping[str, str]) -> list[Source]:
    """The streams usable for speed and altitude (``kinds``: stream name -> kind, from the recording's meta)."""
    return [Source(n, kinds[n], d) for n, d in streams.items() if kinds.get(n) in ("location", "baro", "rsc", "watch")]


def terrain_track(
    sources: Sequence[Source],
    duration_s: float,
    params: TerrainConfig = TerrainConfig(),
    imu_speed: tuple[Array, Array] | None = None,
) -> TerrainTrack:
    """Speed, grade and terrain over a run of ``duration_s`` from its streams; ``imu_speed`` = (times, speeds) of
    the IMU-only estimate, used only where no other source (or a bridged gap) gives a speed."""
    grid = np.arange(0.0, max(duration_s, 0.0) + 0.5 / params.grid_hz, 1.0 / params.grid_hz)
    n = len(grid)
    notes: list[str] = []
    v, q, horizontal, used = _best(_speed_candidates(sources, grid, params), n)
    v = _window_mean(v, round(params.speed_window_s * params.grid_hz) | 1)
    q = _window_mean(np.where(np.isfinite(v), q, np.nan), round(params.speed_window_s * params.grid_hz) | 1)
    q = np.nan_to_num(q)
    had = np.isfinite(v)
    v, q = _bridge(v, q, params.grid_hz, params.max_bridge_s)
    if (np.isfinite(v) & ~had).any():
        notes.append(f"speed bridged across {np.sum(np.isfinite(v) & ~had) / params.grid_hz:.0f} s without a source")
    if imu_speed is not None and not np.isfinite(v).all():
        vi = _window_mean(_on_grid(imu_speed[0], imu_speed[1], grid, 2.0), int(10 * params.grid_hz) | 1)
        fill = ~np.isfinite(v) & np.isfinite(vi)
        if fill.any():
            v[fill], q[fill], horizontal[fill] = vi[fill], IMU_QUALITY, False
            used.append(IMU_SOURCE)
            notes.append(f"speed estimated from the IMU alone for {fill.sum() / params.grid_hz:.0f} s ({ERROR_RANGE})")
    # distance: horizontal, taking a pod's speed along the ground as horizontal too (they differ by under 0.5 %
    # below 10 % grade); only the speed reported is converted, below
    step = np.where(np.isfinite(v), v, 0.0) / params.grid_hz
    distance = np.concatenate(([0.0], np.cumsum(0.5 * (step[1:] + step[:-1]))))
    distance = np.where(np.isfinite(v) | (np.arange(n) == 0), distance, np.nan)
    alt, aq, window_m, alt_label = _altitude(sources, grid, params)
    centres, grade_bins, grade_q = _grade_on_bins(distance, alt, aq, params, window_m)
    grade = np.full(n, np.nan)
    gq = np.zeros(n)
    runs: list[list] = []
    if len(centres):
        grade_bins = _fill_near(centres, grade_bins, window_m / 2)
        d = np.clip(distance, centres[0], centres[-1])  # the first and last half bin take their bin's grade
        grade = np.interp(d, centres, grade_bins)
        # grade needs distance too: a bridged speed lowers it
        gq = np.where(np.isfinite(grade), np.minimum(np.interp(d, centres, grade_q), np.maximum(q, 0.3)), 0.0)
        grade = np.where(gq >= params.min_grade_quality, grade, np.nan)
        gq = np.where(np.isfinite(grade), gq, 0.0)
        runs = _segment_bins(np.where(grade_q >= params.min_split_quality, grade_bins, np.nan), params)
    sure = horizontal & (gq >= params.min_split_quality)  # horizontal speeds -> along the ground, with a good grade
    speed_along = np.where(sure, v * np.sqrt(1.0 + np.nan_to_num(grade / 100.0) ** 2), v)
    segments = _segments(grid, distance, alt, grade_bins, runs, params)
    lat = lon = None
    for s in sources:
        if s.kind == "location" and np.isfinite(_col(s.data, "latitude_deg")).sum() >= 2:
            lat = _on_grid(s.data.t, _col(s.data, "latitude_deg"), grid, params.max_sample_gap_s)
            lon = _on_grid(s.data.t, _col(s.data, "longitude_deg"), grid, params.max_sample_gap_s)
            break
    return TerrainTrack(
        grid, speed_along, np.where(np.isfinite(v), q, 0.0), distance, alt, grade, gq, ", ".join(used),
        alt_label if np.isfinite(grade).any() else "", segments, tuple(notes), lat, lon,
    )  # fmt: skip


def terrain_of(recording: Recording, steps: pd.DataFrame, params: TerrainConfig = TerrainConfig()) -> TerrainTrack:
    """The track of a recording: its location, barometer, foot-pod and watch streams, and the IMU-only speed from
    its confident running steps (used only where nothing else gives a speed)."""
    kinds = {s.name: s.kind for s in recording.meta.streams}
    run = steps[(steps["activity"] == "run") & ~steps["low_confidence"]] if len(steps) else steps
    imu = None
    if len(run):
        imu = (run["ic_s"].to_numpy(), speed_from_contact(run["contact_time_ms"], recording.meta.subject.height_cm))
    duration = float(recording.imu.t[-1]) if recording.imu.n else 0.0
    return terrain_track(terrain_sources(recording.extra, kinds), duration, params, imu)


# -- per step --------------------------------------------------------------------------------------------------------

STEP_TERRAIN_COLUMNS = ["speed_mps", "speed_quality", "grade_pct", "grade_quality", "terrain",
                        "step_speed_loss_mps", "step_speed_loss_pct"]  # fmt: skip


def step_terrain(track: TerrainTrack, ic_s: Array) -> pd.DataFrame:
    """Speed, grade, their qualities and the terrain class at each step's initial contact."""
    ic = np.asarray(ic_s, float)
    t = track.t_s

    def at(x: Array) -> Array:
        return np.interp(ic, t, x, left=np.nan, right=np.nan) if len(t) > 1 else np.full(len(ic), np.nan)

    speed = at(np.where(track.speed_quality > 0, track.speed_mps, np.nan))
    grade = at(track.grade_pct)
    terrain = np.full(len(ic), UNKNOWN, dtype=object)
    seg = track.segments
    if len(seg):
        k = np.searchsorted(seg["start_s"].to_numpy(), ic, side="right") - 1
        inside = (k >= 0) & (ic <= seg["end_s"].to_numpy()[np.clip(k, 0, len(seg) - 1)])
        labels = seg["terrain"].to_numpy()
        terrain[inside] = labels[k[inside]]
    terrain[~np.isfinite(grade)] = UNKNOWN
    return pd.DataFrame({
        "speed_mps": speed, "speed_quality": np.nan_to_num(at(track.speed_quality)),
        "grade_pct": grade, "grade_quality": np.nan_to_num(at(track.grade_quality)), "terrain": terrain,
    })  # fmt: skip


def step_speed_loss(
    braking_dv_mps: Array, braking_duration_ms: Array, grade_pct: Array, speed_mps: Array
) -> tuple[Array, Array]:
    """Hill-adjusted step speed loss (m/s) and as % of the running speed (see the module docstring).

    Where the grade is unknown the loss is the raw braking (not adjusted); where the speed is unknown the %
    is NaN."""
    dv = np.asarray(braking_dv_mps, float)
    g = np.asarray(grade_pct, float)
    along = G0 * np.sin(np.arctan(np.nan_to_num(g) / 100.0))
    loss = dv - along * np.asarray(braking_duration_ms, float) / 1000.0
    loss = np.where(np.isfinite(g), loss, dv)
    speed = np.asarray(speed_mps, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(speed > 0.5, 100.0 * loss / speed, np.nan)
    return loss, pct


def add_step_terrain(steps: pd.DataFrame, track: TerrainTrack) -> pd.DataFrame:
    """``steps`` with the ``STEP_TERRAIN_COLUMNS`` added (speed and grade at each step, step speed loss)."""
    per = step_terrain(track, steps["ic_s"].to_numpy())
    loss, pct = step_speed_loss(steps["braking_dv_mps"], steps["braking_duration_ms"], per["grade_pct"],
                                per["speed_mps"])  # fmt: skip
    out = steps.copy()
    for c in per.columns:
        out[c] = per[c].to_numpy()
    out["step_speed_loss_mps"] = loss
    out["step_speed_loss_pct"] = pct
    return out


def measured_speed_mps(steps: pd.DataFrame) -> float | None:
    """The median running speed of the confident running steps whose speed was measured (GPS, a watch, a foot
    pod): the IMU-only estimate is contact time restated, so it never stands in for a measured speed."""
    if not len(steps) or "speed_mps" not in steps:
        return None
    sel = (steps["activity"] == "run") & ~steps["low_confidence"] & (steps["speed_quality"] > IMU_QUALITY)
    v = steps.loc[sel, "speed_mps"].to_numpy(float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else None


def route_xy(t_s: Array, latitude_deg: Array, longitude_deg: Array, at_s: Array) -> tuple[Array, Array]:
    """Positions at times ``at_s`` as metres east and north of the route's first position (a flat projection:
    well within a metre over a run's few kilometres); NaN where the position is unknown."""
    ok = np.isfinite(latitude_deg) & np.isfinite(longitude_deg)
    if ok.sum() < 2:
        return np.full(len(at_s), np.nan), np.full(len(at_s), np.nan)
    lat = _on_grid(t_s[ok], latitude_deg[ok], np.asarray(at_s, float), np.inf)
    lon = _on_grid(t_s[ok], longitude_deg[ok], np.asarray(at_s, float), np.inf)
    lat0, lon0 = float(latitude_deg[ok][0]), float(longitude_deg[ok][0])
    north = np.radians(lat - lat0) * EARTH_RADIUS_M
    east = np.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    inside = (at_s >= t_s[ok][0]) & (at_s <= t_s[ok][-1])  # no positions made up before the first fix or after the last
    return np.where(inside, east, np.nan), np.where(inside, north, np.nan)
