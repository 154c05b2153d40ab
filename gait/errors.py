"""Exception families. Each message is one line a runner can act on; the CLI prints it and exits non-zero."""

from __future__ import annotations


class GaitError(Exception):
    """Base class for every error gait reports to a user."""


class RecordingError(GaitError):
    """A recording (or an importable file) cannot be read, written or makes no physical sense."""


class AnalysisError(GaitError):
    """The data were readable but there is not enough usable signal to analyse."""


class SimulationError(GaitError):
    """The simulator was asked for something it cannot model (e.g. a sample rate out of range)."""


class DeviceError(GaitError):
    """A sensor cannot be found, connected to, or does not speak its protocol as expected."""


def short(x: float, spec: str = ".2f") -> str:
    """A number for a message: formatted with ``spec`` unless absurdly large, then in 3 significant digits
    (1e300 once came out of ``:.2f`` as 301 digits)."""
    return format(x, spec) if abs(x) < 1e6 else format(x, ".3g")
