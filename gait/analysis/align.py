"""Stage: mounting. Sensor-to-body alignment for any mounting, from gravity and the direction of travel.

Body frame (ISB): x anterior, y superior, z right. The sensor may sit upside down, rotated or tilted.

* **Up** is the mean specific force while moving: over whole strides the body's acceleration averages out and
  only gravity remains.
* **Anterior/posterior vs medio-lateral**: running and walking repeat every *step* front-to-back (braking then
  propulsion under each foot) but alternate every step side-to-side (the body is pushed towards the other
  side under each foot). So in the horizontal plane, the axis whose acceleration is most *step-periodic*
  relative to *step-alternating* is anterior-posterior (the symmetry idea of Avvenuti et al.).
* **Which way is forward**: in running the body brakes (forward acceleration negative) while the vertical
  force rises and propels while it falls, so forward makes the anterior acceleration anti-correlated with
  the rate of change of the vertical acceleration; walking shows the opposite relation (see
  ``estimate_mounting``). With a gyroscope the pipeline re-checks running on the rotation-compensated
  signal (see ``pipeline``).
* **Right** completes a right-handed frame (sensor axes are assumed right-handed, as on phones and IMUs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.analysis.rotations import apply_matrix, frame_from_up_forward
from gait.analysis.signal import decimate_for, highpass, in_chunks, lowpass

Array = np.ndarray


@dataclass(frozen=True)
class MountingParams:
    """Parameters of the mounting stage (``estimate_mounting``)."""

    rate_hz: float = 50.0  # the mounting is a property of the whole run: estimated at about this rate
    band_hz: tuple[float, float] = (0.5, 12.0)  # pass band (Hz) of the step-periodicity analysis
    sign_cutoff_hz: float = 6.0  # low-pass (Hz) of the signals correlated to decide which way is forward
    min_moving_s: float = 4.0  # with less running + walking (s) every sample is used
    min_gait_s: float = 2.0  # a gait votes on the forward sign only with at least this much of it (s)
    period_search_s: tuple[float, float] = (0.22, 0.75)  # step periods looked for (s)


@dataclass(frozen=True)
class Mounting:
    """Body axes expressed in sensor coordinates (columns x anterior, y up, z right): v_sensor = M @ v_body."""

    matrix: Array
    ap_separation: float  # 0..1: how clearly the step-periodic axis stood out (1 = perfectly)
    forward_sign_margin: float  # |correlation| behind the forward/backward decision (0..1)

    def flipped(self) -> Mounting:
        """The same mounting turned half a turn about the vertical (forward and right reversed)."""
        return Mounting(self.matrix @ np.diag([-1.0, 1.0, -1.0]), self.ap_separation, self.forward_sign_margin)

    def describe(self) -> str:
        """Which sensor axis points where, e.g. 'sensor -y up, +x forward'."""
        names = []
        for j, role in ((1, "up"), (0, "forward")):
            col = self.matrix[:, j]
            k = int(np.argmax(np.abs(col)))
            tilt = float(np.degrees(np.arccos(min(1.0, abs(col[k])))))
            sign = "-" if col[k] < 0 else "+"
            names.append(f"sensor {sign}{'xyz'[k]} {role}" + (f" (tilted {tilt:.0f} deg)" if tilt > 10 else ""))
        return ", ".join(names)


def step_period(
    vertical: Array,
    fs: float,
    lo_s: float = 0.22,
    hi_s: float = 0.75,
    max_span_s: float = 120.0,
    min_correlation: float = 0.2,
) -> float:
    """Dominant step period (s) in [``lo_s``, ``hi_s``] from the autocorrelation of a vertical signal, or NaN
    if not periodic (no autocorrelation peak of at least ``min_correlation``). A couple of minutes at ~50 Hz
    pin the period down, so only the middle ``max_span_s`` of a longer input is used."""
    x, fs = decimate_for(vertical, fs, 50.0)
    limit = int(max_span_s * fs)
    if len(x) > limit:
        mid = len(x) // 2
        x = x[mid - limit // 2 : mid + limit // 2]
    x = x - x.mean()
    n = len(x)
    if n < int(3 * hi_s * fs):
        return float("nan")
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(x, nfft)
    ac = np.fft.irfft(spec * np.conj(spec), nfft)[:n]
    if ac[0] <= 0:
        return float("nan")
    ac = ac / ac[0]
    lo, hi = int(lo_s * fs), min(int(hi_s * fs), n - 2)
    seg = ac[lo:hi]
    # first strong local maximum: steps, not strides (the stride peak is at twice the lag)
    peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if len(peaks) == 0:
        return float("nan")
    best = peaks[np.argmax(seg[peaks])]
    if seg[best] < min_correlation:  # no clear repetition (and no "strong" peak at all when every peak is negative)
        return float("nan")
    strong = peaks[seg[peaks] > 0.7 * seg[best]]
    k = int(strong[0])
    if seg[k] < min_correlation:
        return float("nan")
    # parabolic refinement of the lag
    if 0 < k < len(seg) - 1:
        y0, y1, y2 = seg[k - 1], seg[k], seg[k + 1]
        denom = y0 - 2 * y1 + y2
        k = k + (0.5 * (y0 - y2) / denom if denom != 0 else 0.0)
    return float((lo + k) / fs)


def estimate_mounting(
    acc: Array,
    fs: float,
    running: Array | None = None,
    walking: Array | None = None,
    params: MountingParams = MountingParams(),
) -> Mounting:
    """Estimate the sensor-to-body rotation from accelerometer data (n, 3) at rate ``fs``.

    ``running`` / ``walking`` are per-sample masks from the activity classifier; they select the moving part
    and decide the forward sign, whose signature differs between the gaits: in running (a bouncing spring)
    the trunk brakes while the vertical force rises; in walking (an inverted pendulum, vaulting over the
    stance leg) the lower trunk is still speeding up as the leading foot takes the load (Zijlstra & Hof:
    heel strike comes near the peak forward acceleration), so the relation is reversed.
    """
    k = max(1, int(fs // params.rate_hz))
    if k > 1:
        acc = lowpass(acc, fs, 0.4 * fs / k)[::k]
        running = None if running is None else running[::k]
        walking = None if walking is None else walking[::k]
        fs = fs / k
    n = len(acc)
    running = np.zeros(n, bool) if running is None else running
    walking = np.zeros(n, bool) if walking is None else walking
    moving = running | walking
    if moving.sum() < fs * params.min_moving_s:
        moving = np.ones(n, bool)
    up = np.array([acc[moving, j].mean() for j in range(3)])  # column by column: no copy of the whole run
    up = up / np.linalg.norm(up)
    # orthonormal basis of the horizontal plane
    helper = np.eye(3)[int(np.argmin(np.abs(up)))]
    e1 = np.cross(up, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    lo, hi = params.band_hz
    basis = np.column_stack((up, e1, e2))
    projected = in_chunks(lambda x: apply_matrix(lowpass(highpass(x, fs, lo), fs, hi), basis), acc, fs)
    vert, horiz = projected[:, 0], projected[:, 1:]
    period = step_period(vert[moving], fs, *params.period_search_s)
    if not np.isfinite(period):
        # no periodic gait: fall back to the principal horizontal axis (weak, flagged by separation 0)
        fwd2 = np.linalg.eigh(_cov(horiz[moving]))[1][:, -1]
        separation = 0.0
    else:
        lag = round(period * fs)
        c_per, c_alt = _step_covariances(horiz, lag, moving[:-lag] & moving[lag:])
        w, v = np.linalg.eigh(c_per - c_alt)
        fwd2 = v[:, -1]
        spread = np.trace(c_per + c_alt)
        separation = float(np.clip((w[-1] - w[0]) / spread, 0.0, 1.0)) if spread > 0 else 0.0
    fwd = fwd2[0] * e1 + fwd2[1] * e2

    def smooth(x: Array) -> Array:
        return lowpass(x, fs, params.sign_cutoff_hz)

    ap = in_chunks(smooth, horiz[:, 0] * fwd2[0] + horiz[:, 1] * fwd2[1], fs)
    dvert = np.gradient(in_chunks(smooth, vert, fs)) * fs
    # each gait votes with its share of samples: running with -corr, walking with +corr (see below)
    vote, weight = 0.0, 0.0
    for mask, sign in ((running, -1.0), (walking, 1.0)):
        if mask.sum() >= fs * params.min_gait_s:
            vote += sign * _corr(ap, dvert, mask) * mask.sum()
            weight += mask.sum()
    if weight == 0:  # gait unknown: assume running, the product's main use
        vote, weight = -_corr(ap, dvert, moving), 1.0
    if vote < 0:
        fwd = -fwd
    matrix = frame_from_up_forward(up, fwd)
    return Mounting(matrix=matrix, ap_separation=separation, forward_sign_margin=abs(vote) / weight)


def _step_covariances(h: Array, lag: int, both: Array) -> tuple[Array, Array]:
    """Covariances of the step-periodic part (a + b) / 2 and the step-alternating part (a - b) / 2 of the
    horizontal acceleration h (n, 2), a = h one step earlier than b, over the samples ``both``: from weighted
    sums, without copies of the run."""
    a, b = h[:-lag], h[lag:]
    w = both.astype(float)
    m = w.sum()

    def s(x: Array, y: Array) -> float:
        return float(np.einsum("i,i,i->", w, x, y))

    sa = np.array([np.einsum("i,i->", w, a[:, i]) for i in range(2)])
    sb = np.array([np.einsum("i,i->", w, b[:, i]) for i in range(2)])
    aa = np.array([[s(a[:, i], a[:, j]) for j in range(2)] for i in range(2)])
    bb = np.array([[s(b[:, i], b[:, j]) for j in range(2)] for i in range(2)])
    ab = np.array([[s(a[:, i], b[:, j]) for j in range(2)] for i in range(2)])
    out = []
    for sign in (1.0, -1.0):
        mean = (sa + sign * sb) / (2 * m)
        second = (aa + bb + sign * (ab + ab.T)) / (4 * m)
        out.append((second - np.outer(mean, mean)) * m / (m - 1))
    return out[0], out[1]


def _cov(x: Array) -> Array:
    """Sample covariance of the columns of x (n, 2), entry by entry (``np.cov`` goes through BLAS threads)."""
    d = x - x.mean(axis=0)
    c = np.empty((2, 2))
    c[0, 0], c[1, 1] = (d[:, 0] * d[:, 0]).sum(), (d[:, 1] * d[:, 1]).sum()
    c[0, 1] = c[1, 0] = (d[:, 0] * d[:, 1]).sum()
    return c / (len(x) - 1)


def _corr(x: Array, y: Array, mask: Array) -> float:
    """Correlation of x and y over the samples in ``mask``, from weighted sums (no copies of the run)."""
    w = mask.astype(float)
    m = w.sum()
    mx, my = np.einsum("i,i->", w, x) / m, np.einsum("i,i->", w, y) / m
    xx, yy = np.einsum("i,i,i->", w, x, x) / m, np.einsum("i,i,i->", w, y, y) / m
    vx, vy = xx - mx * mx, yy - my * my
    if vx <= 1e-12 * xx or vy <= 1e-12 * yy:  # constant (to rounding): no correlation to speak of
        return 0.0
    return float((np.einsum("i,i,i->", w, x, y) / m - mx * my) / np.sqrt(vx * vy))
