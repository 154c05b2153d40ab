"""What a real clip-on IMU adds to a perfect sacral signal: applied to the RBDS virtual IMU (computed from markers,
so it has none of it) to judge pelvic drop "on a real sensor" as closely as the open data allow.

* **Clip tilt**: the clip sits pitched and rolled on the pelvis (``CLIP_TILT_DEG``), so its axes are not the
  pelvis's.
* **Impact transients**: the markers were low-passed at 15 Hz, so the virtual IMU lacks the landing's shock.
  The force plate has it: the whole-body acceleration Fy/m above 15 Hz (up to 60 Hz) is added along the
  vertical.
* **Soft-tissue wobble**: the clip on skin and fat rings like a damped oscillator (``WOBBLE_HZ``,
  ``WOBBLE_DAMPING``), excited by those impacts; it also rocks, by up to ``ROCK_DEG`` per landing (an
  assumption: no open data measure it), which the gyroscope sees.
* **Noise and bias** of a consumer IMU of the ICM-42688 / LSM6DSx class (``DATASHEET``; sources in
  docs/accuracy.md): white noise, a constant zero-g and zero-rate offset, and the offsets' drift as the sensor
  warms against the body.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import bilinear, butter, lfilter, lfilter_zi, sosfiltfilt
from scipy.spatial.transform import Rotation

from gait.constants import G0
from gait.recording.model import Recording
from gait.validation.datasets import Trial

CLIP_TILT_DEG = (20.0, 8.0)  # pitch (about the pelvis's right axis), then roll (about its forward axis)
WOBBLE_HZ, WOBBLE_DAMPING = 15.0, 0.3
ROCK_DEG = 1.0  # peak rocking of the clip on soft tissue after a landing (roll; pitch half of it)
IMPACT_BAND_HZ = (15.0, 60.0)  # what the markers' 15 Hz low-pass removed, below the 150 Hz IMU's Nyquist


@dataclass(frozen=True)
class Datasheet:
    """The noise and offset figures of one IMU (per axis)."""

    name: str
    acc_noise_mg_rms: float  # white noise over the output bandwidth
    gyro_noise_mdps_rthz: float  # rate noise density
    acc_offset_mg: float  # zero-g offset (drawn uniformly within +-)
    gyro_offset_dps: float  # zero-rate offset (+-)
    acc_drift_mg_per_k: float  # offset change with temperature
    gyro_drift_dps_per_k: float
    warm_up_k: float  # how much the sensor warms over a run (against the body)


DATASHEET = Datasheet(
    name="consumer 6-axis IMU (ICM-42688-P / LSM6DSO class)",
    acc_noise_mg_rms=3.0,  # LSM6DSO normal mode at +-16 g (the ICM-42688-P's 70 ug/rtHz gives ~0.6 mg)
    gyro_noise_mdps_rthz=2.8,  # ICM-42688-P
    acc_offset_mg=40.0,
    gyro_offset_dps=0.5,
    acc_drift_mg_per_k=0.15,
    gyro_drift_dps_per_k=0.005,
    warm_up_k=10.0,
)


def clip_rotation(pitch_deg: float, roll_deg: float) -> np.ndarray:
    """v_clip = C @ v_pelvis for a clip pitched about the pelvis's right axis, then rolled about forward."""
    return Rotation.from_euler("zx", (pitch_deg, roll_deg), degrees=True).as_matrix().T


def _impact_transients(trial: Trial, t: np.ndarray) -> np.ndarray:
    """The force plate's whole-body vertical acceleration in the band the markers lost, at times t (m/s^2)."""
    force = trial.force
    if force is None or len(force) < 10:
        return np.zeros(len(t))
    ft = force["time_s"].to_numpy()
    fs = 1.0 / float(np.median(np.diff(ft)))
    sos = butter(4, IMPACT_BAND_HZ, btype="bandpass", fs=fs, output="sos")
    band = sosfiltfilt(sos, force["vertical_bw"].to_numpy() * G0)
    return np.interp(t, ft, band, left=0.0, right=0.0)


def _oscillator(num: list[float], fs: float) -> tuple[np.ndarray, np.ndarray]:
    wn = 2 * np.pi * WOBBLE_HZ
    return bilinear(num, [1.0, 2 * WOBBLE_DAMPING * wn, wn**2], fs=fs)


def _ring(x: np.ndarray, fs: float) -> np.ndarray:
    """The clip on soft tissue: a base-excited damped oscillator (unit gain at low frequency)."""
    wn = 2 * np.pi * WOBBLE_HZ
    b, a = _oscillator([2 * WOBBLE_DAMPING * wn, wn**2], fs)
    y, _ = lfilter(b, a, x, axis=0, zi=lfilter_zi(b, a)[:, None] * x[:1])
    return y


def _rocking(impacts: np.ndarray, fs: float) -> np.ndarray:
    """Rocking angles (n, 3) of the clip, rad, about the pelvis's forward (roll) and right (pitch) axes: the
    oscillator's displacement under the impacts, scaled so the landings rock it by up to ROCK_DEG."""
    b, a = _oscillator([1.0], fs)
    x = lfilter(b, a, impacts)
    peak = np.percentile(np.abs(x), 99.5)
    x = np.radians(ROCK_DEG) * x / peak if peak > 0 else x
    return np.column_stack((x, np.zeros_like(x), 0.5 * x))


def real_sensor(trial: Trial, seed: int, sheet: Datasheet = DATASHEET) -> Recording:
    """The trial's virtual sacral IMU as a real clip-on IMU would have recorded it."""
    rec = trial.recording
    imu = rec.imu
    t, acc = imu.t, imu.acc.copy()
    fs = imu.rate_hz
    rng = np.random.default_rng(seed)
    up = acc.mean(axis=0) / np.linalg.norm(acc.mean(axis=0))  # the lab vertical in the pelvis frame, on average
    impacts = _impact_transients(trial, t)
    acc += impacts[:, None] * up[None, :]
    acc = _ring(acc, fs)
    rock = _rocking(impacts, fs)
    acc -= np.cross(rock, acc)  # small rotation of the clip's frame
    c = clip_rotation(*CLIP_TILT_DEG)
    acc = acc @ c.T
    warm = np.linspace(0.0, 1.0, len(t))[:, None] * sheet.warm_up_k  # K, warming steadily over the trial
    sign = rng.choice([-1.0, 1.0], (2, 3))  # which way each axis's offset drifts
    acc += rng.normal(0, sheet.acc_noise_mg_rms * 1e-3 * G0, acc.shape)
    acc += (rng.uniform(-1, 1, 3) * sheet.acc_offset_mg + warm * sign[0] * sheet.acc_drift_mg_per_k) * 1e-3 * G0
    gyr = None
    if imu.gyr is not None:
        gyr = (imu.gyr + np.gradient(rock, axis=0) * fs) @ c.T
        gyr += rng.normal(0, np.radians(sheet.gyro_noise_mdps_rthz * 1e-3) * np.sqrt(fs / 2), gyr.shape)
        gyr += np.radians(rng.uniform(-1, 1, 3) * sheet.gyro_offset_dps + warm * sign[1] * sheet.gyro_drift_dps_per_k)
    return Recording.from_arrays(t, acc, gyr, meta=rec.meta)
