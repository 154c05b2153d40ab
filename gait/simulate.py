"""A synthetic sacral IMU of a runner, with per-step truth measured on the simulated force.

The simulator is deliberately independent of the analysis: it imports nothing from ``gait.analysis`` and its
force shapes are not the detector's templates, so a detector that only fits its own model fails here.
Model (documented in docs/simulator.md):

* **Forces.** Each running contact is the sum of two components, after the two-mass view of running forces
  (Clark, Ryan & Weyand 2017): an *impact* component, the foot and shank being stopped (a fast collision pulse
  peaking 15-30 ms after touch-down; large for a rearfoot strike, small for a midfoot strike, absent for a
  forefoot strike) and an *active* component that carries the rest of the body (a smooth, asymmetric hump whose
  peak comes earlier uphill and later downhill). Their sizes follow from momentum balance: over one step the
  force normal to the ground carries body weight times the step time (times cos(slope)), and along the ground
  it brakes and pushes so that the speed is the same at every step (uphill it pushes more, downhill it brakes
  more, by the weight's component along the slope). Walking steps carry the body throughout.
* **Pelvis.** Obliquity, tilt and rotation are smooth curves (natural cubic splines) through per-step knots: the
  stance side is higher at initial contact and the swing side then drops by the step's contralateral drop;
  tilt swings anteriorly through stance; the pelvis turns with the swinging leg; the trunk leans into a hill.
* **Sensor.** The pelvis is not the centre of mass (COM): at push-off the extending stance leg and the swing
  leg being pulled through lift it for a few tens of ms past toe-off, and the same internal forces pull it
  back in flight (zero net impulse per step). The sensor sits at a lever arm from that point (default 10 cm
  behind, 8 cm above), so it also feels the pelvis's tangential and centripetal acceleration. The clip on soft
  tissue is a damped oscillator (default 15 Hz): the sensor rings after each landing and amplifies the impact.
  The clip may sit tilted on the pelvis, in any mounting orientation; the signal is anti-alias filtered,
  sampled at 50-833 Hz, with white noise, biases, gyro bias drift and optional dropouts.

Truth is measured on the simulated force, as a force plate would: initial contact and toe-off where the force
normal to the ground crosses 0.05 body weights, braking from the fore-aft force, drop from the pelvis curves
(see ``_truth``), never from the shape parameters.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline
from scipy.signal import bilinear, butter, lfilter, lfilter_zi, sosfiltfilt
from scipy.spatial.transform import Rotation
from scipy.special import gamma as gamma_function

from gait.constants import G0
from gait.errors import SimulationError
from gait.recording.folder import save
from gait.recording.meta import DeviceInfo, RecordingMeta, SubjectInfo
from gait.recording.model import Recording

Array = np.ndarray

MIN_RATE_HZ, MAX_RATE_HZ = 50.0, 833.0
MOUNTINGS = ("upright", "upside_down", "rot90", "rot180", "tilted", "random")
STRIKES = ("rearfoot", "midfoot", "forefoot")
FORCE_MODELS = ("two_component", "spring_mass")
MAX_SLOPE_DEG, MAX_CLIP_TILT_DEG = 15.0, 30.0
CONTACT_THRESHOLD_BW = 0.05  # a force plate's contact threshold, body weights
CHUNK_S = 60.0

# the two-component model
IMPACT_ORDER = 5.0  # collision pulse (t/tau)^a exp(a (1 - t/tau)): rises in a few ms, peaks at tau
HORIZONTAL_IMPACT = 0.2  # the heel's collision also brakes: fore-aft share of the impact component
LIFT_DELAY_S, LIFT_WIDTH_S = 0.0, 0.025  # the pelvis's push-off lift is centred on toe-off
FORE_AFT_FULLNESS = 1.3  # braking and push lobes: sin(pi x)^k
DUTY = 0.68  # default contact time as a share of the step (level)
DUTY_PER_DEG = 0.004  # uphill: longer contacts and shorter flight; downhill the reverse (Vernillo 2017)
ACTIVE_PEAK_PER_DEG = 0.006  # uphill: the force peaks earlier (longer push); downhill later (longer brake)
BRAKE_SHARE, BRAKE_SHARE_PER_DEG = 0.45, 0.02  # share of the contact spent braking, level and per degree
EASING_PER_DEG = 0.04  # uphill the braking eases, downhill the push (Gottschall & Kram 2005)
LEAN_PER_DEG = 0.6  # the pelvis pitches forward into an uphill, back on a downhill (deg per deg)

# the earlier spring-mass model (``force_model="spring_mass"``), kept only to regenerate the bundled samples
LEGACY_IMPACT_G, LEGACY_IMPACT_PEAK_S, LEGACY_IMPACT_WIDTH_S = 1.5, 0.025, 0.008
LEGACY_WOBBLE_HZ, LEGACY_WOBBLE_TAU_S = 20.0, 0.015


@dataclass(frozen=True)
class StrikeShape:
    """How one foot-strike pattern loads the ground on the level (heights in body weights)."""

    impact_bw: float  # height of the impact component
    impact_peak_s: float  # its time after touch-down
    active_peak: float  # share of the contact at which the active component peaks
    fullness: float  # active component sin(pi w)^k: 1 = a half sine, 2 = a raised cosine (slow edges)


# Rearfoot: a distinct impact peak ~27 ms in (1.5-2 BW with the active force beneath it); midfoot: a small
# early bump; forefoot: none, and the active force rises earlier and faster.
STRIKE_SHAPES = {
    "rearfoot": StrikeShape(impact_bw=1.4, impact_peak_s=0.027, active_peak=0.47, fullness=1.6),
    "midfoot": StrikeShape(impact_bw=0.4, impact_peak_s=0.015, active_peak=0.45, fullness=1.4),
    "forefoot": StrikeShape(impact_bw=0.0, impact_peak_s=0.015, active_peak=0.41, fullness=1.2),
}


def _slope_impact_factor(slope_deg: float) -> float:
    """Impact height relative to the level: +54 % at -9 deg, gone at +9 deg (Gottschall & Kram 2005)."""
    if slope_deg < 0:
        return 1.0 + 0.06 * -slope_deg
    return max(0.0, 1.0 - 0.11 * slope_deg)


def _slope_lift_factor(slope_deg: float) -> float:
    """Push-off lift relative to the level: a longer, stronger push uphill, a weaker one downhill."""
    return 1.0 + 0.08 * slope_deg if slope_deg >= 0 else max(0.3, 1.0 + 0.05 * slope_deg)


@dataclass(frozen=True)
class SimConfig:
    """Everything the simulated runner and sensor do. Per-side values: ``left`` = during left-foot stance."""

    duration_s: float = 120.0  # running time (used when ``segments`` is empty)
    segments: tuple[tuple[str, float], ...] = ()  # e.g. (("stand", 5), ("walk", 30), ("run", 600))
    rate_hz: float = 208.0
    cadence_spm: float = 170.0
    contact_time_ms: float | None = None  # on the level (default 68 % of the step); longer uphill, shorter down
    drop_left_deg: float = 5.0
    drop_right_deg: float = 5.0
    braking_dv_mps: float = 0.20  # forward speed lost per step on the level
    strike: str = "rearfoot"  # one of STRIKES
    slope_deg: float = 0.0  # + uphill, - downhill (running only)
    impact_g: float | None = None  # impact component height in body weights (None: the strike's own)
    obliquity_ic_deg: float = 2.5  # how much higher the stance side is at initial contact
    tilt_range_deg: float = 6.0
    rotation_range_deg: float = 8.0
    contact_asymmetry_pct: float = 0.0  # + = right contacts longer
    braking_asymmetry_pct: float = 0.0  # + = right brakes more
    drop_drift_left_deg: float = 0.0  # added linearly over the running time (fatigue)
    drop_drift_right_deg: float = 0.0
    cadence_drift_spm: float = 0.0
    contact_drift_ms: float = 0.0
    step_jitter_pct: float = 1.5
    walk_cadence_spm: float = 112.0
    mounting: str = "upright"  # one of MOUNTINGS
    mounting_euler_deg: tuple[float, float, float] | None = None  # explicit (z, y, x) Euler angles
    clip_tilt_deg: tuple[float, float] = (0.0, 0.0)  # the clip pitched (about right) and rolled (about forward)
    lever_arm_m: tuple[float, float, float] = (-0.10, 0.08, 0.0)
    wobble_hz: float = 15.0  # natural frequency of the clip on soft tissue (0 = rigidly attached)
    wobble_damping: float = 0.3  # its damping ratio
    push_off_lift_g: float = 0.4  # the pelvis's lift relative to the COM around toe-off, level (0: pelvis = COM)
    acc_noise_ms2: float = 0.08
    gyro_noise_rads: float = 0.01
    acc_bias_ms2: float = 0.05
    gyro_bias_rads: float = 0.01
    dropout_fraction: float = 0.0
    dropout_mean_s: float = 0.2
    gyro: bool = True
    force_model: str = "two_component"  # "spring_mass": the earlier model, only for the bundled samples
    seed: int = 0
    runner_id: str = "synthetic-runner"  # the recording's subject id (whose history the run belongs to)
    start_utc: str | None = None  # wall-clock start written to meta.json, e.g. "2026-10-05T07:30:00Z"

    def validate(self) -> None:
        """Refuse what the simulator cannot model, with the reason (one line)."""
        for bad, message in self._problems():
            if bad:
                raise SimulationError(message)
        for kind, seconds in self.plan():
            if kind not in ("run", "walk", "stand") or seconds <= 0:
                raise SimulationError(f"bad segment ({kind!r}, {seconds}): kinds are run, walk, stand")

    def _problems(self) -> list[tuple[bool, str]]:
        wobble_ok = self.wobble_hz == 0 or (5.0 <= self.wobble_hz <= 40.0 and 0.05 <= self.wobble_damping <= 2.0)
        duty = None if self.contact_time_ms is None else self.contact_time_ms / (60000 / self.cadence_spm)
        return [
            (
                not MIN_RATE_HZ <= self.rate_hz <= MAX_RATE_HZ,
                f"rate {self.rate_hz} Hz is outside {MIN_RATE_HZ:.0f}-{MAX_RATE_HZ:.0f} Hz",
            ),
            (
                not 120 <= self.cadence_spm <= 240,
                f"cadence {self.cadence_spm} spm is outside the running range 120-240",
            ),
            (
                self.mounting not in MOUNTINGS,
                f"unknown mounting {self.mounting!r} (choose from {', '.join(MOUNTINGS)})",
            ),
            (self.strike not in STRIKES, f"unknown foot strike {self.strike!r} (choose from {', '.join(STRIKES)})"),
            (
                self.force_model not in FORCE_MODELS,
                f"unknown force model {self.force_model!r} (choose from {', '.join(FORCE_MODELS)})",
            ),
            (abs(self.slope_deg) > MAX_SLOPE_DEG, f"slope {self.slope_deg} deg is outside +-{MAX_SLOPE_DEG:.0f} deg"),
            (
                self.force_model == "spring_mass" and self.slope_deg != 0,
                "the spring_mass force model is level only (use two_component for hills)",
            ),
            (
                any(abs(a) > MAX_CLIP_TILT_DEG for a in self.clip_tilt_deg),
                f"clip tilt {self.clip_tilt_deg} deg is outside +-{MAX_CLIP_TILT_DEG:.0f} deg",
            ),
            (not wobble_ok, "wobble must be 5-40 Hz with a damping ratio of 0.05-2 (or 0 Hz: rigid)"),
            (self.impact_g is not None and self.impact_g < 0, "impact height must be >= 0 body weights"),
            (not 0 <= self.push_off_lift_g <= 2, "push-off lift must be 0-2 g"),
            (not 0 <= self.dropout_fraction < 0.5, "dropout fraction must be in [0, 0.5)"),
            (
                duty is not None and not 0.3 < duty < 0.95,
                "contact time must be 30-95 % of the step time for running (flight is needed)",
            ),
        ]

    def plan(self) -> tuple[tuple[str, float], ...]:
        return self.segments or (("stand", 3.0), ("run", float(self.duration_s)), ("stand", 2.0))

    @property
    def hill_contact_factor(self) -> float:
        """Contact time relative to the level: uphill runners stay longer on the ground and fly less,
        downhill the reverse (Vernillo et al. 2017)."""
        if self.force_model == "spring_mass":
            return 1.0
        return 1.0 + DUTY_PER_DEG * self.slope_deg / DUTY


@dataclass(frozen=True)
class SimResult:
    recording: Recording
    truth: pd.DataFrame  # per-step truth, analysis column names
    config: SimConfig
    mounting_matrix: Array  # v_sensor = M @ v_body (mounting and clip tilt)
    forces: _Forces | None = field(default=None, repr=False, compare=False)

    def normal_force_bw(self, t: Array) -> Array:
        """What a force plate under the runner reads at times t: the force normal to the ground, body weights."""
        if self.forces is None:
            raise SimulationError("this result carries no force model")
        return self.forces.normal_bw(np.asarray(t, float))

    def truth_summary(self) -> dict[str, float | None]:
        run = self.truth[self.truth["activity"] == "run"]
        out: dict[str, float | None] = {
            "cadence_spm": 60.0 / float(np.nanmean(run["step_time_s"])) if len(run) else None,
            "n_run_steps": len(run),
        }
        for m in (
            "contact_time_ms",
            "flight_time_ms",
            "vertical_oscillation_cm",
            "braking_dv_mps",
            "braking_peak_g",
            "impact_g",
        ):
            out[m] = float(np.nanmedian(run[m])) if len(run) else None
        for s, name in (("L", "left"), ("R", "right")):
            sel = run[run["side"] == s]
            out[f"pelvic_drop_deg_{name}"] = float(np.nanmedian(sel["pelvic_drop_deg"])) if len(sel) else None
        return out


# ---------------------------------------------------------------------------------------------------------
# contacts


@dataclass
class _Contacts:
    """Planned contacts: ``ic`` is touch-down (where the force shapes start), ``tc`` how long they last."""

    ic: Array
    tc: Array
    side: Array  # +1 right, -1 left
    run: Array  # bool
    next_ic: Array  # NaN at the end of a bout
    progress: Array  # 0..1 fraction of running time elapsed (fatigue)
    drop: Array
    dv: Array
    stand: list[tuple[float, float]] = field(default_factory=list)


def _contacts(cfg: SimConfig, rng: np.random.Generator) -> _Contacts:
    run_total = sum(s for k, s in cfg.plan() if k == "run")
    t = 0.0
    run_elapsed = 0.0
    rows = []
    stand = []
    side = int(rng.choice([-1, 1]))
    for kind, seconds in cfg.plan():
        end = t + seconds
        if kind == "stand":
            stand.append((t, end))
            t = end
            continue
        bout = []
        while True:
            if kind == "run":
                prog = (run_elapsed + (t - (end - seconds))) / max(run_total, 1e-9)
                cad = cfg.cadence_spm + cfg.cadence_drift_spm * prog
                step = 60.0 / cad * (1.0 + rng.normal(0, cfg.step_jitter_pct / 100.0))
                base = cfg.contact_time_ms / 1000.0 if cfg.contact_time_ms else DUTY * 60.0 / cad
                base *= cfg.hill_contact_factor
                tc = base + cfg.contact_drift_ms / 1000.0 * prog
                tc *= 1.0 + side * cfg.contact_asymmetry_pct / 200.0
                tc *= 1.0 + rng.normal(0, 0.02)
                tc = min(tc, 0.93 * step)
                drop = (
                    (cfg.drop_right_deg + cfg.drop_drift_right_deg * prog)
                    if side > 0
                    else (cfg.drop_left_deg + cfg.drop_drift_left_deg * prog)
                )
                drop = max(0.2, drop + rng.normal(0, 0.35))
                dv = cfg.braking_dv_mps * (1.0 + side * cfg.braking_asymmetry_pct / 200.0)
                dv = max(0.01, dv * (1.0 + rng.normal(0, 0.08)))
            else:
                prog = np.nan
                step = 60.0 / cfg.walk_cadence_spm * (1.0 + rng.normal(0, 0.02))
                tc = 1.2 * step
                drop, dv = 4.0 + rng.normal(0, 0.3), 0.08
            if t + max(step, tc) > end:
                break
            bout.append((t, tc, side, kind == "run", prog, drop, dv, step))
            t += step
            side = -side
        if kind == "run":
            run_elapsed += seconds
        for i, r in enumerate(bout):
            nxt = bout[i + 1][0] if i + 1 < len(bout) else np.nan
            rows.append((*r[:7], nxt))
        t = end
    if not rows:
        raise SimulationError("the plan holds no steps (segments too short)")
    a = np.array(rows, dtype=float)
    return _Contacts(
        ic=a[:, 0],
        tc=a[:, 1],
        side=a[:, 2].astype(int),
        run=a[:, 3] > 0.5,
        progress=a[:, 4],
        drop=a[:, 5],
        dv=a[:, 6],
        next_ic=a[:, 7],
        stand=stand,
    )


# ---------------------------------------------------------------------------------------------------------
# forces on the centre of mass (world frame: x forward, y up, z right), m/s^2 of specific force


class _Forces:
    """Contact forces per step. Running shapes come from a subclass; walking and standing are shared: walking
    carries the body throughout, each step adding a loading peak just after initial contact and a dip in mid
    single support (lower-back accelerometry of walking), braking then propulsion, and a push towards the
    other side."""

    WALK_VERTICAL = 0.25  # +-25 % of body weight around 1 g
    WALK_LOADING_PHASE = 0.12  # peak loading at 12 % of the step after initial contact
    normal_dir = np.array([0.0, 1.0, 0.0])  # world direction of the ground's normal (level)

    def __init__(self, c: _Contacts) -> None:
        self.c = c
        step = np.where(np.isfinite(c.next_ic), c.next_ic - c.ic, np.nan)
        self.step = np.where(np.isfinite(step), step, np.nanmedian(step) if np.isfinite(step).any() else 0.35)
        self.dur = np.where(c.run, c.tc, self.step)  # how long each contact's force acts
        self.walk_ap = c.dv * np.pi / self.step  # walking: -A sin(2 pi x) loses dv in the first half step
        self.lat = np.where(c.run, 0.06, 0.08) * G0

    def parts(self, t: Array) -> tuple[Array, Array]:
        """COM specific force (n, 3) at times t, split into the smooth part and the impact component."""
        c = self.c
        smooth = np.zeros((len(t), 3))
        impact = np.zeros((len(t), 3))
        last = np.searchsorted(c.ic, t, side="right") - 1
        for back in (0, 1):
            j = last - back
            ok = j >= 0
            jj = np.where(ok, j, 0)
            u = t - c.ic[jj]
            act = ok & (u >= 0) & (u < self.dur[jj])
            if not act.any():
                continue
            jj, uu = jj[act], u[act]
            run = c.run[jj]
            s = np.zeros((len(jj), 3))
            x = uu / self.dur[jj]
            walk = ~run
            if walk.any():
                xw = x[walk]
                s[walk, 0] = -self.walk_ap[jj[walk]] * np.sin(2 * np.pi * xw)
                s[walk, 1] = G0 * (1.0 + self.WALK_VERTICAL * np.cos(2 * np.pi * (xw - self.WALK_LOADING_PHASE)))
                s[walk, 2] = -1.0 * c.side[jj[walk]] * self.lat[jj[walk]] * np.sin(np.pi * xw)
            if run.any():
                s[run], imp = self._running(jj[run], uu[run])
                impact[np.flatnonzero(act)[run]] += imp
            smooth[act] += s
        for a, b in c.stand:
            smooth[(t >= a) & (t < b), 1] += G0
        return smooth, impact

    def at(self, t: Array) -> Array:
        """COM specific force (n, 3) at times t: what the ground pushes with, per unit mass."""
        smooth, impact = self.parts(t)
        return smooth + impact

    def normal_bw(self, t: Array) -> Array:
        """Ground force normal to the ground at times t, in body weights."""
        return self.at(t) @ self.normal_dir / G0

    def pelvis(self, t: Array) -> Array:
        """Specific force (n, 3) of the pelvis point: the COM's plus its motion relative to the COM."""
        return self.at(t)

    def contact_edges(self, k: int = 800) -> tuple[Array, Array]:
        """Initial contact and toe-off as a force plate sees them: where the normal force of each running
        contact crosses CONTACT_THRESHOLD_BW (interpolated on a fine grid). Walking: the planned times."""
        c = self.c
        ic, to = c.ic.astype(float).copy(), (c.ic + c.tc).astype(float)
        run = np.flatnonzero(c.run)
        if len(run) == 0:
            return ic, to
        u = np.linspace(0.0, 1.0, k)
        tt = c.tc[run, None] * u[None, :]
        force = self._normal_bw(np.repeat(run, k), tt.ravel()).reshape(len(run), k)
        above = force >= CONTACT_THRESHOLD_BW
        seen = above.any(axis=1)
        first = np.argmax(above, axis=1)
        last = k - 1 - np.argmax(above[:, ::-1], axis=1)
        rows = np.arange(len(run))
        i0, i1 = np.maximum(first - 1, 0), first
        on = _crossing(u[i0], u[i1], force[rows, i0], force[rows, i1])
        j0, j1 = last, np.minimum(last + 1, k - 1)
        off = _crossing(u[j0], u[j1], force[rows, j0], force[rows, j1])
        ic[run] = np.where(seen, c.ic[run] + on * c.tc[run], ic[run])
        to[run] = np.where(seen, c.ic[run] + off * c.tc[run], to[run])
        return ic, to

    def _running(self, j: Array, u: Array) -> tuple[Array, Array]:
        """Smooth part and impact component (m, 3) of running contacts ``j`` at ``u`` s after touch-down."""
        raise NotImplementedError

    def _normal_bw(self, j: Array, u: Array) -> Array:
        """Force normal to the ground (body weights) of running contacts ``j`` at ``u`` s after touch-down."""
        raise NotImplementedError


