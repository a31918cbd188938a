"""The Python front door's speed: a what-if by sim.api.run with no cache argument, as a notebook calls it.

    python benchmarks/bench_api.py

A one-key what-if (transponder-on probability 0.3) on iraq_2012_baseline at 134 campaigns (2,010 flights):
warm in this process (its session cache: memory, then the disk cache), warm from the disk cache in a fresh
process (a notebook restarted), and with ``cache=False`` (everything prepared afresh: what every call did
before the session cache). Each is the median of five calls after one that fills the cache. The cache
folder is a temporary one. Prints every measurement beside its target and adds them to
benchmarks/results.json under "api".
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
#: Issue 30's target [s] for a warm what-if with no cache argument.
TARGETS = {"api_whatif_warm_s": 0.25}
CALL = ('run("iraq_2012_baseline", {"aircraft.transponder_on_probability": 0.3}, campaigns=134%s)')
REPEATS = 5


def _python(code):
    """The last line a fresh Python prints running ``code`` (its error, when it fails)."""
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=os.environ)
    if p.returncode:
        sys.exit(p.stderr)
    return p.stdout.strip().splitlines()[-1]


def _median_call(extra=""):
    """Median wall seconds of :data:`REPEATS` calls in a fresh process, after one that warms it."""
    code = (
        "import json, time\n"
        "from sim.api import run\n"
        f"{CALL % extra}\n"
        "times = []\n"
        f"for _ in range({REPEATS}):\n"
        "    t0 = time.perf_counter()\n"
        f"    {CALL % extra}\n"
        "    times.append(time.perf_counter() - t0)\n"
        "print(json.dumps(times))\n")
    return statistics.median(json.loads(_python(code)))


def _first_call():
    """Wall seconds of the first call in a fresh process (imports excluded), with the disk cache warm."""
    code = ("import time\nfrom sim.api import run\nt0 = time.perf_counter()\n"
            f"{CALL % ''}\nprint(time.perf_counter() - t0)\n")
    return float(_python(code))


def main():
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AIRPICTURE_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.environ["AIRPICTURE_CACHE_KEY_FILE"] = str(Path(tmp) / "key")
        warm = _median_call()
        disk = _first_call()
        none = _median_call(", cache=False")
    target = TARGETS["api_whatif_warm_s"]
    res["api_whatif_warm_s"] = {"value": round(warm, 4), "target": target, "met": warm <= target}
    res["api_whatif_disk_warm_first_call_s"] = round(disk, 4)
    res["api_whatif_no_cache_s"] = round(none, 4)
    print(f"{'api_whatif_warm_s':<34s} {warm:9.3f} s   target {target:g} s: {'met' if warm <= target else 'NOT met'}")
    print(f"{'api_whatif_disk_warm_first_call_s':<34s} {disk:9.3f} s   (a fresh process, the disk cache warm)")
    print(f"{'api_whatif_no_cache_s':<34s} {none:9.3f} s   (cache=False: everything prepared afresh)")
    all_res = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    all_res["api"] = {"cores": os.cpu_count(), **res}
    RESULTS.write_text(json.dumps(all_res, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)} (api)")


if __name__ == "__main__":
    main()
