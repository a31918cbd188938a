"""Command line: ``airpicture run|brief|coverage|sweep|compare|sensitivity|validate|scenarios``.

Exit status 0 on success, 2 on a bad scenario or bad arguments (one line on
stderr naming the file and the key), 130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP (128 + the
signal, after the clean-up), 1 on any other failure. A failed or stopped run leaves no partial
outputs and removes nothing but its own staging folder.
"""
import argparse
import contextlib
import difflib
import os
import shutil
import signal
import threading

import numpy as np
import shapely
import sys
import time
from pathlib import Path

from tqdm import tqdm

from geo.terrain import load_terrain
from geo.units import FT_M
from sim import __version__
from sim.catalog import copy_scenario, format_doc_text, shipped_scenarios, sources_text
from sim.cost import available_memory_bytes, memory_terms_text, memory_text, scenario_cost
from sim.analysis import DEFAULT_SENSITIVITY_CAMPAIGNS, compare, sensitivity_runs, sweep
from sim.analysis.metrics import (DEFAULT_METRIC, METRICS_HELP, MetricError, differences_z, is_probability,
                                  metric_interval, metric_short_label, metric_value)
from sim.engine import AUTO_PROCESSES_MIN_FLIGHTS, EngineUnavailable, LocalProcesses
from sim.detection import platform_geometry
from sim.fences import nominal_route_fences
from sim.montecarlo import AUTO_CHUNK_FLIGHTS, WALKS, prepare, run
from sim.platforms import Orbit
from sim.prepcache import CACHE_ENV, DEFAULT_MAX_MEMORY_BYTES, default_cache
from sim.routes import below_ground_shares
from sim.products.coverage import radar_coverages
from sim.pipeline import FLIGHTS_FORMATS, brief_steps, load, simulate_to
from sim.products.coverage import OFF_TEXT, coverage_collection, radar_label
from sim.products.export import (OutputRefused, check_output_folder, staged_output, write_csv, write_json,
                                 write_sidecar)
from sim.results import ASSUMPTIONS_NOTE, format_ci, format_p, format_p_ci, headline, overrides_text
from sim.scenario import (CAMPAIGNS_MAX, FLIGHTS_MAX, SEED_MAX, ScenarioError, override_text, parse_override_value,
                          shown_text, uncertainty_variants, with_overrides)

__all__ = ["main", "build_parser"]

