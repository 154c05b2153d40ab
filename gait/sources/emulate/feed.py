"""Samples for an emulated sensor: a simulated run, played out on the sensor's own (slightly drifting) clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from gait.simulate import SimConfig, SimResult, simulate


@dataclass
class SampleFeed:
    """The samples a sensor would measure, indexed by sample number (sample i at device time t0 + i / rate).

    ``drift_ppm`` makes the sensor's clock run fast (+) or slow (-) against the host, as real crystals do.
    When the simulated run is used up it starts again from the beginning.
    """

    rate_hz: float
    acc: np.ndarray  # (n, 3) m/s^2, sensor frame
    gyr: np.ndarray  # (n, 3) rad/s
    t0: float = 1000.0  # device clock at sample 0, s
    drift_ppm: float = 30.0
    started: float = field(default_factory=time.monotonic)
    next_index: int = 0  # the first sample not yet due

    @classmethod
    def simulated(cls, rate_hz: float, duration_s: float = 60.0, seed: int = 0, **sim: object) -> SampleFeed:
        cfg = SimConfig(
            segments=(("stand", 2.0), ("run", float(duration_s)), ("stand", 2.0)), rate_hz=rate_hz, seed=seed, **sim
        )  # type: ignore[arg-type]
        return cls.from_result(simulate(cfg))

    @classmethod
    def from_result(cls, result: SimResult) -> SampleFeed:
        imu = result.recording.imu
        gyr = imu.gyr if imu.gyr is not None else np.zeros_like(imu.acc)
        return cls(rate_hz=result.config.rate_hz, acc=imu.acc, gyr=gyr)

    def device_time(self, host_t: float | None = None) -> float:
        elapsed = (time.monotonic() if host_t is None else host_t) - self.started
        return self.t0 + elapsed * (1.0 + self.drift_ppm * 1e-6)

    def due(self) -> np.ndarray:
        """Indices of the samples taken since the last call (their device time has passed)."""
        upto = int((self.device_time() - self.t0) * self.rate_hz) + 1
        idx = np.arange(self.next_index, max(self.next_index, upto))
        self.next_index = max(self.next_index, upto)
        return idx

    def values(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(device times, acc, gyr) of samples ``idx`` (wrapping around the simulated run)."""
        k = idx % len(self.acc)
        return self.t0 + idx / self.rate_hz, self.acc[k], self.gyr[k]
