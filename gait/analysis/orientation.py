"""Stage: orientation. Pelvis orientation and gravity-free, heading-aligned accelerations.

The gyroscope is integrated exactly (quaternion product of every sample interval). Drift and slow heading
changes are removed by a slowly moving reference frame: its "up" is the low-passed specific force seen in the
integrated frame (over whole strides only gravity remains) and its "forward" the low-passed direction of the
body's anterior axis. Relative to that frame the pelvis angles are decomposed in the ISB pelvis order
(rotation about vertical, then obliquity about anterior, then tilt about lateral):

* ``obliquity``: + = right side higher;  ``tilt``: + = posterior;  ``rotation``: + = right hemipelvis forward.

Angles are relative to the runner's mean posture (a single sensor cannot know the absolute pelvis tilt).
Without a gyroscope the frame is the fixed mounting with a slowly updated gravity direction, and no angles.
The result does not depend on where integration starts (every quantity is relative to the slow reference),
so a long run can be processed in windows.

Arrays are handled component-wise (no per-sample 3x3 matrices) so a one-hour run stays fast and small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.analysis.align import Mounting
from gait.analysis.rotations import apply_matrix, dot_rows, euler_yxz, integrate_gyro, quat_components_to_matrix
from gait.analysis.signal import lowpass_slow

Array = np.ndarray


@dataclass(frozen=True)
class OrientationParams:
    """Parameters of the orientation stage (``body_kinematics``)."""

    reference_cutoff_hz: float = 0.25  # the slow reference frame follows below this (Hz): well under the
    # stride frequency (~0.7-1.6 Hz), so it removes gyro drift and turns but not the pelvis's own motion


@dataclass(frozen=True)
class BodyKinematics:
    """Result of the orientation stage: per-sample body-frame quantities (SI; angles in degrees)."""

    acc_level: Array  # (n, 3) specific force in the level, heading-aligned frame: [anterior, up, right]
    obliquity_deg: Array | None
    tilt_deg: Array | None
    rotation_deg: Array | None
    gyr_body: Array | None  # (n, 3) rad/s in body axes
    level_from_sensor: Array | None  # (3, 3, n) rotation entries, sensor axes -> level axes


def rotate_entries(r: Array, v: Array) -> Array:
    """Apply rotation entries r (3, 3, n) to vectors v (n, 3)."""
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    return np.column_stack([r[i, 0] * x + r[i, 1] * y + r[i, 2] * z for i in range(3)])


def _normalise(v: Array) -> Array:
    return v / np.sqrt(dot_rows(v, v))[:, None]


def _integrated(
    acc: Array, gyr: Array, fs: float, fc: float, origin: int, attitude: Array | None
) -> tuple[Array, Array, Array]:
    """Sensor(t) -> sensor(0) rotation entries (3, 3, n), the specific force in the sensor(0) frame and the
    slow reference's up direction there."""
    r_q = quat_components_to_matrix(integrate_gyro(gyr, 1.0 / fs) if attitude is None else attitude)
    f0 = rotate_entries(r_q, acc)
    return r_q, f0, _normalise(lowpass_slow(f0, fs, fc, origin))


def level_vertical(
    acc: Array,
    gyr: Array | None,
    fs: float,
    params: OrientationParams = OrientationParams(),
    origin: int = 0,
    attitude: Array | None = None,
) -> Array:
    """The vertical specific force of the level frame (m/s^2): ``body_kinematics(...).acc_level[:, 1]``
    alone, at about half the cost (no heading, no angles). ``attitude``: see ``body_kinematics``."""
    if gyr is None:
        up = _normalise(lowpass_slow(acc, fs, params.reference_cutoff_hz, origin))
        return dot_rows(acc, up)
    _, f0, up = _integrated(acc, gyr, fs, params.reference_cutoff_hz, origin, attitude)
    return dot_rows(f0, up)


def body_kinematics(
    acc: Array,
    gyr: Array | None,
    fs: float,
    mounting: Mounting,
    params: OrientationParams = OrientationParams(),
    origin: int = 0,
    attitude: Array | None = None,
) -> BodyKinematics:
    """Orientation-resolved kinematics of one uniform stretch (sensor-frame acc m/s^2, gyr rad/s, rate ``fs``).

    ``origin`` is the index of sample 0 on the run's clock (aligns the slow filters' blocks, see
    ``lowpass_slow``), so a window of a long run gets the whole run's values away from its ends.
    ``attitude`` is ``integrate_gyro(gyr, 1 / fs)`` when the caller has it already (it is half the cost).
    """
    m = mounting.matrix
    fc = params.reference_cutoff_hz
    if gyr is None:
        up = _normalise(lowpass_slow(acc, fs, fc, origin))
        fwd = _normalise(m[:, 0] - apply_matrix(up, m[:, 0])[:, None] * up)
        right = np.cross(fwd, up)
        acc_level = np.column_stack((dot_rows(acc, fwd), dot_rows(acc, up), dot_rows(acc, right)))
        return BodyKinematics(acc_level, None, None, None, None, None)

    r_q, f0, up = _integrated(acc, gyr, fs, fc, origin, attitude)
    x0 = lowpass_slow(
        np.column_stack([r_q[i, 0] * m[0, 0] + r_q[i, 1] * m[1, 0] + r_q[i, 2] * m[2, 0] for i in range(3)]),
        fs,
        fc,
        origin,
    )
    fwd = _normalise(x0 - dot_rows(x0, up)[:, None] * up)
    right = np.cross(fwd, up)
    acc_level = np.column_stack((dot_rows(f0, fwd), dot_rows(f0, up), dot_rows(f0, right)))
    # level_from_sensor[i, k] = axis_i . r_q[:, k]
    lfs = np.empty((3, 3, len(acc)))
    for i, e in enumerate((fwd, up, right)):
        for k in range(3):
            lfs[i, k] = e[:, 0] * r_q[0, k] + e[:, 1] * r_q[1, k] + e[:, 2] * r_q[2, k]
    # level_from_body = level_from_sensor @ M (component-wise: far faster than einsum here), decomposed in the
    # ISB pelvis order
    lfb = np.empty_like(lfs)
    for i in range(3):
        for k in range(3):
            lfb[i, k] = lfs[i, 0] * m[0, k] + lfs[i, 1] * m[1, k] + lfs[i, 2] * m[2, k]
    rotation, minus_obliquity, tilt = euler_yxz(np.moveaxis(lfb, -1, 0))
    return BodyKinematics(
        acc_level=acc_level,
        obliquity_deg=-np.degrees(minus_obliquity),
        tilt_deg=np.degrees(tilt),
        rotation_deg=np.degrees(rotation),
        gyr_body=apply_matrix(gyr, m),
        level_from_sensor=lfs,
    )