def _crossing(u0: Array, u1: Array, f0: Array, f1: Array) -> Array:
    """Where a linear piece from (u0, f0) to (u1, f1) crosses the contact threshold."""
    df = f1 - f0
    frac = np.where(np.abs(df) > 1e-12, (CONTACT_THRESHOLD_BW - f0) / np.where(df == 0, 1.0, df), 0.0)
    return u0 + np.clip(frac, 0.0, 1.0) * (u1 - u0)


def _impact_pulse(z: Array) -> Array:
    """Unit collision pulse at z = t / tau (peak 1 at z = 1): a stiff heel pad and shoe stopping the shank."""
    z = np.maximum(z, 0.0)
    return z**IMPACT_ORDER * np.exp(IMPACT_ORDER * (1.0 - z))


IMPACT_AREA = np.exp(IMPACT_ORDER) * gamma_function(IMPACT_ORDER + 1.0) / IMPACT_ORDER ** (IMPACT_ORDER + 1.0)


class _TwoComponent(_Forces):
    """Impact plus active components; momentum balance per step; slopes and foot strikes change both."""

    def __init__(self, c: _Contacts, cfg: SimConfig) -> None:
        super().__init__(c)
        shape = STRIKE_SHAPES[cfg.strike]
        slope = cfg.slope_deg
        th = np.radians(slope)
        self.normal_dir = np.array([-np.sin(th), np.cos(th), 0.0])  # world direction of the normal force
        self.along_dir = np.array([np.cos(th), np.sin(th), 0.0])  # forward along the ground
        # step-to-step variation from its own stream, so the contacts' random draws stay as they were
        rng = np.random.default_rng([cfg.seed, 7])
        n = len(c.ic)
        height = shape.impact_bw if cfg.impact_g is None else cfg.impact_g
        self.imp = np.where(c.run, height * _slope_impact_factor(slope) * np.exp(rng.normal(0, 0.15, n)), 0.0)
        self.tau = shape.impact_peak_s * np.exp(rng.normal(0, 0.1, n))
        peak = np.clip(shape.active_peak - ACTIVE_PEAK_PER_DEG * slope + rng.normal(0, 0.015, n), 0.3, 0.65)
        self.warp = np.log(0.5) / np.log(peak)  # u^warp puts the hump's peak at ``peak``
        self.fullness = shape.fullness
        self.lift = cfg.push_off_lift_g * _slope_lift_factor(slope)
        # normal direction: impulse per step = cos(slope) x step time (body weights x s)
        grid = np.linspace(0.0, 1.0, 401)
        hump = np.sin(np.pi * grid[None, :] ** self.warp[:, None]) ** self.fullness
        area = np.trapezoid(hump, grid, axis=1)
        j_imp = self.imp * IMPACT_AREA * self.tau
        self.active = np.maximum(np.cos(th) * self.step - j_imp, 0.2 * self.step) / (c.tc * area)
        # along the ground (m/s per step): brake, then push; push - brake = the weight's share along the slope
        net = G0 * np.sin(th) * self.step
        easing = max(0.3, 1.0 - EASING_PER_DEG * abs(slope))
        if slope > 0:
            brake = c.dv * easing  # the braking eases; the push adds the weight's share
        elif slope < 0:
            brake = c.dv * easing - net  # the push eases; the braking takes the weight's share
        else:
            brake = c.dv
        self.tb = np.clip(BRAKE_SHARE - BRAKE_SHARE_PER_DEG * slope, 0.25, 0.7) * c.tc
        lobe = float(np.trapezoid(np.sin(np.pi * grid) ** FORE_AFT_FULLNESS, grid))
        heel = HORIZONTAL_IMPACT * G0 * j_imp  # speed the heel's collision takes
        self.bpk = np.maximum(brake - heel, 0.25 * brake) / (self.tb * lobe)
        push = self.bpk * self.tb * lobe + heel + net
        self.ppk = np.maximum(push, 0.0) / ((c.tc - self.tb) * lobe)

    def pelvis(self, t: Array) -> Array:
        """The COM's specific force plus the pelvis's push-off lift: a bump just after each running toe-off,
        balanced by an equal pull-back centred in the following flight (the two are internal forces)."""
        c = self.c
        out = self.at(t)
        if self.lift <= 0:
            return out
        run = np.flatnonzero(c.run)
        if len(run) == 0:
            return out
        to = c.ic[run] + c.tc[run]
        flight = np.where(np.isfinite(c.next_ic[run]), c.next_ic[run] - to, 0.1)
        back_at = to + 0.5 * flight
        back_width = np.maximum(flight, 2 * LIFT_WIDTH_S)
        last = np.searchsorted(c.ic[run], t, side="right") - 1
        lift = np.zeros(len(t))
        for back in (0, 1, 2):
            j = last - back
            ok = j >= 0
            jj = np.where(ok, j, 0)
            up = np.exp(-0.5 * ((t - to[jj] - LIFT_DELAY_S) / LIFT_WIDTH_S) ** 2)
            down = (LIFT_WIDTH_S / back_width[jj]) * np.exp(-0.5 * ((t - back_at[jj]) / back_width[jj]) ** 2)
            lift += np.where(ok, up - down, 0.0)
        out[:, 1] += self.lift * G0 * lift
        return out

    def _parts_bw(self, j: Array, u: Array) -> tuple[Array, Array]:
        x = np.clip(u / self.c.tc[j], 0.0, 1.0)
        active = self.active[j] * np.sin(np.pi * x ** self.warp[j]) ** self.fullness
        impact = self.imp[j] * _impact_pulse(u / self.tau[j])
        return active, impact

    def _normal_bw(self, j: Array, u: Array) -> Array:
        active, impact = self._parts_bw(j, u)
        return active + impact

    def _running(self, j: Array, u: Array) -> tuple[Array, Array]:
        c = self.c
        active, impact = self._parts_bw(j, u)
        tb, tc = self.tb[j], c.tc[j]
        brake = np.where(u < tb, np.sin(np.pi * np.clip(u / tb, 0, 1)) ** FORE_AFT_FULLNESS, 0.0)
        push = np.where(u >= tb, np.sin(np.pi * np.clip((u - tb) / (tc - tb), 0, 1)) ** FORE_AFT_FULLNESS, 0.0)
        along = -self.bpk[j] * brake + self.ppk[j] * push
        side = c.side[j] * self.lat[j] * np.sin(np.pi * np.clip(u / tc, 0, 1))  # towards the stance side
        smooth = G0 * active[:, None] * self.normal_dir + along[:, None] * self.along_dir
        smooth[:, 2] += side
        hit = G0 * impact[:, None] * (self.normal_dir - HORIZONTAL_IMPACT * self.along_dir)
        return smooth, hit


