"""The adaptive flyer (double oracle): the route search answers each layout with the flyer's least-detectable
routes, those that beat the set join it, and the defender re-places against the worst case over the set
(:func:`~sim.optimise.placement.robust.robust_layout`), until the flyer cannot improve."""
import copy
import time
from dataclasses import dataclass, field

import numpy as np

from sim.optimise.placement.columns import _Columns
from sim.optimise.placement.rescore import _with_radars
from sim.optimise.placement.robust import RobustLayout, robust_layout
from sim.optimise.placement.sample import _flight_set
from sim.optimise.route import evade
from sim.scenario import parse_scenario

__all__ = ["FlyerRoute", "PlaceRound", "AdaptiveRun", "adaptive_loop", "flyer_budgets_km", "DEFAULT_MAX_EXTRA_KM",
           "DEFAULT_ROUNDS", "ADAPT_TOLERANCE", "FLYER_OFFSET_STEP_M", "FLYER_RESCORE_MARGIN",
           "FLYER_BUDGET_FRACTIONS"]

#: The adaptive flyer's extra-distance budget over the geodesic unless told [km].
DEFAULT_MAX_EXTRA_KM = 100.0
#: Re-placements of the adaptive loop at most (it stops sooner when the flyer cannot improve).
DEFAULT_ROUNDS = 20
#: The flyer's new route joins the set only if it is worse for the defender than every route of the set by
#: more than this (objective per flight, on the selection sample).
ADAPT_TOLERANCE = 0.01
#: A flyer route's columns are computed on sideways offsets this far apart [m] (each flight on the nearest;
#: the scenario's routes: :data:`sim.flights.OFFSET_STEP_M`, as the Monte Carlo reads its tables): its flights
#: spread over the scenario's spread, and a column's cost grows with the offsets it needs.
FLYER_OFFSET_STEP_M = 1_000.0
#: A layout is re-scored by the Monte Carlo against the flyer's routes whose objective on the selection sample is
#: within this of its worst route's there (3,000 flights: a standard error of about 0.005 at P = 0.9; the
#: others are ten of them above the worst).
FLYER_RESCORE_MARGIN = 0.05
#: The adaptive flyer's budgets in each round, as fractions of its largest (every route found joins the
#: set when it beats it: more routes per round, fewer rounds).
FLYER_BUDGET_FRACTIONS = (0.25, 0.5, 1.0)


# --- the flyer's routes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlyerRoute:
    """A route the adaptive flyer found: its waypoints, how it is flown (level, transponder, the sideways spread of
    its scenario document), and the search's P(detect) as flown against the layout it answered."""

    name: str                       # an identifier in the files (flyer-ROUND-BUDGETkm); :meth:`words` says it
    round: int                      # the round whose layout it answered (0: today's radars)
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    extra_m: float
    level: str                      # the level's label ("10,100 m AMSL", "300 m above ground")
    transponder_on: bool
    p_search: float                 # the search's P(detect) as flown against the layout it answered
    doc: dict = field(repr=False)   # its route scenario, flown with the spread (the layout it answered)
    budget_m: float = 0.0           # the extra-distance budget it was searched with

    def route_table(self):
        return copy.deepcopy(self.doc["route"][0])

    def key(self):
        """What makes two routes the same: transponder, level, waypoints (1e-6 degrees) and spread."""
        return (self.transponder_on, self.level, tuple(np.round(self.lat_deg, 6)), tuple(np.round(self.lon_deg, 6)),
                self.spread_m)

    @property
    def spread_m(self):
        """The sideways spread it is flown with (standard deviation) [m]."""
        return float(self.doc["route"][0].get("cross_track_sigma_km", 0.0)) * 1000.0

    def words(self):
        """The route in words: ``"+24 km at 300 m above ground, within 25 km extra, found in round 3"``."""
        found = "found against today's radars" if self.round == 0 else f"found in round {self.round}"
        return f"+{self.extra_m / 1000:,.0f} km at {self.level}, within {self.budget_m / 1000:g} km extra, {found}"


