"""Colours, metric names, units and the plain-language help shown beside every number.

The palette is Okabe & Ito's (2008) colour-blind-safe set: left and right are always the same two colours,
blue and orange, which stay distinct for the common forms of colour blindness and in greyscale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LEFT = "#0072B2"  # blue
RIGHT = "#E69F00"  # orange
BOTH = "#000000"
ACCENT = "#009E73"  # bluish green
WARN = "#D55E00"  # vermillion
MUTED = "#999999"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
SIDE_COLOUR = {"L": LEFT, "R": RIGHT}
SIDE_NAME = {"L": "left stance", "R": "right stance"}

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
SEVERITY_LABEL = {"act": "Act on it", "watch": "Watch", "info": "Context", "not_enough_data": "Not enough data"}
SEVERITY_COLOUR = {"act": WARN, "watch": RIGHT, "info": SKY, "not_enough_data": MUTED}


@dataclass(frozen=True)
class Metric:
    key: str  # column in the per-step table / key in the analysis JSON
    label: str
    unit: str
    digits: int
    help: str  # plain words, shown as a tooltip
    store_key: str = ""  # its name among the run history's values, when different


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "cadence_spm",
            "Cadence",
            "spm",
            1,
            "Steps per minute, both feet counted. A few percent more steps at the same speed usually means "
            "shorter strides and less braking.",
        ),
        Metric(
            "contact_time_ms",
            "Contact time",
            "ms",
            0,
            "How long each foot is on the ground per step. It shortens as you run faster.",
        ),
        Metric("flight_time_ms", "Flight time", "ms", 0, "Time with both feet off the ground between steps."),
        Metric(
            "pelvic_drop_deg",
            "Pelvic drop",
            "deg",
            1,
            "How far the opposite side of the pelvis drops while one foot is on the ground. 'Left' is measured "
            "during left-foot stance and reflects the left hip's side muscles (gluteus medius).",
        ),
        Metric(
            "braking_dv_mps",
            "Braking",
            "m/s per step",
            2,
            "Forward speed the pelvis loses after each landing. More braking often goes with landing further "
            "ahead of the body (overstriding).",
        ),
        Metric("braking_peak_g", "Braking peak", "g", 2, "Largest backward deceleration after landing, in g."),
        Metric(
            "vertical_oscillation_cm",
            "Vertical oscillation",
            "cm",
            1,
            "How far the pelvis moves up and down each step.",
        ),
        Metric("impact_g", "Impact", "g", 2, "Peak vertical acceleration at landing, in g (1 g = standing still)."),
        Metric(
            "pelvic_tilt_range_deg",
            "Pelvic tilt range",
            "deg",
            1,
            "Forward/backward tilt of the pelvis within a step. Lower confidence than pelvic drop.",
            "tilt_range_deg",
        ),
        Metric(
            "pelvic_rotation_range_deg",
            "Pelvic rotation range",
            "deg",
            1,
            "Twist of the pelvis about the vertical axis within a step. Lower confidence than pelvic drop.",
            "rotation_range_deg",
        ),
    )
}

#: the per-step charts of the run detail page, in order
STEP_CHARTS = ("cadence_spm", "pelvic_drop_deg", "braking_dv_mps", "contact_time_ms")


def fmt(x: object, digits: int = 1, unit: str = "") -> str:
    """A number for display; 'n/a' for missing values (never a silent 'nan')."""
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return "n/a"
    s = f"{x:.{digits}f}"
    return f"{s} {unit}" if unit else s
