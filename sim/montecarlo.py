"""Monte Carlo: campaigns of flights, reproducible by seed whatever the chunking.

Every random number is addressed by (seed, campaign, flight, stream, scan)
(:mod:`sim.streams`), so chunks of campaigns are independent tasks: the
results are identical whatever the chunk size, the engine, the number of
workers or the order in which chunks finish, and the fast path reads the
same draws as the exact one.
"""
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.earth import horizon_distance_m
from geo.terrain import Terrain, masking_table
from sim.airspace import Airspace, build_airspace, scenario_points_deg
from sim.detection import in_coverage, m_of_n_track, platform_geometry, prepare_radar, scan_pd
from sim.engine import make_engine
from sim.fences import FENCE_STEP_S, flight_fence_figures, inside_airspace_at, route_fences
from sim.flights import OFFSET_CLIP_SIGMA, OFFSET_STEP_M, FlightBatch, PackedRoutes, offset_rows, pack_routes, positions_at
from sim.platforms import Orbit
from sim.prepcache import PrepCache, digest
from sim.routes import build_route, follows_terrain, route_inputs
from sim.response import flight_response
from sim.parquet import part_name, require_pyarrow, write_flights_part
from sim.results import RunTotals, flight_csv_text, flight_header
from sim.sample import FlightSample
from sim.scenario import Scenario
from sim.outages import up_states
from sim.streams import CAMPAIGN, RADAR_STREAM_BASE, STREAMS, flight_keys, keys_of_streams, uniforms_at
from sim.tables import ORBIT_SAMPLE_M, WINDOW_MARGIN_M, detection_table, orbit_reach

__all__ = ["Simulation", "RunResult", "ChunkDraws", "prepare", "scan_window", "simulate_chunk", "run",
           "needs_terrain", "scenario_airspace", "OFFSET_CLIP_SIGMA", "WALKS"]

#: How a run walks each flight's scans, by name: ``compiled`` (the default: :mod:`sim.walk`, one compiled
#: loop over the flights of a chunk per fixed radar and route), ``numpy`` (the same walk in growing numpy
#: blocks: the compiled loop's reference, byte-identical) and ``exact`` (every scan of every window from
#: its geometry, no detection tables: the reference of both).
WALKS = ("compiled", "numpy", "exact")



@dataclass(frozen=True)
class Simulation:
    """Everything deterministic about a scenario, prepared once."""

    scenario: Scenario
    routes: tuple           # RouteTrack per route
    packed: PackedRoutes
    radars: tuple           # RadarModel per radar
    scan_k0: np.ndarray     # (R, n_routes) first scan index worth sampling
    scan_count: np.ndarray  # (R, n_routes) scans sampled per flight
    route_p: np.ndarray     # (n_routes,) route probabilities
    airspace: Airspace
    terrain: Terrain | None  # the terrain model of the run (None: smooth Earth, no terrain following)
    fences: tuple           # RouteFences per route (the airspace, coverage); () without fences
    tables: tuple = ()      # [radar][route] DetectionTable of a fixed radar, OrbitReach of an orbiting one
    #                         (None: no window); () when prepared exact: every scan from geometry
    walk: str = "compiled"  # how flights are walked (:data:`WALKS`): the compiled loop, numpy blocks, or exact

    @property
    def orbit_radars(self):
        """Indices of the radars on an orbiting platform (each draws a loop phase per flight)."""
        return tuple(j for j, r in enumerate(self.radars) if isinstance(r.platform, Orbit))


@dataclass(frozen=True)
class RunResult:
    """A run: its totals, and its per-flight results (axis 0 = flight, in campaign order) when kept.

    With ``keep_flights=False`` (:func:`run`) the per-flight arrays are None
    and only :attr:`totals` remain (memory flat in the number of flights).
    """

    campaigns: int
    flights_per_campaign: int
    seed: int
    totals: RunTotals
    batch: FlightBatch | None
    radar_up: np.ndarray | None            # (F, R) bool
    tracked_by: np.ndarray | None          # (F, R) bool
    track_time_s: np.ndarray | None        # (F, R) time the radar formed its first track, NaN if none
    detected: np.ndarray | None            # (F,) bool
    first_detection_s: np.ndarray | None   # (F,) NaN if not detected
    first_radar: np.ndarray | None         # (F,) int, -1 if not detected
    detected_in_airspace: np.ndarray | None   # (F,) bool: a radar held a track while the flight was in the airspace
    minutes_in_airspace: np.ndarray | None    # (F,)
    minutes_in_coverage: np.ndarray | None    # (F,) in the geometric coverage of radars that can see it
    # (the last three are None when the simulation was prepared without fences)
    reaction_window_min: np.ndarray | None = None   # (F,) [response]: track in the airspace -> track lost or exit
    order_feasible: np.ndarray | None = None        # (F,) bool
    obeyed: np.ndarray | None = None                # (F,) bool
    interceptable: np.ndarray | None = None         # (F,) bool
    intercept_lat_deg: np.ndarray | None = None     # (F,) where the earliest interceptor meets it (NaN: none)
    intercept_lon_deg: np.ndarray | None = None
    intercept_t_s: np.ndarray | None = None         # (F,) when it meets the flight [s since departure]
    stopped_if_acted: np.ndarray | None = None      # (F,) bool: stopped were the state to act on it (will 1)
    outcome: np.ndarray | None = None               # (F,) int8, index into sim.response.OUTCOMES
    sample: FlightSample | None = None              # the run's fixed sample of flights, when asked (the brief's)


def needs_terrain(scenario):
    """Whether a scenario needs the terrain model (terrain masking, or a route cruising above ground)."""
    return scenario.detection.terrain or follows_terrain(scenario)


