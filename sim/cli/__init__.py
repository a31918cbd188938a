"""Command line: ``airpicture run|brief|coverage|sweep|compare|sensitivity|validate|evade|place|infer|scenarios|serve``.

One module per command (:mod:`sim.cli.run`, :mod:`sim.cli.brief`, ...), each with its ``add_parser`` and its
``command``; what they share (the common options, the checks before any work, progress, the exit status) is
:mod:`sim.cli.common`. A command's heavy modules (matplotlib, the optimisers, the inference, the page's
server) load only when it runs.

Exit status 0 on success, 2 on a bad scenario or bad arguments (one line on
stderr naming the file and the key), 130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP (128 + the
signal, after the clean-up), 1 on any other failure. A failed or stopped run leaves no partial
outputs and removes nothing but its own staging folder.
"""
from sim import __version__
from sim.cli import (brief, compare, coverage, evade, infer, place, run, scenarios, sensitivity, serve, sweep,
                     validate)
from sim.cli.common import RAW, Parser, Stopped, epilog, run_command, stop_on_signals, stopped_status

__all__ = ["main", "build_parser"]

#: The commands, in the order ``airpicture --help`` lists them: each a module with ``add_parser(subparsers)``
#: and ``command(args)``.
COMMANDS = (run, brief, coverage, sweep, compare, sensitivity, validate, evade, place, infer, scenarios, serve)

#: Where the documentation is, under the top-level --help.
DOCS_NOTE = """
documentation: docs/ in the source (getting started, what-ifs, batch runs, briefing
products, the response, route search and placement, the scenario format, examples,
the Python API); `make docs` builds it into build/docs/index.html.
"""


def build_parser():
    parser = Parser(prog="airpicture", description=(
        "How many Il-76 flights Iran -> Syria would a country's radars detect (Iraq's by default)? "
        "Monte Carlo over routes, radars and chance; outputs for planners."),
        epilog=epilog(run.EXAMPLES) + DOCS_NOTE, formatter_class=RAW)
    parser.add_argument("--version", action="version", version=f"airpicture {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:   # --help, --version, bad arguments (status 2)
        return e.code if isinstance(e.code, int) else 2
    try:
        with stop_on_signals():
            try:
                return run_command(args)
            except (KeyboardInterrupt, Stopped) as e:   # a signal while an error was being reported
                return stopped_status(e)
    except (KeyboardInterrupt, Stopped) as e:   # one pending (blocked) when the command started
        return stopped_status(e)

