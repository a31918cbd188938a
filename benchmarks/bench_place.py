"""Benchmark of ``airpicture place``: 3 more Kirkuk-class radars from a 25 km grid over Iraq, in a fresh process.

    python benchmarks/bench_place.py

Runs ``airpicture place scenarios/iraq_2012_transponder_off.toml --add 3 --like "Kirkuk PSR" --grid-km 25``
(the README's example) against the fixed flyer and against the adaptive one (at the cruise and at low level,
within 25-100 km extra, its routes flown with the scenario's 10 km spread), each cold as the README's example
runs the first time (a fresh process and an empty cache folder, ``AIRPICTURE_CACHE_DIR``: every terrain
masking table, hazard field and detection table built afresh; a part dropped from memory is read back from
that folder, as on a user's machine) and with the compiled kernels' code already on disk (numba's cache, as
after any first use), timed from start to exit with its peak resident memory (``wait4``: the process runs
on one core), and prints them against the
targets (issue 19: the fixed flyer under 60 s on 2 cores; issue 27: the adaptive placement under 120 s and
1 GB), with the adaptive run's own split of its time (``place.json`` has no timings: the command prints them).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["place", "scenarios/iraq_2012_transponder_off.toml", "--add", "3", "--like", "Kirkuk PSR", "--grid-km", "25"]
CASES = (("fixed flyer", ["--against", "fixed"], 60.0, None),
         ("adaptive flyer", ["--against", "adaptive"], 120.0, 1024.0))


def _timed(args, cache_dir):
    """Wall time [s], peak RSS [MB] and the printed split of the time of ``airpicture ARGS`` in a fresh
    process with the cache folder ``cache_dir``."""
    code = "import sys; from sim.cli import main; sys.exit(main(" + repr(args) + "))"
    env = dict(os.environ, AIRPICTURE_CACHE_DIR=str(cache_dir))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text, problems = out.read().decode(), err.read().decode()
    if status != 0:
        raise RuntimeError(f"airpicture place failed: {problems[-2000:]}")
    split = next((line.strip() for line in text.splitlines() if line.strip().startswith("time:")), "")
    return wall, usage.ru_maxrss / 1024.0, split


def main():
    tmp = Path(tempfile.mkdtemp(prefix="airpicture-bench-place-"))
    load_before = os.getloadavg()[0]
    rows = []
    try:
        for what, extra, target, memory in CASES:
            name = what.split()[0]
            rows.append((what, target, memory, *_timed([*ARGS, *extra, "--out", str(tmp / name)],
                                                       tmp / f"cache-{name}")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"airpicture place, transponders off, 3 more Kirkuk PSR from a 25 km grid (697 sites), cold, "
          f"{os.cpu_count()} cores (load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: "
          f"other work on the machine slows the wall time):")
    for what, target, memory, wall, rss, split in rows:
        mem = "" if memory is None else f", {memory:.0f} MB: {'met' if rss < memory else 'NOT met'}"
        print(f"  {what:<16s} {wall:6.1f} s  {rss:6.0f} MB peak  target {target:.0f} s: "
              f"{'met' if wall < target else 'NOT met'}{mem}")
        print(f"    {split}")


if __name__ == "__main__":
    main()
