"""Benchmarks: print what they measure, met or not.

    python benchmarks/bench_run.py            # all
    python benchmarks/bench_run.py --profile  # plus a cProfile of the baseline run
"""
import argparse
import cProfile
import os
import pstats
import time
from pathlib import Path

import numpy as np

from geo.terrain import load_terrain, masking_table
from sim.montecarlo import prepare, run
from sim.pipeline import load, terrain_for

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def report(name, seconds, target_s=None, extra=""):
    verdict = "" if target_s is None else (" [met]" if seconds <= target_s else " [NOT met]")
    tgt = "" if target_s is None else f" (target {target_s:.0f} s)"
    print(f"{name:<55s} {seconds:8.2f} s{tgt}{verdict} {extra}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, numpy {np.__version__}")
    terrain = load_terrain()
    t, _ = timed(lambda: masking_table(terrain, 35.4695, 44.3489, 338.0, 450e3, 4 / 3), repeat=3)
    report("masking table, 450 km, 0.5 deg x 500 m", t)

    for name, target in (("iraq_2012_baseline", 60.0), ("iraq_2012_transponder_off", None)):
        sc = load(ROOT / "scenarios" / f"{name}.toml")
        t_prep, sim = timed(lambda: prepare(sc, terrain_for(sc)))
        t_run, res = timed(lambda: run(sim))
        n = len(res.detected)
        shares = np.bincount(res.batch.route_index, minlength=len(sim.routes)) / n
        samples = float(np.sum(sim.scan_count * shares)) * n
        report(f"{name}: prepare (routes, masking, fences)", t_prep)
        report(f"{name}: {sc.run.campaigns} x {sc.run.flights} flights, terrain on", t_prep + t_run, target,
               f"{n / t_run:,.0f} flights/s, {samples / t_run / 1e6:.1f} M scan samples/s (upper bound)")
    if args.profile:
        sc = load(ROOT / "scenarios" / "iraq_2012_baseline.toml")
        prof = cProfile.Profile()
        prof.enable()
        run(prepare(sc, terrain_for(sc)), campaigns=300)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
