"""``AnalysisConfig``: every tunable of the analysis, one frozen parameter set per stage.

>>> from gait.analysis import AnalysisConfig
>>> cfg = AnalysisConfig().replace(running={"onset_fraction": 0.3}, sides={"disagree_factor": 0.5})
>>> cfg.running.onset_fraction
0.3

Each stage's parameters live beside the stage (their defaults and units are documented there); this module
only composes them, reads overrides from plain dicts (e.g. a JSON file) and writes them back.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gait.analysis.align import MountingParams
from gait.analysis.bouts import ActivityParams
from gait.analysis.events import RunningContactParams, WalkingContactParams
from gait.analysis.lever import LeverArmParams
from gait.analysis.metrics import StepMetricParams
from gait.analysis.orientation import OrientationParams
from gait.analysis.sides import SideParams
from gait.analysis.signal import InputParams
from gait.analysis.terrain import TerrainConfig
from gait.errors import GaitError


@dataclass(frozen=True)
class WindowParams:
    """How a long run is split so that memory stays bounded (see docs/method.md, "Long runs")."""

    window_s: float = 600.0  # stretches longer than this (s of signal) are analysed in windows of this length
    margin_s: float = 15.0  # each window is read with this much signal on either side (s), so filters settle
    decimation_margin_s: float = 2.0  # the anti-alias filter's margin (s) when decimating chunk by chunk


@dataclass(frozen=True)
class AnalysisConfig:
    """The parameters of every stage of ``gait.analysis.analyze`` (defaults: the validated settings)."""

    input: InputParams = field(default_factory=InputParams)
    activity: ActivityParams = field(default_factory=ActivityParams)
    mounting: MountingParams = field(default_factory=MountingParams)
    orientation: OrientationParams = field(default_factory=OrientationParams)
    lever_arm: LeverArmParams = field(default_factory=LeverArmParams)
    running: RunningContactParams = field(default_factory=RunningContactParams)
    walking: WalkingContactParams = field(default_factory=WalkingContactParams)
    sides: SideParams = field(default_factory=SideParams)
    steps: StepMetricParams = field(default_factory=StepMetricParams)
    windows: WindowParams = field(default_factory=WindowParams)
    terrain: TerrainConfig = field(default_factory=TerrainConfig)

    def replace(self, **stages: Any) -> AnalysisConfig:
        """A copy with some stages changed: each keyword names a stage and gives either its whole parameter
        set or a dict of the parameters to change, e.g. ``replace(running={"onset_fraction": 0.3})``."""
        changes = {}
        for name, value in stages.items():
            current = self._stage(name)
            if isinstance(value, type(current)):
                changes[name] = value
            elif isinstance(value, dict):
                changes[name] = _replace_params(current, value, name)
            else:
                raise ConfigError(f"{name}: expected a dict of parameters or {type(current).__name__}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Every parameter, by stage (JSON-ready: tuples become lists)."""
        return {f.name: dataclasses.asdict(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def changed(self) -> dict[str, dict[str, Any]]:
        """Only the parameters that differ from the defaults, by stage."""
        default = AnalysisConfig().to_dict()
        out: dict[str, dict[str, Any]] = {}
        for stage, params in self.to_dict().items():
            diff = {k: v for k, v in params.items() if v != default[stage][k]}
            if diff:
                out[stage] = diff
        return out

    @classmethod
    def from_dict(cls, overrides: dict[str, Any]) -> AnalysisConfig:
        """The defaults with ``{stage: {parameter: value}}`` applied (unknown names are an error)."""
        if not isinstance(overrides, dict):
            raise ConfigError('expected an object of stages, e.g. {"running": {"onset_fraction": 0.3}}')
        return cls().replace(**overrides)

    @classmethod
    def from_file(cls, path: Path | str) -> AnalysisConfig:
        """The defaults with the overrides of a JSON file ``{stage: {parameter: value}}`` applied."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the analysis settings ({exc})") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def _stage(self, name: str) -> Any:
        if name not in {f.name for f in dataclasses.fields(self)}:
            known = ", ".join(f.name for f in dataclasses.fields(self))
            raise ConfigError(f"unknown analysis stage {name!r} (stages: {known})")
        return getattr(self, name)


class ConfigError(GaitError):
    """Analysis settings that name no parameter or give a value of the wrong kind."""


def _replace_params(params: Any, values: dict[str, Any], stage: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(params)}
    hints = typing.get_type_hints(type(params))
    converted = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"{stage}: unknown parameter {key!r} (parameters: {', '.join(fields)})")
        converted[key] = _convert(value, hints[key], f"{stage}.{key}")
    return dataclasses.replace(params, **converted)


def _convert(value: Any, hint: Any, where: str) -> Any:
    """A JSON value as the parameter's declared type (float, int or a tuple of floats)."""
    if typing.get_origin(hint) is tuple:
        items = typing.get_args(hint)
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise ConfigError(f"{where}: expected a list of {len(items)} numbers, got {value!r}")
        return tuple(_convert(v, t, where) for v, t in zip(value, items, strict=True))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if hint is int:
        if value != int(value):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return int(value)
    return float(value)
