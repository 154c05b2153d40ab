"""Personal baselines: what is usual for this runner, from earlier runs like this one.

Like with like, run by run: when both runs have a measured speed (GPS, a watch, a foot pod; never the IMU-only
estimate, which is contact time restated) they must be within ``SPEED_TOLERANCE`` of each other, and when
both also have a terrain split (``RunRecord.by_terrain``) the same kind of terrain (flat, rolling, uphill,
downhill). Otherwise, as a sacral sensor alone knows no speed, contact time (which shortens steadily with
speed) must be within ``PACE_TOLERANCE``. The baseline says which comparisons it was built from, and the
findings repeat it. A baseline needs ``MIN_RUNS`` such runs; each metric's band is the mean +- 2 SD across them,
with the SD floored at the metric's measurement precision so that a few near-identical runs do not make every
small wobble look unusual.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gait.analysis.summary import RunRecord

MIN_RUNS = 3
MAX_RUNS = 10  # the most recent similar runs
PACE_TOLERANCE = 0.10  # contact time within +-10 %
#: speed within +-7.5 %: contact time shortens by about 6-7 % per 10 % of speed, so this is a closer match
#: than the contact-time one, yet wide enough for a runner's usual easy days
SPEED_TOLERANCE = 0.075
#: how two runs were matched, and how the findings say it
SPEED_AND_TERRAIN, SPEED, CONTACT_TIME = "speed_and_terrain", "speed", "contact_time"
BASIS_WORDS = {
    SPEED_AND_TERRAIN: f"a similar speed (within {SPEED_TOLERANCE * 100:g} %) on the same kind of terrain",
    SPEED: f"a similar speed (within {SPEED_TOLERANCE * 100:g} %)",
    CONTACT_TIME: f"a similar contact time (within {PACE_TOLERANCE * 100:g} %; no speed to match)",
}

#: ``RunRecord`` fields a baseline is kept for, with the smallest SD that is meaningful for each
BASELINE_METRICS: dict[str, float] = {
    "cadence_spm": 1.0,
    "contact_time_ms": 5.0,
    "braking_dv_mps": 0.01,
    "step_speed_loss_mps": 0.01,
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
    basis: dict[str, int] = field(default_factory=dict)  # runs matched by each comparison (``BASIS_WORDS``)
    terrain: str | None = None  # the kind of terrain matched (``TerrainSplit.kind``), when matched by terrain

    @property
    def compared(self) -> str:
        """One sentence for a finding: which comparison the baseline rests on."""
        return f"Compared with earlier runs at {describe_basis(self.basis, self.terrain)}." if self.basis else ""

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
            "basis": dict(self.basis),
            "terrain": self.terrain,
            "metrics": {
                k: {"mean": round(v, 3), "sd": round(self.sd[k], 3)} for k, v in self.mean.items() if not math.isnan(v)
            },
        }


def _known(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0


def comparison(a: RunRecord, b: RunRecord) -> str | None:
    """How two runs are alike (``SPEED_AND_TERRAIN``, ``SPEED`` or ``CONTACT_TIME``), or None when they are not:
    by speed when both have a measured one (and then by terrain too when both have a split), else by contact
    time."""
    if _known(a.speed_mps) and _known(b.speed_mps):
        assert a.speed_mps is not None and b.speed_mps is not None
        if abs(a.speed_mps - b.speed_mps) > SPEED_TOLERANCE * b.speed_mps:
            return None
        if a.by_terrain is not None and b.by_terrain is not None:
            return SPEED_AND_TERRAIN if a.by_terrain.kind == b.by_terrain.kind else None
        return SPEED
    if _known(a.contact_time_ms) and _known(b.contact_time_ms):
        assert a.contact_time_ms is not None and b.contact_time_ms is not None
        return (
            CONTACT_TIME if abs(a.contact_time_ms - b.contact_time_ms) <= PACE_TOLERANCE * b.contact_time_ms else None
        )
    return None


def similar_pace(a: RunRecord, b: RunRecord) -> bool:
    """Alike enough to share a baseline (``comparison``)."""
    return comparison(a, b) is not None


def build_baseline(current: RunRecord, earlier: Sequence[RunRecord]) -> tuple[Baseline | None, int]:
    """Baseline from the earlier runs (most recent first) like ``current`` (``comparison``).

    Returns (baseline or None, number of similar runs found).
    """
    matched = [(r, how) for r in earlier if (how := comparison(current, r)) is not None][:MAX_RUNS]
    if len(matched) < MIN_RUNS:
        return None, len(matched)
    similar = [r for r, _ in matched]
    mean, sd = {}, {}
    for metric, floor in BASELINE_METRICS.items():
        vals = np.array([getattr(r, metric) for r in similar], dtype=float)
        vals = vals[np.isfinite(vals)]
        if len(vals) < MIN_RUNS:
            continue
        mean[metric] = float(vals.mean())
        sd[metric] = max(float(vals.std(ddof=1)), floor)
    basis = dict(Counter(how for _, how in matched).most_common())
    terrain = current.by_terrain.kind if SPEED_AND_TERRAIN in basis and current.by_terrain is not None else None
    how = f"{len(similar)} earlier runs at {describe_basis(basis, terrain)}"
    return Baseline(len(similar), mean, sd, how, basis, terrain), len(similar)


def describe_basis(basis: dict[str, int], terrain: str | None) -> str:
    """The comparisons in words, e.g. "a similar speed (within 7.5 %) on the same terrain (rolling)"; with the
    number of runs behind each when they were mixed."""
    words = []
    for b, n in basis.items():
        text = (
            BASIS_WORDS[b].replace("the same kind of terrain", f"the same terrain ({terrain})")
            if terrain
            else BASIS_WORDS[b]
        )
        words.append(f"{text} ({n} runs)" if len(basis) > 1 else text)
    return " or ".join(words)
