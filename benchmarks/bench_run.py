"""Benchmarks: print what they measure, met or not, and write benchmarks/results.json.

    python benchmarks/bench_run.py              # everything (about 4 minutes on 2 cores)
    python benchmarks/bench_run.py --quick      # sizes up to 1e5 flights, no 1e7 runs
    python benchmarks/bench_run.py --profile    # plus a cProfile of the baseline run

Every end-to-end number is one ``airpicture run`` (or the same through the
Python API for the Dask worker counts) in a fresh process, timed from start
to exit, with its peak resident memory read from the kernel (``wait4``).
"Scan evaluations" counts the scans of every radar's window that the exact
per-scan path evaluates for the same flights: the work the run answers,
whatever the path; per second it is comparable across paths.
"""
import argparse
import cProfile
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: The fast-core issue's targets [s] and memory [MB].
TARGETS = {"baseline_1e5_s": 5.0, "baseline_1e6_s": 60.0, "memory_1e6_mb": 1000.0, "dask_2_speedup": 1.7}


def _child(code):
    """Run Python ``code`` in a fresh process; return (wall s, peak RSS MB, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if status != 0:
        raise RuntimeError(f"benchmark child failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, out.decode()


def _cli(scenario, flights, *extra):
    out = tempfile.mkdtemp(prefix="airpicture-bench-")
    campaigns = max(1, round(flights / 15))
    code = ("import sys; from sim.cli import main; sys.exit(main(" + repr(
        ["run", f"scenarios/{scenario}.toml", "--campaigns", str(campaigns), "-q", "--out", out, "--no-cache",
         *(extra if "--workers" in extra else (*extra, "--workers", "1"))]) + "))")
    # cold: everything prepared afresh (benchmarks/bench_whatif.py measures the cache); in this process unless
    # told otherwise (the peak memory is then the whole run's)
    wall, rss, _ = _child(code)
    subprocess.run(["rm", "-rf", out], check=True)
    return wall, rss, campaigns * 15


def _dask(scenario, flights, workers):
    out = tempfile.mkdtemp(prefix="airpicture-bench-")
    campaigns = max(1, round(flights / 15))
    code = f"""
from sim.engine import DaskCluster
from sim.pipeline import load, simulate_to
if __name__ == "__main__":
    with DaskCluster("local", n_workers={workers}) as eng:
        simulate_to({out + "/o"!r}, load("scenarios/{scenario}.toml"), campaigns={campaigns}, engine=eng)
