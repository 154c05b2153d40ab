"""Colours, metric names, units and the plain-language help shown beside every number.

The colours are gait's one palette (``gait.palette``, Okabe & Ito's colour-blind-safe set, shared with the HTML
report): left and right stance are always blue and orange.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from gait.api import RunRecord, palette

LEFT, RIGHT, BOTH, ACCENT, WARN, SKY, MUTED = (
    palette.LEFT,
    palette.RIGHT,
    palette.BOTH,
    palette.ACCENT,
    palette.WARN,
    palette.SKY,
    palette.MUTED,
)
SIDE_COLOUR = palette.SIDE_COLOUR

SIDE_NAME = {"L": "left stance", "R": "right stance"}

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class Metric:
    key: str  # a RunRecord field, and the per-step column of the same name where there is one
    label: str
    unit: str
    digits: int
    help: str  # plain words, shown as a tooltip


#: plain-language help beside a number, by run-record field; label, unit and decimals come from the record
HELP = {
    "cadence_spm": "Steps per minute, both feet counted. A few percent more steps at the same speed usually means "
    "shorter strides and less braking.",
    "contact_time_ms": "How long each foot is on the ground per step. It shortens as you run faster.",
    "flight_time_ms": "Time with both feet off the ground between steps.",
    "pelvic_drop_deg": "How far the opposite side of the pelvis drops while one foot is on the ground. 'Left' is "
    "measured during left-foot stance and reflects the left hip's side muscles (gluteus medius).",
    "braking_dv_mps": "Forward speed the pelvis loses after each landing. More braking often goes with landing "
    "further ahead of the body (overstriding).",
    "braking_peak_g": "Largest backward deceleration after landing, in g.",
    "step_speed_loss_mps": "Forward speed lost after each landing, with the hill's share taken out: uphill the "
    "ground's push leans back and slows you whatever your form, downhill it leans forward. On the flat it is the "
    "braking. The % is of your running speed.",
    "speed_mps": "Running speed measured by the GPS, a watch or a foot pod (the median over the running steps).",
    "vertical_oscillation_cm": "How far the pelvis moves up and down each step.",
    "impact_g": "Peak vertical acceleration at landing, in g (1 g = standing still).",
    "pelvic_tilt_range_deg": "Forward/backward tilt of the pelvis within a step. Lower confidence than pelvic drop.",
    "pelvic_rotation_range_deg": "Twist of the pelvis about the vertical axis within a step. Lower confidence than "
    "pelvic drop.",
}
HELP["pelvic_drop_left_deg"] = HELP["pelvic_drop_right_deg"] = HELP["pelvic_drop_deg"]


@functools.cache
def metric_info(key: str) -> Metric:
    """A run-record field as shown: an unknown name raises ``KeyError`` (never an empty card)."""
    info = RunRecord.info(key)
    return Metric(key, info.label, info.unit, info.digits, HELP.get(key, info.meaning[:1].upper() + info.meaning[1:]))


#: the per-step charts of the run detail page, in order
STEP_CHARTS = ("cadence_spm", "pelvic_drop_deg", "braking_dv_mps", "contact_time_ms")


def fmt(x: object, digits: int = 1, unit: str = "") -> str:
    """A number for display; 'n/a' for missing values (never a silent 'nan')."""
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return "n/a"
    s = f"{round(x, digits) + 0:.{digits}f}"  # never "-0.0"
    return f"{s} {unit}" if unit else s
