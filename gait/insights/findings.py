"""Findings for one run: which mechanisms of the map the runner's own numbers point to.

Each rule compares the run with the runner's own baseline (earlier runs at a similar pace) and, where research
gives one, with population context. No finding without data behind it: when the data cannot support a rule
(no gyroscope, too few confident steps, no baseline yet) a "not enough data" finding says so instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gait.insights.baseline import MIN_RUNS, Baseline
from gait.insights.load import WeekLoad
from gait.insights.mechanisms import BY_ID, NOT_A_DIAGNOSIS, Mechanism

if TYPE_CHECKING:
    from gait.analysis.result import RunAnalysis

SEVERITIES = ("act", "watch", "info", "not_enough_data")
MIN_SIDED_STEPS = 20  # per side, for per-side findings
DRIFT_WATCH_DEG, DRIFT_ACT_DEG = 1.5, 3.0
DROP_MIN_EXCESS_DEG, DROP_ACT_EXCESS_DEG = 1.0, 2.5
LOW_CADENCE_SPM = 160.0
LOAD_SPIKE = 0.30

#: how far each measurement can be trusted (0-1), a judgement from the validation in docs/accuracy.md
MEASUREMENT_CONFIDENCE = {
    "pelvic_drop_deg": 0.8,
    "braking_dv_mps": 0.6,
    "cadence_spm": 0.95,
    "impact_g": 0.5,
    "vertical_oscillation_cm": 0.6,
    "contact_time_ms": 0.7,
    "pelvic_rotation_range_deg": 0.3,
    "pelvic_tilt_range_deg": 0.4,
    "weekly_load": 0.9,
}


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
    severity: str  # act | watch | info | not_enough_data
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
            "severity": self.severity,
            "confidence": round(self.confidence, 2),
            "note": self.note,
        }


def run_values(result: RunAnalysis) -> dict[str, float | None]:
    """The per-run numbers baselines and the history keep (flat, in the units their names say)."""
    s = result.summary
    med = s.medians
    side = s.per_side

    def diff(metric: str) -> float | None:
        v = side[metric]
        return None if v.left is None or v.right is None else v.right - v.left

    return {
        "duration_s": s.duration_s,
        "running_s": s.running_s,
        "steps": float(s.n_steps),
        "cadence_spm": s.cadence_spm,
        "contact_time_ms": med["contact_time_ms"],
        "flight_time_ms": med["flight_time_ms"],
        "braking_dv_mps": med["braking_dv_mps"],
        "impact_g": med["impact_g"],
        "vertical_oscillation_cm": med["vertical_oscillation_cm"],
        "drop_left_deg": side["pelvic_drop_deg"].left,
        "drop_right_deg": side["pelvic_drop_deg"].right,
        "drop_diff_deg": diff("pelvic_drop_deg"),
        "asym_contact_pct": side["contact_time_ms"].asymmetry_pct(),
        "asym_braking_pct": side["braking_dv_mps"].asymmetry_pct(),
        "rotation_range_deg": med["pelvic_rotation_range_deg"],
        "tilt_range_deg": med["pelvic_tilt_range_deg"],
        "speed_mps": None,  # known only with a distance (gait.runs.judge) or a speed sensor
        "distance_m": None,
    }


def _finding(
    m: Mechanism, suffix: str, evidence: str, action: str, severity: str, confidence: float, title: str | None = None
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


def _baseline_weight(b: Baseline | None) -> float:
    if b is None:
        return 0.0
    return min(0.95, 0.5 + 0.06 * b.n_runs)


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}"


def evaluate(
    result: RunAnalysis,
    baseline: Baseline | None = None,
    similar_runs: int | None = None,
    weeks: list[WeekLoad] | None = None,
) -> tuple[Finding, ...]:
    """All findings for a run, most important first."""
    out: list[Finding] = []
    s = result.summary
    values = run_values(result)
    has_gyro = result.quality.has_gyroscope
    wb = _baseline_weight(baseline)
    enough_running = s.n_used >= 2 * MIN_SIDED_STEPS

    if not enough_running:
        m = BY_ID["gluteus_medius_pelvic_drop"]
        out.append(
            _finding(
                m,
                "not_enough_data",
                f"Only {s.n_used} confident running steps in this recording.",
                "Record at least a few minutes of steady running.",
                "not_enough_data",
                0.0,
                title="Not enough running to look for hip-related patterns",
            )
        )
        return tuple(out)

    if baseline is None:
        m = BY_ID["gluteus_medius_pelvic_drop"]
        if similar_runs is None:
            evidence = (
                "Analysed without your run history, so nothing is compared with your own usual (pelvic drop, "
                "braking, impact, asymmetry)."
            )
            action = "Analyse with the run store (the default for 'gait analyze') to build a personal baseline."
        else:
            evidence = (
                f"{similar_runs} of {MIN_RUNS} earlier runs at a similar pace are stored; comparisons with "
                "your own usual (pelvic drop, braking, impact, asymmetry) start once there are "
                f"{MIN_RUNS}."
            )
            action = "Keep recording your runs with the sensor worn the same way."
        out.append(
            _finding(
                m, "baseline_pending", evidence, action, "not_enough_data", 0.0, title="Building your personal baseline"
            )
        )

    # -- pelvic drop per side, against the baseline; and its growth through the run ---------------------------------
    m = BY_ID["gluteus_medius_pelvic_drop"]
    drift = s.drift.get("pelvic_drop_deg")
    if not has_gyro:
        out.append(
            _finding(
                m,
                "not_enough_data",
                "No gyroscope in this recording: pelvic angles cannot be measured.",
                "Use a sensor with a gyroscope to follow pelvic drop.",
                "not_enough_data",
                0.0,
            )
        )
    elif "placement_limits" in result.quality.flags:  # e.g. a phone in a pocket: no pelvis angles to judge
        why = result.quality.unavailable.get("pelvic_drop_deg", "placement")
        action = "Wear the sensor in a belt at the sacrum to follow pelvic drop."
        out.append(_finding(m, "not_enough_data", f"Pelvic drop not measured: {why}.", action, "not_enough_data", 0.0))
    else:
        for side_name, key, n_side in (("left", "drop_left_deg", s.n_left), ("right", "drop_right_deg", s.n_right)):
            value = values[key]
            if value is None or n_side < MIN_SIDED_STEPS:
                out.append(
                    _finding(
                        m,
                        f"{side_name}.not_enough_data",
                        f"Only {n_side} {side_name}-stance steps with a confident side label.",
                        "Longer steady running helps the left/right labelling.",
                        "not_enough_data",
                        0.0,
                    )
                )
                continue
            band = baseline.band(key) if baseline else None
            if band is None:
                continue
            mean, sd = band
            excess = value - mean
            if excess > max(2 * sd, DROP_MIN_EXCESS_DEG):
                rising = ""
                change = getattr(drift, f"{side_name}_change", None) if drift else None
                if change is not None and change >= DRIFT_WATCH_DEG:
                    rising = f", rising {_fmt(change)} deg from the first to the last fifth of the run"
                sev = "act" if excess >= DROP_ACT_EXCESS_DEG or rising else "watch"
                out.append(
                    _finding(
                        m,
                        side_name,
                        f"{side_name.capitalize()}-stance pelvic drop {_fmt(value)} deg vs your baseline {_fmt(mean)} "
                        f"± {_fmt(2 * sd)} deg ({baseline.n_runs} runs){rising}.",
                        m.actions[0],
                        sev,
                        MEASUREMENT_CONFIDENCE["pelvic_drop_deg"] * wb,
                        title=f"More pelvic drop in {side_name} stance than usual",
                    )
                )
        if drift is not None:
            md = BY_ID["drop_fatigue_drift"]
            for side_name in ("left", "right"):
                change = getattr(drift, f"{side_name}_change")
                if change is None or change < DRIFT_WATCH_DEG:
                    continue
                sev = "act" if change >= DRIFT_ACT_DEG else "watch"
                minutes = s.running_s / 60
                out.append(
                    _finding(
                        md,
                        side_name,
                        f"{side_name.capitalize()}-stance pelvic drop rose by {_fmt(change)} deg from the first to the "
                        f"last fifth of this {minutes:.0f}-minute run.",
                        md.actions[0],
                        sev,
                        MEASUREMENT_CONFIDENCE["pelvic_drop_deg"],
                        title=f"Pelvic drop grew through the run ({side_name} stance)",
                    )
                )

    # -- braking and cadence ----------------------------------------------------------------------------------------
    m = BY_ID["overstride_braking"]
    dv, cad = values["braking_dv_mps"], values["cadence_spm"]
    if dv is None:
        out.append(
            _finding(
                m,
                "braking.not_enough_data",
                f"Braking not measured: {result.quality.unavailable.get('braking_dv_mps', 'no data')}.",
                "Use a sensor with a gyroscope to follow braking.",
                "not_enough_data",
                0.0,
            )
        )
    elif baseline and (band := baseline.band("braking_dv_mps")):
        mean, sd = band
        if dv - mean > max(2 * sd, 0.10 * mean):
            sev = "act" if dv > 1.25 * mean else "watch"
            out.append(
                _finding(
                    m,
                    "braking",
                    f"Forward speed lost per step {_fmt(dv, 2)} m/s vs your baseline {_fmt(mean, 2)} m/s "
                    f"({100 * (dv / mean - 1):+.0f} %), cadence {_fmt(cad or math.nan)} spm.",
                    m.actions[0],
                    sev,
                    MEASUREMENT_CONFIDENCE["braking_dv_mps"] * wb,
                    title="More braking per step than usual",
                )
            )
    if cad is not None:
        band = baseline.band("cadence_spm") if baseline else None
        if band and cad < 0.95 * band[0]:
            out.append(
                _finding(
                    m,
                    "cadence",
                    f"Cadence {_fmt(cad)} spm vs your baseline {_fmt(band[0])} spm "
                    f"({100 * (cad / band[0] - 1):+.0f} %) at a similar pace.",
                    m.actions[0],
                    "watch",
                    MEASUREMENT_CONFIDENCE["cadence_spm"] * wb,
                    title="Lower cadence than usual",
                )
            )
        elif band is None and cad < LOW_CADENCE_SPM:
            out.append(
                _finding(
                    m,
                    "cadence_context",
                    f"Cadence {_fmt(cad)} spm. Context only: cadence depends on speed and height; some runners who "
                    "overstride run below about 160 spm.",
                    m.actions[0],
                    "info",
                    0.5,
                    title="Cadence on the low side",
                )
            )

    # -- impact -----------------------------------------------------------------------------------------------------
    m = BY_ID["impact_absorption"]
    if baseline:
        for key, label, unit, digits in (
            ("impact_g", "Impact", "g", 2),
            ("vertical_oscillation_cm", "Bounce", "cm", 1),
        ):
            value, band = values[key], baseline.band(key)
            if value is None or band is None:
                continue
            mean, sd = band
            if value - mean > max(2 * sd, 0.10 * mean):
                out.append(
                    _finding(
                        m,
                        key,
                        f"{label} {_fmt(value, digits)} {unit} vs your baseline {_fmt(mean, digits)} {unit} "
                        f"({100 * (value / mean - 1):+.0f} %).",
                        m.actions[0],
                        "watch",
                        MEASUREMENT_CONFIDENCE[key if key != "impact_g" else "impact_g"] * wb,
                        title=f"{label} higher than usual",
                    )
                )

    # -- left/right: a change detector ------------------------------------------------------------------------------
    m = BY_ID["left_right_imbalance"]
    checks = (
        ("asym_contact_pct", "contact time", "%", 5.0),
        ("asym_braking_pct", "braking", "%", 5.0),
        ("drop_diff_deg", "pelvic drop (right minus left)", "deg", 2.0),
    )
    for key, label, unit, min_change in checks:
        value = values[key]
        if value is None:
            continue
        band = baseline.band(key) if baseline else None
        if band:
            mean, sd = band
            if abs(value - mean) > max(2 * sd, min_change):
                out.append(
                    _finding(
                        m,
                        key,
                        f"Left/right difference in {label}: {_fmt(value)} {unit} vs your usual {_fmt(mean)} {unit}.",
                        m.actions[0],
                        "watch",
                        0.6 * wb,
                        title=f"Your left/right balance in {label} changed",
                    )
                )
        elif (unit == "%" and abs(value) > 10.0) or (unit == "deg" and abs(value) > 4.0):
            out.append(
                _finding(
                    m,
                    f"{key}_context",
                    f"Left/right difference in {label}: {_fmt(value)} {unit}. Asymmetry alone does not predict injury; "
                    "it matters if it changes.",
                    m.actions[0],
                    "info",
                    0.4,
                    title=f"Left/right difference in {label}",
                )
            )

    # -- rotation and tilt: baseline only, low confidence -----------------------------------------------------------
    if baseline and has_gyro:
        for mech_id, key, metric, label in (
            ("pelvic_rotation_iliacus", "rotation_range_deg", "pelvic_rotation_range_deg", "Pelvic rotation range"),
            ("anterior_tilt_hip_flexors", "tilt_range_deg", "pelvic_tilt_range_deg", "Pelvic tilt range"),
        ):
            m = BY_ID[mech_id]
            value, band = values[key], baseline.band(key)
            if value is None or band is None:
                continue
            mean, sd = band
            if value - mean > max(2 * sd, 2.0):
                out.append(
                    _finding(
                        m,
                        key,
                        f"{label} {_fmt(value)} deg vs your baseline {_fmt(mean)} deg.",
                        m.actions[0],
                        "info",
                        MEASUREMENT_CONFIDENCE[metric] * wb,
                        title=f"{label} larger than usual",
                    )
                )

    # -- weekly load ------------------------------------------------------------------------------------------------
    if weeks:
        m = BY_ID["training_load_spike"]
        last = weeks[-1]
        if last.spike and last.change_pct is not None:
            out.append(
                _finding(
                    m,
                    "",
                    f"This week so far: {last.running_min:.0f} min of running, {last.change_pct:+.0f} % on the "
                    f"previous week ({last.previous_min:.0f} min); 4-week average {last.chronic_min or 0:.0f} min.",
                    m.actions[0],
                    "watch",
                    MEASUREMENT_CONFIDENCE["weekly_load"],
                    title="Weekly running jumped by more than 30 %",
                )
            )

    order = {s: i for i, s in enumerate(SEVERITIES)}
    return tuple(sorted(out, key=lambda f: (order[f.severity], -f.confidence)))
