"""What every command of the command line shares: the parser (one-line errors, exit status 2), the common
options (the scenario, ``--set``, ``-q``, ``--campaigns``, ``--flights``, ``--seed``, ``--out``, the cache
options, ``--force``, the Monte Carlo's), the checks made before any work (memory, disk, ``--out``), progress
on stderr, and the exit status of a command: 2 on bad input, 1 on any other failure, 128 + N on a signal.
"""
import argparse
import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from sim.analysis.metrics import MetricError
from sim.cost import available_memory_bytes, memory_terms_text, memory_text, scenario_cost
from sim.engine import AUTO_PROCESSES_MIN_FLIGHTS, EngineUnavailable, LocalProcesses
from sim.montecarlo import AUTO_CHUNK_FLIGHTS, WALKS
from sim.pipeline import FLIGHTS_FORMATS
from sim.prepcache import CACHE_ENV, DEFAULT_MAX_MEMORY_BYTES, default_cache
from sim.products.export import OutputRefused, check_output_folder
from sim.results import overrides_text
from sim.scenario import CAMPAIGNS_MAX, FLIGHTS_MAX, SEED_MAX, ScenarioError, shown_text

#: The note under every command's --help.
NOTE = """
A scenario is a TOML file or a shipped scenario's name (airpicture scenarios
lists them; --copy NAME writes one out to edit). Scenario format:
docs/scenario-format.md (airpicture scenarios --format); the values and their
sources: scenarios/README.md (airpicture scenarios --sources). All results are
illustrative: the scenarios are built on open-source reporting and stated
assumptions.
"""

RAW = argparse.RawDescriptionHelpFormatter


def epilog(examples):
    """A command's ``--help`` epilog: its examples, then the note on scenarios."""
    return "examples:\n" + examples + "\n" + NOTE


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(lo, what):
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


positive_int = int_at_least(1, "positive")


def int_up_to(hi, key):
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
campaigns_arg = int_up_to(CAMPAIGNS_MAX, "run.campaigns")
flights_arg = int_up_to(FLIGHTS_MAX, "run.flights")


def seed_arg(text):
    """argparse type: a seed, an integer from 0 to 2^63-1 (the range of run.seed)."""
    try:
        v = int(text)
    except ValueError:
        v = None
    if v is None or not 0 <= v <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2^63-1 ({SEED_MAX}), got {text!r}")
    return v


def add_scenario(p):
    p.add_argument("scenario", help="scenario file (TOML; format: docs/scenario-format.md), or a shipped "
                                    "scenario's name (airpicture scenarios lists them)")


def add_set(p, text="override a scenario value, e.g. aircraft.cruise_altitude_m=3000 or "
                    "'radar[Baghdad PSR].range_km=200' (repeatable)"):
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=text)


def add_quiet(p, text="no progress bar, no summary on stdout"):
    p.add_argument("-q", "--quiet", action="store_true", help=text)


# --campaigns, --flights, --seed and --out: one spelling, type and limit for every command; each command says
# in its help what the default is for it


def add_campaigns(p, text):
    p.add_argument("--campaigns", type=campaigns_arg, help=text)


def add_flights(p, text):
    p.add_argument("--flights", type=flights_arg, help=text)


def add_seed(p, text):
    p.add_argument("--seed", type=seed_arg, help=text)


def add_out(p, text):
    p.add_argument("--out", default=None, help=text)


def add_common(p):
    """The scenario, ``--set``, ``-q``, the cache options and ``--force``: the options of every command that
    takes one scenario."""
    add_scenario(p)
    add_set(p)
    add_quiet(p)
    add_cache(p)
    add_force(p)


def add_force(p):
    p.add_argument("--force", action="store_true",
                   help="go on even when the estimated memory exceeds what this machine has available")


def add_cache(p):
    p.add_argument("--cache-dir", metavar="DIR", default=None,
                   help=f"folder of prepared parts reused across runs (default: ${CACHE_ENV}, else "
                        "~/.cache/airpicture; safe to delete)")
    p.add_argument("--no-cache", action="store_true", help="prepare everything afresh; write no cache")


def cache_of(args, max_memory_bytes=DEFAULT_MAX_MEMORY_BYTES):
    """The prepared-parts cache of a command (:func:`sim.prepcache.default_cache`, as the Python API's): on disk
    unless --no-cache (then this process's memory); at most ``max_memory_bytes`` of its parts kept in memory."""
    return default_cache(args.cache_dir, disk=not args.no_cache, warn=warn, max_memory_bytes=max_memory_bytes)


