"""The run record: one set of names from which the JSON, the run store, batch rows, the dashboard and the live view
are derived, checked on a simulated run against the simulator's truth; and a mistyped name raises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gait.analysis.live import LiveAnalyzer
from gait.analysis.summary import TERRAIN_FIELDS, RunRecord, record_fields_markdown
from gait.batch import COLUMNS, analyse_one
from gait.runs import analyze, judge
from gait.simulate import SimConfig, write
from gait.store import VALUE_COLUMNS, RunStore
from tests.conftest import REPO, simulated

RUN = SimConfig(
    segments=(("stand", 3.0), ("run", 330.0), ("stand", 2.0)),
    rate_hz=52,
    drop_left_deg=4.0,
    drop_right_deg=7.0,
    drop_drift_right_deg=2.0,
    seed=21,
    start_utc="2026-05-04T07:00:00Z",
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("record") / "run"
    write(simulated(RUN), folder)
    return folder


def test_the_record_matches_the_simulated_runner() -> None:
    result = analyze(simulated(RUN).recording)
    r, truth = result.record, simulated(RUN).truth_summary()
    assert abs(r.cadence_spm - truth["cadence_spm"]) < 1.0
    assert abs(r.pelvic_drop_left_deg - truth["pelvic_drop_deg_left"]) < 1.0
    assert abs(r.pelvic_drop_right_deg - truth["pelvic_drop_deg_right"]) < 1.0
    assert r.pelvic_drop_right_minus_left_deg == pytest.approx(r.pelvic_drop_right_deg - r.pelvic_drop_left_deg)
    assert 1.0 < r.pelvic_drop_right_drift_deg < 2.5 and abs(r.pelvic_drop_left_drift_deg) < 0.8  # truth: +2, 0
    assert r.steps >= r.steps_used >= r.steps_left + r.steps_right > 0 and isinstance(r.steps, int)
    assert r.speed_mps is None and r.distance_m is None  # a sacral sensor alone does not know speed


def test_json_store_and_batch_rows_carry_the_same_record(saved: Path, tmp_path: Path) -> None:
    from gait.recording import load

    store = RunStore(tmp_path / "gait.sqlite")
    result = analyze(load(saved), store=store, save=True, distance_m=4200.0)
    r = result.record
    assert r.distance_m == 4200.0 and r.speed_mps == pytest.approx(4200.0 / r.running_s)
    d = result.to_dict()
    assert {k: d[k] for k in r.to_dict()} == r.to_dict()  # the numbers top-level, the terrain split as by_terrain
    assert RunRecord.from_dict(d).to_dict() == r.to_dict()  # the dashboard reads the record back from the JSON
    (stored,) = store.runs()
    assert RunRecord.names() == VALUE_COLUMNS and stored.record == r  # exactly, not rounded
    row = analyse_one(str(saved))
    assert set(RunRecord.names()) <= set(COLUMNS) and row["error"] is None
    same = {k: row[k] for k in RunRecord.names() if k not in ("speed_mps", "distance_m")}  # batch: no distance given
    assert same == {k: v for k, v in r.row().items() if k in same}


def test_the_live_snapshot_is_a_record_of_the_last_30_s() -> None:
    imu = simulated(RUN).recording.imu
    live = LiveAnalyzer(window_s=30.0, rate_hz=52.0)
    live.append(imu.t[:50], np.hstack((imu.acc, imu.gyr))[:50])
    assert live.snapshot() is None  # not enough samples yet
    end = np.searchsorted(imu.t, 120.0)
    live.append(imu.t[50:end], np.hstack((imu.acc, imu.gyr))[50:end])
    snap = live.snapshot()
    truth = simulated(RUN).truth_summary()
    assert isinstance(snap, RunRecord) and snap.running_s == pytest.approx(30.0, abs=1.0)
    assert abs(snap.pelvic_drop_left_deg - truth["pelvic_drop_deg_left"]) < 1.5
    assert abs(snap.cadence_spm - truth["cadence_spm"]) < 2.0


def test_a_mistyped_field_raises_instead_of_showing_nothing() -> None:
    from dashboards.components import value_card
    from dashboards.pages.trends import compare_rows
    from dashboards.style import metric_info
    from gait.insights.baseline import build_baseline

    r = RunRecord(cadence_spm=170.0, contact_time_ms=240.0)
    assert value_card(r, "cadence_spm", {}).children[1].children == "170.0 spm"
    for mistyped in ("cadense_spm", "drop_left_deg", "braking_dv_ms"):
        with pytest.raises(KeyError, match=mistyped):
            RunRecord.info(mistyped)
        with pytest.raises(KeyError, match=mistyped):
            r.value(mistyped)
        with pytest.raises(KeyError, match=mistyped):
            value_card(r, mistyped, {})
        with pytest.raises(KeyError, match=mistyped):
            metric_info(mistyped)
    with pytest.raises(AttributeError):
        r.drop_left_deg  # noqa: B018
    with pytest.raises(TypeError):
        RunRecord(drop_left_deg=4.0)  # type: ignore[call-arg]
    baseline, _ = build_baseline(r, [r, r, r])
    with pytest.raises(KeyError, match="drop_right_deg"):
        baseline.band("drop_right_deg")
    assert compare_rows(r, r)[0]["metric"] == "Cadence (spm)"


def test_docs_list_every_field() -> None:
    doc = (REPO / "docs" / "json-schema.md").read_text(encoding="utf-8")
    assert record_fields_markdown() in doc, (
        "docs/json-schema.md is out of date: paste gait.analysis.summary.record_fields_markdown() into it"
    )
    assert record_fields_markdown(TERRAIN_FIELDS) in doc, (
        "docs/json-schema.md is out of date: paste gait.analysis.summary.record_fields_markdown(TERRAIN_FIELDS) into it"
    )


def test_judging_adds_speed_and_distance() -> None:
    from gait.analysis import analyze as analyze_movement

    judged = judge(analyze_movement(simulated(RUN).recording), distance_m=3000.0)
    assert judged.record.distance_m == 3000.0 and judged.to_dict()["distance_m"] == 3000.0
