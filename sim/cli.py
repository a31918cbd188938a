"""Command line: ``airpicture run|brief|coverage|sweep|compare|validate``.

Exit status 0 on success, 2 on a bad scenario or bad arguments (one line on
stderr naming the file and the key), 130 on Ctrl-C, 1 on any other failure. A failed run
leaves no partial outputs.
"""
import argparse
import os
import shutil

import numpy as np
import shapely
import sys
import time
from pathlib import Path

from tqdm import tqdm

from geo.terrain import load_terrain
from geo.units import FT_M
from sim import __version__
from sim.analysis import DEFAULT_SENSITIVITY_CAMPAIGNS, altitude_levels, compare, sensitivity, sweep
from sim.engine import EngineUnavailable
from sim.detection import platform_geometry
from sim.fences import nominal_route_fences
from sim.montecarlo import prepare, run
from sim.platforms import Orbit
from sim.routes import below_ground_shares
from sim.products.brief import coverage_level
from sim.products.brief import compare_figure, sweep_figure, tornado_figure
from sim.products.coverage import radar_coverages
from sim.products.style import save_figure, use_style
from sim.pipeline import load, simulate_to
from sim.products.coverage import coverage_collection
from sim.products.export import staged_output, write_csv, write_json, write_sidecar
from sim.results import ASSUMPTIONS_NOTE, format_ci, headline, overrides_text
from sim.scenario import ScenarioError, parse_override_value

__all__ = ["main", "build_parser"]

_NOTE = """
Scenario format: docs/scenario-format.md; the values and their sources:
scenarios/README.md. All results are illustrative: the scenarios are built
on open-source reporting and stated assumptions.
"""
#: Examples shown by each command's --help.
EXAMPLES = {
    "run": """\
  airpicture run scenarios/iraq_2012_baseline.toml --out out/
  airpicture run scenarios/iraq_2012_baseline.toml --set aircraft.cruise_altitude_m=3000
  airpicture run scenarios/iraq_2012_baseline.toml --set "radar[Kirkuk PSR].availability=0"
  airpicture run scenarios/iraq_2012_baseline.toml --campaigns 66667 --dask local""",
    "brief": """\
  airpicture brief scenarios/iraq_2012_low_level.toml --out brief/low-level
  airpicture brief scenarios/iraq_2012_transponder_off.toml --set detection.mean_outage_days=20""",
    "coverage": """\
  airpicture coverage scenarios/iraq_2012_transponder_off.toml --altitude-m 3000 --out out/cover-3000
  airpicture coverage scenarios/iraq_2012_low_level.toml --agl-m 300""",
    "sweep": """\
  airpicture sweep scenarios/iraq_2012_transponder_off.toml --key "radar[Kirkuk PSR].availability" --values 0,0.5,1
  airpicture sweep scenarios/iraq_2012_transponder_off.toml --key detection.mean_outage_days --values 1,5,20 --out out/s""",
    "compare": """\
  airpicture compare scenarios/*.toml
  airpicture compare scenarios/iraq_2012_baseline.toml scenarios/iraq_2012_transponder_off.toml --set run.seed=7""",
    "sensitivity": """\
  airpicture sensitivity scenarios/iraq_2012_transponder_off.toml
  airpicture sensitivity scenarios/iraq_2012_low_level.toml --metric detected_per_campaign.mean --out out/sens""",
    "validate": """\
  airpicture validate scenarios/iraq_2012_low_level.toml
  airpicture validate scenarios/iraq_2012_baseline.toml --set aircraft.cruise_altitude_m=1000""",
}
EPILOG = "examples:\n" + EXAMPLES["run"] + "\n" + _NOTE


_RAW = argparse.RawDescriptionHelpFormatter


