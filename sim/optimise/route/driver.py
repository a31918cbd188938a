"""The least-detectable routes of a scenario, as they will be flown (:func:`evade`): the inputs checked, the
hazard fields (each radar's a cached part), every level's candidates searched, and the front, budget by
budget, chosen and re-scored by the Monte Carlo; each route written as a scenario of its own
(:func:`route_scenario_doc`)."""
import copy
import dataclasses
import time

import numpy as np
import shapely

from geo.coverage import country_polygon
from geo.terrain import load_terrain
from sim.aircraft import fuel_per_m_ratio
from sim.flights import OFFSET_CLIP_SIGMA
from sim.montecarlo import needs_terrain, prepare, run, scenario_airspace
from sim.optimise.route.grid import AVOID_BUFFER_CELLS, DEFAULT_SPACING_M, MAX_CELLS, route_length_m, search_grid
from sim.optimise.route.hazard import (ORBIT_PHASES, ORBIT_SPACING_M, PD_MAX, flown_exposures, level_altitude_m,
                                       offset_quantiles, p_flown, route_hazards, scan_hazard_per_s)
from sim.optimise.route.inputs import (_endpoint, _main_route, level_speed_mps, parse_avoid, parse_budgets_km,
                                       parse_levels)
from sim.optimise.route.result import EvadeResult, EvadeRoute
from sim.optimise.route.search import _Candidate, level_candidates
from sim.optimise.route.smooth import route_cost
from sim.prepcache import PrepCache
from sim.results import summarize
from sim.routes import route_time_and_fuel
from sim.scenario import ScenarioError, parse_scenario

__all__ = ["evade", "route_scenario_doc", "OBJECTIVES", "SPREAD_MAX_M", "RESCORE_CANDIDATES", "RESCORE_MARGIN"]

#: What the front can minimise as flown.
OBJECTIVES = ("p_detect", "p_stopped")
#: Largest sideways spread a route is flown with [m] (that of a route's cross_track_sigma).
SPREAD_MAX_M = 100_000.0
#: Candidates per budget re-scored by the Monte Carlo as flown (the search's best by its P as flown).
RESCORE_CANDIDATES = 3
#: Only candidates within this of the search's best P as flown are re-scored by the Monte Carlo.
RESCORE_MARGIN = 0.05


# --- scenarios of the routes ----------------------------------------------------------------------------
def route_scenario_doc(scenario, name, title, origin, dest, lat_deg, lon_deg, level, transponder_on,
                       campaigns=None, flights=None, description=None, spread_m=0.0):
    """A copy of the scenario's document whose one ``[[route]]`` is the given route, flown with a sideways
    spread of ``spread_m`` (0: exactly as planned).

    The route has weight 1, that spread, the level's cruise
    (``cruise_altitude_m`` or ``cruise_altitude_agl_m``) and the endpoints as
    given (airports by code); the waypoints between are ``{lat, lon}`` rounded
    to 1e-6 degrees (0.1 m). The transponder probability is set to the state
    searched; ``[uncertainty]`` entries about the old routes are dropped.
    """
    doc = copy.deepcopy(scenario.raw)
    mid = [{"lat": round(float(a), 6), "lon": round(float(b), 6)} for a, b in zip(lat_deg[1:-1], lon_deg[1:-1])]
    route = {"name": "least-detectable" if mid else "direct", "weight": 1.0,
             "waypoints": [origin.toml_value(), *mid, dest.toml_value()],
             "cross_track_sigma_km": round(float(spread_m) / 1000.0, 6)}
    route["cruise_altitude_m" if level.agl_m is None else "cruise_altitude_agl_m"] = (
        float(level.altitude_m) if level.agl_m is None else float(level.agl_m))
    doc["route"] = [route]
    sc = doc.setdefault("scenario", {})
    sc["name"], sc["title"] = name, title
    if description:
        sc["description"] = description
    aircraft = doc.setdefault("aircraft", {})
    aircraft["transponder_on_probability"] = 1.0 if transponder_on else 0.0
    for k in [k for k in aircraft if k.startswith("cruise_altitude") or k.startswith("cruise_flight_level")]:
        del aircraft[k]     # the route's level rules: no aircraft level left to contradict it
    aircraft["cruise_altitude_m" if level.agl_m is None else "cruise_altitude_agl_m"] = (
        float(level.altitude_m) if level.agl_m is None else float(level.agl_m))
    run_table = doc.setdefault("run", {})
    if campaigns is not None:
        run_table["campaigns"] = int(campaigns)
    if flights is not None:
        run_table["flights"] = int(flights)
    unc = doc.get("uncertainty")
    if isinstance(unc, dict):
        kept = {k: v for k, v in unc.items() if not k.startswith("route[")}
        if kept:
            doc["uncertainty"] = kept
        else:
            doc.pop("uncertainty")
    return doc


