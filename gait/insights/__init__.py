"""Insights: the hip-pain mechanism map as data, findings per run, personal baselines and weekly load.

Reads ``RunAnalysis`` objects and plain per-run values; never touches recordings or the store itself.
"""

from gait.insights.baseline import MIN_RUNS, Baseline, build_baseline
from gait.insights.findings import Finding, evaluate
from gait.insights.load import RunLoad, WeekLoad, weekly_load
from gait.insights.mechanisms import BY_ID, MECHANISMS, NOT_A_DIAGNOSIS, RED_FLAGS, Mechanism

__all__ = [
    "BY_ID",
    "MECHANISMS",
    "MIN_RUNS",
    "NOT_A_DIAGNOSIS",
    "RED_FLAGS",
    "Baseline",
    "Finding",
    "Mechanism",
    "RunLoad",
    "WeekLoad",
    "build_baseline",
    "evaluate",
    "weekly_load",
]
