"""``gait validate``: accuracy against the lab references in ../shared/data and the simulator, under many
mountings, rates, noise, data loss and real-sensor artefacts, with the published state of the art beside the
figures, per data set, terrain and foot strike, plain and cross-validated (gait/validation/crossval.py).

Every target is checked in every condition; a miss makes ``gait validate`` exit non-zero, except a documented
shortfall that has not got worse than its guard.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.signal import resample_poly
from scipy.spatial.transform import Rotation

from gait.analysis import AnalysisConfig, RunAnalysis, analyze
from gait.analysis.summary import MIN_SIDE_CONFIDENCE, cadence_from_steps
from gait.recording.model import Recording
from gait.validation.artefacts import real_sensor
from gait.validation.datasets import DATASETS, Trial

if TYPE_CHECKING:
    from gait.validation.crossval import CrossValidation

RUN_MATCH_S = 0.10  # a detected step belongs to a reference contact within this distance
LONG_TRIAL_STEPS = 30  # trials long enough for a per-trial cadence to be resolved to 0.5 spm
WALK_MATCH_S = 0.25


# --------------------------------------------------------------------------------------------------------- #
# conditions: what the input is put through before analysis


@dataclass(frozen=True)
class Condition:
    name: str
    group: str
    transform: Callable[[Recording, int], Recording]
    datasets: tuple[str, ...] = ()  # the data sets it applies to (empty: all)
    for_trial: Callable[[Trial, int], Recording] | None = None  # a transform that needs the trial's references

    def applies(self, trial: Trial) -> bool:
        return not self.datasets or trial.dataset in self.datasets

    def apply(self, trial: Trial, seed: int) -> Recording:
        if self.for_trial is not None:
            return self.for_trial(trial, seed)
        return self.transform(trial.recording, seed)


AS_RECORDED = Condition("as recorded", "as recorded", lambda rec, seed: rec)


def _rotate(r: np.ndarray) -> Callable[[Recording, int], Recording]:
    def f(rec: Recording, seed: int) -> Recording:
        gyr = None if rec.imu.gyr is None else rec.imu.gyr @ r.T
        return Recording.from_arrays(rec.imu.t, rec.imu.acc @ r.T, gyr, meta=rec.meta)

    return f


def _resample(rate: float) -> Callable[[Recording, int], Recording]:
    def f(rec: Recording, seed: int) -> Recording:
        fs = rec.imu.rate_hz
        up, down = _ratio(rate, fs)
        acc = resample_poly(rec.imu.acc, up, down, axis=0)
        gyr = None if rec.imu.gyr is None else resample_poly(rec.imu.gyr, up, down, axis=0)
        t = rec.imu.t[0] + np.arange(len(acc)) / (fs * up / down)
        return Recording.from_arrays(t, acc, gyr, meta=rec.meta)

    return f


def _ratio(target: float, fs: float) -> tuple[int, int]:
    from fractions import Fraction

    fr = Fraction(target / fs).limit_denominator(200)
    return fr.numerator, fr.denominator


def _noisy(rec: Recording, seed: int) -> Recording:
    """Consumer-IMU noise: white noise, constant biases and a slowly wandering gyro bias."""
    rng = np.random.default_rng(seed)
    n = rec.imu.n
    acc = rec.imu.acc + rng.normal(0, 0.1, (n, 3)) + rng.normal(0, 0.1, 3)
    gyr = None
    if rec.imu.gyr is not None:
        walk = np.cumsum(rng.normal(0, 2e-4, (n, 3)), axis=0)
        gyr = rec.imu.gyr + rng.normal(0, 0.015, (n, 3)) + rng.normal(0, 0.02, 3) + walk
    return Recording.from_arrays(rec.imu.t, acc, gyr, meta=rec.meta)


def _dropouts(rec: Recording, seed: int) -> Recording:
    """5 % of the samples lost in bursts (mean 0.15 s), as a flaky radio link does."""
    rng = np.random.default_rng(seed)
    n = rec.imu.n
    fs = rec.imu.rate_hz
    keep = np.ones(n, bool)
    while (~keep).mean() < 0.05:
        length = max(1, int(rng.exponential(0.15) * fs))
        start = int(rng.integers(0, max(1, n - length)))
        keep[start : start + length] = False
    gyr = None if rec.imu.gyr is None else rec.imu.gyr[keep]
    return Recording.from_arrays(rec.imu.t[keep], rec.imu.acc[keep], gyr, meta=rec.meta)


def axis_mountings() -> list[np.ndarray]:
    """The 24 proper rotations that map axes onto axes."""
    out = []
    for perm in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        for signs in np.ndindex(2, 2, 2):
            m = np.zeros((3, 3))
            for row, (col, sg) in enumerate(zip(perm, signs, strict=True)):
                m[row, col] = -1.0 if sg else 1.0
            if np.isclose(np.linalg.det(m), 1.0):
                out.append(m)
    return out


def conditions(quick: bool = False) -> list[Condition]:
    conds = [AS_RECORDED]
    mounts = axis_mountings()
    if quick:
        mounts = mounts[::6]
    for k, m in enumerate(mounts):
        conds.append(Condition(f"axis mounting {k + 1}", "24 axis-aligned mountings", _rotate(m)))
    for k in range(2 if quick else 5):
        conds.append(
            Condition(
                f"random tilt {k + 1}", "random tilts", _rotate(Rotation.random(random_state=100 + k).as_matrix())
            )
        )
    for rate in (100.0, 104.0, 208.0):
        conds.append(Condition(f"resampled {rate:g} Hz", "resampled 100/104/208 Hz", _resample(rate)))
    conds.append(Condition("noise", "realistic noise", _noisy))
    conds.append(Condition("5% dropouts", "5 % missing in bursts", _dropouts))
    conds.append(
        Condition(
            "real-sensor artefacts",
            REAL_SENSOR,
            lambda rec, seed: rec,
            datasets=("rbds_running",),
            for_trial=real_sensor,
        )
    )
    return conds


REAL_SENSOR = "real-sensor artefacts (RBDS)"  # clip tilt, wobble, impacts, datasheet noise (artefacts.py)


# --------------------------------------------------------------------------------------------------------- #
# per-trial comparison


@dataclass
class TrialResult:
    dataset: str
    trial: str
    condition: str
    group: str
    activity: str = "run"
    terrain: str = "level"
    strike: str = ""
    ic_err_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    to_err_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ct_err_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    side_ok: dict[str, np.ndarray] = field(default_factory=dict)  # per reference system, confident labels only
    side_labelled: dict[str, float] = field(default_factory=dict)  # share of matched steps labelled confidently
    cadence_err_spm: float = math.nan
    drop_step_err_deg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    drop_side_err_deg: dict[str, float] = field(default_factory=dict)
    braking_est: np.ndarray = field(default_factory=lambda: np.zeros(0))
    braking_ref: np.ndarray = field(default_factory=lambda: np.zeros(0))
    found: float = math.nan  # fraction of reference contacts with a detected step
    n_ref: int = 0  # reference contacts in the trial
    extra: int = 0  # detected running steps with no reference contact
    braking_reported: bool | None = None  # running with a gyroscope: was braking reported? (None: not expected)
    error: str = ""


def _match(est_ic: np.ndarray, ref_ic: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    if len(est_ic) == 0:
        return np.zeros(len(ref_ic), int), np.zeros(len(ref_ic), bool)
    pos = np.clip(np.searchsorted(est_ic, ref_ic), 1, max(1, len(est_ic) - 1))
    left, right = np.clip(pos - 1, 0, len(est_ic) - 1), np.clip(pos, 0, len(est_ic) - 1)
    best = np.where(np.abs(est_ic[left] - ref_ic) <= np.abs(est_ic[right] - ref_ic), left, right)
    return best, np.abs(est_ic[best] - ref_ic) < tol


def reference_cadence(ic: np.ndarray) -> float:
    """The same least-squares step period gait uses, on reference contacts of one continuous bout."""
    frame = pd.DataFrame({"ic_s": ic, "to_s": np.nan, "step_time_s": 1.0, "low_confidence": False, "bout": 0})
    value = cadence_from_steps(frame)
    return math.nan if value is None else value


def _sides(out: TrialResult, system: str, est: pd.DataFrame, ref_side: np.ndarray) -> None:
    """Correctness of the labels gait is confident about (what it reports per side), and how many those are."""
    confident = est["side_confidence"].to_numpy() >= MIN_SIDE_CONFIDENCE
    out.side_ok[system] = (est["side"].to_numpy() == ref_side)[confident]
    out.side_labelled[system] = float(confident.mean()) if len(confident) else math.nan


def _analyze(rec: Recording, config: AnalysisConfig | None) -> RunAnalysis:
    """The analysis with the validated settings, or with ``config`` (some constants overridden, see crossval.py)."""
    return analyze(rec, config or AnalysisConfig())


def compare(trial: Trial, cond: Condition, seed: int, config: AnalysisConfig | None = None) -> TrialResult:
    out = TrialResult(trial.dataset, trial.name, cond.name, cond.group, trial.activity, trial.terrain, trial.strike)
    rec = cond.apply(trial, seed)
    try:
        res = _analyze(rec, config)
    except Exception as exc:  # a failure here is a validation result, not a crash of the validation
        out.error = f"{type(exc).__name__}: {exc}"
        return out
    if trial.activity == "run" and rec.imu.gyr is not None:
        out.braking_reported = res.summary.medians.get("braking_dv_mps") is not None
    if trial.dataset == "mobgap_lowback_walking":
        _compare_walking(out, trial, res.steps)
    else:
        _compare_running(out, trial, res.steps, res.summary.cadence_spm, (rec.imu.t[0] + 0.3, rec.imu.t[-1] - 0.3))
    return out


def _compare_walking(out: TrialResult, trial: Trial, steps: pd.DataFrame) -> None:
    """Walking bouts (Mobilise-D): side labels against each reference system, cadence per bout."""
    walk = steps[steps["activity"] == "walk"]
    for system, ref in trial.steps.groupby("system"):
        ref = ref.dropna(subset=["ic_s"])
        idx, ok = _match(walk["ic_s"].to_numpy(), ref["ic_s"].to_numpy(), WALK_MATCH_S)
        _sides(out, str(system), walk.iloc[idx[ok]], ref["side"].to_numpy()[ok])
    est_cad, ref_cad, weights = [], [], []
    for _, bout in trial.bouts.iterrows():
        inside = walk[(walk["ic_s"] >= bout["start_s"] - 0.3) & (walk["ic_s"] <= bout["end_s"] + 0.3)]
        cad = cadence_from_steps(inside)  # gait's own estimate, robust to a step lost in a gap
        if cad is not None:
            est_cad.append(cad)
            ref_cad.append(float(bout["cadence_spm"]))  # Mobilise-D: mean stride cadence of the bout
            weights.append(float(bout["n_ic"]))
    if est_cad:
        out.cadence_err_spm = float(np.average(est_cad, weights=weights) - np.average(ref_cad, weights=weights))


def _compare_running(
    out: TrialResult, trial: Trial, steps: pd.DataFrame, est_cad: float | None, span_s: tuple[float, float]
) -> None:
    """Running contacts against force-plate or treadmill events; cadence, sides, pelvic drop and braking."""
    run = steps[steps["activity"] == "run"]
    ref = trial.steps[(trial.steps["ic_s"] > span_s[0]) & (trial.steps["to_s"] < span_s[1])]
    idx, ok = _match(run["ic_s"].to_numpy(), ref["ic_s"].to_numpy(), RUN_MATCH_S)
    out.n_ref = len(ref)
    out.found = float(ok.mean()) if len(ok) else math.nan
    out.extra = int(len(run) - len(np.unique(idx[ok])))
    est = run.iloc[idx[ok]]
    r = ref[ok]
    out.ic_err_ms = 1000 * (est["ic_s"].to_numpy() - r["ic_s"].to_numpy())
    out.to_err_ms = 1000 * (est["to_s"].to_numpy() - r["to_s"].to_numpy())
    out.ct_err_ms = est["contact_time_ms"].to_numpy() - 1000 * (r["to_s"].to_numpy() - r["ic_s"].to_numpy())
    # cadence over the span both cover, with the same estimator on both sides
    span = (ref["ic_s"] >= run["ic_s"].min() - 0.05) & (ref["ic_s"] <= run["ic_s"].max() + 0.05)
    out.cadence_err_spm = (est_cad - reference_cadence(ref.loc[span, "ic_s"].to_numpy())) if est_cad else math.nan
    if (ref["side"] != "").any():
        _sides(out, "force plate", est, r["side"].to_numpy())
    if "contralateral_drop_deg" in ref:
        _drop_errors(out, est, r)
    if "braking_dv_mps" in ref:
        ok_b = np.isfinite(est["braking_dv_mps"].to_numpy())
        out.braking_est = est["braking_dv_mps"].to_numpy()[ok_b]
        out.braking_ref = r["braking_dv_mps"].to_numpy()[ok_b]


def _drop_errors(out: TrialResult, est: pd.DataFrame, r: pd.DataFrame) -> None:
    """Pelvic drop per matched step, and per side (mean over the steps both call that side)."""
    d = est["pelvic_drop_deg"].to_numpy() - r["contralateral_drop_deg"].to_numpy()
    out.drop_step_err_deg = d[np.isfinite(d)]
    for side in ("L", "R"):
        sel = (r["side"].to_numpy() == side) & (est["side"].to_numpy() == side)
        if sel.any():
            out.drop_side_err_deg[side] = float(
                np.nanmean(est["pelvic_drop_deg"].to_numpy()[sel])
                - np.mean(r["contralateral_drop_deg"].to_numpy()[sel])
            )


# --------------------------------------------------------------------------------------------------------- #
# statistics, targets, report


def stats(err: np.ndarray) -> dict[str, float]:
    err = np.asarray(err, float)
    err = err[np.isfinite(err)]
    if len(err) == 0:
        return {
            "n": 0,
            "bias": math.nan,
            "mae": math.nan,
            "rmse": math.nan,
            "median_abs": math.nan,
            "loa_low": math.nan,
            "loa_high": math.nan,
        }
    sd = float(np.std(err, ddof=1)) if len(err) > 1 else 0.0
    return {
        "n": len(err),
        "bias": float(err.mean()),
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "median_abs": float(np.median(np.abs(err))),
        "loa_low": float(err.mean() - 1.96 * sd),
        "loa_high": float(err.mean() + 1.96 * sd),
    }


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    limit: float
    unit: str
    higher_is_better: bool
    measure: Callable[[list[TrialResult]], float]
    literature: str
    scope: str
    shortfall: str = ""  # a known, explained miss: reported as MISS, enforced only at ``guard``
    guard: float = math.nan

    def passed(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value >= self.limit if self.higher_is_better else value <= self.limit

    def acceptable(self, value: float) -> bool:
        """Passed, or a documented shortfall that has not got worse than its guard."""
        if self.passed(value):
            return True
        if not self.shortfall or math.isnan(value):
            return False
        return value >= self.guard if self.higher_is_better else value <= self.guard


def _cat(results: list[TrialResult], attr: str, datasets: tuple[str, ...]) -> np.ndarray:
    parts = [getattr(r, attr) for r in results if r.dataset in datasets]
    return np.concatenate(parts) if parts else np.zeros(0)


FORCE_PLATE = ("rbds_running", "alcantara_sacral_acc_grf")  # the level running data sets (pooled targets)
RUNNING = (*FORCE_PLATE, "alcantara_slopes")  # every running trial, level and sloped (per-trial targets)


def _side_pct(results: list[TrialResult], dataset: str, system: str | None = None) -> float:
    oks = [v for r in results if r.dataset == dataset for k, v in r.side_ok.items() if system in (None, k)]
    vals = np.concatenate(oks) if oks else np.zeros(0)
    return 100.0 * float(vals.mean()) if len(vals) else math.nan


def _worst_cadence(
    results: list[TrialResult], datasets: tuple[str, ...], keep: Callable[[TrialResult], bool] = lambda r: True
) -> float:
    vals = [
        abs(r.cadence_err_spm) for r in results if r.dataset in datasets and np.isfinite(r.cadence_err_spm) and keep(r)
    ]
    return max(vals) if vals else math.nan


def _long(r: TrialResult) -> bool:
    return r.n_ref >= LONG_TRIAL_STEPS


def _straight(r: TrialResult) -> bool:
    return "Test5" in r.trial  # Mobilise-D Test5: straight walking; Test11: simulated daily living


def trial_ic_abs_ms(r: TrialResult) -> float:
    """A trial's initial-contact error: the median over its steps of |estimate - force plate|."""
    return float(np.median(np.abs(r.ic_err_ms))) if len(r.ic_err_ms) else math.nan


