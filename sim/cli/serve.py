"""``airpicture serve``: the planner's page on this machine until Ctrl-C (the serve extra loads only when the
command runs)."""
import shutil
from pathlib import Path

from sim.cli.common import RAW, epilog, int_at_least, positive_int, warn
from sim.scenario import ScenarioError


EXAMPLES = """\
  airpicture serve --open
  airpicture serve iraq_2012_f16_balad my_scenario.toml --port 8800"""


def add_parser(sub):
    p = sub.add_parser("serve", help="the planner's page: what-ifs in the browser, offline, on this machine",
                       description="Serve the planner's what-if page on this machine (127.0.0.1) until Ctrl-C: "
                                   "choose or upload a scenario, change what planners change, Run (about a second "
                                   "at 2,000 flights), sweep one key, compare the what-ifs tried, download the "
                                   "what-if as a scenario file, the run's files and the brief. Everything the page "
                                   "needs is in the package: it works with no internet. Its files go to a temporary "
                                   "folder, removed on exit. Needs the 'serve' extra: pip install "
                                   "'airpicture[serve]'.",
                       epilog=epilog(EXAMPLES), formatter_class=RAW)
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="scenario files or shipped names offered first, the first one open (default: the "
                        "shipped scenarios, iraq_2012_baseline open)")
    p.add_argument("--port", type=int_at_least(0, "non-negative"), default=8765,
                   help="TCP port (default 8765; 0: any free port, printed)")
    p.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1: this machine only). Another address serves "
                        "the page to the network without any authentication: said with a warning")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.add_argument("--max-flights", type=positive_int, default=None, metavar="N",
                   help="the largest run the page starts (default 100,000 flights)")
    p.set_defaults(func=command)
    return p


def command(args):
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
            warn(f"--host {host}: the page is served to the network, without any authentication: anyone who "
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
