"""The what-if engine behind the planner's page: scenarios, runs, sweeps and downloads, no web framework.

A :class:`Planner` belongs to one server. It keeps one prepared-parts cache
(:class:`~sim.prepcache.PrepCache`, in memory), so a what-if that changes
only draws or the response prepares nothing, and it writes only inside its
own output folder. The page is a front door like the command line and the Python API: every
what-if, sweep, route search, placement and inference runs through :mod:`sim.api` (the one
pipeline behind it, :mod:`sim.pipeline`), never the core's or the optimisers' own modules. The
scenario with ``KEY=TEXT`` overrides is validated by :func:`sim.scenario.with_overrides` (a bad
value raises the same one-line :class:`~sim.scenario.ScenarioError`), then run by
:func:`sim.api.run` (``keep_flights=False``, exactly as ``airpicture run`` runs it), so the
headline is the one it prints for the same seed and size; sweeps by :func:`sim.api.sweep`, the red
and blue teams by :func:`sim.api.evade` and :func:`sim.api.place`; downloads run it again through
:func:`sim.pipeline.simulate_to` (the same numbers, by the seed). A scenario with a public record
(``[[record]]``) is also answered "unwilling or unable" through :func:`sim.api.infer`, as
``airpicture infer`` answers it. :mod:`sim.api` (the optimisers, scipy) loads with the first
question that needs it.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as out:
...     p = Planner(out)
...     r = p.run("iraq_2012_transponder_off", [("detection.terrain", "false")], campaigns=4)
...     r["flights"], r["overrides"]
(60, ['detection.terrain=false'])
"""
import hashlib
import math
import re
import secrets
import shlex
import shutil
import threading
import time
import tomllib
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from sim import __version__
from sim.catalog import resolve_scenario, shipped_dir, shipped_scenarios
from sim.pipeline import load, simulate_to
from sim.prepcache import PrepCache
from sim.products.evade import toml_text
from sim.results import headline, overrides_text
from sim.scenario import (SCENARIO_MAX_BYTES, SEED_MAX, ScenarioError, parse_override_value, parse_scenario,
                          read_key, shown_text, split_override, with_overrides)
from sim.serve.controls import scenario_controls
from sim.serve.layers import map_geojson

__all__ = ["Planner", "PageError", "MAX_FLIGHTS", "TARGET_FLIGHTS", "MAX_SWEEP_VALUES", "MAX_RUNS_KEPT",
           "MAX_UPLOADS", "DOWNLOADS", "UPLOAD_MAX_BYTES", "TEAM_CAMPAIGNS", "MAX_BUDGETS", "EVADE_LEVELS",
           "PLACE_ADD_MAX", "PLACE_GRID_KM", "VALUE_MAX_DEPTH", "VALUE_MAX_DIGITS", "SHA256_SHOWN",
           "INFER_DOWNLOADS", "MAX_INFERS_KEPT"]

#: The largest run (campaigns x flights) the page starts; larger ones belong to ``airpicture run``.
MAX_FLIGHTS = 100_000
#: The page's default run size: the fewest campaigns with at least this many flights (about a second).
TARGET_FLIGHTS = 2_000
#: The most values of one sweep.
MAX_SWEEP_VALUES = 12
#: Runs whose downloads stay available (older ones are forgotten and their files removed).
MAX_RUNS_KEPT = 40
#: Uploaded scenarios kept (older ones are forgotten).
MAX_UPLOADS = 16
#: The largest scenario upload [bytes]: the largest scenario file the command line reads.
UPLOAD_MAX_BYTES = SCENARIO_MAX_BYTES
#: What a run offers to download: name -> (media type, what it is).
DOWNLOADS = {
    "whatif.toml": ("application/toml", "the what-if as a scenario file (the overrides applied)"),
    "summary.json": ("application/json", "the headline numbers"),
    "flights.csv": ("text/csv", "one row per flight"),
    "routes.geojson": ("application/geo+json", "the routes and radar sites"),
    "README.txt": ("text/plain", "what the files are"),
    "run.zip": ("application/zip", "all of the above"),
    "brief.pdf": ("application/pdf", "the one-page brief (runs the altitude curve and sensitivity: slower)"),
}
#: What an answer of "unwilling or unable" offers to download (``airpicture infer``'s files): name -> (media
#: type, what it is).
INFER_DOWNLOADS = {
    "infer.png": ("image/png", "the chart: could stop if willing against did stop, per period"),
    "prior_posterior.png": ("image/png", "each unknown's prior against its posterior"),
    "infer.json": ("application/json", "the numbers (docs/infer.schema.json)"),
    "posterior.nc": ("application/x-netcdf", "the posterior draws (ArviZ InferenceData, NetCDF-4)"),
    "README.txt": ("text/plain", "what the files are"),
}
#: Answers of "unwilling or unable" whose downloads stay available (older ones are forgotten, files removed).
MAX_INFERS_KEPT = 8
#: Campaigns of each red- or blue-team re-score unless the page says (the command line's default is the file's).
TEAM_CAMPAIGNS = 200
#: The most extra-distance budgets of one red-team search on the page.
MAX_BUDGETS = 6
#: The red team's levels as the page offers them -> ``--levels`` text.
EVADE_LEVELS = {"cruise": "cruise", "low": "low", "both": "cruise,low"}
#: The most radars the blue team adds on the page (more: ``airpicture place``).
PLACE_ADD_MAX = 3
#: The flyer's routes the page's limit on flights counts for the blue team against a flyer who adapts (each
#: re-scored against up to three layouts; the loop usually finds fewer).
PLACE_FLYER_ROUTES = 10
#: The blue team's candidate grid unless the page says [km] (coarse, to stay fast).
PLACE_GRID_KM = 50
#: The finest candidate grid the page searches [km].
PLACE_GRID_KM_MIN = 10
#: The command line's option of a red- or blue-team error -> the page's control it belongs to.
_TEAM_FIELDS = {"--max-extra-km": "evade-budgets", "--levels": "evade-levels", "--add": "place-add",
                "--like": "place-like", "--grid-km": "place-grid", "--against": "place-against"}
