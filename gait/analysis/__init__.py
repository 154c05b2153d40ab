"""Analysis: pure functions over numpy arrays (no I/O), from aligned signals to per-step metrics."""

from gait.analysis.pipeline import analyze
from gait.analysis.result import RunAnalysis

__all__ = ["RunAnalysis", "analyze"]
