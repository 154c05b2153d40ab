"""Findings for one run: which mechanisms of the map the runner's own numbers point to.

The rules are data in the mechanism map (``gait.insights.mechanisms``: thresholds over ``RunRecord`` fields);
this module applies them, one small function per kind of rule. Each compares the run with the runner's own
baseline (earlier runs like this one: by speed and terrain, else contact time) and, where research gives one,
with population context. No finding without data behind it: when the data cannot support a rule (no gyroscope,
too few confident steps, no baseline yet) a "not enough data" finding says so instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gait.insights.baseline import MIN_RUNS, Baseline
from gait.insights.load import WeekLoad
from gait.insights.mechanisms import (
    BASELINE_WEIGHT_BASE,
    BASELINE_WEIGHT_MAX,
    BASELINE_WEIGHT_PER_RUN,
    BY_ID,
    MECHANISMS,
    MIN_RUNNING_STEPS,
    NOT_A_DIAGNOSIS,
    Mechanism,
)
from gait.insights.rules import Drift, LoadSpike, Missing, Population, Requires, Severity, VsBaseline, sided

if TYPE_CHECKING:
    from gait.analysis.result import RunAnalysis
    from gait.analysis.summary import RunRecord

#: most important first (the order findings are listed in)
SEVERITIES = tuple(Severity)


@dataclass(frozen=True)
class Finding:
    id: str
    mechanism_id: str
    title: str
    mechanism: str  # plain words
    evidence_grade: str
    sources: tuple[str, ...]
    evidence: str  # the runner's own numbers
    action: str
    severity: Severity
    confidence: float  # 0..1
    note: str = field(default=NOT_A_DIAGNOSIS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mechanism_id": self.mechanism_id,
            "title": self.title,
            "mechanism": self.mechanism,
            "evidence_grade": self.evidence_grade,
            "sources": list(self.sources),
            "evidence": self.evidence,
            "action": self.action,
            "severity": self.severity.value,
            "confidence": round(self.confidence, 2),
            "note": self.note,
        }


@dataclass(frozen=True)
class _Run:
    """What the rules look at: the run's record and quality, the runner's baseline and weekly load."""

    result: RunAnalysis
    record: RunRecord
    baseline: Baseline | None
    weeks: list[WeekLoad]

    def band(self, name: str) -> tuple[float, float] | None:
        return self.baseline.band(name) if self.baseline else None

    @property
    def weight(self) -> float:
        """How settled the baseline is (0 without one): multiplies the confidence of baseline findings."""
        if self.baseline is None:
            return 0.0
        return min(BASELINE_WEIGHT_MAX, BASELINE_WEIGHT_BASE + BASELINE_WEIGHT_PER_RUN * self.baseline.n_runs)


def _finding(
    m: Mechanism,
    suffix: str,
    evidence: str,
    action: str,
    severity: Severity,
    confidence: float,
    title: str | None = None,
) -> Finding:
    return Finding(
        id=f"{m.id}.{suffix}" if suffix else m.id,
        mechanism_id=m.id,
        title=title or m.title,
        mechanism=m.plain_words,
        evidence_grade=m.evidence_grade,
        sources=tuple(s.citation for s in m.sources),
        evidence=evidence,
        action=action,
        severity=severity,
        confidence=max(0.0, min(1.0, confidence)),
    )


def _missing(m: Mechanism, missing: Missing, run: _Run, side: str = "", steps: int | None = None) -> Finding:
    reason = run.result.quality.unavailable.get(missing.reason_of, missing.default_reason)
    evidence = missing.evidence.format(reason=reason, side=side, steps=steps)
    return _finding(m, missing.id.format(side=side), evidence, missing.action, Severity.NOT_ENOUGH_DATA, 0.0)


def _requires(m: Mechanism, rule: Requires, run: _Run) -> Iterator[Finding]:
    quality = run.result.quality
    met = quality.has_gyroscope if rule.what == "gyroscope" else "placement_limits" not in quality.flags
    if not met:
        yield _missing(m, rule.missing, run)


def _vs_baseline(m: Mechanism, rule: VsBaseline, run: _Run) -> Iterator[Finding]:
    for side, name in sided(rule.field):
        value = getattr(run.record, name)
        steps = getattr(run.record, rule.min_steps[0].format(side=side)) if rule.min_steps else None
        if value is None or (rule.min_steps and (steps or 0) < rule.min_steps[1]):
            if rule.missing is not None:
                yield _missing(m, rule.missing, run, side, steps)
            continue
        if (band := run.band(name)) is None:
            continue
        mean, sd = band
        change = {"above": value - mean, "below": mean - value, "either": abs(value - mean)}[rule.direction]
        if change > max(rule.sds * sd, rule.at_least, rule.at_least_pct / 100 * mean):
            yield _above_usual(m, rule, run, side, value, band, change)


def _above_usual(
    m: Mechanism, rule: VsBaseline, run: _Run, side: str, value: float, band: tuple[float, float], change: float
) -> Finding:
    """The finding of a ``VsBaseline`` rule that fired, raised to act by its act thresholds."""
    mean, sd = band
    rise = getattr(run.record, rule.act_if_rising[0].format(side=side)) if rule.act_if_rising else None
    rising = rise is not None and rule.act_if_rising is not None and rise >= rule.act_if_rising[1]
    act = rising or (rule.act_at is not None and change >= rule.act_at)
    act = act or (rule.act_above_pct is not None and value > mean * (1 + rule.act_above_pct / 100))
    evidence = rule.evidence.format(
        value=value,
        mean=mean,
        band=2 * sd,
        runs=run.baseline.n_runs if run.baseline else 0,
        pct=100 * (value / mean - 1) if mean else math.nan,
        cadence=run.record.cadence_spm or math.nan,
        rising=rule.rising.format(change=rise) if rising else "",
        side=side,
        Side=side.capitalize(),
    )
    if run.baseline is not None and run.baseline.compared:
        evidence = f"{evidence} {run.baseline.compared}"  # which runs "usual" means: by speed and terrain, or not
    severity = Severity.ACT if act else rule.severity
    title = rule.title.format(side=side)
    return _finding(m, rule.id.format(side=side), evidence, m.actions[0], severity, rule.confidence * run.weight, title)


def _population(m: Mechanism, rule: Population, run: _Run) -> Iterator[Finding]:
    value = getattr(run.record, rule.field)
    if value is None or run.band(rule.field) is not None:  # a baseline judges it instead
        return
    threshold = rule.below if rule.below is not None else rule.beyond
    if (rule.below is not None and value < rule.below) or (rule.beyond is not None and abs(value) > rule.beyond):
        evidence = rule.evidence.format(value=value, threshold=threshold)
        yield _finding(m, rule.id, evidence, m.actions[0], rule.severity, rule.confidence, title=rule.title)


def _drift(m: Mechanism, rule: Drift, run: _Run) -> Iterator[Finding]:
    for side, name in sided(rule.field):
        change = getattr(run.record, name)
        if change is None or change < rule.watch_at:
            continue
        minutes = (run.record.running_s or 0.0) / 60
        evidence = rule.evidence.format(change=change, minutes=minutes, side=side, Side=side.capitalize())
        severity = Severity.ACT if change >= rule.act_at else Severity.WATCH
        yield _finding(
            m, rule.id.format(side=side), evidence, m.actions[0], severity, rule.confidence,
            title=rule.title.format(side=side),
        )  # fmt: skip


def _load_spike(m: Mechanism, rule: LoadSpike, run: _Run) -> Iterator[Finding]:
    if not run.weeks:
        return
    last = run.weeks[-1]
    if last.change_pct is None or last.change_pct <= rule.above_pct:
        return
    evidence = rule.evidence.format(
        running_min=last.running_min,
        change_pct=last.change_pct,
        previous_min=last.previous_min,
        chronic_min=last.chronic_min or 0,
    )
    title = rule.title.format(above_pct=rule.above_pct)
    yield _finding(m, "", evidence, m.actions[0], rule.severity, rule.confidence, title=title)


_APPLY: dict[type, Callable[[Mechanism, Any, _Run], Iterator[Finding]]] = {
    Requires: _requires,
    VsBaseline: _vs_baseline,
    Population: _population,
    Drift: _drift,
    LoadSpike: _load_spike,
}


def _apply(m: Mechanism, run: _Run) -> list[Finding]:
    """A mechanism's rules in order; a ``Requires`` gate that is not met ends them with its own finding."""
    out: list[Finding] = []
    for rule in m.rules:
        found = list(_APPLY[type(rule)](m, rule, run))
        if isinstance(rule, Requires) and found:
            return found
        out += found
    return out


