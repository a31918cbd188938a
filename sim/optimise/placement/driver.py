"""Where new radars should go (:func:`place`): the inputs checked, the candidates listed, the selection sample
drawn, the greedy layout against the scenario's routes, the adaptive loop against a flyer who re-routes, and
every layout re-scored by the full Monte Carlo."""
import copy
import math
import time
from pathlib import Path

import numpy as np

from sim.montecarlo import needs_terrain, scenario_airspace
from sim.optimise.placement.adaptive import DEFAULT_MAX_EXTRA_KM, DEFAULT_ROUNDS, adaptive_loop, flyer_budgets_km
from sim.optimise.placement.candidates import (CANDIDATE_LISTS, Candidate, _check_track, _like_table,
                                               candidate_table, grid_candidates, listed_candidates,
                                               orbit_grid_candidates)
from sim.optimise.placement.columns import (LOOP_PHASES, PHASES, TRACK_N_MAX, _Columns, flight_groups, reach_matrix,
                                            reach_points)
from sim.optimise.placement.readers import read_candidates, read_racetracks
from sim.optimise.placement.rescore import _rescore, _with_radars, placed_doc
from sim.optimise.placement.result import PlaceResult
from sim.optimise.placement.sample import OBJECTIVES, _flight_set
from sim.optimise.placement.selection import Coverage, lazy_greedy
from sim.optimise.route import parse_levels
from sim.platforms import Racetrack
from sim.prepcache import PrepCache
from sim.scenario import SEED_MAX, ScenarioError, shown_source

__all__ = ["place", "AGAINST", "SELECTION_SEED_OFFSET", "DEFAULT_SELECT_CAMPAIGNS", "ADD_MAX", "ROUNDS_MAX",
           "GRID_KM_MIN", "GRID_KM_MAX"]

#: The flyer: keeps to the scenario's routes (``fixed``) or re-routes around the layout (``adaptive``).
AGAINST = ("fixed", "adaptive")
#: The selection sample's seed is the re-score's plus this (modulo 2^63): never the re-score's sample.
SELECTION_SEED_OFFSET = 104_729
#: Campaigns of the selection sample unless told (times the scenario's flights per campaign).
DEFAULT_SELECT_CAMPAIGNS = 200
#: Grid spacing limits [km].
GRID_KM_MIN, GRID_KM_MAX = 2.0, 500.0
#: The largest number of radars to add.
ADD_MAX = 20
#: The most rounds of the adaptive loop.
ROUNDS_MAX = 50


