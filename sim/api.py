"""The Python front door: one call runs a scenario (:func:`run`), and the pipeline's steps.

>>> from sim.api import run
>>> r = run("iraq_2012_transponder_off", campaigns=20,
...         overrides={"detection.terrain": False})
>>> r.flights, r.seed
(300, 2012)
>>> 0.0 <= r.p_detect <= 1.0
True

A scenario is a file or a shipped scenario's name (:func:`shipped_scenarios`); overrides are
a dict of ``--set`` keys and values or a list of ``"KEY=VALUE"`` texts, as ``--set`` takes them.
:func:`run` and :func:`evade` keep their prepared parts where the command line does (this process's
memory, then the disk cache: :func:`session_cache`), so a second what-if on the same scenario prepares
nothing; ``cache=False`` prepares afresh and keeps nothing.
The steps, for scripts that want the objects: :func:`load` (validate, with
``--set``-style overrides), :func:`simulate` (the per-flight results),
:func:`write_run` / :func:`simulate_to` (the files), :func:`sweep`,
:func:`compare`, :func:`sensitivity`, :func:`altitude_sweep`. They are the
functions of :mod:`sim.pipeline` and :mod:`sim.analysis` (the same objects),
which the command line uses; import them from here. So are the few names a front door
needs to check its inputs and size its work before it starts one (:class:`MetricError`,
:func:`parse_budgets_km`, :data:`RESCORE_CANDIDATES`, :data:`DEFAULT_SELECT_CAMPAIGNS`,
:func:`flights_text`): the planner's page runs everything through this module.

The name is ``sim.api.run`` rather than ``sim.run``: the package ``sim``
itself stays in the core layer (importing this front door from it would
load the products and matplotlib with every core import).
"""
import html
import io
from collections.abc import Mapping
from pathlib import Path

from sim.analysis import sensitivity
from sim.analysis.infer import flights_text
from sim.analysis.infer import infer as _infer
from sim.analysis.infer import infer_plan as _infer_plan
from sim.analysis.metrics import MetricError
from sim.optimise.placement import DEFAULT_SELECT_CAMPAIGNS
from sim.optimise.placement import place as _place
from sim.optimise.route import RESCORE_CANDIDATES, parse_budgets_km
from sim.optimise.route import evade as _evade
from sim.catalog import shipped_scenarios
from sim.cells import cell_text
from sim.pipeline import (altitude_sweep, compare, load, override_text, simulate, simulate_to, sweep, terrain_for,
                          with_overrides, write_run)
from sim.products.evade import write_evade as _write_evade
from sim.products.infer import write_infer_files as _write_infer_files
from sim.products.place import write_place_files as _write_place_files
from sim.products.export import staged_output
from sim.prepcache import PrepCache, default_cache, default_cache_dir, default_key_file
from sim.results import (flight_csv_text, flight_dtypes, flight_header, format_p_ci, headline, shown_title,
                         summarize)
from sim.scenario import Scenario

__all__ = ["run", "Run", "read_flights", "load", "simulate", "simulate_to", "write_run", "sweep", "compare",
           "sensitivity", "altitude_sweep", "with_overrides", "override_text", "terrain_for", "shipped_scenarios",
           "evade", "write_evade", "place", "write_place", "infer", "infer_plan", "write_infer",
           "session_cache", "MetricError", "parse_budgets_km", "RESCORE_CANDIDATES", "DEFAULT_SELECT_CAMPAIGNS",
           "flights_text"]


def session_cache():
    """The prepared-parts cache :func:`run` and :func:`evade` use unless told otherwise: the command line's
    (:func:`sim.prepcache.default_cache`: this process's memory, then the folder ``$AIRPICTURE_CACHE_DIR``,
    else ``~/.cache/airpicture``), made on first use and kept for this Python session, one per folder and key
    file (a changed ``$AIRPICTURE_CACHE_DIR`` gets its own). At most
    :data:`~sim.prepcache.DEFAULT_MAX_MEMORY_BYTES` of its parts stay in memory; ``.stats`` counts what it
    computed and what it found."""
    where = (default_cache_dir(), default_key_file())
    if where not in _SESSION_CACHES:
        _SESSION_CACHES[where] = default_cache(where[0])
    return _SESSION_CACHES[where]


#: The caches of :func:`session_cache`, by folder and key file: owned by this front door, as a command
#: owns its cache for the command's life.
_SESSION_CACHES: dict[tuple[Path, Path], PrepCache] = {}


