"""The simulator grid (gait/validation/simgrid.py): foot strike x slope x pace, wobble, clip tilt and rate.

Asserts what the pipeline meets against the simulator's truth; the cells that miss the issue-14 targets (IC
median |error| <= 15 ms, contact time <= 15 ms median / 30 ms worst) are listed in docs/simulator.md. The limits
marked "today" are where the pipeline stands, not where it should be: tighten them as it improves.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gait.validation.simgrid import CT_WORST_MS, IC_TARGET_MS, cells, grid_summary, run_grid


@pytest.fixture(scope="module")
def grid() -> pd.DataFrame:
    return run_grid()


def test_the_grid_covers_every_strike_slope_and_pace_and_the_sensor_factors():
    cs = cells()
    core = [c.config for c in cs if c.sweep == "core"]
    assert len({(c.strike, c.slope_deg, c.cadence_spm) for c in core}) == 27
    every = [c.config for c in cs]
    assert {c.wobble_hz for c in every} >= {0.0, 10.0, 15.0, 20.0}
    assert {c.clip_tilt_deg for c in every} >= {(0.0, 0.0), (20.0, 10.0), (0.0, 20.0)}
    assert {c.rate_hz for c in every} >= {52.0, 104.0, 208.0, 416.0, 833.0}
    assert {c.contact_time_ms for c in every} >= {150.0, 320.0}


def test_every_cell_is_analysed_with_cadence_and_sides_right(grid):
    assert (grid["error"] == "").all(), grid.loc[grid["error"] != "", ["cell", "error"]].to_dict("records")
    assert grid["cadence err (spm)"].abs().max() <= 0.5
    assert grid["sides (%)"].min() >= 95.0


def test_uphill_cells_meet_the_targets(grid):
    """Uphill the pelvis keeps rising past toe-off; the fall of the force hump is read above that shoulder
    (issue 14: the earlier detector read contact time +35 to +110 ms long here)."""
    up = grid[grid["cell"].str.contains(r", \+(?:5|10) deg")]
    assert len(up) == 10
    assert up["found (%)"].min() >= 95.0
    assert (up["IC median abs. err (ms)"] <= IC_TARGET_MS).all()
    assert (up["CT err (ms)"].abs() <= CT_WORST_MS).all()
    assert up[["drop L err (deg)", "drop R err (deg)"]].abs().max().max() <= 1.0


def test_level_and_downhill_cells(grid):
    flat = grid[~grid["cell"].str.contains(r", \+(?:5|10) deg")]
    assert flat["found (%)"].min() >= 95.0
    assert (flat["IC median abs. err (ms)"] <= IC_TARGET_MS).mean() >= 0.95
    assert flat["IC median abs. err (ms)"].max() <= IC_TARGET_MS
    slow_downhill = flat["cell"].str.contains("-10 deg, 150 spm")
    assert (flat.loc[~slow_downhill, "CT err (ms)"].abs() <= CT_WORST_MS).all()
    # today's shortfall: a slow runner (320 ms contacts) downhill at -10 deg, whose long impact stretches the
    # stance's fall, reads +32 to +34 ms (docs/accuracy.md; the real downhill trials are within 16 ms)
    assert flat.loc[slow_downhill, "CT err (ms)"].abs().max() <= 36.0
    assert flat[["drop L err (deg)", "drop R err (deg)"]].abs().max().max() <= 1.2
    assert flat["braking err (cm/s)"].abs().max() <= 10.0


def test_grid_summary_against_the_targets(grid):
    s = grid_summary(grid)
    assert s["cells"] == len(grid) and s["CT median over cells (ms)"] <= 15.0
    assert s["IC cells within 15 ms (%)"] >= 95.0
