"""``airpicture place``: where K more radars should go, against a fixed or an adaptive flyer (the placement
loads only when the command runs)."""
import sys
import time
from pathlib import Path

from sim.cli.common import (RAW, add_campaigns, add_common, add_flights, add_out, add_seed, cache_of, campaigns_arg,
                            check_memory, check_out, epilog, positive_int, progress, warn, what_if_text)
from sim.pipeline import load


EXAMPLES = """\
  airpicture place iraq_2012_transponder_off --add 3 --like "Kirkuk PSR" --grid-km 25
  airpicture place iraq_2012_transponder_off --add 3 --like "Kirkuk PSR" --against adaptive --out out/place
  airpicture place iraq_2012_transponder_off --add 2 --like "Kirkuk PSR" --candidates sites.csv \\
      --objective stopped
  airpicture place iraq_2012_aew_orbit --add 1 --like "AEW orbit" --candidates racetracks.csv \\
      --objective stopped"""


def add_parser(sub):
    p = sub.add_parser("place", help="where K more radars should go, against a fixed or an adaptive flyer",
                       description="Place K copies of a scenario's radar (--like) at candidate sites (a CSV, the "
                                   "airfields or the high ground in the airspace, or a grid over it), or, for an airborne radar, on candidate orbits "
                                   "(racetracks: a CSV of waypoint pairs, or copies of its racetrack centred on a "
                                   "grid), to catch the most flights: lazy greedy on a fixed "
                                   "sample of flights with each step's marginal gain and the upper bound on the "
                                   "best layout; against an adaptive flyer, the red-team route search answers each "
                                   "layout and the layout is re-placed against the worst route found, until the "
                                   "flyer cannot improve. Every layout is re-scored by the Monte Carlo on a fresh "
                                   "sample. Writes steps.csv, candidates.csv, place.json, objective.png, map.png, "
                                   "placed.toml (runnable as is) and README.txt into --out. Method: docs/place.md.",
                       epilog=epilog(EXAMPLES), formatter_class=RAW)
    add_common(p)
    p.add_argument("--add", type=positive_int, required=True, metavar="K", help="radars to add")
    p.add_argument("--like", required=True, metavar="RADAR",
                   help="the scenario's radar whose copies are placed: its kind, range, Pd, scan period, "
                        "availability and mast; a radar that flies an orbit is copied onto candidate racetracks at "
                        "its altitude and speed (a flight's chance averaged over 16 loop phases x 4 scan phases)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--candidates", metavar="FILE.csv|airbases|high-ground", default=None,
                       help="candidate sites: a CSV with a header lat,lon[,name,mast_m]; 'airbases': the airfields "
                            "of the packaged airport table inside the airspace (14 in Iraq); 'high-ground': the 40 "
                            "highest peaks of the terrain model inside the airspace, each the highest ground within "
                            "25 km (a file of either name: ./airbases). For an orbiting --like, "
                            "racetracks: a header lat1,lon1,lat2,lon2[,name] (waypoints the orbit flies out and back "
                            "between; the same point twice: it holds there)")
    where.add_argument("--grid-km", type=float, default=None, metavar="G",
                       help="candidate sites on a G km grid over the scenario's airspace (default 25); for an "
                            "orbiting --like, copies of its racetrack (its length and heading) centred on the grid "
                            "(no default: each orbit's column takes seconds, choose a coarse grid)")
    p.add_argument("--objective", choices=("detect", "track-in-airspace", "stopped"), default="detect",
                   help="what a layout is scored on: flights detected (default), held in track inside the airspace, "
                        "or stopped (the scenario's order to land)")
    p.add_argument("--against", choices=("fixed", "adaptive"), default="fixed",
                   help="a flyer who keeps to the scenario's routes (default), or one who re-routes around the "
                        "layout (the red-team route search)")
    p.add_argument("--max-extra-km", dest="max_extra_km", type=float, default=100.0, metavar="D",
                   help="the adaptive flyer's extra-distance budget over the geodesic [km] (default 100)")
    p.add_argument("--levels", default=None, metavar="LEVEL[,...]",
                   help="the adaptive flyer's levels, as evade takes them (default cruise,low: the scenario's "
                        "cruise and terrain following at its clearance)")
    p.add_argument("--rounds", type=positive_int, default=20,
                   help="most re-placements of the adaptive loop (default 20; it stops when the flyer cannot "
                        "improve)")
    p.add_argument("--select-campaigns", type=campaigns_arg, default=None, metavar="N",
                   help="campaigns of the selection sample (default 200; its seed is the re-score's + 104729)")
    add_campaigns(p, "campaigns of each re-score (default: scenario's)")
    add_flights(p, "flights per campaign (default: scenario's)")
    add_seed(p, "random seed of the re-scores (default: scenario's run.seed)")
    add_out(p, "output folder (default: out/SCENARIO_NAME-place)")
    p.set_defaults(func=command)
    return p


