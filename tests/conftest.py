"""Shared fixtures: simulated recordings (cached per session) and the lab data folder (skipped if absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait.simulate import SimConfig, SimResult, simulate
from gait.validation.datasets import lab_data_dir

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def private_gait_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own run store: nothing is read from or written to the user's real history."""
    home = tmp_path_factory.mktemp("gait_home")
    monkeypatch.setenv("GAIT_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def lab_root() -> Path:
    root = lab_data_dir()
    if root is None:
        pytest.skip("lab data not found: ../shared/data is absent (set GAIT_LAB_DATA to point at it)")
    return root


_SIM_CACHE: dict[SimConfig, SimResult] = {}


def simulated(cfg: SimConfig) -> SimResult:
    """Simulate once per configuration per session."""
    if cfg not in _SIM_CACHE:
        _SIM_CACHE[cfg] = simulate(cfg)
    return _SIM_CACHE[cfg]


def match_steps(est: pd.DataFrame, ref_ic: np.ndarray, tol: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Index of the estimated step nearest each reference IC, and whether it lies within ``tol`` s."""
    ic = est["ic_s"].to_numpy()
    if len(ic) == 0:
        return np.zeros(len(ref_ic), int), np.zeros(len(ref_ic), bool)
    pos = np.clip(np.searchsorted(ic, ref_ic), 1, max(1, len(ic) - 1))
    left = np.clip(pos - 1, 0, len(ic) - 1)
    right = np.clip(pos, 0, len(ic) - 1)
    best = np.where(np.abs(ic[left] - ref_ic) <= np.abs(ic[right] - ref_ic), left, right)
    return best, np.abs(ic[best] - ref_ic) < tol