# --- the whole question ---------------------------------------------------------------------------------
def _transponder_states(scenario, transponder):
    if transponder is None:
        p = scenario.aircraft.transponder_on_probability
        return (p == 1.0,) if p in (0.0, 1.0) else (False, True)
    t = str(transponder).lower()
    states = {"on": (True,), "off": (False,), "both": (False, True)}
    if t not in states:
        raise ScenarioError("--transponder", None, f"must be on, off or both, got {transponder!r}")
    return states[t]


def _level_key(cache, grid, level, terrain, aircraft):
    """What the altitude flown at each cell reads (:func:`level_altitude_m`)."""
    gradients = (aircraft.terrain_climb_gradient, aircraft.terrain_descent_gradient) if level.agl_m else None
    return (grid.describe(), grid.allowed.shape, level.altitude_m, level.agl_m,
            None if (terrain is None or level.agl_m is None) else cache.terrain_key(terrain), gradients)


def _hazard_key(cache, radar, grid, level, transponder_on, terrain, aircraft):
    """What one radar's hazard field reads (:func:`scan_hazard_per_s` at :func:`level_altitude_m`; not its
    availability)."""
    part = (radar.kind.name, radar.platform, radar.range_m, radar.scan_period_s, radar.pd_constant, radar.pd_table,
            radar.refraction_k, radar.masking, None if radar.terrain is None else cache.terrain_key(radar.terrain))
    return (part, _level_key(cache, grid, level, terrain, aircraft), bool(transponder_on), ORBIT_PHASES,
            ORBIT_SPACING_M, PD_MAX)


def _cached_fields(cache, radars, grid, level, transponder_on, terrain, aircraft):
    """:func:`radar_fields`, each radar's field a part of the cache of its own (a layout that adds radars to
    the same grid computes only theirs), the altitude flown at each cell one too."""
    alt = []

    def altitude():
        if not alt:
            alt.append(cache.get("level_altitude", _level_key(cache, grid, level, terrain, aircraft),
                                 lambda: level_altitude_m(grid, level, terrain, aircraft)))
        return alt[0]

    out = np.zeros((len(radars), *grid.shape))
    for i, r in enumerate(radars):
        out[i] = cache.get("hazard", _hazard_key(cache, r, grid, level, transponder_on, terrain, aircraft),
                           lambda r=r: scan_hazard_per_s(r, grid.xyz, altitude(), transponder_on))
    return out


