"""``airpicture validate``: check a scenario, then say what it will fly, see and cost."""
import time

import numpy as np
import shapely

from geo.terrain import load_terrain
from sim.cli.common import RAW, add_common, below_ground_text, cache_of, check_memory, epilog, flights_csv_bytes, warn
from sim.cost import available_memory_bytes, memory_text
from sim.detection import platform_geometry
from sim.fences import nominal_route_fences
from sim.montecarlo import prepare, run
from sim.pipeline import load
from sim.platforms import Orbit
from sim.products.coverage import OFF_TEXT, radar_coverages
from sim.routes import below_ground_shares
from sim.scenario import ScenarioError, uncertainty_variants


EXAMPLES = """\
  airpicture validate iraq_2012_low_level
  airpicture validate iraq_2012_baseline --set aircraft.cruise_altitude_m=1000"""


def add_parser(sub):
    p = sub.add_parser("validate", help="check a scenario and say what it will fly, see and cost",
                       description="Check a scenario file (exit 2 on an error, as run does), then print each "
                                   "route's length, time in the airspace and cruise profile (with the clearance "
                                   "achieved when terrain following), each radar's coverage share of the airspace "
                                   "at the main route's cruise level, and the estimated run time; warnings (a route "
                                   "below the terrain, a route that misses the airspace, a radar far from every "
                                   "route) go to stderr, one line each.", epilog=epilog(EXAMPLES),
                       formatter_class=RAW)
    add_common(p)
    p.set_defaults(func=command)
    return p


#: A radar farther than this from every route sample is probably misplaced [m].
_FAR_RADAR_M = 1_000_000.0


def command(args):
    from sim.products.brief import coverage_level   # with the drawing products (matplotlib)
    scenario = load(args.scenario, args.overrides)
    cost = check_memory(args, [scenario])
    t0 = time.perf_counter()
    sim = prepare(scenario, cache=cache_of(args))
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
                warnings.append(below_ground_text(args.scenario, r.name, below[i], r.cruise_altitude_m))
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
                 f"flights.csv about {flights_csv_bytes(scenario, n) / 1e6:,.0f} MB")
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
        warn(w)
    if not args.quiet:
        print("\n".join(lines))
    return 0