def _too_little_running(record: RunRecord) -> Finding:
    return _finding(
        BY_ID["gluteus_medius_pelvic_drop"],
        "not_enough_data",
        f"Only {record.steps_used or 0} confident running steps in this recording.",
        "Record at least a few minutes of steady running.",
        Severity.NOT_ENOUGH_DATA,
        0.0,
        title="Not enough running to look for hip-related patterns",
    )


def _baseline_pending(similar_runs: int | None) -> Finding:
    if similar_runs is None:
        evidence = (
            "Analysed without your run history, so nothing is compared with your own usual (pelvic drop, "
            "braking, impact, asymmetry)."
        )
        action = "Analyse with the run store (the default for 'gait analyze') to build a personal baseline."
    else:
        evidence = (
            f"{similar_runs} of {MIN_RUNS} earlier runs like this one (a similar speed and terrain, or contact time) "
            f"are stored; comparisons with your own usual (pelvic drop, braking, impact, asymmetry) start once "
            f"there are {MIN_RUNS}."
        )
        action = "Keep recording your runs with the sensor worn the same way."
    m = BY_ID["gluteus_medius_pelvic_drop"]
    return _finding(
        m, "baseline_pending", evidence, action, Severity.NOT_ENOUGH_DATA, 0.0, title="Building your personal baseline"
    )


def evaluate(
    result: RunAnalysis,
    baseline: Baseline | None = None,
    similar_runs: int | None = None,
    weeks: list[WeekLoad] | None = None,
    mechanisms: Sequence[Mechanism] = MECHANISMS,
) -> tuple[Finding, ...]:
    """All findings for a run, most important first: every mechanism's rules over the run's record.

    ``mechanisms`` is the map applied (the default, or one with other thresholds, e.g. to sweep them)."""
    record = result.record
    if (record.steps_used or 0) < MIN_RUNNING_STEPS:
        return (_too_little_running(record),)
    run = _Run(result, record, baseline, weeks or [])
    out = [] if baseline is not None else [_baseline_pending(similar_runs)]
    for m in mechanisms:
        out += _apply(m, run)
    order = {s: i for i, s in enumerate(Severity)}
    return tuple(sorted(out, key=lambda f: (order[f.severity], -f.confidence)))
