"""gait: a local-first running-gait monitor for one sacral IMU.

>>> import gait
>>> rec = gait.load("recordings/easy_run_208hz")      # doctest: +SKIP
>>> result = gait.analyze(rec)                         # doctest: +SKIP
>>> result.steps.head(); result.summary.cadence_spm    # doctest: +SKIP
"""

from gait.analysis import RunAnalysis, analyze
from gait.errors import AnalysisError, GaitError, RecordingError
from gait.recording import Recording, load

__version__ = "0.1.0"

__all__ = ["AnalysisError", "GaitError", "Recording", "RecordingError", "RunAnalysis", "analyze", "load"]