def _epilog(command):
    return "examples:\n" + EXAMPLES[command] + "\n" + _NOTE


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(lo, what):
    """argparse type: an integer >= ``lo``."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            v = None
        if v is None or v < lo:
            raise argparse.ArgumentTypeError(f"must be a {what} integer, got {text!r}")
        return v
    return parse


_positive_int = _int_at_least(1, "positive")
_seed = _int_at_least(0, "non-negative")


def _add_common(p):
    p.add_argument("scenario", help="scenario file (TOML; format: docs/scenario-format.md)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. aircraft.cruise_altitude_m=3000 or "
                        "'radar[Baghdad PSR].range_km=200' (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary on stdout")


def _add_mc(p):
    p.add_argument("--campaigns", type=_positive_int, help="Monte Carlo campaigns (default: scenario's run.campaigns)")
    p.add_argument("--flights", type=_positive_int, help="flights per campaign (default: scenario's run.flights)")
    p.add_argument("--seed", type=_seed, help="random seed (default: scenario's run.seed)")
    p.add_argument("--chunk", type=_positive_int, default=None, metavar="CAMPAIGNS",
                   help="campaigns per task (memory/speed only; results do not change; "
                        "default: about 16,000 flights per task, 2,000 with --exact)")
    p.add_argument("--exact", action="store_true",
                   help="evaluate every scan from its exact geometry instead of the detection tables "
                        "(the reference of the default fast path; same draws, slower)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run chunks on a Dask cluster: a scheduler address, or 'local' for a local cluster "
                        "(needs the 'dask' extra: pip install 'airpicture[dask]')")


def build_parser():
    parser = _Parser(prog="airpicture", description=(
        "How many Il-76 flights Iran -> Syria would a country's radars detect (Iraq's by default)? "
        "Monte Carlo over routes, radars and chance; outputs for planners."),
        epilog=EPILOG, formatter_class=_RAW)
    parser.add_argument("--version", action="version", version=f"airpicture {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("run", help="run the Monte Carlo; write summary.json, flights.csv, routes.geojson",
                       description="Run a scenario's Monte Carlo and write summary.json, flights.csv and "
                                   "routes.geojson into --out.",
                       epilog=EPILOG, formatter_class=_RAW)
    _add_common(p)
    _add_mc(p)
    p.add_argument("--out", default=None, help="output folder (default: out/SCENARIO_NAME)")
    p.add_argument("--brief", action="store_true", help="also make the briefing products (maps, charts, brief.pdf)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("brief", help="run, then write maps, charts, KML and a one-page brief.pdf",
                       description="Run a scenario and write the briefing products into --out: map.png/pdf/svg, "
                                   "detections.png, altitude.png, routes.geojson, routes.kml, flights.csv, "
                                   "summary.json and brief.pdf.", epilog=_epilog("brief"),
                       formatter_class=_RAW)
    _add_common(p)
    _add_mc(p)
    p.add_argument("--out", default=None, help="output folder (default: brief/SCENARIO_NAME)")
    p.set_defaults(func=_cmd_run, brief=True, default_root="brief")

    p = sub.add_parser("coverage", help="write the air picture at an altitude as GeoJSON geofences",
                       description="Coverage of every radar at one altitude (line of sight, terrain, range), "
                                   "their union and the scenario's airspace, as RFC 7946 GeoJSON (coverage.geojson) "
                                   "with areas in coverage.json.", epilog=_epilog("coverage"),
                       formatter_class=_RAW)
    _add_common(p)
    lvl = p.add_mutually_exclusive_group(required=True)
    lvl.add_argument("--altitude-m", type=float, help="target altitude above mean sea level [m]")
    lvl.add_argument("--altitude-ft", type=float, help="target altitude above mean sea level [ft]")
    lvl.add_argument("--agl-m", type=float, help="target height above ground level [m] (needs terrain)")
    p.add_argument("--out", default=None, help="output folder (default: out/SCENARIO_NAME-coverage)")
    p.set_defaults(func=_cmd_coverage)

    p = sub.add_parser("sweep", help="P(detect) as one scenario value varies (same seed)",
                       description="Run the scenario once per value of --key, each with the scenario's "
                                   "campaigns (or --campaigns) and the same seed, and print/write a table "
                                   "(sweep.csv, sweep.json).", epilog=_epilog("sweep"),
                       formatter_class=_RAW)
    _add_common(p)
    _add_mc(p)
    p.add_argument("--key", required=True, help="override path, e.g. aircraft.cruise_altitude_m")
    p.add_argument("--values", required=True, help="comma-separated values, e.g. 300,1000,3000,10000")
    p.add_argument("--out", default=None, help="output folder (default: print only)")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("compare", help="headline numbers of several scenarios side by side",
                       description="Run several scenarios and print one table of their "
                                   "headline numbers; --out writes compare.csv.", epilog=_epilog("compare"),
                       formatter_class=_RAW)
    p.add_argument("scenarios", nargs="+", help="scenario files")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value in every scenario (repeatable)")
    p.add_argument("--campaigns", type=_positive_int, help="campaigns per scenario (default: each file's)")
    p.add_argument("--flights", type=_positive_int, help="flights per campaign (default: each file's)")
    p.add_argument("--seed", type=_seed, help="random seed (default: each file's)")
    p.add_argument("--out", default=None, help="output folder for compare.csv")
    p.add_argument("--markdown", action="store_true",
                   help="print the table as Markdown (the README's results table: make readme-results)")
    p.add_argument("-q", "--quiet", action="store_true", help="no table on stdout")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("sensitivity", help="which assumption matters: low/high runs of every declared uncertain input",
                       description="One-at-a-time low/high runs of every input the scenario declares in "
                                   "[uncertainty], all with the same seed (common random numbers: a swing is the "
                                   "input's effect, not noise), ranked by the swing of --metric. Writes "
                                   "sensitivity.csv and a tornado chart (PNG, PDF) with --out. Default size: 200 "
                                   "campaigns per run, under 2 minutes for every shipped scenario on 2 cores.", epilog=_epilog("sensitivity"),
                       formatter_class=_RAW)
    _add_common(p)
    p.add_argument("--metric", default="p_detect",
                   help="a scalar of summary.json by its dotted path (default p_detect; e.g. "
                        "detected_per_campaign.mean, p_detect_in_airspace)")
    p.add_argument("--campaigns", type=_positive_int, help="campaigns per run (default 200)")
    p.add_argument("--seed", type=_seed, help="random seed (default: the scenario's run.seed)")
    p.add_argument("--out", default=None, help="output folder (default: print only)")
    p.set_defaults(func=_cmd_sensitivity)

    p = sub.add_parser("validate", help="check a scenario and say what it will fly, see and cost",
                       description="Check a scenario file (exit 2 on an error, as run does), then print each "
                                   "route's length, time in the airspace and cruise profile (with the clearance "
                                   "achieved when terrain following), each radar's coverage share of the airspace "
                                   "at the main route's cruise level, and the estimated run time; warnings (a route "
                                   "below the terrain, a route that misses the airspace, a radar far from every "
                                   "route) go to stderr, one line each.", epilog=_epilog("validate"),
                       formatter_class=_RAW)
    _add_common(p)
    p.set_defaults(func=_cmd_validate)
    return parser


def _progress(total, quiet, unit="flight"):
    """A progress bar on stderr (tqdm, with the rate), silent when not a terminal or with --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    bar = tqdm(total=total, unit=unit, unit_scale=True, file=sys.stderr, leave=False)
    return bar.update, bar.close