def evade(scenario, budgets_km=(0, 100, 200, 400, 800), *, origin=None, dest=None, levels=None, transponder=None,
          avoid=(), spacing_m=DEFAULT_SPACING_M, campaigns=None, flights=None, seed=None, terrain=None,
          cache=None, progress=None, spread_m=None, objective="p_detect", rescore=True, projection=None):
    """The least-detectable routes of a scenario as they will be flown, for a set of extra-distance budgets.

    Every route is searched, chosen and reported as flown: with the sideways
    spread (``spread_m``, default the scenario's most probable route's),
    each radar's availability and outages, and the transponder state.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
    budgets_km : sequence of float or str
        Extra distance over the geodesic between the endpoints [km]
        (``"0,100,200"`` as the command line writes it).
    origin, dest : str, optional
        ICAO codes of the endpoints (default: those of the scenario's most
        probable route).
    levels : str or tuple of Level, optional
        :func:`parse_levels` (default: the scenario's cruise level and terrain
        following at its clearance); each budget takes the level with the
        safest route.
    transponder : {"on", "off", "both"}, optional
        Default: the scenario's state when its probability is 0 or 1, else both.
    avoid : str or sequence of str
        Forbidden airspaces (ISO 3166-1 alpha-3), e.g. ``("TUR",)``.
    spacing_m : float
        Grid spacing [m] (coarser when the area would exceed :data:`MAX_CELLS`).
    campaigns, flights, seed : int, optional
        The Monte Carlo of the re-score (default: the scenario's).
    terrain : geo.terrain.Terrain, optional
    cache : sim.prepcache.PrepCache, optional
        Prepared parts (masking tables, detection tables, hazard fields).
    progress : callable, optional
        ``progress(n)`` after each search and each re-score.
    spread_m : float, optional
        Sideways spread the routes are flown with (standard deviation) [m]; 0 flies them exactly as planned.
    objective : {"p_detect", "p_stopped"}
        What the front minimises as flown (the Monte Carlo's figure among the search's best candidates).
    rescore : bool
        False: no Monte Carlo; each budget's route is the search's best by its own P(detect) as flown
        (``p_search``), and the routes carry their scenario documents but no summaries (``summary``,
        ``summary_planned`` and ``track`` None; ``p_surrogate`` and ``flight_time_s`` NaN): for a caller
        that needs only the search (the placement's adaptive flyer).
    projection : pyproj.Transformer, optional
        The projection of the search grid (lon/lat -> metres, ``always_xy``); default the scenario's
        airspace projection (:func:`sim.montecarlo.scenario_airspace`), which is centred on its routes and
        radars. A caller that searches the same endpoints against several layouts passes one, so that the
        grid, and each radar's cached hazard field, is the same for every layout.

    Returns
    -------
    EvadeResult

    Raises
    ------
    sim.scenario.ScenarioError
        Bad input: an unknown airport or country, a negative budget, an
        endpoint in a forbidden airspace, no route within the aircraft's range.
    """
    t_start = time.perf_counter()
    timings = {}
    budgets = parse_budgets_km(budgets_km)
    avoid = parse_avoid(avoid)
    levels = parse_levels(levels, scenario) if levels is None or isinstance(levels, str) else tuple(levels)
    states = _transponder_states(scenario, transponder)
    main = _main_route(scenario)
    o = _endpoint(origin, main.waypoints[0], "--from")
    d = _endpoint(dest, main.waypoints[-1], "--to")
    if (o.lat_deg, o.lon_deg) == (d.lat_deg, d.lon_deg):
        raise ScenarioError("--to", None, f"the destination {d.label} is the origin")
    if not spacing_m >= 1000.0:
        raise ScenarioError("--spacing-km", None, f"the grid spacing is at least 1 km, got {spacing_m / 1000:g} km")
    if objective not in OBJECTIVES:
        raise ScenarioError("--objective", None, f"must be {' or '.join(OBJECTIVES)}, got {objective!r}")
    spread = main.cross_track_sigma_m if spread_m is None else float(spread_m)
    if not 0.0 <= spread <= SPREAD_MAX_M:
        raise ScenarioError("--spread-km", None, f"must be 0 to {SPREAD_MAX_M / 1000:g} km, got {spread / 1000:g} km")
    cache = cache if isinstance(cache, PrepCache) else PrepCache(memory=cache)
    aircraft = scenario.aircraft
    great_circle = route_length_m([o.lat_deg, d.lat_deg], [o.lon_deg, d.lon_deg])
    range_m = getattr(aircraft, "range_m", None)
    notes = []
    if range_m is not None and great_circle > range_m:
        raise ScenarioError("--to", None, f"no route within the aircraft's range: {o.label}-{d.label} is "
                                          f"{great_circle / 1000:,.0f} km, the range {range_m / 1000:,.0f} km "
                                          "(aircraft.range_km)")
    if range_m is not None and budgets[-1] > range_m - great_circle:
        cap = range_m - great_circle
        notes.append(f"budgets above {cap / 1000:,.0f} km searched at {cap / 1000:,.0f} km: the aircraft's range "
                     f"is {range_m / 1000:,.0f} km")
        budgets = tuple(sorted({min(b, cap) for b in budgets}))
    campaigns = int(campaigns or scenario.run.campaigns)
    flights = int(flights or scenario.run.flights)
    seed = scenario.run.seed if seed is None else int(seed)
    speed = aircraft.cruise_speed_mps

    use_terrain = needs_terrain(scenario) or any(lv.agl_m is not None for lv in levels)
    if terrain is None and use_terrain:
        terrain = load_terrain()
    for p, what in ((o, "--from"), (d, "--to")):
        if terrain is not None and not (terrain.lat_min_deg <= p.lat_deg <= terrain.lat_max_deg
                                        and terrain.lon_min_deg <= p.lon_deg <= terrain.lon_max_deg):
            raise ScenarioError(what, None, f"{p.label} is outside the terrain model ({terrain.lat_min_deg:g}-"
                                            f"{terrain.lat_max_deg:g}N, {terrain.lon_min_deg:g}-"
                                            f"{terrain.lon_max_deg:g}E)")

    def name_for(label, t_on):
        both = f"-transponder-{'on' if t_on else 'off'}" if len(states) > 1 else ""
        return f"{scenario.info.name}-evade-{label}{both}"

    # the radars, their masking tables and the projection, through the core's own preparation (the direct route)
    t0 = time.perf_counter()
    direct_lat, direct_lon = np.array([o.lat_deg, d.lat_deg]), np.array([o.lon_deg, d.lon_deg])
    base_doc = route_scenario_doc(scenario, name_for("direct", states[0]), f"{scenario.info.title}: the direct route",
                                  o, d, direct_lat, direct_lon, levels[0], states[0], campaigns, flights)
    base = _parse(base_doc, scenario)
    sim0 = prepare(base, terrain, cache, with_fences=False, exact=True)     # the radar models (no tables needed)
    radars = sim0.radars
    transformer = scenario_airspace(scenario, cache).transformer if projection is None else projection
    avoid_m = []
    for code in avoid:
        poly = country_polygon(code, transformer)
        for p, what in ((o, "--from"), (d, "--to")):
            x, y = transformer.transform(p.lon_deg, p.lat_deg)
            if shapely.contains_xy(shapely.buffer(poly, AVOID_BUFFER_CELLS * spacing_m), x, y):
                end = "origin" if what == "--from" else "destination"
                raise ScenarioError("--avoid", None, f"{code} holds the {end} {p.label} (or lies within "
                                                     f"{AVOID_BUFFER_CELLS * spacing_m / 1000:g} km of it)")
        avoid_m.append(poly)
    grid = search_grid(transformer, (o.lat_deg, o.lon_deg), (d.lat_deg, d.lon_deg), budgets[-1], spacing_m,
                       terrain, tuple(avoid_m), margin_m=OFFSET_CLIP_SIGMA * spread)
    if grid.spacing_m != spacing_m:
        notes.append(f"grid spacing {grid.spacing_m / 1000:g} km (the area would need more than {MAX_CELLS:,} "
                     f"cells at {spacing_m / 1000:g} km)")
    timings["prepare_s"] = time.perf_counter() - t0

    # the search: per level and transponder state, every candidate route (the grid's, with one turn, crossing a
    # radar freely, polished; :func:`~sim.optimise.route.search.level_candidates`), each scored by the search's
    # P(detect) as flown (:func:`~sim.optimise.route.hazard.p_flown`)
    avail = np.array([r.availability for r in radars])
    offsets = offset_quantiles(spread)
    fields, per_radar, cands = {}, {}, {}
    t0 = time.perf_counter()
    for t_on in states:
        for lv in levels:
            fr = _cached_fields(cache, radars, grid, lv, t_on, terrain, aircraft)
            per_radar[(lv, t_on)], fields[(lv, t_on)] = fr, np.tensordot(avail, fr, axes=1)
            v = level_speed_mps(aircraft, lv)
            cands[(lv, t_on)] = level_candidates(grid, fr, avail, fields[(lv, t_on)], radars, lv, v, budgets,
                                                 (o, d), great_circle, spread, offsets)
            if progress is not None:
                progress(1)
    timings["search_s"] = time.perf_counter() - t0
    if not any(cands.values()):
        # every direct route crosses a forbidden airspace and no budget allows a way round
        raise ScenarioError("--avoid" if avoid else "--max-extra-km", None,
                            f"no route from {o.label} to {d.label}" + (f" avoiding {', '.join(avoid)}" if avoid else "")
                            + f" within {budgets[-1] / 1000:,.0f} km of extra distance"
                            + (f" and the aircraft's range ({range_m / 1000:,.0f} km)" if range_m else ""))

    # the re-score: each route flown with the spread (the headline) and, for the routes kept, exactly as
    # planned (the secondary figure); per budget the best of the search's few best candidates by the Monte
    # Carlo's objective, and the front made monotone in it (a larger budget never answers worse)
    t0 = time.perf_counter()
    rescored = {}

    def route_doc(lv, t_on, lat, lon, sigma_m):
        """The route's waypoints as written (1e-6 degrees, the endpoints exact), its length and its scenario."""
        lat, lon = np.round(lat, 6), np.round(lon, 6)
        lat[0], lon[0], lat[-1], lon[-1] = o.lat_deg, o.lon_deg, d.lat_deg, d.lon_deg
        length = route_length_m(lat, lon)
        if len(lat) == 2:          # the geodesic: "direct" at the first level, named with its level at another
            label = "direct" if lv == levels[0] else f"direct-{lv.key}"
            title = f"{scenario.info.title}: the direct route" + ("" if lv == levels[0] else f" at {lv.label}")
        else:
            label = f"{(length - great_circle) / 1000:.1f}km-{lv.key}"
            title = (f"{scenario.info.title}: least-detectable route ({(length - great_circle) / 1000:,.1f} km "
                     f"extra, {lv.label})")
        doc = route_scenario_doc(scenario, name_for(label, t_on),
                                 title, o, d, lat, lon, lv, t_on, campaigns, flights, spread_m=sigma_m,
                                 description=_description(scenario, o, d, lv, t_on, length - great_circle,
                                                          avoid, sigma_m))
        return lat, lon, length, doc

    def monte_carlo(lv, t_on, lat, lon, sigma_m):
        lat, lon, length, doc = route_doc(lv, t_on, lat, lon, sigma_m)
        key = (lv, t_on, tuple(lat), tuple(lon), sigma_m)
        if key not in rescored:
            sim = prepare(_parse(doc, scenario), terrain, cache)
            rescored[key] = (lat, lon, length, doc, summarize(sim, run(sim, campaigns, flights, seed,
                                                                        keep_flights=False)), sim)
            if progress is not None:
                progress(1)
        return rescored[key]

    def objective_of(summary):
        if objective == "p_stopped":
            return summary.get("response", {}).get("p_stopped", summary["p_detect"])
        return summary["p_detect"]

    def searched(label, budget, c):
        """The route of a candidate with the search's figures only (``rescore`` False)."""
        lat, lon, length, doc = route_doc(c.level, c.t_on, c.lat, c.lon, spread)
        return EvadeRoute(label, budget, c.level, c.t_on, lat, lon, length, length - great_circle,
                          route_cost(grid, fields[(c.level, c.t_on)], lat, lon, level_speed_mps(aircraft, c.level)),
                          c.search, c.method, float("nan"), float("nan"), doc, None, None, None, spread, c.p_flown)

    def finish(label, budget, c):
        if not rescore:
            return searched(label, budget, c)
        lat, lon, length, doc, summary, sim = flown = monte_carlo(c.level, c.t_on, c.lat, c.lon, spread)
        planned = monte_carlo(c.level, c.t_on, c.lat, c.lon, 0.0) if spread > 0 else flown
        track = planned[5].routes[0]                # the planned line: its hazards, time and fuel
        hz = route_hazards(planned[5].radars, track, c.t_on)
        cost = route_time_and_fuel(track, aircraft)
        time_s, fuel_kg = cost.flight_time_s, cost.fuel_kg
        return EvadeRoute(label, budget, c.level, c.t_on, lat, lon, length, length - great_circle,
                          route_cost(grid, fields[(c.level, c.t_on)], lat, lon, level_speed_mps(aircraft, c.level)),
                          c.search, c.method, float(-np.expm1(-np.sum(avail * hz))),
                          float(1.0 - np.prod(1.0 - avail * -np.expm1(-hz))), doc, summary, sim.routes[0],
                          planned[4], spread, c.p_flown, time_s, fuel_kg)

    ranges = {}

    def within_range(c):
        """Whether the aircraft can fly the route at its level: at low level it burns more fuel per km, so its
        range is shorter there (the route's scenario would be refused: sim.scenario checks it)."""
        if range_m is None or c.level.agl_m is None or c.length_m * low_ratio <= range_m:
            return True
        key = (c.level, tuple(np.round(c.lat, 6)), tuple(np.round(c.lon, 6)))
        if key not in ranges:
            try:
                _parse(route_scenario_doc(scenario, "range", "range", o, d, c.lat, c.lon, c.level, False), scenario)
                ranges[key] = True
            except ScenarioError:
                ranges[key] = False
        return ranges[key]

    low_ratio = float(fuel_per_m_ratio(aircraft.cruise_speed_mps, aircraft.low_level_speed_mps, aircraft.fuel))
    direct, front = {}, {}
    for t_on in states:
        lv0 = levels[0]
        p0 = p_flown(flown_exposures(grid, per_radar[(lv0, t_on)], direct_lat, direct_lon,
                                     level_speed_mps(aircraft, lv0), offsets), avail)
        direct[t_on] = finish("direct", None, _Candidate(p0, great_circle, lv0, direct_lat, direct_lon, None,
                                                         "direct", 0.0, t_on))
        points, best = [], None
        for b in budgets:
            pool = sorted({(round(c.p_flown, 6), c.length_m, c.level.label, tuple(np.round(c.lat, 6)),
                            tuple(np.round(c.lon, 6))): c for lv in levels for c in cands[(lv, t_on)]
                           if c.budget_m <= b and within_range(c)}.items())
            if not pool:
                notes.append(f"no route within {b / 1000:,.0f} km extra" + (f" avoiding {', '.join(avoid)}"
                                                                          if avoid else ""))
                continue
            if not rescore:                 # the search's best by its P as flown (the pool's order: then shorter)
                points.append(finish(f"{b / 1000:g}km", b, dataclasses.replace(pool[0][1], t_on=t_on)))
                continue
            near = [c for k, c in pool if k[0] <= pool[0][0][0] + RESCORE_MARGIN]
            top = [dataclasses.replace(c, t_on=t_on) for c in near[:RESCORE_CANDIDATES]]
            if best is not None:
                top.append(best)
            scored_mc = [(objective_of(monte_carlo(c.level, t_on, c.lat, c.lon, spread)[4]), c.length_m, i, c)
                         for i, c in enumerate(top)]
            best = min(scored_mc)[3]
            points.append(finish(f"{b / 1000:g}km", b, best))
        front[t_on] = tuple(points)
    timings["rescore_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    return EvadeResult(scenario, o, d, levels, states, budgets, avoid, grid, fields, direct, front, great_circle,
                       speed, campaigns, flights, seed, timings, tuple(notes), radars, spread, objective,
                       {lv: level_speed_mps(aircraft, lv) for lv in levels})


def _parse(doc, scenario):
    """Validate a route scenario's document (a bad one is the search's fault: say so plainly)."""
    return parse_scenario(doc, source=scenario.path, overrides=())


def _description(scenario, o, d, level, transponder_on, extra_m, avoid, spread_m):
    what = "the geodesic" if extra_m == 0 else f"a least-detectable route ({extra_m / 1000:,.1f} km extra flown)"
    flown = (f"flown with a sideways spread of {spread_m / 1000:g} km (standard deviation)" if spread_m > 0
             else "flown exactly as planned (no sideways spread)")
    return (f"Written by airpicture evade from scenario {scenario.info.name}: {what} from {o.label} to {d.label} at "
            f"{level.label}, transponder {'on' if transponder_on else 'off'}"
            + (f", avoiding {', '.join(avoid)}" if avoid else "") + f"; {flown}.")
