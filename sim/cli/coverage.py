"""``airpicture coverage``: every radar's coverage at one level, their unions and the airspace, as GeoJSON
geofences with their areas."""
from pathlib import Path

from geo.terrain import load_terrain
from geo.units import FT_M
from sim.cli.common import (RAW, add_common, add_out, cache_of, check_memory, check_out, epilog, progress,
                            what_if_clause)
from sim.montecarlo import prepare
from sim.pipeline import load
from sim.products.coverage import coverage_collection, radar_label
from sim.products.export import staged_output, write_json, write_sidecar
from sim.scenario import ScenarioError


EXAMPLES = """\
  airpicture coverage iraq_2012_transponder_off --altitude-m 3000 --out out/cover-3000
  airpicture coverage iraq_2012_low_level --agl-m 300"""


def add_parser(sub):
    p = sub.add_parser("coverage", help="write the air picture at an altitude as GeoJSON geofences",
                       description="Coverage of every radar at one altitude (line of sight, terrain, range), "
                                   "their union and the scenario's airspace, as RFC 7946 GeoJSON (coverage.geojson) "
                                   "with areas in coverage.json.", epilog=epilog(EXAMPLES),
                       formatter_class=RAW)
    add_common(p)
    lvl = p.add_mutually_exclusive_group(required=True)
    lvl.add_argument("--altitude-m", type=float, help="target altitude above mean sea level [m]")
    lvl.add_argument("--altitude-ft", type=float, help="target altitude above mean sea level [ft]")
    lvl.add_argument("--agl-m", type=float, help="target height above ground level [m] (needs terrain)")
    add_out(p, "output folder (default: out/SCENARIO_NAME-coverage)")
    p.set_defaults(func=command)
    return p


def command(args):
    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-coverage"
    check_out(out)
    check_memory(args, [scenario], with_fences=False)
    altitude = args.altitude_m if args.altitude_m is not None else (
        None if args.altitude_ft is None else args.altitude_ft * FT_M)
    level = altitude if altitude is not None else args.agl_m
    if not 0 <= level <= 20_000:
        raise ScenarioError("--altitude", None, f"must be between 0 and 20,000 m, got {level:g} m")
    if args.agl_m is not None and not scenario.detection.terrain:
        raise ScenarioError(args.scenario, "detection.terrain", "--agl-m (coverage above the ground) needs terrain "
                                                                "masking: set detection.terrain = true")
    # a bar in steps on a terminal: preparing, then each radar's polygon
    update, close_bar = progress(1 + len(scenario.radars), args.quiet, unit="step")
    try:
        # above ground needs the terrain even when the scenario's detection does not use it
        sim = prepare(scenario, load_terrain() if args.agl_m is not None else None, cache=cache_of(args),
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
            f"{what_if_clause(scenario.overrides)}")
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
        print(f"{scenario.info.title}: air picture at {level}" + what_if_clause(scenario.overrides))
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