_NOTE = """
A scenario is a TOML file or a shipped scenario's name (airpicture scenarios
lists them; --copy NAME writes one out to edit). Scenario format:
docs/scenario-format.md (airpicture scenarios --format); the values and their
sources: scenarios/README.md (airpicture scenarios --sources). All results are
illustrative: the scenarios are built on open-source reporting and stated
assumptions.
"""
#: Examples shown by each command's --help.
EXAMPLES = {
    "run": """\
  airpicture run iraq_2012_baseline --out out/
  airpicture run iraq_2012_baseline --set aircraft.cruise_altitude_m=3000
  airpicture run iraq_2012_baseline --set "radar[Kirkuk PSR].availability=0"
  airpicture run iraq_2012_baseline --campaigns 66667 --dask local
  airpicture run my_scenario.toml --out out/mine""",
    "brief": """\
  airpicture brief iraq_2012_low_level --out brief/low-level
  airpicture brief iraq_2012_transponder_off --set detection.mean_outage_days=20""",
    "coverage": """\
  airpicture coverage iraq_2012_transponder_off --altitude-m 3000 --out out/cover-3000
  airpicture coverage iraq_2012_low_level --agl-m 300""",
    "sweep": """\
  airpicture sweep iraq_2012_transponder_off --key "radar[Kirkuk PSR].availability" --values 0,0.5,1
  airpicture sweep iraq_2012_transponder_off --key detection.mean_outage_days --values 1,5,20 --out out/s
  airpicture sweep iraq_2012_f16_balad --key "interceptor[F-16IQ Balad].ready_min" --values 10,14,16,20 \\
      --metric response.p_stopped""",
    "compare": """\
  airpicture compare iraq_2012_baseline iraq_2012_transponder_off iraq_2012_low_level
  airpicture compare iraq_2012_baseline iraq_2012_transponder_off --set run.seed=7
  airpicture compare iraq_2012_baseline iraq_2012_f16_balad --metric response.p_stopped --out out/c""",
    "sensitivity": """\
  airpicture sensitivity iraq_2012_transponder_off
  airpicture sensitivity iraq_2012_low_level --metric detected_per_campaign.mean --out out/sens
  airpicture sensitivity iraq_2012_f16_balad --metric response.p_stopped""",
    "validate": """\
  airpicture validate iraq_2012_low_level
  airpicture validate iraq_2012_baseline --set aircraft.cruise_altitude_m=1000""",
    "scenarios": """\
  airpicture scenarios
  airpicture scenarios --copy iraq_2012_baseline my_scenario.toml
  airpicture scenarios --format""",
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


def _int_up_to(hi, key):
    """argparse type: an integer from 1 to ``hi``, the limit of the scenario key ``key`` (the file format's
    limit, so that an option never asks what a scenario file may not)."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            v = None
        if v is None or not 1 <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer from 1 to {hi:,} (the limit of {key}), got {text!r}")
        return v
    return parse


#: ``--campaigns`` (and ``--select-campaigns``) and ``--flights``: the limits of run.campaigns and run.flights.
_campaigns = _int_up_to(CAMPAIGNS_MAX, "run.campaigns")
_flights = _int_up_to(FLIGHTS_MAX, "run.flights")


def _seed(text):
    """argparse type: a seed, an integer from 0 to 2^63-1 (the range of run.seed)."""
    try:
        v = int(text)
    except ValueError:
        v = None
    if v is None or not 0 <= v <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2^63-1 ({SEED_MAX}), got {text!r}")
    return v


def _add_common(p):
    p.add_argument("scenario", help="scenario file (TOML; format: docs/scenario-format.md), or a shipped "
                                    "scenario's name (airpicture scenarios lists them)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. aircraft.cruise_altitude_m=3000 or "
                        "'radar[Baghdad PSR].range_km=200' (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary on stdout")
    _add_cache(p)
    _add_force(p)


def _add_force(p):
    p.add_argument("--force", action="store_true",
                   help="go on even when the estimated memory exceeds what this machine has available")


def _add_cache(p):
    p.add_argument("--cache-dir", metavar="DIR", default=None,
                   help=f"folder of prepared parts reused across runs (default: ${CACHE_ENV}, else "
                        "~/.cache/airpicture; safe to delete)")
    p.add_argument("--no-cache", action="store_true", help="prepare everything afresh; write no cache")


def _cache(args, max_memory_bytes=DEFAULT_MAX_MEMORY_BYTES):
    """The prepared-parts cache of a command (:func:`sim.prepcache.default_cache`, as the Python API's): on disk
    unless --no-cache (then this process's memory); at most ``max_memory_bytes`` of its parts kept in memory."""
    return default_cache(args.cache_dir, disk=not args.no_cache, warn=_warn, max_memory_bytes=max_memory_bytes)


def _add_mc(p):
    p.add_argument("--campaigns", type=_campaigns, help="Monte Carlo campaigns (default: scenario's run.campaigns)")
    p.add_argument("--flights", type=_flights, help="flights per campaign (default: scenario's run.flights)")
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
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="run chunks on N worker processes of this machine (1: in this process; default: one per "
                        f"core for runs of {AUTO_PROCESSES_MIN_FLIGHTS:,} flights or more, as memory allows; "
                        "results do not change)")


def _add_walk(p):
    p.add_argument("--walk", choices=WALKS, default=None,
                   help="how each flight's scans are walked: compiled (default: one compiled loop over flights), "
                        "numpy (its numpy reference, the same bytes) or exact (every scan from its geometry, "
                        "as --exact)")


def _add_flights_format(p):
    p.add_argument("--flights-format", choices=FLIGHTS_FORMATS, default="csv",
                   help="per-flight results: flights.csv (default); a flights.parquet/ dataset written by the "
                        "workers themselves (needs the 'parquet' extra; with --dask the output folder must be "
                        "reachable from the workers); or none")


#: Where the documentation is, under the top-level --help.
DOCS_NOTE = """
documentation: docs/ in the source (getting started, what-ifs, batch runs, briefing
products, the response, route search and placement, the scenario format, examples,
the Python API); `make docs` builds it into build/docs/index.html.
"""


def build_parser():
    parser = _Parser(prog="airpicture", description=(
        "How many Il-76 flights Iran -> Syria would a country's radars detect (Iraq's by default)? "
        "Monte Carlo over routes, radars and chance; outputs for planners."),
        epilog=EPILOG + DOCS_NOTE, formatter_class=_RAW)
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
    _add_flights_format(p)
    _add_walk(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("brief", help="run, then write maps, charts, KML and a one-page brief.pdf",
                       description="Run a scenario and write the briefing products into --out: map.png/pdf/svg, "
                                   "detections.png, altitude.png, routes.geojson, routes.kml, flights.csv, "
                                   "summary.json and brief.pdf; with [uncertainty], tornado.png (which declared "
                                   "input moves P(detect) most) and, with a [response], tornado_p_stopped.png (the "
                                   "same for P(stopped)); the brief lists the top inputs of each.",
                       epilog=_epilog("brief"),
                       formatter_class=_RAW)
    _add_common(p)
    _add_mc(p)
    p.add_argument("--out", default=None, help="output folder (default: brief/SCENARIO_NAME)")
    p.add_argument("--evade", type=float, default=None, metavar="KM",
                   help="also show the least-detectable route within KM of extra distance (airpicture evade)")
    p.add_argument("--record", action="store_true",
                   help="also say what the scenario's [[record]] supports, unable or unwilling (airpicture infer): "
                        "infer.png and its files beside the brief, its numbers in the brief's table")
    _add_flights_format(p)
    _add_walk(p)
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

    p = sub.add_parser("sweep", help="P(detect), P(stopped) or any metric as one scenario value varies (same seed)",
                       description="Run the scenario once per value of --key, each with the scenario's "
                                   "campaigns (or --campaigns) and the same seed, and print/write a table of "
                                   "--metric with its 95% interval where summary.json has one (sweep.csv, "
                                   "sweep.json, sweep.png). Each value's numbers are those of "
                                   "'airpicture run --set KEY=VALUE'.", epilog=_epilog("sweep"),
                       formatter_class=_RAW)
    _add_common(p)
    _add_mc(p)
    p.add_argument("--key", required=True, help="override path, e.g. aircraft.cruise_altitude_m")
    p.add_argument("--values", required=True, help="comma-separated values, e.g. 300,1000,3000,10000")
    p.add_argument("--metric", default=DEFAULT_METRIC, help=METRICS_HELP)
    p.add_argument("--out", default=None, help="output folder (default: print only)")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("compare", help="headline numbers of several scenarios side by side",
                       description="Run several scenarios and print one table of their headline numbers "
                                   "(P(stopped) too when any has a [response]); --out writes compare.csv and "
                                   "compare.png (--metric of each scenario against the --reference one, "
                                   "differences beyond sampling noise flagged).", epilog=_epilog("compare"),
                       formatter_class=_RAW)
    p.add_argument("scenarios", nargs="+", help="scenario files or shipped scenarios' names")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value in every scenario (repeatable)")
    p.add_argument("--campaigns", type=_campaigns, help="campaigns per scenario (default: each file's)")
    p.add_argument("--flights", type=_flights, help="flights per campaign (default: each file's)")
    p.add_argument("--seed", type=_seed, help="random seed (default: each file's)")
    p.add_argument("--out", default=None, help="output folder for compare.csv")
    p.add_argument("--markdown", action="store_true",
                   help="print the table as Markdown (the README's results table: make readme-results)")
    p.add_argument("--metric", default=DEFAULT_METRIC, help=METRICS_HELP)
    p.add_argument("--reference", metavar="NAME", default=None,
                   help="the scenario the others are compared with: its name or file (default: the baseline, a "
                        "scenario whose name ends in 'baseline', when one is compared; else the first given)")
    p.add_argument("-q", "--quiet", action="store_true", help="no table on stdout")
    _add_cache(p)
    _add_force(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("sensitivity", help="which assumption matters: low/high runs of every declared uncertain input",
                       description="One-at-a-time low/high runs of every input the scenario declares in "
                                   "[uncertainty], all with the same seed (common random numbers: a swing is the "
                                   "input's effect, not noise), ranked by the swing of --metric. Writes "
                                   "sensitivity.csv and a tornado chart (PNG, PDF) with --out. The base is the "
                                   "scenario as it is, on its own campaigns: what airpicture run reports. Default "
                                   "size: 200 campaigns per low/high run, each bar the base plus the input's effect "
                                   "against a base run on the same draws.", epilog=_epilog("sensitivity"),
                       formatter_class=_RAW)
    _add_common(p)
    p.add_argument("--metric", default=DEFAULT_METRIC, help=METRICS_HELP)
    p.add_argument("--campaigns", type=_campaigns,
                   help="campaigns of every run, the base's too (default: the base as airpicture run gives it, on the "
                        "scenario's campaigns; the low/high runs on 200, at most as many, with a base run on their "
                        "own draws)")
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
                       epilog="examples:\n" + _EVADE_EXAMPLES + "\n" + _NOTE, formatter_class=_RAW)
    _add_common(p)
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
    p.add_argument("--campaigns", type=_campaigns, help="campaigns of each re-score (default: scenario's)")
    p.add_argument("--flights", type=_flights, help="flights per campaign (default: scenario's)")
    p.add_argument("--seed", type=_seed, help="random seed of the re-scores (default: scenario's run.seed)")
    p.add_argument("--out", default=None, help="output folder (default: out/SCENARIO_NAME-evade)")
    p.set_defaults(func=_cmd_evade)

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
                       epilog="examples:\n" + _PLACE_EXAMPLES + "\n" + _NOTE, formatter_class=_RAW)
    _add_common(p)
    p.add_argument("--add", type=_positive_int, required=True, metavar="K", help="radars to add")
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
    p.add_argument("--rounds", type=_positive_int, default=20,
                   help="most re-placements of the adaptive loop (default 20; it stops when the flyer cannot "
                        "improve)")
    p.add_argument("--select-campaigns", type=_campaigns, default=None, metavar="N",
                   help="campaigns of the selection sample (default 200; its seed is the re-score's + 104729)")
    p.add_argument("--campaigns", type=_campaigns, help="campaigns of each re-score (default: scenario's)")
    p.add_argument("--flights", type=_flights, help="flights per campaign (default: scenario's)")
    p.add_argument("--seed", type=_seed, help="random seed of the re-scores (default: scenario's run.seed)")
    p.add_argument("--out", default=None, help="output folder (default: out/SCENARIO_NAME-place)")
    p.set_defaults(func=_cmd_place)

    p = sub.add_parser("infer", help="unwilling or unable: will and capability inferred from the scenario's record",
                       description="Confront the simulator with the scenario's public record ([[record]]): the "
                                   "posterior of the state's will (per period) and of every declared [uncertainty] "
                                   "input (a uniform prior on its range; response.will's range is will's prior), "
                                   "from a scrambled Sobol sample of the capability inputs, each a what-if run at "
                                   "will 1, with will analytic and the number of flights summed over its range. "
                                   "Prints, per period, which of 'unable' and 'unwilling' the record supports and "
                                   "how strongly; writes infer.png, prior_posterior.png, posterior.nc (ArviZ), "
                                   "infer.json and README.txt into --out. Method: docs/infer.md.",
                       epilog="examples:\n" + _INFER_EXAMPLES + "\n" + _NOTE, formatter_class=_RAW)
    _add_common(p)
    p.add_argument("--samples", type=_positive_int, default=None, metavar="N",
                   help="capability points, a power of two (default 64 per capability input, rounded up to a power "
                        "of two; one without capability inputs)")
    p.add_argument("--campaigns", type=_campaigns,
                   help="campaigns simulated per point (default: about 2,000 flights)")
    p.add_argument("--flights", type=_flights, help="flights per campaign (default: scenario's)")
    p.add_argument("--seed", type=_seed, help="random seed (default: scenario's run.seed)")
    p.add_argument("--draws", type=_int_up_to(1_000_000, "--draws"), default=None, metavar="N",
                   help="posterior draws kept (default 4,000)")
    p.add_argument("--out", default=None, help="output folder (default: out/SCENARIO_NAME-infer)")
    p.set_defaults(func=_cmd_infer)

    p = sub.add_parser("scenarios", help="list the shipped scenarios; copy one out to edit",
                       description="List the scenarios shipped with airpicture (name and title); every "
                                   "command takes a name where it takes a file. --copy writes one out to "
                                   "edit; --format and --sources print the scenario format and the shipped "
                                   "values' sources.", epilog=_epilog("scenarios"), formatter_class=_RAW)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--copy", metavar="NAME",
                      help="copy a shipped scenario to DEST (a file or folder; default ./NAME.toml); never "
                           "overwrites")
    what.add_argument("--format", action="store_true", help="print the scenario format (docs/scenario-format.md)")
    what.add_argument("--sources", action="store_true",
                      help="print the shipped scenarios' values and their sources (scenarios/README.md)")
    p.add_argument("dest", nargs="?", metavar="DEST", help="with --copy: where to write the copy")
    p.set_defaults(func=_cmd_scenarios)

    p = sub.add_parser("serve", help="the planner's page: what-ifs in the browser, offline, on this machine",
                       description="Serve the planner's what-if page on this machine (127.0.0.1) until Ctrl-C: "
                                   "choose or upload a scenario, change what planners change, Run (about a second "
                                   "at 2,000 flights), sweep one key, compare the what-ifs tried, download the "
                                   "what-if as a scenario file, the run's files and the brief. Everything the page "
                                   "needs is in the package: it works with no internet. Its files go to a temporary "
                                   "folder, removed on exit. Needs the 'serve' extra: pip install "
                                   "'airpicture[serve]'.",
                       epilog="examples:\n" + _SERVE_EXAMPLES + "\n" + _NOTE, formatter_class=_RAW)
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="scenario files or shipped names offered first, the first one open (default: the "
                        "shipped scenarios, iraq_2012_baseline open)")
    p.add_argument("--port", type=_int_at_least(0, "non-negative"), default=8765,
                   help="TCP port (default 8765; 0: any free port, printed)")
    p.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1: this machine only). Another address serves "
                        "the page to the network without any authentication: said with a warning")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.add_argument("--max-flights", type=_positive_int, default=None, metavar="N",
                   help="the largest run the page starts (default 100,000 flights)")
    p.set_defaults(func=_cmd_serve)
    return parser


