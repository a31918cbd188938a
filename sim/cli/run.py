"""``airpicture run``: a scenario's Monte Carlo, written into --out (summary.json, flights.csv,
routes.geojson; the briefing products too with --brief, as ``airpicture brief`` makes them)."""
from pathlib import Path

from sim.cli.common import (RAW, RunWatch, add_common, add_flights_format, add_mc, add_out, add_walk,
                            below_ground_text, cache_of, check_disk, check_memory, check_out, engine_for, epilog,
                            flights_csv_bytes, progress, warn)
from sim.pipeline import brief_steps, load, simulate_to
from sim.results import format_p, format_p_ci, headline, overrides_text
from sim.scenario import ScenarioError


EXAMPLES = """\
  airpicture run iraq_2012_baseline --out out/
  airpicture run iraq_2012_baseline --set aircraft.cruise_altitude_m=3000
  airpicture run iraq_2012_baseline --set "radar[Kirkuk PSR].availability=0"
  airpicture run iraq_2012_baseline --campaigns 66667 --dask local
  airpicture run my_scenario.toml --out out/mine"""


def add_parser(sub):
    p = sub.add_parser("run", help="run the Monte Carlo; write summary.json, flights.csv, routes.geojson",
                       description="Run a scenario's Monte Carlo and write summary.json, flights.csv and "
                                   "routes.geojson into --out.",
                       epilog=epilog(EXAMPLES), formatter_class=RAW)
    add_common(p)
    add_mc(p)
    add_out(p, "output folder (default: out/SCENARIO_NAME)")
    p.add_argument("--brief", action="store_true", help="also make the briefing products (maps, charts, brief.pdf)")
    add_flights_format(p)
    add_walk(p)
    p.set_defaults(func=command)
    return p


def command(args):
    if args.walk is not None and args.exact and args.walk != "exact":
        raise ScenarioError("--walk", None, f"--exact walks every scan exactly: --walk {args.walk} contradicts it")
    args.exact = args.exact or args.walk == "exact"
    scenario = load(args.scenario, args.overrides)
    root = getattr(args, "default_root", "out")
    out = Path(args.out) if args.out else Path(root) / scenario.info.name
    check_out(out)
    cost = check_memory(args, [scenario], exact=args.exact)
    if getattr(args, "evade", None) is not None:
        from sim.optimise.route import parse_budgets_km     # the route search loads only when asked
        parse_budgets_km([args.evade])           # a bad budget is refused before the run, not after it
    campaigns = args.campaigns or scenario.run.campaigns
    flights = args.flights or scenario.run.flights
    csv_bytes = flights_csv_bytes(scenario, campaigns * flights) if args.flights_format != "none" else 0
    check_disk(out, 2 * csv_bytes)    # the staged copy and its move: room for both, to be safe (Parquet: less)
    update, close_bar = progress(campaigns * flights, args.quiet)
    sweep_update, close_sweep = (None, lambda: None)
    if args.brief:       # the altitude curve, the tornadoes' runs and the drawing: one bar of steps
        sweep_update, close_sweep = progress(brief_steps(scenario), args.quiet, unit="step", desc="brief")
    try:
        with engine_for(args, campaigns * flights, cost) as engine:
            sim, result, summary = simulate_to(out, scenario, campaigns=args.campaigns, flights=args.flights,
                                               seed=args.seed, chunk_campaigns=args.chunk,
                                               progress=RunWatch(campaigns * flights, csv_bytes, update),
                                               engine=engine, brief=args.brief, exact=args.exact,
                                               walk=args.walk, sweep_progress=sweep_update,
                                               flights_format=args.flights_format,
                                               cache=cache_of(args), evade_km=getattr(args, "evade", None),
                                               record=getattr(args, "record", False))
    finally:
        close_bar()
        close_sweep()
    for name, r in summary["routes"].items():
        if r.get("below_ground_fraction"):
            warn(below_ground_text(args.scenario, name, r["below_ground_fraction"], r["cruise_altitude_m"]))
    if not args.quiet:
        where = summary["airspace"]
        changes = overrides_text(summary)
        print(scenario.info.title + (f" (what-if: {changes})" if changes else "")
              + (" (exact geometry)" if summary["exact"] else ""))
        print(headline(summary))
        print(f"  held in track while over {where}: {100 * summary['p_detect_in_airspace']:.1f}% of flights; "
              f"mean {summary['minutes_in_airspace_mean']:.0f} min in {where}'s airspace, "
              f"{summary['minutes_in_coverage_mean']:.0f} min in radar coverage")
        if "response" in summary:
            rs = summary["response"]
            w = rs["reaction_window_min"]
            print(f"  could they be stopped: P(stopped) per flight {format_p(rs['p_stopped'], *rs['p_stopped_ci95'])} [95% CI "
                  f"{rs['p_stopped_ci95_text']}]; reaction window "
                  f"{w['p50'] if w['p50'] is not None else float('nan'):.0f} min (median, track in "
                  f"{where}'s airspace until lost or out); outcomes: "
                  + ", ".join(f"{k} {100 * v:.1f}%" for k, v in rs["outcomes"].items() if v))
            if rs["will"] < 1.0:
                print(f"  the state's will: it acts on {rs['will']:.4g} of the flights held in time; P(held in time) "
                      f"{format_p_ci(rs['p_held_in_time'], *rs['p_held_in_time_ci95'])}, P(ordered) "
                      f"{format_p_ci(rs['p_ordered'], *rs['p_ordered_ci95'])}, P(stopped) had it acted on all "
                      f"{format_p_ci(rs['p_stopped_if_acted'], *rs['p_stopped_if_acted_ci95'])}")
        for name, r in summary["radars"].items():
            p = r["platform"]
            orbit = (f" (airborne: a {p['loop_km']:.0f} km orbit at {p['altitude_m']:,.0f} m, "
                     f"{p['speed_kmh']:.0f} km/h)") if p["type"] == "orbit" else ""
            print(f"  {name:<24s} tracked {100 * r['p_detect']:5.1f}% of flights{orbit}")
        print(f"outputs: {out}/")
    return 0
