"""Samples that are not measurements, found before anything is computed from them.

* Not numbers (NaN, infinite) and values beyond any real body-worn sensor's range (``|acc| > 200 g`` on an
  axis, ``|gyro| > 70 rad/s``, about 4000 deg/s: the largest ranges IMUs are sold with are 64 g and 4000 deg/s)
  are left out like dropouts (the holes are gaps) and counted apart, so one absurd value can never be averaged
  into a number; more than half of them is refused.
* A gyroscope that sent nothing for most of the recording (a phone whose gyroscope stopped) is left out and
  the accelerometer analysed alone, rather than losing the accelerometer samples with it.
* The uniform analysis clock comes from the median sample interval; timestamps that make it absurd (half the
  intervals 0.3 ms, half 0.49 s) would need a grid many times the samples: refused (``check_grid``) before it
  is allocated.

Messages print numbers in a few significant digits (``gait.errors.short``), never a 300-digit value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.constants import G0
from gait.errors import AnalysisError, short
from gait.recording.model import ImuData

MAX_ACC_MS2 = 200.0 * G0
MAX_GYR_RADS = 70.0
GRID_FACTOR = 4  # a uniform clock may hold at most this many points per real sample (3 in 4 interpolated)


@dataclass(frozen=True)
class Screened:
    imu: ImuData
    non_finite: int = 0  # samples left out: NaN or infinite
    out_of_range: int = 0  # samples left out: beyond any real sensor's range
    gyro_dropped: bool = False  # the gyroscope was missing in most samples: analysed without it


def out_of_range(acc: np.ndarray, gyr: np.ndarray | None) -> np.ndarray:
    """Per sample: a finite value beyond any real sensor's range (NaN and inf are counted as not numbers)."""
    with np.errstate(invalid="ignore"):
        bad = (np.abs(acc) > MAX_ACC_MS2).any(axis=1) & np.isfinite(acc).all(axis=1)
        if gyr is not None:
            bad |= (np.abs(gyr) > MAX_GYR_RADS).any(axis=1) & np.isfinite(gyr).all(axis=1)
    return bad


def _within(x: np.ndarray, limit: float) -> bool:
    """Every value a number within +-limit (NaN fails both comparisons); no copy of the samples."""
    return bool(x.max() <= limit and x.min() >= -limit)


def screen_samples(where: str, imu: ImuData) -> Screened:
    """Leave out the samples that are not measurements (module docstring); one-line AnalysisError when most are."""
    with np.errstate(invalid="ignore"):  # the usual case in one pass: every value a number within range
        if _within(imu.acc, MAX_ACC_MS2) and (imu.gyr is None or _within(imu.gyr, MAX_GYR_RADS)):
            return Screened(imu)
    acc_ok = np.isfinite(acc := imu.acc).all(axis=1)
    gyr = imu.gyr
    gyro_dropped = False
    if gyr is not None:
        gyr_missing = ~np.isfinite(gyr).all(axis=1) & acc_ok
        if gyr_missing.mean() > 0.5:  # the gyroscope stopped: keep the accelerometer
            gyr, gyro_dropped = None, True
    absurd = out_of_range(acc, gyr)
    non_finite = ~acc_ok if gyr is None else ~acc_ok | ~np.isfinite(gyr).all(axis=1)
    bad = absurd | non_finite
    if bad.mean() > 0.5:
        raise AnalysisError(
            f"{where}: {int(bad.sum())} of {imu.n} samples are not finite or beyond any real sensor's range "
            f"(|acc| > {MAX_ACC_MS2 / G0:.0f} g, |gyro| > {MAX_GYR_RADS:.0f} rad/s)"
        )
    if bad.any() or gyro_dropped:
        keep = ~bad
        imu = ImuData(imu.t[keep], acc[keep], None if gyr is None else gyr[keep])  # the holes are gaps
    return Screened(imu, int(non_finite.sum()), int(absurd.sum()), gyro_dropped)


def grid_points(t: np.ndarray, fs: float, max_fill_s: float = 0.5) -> int:
    """How many points a uniform clock at ``fs`` needs over ``t``, bridging holes up to ``max_fill_s``."""
    dt = np.diff(t)
    breaks = np.flatnonzero(dt > max_fill_s) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [len(t)])) - 1
    return int(np.sum(np.floor((t[stops] - t[starts]) * fs) + 1))


def check_grid(where: str, t: np.ndarray, fs: float, max_fill_s: float = 0.5) -> None:
    """Refuse timestamps whose uniform clock would be mostly invented (and could take gigabytes)."""
    n = grid_points(t, fs, max_fill_s)
    if n > GRID_FACTOR * len(t) + 1000:
        raise AnalysisError(
            f"{where}: sample times are too irregular to analyse: a uniform clock at {short(fs, '.0f')} Hz (the "
            f"median interval) would need {short(n / 1e6, '.1f')} million points for {len(t)} samples (at most "
            f"{GRID_FACTOR} per sample); check the time column"
        )