def _two_component(c: _Contacts, cfg: SimConfig) -> _TwoComponent:
    """Two-component forces whose contacts last the planned time as a force plate measures it (between the
    threshold crossings): each shape is stretched until they do (shapes taper, so they outlast the contact)."""
    target = c.tc.copy()
    forces = _TwoComponent(c, cfg)
    room = np.where(np.isfinite(c.next_ic), c.next_ic - c.ic, np.inf) * 0.95
    for _ in range(3):
        ic, to = forces.contact_edges()
        measured = to - ic
        stretch = np.where(c.run & (measured > 0), target / np.where(measured > 0, measured, 1.0), 1.0)
        c.tc = np.minimum(c.tc * stretch, room)
        forces = _TwoComponent(c, cfg)
    return forces


class _SpringMass(_Forces):
    """The earlier model: a half-sine vertical force plus a narrow Gaussian heel transient, half-sine braking
    and push of equal impulse. Kept only so that recordings/make_samples.py regenerates the bundled samples;
    it is the detector's own idealisation and must not be used to judge the detector."""

    def __init__(self, c: _Contacts, cfg: SimConfig) -> None:
        super().__init__(c)
        height = LEGACY_IMPACT_G if cfg.impact_g is None else cfg.impact_g
        self.impact = np.where(c.run, height * G0, 0.0)
        imp_impulse = self.impact * LEGACY_IMPACT_WIDTH_S * np.sqrt(2 * np.pi)
        self.vamp = (G0 * self.step - imp_impulse) * np.pi / (2.0 * c.tc)
        self.tb = 0.45 * c.tc
        self.bpeak = c.dv * np.pi / (2.0 * self.tb)
        self.ppeak = c.dv * np.pi / (2.0 * (c.tc - self.tb))

    def _normal_bw(self, j: Array, u: Array) -> Array:
        x = np.clip(u / self.c.tc[j], 0.0, 1.0)
        return (self.vamp[j] * np.sin(np.pi * x) + self.impact[j] * _legacy_impact(u)) / G0

    def _running(self, j: Array, u: Array) -> tuple[Array, Array]:
        c = self.c
        x = u / self.dur[j]
        vert = self.vamp[j] * np.sin(np.pi * x) + self.impact[j] * _legacy_impact(u)
        tb = self.tb[j]
        ap = np.where(
            u < tb,
            -self.bpeak[j] * np.sin(np.pi * u / np.maximum(tb, 1e-9)),
            self.ppeak[j] * np.sin(np.pi * (u - tb) / np.maximum(c.tc[j] - tb, 1e-9)),
        )
        ml = 1.0 * c.side[j] * self.lat[j] * np.sin(np.pi * x)
        return np.column_stack((ap, vert, ml)), np.zeros((len(j), 3))