def scan_window(radar, route, refraction_k):
    """``(k0, count)``: the first scan index worth sampling and the number of scans sampled of a radar along a
    route (:class:`sim.routes.RouteTrack`): the route's samples within the radar's reach (instrumented range
    and smooth-Earth horizon) plus the route's sideways spread and a margin; ``(0, 0)`` when it never comes
    near. An orbit is taken at the nearest of its positions around the loop (at most ``ORBIT_SAMPLE_M``
    apart, that spacing added to the reach)."""
    p = radar.platform
    at, slack = (p.loop_samples(ORBIT_SAMPLE_M), ORBIT_SAMPLE_M) if isinstance(p, Orbit) else (p.xyz[None], 0.0)
    ground = np.min([platform_geometry(x, p.alt_m, route.xyz, route.alt_m)[0] for x in at], axis=0)
    reach = np.minimum(radar.range_m, horizon_distance_m(p.alt_m, route.alt_m, refraction_k))
    near = ground <= reach + OFFSET_CLIP_SIGMA * route.cross_track_sigma_m + WINDOW_MARGIN_M + slack
    if not near.any():
        return 0, 0
    t0, t1 = route.t_s[near][0], route.t_s[near][-1]
    return max(int(np.floor(t0 / radar.scan_period_s)) - 1, 0), int(np.ceil((t1 - t0) / radar.scan_period_s)) + 3


def _masking_task(terrain, i, lat, lon, antenna_alt_m, range_m, refraction_k, options):
    """One masking table (its range :data:`WINDOW_MARGIN_M` beyond the radar's), returned with its index
    ``i`` (a task of :meth:`sim.prepcache.PrepCache.prefetch` on a cluster)."""
    return i, masking_table(terrain, lat, lon, antenna_alt_m, range_m + WINDOW_MARGIN_M, refraction_k, **dict(options))


def _table_task(packed, i, route_index, duration_s, radar, offsets_m, t0_s, t1_s):
    """One detection table, for :meth:`sim.prepcache.PrepCache.prefetch` on a cluster."""
    return i, detection_table(packed, route_index, duration_s, radar, offsets_m, t0_s, t1_s)


def masking_builder(cache, terrain, refraction_k, options=(), inputs_seen=None):
    """The ``masking_builder`` of :func:`sim.detection.prepare_radar`: a fixed site's terrain masking table
    from ``cache`` (a :class:`~sim.prepcache.PrepCache`), computed there when not at hand. ``options`` are
    :func:`geo.terrain.masking_table`'s (sorted ``(name, value)`` pairs); ``inputs_seen`` (a dict), when
    given, maps each site asked for to its table's key."""
    terrain_key = cache.terrain_key(terrain)

    def builder(lat, lon, antenna_alt_m, range_m):
        inputs = (terrain_key, lat, lon, antenna_alt_m, range_m, refraction_k, options)
        if inputs_seen is not None:
            inputs_seen[(lat, lon, antenna_alt_m, range_m)] = inputs
        return cache.get("masking", inputs, lambda: _masking_task(terrain, 0, *inputs[1:])[1])
    return builder


def scenario_airspace(scenario, cache=None):
    """The :class:`~sim.airspace.Airspace` of a validated scenario (:func:`sim.airspace.build_airspace`), a part
    of ``cache``'s memory keyed by what it reads (the country, every route waypoint, radar site and orbit
    waypoint): :func:`prepare` and a caller that needs it beside a preparation (the placement's candidate grid,
    the route search's projection) build it once."""
    cache = cache if isinstance(cache, PrepCache) else PrepCache(memory=cache)
    return cache.memo("airspace_fence", (scenario.airspace.country, *scenario_points_deg(scenario)),
                      lambda: build_airspace(scenario))


def _prepared_routes(scenario, terrain, terrain_key, cache):
    """``(routes, keys)``: the scenario's routes as :func:`sim.routes.build_routes` builds them, and each one's
    :func:`_route_key`, parts of ``cache``'s memory keyed by what building the route reads
    (:func:`sim.routes.route_inputs`): a what-if of anything else (a transponder, an RCS, a radar, the
    response) builds no route again, and hashes no track again."""
    def built(spec):
        route = build_route(spec, scenario.aircraft, terrain=terrain)
        return route, _route_key(route)

    got = [cache.memo("route", route_inputs(spec, scenario.aircraft, terrain_key), lambda spec=spec: built(spec))
           for spec in scenario.routes]
    return tuple(r for r, _ in got), [k for _, k in got]


def _prepared_radars(scenario, terrain, terrain_key, builder, options, masking_inputs, cache):
    """``(radars, geometry_keys)``: each radar's model (:func:`sim.detection.prepare_radar`) and the key of its
    coverage (:func:`_radar_key`), parts of ``cache``'s memory keyed by what preparing the radar reads: its
    spec, the aircraft's RCS, the refraction and, with terrain masking, the terrain and masking options (its
    masking table, from ``builder``, is itself a part of the cache keyed by its inputs)."""
    det = scenario.detection
    masked = builder is not None

    def prepared(spec):
        radar = prepare_radar(spec, scenario.aircraft.rcs_m2, det.refraction_k, terrain if det.terrain else None,
                              builder)
        return radar, _radar_key(radar, terrain_key, masking_inputs)

    got = [cache.memo("radar", (spec, scenario.aircraft.rcs_m2, det.refraction_k, det.terrain,
                                terrain_key if det.terrain else None, options if masked else None),
                      lambda spec=spec: prepared(spec))
           for spec in scenario.radars]
    return tuple(r for r, _ in got), [k for _, k in got]