def trial_ct_err_ms(r: TrialResult) -> float:
    """A trial's contact-time error: the median over its steps of (estimate - force plate), signed."""
    return float(np.median(r.ct_err_ms)) if len(r.ct_err_ms) else math.nan


def _per_trial(results: list[TrialResult], f: Callable[[TrialResult], float]) -> list[float]:
    """``f`` of every analysed running trial with force-plate contacts (a refused trial has no figure)."""
    vals = [f(r) for r in results if r.dataset in RUNNING and not r.error]
    return [v for v in vals if np.isfinite(v)]


def _ic_worst_trial(results: list[TrialResult]) -> float:
    vals = _per_trial(results, trial_ic_abs_ms)
    return max(vals) if vals else math.nan


def _ct_trials(results: list[TrialResult], worst: bool) -> float:
    vals = [abs(v) for v in _per_trial(results, trial_ct_err_ms)]
    if not vals:
        return math.nan
    return max(vals) if worst else float(np.median(vals))


def _refused(results: list[TrialResult]) -> float:
    """Real trials the analysis refused (in any condition of the group)."""
    return float(len({(r.dataset, r.trial) for r in results if r.error}))


def _braking_reported_pct(results: list[TrialResult]) -> float:
    vals = [r.braking_reported for r in results if r.braking_reported is not None]
    return 100.0 * float(np.mean(vals)) if vals else math.nan


