"""Monte Carlo: campaigns of flights, reproducible by seed whatever the chunking.

Every campaign draws from its own random stream,
``SeedSequence(seed, spawn_key=(campaign,))`` (the same stream as
``SeedSequence(seed).spawn(n)[campaign]``), with a fixed draw order and
fixed array shapes. Chunks of campaigns are therefore independent tasks:
the results are identical whatever the chunk size, the number of workers or
the order in which chunks finish.
"""
import dataclasses
from dataclasses import dataclass

import numpy as np

from geo.earth import horizon_distance_m
from geo.terrain import Terrain, load_terrain, masking_table
from sim.airspace import Airspace, build_airspace
from sim.detection import in_coverage, m_of_n_track, platform_geometry, prepare_radar, scan_pd
from sim.engine import make_engine
from sim.fences import flight_fence_figures, inside_airspace_at, route_fences
from sim.flights import FlightBatch, PackedRoutes, pack_routes, positions_at
from sim.platforms import Orbit
from sim.routes import build_routes, follows_terrain
from sim.scenario import Scenario

__all__ = ["Simulation", "RunResult", "prepare", "simulate_chunk", "run", "campaign_rng", "needs_terrain",
           "OFFSET_CLIP_SIGMA"]

#: Sideways offsets are normal, truncated at this many standard deviations.
OFFSET_CLIP_SIGMA = 4.0
_WINDOW_MARGIN_M = 2_000.0
#: Spacing of the orbit positions tried when finding an orbiting radar's scan windows [m].
_ORBIT_SAMPLE_M = 10_000.0


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

    @property
    def orbit_radars(self):
        """Indices of the radars on an orbiting platform (each draws a loop phase per flight)."""
        return tuple(j for j, r in enumerate(self.radars) if isinstance(r.platform, Orbit))


@dataclass(frozen=True)
class RunResult:
    """Per-flight results of a run (axis 0 = flight, in campaign order)."""

    campaigns: int
    flights_per_campaign: int
    seed: int
    batch: FlightBatch
    radar_up: np.ndarray            # (F, R) bool
    tracked_by: np.ndarray          # (F, R) bool
    track_time_s: np.ndarray        # (F, R) time the radar formed its first track, NaN if none
    detected: np.ndarray            # (F,) bool
    first_detection_s: np.ndarray   # (F,) NaN if not detected
    first_radar: np.ndarray         # (F,) int, -1 if not detected
    detected_in_airspace: np.ndarray | None   # (F,) bool: a radar held a track while the flight was in the airspace
    minutes_in_airspace: np.ndarray | None    # (F,)
    minutes_in_coverage: np.ndarray | None    # (F,) in the geometric coverage of radars that can see it
    # (the last three are None when the simulation was prepared without fences)


def needs_terrain(scenario):
    """Whether a scenario needs the terrain model (terrain masking, or a route cruising above ground)."""
    return scenario.detection.terrain or follows_terrain(scenario)


def prepare(scenario, terrain=None, masking_cache=None, masking_options=None, with_fences=True):
    """Build routes, radar models, scan windows and fences of a validated scenario.

    ``terrain`` is a :class:`geo.terrain.Terrain`; when the scenario needs it
    (:func:`needs_terrain`) and none is given, the packaged model is loaded,
    once, and kept by the returned simulation. With terrain masking on it
    also gives the radar site elevations the scenario leaves out. With
    terrain off, the Earth is smooth: sites without ``elevation_m`` are at 0 m.
    ``masking_cache`` (a dict the caller owns) reuses masking tables across
    scenarios that share radar sites, e.g. in sweeps.
    ``masking_options`` are passed to :func:`geo.terrain.masking_table`
    (``azimuth_step_deg``, ``range_step_m``) to change the table's bins.
    ``with_fences=False`` skips the airspace and coverage tables (the
    in-airspace figures of the results are then None), e.g. for sweeps.
    """
    det = scenario.detection
    if terrain is None and needs_terrain(scenario):
        terrain = load_terrain()
    builder = None
    if det.terrain:
        def builder(lat, lon, antenna_alt_m, range_m):
            key = (lat, lon, antenna_alt_m, range_m, det.refraction_k, tuple(sorted((masking_options or {}).items())))
            if masking_cache is not None and key in masking_cache:
                return masking_cache[key]
            # one extra bin: at full slant range the ground distance can be slightly longer
            table = masking_table(terrain, lat, lon, antenna_alt_m, range_m + _WINDOW_MARGIN_M, det.refraction_k,
                                  **(masking_options or {}))
            if masking_cache is not None:
                masking_cache[key] = table
            return table

    routes = build_routes(scenario, terrain)
    radars = tuple(prepare_radar(r, scenario.aircraft.rcs_m2, det.refraction_k, terrain if det.terrain else None,
                                 builder)
                   for r in scenario.radars)
    k0 = np.zeros((len(radars), len(routes)), dtype=np.int64)
    count = np.zeros((len(radars), len(routes)), dtype=np.int64)
    for j, radar in enumerate(radars):
        p = radar.platform
        # an orbit: the nearest of its positions around the loop (at most _ORBIT_SAMPLE_M apart)
        at, slack = (p.loop_samples(_ORBIT_SAMPLE_M), _ORBIT_SAMPLE_M) if isinstance(p, Orbit) else (p.xyz[None], 0.0)
        for i, route in enumerate(routes):
            ground = np.min([platform_geometry(x, p.alt_m, route.xyz, route.alt_m)[0] for x in at], axis=0)
            reach = np.minimum(radar.range_m, horizon_distance_m(p.alt_m, route.alt_m, det.refraction_k))
            near = ground <= reach + OFFSET_CLIP_SIGMA * route.cross_track_sigma_m + _WINDOW_MARGIN_M + slack
            if not near.any():
                continue
            t0, t1 = route.t_s[near][0], route.t_s[near][-1]
            k0[j, i] = max(int(np.floor(t0 / radar.scan_period_s)) - 1, 0)
            count[j, i] = int(np.ceil((t1 - t0) / radar.scan_period_s)) + 3
    w = np.array([r.weight for r in routes], dtype=float)
    sim = Simulation(scenario, routes, pack_routes(routes), radars, k0, count, w / w.sum(), build_airspace(scenario),
                     terrain, ())
    if not with_fences:
        return sim
    return dataclasses.replace(sim, fences=route_fences(sim, OFFSET_CLIP_SIGMA))