def _progress(total, quiet, unit="flight", desc=None):
    """A progress bar on stderr (tqdm, with the rate; ``desc``: what it counts), silent when not a terminal or
    with --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    bar = tqdm(total=total, unit=unit, unit_scale=unit == "flight", file=sys.stderr, leave=False, desc=desc)
    return bar.update, bar.close


#: Runs expected to take longer than this get a line on stderr with the estimate [s].
ANNOUNCE_AFTER_S = 30.0


def _long_work(total_flights, quiet, what):
    """The progress of a command that runs the Monte Carlo several times (``what``: "8 runs"): a bar in
    flights on a terminal and, for long work, the estimate line; returns ``(on_flights, close)``."""
    update, close = _progress(total_flights, quiet)
    return _RunWatch(total_flights, 0, update, what), close


class _RunWatch:
    """Counts flights done; once the rate is measured, says on stderr what a long run will take."""

    def __init__(self, total, csv_bytes, update=None, what=None):
        self.total, self.csv_bytes, self.update, self.what = total, csv_bytes, update, what
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
            size = f", flights.csv about {self.csv_bytes / 1e6:,.0f} MB" if self.csv_bytes else ""
            what = f" in {self.what}" if self.what else ""
            print(f"airpicture: {self.total:,} flights{what}, about {estimate:,.0f} s at {rate:,.0f} flights/s "
                  f"(measured){size}", file=sys.stderr)


def _csv_bytes(scenario, n_flights):
    """A generous estimate of flights.csv's size: the widest row of this scenario, times the flights."""
    longest = max(len(r.name) for r in scenario.routes) + max((len(r.name) for r in scenario.radars), default=0)
    return n_flights * (70 + longest) + 200