def prepare(scenario, terrain=None, cache=None, masking_options=None, with_fences=True, exact=False, engine=None,
            walk=None):
    """Build routes, radar models, scan windows and fences of a validated scenario.

    ``terrain`` is a :class:`geo.terrain.Terrain`; when the scenario needs it
    (:func:`needs_terrain`) and none is given, the packaged model is loaded,
    once, and kept by the returned simulation. With terrain masking on it
    also gives the radar site elevations the scenario leaves out. With
    terrain off, the Earth is smooth: sites without ``elevation_m`` are at 0 m.
    ``cache`` (a :class:`sim.prepcache.PrepCache` the caller owns, or a dict
    used as its memory) reuses every prepared part whose inputs are unchanged:
    terrain masking tables, detection tables, the fences' coverage and
    airspace rows (e.g. in sweeps, sensitivity, compare, repeated what-ifs).
    ``masking_options`` are passed to :func:`geo.terrain.masking_table`
    (``azimuth_step_deg``, ``range_step_m``) to change the table's bins.
    ``with_fences=False`` skips the airspace and coverage tables (the
    in-airspace figures of the results are then None), e.g. for sweeps.
    ``exact=True`` skips the detection tables: every scan of every flight
    is evaluated from its exact geometry (the reference of the fast path).
    ``engine`` (an engine object of :mod:`sim.engine`, e.g. a Dask cluster):
    the masking and detection tables not at hand are computed on it in
    parallel, one task each, before the rest (the same tables).
    ``walk`` (one of :data:`WALKS`; default ``compiled``, or ``exact`` with ``exact=True``): how the run
    walks each flight's scans; ``compiled`` and ``numpy`` give the same bytes.
    """
    walk = ("exact" if exact else "compiled") if walk is None else walk
    if walk not in WALKS:
        raise ValueError(f"walk must be one of {', '.join(WALKS)}, got {walk!r}")
    if exact and walk != "exact":
        raise ValueError(f"exact=True walks every scan exactly: walk={walk!r} contradicts it")
    exact = walk == "exact"
    det = scenario.detection
    cache = cache if isinstance(cache, PrepCache) else PrepCache(memory=cache)
    if terrain is None and needs_terrain(scenario):
        terrain = cache.terrain()
    terrain_key = None if terrain is None else cache.terrain_key(terrain)
    options = tuple(sorted((masking_options or {}).items()))
    masking_inputs = {}       # radar position -> what its masking table reads (its key: cheaper than its content)
    builder = masking_builder(cache, terrain, det.refraction_k, options, masking_inputs) if det.terrain else None

    routes, route_keys = _prepared_routes(scenario, terrain, terrain_key, cache)
    if engine is not None and builder is not None:     # the masking tables first, in parallel on the engine
        wanted = []
        for r in scenario.radars:          # what each radar asks for (a throwaway pass, no table built)
            prepare_radar(r, scenario.aircraft.rcs_m2, det.refraction_k, terrain,
                          lambda lat, lon, alt, rng: wanted.append((lat, lon, alt, rng)))
        cache.prefetch("masking", [((terrain_key, *w, det.refraction_k, options), (*w, det.refraction_k, options))
                                   for w in dict.fromkeys(wanted)], engine, _masking_task, terrain)
    radars, geometry_keys = _prepared_radars(scenario, terrain, terrain_key, builder, options, masking_inputs, cache)
    k0 = np.zeros((len(radars), len(routes)), dtype=np.int64)
    count = np.zeros((len(radars), len(routes)), dtype=np.int64)
    for j, radar in enumerate(radars):
        for i, route in enumerate(routes):     # what scan_window reads: the route, the radar's geometry and period
            k0[j, i], count[j, i] = cache.memo(
                "scan_window", (route_keys[i], geometry_keys[j], radar.scan_period_s, det.refraction_k),
                lambda radar=radar, route=route: scan_window(radar, route, det.refraction_k))
    w = np.array([r.weight for r in routes], dtype=float)
    packed = pack_routes(routes)
    pd_keys = [(geometry_keys[j], radar.pd_constant, radar.pd_table) for j, radar in enumerate(radars)]

    def window_s(i, j):
        """The times a radar's table along a route spans: its scan window and one scan more on each side."""
        period = radars[j].scan_period_s
        return (k0[j, i] - 1) * period, (k0[j, i] + count[j, i] + 1) * period

    def table_inputs(i, j):
        """A detection table's key, and what computing it takes."""
        route, radar = routes[i], radars[j]
        t0, t1 = window_s(i, j)
        args = (i, route.duration_s, radar, offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, OFFSET_STEP_M),
                t0, t1)
        return (route_keys[i], pd_keys[j], float(t0), float(t1)), args

    def table(i, j):
        inputs, args = table_inputs(i, j)
        return cache.get("detection", inputs, lambda: detection_table(packed, *args))

    pairs = [(i, j) for j, radar in enumerate(radars) for i in range(len(routes))
             if count[j, i] > 0 and not isinstance(radar.platform, Orbit)]
    if engine is not None and not exact:          # the detection tables in parallel on the engine
        cache.prefetch("detection", [table_inputs(i, j) for i, j in pairs], engine, _table_task, packed)

    def reach(i, j):
        """An orbit's reach bounds along a route (cheap: kept in memory only)."""
        route, radar = routes[i], radars[j]
        t0, t1 = window_s(i, j)
        return cache.memo("orbit_reach", (route_keys[i], geometry_keys[j], float(t0), float(t1)),
                          lambda: orbit_reach(route, radar, OFFSET_CLIP_SIGMA * route.cross_track_sigma_m, t0, t1))

    tables = () if exact else tuple(
        tuple(None if count[j, i] == 0 else reach(i, j) if isinstance(radar.platform, Orbit) else table(i, j)
              for i in range(len(routes)))
        for j, radar in enumerate(radars))
    airspace = scenario_airspace(scenario, cache)
    sim = Simulation(scenario, routes, packed, radars, k0, count, w / w.sum(), airspace, terrain, (), tables, walk)
    if not with_fences:
        return sim
    a = sim.airspace
    # a route's fence tables, whole (with what they derive once: sim.fences.RouteFences), in memory by the
    # keys of the parts they are made of (its airspace rows, its coverage rows of every radar) and the rest
    # they read (which radars are on, which need no transponder, the clip)
    return dataclasses.replace(sim, fences=route_fences(
        sim, OFFSET_CLIP_SIGMA,
        coverage_part=lambda i, j, compute: cache.get("coverage", (route_keys[i], geometry_keys[j]), compute),
        airspace_part=lambda i, compute: cache.get("airspace", (route_keys[i], a.iso_a3, a.centre_lat_deg, a.centre_lon_deg),
                                                   compute),
        fences_part=lambda i, reads, compute: cache.memo(
            "route_fences", (route_keys[i], (a.iso_a3, a.centre_lat_deg, a.centre_lon_deg), tuple(geometry_keys), reads),
            compute)))


