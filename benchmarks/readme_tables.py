"""The performance tables of docs/performance.md, rendered from benchmarks/results.json (what `make bench` measured).

    python benchmarks/readme_tables.py            # print them
    python benchmarks/readme_tables.py --write    # put them in docs/performance.md between the bench markers

A test checks that docs/performance.md holds exactly what this renders from the committed results.json,
so every number in those tables is one `make bench` measured.
"""
import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
PAGE = ROOT / "docs" / "performance.md"
MARKERS = ("<!-- bench:start -->\n", "<!-- bench:end -->")
#: How each measured case reads in the tables.
_WHAT = {
    "iraq_2012_baseline, fast path (default)": "baseline",
    "iraq_2012_transponder_off, fast path (default)": "transponders off",
    "iraq_2012_baseline, exact path (--exact)": "baseline, `--exact` (every scan from its geometry)",
    "iraq_2012_baseline, fast path": None,          # the same as the default row beside --exact
    "iraq_2012_baseline, Dask local, 1 single-threaded worker(s)": "baseline, `--dask local`, 1 worker",
    "iraq_2012_baseline, Dask local, 2 single-threaded worker(s)": "baseline, `--dask local`, 2 workers",
    "iraq_2012_baseline, 2 worker processes (--workers 2)": "baseline, `--workers 2` (the default from 200,000 flights)",
}
_TARGETS = {
    "whatif_warm_2000_s": ("a one-key what-if at 2,010 flights, warm (in one process)", "s"),
    "sensitivity_baseline_s": ("sensitivity of the baseline (its declared inputs, 200 campaigns)", "s"),
    "brief_baseline_s": ("the brief of the baseline", "s"),
    "compare_8_s": ("compare of the 8 shipped scenarios", "s"),
    "baseline_1e6_cold_s": ("1,000,005 baseline flights, cold (nothing cached)", "s"),
    "aew_over_baseline": ("airborne orbit at 1e6 flights, against the baseline", "x"),
    "f16_over_baseline": ("F-16 interceptors at 1e6 flights, against the baseline", "x"),
    "parquet_client_cpu_share": ("the client's share of the CPU at 1e7 flights, Parquet written by 2 workers", ""),
}


def _num(x, unit):
    if unit == "":
        return f"{100 * x:.1f}%"
    if unit == "x":
        return f"{x:.2f}x"
    return f"{x:,.2f} s" if x < 10 else f"{x:,.1f} s"


def render(res):
    """The Markdown of both tables (a run table; the what-if targets, met or not)."""
    lines = ["| what | flights | wall | flights/s | scan evaluations/s | peak memory |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in res["runs"]:
        what = _WHAT.get(r["what"], r["what"])
        if what is None:
            continue
        peak = "-" if "Dask" in r["what"] or "worker processes" in r["what"] else f"{r['peak_mb']:,.0f} MB"
        lines.append(f"| {what} | {r['flights']:,} | {r['wall_s']:.1f} s | {r['flights_per_s']:,} | "
                     f"{r['scan_evaluations_per_s'] / 1e6:,.1f} M | {peak} |")
    w = res.get("whatif")
    if w:
        lines += ["", f"What-if speed (`benchmarks/bench_whatif.py`{', quick' if w.get('quick') else ''}):", "",
                  "| what | measured | target | |", "| --- | ---: | ---: | --- |"]
        for key, (what, unit) in _TARGETS.items():
            if key in w:
                m = w[key]
                lines.append(f"| {what} | {_num(m['value'], unit)} | {_num(m['target'], unit)} | "
                             f"{'met' if m['met'] else '**not met**'} |")
    k = res.get("walk")
    if k:
        lines += ["", "The compiled walk (`benchmarks/bench_run.py --walk-only`; cold: nothing prepared cached, the "
                  f"compiler's cache warm; load average {k['load_before']:.1f} before and {k['load_after']:.1f} after on this "
                  "2-core machine, shared with other work: each row the faster of two runs; the workers' memory: "
                  "their largest peak RSS, which counts the pages they share in each, and PSS, which divides them):",
                  "", "| what | flights | wall | CPU of the command's process | its peak memory | a worker's peak "
                  "RSS / PSS | flights/s per core |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in k["runs"]:
            workers = f"{r['worker_peak_rss_mb']:,} / {r['worker_pss_mb']:,} MB" if r.get("worker_peak_rss_mb") else "-"
            lines.append(f"| {r['what']} | {r['flights']:,} | {r['wall_s']:.2f} s | {r['cpu_s']:.2f} s | "
                         f"{r['peak_mb']:,} MB | {workers} | {r['flights_per_s_per_core']:,} |")
        pf, alone = k["per_flight"], k["run_alone_1e6"]
        lines += ["", f"The run alone (`sim.montecarlo.run` of 1,000,005 flights in one process, prepared, the "
                  f"compiled code loaded): {alone['run_s']:.2f} s; before it, from the process's start (imports, the "
                  f"scenario, its preparation from the cache, the compiled code loaded): {alone['before_s']:.2f} s.",
                  "", f"Per baseline flight the walk reads {pf['scans']:.1f} scans (one addressed draw and one "
                  f"detection-table read each) over {pf['pairs']:.1f} radars, and a chunk draws {pf['draws']:.0f} "
                  f"numbers per flight; one draw and one table read take {k['ns_per_draw_and_read']:.1f} ns on one "
                  f"core here, so the machine's limit for this walk is about "
                  f"{k['limit_flights_per_s_per_core'] / 1e6:.1f} million flights/s per core (the draws and reads "
                  "alone).", "",
                  "| target | measured | target | |", "| --- | ---: | ---: | --- |"]
        for c in k["checks"]:
            unit = "MB" if c["key"].startswith("memory") else "s"
            value = f"{c['value']:,.0f}" if unit == "MB" else f"{c['value']:,.2f}"
            lines.append(f"| {c['what']} | {value} {unit} | {c['target']:g} {unit} | "
                         f"{'met' if c['met'] else '**not met**'} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true",
                    help="replace the tables between the bench markers in docs/performance.md")
    args = ap.parse_args()
    text = render(json.loads(RESULTS.read_text()))
    if not args.write:
        print(text, end="")
        return
    page = PAGE.read_text()
    new = re.sub(re.escape(MARKERS[0]) + r".*?" + re.escape(MARKERS[1]),
                 lambda m: MARKERS[0] + text + MARKERS[1], page, flags=re.S)
    PAGE.write_text(new)


if __name__ == "__main__":
    main()
