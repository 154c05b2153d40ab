"""What each sensor placement can measure: one table, applied in one place (the end of ``analyze``).

gait's metrics are defined for a sensor on the pelvis (sacrum, lower back, a waist belt at the sacrum). Worn
elsewhere, the step timing still shows in the signal (cadence, contact and flight time), but angles, braking and
vertical oscillation would describe the thigh, arm or hand rather than the pelvis, and left/right labels come
from the pelvis's own motion. Those are withheld (``null``) with the reason in ``quality.unavailable``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gait.analysis.result import RunAnalysis
from gait.analysis.summary import SUMMARY_METRICS, SideValues

TIMING = frozenset({"cadence_spm", "contact_time_ms", "flight_time_ms"})

#: placement -> (metrics it supports, how to say where the sensor was)
SUPPORTED: dict[str, tuple[frozenset[str], str]] = {
    "front_pocket": (TIMING, "sensor on the thigh (front pocket)"),
    "arm_band": (TIMING, "sensor on the upper arm (arm band)"),
    "hand": (TIMING, "phone held in the hand"),
    "chest": (TIMING | {"vertical_oscillation_cm"}, "sensor on the chest"),
    "other": (TIMING, "sensor not on the pelvis"),
}


def restrict(result: RunAnalysis) -> RunAnalysis:
    """Withhold what the recording's placement cannot measure (pelvis placements are returned unchanged)."""
    placement = result.recording.meta.placement
    if placement not in SUPPORTED:
        return result
    ok, where = SUPPORTED[placement]
    s, q = result.summary, result.quality
    dropped = [m for m in SUMMARY_METRICS if m not in ok]
    need = "needs a sensor at the sacrum (waist belt)"
    unavailable = dict(q.unavailable)
    for m in dropped:
        label = m.rsplit("_", 1)[0].replace("_", " ").replace(" dv", "")  # pelvic_drop_deg -> pelvic drop
        unavailable[m] = f"{where}: {label} {need}"
    unavailable["per_side"] = f"{where}: left/right labels come from the pelvis's motion and {need}"
    summary = dataclasses.replace(
        s,
        medians={m: (v if m in ok else None) for m, v in s.medians.items()},
        per_side={m: SideValues(None, None) for m in s.per_side},
        drift={m: d for m, d in s.drift.items() if m in ok},
        n_left=0,
        n_right=0,
        side_confidence=None,
    )
    steps = result.steps.copy()
    for m in dropped:
        if m in steps:
            steps[m] = np.nan
    for m in ("braking_peak_g", "braking_dv_mps", "braking_duration_ms", "impact_g"):
        if m in steps and m not in ok:
            steps[m] = np.nan
    if len(steps):
        steps["side"] = "?"
    quality = dataclasses.replace(
        q,
        flags=(*q.flags, "placement_limits"),
        messages=(
            *q.messages,
            f"Placement {placement} ({where}): only cadence and step timing are reported; pelvic drop, rotation, "
            "tilt, braking and left/right need a sensor at the sacrum.",
        ),
        unavailable=unavailable,
    )
    return dataclasses.replace(result, summary=summary, steps=steps, quality=quality)
