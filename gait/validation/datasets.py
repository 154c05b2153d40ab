"""Readers for the lab reference data in ``../shared/data`` (kept there; never copied into the project).

Each reader returns trials: a :class:`Recording` built from the lab sensor (in SI, sensor frame) plus the
lab's own reference (force-plate contacts, motion-capture sides and pelvic drop, ...).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait.constants import G0
from gait.recording.meta import DeviceInfo, RecordingMeta
from gait.recording.model import Recording


def lab_data_dir() -> Path | None:
    """``$GAIT_LAB_DATA``, else ``../shared/data`` beside the checkout or the working directory."""
    env = os.environ.get("GAIT_LAB_DATA")
    candidates = [Path(env)] if env else []
    candidates += [
        Path(__file__).resolve().parents[3] / "shared" / "data",
        Path.cwd().parent / "shared" / "data",
    ]
    for c in candidates:
        if c.is_dir():
            return c
    return None


LEVEL_DEG = 0.5  # slopes within this are level


@dataclass(frozen=True)
class Trial:
    dataset: str
    name: str
    recording: Recording
    steps: pd.DataFrame  # reference stances: ic_s, to_s (NaN if absent), side (R/L or ""), ...
    cadence_spm: float | None = None
    info: dict[str, float | str] = field(default_factory=dict)
    bouts: pd.DataFrame | None = None  # walking bouts with reference cadence (mobgap)
    activity: str = "run"  # "run" or "walk"
    slope_deg: float = 0.0  # + uphill
    strike: str = ""  # the runner's foot strike (rearfoot / midfoot / forefoot), "" when not known
    force: pd.DataFrame | None = None  # the force plate's vertical force: time_s, vertical_bw (RBDS)

    @property
    def terrain(self) -> str:
        if abs(self.slope_deg) < LEVEL_DEG:
            return "level"
        return "uphill" if self.slope_deg > 0 else "downhill"


def rbds_trials(root: Path) -> Iterator[Trial]:
    """Treadmill running, virtual sacral IMU from markers (150 Hz), force-plate and marker references.

    The first and last second of the virtual IMU carry filter edge effects, so both are cropped.
    """
    folder = root / "rbds_running"
    summary = {d["trial"]: d for d in json.loads((folder / "trials_summary.json").read_text())}
    for imu_path in sorted(folder.glob("*_virtual_imu_sacrum.csv")):
        name = imu_path.name.replace("_virtual_imu_sacrum.csv", "")
        d = pd.read_csv(imu_path)
        keep = (d["time_s"] >= 1.0) & (d["time_s"] <= d["time_s"].iloc[-1] - 1.0)
        d = d[keep]
        rec = Recording.from_arrays(
            d["time_s"].to_numpy(),
            d[["acc_x_ms2", "acc_y_ms2", "acc_z_ms2"]].to_numpy(),
            d[["gyr_x_rads", "gyr_y_rads", "gyr_z_rads"]].to_numpy(),
            meta=RecordingMeta(device=DeviceInfo(name="virtual IMU from markers (RBDS)")),
            title=name,
            source="lab-data",
        )
        # the lab files name speeds with the old `_ms` suffix (metres per second): read them under gait's names
        steps = pd.read_csv(folder / f"{name}_steps_reference.csv").rename(columns={"braking_dv_ms": "braking_dv_mps"})
        s = summary.get(name, {})
        grf = pd.read_csv(folder / f"{name}_grf.csv", usecols=["time_s", "Fy_N"])
        weight = float(s.get("mass_from_grf_kg", s.get("mass_kg", float("nan")))) * G0
        yield Trial(
            "rbds_running",
            name,
            rec,
            steps,
            cadence_spm=s.get("cadence_spm"),
            info={"speed_mps": s.get("speed_ms", float("nan")), "mass_kg": s.get("mass_kg", float("nan"))},
            strike="forefoot",  # RBDS001 (the data set's README)
            force=pd.DataFrame({"time_s": grf["time_s"], "vertical_bw": grf["Fy_N"] / weight}),
        )


def alcantara_trials(root: Path) -> Iterator[Trial]:
    """Real biaxial sacral accelerometer (vertical + AP, 500 Hz) with force-treadmill contacts, level running.

    The sensor has no medio-lateral axis; it is given as a zero third axis (so side labels are not judged). The
    authors set negative vertical accelerations (flight) to zero.
    """
    return _alcantara(root, "alcantara_sacral_acc_grf")


def alcantara_slope_trials(root: Path) -> Iterator[Trial]:
    """The same runner and sensor on +-5 and +-10 degree slopes, rearfoot and midfoot strikes (8 trials).

    As in the level trials the vertical acceleration is clipped at zero in flight, which raises its median
    magnitude to 1.3-1.6 g; on a slope the treadmill's force is normal to the belt, not vertical.
    """
    return _alcantara(root, "alcantara_slopes")


STRIKE_COLUMNS = {"RFS": "rearfoot", "MFS": "midfoot", "FFS": "forefoot"}  # % of the trial's contacts


def _alcantara(root: Path, dataset: str) -> Iterator[Trial]:
    folder = root / dataset
    data = pd.read_csv(folder / "sacral_acc_grf_500hz.csv")
    contacts = pd.read_csv(folder / "contacts_reference.csv")
    trials = pd.read_csv(folder / "trials.csv").set_index("trial")
    for trial, g in data.groupby("trial"):
        acc = np.column_stack((g["acc_ap_g"], g["acc_vert_g_clipped"], np.zeros(len(g)))) * G0
        rec = Recording.from_arrays(
            g["time_s"].to_numpy(),
            acc,
            None,
            meta=RecordingMeta(device=DeviceInfo(name="biaxial sacral accelerometer (Alcantara 2022)")),
            title=f"{dataset}_trial{trial}",
            source="lab-data",
        )
        ref = contacts[contacts["trial"] == trial].copy()
        ref["side"] = ""
        info = trials.loc[trial]
        strike = max(STRIKE_COLUMNS, key=lambda col: float(info[col]))
        yield Trial(
            dataset,
            f"trial{trial}",
            rec,
            ref,
            cadence_spm=float(info["cadence_spm_from_grf"]),
            info={
                "speed_mps": float(info["Speed"]),
                "mean_contact_time_s": float(info["mean_contact_time_s"]),
            },
            slope_deg=float(info["Slope"]),
            strike=STRIKE_COLUMNS[strike],
        )


def mobgap_trials(root: Path) -> Iterator[Trial]:
    """Real lower-back IMU walking (100 Hz, acc + gyro) with motion-capture / INDIP contacts and sides."""
    folder = root / "mobgap_lowback_walking"
    bouts = pd.read_csv(folder / "walking_bouts_reference.csv")
    for imu_path in sorted(folder.glob("*_imu.csv")):
        name = imu_path.name.replace("_imu.csv", "")
        d = pd.read_csv(imu_path)
        rec = Recording.from_arrays(
            d["time_s"].to_numpy(),
            d[["acc_x_g", "acc_y_g", "acc_z_g"]].to_numpy() * G0,
            np.radians(d[["gyr_x_dps", "gyr_y_dps", "gyr_z_dps"]].to_numpy()),
            meta=RecordingMeta(device=DeviceInfo(name="McRoberts MM+ (Mobilise-D)"), placement="lower_back"),
            title=name,
            source="lab-data",
        )
        ev = pd.read_csv(folder / f"{name}_reference_events.csv")
        ics = ev[ev["event"] == "IC"].rename(columns={"time_s": "ic_s"})
        ics = ics.assign(side=ics["side"].map({"Left": "L", "Right": "R"}), to_s=np.nan)
        yield Trial(
            "mobgap_lowback_walking",
            name,
            rec,
            ics.reset_index(drop=True),
            bouts=bouts[bouts["trial"] == name].reset_index(drop=True),
            activity="walk",
        )


# (the order fixes each trial's seed in the robustness conditions: new data sets go last)
DATASETS = {
    "rbds_running": rbds_trials,
    "alcantara_sacral_acc_grf": alcantara_trials,
    "mobgap_lowback_walking": mobgap_trials,
    "alcantara_slopes": alcantara_slope_trials,
}