def _legacy_impact(t: Array) -> Array:
    return np.where(t >= 0, np.exp(-0.5 * ((t - LEGACY_IMPACT_PEAK_S) / LEGACY_IMPACT_WIDTH_S) ** 2), 0.0)


# ---------------------------------------------------------------------------------------------------------
# pelvis angles


class _Pelvis:
    """Obliquity, tilt, rotation (deg) as cubic splines through per-step knots; derivatives analytic."""

    TILT_MEAN_DEG = -15.0  # anterior pelvic tilt of a typical runner on the level

    def __init__(self, c: _Contacts, cfg: SimConfig, t_end: float) -> None:
        self.tilt_mean = self.TILT_MEAN_DEG - LEAN_PER_DEG * cfg.slope_deg
        obl_k: list[tuple[float, float]] = []
        tilt_k: list[tuple[float, float]] = []
        rot_k: list[tuple[float, float]] = []
        for i in range(len(c.ic)):
            s, ic, tc = c.side[i], c.ic[i], c.tc[i]
            step = (c.next_ic[i] - ic) if np.isfinite(c.next_ic[i]) else (tc / 0.68 if c.run[i] else tc / 1.2)
            if c.run[i]:
                # phases follow treadmill motion capture (RBDS): the swing side drops until ~35 % of stance,
                # then falls further behind through late stance and early flight; the pelvis tilts
                # posteriorly until ~30 % of stance, anteriorly into early flight; it turns backwards on the
                # stance side until late stance
                q_ic = cfg.obliquity_ic_deg
                late = ic + tc + 0.3 * (step - tc)
                obl_k += [
                    (ic, s * q_ic),
                    (ic + 0.35 * tc, s * (q_ic + c.drop[i])),
                    (late, -s * (q_ic + 0.5 * c.drop[i] + 1.0)),
                ]
                tilt_k += [
                    (ic + 0.3 * tc, cfg.tilt_range_deg / 2),
                    (ic + tc + 0.4 * (step - tc), -cfg.tilt_range_deg / 2),
                ]
                rot_k += [(ic + 0.8 * tc, -s * cfg.rotation_range_deg / 2)]
            else:
                obl_k += [(ic, s * 1.0), (ic + 0.25 * step, s * (1.0 + c.drop[i]))]
                tilt_k += [(ic, 1.5), (ic + 0.5 * step, -1.5)]
                rot_k += [(ic, s * 3.0)]
            if not np.isfinite(c.next_ic[i]):  # end of bout: settle to neutral
                settle = ic + step + 0.25
                for knots in (obl_k, tilt_k, rot_k):
                    knots.append((settle, 0.0))
            if i == 0 or not np.isfinite(c.next_ic[i - 1]):  # start of bout: from neutral
                for knots in (obl_k, tilt_k, rot_k):
                    knots.append((ic - 0.25, 0.0))
        for a, b in c.stand:  # standing: a still, neutral pelvis (dense knots keep the spline flat)
            for tk in np.arange(a, b + 1e-9, 0.2):
                for knots in (obl_k, tilt_k, rot_k):
                    knots.append((float(tk), 0.0))
        self.obl = self._curve(obl_k, t_end)
        self.tilt = self._curve(tilt_k, t_end)
        self.rot = self._curve(rot_k, t_end)
        self.d_obl, self.d_tilt, self.d_rot = (f.derivative() for f in (self.obl, self.tilt, self.rot))

    @staticmethod
    def _curve(knots: list[tuple[float, float]], t_end: float) -> CubicSpline:
        k = sorted(knots)
        k = [(-1.0, 0.0), *k, (t_end + 1.0, 0.0)]
        tk = np.array([a for a, _ in k])
        vk = np.array([b for _, b in k])
        keep = np.concatenate(([True], np.diff(tk) > 1e-4))
        return CubicSpline(tk[keep], vk[keep], bc_type="natural", extrapolate=True)

    def angles(self, t: Array) -> tuple[Array, Array, Array]:
        return self.obl(t), self.tilt(t) + self.tilt_mean, self.rot(t)

    def matrices_and_rates(self, t: Array) -> tuple[Array, Array]:
        """World-from-body rotations and body-frame angular velocity (rad/s)."""
        obl, tilt, rot = (np.radians(x) for x in self.angles(t))
        a, b, c = rot, -obl, tilt
        ad, bd, cd = np.radians(self.d_rot(t)), -np.radians(self.d_obl(t)), np.radians(self.d_tilt(t))
        r = _matrix_yxz(a, b, c)
        cc, sc, cb, sb = np.cos(c), np.sin(c), np.cos(b), np.sin(b)
        w = np.column_stack((cc * bd + sc * cb * ad, -sc * bd + cc * cb * ad, cd - sb * ad))
        return r, w


