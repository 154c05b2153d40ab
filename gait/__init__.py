"""gait: a local-first running-gait monitor for one sacral IMU.

>>> import gait
>>> rec = gait.load("recordings/easy_run_208hz")      # doctest: +SKIP
>>> result = gait.analyze(rec)                         # doctest: +SKIP
>>> result.steps.head(); result.summary.cadence_spm    # doctest: +SKIP
>>> [f.title for f in result.findings]                 # doctest: +SKIP

The names below load on first use, so ``gait --help`` does not pay for numpy, scipy and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "AnalysisConfig": "gait.analysis",
    "AnalysisError": "gait.errors",
    "GaitError": "gait.errors",
    "RecordingError": "gait.errors",
    "Recording": "gait.recording",
    "load": "gait.recording",
    "RunAnalysis": "gait.analysis",
    "RunRecord": "gait.analysis.summary",
    "analyze": "gait.runs",
    "RunStore": "gait.store",
}

__all__ = [
    "AnalysisConfig",
    "AnalysisError",
    "GaitError",
    "Recording",
    "RecordingError",
    "RunAnalysis",
    "RunRecord",
    "RunStore",
    "analyze",
    "load",
]

if TYPE_CHECKING:
    from gait.analysis import AnalysisConfig, RunAnalysis
    from gait.analysis.summary import RunRecord
    from gait.errors import AnalysisError, GaitError, RecordingError
    from gait.recording import Recording, load
    from gait.runs import analyze
    from gait.store import RunStore


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gait' has no attribute {name!r}")