def _drop_side_mae(results: list[TrialResult]) -> float:
    vals = [abs(v) for r in results if r.dataset == "rbds_running" for v in r.drop_side_err_deg.values()]
    return float(np.mean(vals)) if vals else math.nan


TARGETS = [
    Target(
        "ic",
        "initial contact, median abs. error",
        15.0,
        "ms",
        False,
        lambda rs: stats(_cat(rs, "ic_err_ms", FORCE_PLATE))["median_abs"],
        "Reenalda (best sacral IC): bias +29 ms, LoA -83..+141 ms (Kiernan 2023, 74 runners)",
        "per step, force-plate running data pooled",
    ),
    Target(
        "to",
        "toe-off, median abs. error",
        20.0,
        "ms",
        False,
        lambda rs: stats(_cat(rs, "to_err_ms", FORCE_PLATE))["median_abs"],
        "Auvinet (best sacral TC): bias -2.8 ms, LoA -153..+147 ms (Kiernan 2023)",
        "per step, force-plate running data pooled",
    ),
    Target(
        "ct",
        "contact time, MAE",
        15.0,
        "ms",
        False,
        lambda rs: stats(_cat(rs, "ct_err_ms", FORCE_PLATE))["mae"],
        "RMSE 20 ms, bias 13 ms (Patoz 2022, 100 runners, 208 Hz)",
        "per step, force-plate running data pooled",
    ),
    Target(
        "side_run",
        "left/right correct, running",
        98.0,
        "%",
        True,
        lambda rs: _side_pct(rs, "rbds_running"),
        "81.9 % (Lee method, best of the sacral methods; Kiernan 2023)",
        "per step, RBDS",
    ),
    Target(
        "side_walk_stereo",
        "left/right correct, walking (motion capture)",
        95.0,
        "%",
        True,
        lambda rs: _side_pct(rs, "mobgap_lowback_walking", "Stereophoto"),
        "-",
        "per step, Mobilise-D",
    ),
    Target(
        "side_walk_indip",
        "left/right correct, walking (INDIP)",
        95.0,
        "%",
        True,
        lambda rs: _side_pct(rs, "mobgap_lowback_walking", "INDIP"),
        "-",
        "per step, Mobilise-D",
    ),
    Target(
        "cad_run",
        "cadence, running, worst trial abs. error",
        0.5,
        "spm",
        False,
        lambda rs: _worst_cadence(rs, FORCE_PLATE, _long),
        "IMU step frequency ICC 0.926 (meta-analysis)",
        f"per trial of >= {LONG_TRIAL_STEPS} contacts",
    ),
    Target(
        "cad_run_short",
        "cadence, running, worst 5-s trial abs. error",
        0.5,
        "spm",
        False,
        lambda rs: _worst_cadence(rs, FORCE_PLATE, lambda r: not _long(r)),
        "as above",
        "per trial of 13-17 contacts (Alcantara)",
        shortfall="5-s trials: step-timing noise of +-10-15 ms on 13-17 contacts alone moves a trial's cadence "
        "by about +-0.5-1 spm; the same method stays within 0.15 spm on the 30-s trials in every condition",
        guard=2.0,
    ),
    Target(
        "cad_walk",
        "cadence, straight walking, worst trial abs. error",
        1.5,
        "spm",
        False,
        lambda rs: _worst_cadence(rs, ("mobgap_lowback_walking",), _straight),
        "mobgap's own pipeline: ~2.2 spm MAE",
        "per trial, within the reference walking bouts (Test5)",
        shortfall="only with 5 % of the samples lost in bursts: a 5-s, 9-step straight-walking bout can lose a "
        "fifth of its steps to one burst, and the 4-5 steps left cannot pin the cadence to 1.5 spm; as recorded "
        "and under every other condition the worst trial is within 0.6 spm",
        guard=4.0,
    ),
    Target(
        "cad_walk_daily",
        "cadence, daily-living walking, worst trial abs. error",
        1.5,
        "spm",
        False,
        lambda rs: _worst_cadence(rs, ("mobgap_lowback_walking",), lambda r: not _straight(r)),
        "as above",
        "per trial, within the reference walking bouts (Test11: turns, pauses, shuffling)",
        shortfall="gait counts steps only in runs of regular walking; the reference bouts also count slow "
        "turning and shuffling steps, which pull their mean stride cadence down (worst: the participant with "
        "multiple sclerosis)",
        guard=10.5,
    ),
    Target(
        "drop_side",
        "pelvic drop, per-side per-trial MAE",
        1.0,
        "deg",
        False,
        _drop_side_mae,
        "pelvic obliquity RMSE 3-4 deg vs motion capture (Wada 2020: 4.1 deg)",
        "RBDS",
    ),
    Target(
        "drop_step",
        "pelvic drop, per-step RMSE",
        2.0,
        "deg",
        False,
        lambda rs: stats(_cat(rs, "drop_step_err_deg", ("rbds_running",)))["rmse"],
        "as above",
        "RBDS",
    ),
    Target(
        "cad_slopes",
        "cadence, sloped 5-s trials, worst abs. error",
        0.5,
        "spm",
        False,
        lambda rs: _worst_cadence(rs, ("alcantara_slopes",)),
        "IMU step frequency ICC 0.926 (meta-analysis)",
        "per trial of 13-19 contacts, +-5 and +-10 deg (Alcantara)",
        shortfall="as for the level 5-s trials: 13-19 contacts cannot resolve 0.5 spm (1.0 spm as recorded, "
        "1.3 at worst)",
        guard=2.0,
    ),
    Target(
        "ic_trial",
        "initial contact, worst running trial (median abs. error)",
        15.0,
        "ms",
        False,
        _ic_worst_trial,
        "Reenalda: bias +29 ms, LoA -83..+141 ms over several speeds, surfaces and foot strikes (Kiernan 2023)",
        "per trial, every running trial, level and sloped (issue 14)",
    ),
    Target(
        "ct_trials",
        "contact time, median over running trials (abs. error)",
        15.0,
        "ms",
        False,
        lambda rs: _ct_trials(rs, worst=False),
        "RMSE 20 ms, bias 13 ms (Patoz 2022, 100 runners, 208 Hz)",
        "a trial's error is the median over its steps; every running trial, level and sloped (issue 14)",
    ),
    Target(
        "ct_worst",
        "contact time, worst running trial (abs. error)",
        30.0,
        "ms",
        False,
        lambda rs: _ct_trials(rs, worst=True),
        "as above",
        "every running trial, level and sloped (issue 14)",
    ),
    Target(
        "refused",
        "real trials refused",
        0.0,
        "trials",
        False,
        _refused,
        "-",
        "every trial of every data set (issue 14)",
    ),
    Target(
        "braking_reported",
        "braking reported, running recordings with a gyroscope",
        100.0,
        "%",
        True,
        _braking_reported_pct,
        "-",
        "RBDS (the only running data with a gyroscope; issue 14)",
    ),
]
BRAKING_AIM_R = 0.6


