"""Stage: lever arm. The sensor's offset from a point moving like the centre of mass, and its removal.

The sacrum sits ~10-15 cm behind and above the body's centre of mass, so pelvic rotation adds tangential and
centripetal acceleration at the sensor: ``alpha x r + omega x (omega x r)``. In flight the centre of mass is in
free fall (zero specific force), so the sensor reads exactly that term: a least-squares fit over flight samples
gives ``r``, and the term is removed everywhere (``compensate``).

The fit is kept as accumulated normal equations (``FlightStats``), so a long run analysed in windows gets the
same lever arm as the whole run. The compensated forward acceleration is the body's own: in running it must
brake while the vertical force rises, which settles the forward direction of the mounting (``SignStats``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.analysis.align import Mounting
from gait.analysis.orientation import BodyKinematics, rotate_entries
from gait.analysis.rotations import apply_matrix, dot_rows, skew
from gait.analysis.signal import lowpass

Array = np.ndarray


@dataclass(frozen=True)
class LeverArmParams:
    """Parameters of the lever-arm stage."""

    flight_level_g: float = 0.35  # vertical specific force (g) below which the body is taken to be in flight
    flight_cutoff_hz: float = 15.0  # the vertical force is low-passed here (Hz) before that test
    flight_margin_s: float = 0.02  # flight samples lie at least this far (s) from any contact sample
    min_flight_samples: int = 30  # fewer flight samples: no fit
    gyro_bandwidth_hz: float = 20.0  # angular acceleration is differentiated from the gyro low-passed here (Hz)
    max_lever_arm_m: float = 0.35  # a longer fitted offset (m) is not believed
    max_residual_ratio: float = 0.9  # the fit must leave at most this fraction of the flight signal (RMS)
    sign_cutoff_hz: float = 6.0  # forward-sign check: both signals low-passed here (Hz)
    min_sign_s: float = 2.0  # forward-sign check: at least this much running (s)


@dataclass(frozen=True)
class LeverArm:
    """Result of the lever-arm stage: the sensor's position relative to a point that moves like the centre of
    mass, in body axes (m), and how much of the flight signal it explains."""

    r_m: Array
    residual_ms2: float  # RMS flight specific force left after the fit
    raw_ms2: float  # RMS flight specific force before the fit
    n_samples: int

    def flipped(self) -> LeverArm:
        """The same offset for the mounting turned half a turn about the vertical (``Mounting.flipped``)."""
        return LeverArm(self.r_m * np.array([-1.0, 1.0, -1.0]), self.residual_ms2, self.raw_ms2, self.n_samples)


def flight_mask(vert_g: Array, running: Array, fs: float, params: LeverArmParams = LeverArmParams()) -> Array:
    """Samples well inside flight phases: running, and the level vertical specific force ``vert_g`` (g) near
    free fall for ``params.flight_margin_s`` on both sides (keeps away from the edges of each contact)."""
    low = running & (lowpass(vert_g, fs, params.flight_cutoff_hz) < params.flight_level_g)
    k = max(1, int(params.flight_margin_s * fs))
    c = np.concatenate(([0], np.cumsum(~low)))
    # a sample qualifies when no non-flight sample lies within k samples on either side
    idx = np.arange(len(low))
    lo = np.clip(idx - k, 0, len(low))
    hi = np.clip(idx + k + 1, 0, len(low))
    return (c[hi] - c[lo]) == 0


def _rates(gyr_body: Array, fs: float, params: LeverArmParams) -> tuple[Array, Array]:
    w = lowpass(gyr_body, fs, min(params.gyro_bandwidth_hz, 0.4 * fs))
    return w, np.gradient(w, axis=0) * fs


@dataclass(frozen=True)
class FlightStats:
    """Normal equations of the flight fit ``f = A(t) r`` summed over flight samples (adds up across windows)."""

    ata: Array  # (3, 3) sum of A^T A
    aty: Array  # (3,) sum of A^T f
    yty: float  # sum of |f|^2
    n: int  # flight samples

    @classmethod
    def empty(cls) -> FlightStats:
        return cls(np.zeros((3, 3)), np.zeros(3), 0.0, 0)

    def __add__(self, other: FlightStats) -> FlightStats:
        return FlightStats(self.ata + other.ata, self.aty + other.aty, self.yty + other.yty, self.n + other.n)

    def solve(self, params: LeverArmParams = LeverArmParams()) -> LeverArm | None:
        """The least-squares lever arm, or None with too few flight samples or an implausible fit."""
        if self.n < params.min_flight_samples:
            return None
        try:
            r = np.linalg.solve(self.ata, self.aty)
        except np.linalg.LinAlgError:
            return None
        res2 = max(0.0, self.yty - 2.0 * float(r @ self.aty) + float(r @ self.ata @ r))
        lever = LeverArm(r_m=r, residual_ms2=float(np.sqrt(res2 / self.n)), raw_ms2=float(np.sqrt(self.yty / self.n)),
                         n_samples=self.n)  # fmt: skip
        plausible = np.linalg.norm(r) <= params.max_lever_arm_m
        explains = lever.residual_ms2 < params.max_residual_ratio * lever.raw_ms2
        return lever if plausible and explains else None


def flight_stats(
    acc_body: Array, gyr_body: Array, fs: float, flight: Array, params: LeverArmParams = LeverArmParams()
) -> FlightStats:
    """Accumulate the flight samples' normal equations: there the sensor should only feel rotation,
    ``f = alpha x r + omega x (omega x r) = A(t) r`` (body axes, m/s^2 and rad/s)."""
    if not flight.any():
        return FlightStats.empty()
    w, alpha = _rates(gyr_body, fs, params)
    wf = w[flight]
    # omega x (omega x r) = (omega omega^T - |omega|^2 I) r, written out (no stacked matrix products)
    a = skew(alpha[flight]) + wf[:, :, None] * wf[:, None, :]  # (k, 3, 3)
    a -= dot_rows(wf, wf)[:, None, None] * np.eye(3)
    y = acc_body[flight]
    ata = np.einsum("kij,kil->jl", a, a)
    aty = np.einsum("kij,ki->j", a, y)
    return FlightStats(ata, aty, float((y * y).sum()), int(flight.sum()))


def fit_lever_arm(
    acc_body: Array, gyr_body: Array, fs: float, flight: Array, params: LeverArmParams = LeverArmParams()
) -> LeverArm | None:
    """The lever-arm stage on one stretch: least-squares fit over the ``flight`` samples (None if it fails)."""
    return flight_stats(acc_body, gyr_body, fs, flight, params).solve(params)


def compensate(
    kin: BodyKinematics,
    acc_sensor: Array,
    mounting: Mounting,
    fs: float,
    lever: LeverArm,
    params: LeverArmParams = LeverArmParams(),
) -> Array:
    """Level-frame specific force of the centre-of-mass-like point (removes the sensor's rotational terms)."""
    if kin.gyr_body is None or kin.level_from_sensor is None:
        raise ValueError("compensation needs a gyroscope")
    w, alpha = _rates(kin.gyr_body, fs, params)
    r = lever.r_m
    rot_body = np.cross(alpha, r) + np.cross(w, np.cross(w, r))
    return rotate_entries(kin.level_from_sensor, acc_sensor - apply_matrix(rot_body, mounting.matrix.T))


@dataclass(frozen=True)
class SignStats:
    """Sums behind the correlation of the compensated forward acceleration with the rate of change of the
    vertical one while running (adds up across windows)."""

    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0

    def __add__(self, other: SignStats) -> SignStats:
        return SignStats(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[float, ...]:
        return (self.n, self.sx, self.sy, self.sxx, self.syy, self.sxy)

    def vote(self, fs: float, params: LeverArmParams = LeverArmParams()) -> tuple[float, float]:
        """(correlation x samples, samples): a positive vote means the forward axis is reversed (the body would
        speed up while the vertical force rises); (0, 0) without enough running."""
        if self.n <= fs * params.min_sign_s:
            return 0.0, 0.0
        mx, my = self.sx / self.n, self.sy / self.n
        vx, vy = self.sxx / self.n - mx * mx, self.syy / self.n - my * my
        if vx <= 1e-12 * self.sxx / self.n or vy <= 1e-12 * self.syy / self.n:
            return 0.0, 0.0
        corr = (self.sxy / self.n - mx * my) / np.sqrt(vx * vy)
        return float(corr) * self.n, float(self.n)


def sign_stats(
    acc_level: Array, running: Array, fs: float, params: LeverArmParams = LeverArmParams(), keep: slice = slice(None)
) -> SignStats:
    """Sums for the forward-sign check over the running samples of ``acc_level`` (compensated, m/s^2) that
    lie in ``keep`` (a window's own samples)."""
    ap = lowpass(acc_level[:, 0], fs, params.sign_cutoff_hz)[keep]
    dv = (np.gradient(lowpass(acc_level[:, 1], fs, params.sign_cutoff_hz)) * fs)[keep]
    sel = running[keep]
    x, y = ap[sel], dv[sel]
    return SignStats(len(x), float(x.sum()), float(y.sum()), float((x * x).sum()), float((y * y).sum()),
                     float((x * y).sum()))  # fmt: skip
