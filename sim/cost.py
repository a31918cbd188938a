"""The cost of a scenario, known before any work: memory and time of its preparation and run.

:func:`sim.montecarlo.prepare` builds arrays whose shapes follow from the
scenario alone: each route's time grid (one sample a second), each route's
sideways-offset rows (every :data:`~sim.flights.OFFSET_STEP_M` out to 4
sigma), each fixed radar's detection table along each route it can reach
(offset rows x the seconds of its window), the fence tables (offset rows x
a sample every :data:`~sim.fences.FENCE_STEP_S`, one layer per radar), the
terrain masking tables (0.5 degree x 500 m bins out to each radar's range).
:func:`scenario_cost` computes those shapes from the validated scenario
with closed forms and coarse geometry (a route point a minute, no terrain),
so that a command can refuse a scenario that cannot fit the machine before
it starts (:func:`available_memory_bytes`).

The bytes per element and the transient peaks are those of the code
(measured with ``tracemalloc`` and the peak resident size on the shipped
scenarios and larger synthetic ones: ``tests/test_limits.py`` checks the
estimate against the measured peak of a preparation in a fresh process, at
three sizes, and of one large chunk, within :data:`ESTIMATE_FACTOR`). The
per-flight terms were fitted to the peak resident size of chunks of 0.3 to
3 million flights on 1 to 40 radars (the shipped baseline, its
airborne-radar variant and synthetic grids): 410 to 1,610 bytes per flight
measured, the estimate 0.93 to 1.48 times the measured peak.
:attr:`Cost.terms` splits the estimate into named terms that add up to it. Times are rough rates of a 2-core laptop-class machine.
"""
from dataclasses import dataclass, field

import numpy as np

from geo.earth import EARTH_RADIUS_M, horizon_distance_m
from geo.geodesy import positions_along_route
from sim.aircraft import profile_at
from sim.fences import FENCE_STEP_S
from sim.flights import OFFSET_CLIP_SIGMA, OFFSET_STEP_M, offset_rows
from sim.routes import ROUTE_STEP_S, cruise_level, follows_terrain, route_profile, route_samples
from sim.tables import ORBIT_SAMPLE_M, TABLE_STEP_S, WINDOW_MARGIN_M

__all__ = ["Cost", "scenario_cost", "available_memory_bytes", "memory_text", "memory_terms_text",
           "ESTIMATE_FACTOR", "CHUNK_FLIGHTS"]

#: The estimate is within this factor of the measured peak, either way (tested at three sizes).
ESTIMATE_FACTOR = 2.0
#: Flights per chunk of a run when the runner chooses (as :data:`sim.montecarlo.AUTO_CHUNK_FLIGHTS`).
CHUNK_FLIGHTS = {"fast": 16_000, "exact": 2_000}

# Bytes per element, from the code's arrays (kept) and its temporaries (peak), measured.
_ROUTE_SAMPLE_B = 250          # RouteTrack arrays (12 floats) + packed table (14 floats) + build temporaries
_TF_CELL_B = 8 * 8             # terrain following: altitude rows kept (8 B) + 7 same-size temporaries
_TABLE_CELL_B = 4              # detection table: float32 Pd
_TABLE_BUILD_CELL_B = 270      # detection table build: a block of 64 offset rows x its times, ~34 floats each
_TABLE_BLOCK_ROWS = 64
_FENCE_CELL_B = 3              # three boolean rows (airspace, primary, any) per route cell
_FENCE_RADAR_CELL_B = 4        # last_covered: int32 per radar and route cell, kept
_FENCE_BUILD_RADAR_CELL_B = 13  # per radar cell while building: bool coverage + int32 where + accumulate + copy
_FENCE_BUILD_CELL_B = 160      # positions, lat/lon, projected x/y, inside tests of the route cells
_MASK_BIN_B = 8                # masking table bins (720 azimuths x 500 m), float64, kept
_MASK_BUILD_B = 180e6          # masking table build: chunks of 1e6 profile samples, ~22 floats each
_TERRAIN_B = 11e6              # the packaged GLOBE model, kept
_TERRAIN_LOAD_B = 105e6        # ... and while it is decompressed
_MASK_AZIMUTHS = 720
_MASK_RANGE_STEP_M = 500.0
_COARSE_M = 15_000.0           # route points a minute apart (at most 250 m/s): half a spacing and more
_GEOMETRY_B = 120              # per orbit sample x route sample while finding scan windows (a list of rows)
# Per flight of a chunk: the draws, results and CSV text (per flight), and per radar and flight; fitted
# with the walk's terms below to the measured peaks of chunks of 0.3 to 3 million flights
_CHUNK_FLIGHT_B = 250
_CHUNK_RADAR_FLIGHT_B = 35
_WALK_ELEMENTS = 1 << 20       # the scan walk's block (sim.montecarlo._BLOCK_ELEMENTS) ...
_WALK_MIN_SCANS = 8            # ... but never narrower than 8 scans a flight (its smallest width): a chunk of
                               # more than 131,072 flights walks 8 x its flights at once