def flyer_budgets_km(max_extra_km):
    """The adaptive flyer's extra-distance budgets [km]: :data:`FLYER_BUDGET_FRACTIONS` of the largest."""
    return tuple(sorted({round(f * float(max_extra_km), 3) for f in FLYER_BUDGET_FRACTIONS}))


def _flyer_responses(scenario, layout_tables, round_no, budgets_km, levels, terrain, cache, projection,
                     progress=None):
    """The flyer's least-detectable routes against the scenario's radars plus ``layout_tables``: for each budget,
    the search's best route as flown (:func:`sim.optimise.route.evade`'s P(detect) as flown, ``p_search``: the
    scenario's sideways spread and each radar's availability) over every level of ``levels`` and each
    transponder state the scenario flies (routes found twice kept once). Its scenario document flies it with
    that spread. ``projection`` is the search grid's (the same for every layout). Returns the routes and the
    spread [m]."""
    doc = copy.deepcopy(scenario.raw)
    doc["radar"] = [*copy.deepcopy(doc.get("radar", [])), *copy.deepcopy(list(layout_tables))]
    sc = parse_scenario(doc, source=scenario.path, overrides=scenario.overrides)
    res = evade(sc, budgets_km, levels=levels, campaigns=1, flights=1, terrain=terrain, cache=cache, rescore=False,
                projection=projection, progress=progress)
    out, seen = [], set()
    for b in res.budgets_m:
        best = None
        for t in res.transponder_states:
            pts = [r for r in res.front.get(t, ()) if r.budget_m == b] or [res.direct[t]]
            r = pts[-1]
            if best is None or (r.p_search, r.extra_m) < (best.p_search, best.extra_m):
                best = r
        key = (best.transponder_on, best.level, tuple(np.round(best.lat_deg, 6)), tuple(np.round(best.lon_deg, 6)))
        if key in seen:
            continue
        seen.add(key)
        name = f"flyer-{round_no}-{b / 1000.0:g}km"
        rdoc = copy.deepcopy(best.doc)
        rdoc["route"][0]["name"] = name
        out.append(FlyerRoute(name, round_no, np.asarray(best.lat_deg, dtype=float),
                              np.asarray(best.lon_deg, dtype=float), float(best.extra_m), best.level.label,
                              bool(best.transponder_on), float(best.p_search), rdoc, float(b)))
    return out, res.spread_m


@dataclass(frozen=True)
class PlaceRound:
    """One round of the adaptive loop: the layout the flyer answered, its routes, and what the defender did."""

    round: int
    layout: tuple                   # candidate indices the flyer answered
    flyers: tuple                   # FlyerRoute per budget (distinct routes)
    flyer_values: tuple             # F of each for that layout (selection sample)
    worst_name: str                 # the worst route of the set for that layout, and its value (sample)
    worst_value: float
    added: tuple                    # the flyer's routes that joined the set (worse than the set's worst)
    new_layout: tuple | None        # the defender's re-placement (None: the loop ended, or today's radars)
    robust: "RobustLayout | None"

    @property
    def best(self):
        """The flyer's best answer of the round: its route with the least objective."""
        k = int(np.argmin(self.flyer_values))
        return self.flyers[k], float(self.flyer_values[k])

    @property
    def improved(self):
        return bool(self.added)


@dataclass(frozen=True)
class AdaptiveRun:
    """What the adaptive loop found (:func:`adaptive_loop`)."""

    rounds: tuple                   # PlaceRound per round
    flyers: tuple                   # every FlyerRoute found, in the order found
    layout: tuple                   # the layout reported: the best visited against every route found
    best_response: str              # the route of the set the flyer answers it with
    robust_sample: float            # min over every route found of F_r(layout), selection sample
    robust_bound: float             # no layout of K does better than this against every route found (sample)
    spread_m: float | None          # the sideways spread the flyer's routes are searched and flown with [m]
    converged: bool                 # the flyer's last answer did not beat the set
    against_flyer: dict             # "layout", "fixed", "today" -> the FlyerRoutes its re-score flies against
    columns: dict = field(default_factory=dict)   # flyer route -> (columns computed, seconds)


