"""``airpicture evade``: the least-detectable route for extra-distance budgets, as it will be flown (the route
search loads only when the command runs)."""
from pathlib import Path

from sim.cli.common import (RAW, add_campaigns, add_common, add_flights, add_out, add_seed, cache_of, check_out,
                            epilog, progress, warn, what_if_text)
from sim.pipeline import load
from sim.products.export import staged_output
from sim.results import format_p_ci
from sim.scenario import ScenarioError


EXAMPLES = """\
  airpicture evade iraq_2012_transponder_off --max-extra-km 0,100,200,400,800 --out out/evade
  airpicture evade iraq_2013_more_radars --levels cruise --max-extra-km 25,50,100 --avoid TUR
  airpicture evade iraq_2012_baseline --transponder both --spread-km 5 --objective p_stopped --campaigns 200"""


def add_parser(sub):
    p = sub.add_parser("evade", help="the least-detectable route for extra-distance budgets, as it will be flown",
                       description="Find, for each extra-distance budget over the geodesic between two airports, "
                                   "the route least detected by the scenario's radars as it will be flown: with the "
                                   "sideways spread (the scenario's most probable route's, or --spread-km), each "
                                   "radar's availability and outages (detection hazard on an equal-area grid, "
                                   "16-neighbour Dijkstra with Lagrangian relaxation on the length budget, "
                                   "string-pulled, measured geodesically, scored as flown), then run every route "
                                   "through the Monte Carlo with the scenario's seed, flown with that spread: the "
                                   "headline; the same route flown exactly on its planned line is the secondary "
                                   "figure. Budgets that find the same route are one row. Writes front.csv/json/png, "
                                   "map.png, routes.geojson/kml and one runnable scenario file per distinct route "
                                   "(evade-*.toml, flown with the spread) into --out. Method: docs/evade.md.",
                       epilog=epilog(EXAMPLES), formatter_class=RAW)
    add_common(p)
    p.add_argument("--from", dest="origin", metavar="ICAO", default=None,
                   help="departure airport (default: the first waypoint of the scenario's most probable route)")
    p.add_argument("--to", dest="dest", metavar="ICAO", default=None,
                   help="destination airport (default: the last waypoint of that route)")
    p.add_argument("--max-extra-km", dest="budgets", default="0,100,200,400,800", metavar="D[,D2,...]",
                   help="extra-distance budgets over the geodesic [km] (default 0,100,200,400,800)")
    p.add_argument("--levels", default=None, metavar="LEVEL[,...]",
                   help="levels searched: cruise (the scenario's), low (terrain following at the scenario's "
                        "clearance, else 300 m), metres above mean sea level (3000) or above ground (300agl); "
                        "default cruise,low")
    p.add_argument("--transponder", choices=("on", "off", "both"), default=None,
                   help="transponder state searched (default: the scenario's when it is 0 or 1, else both)")
    p.add_argument("--avoid", default="", metavar="ISO3[,...]",
                   help="forbidden airspaces, ISO 3166-1 alpha-3 codes of the packaged borders (e.g. TUR,SYR)")
    p.add_argument("--spacing-km", type=float, default=5.0, help="grid spacing [km] (default 5)")
    p.add_argument("--spread-km", type=float, default=None, metavar="KM",
                   help="sideways spread every route is searched, chosen and flown with (standard deviation) [km], "
                        "0 to 100 (default: the scenario's most probable route's cross_track_sigma; 0: exactly on "
                        "the planned line)")
    p.add_argument("--objective", choices=("p_detect", "p_stopped"), default="p_detect",
                   help="what each budget's route minimises as flown: P(detect) or P(stopped) (default p_detect)")
    add_campaigns(p, "campaigns of each re-score (default: scenario's)")
    add_flights(p, "flights per campaign (default: scenario's)")
    add_seed(p, "random seed of the re-scores (default: scenario's run.seed)")
    add_out(p, "output folder (default: out/SCENARIO_NAME-evade)")
    p.set_defaults(func=command)
    return p


