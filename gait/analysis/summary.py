"""Run summary: medians overall and per side, left/right asymmetry, drift over the run; and ``RunRecord``, the
run in one flat row that everything downstream reads.

Summaries use only confident steps: timing confidence >= ``StepMetricParams.min_confidence`` for every metric and, for
per-side values, side confidence >= ``MIN_SIDE_CONFIDENCE``. What was left out is counted, never averaged in.

``RunRecord`` is the one place a run's numbers are named: the JSON's numbers, the run store's columns, ``gait
batch`` rows, the dashboard, the reports and the live view are all derived from its fields, so a name is
defined once and a mistyped one raises instead of showing an empty value. Its one structured field,
``by_terrain`` (``TerrainSplit``: the medians of the uphill, flat and downhill steps), is a small typed record
of its own in the JSON and flattened into columns (``uphill_contact_time_ms``, ...) in tables.

When the steps carry a terrain class (``gait.analysis.terrain``), drift is measured within like terrain: a
final hill is not read as fatigue.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gait.analysis.terrain import TERRAINS

MIN_SIDE_CONFIDENCE = 0.6
MIN_DRIFT_RUN_S = 300.0  # drift needs at least 5 minutes of running
DRIFT_FRACTION = 0.2  # early = first 20 % of running time, late = last 20 %

#: metrics summarised per run (column -> unit label)
SUMMARY_METRICS = {
    "contact_time_ms": "ms",
    "flight_time_ms": "ms",
    "vertical_oscillation_cm": "cm",
    "impact_g": "g",
    "braking_peak_g": "g",
    "braking_dv_mps": "m/s",
    "braking_duration_ms": "ms",
    "step_speed_loss_mps": "m/s",
    "step_speed_loss_pct": "%",
    "pelvic_drop_deg": "deg",
    "pelvic_obliquity_range_deg": "deg",
    "pelvic_tilt_range_deg": "deg",
    "pelvic_rotation_range_deg": "deg",
}
#: drift within like terrain: flat steps, and steps on slopes within bands of this grade (a 7 % hill early and a
#: 4 % one late are not alike); a group counts when its steps span this share of the running (so its early and
#: late steps are far apart in the run) and at least half of the used steps have a known terrain
SLOPE_BAND_PCT = 3.0
LIKE_TERRAIN_SPAN = 0.5
LIKE_TERRAIN_KNOWN = 0.5
MIN_TERRAIN_STEPS = 40
#: a run's terrain as a whole: flat when this % of its distance is flat, uphill / downhill when more than
#: ``ONE_WAY_SHARE_PCT`` climbs / descends, else rolling
FLAT_RUN_SHARE_PCT = 80.0
ONE_WAY_SHARE_PCT = 50.0
DRIFT_METRICS = (
    "cadence_spm",
    "contact_time_ms",
    "pelvic_drop_deg",
    "braking_dv_mps",
    "vertical_oscillation_cm",
)


@dataclass(frozen=True)
class SideValues:
    left: float | None
    right: float | None

    def asymmetry_pct(self) -> float | None:
        """100 * (right - left) / mean(left, right); positive = right larger."""
        if self.left is None or self.right is None:
            return None
        mean = 0.5 * (self.left + self.right)
        return None if mean == 0 else round(100.0 * (self.right - self.left) / abs(mean), 2)


@dataclass(frozen=True)
class Drift:
    """Change of a metric over the run: early vs late medians and a per-10-minute slope."""

    early: float | None
    late: float | None
    change: float | None
    slope_per_10min: float | None
    left_change: float | None = None
    right_change: float | None = None


@dataclass(frozen=True)
class FieldInfo:
    """What a ``RunRecord`` field holds: its unit as shown, a short label, the decimals shown, one line of meaning."""

    name: str
    unit: str
    label: str
    digits: int
    meaning: str
    integer: bool = False  # a count


def _field(unit: str, label: str, digits: int, meaning: str) -> Any:
    return field(default=None, metadata={"info": (unit, label, digits, meaning)})


def _infos(cls: type) -> dict[str, FieldInfo]:
    return {
        f.name: FieldInfo(f.name, *f.metadata["info"], integer=str(f.type).startswith("int"))
        for f in dataclasses.fields(cls)
        if "info" in f.metadata
    }


@dataclass(frozen=True)
class TerrainMedians:
    """The steps of one terrain class (``gait.analysis.terrain``: uphill above +2 % grade, downhill below -2 %):
    medians over its confident running steps, per side over its confidently sided ones."""

    distance_m: float | None = _field("m", "Distance", 0, "horizontal distance run on it (running steps x speed)")
    share_pct: float | None = _field("%", "Share", 0, "its share of the distance whose terrain is known")
    grade_pct: float | None = _field("%", "Grade", 1, "median grade of its steps")
    steps: int | None = _field("", "Steps", 0, "confident running steps on it")
    speed_mps: float | None = _field("m/s", "Speed", 2, "median speed")
    cadence_spm: float | None = _field("spm", "Cadence", 1, "60 / median step time")
    contact_time_ms: float | None = _field("ms", "Contact time", 0, "median ground contact time")
    pelvic_drop_left_deg: float | None = _field("deg", "Pelvic drop, left stance", 1, "median left-stance drop")
    pelvic_drop_right_deg: float | None = _field("deg", "Pelvic drop, right stance", 1, "median right-stance drop")
    braking_dv_mps: float | None = _field("m/s per step", "Braking", 2, "median forward speed lost per step")
    step_speed_loss_mps: float | None = _field(
        "m/s per step", "Step speed loss", 2, "median hill-adjusted forward speed lost per step"
    )
    step_speed_loss_pct: float | None = _field(
        "%", "Step speed loss, % of speed", 1, "the same as % of the running speed"
    )


TERRAIN_FIELDS: dict[str, FieldInfo] = _infos(TerrainMedians)


@dataclass(frozen=True)
class TerrainSplit:
    """A run's steps by terrain class: ``uphill``, ``flat``, ``downhill`` (a class the run did not have holds
    ``steps=0`` and no values)."""

    uphill: TerrainMedians = field(default_factory=TerrainMedians)
    flat: TerrainMedians = field(default_factory=TerrainMedians)
    downhill: TerrainMedians = field(default_factory=TerrainMedians)

    def of(self, terrain: str) -> TerrainMedians:
        return getattr(self, terrain)

    @property
    def kind(self) -> str:
        """The run's terrain as a whole (what baselines match): ``flat`` when at least 80 % of the distance is
        flat, ``uphill`` / ``downhill`` when more than half of it climbs / descends, else ``rolling``."""
        share = {t: self.of(t).share_pct or 0.0 for t in TERRAINS}
        if share["flat"] >= FLAT_RUN_SHARE_PCT:
            return "flat"
        for t in ("uphill", "downhill"):
            if share[t] > ONE_WAY_SHARE_PCT:
                return t
        return "rolling"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for t in TERRAINS:
            out[t] = {k: _json_number(getattr(self.of(t), k)) for k in TERRAIN_FIELDS}
        return out

    def columns(self) -> dict[str, float | int | None]:
        """Flattened for tables: ``{terrain}_{field}``."""
        return {f"{t}_{k}": getattr(self.of(t), k) for t in TERRAINS for k in TERRAIN_FIELDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TerrainSplit | None:
        """From ``to_dict`` output (``{terrain: {field: value}}``) or flattened columns (``{terrain}_{field}``);
        None when neither holds any steps."""
        parts = {}
        for t in TERRAINS:
            nested = d.get(t)
            values = nested if isinstance(nested, Mapping) else {k: d.get(f"{t}_{k}") for k in TERRAIN_FIELDS}
            parts[t] = TerrainMedians(**{k: _typed(TERRAIN_FIELDS[k], values.get(k)) for k in TERRAIN_FIELDS})
        if all(p.steps is None for p in parts.values()):
            return None
        return cls(**parts)


#: the split as table columns (``uphill_contact_time_ms``, ...): the store's and the batch table's
TERRAIN_COLUMNS: dict[str, FieldInfo] = {
    f"{t}_{k}": FieldInfo(f"{t}_{k}", f.unit, f"{f.label}, {t}", f.digits, f"{f.meaning} ({t} steps)", f.integer)
    for t in TERRAINS
    for k, f in TERRAIN_FIELDS.items()
}


@dataclass(frozen=True)
class RunRecord:
    """One run in one flat row: every number gait reports for a run, in the unit its name says; ``None`` where
    it cannot be computed (``RunAnalysis.quality.unavailable`` says why) or, for a run stored by an older
    version, was not kept. Per-side values use confidently-sided steps only."""

    duration_s: float | None = _field("s", "Recorded", 1, "first to last sample")
    running_s: float | None = _field("s", "Running time", 1, "time classified as running")
    walking_s: float | None = _field("s", "Walking time", 1, "time classified as walking")
    still_s: float | None = _field("s", "Still time", 1, "time classified as standing still")
    other_s: float | None = _field(
        "s", "Other time", 1, "time moving but neither running nor regular walking (turning, shuffling)"
    )
    steps: int | None = _field("", "Running steps", 0, "running steps (stances) detected")
    steps_used: int | None = _field("", "Steps used", 0, "running steps confident enough for the summary")
    steps_excluded_low_confidence: int | None = _field(
        "", "Steps left out", 0, "running steps left out (next to gaps, irregular)"
    )
    steps_left: int | None = _field("", "Left steps", 0, "used steps with a confident left label")
    steps_right: int | None = _field("", "Right steps", 0, "used steps with a confident right label")
    cadence_spm: float | None = _field(
        "spm", "Cadence", 1, "running steps per minute (least-squares step period over regular steps)"
    )
    walking_cadence_spm: float | None = _field("spm", "Walking cadence", 1, "the same for walking steps")
    contact_time_ms: float | None = _field("ms", "Contact time", 0, "median ground contact time")
    flight_time_ms: float | None = _field("ms", "Flight time", 0, "median time from toe-off to the next contact")
    vertical_oscillation_cm: float | None = _field(
        "cm", "Vertical oscillation", 1, "median up-down excursion of the pelvis per step (overestimates the "
        "centre of mass's by ~1.5 cm)"
    )  # fmt: skip
    impact_g: float | None = _field("g", "Impact", 2, "median peak acceleration in stance (gravity included)")
    braking_peak_g: float | None = _field(
        "g", "Braking peak", 2, "median largest deceleration between contact and the slowest point"
    )
    braking_dv_mps: float | None = _field("m/s per step", "Braking", 2, "median forward speed lost per step")
    braking_duration_ms: float | None = _field(
        "ms", "Braking time", 0, "median time from contact to the slowest point of the stance"
    )
    step_speed_loss_mps: float | None = _field(
        "m/s per step", "Step speed loss", 2, "median forward speed lost per step, hill-adjusted where the grade "
        "is known (braking minus the slope's share: gait.analysis.terrain)"
    )  # fmt: skip
    step_speed_loss_pct: float | None = _field(
        "%", "Step speed loss, % of speed", 1, "the same as % of the running speed"
    )
    step_speed_loss_left_mps: float | None = _field(
        "m/s per step", "Step speed loss, left stance", 2, "median step speed loss of left-foot steps"
    )
    step_speed_loss_right_mps: float | None = _field(
        "m/s per step", "Step speed loss, right stance", 2, "median step speed loss of right-foot steps"
    )
    step_speed_loss_left_pct: float | None = _field(
        "%", "Step speed loss, left stance, % of speed", 1, "the same as % of the running speed"
    )
    step_speed_loss_right_pct: float | None = _field(
        "%", "Step speed loss, right stance, % of speed", 1, "the same as % of the running speed"
    )
    pelvic_drop_deg: float | None = _field(
        "deg", "Pelvic drop", 1, "median contralateral pelvic drop over confident steps of both sides"
    )
    pelvic_drop_left_deg: float | None = _field(
        "deg", "Pelvic drop, left stance", 1, "median drop of the right hip while the left foot is on the ground"
    )
    pelvic_drop_right_deg: float | None = _field(
        "deg", "Pelvic drop, right stance", 1, "median drop of the left hip while the right foot is on the ground"
    )
    pelvic_drop_right_minus_left_deg: float | None = _field(
        "deg", "Pelvic drop, right minus left", 1, "right-stance minus left-stance pelvic drop"
    )
    pelvic_obliquity_range_deg: float | None = _field(
        "deg", "Pelvic obliquity range", 1, "median range of pelvic obliquity during stance"
    )
    pelvic_tilt_range_deg: float | None = _field(
        "deg", "Pelvic tilt range", 1, "median range of pelvic tilt during stance"
    )
    pelvic_rotation_range_deg: float | None = _field(
        "deg", "Pelvic rotation range", 1, "median range of pelvic rotation during stance"
    )
    contact_time_asymmetry_pct: float | None = _field(
        "%", "Contact time R vs L", 1, "100 * (right - left) / mean of the per-side contact times"
    )
    braking_asymmetry_pct: float | None = _field(
        "%", "Braking R vs L", 1, "100 * (right - left) / mean of the per-side braking"
    )
    side_confidence: float | None = _field("", "Side confidence", 2, "0-1, median confidence of the side labels")
    cadence_drift_spm: float | None = _field(
        "spm",
        "Cadence drift",
        1,
        f"last fifth of the running minus the first (runs of {MIN_DRIFT_RUN_S / 60:g} min or more)",
    )
    contact_time_drift_ms: float | None = _field("ms", "Contact time drift", 0, "the same for contact time")
    pelvic_drop_left_drift_deg: float | None = _field(
        "deg", "Pelvic drop drift, left stance", 1, "the same for left-stance pelvic drop"
    )
    pelvic_drop_right_drift_deg: float | None = _field(
        "deg", "Pelvic drop drift, right stance", 1, "the same for right-stance pelvic drop"
    )
    braking_dv_drift_mps: float | None = _field("m/s per step", "Braking drift", 2, "the same for braking")
    vertical_oscillation_drift_cm: float | None = _field(
        "cm", "Vertical oscillation drift", 1, "the same for vertical oscillation"
    )
    speed_mps: float | None = _field(
        "m/s", "Speed", 2, "running speed, when measured: the median over the running steps of a GPS, watch or foot "
        "pod speed (never the IMU-only estimate), else distance / running time"
    )  # fmt: skip
    distance_m: float | None = _field(
        "m", "Distance", 0, "distance, when known (the runner, a foot pod, a GPS or watch track)"
    )
    #: the medians by terrain class, when at least half of the steps have one (a small record of its own)
    by_terrain: TerrainSplit | None = field(default=None)

    @staticmethod
    def names() -> tuple[str, ...]:
        """Every column of the record as a table row, in order: each number, then the terrain split flattened
        (``uphill_cadence_spm``, ...): the store's columns and the batch table's value columns."""
        return (*RECORD_FIELDS, *TERRAIN_COLUMNS)

    @staticmethod
    def info(name: str) -> FieldInfo:
        """A column's unit, label, decimals and meaning; an unknown name raises (never an empty card)."""
        found = RECORD_FIELDS.get(name) or TERRAIN_COLUMNS.get(name)
        if found is None:
            raise KeyError(f"{name!r} is not a RunRecord field (see gait.analysis.summary.RECORD_FIELDS)")
        return found

    def value(self, name: str) -> float | int | None:
        """A column by name (for tables generated from field names); an unknown name raises."""
        if self.info(name).name in RECORD_FIELDS:
            return getattr(self, name)
        return None if self.by_terrain is None else self.by_terrain.columns()[name]

    def row(self) -> dict[str, float | int | None]:
        """One value per ``names()`` column (a table row: the store, ``gait batch``)."""
        flat = self.by_terrain.columns() if self.by_terrain is not None else dict.fromkeys(TERRAIN_COLUMNS)
        return {k: getattr(self, k) for k in RECORD_FIELDS} | flat

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: floats to 3 decimals, NaN or infinite as ``None``; ``by_terrain`` as its own object."""
        out: dict[str, Any] = {k: _json_number(getattr(self, k)) for k in RECORD_FIELDS}
        out["by_terrain"] = None if self.by_terrain is None else self.by_terrain.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunRecord:
        """From ``to_dict`` output or a store row: unknown keys are ignored, missing fields are ``None``."""
        split = d.get("by_terrain")
        return cls(
            **{k: _as_type(k, d[k]) for k in RECORD_FIELDS if k in d},
            by_terrain=TerrainSplit.from_dict(split if isinstance(split, Mapping) else d),
        )


def _json_number(x: float | int | None) -> float | int | None:
    if x is None or isinstance(x, int):
        return x
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, 3)


def _as_type(name: str, x: Any) -> float | int | None:
    return _typed(RECORD_FIELDS[name], x)


def _typed(info: FieldInfo, x: Any) -> float | int | None:
    if x is None:
        return None
    return int(x) if info.integer else float(x)


#: the record's numbers (``by_terrain`` is a record of its own: ``TERRAIN_FIELDS``)
RECORD_FIELDS: dict[str, FieldInfo] = _infos(RunRecord)
#: the fields a run's page shows as cards, each beside the runner's usual value (the dashboard and the HTML report)
CARD_FIELDS = (
    "cadence_spm",
    "contact_time_ms",
    "flight_time_ms",
    "vertical_oscillation_cm",
    "impact_g",
    "braking_dv_mps",
    "step_speed_loss_mps",
)


def record_fields_markdown(fields: Mapping[str, FieldInfo] | None = None) -> str:
    """The fields as a markdown table (embedded in docs/json-schema.md; a test keeps it in step): the record's,
    or others (``TERRAIN_FIELDS``)."""
    rows = ["| key | unit | meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.unit or '-'} | {f.meaning} |" for f in (fields or RECORD_FIELDS).values()]
    return "\n".join(rows)


@dataclass(frozen=True)
class RunSummary:
    """Result of the summary stage: time per activity, step counts, medians overall and per side, drift."""

    duration_s: float
    running_s: float
    walking_s: float
    still_s: float
    other_s: float
    n_steps: int
    n_used: int
    n_excluded: int
    n_left: int
    n_right: int
    cadence_spm: float | None
    walking_cadence_spm: float | None
    medians: dict[str, float | None]
    per_side: dict[str, SideValues]
    side_confidence: float | None
    drift: dict[str, Drift]
    drift_reason: str | None = None
    notes: tuple[str, ...] = field(default=())
    drift_terrains: tuple[str, ...] = ()  # drift measured within these groups of like terrain; () = the whole run

    def record(
        self, speed_mps: float | None = None, distance_m: float | None = None, by_terrain: TerrainSplit | None = None
    ) -> RunRecord:
        """The summary as one ``RunRecord`` (speed, distance and the terrain split come from outside the movement
        summary: ``RunAnalysis.record``)."""
        drop, loss = self.per_side["pelvic_drop_deg"], self.per_side["step_speed_loss_mps"]
        loss_pct = self.per_side["step_speed_loss_pct"]

        def drift(metric: str, part: str = "change") -> float | None:
            d = self.drift.get(metric)
            return None if d is None else getattr(d, part)

        return RunRecord(
            duration_s=self.duration_s,
            running_s=self.running_s,
            walking_s=self.walking_s,
            still_s=self.still_s,
            other_s=self.other_s,
            steps=self.n_steps,
            steps_used=self.n_used,
            steps_excluded_low_confidence=self.n_excluded,
            steps_left=self.n_left,
            steps_right=self.n_right,
            cadence_spm=self.cadence_spm,
            walking_cadence_spm=self.walking_cadence_spm,
            **self.medians,
            pelvic_drop_left_deg=drop.left,
            pelvic_drop_right_deg=drop.right,
            pelvic_drop_right_minus_left_deg=None
            if drop.left is None or drop.right is None
            else drop.right - drop.left,
            contact_time_asymmetry_pct=self.per_side["contact_time_ms"].asymmetry_pct(),
            braking_asymmetry_pct=self.per_side["braking_dv_mps"].asymmetry_pct(),
            step_speed_loss_left_mps=loss.left,
            step_speed_loss_right_mps=loss.right,
            step_speed_loss_left_pct=loss_pct.left,
            step_speed_loss_right_pct=loss_pct.right,
            side_confidence=self.side_confidence,
            cadence_drift_spm=drift("cadence_spm"),
            contact_time_drift_ms=drift("contact_time_ms"),
            pelvic_drop_left_drift_deg=drift("pelvic_drop_deg", "left_change"),
            pelvic_drop_right_drift_deg=drift("pelvic_drop_deg", "right_change"),
            braking_dv_drift_mps=drift("braking_dv_mps"),
            vertical_oscillation_drift_cm=drift("vertical_oscillation_cm"),
            speed_mps=speed_mps,
            distance_m=distance_m,
            by_terrain=by_terrain,
        )


def _median(x: pd.Series | np.ndarray) -> float | None:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else None


def cadence_from_steps(steps: pd.DataFrame) -> float | None:
    """Steps per minute: the least-squares step period (step time against step number), pooled over bouts.

    Step numbers continue across a missed step or a gap (an interval of about two or three steps counts as
    that many), so one regression spans each whole bout and single-step timing noise averages out.
    Low-confidence steps are left out as points without breaking the count. Running steps are timed at
    mid-stance, where the fitted contact is best determined, walking steps at initial contact.
    """
    if len(steps) < 3:
        return None
    times = steps["ic_s"].to_numpy()
    if steps["to_s"].notna().all():
        times = 0.5 * (times + steps["to_s"].to_numpy())
    use = ~steps["low_confidence"].to_numpy(bool)
    bout = steps["bout"].to_numpy()
    dt = np.diff(times)
    local = pd.Series(dt).rolling(9, center=True, min_periods=1).median().to_numpy()
    ratio = dt / np.where(local > 0, local, np.nan)
    k = np.rint(ratio)
    link = (bout[1:] == bout[:-1]) & (k >= 1) & (k <= 3) & (np.abs(ratio - k) < 0.35)
    number = np.concatenate(([0.0], np.cumsum(np.where(link, k, 0.0))))
    chain = np.concatenate(([0], np.cumsum(~link)))
    num = den = 0.0
    for c in np.unique(chain):
        sel = (chain == c) & use
        if sel.sum() < 3:
            continue
        n_c = number[sel] - number[sel].mean()
        t_c = times[sel] - times[sel].mean()
        num += float(n_c @ t_c)
        den += float(n_c @ n_c)
    return 60.0 * den / num if num > 0 else None


def summarise(steps: pd.DataFrame, duration_s: float, activity_s: dict[str, float]) -> RunSummary:
    """Stage: summary. The run's medians, per-side values, cadence and drift from its per-step table."""
    run = steps[steps["activity"] == "run"]
    used = run[~run["low_confidence"]]
    sided = used[used["side_confidence"] >= MIN_SIDE_CONFIDENCE]
    have = [m for m in SUMMARY_METRICS if m in steps]  # a step table without the terrain stage's columns: None
    medians = {m: _median(used[m]) if m in have else None for m in SUMMARY_METRICS}
    per_side = {
        m: SideValues(_median(sided.loc[sided["side"] == "L", m]), _median(sided.loc[sided["side"] == "R", m]))
        if m in have
        else SideValues(None, None)
        for m in SUMMARY_METRICS
    }
    groups = like_terrain(used)
    drift, reason = compute_drift(used, activity_s.get("run", 0.0), groups)
    return RunSummary(
        duration_s=duration_s,
        running_s=activity_s.get("run", 0.0),
        walking_s=activity_s.get("walk", 0.0),
        still_s=activity_s.get("still", 0.0),
        other_s=activity_s.get("other", 0.0),
        n_steps=len(run),
        n_used=len(used),
        n_excluded=len(run) - len(used),
        n_left=int((sided["side"] == "L").sum()),
        n_right=int((sided["side"] == "R").sum()),
        cadence_spm=cadence_from_steps(run),
        walking_cadence_spm=cadence_from_steps(steps[steps["activity"] == "walk"]),
        medians=medians,
        per_side=per_side,
        side_confidence=_median(run["side_confidence"]) if len(run) else None,
        drift=drift,
        drift_reason=reason,
        drift_terrains=tuple(name for name, _ in groups or ()),
    )


