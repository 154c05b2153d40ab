"""A simulated route for the simulated runner: hills, pace, and what a phone's GPS and barometer make of them.

``simulate_route`` makes the route's ``location`` and ``baro`` streams and their truth; ``hilly_run`` also
makes the sacral IMU run it: the IMU simulator (``gait.simulate``, whose two-component runner changes contact
time, braking and pelvic tilt with the slope) run stretch by stretch at each stretch's slope and joined on whole
steps, so that contact time and braking change on the hills as a runner's do. (Within a stretch the slope is
constant: the route's smooth transitions are not in the sacral signals.)

* **Route.** Stretches of constant grade (``HillProfile``), joined by smooth vertical curves of
  ``transition_m``; the path meanders in the horizontal plane so that positions are not a straight line.
* **Pace.** Running speed follows the grade (slower uphill, a little faster downhill) with a lag of
  ``speed_tau_s``, as a runner's does; standing is 0 and walking 1.4 m/s. Distances are horizontal, speeds
  along the ground.
* **GPS** (``gps_rate_hz``, about 1 Hz on phones): position and altitude errors that wander (first-order
  Gauss-Markov, as multipath and satellite geometry make them), a Doppler ground speed that lags the truth by
  ``gps_speed_lag_s`` (the phone's own filter) with white noise, the accuracy fields a phone reports, and a
  stretch without fixes (``gps_gap_s``: a tunnel or an underpass), with poorer fixes just before and after it.
* **Barometer**: the pressure of the standard atmosphere at the runner's altitude, plus sensor noise and a
  weather drift of ``baro_drift_hpa_per_h``; its "relative altitude" is what a phone derives from it.

Everything is vectorised over time (the pace's dependence on position is resolved by a few fixed-point passes).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from gait.errors import SimulationError
from gait.recording.meta import BARO_CHANNELS, LOCATION_CHANNELS, baro_info, location_info
from gait.recording.model import ImuData, Recording, StreamData
from gait.simulate import DUTY, SimConfig, SimResult, simulate

EARTH_RADIUS_M = 6_371_000.0
SEA_LEVEL_HPA = 1013.25
TRUTH_RATE_HZ = 10.0
WALK_SPEED_MPS = 1.4
BARO_EXPONENT = 0.190263  # standard atmosphere: h = 44330.8 m x (1 - (p / p0) ^ 0.190263)
BARO_SCALE_M = 44330.8


def pressure_at(altitude_m: np.ndarray, sea_level_hpa: float | np.ndarray = SEA_LEVEL_HPA) -> np.ndarray:
    """Pressure (hPa) of the standard atmosphere at an altitude (m)."""
    return sea_level_hpa * (1.0 - np.asarray(altitude_m) / BARO_SCALE_M) ** (1.0 / BARO_EXPONENT)


@dataclass(frozen=True)
class HillProfile:
    """Stretches of the route: ``(start_m, grade_pct)`` each, horizontal distance from the start; the last one
    runs on to the end."""

    stretches: tuple[tuple[float, float], ...] = ((0.0, 0.0), (350.0, 6.0), (650.0, 0.0), (950.0, -6.0),
                                                  (1250.0, 0.0), (1500.0, 3.0), (1800.0, 0.0))  # fmt: skip
    transition_m: float = 30.0  # grades blend over this distance

    def grade_pct(self, distance_m: np.ndarray) -> np.ndarray:
        """The grade at each horizontal distance, transitions smoothed."""
        starts = np.array([s for s, _ in self.stretches], float)
        grades = np.array([g for _, g in self.stretches], float)
        d = np.asarray(distance_m, float)
        raw = grades[np.clip(np.searchsorted(starts, d, side="right") - 1, 0, len(grades) - 1)]
        if self.transition_m <= 0:
            return raw

        # a moving average over transition_m, evaluated exactly: integrate the step function
        def integral(x: np.ndarray) -> np.ndarray:
            seg = np.clip(np.searchsorted(starts, x, side="right") - 1, 0, len(grades) - 1)
            cum = np.concatenate(([0.0], np.cumsum(grades[:-1] * np.diff(starts))))
            return cum[seg] + grades[seg] * (x - starts[seg])

        h = self.transition_m / 2.0
        lo, hi = np.maximum(d - h, starts[0]), d + h
        return (integral(hi) - integral(lo)) / (hi - lo)

    def altitude_m(self, distance_m: np.ndarray, start_m: float = 0.0) -> np.ndarray:
        """Altitude above the start at each horizontal distance (integral of the smoothed grade on a 1 m grid)."""
        d = np.asarray(distance_m, float)
        top = float(np.nanmax(d)) if d.size else 0.0
        grid = np.arange(0.0, max(top, 1.0) + 2.0, 1.0)
        alt = np.concatenate(([0.0], np.cumsum(0.5 * (self.grade_pct(grid[1:]) + self.grade_pct(grid[:-1])) / 100)))
        return start_m + np.interp(d, grid, alt)


@dataclass(frozen=True)
class RouteConfig:
    profile: HillProfile = HillProfile()
    flat_speed_mps: float = 3.3
    uphill_slowdown: float = 0.035  # fraction of the flat speed lost per % of uphill grade
    downhill_speedup: float = 0.01  # fraction gained per % of downhill grade
    speed_tau_s: float = 4.0  # how quickly the runner's pace follows the grade
    start_altitude_m: float = 420.0
    start_lat_deg: float = 47.0
    start_lon_deg: float = 8.0
    gps_rate_hz: float = 1.0
    gps_position_sd_m: float = 2.5
    gps_altitude_sd_m: float = 5.0
    gps_error_tau_s: float = 30.0  # correlation time of the position and altitude errors
    gps_speed_sd_mps: float = 0.15
    gps_speed_lag_s: float = 1.0
    gps_gap_s: tuple[float, float] | None = None  # (start, end) on the recording clock: no fixes
    baro_rate_hz: float = 1.0
    baro_noise_hpa: float = 0.02  # about 0.17 m
    baro_drift_hpa_per_h: float = 1.0  # weather: about -8 m of apparent altitude per hour
    seed: int = 0

    def validate(self) -> None:
        if not 0.5 <= self.flat_speed_mps <= 8.0:
            raise SimulationError(f"flat speed {self.flat_speed_mps} m/s is outside 0.5-8 m/s")
        if any(abs(g) > 30 for _, g in self.profile.stretches):
            raise SimulationError("grades must lie within +-30 %")
        if not 0.1 <= self.gps_rate_hz <= 10 or not 0.1 <= self.baro_rate_hz <= 50:
            raise SimulationError("GPS rate must be 0.1-10 Hz and barometer rate 0.1-50 Hz")


@dataclass(frozen=True)
class RouteSim:
    """The route's truth (``TRUTH_RATE_HZ`` grid: ``t_s``, ``distance_m`` horizontal, ``speed_mps`` along the
    ground, ``altitude_m``, ``grade_pct``) and the phone's streams on the recording clock."""

    config: RouteConfig
    truth: pd.DataFrame
    location: StreamData
    baro: StreamData

    def at(self, t: np.ndarray, column: str) -> np.ndarray:
        """A truth column at times ``t`` (linear interpolation)."""
        return np.interp(np.asarray(t, float), self.truth["t_s"].to_numpy(), self.truth[column].to_numpy())


