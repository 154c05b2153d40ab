"""Benchmark: speed and grade against the simulated route's truth (issue 15), and how fast the track is built.

1. Accuracy: --n simulated 20-min runs (gait.simulate_route) over random hills (stretches of 150-400 m at
   -8..+8 %), pace following the grade, GPS with wandering position/altitude errors, a 1-s speed lag, noise and a
   30-90 s gap, a barometer with noise and a weather drift of +-1.5 hPa/h. Four source sets: a phone (GPS +
   barometer), a phone without a barometer (GPS altitude), a watch (GPS speed, barometric altitude, no
   accuracies), a foot pod calibrated 2 % long with a barometer and no GPS. Speed and grade errors over every
   running second (the first and last 15 s left out: the pace ramps from a standstill), and the share of
   running time whose terrain class (uphill/flat/downhill at +-2 %) matches the truth's.
2. Speed: the track of a 2-hour run (GPS 1 Hz, barometer 25 Hz, foot pod 1 Hz), best of --repeat.

    python benchmarks/bench_terrain.py [--n 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gait.analysis.terrain import Source, TerrainTrack, classify, terrain_track
from gait.recording.meta import LOCATION_CHANNELS, RSC_CHANNELS
from gait.recording.model import StreamData
from gait.simulate_route import HillProfile, RouteConfig, RouteSim, simulate_route

RUN_S = 1200.0


def random_route(seed: int) -> RouteSim:
    rng = np.random.default_rng(seed)
    d, stretches = 0.0, []
    while d < RUN_S * 4.0:
        stretches.append((d, float(rng.choice([-8, -5, -3, 0, 0, 0, 3, 5, 8]))))
        d += float(rng.uniform(150, 400))
    gap_start = float(rng.uniform(200, 900))
    cfg = RouteConfig(profile=HillProfile(tuple(stretches)), flat_speed_mps=float(rng.uniform(2.6, 4.2)),
                      gps_gap_s=(gap_start, gap_start + float(rng.uniform(30, 90))),
                      baro_drift_hpa_per_h=float(rng.uniform(-1.5, 1.5)), seed=seed)  # fmt: skip
    return simulate_route((("stand", 5.0), ("run", RUN_S), ("stand", 5.0)), cfg)


def sources(route: RouteSim, kind: str) -> list[Source]:
    loc, baro = route.location, route.baro
    if kind == "phone":
        return [Source("location", "location", loc), Source("baro", "baro", baro)]
    if kind == "phone, no barometer":
        return [Source("location", "location", loc)]
    if kind == "watch":  # a record a second: barometric altitude throughout, GPS fields only with a fix
        t = np.arange(0.3, float(route.truth["t_s"].iloc[-1]), 1.0)
        v = np.full((len(t), len(LOCATION_CHANNELS) - 1), np.nan)
        fix = np.abs(loc.t[np.clip(np.searchsorted(loc.t, t), 0, len(loc.t) - 1)] - t) < 0.5
        for c in ("latitude_deg", "longitude_deg", "speed_mps"):
            j = LOCATION_CHANNELS.index(c) - 1
            v[fix, j] = np.interp(t[fix], loc.t, loc.values[:, j])
        h = np.interp(t, baro.t, baro.column("altitude_m")) + route.config.start_altitude_m
        v[:, LOCATION_CHANNELS.index("altitude_m") - 1] = h
        return [Source("watch_location", "location", StreamData(t, v, LOCATION_CHANNELS))]
    t = np.arange(0.5, float(route.truth["t_s"].iloc[-1]), 1.0)  # foot pod, 2 % long, + barometer
    pod = np.column_stack((route.at(t, "speed_mps") * 1.02, np.full((len(t), 3), np.nan)))
    return [Source("rsc", "rsc", StreamData(t, pod, RSC_CHANNELS)), Source("baro", "baro", baro)]


def errors(track: TerrainTrack, route: RouteSim) -> tuple[np.ndarray, np.ndarray, float]:
    t = track.t_s
    run = (t > 20.0) & (t < 5.0 + RUN_S - 15.0)
    ev = track.speed_mps[run] - route.at(t[run], "speed_mps")
    eg = track.grade_pct[run] - route.at(t[run], "grade_pct")
    seg = track.segments
    k = np.clip(np.searchsorted(seg["start_s"].to_numpy(), t[run], side="right") - 1, 0, max(len(seg) - 1, 0))
    found = seg["terrain"].to_numpy()[k] if len(seg) else np.full(run.sum(), "unknown")
    if (found == "unknown").all():
        return ev, eg, float("nan")  # no split made (grade too uncertain)
    agree = float(np.mean(found == classify(route.at(t[run], "grade_pct"))))
    return ev, eg, agree


def bench_accuracy(n: int) -> None:
    kinds = ("phone", "phone, no barometer", "watch", "foot pod + barometer")
    print(f"Accuracy against the simulated route's truth ({n} runs of {RUN_S / 60:.0f} min):")
    print("| sources | speed RMSE (m/s) | speed 95th pct | speed max | grade RMSE (%) | grade 95th pct | grade max | "
          "terrain class agrees |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    routes = [random_route(seed) for seed in range(n)]
    for kind in kinds:
        ev, eg, agree = [], [], []
        for route in routes:
            track = terrain_track(sources(route, kind), float(route.truth["t_s"].iloc[-1]))
            a, b, c = errors(track, route)
            ev.append(a)
            eg.append(b)
            agree.append(c)
        v, g = np.concatenate(ev), np.concatenate(eg)
        v, g = v[np.isfinite(v)], g[np.isfinite(g)]
        print(f"| {kind} | {np.sqrt(np.mean(v**2)):.3f} | {np.percentile(np.abs(v), 95):.2f} | {np.abs(v).max():.2f} "
              f"| {np.sqrt(np.mean(g**2)):.2f} | {np.percentile(np.abs(g), 95):.2f} | {np.abs(g).max():.1f} | "
              f"{'no split made' if np.isnan(agree).all() else f'{100 * np.nanmean(agree):.0f} %'} |")  # fmt: skip


def bench_speed(repeat: int) -> None:
    plan = (("run", 7200.0),)
    route = simulate_route(plan, RouteConfig(baro_rate_hz=25.0, seed=1))
    t = np.arange(0.5, 7200.0, 1.0)
    pod = StreamData(t, np.column_stack((np.full(len(t), 3.2), np.full((len(t), 3), np.nan))), RSC_CHANNELS)
    src = [Source("location", "location", route.location), Source("baro", "baro", route.baro)]
    src.append(Source("rsc", "rsc", pod))
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        terrain_track(src, 7200.0)
        best = min(best, time.perf_counter() - t0)
    print(f"Track of a 2-hour run (GPS 1 Hz, barometer 25 Hz, foot pod 1 Hz): {best * 1000:.0f} ms (best of {repeat})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bench_accuracy(args.n)
    bench_speed(args.repeat)


if __name__ == "__main__":
    main()
