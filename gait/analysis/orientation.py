"""Pelvis orientation and gravity-free, heading-aligned accelerations.

The gyroscope is integrated exactly (quaternion product of every sample interval). Drift and slow heading
changes are removed by a slowly moving reference frame: its "up" is the low-passed specific force seen in the
integrated frame (over whole strides only gravity remains) and its "forward" the low-passed direction of the
body's anterior axis. Relative to that frame the pelvis angles are decomposed in the ISB pelvis order
(rotation about vertical, then obliquity about anterior, then tilt about lateral):

* ``obliquity``: + = right side higher;  ``tilt``: + = posterior;  ``rotation``: + = right hemipelvis forward.

Angles are relative to the runner's mean posture (a single sensor cannot know the absolute pelvis tilt).
Without a gyroscope the frame is the fixed mounting with a slowly updated gravity direction, and no angles.

The sacrum sits ~10-15 cm behind and above the body's centre of mass, so pelvic rotation adds tangential and
centripetal acceleration at the sensor. In flight the centre of mass is in free fall (zero specific force),
so the sensor's offset from a point moving like the centre of mass can be fitted from flight phases and its
rotational acceleration removed (``lever_arm``).

Arrays are handled component-wise (no per-sample 3x3 matrices) so a one-hour run stays fast and small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.analysis.align import Mounting
from gait.analysis.rotations import integrate_gyro, quat_components_to_matrix, skew
from gait.analysis.signal import lowpass, lowpass_slow

Array = np.ndarray

REFERENCE_CUTOFF_HZ = 0.25  # slow reference frame: well below stride frequency (~0.7-1.6 Hz)
GYRO_BANDWIDTH_HZ = 20.0  # angular acceleration is differentiated from the gyro low-passed here
MAX_LEVER_ARM_M = 0.35


@dataclass(frozen=True)
class BodyKinematics:
    """Per-sample body-frame quantities on one uniform segment (SI; angles in degrees)."""

    acc_level: Array  # (n, 3) specific force in the level, heading-aligned frame: [anterior, up, right]
    obliquity_deg: Array | None
    tilt_deg: Array | None
    rotation_deg: Array | None
    gyr_body: Array | None  # (n, 3) rad/s in body axes
    level_from_sensor: Array | None  # (3, 3, n) rotation entries, sensor axes -> level axes

    @property
    def has_angles(self) -> bool:
        return self.obliquity_deg is not None


def _rotate(r: Array, v: Array) -> Array:
    """Apply rotation entries r (3, 3, n) to vectors v (n, 3)."""
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    return np.column_stack([r[i, 0] * x + r[i, 1] * y + r[i, 2] * z for i in range(3)])


def _normalise(v: Array) -> Array:
    return v / np.sqrt((v * v).sum(axis=1, keepdims=True))


def body_kinematics(acc: Array, gyr: Array | None, fs: float, mounting: Mounting) -> BodyKinematics:
    """Orientation-resolved kinematics of one uniform segment (sensor-frame acc m/s^2, gyr rad/s)."""
    m = mounting.matrix
    if gyr is None:
        up = _normalise(lowpass_slow(acc, fs, REFERENCE_CUTOFF_HZ))
        fwd = _normalise(m[:, 0] - (up @ m[:, 0])[:, None] * up)
        right = np.cross(fwd, up)
        acc_level = np.column_stack(((acc * fwd).sum(1), (acc * up).sum(1), (acc * right).sum(1)))
        return BodyKinematics(acc_level, None, None, None, None, None)

    r_q = quat_components_to_matrix(integrate_gyro(gyr, 1.0 / fs))  # sensor(t) -> sensor(0), (3, 3, n)
    f0 = _rotate(r_q, acc)
    up = _normalise(lowpass_slow(f0, fs, REFERENCE_CUTOFF_HZ))
    x0 = lowpass_slow(
        np.column_stack([r_q[i, 0] * m[0, 0] + r_q[i, 1] * m[1, 0] + r_q[i, 2] * m[2, 0] for i in range(3)]),
        fs,
        REFERENCE_CUTOFF_HZ,
    )
    fwd = _normalise(x0 - (x0 * up).sum(1)[:, None] * up)
    right = np.cross(fwd, up)
    axes = (fwd, up, right)
    # level_from_sensor[i, k] = axis_i . r_q[:, k]
    lfs = np.empty((3, 3, len(acc)))
    for i, e in enumerate(axes):
        for k in range(3):
            lfs[i, k] = e[:, 0] * r_q[0, k] + e[:, 1] * r_q[1, k] + e[:, 2] * r_q[2, k]
    acc_level = _rotate(lfs, acc)

    # level_from_body = level_from_sensor @ M: only the entries the Euler decomposition needs
    def lfb(i: int, k: int) -> Array:
        return lfs[i, 0] * m[0, k] + lfs[i, 1] * m[1, k] + lfs[i, 2] * m[2, k]

    b = np.arcsin(np.clip(-lfb(1, 2), -1.0, 1.0))  # about anterior: minus obliquity
    a = np.arctan2(lfb(0, 2), lfb(2, 2))  # about vertical: rotation
    c = np.arctan2(lfb(1, 0), lfb(1, 1))  # about lateral: tilt
    return BodyKinematics(
        acc_level=acc_level,
        obliquity_deg=-np.degrees(b),
        tilt_deg=np.degrees(c),
        rotation_deg=np.degrees(a),
        gyr_body=gyr @ m,
        level_from_sensor=lfs,
    )


@dataclass(frozen=True)
class LeverArm:
    """Sensor position relative to a point that moves like the centre of mass, in body axes (m)."""

    r_m: Array
    residual_ms2: float  # RMS flight specific force left after the fit
    raw_ms2: float  # RMS flight specific force before the fit
    n_samples: int

    @property
    def useful(self) -> bool:
        return bool(np.linalg.norm(self.r_m) <= MAX_LEVER_ARM_M and self.residual_ms2 < 0.9 * self.raw_ms2)


def _rates(gyr_body: Array, fs: float) -> tuple[Array, Array]:
    w = lowpass(gyr_body, fs, min(GYRO_BANDWIDTH_HZ, 0.4 * fs))
    return w, np.gradient(w, axis=0) * fs


def fit_lever_arm(acc_body: Array, gyr_body: Array, fs: float, flight: Array) -> LeverArm | None:
    """Least-squares lever arm from flight samples, where the sensor should only feel rotation:
    f = alpha x r + omega x (omega x r) = A(t) r."""
    n = int(flight.sum())
    if n < 30:
        return None
    w, alpha = _rates(gyr_body, fs)
    sw = skew(w[flight])
    a = (skew(alpha[flight]) + sw @ sw).reshape(-1, 3)
    y = acc_body[flight].reshape(-1)
    r, *_ = np.linalg.lstsq(a, y, rcond=None)
    res = y - a @ r
    return LeverArm(
        r_m=r,
        residual_ms2=float(np.sqrt(np.mean(res**2) * 3)),
        raw_ms2=float(np.sqrt(np.mean(y**2) * 3)),
        n_samples=n,
    )


def compensate(kin: BodyKinematics, acc_sensor: Array, mounting: Mounting, fs: float, lever: LeverArm) -> Array:
    """Level-frame specific force of the centre-of-mass-like point (removes the sensor's rotational terms)."""
    assert kin.gyr_body is not None and kin.level_from_sensor is not None
    w, alpha = _rates(kin.gyr_body, fs)
    r = lever.r_m
    rot_body = np.cross(alpha, r) + np.cross(w, np.cross(w, r))
    return _rotate(kin.level_from_sensor, acc_sensor - rot_body @ mounting.matrix.T)