_RUN_FILES = ("summary.json", "flights.csv", "routes.geojson", "README.txt")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RUN_ID = re.compile(r"r[A-Za-z0-9_-]{16}")     # "r" + secrets.token_urlsafe(12): 96 random bits
_INFER_ID = re.compile(r"i[A-Za-z0-9_-]{16}")   # "i" + secrets.token_urlsafe(12): an answer of unwilling or unable
#: The deepest nesting of brackets in a value typed on the page (a TOML array or table; the files hold 3).
VALUE_MAX_DEPTH = 32
#: The longest run of digits in a value typed on the page [characters].
VALUE_MAX_DIGITS = 100
_DIGITS = re.compile(r"[0-9][0-9_]{%d,}" % VALUE_MAX_DIGITS)
_BRACKETS = re.compile(r"[\[\]{}]")


class PageError(ValueError):
    """Bad input from the page: ``str()`` is the one-line message; ``field`` the control it belongs to
    (a ``--set`` key, or ``campaigns``, ``seed``, ``scenario``, ``upload``, ``sweep``, ``run``);
    ``status`` the HTTP status to answer with; ``errors`` every ``(field, message)`` found (the first
    is this one's), when several controls hold bad values."""

    def __init__(self, message, field=None, status=400, errors=None):
        super().__init__(shown_text(message))
        self.field = field
        self.status = status
        self.errors = list(errors) if errors else [(field, str(self))]


@dataclass
class _Base:
    """A scenario the page can start from: its id, the name the command line knows it by, the scenario,
    and the SHA-256 of its file's bytes (hex; the page shows its first :data:`SHA256_SHOWN` digits)."""

    id: str
    name: str
    scenario: object
    shipped: bool
    sha256: str = ""


#: Hex digits of a scenario file's SHA-256 the page shows beside its name (48 bits).
SHA256_SHOWN = 12


def _loaded(arg):
    """``(scenario, sha256 hex)`` of a scenario file or shipped name, read as the command line reads it."""
    path = resolve_scenario(arg)
    return load(path), hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class _Record:
    """A finished run: what is needed to write its files again (by the seed, the same numbers)."""

    id: str
    base: _Base
    scenario: object
    campaigns: int
    seed: int
    summary: dict


def _int_field(text, field, lo, hi, what):
    try:
        value = int(str(text).strip())
    except ValueError:
        raise PageError(f"{field}: must be a whole number, got {shown_text(text)!r}", field) from None
    if not lo <= value <= hi:
        raise PageError(f"{field}: must be {what} ({lo:,} to {hi:,}), got {value:,}", field)
    return value


def _plain_value(text, field, what=None):
    """Refuse a typed value that no scenario holds and that would only strain the TOML reader: brackets
    nested deeper than :data:`VALUE_MAX_DEPTH` or a run of more than :data:`VALUE_MAX_DIGITS` digits
    (Python's reader recurses on the one and refuses integers of over 4,300 digits with a ValueError).
    Counted without recursion, before anything reads the value; ``what`` names it in the message
    (default: ``field``)."""
    what = field if what is None else what
    run = _DIGITS.search(text)
    if run is not None:
        raise PageError(f"{what}: a number of {len(run.group(0)):,} digits: at most {VALUE_MAX_DIGITS}", field)
    depth = 0
    for m in _BRACKETS.finditer(text):
        depth += 1 if m.group(0) in "[{" else -1
        if depth > VALUE_MAX_DEPTH:
            raise PageError(f"{what}: nested deeper than {VALUE_MAX_DEPTH} levels of brackets", field)


def _is_key(text):
    """Whether ``text`` is one whole ``--set`` key (:func:`sim.scenario.read_key`)."""
    try:
        read_key(text)
    except ScenarioError:
        return False
    return True