def _cache_of(cache):
    """A call's cache: True the session's (:func:`session_cache`), None or False none, else the one given."""
    if cache is True:
        return session_cache()
    if cache is None or cache is False:
        return None
    return cache


def _override_texts(overrides):
    """``--set`` texts of overrides given as a dict of keys and values or as ``"KEY=VALUE"`` texts (read and
    checked as the scenario reads every override: :func:`sim.scenario.with_overrides`)."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [override_text(k, v) for k, v in overrides.items()]
    if isinstance(overrides, (str, bytes)) or not all(isinstance(o, str) for o in overrides):
        raise TypeError("overrides: a dict of --set keys and values, or a list of 'KEY=VALUE' texts, "
                        f"not {type(overrides).__name__}")
    return list(overrides)


def _scenario(scenario, overrides):
    """The validated scenario of a file, a shipped name or a :class:`~sim.scenario.Scenario`, with ``overrides``."""
    texts = _override_texts(overrides)
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, texts) if texts else scenario
    return load(Path(scenario), texts)


def _read_csv(source):
    try:   # optional extra, imported only when asked for
        import pandas as pd
    except ImportError:
        raise ImportError("reading flights as a table needs pandas: pip install 'airpicture[pandas]'") from None
    header = pd.read_csv(source, nrows=0).columns.tolist()
    if hasattr(source, "seek"):
        source.seek(0)
    frame = pd.read_csv(source, dtype=flight_dtypes(header), keep_default_na=False, na_values=[""])
    for name in ("route", "first_radar"):      # names as written: without the quote that keeps a spreadsheet
        if name in frame:                       # from running them (sim.cells)
            frame[name] = frame[name].map(cell_text, na_action="ignore")
    return frame


def read_flights(path):
    """A run's ``flights.csv`` as a pandas DataFrame, typed by :data:`sim.results.FLIGHT_COLUMNS`
    (an empty cell is NaN, or None for text; a column with nothing detected keeps its type)."""
    return _read_csv(Path(path))


class Run:
    """A finished run: the headline numbers as attributes, ``summary`` (summary.json as a dict),
    the per-flight table as a pandas DataFrame (:meth:`to_pandas`), and the simulation and result
    objects for the products (``sim``, ``result``); ``timing_s``, the seconds it took to ``"prepare"`` and to
    ``"run"`` (None when not measured)."""

    def __init__(self, sim, result, timing_s=None):
        self.sim, self.result = sim, result
        self.timing_s = timing_s
        self.summary = summarize(sim, result)
        s = self.summary
        self.scenario = s["scenario"]
        self.title = shown_title(s)          # "... (what-if: N changes)" when overrides changed the scenario
        self.overrides = tuple(s["overrides"])
        self.seed = s["seed"]
        self.campaigns = s["campaigns"]
        self.flights = s["flights_total"]
        self.p_detect = s["p_detect"]
        self.p_detect_ci95 = tuple(s["p_detect_ci95"])
        self.detected_per_campaign = s["detected_per_campaign"]["mean"]
        self.p_detect_in_airspace = s.get("p_detect_in_airspace")
        self.radars = {name: r["p_detect"] for name, r in s["radars"].items()}

    @property
    def headline(self):
        """The sentence the command line prints first."""
        return headline(self.summary)

    def to_pandas(self):
        """The per-flight table as a pandas DataFrame: the columns, types and missing values of
        flights.csv read with :func:`read_flights` (:data:`sim.results.FLIGHT_COLUMNS`).

        pandas is an optional extra: ``pip install 'airpicture[pandas]'``. A run made with
        ``keep_flights=False`` has no per-flight table (ValueError).
        """
        if self.result.batch is None:
            raise ValueError("the run kept no per-flight results (keep_flights=False): run it with keep_flights=True")
        header = flight_header(self.sim, self.result.minutes_in_airspace is not None)
        return _read_csv(io.StringIO(",".join(header) + "\n" + flight_csv_text(self.sim, self.result)))

    def __repr__(self):
        return (f"<Run {self.scenario}: P(detect) {format_p_ci(self.p_detect, *self.summary['p_detect_ci95'])}, "
                f"{self.detected_per_campaign:.1f} of {self.summary['flights_per_campaign']} per campaign; "
                f"{self.flights:,} flights, seed {self.seed}>")

    def _repr_html_(self):
        rows = [("P(detect) per flight", format_p_ci(self.p_detect, *self.summary['p_detect_ci95'])),
                ("Detected per campaign", f"{self.detected_per_campaign:.2f} of {self.summary['flights_per_campaign']}"),
                ("Flights", f"{self.flights:,} ({self.campaigns:,} campaigns, seed {self.seed})"),
                *((f"tracked by {name}", f"{p:.3f}") for name, p in self.radars.items())]
        body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in rows)
        return (f"<div><b>{html.escape(self.title)}</b><table>{body}</table>"
                f"<small>{html.escape(self.summary['note'])}</small></div>")


def run(scenario, overrides=None, *, campaigns=None, flights=None, seed=None, engine=None, exact=False, cache=True,
        keep_flights=True):
    """Run a scenario (a file, a shipped scenario's name or a :class:`~sim.scenario.Scenario`); return a :class:`Run`.

    ``overrides`` maps ``--set`` keys to values (``{"aircraft.cruise_altitude_m": 3000}``) or lists
    ``--set`` texts (``["aircraft.cruise_altitude_m=3000"]``); ``engine`` and ``exact`` as
    :func:`sim.pipeline.simulate`. ``cache``: True (default) the command line's cache, kept for this
    session (:func:`session_cache`: a what-if that changes only draws or the response prepares nothing),
    False or None none, or a :class:`sim.prepcache.PrepCache` of your own. Results never depend on it.
    ``keep_flights=False``: no per-flight table (memory flat in the flights; no :meth:`Run.to_pandas`), the
    run's fixed sample of flights instead (what a map draws), as ``airpicture run`` runs it; the numbers and
    the summary are the same. The planner's page runs its what-ifs so, with its own cache.
    """
    sc = _scenario(scenario, overrides)
    timing_s = {}
    sim, result = simulate(sc, campaigns=campaigns, flights=flights, seed=seed, engine=engine, exact=exact,
                           cache=_cache_of(cache), keep_flights=keep_flights, sample=not keep_flights,
                           timing_s=timing_s)
    return Run(sim, result, timing_s)


def evade(scenario, budgets_km=(0, 100, 200, 400, 800), overrides=None, **options):
    """The least-detectable routes of a scenario (a file, a shipped scenario's name or a
    :class:`~sim.scenario.Scenario`) for extra-distance budgets [km], as they will be flown, each re-scored
    by the Monte Carlo.

    ``overrides`` as :func:`run`'s; ``options`` are those of
    :func:`sim.optimise.route.evade` (``cache``: as :func:`run`'s, default the session's; ``origin``, ``dest``, ``levels``, ``transponder``, ``avoid``,
    ``spacing_m``, ``campaigns``, ``flights``, ``seed``, ``spread_m``: the sideways spread the routes are
    searched and flown with [m], default the scenario's most probable route's; ``objective``:
    ``"p_detect"`` or ``"p_stopped"``, what each budget's route minimises as flown). Returns an
    :class:`~sim.optimise.route.EvadeResult`: ``result.points(False)`` are the distinct routes with the
    transponder off, each with every budget it answers, ``[(route, budgets_m), ...]``; a route has
    ``extra_m``, ``flight_time_s``, ``fuel_kg`` and its figures **as flown** (with the spread
    ``result.spread_m``, each radar's availability and outages: the headline), ``p_detect``, ``p_stopped``
    and ``summary`` (its summary.json), then the same route flown exactly on its planned line (secondary),
    ``p_detect_planned``, ``p_stopped_planned`` and ``summary_planned``; ``p_search`` is the search's own
    P(detect) as flown, ``p_surrogate`` its planned-track surrogate. ``result.front[False]`` has one route
    per budget, ``result.direct[False]`` the direct route (the reference). The command line is
    ``airpicture evade``.

    >>> r = evade("iraq_2012_transponder_off", "0,100", levels="cruise", campaigns=20)   # doctest: +SKIP
    >>> [(round(p.extra_m / 1000, 1), [b / 1000 for b in budgets], p.p_detect, p.p_detect_planned)
    ...  for p, budgets in r.points(False)]                                            # doctest: +SKIP
    """
    options["cache"] = _cache_of(options.get("cache", True))
    return _evade(_scenario(scenario, overrides), budgets_km, **options)


def write_evade(out_dir, result):
    """Write an :func:`evade` result's files into ``out_dir`` (replaced as a whole, as ``airpicture evade
    --out`` does): front.csv/json/png, map.png, routes.geojson/kml and one scenario file per distinct route
    (flown with the spread: ``airpicture run`` on it gives its as-flown figures exactly). Returns the rows
    of front.csv, one per distinct route (``budgets_km``: every budget it answers)."""
    with staged_output(Path(out_dir)) as stage:
        return _write_evade(stage, result)


def place(scenario, add, like, overrides=None, **options):
    """Where ``add`` more copies of the radar named ``like`` should go in a scenario (a file, a shipped
    scenario's name or a :class:`~sim.scenario.Scenario`), against a fixed or an adaptive flyer.

    ``overrides`` as :func:`run`'s; ``options`` are those of :func:`sim.optimise.placement.place`
    (``candidates`` (a CSV path, ``"airbases"`` or ``"high-ground"`` (the packaged airport table's airfields
    inside the airspace, or its highest ground: :data:`~sim.optimise.placement.CANDIDATE_LISTS`), or
    :class:`~sim.optimise.placement.Candidate` sites), ``grid_km``,
    ``objective``, ``against``, ``max_extra_km``, ``levels``, ``rounds``, ``select_campaigns``,
    ``campaigns``, ``flights``, ``seed``). Returns a :class:`~sim.optimise.placement.PlaceResult`:
    ``result.steps`` (site, marginal gain, objective, bound), ``result.layout``, ``result.rescore_layout``
    (its Monte Carlo, ``.value`` and ``.summary``) and, against the adaptive flyer,
    ``result.robust_value()``. The command line is ``airpicture place``.
    """
    return _place(_scenario(scenario, overrides), add, like, **options)


def write_place(out_dir, result):
    """Write a :func:`place` result's files into ``out_dir`` (replaced as a whole, as ``airpicture place
    --out`` does): steps.csv, candidates.csv, place.json, objective.png, map.png, placed.toml (and, against
    the adaptive flyer, rounds.csv, placed-fixed.toml, flyer.toml). Returns the rows of steps.csv."""
    with staged_output(Path(out_dir)) as stage:
        return _write_place_files(stage, result)


def infer(scenario, overrides=None, **options):
    """Unwilling or unable: the posterior of the state's will per period of a scenario's ``[[record]]`` and
    of its declared ``[uncertainty]`` capability inputs (a file, a shipped scenario's name or a
    :class:`~sim.scenario.Scenario`).

    ``overrides`` as :func:`run`'s; ``options`` are those of :func:`sim.analysis.infer.infer`
    (``samples``: capability points, a power of two; ``campaigns``, ``flights``: simulated per point;
    ``seed``; ``draws``; ``cache``). Returns an :class:`~sim.analysis.infer.InferResult`: ``headline``
    (the answer per period in words), ``summary`` (infer.json: per period will's mean, 90% interval,
    P(will < 0.5), the capability if willing, the predictive check, the change of will), ``draws`` (posterior
    draws). The method: docs/infer.md. The command line is ``airpicture infer``.

    >>> r = infer("iraq_2012_record", samples=16)                                  # doctest: +SKIP
    >>> [p["verdict"] for p in r.summary["periods"]]                                # doctest: +SKIP
    """
    return _infer(_scenario(scenario, overrides), **options)


def infer_plan(scenario, overrides=None, samples=None, campaigns=None, flights=None):
    """What :func:`infer` would simulate with these options, checked as it checks, before any simulation: an
    :class:`~sim.analysis.infer.InferPlan` (``samples``, ``campaigns``, ``flights``, ``flights_total``,
    ``will_range``, ``capability``). Raises the :class:`~sim.scenario.ScenarioError` :func:`infer` would
    (no ``[[record]]``, no ``[response]``, ``samples`` not a power of two). A front door that limits what it
    starts (the planner's page) asks this first.

    >>> infer_plan("iraq_2012_record").samples, infer_plan("iraq_2012_record").flights_total
    (64, 128640)
    """
    return _infer_plan(_scenario(scenario, overrides), samples, campaigns, flights)


def write_infer(out_dir, result):
    """Write an :func:`infer` result's files into ``out_dir`` (replaced as a whole, as ``airpicture infer
    --out`` does): infer.png, prior_posterior.png, posterior.nc (ArviZ InferenceData), infer.json, README.txt.
    Returns infer.json as a dict."""
    with staged_output(Path(out_dir)) as stage:
        return _write_infer_files(stage, result)