def _plan_speed(plan: tuple[tuple[str, float], ...], t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which samples are running, and the target speed of the others (standing 0, walking WALK_SPEED_MPS)."""
    running = np.zeros(len(t), bool)
    base = np.zeros(len(t))
    start = 0.0
    for kind, seconds in plan:
        inside = (t >= start) & (t < start + seconds)
        running |= inside & (kind == "run")
        base[inside] = WALK_SPEED_MPS if kind == "walk" else 0.0
        start += seconds
    return running, base


def _lag(x: np.ndarray, tau_s: float, fs: float) -> np.ndarray:
    """First-order lag (what a runner's pace or a phone's speed filter does), started at the first value."""
    if tau_s <= 0 or len(x) == 0:
        return x.copy()
    a = np.exp(-1.0 / (tau_s * fs))
    y, _ = lfilter([1.0 - a], [1.0, -a], x, zi=[a * x[0]])
    return y


def _wander(n: int, sd: float, tau_s: float, fs: float, rng: np.random.Generator) -> np.ndarray:
    """A first-order Gauss-Markov error: standard deviation ``sd``, correlation time ``tau_s``."""
    a = np.exp(-1.0 / (tau_s * fs))
    w = rng.normal(0.0, 1.0, n)
    y, _ = lfilter([sd * np.sqrt(1.0 - a * a)], [1.0, -a], w, zi=[sd * rng.normal() * a])
    return y


def simulate_route(plan: tuple[tuple[str, float], ...], cfg: RouteConfig = RouteConfig()) -> RouteSim:
    """The route run along ``plan`` (the IMU simulator's ``SimConfig.plan()``: stand/walk/run and seconds)."""
    cfg.validate()
    rng = np.random.default_rng([cfg.seed, 15])
    total = float(sum(s for _, s in plan))
    fs = TRUTH_RATE_HZ
    t = np.arange(0.0, total + 1.0 / fs, 1.0 / fs)
    running, base = _plan_speed(plan, t)
    prof = cfg.profile
    speed = _lag(np.where(running, cfg.flat_speed_mps, base), cfg.speed_tau_s, fs)
    for _ in range(4):  # pace depends on where the runner is, which depends on the pace: a few passes settle it
        grade = prof.grade_pct(np.concatenate(([0.0], np.cumsum(speed[:-1] / fs))))
        factor = np.where(grade > 0, 1.0 - cfg.uphill_slowdown * grade, 1.0 - cfg.downhill_speedup * grade)
        target = np.where(running, cfg.flat_speed_mps * np.clip(factor, 0.4, 1.3), base)
        speed = _lag(target, cfg.speed_tau_s, fs)
    along = np.concatenate(([0.0], np.cumsum(speed[:-1] / fs)))
    horizontal = speed / np.sqrt(1.0 + (prof.grade_pct(along) / 100) ** 2)  # cos(atan(grade))
    distance = np.concatenate(([0.0], np.cumsum(0.5 * (horizontal[1:] + horizontal[:-1]) / fs)))
    grade = prof.grade_pct(distance)
    altitude = prof.altitude_m(distance, cfg.start_altitude_m)
    heading = 0.6 * np.sin(2 * np.pi * distance / 900.0)  # rad from north: the path meanders
    step = np.diff(distance, prepend=0.0)
    north, east = np.cumsum(step * np.cos(heading)), np.cumsum(step * np.sin(heading))
    truth = pd.DataFrame({"t_s": t, "distance_m": distance, "speed_mps": speed, "horizontal_speed_mps": horizontal,
                          "altitude_m": altitude, "grade_pct": grade, "north_m": north, "east_m": east})  # fmt: skip
    return RouteSim(cfg, truth, _gps(truth, cfg, rng), _baro(truth, cfg, rng))


def _gps(truth: pd.DataFrame, cfg: RouteConfig, rng: np.random.Generator) -> StreamData:
    t_all = truth["t_s"].to_numpy()
    fs = cfg.gps_rate_hz
    tk = np.arange(0.3, t_all[-1], 1.0 / fs)  # fixes a fraction of a second after whole seconds
    n = len(tk)
    poor = np.zeros(n, bool)
    keep = np.ones(n, bool)
    if cfg.gps_gap_s is not None:
        a, b = cfg.gps_gap_s
        keep = (tk < a) | (tk > b)
        poor = ((tk >= a - 15) & (tk < a)) | ((tk > b) & (tk <= b + 15))  # reception fades in and out
    degrade = np.where(poor, 3.0, 1.0)

    def at(col: str) -> np.ndarray:
        return np.interp(tk, t_all, truth[col].to_numpy())

    err_n = _wander(n, cfg.gps_position_sd_m, cfg.gps_error_tau_s, fs, rng) * degrade
    err_e = _wander(n, cfg.gps_position_sd_m, cfg.gps_error_tau_s, fs, rng) * degrade
    err_h = _wander(n, cfg.gps_altitude_sd_m, 2 * cfg.gps_error_tau_s, fs, rng) * degrade
    lat0 = np.radians(cfg.start_lat_deg)
    lat = cfg.start_lat_deg + np.degrees((at("north_m") + err_n) / EARTH_RADIUS_M)
    lon = cfg.start_lon_deg + np.degrees((at("east_m") + err_e) / (EARTH_RADIUS_M * np.cos(lat0)))
    lagged = _lag(truth["horizontal_speed_mps"].to_numpy(), cfg.gps_speed_lag_s, TRUTH_RATE_HZ)
    speed = np.interp(tk, t_all, lagged) + rng.normal(0.0, cfg.gps_speed_sd_mps, n) * degrade
    speed = np.maximum(speed, 0.0)
    h_acc = cfg.gps_position_sd_m * 1.5 * np.exp(rng.normal(0, 0.15, n)) * degrade
    values = np.column_stack((
        lat, lon, at("altitude_m") + err_h, speed, np.full(n, np.nan), h_acc, 1.6 * h_acc,
        np.full(n, 2.0 * cfg.gps_speed_sd_mps) * degrade,
    ))  # fmt: skip
    return StreamData(tk[keep], values[keep], LOCATION_CHANNELS)


def _baro(truth: pd.DataFrame, cfg: RouteConfig, rng: np.random.Generator) -> StreamData:
    t_all = truth["t_s"].to_numpy()
    tk = np.arange(0.1, t_all[-1], 1.0 / cfg.baro_rate_hz)
    sea = SEA_LEVEL_HPA + cfg.baro_drift_hpa_per_h * tk / 3600.0
    p = pressure_at(np.interp(tk, t_all, truth["altitude_m"].to_numpy()), sea)
    p = p + rng.normal(0.0, cfg.baro_noise_hpa, len(tk))
    relative = BARO_SCALE_M * (1.0 - (p / p[0]) ** BARO_EXPONENT)  # what the phone reports as relative altitude
    return StreamData(tk, np.column_stack((p, relative)), BARO_CHANNELS)


def with_route(recording: Recording, route: RouteSim, *, location: bool = True, baro: bool = True) -> Recording:
    """The recording with the route's ``location`` and ``baro`` streams beside its IMU (same clock)."""
    extra = dict(recording.extra)
    streams = [s for s in recording.meta.streams if s.name not in ("location", "baro")]
    if location:
        extra["location"] = route.location
        streams.append(location_info("location", len(route.location.t), route.config.gps_rate_hz, "simulated GPS"))
    if baro:
        extra["baro"] = route.baro
        streams.append(baro_info("baro", len(route.baro.t), route.config.baro_rate_hz, "simulated barometer"))
    meta = recording.meta.replace(streams=tuple(streams))
    return dataclasses.replace(recording, meta=meta, extra=extra)


def _stretch_times(route: RouteSim, run_start: float, run_end: float, fs: float) -> list[tuple[float, float, float]]:
    """(start s, end s, grade %) of each stretch of the route while running, on the sample grid; stretches under
    5 s join the one before."""
    truth = route.truth
    t, dist = truth["t_s"].to_numpy(), truth["distance_m"].to_numpy()
    moving = np.flatnonzero(np.diff(dist) > 0)
    starts = np.array([s for s, _ in route.config.profile.stretches[1:]], float)
    cuts = np.interp(starts, dist[moving + 1], t[moving + 1]) if len(moving) else np.zeros(0)
    cuts = np.round(cuts[(cuts > run_start) & (cuts < run_end)] * fs) / fs
    bounds = [run_start, *cuts, run_end]
    out: list[tuple[float, float, float]] = []
    for a, b in itertools.pairwise(bounds):
        grade = float(route.at(np.array([0.5 * (a + b)]), "grade_pct")[0])
        if out and b - a < 5.0:
            out[-1] = (out[-1][0], b, out[-1][2])
        else:
            out.append((a, b, grade))
    return out


def _drift_share(cfg: SimConfig, f0: float, f1: float) -> dict[str, float]:
    """The fatigue drifts of ``cfg`` for the part of its running from fraction ``f0`` to ``f1``: the drift so far
    added to the starting value, the part's own share as its drift (so the drift runs on across the joins)."""
    out: dict[str, float] = {}
    contact = cfg.contact_time_ms if cfg.contact_time_ms is not None else DUTY * 60000.0 / cfg.cadence_spm
    for base, drift, start in (("drop_left_deg", "drop_drift_left_deg", cfg.drop_left_deg),
                               ("drop_right_deg", "drop_drift_right_deg", cfg.drop_right_deg),
                               ("cadence_spm", "cadence_drift_spm", cfg.cadence_spm),
                               ("contact_time_ms", "contact_drift_ms", contact)):  # fmt: skip
        d = getattr(cfg, drift)
        if d:
            out[base], out[drift] = start + d * f0, d * (f1 - f0)
    return out


JOIN_EXTRA_S = 1.5  # each stretch but the last is simulated this much longer, to end at a whole step
CONTACT_LEAD_S = 0.01  # a contact's force starts this long before it crosses the force-plate threshold (ic_s)


def _seed_starting_on(side: str | None, seed: int) -> int:
    """The first seed from ``seed`` whose simulated run starts on ``side`` ("L"/"R"; any when None): the
    simulator draws the first stance side (-1 left, +1 right) first from its generator."""
    if side is None:
        return seed
    want = -1 if side == "L" else 1
    while int(np.random.default_rng(seed).choice([-1, 1])) != want:
        seed += 1
    return seed


def hilly_run(cfg: SimConfig, route_cfg: RouteConfig = RouteConfig()) -> tuple[SimResult, RouteSim]:
    """The runner of ``cfg`` on the route of ``route_cfg``: the route (``simulate_route``) and a sacral IMU run at
    each stretch's slope (``slope_deg`` = atan(grade)), joined end to end, with the IMU's per-step truth (the
    joined stretches' ``truth``, plus ``grade_pct``, the route's at each contact). ``cfg``'s plan must hold one
    ``run`` segment (standing or walking may come before and after); its ``slope_deg`` is replaced."""
    plan = cfg.plan()
    runs = [i for i, (kind, _) in enumerate(plan) if kind == "run"]
    if len(runs) != 1:
        raise SimulationError("a hilly run needs a plan with exactly one run segment")
    route = simulate_route(plan, route_cfg)
    k = runs[0]
    run_start = float(sum(s for _, s in plan[:k]))
    stretches = _stretch_times(route, run_start, run_start + plan[k][1], cfg.rate_hz)
    fs = cfg.rate_hz
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, pd.DataFrame]] = []
    start, last_side = 0.0, None
    head: SimResult | None = None  # the first stretch's: its recording's description is the run's
    for i, (_, b, grade) in enumerate(stretches):
        final = i == len(stretches) - 1
        pre = plan[:k] if i == 0 else ()
        run_s = b - start - sum(s for _, s in pre) + (0.0 if final else JOIN_EXTRA_S)
        segments = (*pre, ("run", run_s), *(plan[k + 1 :] if final else ()))
        span = (start + sum(s for _, s in pre) - run_start, b - run_start)
        drifts = _drift_share(cfg, span[0] / plan[k][1], span[1] / plan[k][1])
        # the feet keep alternating across a join: the stretch starts on the foot after the last one
        first = None if last_side is None else ("L" if last_side == "R" else "R")
        piece = dataclasses.replace(cfg, segments=segments, slope_deg=float(np.degrees(np.arctan(grade / 100))),
                                    seed=_seed_starting_on(first, cfg.seed * 1000 + 100 * i), **drifts)  # fmt: skip
        sim = simulate(piece)
        if first is not None and sim.truth["side"].iloc[0] != first:
            raise SimulationError("the simulator no longer draws the first foot first: hilly_run cannot join stretches")
        imu, truth = sim.recording.imu, sim.truth
        end = imu.t[-1] + 1.0 / fs
        if not final:  # cut where the next contact would land: the next stretch starts with it, one step later
            ic = truth["ic_s"].to_numpy()
            j = int(np.argmin(np.abs(ic - (b - start))))
            end = np.floor((ic[j] - CONTACT_LEAD_S) * fs) / fs
        keep, steps = imu.t < end - 0.5 / fs, truth[truth["ic_s"] < end]
        moved = {c: steps[c] + start for c in ("ic_s", "to_s", "next_ic_s") if c in steps}
        pieces.append((imu.t[keep] + start, imu.acc[keep], None if imu.gyr is None else imu.gyr[keep],
                       steps.assign(**moved)))  # fmt: skip
        start, last_side = start + end, steps["side"].iloc[-1]
        head = head or sim
    assert head is not None
    t = np.concatenate([p[0] for p in pieces])
    acc = np.vstack([p[1] for p in pieces])
    gyr = np.vstack([p[2] for p in pieces]) if cfg.gyro else None  # type: ignore[misc]
    truth = pd.concat([p[3] for p in pieces], ignore_index=True)
    truth["grade_pct"] = route.at(truth["ic_s"].to_numpy(), "grade_pct")
    meta = head.recording.meta.replace(
        title=f"simulated hilly run {cfg.cadence_spm:.0f} spm, {len(stretches)} stretches",
        streams=(dataclasses.replace(head.recording.meta.streams[0], n_samples=len(t)),),
    )
    rec = dataclasses.replace(head.recording, meta=meta, imu=ImuData(t, acc, gyr))
    return SimResult(recording=rec, truth=truth, config=cfg, mounting_matrix=head.mounting_matrix), route
