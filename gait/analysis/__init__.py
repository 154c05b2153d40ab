"""Analysis: pure functions over numpy arrays (no I/O), from aligned signals to per-step metrics.

``analyze(recording, config)`` chains the stages; ``AnalysisConfig`` holds every stage's parameters.
"""

from gait.analysis.config import AnalysisConfig, ConfigError
from gait.analysis.pipeline import analyze
from gait.analysis.result import RunAnalysis

__all__ = ["AnalysisConfig", "ConfigError", "RunAnalysis", "analyze"]
