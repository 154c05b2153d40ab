"""Findings on simulated runs with known truth: each rule fires on one side of its threshold and not on the other,
and no other finding appears. Baselines come from earlier simulated runs saved in a private run store."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from gait.analysis import RunAnalysis
from gait.analysis import analyze as analyze_movement
from gait.insights import BY_ID, MECHANISMS, NOT_A_DIAGNOSIS, RED_FLAGS, evaluate
from gait.insights.findings import SEVERITIES
from gait.runs import judge
from gait.simulate import SimConfig
from gait.store import RunStore
from tests.conftest import REPO, simulated

BASE = SimConfig(segments=(("stand", 3.0), ("run", 100.0), ("stand", 2.0)), rate_hz=104, cadence_spm=170)
BASE_DAYS = ("2026-09-01", "2026-09-03", "2026-09-05")
TEST_DAY = "2026-09-09T07:00:00Z"  # the week after: no load spike
SHOWN = set(SEVERITIES[:3])  # act, watch, info

_MOVEMENT: dict[SimConfig, RunAnalysis] = {}


def movement(cfg: SimConfig) -> RunAnalysis:
    if cfg not in _MOVEMENT:
        _MOVEMENT[cfg] = analyze_movement(simulated(cfg).recording)
    return _MOVEMENT[cfg]


def shown(result: RunAnalysis) -> dict[str, str]:
    return {f.id: f.severity for f in result.findings if f.severity in SHOWN}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    """Three earlier runs of the same runner at the same pace, saved as ``gait analyze`` would."""
    s = RunStore(tmp_path_factory.mktemp("store") / "gait.sqlite")
    for i, day in enumerate(BASE_DAYS):
        judge(movement(dataclasses.replace(BASE, seed=11 + i, start_utc=f"{day}T07:00:00Z")), store=s, save=True)
    return s


# (case, changes to the baseline runner, expected act/watch/info findings {id: severity})
WITH_BASELINE = [
    ("same runner", {}, {}),
    ("drop +0.4 deg", {"drop_right_deg": 5.4}, {}),
    ("drop +1.6 deg", {"drop_right_deg": 6.6}, {"gluteus_medius_pelvic_drop.right": "watch"}),
    # a 3.5 deg excess on one side also moves the left/right difference by more than 2 deg
    (
        "drop +3.5 deg",
        {"drop_left_deg": 8.5},
        {"gluteus_medius_pelvic_drop.left": "act", "left_right_imbalance.pelvic_drop_right_minus_left_deg": "watch"},
    ),
    ("braking +2 %", {"braking_dv_mps": 0.205}, {}),
    ("braking +17 %", {"braking_dv_mps": 0.235}, {"overstride_braking.braking": "watch"}),
    ("braking +45 %", {"braking_dv_mps": 0.29}, {"overstride_braking.braking": "act"}),
    ("cadence -2.4 %", {"cadence_spm": 166}, {}),
    # at the same speed a lower cadence means longer flight: the simulator's truth bounce rises ~15 %
    (
        "cadence -6.5 %",
        {"cadence_spm": 159},
        {"overstride_braking.cadence": "watch", "impact_absorption.vertical_oscillation_cm": "watch"},
    ),
    ("impact transient +0.1 g", {"impact_g": 1.6}, {}),
    ("impact transient +1 g", {"impact_g": 2.5}, {"impact_absorption.impact_g": "watch"}),
    ("contact asymmetry 2 %", {"contact_asymmetry_pct": 2.0}, {}),
    (
        "contact asymmetry 10 %",
        {"contact_asymmetry_pct": 10.0},
        {"left_right_imbalance.contact_time_asymmetry_pct": "watch"},
    ),
    (
        "braking asymmetry 15 %",
        {"braking_asymmetry_pct": 15.0},
        {"left_right_imbalance.braking_asymmetry_pct": "watch"},
    ),
    ("tilt range +1 deg", {"tilt_range_deg": 7.0}, {}),
    ("tilt range +4 deg", {"tilt_range_deg": 10.0}, {"anterior_tilt_hip_flexors.pelvic_tilt_range_deg": "info"}),
    ("rotation range +1 deg", {"rotation_range_deg": 9.0}, {}),
    (
        "rotation range +4 deg",
        {"rotation_range_deg": 12.0},
        {"pelvic_rotation_iliacus.pelvic_rotation_range_deg": "info"},
    ),
]


@pytest.mark.parametrize(("case", "changes", "expected"), WITH_BASELINE, ids=[c[0] for c in WITH_BASELINE])
def test_findings_against_baseline(store: RunStore, case: str, changes: dict, expected: dict):
    cfg = dataclasses.replace(BASE, seed=50 + len(case), start_utc=TEST_DAY, **changes)
    result = judge(movement(cfg), store=store)
    assert result.context["baseline"]["n_runs"] == 3
    assert not any(f.id.endswith("baseline_pending") for f in result.findings)
    assert shown(result) == expected


def test_truth_behind_the_low_cadence_case():
    """The bounce finding for the low-cadence case is expected because the simulated runner really bounces more."""
    base = simulated(dataclasses.replace(BASE, seed=11)).truth_summary()["vertical_oscillation_cm"]
    low = simulated(dataclasses.replace(BASE, seed=50, cadence_spm=159)).truth_summary()["vertical_oscillation_cm"]
    assert low > 1.1 * base


def test_a_run_at_another_pace_is_not_compared(store: RunStore):
    cfg = dataclasses.replace(BASE, cadence_spm=185, contact_time_ms=190, seed=71, start_utc=TEST_DAY)
    result = judge(movement(cfg), store=store)
    assert result.context["baseline"]["status"] == "building" and result.context["baseline"]["n_runs"] == 0
    pending = [f for f in result.findings if f.id.endswith("baseline_pending")]
    assert len(pending) == 1 and "0 of 3" in pending[0].evidence
    assert shown(result) == {}


def test_baseline_needs_three_runs(tmp_path: Path):
    s = RunStore(tmp_path / "gait.sqlite")
    for i, day in enumerate(BASE_DAYS[:2]):
        judge(movement(dataclasses.replace(BASE, seed=11 + i, start_utc=f"{day}T07:00:00Z")), store=s, save=True)
    result = judge(movement(dataclasses.replace(BASE, drop_right_deg=8.5, seed=60, start_utc=TEST_DAY)), store=s)
    assert "2 of 3" in next(f.evidence for f in result.findings if f.id.endswith("baseline_pending"))
    assert "gluteus_medius_pelvic_drop.right" not in shown(result)  # no baseline, no drop finding


DRIFT = SimConfig(segments=(("stand", 3.0), ("run", 360.0), ("stand", 2.0)), rate_hz=52, cadence_spm=170)
# (case, changes, expected): drop added linearly over the run; the first-to-last-fifth change is ~0.85x of it
WITHOUT_BASELINE = [
    ("drift 0.6 deg", {"drop_drift_right_deg": 0.6}, {}),
    ("drift 2.6 deg", {"drop_drift_right_deg": 2.6}, {"drop_fatigue_drift.right": "watch"}),
    ("drift 5 deg", {"drop_drift_left_deg": 5.0}, {"drop_fatigue_drift.left": "act"}),
]


@pytest.mark.parametrize(("case", "changes", "expected"), WITHOUT_BASELINE, ids=[c[0] for c in WITHOUT_BASELINE])
def test_drop_drift_through_a_run(case: str, changes: dict, expected: dict):
    result = judge(movement(dataclasses.replace(DRIFT, seed=41 + len(case), **changes)))
    assert shown(result) == expected
    for f in result.findings:
        if f.id in expected:
            side = f.id.rsplit(".", 1)[1]
            change = getattr(result.summary.drift["pelvic_drop_deg"], f"{side}_change")
            assert f"{change:.1f} deg" in f.evidence


CONTEXT = [
    ("cadence 165", {"cadence_spm": 165}, {}),
    ("cadence 152", {"cadence_spm": 152}, {"overstride_braking.cadence_context": "info"}),
    ("contact asymmetry 6 %", {"contact_asymmetry_pct": 6.0}, {}),
    (
        "contact asymmetry 14 %",
        {"contact_asymmetry_pct": 14.0},
        {"left_right_imbalance.contact_time_asymmetry_pct_context": "info"},
    ),
]


@pytest.mark.parametrize(("case", "changes", "expected"), CONTEXT, ids=[c[0] for c in CONTEXT])
def test_population_context_without_a_baseline(case: str, changes: dict, expected: dict):
    result = judge(movement(dataclasses.replace(BASE, seed=81 + len(case), **changes)))
    assert shown(result) == expected
    assert result.context["baseline"]["status"] == "no history"


def test_accelerometer_only_says_not_enough_data():
    result = judge(movement(dataclasses.replace(BASE, gyro=False, drop_right_deg=9.0, seed=91)))
    ids = {f.id: f.severity for f in result.findings}
    assert ids["gluteus_medius_pelvic_drop.not_enough_data"] == "not_enough_data"
    assert ids["overstride_braking.braking.not_enough_data"] == "not_enough_data"
    assert not any(i.startswith("gluteus_medius_pelvic_drop.right") or i.startswith("drop_fatigue") for i in ids)


def test_too_little_running_gives_only_not_enough_data():
    short = SimConfig(segments=(("stand", 3.0), ("run", 12.0), ("stand", 2.0)), rate_hz=104, seed=92)
    result = judge(movement(short))
    assert [f.severity for f in result.findings] == ["not_enough_data"]
    assert "running steps" in result.findings[0].evidence


def test_every_finding_carries_grade_sources_numbers_and_the_note(store: RunStore):
    cfg = dataclasses.replace(BASE, drop_left_deg=8.5, braking_dv_mps=0.29, impact_g=2.5, seed=95, start_utc=TEST_DAY)
    result = judge(movement(cfg), store=store)
    d = result.to_dict()
    assert len(d["findings"]) >= 4
    for f in d["findings"]:
        assert set(f) >= {
            "id",
            "title",
            "mechanism",
            "evidence_grade",
            "sources",
            "evidence",
            "action",
            "severity",
            "confidence",
        }
        assert f["sources"] and f["evidence_grade"] and f["action"] and f["note"] == NOT_A_DIAGNOSIS
        assert 0.0 <= f["confidence"] <= 1.0
        if f["severity"] in SHOWN:
            assert re.search(r"\d", f["evidence"]), f  # the runner's own numbers
    assert d["red_flags"] == list(RED_FLAGS) and d["baseline"]["n_runs"] == 3


def test_the_map_covers_the_mechanisms_of_the_brief():
    required = {
        "gluteus_medius_pelvic_drop",
        "drop_fatigue_drift",
        "overstride_braking",
        "impact_absorption",
        "left_right_imbalance",
        "pelvic_rotation_iliacus",
        "anterior_tilt_hip_flexors",
        "training_load_spike",
        "red_flags",
    }
    assert required <= set(BY_ID)
    for m in MECHANISMS:
        assert any(s.kind == "article" for s in m.sources), m.id
        assert m.evidence_grade and m.rule and m.actions and m.claim and m.plain_words, m.id
    assert "contrary" in BY_ID["anterior_tilt_hip_flexors"].evidence.lower()
    assert "did not predict" in BY_ID["left_right_imbalance"].evidence
    flags = " ".join(RED_FLAGS).lower()
    for symptom in ("rest", "night", "grinding", "clicking", "groin"):
        assert symptom in flags


N_WORDS = 8


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_the_map_paraphrases_and_copies_no_sentences():
    """No run of 8 words from the seed articles appears in the map's text."""
    seeds = REPO.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is absent: cannot compare the map with the articles")
    grams: set[tuple[str, ...]] = set()
    for path in [*seeds.glob("*.txt"), *seeds.glob("*.md")]:
        w = _words(path.read_text(encoding="utf-8", errors="replace"))
        grams |= {tuple(w[i : i + N_WORDS]) for i in range(len(w) - N_WORDS + 1)}
    assert grams, "no article text found"
    for m in MECHANISMS:
        text = " ".join([m.claim, m.plain_words, m.rule, m.evidence, *m.actions, *m.caveats, *m.red_flags])
        w = _words(text)
        copied = [
            " ".join(w[i : i + N_WORDS]) for i in range(len(w) - N_WORDS + 1) if tuple(w[i : i + N_WORDS]) in grams
        ]
        assert not copied, (m.id, copied[:2])


