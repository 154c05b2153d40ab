"""``analyze(recording, config) -> RunAnalysis``: the single-sensor analysis as a chain of stages, the same for
files and replays. Each stage owns its parameters (``config``) and returns a typed result:

1. Input: checks, uniform clocks (gaps up to 0.5 s bridged and flagged, longer ones split the run),
   decimation to ~50 Hz chunk by chunk (``signal``).
2. Whole-run decisions, on the decimated signal: activity bouts (``bouts``), mounting (``align``), and per
   stretch the lever arm (``lever``), fitted from flight phases over the whole stretch.
3. Window by window (a long stretch in windows of ``config.windows.window_s`` with margins, each step owned
   by the window its contact falls in): orientation (``orientation``), rotation compensation, running and
   walking contacts (``events``), side evidence (``sides``) and per-step metrics (``metrics``).
4. The forward direction is checked on the compensated signal of the whole run (with a gyroscope); if it
   was reversed, step 3 runs again with the mounting turned round.
5. Whole-run step table: regularity, side labels per chain of steps, confidence; speed, grade and terrain at
   each step from the recording's other streams (``terrain``); summary and data quality.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gait.analysis import bouts as act
from gait.analysis.align import Mounting, estimate_mounting
from gait.analysis.config import AnalysisConfig, WindowParams
from gait.analysis.events import Contacts, running_contacts, walking_contacts
from gait.analysis.gravity import analyze_linear, is_linear
from gait.analysis.lever import FlightStats, LeverArm, SignStats, compensate, flight_mask, flight_stats, sign_stats
from gait.analysis.metrics import MEASURED_COLUMNS, StepSignals, empty_steps, measure_steps, step_table
from gait.analysis.orientation import BodyKinematics, body_kinematics, level_vertical
from gait.analysis.placement import restrict as restrict_to_placement
from gait.analysis.result import Quality, RunAnalysis
from gait.analysis.rotations import apply_matrix, integrate_gyro
from gait.analysis.screen import Screened, check_grid, screen_samples
from gait.analysis.sides import VoteFeatures, label_sides, side_votes, vote_features
from gait.analysis.signal import InputParams, Segment, decimate, nominal_rate, uniform_spans
from gait.analysis.summary import summarise
from gait.analysis.terrain import add_step_terrain, terrain_of
from gait.constants import G0
from gait.errors import AnalysisError
from gait.recording.model import ImuData, Recording
from gait.recording.units import UnitsCheck, UnitsError, check_units

Array = np.ndarray
DEFAULT = AnalysisConfig()
_FEATURES = ("side_ml", "side_obliquity", "side_rotation", "side_turn")
UNIT_CHECK_SAMPLES = 200_000


def analyze(recording: Recording, config: AnalysisConfig = DEFAULT) -> RunAnalysis:
    """Analyse a recording (any mounting; gyroscope optional) into per-step metrics and a run summary."""
    if is_linear(recording):  # gravity removed by the phone: vertical estimated, timing only (gravity.py)
        return analyze_linear(recording, lambda restored: analyze(restored, config))
    recording, fs_in, screened, units = _checked(recording, config.input)
    imu = recording.imu
    spans = uniform_spans(imu.t, fs_in, config.input)
    if not spans:
        raise AnalysisError(
            f"{_where(recording)}: no stretch of at least {config.input.min_segment_s:g} s without gaps; "
            "too short to analyse"
        )
    factor = max(1, int(fs_in // config.input.analysis_rate_hz))
    w = config.windows
    segments = [decimate(imu.t, imu.acc, imu.gyr, s, factor, w.window_s, w.decimation_margin_s) for s in spans]
    activities, mounting = _activity_and_mounting(segments, config)
    runs = [_SegmentRun(imu, seg, a, config) for seg, a in zip(segments, activities, strict=True)]
    levers = [r.lever_arm(mounting) for r in runs]
    measured = [r.measure(mounting, lever) for r, lever in zip(runs, levers, strict=True)]
    # With a gyroscope, the rotation-compensated forward acceleration is the body's own: in running it must
    # brake while the vertical force rises. That settles the forward sign better than the raw signal can.
    vote = weight = 0.0
    for m, seg in zip(measured, segments, strict=True):
        v, n = m.sign.vote(seg.fs, config.lever_arm)
        vote, weight = vote + v, weight + n
    if weight > 0:
        if vote > 0:
            mounting = mounting.flipped()
            levers = [None if lever is None else lever.flipped() for lever in levers]
            measured = [r.measure(mounting, lever) for r, lever in zip(runs, levers, strict=True)]
        mounting = dataclasses.replace(mounting, forward_sign_margin=abs(vote) / weight)
    steps, bouts, activity_s = _stitch(runs, measured, config)
    track = terrain_of(recording, steps, config.terrain)
    steps = add_step_terrain(steps, track)
    lever = next((lv for lv in levers if lv is not None), None)
    summary = summarise(steps, float(imu.t[-1] - imu.t[0]), activity_s)
    quality = Quality.assess(
        recording, fs_in, segments, mounting, lever, steps, summary, screened=screened, units=units
    )
    result = RunAnalysis(
        recording=recording, steps=steps, summary=summary, bouts=bouts, quality=quality, mounting=mounting,
        terrain=track,
    )  # fmt: skip
    return restrict_to_placement(result)  # withhold what a sensor off the pelvis cannot measure


def _where(recording: Recording) -> str:
    return str(recording.path) if recording.path is not None else recording.name


def _checked(recording: Recording, params: InputParams) -> tuple[Recording, float, Screened, UnitsCheck]:
    """The recording with the samples that are not measurements left out (they become gaps; ``screen``), its
    sample rate, what was left out and what the units check noted; raises ``AnalysisError`` for input that
    cannot be analysed."""
    imu = recording.imu
    where = _where(recording)
    if imu.n < 10:
        raise AnalysisError(f"{where}: only {imu.n} samples; too short to analyse")
    _check_time(where, imu.t)
    fs = nominal_rate(imu.t)
    if not np.isfinite(fs) or fs < params.min_rate_hz:
        raise AnalysisError(f"{where}: sample rate {fs:.3g} Hz is too low (need at least {params.min_rate_hz:.0f} Hz)")
    screened = screen_samples(where, imu)  # NaN, absurd values, a stopped gyroscope: left out and counted
    recording = dataclasses.replace(recording, imu=screened.imu)  # the holes left are gaps, flagged as such
    units = _units(where, screened.imu, fs)
    check_grid(where, screened.imu.t, fs, params.max_fill_s)  # the uniform clock stays within a few points per sample
    return recording, fs, screened, units


def _check_time(where: str, t: Array) -> None:
    """Time must be finite and strictly increasing: a clock that jumped back would silently mis-time steps."""
    if not np.isfinite(t).all():
        k = int(np.flatnonzero(~np.isfinite(t))[0])
        raise AnalysisError(f"{where}: time of sample {k} is not a number")
    back = np.flatnonzero(np.diff(t) <= 0)
    if len(back):
        k = int(back[0])
        raise AnalysisError(
            f"{where}: time does not increase at sample {k + 1} ({t[k]:.6g} then {t[k + 1]:.6g} s); "
            "the clock jumped back or samples are out of order"
        )


def _units(where: str, imu: ImuData, fs: float) -> UnitsCheck:
    """Units checked by physics (``gait.recording.units``): a units mistake is refused naming its factor; a
    plausible but unusual recording is analysed with a note. Judged on every k-th sample, 2-4 x 10^5 of them."""
    step = max(1, imu.n // UNIT_CHECK_SAMPLES)
    try:
        return check_units(imu.acc[::step], None if imu.gyr is None else imu.gyr[::step], fs / step)
    except UnitsError as exc:
        raise AnalysisError(f"{where}: {exc}") from None


def _activity_and_mounting(segments: list[Segment], config: AnalysisConfig) -> tuple[list[act.Activity], Mounting]:
    """Activity from the vertical axis (gravity's direction over the whole run), then the full mounting from
    the moving samples of the whole run."""
    fs = segments[0].fs
    all_acc = segments[0].acc if len(segments) == 1 else np.concatenate([s.acc for s in segments])
    up0 = all_acc.mean(axis=0)
    up0 /= np.linalg.norm(up0)
    activities = [act.activity_bouts(apply_matrix(s.acc, up0) / G0, fs, config.activity) for s in segments]
    labels = np.concatenate([a.labels for a in activities])
    mounting = estimate_mounting(all_acc, fs, labels == act.RUN, labels == act.WALK, config.mounting)
    return activities, mounting


@dataclass(frozen=True)
class _Window:
    """Analysis samples [start, stop) of a segment, of which [core_start, core_stop) are the window's own."""

    start: int
    stop: int
    core_start: int
    core_stop: int

    @property
    def core(self) -> slice:
        return slice(self.core_start - self.start, self.core_stop - self.start)


def windows_of(n: int, fs: float, params: WindowParams) -> list[_Window]:
    """Equal cores of about ``window_s`` read with ``margin_s`` either side; one window for a stretch of up to
    1.5 windows."""
    size = max(1, int(params.window_s * fs))
    if n <= 1.5 * size:
        return [_Window(0, n, 0, n)]
    k = round(n / size)
    cuts = [round(i * n / k) for i in range(k + 1)]
    margin = int(params.margin_s * fs)
    return [_Window(max(0, a - margin), min(n, b + margin), a, b) for a, b in itertools.pairwise(cuts)]


@dataclass(frozen=True)
class _Measured:
    """Pass over one segment with a given mounting and lever arm: its steps, measured, and the sums behind the
    forward-sign check."""

    steps: pd.DataFrame  # MEASURED_COLUMNS + side evidence, segment-relative times
    sign: SignStats


class _SegmentRun:
    """One segment's analysis: its activity, its windows, and the signals each window reads."""

    def __init__(self, imu: ImuData, seg: Segment, activity: act.Activity, config: AnalysisConfig) -> None:
        self.imu, self.seg, self.activity, self.config = imu, seg, activity, config
        self.windows = windows_of(seg.n, seg.fs, config.windows)
        self.bout_of = np.full(seg.n, -1, dtype=np.int32)
        for i, b in enumerate(activity.bouts):
            self.bout_of[b.start : b.stop] = i
        # each window's integrated gyroscope: the lever-arm pass computes it, the measuring passes reuse it
        # (it does not depend on the mounting); 4 numbers per analysis sample, ~7 MiB per hour
        self.attitude: dict[int, Array] = {}

    def lever_arm(self, mounting: Mounting) -> LeverArm | None:
        """The lever arm of the segment, from the flight phases of all its windows (None without a gyroscope or
        without running; see ``lever.FlightStats.solve`` for a short or implausible fit)."""
        s, params = self.seg, self.config.lever_arm
        if s.gyr is None or not any(b.activity == act.RUN for b in self.activity.bouts):
            return None
        stats = FlightStats.empty()
        for win in self.windows:
            acc, gyr = s.acc[win.start : win.stop], s.gyr[win.start : win.stop]
            self.attitude[win.start] = integrate_gyro(gyr, 1.0 / s.fs)
            vertical = level_vertical(acc, gyr, s.fs, self.config.orientation, win.start, self.attitude[win.start])
            running = self.activity.labels[win.start : win.stop] == act.RUN
            flight = flight_mask(vertical / G0, running, s.fs, params)
            flight[: win.core.start] = False  # each sample counts in one window only
            flight[win.core.stop :] = False
            m = mounting.matrix
            stats += flight_stats(apply_matrix(acc, m), apply_matrix(gyr, m), s.fs, flight, params)
        return stats.solve(params)

    def measure(self, mounting: Mounting, lever: LeverArm | None) -> _Measured:
        parts, sign = [], SignStats()
        for win in self.windows:
            steps, win_sign = self._measure_window(win, mounting, lever)
            parts.append(steps)
            sign += win_sign
        return _Measured(pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0], sign)

    def _measure_window(
        self, win: _Window, mounting: Mounting, lever: LeverArm | None
    ) -> tuple[pd.DataFrame, SignStats]:
        s, cfg = self.seg, self.config
        fs = s.fs
        gyr = None if s.gyr is None else s.gyr[win.start : win.stop]
        acc = s.acc[win.start : win.stop]
        kin = body_kinematics(acc, gyr, fs, mounting, cfg.orientation, win.start, self.attitude.get(win.start))
        labels = self.activity.labels[win.start : win.stop]
        acc_level, sign = kin.acc_level, SignStats()
        if lever is not None:
            acc_level = compensate(kin, acc, mounting, fs, lever, cfg.lever_arm)
            sign = sign_stats(acc_level, labels == act.RUN, fs, cfg.lever_arm, win.core)
        gyr_full = None  # the stance angles integrate the gyroscope at its source rate
        if gyr is not None:
            gyr_full = s.full_rate(self.imu.t, self.imu.acc, self.imu.gyr, win.start, win.stop)[1]
        fs_full = fs * s.factor
        ic, to, is_run, shape_ok = self._contacts(win, acc_level[:, 1] / G0)
        bout = self.bout_of[np.clip((ic * fs).astype(int) + win.start, 0, s.n - 1)]
        signals = StepSignals(
            fs=fs,
            acc_level=acc_level,
            acc_peak=s.acc_peak[win.start : win.stop],
            filled=s.filled[win.start : win.stop],
            tilt_deg=kin.tilt_deg,
            obliquity_deg=kin.obliquity_deg,
            gyr_body_full=None if gyr_full is None else apply_matrix(gyr_full, mounting.matrix),
            fs_full=fs_full,
            compensated=lever is not None,
            origin=win.start,
        )
        steps = measure_steps(signals, ic, to, is_run, bout, cfg.steps, shape_ok)
        if not len(steps):
            return steps, sign
        features = self._side_features(steps, kin, acc_level, win)
        for name, values in zip(_FEATURES, dataclasses.astuple(features), strict=True):
            if values is not None:
                steps[name] = values
        own = steps[(ic * fs >= win.core.start) & (ic * fs < win.core.stop)].reset_index(drop=True)
        if win.start:
            for c in ("ic_s", "to_s", "next_ic_s"):
                own[c] += win.start / fs
        return own, sign

    def _contacts(self, win: _Window, vert_g: Array) -> tuple[Array, Array, Array, Array]:
        """Contacts in every bout part inside the window, in time order: (IC s, TO s, running, shape ok)."""
        cfg, fs = self.config, self.seg.fs
        run_parts, walk_parts = [], []
        for b, start, stop in self._bouts_in(win):
            if b.activity == act.RUN:
                run_parts.append(running_contacts(vert_g, fs, start, stop, cfg.running))
            elif b.activity in (act.WALK, act.OTHER):
                walk_parts.append(walking_contacts(vert_g, fs, start, stop, cfg.walking))
        run_c, walk_c = _concat(run_parts), _concat(walk_parts)
        ic = np.concatenate((run_c.ic_s, walk_c.ic_s))
        to = np.concatenate((run_c.to_s, walk_c.to_s))
        is_run = np.concatenate((np.ones(len(run_c), bool), np.zeros(len(walk_c), bool)))
        shape_ok = np.concatenate((run_c.shape_ok, walk_c.shape_ok))
        order = np.argsort(ic)
        return ic[order], to[order], is_run[order], shape_ok[order]

    def _bouts_in(self, win: _Window) -> Iterator[tuple[act.Bout, int, int]]:
        """Each bout overlapping the window, with its part inside it (window samples)."""
        for b in self.activity.bouts:
            if b.stop > win.start and b.start < win.stop:
                yield b, max(b.start, win.start) - win.start, min(b.stop, win.stop) - win.start

    def _side_features(self, steps: pd.DataFrame, kin: BodyKinematics, acc_level: Array, win: _Window) -> VoteFeatures:
        """Side evidence of each step: over the stance when running, over the step when walking."""
        params, fs = self.config.sides, self.seg.fs
        ic, to = steps["ic_s"].to_numpy(), steps["to_s"].to_numpy()
        same_bout = np.append(steps["bout"].to_numpy()[1:] == steps["bout"].to_numpy()[:-1], False)
        raw_step = np.where(same_bout, steps["next_ic_s"].to_numpy() - ic, np.nan)
        walk_step = np.where(np.isfinite(raw_step) & (raw_step < params.max_walk_window_s), raw_step,
                             params.default_walk_window_s)  # fmt: skip
        end = np.where(steps["running"].to_numpy(bool), to, ic + walk_step)
        return vote_features(ic * fs, end * fs, fs, kin.obliquity_deg, kin.rotation_deg, acc_level[:, 2], params,
                             win.start)  # fmt: skip