#: The prepared parts ``airpicture place`` keeps in memory [bytes]: it prepares hundreds (a masking table per
#: candidate evaluated, detection tables per route the flyer finds); those it needs again come from the disk
#: cache, or are computed again with --no-cache.
PLACE_CACHE_MEMORY_BYTES = 192 * 1024**2


class _PlaceWatch:
    """The progress of ``airpicture place`` on stderr: a bar per stage on a terminal (tqdm: what it does, the
    count, the rate and, where the stage's size is known, the time left) and, unless ``quiet``, a line with the
    estimate once a long stage's pace is measured (the adaptive loop's rounds, the Monte Carlo re-scores)."""

    def __init__(self, quiet):
        self.quiet = quiet
        self.update, self.close = None, lambda: None
        self.t0 = self.t_stage = time.perf_counter()
        self.what, self.total, self.done = None, None, 0
        self.rounds = []            # seconds of each round of the adaptive loop
        self.told = set()

    def stage(self, what, total=None, unit="step"):
        """A stage begins: ``what`` it does (a round of the adaptive loop begins with "round "), its size."""
        now = time.perf_counter()
        if self.what is not None and self.what.startswith("round "):
            self.rounds.append(now - self.t_stage)
            if len(self.rounds) == 2 and what.startswith("round "):
                self._tell(f"against a flyer who adapts: about {sum(self.rounds) / 2:,.0f} s a round (the flyer's "
                           "route search, then the radars re-placed); the loop ends when the flyer can no longer "
                           "beat the layout")
        self.close()
        self.update, self.close = progress(total, self.quiet, unit=unit, desc=what)
        self.what, self.total, self.done, self.t_stage = what, total, 0, now

    def __call__(self, n):
        if self.update is not None:
            self.update(n)
        self.done += n
        if self.what == "Monte Carlo re-scores" and self.done == 1 and (self.total or 0) > 1:
            left = (time.perf_counter() - self.t_stage) * (self.total - 1)
            if left > 10:
                self._tell(f"{self.total} Monte Carlo re-scores, about {left:,.0f} s more")

    def _tell(self, text):
        if not self.quiet:
            from tqdm import tqdm   # loads only when a line is written
            tqdm.write(f"airpicture: {text} ({time.perf_counter() - self.t0:,.0f} s so far)", file=sys.stderr)