def command(args):
    from sim.optimise.route import evade          # the route search (scipy's csgraph) loads only when asked
    from sim.products.evade import budgets_text, front_points, write_evade

    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-evade"
    check_out(out)
    if not (args.spacing_km == args.spacing_km and 1.0 <= args.spacing_km <= 100.0):
        raise ScenarioError("--spacing-km", None, f"must be between 1 and 100 km, got {args.spacing_km:g}")
    update, close_bar = progress(None, args.quiet, unit="step")
    try:
        result = evade(scenario, args.budgets, origin=args.origin, dest=args.dest, levels=args.levels,
                       transponder=args.transponder, avoid=args.avoid, spacing_m=args.spacing_km * 1000.0,
                       campaigns=args.campaigns, flights=args.flights, seed=args.seed, cache=cache_of(args),
                       progress=update, spread_m=None if args.spread_km is None else args.spread_km * 1000.0,
                       objective=args.objective)
    finally:
        close_bar()
    with staged_output(out) as stage:
        rows = write_evade(stage, result)
    for note in result.notes:
        warn(f"{args.scenario}: {note}")
    if not args.quiet:
        t = result.timings_s
        print(f"{scenario.info.title}: the least-detectable route from {result.origin.label} to {result.dest.label} "
              f"({result.great_circle_m / 1000:,.0f} km geodesic)" + (f", avoiding {', '.join(result.avoid)}"
                                                                     if result.avoid else ""))
        what_if = what_if_text(scenario.overrides)
        if what_if:
            print(f"  what-if: {what_if}")
        print(f"  grid {result.grid.spacing_m / 1000:g} km, 16 neighbours, {int(result.grid.allowed.sum()):,} cells; "
              f"re-scored by {result.campaigns:,} campaigns x {result.flights} flights, seed {result.seed}")
        whose = "the scenario's" if args.spread_km is None else "--spread-km"
        flown = (f"with a {result.spread_m / 1000:g} km sideways spread ({whose})" if result.spread_m > 0
                 else f"exactly on the planned line (no sideways spread: {whose})")
        print(f"  as flown: every figure is of the route flown {flown}, each radar's availability and outages; "
              f"each budget's route minimises {'P(stopped)' if result.objective == 'p_stopped' else 'P(detect)'} "
              "as flown")
        both = len(result.transponder_states) > 1
        table = []
        for (r, budgets), row in zip(front_points(result), rows):
            name = budgets_text(budgets, unit="")
            name = ("direct" + (f" = {name}" if name else "")) if r.budget_m is None else name
            stopped = "-" if r.p_stopped is None else format_p_ci(r.p_stopped, *r.summary["response"]["p_stopped_ci95"])
            table.append((name, r, row, stopped))
        wb = max(len("budgets km"), *(len(x[0]) for x in table))
        wl = max(len("level"), *(len(x[1].level.label) for x in table))
        ws = max(len("P(stopped) as flown"), *(len(x[3]) for x in table))
        print(f"  {'budgets km':<{wb}s}  {'level':<{wl}s}  {'xpdr ' if both else ''}{'extra km':>8s}  "
              f"{'time min':>8s}  {'fuel t':>6s}  {'P(detect) as flown':<20s}  {'P(stopped) as flown':<{ws}s}  "
              "planned track, exactly  search")
        for name, r, row, stopped in table:
            fuel = "-" if row["fuel_t"] is None else f"{row['fuel_t']:.1f}"
            search = "-" if row["p_search_as_flown"] is None else f"{row['p_search_as_flown']:.3f}"
            detect = format_p_ci(r.p_detect, *r.summary["p_detect_ci95"])
            print(f"  {name:<{wb}s}  {r.level.label:<{wl}s}  {row['transponder'] + '  ' if both else ''}"
                  f"{r.extra_m / 1000:8.1f}  {row['flight_time_min']:8.1f}  {fuel:>6s}  "
                  f"{detect:<20s}  {stopped:<{ws}s}  "
                  f"{row['p_detect_planned_track']:<22.3f}  {search}".rstrip())
        print("  (planned track, exactly: P(detect) of the same route flown on its planned line, no spread; "
              "search: the search's own P(detect) as flown, which chose the route)")
        print(f"  time: prepare {t['prepare_s']:.1f} s, search {t['search_s']:.1f} s, Monte Carlo "
              f"{t['rescore_s']:.1f} s")
        print(f"outputs: {out}/ (front.csv, front.png, map.png, routes.geojson, routes.kml, "
              f"{len(rows)} scenario files: airpicture run {out / rows[-1]['scenario_file']})")
    return 0