def _concat(parts: list[Contacts]) -> Contacts:
    if not parts:
        return Contacts.none()
    return Contacts(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Contacts)))


def _stitch(
    runs: list[_SegmentRun], measured: list[_Measured], config: AnalysisConfig
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """The run's step table (side labels per segment), its bouts and the time spent in each activity."""
    parts, bout_rows, offset = [], [], 0
    activity_s: dict[str, float] = {}
    for run, m in zip(runs, measured, strict=True):
        seg = run.seg
        if len(m.steps):
            parts.append(_segment_steps(m.steps, seg.t0, config).assign(bout=lambda d, o=offset: d["bout"] + o))
        bout_rows += [(b.name, seg.t0 + b.start / seg.fs, seg.t0 + b.stop / seg.fs) for b in run.activity.bouts]
        offset += len(run.activity.bouts)
        for k, v in run.activity.seconds().items():
            activity_s[k] = activity_s.get(k, 0.0) + v
    steps = pd.concat(parts, ignore_index=True) if parts else empty_steps()
    bouts = pd.DataFrame(bout_rows, columns=["activity", "start_s", "end_s"])
    if len(bouts):
        bouts["duration_s"] = bouts["end_s"] - bouts["start_s"]
    return _walking_from_steps(steps, bouts, activity_s, config.walking.min_steps)


def _walking_from_steps(
    steps: pd.DataFrame, bouts: pd.DataFrame, activity_s: dict[str, float], min_steps: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Walking time and walking steps made to agree. Steps are looked for in walking and in "other" time (the
    activity windows are coarse, and a slow or gentle walker can look like "other"): an "other" stretch whose
    regular walking steps span at least half of it is walking; the walking steps left in the rest of the
    "other" time (shuffling, turning on the spot) are marked ``other`` and do not count towards walking
    cadence. So walking cadence never comes without walking time."""
    if not len(steps) or not len(bouts):
        return steps, bouts, activity_s
    walk = steps["activity"].to_numpy() == "walk"
    bout = steps["bout"].to_numpy()
    ic = steps["ic_s"].to_numpy()
    activity = bouts["activity"].to_numpy(object).copy()
    for i in np.flatnonzero(activity == act.ACTIVITY_NAMES[act.OTHER]):
        inside = walk & (bout == i)
        if inside.sum() >= min_steps and np.ptp(ic[inside]) >= 0.5 * bouts["duration_s"].iloc[i]:
            activity[i] = act.ACTIVITY_NAMES[act.WALK]
    changed = activity != bouts["activity"].to_numpy(object)
    if changed.any():
        moved = float(bouts.loc[changed, "duration_s"].sum())
        activity_s = dict(activity_s)
        activity_s["walk"] = activity_s.get("walk", 0.0) + moved
        activity_s["other"] = activity_s.get("other", 0.0) - moved
        bouts = bouts.assign(activity=activity)
    in_walking = np.isin(bout, np.flatnonzero(activity == act.ACTIVITY_NAMES[act.WALK]))
    steps = steps.assign(activity=np.where(walk & ~in_walking, "other", steps["activity"].to_numpy()))
    return steps, bouts, activity_s


def _segment_steps(measured: pd.DataFrame, t0: float, config: AnalysisConfig) -> pd.DataFrame:
    """Side labels (votes standardised and chained over the whole segment) and the final step table."""
    running = measured["running"].to_numpy(bool)
    columns = [measured[c].to_numpy() if c in measured else None for c in _FEATURES]
    features = VoteFeatures(*columns)  # type: ignore[arg-type]  (side_ml is always there)
    votes = side_votes(features, running, config.sides)
    # a stance unlike its neighbours next to a bridged gap may be two stances the bridge merged
    odd = ~measured["shape_ok"].to_numpy(bool) & measured["near_gap"].to_numpy(bool)
    sides = label_sides(measured["ic_s"].to_numpy(), votes, measured["bout"].to_numpy(), config.sides, odd)
    return step_table(measured[MEASURED_COLUMNS], sides, t0, config.steps)