def braking_stats(results: list[TrialResult]) -> dict[str, float]:
    est = _cat(results, "braking_est", ("rbds_running",))
    ref = _cat(results, "braking_ref", ("rbds_running",))
    if len(est) < 3:
        return {"n": len(est), "r": math.nan, "bias": math.nan}
    return {
        "n": len(est),
        "r": float(np.corrcoef(est, ref)[0, 1]),
        "bias": float(np.mean(est - ref)),
        "est_mean": float(est.mean()),
        "ref_mean": float(ref.mean()),
    }


@dataclass
class Validation:
    results: list[TrialResult]
    simulator: pd.DataFrame
    datasets: list[str]
    missing: list[str]
    cv: CrossValidation | None = None

    def by_group(self) -> dict[str, list[TrialResult]]:
        groups: dict[str, list[TrialResult]] = {}
        for r in self.results:
            groups.setdefault(r.group, []).append(r)
        return groups

    def target_table(self) -> pd.DataFrame:
        """Every target under every group of conditions (blank where a group holds none of its data)."""
        rows = []
        groups = self.by_group()
        for t in TARGETS:
            row = {"target": t.label, "limit": f"{'>=' if t.higher_is_better else '<='} {t.limit:g} {t.unit}"}
            values = {g: t.measure(rs) for g, rs in groups.items()}
            row.update(values)
            seen = [v for v in values.values() if not math.isnan(v)]
            row["worst"] = (min(seen) if t.higher_is_better else max(seen)) if seen else math.nan
            row["pass"] = bool(seen) and all(t.passed(v) for v in seen)
            row["acceptable"] = bool(seen) and all(t.acceptable(v) for v in seen)
            row["shortfall"] = t.shortfall
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def passed(self) -> bool:
        """All targets met, or missed only as a documented shortfall no worse than its guard (refused trials
        are counted by their own target)."""
        return bool(self.target_table()["acceptable"].all())