def _matrix_yxz(a: Array, b: Array, c: Array) -> Array:
    """Rotation matrices R = Ry(a) Rx(b) Rz(c) for angle arrays in rad (the ISB pelvis order)."""
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    return np.stack(
        (
            np.stack((ca * cc + sa * sb * sc, -ca * sc + sa * sb * cc, sa * cb), -1),
            np.stack((cb * sc, cb * cc, -sb), -1),
            np.stack((-sa * cc + ca * sb * sc, sa * sc + ca * sb * cc, ca * cb), -1),
        ),
        axis=-2,
    )


# ---------------------------------------------------------------------------------------------------------


def mounting_matrix(cfg: SimConfig, rng: np.random.Generator) -> Array:
    """v_sensor = M @ v_body for the configured mounting (the clip tilt comes on top, see ``clip_matrix``)."""
    if cfg.mounting_euler_deg is not None:
        return Rotation.from_euler("zyx", cfg.mounting_euler_deg, degrees=True).as_matrix().T
    m = cfg.mounting
    if m == "upright":
        return np.eye(3)
    if m == "upside_down":
        return np.diag([1.0, -1.0, -1.0])
    if m == "rot90":  # turned a quarter turn in the plane of the back (about the anterior axis)
        return Rotation.from_euler("x", 90, degrees=True).as_matrix().T
    if m == "rot180":
        return Rotation.from_euler("y", 180, degrees=True).as_matrix().T
    if m == "tilted":
        return Rotation.from_euler("zx", rng.uniform(-30, 30, 2), degrees=True).as_matrix().T
    return Rotation.random(random_state=rng.integers(2**31)).as_matrix().T