def _route_key(route):
    """What a route's tables read of it: its track (by content) and its sideways spread."""
    return digest(route.t_s, route.xyz, route.alt_m, route.duration_s, route.cross_track_sigma_m)


def _radar_key(radar, terrain_key, masking_inputs):
    """What a radar's coverage reads of it: its kind, platform, range, refraction and terrain (its masking
    table by the inputs that made it; not its Pd, availability or name)."""
    p = radar.platform
    masking = None if radar.masking is None else masking_inputs[(p.lat_deg, p.lon_deg, p.alt_m, radar.range_m)]
    return digest(radar.kind.name, p, radar.range_m, radar.refraction_k, masking,
                  terrain_key if radar.terrain is not None else None)


class ChunkDraws:
    """The per-flight draws of a chunk (counter-based, :mod:`sim.streams`), shape (F,) or (F, R)."""

    def __init__(self, sim, seed, first, n_campaigns, flights):
        from scipy.special import ndtri      # loads with the first chunk: the command line starts without it
        R = len(sim.radars)
        campaign = np.repeat(np.arange(first, first + n_campaigns, dtype=np.uint64), flights)
        flight = np.tile(np.arange(flights, dtype=np.uint64), n_campaigns)

        cfg, aircraft = sim.scenario.run, sim.scenario.aircraft

        def stream(name, radar=None):
            return STREAMS[name] + (0 if radar is None else RADAR_STREAM_BASE * (1 + radar))

        # every uniform the chunk draws per flight: (stream, per campaign)
        wanted = [(stream("route"), cfg.route_choice == "per_campaign"), (stream("offset"), False),
                  (stream("transponder"), aircraft.transponder_policy == "per_campaign"),
                  *((stream(name, j), False) for name in ("up", "scan_phase") for j in range(R)),
                  *((stream("orbit_phase", j), False) for j in sim.orbit_radars),
                  *((stream(name), False) for name in ("comply", "escort", "will"))]
        scan_streams = [stream("scan", j) for j in range(R)]
        if sim.walk == "compiled":        # one compiled pass over the flights (sim.walk.chunk_draws), same bits
            from sim.walk import chunk_draws
            drawn = np.empty((len(wanted), len(campaign)))
            scan_keys = np.empty((R, len(campaign)), dtype=np.uint64)
            chunk_draws(np.uint64(seed), int(first), int(n_campaigns), int(flights),
                        np.array([w for w, _ in wanted], dtype=np.uint64), np.array([p for _, p in wanted], dtype=bool),
                        np.array(scan_streams, dtype=np.uint64), drawn, scan_keys)
            got = dict(zip(wanted, drawn))
            self.scan_keys = list(scan_keys)
        else:
            own = flight_keys(seed, campaign, flight)     # what every stream of a flight shares, hashed once
            got = {}
            if any(p for _, p in wanted):
                by_campaign = np.repeat(flight_keys(seed, np.arange(first, first + n_campaigns, dtype=np.uint64),
                                                    CAMPAIGN), flights)
            for w, p in wanted:
                got[(w, p)] = uniforms_at(keys_of_streams(by_campaign if p else own, w), 0)
            self.scan_keys = [keys_of_streams(own, w) for w in scan_streams]

        def u(name, radar=None, per_campaign=False):
            """A uniform per flight, or per campaign (repeated for its flights)."""
            return got[(stream(name, radar), bool(per_campaign))]

        needs = np.array([r.kind.needs_transponder for r in sim.radars], dtype=bool)
        if sim.walk == "compiled" and all(r.mean_outage_s is None for r in sim.scenario.radars):
            # the route, transponder, radars up and seeing, in one compiled pass over the drawn rows (same values)
            from sim.walk import chunk_flights
            F = len(campaign)
            route, transponder_on = np.empty(F, dtype=np.int64), np.empty(F, dtype=bool)
            self.up, self.sees = np.empty((F, R), dtype=bool), np.empty((F, R), dtype=bool)
            row = {w: i for i, w in enumerate(wanted)}
            chunk_flights(drawn, row[(stream("route"), cfg.route_choice == "per_campaign")],
                          row[(stream("transponder"), aircraft.transponder_policy == "per_campaign")],
                          np.array([row[(stream("up", j), False)] for j in range(R)], dtype=np.int64),
                          np.cumsum(sim.route_p), float(aircraft.transponder_on_probability),
                          np.array([r.availability for r in sim.scenario.radars], dtype=float), needs,
                          route, transponder_on, self.up, self.sees)
            first = row[(stream("scan_phase", 0), False)] if R else 0
            self.scan_phase = drawn[first:first + R].T       # (F, R): a view, each radar's column contiguous
        else:
            u_route = u("route", per_campaign=cfg.route_choice == "per_campaign")
            route = np.minimum(np.searchsorted(np.cumsum(sim.route_p), u_route, side="right"), len(sim.routes) - 1)
            transponder_on = u("transponder", per_campaign=aircraft.transponder_policy == "per_campaign") \
                < aircraft.transponder_on_probability
            dt_s = 86_400.0 / cfg.flights_per_day      # the campaign's calendar: one flight every dt_s

            def up(j, r):
                if r.mean_outage_s is None:          # the format's default: up or down per flight
                    return u("up", j) < r.availability
                return up_states(u("up", j).reshape(n_campaigns, flights), r.availability, r.mean_outage_s,
                                 dt_s).ravel()

            self.up = np.column_stack([up(j, r) for j, r in enumerate(sim.scenario.radars)]) if R else \
                np.zeros((len(route), 0), dtype=bool)
            # (F, R), each radar's column contiguous (a view of radars x flights): the walk reads one column at a time
            self.scan_phase = np.array([u("scan_phase", j) for j in range(R)]).T if R else np.zeros((len(route), 0))
            # the radars up for each flight that can see it (a secondary radar needs the transponder)
            self.sees = self.up & (transponder_on[:, None] | ~needs[None, :])
        sigma = np.array([r.cross_track_sigma_m for r in sim.routes])[route]
        self.batch = FlightBatch(
            campaign=campaign.astype(np.int64), flight=flight.astype(np.int64), route_index=route,
            cross_track_m=np.clip(ndtri(u("offset")), -OFFSET_CLIP_SIGMA, OFFSET_CLIP_SIGMA) * sigma,
            transponder_on=transponder_on,
        )
        self.orbit_phase = {j: u("orbit_phase", j) for j in sim.orbit_radars}
        self.comply = u("comply")          # whether an order to land is obeyed
        self.escort = u("escort")          # whether an intercepted crew obeys its escort
        self.will = u("will")              # whether the state acts on a flight held in track in time


