"""The mechanism map's rules are data: the thresholds in the map are the ones applied, the text a runner reads
is generated from them, and a rule over a field the run record does not have fails when the map is built."""

from __future__ import annotations

import dataclasses

import pytest

from gait.analysis import analyze as analyze_movement
from gait.insights import BY_ID, MECHANISMS, Baseline, evaluate
from gait.insights.mechanisms import Mechanism
from gait.insights.rules import Severity, VsBaseline
from gait.simulate import SimConfig
from tests.conftest import simulated

# a runner whose usual braking is 0.200 +- 0.010 m/s per step, today braking 17 % more (simulator truth 0.235)
USUAL = Baseline(n_runs=5, mean={"braking_dv_mps": 0.2}, sd={"braking_dv_mps": 0.01}, how="five earlier runs")
# (a rules test, not an accuracy test: the simulator's rigid spring-mass runner, whose braking gait measures within
# a few percent; braking accuracy on the harder two-component runner is measured in tests/test_simulator_grid.py)
TODAY = SimConfig(
    segments=(("stand", 3.0), ("run", 100.0), ("stand", 2.0)),
    rate_hz=104,
    braking_dv_mps=0.235,
    seed=5,
    force_model="spring_mass",
)


def with_braking_rule(**thresholds: float) -> tuple[Mechanism, ...]:
    m = BY_ID["overstride_braking"]
    rule = dataclasses.replace(m.rules[0], **thresholds)
    changed = dataclasses.replace(m, rules=(rule, *m.rules[1:]))
    return tuple(changed if x.id == m.id else x for x in MECHANISMS)


def braking(mechanisms: tuple[Mechanism, ...]) -> Severity | None:
    result = analyze_movement(simulated(TODAY).recording)
    assert 0.22 < result.record.braking_dv_mps < 0.25  # the run really brakes ~17 % more than the usual
    found = {f.id: f.severity for f in evaluate(result, USUAL, 5, [], mechanisms=mechanisms)}
    return found.get("overstride_braking.braking")


def test_the_thresholds_in_the_map_are_the_ones_applied() -> None:
    assert braking(MECHANISMS) is Severity.WATCH  # above the usual by more than 2 SD and 10 %
    assert braking(with_braking_rule(at_least_pct=25.0)) is None  # 17 % is not more than 25 %
    assert braking(with_braking_rule(act_above_pct=12.0)) is Severity.ACT  # and is more than 12 %


def test_the_rule_text_is_generated_from_the_thresholds() -> None:
    m = BY_ID["overstride_braking"]
    assert "by more than 2 standard deviations and 10 %: watch; act when more than 25 % above it" in m.rule
    assert "cadence under 160 spm is noted as context only (info)" in m.rule
    changed = dataclasses.replace(m, rules=(dataclasses.replace(m.rules[0], at_least_pct=15.0), *m.rules[1:]))
    assert "2 standard deviations and 15 %" in changed.rule and "and 10 %" not in changed.rule
    drop = BY_ID["gluteus_medius_pelvic_drop"].rule
    assert "2 standard deviations and 1 deg: watch; act from 2.5 deg above it" in drop
    assert "Needs 20 confidently labelled steps per side" in drop and "Needs a gyroscope" in drop
    load = BY_ID["training_load_spike"].rule
    assert "more than 30 % above the previous week" in load


def test_a_rule_over_a_field_the_record_lacks_fails_when_the_map_is_built() -> None:
    m = BY_ID["impact_absorption"]
    typo = VsBaseline("impact_peak_g", id="x", title="t", evidence="e", label="impact", confidence=0.5)
    with pytest.raises(KeyError, match="impact_peak_g"):
        dataclasses.replace(m, rules=(typo,))


def test_severities_are_an_enum_that_reads_as_text() -> None:
    assert [s.value for s in Severity] == ["act", "watch", "info", "not_enough_data"]
    assert Severity.ACT == "act" and Severity("watch") is Severity.WATCH and Severity.INFO.label == "Context"