def like_terrain(used: pd.DataFrame) -> list[tuple[str, np.ndarray]] | None:
    """The groups of like terrain drift is measured within, each with its steps (a mask over ``used``): the flat
    steps, and the steps on slopes of about the same grade (uphill or downhill in bands of ``SLOPE_BAND_PCT``),
    each kept when its steps span at least half of the running. None when the steps carry no terrain (or most of
    them an unknown one): drift is then measured over the whole run."""
    if "terrain" not in used or not len(used):
        return None
    terrain = used["terrain"].to_numpy()
    if np.isin(terrain, TERRAINS).mean() < LIKE_TERRAIN_KNOWN:
        return None
    band = np.abs(np.round(np.nan_to_num(used["grade_pct"].to_numpy(float)) / SLOPE_BAND_PCT)).astype(int)
    group = np.select([terrain == "flat", terrain == "uphill", terrain == "downhill"], [0, 1000, 2000], -1)
    group = np.where(group > 0, group + band, group)  # flat; uphill / downhill by band of grade; -1 unknown
    t = used["ic_s"].to_numpy()
    span = float(t.max() - t.min())
    out = []
    for g in np.unique(group[group >= 0]):
        sel = group == g
        if sel.sum() >= MIN_TERRAIN_STEPS and float(np.ptp(t[sel])) >= LIKE_TERRAIN_SPAN * span:
            lo, hi = ((g % 1000 + d) * SLOPE_BAND_PCT for d in (-0.5, 0.5))
            name = "flat" if g == 0 else f"{'uphill' if g < 2000 else 'downhill'} {lo:g}-{hi:g} %"
            out.append((name, sel))
    return out


