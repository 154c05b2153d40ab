"""Running speed from the sacral IMU alone: a rough estimate for when nothing else measures it (a treadmill).

Spring-mass running: while a foot is on the ground the body passes over it, the leg sweeping from an angle
``theta0`` in front of the vertical to the same angle behind, so the ground covered during contact (the contact
length) is ``2 L sin(theta0)`` for a leg of length ``L``. The model assumes a runner keeps that sweep about the
same across their usual speeds (the treadmill data below bear it out to about +-10 %), so

    speed = contact length / contact time ~= K * L / contact_time,

one constant ``K`` (the contact length in leg lengths), with ``L`` = 0.53 x body height (the greater trochanter's
height, Winter 2009) or 1.75 m x 0.53 when the height is not known.

``K`` was chosen by cross-validation on the treadmill trials in ``../shared/data`` (two runners, 2.5-4.17 m/s,
level and +-5/10 deg; ``gait.validation.imu_speed``): fitted leaving one trial out it stays within 0.80-0.82.
Per-trial errors are in docs/terrain.md: about 11 % on average and up to 29 % (the slowest trials). Contact length
grows with speed and changes with slope and step frequency, and gait's contact time carries its own error (a 10 ms
error is 4-5 % of speed), so the estimate is used only when no GPS, foot pod or watch
speed exists, and marked with a low quality.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray

CONTACT_LENGTH_LEGS = 0.81  # K: chosen by leave-one-trial-out / leave-one-runner-out cross-validation
LEG_FRACTION = 0.53  # leg length / body height
DEFAULT_HEIGHT_M = 1.75
ERROR_RANGE = "+-10-30 %"  # typical and worst per-trial error (docs/terrain.md)
MIN_CONTACT_S, MAX_CONTACT_S = 0.12, 0.45  # outside this a contact time is not a running step's


def leg_length_m(height_cm: float | None) -> float:
    """Leg length from body height (cm); the default height when it is unknown or implausible."""
    h = height_cm / 100.0 if height_cm is not None and 120.0 <= height_cm <= 230.0 else DEFAULT_HEIGHT_M
    return LEG_FRACTION * h


def speed_from_contact(contact_time_ms: Array, height_cm: float | None = None) -> Array:
    """Per-step running speed (m/s) from contact time (ms); NaN for implausible contacts."""
    tc = np.asarray(contact_time_ms, float) / 1000.0
    ok = (tc >= MIN_CONTACT_S) & (tc <= MAX_CONTACT_S)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, CONTACT_LENGTH_LEGS * leg_length_m(height_cm) / tc, np.nan)


def fit_contact_length(contact_time_s: Array, speed_mps: Array, leg_m: Array) -> float:
    """The least-squares ``K`` of ``speed = K * L / contact_time`` (used by the cross-validation)."""
    x = np.asarray(leg_m, float) / np.asarray(contact_time_s, float)
    y = np.asarray(speed_mps, float)
    ok = np.isfinite(x) & np.isfinite(y)
    return float(np.dot(x[ok], y[ok]) / np.dot(x[ok], x[ok]))