"""
    script = Path(out) / "bench_dask.py"
    script.write_text(code)
    wall, rss, _ = _child(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')")
    subprocess.run(["rm", "-rf", out], check=True)
    return wall, rss, campaigns * 15


def _scan_evaluations_per_flight(scenario):
    """Scans of every radar window the exact path evaluates, per flight (mean over the route mix)."""
    from sim.montecarlo import prepare
    from sim.pipeline import load
    sc = load(ROOT / "scenarios" / f"{scenario}.toml")
    sim = prepare(sc, with_fences=False, exact=True)
    p_on = sc.aircraft.transponder_on_probability
    per_radar = np.array([r.availability * (p_on if r.kind.needs_transponder else 1.0) for r in sim.radars])
    return float(np.sum(per_radar[:, None] * sim.scan_count * sim.route_p[None, :]))


def _naive_seconds_per_flight(n_flights=6):
    """The way a newcomer would write it: a Python loop per flight, scan and radar, positions from
    pyproj.Geod along the legs, range and smooth-Earth horizon per radar, shapely point-in-polygon
    for the airspace. Baseline scenario, terrain off (the loop would be far slower with it)."""
    from geo.coverage import load_borders
    from geo.earth import horizon_distance_m
    from sim.pipeline import load
    sc = load(ROOT / "scenarios" / "iraq_2012_baseline.toml")
    geod = pyproj.Geod(ellps="WGS84")
    iraq = [g for _n, iso, g in load_borders() if iso == "IRQ"][0]
    route = sc.routes[0]
    lat = [w.lat_deg for w in route.waypoints]
    lon = [w.lon_deg for w in route.waypoints]
    speed = sc.aircraft.cruise_speed_mps
    alt = sc.aircraft.cruise_altitude_m
    az, _, legs = geod.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    ends = np.cumsum(legs)
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _ in range(n_flights):
        for radar in sc.radars:
            h_r = (radar.elevation_m or 0.0) + radar.antenna_height_m
            t = rng.random() * radar.scan_period_s
            while speed * t <= ends[-1]:                      # every scan of the flight
                s = speed * t
                leg = int(np.searchsorted(ends, s))
                x, y, _ = geod.fwd(lon[leg], lat[leg], az[leg], s - (ends[leg] - legs[leg]))
                _, _, d = geod.inv(radar.lon_deg, radar.lat_deg, x, y)
                seen = d <= horizon_distance_m(h_r, alt, 4 / 3) and math.hypot(d, alt - h_r) <= radar.range_m
                if seen and rng.random() < (radar.pd or 0.9):
                    iraq.contains(shapely.Point(x, y))
                t += radar.scan_period_s
    return (time.perf_counter() - t0) / n_flights


def _run_phase_ratio(scenario, flights):
    """Seconds of ``run`` alone (simulation prepared) on the exact path over the fast path, same flights."""
    from sim.montecarlo import prepare, run
    from sim.pipeline import load
    sc = load(ROOT / "scenarios" / f"{scenario}.toml")
    t = {}
    for exact in (True, False):
        sim = prepare(sc, exact=exact)
        t0 = time.perf_counter()
        run(sim, campaigns=flights // 15, sink=lambda text: None, keep_flights=False)
        t[exact] = time.perf_counter() - t0
    return round(t[True] / t[False], 1)


#: The compiled walk's targets (issue 31) [s], [MB]: 1e7 baseline flights on 2 cores cold (the compiler's cache
#: warm), Parquet and no per-flight file; 1e6 in one process (the prepared parts cached); every run's peak.
WALK_TARGETS = {"baseline_1e7_2cores_s": 5.0, "baseline_1e6_1process_s": 1.0, "memory_1e7_mb": 300.0}


def _children(pid):
    """The process ids of ``pid``'s children, from /proc (none once it is gone)."""
    try:
        return [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _memory_kb(pid, pss=False):
    """``(peak RSS, current PSS or 0)`` of a live process [kB] (PSS: shared pages divided among their users; read
    only when asked, as walking its page tables costs the process time), or None."""
    try:
        hwm = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))
        now = next((int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                    if line.startswith("Pss:")), 0) if pss else 0
        return hwm, now
    except (OSError, StopIteration, ValueError):
        return None