_WALK_TABLE_B = 40             # ... a fixed radar's: table lookups, draws and the m-of-n sums per element
_WALK_GEOMETRY_B = 115         # ... an orbit's (and the exact path's): ~14 gathered floats per element
_FIXED_B = 2e6                # the run's own small structures: airspace, projections, the first chunk's imports
_COMPILED_WALK_B = 125e6      # the compiled walk's code (numba and LLVM), loaded once per process (measured 125 MB)
# Rough rates [s per element] of a 2-core machine
_S_PER_MASK_SAMPLE = 6e-8
_S_PER_TABLE_CELL = 7e-8
_S_PER_FENCE_RADAR_CELL = 3e-8
_S_PER_FENCE_CELL = 1.5e-6
_S_PER_ROUTE_SAMPLE = 1.5e-6
_S_PER_ORBIT_SAMPLE_CELL = 1e-8
_S_FIXED = 0.2


@dataclass(frozen=True)
class Cost:
    """What preparing (and running) a scenario will take.

    ``memory_bytes`` is the peak above the process's own memory: the
    prepared simulation kept (``kept_bytes``) plus the largest transient
    of building it or of one chunk of the run. ``prepare_s`` is a rough
    time on a 2-core machine. ``parts`` gives the kept bytes by part and
    ``shapes`` the sizes they come from. ``terms`` splits ``memory_bytes``
    into named terms that add up to it: the kept parts, the largest
    transient (what it is: running a chunk of N flights, building the
    detection tables, ...) and the run's own small structures.
    """

    memory_bytes: float
    kept_bytes: float
    prepare_s: float
    parts: dict = field(default_factory=dict)
    shapes: dict = field(default_factory=dict)
    terms: dict = field(default_factory=dict)


def _route_points(spec, aircraft, step_s=60.0):
    """A route's coarse track: times [s], latitudes, longitudes [deg], altitudes [m] a minute apart."""
    length_m, prof = route_profile(spec, aircraft)
    t = np.append(np.arange(0.0, prof.duration_s, step_s), prof.duration_s)
    s, alt = profile_at(prof, t)
    lat = np.array([w.lat_deg for w in spec.waypoints])
    lon = np.array([w.lon_deg for w in spec.waypoints])
    plat, plon, _ = positions_along_route(lat, lon, s)
    return prof.duration_s, t, plat, plon, alt