def load_trials(data_root: Path) -> tuple[list[Trial], list[str], list[str]]:
    """Every trial of every data set found under ``data_root``; the data sets present and missing."""
    trials: list[Trial] = []
    present, missing = [], []
    for name, reader in DATASETS.items():
        if (data_root / name).is_dir():
            trials.extend(reader(data_root))
            present.append(name)
        else:
            missing.append(name)
    return trials, present, missing


def run_validation(
    data_root: Path,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
    config: AnalysisConfig | None = None,
) -> Validation:
    """Every lab trial under every condition, the cross-validation and the simulator grid, analysed with
    ``config`` (default: the validated settings), so a changed parameter can be judged against every target."""
    from gait.validation.crossval import cross_validate
    from gait.validation.simgrid import run_grid

    conds = conditions(quick)
    trials, present, missing = load_trials(data_root)
    pairs = [(ci, cond, ti, trial) for ci, cond in enumerate(conds) for ti, trial in enumerate(trials)]
    pairs = [p for p in pairs if p[1].applies(p[3])]
    results = []
    for done, (ci, cond, ti, trial) in enumerate(pairs, 1):
        results.append(compare(trial, cond, seed=1000 * ci + ti, config=config))
        if progress:
            progress(f"{done}/{len(pairs)} {cond.name}: {trial.dataset} {trial.name}")
    plain = {f"{r.dataset}/{r.trial}": r for r in results if r.condition == AS_RECORDED.name}
    cv = cross_validate(trials, plain)
    return Validation(results, run_grid(quick, config), present, missing, cv)


