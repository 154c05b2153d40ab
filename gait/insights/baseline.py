"""Personal baselines: what is usual for this runner, from earlier runs at a similar pace.

A sacral sensor does not know running speed, so "similar pace" is judged by contact time (which shortens
steadily with speed) unless both runs carry a speed. A baseline needs ``MIN_RUNS`` such runs; each metric's
band is the mean +- 2 SD across them, with the SD floored at the metric's measurement precision so that a few
near-identical runs do not make every small wobble look unusual.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MIN_RUNS = 3
MAX_RUNS = 10  # the most recent similar runs
PACE_TOLERANCE = 0.10  # contact time (or speed) within +-10 %

#: per-run values a baseline is kept for, with the smallest SD that is meaningful for each
BASELINE_METRICS: dict[str, float] = {
    "cadence_spm": 1.0,
    "contact_time_ms": 5.0,
    "braking_dv_mps": 0.01,
    "impact_g": 0.05,
    "vertical_oscillation_cm": 0.2,
    "drop_left_deg": 0.3,
    "drop_right_deg": 0.3,
    "drop_diff_deg": 0.4,  # right minus left
    "asym_contact_pct": 1.0,
    "asym_braking_pct": 2.0,
    "rotation_range_deg": 0.5,
    "tilt_range_deg": 0.5,
}


@dataclass(frozen=True)
class Baseline:
    n_runs: int
    mean: dict[str, float]
    sd: dict[str, float]  # floored
    how: str  # how the runs were chosen, in words

    def band(self, metric: str) -> tuple[float, float] | None:
        if metric not in self.mean or math.isnan(self.mean[metric]):
            return None
        return self.mean[metric], self.sd[metric]

    def to_dict(self) -> dict[str, object]:
        return {
            "n_runs": self.n_runs,
            "how": self.how,
            "metrics": {
                k: {"mean": round(v, 3), "sd": round(self.sd[k], 3)} for k, v in self.mean.items() if not math.isnan(v)
            },
        }


def similar_pace(a: Mapping[str, float | None], b: Mapping[str, float | None]) -> bool:
    """Same pace within 10 %: by speed when both runs have one, else by contact time."""
    for key in ("speed_mps", "contact_time_ms"):
        x, y = a.get(key), b.get(key)
        if x and y and not (math.isnan(x) or math.isnan(y)):
            return abs(x - y) <= PACE_TOLERANCE * y
    return False


def build_baseline(
    current: Mapping[str, float | None], earlier: Sequence[Mapping[str, float | None]]
) -> tuple[Baseline | None, int]:
    """Baseline from the earlier runs (most recent first) at a pace similar to ``current``.

    Returns (baseline or None, number of similar runs found).
    """
    similar = [r for r in earlier if similar_pace(r, current)][:MAX_RUNS]
    if len(similar) < MIN_RUNS:
        return None, len(similar)
    mean, sd = {}, {}
    for metric, floor in BASELINE_METRICS.items():
        vals = np.array([r.get(metric) for r in similar], dtype=float)
        vals = vals[np.isfinite(vals)]
        if len(vals) < MIN_RUNS:
            continue
        mean[metric] = float(vals.mean())
        sd[metric] = max(float(vals.std(ddof=1)), floor)
    how = f"{len(similar)} earlier runs at a similar pace (contact time or speed within 10 %)"
    return Baseline(len(similar), mean, sd, how), len(similar)
