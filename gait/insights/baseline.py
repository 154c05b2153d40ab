"""Personal baselines: what is usual for this runner, from earlier runs at a similar pace.

A sacral sensor does not know running speed, so "similar pace" is judged by contact time (which shortens
steadily with speed) unless both runs carry a speed. A baseline needs ``MIN_RUNS`` such runs; each metric's
band is the mean +- 2 SD across them, with the SD floored at the metric's measurement precision so that a few
near-identical runs do not make every small wobble look unusual.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gait.analysis.summary import RunRecord

MIN_RUNS = 3
MAX_RUNS = 10  # the most recent similar runs
PACE_TOLERANCE = 0.10  # contact time (or speed) within +-10 %

#: ``RunRecord`` fields a baseline is kept for, with the smallest SD that is meaningful for each
BASELINE_METRICS: dict[str, float] = {
    "cadence_spm": 1.0,
    "contact_time_ms": 5.0,
    "braking_dv_mps": 0.01,
    "impact_g": 0.05,
    "vertical_oscillation_cm": 0.2,
    "pelvic_drop_left_deg": 0.3,
    "pelvic_drop_right_deg": 0.3,
    "pelvic_drop_right_minus_left_deg": 0.4,
    "contact_time_asymmetry_pct": 1.0,
    "braking_asymmetry_pct": 2.0,
    "pelvic_rotation_range_deg": 0.5,
    "pelvic_tilt_range_deg": 0.5,
}
for _name in BASELINE_METRICS:
    RunRecord.info(_name)  # a mistyped name fails on import, not as a baseline that silently never forms


@dataclass(frozen=True)
class Baseline:
    n_runs: int
    mean: dict[str, float]
    sd: dict[str, float]  # floored
    how: str  # how the runs were chosen, in words

    def band(self, metric: str) -> tuple[float, float] | None:
        """(mean, floored SD) of a ``BASELINE_METRICS`` field, ``None`` when too few runs have it."""
        if metric not in BASELINE_METRICS:
            raise KeyError(f"{metric!r}: no baseline is kept for it (see BASELINE_METRICS)")
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


def similar_pace(a: RunRecord, b: RunRecord) -> bool:
    """Same pace within 10 %: by speed when both runs have one, else by contact time."""
    for x, y in ((a.speed_mps, b.speed_mps), (a.contact_time_ms, b.contact_time_ms)):
        if x and y and not (math.isnan(x) or math.isnan(y)):
            return abs(x - y) <= PACE_TOLERANCE * y
    return False


def build_baseline(current: RunRecord, earlier: Sequence[RunRecord]) -> tuple[Baseline | None, int]:
    """Baseline from the earlier runs (most recent first) at a pace similar to ``current``.

    Returns (baseline or None, number of similar runs found).
    """
    similar = [r for r in earlier if similar_pace(r, current)][:MAX_RUNS]
    if len(similar) < MIN_RUNS:
        return None, len(similar)
    mean, sd = {}, {}
    for metric, floor in BASELINE_METRICS.items():
        vals = np.array([getattr(r, metric) for r in similar], dtype=float)
        vals = vals[np.isfinite(vals)]
        if len(vals) < MIN_RUNS:
            continue
        mean[metric] = float(vals.mean())
        sd[metric] = max(float(vals.std(ddof=1)), floor)
    how = f"{len(similar)} earlier runs at a similar pace (contact time or speed within 10 %)"
    return Baseline(len(similar), mean, sd, how), len(similar)