#: Runs expected to take longer than this get a line on stderr with the estimate [s].
ANNOUNCE_AFTER_S = 30.0


class _RunWatch:
    """Counts flights done; once the rate is measured, says on stderr what a long run will take."""

    def __init__(self, total, csv_bytes, update=None):
        self.total, self.csv_bytes, self.update = total, csv_bytes, update
        self.t0 = time.perf_counter()
        self.first = None
        self.done = 0
        self.told = False

    def __call__(self, n):
        self.done += n
        if self.update is not None:
            self.update(n)
        now = time.perf_counter()
        if self.first is None:
            self.first = (now, self.done)
            return
        t1, d1 = self.first
        if self.told or self.done - d1 < 2000 or now <= t1:
            return
        rate = (self.done - d1) / (now - t1)
        estimate = (now - self.t0) + (self.total - self.done) / rate
        self.told = True
        if estimate > ANNOUNCE_AFTER_S:
            print(f"airpicture: {self.total:,} flights, about {estimate:,.0f} s at {rate:,.0f} flights/s "
                  f"(measured), flights.csv about {self.csv_bytes / 1e6:,.0f} MB", file=sys.stderr)


def _csv_bytes(scenario, n_flights):
    """A generous estimate of flights.csv's size: the widest row of this scenario, times the flights."""
    longest = max(len(r.name) for r in scenario.routes) + max((len(r.name) for r in scenario.radars), default=0)
    return n_flights * (70 + longest) + 200


