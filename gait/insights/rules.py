"""The kinds of rule the mechanism map is written in: each a frozen record of thresholds over ``RunRecord`` fields,
which says in words what it checks (``describe``), so the text a runner reads is generated from the very numbers
``gait.insights.findings`` applies.

A field name may hold ``{side}``: the rule is then applied to the left and the right stance side in turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from gait import palette
from gait.analysis.summary import DRIFT_FRACTION, MIN_DRIFT_RUN_S, RunRecord

SIDES = ("left", "right")


class Severity(StrEnum):
    """How much a finding asks of the runner, most first; a plain string in JSON (``"act"``, ...)."""

    ACT = "act"
    WATCH = "watch"
    INFO = "info"
    NOT_ENOUGH_DATA = "not_enough_data"

    @property
    def label(self) -> str:
        """The words a runner reads."""
        return {"act": "Act on it", "watch": "Watch", "info": "Context", "not_enough_data": "Not enough data"}[self]

    @property
    def colour(self) -> str:
        """How the dashboard and the report mark it."""
        return {"act": palette.WARN, "watch": palette.RIGHT, "info": palette.SKY, "not_enough_data": palette.MUTED}[
            self
        ]


@dataclass(frozen=True)
class Missing:
    """The "not enough data" finding a rule gives when its field is missing (or too few steps carry a side)."""

    id: str  # appended to the mechanism id
    evidence: str  # may use {reason} (why ``reason_of`` is unavailable), {steps}, {side}
    action: str
    reason_of: str = ""  # the ``quality.unavailable`` entry that says why
    default_reason: str = "no data"


@dataclass(frozen=True)
class VsBaseline:
    """A finding when ``field`` moves away from the runner's usual (the baseline mean of earlier runs at a similar
    pace) by more than ``sds`` standard deviations and more than ``at_least`` (the field's unit) and
    ``at_least_pct`` % of the usual. ``act_at`` / ``act_above_pct`` / ``act_if_rising`` raise it to act."""

    field: str
    id: str
    title: str
    evidence: str  # may use {value} {mean} {band} (2 SD) {runs} {pct} (change, % of usual) {cadence} {rising} {side}
    label: str  # how the rule text names the value
    confidence: float  # how well one sacral sensor measures it; times how settled the baseline is
    direction: Literal["above", "below", "either"] = "above"
    sds: float = 2.0
    at_least: float = 0.0
    at_least_pct: float = 0.0
    severity: Severity = Severity.WATCH
    act_at: float | None = None  # act when the change reaches this
    act_above_pct: float | None = None  # act when the value is more than this % above the usual
    act_if_rising: tuple[str, float] | None = None  # (drift field, change): act when it also rises this much
    rising: str = ""  # evidence added when it rises, with {change}
    min_steps: tuple[str, int] | None = None  # (count field, n): fewer confidently-sided steps give ``missing``
    missing: Missing | None = None

    def describe(self) -> str:
        away = {"above": "above", "below": "below", "either": "away from"}[self.direction]
        unit = _unit(self.field)
        limits = [f"{self.sds:g} standard deviations"] if self.sds else []
        limits += [f"{self.at_least:g} {'percentage points' if unit == '%' else unit}"] if self.at_least else []
        limits += [f"{self.at_least_pct:g} %"] if self.at_least_pct else []
        acts = [f"from {self.act_at:g} {unit} {away} it".replace("  ", " ")] if self.act_at is not None else []
        acts += [f"when more than {self.act_above_pct:g} % above it"] if self.act_above_pct is not None else []
        if self.act_if_rising is not None:
            field, rise = self.act_if_rising
            acts += [f"when it also rises by {rise:g} {_unit(field)} or more through the run"]
        act = f"; act {' or '.join(acts)}" if acts else ""
        need = f" Needs {self.min_steps[1]} confidently labelled steps per side." if self.min_steps else ""
        return (
            f"{_subject(self.field, self.label)} {away} your usual at a similar pace by more than "
            f"{' and '.join(limits)}: {self.severity.value}{act}.{need}"
        )


@dataclass(frozen=True)
class Population:
    """Context from research when the runner has no baseline for ``field`` yet: a note when the value is
    ``below`` a threshold, or beyond ``beyond`` either side of zero (an asymmetry)."""

    field: str
    id: str
    title: str
    evidence: str  # may use {value} {threshold}
    label: str
    confidence: float
    below: float | None = None
    beyond: float | None = None
    severity: Severity = Severity.INFO

    def describe(self) -> str:
        unit = _unit(self.field)
        limit = f"under {self.below:g} {unit}" if self.below is not None else f"beyond ±{self.beyond:g} {unit}"
        return f"Without a baseline: {self.label} {limit} is noted as context only ({self.severity.value})."


@dataclass(frozen=True)
class Drift:
    """A finding when ``field`` (a change from the first to the last fifth of the running) reaches ``watch_at``,
    act from ``act_at``. The summary computes drift only for runs of at least ``MIN_DRIFT_RUN_S``."""

    field: str
    id: str
    title: str
    evidence: str  # may use {change} {minutes} {side}
    label: str
    confidence: float
    watch_at: float
    act_at: float

    def describe(self) -> str:
        unit = _unit(self.field)
        side = ", per stance side" if "{side}" in self.field else ""
        return (
            f"In runs of at least {MIN_DRIFT_RUN_S / 60:g} minutes{side}: {self.label} rising from the first "
            f"{DRIFT_FRACTION:.0%} of the running to the last by {self.watch_at:g} {unit} or more: watch; act from "
            f"{self.act_at:g} {unit}."
        )


@dataclass(frozen=True)
class LoadSpike:
    """A finding when this week's running time is more than ``above_pct`` % above the previous week's."""

    title: str
    evidence: str  # may use {running_min} {change_pct} {previous_min} {chronic_min}
    confidence: float
    above_pct: float
    severity: Severity = Severity.WATCH

    def describe(self) -> str:
        return (
            f"Weekly running time more than {self.above_pct:g} % above the previous week's: {self.severity.value}; "
            "shown beside the 4-week average rather than as a 'danger zone'."
        )


@dataclass(frozen=True)
class Requires:
    """A gate: when the recording lacks what the mechanism's numbers need, one "not enough data" finding says so
    and its other rules are not applied. ``what``: ``gyroscope`` or ``pelvis_placement``."""

    what: Literal["gyroscope", "pelvis_placement"]
    missing: Missing

    def describe(self) -> str:
        return {"gyroscope": "a gyroscope", "pelvis_placement": "the sensor at the sacrum"}[self.what]


Rule = VsBaseline | Population | Drift | LoadSpike | Requires


def sided(field: str) -> tuple[tuple[str, str], ...]:
    """(side, field) for each stance side a rule applies to: both for a ``{side}`` field, else one unnamed."""
    if "{side}" not in field:
        return (("", field),)
    return tuple((side, field.format(side=side)) for side in SIDES)


def check_fields(rule: Rule) -> None:
    """Every field a rule reads is a ``RunRecord`` field: a mistyped one fails when the map is built."""
    names = [getattr(rule, "field", None), *(rule.act_if_rising[:1] if getattr(rule, "act_if_rising", None) else ())]
    for name in filter(None, names):
        for _, f in sided(name):
            RunRecord.info(f)
    if isinstance(rule, VsBaseline) and rule.min_steps:
        for _, f in sided(rule.min_steps[0]):
            RunRecord.info(f)


def _unit(field: str) -> str:
    unit = RunRecord.info(sided(field)[0][1]).unit
    return unit.removesuffix(" per step")


def describe(rules: tuple[Rule, ...], note: str = "") -> str:
    """A mechanism's rules in words: each threshold rule, then what the data must have, then the note."""
    text = [r.describe() for r in rules if not isinstance(r, Requires)]
    needs = [r.describe() for r in rules if isinstance(r, Requires)]
    if needs:
        text.append(f"Needs {' and '.join(needs)}.")
    return " ".join([*text, note]).strip()


def _subject(field: str, label: str) -> str:
    return f"Per stance side, {label}" if "{side}" in field else label[:1].upper() + label[1:]
