"""Cross-validation of the constants the analysis chose from data: a figure for a group of trials counts only if
no constant was tuned on that group.

A constant of the analysis that was picked by looking at data (a threshold, a template width, a prior) is
registered here with the values that were searched and the metric it was picked on. For each held-out group
(a data set, a terrain, a foot strike), ``cross_validate`` picks every registered constant on the other groups
only, re-analyses the held-out trials with the picked values (as overrides of the analysis configuration) and
scores them. With nothing registered the cross-validated figures are the plain ones, and the report says so.

A constant is named ``"<stage>.<parameter>"`` of the analysis configuration, e.g. ``"running.onset_fraction"``.
Constants are picked one at a time (the others at their defaults); ties keep the default.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gait.validation.datasets import Trial
from gait.validation.run import AS_RECORDED, TrialResult, compare, trial_ct_err_ms, trial_ic_abs_ms

Overrides = tuple[tuple[str, float], ...]  # sorted (name, value) pairs: hashable, so results can be cached


def _worst(values: list[float]) -> float:
    vals = [v for v in values if np.isfinite(v)]
    return max(vals) if vals else math.nan


def _running(rs: Iterable[TrialResult]) -> list[TrialResult]:
    return [r for r in rs if r.activity == "run"]


def ic_median_abs_ms(rs: list[TrialResult]) -> float:
    parts = [r.ic_err_ms for r in _running(rs) if len(r.ic_err_ms)]
    return float(np.median(np.abs(np.concatenate(parts)))) if parts else math.nan


def ic_worst_trial_ms(rs: list[TrialResult]) -> float:
    return _worst([trial_ic_abs_ms(r) for r in _running(rs)])


def ct_median_trials_ms(rs: list[TrialResult]) -> float:
    vals = [abs(trial_ct_err_ms(r)) for r in _running(rs)]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.median(vals)) if vals else math.nan


def ct_worst_trial_ms(rs: list[TrialResult]) -> float:
    return _worst([abs(trial_ct_err_ms(r)) for r in _running(rs)])


def cadence_worst_trial_spm(rs: list[TrialResult]) -> float:
    return _worst([abs(r.cadence_err_spm) for r in rs])


# what a constant can be picked on; lower is better
METRICS: dict[str, Callable[[list[TrialResult]], float]] = {
    "ic_median_abs_ms": ic_median_abs_ms,
    "ic_worst_trial_ms": ic_worst_trial_ms,
    "ct_median_trials_ms": ct_median_trials_ms,
    "ct_worst_trial_ms": ct_worst_trial_ms,
    "cadence_worst_trial_spm": cadence_worst_trial_spm,
}


@dataclass(frozen=True)
class Constant:
    """A constant of the analysis chosen from data: what was searched and what it was picked on."""

    name: str  # "<stage>.<parameter>" of the analysis configuration
    default: float
    candidates: tuple[float, ...]
    metric: str  # a key of METRICS
    why: str = ""  # what it does, in a few words

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"{self.name}: unknown metric {self.metric!r} (choose from {', '.join(METRICS)})")
        if "." not in self.name:
            raise ValueError(f"{self.name}: name a constant as <stage>.<parameter>")
        if self.default not in self.candidates:
            raise ValueError(f"{self.name}: the default {self.default} must be one of the candidates")


REGISTRY: list[Constant] = []


def register(constant: Constant) -> Constant:
    """Declare a constant of the analysis as chosen from data (done where the constant is defined)."""
    if any(c.name == constant.name for c in REGISTRY):
        raise ValueError(f"{constant.name} is registered twice")
    REGISTRY.append(constant)
    return constant


def analysis_config(overrides: Mapping[str, float]) -> object | None:
    """The analysis configuration with ``{"stage.parameter": value}`` overrides (None when there are none)."""
    if not overrides:
        return None
    import gait.analysis as analysis

    config_type = getattr(analysis, "AnalysisConfig", None)
    if config_type is None:
        raise RuntimeError("constants are registered, but gait.analysis has no AnalysisConfig to override them")
    by_stage: dict[str, dict[str, float]] = defaultdict(dict)
    for name, value in overrides.items():
        stage, param = name.split(".", 1)
        by_stage[stage][param] = value
    return config_type().replace(**by_stage)


# The constants of the running-contact stage that were chosen by looking at the lab data (gait.analysis.events).
# ``fall_stretch`` is the force plates' median (how much earlier than a half sine a real stance falls through
# 50-70 % of its peak), but single trials range from 1.02 to 1.14, so which value a data set prefers is data too.
register(
    Constant(
        "running.onset_fraction",
        0.20,
        (0.15, 0.20, 0.25, 0.30, 0.35),
        "ic_worst_trial_ms",
        "where the chord that finds the rise's knee (initial contact) ends",
    )
)
register(
    Constant(
        "running.fall_stretch",
        1.09,
        (1.03, 1.06, 1.09, 1.12, 1.15),
        "ct_worst_trial_ms",
        "how much earlier than a half sine a stance falls through 50-70 % of its peak",
    )
)
register(
    Constant(
        "running.edge_cutoff_hz",
        30.0,
        (20.0, 30.0),
        "ic_worst_trial_ms",
        "the low-pass under the edges that time each contact",
    )
)


# how the trials are held out: (kind, the group a trial belongs to; None = not in any group of this kind)
FOLDS: dict[str, Callable[[Trial], str | None]] = {
    "data set": lambda t: t.dataset,
    "terrain": lambda t: t.terrain if t.activity == "run" else None,
    "foot strike": lambda t: (t.strike or None) if t.activity == "run" else None,
}


@dataclass
class Fold:
    kind: str
    group: str
    trials: list[str]  # "dataset/name" of the held-out trials
    picked: dict[str, float]  # the constants picked on the other groups
    plain: list[TrialResult]  # the held-out trials with the default constants
    held_out: list[TrialResult]  # ... with the picked constants


@dataclass
class CrossValidation:
    constants: list[Constant]
    folds: list[Fold] = field(default_factory=list)

    @property
    def registered(self) -> bool:
        return bool(self.constants)


def _key(t: Trial) -> str:
    return f"{t.dataset}/{t.name}"


Evaluate = Callable[[Mapping[str, float], Trial], TrialResult]


def analyse_as_recorded(overrides: Mapping[str, float], trial: Trial) -> TrialResult:
    """The trial as recorded, analysed with some constants overridden."""
    return compare(trial, AS_RECORDED, seed=0, config=analysis_config(overrides))


def cross_validate(
    trials: list[Trial],
    plain: Mapping[str, TrialResult],
    constants: list[Constant] | None = None,
    evaluate: Evaluate = analyse_as_recorded,
) -> CrossValidation:
    """Hold out every group of every fold kind; pick each constant on the rest; score the held-out trials.

    ``plain`` holds every trial's as-recorded result with the default constants (keyed "dataset/name"), which
    is also the result wherever the picks equal the defaults. Every (overrides, trial) pair is evaluated once.
    """
    constants = list(REGISTRY if constants is None else constants)
    defaults = {c.name: c.default for c in constants}
    cache: dict[tuple[Overrides, str], TrialResult] = {((), k): r for k, r in plain.items()}
    by_key = {_key(t): t for t in trials}

    def result(overrides: Mapping[str, float], key: str) -> TrialResult:
        over = tuple(sorted((n, v) for n, v in overrides.items() if v != defaults[n]))
        if (over, key) not in cache:
            cache[(over, key)] = evaluate(dict(over), by_key[key])
        return cache[(over, key)]

    out = CrossValidation(constants)
    for kind, group_of in FOLDS.items():
        groups: dict[str, list[str]] = defaultdict(list)
        for t in trials:
            g = group_of(t)
            if g is not None:
                groups[g].append(_key(t))
        for group, held in sorted(groups.items()):
            rest = [k for k in by_key if k not in held]
            picked = {}
            for c in constants:
                picked[c.name] = _pick(c, lambda v, name=c.name, rest=rest: [result({name: v}, k) for k in rest])
            out.folds.append(
                Fold(kind, group, held, picked, [result({}, k) for k in held], [result(picked, k) for k in held])
            )
    return out


def _pick(c: Constant, training: Callable[[float], list[TrialResult]]) -> float:
    """The candidate with the best metric on the training trials (ties and failures keep the default)."""
    scores = [(METRICS[c.metric](training(v)), v) for v in c.candidates]
    finite = [(score, v) for score, v in scores if np.isfinite(score)]
    if not finite:
        return c.default
    return min(finite, key=lambda sv: (sv[0], sv[1] != c.default))[1]


FOLD_COLUMNS = {
    "IC median abs. err (ms)": ic_median_abs_ms,
    "IC worst trial (ms)": ic_worst_trial_ms,
    "CT median over trials (ms)": ct_median_trials_ms,
    "CT worst trial (ms)": ct_worst_trial_ms,
    "cadence worst trial (spm)": cadence_worst_trial_spm,
}


def fold_table(cv: CrossValidation) -> pd.DataFrame:
    """One row per held-out group: its figures with the default constants and cross-validated ("plain / CV")."""
    rows = []
    for f in cv.folds:
        row: dict[str, object] = {
            "held out": f"{f.kind}: {f.group}",
            "trials": len(f.trials),
            "refused": sum(bool(r.error) for r in f.plain),
        }
        for label, metric in FOLD_COLUMNS.items():
            row[label] = (metric(f.plain), metric(f.held_out))
        row["constants picked"] = ", ".join(f"{k} = {v:g}" for k, v in f.picked.items()) or "-"
        rows.append(row)
    return pd.DataFrame(rows)