def _check_disk(out, need_bytes):
    """Refuse (exit 2) a run whose outputs cannot fit the free disk, before any work."""
    at = next(p for p in (out, *out.parents) if p.exists())
    free = shutil.disk_usage(at).free
    if need_bytes > free:
        raise ScenarioError("--out", None, f"the outputs need about {need_bytes / 1e9:,.1f} GB and {at} has "
                                           f"{free / 1e9:,.1f} GB free")


def _check_out(out):
    """A bad --out is a bad argument: say so before running anything (a file in the way, no write access)."""
    at = next(p for p in (out, *out.parents) if p.exists())
    if not at.is_dir():
        raise ScenarioError("--out", None, f"{at} exists and is not a folder")
    if not os.access(at, os.W_OK | os.X_OK):
        raise ScenarioError("--out", None, f"{at} is not writable")


def _cmd_run(args):
    scenario = load(args.scenario, args.overrides)
    root = getattr(args, "default_root", "out")
    out = Path(args.out) if args.out else Path(root) / scenario.info.name
    _check_out(out)
    campaigns = args.campaigns or scenario.run.campaigns
    flights = args.flights or scenario.run.flights
    csv_bytes = _csv_bytes(scenario, campaigns * flights)
    _check_disk(out, 2 * csv_bytes)    # the staged copy and its move: room for both, to be safe
    update, close_bar = _progress(campaigns * flights, args.quiet)
    sweep_update, close_sweep = (None, lambda: None)
    if args.brief:
        sweep_update, close_sweep = _progress(len(altitude_levels(scenario)[1]), args.quiet, unit="level")
    try:
        sim, result, summary = simulate_to(out, scenario, campaigns=args.campaigns, flights=args.flights,
                                           seed=args.seed, chunk_campaigns=args.chunk,
                                           progress=_RunWatch(campaigns * flights, csv_bytes, update),
                                           engine=args.dask, brief=args.brief, exact=args.exact,
                                           sweep_progress=sweep_update)
    finally:
        close_bar()
        close_sweep()
    for name, r in summary["routes"].items():
        if r.get("below_ground_fraction"):
            _warn(_below_ground_text(args.scenario, name, r["below_ground_fraction"], r["cruise_altitude_m"]))
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
            print(f"  could they be stopped: P(stopped) per flight {rs['p_stopped']:.3f} [95% CI "
                  f"{rs['p_stopped_ci95_text']}]; reaction window "
                  f"{w['p50'] if w['p50'] is not None else float('nan'):.0f} min (median, track in "
                  f"{where}'s airspace until lost or out); outcomes: "
                  + ", ".join(f"{k} {100 * v:.1f}%" for k, v in rs["outcomes"].items() if v))
        for name, r in summary["radars"].items():
            p = r["platform"]
            orbit = (f" (airborne: a {p['loop_km']:.0f} km orbit at {p['altitude_m']:,.0f} m, "
                     f"{p['speed_kmh']:.0f} km/h)") if p["type"] == "orbit" else ""
            print(f"  {name:<24s} tracked {100 * r['p_detect']:5.1f}% of flights{orbit}")
        print(f"outputs: {out}/")
    return 0


def _cmd_coverage(args):
    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-coverage"
    _check_out(out)
    altitude = args.altitude_m if args.altitude_m is not None else (
        None if args.altitude_ft is None else args.altitude_ft * FT_M)
    level = altitude if altitude is not None else args.agl_m
    if not 0 <= level <= 20_000:
        raise ScenarioError("--altitude", None, f"must be between 0 and 20,000 m, got {level:g} m")
    # above ground needs the terrain even when the scenario's detection does not use it
    sim = prepare(scenario, load_terrain() if args.agl_m is not None else None, with_fences=False)
    fc, stats = coverage_collection(sim, altitude_m=altitude, agl_m=args.agl_m)
    with staged_output(out) as stage:
        write_json(stage / "coverage.geojson", fc)
        write_json(stage / "coverage.json", stats)
    if not args.quiet:
        level = f"{altitude:.0f} m AMSL" if altitude is not None else f"{args.agl_m:.0f} m above ground"
        print(f"{scenario.info.title}: air picture at {level}")
        for name in ("air_picture_primary", "air_picture_all"):
            a = stats[name]
            print(f"  {name:<20s} covers {100 * a['airspace_fraction']:5.1f}% of {stats['airspace']}'s airspace "
                  f"({a['airspace_area_km2']:,.0f} km2)")
        print(f"outputs: {out}/")
    return 0