def adaptive_loop(scenario, tables, k, fixed_layout, fs_mix, cols_mix, cov_mix, coverage, objective, like_spec, models,
                  levels, budgets_km, rounds, select_campaigns, flights, select_seed, terrain, cache, timings, notes,
                  tick, begin):
    """The adaptive loop of :func:`~sim.optimise.placement.driver.place` against a flyer who re-routes.

    Round 0: the flyer (:func:`_flyer_responses`, one route search per layout, each of ``budgets_km`` at
    ``levels``) answers today's radars; round 1: the greedy layout ``fixed_layout``; then, while its routes
    beat every route of the set by more than :data:`ADAPT_TOLERANCE`, they join the set and the defender
    re-places ``k`` of the candidates' ``tables`` against the worst case over it
    (:func:`~sim.optimise.placement.robust.robust_layout`), at most ``rounds`` times. Each flyer route gets a
    flight set of its own (``select_campaigns`` x ``flights``, ``select_seed``) and columns
    (:class:`~sim.optimise.placement.columns._Columns`, sharing ``models``); ``coverage(fs, cols, rows, name)``
    makes a route's objective. ``fs_mix``, ``cols_mix`` and ``cov_mix`` are the scenario's flight set, columns
    and objective. ``timings`` (search_s, flyer_samples_s, replace_s, adaptive_s) and ``notes`` are added to;
    ``tick(n)`` and ``begin(what)`` report progress. Returns an :class:`AdaptiveRun`.
    """
    rounds_done, flyers = [], []
    flyer_cols = {}
    spread_m = None
    t0 = time.perf_counter()
    timings["search_s"] = timings["flyer_samples_s"] = timings["replace_s"] = 0.0
    projection = fs_mix.sim.airspace.transformer     # one search grid for every layout (the scenario's)
    # the scenario's routes, each on its own (the mix's columns, restricted to the route's flights)
    covs = {r.name: coverage(fs_mix, cols_mix, fs_mix.route_rows(i), r.name)
            for i, r in enumerate(fs_mix.sim.routes) if fs_mix.route_rows(i).size}
    found = dict(covs)          # every route found (the set, and the flyer's routes that did not join it)
    visited = [fixed_layout]
    stale = False               # routes joined the set since the current layout was placed
    # round 0: the flyer answers today's radars (no new ones); round 1: the greedy layout; from round 2 on,
    # the defender's re-placement against every route of the set
    answering = [(0, ()), (1, fixed_layout)]
    answered = {}               # layout -> the flyer's routes (the search is deterministic: asked once)
    by_key = {}                 # a route's level, transponder and waypoints -> the FlyerRoute found first
    replaced = 0
    while answering:
        rnd, lay = answering.pop(0)
        begin(f"round {rnd}: the flyer's route search against " + (
            "today's radars" if not lay else "the greedy layout" if rnd == 1 else f"re-placement {rnd - 1}"))
        if lay not in answered:     # (a layout answered before: its routes are in the set, none beats it)
            ts = time.perf_counter()
            got, spread_m = _flyer_responses(scenario, [tables[j] for j in lay], rnd, budgets_km, levels,
                                             terrain, cache, projection, tick)
            timings["search_s"] += time.perf_counter() - ts
            answers = []
            for flyer in got:
                key = flyer.key()
                if key in by_key:       # a route found before: the same flights
                    answers.append(by_key[key])
                    continue
                by_key[key] = flyer
                answers.append(flyer)
                flyers.append(flyer)
                fdoc = _with_radars(flyer.doc, scenario.raw.get("radar", []))
                fdoc.pop("uncertainty", None)
                if objective != "stopped":      # what a flight counts for needs no response (nor, for
                    fdoc.pop("response", None)  # detect, the airspace: the flight set's run has no fences)
                    fdoc.pop("interceptor", None)
                ts = time.perf_counter()
                fs = _flight_set(flyer.name, parse_scenario(fdoc, source=scenario.path), objective,
                                 select_campaigns, flights, select_seed, terrain, cache, FLYER_OFFSET_STEP_M)
                timings["flyer_samples_s"] += time.perf_counter() - ts
                flyer_cols[flyer.name] = _Columns(fs, tables, objective, terrain, cache, like_spec, models)
                found[flyer.name] = coverage(fs, flyer_cols[flyer.name], np.arange(fs.n), flyer.name)
            answered[lay] = tuple(answers)
        answers = answered[lay]
        values = [found[f.name].value(lay) for f in answers]
        vals = {name: c.value(lay) for name, c in covs.items()}
        worst_name = min(vals, key=lambda n: (vals[n], n))
        worst_v = vals[worst_name]
        improves = any(v < worst_v - ADAPT_TOLERANCE for v in values)
        added = tuple(f.name for f, v in zip(answers, values)          # the routes that beat the set
                      if v < worst_v - ADAPT_TOLERANCE and f.name not in covs)
        for name in added:              # every route found joins the set: each is flyable
            covs[name] = found[name]
        stale = stale or improves
        new_layout, rob = None, None
        if answering:                   # today's radars answered: the greedy layout next
            pass
        elif stale and replaced < rounds:
            ts = time.perf_counter()
            rob = robust_layout(list(covs.values()), k, incumbents=visited)
            timings["replace_s"] += time.perf_counter() - ts
            new_layout = rob.layout
            replaced += 1
            stale = False
            visited.append(new_layout)
            answering.append((replaced + 1, new_layout))
        elif stale:
            notes.append(f"the round limit ({rounds}) was reached: the flyer's last routes still beat every "
                         "route of the set; the layout reported is the best found against every route found")
        rounds_done.append(PlaceRound(rnd, lay, tuple(answers), tuple(values), worst_name, worst_v, added,
                                      new_layout, rob))
        tick(1)
    # the layout reported: the best of those visited against every route found (then against the fixed
    # flyer, then the later one); its value there, and the bound over the whole set of routes found
    scored = []
    for t, lay in enumerate(visited):
        v = {name: c.value(lay) for name, c in found.items()}
        worst = min(v, key=lambda n: (v[n], n))
        scored.append((v[worst], cov_mix.value(lay), t, lay, worst))
    robust_sample, _, _, layout, best_response = max(scored, key=lambda x: (x[0], x[1], x[2]))
    # no layout does better against every route found than against the set of the last re-placement (a
    # subset): its bound holds
    last = [r.robust for r in rounds_done if r.robust is not None]
    robust_bound = max((last[-1] if last else robust_layout(list(covs.values()), k, incumbents=visited)).bound,
                       robust_sample)
    timings["adaptive_s"] = time.perf_counter() - t0
    # the flyer's routes each layout is re-scored against: those within FLYER_RESCORE_MARGIN of its worst route
    # on the selection sample (the others cannot be its worst in the Monte Carlo)
    against_flyer = {}
    for label, lay in (("layout", layout), ("fixed", fixed_layout), ("today", ())):
        v = {name: c.value(lay) for name, c in found.items()}
        low = min(v.values())
        against_flyer[label] = [f for f in flyers if v[f.name] <= low + FLYER_RESCORE_MARGIN]
    return AdaptiveRun(tuple(rounds_done), tuple(flyers), layout, best_response, robust_sample, robust_bound, spread_m,
                       not stale, against_flyer, {n: (c.evaluated, c.seconds) for n, c in flyer_cols.items()})
