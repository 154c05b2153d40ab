"""Cross-validation of constants chosen from data: each held-out group is scored with values picked elsewhere.

The selection logic is tested with trial results made up for the purpose (each data set has its own best value
of one constant), so that the right pick is known; the real analysis enters through ``evaluate``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait.recording.model import Recording
from gait.validation.crossval import Constant, analysis_config, cross_validate, fold_table
from gait.validation.datasets import Trial
from gait.validation.run import TrialResult

BEST = {"A": 0.0, "B": 2.0, "C": 2.0}  # each data set's own best value of the constant
SLOPE = {"A": 0.0, "B": 10.0, "C": -10.0}
STRIKE = {"A": "rearfoot", "B": "midfoot", "C": "forefoot"}
X = Constant("running.x", default=1.0, candidates=(0.0, 1.0, 2.0), metric="ic_median_abs_ms", why="a test")


def _trials() -> list[Trial]:
    rec = Recording.from_arrays(np.arange(100) / 100.0, np.tile([0.0, 9.81, 0.0], (100, 1)), None)
    steps = pd.DataFrame({"ic_s": [], "to_s": [], "side": []})
    return [
        Trial(ds, f"t{i}", rec, steps, slope_deg=SLOPE[ds], strike=STRIKE[ds]) for ds in ("A", "B", "C") for i in (1, 2)
    ]


def _evaluate(calls: list):
    def evaluate(overrides, trial: Trial) -> TrialResult:
        calls.append((tuple(sorted(overrides.items())), trial.dataset, trial.name))
        x = overrides.get("running.x", X.default)
        r = TrialResult(trial.dataset, trial.name, "as recorded", "as recorded", "run", trial.terrain, trial.strike)
        r.ic_err_ms = np.full(10, 1.0 + 10.0 * abs(x - BEST[trial.dataset]))
        r.ct_err_ms = np.zeros(10)
        r.cadence_err_spm = 0.0
        return r

    return evaluate


def test_each_group_is_scored_with_a_value_picked_on_the_others():
    calls: list = []
    evaluate = _evaluate(calls)
    trials = _trials()
    plain = {f"{t.dataset}/{t.name}": evaluate({}, t) for t in trials}
    cv = cross_validate(trials, plain, [X], evaluate)
    folds = {(f.kind, f.group): f for f in cv.folds}
    assert set(folds) == {("data set", g) for g in "ABC"} | {
        ("terrain", "level"),
        ("terrain", "uphill"),
        ("terrain", "downhill"),
        ("foot strike", "rearfoot"),
        ("foot strike", "midfoot"),
        ("foot strike", "forefoot"),
    }
    # A's own best (0) is never seen when A is held out: B and C both prefer 2, so A is scored at 2
    a = folds[("data set", "A")]
    assert a.picked == {"running.x": 2.0}
    assert [r.ic_err_ms[0] for r in a.held_out] == [21.0, 21.0] and [r.ic_err_ms[0] for r in a.plain] == [11.0, 11.0]
    # held out B, the rest (A best at 0, C best at 2) is tied at every value: the default stays
    assert folds[("data set", "B")].picked == {"running.x": 1.0}
    assert folds[("terrain", "level")].picked == {"running.x": 2.0}  # the same trials as data set A
    # every (overrides, trial) pair is analysed once, and with the defaults never again
    assert len(calls) == len(set(calls)) and all(over for over, _, _ in calls[6:])
    table = fold_table(cv)
    assert table.loc[table["held out"] == "data set: A", "IC median abs. err (ms)"].item() == (11.0, 21.0)


def test_with_nothing_registered_the_cross_validated_figures_are_the_plain_ones():
    calls: list = []
    evaluate = _evaluate(calls)
    trials = _trials()
    plain = {f"{t.dataset}/{t.name}": evaluate({}, t) for t in trials}
    n = len(calls)
    cv = cross_validate(trials, plain, [], evaluate)
    assert not cv.registered and len(calls) == n  # nothing re-analysed
    assert all(f.held_out == f.plain and f.picked == {} for f in cv.folds)
    assert analysis_config({}) is None


def test_a_constant_must_say_what_it_was_picked_on():
    with pytest.raises(ValueError, match="unknown metric"):
        Constant("running.x", 1.0, (1.0, 2.0), metric="looks good")
    with pytest.raises(ValueError, match="must be one of the candidates"):
        Constant("running.x", 3.0, (1.0, 2.0), metric="ic_median_abs_ms")
    with pytest.raises(ValueError, match=r"<stage>\.<parameter>"):
        Constant("x", 1.0, (1.0, 2.0), metric="ic_median_abs_ms")