def _finite(value):
    """``value`` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):     # numpy scalars
        return _finite(value.item())
    return value


def safe_name(filename, default="upload.toml"):
    """A file name reduced to its last part and to ``[A-Za-z0-9._-]`` (at most 80 characters).

    >>> safe_name("../../etc/passwd"), safe_name("my what-if (2).toml"), safe_name("")
    ('passwd', 'my_what-if_2_.toml', 'upload.toml')
    """
    last = re.split(r"[\\/]", str(filename or ""))[-1]
    cleaned = _SAFE.sub("_", last).strip("._")[:80]
    return cleaned or default


class Planner:
    """The what-ifs of one server: the scenarios it offers, its runs, its output folder and its cache.

    Parameters
    ----------
    out_dir : path
        The only folder it writes (run files, briefs): one per server.
    scenarios : iterable of str
        Scenario files or shipped names offered first (validated now:
        :class:`~sim.scenario.ScenarioError`); every shipped scenario is offered too.
    max_flights : int
        The largest run it starts (:data:`MAX_FLIGHTS`).

    Methods are safe to call from several threads: simulations run one at a time.
    """

    def __init__(self, out_dir, scenarios=(), max_flights=MAX_FLIGHTS):
        self.out_dir = Path(out_dir).resolve()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.max_flights = int(max_flights)
        self.cache = PrepCache()
        self._lock = threading.RLock()
        self._bases = OrderedDict()
        self._uploads = []
        self._runs = OrderedDict()
        self._infers = OrderedDict()
        self._uploads_seen = 0
        self.runs_started = 0       # runs finished since the planner was made (ids are random: _RUN_ID)
        self.given = []
        for arg in scenarios:
            path = resolve_scenario(arg)
            shipped = path.parent.resolve() == shipped_dir().resolve()
            scenario, sha = _loaded(path)
            base = _Base(path.stem if shipped else f"file-{safe_name(path.name)}", path.stem if shipped else str(path),
                         scenario, shipped, sha)
            self._bases[base.id] = base
            self.given.append(base.id)

    # --- scenarios -------------------------------------------------------------------------------------
    def scenario_list(self):
        """The scenarios offered, given ones first: ``[{"id", "name", "title", "source"}]``."""
        out = [{"id": b.id, "name": b.name, "title": b.scenario.info.title, "source": "given"}
               for b in (self._bases[i] for i in self.given)]
        seen = {o["id"] for o in out}
        out += [{"id": s.name, "name": s.name, "title": s.title, "source": "shipped"}
                for s in shipped_scenarios() if s.name not in seen]
        out += [{"id": i, "name": self._bases[i].name, "title": self._bases[i].scenario.info.title,
                 "source": "uploaded"} for i in self._uploads]
        return out

    def default_scenario(self):
        """The id the page opens with: the first scenario given, else the baseline."""
        return self.given[0] if self.given else "iraq_2012_baseline"

    def base(self, scenario_id):
        """The scenario of an id (a shipped name is loaded on first use)."""
        sid = str(scenario_id or "")
        with self._lock:
            if sid in self._bases:
                return self._bases[sid]
            if sid not in {s.name for s in shipped_scenarios()}:
                raise PageError(f"scenario: no scenario {sid!r} on this page (choose one from the list, or upload "
                                "a file)", "scenario", 404)
            scenario, sha = _loaded(shipped_dir() / f"{sid}.toml")
            base = _Base(sid, sid, scenario, True, sha)
            self._bases[sid] = base
            return base

    def upload(self, filename, data):
        """Validate an uploaded scenario file (bytes) and offer it; returns its id.

        The file goes through the command line's checks (size, UTF-8, TOML,
        the scenario's rules: :class:`~sim.scenario.ScenarioError`, named by
        the file's name); it is never written to disk.
        """
        name = safe_name(filename)
        if len(data) > UPLOAD_MAX_BYTES:
            raise PageError(f"{name}: is over {UPLOAD_MAX_BYTES:,} bytes: a scenario file is at most 1 MiB",
                            "upload", 413)
        try:
            doc = tomllib.loads(bytes(data).decode("utf-8"))
        except UnicodeDecodeError:
            raise PageError(f"{name}: not valid UTF-8 text", "upload") from None
        except tomllib.TOMLDecodeError as e:
            raise PageError(f"{name}: not valid TOML: {e}", "upload") from None
        except (RecursionError, ValueError) as e:      # nesting past Python's stack, an integer of > 4,300 digits
            raise PageError(f"{name}: not readable TOML: nested too deeply or a number too long "
                            f"({type(e).__name__})", "upload") from None
        try:
            scenario = parse_scenario(doc, source=name)
        except ScenarioError as e:
            raise PageError(str(e), "upload") from None
        with self._lock:
            self._uploads_seen += 1
            base = _Base(f"upload-{self._uploads_seen}-{Path(name).stem}", name, scenario, False,
                         hashlib.sha256(bytes(data)).hexdigest())
            self._bases[base.id] = base
            self._uploads.append(base.id)
            while len(self._uploads) > MAX_UPLOADS:
                self._bases.pop(self._uploads.pop(0), None)
        return base.id

    def describe(self, scenario_id):
        """What the page shows of a scenario before any run: title, controls, run size and limits."""
        b = self.base(scenario_id)
        sc = b.scenario
        f = sc.run.flights
        return {"id": b.id, "name": b.name, "title": sc.info.title, "airspace": sc.airspace.name,
                **self.identity(b), "controls": scenario_controls(sc), "flights_per_campaign": f, "seed": sc.run.seed,
                "campaigns": self.default_campaigns(sc), "scenario_campaigns": sc.run.campaigns,
                "max_flights": self.max_flights, "has_response": sc.response is not None,
                "record": self._record_text(sc),
                "sweep_metrics": ["p_detect", "p_detect_in_airspace", "detected_per_campaign.mean"]
                + (["response.p_stopped"] if sc.response is not None else []),
                "team": {"campaigns": TEAM_CAMPAIGNS, "budgets_km": "0,100,200", "levels": list(EVADE_LEVELS),
                         "add_max": PLACE_ADD_MAX, "grid_km": PLACE_GRID_KM, "max_budgets": MAX_BUDGETS,
                         "like": [r.name for r in sc.radars if r.orbit is None]}}

    def _record_text(self, scenario):
        """The scenario's public record as the page lists it before any answer (None without a
        ``[[record]]``): per period its dates, flights and counts with their sources, and the capability
        points the page asks for by default (:meth:`infer_samples`; None when the scenario's unknowns are
        not ones ``airpicture infer`` can use: the answer then says why)."""
        if not scenario.record:
            return None
        from sim.api import flights_text       # scipy loads for a scenario with a record only
        periods = [{"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat(), "days": p.days,
                    "flights_text": flights_text(p), "flights_source": p.flights.source,
                    "flights_assumed": p.flights.assumed,
                    "observed": [{"kind": o.kind, "count": o.count, "source": o.source, "assumed": o.assumed}
                                 for o in p.observations]} for p in scenario.record]
        try:
            plan = self._infer_plan(scenario, None, self.default_campaigns(scenario))
            samples, cli, unknown = self.infer_samples(scenario, plan), plan.samples, [
                c.key for c in plan.capability]
        except PageError:
            samples, cli, unknown = None, None, []
        return {"periods": periods, "samples": samples, "samples_cli": cli, "capability": unknown}

    @staticmethod
    def identity(base):
        """What names a result's scenario and tool on the page: ``scenario_name`` (the command line's),
        ``sha256`` of its file's bytes, ``sha256_short`` (:data:`SHA256_SHOWN` digits) and ``version``."""
        return {"scenario_name": base.name, "sha256": base.sha256, "sha256_short": base.sha256[:SHA256_SHOWN],
                "version": __version__}

    @staticmethod
    def inputs(base, scenario, campaigns, seed):
        """The inputs a result was computed for: the scenario (id and file hash), the overrides applied
        (``KEY=TEXT``, in order), the campaigns and the seed. Two results with equal inputs are the same
        numbers (the seed addresses every draw)."""
        return {"scenario": base.id, "sha256": base.sha256, "overrides": list(scenario.overrides),
                "campaigns": campaigns, "seed": seed}

    def default_campaigns(self, scenario):
        """The page's run size: the scenario's campaigns, or fewer, the fewest with :data:`TARGET_FLIGHTS` flights."""
        return max(1, min(scenario.run.campaigns, math.ceil(TARGET_FLIGHTS / scenario.run.flights)))

    # --- what-ifs --------------------------------------------------------------------------------------
    def what_if(self, base, overrides):
        """The base scenario with ``[(key, text), ...]`` applied as ``KEY=TEXT``; a bad value raises
        :class:`PageError` with the command line's one-line message, on the control it belongs to."""
        texts = []
        for item in overrides or ():
            if not (isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(s, str) for s in item)):
                raise PageError("overrides: each must be a [key, value] pair of texts", "run")
            key, text = item[0].strip(), item[1].strip()
            if not _is_key(key):        # a key as --set reads it (a quoted name may hold "="), nothing after it
                raise PageError(f"overrides: not a key: {key!r}", "run")
            _plain_value(key, "run", "overrides: a key")
            _plain_value(text, key)
            texts.append(f"{key}={text}")
        try:
            return with_overrides(base.scenario, texts)
        except ScenarioError as e:
            errors = self._culprits(base, texts) or [(e.key or "run", str(e))]
            raise PageError(errors[0][1], errors[0][0], errors=errors) from None

    @staticmethod
    def _culprits(base, texts):
        """``(key, message)`` of every override refused on its own (the message ``--set`` alone gives);
        empty when only their combination is refused (e.g. ``track_m`` above a lowered ``track_n``)."""
        out = []
        for t in texts:
            try:
                with_overrides(base.scenario, [t])
            except ScenarioError as e:
                out.append((split_override(t)[0], str(e)))
        return out

    def _size(self, scenario, campaigns, seed, runs=1):
        c = self.default_campaigns(scenario) if campaigns in (None, "") else _int_field(
            campaigns, "campaigns", 1, 10**9, "at least 1")
        s = scenario.run.seed if seed in (None, "") else _int_field(seed, "seed", 0, SEED_MAX, "a seed")
        n = c * scenario.run.flights * runs
        if n > self.max_flights:
            what = f"{runs} runs of " if runs > 1 else ""
            raise PageError(f"campaigns: {what}{c:,} campaigns x {scenario.run.flights} flights = {n:,} flights; "
                            f"the page starts at most {self.max_flights:,} (airpicture run has no such limit)",
                            "campaigns")
        return c, s

    def run(self, scenario_id, overrides=(), campaigns=None, seed=None):
        """Run a what-if; returns the page's result (headline, tables, map layers, the command line)."""
        base = self.base(scenario_id)
        sc = self.what_if(base, overrides)
        c, s = self._size(sc, campaigns, seed)
        from sim import api     # the optimisers and scipy load with the first question
        with self._lock:
            t0 = time.perf_counter()
            r = api.run(sc, campaigns=c, seed=s, cache=self.cache, keep_flights=False)   # as airpicture run
            t2 = time.perf_counter()
            summary = r.summary
            layers = map_geojson(r.sim, r.result, self.cache)
            t3 = time.perf_counter()
            self.runs_started += 1
            rec = _Record(f"r{secrets.token_urlsafe(12)}", base, sc, c, s, summary)     # never guessed
            self._runs[rec.id] = rec
            while len(self._runs) > MAX_RUNS_KEPT:
                old, _ = self._runs.popitem(last=False)
                shutil.rmtree(self.out_dir / old, ignore_errors=True)
        changes = overrides_text(summary)
        return {"run_id": rec.id, "scenario_id": base.id, "scenario": base.name, **self.identity(base),
                "inputs": self.inputs(base, sc, c, s),
                "title": sc.info.title + (f" (what-if: {changes})" if changes else ""),     # as airpicture run says it
                "headline": headline(summary), "overrides": list(sc.overrides),
                "command": self.command(base, sc.overrides, c, s, sc.run.seed), "campaigns": c, "seed": s,
                "flights": c * sc.run.flights, "flights_per_campaign": sc.run.flights, "summary": summary,
                "layers": layers, "timing_s": {"prepare": round(r.timing_s["prepare"], 3), "run": round(r.timing_s["run"], 3),
                                               "map": round(t3 - t2, 3), "total": round(t3 - t0, 3)},
                "downloads": {name: f"/api/download/{rec.id}/{name}" for name in DOWNLOADS}}

    @staticmethod
    def command(base, overrides, campaigns, seed, file_seed, verb="run", extra=()):
        """The command line that gives the same numbers: ``airpicture run NAME --campaigns N --set ...``."""
        words = ["airpicture", verb, base.name, *extra, "--campaigns", str(campaigns)]
        if seed != file_seed:
            words += ["--seed", str(seed)]
        for t in overrides:
            words += ["--set", t]
        return shlex.join(words)

    def sweep(self, scenario_id, overrides, key, values_text, metric="p_detect", campaigns=None, seed=None):
        """P(detect) (or ``metric``) of the what-if against the values of one key (the same seed)."""
        from sim import api
        base = self.base(scenario_id)
        sc = self.what_if(base, overrides)
        key = str(key or "").strip()
        if not key:
            raise PageError("sweep: choose a key to vary", "sweep-key")
        texts = [t.strip() for t in str(values_text or "").split(",") if t.strip()]
        if not texts:
            raise PageError("sweep: give comma-separated values, e.g. 0,0.5,1", "sweep-values")
        if len(texts) > MAX_SWEEP_VALUES:
            raise PageError(f"sweep: at most {MAX_SWEEP_VALUES} values, got {len(texts)}", "sweep-values")
        _plain_value(key, "sweep-key", "sweep: the key")
        for t in texts:
            _plain_value(t, "sweep-values")
        values = [parse_override_value(t) for t in texts]
        c, s = self._size(sc, campaigns, seed, runs=len(values))
        for v in texts:      # every value validated before any run, with the command line's message
            try:
                with_overrides(sc, [f"{key}={v}"])
            except ScenarioError as e:
                raise PageError(str(e), "sweep-values" if e.key == key else "sweep-key") from None
        with self._lock:
            t0 = time.perf_counter()
            try:
                points = api.sweep(sc, key, values, campaigns=c, seed=s, metric=str(metric), cache=self.cache)
            except api.MetricError as e:
                raise PageError(str(e), "sweep-metric") from None
            elapsed = time.perf_counter() - t0
        return {"key": key, "metric": str(metric), "points": points, "campaigns": c, "seed": s,
                "inputs": self.inputs(base, sc, c, s),
                "flights_per_point": c * sc.run.flights, "elapsed_s": round(elapsed, 3),
                "command": self.command(base, sc.overrides, c, s, sc.run.seed, "sweep",
                                        ("--key", key, "--values", ",".join(texts), "--metric", str(metric)))}

    # --- red team and blue team ----------------------------------------------------------------------
    def _team_campaigns(self, sc, campaigns, seed, runs):
        """The re-score size of a red- or blue-team question: ``campaigns`` (default :data:`TEAM_CAMPAIGNS`)
        and the seed, refused when ``runs`` re-scores of it would exceed the page's flight limit."""
        c = TEAM_CAMPAIGNS if campaigns in (None, "") else _int_field(campaigns, "campaigns", 1, 10**9, "at least 1")
        s = sc.run.seed if seed in (None, "") else _int_field(seed, "seed", 0, SEED_MAX, "a seed")
        n = c * sc.run.flights * runs
        if n > self.max_flights:
            raise PageError(f"campaigns: {runs} runs of {c:,} campaigns x {sc.run.flights} flights = {n:,} flights; "
                            f"the page starts at most {self.max_flights:,} (the command line has no such limit)",
                            "campaigns")
        return c, s

    def evade(self, scenario_id, overrides, budgets_text="0,100,200", levels="cruise", campaigns=None, seed=None):
        """The red team: the least-detectable routes of the what-if (``airpicture evade``) as they will be
        flown (the scenario's sideways spread, each radar's availability and outages), each re-scored by the
        Monte Carlo; returns the front (one row per distinct route, the direct route first, with every budget
        it answers, its figures as flown, then on its planned track, and its lon/lat line) and the command
        line."""
        from sim.api import RESCORE_CANDIDATES, parse_budgets_km
        from sim.api import evade as _evade      # scipy loads when asked
        from sim.products.evade import front_points, front_rows

        base = self.base(scenario_id)
        sc = self.what_if(base, overrides)
        level_text = EVADE_LEVELS.get(str(levels or ""))
        if level_text is None:
            raise PageError(f"--levels: choose {', '.join(EVADE_LEVELS)}, got {shown_text(str(levels))!r}",
                            "evade-levels")
        texts = [t.strip() for t in str(budgets_text if budgets_text is not None else "").split(",") if t.strip()]
        try:
            budgets_m = parse_budgets_km(",".join(texts))
        except ScenarioError as e:
            raise PageError(str(e), "evade-budgets") from None
        if len(budgets_m) > MAX_BUDGETS:
            raise PageError(f"--max-extra-km: at most {MAX_BUDGETS} budgets on this page, got {len(budgets_m)}",
                            "evade-budgets")
        p_on = sc.aircraft.transponder_on_probability
        states = 1 if p_on in (0.0, 1.0) else 2
        spread = max(sc.routes, key=lambda r: r.weight).cross_track_sigma_m > 0
        # the most Monte Carlo runs of the search: the direct route, then per budget its best candidates as
        # flown (the previous budget's route is already run), each once more on its planned line with a spread
        per_budget = RESCORE_CANDIDATES + (1 if spread else 0)
        c, s = self._team_campaigns(sc, campaigns, seed, states * ((2 if spread else 1) + len(budgets_m) * per_budget))
        budgets = ",".join(texts)
        with self._lock:
            t0 = time.perf_counter()
            try:
                result = _evade(sc, budgets, levels=level_text, campaigns=c, seed=s, cache=self.cache)
            except ScenarioError as e:
                raise PageError(str(e), _TEAM_FIELDS.get(e.source, "evade")) from None
            elapsed = time.perf_counter() - t0
        front = []
        for (r, _), row in zip(front_points(result), front_rows(result)):
            sr = r.summary.get("response")
            front.append({"label": row["point"], "budgets_km": row["budgets_km"], "extra_km": row["extra_km"],
                          "level": r.level.label, "transponder": row["transponder"],
                          "flight_time_min": row["flight_time_min"], "fuel_t": row["fuel_t"],
                          "p_detect": r.p_detect, "p_detect_ci95": list(r.summary["p_detect_ci95"]),
                          "p_detect_ci95_text": r.summary["p_detect_ci95_text"], "p_stopped": r.p_stopped,
                          "p_stopped_ci95_text": None if sr is None else sr["p_stopped_ci95_text"],
                          "p_detect_planned_track": row["p_detect_planned_track"],
                          "p_stopped_planned_track": row["p_stopped_planned_track"],
                          "p_search_as_flown": row["p_search_as_flown"], "p_surrogate": r.p_surrogate,
                          "line": [[round(float(lon), 4), round(float(lat), 4)]
                                   for lat, lon in zip(r.lat_deg, r.lon_deg)]})
        return {"origin": result.origin.label, "dest": result.dest.label,
                "great_circle_km": round(result.great_circle_m / 1000.0, 3), "levels": level_text,
                "spread_km": round(result.spread_m / 1000.0, 3), "objective": result.objective,
                "front": _finite(front), "notes": list(result.notes), "campaigns": c, "seed": s,
                "inputs": self.inputs(base, sc, c, s),
                "flights_per_route": c * result.flights, "elapsed_s": round(elapsed, 3),
                "command": self.command(base, sc.overrides, c, s, sc.run.seed, "evade",
                                        ("--max-extra-km", budgets, "--levels", level_text))}

    def place(self, scenario_id, overrides, add="1", like="", grid_km=str(PLACE_GRID_KM), against="fixed",
              campaigns=None, seed=None):
        """The blue team: where ``add`` more copies of the radar ``like`` go (``airpicture place``, a grid of
        candidate sites) against the fixed flyer (the scenario's routes) or against a flyer who adapts (the
        route search answers each layout; minutes); returns the steps, the chosen sites and the re-scored
        P(detect), and against the flyer who adapts its answer first: today's radars and the layout placed for
        it, each against the flyer's best route, with that route's line."""
        from sim.api import DEFAULT_SELECT_CAMPAIGNS
        from sim.api import place as _place      # loads when asked
        from sim.products.place import converged_text, flyer_text, headline_text, route_words, steps_rows

        base = self.base(scenario_id)
        sc = self.what_if(base, overrides)
        against = str(against or "fixed")
        if against not in ("fixed", "adaptive"):
            raise PageError(f"--against: choose fixed or adaptive, got {shown_text(against)!r}", "place-against")
        try:
            k = int(str(add).strip())
        except ValueError:
            raise PageError(f"argument --add: must be a positive integer, got {shown_text(str(add))!r}",
                            "place-add") from None
        if not 1 <= k <= PLACE_ADD_MAX:
            raise PageError(f"--add: must be a whole number from 1 to {PLACE_ADD_MAX} on this page (airpicture "
                            f"place takes more), got {k}", "place-add")
        text = str(grid_km if grid_km is not None else "").strip()
        try:
            g = float(text)
        except ValueError:
            raise PageError(f"argument --grid-km: invalid float value: {shown_text(text)!r}", "place-grid") from None
        if math.isfinite(g) and 2.0 <= g < PLACE_GRID_KM_MIN:
            raise PageError(f"--grid-km: at least {PLACE_GRID_KM_MIN:g} km on this page (finer grids take longer: "
                            f"airpicture place), got {g:g}", "place-grid")
        like = str(like or "")
        runs = k + 1 + math.ceil(DEFAULT_SELECT_CAMPAIGNS / TEAM_CAMPAIGNS) + (
            1 + 3 * PLACE_FLYER_ROUTES if against == "adaptive" else 0)
        c, s = self._team_campaigns(sc, campaigns, seed, runs)
        with self._lock:
            t0 = time.perf_counter()
            try:
                result = _place(sc, k, like, grid_km=g, objective="detect", against=against, campaigns=c, seed=s,
                                cache=self.cache)
            except ScenarioError as e:
                raise PageError(str(e), _TEAM_FIELDS.get(e.source, "place")) from None
            elapsed = time.perf_counter() - t0
        rows = steps_rows(result)
        sites = [{"name": result.candidates[st.index].name, "k": st.k, "lat": result.candidates[st.index].lat_deg,
                  "lon": result.candidates[st.index].lon_deg} for st in result.steps]
        rs = result.rescore_layout
        adaptive = None
        if against == "adaptive":
            def layout(which, rescore):
                v, name = result.robust_value(which)
                return {"against_flyer": v, "route": route_words(result, name), "on_routes": rescore.value,
                        "on_routes_ci95": list(rescore.ci95)}
            best = next((f for f in result.flyer_routes if f.name == result.robust_value("layout")[1]), None)
            sites = [{"name": result.candidates[j].name, "k": n, "lat": result.candidates[j].lat_deg,
                      "lon": result.candidates[j].lon_deg} for n, j in enumerate(result.layout, start=1)]
            adaptive = {"answer": headline_text(result), "flyer": flyer_text(result),
                        "converged": converged_text(result), "rounds": len(result.rounds),
                        "today": layout("today", result.rescore_prefix[0]), "placed": layout("layout", rs),
                        "greedy": layout("fixed", result.rescore_fixed),
                        "best_route": None if best is None else {
                            "words": best.words(),
                            "line": [[round(float(lon), 4), round(float(lat), 4)]
                                     for lat, lon in zip(best.lat_deg, best.lon_deg)]}}
        return {"like": result.like, "add": result.add, "candidates": len(result.candidates), "against": against,
                "adaptive": _finite(adaptive),
                "candidate_source": result.candidate_source, "steps": _finite(rows), "sites": sites,
                "p_detect": rs.value, "p_detect_ci95": list(rs.ci95),
                "p_detect_before": result.rescore_prefix[0].value,
                "select_flights": result.select_flights_total, "campaigns": c, "seed": s,
                "flights_per_run": c * result.flights, "notes": list(result.notes), "elapsed_s": round(elapsed, 3),
                "command": self.command(base, sc.overrides, c, s, sc.run.seed, "place",
                                        ("--add", str(k), "--like", like, "--grid-km", format(g, "g"))
                                        + (("--against", "adaptive") if against == "adaptive" else ()))}

    # --- unwilling or unable: the public record -------------------------------------------------------
    @staticmethod
    def _infer_plan(scenario, samples, campaigns):
        """:func:`sim.api.infer_plan` of the what-if: its checks, the command line's messages, on the panel."""
        from sim import api     # the inference (scipy.stats, ArviZ) loads when asked
        try:
            return api.infer_plan(scenario, samples=samples, campaigns=campaigns)
        except ScenarioError as e:
            raise PageError(str(e), "infer-samples" if e.source == "--samples" else "infer") from None

    def infer_samples(self, scenario, plan):
        """The capability points the page asks for unless told: the command line's default (``plan``, of
        :func:`sim.api.infer_plan`), halved until the page's flight limit holds (at least one)."""
        n = plan.samples
        while n > 1 and n * plan.campaigns * plan.flights > self.max_flights:
            n //= 2
        return n

    def infer(self, scenario_id, overrides, samples=None, campaigns=None, seed=None):
        """Unwilling or unable: the posterior of the state's will per period of the scenario's ``[[record]]``
        and of its capability inputs (:func:`sim.api.infer`, as ``airpicture infer``), for the what-if with
        ``samples`` capability points of ``campaigns`` campaigns each and ``seed``. Returns infer.json's
        numbers (``summary``), the answer in words per period (``verdicts``), the inputs it was computed for,
        the command line that gives the same numbers and the downloads (:data:`INFER_DOWNLOADS`)."""
        from sim import api     # the inference (scipy.stats, ArviZ) loads when asked

        base = self.base(scenario_id)
        sc = self.what_if(base, overrides)
        n = None
        if samples not in (None, ""):
            text = str(samples).strip()
            try:
                n = int(text)
            except ValueError:
                n = 0
            if n < 1:        # argparse's message for --samples
                raise PageError(f"argument --samples: must be a positive integer, got {shown_text(text)!r}",
                                "infer-samples")
        c, s = self._size(sc, campaigns, seed)
        plan = self._infer_plan(sc, n, c)
        if n is None:
            plan = self._infer_plan(sc, self.infer_samples(sc, plan), c)
        if plan.flights_total > self.max_flights:
            raise PageError(f"--samples: {plan.samples:,} capability points x {c:,} campaigns x {plan.flights} "
                            f"flights = {plan.flights_total:,} flights; the page starts at most {self.max_flights:,} "
                            "(airpicture infer has no such limit)", "infer-samples")
        with self._lock:
            t0 = time.perf_counter()
            try:
                result = api.infer(sc, samples=plan.samples, campaigns=c, seed=s, cache=self.cache)
            except ScenarioError as e:
                raise PageError(str(e), "infer") from None
            elapsed = time.perf_counter() - t0
            iid = f"i{secrets.token_urlsafe(12)}"          # never guessed
            self._infers[iid] = (base, result)
            while len(self._infers) > MAX_INFERS_KEPT:
                old, _ = self._infers.popitem(last=False)
                shutil.rmtree(self.out_dir / old, ignore_errors=True)
        summary = result.summary
        return {"infer_id": iid, "scenario_id": base.id, "scenario": base.name, **self.identity(base),
                "title": sc.info.title, "inputs": {**self.inputs(base, sc, c, s), "samples": plan.samples},
                "summary": _finite(summary), "verdicts": [p["verdict_text"] for p in summary["periods"]],
                "samples": plan.samples, "campaigns": c, "seed": s, "flights_per_sample": summary["flights_per_sample"],
                "capability": [u.key for u in plan.capability], "will_range": list(plan.will_range),
                "elapsed_s": round(elapsed, 3), "timings_s": dict(result.timings_s),
                "command": self.command(base, sc.overrides, c, s, sc.run.seed, "infer",
                                        ("--samples", str(plan.samples))),
                "downloads": {name: f"/api/download/{iid}/{name}" for name in INFER_DOWNLOADS}}

    def _infer_download(self, infer_id, name):
        """``(path, media type, file name)`` of one of an answer's files (:data:`INFER_DOWNLOADS`), written on
        first request by :func:`sim.api.write_infer` inside the answer's folder of the output folder."""
        from sim import api
        if infer_id not in self._infers:
            raise PageError(f"download: no answer {shown_text(infer_id)!r} on this page (answers older than the "
                            f"last {MAX_INFERS_KEPT} are forgotten: run it again)", "download", 404)
        if name not in INFER_DOWNLOADS:
            raise PageError(f"download: no file {shown_text(name)!r} (have: {', '.join(INFER_DOWNLOADS)})",
                            "download", 404)
        base, result = self._infers[infer_id]
        where = self._inside(self.out_dir / infer_id / "infer")
        with self._lock:
            if not (where / "infer.json").is_file():
                api.write_infer(where, result)
        stem = f"{safe_name(result.scenario.info.name, 'scenario')}-{infer_id}"
        return self._inside(where / name), INFER_DOWNLOADS[name][0], f"{stem}-{name}"

    # --- downloads -------------------------------------------------------------------------------------
    def record(self, run_id):
        rid = str(run_id)
        if not _RUN_ID.fullmatch(rid) or rid not in self._runs:
            raise PageError(f"download: no run {shown_text(rid)!r} on this page (runs older than the last "
                            f"{MAX_RUNS_KEPT} are forgotten: run it again)", "download", 404)
        return self._runs[rid]

    def whatif_toml(self, run_id):
        """The run's what-if as scenario TOML text: the file's values with the overrides applied."""
        rec = self.record(run_id)
        sc = rec.scenario
        head = (f"What-if of {rec.base.name}, written by airpicture serve.",
                f"The overrides applied: {'; '.join(sc.overrides) if sc.overrides else 'none'}.",
                f"The page ran it with: {self.command(rec.base, sc.overrides, rec.campaigns, rec.seed, sc.run.seed)}",
                "(The original file's comments are not kept; its values are.)")
        text = toml_text(sc.raw, header=head)
        if tomllib.loads(text) != sc.raw:        # never a file that reads back as another scenario
            raise ValueError("the what-if does not read back as written (a value the TOML writer cannot hold)")
        return text

    def download(self, run_id, name):
        """``(path or bytes, media type, file name)`` of one of a run's downloads (:data:`DOWNLOADS`);
        the files are written on first request, inside the run's folder of the output folder. An answer of
        unwilling or unable (its id from :meth:`infer`) offers :data:`INFER_DOWNLOADS`."""
        if _INFER_ID.fullmatch(str(run_id)):
            return self._infer_download(str(run_id), name)
        rec = self.record(run_id)
        if name not in DOWNLOADS:
            raise PageError(f"download: no file {shown_text(name)!r} (have: {', '.join(DOWNLOADS)})", "download", 404)
        media = DOWNLOADS[name][0]
        stem = f"{safe_name(rec.scenario.info.name, 'scenario')}-{rec.id}"
        if name == "whatif.toml":
            return self.whatif_toml(run_id).encode("utf-8"), media, f"{stem}-whatif.toml"
        folder = "brief" if name == "brief.pdf" else "run"
        where = self._inside(self.out_dir / rec.id / folder)
        with self._lock:
            if not (where / ("brief.pdf" if folder == "brief" else "summary.json")).is_file():
                simulate_to(where, rec.scenario, campaigns=rec.campaigns, seed=rec.seed, brief=folder == "brief",
                            cache=self.cache)
            if name == "run.zip":
                z = self._inside(where.parent / "run.zip")
                if not z.is_file():
                    tmp = z.with_suffix(".zip.tmp")
                    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                        zf.writestr(f"{stem}/whatif.toml", self.whatif_toml(run_id))
                        for f in _RUN_FILES:
                            zf.write(where / f, f"{stem}/{f}")
                    tmp.replace(z)
                return z, media, f"{stem}.zip"
        return self._inside(where / name), media, f"{stem}-{name}"

    def _inside(self, path):
        """``path`` resolved, refused unless it lies inside the output folder."""
        p = Path(path).resolve()
        if not p.is_relative_to(self.out_dir):
            raise PageError("download: outside the page's folder", "download", 403)
        return p
