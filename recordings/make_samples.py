"""Regenerate the bundled sample recordings (all made by gait's simulator, none from a person).

python recordings/make_samples.py [--out recordings]

``history_demo/`` is five weeks of one synthetic runner ("demo-runner"), shortened to 3-minute runs (7 minutes
for the last) to keep the repository small: steady for four weeks, then a week with a third, longer run in which
right-stance pelvic drop is higher and grows. Analysing the folder builds the runner's baseline and weekly load.

``hilly_run_52hz/`` is a 6-minute run with two climbs and a descent, with a phone's GPS and barometer beside the
IMU (``gait.simulate_route.hilly_run``: the two-component runner at each stretch's slope), so a fresh install
shows speed, grade, the terrain split and the route. Its route's truth is in ``truth_route.csv``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

import pandas as pd

from gait.simulate import SimConfig, simulate, write
from gait.simulate_route import HillProfile, RouteConfig, hilly_run, with_route

# The samples were made with the earlier spring-mass force model; pinning it keeps them reproducible bit for bit.
# (The simulator's default two-component model is what tests and `gait simulate` use.)
MODEL = "spring_mass"

SAMPLES = {
    "easy_run_208hz": SimConfig(
        segments=(("stand", 5.0), ("walk", 30.0), ("run", 180.0), ("stand", 4.0)),
        rate_hz=208,
        cadence_spm=168,
        drop_left_deg=4.0,
        drop_right_deg=5.0,
        mounting="upright",
        seed=1,
        force_model=MODEL,
    ),
    "fatigue_10min_104hz": SimConfig(
        segments=(("stand", 4.0), ("run", 600.0), ("walk", 20.0)),
        rate_hz=104,
        cadence_spm=172,
        drop_left_deg=4.5,
        drop_right_deg=5.0,
        drop_drift_right_deg=3.0,
        cadence_drift_spm=-4.0,
        contact_drift_ms=12.0,
        mounting="tilted",
        seed=2,
        force_model=MODEL,
    ),
    "overstride_upside_down_52hz": SimConfig(
        segments=(("stand", 3.0), ("run", 180.0), ("stand", 3.0)),
        rate_hz=52,
        cadence_spm=152,
        braking_dv_mps=0.32,
        impact_g=1.8,
        drop_left_deg=7.0,
        drop_right_deg=6.0,
        mounting="upside_down",
        dropout_fraction=0.02,
        seed=3,
        force_model=MODEL,
    ),
}
HISTORY_DAYS = (
    "2026-10-20",
    "2026-10-24",
    "2026-10-27",
    "2026-10-31",
    "2026-11-03",
    "2026-11-07",
    "2026-11-10",
    "2026-11-14",
    "2026-11-17",
    "2026-11-19",
)


def history_demo() -> dict[str, SimConfig]:
    """The demo runner's runs by folder name (dated, so they sort and store in order)."""
    runs = {}
    for i, day in enumerate(HISTORY_DAYS):
        runs[f"{day}_easy"] = SimConfig(
            segments=(("stand", 3.0), ("run", 180.0), ("stand", 2.0)),
            rate_hz=52,
            cadence_spm=169 + (i % 3) - 1,
            drop_left_deg=4.8 + 0.2 * ((i * 7) % 3 - 1),
            drop_right_deg=5.0 + 0.2 * ((i * 5) % 3 - 1),
            runner_id="demo-runner",
            start_utc=f"{day}T07:30:00Z",
            seed=100 + i,
            force_model=MODEL,
        )
    runs["2026-11-21_long"] = SimConfig(
        segments=(("stand", 3.0), ("run", 420.0), ("stand", 2.0)),
        rate_hz=52,
        cadence_spm=169,
        drop_left_deg=4.8,
        drop_right_deg=6.5,
        drop_drift_right_deg=2.6,
        runner_id="demo-runner",
        start_utc="2026-11-21T08:00:00Z",
        seed=120,
        force_model=MODEL,
    )
    return runs


#: a short hilly run with a phone's GPS (one 20-s gap: an underpass) and barometer; the two-component force model
#: (the spring-mass one is level only)
HILLY = SimConfig(
    segments=(("stand", 4.0), ("run", 360.0), ("stand", 3.0)),
    rate_hz=52,
    cadence_spm=170,
    drop_left_deg=4.5,
    drop_right_deg=5.5,
    mounting="upright",
    runner_id="hill-runner",
    start_utc="2026-11-22T09:00:00Z",
    seed=7,
)
HILLY_ROUTE = RouteConfig(
    profile=HillProfile(
        ((0.0, 0.0), (200.0, 7.0), (420.0, 0.0), (560.0, -7.0), (780.0, 0.0), (900.0, 4.0), (1050.0, 0.0))
    ),
    gps_gap_s=(240.0, 260.0),
    seed=7,
)


def hilly_sample(folder: Path) -> None:
    sim, route = hilly_run(HILLY, HILLY_ROUTE)
    write(dataclasses.replace(sim, recording=with_route(sim.recording, route)), folder)
    route.truth.iloc[::10].to_csv(folder / "truth_route.csv", index=False, float_format="%.6g")


CSV_SAMPLE = SimConfig(
    segments=(("stand", 3.0), ("run", 120.0), ("stand", 2.0)),
    rate_hz=100,
    cadence_spm=176,
    gyro=False,
    mounting="random",
    seed=4,
    force_model=MODEL,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = p.parse_args()
    for name, cfg in SAMPLES.items():
        folder = args.out / name
        if folder.exists():
            shutil.rmtree(folder)
        result = simulate(cfg)
        write(result, folder)
        print(f"wrote {folder}")
    demo = args.out / "history_demo"
    if demo.exists():
        shutil.rmtree(demo)
    for name, cfg in history_demo().items():
        write(simulate(cfg), demo / name)
    print(f"wrote {demo} ({len(HISTORY_DAYS) + 1} runs of demo-runner)")
    hilly = args.out / "hilly_run_52hz"
    if hilly.exists():
        shutil.rmtree(hilly)
    hilly_sample(hilly)
    print(f"wrote {hilly} (with GPS and barometer; route truth in truth_route.csv)")
    result = simulate(CSV_SAMPLE)
    imu = result.recording.imu
    df = pd.DataFrame({"time_s": imu.t, "acc_x": imu.acc[:, 0], "acc_y": imu.acc[:, 1], "acc_z": imu.acc[:, 2]})
    path = args.out / "phone_belt_acc_only.csv"
    df.to_csv(path, index=False, float_format="%.5f")
    result.truth.to_csv(args.out / "phone_belt_acc_only.truth_steps.txt", index=False, float_format="%.6g")
    print(f"wrote {path} (accelerometer only; truth in phone_belt_acc_only.truth_steps.txt)")


if __name__ == "__main__":
    main()
