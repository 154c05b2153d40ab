"""A synthetic sacral IMU of a runner, with per-step truth.

Model (documented in docs/simulator.md):

* **Forces.** The body's centre of mass (COM) moves under the ground reaction force of each foot contact.
  Running contacts are a half-sine vertical force (the spring-mass model) plus an optional heel-strike
  impact transient (a narrow peak ~25 ms after contact); their height follows from momentum balance (the
  vertical impulse of a step equals body weight times the step time), so the COM is in free fall (0 g)
  during flight. Fore-aft force is a braking half-sine followed by a propulsive one with equal impulse
  (steady speed); the medio-lateral force pushes the body towards the stance side when running (as the
  treadmill force plate shows). Walking steps carry the body's weight throughout: a loading peak just after
  each initial contact, a dip in mid single support, braking then propulsion, and a push towards the other
  side.
* **Pelvis.** Obliquity, tilt and rotation are smooth curves (natural cubic splines) through per-step knots: the
  stance side is higher at initial contact and the swing side then drops by the step's contralateral drop;
  tilt swings anteriorly through stance; the pelvis turns with the swinging leg. Angles use the ISB pelvis
  order (rotation, obliquity, tilt) and body axes x anterior, y up, z right.
* **Sensor.** It sits at a lever arm from the COM point (default 10 cm behind, 8 cm above), so it also feels
  the pelvis's tangential and centripetal acceleration; a damped 20 Hz soft-tissue wobble follows each
  impact. It is mounted in any orientation, low-pass filtered like a real sensor's anti-alias filter,
  sampled at 50-833 Hz, with white noise, biases, gyro bias drift, and optional dropouts.

Truth is computed from the model itself with the same definitions as the analysis (see ``truth_steps``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from gait.analysis.events import IMPACT_WIDTH_S, impact_shape
from gait.analysis.rotations import matrix_from_euler_yxz
from gait.analysis.signal import windows
from gait.constants import G0
from gait.errors import SimulationError
from gait.recording.folder import save
from gait.recording.meta import DeviceInfo, RecordingMeta, SubjectInfo
from gait.recording.model import Recording

Array = np.ndarray

MIN_RATE_HZ, MAX_RATE_HZ = 50.0, 833.0
MOUNTINGS = ("upright", "upside_down", "rot90", "rot180", "tilted", "random")
WOBBLE_HZ, WOBBLE_TAU_S = 20.0, 0.015
CHUNK_S = 60.0


@dataclass(frozen=True)
class SimConfig:
    """Everything the simulated runner and sensor do. Per-side values: ``left`` = during left-foot stance."""

    duration_s: float = 120.0  # running time (used when ``segments`` is empty)
    segments: tuple[tuple[str, float], ...] = ()  # e.g. (("stand", 5), ("walk", 30), ("run", 600))
    rate_hz: float = 208.0
    cadence_spm: float = 170.0
    contact_time_ms: float | None = None  # default: 68 % of the step time
    drop_left_deg: float = 5.0
    drop_right_deg: float = 5.0
    braking_dv_mps: float = 0.20
    impact_g: float = 1.5  # heel-strike transient height above the half sine (0 = soft forefoot landing)
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
    lever_arm_m: tuple[float, float, float] = (-0.10, 0.08, 0.0)
    acc_noise_ms2: float = 0.08
    gyro_noise_rads: float = 0.01
    acc_bias_ms2: float = 0.05
    gyro_bias_rads: float = 0.01
    dropout_fraction: float = 0.0
    dropout_mean_s: float = 0.2
    gyro: bool = True
    seed: int = 0
    runner_id: str = "synthetic-runner"  # the recording's subject id (whose history the run belongs to)
    start_utc: str | None = None  # wall-clock start written to meta.json, e.g. "2026-10-05T07:30:00Z"

    def validate(self) -> None:
        if not MIN_RATE_HZ <= self.rate_hz <= MAX_RATE_HZ:
            raise SimulationError(f"rate {self.rate_hz} Hz is outside {MIN_RATE_HZ:.0f}-{MAX_RATE_HZ:.0f} Hz")
        if not 120 <= self.cadence_spm <= 230:
            raise SimulationError(f"cadence {self.cadence_spm} spm is outside the running range 120-230")
        if self.mounting not in MOUNTINGS:
            raise SimulationError(f"unknown mounting {self.mounting!r} (choose from {', '.join(MOUNTINGS)})")
        for kind, seconds in self.plan():
            if kind not in ("run", "walk", "stand") or seconds <= 0:
                raise SimulationError(f"bad segment ({kind!r}, {seconds}): kinds are run, walk, stand")
        if not 0 <= self.dropout_fraction < 0.5:
            raise SimulationError("dropout fraction must be in [0, 0.5)")
        if self.contact_time_ms is not None and not 0.3 < self.contact_time_ms / (60000 / self.cadence_spm) < 0.95:
            raise SimulationError("contact time must be 30-95 % of the step time for running (flight is needed)")

    def plan(self) -> tuple[tuple[str, float], ...]:
        return self.segments or (("stand", 3.0), ("run", float(self.duration_s)), ("stand", 2.0))


@dataclass(frozen=True)
class SimResult:
    recording: Recording
    truth: pd.DataFrame  # per-step truth, analysis column names
    config: SimConfig
    mounting_matrix: Array  # v_sensor = M @ v_body

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
                base = cfg.contact_time_ms / 1000.0 if cfg.contact_time_ms else 0.68 * 60.0 / cad
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
    """Running: one half-sine contact per step (flight between). Walking: the body is always supported, so
    each step contributes the force over its own step time: a loading peak just after initial contact and
    a dip in mid single support (lower-back accelerometry of walking), braking then propulsion, and a push
    towards the other side."""

    WALK_VERTICAL = 0.25  # +-25 % of body weight around 1 g
    WALK_LOADING_PHASE = 0.12  # peak loading at 12 % of the step after initial contact

    def __init__(self, c: _Contacts, cfg: SimConfig) -> None:
        self.c = c
        step = np.where(np.isfinite(c.next_ic), c.next_ic - c.ic, np.nan)
        med_step = np.where(np.isfinite(step), step, np.nanmedian(step) if np.isfinite(step).any() else 0.35)
        self.impact = np.where(c.run, cfg.impact_g * G0, 0.0)
        imp_impulse = self.impact * IMPACT_WIDTH_S * np.sqrt(2 * np.pi)
        # running: half-sine amplitude from the vertical impulse of one step
        self.vamp = (G0 * med_step - imp_impulse) * np.pi / (2.0 * c.tc)
        self.dur = np.where(c.run, c.tc, med_step)  # how long each contact's force acts
        self.tb = 0.45 * c.tc  # running braking phase
        self.bpeak = c.dv * np.pi / (2.0 * self.tb)
        self.ppeak = c.dv * np.pi / (2.0 * (c.tc - self.tb))
        self.walk_ap = c.dv * np.pi / med_step  # walking: -A sin(2 pi x) loses dv in the first half step
        self.lat = np.where(c.run, 0.06, 0.08) * G0

    def at(self, t: Array) -> Array:
        """COM specific force (n, 3) at times t (world frame: forward, up, right)."""
        c = self.c
        f = np.zeros((len(t), 3))
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
            x = uu / self.dur[jj]
            run = c.run[jj]
            vert = np.where(
                run,
                self.vamp[jj] * np.sin(np.pi * x) + self.impact[jj] * impact_shape(uu),
                G0 * (1.0 + self.WALK_VERTICAL * np.cos(2 * np.pi * (x - self.WALK_LOADING_PHASE))),
            )
            tb = self.tb[jj]
            ap = np.where(
                run,
                np.where(
                    uu < tb,
                    -self.bpeak[jj] * np.sin(np.pi * uu / np.maximum(tb, 1e-9)),
                    self.ppeak[jj] * np.sin(np.pi * (uu - tb) / np.maximum(c.tc[jj] - tb, 1e-9)),
                ),
                -self.walk_ap[jj] * np.sin(2 * np.pi * x),
            )
            # running: towards the stance side (force plate, RBDS at 3.5 m/s); walking: towards the other side
            ml = np.where(run, 1.0, -1.0) * c.side[jj] * self.lat[jj] * np.sin(np.pi * x)
            f[act] += np.column_stack((ap, vert, ml))
        for a, b in c.stand:
            f[(t >= a) & (t < b), 1] += G0
        return f


# ---------------------------------------------------------------------------------------------------------
# pelvis angles


class _Pelvis:
    """Obliquity, tilt, rotation (deg) as cubic splines through per-step knots; derivatives analytic."""

    TILT_MEAN_DEG = -15.0  # anterior pelvic tilt of a typical runner

    def __init__(self, c: _Contacts, cfg: SimConfig, t_end: float) -> None:
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
        return self.obl(t), self.tilt(t) + self.TILT_MEAN_DEG, self.rot(t)

    def matrices_and_rates(self, t: Array) -> tuple[Array, Array]:
        """World-from-body rotations and body-frame angular velocity (rad/s)."""
        obl, tilt, rot = (np.radians(x) for x in self.angles(t))
        a, b, c = rot, -obl, tilt
        ad, bd, cd = np.radians(self.d_rot(t)), -np.radians(self.d_obl(t)), np.radians(self.d_tilt(t))
        r = matrix_from_euler_yxz(a, b, c)
        cc, sc, cb, sb = np.cos(c), np.sin(c), np.cos(b), np.sin(b)
        w = np.column_stack((cc * bd + sc * cb * ad, -sc * bd + cc * cb * ad, cd - sb * ad))
        return r, w


# ---------------------------------------------------------------------------------------------------------


def mounting_matrix(cfg: SimConfig, rng: np.random.Generator) -> Array:
    """v_sensor = M @ v_body for the configured mounting."""
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


def simulate(cfg: SimConfig) -> SimResult:
    """Generate a recording and its per-step truth."""
    cfg.validate()
    rng = np.random.default_rng(cfg.seed)
    c = _contacts(cfg, rng)
    t_end = sum(s for _, s in cfg.plan())
    forces = _Forces(c, cfg)
    pelvis = _Pelvis(c, cfg, t_end)
    m = mounting_matrix(cfg, rng)
    r_arm = np.asarray(cfg.lever_arm_m, float)
    fs = float(cfg.rate_hz)
    k = max(1, int(np.ceil(1000.0 / fs)))
    fs_int = fs * k
    n_out = int(np.floor(t_end * fs))
    sos = butter(4, 0.4 * fs, fs=fs_int, output="sos")
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
        f_world = forces.at(t)
        f_body = np.einsum("nji,nj->ni", r, f_world)  # R^T f
        f_body += np.cross(alpha, r_arm) + np.cross(w, np.cross(w, r_arm))
        f_body += _wobble(t, c, cfg)
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
    return SimResult(recording=rec, truth=truth, config=cfg, mounting_matrix=m)


def _wobble(t: Array, c: _Contacts, cfg: SimConfig) -> Array:
    """Soft-tissue wobble of the sensor after each running impact (body frame, mostly vertical)."""
    out = np.zeros((len(t), 3))
    if cfg.impact_g <= 0:
        return out
    last = np.searchsorted(c.ic, t, side="right") - 1
    ok = last >= 0
    j = np.where(ok, last, 0)
    u = t - c.ic[j]
    amp = 0.2 * cfg.impact_g * G0 * np.where(ok & c.run[j] & (u < 0.1), 1.0, 0.0)
    osc = amp * np.exp(-u / WOBBLE_TAU_S) * np.sin(2 * np.pi * WOBBLE_HZ * u)
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


def _truth(c: _Contacts, forces: _Forces, pelvis: _Pelvis, t_out: Array, clean_norm: Array, fs: float) -> pd.DataFrame:
    """Per-step truth with the analysis's definitions, evaluated on fine per-step grids of the model."""
    n = len(c.ic)
    k = 400
    u = np.linspace(0.0, 1.0, k)
    ts = c.ic[:, None] + c.tc[:, None] * u[None, :]  # stance grid
    flat = ts.ravel()
    obl, tilt, rot = (x.reshape(n, k) for x in pelvis.angles(flat))
    q = c.side[:, None] * obl
    f = forces.at(flat).reshape(n, k, 3)
    dt = c.tc / (k - 1)
    v = np.concatenate((np.zeros((n, 1)), np.cumsum(0.5 * (f[:, 1:, 0] + f[:, :-1, 0]), axis=1) * dt[:, None]), axis=1)
    kmin = np.argmin(v, axis=1)
    dv = -v[np.arange(n), kmin]
    in_brake = np.arange(k)[None, :] <= kmin[:, None]
    bpeak = -np.where(in_brake, f[:, :, 0], np.inf).min(axis=1) / G0
    step_time = c.next_ic - c.ic
    # vertical oscillation over the step (IC to next IC), same detrending as the analysis
    vo = np.full(n, np.nan)
    ok = np.isfinite(step_time)
    if ok.any():
        tt = c.ic[ok, None] + step_time[ok, None] * u[None, :]
        a = forces.at(tt.ravel()).reshape(-1, k, 3)[:, :, 1] - G0
        dts = step_time[ok] / (k - 1)
        vel = np.concatenate((np.zeros((len(a), 1)), np.cumsum(0.5 * (a[:, 1:] + a[:, :-1]), axis=1) * dts[:, None]), 1)
        vel -= vel.mean(axis=1, keepdims=True)
        pos = np.concatenate(
            (np.zeros((len(a), 1)), np.cumsum(0.5 * (vel[:, 1:] + vel[:, :-1]), axis=1) * dts[:, None]), 1
        )
        pos -= u[None, :] * pos[:, -1:]
        vo[ok] = (pos.max(axis=1) - pos.min(axis=1)) * 100.0
    # impact: peak of the clean, band-limited sensor signal within stance (running only)
    i0 = np.searchsorted(t_out, c.ic)
    length = int(np.ceil(np.max(c.tc) * fs)) + 1
    w, valid = windows(clean_norm, i0, length)
    inside = valid & (np.arange(length)[None, :] < np.round(c.tc * fs)[:, None])
    impact = np.where(inside, w, -np.inf).max(axis=1) / G0
    run = c.run
    impact = np.where(run & np.isfinite(impact), impact, np.nan)
    stride = np.full(n, np.nan)
    stride[:-1] = np.where(ok[:-1] & ok[1:], c.next_ic[1:] - c.ic[:-1], np.nan)
    return pd.DataFrame(
        {
            "side": np.where(c.side > 0, "R", "L"),
            "activity": np.where(run, "run", "walk"),
            "ic_s": c.ic,
            "to_s": c.ic + c.tc,
            "step_time_s": step_time,
            "stride_time_s": stride,
            "contact_time_ms": c.tc * 1000.0,
            "flight_time_ms": np.where(run, (step_time - c.tc) * 1000.0, np.nan),
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
