"""Long runs are analysed in overlapping windows (bounded memory); the result is the whole-run analysis's.

Stated tolerances (docs/method.md, "Long runs"): the same steps (at most one more or fewer per window seam),
cadence within 0.05 steps/min, and the run's medians within a hundredth of their reporting precision.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gait.analysis import AnalysisConfig, analyze
from gait.analysis.pipeline import windows_of
from gait.analysis.signal import decimate, uniform_spans
from gait.simulate import SimConfig
from tests.conftest import match_steps, simulated

WINDOWED = AnalysisConfig().replace(windows={"window_s": 120.0})  # the default margins
WHOLE = AnalysisConfig().replace(windows={"window_s": 1e9})
TOLERANCE = {  # metric: largest difference allowed between the windowed and the whole-run medians
    "contact_time_ms": 0.1,
    "flight_time_ms": 0.1,
    "vertical_oscillation_cm": 0.01,
    "impact_g": 0.001,
    "braking_dv_mps": 0.001,
    "pelvic_drop_deg": 0.01,
    "pelvic_obliquity_range_deg": 0.01,
}


@pytest.mark.parametrize(
    "cfg",
    [
        SimConfig(
            duration_s=480, seed=41, rate_hz=208, drop_drift_right_deg=2.0, dropout_fraction=0.02, dropout_mean_s=0.05
        ),
        SimConfig(duration_s=480, seed=42, rate_hz=104, gyro=False, mounting="random"),
    ],
    ids=["gyro, dropouts", "accelerometer only"],
)
def test_windowed_analysis_matches_the_whole_run(cfg: SimConfig):
    rec = simulated(cfg).recording
    spans = uniform_spans(rec.imu.t, cfg.rate_hz)
    factor = int(cfg.rate_hz // 50)
    seams = sum(len(windows_of(s.n // factor, cfg.rate_hz / factor, WINDOWED.windows)) - 1 for s in spans)
    assert seams >= 3  # the run really spans several windows
    whole, windowed = analyze(rec, WHOLE), analyze(rec, WINDOWED)
    a, b = whole.steps, windowed.steps
    assert abs(len(a) - len(b)) <= seams
    # the steps themselves: nearest IC within a millisecond, same side
    j, close = match_steps(b, a["ic_s"].to_numpy(), tol=0.001)
    assert close.mean() > 0.99
    assert (a["side"].to_numpy()[close] == b["side"].to_numpy()[j][close]).mean() > 0.99
    sa, sb = whole.summary, windowed.summary
    assert sa.cadence_spm is not None and sb.cadence_spm is not None
    assert abs(sa.cadence_spm - sb.cadence_spm) <= 0.05
    for metric, tol in TOLERANCE.items():
        if metric == "pelvic_drop_deg" or not cfg.gyro:
            continue
        assert abs(sa.medians[metric] - sb.medians[metric]) <= tol, metric
    if cfg.gyro:
        for side in ("left", "right"):
            da, db = getattr(sa.per_side["pelvic_drop_deg"], side), getattr(sb.per_side["pelvic_drop_deg"], side)
            assert abs(da - db) <= TOLERANCE["pelvic_drop_deg"]
        assert abs(sa.drift["pelvic_drop_deg"].right_change - sb.drift["pelvic_drop_deg"].right_change) <= 0.01
    assert whole.quality.lever_arm_m == windowed.quality.lever_arm_m
    assert whole.quality.mounting == windowed.quality.mounting


def test_windows_cover_the_stretch_once_with_margins():
    wins = windows_of(20_000, 50.0, WINDOWED.windows)  # 400 s in windows of about 120 s: three
    assert len(wins) == 3 and wins[0].core_start == 0 and wins[-1].core_stop == 20_000
    assert all(a.core_stop == b.core_start for a, b in itertools.pairwise(wins))
    assert all(w.start == max(0, w.core_start - 750) and w.stop == min(20_000, w.core_stop + 750) for w in wins)
    assert len(windows_of(8_000, 50.0, WINDOWED.windows)) == 1  # up to 1.5 windows: one


def test_decimating_in_chunks_equals_decimating_at_once():
    rec = simulated(SimConfig(duration_s=200, seed=43, rate_hz=208, dropout_fraction=0.03)).recording
    imu = rec.imu
    span = uniform_spans(imu.t, 208.0)[0]
    assert not span.uniform  # bridged gaps: the resampled path
    once = decimate(imu.t, imu.acc, imu.gyr, span, 4, chunk_s=1e9)
    chunked = decimate(imu.t, imu.acc, imu.gyr, span, 4, chunk_s=30.0)
    assert np.abs(chunked.acc - once.acc).max() < 1e-9 and np.abs(chunked.gyr - once.gyr).max() < 1e-9
    assert (chunked.filled == once.filled).all() and (chunked.acc_peak == once.acc_peak).all()


@pytest.mark.parametrize("shape, axis", [((5000,), 0), ((5000, 3), 0), ((3, 5000), 1), ((30,), 0)])
def test_gaits_filters_are_scipys_zero_phase_filters(shape: tuple[int, ...], axis: int):
    """The filters keep their designs and initial conditions between calls (for speed): the output must be
    scipy's ``sosfiltfilt`` (odd padding), for any axis, down to the shortest input it filters."""
    from scipy import signal as sps

    from gait.analysis.signal import highpass, lowpass

    x = np.random.default_rng(7).normal(size=shape)
    low = sps.sosfiltfilt(sps.butter(4, 10.0, fs=100.0, output="sos"), x, axis=axis)
    high = sps.sosfiltfilt(sps.butter(2, 0.5, "highpass", fs=100.0, output="sos"), x, axis=axis)
    assert np.allclose(lowpass(x, 100.0, 10.0, axis=axis), low, rtol=0, atol=1e-12)
    assert np.allclose(highpass(x, 100.0, 0.5, axis=axis), high, rtol=0, atol=1e-12)


def test_step_windows_pad_with_the_end_values_and_say_so():
    from gait.analysis.signal import windows

    x = np.arange(10.0)
    w, valid = windows(x, np.array([-2, 3, 8]), 4)
    assert w.tolist() == [[0, 0, 0, 1], [3, 4, 5, 6], [8, 9, 9, 9]]
    assert valid.tolist() == [[False, False, True, True], [True] * 4, [True, True, False, False]]
    w[0, 0] = -1.0  # a copy: the signal is never written through a window
    assert x[0] == 0.0