def _check_memory(args, scenarios, exact=False, with_fences=True):
    """Refuse (exit 2) scenarios whose preparation and run cannot fit this machine's available memory,
    before any work (the estimate of :func:`sim.cost.scenario_cost`; ``--force`` goes on). Several
    scenarios (a sweep's values, a comparison, a sensitivity's variants) are prepared one after the
    other: the largest counts. Returns the largest's :class:`~sim.cost.Cost`."""
    costs = []
    for sc in scenarios:
        flights = getattr(args, "flights", None) or sc.run.flights
        campaigns = getattr(args, "campaigns", None) or sc.run.campaigns
        chunk = getattr(args, "chunk", None) or max(1, AUTO_CHUNK_FLIGHTS["exact" if exact else "fast"] // flights)
        costs.append((scenario_cost(sc, min(chunk, campaigns) * flights, exact=exact, with_fences=with_fences), sc))
    cost, sc = max(costs, key=lambda c: c[0].memory_bytes)
    free = available_memory_bytes()
    if free is not None and cost.memory_bytes > free and not args.force:
        chunk_first = max(cost.terms, key=cost.terms.get).startswith("running a chunk")
        advice = ("fewer campaigns a chunk (--chunk) or flights a campaign" if chunk_first else
                  "fewer routes or radars, less sideways spread or shorter ranges (docs/scenario-format.md, Limits)")
        raise ScenarioError(sc.path, None, f"needs about {memory_text(cost.memory_bytes)} of memory to prepare and "
                            f"run ({memory_terms_text(cost)}) and this machine has {memory_text(free)} available: "
                            f"{advice}, or --force")
    return cost


def _engine(args, n_flights, cost):
    """Where a command's chunks run: ``--dask``'s address, :class:`sim.engine.LocalProcesses` (``--workers``, or
    by default every core for a run of :data:`~sim.engine.AUTO_PROCESSES_MIN_FLIGHTS` flights or more, as
    many as the available memory holds, each worker holding the prepared scenario and its chunks: about
    ``cost``'s estimate each), or None (this process), as a context that closes what it started. Made
    before the scenario is prepared, so that the workers' server loads meanwhile."""
    workers = getattr(args, "workers", None)
    if args.dask is not None:
        if workers is not None:
            raise ScenarioError("--workers", None, "give --workers or --dask, not both")
        return contextlib.nullcontext(args.dask)
    free = available_memory_bytes()
    fits = (os.cpu_count() or 1) if free is None else int(free // max(cost.memory_bytes, 1)) - 1
    if workers is None:
        if n_flights < AUTO_PROCESSES_MIN_FLIGHTS:
            return contextlib.nullcontext()
        workers = min(os.cpu_count() or 1, fits)
    elif workers > 1 and free is not None and workers > fits and not args.force:
        need = memory_text((workers + 1) * cost.memory_bytes)
        raise ScenarioError("--workers", None, f"{workers} workers need about {need} of memory and this machine "
                            f"has {memory_text(free)} available: fewer workers, or --force")
    return LocalProcesses(workers) if workers > 1 else contextlib.nullcontext()


def _check_disk(out, need_bytes):
    """Refuse (exit 2) a run whose outputs cannot fit the free disk, before any work."""
    at = next(p for p in (out, *out.parents) if p.exists())
    free = shutil.disk_usage(at).free
    if need_bytes > free:
        raise ScenarioError("--out", None, f"the outputs need about {need_bytes / 1e9:,.1f} GB and {at} has "
                                           f"{free / 1e9:,.1f} GB free")


def _check_out(out):
    """A bad --out is a bad argument: say so before running anything (a file in the way, no write access
    where the folder is staged and swapped in, a folder of other files, another run writing it)."""
    at = next(p for p in (out, *out.parents) if p.exists())
    if not at.is_dir():
        raise ScenarioError("--out", None, f"{at} exists and is not a folder")
    beside = next(p for p in Path(os.path.abspath(out)).parents if p.exists())    # the stage goes beside it
    if not os.access(beside, os.W_OK | os.X_OK):
        raise ScenarioError("--out", None, f"{beside} is not writable")
    check_output_folder(out)


def _cmd_run(args):
    if args.walk is not None and args.exact and args.walk != "exact":
        raise ScenarioError("--walk", None, f"--exact walks every scan exactly: --walk {args.walk} contradicts it")
    args.exact = args.exact or args.walk == "exact"
    scenario = load(args.scenario, args.overrides)
    root = getattr(args, "default_root", "out")
    out = Path(args.out) if args.out else Path(root) / scenario.info.name
    _check_out(out)
    cost = _check_memory(args, [scenario], exact=args.exact)
    if getattr(args, "evade", None) is not None:
        from sim.analysis.evade import parse_budgets_km     # the route search loads only when asked
        parse_budgets_km([args.evade])           # a bad budget is refused before the run, not after it
    campaigns = args.campaigns or scenario.run.campaigns
    flights = args.flights or scenario.run.flights
    csv_bytes = _csv_bytes(scenario, campaigns * flights) if args.flights_format != "none" else 0
    _check_disk(out, 2 * csv_bytes)    # the staged copy and its move: room for both, to be safe (Parquet: less)
    update, close_bar = _progress(campaigns * flights, args.quiet)
    sweep_update, close_sweep = (None, lambda: None)
    if args.brief:       # the altitude curve, the tornadoes' runs and the drawing: one bar of steps
        sweep_update, close_sweep = _progress(brief_steps(scenario), args.quiet, unit="step", desc="brief")
    try:
        with _engine(args, campaigns * flights, cost) as engine:
            sim, result, summary = simulate_to(out, scenario, campaigns=args.campaigns, flights=args.flights,
                                               seed=args.seed, chunk_campaigns=args.chunk,
                                               progress=_RunWatch(campaigns * flights, csv_bytes, update),
                                               engine=engine, brief=args.brief, exact=args.exact,
                                               walk=args.walk, sweep_progress=sweep_update,
                                               flights_format=args.flights_format,
                                               cache=_cache(args), evade_km=getattr(args, "evade", None),
                                               record=getattr(args, "record", False))
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


def _cmd_coverage(args):
    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-coverage"
    _check_out(out)
    _check_memory(args, [scenario], with_fences=False)
    altitude = args.altitude_m if args.altitude_m is not None else (
        None if args.altitude_ft is None else args.altitude_ft * FT_M)
    level = altitude if altitude is not None else args.agl_m
    if not 0 <= level <= 20_000:
        raise ScenarioError("--altitude", None, f"must be between 0 and 20,000 m, got {level:g} m")
    if args.agl_m is not None and not scenario.detection.terrain:
        raise ScenarioError(args.scenario, "detection.terrain", "--agl-m (coverage above the ground) needs terrain "
                                                                "masking: set detection.terrain = true")
    # a bar in steps on a terminal: preparing, then each radar's polygon
    update, close_bar = _progress(1 + len(scenario.radars), args.quiet, unit="step")
    try:
        # above ground needs the terrain even when the scenario's detection does not use it
        sim = prepare(scenario, load_terrain() if args.agl_m is not None else None, cache=_cache(args),
                      with_fences=False)
        if update is not None:
            update(1)
        fc, stats = coverage_collection(sim, altitude_m=altitude, agl_m=args.agl_m, progress=update)
    finally:
        close_bar()
    level = f"{altitude:,.0f} m AMSL" if altitude is not None else f"{args.agl_m:,.0f} m above ground"
    off = [name for name, r in stats["radars"].items() if r["state"] == "off"]
    part = [radar_label(name, r["availability"]) for name, r in stats["radars"].items() if r["state"] == "part-time"]
    what = (f"coverage of scenario {scenario.info.name} ({scenario.info.title}) at {level}"
            f"{_what_if_clause(scenario.overrides)}")
    with staged_output(out) as stage:
        write_json(stage / "coverage.geojson", fc)
        write_json(stage / "coverage.json", stats)
        write_sidecar(stage / "README.txt", what,
                      "coverage.geojson  each radar's coverage at the level (its availability and state: a radar "
                      "off\n"
                      "                  is drawn for reference and covers nothing), the union of the primary "
                      "radars\n"
                      "                  (air_picture_primary), of every radar on (air_picture_all) and the "
                      "airspace;\n"
                      "                  RFC 7946, WGS84 lon/lat\n"
                      "coverage.json     the areas [km2] and the share of the airspace each radar and union "
                      "covers\n"
                      + (f"\nSwitched off (availability 0), in no union: {', '.join(off)}\n" if off else "")
                      + (f"Up part of the time (coverage drawn whole): {', '.join(part)}\n" if part else ""))
    if not args.quiet:
        print(f"{scenario.info.title}: air picture at {level}" + _what_if_clause(scenario.overrides))
        silent = scenario.aircraft.transponder_on_probability == 0     # secondary radars see no flight
        for name in ("air_picture_primary",) if silent else ("air_picture_primary", "air_picture_all"):
            a = stats[name]
            print(f"  {name:<20s} covers {100 * a['airspace_fraction']:5.1f}% of {stats['airspace']}'s airspace "
                  f"({a['airspace_area_km2']:,.0f} km2 of it)")
        if silent:
            print("  (transponders off: the secondary radars see no flight; air_picture_all in coverage.json counts "
                  "them as if transponders were on)")
        if off:
            print(f"  switched off (availability 0), in no union: {', '.join(off)}")
        if part:
            print(f"  up part of the time (their coverage counted whole): {', '.join(part)}")
        print(f"outputs: {out}/")
    return 0


def _parse_values(text):
    return [parse_override_value(v.strip()) for v in text.split(",") if v.strip()]


def _what_if(overrides):
    """The ``--set`` overrides in one line, ``KEY=VALUE; KEY=VALUE`` ("" when none)."""
    return overrides_text({"overrides": list(overrides)})


def _what_if_clause(overrides):
    """``"; what-if: KEY=VALUE; ..."`` for a caption or a printed heading ("" when no overrides)."""
    text = _what_if(overrides)
    return f"; what-if: {text}" if text else ""


def _fmt(x, width=0):
    """A metric's value in a table: three decimals (thousands separated above 100), "-" when none."""
    if x is None or x != x:
        return f"{'-':>{width}s}"
    return f"{x:>{width},.1f}" if abs(x) >= 100 else f"{x:>{width}.3f}"


def _ci_text(ci, value=None):
    """A 95% interval in a table ("-" when none); ``value``: the probability it belongs to (its decimals)."""
    return "-" if ci is None else format_ci(*ci, p=value)


def _value_text(value, ci, probability):
    """A metric's value in a table: a probability with the decimals its interval needs, else :func:`_fmt`."""
    return format_p(value, *ci) if probability and ci is not None and value is not None else _fmt(value)


def _cmd_sweep(args):
    from sim.products.brief import sweep_figure     # matplotlib (0.3 s to import) loads only to draw
    from sim.products.style import save_figure, use_style
    scenario = load(args.scenario, args.overrides)
    values = _parse_values(args.values)
    if not values:
        raise ScenarioError("--values", None, "give at least one value")
    if args.out:
        _check_out(Path(args.out))
    cost = _check_memory(args, [with_overrides(scenario, [override_text(args.key, v)]) for v in values],
                         exact=args.exact)
    metric = args.metric
    # every value validated first, the metric on the first value's prepared run (MetricError: exit 2)
    watch, close_bar = _long_work(len(values) * (args.campaigns or scenario.run.campaigns)
                                  * (args.flights or scenario.run.flights), args.quiet, f"{len(values)} runs")
    try:
        with _engine(args, (args.campaigns or scenario.run.campaigns) * (args.flights or scenario.run.flights),
                     cost) as engine:
            points = sweep(scenario, args.key, values, campaigns=args.campaigns, flights=args.flights,
                           seed=args.seed, chunk_campaigns=args.chunk, engine=engine, exact=args.exact,
                           metric=metric, cache=_cache(args), on_flights=watch)
    finally:
        close_bar()
    campaigns = args.campaigns or scenario.run.campaigns
    what_if = _what_if(scenario.overrides)
    run_text = (f"sweep of {args.key} in scenario {scenario.info.name} ({scenario.info.title}), seed "
                f"{args.seed if args.seed is not None else scenario.run.seed}, {campaigns:,} campaigns x "
                f"{args.flights or scenario.run.flights} flights per value (the same draws for every value)"
                f"{_what_if_clause(scenario.overrides)}")
    label = metric_short_label(metric)
    with_ci = all(p["metric_ci95"] is not None for p in points)
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_json(stage / "sweep.json", {"scenario": scenario.info.name, "title": scenario.info.title,
                                              "overrides": list(scenario.overrides), "run": run_text,
                                              "note": ASSUMPTIONS_NOTE, "key": args.key, "metric": metric,
                                              "points": points})
            with use_style():
                title = f"{label} against {args.key} ({scenario.info.name})"     # the caption names it too
                fig, _ = sweep_figure(args.key, points, title if len(title) <= 72 else f"{label} against {args.key}",
                                      run_text)
                save_figure(fig, stage / "sweep.png", title=f"Sweep of {args.key}, {metric}: {scenario.info.title}"
                            + (f" (what-if: {what_if})" if what_if else ""),
                            description=f"{run_text}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", run_text,
                          f"sweep.csv   {metric}{' and its 95% interval' if with_ci else ''} per value (and "
                          "P(detect)); what_if: the --set overrides of every row\n"
                          "sweep.json  the same, with the run and the note\n"
                          "sweep.png   the same as a chart\n")
            extra = ["p_detect"] if metric != "p_detect" else []
            write_csv(stage / "sweep.csv", [args.key, metric, "ci95_low", "ci95_high", *extra,
                                            "detected_per_campaign_mean", "what_if"],
                      [(p["value"], p["metric_value"], *(p["metric_ci95"] or ("", "")),
                        *(p[k] for k in extra), p["detected_per_campaign_mean"], what_if) for p in points])
    if not args.quiet:
        print(f"{scenario.info.title}: sweep of {args.key} ({campaigns:,} campaigns per value, same seed)")
        if what_if:
            print(f"  what-if: {what_if}")
        # the metric (its 95% CI when summary.json has one), then P(detect) and detected/campaign unless it is one
        w, wk = max(len(label), 9), max(len(args.key), 30)
        any_ci = any(p["metric_ci95"] is not None for p in points)
        prob = is_probability(metric)
        cols = [(label, w, lambda p: _value_text(p["metric_value"], p["metric_ci95"], prob))]
        cols += [("95% CI", 14, lambda p: _ci_text(p["metric_ci95"], p["metric_value"] if prob else None))] \
            if any_ci else []
        cols += [("P(detect)", 9, lambda p: f"{p['p_detect']:.3f}")] if metric != "p_detect" else []
        cols += [("detected/campaign", 0, lambda p: f"{p['detected_per_campaign_mean']:.2f}")] \
            if metric != "detected_per_campaign.mean" else []
        print((f"  {args.key:>{wk}s}" + "".join(f"  {h:<{cw}s}" for h, cw, _ in cols)).rstrip())
        for p in points:
            print((f"  {str(p['value']):>{wk}s}" + "".join(f"  {f(p):<{cw}s}" for _, cw, f in cols)).rstrip())
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
    from sim.products.brief import coverage_level   # with the drawing products (matplotlib)
    scenario = load(args.scenario, args.overrides)
    cost = _check_memory(args, [scenario])
    t0 = time.perf_counter()
    sim = prepare(scenario, cache=_cache(args))
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
        lines.append(f"  {r.name:<24s} {r.kind.name:<10s} {100 * share:5.1f}%"
                     + (f"  ({OFF_TEXT}: covers nothing)" if r.availability <= 0 else ""))
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
    free = available_memory_bytes()
    lines.append(f"memory: about {memory_text(cost.memory_bytes)} to prepare and run, preparing about "
                 f"{cost.prepare_s:,.0f} s (estimated from its size: {cost.shapes['routes']} routes, "
                 f"{cost.shapes['route_samples']:,} route samples, {cost.shapes['radars']} radars, "
                 f"{cost.shapes['detection_table_cells']:,} detection table cells); "
                 + (f"{memory_text(free)} available" if free is not None else "available memory unknown"))
    try:      # only `sensitivity` uses the ranges: a warning here, an error there
        uncertainty_variants(scenario)
    except ScenarioError as e:
        warnings.append(f"{e} (sensitivity would refuse it)")
    for w in warnings:
        _warn(w)
    if not args.quiet:
        print("\n".join(lines))
    return 0


def _cmd_sensitivity(args):
    from sim.pipeline import tornado_runs_text
    from sim.products.brief import tornado_figure   # matplotlib loads only to draw
    from sim.products.style import save_figure, use_style
    scenario = load(args.scenario, args.overrides)
    if not scenario.uncertainty:
        raise ScenarioError(args.scenario, "uncertainty", 'the scenario declares no uncertain inputs: add '
                                                          '[uncertainty] "KEY" = [low, high]')
    if args.out:
        _check_out(Path(args.out))
    _check_memory(args, [scenario] + [v for row in uncertainty_variants(scenario) for v in row[3:]])
    # the base is what `airpicture run` reports for the same campaigns (the scenario's, or --campaigns); the
    # low/high runs use --campaigns, default 200 (at most the base's), with a base run on their own draws
    base_campaigns = args.campaigns or scenario.run.campaigns
    campaigns = args.campaigns or min(DEFAULT_SENSITIVITY_CAMPAIGNS, base_campaigns)
    n_runs = 2 * len(scenario.uncertainty) + 1
    flights = scenario.run.flights
    total = n_runs * campaigns * flights + (base_campaigns * flights if base_campaigns != campaigns else 0)
    watch, close_bar = _long_work(total, args.quiet, f"{n_runs + (base_campaigns != campaigns)} runs")
    try:     # the metric is checked before the first run (MetricError: exit 2)
        runs = sensitivity_runs(scenario, (args.metric,), campaigns=campaigns, seed=args.seed, cache=_cache(args),
                                on_flights=watch, base_campaigns=base_campaigns)
    finally:
        close_bar()
    m = args.metric
    base, rows, base_ci = runs.base[m], runs.rows[m], runs.base_ci95[m]
    seed = args.seed if args.seed is not None else scenario.run.seed
    what_if = _what_if(scenario.overrides)
    same = "" if base_campaigns == campaigns else f" (the base: {base_campaigns:,} campaigns, as airpicture run)"
    run_text = (f"sensitivity of {m} in scenario {scenario.info.name} ({scenario.info.title}), seed {seed}, "
                f"{campaigns:,} campaigns x {flights} flights per low/high run{same}, the same draws in every run"
                f"{_what_if_clause(scenario.overrides)}")
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_csv(stage / "sensitivity.csv",
                      ["key", "value", "low", "high", f"{m}_low", f"{m}_high", "swing", f"{m}_base",
                       f"{m}_base_ci95_low", f"{m}_base_ci95_high", "base_campaigns", f"{m}_base_same_draws",
                       "campaigns_per_run", "effect_low", "effect_high", "what_if"],
                      [(r["key"], "" if r["value"] is None else r["value"], r["low"], r["high"], r["metric_low"],
                        r["metric_high"], r["swing"], base, *(base_ci or ("", "")), base_campaigns,
                        runs.same_draws_base[m], campaigns, r["effect_low"], r["effect_high"], what_if) for r in rows])
            with use_style():
                fig, _ = tornado_figure(base, rows, m, f"Which assumption matters ({scenario.info.name})", run_text,
                                        base_ci95=base_ci, runs_text=tornado_runs_text(runs, m))
                for name in ("tornado.png", "tornado.pdf"):
                    save_figure(fig, stage / name, title=f"Sensitivity: {scenario.info.title}"
                                + (f" (what-if: {what_if})" if what_if else ""),
                                description=f"{run_text}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", run_text,
                          "sensitivity.csv  the metric at each input's low and high value, ranked by swing (value: "
                          "the scenario's own;\n"
                          f"                 base: the scenario as it is, {base_campaigns:,} campaigns as airpicture "
                          "run, with its 95% interval;\n"
                          "                 effect_low/high: each run minus the base run on the low/high runs' "
                          "own draws,\n"
                          "                 base_same_draws; what_if: the --set overrides of every run)\n"
                          "tornado.png/.pdf the same as a chart: each bar the base plus the input's effect\n")
    if not args.quiet:
        base_text = format_p_ci(base, *base_ci) if base_ci is not None and is_probability(m) else _fmt(base).strip()
        print(f"{scenario.info.title}: sensitivity of {m} (base {base_text}, {base_campaigns:,} campaigns as "
              f"airpicture run; {campaigns:,} campaigns per low/high run, same seed"
              + (f", their own base {_fmt(runs.same_draws_base[m]).strip()})" if base_campaigns != campaigns else ")"))
        if what_if:
            print(f"  what-if: {what_if}")
        w = max(len(r["key"]) for r in rows)
        print(f"  {'input':<{w}s}  {'low':>8s}  {'high':>8s}  {'at low':>8s}  {'at high':>8s}  {'swing':>8s}")
        for r in rows:
            print(f"  {r['key']:<{w}s}  {str(r['low']):>8s}  {str(r['high']):>8s}  {_fmt(r['metric_low'], 8)}  "
                  f"{_fmt(r['metric_high'], 8)}  {r['swing']:+8.3f}")
    return 0


def _default_reference(args, scenarios):
    """The scenario compared against when --reference is not given: the baseline when one is compared (its
    name or its file's stem ends in "baseline", e.g. iraq_2012_baseline), else the first given; and why."""
    for i, (path, sc) in enumerate(zip(args.scenarios, scenarios)):
        if sc.info.name.endswith("baseline") or Path(path).stem.endswith("baseline"):
            return i, "the baseline, by default"
    return 0, "the first given, by default"


def _reference_index(args, scenarios):
    """The scenario --reference names (its name, its file as given, or the file's stem); by default the
    baseline when one is compared, else the first (:func:`_default_reference`)."""
    if args.reference is None:
        return _default_reference(args, scenarios)[0]
    for i, (path, sc) in enumerate(zip(args.scenarios, scenarios)):
        if args.reference in (sc.info.name, path, Path(path).name, Path(path).stem):
            return i
    known = [sc.info.name for sc in scenarios]
    near = difflib.get_close_matches(args.reference, known + [Path(p).stem for p in args.scenarios], n=2)
    hint = f"did you mean {' or '.join(near)}?" if near else "give one of " + ", ".join(known)
    raise ScenarioError("--reference", None, f"no scenario {args.reference!r} among those compared ({hint})")


def _p_stopped_text(s):
    """P(stopped) with its 95% interval when the run has one; "-" for a scenario without a response."""
    if "response" not in s:
        return "-"
    ci = metric_interval(s, "response.p_stopped")
    return f"{s['response']['p_stopped']:.3f}" if ci is None else format_p_ci(s["response"]["p_stopped"], *ci)


def _metric_text(s, metric):
    ci = metric_interval(s, metric)
    value = metric_value(s, metric)
    if ci is not None and is_probability(metric):     # the decimals its interval needs
        return format_p_ci(value, *ci)
    return _fmt(value).strip() + ("" if ci is None else f" [{format_ci(*ci)}]")


def _cmd_compare(args):
    from sim.products.brief import compare_figure   # matplotlib loads only to draw
    from sim.products.style import save_figure, use_style
    scenarios = [load(p, args.overrides) for p in args.scenarios]   # validate all before running any
    ref = _reference_index(args, scenarios)
    why = "" if args.reference is not None else _default_reference(args, scenarios)[1]
    ref_text = f"the reference{f'; {why}' if why else ''}"
    if args.out:
        _check_out(Path(args.out))
    _check_memory(args, scenarios)
    metric = args.metric
    rows = []
    watch, close_bar = _long_work(sum((args.campaigns or sc.run.campaigns) * (args.flights or sc.run.flights)
                                      for sc in scenarios), args.quiet, f"{len(scenarios)} scenarios")
    try:
        summaries = [s for _sim, _result, s in compare(scenarios, campaigns=args.campaigns, flights=args.flights,
                                                       seed=args.seed, metric=metric, cache=_cache(args),
                                                       on_flights=watch)]   # metric checked before runs
    finally:
        close_bar()
    stopped = any("response" in s for s in summaries)      # a P(stopped) column whenever any can be stopped
    other = metric not in ("p_detect", "response.p_stopped")  # a column of its own for any other metric
    what_if = _what_if(scenarios[0].overrides)
    values = [metric_value(s, metric) for s in summaries]
    cis = [metric_interval(s, metric) for s in summaries]
    ci_rows = None if all(c is None for c in cis) else [c if c is not None else (np.nan, np.nan) for c in cis]
    for sc, s in zip(scenarios, summaries):
        d = s["detected_per_campaign"]
        r = s.get("response", {})
        st = metric_interval(s, "response.p_stopped") or ("", "")
        rows.append((sc.info.name, s["airspace"], s["p_detect"], *s["p_detect_ci95"], s["p_detect_in_airspace"],
                     d["mean"], d["p05"], d["p95"], s["flights_per_campaign"], s["minutes_in_coverage_mean"],
                     *((r.get("p_stopped", ""), *st) if stopped else ()),
                     *((metric_value(s, metric), *(metric_interval(s, metric) or ("", ""))) if other else ()),
                     what_if))
    header = ["scenario", "airspace", "p_detect", "ci95_low", "ci95_high", "p_detect_in_airspace", "detected_mean",
              "detected_p05", "detected_p95", "flights_per_campaign", "minutes_in_coverage_mean",
              *(("p_stopped", "p_stopped_ci95_low", "p_stopped_ci95_high") if stopped else ()),
              *((metric, f"{metric}_ci95_low", f"{metric}_ci95_high") if other else ()), "what_if"]
    names = [sc.info.name for sc in scenarios]
    z = differences_z(values, ci_rows, [s["flights_total"] for s in summaries], ref, is_probability(metric))
    label = metric_short_label(metric)
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_csv(stage / "compare.csv", header, rows)
            what = ("comparison of " + "; ".join(
                f"{s['scenario']} ({s['campaigns']:,} campaigns x {s['flights_per_campaign']} flights, seed {s['seed']})"
                for s in summaries) + f"; {metric} against {names[ref]} ({ref_text}){_what_if_clause(scenarios[0].overrides)}")
            with use_style():
                fig, _ = compare_figure(names, values, ci_rows, [s["flights_total"] for s in summaries], what,
                                        reference=ref, metric=metric, reference_why=why)
                save_figure(fig, stage / "compare.png", title=f"Comparison of {metric}: " + ", ".join(names)
                            + (f" (what-if: {what_if})" if what_if else ""),
                            description=f"{what}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", what,
                          "compare.csv  headline numbers, one row per scenario (P(stopped) when any has a "
                          "response; what_if: the --set overrides of every scenario)\n"
                          f"compare.png  {metric}{' with its 95% interval' if ci_rows else ''}, differences "
                          f"from {names[ref]} ({ref_text}) flagged\n")
    if args.markdown:
        extra = (" P(stopped) per flight [95% CI] |" if stopped else "") + (
            f" {label}{' [95% CI]' if ci_rows else ''} |" if other else "")
        print("| scenario | airspace | P(detect) per flight [95% CI] | detected per campaign, mean (90% band) |"
              + extra)
        print("| --- | --- | --- | --- |" + " --- |" * extra.count("|"))
        for path, sc, r, s in zip(args.scenarios, scenarios, rows, summaries):
            cells = (f" {_p_stopped_text(s)} |" if stopped else "") + (f" {_metric_text(s, metric)} |" if other else "")
            print(f"| `{Path(path).stem}`: {sc.info.title} | {r[1]} | {format_p_ci(r[2], r[3], r[4])} | "
                  f"{r[6]:.1f} of {r[9]} ({r[7]:.0f}-{r[8]:.0f}) |" + cells)
        if what_if:
            print(f"\nWhat-if, every scenario: {what_if}")
    elif not args.quiet:
        w = max(len(r[0]) for r in rows)
        texts = [(_p_stopped_text(s) if stopped else "", _metric_text(s, metric) if other else "") for s in summaries]
        ws = max([len("P(stopped) [95% CI]")] + [len(a) for a, _ in texts])
        head = f"{label}{' [95% CI]' if ci_rows else ''}"
        wm = max([len(head)] + [len(b) for _, b in texts])
        print(f"{'scenario':<{w}s}  airspace  P(detect) [95% CI]      in airspace  detected/campaign (p05-p95)"
              + (f"  {'P(stopped) [95% CI]':<{ws}s}" if stopped else "") + (f"  {head}" if other else ""))
        for r, (a, b) in zip(rows, texts):
            line = (f"{r[0]:<{w}s}  {r[1]:<8s}  {format_p_ci(r[2], r[3], r[4]):<19s}   {r[5]:.3f}        "
                    f"{f'{r[6]:.1f} of {r[9]} ({r[7]:.0f}-{r[8]:.0f})':<27s}")
            print((line + (f"  {a:<{ws}s}" if stopped else "") + (f"  {b:<{wm}s}" if other else "")).rstrip())
        flagged = [f"{names[i]} {values[i] - values[ref]:+.3f} (z {z[i]:.0f})" for i in np.flatnonzero(z > 3)]
        tested = ci_rows is not None or is_probability(metric)
        print(f"reference: {names[ref]}{f' ({why})' if why else ''}; {metric} differs beyond sampling noise (z > 3) in: "
              + (", ".join(flagged) if flagged else "none") if tested else
              f"reference: {names[ref]}{f' ({why})' if why else ''}; {metric} has no interval: differences not tested")
        if what_if:
            print(f"what-if, every scenario: {what_if}")
    return 0


_EVADE_EXAMPLES = """\
  airpicture evade iraq_2012_transponder_off --max-extra-km 0,100,200,400,800 --out out/evade
  airpicture evade iraq_2013_more_radars --levels cruise --max-extra-km 25,50,100 --avoid TUR
  airpicture evade iraq_2012_baseline --transponder both --spread-km 5 --objective p_stopped --campaigns 200"""


def _cmd_evade(args):
    from sim.analysis.evade import evade          # the route search (scipy's csgraph) loads only when asked
    from sim.products.evade import budgets_text, front_points, write_evade

    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-evade"
    _check_out(out)
    if not (args.spacing_km == args.spacing_km and 1.0 <= args.spacing_km <= 100.0):
        raise ScenarioError("--spacing-km", None, f"must be between 1 and 100 km, got {args.spacing_km:g}")
    update, close_bar = _progress(None, args.quiet, unit="step")
    try:
        result = evade(scenario, args.budgets, origin=args.origin, dest=args.dest, levels=args.levels,
                       transponder=args.transponder, avoid=args.avoid, spacing_m=args.spacing_km * 1000.0,
                       campaigns=args.campaigns, flights=args.flights, seed=args.seed, cache=_cache(args),
                       progress=update, spread_m=None if args.spread_km is None else args.spread_km * 1000.0,
                       objective=args.objective)
    finally:
        close_bar()
    with staged_output(out) as stage:
        rows = write_evade(stage, result)
    for note in result.notes:
        _warn(f"{args.scenario}: {note}")
    if not args.quiet:
        t = result.timings_s
        print(f"{scenario.info.title}: the least-detectable route from {result.origin.label} to {result.dest.label} "
              f"({result.great_circle_m / 1000:,.0f} km geodesic)" + (f", avoiding {', '.join(result.avoid)}"
                                                                     if result.avoid else ""))
        what_if = _what_if(scenario.overrides)
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


_SERVE_EXAMPLES = """\
  airpicture serve --open
  airpicture serve iraq_2012_f16_balad my_scenario.toml --port 8800"""


def _cmd_serve(args):
    import tempfile
    import webbrowser
    try:                 # the serve extra (Starlette, uvicorn) loads only when asked
        from sim.serve import Planner, bind, is_loopback, make_server, url_of
    except ModuleNotFoundError as e:
        raise ScenarioError("serve", None, f"needs the 'serve' extra ({e.name} is not installed): "
                                           "pip install 'airpicture[serve]'") from None
    host = "127.0.0.1" if args.host is None else args.host
    if args.port > 65535:
        raise ScenarioError("--port", None, f"must be 0 to 65535, got {args.port}")
    out = Path(tempfile.mkdtemp(prefix="airpicture-serve-"))
    try:
        planner = Planner(out, args.scenarios, **({"max_flights": args.max_flights} if args.max_flights else {}))
        loopback = is_loopback(host)
        if not loopback:
            _warn(f"--host {host}: the page is served to the network, without any authentication: anyone who "
                  "can reach this port can run what-ifs and download their files")
        try:
            sock = bind(host, args.port)
        except OSError as e:
            raise ScenarioError("--host" if args.host is not None else "--port", None,
                                f"cannot listen on {host}:{args.port}: {e.strerror or e}") from None
        url = url_of(sock)
        print(f"airpicture: the planner's page is at {url} (Ctrl-C stops; files in {out}, removed on exit)",
              flush=True)
        if args.open:
            webbrowser.open(url)
        make_server(planner, loopback=loopback).run(sockets=[sock])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0


_PLACE_EXAMPLES = """\
  airpicture place iraq_2012_transponder_off --add 3 --like "Kirkuk PSR" --grid-km 25
  airpicture place iraq_2012_transponder_off --add 3 --like "Kirkuk PSR" --against adaptive --out out/place
  airpicture place iraq_2012_transponder_off --add 2 --like "Kirkuk PSR" --candidates sites.csv \\
      --objective stopped
  airpicture place iraq_2012_aew_orbit --add 1 --like "AEW orbit" --candidates racetracks.csv \\
      --objective stopped"""


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
        self.update, self.close = _progress(total, self.quiet, unit=unit, desc=what)
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
            tqdm.write(f"airpicture: {text} ({time.perf_counter() - self.t0:,.0f} s so far)", file=sys.stderr)


def _cmd_place(args):
    from sim.analysis.place import place           # the route search (scipy's csgraph) loads only when asked
    from sim.products.place import (converged_text, flyer_text, headline_text, is_orbit, objective_label,
                                    route_words, write_place)

    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-place"
    _check_out(out)
    _check_memory(args, [scenario])
    watch = _PlaceWatch(args.quiet)
    try:
        result = place(scenario, args.add, args.like, candidates=args.candidates, grid_km=args.grid_km,
                       objective=args.objective, against=args.against, max_extra_km=args.max_extra_km,
                       levels=args.levels, rounds=args.rounds, select_campaigns=args.select_campaigns,
                       campaigns=args.campaigns, flights=args.flights, seed=args.seed,
                       cache=_cache(args, PLACE_CACHE_MEMORY_BYTES), progress=watch, stage=watch.stage)
    finally:
        watch.close()
    rows = write_place(out, result)
    for note in result.notes:
        _warn(f"{args.scenario}: {note}")
    if not args.quiet:
        t = result.timings_s
        label = objective_label(result.objective)
        adaptive = result.against == "adaptive"
        print(f"{scenario.info.title}: where {result.add} more {result.like} radars go ({label}, against a "
              f"{'flyer who adapts' if adaptive else 'fixed flyer'})")
        what_if = _what_if(scenario.overrides)
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


_INFER_EXAMPLES = """\
  airpicture infer iraq_2012_record
  airpicture infer iraq_2012_record --samples 256 --out out/record
  airpicture infer iraq_2012_record --set response.order_to_land.compliance=1"""


def _cmd_infer(args):
    from sim.analysis.infer import default_samples, infer, unknowns     # scipy.stats, ArviZ load only when asked
    from sim.products.infer import write_infer_files

    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-infer"
    _check_out(out)
    _check_memory(args, [scenario])
    update, close_bar = _progress(args.samples or default_samples(len(unknowns(scenario)[1])), args.quiet,
                                  unit="point", desc="capability points")
    try:
        result = infer(scenario, samples=args.samples, campaigns=args.campaigns, flights=args.flights,
                       seed=args.seed, draws=args.draws, cache=_cache(args), progress=update)
    finally:
        close_bar()
    with staged_output(out) as stage:
        write_infer_files(stage, result)
    if not args.quiet:
        s = result.summary
        print(f"{scenario.info.title}: unwilling or unable? The public record against the simulator")
        what_if = _what_if(scenario.overrides)
        if what_if:
            print(f"  what-if: {what_if}")
        lo, hi = result.will_range
        print(f"  unknowns: will, one per period (prior uniform {lo:g}-{hi:g})"
              + "".join(f"; {c.key} (prior uniform {c.low:g}-{c.high:g})" for c in result.capability)
              + f"; {s['samples']} capability points x {s['flights_per_sample']:,} flights, seed {s['seed']}")
        for p in s["periods"]:
            print(f"  {p['verdict_text']}")
        c = s["capability"]
        print("  capability if willing (shared by the periods): " + ", ".join(
            f"{label} {c[k]['mean']:.3f} [{c[k]['ci90'][0]:.3f}-{c[k]['ci90'][1]:.3f}]" for label, k in (
                ("P(detect)", "p_detect"), ("P(held in time)", "p_held_in_time"),
                ("P(could order to land)", "p_could_act_if_willing"), ("P(could stop)", "p_could_stop_if_willing"))))
        for i in s["capability_inputs"]:
            print(f"  {i['key']}: {i['mean']:.3g} [{i['ci90'][0]:.3g}-{i['ci90'][1]:.3g}] (prior {i['prior'][0]:g}-"
                  f"{i['prior'][1]:g})")
        for ch in s["will_changes"]:
            print(f"  will from {ch['from']} to {ch['to']}: {ch['mean']:+.3f} [{ch['ci90'][0]:+.3f}-"
                  f"{ch['ci90'][1]:+.3f}], P(increase) {ch['p_increase']:.3f}")
        checks = "; ".join(f"{p['name']}: " + ", ".join(
            f"{k.replace('_', ' ')} {v['observed']} (predicted {v['predicted_mean']:.1f} [{v['predicted_ci90'][0]}-"
            f"{v['predicted_ci90'][1]}], p {v['p_value']:.2f})" for k, v in p["predictive_check"].items())
            for p in s["periods"])
        print(f"  posterior predictive check: {checks}")
        d = s["diagnostics"]
        print(f"  diagnostics: PSIS k-hat {d['psis_khat']:.2f}, importance ESS {d['importance_ess']:,.0f} of "
              f"{d['particles']:,} particles; time: simulate {result.timings_s['simulate_s']:.1f} s, posterior "
              f"{result.timings_s['posterior_s']:.1f} s")
        print(f"outputs: {out}/ (infer.png, prior_posterior.png, posterior.nc, infer.json, README.txt)")
    return 0


def _cmd_scenarios(args):
    if args.dest is not None and not args.copy:
        raise ScenarioError(args.dest, None, "a destination needs --copy NAME")
    if args.copy:
        out = copy_scenario(args.copy, args.dest)
        print(f"copied {args.copy} to {out}; run it with: airpicture run {out}")
    elif args.format:
        print(format_doc_text(), end="")
    elif args.sources:
        print(sources_text(), end="")
    else:
        shipped = shipped_scenarios()
        w = max(len(s.name) for s in shipped)
        for s in shipped:
            print(f"{s.name:<{w}s}  {s.title}")
        print("run one by name: airpicture run NAME; copy one to edit: airpicture scenarios --copy NAME [DEST]")
    return 0


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:   # --help, --version, bad arguments (status 2)
        return e.code if isinstance(e.code, int) else 2
    with _stop_on_signals():
        try:
            return _run_command(args)
        except (KeyboardInterrupt, _Stopped) as e:   # a signal while an error was being reported
            return _stopped_status(e)


def _run_command(args):
    try:
        return args.func(args)
    except (ScenarioError, EngineUnavailable, MetricError, OutputRefused) as e:   # bad input: one line, status 2
        print(f"airpicture: error: {shown_text(e)}", file=sys.stderr)    # names escaped: shown, never run
        return 2
    except BrokenPipeError:   # e.g. piped into `head`
        sys.stderr.close()
        return 1
    except (KeyboardInterrupt, _Stopped) as e:     # Ctrl-C, SIGTERM, SIGHUP: cleaned up on the way here
        return _stopped_status(e)
    except Exception as e:  # noqa: BLE001 - the contract: exit 1, one line, no traceback
        print(f"airpicture: error: {type(e).__name__}: {shown_text(e)}", file=sys.stderr)
        return 1


class _Stopped(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread like Ctrl-C's KeyboardInterrupt, so that every
    ``with`` block on the way out cleans up (staging folder, Dask cluster)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


#: The signals that stop a command with its clean-up: exit status 128 + the signal's number.
_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def _stop_on_signals():
    """While a command runs: SIGINT raises KeyboardInterrupt, SIGTERM and SIGHUP raise :class:`_Stopped`;
    after the first, the others are ignored so that the clean-up runs to its end. A signal ignored when
    the command started (``nohup`` ignores SIGHUP) stays ignored. The previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in _STOP_SIGNALS}
    ours = [s for s in _STOP_SIGNALS if previous[s] is not signal.SIG_IGN]

    def stop(signum, _frame):
        for s in ours:
            signal.signal(s, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise _Stopped(signum)

    for s in ours:
        signal.signal(s, stop)
    try:
        yield
    finally:
        for s in ours:
            signal.signal(s, previous[s] if previous[s] is not None else signal.SIG_DFL)


def _stopped_status(e):
    """One line on stderr and the exit status (128 + N, as shells report a signal) of a stopped command."""
    if isinstance(e, KeyboardInterrupt):
        print("airpicture: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    print(f"airpicture: stopped by {signal.Signals(e.signum).name}", file=sys.stderr)
    return 128 + e.signum


if __name__ == "__main__":
    sys.exit(main())
