"""Units checked by physics: refuse a scale error, analyse an unusual but plausible recording with a note.

A units mistake is a factor: g stored as m/s^2 is 9.81 times too small, m/s^2 declared as g 9.81 times too large,
deg/s stored as rad/s 57.3 times too large. A recording that is merely unusual is not one: a treadmill data set
whose flight phases were clipped to zero averages 1.3-1.6 g; a loosely worn phone reads a little low. So the
checks look for those factors only, and anything else physically possible is analysed with a flag that says what
was odd.

Gravity is measured as the length of the *average* acceleration over windows of several strides (whole strides
average the body's own acceleration away, whatever the pace), taking the median over windows so turns and
changes of posture do not matter. A gravity-free recording (linear acceleration) averages to nearly zero
against its own movement and is reported as such, for the importer to restore gravity or refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gait.constants import G0
from gait.errors import short

Array = np.ndarray

WINDOW_S = 10.0
ACC_PLAUSIBLE_G = (0.6, 2.0)  # average acceleration (g) gait analyses; outside [0.85, 1.3] it is flagged
ACC_USUAL_G = (0.85, 1.3)
SCALE_TOLERANCE = 1.8  # a factor within this of 9.81 (or 57.3) is read as that units mistake
DEG_PER_RAD = 180.0 / math.pi
GYRO_MAX_RADS = 40.0  # a pelvis never turns this fast (running peaks are 3-8 rad/s)
GYRO_MOVING_MIN_RADS = 0.12  # ...and while the body moves it always turns faster than this (p99)
MOVING_STD_G = 0.1  # windows whose acceleration varies this much are "moving"


@dataclass(frozen=True)
class UnitsCheck:
    """What the physics says about a recording's units."""

    gravity_g: float  # median length of the window-average acceleration, in g (1 for a correct sensor)
    gyro_p99_rads: float | None  # 99th percentile of |angular rate| while moving
    flags: tuple[str, ...]
    messages: tuple[str, ...]


class UnitsError(ValueError):
    """A units mistake, named: the caller adds the file name and raises its own error family."""


def _windows_mean(x: Array, n_win: int) -> tuple[Array, Array]:
    """Per-window mean vector and per-window std of the magnitude, for non-overlapping windows."""
    m = len(x) // n_win
    blocks = x[None, :, :] if m == 0 else x[: m * n_win].reshape(m, n_win, x.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        mean = blocks.mean(axis=1)
        mag = np.sqrt((blocks * blocks).sum(axis=2))
        return np.sqrt((mean * mean).sum(axis=1)), mag.std(axis=1)


def _near(ratio: float, factor: float) -> bool:
    return ratio > 0 and abs(math.log(ratio / factor)) < math.log(SCALE_TOLERANCE)


def check_units(acc: Array, gyr: Array | None, fs: float) -> UnitsCheck:
    """Check acceleration (m/s^2, gravity included) and angular rate (rad/s) by physics.

    Raises :class:`UnitsError` (one line, naming the factor) for a units mistake; returns the flags and plain
    messages for a recording that is unusual but analysable. Non-finite samples must be removed first.
    """
    n_win = max(10, int(WINDOW_S * fs))
    g_len, dyn = _windows_mean(np.asarray(acc, float), n_win)
    gravity = float(np.median(g_len)) / G0
    flags, msgs = _gravity_notes(gravity, float(np.median(dyn)) / G0)
    p99 = None
    if gyr is not None:
        per_window = dyn > MOVING_STD_G * G0
        moving = per_window[np.minimum(np.arange(len(gyr)) // n_win, len(per_window) - 1)]
        p99, still = _gyro_p99(np.asarray(gyr, float), moving)
        if still:
            flags.append("gyroscope_still")
            msgs.append("The gyroscope barely changes while the body moves: pelvic angles are not trusted.")
    return UnitsCheck(gravity, p99, tuple(flags), tuple(msgs))


def _gravity_notes(gravity: float, dynamics: float) -> tuple[list[str], list[str]]:
    """Refuse a units mistake in the accelerometer (``gravity`` and ``dynamics`` as read, in g); flag the
    unusual."""
    if not math.isfinite(gravity):
        raise UnitsError("the accelerometer values are too large to be a real sensor's")
    if gravity < 0.05 or (gravity < 0.25 * dynamics and not _near(gravity, 1.0 / G0)):
        raise UnitsError(
            f"the accelerometer averages {short(gravity)} g, expected about 1 g with gravity included (gravity "
            "removed by the app, or a dead sensor)"
        )
    if _near(gravity, 1.0 / G0):
        raise UnitsError(
            f"the accelerometer averages {gravity * G0:.2f} where gravity gives 9.81 m/s^2: the values look like g, "
            "not m/s^2 (9.81 times too small)"
        )
    if _near(gravity, G0):
        raise UnitsError(
            f"the accelerometer averages {short(gravity)} g where gravity gives 1 g: the values look like m/s^2 "
            "declared as g (9.81 times too large)"
        )
    if not ACC_PLAUSIBLE_G[0] <= gravity <= ACC_PLAUSIBLE_G[1]:
        raise UnitsError(
            f"the accelerometer averages {short(gravity)} g where gravity gives 1 g: no sensor in working order "
            "reads that (wrong units or a faulty sensor)"
        )
    if ACC_USUAL_G[0] <= gravity <= ACC_USUAL_G[1]:
        return [], []
    return ["unusual_gravity"], [
        f"The accelerometer averages {gravity:.2f} g where gravity alone gives 1 g (flight phases clipped by the "
        "recording's maker, or a loose or miscalibrated sensor): step timing is unaffected; accelerations in g "
        "(impact, braking) scale with it."
    ]


def _gyro_p99(gyr: Array, moving: Array) -> tuple[float, bool]:
    """The 99th percentile of |angular rate| while moving (rad/s as read), and whether the gyroscope is still;
    refuses a deg/s / rad/s mistake."""
    rates = np.abs(gyr[moving] if moving.any() else gyr)
    with np.errstate(over="ignore", invalid="ignore"):
        p99 = float(np.percentile(rates, 99)) if rates.size else 0.0
    if not math.isfinite(p99) or p99 > GYRO_MAX_RADS:
        raise UnitsError(
            f"the gyroscope reaches {short(p99)} rad/s, impossible for a pelvis: the values look like deg/s, not rad/s"
        )
    if not moving.any() or p99 >= GYRO_MOVING_MIN_RADS:
        return p99, False
    if p99 * DEG_PER_RAD > 1.0:
        raise UnitsError(
            f"the gyroscope reaches only {p99:.3f} rad/s while the body moves: the values look like rad/s declared "
            "as deg/s (57.3 times too small)"
        )
    return p99, True
