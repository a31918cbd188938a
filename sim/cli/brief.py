"""``airpicture brief``: ``airpicture run`` with the briefing products (maps, charts, KML, brief.pdf), into
brief/SCENARIO_NAME by default."""
from sim.cli import run
from sim.cli.common import RAW, add_common, add_flights_format, add_mc, add_out, add_walk, epilog


EXAMPLES = """\
  airpicture brief iraq_2012_low_level --out brief/low-level
  airpicture brief iraq_2012_transponder_off --set detection.mean_outage_days=20"""


def add_parser(sub):
    p = sub.add_parser("brief", help="run, then write maps, charts, KML and a one-page brief.pdf",
                       description="Run a scenario and write the briefing products into --out: map.png/pdf/svg, "
                                   "detections.png, altitude.png, routes.geojson, routes.kml, flights.csv, "
                                   "summary.json and brief.pdf; with [uncertainty], tornado.png (which declared "
                                   "input moves P(detect) most) and, with a [response], tornado_p_stopped.png (the "
                                   "same for P(stopped)); the brief lists the top inputs of each.",
                       epilog=epilog(EXAMPLES),
                       formatter_class=RAW)
    add_common(p)
    add_mc(p)
    add_out(p, "output folder (default: brief/SCENARIO_NAME)")
    p.add_argument("--evade", type=float, default=None, metavar="KM",
                   help="also show the least-detectable route within KM of extra distance (airpicture evade)")
    p.add_argument("--record", action="store_true",
                   help="also say what the scenario's [[record]] supports, unable or unwilling (airpicture infer): "
                        "infer.png and its files beside the brief, its numbers in the brief's table")
    add_flights_format(p)
    add_walk(p)
    p.set_defaults(func=command, brief=True, default_root="brief")
    return p


def command(args):
    """``airpicture run``, with ``args.brief`` set (:func:`add_parser`)."""
    return run.command(args)