def add_mc(p):
    """The Monte Carlo's options: ``--campaigns``, ``--flights``, ``--seed``, then how the chunks run."""
    add_campaigns(p, "Monte Carlo campaigns (default: scenario's run.campaigns)")
    add_flights(p, "flights per campaign (default: scenario's run.flights)")
    add_seed(p, "random seed (default: scenario's run.seed)")
    p.add_argument("--chunk", type=positive_int, default=None, metavar="CAMPAIGNS",
                   help="campaigns per task (memory/speed only; results do not change; "
                        "default: about 16,000 flights per task, 2,000 with --exact)")
    p.add_argument("--exact", action="store_true",
                   help="evaluate every scan from its exact geometry instead of the detection tables "
                        "(the reference of the default fast path; same draws, slower)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run chunks on a Dask cluster: a scheduler address, or 'local' for a local cluster "
                        "(needs the 'dask' extra: pip install 'airpicture[dask]')")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="run chunks on N worker processes of this machine (1: in this process; default: one per "
                        f"core for runs of {AUTO_PROCESSES_MIN_FLIGHTS:,} flights or more, as memory allows; "
                        "results do not change)")


def add_walk(p):
    p.add_argument("--walk", choices=WALKS, default=None,
                   help="how each flight's scans are walked: compiled (default: one compiled loop over flights), "
                        "numpy (its numpy reference, the same bytes) or exact (every scan from its geometry, "
                        "as --exact)")


def add_flights_format(p):
    p.add_argument("--flights-format", choices=FLIGHTS_FORMATS, default="csv",
                   help="per-flight results: flights.csv (default); a flights.parquet/ dataset written by the "
                        "workers themselves (needs the 'parquet' extra; with --dask the output folder must be "
                        "reachable from the workers); or none")


def progress(total, quiet, unit="flight", desc=None):
    """A progress bar on stderr (tqdm, with the rate; ``desc``: what it counts), silent when not a terminal or
    with --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm       # loads only when a bar is drawn
    bar = tqdm(total=total, unit=unit, unit_scale=unit == "flight", file=sys.stderr, leave=False, desc=desc)
    return bar.update, bar.close


#: Runs expected to take longer than this get a line on stderr with the estimate [s].
ANNOUNCE_AFTER_S = 30.0


def long_work(total_flights, quiet, what):
    """The progress of a command that runs the Monte Carlo several times (``what``: "8 runs"): a bar in
    flights on a terminal and, for long work, the estimate line; returns ``(on_flights, close)``."""
    update, close = progress(total_flights, quiet)
    return RunWatch(total_flights, 0, update, what), close


class RunWatch:
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


def flights_csv_bytes(scenario, n_flights):
    """A generous estimate of flights.csv's size: the widest row of this scenario, times the flights."""
    longest = max(len(r.name) for r in scenario.routes) + max((len(r.name) for r in scenario.radars), default=0)
    return n_flights * (70 + longest) + 200


def check_memory(args, scenarios, exact=False, with_fences=True):
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


def engine_for(args, n_flights, cost):
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


def check_disk(out, need_bytes):
    """Refuse (exit 2) a run whose outputs cannot fit the free disk, before any work."""
    at = next(p for p in (out, *out.parents) if p.exists())
    free = shutil.disk_usage(at).free
    if need_bytes > free:
        raise ScenarioError("--out", None, f"the outputs need about {need_bytes / 1e9:,.1f} GB and {at} has "
                                           f"{free / 1e9:,.1f} GB free")


def check_out(out):
    """A bad --out is a bad argument: say so before running anything (a file in the way, no write access
    where the folder is staged and swapped in, a folder of other files, another run writing it)."""
    at = next(p for p in (out, *out.parents) if p.exists())
    if not at.is_dir():
        raise ScenarioError("--out", None, f"{at} exists and is not a folder")
    beside = next(p for p in Path(os.path.abspath(out)).parents if p.exists())    # the stage goes beside it
    if not os.access(beside, os.W_OK | os.X_OK):
        raise ScenarioError("--out", None, f"{beside} is not writable")
    check_output_folder(out)


def what_if_text(overrides):
    """The ``--set`` overrides in one line, ``KEY=VALUE; KEY=VALUE`` ("" when none)."""
    return overrides_text({"overrides": list(overrides)})


def what_if_clause(overrides):
    """``"; what-if: KEY=VALUE; ..."`` for a caption or a printed heading ("" when no overrides)."""
    text = what_if_text(overrides)
    return f"; what-if: {text}" if text else ""


