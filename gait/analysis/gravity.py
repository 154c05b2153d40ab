"""Linear-acceleration recordings (gravity removed by the phone): find the vertical, add 1 g back, say what is lost.

Phone apps can log *linear* acceleration, the phone's specific force minus its own gravity estimate (phyphox
"Acceleration without g", Sensor Logger's Accelerometer.csv without Gravity). gait's pipeline needs gravity: it
defines up and is the reference of every angle. Without it:

* **The vertical** is the axis the body bounces along: the principal axis of the step-band acceleration (at the
  pelvis the vertical swings of 1-2 g in running dominate the forward and sideways ones).
* **Its sign** comes from the asymmetry between stance and flight: in flight the body falls freely, so the
  acceleration is gravity's alone (-1 g along up, nothing sideways or forwards), while the stance hump carries
  the braking, propulsion and side-to-side pushes. The quiet extreme is the low one.
* **Refined on flight**: the mean acceleration over the flight samples points straight down, which is closer
  to the vertical than the principal axis (tilted a few degrees by the braking that comes with each landing).
* **1 g is added** along that fixed axis and the ordinary pipeline runs on the result.

The phone turned with the pelvis (a few degrees of tilt and obliquity every step) while the gravity added back
does not, and the phone's own gravity estimate is gone, so whatever needs the direction of gravity at each
instant is withheld: pelvic angles, braking (forward acceleration), vertical oscillation (double integration)
and impact. Step timing needs only the vertical hump and is kept: cadence, contact and flight time, and their
left/right values (step time asymmetry).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gait.analysis.align import step_period
from gait.analysis.result import RunAnalysis
from gait.analysis.signal import decimate_for, highpass, lowpass, nominal_rate
from gait.analysis.summary import SUMMARY_METRICS, SideValues
from gait.constants import G0
from gait.errors import AnalysisError
from gait.recording.model import ImuData, Recording

Array = np.ndarray

#: what a linear-acceleration recording still measures (cadence is always kept)
KEPT = frozenset({"contact_time_ms", "flight_time_ms"})
KEPT_DRIFT = frozenset({"cadence_spm", "contact_time_ms"})
MIN_BOUNCE_G = 0.08  # step-band vertical swing (std) below which there is no gait to read
MIN_ASYMMETRY = 0.15  # a weaker quiet/busy contrast between the extremes cannot tell up from down
EXTREME_FRACTION = 0.15  # the lowest and highest 15 % of the samples are compared
FLIGHT_G = -0.7  # below this vertical linear acceleration (g) the body is taken to be in flight
MIN_FLIGHT_FRACTION = 0.05
REASON = "gravity was removed by the phone (linear acceleration): {what} needs the direction of gravity measured"
FLAG = "linear_acceleration"


@dataclass(frozen=True)
class Vertical:
    """The vertical found in a linear acceleration: unit vector in sensor axes and how clearly it showed."""

    up: Array
    share: float  # fraction of the step-band variance along ``up`` (0.33 = no preferred axis, 1 = all of it)
    asymmetry: float  # how much quieter sideways the low extreme is than the high one along ``up`` (0..1)
    flight_fraction: float  # share of the samples in flight (the vertical refined on them when > 5 %)


def is_linear(recording: Recording) -> bool:
    """True for a recording whose IMU stream says gravity was removed (``StreamInfo.gravity_removed``)."""
    return any(s.name == "imu" and s.gravity_removed for s in recording.meta.streams)


def estimate_vertical(acc: Array, fs: float, where: str) -> Vertical:
    """The vertical of a linear acceleration (n, 3) sampled at about ``fs``; AnalysisError when there is no
    step rhythm to read it from (then nothing is measurable)."""
    acc = acc[np.isfinite(acc).all(axis=1)]
    x, fs = decimate_for(acc, fs, 50.0)
    if len(x) < int(4 * fs):
        raise AnalysisError(f"{where}: only {len(x) / fs:.1f} s of linear acceleration; too short to find the vertical")
    band = lowpass(highpass(x, fs, 0.5), fs, 10.0)  # the step band: drift and vibration removed
    w, v = np.linalg.eigh(np.cov(band.T))
    up = v[:, -1]
    p = band @ up
    sd = float(np.std(p))
    nothing = (
        f"{where}: gravity was removed by the phone and no running or walking rhythm shows in the acceleration, so "
        "the vertical cannot be found and nothing is measurable (record with gravity: phyphox 'Acceleration with g', "
        "Sensor Logger with Gravity on)"
    )
    if sd < MIN_BOUNCE_G * G0 or not np.isfinite(step_period(p, fs)):
        raise AnalysisError(nothing)
    # horizontal activity at the two extremes of the vertical: flight (free fall) is the quiet one
    horizontal = np.linalg.norm(band - np.outer(p, up), axis=1)
    order = np.argsort(p)
    k = max(1, int(EXTREME_FRACTION * len(p)))
    low, high = float(np.median(horizontal[order[:k]])), float(np.median(horizontal[order[-k:]]))
    asymmetry = (high - low) / (high + low) if high + low > 0 else 0.0
    if abs(asymmetry) < MIN_ASYMMETRY:
        raise AnalysisError(nothing.replace("no running or walking rhythm shows", "up cannot be told from down"))
    if asymmetry < 0:
        up, asymmetry, p = -up, -asymmetry, -p
    share = float(w[-1] / w.sum())
    flight = p < FLIGHT_G * G0
    if flight.mean() > MIN_FLIGHT_FRACTION:  # free fall: the linear acceleration is -1 g along up
        down = lowpass(x, fs, 10.0)[flight].mean(axis=0)
        up = -down / np.linalg.norm(down)
    return Vertical(up=up, share=share, asymmetry=asymmetry, flight_fraction=float(flight.mean()))


def restore(recording: Recording, vertical: Vertical) -> Recording:
    """The recording with 1 g added along the vertical (specific force, as the pipeline expects)."""
    imu = recording.imu
    streams = tuple(
        dataclasses.replace(s, gravity_removed=False) if s.name == "imu" else s for s in recording.meta.streams
    )
    return dataclasses.replace(
        recording,
        meta=recording.meta.replace(streams=streams),
        imu=ImuData(t=imu.t, acc=imu.acc + G0 * vertical.up, gyr=imu.gyr),
    )


def analyze_linear(recording: Recording, analyze: Callable[[Recording], RunAnalysis]) -> RunAnalysis:
    """``analyze`` on a linear-acceleration recording: vertical estimated, 1 g added, orientation-dependent
    metrics withheld with the reason (``quality.unavailable``) and the ``linear_acceleration`` flag."""
    imu = recording.imu
    where = str(recording.path) if recording.path is not None else recording.name
    if imu.n < 10:
        raise AnalysisError(f"{where}: only {imu.n} samples; too short to analyse")
    vertical = estimate_vertical(imu.acc, nominal_rate(imu.t), where)
    return restrict(analyze(restore(recording, vertical)), recording, vertical)


def restrict(result: RunAnalysis, recording: Recording, vertical: Vertical) -> RunAnalysis:
    """Withhold what needs gravity measured; keep step timing (overall and per side)."""
    s, q = result.summary, result.quality
    labels = {
        "pelvic_drop_deg": "pelvic drop", "pelvic_obliquity_range_deg": "pelvic obliquity",
        "pelvic_tilt_range_deg": "pelvic tilt", "pelvic_rotation_range_deg": "pelvic rotation",
        "braking_peak_g": "braking", "braking_dv_mps": "braking", "braking_duration_ms": "braking",
        "step_speed_loss_mps": "step speed loss (braking)", "step_speed_loss_pct": "step speed loss (braking)",
        "vertical_oscillation_cm": "vertical oscillation (double integration of the vertical acceleration)",
        "impact_g": "impact (the peak of the total acceleration)",
    }  # fmt: skip
    dropped = [m for m in SUMMARY_METRICS if m not in KEPT]
    unavailable = dict(q.unavailable)
    for m in dropped:
        unavailable.setdefault(m, REASON.format(what=labels.get(m, m)))
    summary = dataclasses.replace(
        s,
        medians={m: (v if m in KEPT else None) for m, v in s.medians.items()},
        per_side={m: (v if m in KEPT else SideValues(None, None)) for m, v in s.per_side.items()},
        drift={m: d for m, d in s.drift.items() if m in KEPT_DRIFT},
    )
    steps = result.steps.copy()
    for m in dropped:
        if m in steps:
            steps[m] = np.nan
    quality = dataclasses.replace(
        q,
        flags=(*q.flags, FLAG),
        messages=(
            *q.messages,
            f"Linear acceleration (gravity removed by the phone): the vertical was estimated from the step rhythm "
            f"({100 * vertical.share:.0f} % of the step-band motion along it); cadence, contact and flight time "
            "and their left/right values are reported, pelvic angles, braking, vertical oscillation and impact "
            "need gravity measured (record 'Acceleration with g' in phyphox, or Gravity in Sensor Logger).",
        ),
        unavailable=unavailable,
    )
    return dataclasses.replace(result, recording=recording, summary=summary, steps=steps, quality=quality)
