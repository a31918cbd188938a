"""Benchmark of ``airpicture evade``: the transponders-off front, 5 budgets, in a fresh process.

    python benchmarks/bench_evade.py

Runs ``airpicture evade scenarios/iraq_2012_transponder_off.toml --max-extra-km 0,100,200,400,800`` twice in
fresh processes: cold (``--no-cache``: masking tables and hazard fields computed afresh) and warm (a cache
folder of its own, filled by a first run), each timed from start to exit with its peak resident memory
(``wait4``), and prints them against the targets (issue 27, every route searched and re-scored as flown: under
30 s and under 1 GB on 2 cores, hazard fields included).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 30.0
TARGET_MB = 1024.0
ARGS = ["evade", "scenarios/iraq_2012_transponder_off.toml", "--max-extra-km", "0,100,200,400,800", "-q"]


def _timed(args, env=None):
    """Wall time [s] and peak RSS [MB] of ``airpicture ARGS`` in a fresh process."""
    code = "import sys; from sim.cli import main; sys.exit(main(" + repr(args) + "))"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if status != 0:
        raise RuntimeError(f"airpicture evade failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def main():
    tmp = Path(tempfile.mkdtemp(prefix="airpicture-bench-evade-"))
    try:
        cold = _timed([*ARGS, "--out", str(tmp / "cold"), "--no-cache"])
        env = {**os.environ, "AIRPICTURE_CACHE_DIR": str(tmp / "cache")}
        _timed([*ARGS, "--out", str(tmp / "fill")], env)
        warm = _timed([*ARGS, "--out", str(tmp / "warm")], env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"airpicture evade, transponders off, 5 budgets, 2 levels, every route searched and re-scored as flown "
          f"(2,000 campaigns x 15 flights), {os.cpu_count()} cores:")
    for what, (wall, rss) in (("cold (--no-cache)", cold), ("warm (cached masking tables, hazard fields)", warm)):
        print(f"  {what:<45s} {wall:6.1f} s  {rss:6.0f} MB peak  targets {TARGET_S:.0f} s, {TARGET_MB:.0f} MB: "
              f"{'met' if wall < TARGET_S and rss < TARGET_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
