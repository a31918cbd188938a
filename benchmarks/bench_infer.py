"""Benchmark of ``airpicture infer``: the shipped record's posterior with two unknowns, in a fresh process.

    python benchmarks/bench_infer.py

Runs ``airpicture infer iraq_2012_record`` (will per period and the decision delay: 64 capability points of
2,010 flights each, 4,000 posterior draws, every file written) in fresh processes: cold (``--no-cache``:
terrain masking and detection tables prepared afresh) and warm (a cache folder of its own, filled by a first
run), each timed from start to exit with its peak resident memory (``wait4``) and the CPU time it used, and
prints them against the targets (issue 29: under 60 s cold and under 15 s warm on 2 cores), met or not. On a
machine shared with other work the wall time exceeds the CPU time; both are printed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS_S = {"cold": 60.0, "warm": 15.0}
ARGS = ["infer", "scenarios/iraq_2012_record.toml", "-q"]


def _timed(args, env=None):
    """Wall time [s], CPU time [s] and peak RSS [MB] of ``airpicture ARGS`` in a fresh process."""
    code = "import sys; from sim.cli import main; sys.exit(main(" + repr(args) + "))"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if status != 0:
        raise RuntimeError(f"airpicture infer failed: {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def main():
    tmp = Path(tempfile.mkdtemp(prefix="airpicture-bench-infer-"))
    try:
        cold = _timed([*ARGS, "--out", str(tmp / "cold"), "--no-cache"])
        env = {**os.environ, "AIRPICTURE_CACHE_DIR": str(tmp / "cache")}
        _timed([*ARGS, "--out", str(tmp / "fill")], env)
        warm = _timed([*ARGS, "--out", str(tmp / "warm")], env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"airpicture infer iraq_2012_record: will per period and the decision delay, 64 capability points x "
          f"2,010 flights, 4,000 draws, every file written; {os.cpu_count()} cores:")
    for what, key, (wall, cpu, rss) in (("cold (--no-cache)", "cold", cold),
                                        ("warm (cached masking and detection tables)", "warm", warm)):
        print(f"  {what:<44s} {wall:6.1f} s wall, {cpu:6.1f} s CPU, {rss:6.0f} MB peak; target "
              f"{TARGETS_S[key]:.0f} s: {'met' if wall < TARGETS_S[key] else 'NOT met'}")


if __name__ == "__main__":
    main()