#: Largest flights x scans block walked at once (bounds the walk's memory: about 14 gathered floats each).
_BLOCK_ELEMENTS = 1 << 20
#: "No such scan" in scan-index arrays (scan indices may be negative: before departure).
_NO_SCAN = np.iinfo(np.int64).min


def _held(carry, hits, m, n):
    """m of the last n scans at each scan of ``hits`` (F, B), given the previous n - 1 scans ``carry``."""
    w = np.concatenate([carry, hits], axis=1)
    cs = np.concatenate([np.zeros((len(w), 1), dtype=np.int32), np.cumsum(w, axis=1, dtype=np.int32)], axis=1)
    return (cs[:, n:] - cs[:, :hits.shape[1]]) >= m, w[:, w.shape[1] - (n - 1):]


def _exact_pair(sim, j, i, idx, draws, det):
    """Every scan of the window of radar ``j`` on route ``i``: exact geometry per scan (the reference).

    Returns ``(tracked, track_t, held, t)`` for the flights ``idx`` (held: the m-of-n rule per scan).
    """
    radar = sim.radars[j]
    b = draws.batch
    k = sim.scan_k0[j, i] + np.arange(int(sim.scan_count[j, i]))
    t = (draws.scan_phase[idx, j, None] + k) * radar.scan_period_s
    xyz, alt, airborne = positions_at(sim.packed, b.route_index[idx], b.cross_track_m[idx], t)
    loop_phase = draws.orbit_phase[j][idx, None] if j in draws.orbit_phase else None
    covered, slant = in_coverage(radar, xyz, alt, t, loop_phase)
    hits = airborne & covered & (uniforms_at(draws.scan_keys[j][idx, None], k) < scan_pd(radar, slant, True))
    tracked, first, held = m_of_n_track(hits, det.track_m, det.track_n)
    return tracked, t[np.arange(len(idx)), np.maximum(first, 0)], held, t