def _parse_values(text):
    return [parse_override_value(v.strip()) for v in text.split(",") if v.strip()]


def _cmd_sweep(args):
    scenario = load(args.scenario, args.overrides)
    values = _parse_values(args.values)
    if not values:
        raise ScenarioError("--values", None, "give at least one value")
    if args.out:
        _check_out(Path(args.out))
    points = sweep(scenario, args.key, values, campaigns=args.campaigns, flights=args.flights, seed=args.seed,
                   chunk_campaigns=args.chunk, engine=args.dask, exact=args.exact)   # validates every value first
    campaigns = args.campaigns or scenario.run.campaigns
    run_text = (f"sweep of {args.key} in scenario {scenario.info.name} ({scenario.info.title}), seed "
                f"{args.seed if args.seed is not None else scenario.run.seed}, {campaigns:,} campaigns x "
                f"{args.flights or scenario.run.flights} flights per value (the same draws for every value)")
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_json(stage / "sweep.json", {"scenario": scenario.info.name, "title": scenario.info.title,
                                              "run": run_text, "note": ASSUMPTIONS_NOTE, "key": args.key,
                                              "points": points})
            with use_style():
                fig, _ = sweep_figure(args.key, points, f"Sweep of {args.key} ({scenario.info.name})", run_text)
                save_figure(fig, stage / "sweep.png", title=f"Sweep of {args.key}: {scenario.info.title}",
                            description=f"{run_text}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", run_text, "sweep.csv   P(detect) and its 95% interval per value\n"
                                                          "sweep.json  the same, with the run and the note\n"
                                                          "sweep.png   the same as a chart\n")
            write_csv(stage / "sweep.csv", [args.key, "p_detect", "ci95_low", "ci95_high", "detected_per_campaign_mean"],
                      [(p["value"], p["p_detect"], *p["p_detect_ci95"], p["detected_per_campaign_mean"]) for p in points])
    if not args.quiet:
        print(f"{scenario.info.title}: sweep of {args.key} ({campaigns:,} campaigns per value, same seed)")
        print(f"  {args.key:>30s}  P(detect)  95% CI          detected/campaign")
        for p in points:
            print(f"  {str(p['value']):>30s}  {p['p_detect']:.3f}      {format_ci(*p['p_detect_ci95'])}     "
                  f"{p['detected_per_campaign_mean']:.2f}")
    return 0


def _warn(text):
    print(f"airpicture: warning: {text}", file=sys.stderr)


def _below_ground_text(source, route, share, cruise_m):
    """The warning for a route below the terrain (the same figure in validate, run, brief and summary.json)."""
    return (f"{source}: route {route!r} flies below the terrain on {100 * share:.1f}% of its length "
            f"(cruise {cruise_m:,.0f} m AMSL): those samples are not flyable as modelled")


#: A radar farther than this from every route sample is probably misplaced [m].
_FAR_RADAR_M = 1_000_000.0