def _fifths(t: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last ``DRIFT_FRACTION`` of the time spanned by the selected steps."""
    ts = t[sel]
    t0, t1 = ts.min(), ts.max()
    span = t1 - t0
    return sel & (t <= t0 + DRIFT_FRACTION * span), sel & (t >= t1 - DRIFT_FRACTION * span)


def compute_drift(
    used: pd.DataFrame, running_s: float, groups: list[tuple[str, np.ndarray]] | None = None
) -> tuple[dict[str, Drift], str | None]:
    """Early vs late (first and last 20 % of the steps in time) and a least-squares slope per 10 min.

    With ``groups`` (``like_terrain``) each group of like terrain is compared with itself: its own first and last
    fifth, the changes averaged weighted by the steps behind them, the slope fitted within each group; a run whose
    terrain changes so that no group spans it gives no drift (a final hill is not fatigue)."""
    if running_s < MIN_DRIFT_RUN_S or len(used) < 50:
        return {}, f"needs at least {MIN_DRIFT_RUN_S / 60:.0f} min of running (have {running_s / 60:.1f} min)"
    if groups is not None and not groups:
        return {}, (
            "the terrain changed through the run and no stretch of like terrain spans enough of it to tell fatigue "
            "from the hills"
        )
    t = used["ic_s"].to_numpy()
    parts = [mask for _, mask in groups] if groups else [np.ones(len(used), bool)]
    sides = used["side"].to_numpy()
    sided = used["side_confidence"].to_numpy() >= MIN_SIDE_CONFIDENCE
    out: dict[str, Drift] = {}
    for m in DRIFT_METRICS:
        vals = 60.0 / used["step_time_s"].to_numpy() if m == "cadence_spm" else used[m].to_numpy(float)
        ok = np.isfinite(vals)
        if ok.sum() < 20:
            continue
        early, late, slope = _grouped_drift(t, vals, ok, parts)
        if early is None or late is None:
            continue
        left_change = right_change = None
        if m == "pelvic_drop_deg":
            left_change, right_change = (_change(t, vals, ok & sided & (sides == s), parts) for s in ("L", "R"))
        out[m] = Drift(early, late, late - early, slope, left_change, right_change)
    return out, None


def _grouped_drift(
    t: np.ndarray, vals: np.ndarray, ok: np.ndarray, parts: list[np.ndarray]
) -> tuple[float | None, float | None, float | None]:
    """Early and late medians (weighted over the groups) and the within-group slope per 10 minutes."""
    early = late = weight = 0.0
    sxy = sxx = 0.0
    for sel in parts:
        e_mask, l_mask = _fifths(t, sel)
        e, la = _median(vals[e_mask & ok]), _median(vals[l_mask & ok])
        if e is None or la is None:
            continue
        w = min(int((e_mask & ok).sum()), int((l_mask & ok).sum()))
        early, late, weight = early + w * e, late + w * la, weight + w
        g = sel & ok
        dt = t[g] / 600.0 - np.mean(t[g] / 600.0)
        sxy += float(dt @ (vals[g] - np.mean(vals[g])))
        sxx += float(dt @ dt)
    if weight == 0:
        return None, None, None
    return early / weight, late / weight, sxy / sxx if sxx > 0 else None


def _change(t: np.ndarray, vals: np.ndarray, ok: np.ndarray, parts: list[np.ndarray]) -> float | None:
    """Late minus early of the ``ok`` steps (one side's), weighted over the groups."""
    total = weight = 0.0
    for sel in parts:
        e_mask, l_mask = _fifths(t, sel)
        e, la = _median(vals[e_mask & ok]), _median(vals[l_mask & ok])
        if e is not None and la is not None:
            w = min(int((e_mask & ok).sum()), int((l_mask & ok).sum()))
            total, weight = total + w * (la - e), weight + w
    return total / weight if weight else None


def terrain_split(steps: pd.DataFrame) -> TerrainSplit | None:
    """The medians of each terrain class's confident running steps (``RunRecord.by_terrain``); None when the
    steps carry no terrain or most of them an unknown one."""
    if not len(steps) or "terrain" not in steps:
        return None
    run = steps[steps["activity"] == "run"]
    used = run[~run["low_confidence"]]
    if not len(used) or np.isin(used["terrain"].to_numpy(), TERRAINS).mean() < LIKE_TERRAIN_KNOWN:
        return None
    ran = run["speed_mps"].to_numpy(float) * run["step_time_s"].to_numpy(float)
    distance = {t: float(np.nansum(np.where(run["terrain"] == t, ran, np.nan))) for t in TERRAINS}
    known = sum(distance.values())
    parts = {}
    for name in TERRAINS:
        g = used[used["terrain"] == name]
        sided = g[g["side_confidence"] >= MIN_SIDE_CONFIDENCE]
        step_time = _median(g["step_time_s"])
        parts[name] = TerrainMedians(
            distance_m=distance[name],
            share_pct=100.0 * distance[name] / known if known > 0 else None,
            grade_pct=_median(g["grade_pct"]),
            steps=len(g),
            speed_mps=_median(g["speed_mps"]),
            cadence_spm=60.0 / step_time if step_time else None,
            contact_time_ms=_median(g["contact_time_ms"]),
            pelvic_drop_left_deg=_median(sided.loc[sided["side"] == "L", "pelvic_drop_deg"]),
            pelvic_drop_right_deg=_median(sided.loc[sided["side"] == "R", "pelvic_drop_deg"]),
            braking_dv_mps=_median(g["braking_dv_mps"]),
            step_speed_loss_mps=_median(g["step_speed_loss_mps"]),
            step_speed_loss_pct=_median(g["step_speed_loss_pct"]),
        )
    return TerrainSplit(**parts)