def clip_matrix(cfg: SimConfig) -> Array:
    """v_clip = C @ v_body: the clip pitched about the body's right axis, then rolled about its forward axis."""
    pitch, roll = cfg.clip_tilt_deg
    return Rotation.from_euler("zx", (pitch, roll), degrees=True).as_matrix().T


def simulate(cfg: SimConfig) -> SimResult:
    """Generate a recording and its per-step truth."""
    cfg.validate()
    rng = np.random.default_rng(cfg.seed)
    c = _contacts(cfg, rng)
    t_end = sum(s for _, s in cfg.plan())
    legacy = cfg.force_model == "spring_mass"
    forces = _SpringMass(c, cfg) if legacy else _two_component(c, cfg)
    pelvis = _Pelvis(c, cfg, t_end)
    m = mounting_matrix(cfg, rng)
    if any(cfg.clip_tilt_deg):
        m = m @ clip_matrix(cfg)
    r_arm = np.asarray(cfg.lever_arm_m, float)
    fs = float(cfg.rate_hz)
    k = max(1, int(np.ceil(1000.0 / fs)))
    fs_int = fs * k
    n_out = int(np.floor(t_end * fs))
    sos = butter(4, 0.4 * fs, fs=fs_int, output="sos")
    tissue = _tissue_filter(cfg, fs_int)
    acc = np.empty((n_out, 3))
    gyr = np.empty((n_out, 3))
    margin = int(0.5 * fs_int)
    chunk = int(CHUNK_S * fs)
    for start in range(0, n_out, chunk):
        stop = min(n_out, start + chunk)
        i0, i1 = start * k - margin, stop * k + margin
        t = np.arange(i0, i1) / fs_int
        r, w = pelvis.matrices_and_rates(t)
        alpha = np.gradient(w, axis=0) * fs_int
        f_world = forces.pelvis(t)
        f_body = np.einsum("nji,nj->ni", r, f_world)  # R^T f
        f_body += np.cross(alpha, r_arm) + np.cross(w, np.cross(w, r_arm))
        if legacy:
            f_body += _legacy_wobble(t, c, cfg)
        elif tissue is not None:
            f_body = _ring(tissue, f_body)
        f_s = f_body @ m.T
        w_s = w @ m.T
        f_s = sosfiltfilt(sos, f_s, axis=0)
        w_s = sosfiltfilt(sos, w_s, axis=0)
        sl = slice(margin, margin + (stop - start) * k, k)
        acc[start:stop] = f_s[sl]
        gyr[start:stop] = w_s[sl]
    t_out = np.arange(n_out) / fs
    clean_norm = np.linalg.norm(acc, axis=1)
    acc += rng.normal(0, cfg.acc_noise_ms2, acc.shape) + rng.normal(0, cfg.acc_bias_ms2, 3)
    drift = np.cumsum(rng.normal(0, cfg.gyro_bias_rads * 0.02 / np.sqrt(fs), gyr.shape), axis=0)
    gyr += rng.normal(0, cfg.gyro_noise_rads, gyr.shape) + rng.normal(0, cfg.gyro_bias_rads, 3) + drift
    keep = _dropouts(n_out, fs, cfg, rng)
    truth = _truth(c, forces, pelvis, t_out, clean_norm, fs)
    meta = RecordingMeta(
        title=f"simulated run {cfg.cadence_spm:.0f} spm, drop L/R {cfg.drop_left_deg:g}/{cfg.drop_right_deg:g} deg",
        device=DeviceInfo(name="gait simulator", model="synthetic sacral IMU", manufacturer="gait", emulated=True),
        placement="sacrum",
        subject=SubjectInfo(id=cfg.runner_id),
        start_utc=cfg.start_utc,
        source="simulator",
        source_detail=json.dumps(_config_dict(cfg)),
        synthetic=True,
        notes="Made by gait.simulate (a physical model), not recorded from a person. Truth in truth_steps.csv.",
    )
    rec = Recording.from_arrays(t_out[keep], acc[keep], gyr[keep] if cfg.gyro else None, meta=meta)
    rec = dataclasses.replace(
        rec,
        meta=rec.meta.replace(streams=(dataclasses.replace(rec.meta.streams[0], rate_hz=fs, clock="simulated"),)),
    )
    return SimResult(recording=rec, truth=truth, config=cfg, mounting_matrix=m, forces=forces)


