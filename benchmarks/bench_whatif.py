"""What-if speed: prepared parts reused, orbits and interceptors, workers that write their own results.

    python benchmarks/bench_whatif.py            # everything (a few minutes on 2 cores)
    python benchmarks/bench_whatif.py --quick    # no 1e6 and 1e7 runs

Prints every measurement beside its target, met or not, and adds them to
benchmarks/results.json under "whatif". Command-line numbers are fresh
processes timed from start to exit; "cold" runs use an empty cache folder,
"warm" ones the folder a previous run filled (what a planner's second
what-if meets).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
#: The what-if issue's targets [s] (2 cores), and ratios; the warm what-if's is issue 31's (0.02 s; it was 0.1 s).
TARGETS = {"whatif_warm_2000_s": 0.02, "sensitivity_baseline_s": 5.0, "brief_baseline_s": 15.0,
           "compare_8_s": 8.0, "baseline_1e6_cold_s": 5.0, "aew_over_baseline": 1.3, "f16_over_baseline": 1.3,
           "parquet_client_cpu_share": 0.02}


def _cli(*args, cache):
    """Wall seconds of one ``airpicture`` command in a fresh process (``cache``: its cache folder)."""
    env = dict(os.environ, AIRPICTURE_CACHE_DIR=str(cache))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main(sys.argv[1:]))",
                    *map(str, args)], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _whatif_in_process():
    """A one-key what-if at 2,000 flights in one process, warm (the parts of an earlier run in memory)."""
    from sim.montecarlo import prepare, run
    from sim.prepcache import PrepCache
    from sim.results import summarize
    from sim.scenario import load_scenario, with_overrides
    base = load_scenario(ROOT / "scenarios" / "iraq_2012_baseline.toml")
    cache = PrepCache()
    t0 = time.perf_counter()
    sim = prepare(base, cache=cache)
    summarize(sim, run(sim, campaigns=134, keep_flights=False))
    cold = time.perf_counter() - t0
    times = []
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        sc = with_overrides(base, [f"aircraft.transponder_on_probability={p}"])
        t0 = time.perf_counter()
        sim = prepare(sc, cache=cache)
        summarize(sim, run(sim, campaigns=134, keep_flights=False))
        times.append(time.perf_counter() - t0)
    return cold, sorted(times)[len(times) // 2]


def _cpu_s(pid):
    """CPU seconds (user + system) of a live process and its finished children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(pid):
    """CPU seconds of a live process and all its live descendants (and their finished children)."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return _cpu_s(pid) + sum(_tree_cpu_s(int(k)) for k in kids)


def _parquet_client_share(flights, workers=2):
    """CPU seconds of the client, of the scheduler and of the workers for a run writing a Parquet dataset.

    As on a real cluster, the scheduler (``dask scheduler``) and the workers (``dask worker --nworkers
    N --nthreads 1``) are processes of their own, so the client's process holds only the client (a
    ``LocalCluster`` would run the scheduler inside it). Returns ``(wall_s, client_s, scheduler_s,
    workers_s)``.
    """
    out = tempfile.mkdtemp(prefix="airpicture-bench-")
    sched_file = Path(out) / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    sched = subprocess.Popen(dask + ["--scheduler-file", str(sched_file), "--port", "0", "--no-dashboard"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not sched_file.exists():
        time.sleep(0.1)
    time.sleep(0.5)
    address = json.loads(sched_file.read_text())["address"]
    work = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(sched_file),
                             "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    code = f"""
import json, resource, time
from distributed import Client
from sim.engine import DaskCluster
from sim.pipeline import load, simulate_to
if __name__ == "__main__":
    with Client({address!r}) as c:
        c.wait_for_workers({workers}, timeout=60)
    with DaskCluster({address!r}) as eng:
        simulate_to({out + '/o'!r}, load("scenarios/iraq_2012_baseline.toml"), campaigns={round(flights / 15)},
                    engine=eng, flights_format="parquet")
    me = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps(me.ru_utime + me.ru_stime))