def _ground_m(lat1, lon1, lat2, lon2):
    """Great-circle distance [m] (haversine), broadcasting."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _radar_points(radar):
    """A radar's positions (its site, or its orbit's waypoints) and antenna altitude [m] (site ground
    taken as 0 where the scenario leaves it to the terrain: the horizon is then a little short)."""
    if radar.orbit is not None:
        lat, lon = (np.array(v) for v in zip(*radar.orbit.waypoints))
        return lat, lon, radar.orbit.altitude_m
    return np.array([radar.lat_deg]), np.array([radar.lon_deg]), (radar.elevation_m or 0.0) + radar.antenna_height_m


def scenario_cost(scenario, flights_per_chunk=None, exact=False, with_fences=True):
    """Estimate the memory and time of preparing and running a validated scenario, from its sizes.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
    flights_per_chunk : int, optional
        Flights simulated at once (default: what :func:`sim.montecarlo.run` chooses).
    exact, with_fences : bool
        As :func:`sim.montecarlo.prepare`.

    Returns
    -------
    Cost

    Notes
    -----
    A fixed radar's detection window on a route is where the route comes
    within its instrumented range (or radar horizon, smooth 4/3 Earth, at
    the route's altitude) plus 4 sigma of sideways spread, judged on route
    points a minute apart; an orbiting radar is judged from its waypoints
    with the loop's extent added. Routes following the terrain are taken at
    their clearance plus 5,000 m (the highest ground of the region), so
    their windows are not under-estimated.
    """
    sc, det = scenario, scenario.detection
    routes = []
    for spec in sc.routes:
        duration_s, t, lat, lon, alt = _route_points(spec, sc.aircraft)
        agl = cruise_level(spec, sc.aircraft)[1]
        if agl is not None:
            alt = alt + 5_000.0
        n_off = len(offset_rows(spec.cross_track_sigma_m, OFFSET_CLIP_SIGMA, OFFSET_STEP_M))
        routes.append(dict(T=route_samples(duration_s, ROUTE_STEP_S), T10=int(duration_s // FENCE_STEP_S) + 2,
                           n_off=n_off, t=t, lat=lat, lon=lon, alt=alt, sigma=spec.cross_track_sigma_m,
                           agl=agl is not None))
    R = len(sc.radars)
    T_all = sum(r["T"] for r in routes)
    parts = {"routes": T_all * _ROUTE_SAMPLE_B}
    tf_cells = sum(r["n_off"] * r["T"] for r in routes if r["agl"])
    parts["terrain_following"] = tf_cells * 8
    transients = {}     # what is built or run at once -> bytes: the largest counts

    def transient(name, n_bytes):
        transients[name] = max(transients.get(name, 0.0), float(n_bytes))

    transient("following the terrain",
              max((r["n_off"] * r["T"] * _TF_CELL_B for r in routes if r["agl"]), default=0.0))
    terrain = det.terrain or follows_terrain(sc)
    if terrain:
        parts["terrain"] = _TERRAIN_B
        transient("loading the terrain", _TERRAIN_LOAD_B)
    prepare_s = _S_FIXED + T_all * _S_PER_ROUTE_SAMPLE
    fixed = [r for r in sc.radars if r.orbit is None]
    orbits = [r for r in sc.radars if r.orbit is not None]
    mask_bins = 0
    if det.terrain:
        n_r = np.ceil((np.array([r.range_m for r in fixed]) + WINDOW_MARGIN_M) / _MASK_RANGE_STEP_M)
        mask_bins = int(_MASK_AZIMUTHS * n_r.sum())
        prepare_s += mask_bins * 4 * _S_PER_MASK_SAMPLE     # 4 profile samples per bin
        if fixed:
            transient("building the masking tables", _MASK_BUILD_B)
    # fixed radars: each one's window on each route, where the route comes within its reach
    f_lat = np.array([r.lat_deg for r in fixed])[:, None]
    f_lon = np.array([r.lon_deg for r in fixed])[:, None]
    f_h = np.array([_radar_points(r)[2] for r in fixed])[:, None]
    f_range = np.array([r.range_m for r in fixed])[:, None]
    f_period = np.array([r.scan_period_s for r in fixed])
    table_cells = orbit_cells = 0
    biggest_table = 0.0
    most_scans = 0.0            # the longest window of any radar on any route [scans]
    for r in routes:
        if fixed:
            ground = _ground_m(f_lat, f_lon, r["lat"][None], r["lon"][None])
            reach = np.minimum(f_range, horizon_distance_m(f_h, r["alt"][None], det.refraction_k))
            near = ground <= reach + OFFSET_CLIP_SIGMA * r["sigma"] + WINDOW_MARGIN_M + _COARSE_M
            seen = near.any(axis=1)
            first = r["t"][np.argmax(near, axis=1)]
            last = r["t"][near.shape[1] - 1 - np.argmax(near[:, ::-1], axis=1)]
            window_s = np.where(seen, last - first + 60.0 + 4 * f_period, 0.0)
            most_scans = max(most_scans, float(np.max(window_s / f_period)))
            if not exact:        # exact: no tables, every scan of the window from its geometry in the run
                cells = r["n_off"] * (np.floor(window_s / TABLE_STEP_S) + 1) * seen
                table_cells += int(cells.sum())
                biggest_table = max(biggest_table, float(cells.max()) * min(r["n_off"], _TABLE_BLOCK_ROWS) / r["n_off"])
        for radar in orbits:     # scan windows from orbit points every 10 km; the run walks at most whole windows
            lat, lon, _ = _radar_points(radar)
            loop_m = float(np.sum(_ground_m(lat, lon, np.roll(lat, -1), np.roll(lon, -1)))) if len(lat) > 1 else 0.0
            samples = int(np.ceil(loop_m / ORBIT_SAMPLE_M)) + 1
            orbit_cells += samples * r["T"]
            transient("finding the orbits' scan windows", samples * r["T"] * _GEOMETRY_B)
            most_scans = max(most_scans, r["T"] / radar.scan_period_s)
    parts["masking"] = mask_bins * _MASK_BIN_B
    parts["detection_tables"] = table_cells * _TABLE_CELL_B
    transient("building the detection tables", biggest_table * _TABLE_BUILD_CELL_B)
    prepare_s += table_cells * _S_PER_TABLE_CELL + orbit_cells * _S_PER_ORBIT_SAMPLE_CELL
    fence_cells = sum(r["n_off"] * r["T10"] for r in routes)
    if with_fences:
        parts["fences"] = fence_cells * (_FENCE_CELL_B + R * _FENCE_RADAR_CELL_B)
        fence_build_b = _FENCE_BUILD_CELL_B + R * _FENCE_BUILD_RADAR_CELL_B
        transient("building the fences", max((r["n_off"] * r["T10"] * fence_build_b for r in routes), default=0.0))
        prepare_s += fence_cells * (_S_PER_FENCE_CELL + R * _S_PER_FENCE_RADAR_CELL)
    F = sc.run.flights
    chunk = flights_per_chunk or min(max(1, CHUNK_FLIGHTS["exact" if exact else "fast"] // F) * F, F * sc.run.campaigns)
    # the walk's blocks, at worst (flights never tracked walk their whole windows; the exact path gathers them;
    # the fast path's blocks are of _WALK_ELEMENTS, or of 8 scans of every flight walked when that is more)
    elements = chunk * max(most_scans, float(_WALK_MIN_SCANS))
    block = min(elements, max(_WALK_ELEMENTS, _WALK_MIN_SCANS * chunk))
    walk = 0.0 if not R else elements * _WALK_GEOMETRY_B if exact else block * (
        _WALK_GEOMETRY_B if orbits else _WALK_TABLE_B)
    transient(f"running a chunk of {int(chunk):,} flights",
              chunk * (_CHUNK_FLIGHT_B + R * _CHUNK_RADAR_FLIGHT_B) + walk)
    kept = float(sum(parts.values()))
    shapes = {"routes": len(routes), "route_samples": T_all, "radars": R, "offset_rows": [r["n_off"] for r in routes],
              "detection_table_cells": table_cells, "fence_cells": fence_cells, "masking_bins": mask_bins,
              "flights_per_chunk": chunk}
    peak_name = max(transients, key=transients.get)
    terms = {k.replace("_", " "): v for k, v in parts.items()}
    terms[peak_name] = transients[peak_name]
    terms["the run's own structures"] = _FIXED_B
    if not exact:
        terms["the compiled walk's code"] = _COMPILED_WALK_B
    return Cost(memory_bytes=float(sum(terms.values())), kept_bytes=kept, prepare_s=float(prepare_s), parts=parts,
                shapes=shapes, terms=terms)


def available_memory_bytes(meminfo="/proc/meminfo"):
    """The machine's memory available to a new task [bytes]: ``MemAvailable`` of ``/proc/meminfo``
    (Linux); None where it cannot be read."""
    try:
        with open(meminfo, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def memory_text(n_bytes):
    """``"1.2 GB"`` / ``"340 MB"`` / ``"900 kB"``: a size for a message (decimal units)."""
    if n_bytes >= 1e9:
        return f"{n_bytes / 1e9:,.1f} GB"
    return f"{n_bytes / 1e6:,.0f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:,.0f} kB"


def memory_terms_text(cost, named=2):
    """The largest ``named`` terms of a :class:`Cost`'s estimate and the rest, which add up to it:
    ``"running a chunk of 3,000,000 flights 2.5 GB, detection tables 22 MB, the rest 50 MB"``."""
    terms = sorted(((v, k) for k, v in cost.terms.items() if v > 0), reverse=True)
    rest = sum(v for v, _ in terms[named:])
    text = [f"{k} {memory_text(v)}" for v, k in terms[:named]]
    return ", ".join(text + ([f"the rest {memory_text(rest)}"] if rest > 0 else []))