def command(args):
    from sim.optimise.placement import place       # the route search (scipy's csgraph) loads only when asked
    from sim.products.place import (converged_text, flyer_text, headline_text, is_orbit, objective_label,
                                    route_words, write_place)

    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-place"
    check_out(out)
    check_memory(args, [scenario])
    watch = _PlaceWatch(args.quiet)
    try:
        result = place(scenario, args.add, args.like, candidates=args.candidates, grid_km=args.grid_km,
                       objective=args.objective, against=args.against, max_extra_km=args.max_extra_km,
                       levels=args.levels, rounds=args.rounds, select_campaigns=args.select_campaigns,
                       campaigns=args.campaigns, flights=args.flights, seed=args.seed,
                       cache=cache_of(args, PLACE_CACHE_MEMORY_BYTES), progress=watch, stage=watch.stage)
    finally:
        watch.close()
    rows = write_place(out, result)
    for note in result.notes:
        warn(f"{args.scenario}: {note}")
    if not args.quiet:
        t = result.timings_s
        label = objective_label(result.objective)
        adaptive = result.against == "adaptive"
        print(f"{scenario.info.title}: where {result.add} more {result.like} radars go ({label}, against a "
              f"{'flyer who adapts' if adaptive else 'fixed flyer'})")
        what_if = what_if_text(scenario.overrides)
        if what_if:
            print(f"  what-if: {what_if}")
        if adaptive:
            lay, fix, today = result.rescore_layout, result.rescore_fixed, result.rescore_prefix[0]
            rob, frob, trob = (result.robust_value(w) for w in ("layout", "fixed", "today"))
            print(f"  {headline_text(result)}")
            print(f"    (Monte Carlo, each layout against the flyer's best route; the flyer re-routes around each "
                  f"layout {flyer_text(result)}, choosing by the route search's P(detect) as flown)")
            print(f"  {result.add} placed for the flyer who adapts: "
                  f"{'; '.join(result.candidates[j].name for j in result.layout)}")
            print(f"    against the flyer {rob[0]:.4f}: its best route is {route_words(result, rob[1])}")
            print(f"    on the scenario's own routes {lay.value:.4f} [{lay.ci95[0]:.4f}-{lay.ci95[1]:.4f}]: "
                  f"{lay.value - rob[0]:.4f} lost to the flyer's re-routing")
            print(f"    {converged_text(result)} ({len(result.rounds)} rounds)")
            print(f"    on the selection sample {result.robust_sample:.4f}; no layout of {result.add} does better "
                  f"than {result.robust_bound:.4f} against every route found")
            print(f"  today's radars, none added: against the flyer {trob[0]:.4f}, its best route is "
                  f"{route_words(result, trob[1])}")
            print(f"    on the scenario's own routes {today.value:.4f} [{today.ci95[0]:.4f}-{today.ci95[1]:.4f}]")
            print(f"  {result.add} placed for the scenario's own routes (the greedy steps below): against the flyer "
                  f"{frob[0]:.4f}, its best route is {route_words(result, frob[1])}")
            print(f"    on the scenario's own routes {fix.value:.4f} [{fix.ci95[0]:.4f}-{fix.ci95[1]:.4f}]")
        what = "racetracks" if is_orbit(result) else "sites"
        print(f"  {len(result.candidates):,} candidate {what} ({result.candidate_source}), "
              f"{int(result.evaluated.sum()):,} evaluated; chosen on {result.select_flights_total:,} flights "
              f"(seed {result.select_seed}), re-scored by {result.campaigns:,} campaigns x {result.flights} flights "
              f"(seed {result.seed})")
        if adaptive:
            print("  the greedy steps, for the scenario's own routes (a flyer who keeps to them):")
        w = max(len(r["site"]) for r in rows)
        print(f"  {'k':>2s}  {'site':<{w}s}  {'gain':>8s}  {'sample':>7s}  {'bound':>7s}  Monte Carlo [95% CI]")
        for r in rows:
            gain = "" if r["marginal_gain"] is None else f"{r['marginal_gain']:+.4f}"
            print(f"  {r['k']:>2d}  {r['site']:<{w}s}  {gain:>8s}  {r['objective_sample']:7.4f}  "
                  f"{r['bound_sample']:7.4f}  {r['objective_mc']:.4f} [{r['mc_ci95_low']:.4f}-{r['mc_ci95_high']:.4f}]")
        print("  (sample: on the selection sample; bound: no layout of k does better there)")
        print(f"  time: selection sample {t['selection_sample_s']:.1f} s, greedy {t['greedy_s']:.1f} s"
              + (f", adaptive loop {t['adaptive_s']:.1f} s (route search {t['search_s']:.1f} s)"
                 if "adaptive_s" in t else "")
              + f", Monte Carlo {t['rescore_s']:.1f} s; total {t['total_s']:.1f} s")
        print(f"outputs: {out}/ (steps.csv, objective.png, map.png, placed.toml: airpicture run {out}/placed.toml)")
    return 0