def fmt(x, width=0):
    """A metric's value in a table: three decimals (thousands separated above 100), "-" when none."""
    if x is None or x != x:
        return f"{'-':>{width}s}"
    return f"{x:>{width},.1f}" if abs(x) >= 100 else f"{x:>{width}.3f}"


def warn(text):
    print(f"airpicture: warning: {text}", file=sys.stderr)


def below_ground_text(source, route, share, cruise_m):
    """The warning for a route below the terrain (the same figure in validate, run, brief and summary.json)."""
    return (f"{source}: route {route!r} flies below the terrain on {100 * share:.1f}% of its length "
            f"(cruise {cruise_m:,.0f} m AMSL): those samples are not flyable as modelled")


def run_command(args):
    try:
        return args.func(args)
    except (ScenarioError, EngineUnavailable, MetricError, OutputRefused) as e:   # bad input: one line, status 2
        print(f"airpicture: error: {shown_text(e)}", file=sys.stderr)    # names escaped: shown, never run
        return 2
    except BrokenPipeError:   # e.g. piped into `head`
        sys.stderr.close()
        return 1
    except (KeyboardInterrupt, Stopped) as e:     # Ctrl-C, SIGTERM, SIGHUP: cleaned up on the way here
        return stopped_status(e)
    except Exception as e:  # noqa: BLE001 - the contract: exit 1, one line, no traceback
        stop = _stop_within(e)
        if stop is not None:     # a library wrapped the stop in an error of its own (raised from it)
            return stopped_status(stop)
        print(f"airpicture: error: {type(e).__name__}: {shown_text(e)}", file=sys.stderr)
        return 1


def _stop_within(error):
    """The Ctrl-C or stop signal an error was raised from or while handling (its cause or context), or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (KeyboardInterrupt, Stopped)):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


class Stopped(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread like Ctrl-C's KeyboardInterrupt, so that every
    ``with`` block on the way out cleans up (staging folder, Dask cluster)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


#: The signals that stop a command with its clean-up: exit status 128 + the signal's number.
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def stop_on_signals():
    """While a command runs: SIGINT raises KeyboardInterrupt, SIGTERM and SIGHUP raise :class:`Stopped`;
    after the first, the others are ignored so that the clean-up runs to its end. An exception raised
    where Python cannot pass it on (a callback from C code, a finalizer: it is printed and dropped) is
    not lost: the signal is sent again (:func:`sys.unraisablehook`), and one that a library wraps in
    an error of its own still exits as a stop (:func:`run_command`). A signal ignored when
    the command started (``nohup`` ignores SIGHUP) stays ignored; one blocked when it started (a signal
    mask inherited from the process that started it, e.g. a thread that had them blocked) is unblocked, or
    it would wait unseen until the command had finished and written its outputs. The previous handlers
    and mask come back after. A signal already pending when the handlers are set raises here."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    ours = [s for s in STOP_SIGNALS if previous[s] is not signal.SIG_IGN]
    acted = []        # the signal whose exception is on its way up (the others are then ignored)

    def stop(signum, _frame):
        if acted:
            return
        acted.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Stopped(signum)

    hook = sys.unraisablehook

    def swallowed(unraisable):
        """Our exception raised inside a callback from C (e.g. llvmlite's while numba loads code) or a
        finalizer is printed and dropped there: the signal is sent again, to be acted on at the next chance."""
        if acted and isinstance(unraisable.exc_value, (KeyboardInterrupt, Stopped)):
            # from another thread, a moment later: raised here, in the hook, it would be dropped again
            again = threading.Timer(0.01, os.kill, (os.getpid(), acted.pop()))
            again.daemon = True
            again.start()
            return
        hook(unraisable)

    for s in ours:
        signal.signal(s, stop)
    sys.unraisablehook = swallowed
    mask = None
    try:
        if ours and hasattr(signal, "pthread_sigmask"):
            mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, ours)
        yield
    finally:
        for s in ours:
            signal.signal(s, previous[s] if previous[s] is not None else signal.SIG_DFL)
        sys.unraisablehook = hook
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def stopped_status(e):
    """One line on stderr and the exit status (128 + N, as shells report a signal) of a stopped command."""
    if isinstance(e, KeyboardInterrupt):
        print("airpicture: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    print(f"airpicture: stopped by {signal.Signals(e.signum).name}", file=sys.stderr)
    return 128 + e.signum