def _blocks(keys, phase, pd_at, period_s, k_start, k_stop, carry_from, m, n, want):
    """Walk scans in growing blocks from ``k_start`` to ``k_stop`` (per flight) until ``want`` holds.

    ``pd_at(sel, ks, t)`` gives the per-scan Pd of the flights ``sel`` at scans ``ks`` (times ``t``);
    ``want(held, t, ks, sel)`` marks the scans that end their walk; held counts only from scan
    ``carry_from`` (earlier scans are replayed to fill the m-of-n memory with the same draws).
    Returns the first such scan per flight (:data:`_NO_SCAN` if none).
    """
    out = np.full(len(keys), _NO_SCAN, dtype=np.int64)
    act = np.flatnonzero(k_start <= k_stop)
    kc = k_start[act]
    carry = np.zeros((len(act), n - 1), dtype=bool)
    width = 8
    while act.size:
        ks = kc[:, None] + np.arange(width)
        t = (phase[act, None] + ks) * period_s
        pd = pd_at(act, ks, t)
        pd[ks > k_stop[act, None]] = 0.0
        hits = uniforms_at(keys[act, None], ks) < pd
        held, carry = _held(carry, hits, m, n)
        hit = want(held & (ks >= carry_from[act, None]), t, ks, act)
        got = hit.any(axis=1)
        out[act[got]] = kc[got] + np.argmax(hit[got], axis=1)
        kc = kc + width
        keep = ~got & (kc <= k_stop[act])
        act, kc, carry = act[keep], kc[keep], carry[keep]
        width = int(np.clip(_BLOCK_ELEMENTS // max(act.size, 1), 8, 2 * width))
    return out


def _fast_pair(sim, j, i, idx, draws, det, airspace_at):
    """Radar ``j`` on route ``i``, each flight walked from its first possibly covered scan to its track.

    A fixed radar reads its detection table (and starts at the flight's first covered scan); an
    orbiting radar evaluates the exact geometry of the scans walked, from the first its reach bounds
    allow (:class:`sim.tables.OrbitReach`: every scan skipped has Pd 0).
    Same draws as :func:`_exact_pair` (counter-based, by absolute scan). Returns ``(tracked,
    track_t, in_airspace_t)``: the latter is the first time a track was held while the flight was
    in the airspace (NaN if never; None without fences).
    """
    radar, table = sim.radars[j], sim.tables[j][i]
    m, n, period = det.track_m, det.track_n, radar.scan_period_s
    b = draws.batch
    phase, keys = draws.scan_phase[idx, j], draws.scan_keys[j][idx]
    if not isinstance(radar.platform, Orbit):
        rows = table.row(b.cross_track_m[idx])
        half = 0.5 * table.step_s      # scans read the nearest time sample
        with np.errstate(invalid="ignore"):
            k_lo = np.ceil((table.first_s[rows] - half) / period - phase)
            k_hi = np.floor((table.last_s[rows] + half) / period - phase)
        seen = np.isfinite(k_lo)
        k_lo = np.where(seen, np.maximum(k_lo, 0), 0).astype(np.int64)     # scan 0 is the first after departure
        k_hi = np.where(seen, k_hi, -1).astype(np.int64)

        def pd_at(sel, ks, t):
            return table.lookup(rows[sel], t)
    else:       # an orbit: from the first scan its reach bounds allow, its loop phase drawn per flight
        loop_phase = draws.orbit_phase[j][idx]
        first_s, last_s = table.window(b.cross_track_m[idx], loop_phase)
        k_lo = np.full(len(idx), sim.scan_k0[j, i], dtype=np.int64)
        k_hi = k_lo + int(sim.scan_count[j, i]) - 1
        with np.errstate(invalid="ignore"):
            seen = np.isfinite(first_s)
            k_lo = np.where(seen, np.maximum(k_lo, np.ceil(first_s / period - phase)), k_lo).astype(np.int64)
            k_hi = np.where(seen, np.minimum(k_hi, np.floor(last_s / period - phase)), -1).astype(np.int64)

        def pd_at(sel, ks, t):
            f = idx[sel]
            xyz, alt, airborne = positions_at(sim.packed, b.route_index[f], b.cross_track_m[f], t)
            covered, slant = in_coverage(radar, xyz, alt, t, loop_phase[sel, None])
            return np.where(airborne & covered, scan_pd(radar, slant, True), 0.0)

    track_k = _blocks(keys, phase, pd_at, period, k_lo, k_hi, k_lo, m, n, lambda held, t, ks, sel: held)
    tracked = track_k != _NO_SCAN
    track_t = (phase + track_k) * period
    if airspace_at is None:
        return tracked, track_t, None
    # held while in the airspace: at the track itself, or later (walk on from the track, replaying
    # the n - 1 scans before it so that the m-of-n memory is that of the same draws)
    inside = np.zeros(len(idx), dtype=bool)
    inside[tracked] = airspace_at(idx[tracked], track_t[tracked, None])[:, 0]
    inside_t = np.where(inside, track_t, np.nan)
    rest = np.flatnonzero(tracked & ~inside)
    if rest.size:
        fz = sim.fences[i]     # a flight tracked before it entered starts at its entry
        with np.errstate(invalid="ignore"):
            k_entry = np.ceil(fz.entry_s(fz.row(b.cross_track_m[idx[rest]])) / period - phase[rest])
        k_from = np.maximum(track_k[rest] + 1, np.where(np.isfinite(k_entry), k_entry, k_hi[rest] + n).astype(np.int64))
        k_stop = k_hi[rest] + n - 1          # a track is held up to n - 1 scans past the last hit
        found = _blocks(keys[rest], phase[rest], lambda sel, ks, t: pd_at(rest[sel], ks, t), period,
                        k_from - (n - 1), k_stop, k_from, m, n,
                        lambda held, t, ks, sel: held & airspace_at(idx[rest][sel], t))
        inside_t[rest] = np.where(found != _NO_SCAN, (phase[rest] + found) * period, np.nan)
    return tracked, track_t, inside_t


def _compiled_pair(sim, j, i, draws, det, tracked_by, track_time, in_airspace_t, counts):
    """:func:`_fast_pair` of fixed radar ``j`` on route ``i`` by the compiled walk (:mod:`sim.walk`), over
    every flight of the chunk (it skips the others): writes ``tracked_by``, ``track_time`` and lowers
    ``in_airspace_t`` in place, byte for byte as the numpy walk (and adds to ``counts`` the scans and
    flights it walked: :func:`sim.walk.walk_fixed_pair`)."""
    from sim.walk import BITS_WINDOW, walk_fixed_pair
    radar, table, b = sim.radars[j], sim.tables[j][i], draws.batch
    if sim.fences:
        fz = sim.fences[i]
        fence = (fz.offsets_m, fz.in_airspace, fz.entry_s(np.arange(len(fz.offsets_m))))
    else:
        fence = (np.zeros(1), np.zeros((1, 1), dtype=bool), np.zeros(1))
    walk_fixed_pair(j, i, b.route_index, draws.sees, b.cross_track_m, np.ascontiguousarray(draws.scan_phase[:, j]),
                    draws.scan_keys[j],
                    table.offsets_m, table.pd, table.t0_s, table.step_s, table.duration_s, table.first_s,
                    table.last_s, float(radar.scan_period_s), det.track_m, det.track_n, bool(sim.fences), *fence,
                    FENCE_STEP_S, tracked_by, track_time, in_airspace_t, counts,
                    None if det.track_n <= BITS_WINDOW else np.zeros(det.track_n, dtype=np.int64))


def _first_tracks(tracked_by, track_time, compiled):
    """``(detected, first_radar, first_detection_s)`` of a chunk's flights: tracked by any radar, the radar
    of the earliest track (the first such radar on a tie; -1 if none) and its time (NaN if none). By one
    compiled loop on the compiled walk (:func:`sim.walk.first_tracks`, the same values)."""
    F, R = tracked_by.shape
    if compiled:
        from sim.walk import first_tracks
        detected, first_radar, first_t = np.empty(F, dtype=bool), np.empty(F, dtype=np.int64), np.empty(F)
        first_tracks(tracked_by, track_time, detected, first_radar, first_t)
        return detected, first_radar, first_t
    detected = tracked_by.any(axis=1)
    if R:
        first_radar = np.where(detected, np.argmin(np.where(tracked_by, track_time, np.inf), axis=1), -1)
    else:
        first_radar = np.full(F, -1)
    first_t = np.full(F, np.nan)
    first_t[detected] = track_time[detected, first_radar[detected]]
    return detected, first_radar, first_t


def _fence_figures(sim, batch, compiled):
    """:func:`sim.fences.flight_fence_figures`, by one compiled loop per route on the compiled walk
    (:func:`sim.walk.fence_figures_route`, the same values)."""
    if not compiled:
        return flight_fence_figures(sim.fences, batch.route_index, batch.cross_track_m, batch.transponder_on)
    from sim.walk import fence_figures_route
    in_airspace, in_coverage = np.zeros(len(batch)), np.zeros(len(batch))
    for i, fz in enumerate(sim.fences):     # loop over routes; flights are the compiled loop's
        fence_figures_route(i, batch.route_index, batch.cross_track_m, batch.transponder_on, fz.offsets_m,
                            *fz.row_minutes(), in_airspace, in_coverage)
    return in_airspace, in_coverage


def simulate_chunk(sim, seed, first_campaign, n_campaigns, flights, counts=None):
    """Simulate campaigns ``first_campaign .. first_campaign + n_campaigns - 1``.

    Returns a dict of per-flight arrays (see :class:`RunResult`). Unless the
    simulation was prepared ``exact`` (every scan of every window from its
    geometry: the reference), each flight is walked from its first possibly
    covered scan to its track: fixed radars read their detection tables
    (:mod:`sim.tables`), orbiting radars their exact geometry within their reach bounds.
    ``counts`` (int64, 2; the compiled walk only): adds the scans walked (each one addressed draw and one
    table read) and the flight-radar pairs walked (what the benchmarks count per flight).
    """
    det = sim.scenario.detection
    draws = ChunkDraws(sim, seed, first_campaign, n_campaigns, flights)
    batch = draws.batch
    F, R = len(batch), len(sim.radars)
    tracked_by = np.zeros((F, R), dtype=bool)
    track_time = np.full((F, R), np.nan)
    in_airspace_t = np.full(F, np.inf)      # first time a radar held a track while the flight was in the airspace

    def airspace_at(rows, t):
        return inside_airspace_at(sim.fences, batch.route_index[rows], batch.cross_track_m[rows], t)

    compiled = sim.walk == "compiled" and bool(sim.tables)
    walked = np.zeros(2, dtype=np.int64) if counts is None else counts
    if compiled:
        from sim.walk import ensure_compiled
        ensure_compiled()
    for j in range(len(sim.radars)):   # loops over radars and routes; flights and scans are array axes
        sees = draws.sees[:, j]     # only flights this radar can see: it is up, the transponder on if needed
        for i in range(len(sim.routes)):
            if sim.scan_count[j, i] == 0:
                continue
            if compiled and not isinstance(sim.radars[j].platform, Orbit):
                _compiled_pair(sim, j, i, draws, det, tracked_by, track_time, in_airspace_t, walked)
                continue
            idx = np.flatnonzero(sees & (batch.route_index == i))
            if not idx.size:
                continue
            if sim.tables:
                tracked, t_track, inside_t = _fast_pair(sim, j, i, idx, draws, det,
                                                        airspace_at if sim.fences else None)
            else:
                tracked, t_track, held, t = _exact_pair(sim, j, i, idx, draws, det)
                inside_t = None
                if sim.fences:
                    over = np.zeros(held.shape, dtype=bool)
                    over[tracked] = held[tracked] & airspace_at(idx[tracked], t[tracked])
                    inside_t = np.where(over.any(axis=1), t[np.arange(len(idx)), np.argmax(over, axis=1)], np.nan)
            done = idx[tracked]
            tracked_by[done, j] = True
            track_time[done, j] = t_track[tracked]
            if inside_t is not None:
                in_airspace_t[idx] = np.fmin(in_airspace_t[idx], inside_t)
    detected, first_radar, first_t = _first_tracks(tracked_by, track_time, compiled)
    out = dict(batch=batch, radar_up=draws.up, tracked_by=tracked_by, track_time_s=track_time,
               detected=detected, first_detection_s=first_t, first_radar=first_radar,
               detected_in_airspace=None, minutes_in_airspace=None, minutes_in_coverage=None)
    if sim.fences:
        minutes_airspace, minutes_cov = _fence_figures(sim, batch, compiled)
        in_airspace_t[~np.isfinite(in_airspace_t)] = np.nan
        out.update(detected_in_airspace=np.isfinite(in_airspace_t), minutes_in_airspace=minutes_airspace,
                   minutes_in_coverage=minutes_cov)
        if sim.scenario.response is not None:
            out.update(flight_response(sim, batch, in_airspace_t, draws.comply, draws.escort, draws.sees,
                                       draws.will))
    return out


def _concat(parts):
    b = [p["batch"] for p in parts]
    batch = FlightBatch(*(np.concatenate([getattr(x, k) for x in b]) for k in
                          ("campaign", "flight", "route_index", "cross_track_m", "transponder_on")))
    out = {k: None if parts[0][k] is None else np.concatenate([p[k] for p in parts])
           for k in parts[0] if k != "batch"}
    return batch, out


#: Flights per task when the chunk size is left to the runner. The walk of the fast path bounds its
#: own blocks (:data:`_BLOCK_ELEMENTS`), so its tasks can be large (fewer, cheaper tasks); the exact
#: path gathers whole windows (about 2,000 flights x 1,000 scans x 14 floats, 200 MB, at the most).
AUTO_CHUNK_FLIGHTS = {"fast": 16_000, "exact": 2_000, "cluster": 64_000}


def _chunk_task(sim, seed, first_campaign, n_campaigns, flights, rows, keep_flights, parquet_dir=None, sample=False):
    """One task of a run: a chunk's totals, its ``flights.csv`` rows as text (formatted where it
    ran) when ``rows``, and its per-flight arrays only when ``keep_flights`` (what travels back
    from a worker stays small). With ``parquet_dir`` the rows go to a Parquet file there instead
    (written by the task itself: only the totals travel back). With ``sample``, the chunk's part of
    the run's fixed sample of flights (:mod:`sim.sample`)."""
    part = simulate_chunk(sim, seed, first_campaign, n_campaigns, flights)
    out = dict(part) if keep_flights else {}
    out["sample"] = FlightSample.of_flights(part, seed) if sample else None
    out["first_campaign"] = first_campaign
    out["totals"] = RunTotals.of_chunk(part, flights, len(sim.radars), len(sim.routes))
    out["csv"] = None
    if parquet_dir is not None:
        write_flights_part(Path(parquet_dir) / part_name(first_campaign), sim, part,
                           flight_header(sim, bool(sim.fences)))
    elif rows:
        out["csv"] = flight_csv_text(sim, part)
    return out


def run(sim, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None, engine=None,
        sink=None, keep_flights=True, parquet_dir=None, sample=False):
    """Run the Monte Carlo of a prepared :class:`Simulation`.

    Parameters
    ----------
    campaigns, flights, seed : int, optional
        Override the scenario's ``[run]`` values.
    chunk_campaigns : int, optional
        Campaigns per task; changes memory use and speed, never results.
        Default: about :data:`AUTO_CHUNK_FLIGHTS` flights per task (fast or exact path; larger on a
        cluster when the per-flight arrays are not kept).
    progress : callable, optional
        ``progress(n_flights_done)`` after each chunk.
    engine : optional
        Where the chunks run (:func:`sim.engine.make_engine`): None (in this
        process), ``"local"`` (a local Dask cluster), a Dask scheduler
        address, or an engine object (its owner closes it). Never changes
        the results.
    sink : callable, optional
        ``sink(csv_text)`` with each chunk's ``flights.csv`` rows, in
        campaign order (formatted by the engine's workers).
    keep_flights : bool
        Keep the per-flight arrays in the result (needed by the brief);
        without them memory stays flat in the number of flights.
    parquet_dir : path, optional
        Each task writes its chunk's rows as a Parquet file into this folder
        (:mod:`sim.parquet`; it must be reachable from the workers) and sends
        back only its totals; ``sink`` is then not called.
    sample : bool
        Keep the run's fixed sample of flights (:class:`sim.sample.FlightSample`,
        what the brief draws) in :attr:`RunResult.sample`: a few hundred flights
        whatever the run's size and chunking.
    """
    cfg = sim.scenario.run
    campaigns = cfg.campaigns if campaigns is None else int(campaigns)
    flights = cfg.flights if flights is None else int(flights)
    seed = cfg.seed if seed is None else int(seed)
    if chunk_campaigns is None:     # on a cluster, fewer and larger tasks: less of the client's time per flight
        size = "exact" if not sim.tables else "cluster" if engine is not None and not keep_flights else "fast"
        chunk_campaigns = max(1, AUTO_CHUNK_FLIGHTS[size] // flights)
    if chunk_campaigns < 1:
        raise ValueError("chunk_campaigns must be >= 1")
    if parquet_dir is not None:
        require_pyarrow()
        parquet_dir = str(Path(parquet_dir).resolve())
    args = [(seed, c0, min(chunk_campaigns, campaigns - c0), flights, sink is not None, keep_flights, parquet_dir,
             sample) for c0 in range(0, campaigns, chunk_campaigns)]
    kept, waiting, totals, following, kept_sample = [], {}, None, 0, None
    with make_engine(engine) as eng:
        for part in eng.map(_chunk_task, sim, args):
            waiting[part["first_campaign"]] = part
            while args[following:] and args[following][1] in waiting:     # in campaign order
                p = waiting.pop(args[following][1])
                following += 1
                totals = p["totals"] if totals is None else totals.merged(p["totals"])
                if p["sample"] is not None:
                    kept_sample = p["sample"] if kept_sample is None else kept_sample.merged(p["sample"])
                if sink is not None and p["csv"] is not None:
                    sink(p["csv"])
                if keep_flights:
                    kept.append({k: v for k, v in p.items() if k not in ("first_campaign", "totals", "csv", "sample")})
                if progress is not None:
                    progress(p["totals"].flights)
    if keep_flights:
        batch, out = _concat(kept)
    else:
        batch, out = None, dict.fromkeys(k for k in RunResult.__dataclass_fields__
                                         if k not in ("campaigns", "flights_per_campaign", "seed", "totals", "batch"))
    out["sample"] = kept_sample
    return RunResult(campaigns=campaigns, flights_per_campaign=flights, seed=seed, totals=totals, batch=batch, **out)
