"""Analyse a recording and judge it against the runner's own history: the movement analysis, then the
findings (mechanism map, personal baseline, weekly load), optionally saved to the local run store.

This is what ``gait.analyze`` and the CLI call; ``gait.analysis.analyze`` alone is the pure movement analysis.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from gait.analysis import AnalysisConfig, RunAnalysis
from gait.analysis import analyze as analyze_movement
from gait.analysis.terrain import measured_speed_mps
from gait.errors import GaitError
from gait.insights import MIN_RUNS, NOT_A_DIAGNOSIS, RED_FLAGS, RunLoad, build_baseline, evaluate
from gait.insights.load import parse_day, weekly_load
from gait.recording import Recording
from gait.recording.folder import is_recording_folder
from gait.recording.meta import read_meta
from gait.store import RunStore

WEEKS_SHOWN = 6
DEFAULT_RUNNER = "default"


@dataclass(frozen=True)
class PodSummary:
    """What a Running Speed and Cadence pod recorded beside the IMU: a second opinion, and speed."""

    speed_mps: float | None  # median while moving
    cadence_spm: float | None  # median while moving, steps/min
    distance_m: float | None
    n: int


def pod_summary(recording: Recording) -> PodSummary | None:
    data = recording.extra.get("rsc")
    if data is None or len(data.t) == 0:
        return None
    speed, cadence, dist = data.column("speed_mps"), data.column("cadence_spm"), data.column("distance_m")
    moving = speed > 0.5
    finite = dist[np.isfinite(dist)]
    if len(finite) >= 2:
        distance = float(finite[-1] - finite[0])
    elif moving.any() and len(data.t) > 1:
        distance = float(np.sum(speed[:-1] * np.diff(data.t)))  # integrate speed when the pod sends no distance
    else:
        distance = None
    med = lambda x: float(np.median(x)) if len(x) else None  # noqa: E731
    return PodSummary(med(speed[moving]), med(cadence[moving & (cadence > 0)]), distance, len(data.t))


@dataclass(frozen=True)
class WatchSummary:
    """A watch's own running dynamics from its FIT file (medians while running, or while walking for a walking
    activity): a second opinion beside gait. Power is a Stryd pod's (or the watch's own) when the file has it."""

    cadence_spm: float | None
    contact_time_ms: float | None
    vertical_oscillation_cm: float | None
    contact_balance_pct: float | None
    step_length_m: float | None
    speed_mps: float | None
    n: int
    power_w: float | None = None
    form_power_w: float | None = None
    activity: str = "running"


def watch_summary(recording: Recording) -> WatchSummary | None:
    data = recording.extra.get("watch")
    if data is None or len(data.t) == 0:
        return None
    info = next((s for s in recording.meta.streams if s.name == "watch"), None)
    activity = (info.activity if info is not None else "") or "running"
    cadence = data.column("cadence_spm")
    # steps/min: running, not standing or walking; a walking activity's records while walking
    moving = cadence > 120 if activity == "running" else cadence > 40

    def med(name: str) -> float | None:
        if name not in data.channels:  # recordings imported before the channel existed
            return None
        x = data.column(name)[moving]
        x = x[np.isfinite(x)]
        return round(float(np.median(x)), 3) if len(x) else None

    return WatchSummary(
        med("cadence_spm"), med("contact_time_ms"), med("vertical_oscillation_cm"), med("contact_balance_pct"),
        med("step_length_m"), med("speed_mps"), int(moving.sum()), med("power_w"), med("form_power_w"), activity,
    )  # fmt: skip


def runner_of(recording: Recording) -> str:
    return recording.meta.subject.id or DEFAULT_RUNNER


def short_name(recording: Recording) -> str:
    """The folder or file name (titles are long); the title when the recording has no path."""
    p = recording.path
    if p is None:
        return recording.name
    return p.name if p.is_dir() else p.stem


def run_day(recording: Recording) -> date | None:
    """The day the run happened: the recording's start time; for a plain CSV file (which carries no date) the
    day it was last modified; else when the recording folder was made."""
    meta = recording.meta
    if meta.start_utc:
        return parse_day(meta.start_utc)
    p = recording.path
    if p is not None and p.is_file():
        return datetime.fromtimestamp(p.stat().st_mtime, UTC).date()
    return parse_day(meta.created_utc)


def chronological(paths: list[Path]) -> list[Path]:
    """Recording folders oldest first (so baselines build up in order); other files keep their place at the end."""

    def key(p: Path) -> tuple[int, str]:
        if is_recording_folder(p):
            try:
                meta = read_meta(p)
                return 0, meta.start_utc or meta.created_utc or ""
            except (GaitError, OSError, ValueError):  # an unreadable folder is reported when it is loaded
                return 1, ""
        return 1, ""

    return sorted(paths, key=key)


def judge(
    movement: RunAnalysis,
    store: RunStore | None = None,
    runner: str | None = None,
    save: bool = False,
    distance_m: float | None = None,
) -> RunAnalysis:
    """Add findings and their context to a movement analysis; with ``save``, store the run for later baselines.

    ``distance_m`` (from a watch or treadmill; else from a foot pod recorded alongside, else a GPS or watch
    track) adds distance to the weekly load. Speed is the steps' measured speed (GPS, watch, foot pod), else the
    pod's median, else distance / running time; with it baselines match runs by speed (and terrain) instead of
    by contact time.
    """
    rec = movement.recording
    runner = runner or runner_of(rec)
    day = run_day(rec)
    running_s = movement.summary.running_s
    pod = pod_summary(rec)
    if distance_m is None and pod is not None:
        distance_m = pod.distance_m
    if distance_m is None and movement.terrain is not None:
        distance_m = movement.terrain.measured_distance_m  # a GPS or watch track
    speed = measured_speed_mps(movement.steps)  # GPS, watch or foot pod, step by step
    if speed is None and pod is not None and pod.speed_mps:
        speed = pod.speed_mps
    if speed is None and distance_m is not None and running_s > 0:
        speed = distance_m / running_s
    movement = dataclasses.replace(movement, speed_mps=speed, distance_m=distance_m)
    record = movement.record
    this_load = RunLoad(day, running_s, record.steps or 0, distance_m) if day else None
    earlier = store.runs(runner, before=day, exclude=rec.meta.id) if store is not None else []
    baseline, similar = build_baseline(record, [r.record for r in earlier]) if store is not None else (None, None)
    loads = [load for r in earlier if (load := r.load()) is not None]
    weeks = weekly_load([*loads, this_load], until=day) if this_load else []
    findings = evaluate(movement, baseline, similar, weeks)
    context: dict[str, Any] = {
        "runner": runner,
        "run_day": day.isoformat() if day else None,
        "baseline": baseline.to_dict()
        if baseline
        else {"n_runs": similar or 0, "needed": MIN_RUNS, "status": "building" if store is not None else "no history"},
        "weekly_load": [w.to_dict() for w in weeks[-WEEKS_SHOWN:]],
        "foot_pod": None if pod is None else dataclasses.asdict(pod),
        "watch": None if (watch := watch_summary(rec)) is None else dataclasses.asdict(watch),
        "red_flags": list(RED_FLAGS),
        "not_a_diagnosis": NOT_A_DIAGNOSIS,
    }
    result = dataclasses.replace(movement, findings=findings, context=context)
    if save and store is not None:
        store.add(
            recording_id=rec.meta.id,
            runner=runner,
            name=short_name(rec),
            path=str(rec.path) if rec.path else "",
            day=day,
            synthetic=rec.meta.synthetic,
            record=record,
            analysis=result.to_dict(),
            findings=[f.to_dict() for f in findings],
        )
    return result


def analyze(
    recording: Recording,
    store: RunStore | None = None,
    runner: str | None = None,
    save: bool = False,
    distance_m: float | None = None,
    config: AnalysisConfig | None = None,
) -> RunAnalysis:
    """Movement analysis plus findings. Without a store, findings use this run alone (no baseline).
    ``config`` sets the analysis stages' parameters (default: the validated settings)."""
    if recording.imu.n == 0 and "watch" in recording.extra:
        from gait.errors import AnalysisError

        raise AnalysisError(
            f"{recording.name}: a watch file without raw IMU samples; gait's own analysis needs them "
            "('gait analyze' shows the watch's numbers; 'gait import FILE.fit --attach RECORDING' puts them beside "
            "gait's)"
        )
    movement = analyze_movement(recording, config or AnalysisConfig())
    return judge(movement, store=store, runner=runner, save=save, distance_m=distance_m)