def _tissue_filter(cfg: SimConfig, fs: float) -> tuple[Array, Array] | None:
    """The clip on soft tissue as a base-excited damped oscillator: the sensor's acceleration follows the
    body's through H(s) = (2 zeta w s + w^2) / (s^2 + 2 zeta w s + w^2) (unit gain at low frequency, a resonance
    at ``wobble_hz``), discretised at ``fs``. None when the sensor is rigidly attached."""
    if cfg.force_model == "spring_mass" or cfg.wobble_hz <= 0:
        return None
    wn = 2 * np.pi * cfg.wobble_hz
    zeta = cfg.wobble_damping
    b, a = bilinear([2 * zeta * wn, wn**2], [1.0, 2 * zeta * wn, wn**2], fs=fs)
    return b, a


def _ring(ba: tuple[Array, Array], x: Array) -> Array:
    """Filter (n, 3) through the oscillator, starting at rest under the first sample's load."""
    b, a = ba
    zi = lfilter_zi(b, a)[:, None] * x[:1]
    y, _ = lfilter(b, a, x, axis=0, zi=zi)
    return y


def _legacy_wobble(t: Array, c: _Contacts, cfg: SimConfig) -> Array:
    """The spring_mass model's wobble: a damped 20 Hz sine after each running impact (body frame)."""
    out = np.zeros((len(t), 3))
    height = LEGACY_IMPACT_G if cfg.impact_g is None else cfg.impact_g
    if height <= 0:
        return out
    last = np.searchsorted(c.ic, t, side="right") - 1
    ok = last >= 0
    j = np.where(ok, last, 0)
    u = t - c.ic[j]
    amp = 0.2 * height * G0 * np.where(ok & c.run[j] & (u < 0.1), 1.0, 0.0)
    osc = amp * np.exp(-u / LEGACY_WOBBLE_TAU_S) * np.sin(2 * np.pi * LEGACY_WOBBLE_HZ * u)
    out[:, 1] = osc
    out[:, 0] = -0.4 * osc
    return out


