"""``airpicture scenarios``: the shipped scenarios listed, one copied out to edit, the format and the sources
printed."""
from sim.catalog import copy_scenario, format_doc_text, shipped_scenarios, sources_text
from sim.cli.common import RAW, epilog
from sim.scenario import ScenarioError


EXAMPLES = """\
  airpicture scenarios
  airpicture scenarios --copy iraq_2012_baseline my_scenario.toml
  airpicture scenarios --format"""


def add_parser(sub):
    p = sub.add_parser("scenarios", help="list the shipped scenarios; copy one out to edit",
                       description="List the scenarios shipped with airpicture (name and title); every "
                                   "command takes a name where it takes a file. --copy writes one out to "
                                   "edit; --format and --sources print the scenario format and the shipped "
                                   "values' sources.", epilog=epilog(EXAMPLES), formatter_class=RAW)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--copy", metavar="NAME",
                      help="copy a shipped scenario to DEST (a file or folder; default ./NAME.toml); never "
                           "overwrites")
    what.add_argument("--format", action="store_true", help="print the scenario format (docs/scenario-format.md)")
    what.add_argument("--sources", action="store_true",
                      help="print the shipped scenarios' values and their sources (scenarios/README.md)")
    p.add_argument("dest", nargs="?", metavar="DEST", help="with --copy: where to write the copy")
    p.set_defaults(func=command)
    return p


def command(args):
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