def _error_table(base: list[TrialResult], attr: str) -> pd.DataFrame:
    """One error's statistics per trial, per data set (pooled) and over all of them."""
    rows = [{"data": f"{r.dataset} / {r.trial}", **stats(getattr(r, attr))} for r in base if len(getattr(r, attr))]
    datasets = tuple(dict.fromkeys(r.dataset for r in base))
    for ds in datasets:
        vals = _cat(base, attr, (ds,))
        if len(vals):
            rows.append({"data": f"**{ds} (pooled)**", **stats(vals)})
    allv = _cat(base, attr, datasets)
    if len(allv):
        rows.append({"data": "**all (pooled)**", **stats(allv)})
    return pd.DataFrame(rows)


def iter_dataset_tables(v: Validation) -> Iterator[tuple[str, pd.DataFrame]]:
    """Per-metric tables (as recorded): per data set / trial and pooled."""
    base = [r for r in v.results if r.condition == "as recorded"]
    for attr, label in (
        ("ic_err_ms", "Initial contact error (ms)"),
        ("to_err_ms", "Toe-off error (ms)"),
        ("ct_err_ms", "Contact time error (ms)"),
        ("drop_step_err_deg", "Pelvic drop error per step (deg)"),
    ):
        table = _error_table(base, attr)
        if len(table):
            yield label, table
    rows = []
    for r in base:
        for system, ok in r.side_ok.items():
            rows.append(
                {
                    "data": f"{r.dataset} / {r.trial}",
                    "reference": system,
                    "n confident": len(ok),
                    "% correct": 100 * float(ok.mean()) if len(ok) else math.nan,
                    "% of matched steps labelled confidently": 100 * r.side_labelled.get(system, math.nan),
                }
            )
    if rows:
        yield "Left/right labels", pd.DataFrame(rows)
    rows = [
        {
            "data": f"{r.dataset} / {r.trial}",
            "cadence error (spm)": r.cadence_err_spm,
            "contacts found (%)": 100 * r.found if np.isfinite(r.found) else math.nan,
            "extra steps": r.extra,
        }
        for r in base
    ]
    yield "Cadence per trial", pd.DataFrame(rows)
    rows = [
        {"data": f"{r.dataset} / {r.trial}", "side": s, "mean drop error (deg)": e}
        for r in base
        for s, e in r.drop_side_err_deg.items()
    ]
    if rows:
        yield "Pelvic drop per side and trial", pd.DataFrame(rows)


def fmt(x: object, digits: int = 1) -> str:
    if isinstance(x, bool):
        return "yes" if x else "**NO**"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return "-" if math.isnan(x) else f"{x:.{digits}f}"
    return str(x)


def markdown_table(df: pd.DataFrame, digits: int = 1) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(fmt(row[c], digits) for c in cols) + " |")
    return "\n".join(lines)