def test_evaluate_orders_by_severity(store: RunStore):
    cfg = dataclasses.replace(BASE, drop_left_deg=8.5, tilt_range_deg=10.0, seed=96, start_utc=TEST_DAY)
    result = judge(movement(cfg), store=store)
    order = [SEVERITIES.index(f.severity) for f in result.findings]
    assert order == sorted(order) and order[0] == 0
    assert evaluate(result, None, None, []) != result.findings  # without the baseline the drop finding is gone


def test_docs_carry_the_current_map():
    from gait.insights.describe import markdown

    assert markdown() in (REPO / "docs" / "insights.md").read_text(encoding="utf-8"), (
        "docs/insights.md is out of date: regenerate its map with `gait mechanisms --format markdown`"
    )


def test_run_day_comes_from_start_time_or_the_csv_file_date(tmp_path: Path):
    import os
    from datetime import date, datetime

    from gait.recording import load
    from gait.runs import run_day

    rec = simulated(dataclasses.replace(BASE, seed=11, start_utc="2026-09-01T07:00:00Z")).recording
    assert run_day(rec) == date(2026, 9, 1)
    csv = tmp_path / "old_run.csv"
    csv.write_text((REPO / "recordings" / "phone_belt_acc_only.csv").read_text())
    stamp = datetime(2025, 5, 5, 12, 0).timestamp()
    os.utime(csv, (stamp, stamp))
    assert run_day(load(csv)) == date(2025, 5, 5)