def campaign_rng(seed, campaign):
    """The random generator of one campaign."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(campaign),))))


def _draw(sim, seed, first, n_campaigns, flights):
    """All random numbers of a chunk, campaign by campaign (fixed order and shapes).

    Per campaign: routes, offsets, transponders, radar availability, scan
    phases, per-scan uniforms, then (only when the scenario has orbiting
    radars, so other scenarios keep their streams) the orbit phases.
    """
    R = len(sim.radars)
    orbits = sim.orbit_radars
    F = n_campaigns * flights
    route = np.empty(F, dtype=np.int64)
    z = np.empty(F)
    xpdr = np.empty(F)
    up = np.empty((F, R))
    phase = np.empty((F, R))
    width = sim.scan_count.max(axis=1, initial=0)    # per radar: the longest window of any route
    u = [np.empty((F, int(k))) for k in width]
    orbit_phase = np.empty((F, len(orbits)))
    p_on = sim.scenario.aircraft.transponder_on_probability
    for c in range(n_campaigns):   # one stream per campaign; the arrays inside are vectorized
        rng = campaign_rng(seed, first + c)
        s = slice(c * flights, (c + 1) * flights)
        route[s] = rng.choice(len(sim.routes), size=flights, p=sim.route_p)
        z[s] = rng.standard_normal(flights)
        xpdr[s] = rng.random(flights)
        up[s] = rng.random((flights, R))
        phase[s] = rng.random((flights, R))
        for j in range(R):
            u[j][s] = rng.random((flights, int(width[j])))
        if orbits:
            orbit_phase[s] = rng.random((flights, len(orbits)))
    sigma = np.array([r.cross_track_sigma_m for r in sim.routes])[route]
    batch = FlightBatch(
        campaign=np.repeat(np.arange(first, first + n_campaigns), flights),
        flight=np.tile(np.arange(flights), n_campaigns),
        route_index=route,
        cross_track_m=np.clip(z, -OFFSET_CLIP_SIGMA, OFFSET_CLIP_SIGMA) * sigma,
        transponder_on=xpdr < p_on,
    )
    return batch, up, phase, u, orbit_phase


def simulate_chunk(sim, seed, first_campaign, n_campaigns, flights):
    """Simulate campaigns ``first_campaign .. first_campaign + n_campaigns - 1``.

    Returns a dict of per-flight arrays (see :class:`RunResult`).
    """
    det = sim.scenario.detection
    batch, u_up, u_phase, u_scan, orbit_phase = _draw(sim, seed, first_campaign, n_campaigns, flights)
    F, R = len(batch), len(sim.radars)
    up = u_up < np.array([r.availability for r in sim.radars])
    tracked_by = np.zeros((F, R), dtype=bool)
    track_time = np.full((F, R), np.nan)
    in_airspace_tracked = np.zeros(F, dtype=bool)
    orbit_column = {j: c for c, j in enumerate(sim.orbit_radars)}
    for j, radar in enumerate(sim.radars):   # loops over radars and routes; flights and scans are array axes
        # only flights this radar can see: it is up, and the transponder is on if its kind needs it
        sees = up[:, j] & (batch.transponder_on if radar.kind.needs_transponder else True)
        for i in range(len(sim.routes)):
            K = int(sim.scan_count[j, i])
            rows = sees & (batch.route_index == i)
            if K == 0 or not rows.any():
                continue
            idx = np.flatnonzero(rows)
            ri = batch.route_index[idx]
            t = (u_phase[idx, j, None] + sim.scan_k0[j, i] + np.arange(K)) * radar.scan_period_s
            xyz, alt, airborne = positions_at(sim.packed, ri, batch.cross_track_m[idx], t)
            loop_phase = orbit_phase[idx, orbit_column[j], None] if j in orbit_column else None
            covered, slant = in_coverage(radar, xyz, alt, t, loop_phase)
            hits = airborne & covered & (u_scan[j][idx, :K] < scan_pd(radar, slant, True))
            tracked, first, held = m_of_n_track(hits, det.track_m, det.track_n)
            done = idx[tracked]
            tracked_by[done, j] = True
            track_time[done, j] = t[tracked, first[tracked]]
            if sim.fences:
                over = held[tracked] & inside_airspace_at(sim.fences, ri[tracked], batch.cross_track_m[done],
                                                          t[tracked])
                in_airspace_tracked[done] |= over.any(axis=1)
    detected = tracked_by.any(axis=1)
    if R:
        first_radar = np.where(detected, np.argmin(np.where(tracked_by, track_time, np.inf), axis=1), -1)
    else:
        first_radar = np.full(F, -1)
    first_t = np.full(F, np.nan)
    first_t[detected] = track_time[detected, first_radar[detected]]
    if sim.fences:
        minutes_airspace, minutes_cov = flight_fence_figures(sim.fences, batch.route_index, batch.cross_track_m,
                                                             batch.transponder_on)
    else:
        minutes_airspace = minutes_cov = in_airspace_tracked = None
    return dict(batch=batch, radar_up=up, tracked_by=tracked_by, track_time_s=track_time,
                detected=detected, first_detection_s=first_t, first_radar=first_radar,
                detected_in_airspace=in_airspace_tracked, minutes_in_airspace=minutes_airspace,
                minutes_in_coverage=minutes_cov)


def _concat(parts):
    b = [p["batch"] for p in parts]
    batch = FlightBatch(*(np.concatenate([getattr(x, k) for x in b]) for k in
                          ("campaign", "flight", "route_index", "cross_track_m", "transponder_on")))
    out = {k: None if parts[0][k] is None else np.concatenate([p[k] for p in parts])
           for k in parts[0] if k != "batch"}
    return batch, out


#: Flights per task when the chunk size is left to the runner (bounds memory: about 2,000
#: flights x 1,000 scans x 14 floats of gathered route rows, 200 MB, at the most).
AUTO_CHUNK_FLIGHTS = 2000


def run(sim, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None, engine=None):
    """Run the Monte Carlo of a prepared :class:`Simulation`.

    Parameters
    ----------
    campaigns, flights, seed : int, optional
        Override the scenario's ``[run]`` values.
    chunk_campaigns : int, optional
        Campaigns per task; changes memory use and speed, never results.
        Default: about :data:`AUTO_CHUNK_FLIGHTS` flights per task.
    progress : callable, optional
        ``progress(n_flights_done)`` after each chunk.
    engine : optional
        Where the chunks run (:func:`sim.engine.make_engine`): None (in this
        process), ``"local"`` (a local Dask cluster), a Dask scheduler
        address, or an engine object (its owner closes it). Never changes
        the results.
    """
    cfg = sim.scenario.run
    campaigns = cfg.campaigns if campaigns is None else int(campaigns)
    flights = cfg.flights if flights is None else int(flights)
    seed = cfg.seed if seed is None else int(seed)
    if chunk_campaigns is None:
        chunk_campaigns = max(1, AUTO_CHUNK_FLIGHTS // flights)
    if chunk_campaigns < 1:
        raise ValueError("chunk_campaigns must be >= 1")
    args = [(seed, c0, min(chunk_campaigns, campaigns - c0), flights) for c0 in range(0, campaigns, chunk_campaigns)]
    parts = []
    with make_engine(engine) as eng:
        for p in eng.map(simulate_chunk, sim, args):
            parts.append(p)
            if progress is not None:
                progress(len(p["detected"]))
    parts.sort(key=lambda p: int(p["batch"].campaign[0]))
    batch, out = _concat(parts)
    return RunResult(campaigns=campaigns, flights_per_campaign=flights, seed=seed, batch=batch, **out)