def _check_inputs(scenario, add, objective, against, grid_km, candidates, max_extra_km, rounds, levels):
    if not isinstance(add, (int, np.integer)) or isinstance(add, bool) or not 1 <= add <= ADD_MAX:
        raise ScenarioError("--add", None, f"must be a whole number from 1 to {ADD_MAX}, got {add!r}")
    if objective not in OBJECTIVES:
        raise ScenarioError("--objective", None, f"must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if against not in AGAINST:
        raise ScenarioError("--against", None, f"must be one of {', '.join(AGAINST)}, got {against!r}")
    if candidates is not None and grid_km is not None:
        raise ScenarioError("--candidates", None, "give --candidates or --grid-km, not both")
    if grid_km is not None and not (math.isfinite(grid_km) and GRID_KM_MIN <= grid_km <= GRID_KM_MAX):
        raise ScenarioError("--grid-km", None, f"must be between {GRID_KM_MIN:g} and {GRID_KM_MAX:g} km, got {grid_km:g}")
    if not (math.isfinite(max_extra_km) and max_extra_km >= 0):
        raise ScenarioError("--max-extra-km", None, f"must be a distance of at least 0 km, got {max_extra_km:g}")
    if not isinstance(rounds, (int, np.integer)) or isinstance(rounds, bool) or not 1 <= rounds <= ROUNDS_MAX:
        raise ScenarioError("--rounds", None, f"must be a whole number from 1 to {ROUNDS_MAX}, got {rounds!r}")
    det = scenario.detection
    if against == "adaptive":
        parse_levels(levels, scenario)          # a bad --levels exits before any work
    if det.track_n - 1 > TRACK_N_MAX:
        raise ScenarioError(scenario.path, "detection.track_n", f"placement handles m-of-n windows up to "
                                                                f"{TRACK_N_MAX + 1} scans, got {det.track_n}")
    if objective == "stopped":
        r = scenario.response
        if r is None or not r.land_airports:
            raise ScenarioError("--objective", None, f"stopped needs the scenario's [response] with an order to land "
                                                     f"(order_to_land); {shown_source(scenario.path)} has none")


def place(scenario, add, like, *, candidates=None, grid_km=None, objective="detect", against="fixed",
          max_extra_km=DEFAULT_MAX_EXTRA_KM, levels=None, rounds=DEFAULT_ROUNDS, select_campaigns=None,
          campaigns=None, flights=None, seed=None, terrain=None, cache=None, progress=None, stage=None):
    """Where ``add`` more copies of the radar ``like`` should go, against a fixed or an adaptive flyer.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
    add : int
        K, the radars to add.
    like : str
        The name of the scenario's radar whose copies are placed: on a fixed site, or flying an orbit (then
        the candidates are :class:`Racetrack` orbits at its altitude and speed).
    candidates : path, {"airbases", "high-ground"}, or sequence of Candidate or Racetrack, optional
        A CSV of sites (:func:`read_candidates`) or of racetracks (:func:`read_racetracks`, for an orbiting
        ``like``), a list by name (:data:`CANDIDATE_LISTS`: the packaged airport table's airfields in the
        airspace, :func:`airbase_candidates`, or its highest ground, :func:`high_ground_candidates`; sites, so
        not for an orbiting ``like``), or the candidates themselves; default: a grid (``grid_km``).
    grid_km : float, optional
        Spacing of the candidate grid over the airspace [km] (default 25 when no candidates are given, for a
        ``like`` on a fixed site; an orbiting one has no default: :func:`orbit_grid_candidates`).
    objective : {"detect", "track-in-airspace", "stopped"}
    against : {"fixed", "adaptive"}
    max_extra_km : float
        The adaptive flyer's largest extra-distance budget over the geodesic [km]; it searches
        :data:`FLYER_BUDGET_FRACTIONS` of it (25, 50 and 100 km for 100).
    levels : str or tuple of sim.optimise.route.Level, optional
        The adaptive flyer's levels (:func:`sim.optimise.route.parse_levels`; default every level the route
        search takes by default: the scenario's cruise and terrain following at its clearance).
    rounds : int
        Most re-placements of the adaptive loop.
    select_campaigns : int, optional
        Campaigns of the selection sample (default :data:`DEFAULT_SELECT_CAMPAIGNS`).
    campaigns, flights, seed : int, optional
        The re-score's Monte Carlo (default: the scenario's ``[run]``); the selection sample uses
        ``seed + SELECTION_SEED_OFFSET``.
    terrain : geo.terrain.Terrain, optional
    cache : sim.prepcache.PrepCache, optional
        One cache for every candidate and re-score (existing radars are prepared once).
    progress : callable, optional
        ``progress(n)`` as work is done (greedy picks, the route search's steps, rounds, re-scores).
    stage : callable, optional
        ``stage(what, total, unit)`` as each stage begins: the selection sample, the greedy, each round of the
        adaptive loop (``what`` begins with "round "), the Monte Carlo re-scores (``total`` runs).

    Returns
    -------
    PlaceResult

    Raises
    ------
    sim.scenario.ScenarioError
        Bad input (exit status 2 at the command line).
    """
    t_start = time.perf_counter()
    timings = {}
    notes = []
    like_table, like_spec = _like_table(scenario, like)
    orbit = like_spec.orbit is not None
    if candidates is None and grid_km is None:
        if orbit:
            raise ScenarioError("--candidates", None, f"{like!r} flies an orbit: give its candidate racetracks "
                                                      "(--candidates FILE.csv with lat1,lon1,lat2,lon2[,name]), or "
                                                      "--grid-km G for copies of its racetrack centred on a grid")
        grid_km = 25.0
    _check_inputs(scenario, add, objective, against, grid_km, candidates, max_extra_km, rounds, levels)
    if objective == "stopped" and scenario.interceptors:
        notes.append("the selection counts the order to land only (a track inside the airspace early enough for "
                     "it); the Monte Carlo re-score has the interceptors too (docs/place.md)")
    if like_spec.kind.needs_transponder and scenario.aircraft.transponder_on_probability == 0.0:
        notes.append(f"{like} needs the transponder and every flight has it off: no copy of it can gain anything")
    cache = cache if isinstance(cache, PrepCache) else PrepCache(memory=cache)
    if terrain is None and (needs_terrain(scenario) or scenario.detection.terrain):
        terrain = cache.terrain()
    tick = progress or (lambda n: None)
    begin = stage or (lambda what, total=None, unit="step": None)

    t0 = time.perf_counter()
    # the scenario's airspace, built once: the candidates' grid, the selection sample's preparation (the same
    # part of the cache) and the adaptive flyer's search grid read it
    airspace = scenario_airspace(scenario, cache)
    if candidates is None and orbit:
        cands = orbit_grid_candidates(scenario, grid_km * 1000.0, like_spec, airspace)
        source = f"a {grid_km:g} km grid over {scenario.airspace.name}'s airspace (racetracks centred on it)"
    elif candidates is None:
        cands = grid_candidates(scenario, grid_km * 1000.0, like_spec.antenna_height_m, terrain, airspace)
        source = f"a {grid_km:g} km grid over {scenario.airspace.name}'s airspace"
    elif isinstance(candidates, str) and candidates in CANDIDATE_LISTS:
        if orbit:
            raise ScenarioError("--candidates", None, f"{candidates} lists sites for a --like radar on a fixed "
                                                      f"site; {like!r} flies an orbit: give racetracks (a CSV with "
                                                      "lat1,lon1,lat2,lon2[,name]) or --grid-km G")
        cands, source = listed_candidates(candidates, scenario, like_spec.antenna_height_m,
                                          terrain if terrain is not None or candidates == "airbases"
                                          else cache.terrain(), airspace)
    elif isinstance(candidates, (str, Path)):
        cands = (read_racetracks(candidates) if orbit else
                 read_candidates(candidates, scenario, like_spec.antenna_height_m, terrain))
        source = str(candidates)
    else:
        cands = tuple(candidates)
        source = "the racetracks given" if orbit else "the sites given"
        kind = Racetrack if orbit else Candidate
        if not cands or not all(isinstance(c, kind) for c in cands):
            raise ScenarioError("--candidates", None, f"give a CSV file or a sequence of {kind.__name__} "
                                                      f"{'racetracks' if orbit else 'sites'} ({like!r} "
                                                      f"{'flies an orbit' if orbit else 'stands on a fixed site'})")
        if orbit:
            cands = tuple(_check_track(c, ("--candidates", c.name)) for c in cands)
    existing = {r.name for r in scenario.radars}
    what = "racetrack" if orbit else "site"
    clash = [c.name for c in cands if c.name in existing]
    if clash:
        raise ScenarioError("--candidates", None, f"{what} {clash[0]!r} has the name of one of the scenario's radars")
    if len({c.name for c in cands}) != len(cands):
        raise ScenarioError("--candidates", None, f"two {what}s have the same name")
    if len(scenario.radars) + add > 200:
        raise ScenarioError("--add", None, f"the scenario has {len(scenario.radars)} radars: at most 200 in all")
    tables = tuple(candidate_table(like_table, like, c) for c in cands)
    k = min(int(add), len(cands))
    if k < add:
        notes.append(f"only {len(cands)} candidate {what}s: {k} placed")
    timings["candidates_s"] = time.perf_counter() - t0

    campaigns = int(campaigns or scenario.run.campaigns)
    flights = int(flights or scenario.run.flights)
    seed = scenario.run.seed if seed is None else int(seed)
    select_seed = (seed + SELECTION_SEED_OFFSET) % (SEED_MAX + 1)
    select_campaigns = int(select_campaigns or DEFAULT_SELECT_CAMPAIGNS)

    t0 = time.perf_counter()
    begin(f"the selection sample: {select_campaigns * flights:,} flights with today's radars")
    fs_mix = _flight_set("scenario", scenario, objective, select_campaigns, flights, select_seed, terrain, cache)
    timings["selection_sample_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    models = {}
    cols_mix = _Columns(fs_mix, tables, objective, terrain, cache, like_spec, models)
    points = reach_points(cands, like_spec)

    def coverage(fs, cols, rows, name):
        """The objective over flights ``rows`` of a flight set (each flight weighs 1 / len(rows)), its flights
        that can gain grouped by what decides their P_ij (:func:`flight_groups`)."""
        rows = np.asarray(rows, dtype=np.int64)
        rep, weight = flight_groups(fs, rows[fs.scale[rows] > 0])
        return Coverage(weight / len(rows), float(np.mean(fs.base[rows])) if len(rows) else 0.0,
                        lambda j: cols.column(j)[rep], reach_matrix(fs, rep, cands, like_spec, points), name)

    cov_mix = coverage(fs_mix, cols_mix, np.arange(fs_mix.n), "scenario")
    begin(f"greedy: {k} of {len(cands):,} candidate {what}s for the scenario's routes", k, what)
    steps, bounds = lazy_greedy(k, cov_mix)
    base_value = cov_mix.base
    fixed_layout = tuple(s.index for s in steps)
    timings["greedy_s"] = time.perf_counter() - t0
    tick(k)

    def doc_of(layout, label):
        names = ", ".join(cands[j].name for j in layout)
        return placed_doc(scenario, [tables[j] for j in layout], like, campaigns, flights, seed,
                          name=f"{scenario.info.name}-placed-{len(layout)}" + ("" if label == "layout" else f"-{label}"),
                          description=f"Written by airpicture place from scenario {scenario.info.name}: {len(layout)} "
                                      f"copies of {like} placed ({names}) for the objective {objective} against a "
                                      f"{'flyer who adapts' if label == 'layout' and against == 'adaptive' else 'fixed flyer'}.")

    levels = parse_levels(levels, scenario) if levels is None or isinstance(levels, str) else tuple(levels)
    budgets_km = flyer_budgets_km(max_extra_km)
    col_stats = {}                  # flight set -> (columns computed, seconds)
    adaptive = None
    if against == "adaptive":
        adaptive = adaptive_loop(scenario, tables, k, fixed_layout, fs_mix, cols_mix, cov_mix, coverage, objective,
                                 like_spec, models, levels, budgets_km, rounds, select_campaigns, flights,
                                 select_seed, terrain, cache, timings, notes, tick, begin)
        # the flyer's flight sets are gone with the loop; the candidates' models go too, before the runs
        col_stats.update(adaptive.columns)
        models.clear()
    layout = fixed_layout if adaptive is None else adaptive.layout

    t0 = time.perf_counter()
    src = scenario.path
    against_flyer = {} if adaptive is None else adaptive.against_flyer
    begin("Monte Carlo re-scores", k + 1 + ((1 + sum(map(len, against_flyer.values()))) if against == "adaptive"
                                            else 0), "run")
    prefix = []
    for m in range(k + 1):
        d = doc_of(fixed_layout[:m], "fixed" if (against == "adaptive" or m < k) else "layout")
        if m == 0:
            d = copy.deepcopy(scenario.raw)
            d.setdefault("run", {}).update(campaigns=campaigns, flights=flights, seed=seed)
        prefix.append(_rescore(f"{m} added", d, objective, terrain, cache, src, keep_sim=(m == k)))
        tick(1)
    rescore_fixed = prefix[-1]
    rescore_flyer = {}
    if against == "adaptive":
        rescore_layout = _rescore("layout", doc_of(layout, "layout"), objective, terrain, cache, src, keep_sim=True)
        tick(1)
        for label, rs in (("layout", rescore_layout), ("fixed", rescore_fixed), ("today", prefix[0])):
            for f in against_flyer[label]:
                fd = _with_radars(f.doc, rs.doc["radar"])
                fd["run"] = dict(rs.doc["run"])
                fd["scenario"]["name"] = f"{rs.doc['scenario']['name']}-{f.name}"
                rescore_flyer[(label, f.name)] = _rescore(f.name, fd, objective, terrain, cache, src)
                tick(1)
    else:
        rescore_layout = rescore_fixed
    timings["rescore_s"] = time.perf_counter() - t0
    evaluated = np.zeros(len(cands), dtype=bool)
    evaluated[list(cols_mix.computed)] = True
    col_stats["scenario"] = (cols_mix.evaluated, cols_mix.seconds)
    timings["columns_evaluated"] = int(sum(n for n, _ in col_stats.values()))
    timings["columns_s"] = sum(t for _, t in col_stats.values())
    timings["columns_per_set"] = {n: c for n, (c, _) in col_stats.items()}
    timings["total_s"] = time.perf_counter() - t_start
    a = adaptive
    return PlaceResult(
        scenario=scenario, like=like, add=k, objective=objective, against=against, candidates=cands,
        candidate_source=source, tables=tables, evaluated=evaluated,
        singleton=cov_mix.gains(np.zeros(len(cov_mix.w))), singleton_exact=cov_mix.exact.copy(), base_value=base_value,
        steps=tuple(steps), bounds=bounds, fixed_layout=fixed_layout,
        layout=layout, rounds=a.rounds if a else (),
        flyer_routes=a.flyers if a else (), best_response=a.best_response if a else None,
        robust_sample=a.robust_sample if a else None, robust_bound=a.robust_bound if a else None,
        rescore_prefix=tuple(prefix), rescore_layout=rescore_layout, rescore_fixed=rescore_fixed,
        rescore_flyer=rescore_flyer, select_seed=select_seed, select_campaigns=select_campaigns,
        select_flights=flights, select_flights_total=fs_mix.n, campaigns=campaigns, flights=flights, seed=seed,
        max_extra_km=float(max_extra_km) if against == "adaptive" else None,
        levels=levels if against == "adaptive" else None,
        flyer_budgets_km=budgets_km if against == "adaptive" else (), flyer_spread_m=a.spread_m if a else None,
        converged=a.converged if a else None, scan_phases=PHASES, loop_phases=LOOP_PHASES,
        timings_s=timings, notes=tuple(notes))