def _timed_cli(scenario, campaigns, *extra, cache_dir=None):
    """One ``airpicture run`` in a fresh process: (wall s, CPU s of that process, its peak RSS MB, the largest
    peak RSS MB of its worker processes, their largest proportional set size MB). The command's own figures are
    read from the kernel by ``wait4``; its workers (the fork server's children) are sampled from /proc every
    20 ms while it runs, their PSS when first seen and every 0.2 s (RSS counts the pages they share, the prepared tables in shared memory and the
    libraries, in each of them; PSS divides them among their users). Cold (``--no-cache``) unless
    ``cache_dir`` holds the prepared parts."""
    out = tempfile.mkdtemp(prefix="airpicture-bench-")
    cache = ["--no-cache"] if cache_dir is None else ["--cache-dir", str(cache_dir)]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", f"scenarios/{scenario}.toml", "--campaigns",
                             str(campaigns), "-q", "--out", out + "/o", *cache, *extra], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    worker_rss = worker_pss = polls = 0
    weighed = set()          # workers whose PSS was read at least once
    err = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read().decode()), daemon=True)
    reader.start()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        for kid in (w for c in _children(proc.pid) for w in _children(c)):     # the fork server's children
            got = _memory_kb(kid, pss=polls % 10 == 0 or kid not in weighed)
            weighed.add(kid)
            if got:
                worker_rss, worker_pss = max(worker_rss, got[0]), max(worker_pss, got[1])
        polls += 1
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    reader.join()
    err = err[0] if err else ""
    subprocess.run(["rm", "-rf", out], check=True)
    if status != 0:
        raise RuntimeError(f"benchmark run failed: {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, worker_rss / 1024.0, worker_pss / 1024.0


def _run_in_process(scenario, campaigns, cache_dir):
    """Seconds of ``sim.montecarlo.run`` alone (no per-flight file), in a fresh process with the prepared parts
    from ``cache_dir`` and the compiled walk loaded: the best of three, and what comes before it (imports,
    the scenario, its preparation, loading the compiled code) from the process's start."""
    code = f"""
import json, time
t0 = time.perf_counter()
from sim.montecarlo import prepare, run
from sim.pipeline import load
from sim.prepcache import PrepCache
from sim.walk import ensure_compiled
sim = prepare(load("scenarios/{scenario}.toml"), cache=PrepCache(folder={str(cache_dir)!r}))
ensure_compiled()
run(sim, campaigns=1, keep_flights=False)
before = time.perf_counter() - t0
best = min((lambda t: (run(sim, campaigns={campaigns}, keep_flights=False), time.perf_counter() - t)[1])(
    time.perf_counter()) for _ in range(3))
print(json.dumps([before, best]))
"""
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def _walk_limit(scenario="iraq_2012_baseline"):
    """What a baseline flight costs the walk, counted, and what the machine can do of it: ``(per_flight,
    ns)``. ``per_flight``: the scans walked (each one addressed draw and one detection-table read), the
    flight-radar pairs walked and the per-flight draws of a chunk (route, offset, transponder, the
    response's, each radar's availability and scan phase); ``ns``: one core's time for one SplitMix64
    draw and one read of a table as large as the scenario's largest, along it (compiled, measured here)."""
    import numba
    from sim.montecarlo import ChunkDraws, prepare, simulate_chunk
    from sim.pipeline import load
    from sim.walk import uniform_at
    sim = prepare(load(ROOT / "scenarios" / f"{scenario}.toml"))
    counts = np.zeros(2, dtype=np.int64)
    campaigns, flights = 4000, sim.scenario.run.flights
    simulate_chunk(sim, 1, 0, campaigns, flights, counts=counts)
    n = campaigns * flights
    d = ChunkDraws(sim, 1, 0, 1, flights)
    draws = 3 + 3 + 2 * len(sim.radars) + len(d.orbit_phase)     # route, offset, transponder; comply, escort, will
    cells = max((t.pd.size for row in sim.tables for t in row if t is not None and hasattr(t, "pd")), default=1)

    @numba.njit
    def draw_and_read(table, keys, n_scans):
        acc = 0.0
        c = table.shape[0]
        cell = 0
        for i in range(n_scans):
            u = uniform_at(keys[i & 1023], i)
            cell += 5                        # along the table, as a flight's scans read consecutive samples
            if cell >= c:
                cell -= c
            acc += u < table[cell]
        return acc

    table = np.random.default_rng(0).random(cells).astype(np.float32)
    keys = np.arange(1024, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    draw_and_read(table, keys, 1000)
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        draw_and_read(table, keys, 5_000_000)
        best = min(best, time.perf_counter() - t0)
    per_flight = {"scans": float(counts[0] / n), "pairs": float(counts[1] / n), "draws": float(draws)}
    return per_flight, best / 5_000_000 * 1e9


def walk_benchmarks(res):
    """Issue 31's benchmarks: 1e7 baseline flights on 2 cores (Parquet and no per-flight file), cold but
    with the compiler's cache warm; 1e6 in one process, compiled and numpy, and the run alone; the fixed cost
    of a run on two workers (15 flights); flights per second per core against the machine's limit for this walk."""
    b = "iraq_2012_baseline"
    load1 = os.getloadavg()[0]
    cached = tempfile.mkdtemp(prefix="airpicture-bench-cache-")
    _timed_cli(b, 10, "--workers", "1", cache_dir=cached)   # the compiler's cache warm; the prepared parts cached
    out = {"load_before": round(load1, 2), "runs": [], "targets": WALK_TARGETS}
    print(f"\nthe compiled walk (issue 31); load average {load1:.2f} on {os.cpu_count()} cores before")
    print(f"{'what':<62s} {'flights':>10s} {'wall s':>7s} {'CPU s':>7s} {'peak MB':>8s} {'workers':>13s} "
          f"{'flights/s/core':>15s}   (CPU and peak: the command's own process; workers: peak RSS / PSS MB)")
    two, one, none, pq = ("--workers", "2"), ("--workers", "1"), ("--flights-format", "none"), \
        ("--flights-format", "parquet")
    cases = [("1e7, Parquet, 2 workers, cold", 666_667, (*pq, *two), 2, None),
             ("1e7, no per-flight file, 2 workers, cold", 666_667, (*none, *two), 2, None),
             ("1e6, no per-flight file, 1 process, cold", 66_667, (*none, *one), 1, None),
             ("1e6, no per-flight file, 1 process, cold, numpy walk", 66_667, (*none, *one, "--walk", "numpy"), 1,
              None),
             ("1e7, Parquet, 2 workers, prepared parts cached", 666_667, (*pq, *two), 2, cached),
             ("1e7, no per-flight file, 2 workers, prepared parts cached", 666_667, (*none, *two), 2, cached),
             ("1e6, no per-flight file, 1 process, prepared parts cached", 66_667, (*none, *one), 1, cached),
             ("1e6, no per-flight file, 1 process, prepared parts cached, numpy walk", 66_667,
              (*none, *one, "--walk", "numpy"), 1, cached),
             ("15 flights, no per-flight file, 2 workers, prepared parts cached (the fixed cost)", 1, (*none, *two),
              2, cached)]
    for what, campaigns, extra, cores, cache_dir in cases:
        runs = [_timed_cli(b, campaigns, *extra, cache_dir=cache_dir) for _ in range(2)]     # the faster of two
        wall, cpu, rss, w_rss, w_pss = min(runs)
        f = campaigns * 15
        r = {"what": what, "flights": f, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(rss),
             "worker_peak_rss_mb": round(w_rss), "worker_pss_mb": round(w_pss),
             "flights_per_s_per_core": round(f / wall / cores)}
        out["runs"].append(r)
        workers = f"{w_rss:.0f} / {w_pss:.0f}" if w_rss else "-"
        print(f"{what:<62s} {f:>10,d} {wall:>7.2f} {cpu:>7.2f} {rss:>8.0f} {workers:>13s} "
              f"{r['flights_per_s_per_core']:>15,d}")
    before, alone = _run_in_process(b, 66_667, cached)
    out["run_alone_1e6"] = {"before_s": round(before, 2), "run_s": round(alone, 3)}
    print(f"1e6 in one process, the run alone (sim.montecarlo.run, prepared, the compiled code loaded): {alone:.2f} s; "
          f"before it, from the process's start (imports, scenario, preparation from the cache, the compiled code "
          f"loaded): {before:.2f} s")
    per_flight, ns = _walk_limit(b)
    limit = 1e9 / (ns * (per_flight["scans"] + per_flight["draws"]))
    out.update(per_flight={k: round(v, 2) for k, v in per_flight.items()}, ns_per_draw_and_read=round(ns, 2),
               limit_flights_per_s_per_core=round(limit))
    print(f"per baseline flight: {per_flight['scans']:.1f} scans walked (a draw and a table read each) over "
          f"{per_flight['pairs']:.1f} radars, {per_flight['draws']:.0f} per-flight draws; one draw and one read "
          f"along a table: {ns:.1f} ns on one core here -> the walk's limit about {limit:,.0f} flights/s per "
          f"core (the draws and reads alone, nothing else)")
    print(f"measured, 1e6 in one process, the run alone: {66_667 * 15 / alone:,.0f} flights/s per core: "
          f"{66_667 * 15 / alone / limit:.0%} of that limit")
    subprocess.run(["rm", "-rf", cached], check=True)
    runs = out["runs"]
    checks = [("baseline_1e7_2cores_s", max(runs[0]["wall_s"], runs[1]["wall_s"]), "1e7, 2 cores, cold (the slower "
               "of Parquet and none)"),
              ("baseline_1e7_2cores_s", runs[1]["wall_s"], "1e7, 2 cores, cold, no per-flight file"),
              ("baseline_1e6_1process_s", alone, "1e6 in one process, the run alone"),
              ("baseline_1e6_1process_s", runs[6]["wall_s"], "1e6 in one process, the whole command"),
              ("memory_1e7_mb", max(r["peak_mb"] for r in runs if r["flights"] > 5e6),
               "peak RSS of the command's process, the 1e7 rows"),
              ("memory_1e7_mb", max(r["worker_pss_mb"] for r in runs), "largest PSS of a worker process, every row"),
              ("memory_1e7_mb", max(r["worker_peak_rss_mb"] for r in runs),
               "largest peak RSS of a worker process (shared pages counted in each), every row"),
              ("memory_1e7_mb", max(r["peak_mb"] for r in runs), "peak RSS of the command's process, every row")]
    out["checks"] = []
    for key, value, what in checks:
        ok = value <= WALK_TARGETS[key]
        out["checks"].append({"what": what, "key": key, "value": round(value, 3), "target": WALK_TARGETS[key],
                              "met": ok})
        print(f"target {key} ({what}): {value:g} vs {WALK_TARGETS[key]:g}: {'met' if ok else 'NOT met'}")
    out["load_after"] = round(os.getloadavg()[0], 2)
    print(f"load average after: {out['load_after']:.2f} (other work on this machine slows every number above)")
    res["walk"] = out
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="sizes up to 1e5 flights only")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--walk-only", action="store_true",
                    help="only the compiled walk's benchmarks (issue 31), merged into results.json")
    args = ap.parse_args()
    if args.walk_only:
        res = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        walk_benchmarks(res)
        RESULTS.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
        return
    sizes = SIZES[:3] if args.quick else SIZES
    res = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__},
           "runs": [], "targets": TARGETS}
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}")
    print(f"{'what':<58s} {'flights':>9s} {'wall s':>8s} {'flights/s':>11s} {'scans/s':>9s} {'peak MB':>8s}")

    def row(what, scenario, flights, wall, rss, evals):
        r = {"what": what, "scenario": scenario, "flights": flights, "wall_s": round(wall, 3),
             "flights_per_s": round(flights / wall), "scan_evaluations_per_s": round(evals * flights / wall),
             "peak_mb": round(rss, 1)}
        res["runs"].append(r)
        print(f"{what:<58s} {flights:>9,d} {wall:>8.2f} {flights / wall:>11,.0f} {evals * flights / wall / 1e6:>8.1f}M "
              f"{rss:>8.0f}")
        return r

    evals = {s: _scan_evaluations_per_flight(s) for s in ("iraq_2012_baseline", "iraq_2012_transponder_off")}
    res["scan_evaluations_per_flight"] = {k: round(v, 1) for k, v in evals.items()}
    for scenario in evals:
        for n in sizes:
            wall, rss, f = _cli(scenario, n)
            row(f"{scenario}, fast path (default)", scenario, f, wall, rss, evals[scenario])
    b = "iraq_2012_baseline"
    if not args.quick:    # flat memory at 1e7 flights (a 700 MB flights.csv, deleted afterwards)
        wall, rss, f = _cli(b, 10_000_000)
        row(f"{b}, fast path (default)", b, f, wall, rss, evals[b])
    res["run_phase_exact_over_fast"] = _run_phase_ratio(b, 10_005)
    print(f"run phase only (prepared, in-process, 10,005 flights): exact / fast = {res['run_phase_exact_over_fast']}x")
    for n in (10_000,):
        wall, rss, f = _cli(b, n, "--exact")
        exact = row(f"{b}, exact path (--exact)", b, f, wall, rss, evals[b])
        wall, rss, f = _cli(b, n)
        fast = row(f"{b}, fast path", b, f, wall, rss, evals[b])
        res["exact_over_fast_1e4"] = round(exact["wall_s"] / fast["wall_s"], 2)
    n_dask = sizes[-1]
    inproc = [r for r in res["runs"] if r["scenario"] == b and r["flights"] == round(n_dask / 15) * 15
              and r["what"].endswith("(default)")][0]
    for workers in (1, 2):
        wall, rss, f = _dask(b, n_dask, workers)
        r = row(f"{b}, Dask local, {workers} single-threaded worker(s)", b, f, wall, rss, evals[b])
        res[f"dask_{workers}_speedup"] = round(inproc["wall_s"] / r["wall_s"], 2)
    wall, rss, f = _cli(b, n_dask, "--workers", "2")
    r = row(f"{b}, 2 worker processes (--workers 2)", b, f, wall, rss, evals[b])
    res["workers_2_speedup"] = round(inproc["wall_s"] / r["wall_s"], 2)
    naive = _naive_seconds_per_flight()
    fast_per_flight = inproc["wall_s"] / inproc["flights"]
    res["newcomer_loop"] = {"seconds_per_flight": round(naive, 4), "fast_seconds_per_flight": fast_per_flight,
                            "speedup": round(naive / fast_per_flight)}
    print(f"newcomer's loop (pyproj.Geod + shapely per flight, scan and radar; terrain off): {naive:.3f} s per flight, "
          f"{naive * 1e6 / 3600:,.0f} h for 1e6 flights; the fast path is {naive / fast_per_flight:,.0f}x faster")
    print(f"exact path / fast path at 1e4 flights: {res['exact_over_fast_1e4']}x")
    print(f"Dask local vs in-process at {n_dask:,} flights: 1 worker {res['dask_1_speedup']}x, "
          f"2 workers {res['dask_2_speedup']}x (target {TARGETS['dask_2_speedup']}x); 2 worker processes "
          f"(--workers 2) {res['workers_2_speedup']}x")
    for key, target, unit in (("baseline_1e5_s", 100_000, "s"), ("baseline_1e6_s", 1_000_005, "s")):
        hit = [r for r in res["runs"] if r["scenario"] == b and abs(r["flights"] - target) < 20
               and r["what"].endswith("(default)")]
        if hit:
            ok = hit[0]["wall_s"] <= TARGETS[key]
            print(f"target {key}: {hit[0]['wall_s']:.2f} {unit} vs {TARGETS[key]:g} {unit}: {'met' if ok else 'NOT met'}")
    big = [r for r in res["runs"] if r["flights"] >= 1_000_000]
    if big:
        peak = max(r["peak_mb"] for r in big)
        print(f"target memory at 1e6 flights and above: {peak:.0f} MB vs {TARGETS['memory_1e6_mb']:g} MB: "
              f"{'met' if peak <= TARGETS['memory_1e6_mb'] else 'NOT met'}")
    walk_benchmarks(res)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    if args.profile:
        from sim.montecarlo import prepare, run
        from sim.pipeline import load
        sim = prepare(load(ROOT / "scenarios" / "iraq_2012_baseline.toml"))
        prof = cProfile.Profile()
        prof.enable()
        run(sim, campaigns=20_000, sink=lambda text: None, keep_flights=False)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
