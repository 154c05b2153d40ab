"""The simulator grid: the current pipeline against simulator truth over foot strike x slope x pace, with soft-tissue
wobble, clip tilt and sample rate varied across the cells and swept one at a time around a base runner.

The simulator's forces are independent of the detector's templates (docs/simulator.md), so a cell the detector
misses is a model misfit, not noise. Each cell is compared with the targets of issue 14;
``tests/test_simulator_grid.py`` asserts what the pipeline meets today, and ``python -m gait.validation.simgrid``
prints the table for the docs.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gait.analysis import AnalysisConfig, analyze
from gait.simulate import STRIKES, SimConfig, simulate

MATCH_S = 0.10  # a detected step belongs to a true contact within this distance
IC_TARGET_MS = 15.0  # issue 14: initial contact, median |error| per trial
CT_TARGET_MS, CT_WORST_MS = 15.0, 30.0  # contact time: median over trials, worst trial

# (cadence spm, contact time on the level ms): a slow runner, an easy pace, a fast turnover
PACES = ((150.0, 320.0), (170.0, 240.0), (230.0, 150.0))
SLOPES = (-10.0, 0.0, 10.0)
WOBBLES = (0.0, 10.0, 20.0)  # Hz; 0 = rigidly attached
CLIP_TILTS = ((0.0, 0.0), (10.0, 5.0), (20.0, -10.0))  # (pitch, roll) deg
RATES = (52.0, 104.0, 208.0, 416.0)
BASE = SimConfig(segments=(("stand", 3.0), ("run", 40.0), ("stand", 2.0)), mounting="random", strike="rearfoot")


@dataclass(frozen=True)
class Cell:
    name: str
    config: SimConfig
    sweep: str  # "core" (strike x slope x pace) or the one factor swept around the base runner


def _label(cfg: SimConfig) -> str:
    pitch, roll = cfg.clip_tilt_deg
    lift = "" if cfg.push_off_lift_g == BASE.push_off_lift_g else f", push-off lift {cfg.push_off_lift_g:g} g"
    return (
        f"{cfg.strike}, {cfg.slope_deg:+g} deg, {cfg.cadence_spm:.0f} spm/{cfg.contact_time_ms:.0f} ms, "
        f"wobble {cfg.wobble_hz:g} Hz, clip {pitch:g}/{roll:g} deg, {cfg.rate_hz:g} Hz{lift}"
    )


def cells(quick: bool = False) -> list[Cell]:
    """Core cells: every strike x slope x pace, with wobble, clip tilt and rate rotated through their values so
    each meets every strike, slope and pace; then one-factor sweeps around the base runner (rearfoot, level,
    easy pace, 15 Hz wobble, no tilt, 208 Hz)."""
    out = []
    k = 0
    for strike in STRIKES:
        for slope in SLOPES:
            for cad, ct in PACES:
                cfg = dataclasses.replace(
                    BASE,
                    strike=strike,
                    slope_deg=slope,
                    cadence_spm=cad,
                    contact_time_ms=ct,
                    wobble_hz=WOBBLES[k % 3],
                    clip_tilt_deg=CLIP_TILTS[(k // 3 + k) % 3],
                    rate_hz=RATES[k % 4],
                    seed=300 + k,
                )
                out.append(Cell(_label(cfg), cfg, "core"))
                k += 1
    base = dataclasses.replace(BASE, cadence_spm=170.0, contact_time_ms=240.0, rate_hz=208.0, seed=400)
    sweeps = [("base", {})]
    sweeps += [("wobble", {"wobble_hz": w}) for w in (0.0, 10.0, 20.0)]
    sweeps += [("clip tilt", {"clip_tilt_deg": t}) for t in ((20.0, 0.0), (0.0, 20.0), (20.0, 10.0))]
    sweeps += [("rate", {"rate_hz": r}) for r in (52.0, 104.0, 416.0, 833.0)]
    sweeps += [("slope", {"slope_deg": s}) for s in (-5.0, 5.0)]
    sweeps += [("pelvis = COM", {"push_off_lift_g": 0.0})]
    for i, (sweep, change) in enumerate(sweeps):
        cfg = dataclasses.replace(base, seed=400 + i, **change)
        out.append(Cell(_label(cfg), cfg, sweep))
    if quick:
        out = out[::4]
    return out


def _match(est: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(est) == 0:
        return np.zeros(len(ref), int), np.zeros(len(ref), bool)
    pos = np.clip(np.searchsorted(est, ref), 1, max(1, len(est) - 1))
    left, right = np.clip(pos - 1, 0, len(est) - 1), np.clip(pos, 0, len(est) - 1)
    best = np.where(np.abs(est[left] - ref) <= np.abs(est[right] - ref), left, right)
    return best, np.abs(est[best] - ref) < MATCH_S


def run_cell(cell: Cell, config: AnalysisConfig | None = None) -> dict[str, object]:
    """Simulate one cell, analyse it, and compare with the simulator's truth."""
    sim = simulate(cell.config)
    row: dict[str, object] = {"cell": cell.name, "sweep": cell.sweep}
    try:
        res = analyze(sim.recording, config or AnalysisConfig())
    except Exception as exc:  # a refused recording is a result of the grid
        return {**row, "error": f"{type(exc).__name__}: {exc}"}
    truth = sim.truth[sim.truth["activity"] == "run"]
    steps = res.steps[res.steps["activity"] == "run"]
    idx, ok = _match(steps["ic_s"].to_numpy(), truth["ic_s"].to_numpy())
    est = steps.iloc[idx[ok]]
    ref = truth[ok]
    ic_err = 1000 * (est["ic_s"].to_numpy() - ref["ic_s"].to_numpy())
    ct_err = est["contact_time_ms"].to_numpy() - ref["contact_time_ms"].to_numpy()
    t = sim.truth_summary()
    per = res.summary.per_side["pelvic_drop_deg"]
    braking = res.summary.medians.get("braking_dv_mps")
    return {
        **row,
        "found (%)": 100 * float(ok.mean()) if len(ok) else math.nan,
        "IC median abs. err (ms)": float(np.median(np.abs(ic_err))) if len(ic_err) else math.nan,
        "IC bias (ms)": float(np.median(ic_err)) if len(ic_err) else math.nan,
        "CT err (ms)": float(np.median(ct_err)) if len(ct_err) else math.nan,
        "cadence err (spm)": (res.summary.cadence_spm or math.nan) - (t["cadence_spm"] or math.nan),
        "drop L err (deg)": (per.left if per.left is not None else math.nan) - (t["pelvic_drop_deg_left"] or 0),
        "drop R err (deg)": (per.right if per.right is not None else math.nan) - (t["pelvic_drop_deg_right"] or 0),
        "sides (%)": 100 * float((est["side"].to_numpy() == ref["side"].to_numpy()).mean()) if ok.any() else math.nan,
        "braking err (cm/s)": 100 * ((braking if braking is not None else math.nan) - (t["braking_dv_mps"] or 0)),
        "error": "",
    }


