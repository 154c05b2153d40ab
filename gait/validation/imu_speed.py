"""The IMU-only speed estimate (``gait.analysis.imu_speed``) against the known treadmill speeds in
``../shared/data``: RBDS (one runner, 2.5 and 3.5 m/s, virtual sacral IMU), Alcantara level (one runner, 2.5-4.17
m/s and three step frequencies at 3.33 m/s) and Alcantara slopes (the same runner, +-5 and +-10 deg).

Each trial is analysed by gait; its median contact time over confident running steps gives the estimate. The
one constant of the model is fitted three ways, so the error of a constant chosen without the trial is what is
reported: leaving the trial out (LOTO) and leaving its runner out (LODO: the constant from the other runner
alone). ``python -m gait.validation.imu_speed`` prints the table docs/terrain.md shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait.analysis import analyze
from gait.analysis.imu_speed import CONTACT_LENGTH_LEGS, fit_contact_length, leg_length_m
from gait.errors import GaitError
from gait.recording.model import Recording
from gait.validation.datasets import alcantara_slope_trials, alcantara_trials, lab_data_dir, rbds_trials

#: runners of the treadmill data sets (their READMEs): name, height
RUNNERS = {"rbds_running": ("RBDS001", 181.0), "alcantara": ("Alcantara subject 2", 173.0)}


@dataclass(frozen=True)
class SpeedTrial:
    dataset: str
    name: str
    runner: str
    height_cm: float
    slope_deg: float
    speed_mps: float  # the treadmill's
    contact_time_ms: float  # gait's median over confident running steps (NaN when it found none)
    n_steps: int
    note: str = ""


def _trial(dataset: str, name: str, rec: Recording, speed: float, slope: float) -> SpeedTrial:
    runner, height = RUNNERS["rbds_running" if dataset == "rbds_running" else "alcantara"]
    try:
        steps = analyze(rec).steps
    except GaitError as exc:
        why = str(exc).split(": ", 1)[-1].split(", expected")[0]  # the reason, without the file name and advice
        return SpeedTrial(dataset, name, runner, height, slope, speed, float("nan"), 0, why)
    run = steps[(steps["activity"] == "run") & ~steps["low_confidence"]]
    tc = run["contact_time_ms"].dropna()
    return SpeedTrial(dataset, name, runner, height, slope, speed, float(tc.median()) if len(tc) else float("nan"),
                      len(tc))  # fmt: skip


def speed_trials(root: Path) -> list[SpeedTrial]:
    """Every treadmill trial, analysed."""
    readers = (rbds_trials, alcantara_trials, alcantara_slope_trials)
    return [_trial(t.dataset, t.name, t.recording, float(t.info["speed_mps"]), t.slope_deg)
            for read in readers for t in read(root)]  # fmt: skip


def cross_validate(trials: list[SpeedTrial]) -> pd.DataFrame:
    """Per trial: the estimate with the constant fitted without the trial (LOTO), without its runner (LODO) and
    the constant gait uses, and their errors in % of the treadmill speed."""
    df = pd.DataFrame([t.__dict__ for t in trials])
    tc = df["contact_time_ms"].to_numpy() / 1000.0
    leg = np.array([leg_length_m(h) for h in df["height_cm"]])
    v = df["speed_mps"].to_numpy()
    ok = np.isfinite(tc)
    idx = np.arange(len(df))
    loto = np.array([fit_contact_length(tc[ok & (idx != i)], v[ok & (idx != i)], leg[ok & (idx != i)]) for i in idx])
    runners = df["runner"].to_numpy()
    lodo = np.array([fit_contact_length(tc[ok & (runners != r)], v[ok & (runners != r)], leg[ok & (runners != r)])
                     for r in runners])  # fmt: skip
    for name, k in (("loto", loto), ("lodo", lodo), ("gait", np.full(len(df), CONTACT_LENGTH_LEGS))):
        est = k * leg / tc
        df[f"k_{name}"] = k
        df[f"estimate_{name}_mps"] = est
        df[f"error_{name}_pct"] = 100.0 * (est / v - 1.0)
    df["k_all"] = fit_contact_length(tc[ok], v[ok], leg[ok])
    return df


def markdown(df: pd.DataFrame) -> str:
    """The per-trial table and the summary lines (docs/terrain.md)."""
    rows = ["| data set | trial | slope (deg) | treadmill (m/s) | gait contact (ms) | estimate (m/s) | error "
            "(LOTO) | error (leave runner out) |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in df.itertuples():
        if not np.isfinite(r.contact_time_ms):
            rows.append(f"| {r.dataset} | {r.name} | {r.slope_deg:+.0f} | {r.speed_mps:.2f} | - | - | - | - "
                        f"(not analysed: {r.note}) |")  # fmt: skip
            continue
        rows.append(f"| {r.dataset} | {r.name} | {r.slope_deg:+.0f} | {r.speed_mps:.2f} | {r.contact_time_ms:.0f} | "
                    f"{r.estimate_gait_mps:.2f} | {r.error_loto_pct:+.0f} % | {r.error_lodo_pct:+.0f} % |")  # fmt: skip
    ok = np.isfinite(df["error_loto_pct"])
    lines = ["\n".join(rows), ""]
    for label, sel in (("all", ok), ("level", ok & (df["slope_deg"] == 0)), ("sloped", ok & (df["slope_deg"] != 0))):
        e, e2 = df.loc[sel, "error_loto_pct"].abs(), df.loc[sel, "error_lodo_pct"].abs()
        lines.append(f"- {label} ({sel.sum()} trials): mean |error| {e.mean():.1f} % (max {e.max():.0f} %) leaving "
                     f"the trial out, {e2.mean():.1f} % (max {e2.max():.0f} %) leaving the runner out")  # fmt: skip
    lines.append(f"- the constant: {df['k_all'].iloc[0]:.3f} from all trials, {df['k_loto'].min():.3f}-"
                 f"{df['k_loto'].max():.3f} leaving one trial out, {df['k_lodo'].min():.3f}-{df['k_lodo'].max():.3f} "
                 f"from one runner alone; gait uses {CONTACT_LENGTH_LEGS}")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    root = lab_data_dir()
    if root is None:
        raise SystemExit("lab data not found: ../shared/data is absent (set GAIT_LAB_DATA)")
    print(markdown(cross_validate(speed_trials(root))))