def _dropouts(n: int, fs: float, cfg: SimConfig, rng: np.random.Generator) -> Array:
    keep = np.ones(n, bool)
    target = int(cfg.dropout_fraction * n)
    removed = 0
    while removed < target:
        length = max(1, int(rng.exponential(cfg.dropout_mean_s) * fs))
        start = int(rng.integers(0, max(1, n - length)))
        removed += int(keep[start : start + length].sum())
        keep[start : start + length] = False
    return keep


def _integrate(a: Array, dt: Array) -> Array:
    """Cumulative trapezoid along axis 1 from 0, per row step ``dt``."""
    steps = 0.5 * (a[:, 1:] + a[:, :-1]) * dt[:, None]
    return np.concatenate((np.zeros((len(a), 1)), np.cumsum(steps, axis=1)), axis=1)


def _truth(c: _Contacts, forces: _Forces, pelvis: _Pelvis, t_out: Array, clean_norm: Array, fs: float) -> pd.DataFrame:
    """Per-step truth measured on the model, with the analysis's definitions.

    Running contacts start and end where the simulated normal force crosses 0.05 body weights (as on a force
    plate), not where the shapes start; every other value is evaluated on a fine grid between those times:
    drop and pelvis ranges on the pelvis curves, braking on the horizontal force of the centre of mass, bounce
    on its vertical force, impact on the noise-free sensor signal.
    """
    n = len(c.ic)
    k = 400
    u = np.linspace(0.0, 1.0, k)
    ic, to = forces.contact_edges()
    tc = to - ic
    bout_next = np.isfinite(c.next_ic)
    next_ic = np.full(n, np.nan)
    next_ic[:-1] = np.where(bout_next[:-1], ic[1:], np.nan)
    ts = ic[:, None] + tc[:, None] * u[None, :]  # stance grid
    flat = ts.ravel()
    obl, tilt, rot = (x.reshape(n, k) for x in pelvis.angles(flat))
    q = c.side[:, None] * obl
    f = forces.at(flat).reshape(n, k, 3)
    dt = tc / (k - 1)
    v = _integrate(f[:, :, 0], dt)  # horizontal (world) forward speed change since contact
    kmin = np.argmin(v, axis=1)
    dv = -v[np.arange(n), kmin]
    in_brake = np.arange(k)[None, :] <= kmin[:, None]
    bpeak = -np.where(in_brake, f[:, :, 0], np.inf).min(axis=1) / G0
    step_time = next_ic - ic
    # vertical oscillation over the step (IC to next IC), same detrending as the analysis
    vo = np.full(n, np.nan)
    ok = np.isfinite(step_time)
    if ok.any():
        tt = ic[ok, None] + step_time[ok, None] * u[None, :]
        a = forces.at(tt.ravel()).reshape(-1, k, 3)[:, :, 1] - G0
        dts = step_time[ok] / (k - 1)
        vel = _integrate(a, dts)
        vel -= vel.mean(axis=1, keepdims=True)
        pos = _integrate(vel, dts)
        pos -= u[None, :] * pos[:, -1:]
        vo[ok] = (pos.max(axis=1) - pos.min(axis=1)) * 100.0
    # impact: peak of the clean, band-limited sensor signal within stance (running only)
    i0 = np.searchsorted(t_out, ic)
    length = int(np.ceil(np.max(tc) * fs)) + 1
    idx = i0[:, None] + np.arange(length)[None, :]
    inside = (idx < len(clean_norm)) & (np.arange(length)[None, :] < np.round(tc * fs)[:, None])
    w = clean_norm[np.clip(idx, 0, len(clean_norm) - 1)]
    impact = np.where(inside, w, -np.inf).max(axis=1) / G0
    run = c.run
    impact = np.where(run & np.isfinite(impact), impact, np.nan)
    stride = np.full(n, np.nan)
    stride[:-1] = np.where(ok[:-1] & ok[1:], next_ic[1:] - ic[:-1], np.nan)
    return pd.DataFrame(
        {
            "side": np.where(c.side > 0, "R", "L"),
            "activity": np.where(run, "run", "walk"),
            "ic_s": ic,
            "to_s": to,
            "step_time_s": step_time,
            "stride_time_s": stride,
            "contact_time_ms": tc * 1000.0,
            "flight_time_ms": np.where(run, (step_time - tc) * 1000.0, np.nan),
            "pelvic_drop_deg": q.max(axis=1) - q[:, 0],
            "pelvic_obliquity_range_deg": obl.max(axis=1) - obl.min(axis=1),
            "pelvic_tilt_range_deg": tilt.max(axis=1) - tilt.min(axis=1),
            "pelvic_rotation_range_deg": rot.max(axis=1) - rot.min(axis=1),
            "braking_peak_g": np.where(run, bpeak, np.nan),
            "braking_duration_ms": np.where(run, kmin * dt * 1000.0, np.nan),
            "braking_dv_mps": np.where(run, dv, np.nan),
            "vertical_oscillation_cm": vo,
            "impact_g": impact,
            "fatigue_progress": c.progress,
        }
    )


def _config_dict(cfg: SimConfig) -> dict:
    d = dataclasses.asdict(cfg)
    d["segments"] = [list(s) for s in cfg.plan()]
    return d


def write(result: SimResult, folder: Path | str, overwrite: bool = False) -> Path:
    """Save the recording plus ``truth_steps.csv`` and ``truth.json`` (config and summary) in one folder."""
    folder = save(result.recording, folder, overwrite=overwrite)
    result.truth.to_csv(folder / "truth_steps.csv", index=False, float_format="%.6g")
    (folder / "truth.json").write_text(
        json.dumps(
            {
                "about": "Ground truth of a simulated recording made by gait.simulate (see docs/simulator.md).",
                "config": _config_dict(result.config),
                "mounting_matrix_sensor_from_body": np.round(result.mounting_matrix, 6).tolist(),
                "summary": result.truth_summary(),
            },
            indent=2,
        )
        + "\n"
    )
    return folder


def load_truth(folder: Path | str) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / "truth_steps.csv")