def _cmd_validate(args):
    scenario = load(args.scenario, args.overrides)
    t0 = time.perf_counter()
    sim = prepare(scenario)
    t_prep = time.perf_counter() - t0
    terrain = sim.terrain if sim.terrain is not None else load_terrain()
    warnings = []
    airspace = sim.airspace
    lines = [f"{args.scenario}: valid: {scenario.info.name} ({scenario.info.title})",
             f"airspace: {airspace.name} ({airspace.iso_a3})", "routes:"]
    below, _ = below_ground_shares(sim.routes, terrain)
    for i, (r, fz) in enumerate(zip(sim.routes, sim.fences)):
        f = nominal_route_fences(fz)
        inside = sum(b - a for a, b in f["in_airspace_min"])
        if r.cruise_agl_m is not None:
            level = (f"terrain following {r.cruise_agl_m:,.0f} m above ground (achieved: at least "
                     f"{r.clearance_min_m:,.0f} m, {r.clearance_mean_m:,.0f} m on average; up to "
                     f"{r.cruise_altitude_m:,.0f} m AMSL)")
        else:
            level = f"cruise {r.cruise_altitude_m:,.0f} m AMSL"
            if below[i] > 0:
                warnings.append(_below_ground_text(args.scenario, r.name, below[i], r.cruise_altitude_m))
        where = (f"{inside:.1f} min in {airspace.name}'s airspace (enters at {f['airspace_entry_min']:.1f} min)"
                 if inside else f"never in {airspace.name}'s airspace")
        if not inside:
            warnings.append(f"{args.scenario}: route {r.name!r} never enters {airspace.name}'s airspace")
        lines.append(f"  {r.name:<24s} {r.length_m / 1000:7,.0f} km {r.duration_s / 60:6.1f} min  {where}; {level}")
    alt, agl, label = coverage_level(sim)
    lines.append(f"radars (share of {airspace.name}'s airspace covered at {label}):")
    area = float(shapely.area(airspace.polygon_m))
    for r, g in radar_coverages(sim, airspace.transformer, altitude_m=alt, agl_m=agl):
        share = float(shapely.area(shapely.intersection(g, airspace.polygon_m))) / area
        lines.append(f"  {r.name:<24s} {r.kind.name:<10s} {100 * share:5.1f}%")
        p = r.platform
        nearest = min(float(np.min(platform_geometry(x, p.alt_m, route.xyz, route.alt_m)[0]))
                      for route in sim.routes for x in np.atleast_2d(p.xyz if not isinstance(p, Orbit)
                                                                     else p.loop_samples(50_000.0)))
        if nearest > _FAR_RADAR_M:
            warnings.append(f"{args.scenario}: radar {r.name!r} is {nearest / 1000:,.0f} km from every route")
    probe = max(1, 2000 // scenario.run.flights)     # a measured rate: about 2,000 flights
    t1 = time.perf_counter()
    run(sim, campaigns=probe, keep_flights=False)
    per_flight = (time.perf_counter() - t1) / (probe * scenario.run.flights)
    n = scenario.run.campaigns * scenario.run.flights
    lines.append(f"run: {scenario.run.campaigns:,} campaigns x {scenario.run.flights} flights = {n:,} flights, seed "
                 f"{scenario.run.seed}; about {t_prep + n * per_flight:,.0f} s to prepare and run on this machine, "
                 f"flights.csv about {_csv_bytes(scenario, n) / 1e6:,.0f} MB")
    for w in warnings:
        _warn(w)
    if not args.quiet:
        print("\n".join(lines))
    return 0


def _cmd_sensitivity(args):
    scenario = load(args.scenario, args.overrides)
    if not scenario.uncertainty:
        raise ScenarioError(args.scenario, "uncertainty", 'the scenario declares no uncertain inputs: add '
                                                          '[uncertainty] "KEY" = [low, high]')
    if args.out:
        _check_out(Path(args.out))
    update, close_bar = _progress(2 * len(scenario.uncertainty) + 1, args.quiet, unit="run")
    try:
        base, rows = sensitivity(scenario, args.metric, campaigns=args.campaigns, seed=args.seed, progress=update)
    except KeyError as e:
        raise ScenarioError("--metric", None, str(e.args[0])) from None
    finally:
        close_bar()
    campaigns = args.campaigns or DEFAULT_SENSITIVITY_CAMPAIGNS
    seed = args.seed if args.seed is not None else scenario.run.seed
    run_text = (f"sensitivity of {args.metric} in scenario {scenario.info.name} ({scenario.info.title}), seed {seed}, "
                f"{campaigns:,} campaigns x {scenario.run.flights} flights per run, the same draws in every run")
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_csv(stage / "sensitivity.csv", ["key", "low", "high", f"{args.metric}_low", f"{args.metric}_high",
                                                  "swing", f"{args.metric}_base"],
                      [(r["key"], r["low"], r["high"], r["metric_low"], r["metric_high"], r["swing"], base)
                       for r in rows])
            with use_style():
                fig, _ = tornado_figure(base, rows, args.metric, f"Which assumption matters ({scenario.info.name})",
                                        run_text)
                for name in ("tornado.png", "tornado.pdf"):
                    save_figure(fig, stage / name, title=f"Sensitivity: {scenario.info.title}",
                                description=f"{run_text}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", run_text, "sensitivity.csv  the metric at each input's low and high "
                                                          "value, ranked by swing\ntornado.png/.pdf the same as a "
                                                          "chart\n")
    if not args.quiet:
        print(f"{scenario.info.title}: sensitivity of {args.metric} (base {base:.3f}; {campaigns:,} campaigns per "
              f"run, same seed)")
        w = max(len(r["key"]) for r in rows)
        print(f"  {'input':<{w}s}  {'low':>8s}  {'high':>8s}  {'at low':>8s}  {'at high':>8s}  {'swing':>8s}")
        for r in rows:
            print(f"  {r['key']:<{w}s}  {str(r['low']):>8s}  {str(r['high']):>8s}  {r['metric_low']:8.3f}  "
                  f"{r['metric_high']:8.3f}  {r['swing']:+8.3f}")
    return 0


def _cmd_compare(args):
    scenarios = [load(p, args.overrides) for p in args.scenarios]   # validate all before running any
    if args.out:
        _check_out(Path(args.out))
    rows = []
    summaries = [s for _sim, _result, s in compare(scenarios, campaigns=args.campaigns, flights=args.flights,
                                                   seed=args.seed)]
    for sc, s in zip(scenarios, summaries):
        d = s["detected_per_campaign"]
        rows.append((sc.info.name, s["airspace"], s["p_detect"], *s["p_detect_ci95"], s["p_detect_in_airspace"],
                     d["mean"], d["p05"], d["p95"], s["flights_per_campaign"], s["minutes_in_coverage_mean"]))
    header = ["scenario", "airspace", "p_detect", "ci95_low", "ci95_high", "p_detect_in_airspace", "detected_mean",
              "detected_p05", "detected_p95", "flights_per_campaign", "minutes_in_coverage_mean"]
    if args.out:
        names = ", ".join(sc.info.name for sc in scenarios)
        with staged_output(Path(args.out)) as stage:
            write_csv(stage / "compare.csv", header, rows)
            what = "comparison of " + "; ".join(
                f"{s['scenario']} ({s['campaigns']:,} campaigns x {s['flights_per_campaign']} flights, seed {s['seed']})"
                for s in summaries)
            with use_style():
                fig, _ = compare_figure([r[0] for r in rows], [r[2] for r in rows], [(r[3], r[4]) for r in rows],
                                        [s["flights_total"] for s in summaries], what)
                save_figure(fig, stage / "compare.png", title="Comparison: " + names,
                            description=f"{what}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", what, "compare.csv  headline numbers, one row per scenario\n"
                                                      "compare.png  P(detect) with its 95% interval, differences "
                                                      "from the first scenario flagged\n")
    if args.markdown:
        print("| scenario | airspace | P(detect) per flight [95% CI] | detected per campaign, mean (90% band) |")
        print("| --- | --- | --- | --- |")
        for path, sc, r in zip(args.scenarios, scenarios, rows):
            print(f"| `{Path(path).stem}`: {sc.info.title} | {r[1]} | {r[2]:.3f} [{format_ci(r[3], r[4])}] | "
                  f"{r[6]:.1f} of {r[9]} ({r[7]:.0f}-{r[8]:.0f}) |")
    elif not args.quiet:
        w = max(len(r[0]) for r in rows)
        print(f"{'scenario':<{w}s}  airspace  P(detect) [95% CI]      in airspace  detected/campaign (p05-p95)")
        for r in rows:
            print(f"{r[0]:<{w}s}  {r[1]:<8s}  {r[2]:.3f} [{format_ci(r[3], r[4])}]   {r[5]:.3f}        "
                  f"{r[6]:.1f} of {r[9]} ({r[7]:.0f}-{r[8]:.0f})")
    return 0


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:   # --help, --version, bad arguments (status 2)
        return e.code if isinstance(e.code, int) else 2
    try:
        return args.func(args)
    except (ScenarioError, EngineUnavailable) as e:
        print(f"airpicture: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:   # e.g. piped into `head`
        sys.stderr.close()
        return 1
    except KeyboardInterrupt:
        print("airpicture: interrupted", file=sys.stderr)
        return 130    # 128 + SIGINT, as shells report it
    except Exception as e:  # noqa: BLE001 - the contract: exit 1, one line, no traceback
        print(f"airpicture: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
