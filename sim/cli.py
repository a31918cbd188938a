"""Command line: ``airpicture run|coverage|brief|sweep``.

Exit status 0 on success, 2 on a bad scenario or bad arguments (one line on
stderr naming the file and the key), 1 on any other failure. A failed run
leaves no partial outputs.
"""
import argparse
import sys
from pathlib import Path

from sim import __version__
from sim.scenario import ScenarioError

__all__ = ["main", "build_parser"]

EPILOG = """\
examples:
  airpicture run scenarios/iraq_2012_baseline.toml --out out/
  airpicture run scenarios/iraq_2012_baseline.toml --set aircraft.cruise_altitude_m=3000
  airpicture run scenarios/iraq_2012_baseline.toml --set "radar[Kirkuk PSR].availability=0"

All results are illustrative: the scenarios are built on open-source
reporting and stated assumptions (scenarios/README.md).
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return v


def _seed(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return v


def _add_common(p):
    p.add_argument("scenario", help="scenario file (TOML; see scenarios/README.md)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. aircraft.cruise_altitude_m=3000 or "
                        "'radar[Baghdad PSR].range_km=200' (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary on stdout")


def _add_mc(p):
    p.add_argument("--campaigns", type=_positive_int, help="Monte Carlo campaigns (default: scenario's run.campaigns)")
    p.add_argument("--flights", type=_positive_int, help="flights per campaign (default: scenario's run.flights)")
    p.add_argument("--seed", type=_seed, help="random seed (default: scenario's run.seed)")
    p.add_argument("--chunk", type=_positive_int, default=100, metavar="CAMPAIGNS",
                   help="campaigns per task (memory/speed only; results do not change; default 100)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run chunks on a Dask cluster: a scheduler address, or 'local' for a local cluster "
                        "(needs the 'dask' extra: pip install 'airpicture[dask]')")


def build_parser():
    parser = _Parser(prog="airpicture", description=(
        "How many Il-76 flights Iran -> Syria would Iraq's radars detect? Monte Carlo over "
        "routes, radars and chance; outputs for planners."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"airpicture {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("run", help="run the Monte Carlo; write summary.json, flights.csv, routes.geojson",
                       description="Run a scenario's Monte Carlo and write summary.json, flights.csv and "
                                   "routes.geojson into --out.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(p)
    _add_mc(p)
    p.add_argument("--out", default=None, help="output folder (default: out/SCENARIO_NAME)")
    p.add_argument("--brief", action="store_true", help="also make the briefing products (maps, charts, brief.pdf)")
    p.set_defaults(func=_cmd_run)
    return parser


def _progress(total, quiet):
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm
    bar = tqdm(total=total, unit="flight", file=sys.stderr, leave=False)
    return bar.update, bar.close


def _map_chunks(address):
    if address is None:
        return None, lambda: None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError("--dask", None, "Dask is not installed: pip install 'airpicture[dask]'") from None
    if address == "local":
        cluster = LocalCluster(processes=True, n_workers=None, threads_per_worker=1)
        client = Client(cluster)
    else:
        cluster = None
        client = Client(address)

    def map_chunks(fn, args):
        from distributed import as_completed
        futures = [client.submit(fn, *a, pure=False) for a in args]
        for fut in as_completed(futures):
            yield fut.result()

    def close():
        client.close()
        if cluster is not None:
            cluster.close()
    return map_chunks, close


def _cmd_run(args):
    from sim.pipeline import load, simulate, write_run
    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / scenario.info.name
    campaigns = args.campaigns or scenario.run.campaigns
    flights = args.flights or scenario.run.flights
    update, close_bar = _progress(campaigns * flights, args.quiet)
    map_chunks, close_dask = _map_chunks(args.dask)
    try:
        sim, result = simulate(scenario, campaigns=args.campaigns, flights=args.flights, seed=args.seed,
                               chunk_campaigns=args.chunk, progress=update, map_chunks=map_chunks)
    finally:
        close_bar()
        close_dask()
    summary = write_run(out, sim, result, brief=args.brief)
    if not args.quiet:
        from sim.results import headline
        print(f"{scenario.info.title}")
        print(headline(summary))
        for name, r in summary["radars"].items():
            print(f"  {name:<24s} tracked {100 * r['p_detect']:5.1f}% of flights")
        print(f"outputs: {out}/")
    return 0


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:   # --help, --version, bad arguments (status 2)
        return e.code if isinstance(e.code, int) else 2
    try:
        return args.func(args)
    except ScenarioError as e:
        print(f"airpicture: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("airpicture: interrupted", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the contract: exit 1, one line, no traceback
        print(f"airpicture: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
