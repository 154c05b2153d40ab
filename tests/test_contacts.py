"""The running-contact estimator on hump trains with known contacts (analytic answers, no simulator).

Each train is built from a vertical-force shape with known initial contact (IC) and toe-off (TO); the
estimator must recover them within the stated tolerance, and the shapes a sacral sensor adds (heel-strike
spike, post-toe-off shoulder, clipped flight, skewed uphill hump) must not move them much.
"""

from __future__ import annotations

import numpy as np
import pytest

from gait.analysis.events import RunningContactParams, running_contacts
from gait.analysis.signal import lowpass
from tests.fixtures.stances import stance_force

FS = 500.0


def _train(
    contact_s: float = 0.22,
    step_s: float = 0.32,
    n: int = 30,
    height_g: float = 2.4,
    skew: float = 0.5,
    stretch: float = 1.09,
    spike_g: float = 0.0,
    shoulder_g: float = 0.0,
    flight_g: float = 0.0,
    fs: float = FS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertical specific force (g) of ``n`` stances and their true IC and TO (s).

    Each stance is shaped like a force plate's (tests/fixtures/stances.py): ``stretch`` says how much earlier
    than a half sine it unloads through 50-70 % of its peak; ``skew`` is the share of the compressed contact
    spent rising to the peak (0.5 = symmetric; < 0.5 = long push-off as uphill); ``spike_g`` a heel-strike
    spike 25 ms after IC; ``shoulder_g`` a post-toe-off shoulder (a decaying bump in flight, as the pelvis
    rotates); ``flight_g`` the flight level.
    """
    t = np.arange(int((n + 2) * step_s * fs)) / fs
    x = np.full(len(t), flight_g)
    ic = step_s * (1 + np.arange(n))
    to = ic + contact_s
    for a in ic:
        u = t - a
        x += stance_force(u, contact_s, height_g, stretch=stretch, skew=skew)
        x += spike_g * np.exp(-0.5 * ((u - 0.025) / 0.007) ** 2) * (u > 0)
        after = u - contact_s
        x += shoulder_g * np.where(after > 0, (after / 0.02) * np.exp(1 - after / 0.02), 0.0)
    return lowpass(x, fs, 40.0), ic, to


def _errors(x: np.ndarray, ic: np.ndarray, to: np.ndarray, fs: float = FS, **params: float):
    res = running_contacts(x, fs, params=RunningContactParams(**params))
    k = np.array([np.argmin(np.abs(res.ic_s - a)) for a in ic[1:-1]])
    return 1000 * (res.ic_s[k] - ic[1:-1]), 1000 * (res.to_s[k] - to[1:-1]), res


@pytest.mark.parametrize("contact_s,step_s", [(0.15, 0.26), (0.22, 0.32), (0.30, 0.38)])
def test_force_plate_like_stances_give_the_true_contacts(contact_s: float, step_s: float) -> None:
    x, ic, to = _train(contact_s, step_s)
    e_ic, e_to, res = _errors(x, ic, to)
    assert np.all(np.abs(e_ic) < 4.0), e_ic
    assert np.all(np.abs(e_to) < 8.0), e_to  # the shortest of three level widths: a few ms short on long contacts
    assert res.shape_ok.all()


def test_post_toe_off_shoulder_does_not_move_the_contacts() -> None:
    x, ic, to = _train(shoulder_g=0.9)
    e_ic, e_to, _ = _errors(x, ic, to)
    assert np.median(np.abs(e_ic)) < 4.0
    assert np.median(np.abs(e_to)) < 6.0


def test_heel_strike_spike_does_not_move_initial_contact() -> None:
    x, ic, to = _train(spike_g=2.0)
    e_ic, _, _ = _errors(x, ic, to)
    assert np.median(np.abs(e_ic)) < 8.0


def test_uphill_long_push_off_and_clipped_flight() -> None:
    """Uphill stances unload closer to a half sine (force plates: 1.03-1.06, not 1.09) with a longer push-off;
    a flight of -0.3 g clipped to zero hides the force's first and last 0.3 g, so IC reads a few ms late."""
    x, ic, to = _train(skew=0.45, stretch=1.04, flight_g=-0.3)
    x = np.clip(x, 0.0, None)  # flight clipped to zero by the data's maker
    e_ic, e_to, _ = _errors(x, ic, to)
    assert np.median(np.abs(e_ic)) < 10.0
    assert np.median(np.abs(e_to - e_ic)) < 15.0


def test_a_soft_landing_is_timed_where_the_force_starts() -> None:
    """A landing whose force starts with zero slope (a raised cosine over 90 ms, as a forefoot landing or a
    pelvis that lags the feet shows it) bends slowly off the flight level: IC is the knee of that bend, not
    where a line through the steep part meets the flight level (which lands ~14 ms late here)."""
    step_s, contact_s, rise_s = 0.33, 0.25, 0.09
    t = np.arange(int(32 * step_s * FS)) / FS
    x = np.zeros(len(t))
    ic = step_s * (1 + np.arange(30))
    for a in ic:
        u = t - a
        up = (u >= 0) & (u < rise_s)
        down = (u >= rise_s) & (u <= contact_s)
        x[up] += 2.2 * 0.5 * (1 - np.cos(np.pi * u[up] / rise_s))
        x[down] += 2.2 * np.cos(0.5 * np.pi * (u[down] - rise_s) / (contact_s - rise_s))
    e_ic, _, _ = _errors(lowpass(x, FS, 40.0), ic, ic + contact_s)
    assert np.median(np.abs(e_ic)) < 5.0, e_ic


def test_low_sample_rate() -> None:
    x, ic, to = _train(fs=52.0)
    e_ic, e_to, _ = _errors(x, ic, to, fs=52.0)
    assert np.median(np.abs(e_ic)) < 6.0
    assert np.median(np.abs(e_to)) < 8.0


def test_a_stance_unlike_its_neighbours_is_flagged_not_forced() -> None:
    x, ic, to = _train()
    k = 15
    t = np.arange(len(x)) / FS
    bump = (t > to[k] - 0.05) & (t < to[k] + 0.02)
    x = x.copy()
    x[bump] = np.maximum(x[bump], 2.0)  # a shoulder above every fall level: this stance's fall is read late
    _, _, res = _errors(x, ic, to)
    j = int(np.argmin(np.abs(res.ic_s - ic[k])))
    assert not res.shape_ok[j]
    assert res.shape_ok.sum() >= len(res.shape_ok) - 2


def test_no_periodic_hump_gives_no_contacts() -> None:
    rng = np.random.default_rng(1)
    x = 1.0 + 0.05 * rng.standard_normal(5000)
    res = running_contacts(x, FS)
    assert len(res.ic_s) == 0