"""
    script = Path(out) / "bench_parquet.py"
    script.write_text(code)
    try:
        t0 = time.perf_counter()
        got = subprocess.run([sys.executable, str(script)], cwd=ROOT, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        client = json.loads(got.stdout.strip().splitlines()[-1])
        scheduler_s, workers_s = _tree_cpu_s(sched.pid), _tree_cpu_s(work.pid)
    finally:
        for p in (work, sched):
            p.terminate()
            p.wait(timeout=30)
        subprocess.run(["rm", "-rf", out], check=True)
    return wall, client, scheduler_s, workers_s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="no 1e6 and 1e7 runs")
    args = ap.parse_args()
    res, lines = {}, []

    def report(key, value, target, unit="s", better="lower"):
        ok = value <= target if better == "lower" else value >= target
        res[key] = {"value": round(value, 4), "target": target, "met": ok}
        line = f"{key:<34s} {value:>9.3f} {unit:<3s} target {target:g} {unit}: {'met' if ok else 'NOT met'}"
        lines.append(line)
        print(line, flush=True)

    cold, warm = _whatif_in_process()
    print(f"one-key what-if, 2,010 flights, in process: cold {cold:.2f} s (prepare and run)")
    report("whatif_warm_2000_s", warm, TARGETS["whatif_warm_2000_s"])
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        b = "scenarios/iraq_2012_baseline.toml"
        t = _cli("sensitivity", b, "-q", cache=cache)
        print(f"sensitivity of the baseline, cold cache: {t:.1f} s")
        report("sensitivity_baseline_s", _cli("sensitivity", b, "-q", cache=cache), TARGETS["sensitivity_baseline_s"])
        t = _cli("brief", b, "--out", Path(tmp) / "brief", "-q", cache=cache)
        print(f"brief of the baseline, warm cache (after the sensitivity): {t:.1f} s")
        report("brief_baseline_s", t, TARGETS["brief_baseline_s"])
        t = _cli("compare", *[f"scenarios/{s}.toml" for s in SCENARIOS], "-q", cache=cache)
        print(f"compare of the {len(SCENARIOS)} scenarios, cold for all but the baseline: {t:.1f} s")
        report("compare_8_s", _cli("compare", *[f"scenarios/{s}.toml" for s in SCENARIOS], "-q", cache=cache),
               TARGETS["compare_8_s"])
        if not args.quick:
            n = 66_667
            walls = {}
            for s in ("iraq_2012_baseline", "iraq_2012_aew_orbit", "iraq_2012_f16_balad"):
                fresh = Path(tmp) / f"cold-{s}"
                walls[s] = _cli("run", f"scenarios/{s}.toml", "--campaigns", n, "--out", Path(tmp) / s, "-q",
                                cache=fresh)
                print(f"{s}: 1,000,005 flights cold: {walls[s]:.1f} s")
            report("baseline_1e6_cold_s", walls["iraq_2012_baseline"], TARGETS["baseline_1e6_cold_s"])
            report("aew_over_baseline", walls["iraq_2012_aew_orbit"] / walls["iraq_2012_baseline"],
                   TARGETS["aew_over_baseline"], unit="x")
            report("f16_over_baseline", walls["iraq_2012_f16_balad"] / walls["iraq_2012_baseline"],
                   TARGETS["f16_over_baseline"], unit="x")
    size = 1_000_000 if args.quick else 10_000_000
    wall, client, scheduler_s, workers = _parquet_client_share(size)
    share = client / (client + scheduler_s + workers)
    print(f"Parquet dataset written by 2 Dask workers (a scheduler process of its own), {size:,} flights: "
          f"{wall:.1f} s wall; CPU: client {client:.1f} s, scheduler {scheduler_s:.1f} s, workers {workers:.1f} s "
          f"({client / (size / 1e6):.2f} s of client CPU per million flights)")
    res["parquet_cpu_s"] = {"client": round(client, 2), "scheduler": round(scheduler_s, 2),
                            "workers": round(workers, 2), "flights": size}
    report("parquet_client_cpu_share", share, TARGETS["parquet_client_cpu_share"], unit="")
    all_res = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    all_res["whatif"] = {"cores": os.cpu_count(), "quick": args.quick, **res}
    RESULTS.write_text(json.dumps(all_res, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)} (whatif)")


if __name__ == "__main__":
    main()