def run_grid(quick: bool = False, config: AnalysisConfig | None = None) -> pd.DataFrame:
    """One row per cell; ``meets`` says whether the cell meets the issue-14 IC and contact-time targets."""
    df = pd.DataFrame([run_cell(c, config) for c in cells(quick)])
    df["meets"] = (df["IC median abs. err (ms)"] <= IC_TARGET_MS) & (df["CT err (ms)"].abs() <= CT_WORST_MS)
    return df


def grid_summary(df: pd.DataFrame) -> dict[str, float | int]:
    """The grid against the targets: cells are 'trials' (IC per trial, contact time median over trials and worst)."""
    ct = df["CT err (ms)"].abs()
    return {
        "cells": len(df),
        "IC worst cell (ms)": float(df["IC median abs. err (ms)"].max()),
        "IC cells within 15 ms (%)": 100 * float((df["IC median abs. err (ms)"] <= IC_TARGET_MS).mean()),
        "CT median over cells (ms)": float(ct.median()),
        "CT worst cell (ms)": float(ct.max()),
        "cadence worst cell (spm)": float(df["cadence err (spm)"].abs().max()),
        "drop worst side (deg)": float(df[["drop L err (deg)", "drop R err (deg)"]].abs().max().max()),
    }


def main() -> None:
    from gait.validation.run import markdown_table

    df = run_grid()
    cols = [c for c in df.columns if c not in ("sweep", "error")]
    print(markdown_table(df[cols]))
    print()
    for k, v in grid_summary(df).items():
        print(f"* {k}: {v:.1f}" if isinstance(v, float) else f"* {k}: {v}")


if __name__ == "__main__":
    main()
