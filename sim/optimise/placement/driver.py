"""Where new radars should go: K more copies of a named radar, placed to catch the most flights, against a
flyer who keeps to the scenario's routes and against one who re-routes around them (``airpicture place``).

Method (``docs/place.md`` gives the assumptions and what is guaranteed):

1. **Candidates.** Copies of the radar named ``like`` (its kind, range, Pd model, scan period,
   availability and mast) at candidate sites: a CSV of sites (:func:`read_candidates`), the centres of
   a square grid over the scenario's airspace (:func:`grid_candidates`), or a list by name: the airfields of the
   packaged airport table inside the airspace (:func:`airbase_candidates`) or its highest ground
   (:func:`high_ground_candidates`, peaks of the terrain model); with terrain masking on, a
   site's ground elevation is the terrain's there, written into the candidate's radar table. A ``like``
   radar that flies an orbit is copied onto candidate orbits (:class:`Racetrack`: two waypoints flown out
   and back at its altitude and speed): a CSV of waypoint pairs (:func:`read_racetracks`) or copies of its
   own racetrack centred on the grid (:func:`orbit_grid_candidates`).
2. **The selection sample.** A fixed sample of flights is run through the Monte Carlo
   (:func:`sim.montecarlo.run`) with the existing radars and a seed of its own
   (:data:`SELECTION_SEED_OFFSET` from the re-score's): per flight, whether it already counts (detected,
   tracked while in the airspace, or stopped: the objective), and its route, sideways offset and
   transponder, which decide what a new radar could do.
3. **Hazards.** For flight ``i`` and candidate ``j``, ``P_ij`` is the candidate's availability times
   the probability that it forms a track that counts: the exact m-of-n probability of the candidate's
   per-scan Pd along the flight's row of its detection table (:func:`sim.tables.detection_table`), by a
   dynamic programme over the scans (:func:`track_probability`), averaged over :data:`PHASES` scan
   phases; an orbit candidate's per-scan Pd comes from the exact geometry of each scan (the platform where
   it is then, :func:`sim.detection.in_coverage`), averaged over :data:`LOOP_PHASES` loop phases too;
   ``a_ij = -ln(1 - P_ij)``. Candidates draw from streams of their own, so given the flight the
   new radars are independent of each other and of the existing ones.
4. **Objective.** ``F(S) = (1/N) sum_i [base_i + c_i (1 - exp(-sum_{j in S} a_ij))]``: ``base_i`` is 1
   for a flight that already counts, ``c_i`` what a flight that does not can gain (1, or for
   ``stopped`` the order's compliance; 0 for a flight whose crew refused a feasible order). ``F`` is
   monotone and submodular.
5. **Lazy greedy** (:func:`lazy_greedy`, CELF: Minoux 1978, Leskovec et al. 2007) picks K sites; a
   candidate's column ``P_:j`` is computed only when it reaches the top of the queue (until then its key
   is a geometric upper bound: its availability times the flights that pass within its reach). Each
   step records its marginal gain, the objective, and the online upper bound on the best layout of that
   size (``F(S_i) + sum of the k largest marginal-gain bounds at S_i``, Nemhauser, Wolsey & Fisher 1978,
   with the ``1 - (1 - 1/k)^k`` bound of greedy itself and each flight's own k best candidates).
6. **The adaptive flyer** (double oracle, McMahan, Gordon & Blum 2003): the red-team route search
   (:func:`sim.analysis.evade.evade`) answers the current layout with the flyer's least-detectable
   route for a quarter, half and all of the distance budget; if any answer is worse for the defender
   than every route of the set by more than :data:`ADAPT_TOLERANCE`, the answers join the set (the
   scenario's routes, each on its own, and every route found) and the defender re-places against the
   worst case over the set, ``max_S min_r F_r(S)`` (:func:`robust_layout`: branch and bound with the
   per-route submodular bound and each flight's own best candidates; exact on the sample unless its
   node limit is reached, then its bound is reported). The loop ends when the flyer cannot improve or
   after ``rounds`` re-placements; the layout reported is the best of those the flyer answered, against
   every route found.
7. **Re-score.** Every layout is run through the full Monte Carlo with the re-score seed (never the
   selection sample): the written scenario file gives the same numbers under ``airpicture run``.

References
----------
R. Church, C. ReVelle, "The maximal covering location problem", Papers of the Regional Science
Association 32, 101-118 (1974).
G. L. Nemhauser, L. A. Wolsey, M. L. Fisher, "An analysis of approximations for maximizing submodular
set functions", Mathematical Programming 14, 265-294 (1978).
M. Minoux, "Accelerated greedy algorithms for maximizing submodular set functions", Optimization
Techniques, LNCIS 7, 234-243 (1978).
J. Leskovec et al., "Cost-effective outbreak detection in networks", KDD 2007, 420-429.
D. P. Morton, F. Pan, K. J. Saeger, "Models for nuclear smuggling interdiction", IIE Transactions
39(1), 3-14 (2007).
H. B. McMahan, G. J. Gordon, A. Blum, "Planning in the presence of cost functions controlled by an
adversary", ICML 2003.
A. Krause et al., "Robust submodular observation selection", JMLR 9, 2761-2801 (2008).
"""
import copy
import csv
import dataclasses
import difflib
import heapq
import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from scipy.ndimage import maximum_filter

from geo.airports import load_airports
from geo.coverage import project_geometry
from geo.earth import EARTH_RADIUS_M, horizon_distance_m, unit_vectors
from geo.geodesy import WGS84, leg_geometry
from geo.terrain import elevation_m
from sim.airspace import build_airspace
from sim.analysis.evade import evade, parse_levels
from sim.detection import in_coverage, prepare_radar, scan_pd
from sim.fences import FENCE_STEP_S, inside_airspace_at, next_false
from sim.flights import OFFSET_CLIP_SIGMA, OFFSET_STEP_M, nearest_row, offset_rows, pack_routes, positions_at
from sim.montecarlo import masking_builder, needs_terrain, prepare, run, scan_window
from sim.platforms import Orbit, flying_orbit
from sim.prepcache import PrepCache
from sim.response import OUTCOMES, STOPPED, bridge_gaps, time_to_land_s
from sim.results import summarize, wilson_interval
from sim.scenario import (ORBIT_LOOP_MAX_M, SEED_MAX, WAYPOINT_SPACING_MIN_M, ScenarioError, parse_scenario,
                          shown_source, text_refusal)
from sim.tables import detection_table

__all__ = [
    "Candidate",
    "Racetrack",
    "Coverage",
    "FlightSet",
    "GreedyStep",
    "RobustLayout",
    "Rescore",
    "FlyerRoute",
    "PlaceRound",
    "PlaceResult",
    "place",
    "read_candidates",
    "read_racetracks",
    "grid_candidates",
    "airbase_candidates",
    "high_ground_candidates",
    "terrain_peaks",
    "listed_candidates",
    "CANDIDATE_LISTS",
    "HIGH_GROUND_COUNT",
    "HIGH_GROUND_SEPARATION_M",
    "orbit_grid_candidates",
    "candidate_table",
    "reach_points",
    "track_probability",
    "reach_matrix",
    "flight_groups",
    "site_name",
    "lazy_greedy",
    "robust_layout",
    "placed_doc",
    "objective_state",
    "OBJECTIVES",
    "AGAINST",
    "PHASES",
    "LOOP_PHASES",
    "SELECTION_SEED_OFFSET",
    "DEFAULT_SELECT_CAMPAIGNS",
    "DEFAULT_MAX_EXTRA_KM",
    "DEFAULT_ROUNDS",
    "ADAPT_TOLERANCE",
]

#: What a layout is scored on, by name: a flight detected (tracked by any radar), tracked while in the
#: airspace, or stopped (the scenario's response).
OBJECTIVES = ("detect", "track-in-airspace", "stopped")
#: The flyer: keeps to the scenario's routes (``fixed``) or re-routes around the layout (``adaptive``).
AGAINST = ("fixed", "adaptive")
#: Scan phases averaged in each candidate's track probability (the Monte Carlo draws it uniformly).
PHASES = 4
#: Loop phases averaged in an orbit candidate's track probability, evenly spaced (the Monte Carlo draws the
#: platform's phase on its loop uniformly per flight), times the :data:`PHASES` scan phases. At 16 the
#: platform is at most 1/32 of its loop from a phase evaluated (12 km on the 380 km loop of the shipped AEW
#: orbit). Measured on that scenario (its radar's range cut to 150 km so that coverage is partial; six
#: racetracks, 3,000 flights): each candidate's mean P differs from 64 loop phases' by at most 0.001 (8
#: phases: 0.002), one flight's by up to 0.06; a column takes about 1 s (64 phases: 3 s).
LOOP_PHASES = 16
#: The selection sample's seed is the re-score's plus this (modulo 2^63): never the re-score's sample.
SELECTION_SEED_OFFSET = 104_729
#: Campaigns of the selection sample unless told (times the scenario's flights per campaign).
DEFAULT_SELECT_CAMPAIGNS = 200
#: The adaptive flyer's extra-distance budget over the geodesic unless told [km].
DEFAULT_MAX_EXTRA_KM = 100.0
#: Re-placements of the adaptive loop at most (it stops sooner when the flyer cannot improve).
DEFAULT_ROUNDS = 20
#: The flyer's new route joins the set only if it is worse for the defender than every route of the set by
#: more than this (objective per flight, on the selection sample).
ADAPT_TOLERANCE = 0.01
#: Largest m-of-n window the dynamic programme handles (2^(n-1) states).
TRACK_N_MAX = 12
#: P_ij is capped here so that a_ij = -ln(1 - P_ij) stays finite.
P_MAX = 1.0 - 1e-12
#: Added to a candidate's reach in its geometric bound [m] (route samples 10 s apart, table rounding).
REACH_MARGIN_M = 5_000.0
#: Sample spacing of the routes in the geometric bound [s].
_BOUND_STEP_S = 10.0
#: Largest spacing of an orbit candidate's positions around its loop in the geometric bound [m] (added to
#: its reach: every position of the loop is within half of it of one of them).
_BOUND_LOOP_M = 5_000.0
#: Sequences x scans of an orbit candidate's column evaluated at once (bounds memory: about 20 floats each).
_ORBIT_BLOCK = 1 << 20
#: Most candidate sites.
CANDIDATES_MAX = 5_000
#: Grid spacing limits [km].
GRID_KM_MIN, GRID_KM_MAX = 2.0, 500.0
#: Branch and bound of the robust step: most nodes before it stops with its bound (a count, not a time: the
#: same inputs give the same layout on any machine).
NODE_LIMIT = 20_000
#: The largest number of radars to add.
ADD_MAX = 20
#: The most rounds of the adaptive loop.
ROUNDS_MAX = 50


# --- candidates -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A candidate site: a copy of the ``like`` radar there."""

    name: str
    lat_deg: float
    lon_deg: float
    antenna_height_m: float          # mast above the ground
    elevation_m: float | None        # site ground AMSL; None: the scenario's smooth Earth (terrain masking off)


@dataclass(frozen=True)
class Racetrack:
    """A candidate orbit: a copy of the ``like`` airborne radar flying out and back along the geodesic between
    two waypoints, at the ``like`` orbit's altitude and speed (both waypoints equal: it holds that point)."""

    name: str
    lat1_deg: float
    lon1_deg: float
    lat2_deg: float
    lon2_deg: float

    @property
    def holds(self):
        """Both waypoints are the same point: the platform holds it (a one-waypoint orbit)."""
        return (self.lat1_deg, self.lon1_deg) == (self.lat2_deg, self.lon2_deg)

    @property
    def waypoints(self):
        """``((lat, lon), ...)`` [deg]: two, or one when it holds a point."""
        a, b = (self.lat1_deg, self.lon1_deg), (self.lat2_deg, self.lon2_deg)
        return (a,) if self.holds else (a, b)

    @property
    def lat_deg(self):
        """The midpoint of the racetrack (on the sphere) [deg]: where its label goes."""
        return self._mid()[0]

    @property
    def lon_deg(self):
        return self._mid()[1]

    def _mid(self):
        v = unit_vectors([self.lat1_deg, self.lat2_deg], [self.lon1_deg, self.lon2_deg]).sum(axis=0)
        v /= np.linalg.norm(v)
        return float(np.degrees(np.arcsin(np.clip(v[2], -1.0, 1.0)))), float(np.degrees(np.arctan2(v[1], v[0])))


def _hemi(value, pos, neg, nd):
    return f"{abs(value):.{nd}f}{pos if value >= 0 else neg}"


def site_name(lat_deg, lon_deg):
    """``"site 34.250N 42.100E"``."""
    return f"site {_hemi(lat_deg, 'N', 'S', 3)} {_hemi(lon_deg, 'E', 'W', 3)}"


def _site_elevation(scenario, terrain, lat, lon, what):
    """The ground at a site when terrain masking is on (rounded to 0.1 m), else None (smooth Earth)."""
    if not scenario.detection.terrain:
        return None
    if not (terrain.lat_min_deg <= lat <= terrain.lat_max_deg and terrain.lon_min_deg <= lon <= terrain.lon_max_deg):
        raise ScenarioError(*what, f"{lat:g}N {lon:g}E is outside the terrain model ({terrain.lat_min_deg:g}-"
                                   f"{terrain.lat_max_deg:g}N, {terrain.lon_min_deg:g}-{terrain.lon_max_deg:g}E)")
    return round(float(elevation_m(terrain, lat, lon)), 1)


def track_name(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """``"orbit 33.000N 41.200E-34.500N 42.200E"``."""
    return (f"orbit {_hemi(lat1_deg, 'N', 'S', 3)} {_hemi(lon1_deg, 'E', 'W', 3)}-"
            f"{_hemi(lat2_deg, 'N', 'S', 3)} {_hemi(lon2_deg, 'E', 'W', 3)}")


def _grid_points(scenario, spacing_m):
    """``(lat_deg, lon_deg)`` of the centres of a square grid over the scenario's airspace (rounded to 1e-4 deg)."""
    a = build_airspace(scenario)
    x0, y0, x1, y1 = shapely.bounds(a.polygon_m)
    h = float(spacing_m)
    xs = (np.arange(np.floor(x0 / h), np.ceil(x1 / h) + 1) + 0.5) * h
    ys = (np.arange(np.floor(y0 / h), np.ceil(y1 / h) + 1) + 0.5) * h
    X, Y = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(a.polygon_m, X, Y)
    n = int(inside.sum())
    if n > CANDIDATES_MAX:
        raise ScenarioError("--grid-km", None, f"{h / 1000:g} km gives {n:,} sites over {a.name} (at most "
                                               f"{CANDIDATES_MAX:,}): choose a coarser grid")
    if n == 0:
        raise ScenarioError("--grid-km", None, f"no grid point of {h / 1000:g} km falls inside {a.name}'s airspace: "
                                               "choose a finer grid")
    lon, lat = a.transformer.transform(X[inside], Y[inside], direction="INVERSE")
    return np.round(np.asarray(lat, dtype=float), 4), np.round(np.asarray(lon, dtype=float), 4)


def grid_candidates(scenario, spacing_m, antenna_height_m, terrain=None):
    """Candidate sites at the centres of a square grid over the scenario's airspace.

    The grid is the scenario's equal-area projection (:func:`sim.airspace.build_airspace`), cells
    ``spacing_m`` wide with centres at ``(k + 1/2) spacing``; a centre inside the airspace polygon is a
    candidate (``antenna_height_m`` mast; site elevation from ``terrain`` when terrain masking is on).
    """
    out = []
    for la, lo in zip(*_grid_points(scenario, spacing_m)):
        la, lo = float(la), float(lo)
        if terrain is not None and scenario.detection.terrain and not (
                terrain.lat_min_deg <= la <= terrain.lat_max_deg and terrain.lon_min_deg <= lo <= terrain.lon_max_deg):
            continue
        out.append(Candidate(site_name(la, lo), la, lo, float(antenna_height_m),
                             _site_elevation(scenario, terrain, la, lo, ("--grid-km", None))))
    return tuple(out)


#: The candidate lists ``--candidates`` takes by name (a file of that exact name: give it as ``./airbases``).
CANDIDATE_LISTS = ("airbases", "high-ground")
#: How many high-ground sites :func:`high_ground_candidates` lists by default: twice the most radars one
#: placement adds (:data:`ADD_MAX`), so a layout of any size still has a choice, and few enough that every
#: column is cheap (a 25 km grid over Iraq has 697 sites).
HIGH_GROUND_COUNT = 40
#: Least distance between two high-ground sites, and the radius within which a site is the highest ground
#: [m]: the default grid's spacing. Two hilltops closer than that see nearly the same sky at the cruise
#: levels (a copy of an ASR-11 reaches 111 km), and a lower knoll within it stands in its own peak's shadow.
HIGH_GROUND_SEPARATION_M = 25_000.0
#: A radius of curvature no smaller than the Earth's anywhere (the polar one is 6,399.6 km) [m]: cell sizes in
#: metres taken with it are upper bounds, so the rectangle of :func:`terrain_peaks`' prefilter stays inside
#: the separation disk.
_CURVATURE_MAX_M = 6_400_000.0


def airbase_candidates(scenario, antenna_height_m, terrain=None, airports=None):
    """Candidate sites at the airfields of the packaged airport table (:func:`geo.airports.load_airports`) that lie
    inside the scenario's airspace polygon (the test :func:`grid_candidates` applies to its grid points).

    Each is named ``"ICAO name"`` (``"ORAA Al Asad Air Base"``), in the table's order, with ``antenna_height_m``
    of mast. Its ground: the terrain model's there when terrain masking is on (as a grid site's: the masking
    tables are built on that ground; an airfield outside the terrain model is left out), else the table's
    elevation (rounded to 0.1 m). ``airports`` (``{ICAO: Airport}``) replaces the packaged table.
    """
    if airports is None:
        airports = load_airports()
    a = build_airspace(scenario)
    ap = list(airports.values())
    if not ap:
        return ()
    x, y = a.transformer.transform(np.array([p.lon_deg for p in ap]), np.array([p.lat_deg for p in ap]))
    inside = shapely.contains_xy(a.polygon_m, np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    masked = terrain is not None and scenario.detection.terrain
    out = []
    for p, ok in zip(ap, inside):
        if not ok:
            continue
        la, lo = float(p.lat_deg), float(p.lon_deg)
        if masked and not (terrain.lat_min_deg <= la <= terrain.lat_max_deg
                           and terrain.lon_min_deg <= lo <= terrain.lon_max_deg):
            continue
        elev = (_site_elevation(scenario, terrain, la, lo, ("--candidates", "airbases")) if masked
                else round(float(p.elevation_m), 1))
        out.append(Candidate(f"{p.icao} {p.name}"[:80].replace("[", "(").replace("]", ")"), la, lo,
                             float(antenna_height_m), elev))
    return tuple(out)


def terrain_peaks(terrain, polygon_m, transformer, count=HIGH_GROUND_COUNT, separation_m=HIGH_GROUND_SEPARATION_M):
    """The ``count`` highest local maxima of a terrain model inside a polygon, at least ``separation_m`` apart.

    A peak is a cell of the model, at its centre, inside the polygon, with no cell inside the polygon higher
    within ``separation_m`` of it (WGS84 geodesic between cell centres): the highest ground of its
    neighbourhood within the airspace (ground across the border is not a site, and does not hide one). Peaks
    are taken highest first (ties: north, then west, first); one within ``separation_m`` of a peak taken
    already (an equal height: a plateau) is skipped.

    Parameters
    ----------
    terrain : geo.terrain.Terrain
    polygon_m : shapely geometry
        The region in the ``transformer``'s metres (an airspace's ``polygon_m``).
    transformer : pyproj.Transformer
        lon/lat -> metres, ``always_xy``.
    count : int
    separation_m : float
        [m], positive.

    Returns
    -------
    lat_deg, lon_deg, elevation_m : ndarray, shape (n,)
        The peaks' cell centres [deg] and cell values [m], highest first; ``n <= count`` (fewer when the
        polygon holds fewer peaks).

    Notes
    -----
    Vectorized in two passes. A separable maximum filter over a rectangle that lies inside the separation
    disk at every latitude of the window (half-sides ``0.95 separation / sqrt 2``, cells measured with a
    radius of curvature above the Earth's, :data:`_CURVATURE_MAX_M`) keeps every cell that could be a peak
    (a peak is the highest of its disk, so of the rectangle); those few hundred are then checked exactly,
    highest first, against the higher cells inside the polygon within the disk (geodesic distances), until
    ``count`` are taken.
    """
    count, sep = int(count), float(separation_m)
    if count < 1 or not (math.isfinite(sep) and sep > 0):
        raise ValueError(f"count must be at least 1 and separation_m positive, got {count}, {separation_m}")
    empty = (np.zeros(0), np.zeros(0), np.zeros(0))
    lon0, lat0, lon1, lat1 = shapely.bounds(project_geometry(polygon_m, transformer, "INVERSE"))
    c = terrain.cell_deg
    n_row, n_col = terrain.elevation_m.shape
    r0 = max(0, int(np.floor((terrain.lat_max_deg - lat1) / c)) - 1)
    r1 = min(n_row, int(np.ceil((terrain.lat_max_deg - lat0) / c)) + 1)
    q0 = max(0, int(np.floor((lon0 - terrain.lon_min_deg) / c)) - 1)
    q1 = min(n_col, int(np.ceil((lon1 - terrain.lon_min_deg) / c)) + 1)
    if r1 <= r0 or q1 <= q0:
        return empty
    lat = terrain.lat_max_deg - (np.arange(r0, r1) + 0.5) * c
    lon = terrain.lon_min_deg + (np.arange(q0, q1) + 0.5) * c
    x, y = transformer.transform(*np.meshgrid(lon, lat))
    inside = shapely.contains_xy(polygon_m, np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    if not inside.any():
        return empty
    z = np.where(inside, terrain.elevation_m[r0:r1, q0:q1].astype(float), -np.inf)
    cell_m = math.radians(c) * _CURVATURE_MAX_M
    half_m = 0.95 * sep / math.sqrt(2.0)
    hr = int(half_m // cell_m)
    hc = int(half_m // (cell_m * math.cos(math.radians(float(np.min(np.abs(lat)))))))
    keep = inside & (z == maximum_filter(z, size=(2 * hr + 1, 2 * hc + 1), mode="constant", cval=-np.inf))
    rows, cols = np.nonzero(keep)
    order = np.lexsort((cols, rows, -z[rows, cols]))            # highest first; ties north, then west, first
    # the exact check's window: rows and columns within the disk (spherical, 1 % and a cell to spare)
    wr = int(math.ceil(1.01 * sep / (math.radians(c) * EARTH_RADIUS_M * 0.99))) + 1
    taken = []
    for k in order:
        i, j = int(rows[k]), int(cols[k])
        la, lo, h = float(lat[i]), float(lon[j]), float(z[i, j])
        if taken:
            tl = np.array([lat[a] for a, _ in taken])
            tq = np.array([lon[b] for _, b in taken])
            if np.any(WGS84.inv(np.full(len(taken), lo), np.full(len(taken), la), tq, tl)[2] < sep):
                continue
        far = min(89.0, abs(la) + math.degrees(1.01 * sep / (EARTH_RADIUS_M * 0.99)))
        wc = int(math.ceil(wr / math.cos(math.radians(far)))) + 1
        a, b = max(0, i - wr), min(len(lat), i + wr + 1)
        e, f = max(0, j - wc), min(len(lon), j + wc + 1)
        hi_r, hi_c = np.nonzero(z[a:b, e:f] > h)
        if hi_r.size:
            d = WGS84.inv(np.full(hi_r.size, lo), np.full(hi_r.size, la), lon[e + hi_c], lat[a + hi_r])[2]
            if np.any(d <= sep):
                continue
        taken.append((i, j))
        if len(taken) == count:
            break
    if not taken:
        return empty
    ti = np.array([t[0] for t in taken])
    tj = np.array([t[1] for t in taken])
    return lat[ti], lon[tj], z[ti, tj]


def high_ground_candidates(scenario, terrain, antenna_height_m, count=HIGH_GROUND_COUNT,
                           separation_m=HIGH_GROUND_SEPARATION_M):
    """Candidate sites on the scenario airspace's high ground: :func:`terrain_peaks` of the terrain model inside
    its airspace polygon (the ``count`` highest peaks at least ``separation_m`` apart, each the highest ground
    within ``separation_m``), highest first, named by their coordinates (:func:`site_name`), with
    ``antenna_height_m`` of mast. Each stands on its terrain cell's height (with terrain masking on, the model's
    ground there, as a grid site's: the same at a cell centre, rounded to 0.1 m); with masking off too, since
    its height is why it is listed (the smooth Earth then lifts its antenna by it, with no hills around)."""
    a = build_airspace(scenario)
    lat, lon, z = terrain_peaks(terrain, a.polygon_m, a.transformer, count, separation_m)
    out = []
    for la, lo, h in zip(lat, lon, z):
        la, lo = round(float(la), 6), round(float(lo), 6)
        elev = (_site_elevation(scenario, terrain, la, lo, ("--candidates", "high-ground"))
                if scenario.detection.terrain else round(float(h), 1))
        out.append(Candidate(site_name(la, lo), la, lo, float(antenna_height_m), elev))
    return tuple(out)


def listed_candidates(which, scenario, antenna_height_m, terrain):
    """``(candidates, source)`` of a candidate list named in :data:`CANDIDATE_LISTS`: ``"airbases"``
    (:func:`airbase_candidates`) or ``"high-ground"`` (:func:`high_ground_candidates`; needs ``terrain``).
    Raises :class:`~sim.scenario.ScenarioError` (``--candidates``) when the airspace holds none."""
    name = scenario.airspace.name
    if which == "airbases":
        cands = airbase_candidates(scenario, antenna_height_m, terrain)
        if not cands:
            raise ScenarioError("--candidates", None, f"airbases: no airfield of the packaged airport table lies "
                                                      f"inside {name}'s airspace; give a CSV of sites "
                                                      "(lat,lon[,name,mast_m])")
        return cands, f"the packaged airport table's {len(cands)} airfields inside {name}'s airspace"
    if which == "high-ground":
        cands = high_ground_candidates(scenario, terrain, antenna_height_m)
        if not cands:
            raise ScenarioError("--candidates", None, f"high-ground: the terrain model does not cover {name}'s "
                                                      "airspace; give a CSV of sites (lat,lon[,name,mast_m])")
        return cands, (f"the terrain model's {len(cands)} highest peaks inside {name}'s airspace, each the highest "
                       f"ground within {HIGH_GROUND_SEPARATION_M / 1000:g} km")
    raise ScenarioError("--candidates", None, f"no candidate list {which!r} (lists: {', '.join(CANDIDATE_LISTS)})")


#: Columns of a candidates CSV (lat and lon required).
CSV_COLUMNS = ("lat", "lon", "name", "mast_m")
#: Largest candidates CSV [bytes].
CSV_MAX_BYTES = 1 << 20


def read_candidates(path, scenario, antenna_height_m, terrain=None):
    """Candidate sites from a CSV file: a header naming the columns ``lat, lon[, name, mast_m]`` (any order),
    then one site per line (degrees; ``mast_m`` the antenna above the ground [m], default the ``like``
    radar's). Raises :class:`~sim.scenario.ScenarioError` naming the file, the line and the column."""
    src = str(path)
    header = "lat,lon[,name,mast_m]"

    def wrong_kind(cols):
        return set(RACETRACK_COLUMNS[:4]) <= set(cols) and (
            "racetracks (lat1,lon1,lat2,lon2) are candidates for a --like radar that flies an orbit; this one stands "
            f"on a fixed site: give sites {header}")

    out, names = [], set()
    for where, v in _csv_records(path, "a CSV of sites lat, lon[, name, mast_m]", "sites", header, CSV_COLUMNS, 2,
                                 wrong_kind):
        lat, lon = _csv_number(src, where, v, "lat", -90.0, 90.0), _csv_number(src, where, v, "lon", -180.0, 180.0)
        mast = _csv_number(src, where, v, "mast_m", 0.0, 1000.0, " m") if v.get("mast_m") else float(antenna_height_m)
        name = _csv_name(src, where, v.get("name") or site_name(lat, lon), names)
        out.append(Candidate(name, lat, lon, mast, _site_elevation(scenario, terrain, lat, lon, (src, where))))
        if len(out) > CANDIDATES_MAX:
            raise ScenarioError(src, where, f"more than {CANDIDATES_MAX:,} sites")
    return tuple(out)


def _csv_records(path, what, kind, header, columns, n_required, wrong_kind):
    """The rows of a candidates CSV (:func:`_csv_rows`) checked against its header: ``(where, values)`` each,
    ``where`` its line ("line N") and ``values`` a dict of its cells by column. ``columns`` are those the
    header may name, the first ``n_required`` of them required; ``wrong_kind(cols)`` says why a header
    belongs to the other kind of candidates (else False)."""
    src = str(path)
    rows = _csv_rows(path, what)
    if not rows:
        raise ScenarioError(src, None, f"no header and no {kind}: give a header line {header}")
    n0, head = rows[0]
    cols = [c.strip().lower() for c in head]
    other = wrong_kind(cols)
    if other:
        raise ScenarioError(src, f"line {n0}", other)
    for c in cols:
        if c not in columns:
            near = difflib.get_close_matches(c, columns, n=1)
            raise ScenarioError(src, f"line {n0}", f"unknown column {c!r}" + (
                f" (did you mean {near[0]}?)" if near else f" (columns: {', '.join(columns)})"))
    for c in columns[:n_required]:
        if c not in cols:
            raise ScenarioError(src, f"line {n0}", f"the header has no column {c!r} (header: {header})")
    if len(set(cols)) != len(cols):
        raise ScenarioError(src, f"line {n0}", "a column is named twice")
    if len(rows) == 1:
        raise ScenarioError(src, None, f"no {kind} after the header")
    for n, r in rows[1:]:        # one at a time: a row's errors are found before the next row's
        if len(r) != len(cols):
            raise ScenarioError(src, f"line {n}", f"{len(r)} values for {len(cols)} columns")
        yield f"line {n}", dict(zip(cols, (c.strip() for c in r)))


def _csv_number(src, where, values, key, lo, hi, unit=""):
    """The cell ``key`` of a candidates CSV row as a number within ``[lo, hi]`` (else a ScenarioError)."""
    try:
        x = float(values[key])
    except ValueError:
        raise ScenarioError(src, where, f"{key}: must be a number, got {values[key]!r}") from None
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ScenarioError(src, where, f"{key}: must be between {lo:g} and {hi:g}{unit}, got {values[key]}")
    return x


def _csv_name(src, where, name, names):
    """A candidate's name, checked (at most 80 characters, no brackets, no character a scenario string may not
    hold: :func:`~sim.scenario.text_refusal`, not given twice) and added to ``names``. Its errors name the CSV
    file, the line and the column (the name becomes a radar's, whose own check would name the scenario)."""
    why = text_refusal(name)
    if why:
        raise ScenarioError(src, where, f"name: {why}")
    if len(name) > 80 or "]" in name or "[" in name:
        raise ScenarioError(src, where, f"name: at most 80 characters, no brackets, got {name!r}")
    if name in names:
        raise ScenarioError(src, where, f"name: {name!r} is given twice")
    names.add(name)
    return name


def _csv_rows(path, what):
    """The non-blank, non-comment rows of a small UTF-8 CSV file, ``[(line number, cells)]``."""
    p = Path(path)
    src = str(path)
    try:
        if not p.is_file():
            raise ScenarioError(src, None, f"no such file (--candidates takes {what})")
        if p.stat().st_size > CSV_MAX_BYTES:
            raise ScenarioError(src, None, f"larger than {CSV_MAX_BYTES // 1024} KiB")
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(src, None, "not UTF-8 text") from None
    except OSError as e:
        raise ScenarioError(src, None, f"cannot read it ({e.strerror or e})") from None
    return [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1)
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]


#: Columns of a racetracks CSV (the four waypoint coordinates required).
RACETRACK_COLUMNS = ("lat1", "lon1", "lat2", "lon2", "name")


def _check_track(track, where):
    """A racetrack the scenario format accepts as an orbit: its two waypoints the same point (held) or at least
    :data:`~sim.scenario.WAYPOINT_SPACING_MIN_M` apart, its loop at most :data:`~sim.scenario.ORBIT_LOOP_MAX_M`."""
    if track.holds:
        return track
    leg = float(leg_geometry([track.lat1_deg, track.lat2_deg], [track.lon1_deg, track.lon2_deg])[1][0])
    if leg < WAYPOINT_SPACING_MIN_M:
        raise ScenarioError(*where, f"the waypoints are {leg:,.0f} m apart: at least {WAYPOINT_SPACING_MIN_M / 1000:g} "
                                    "km, or the same point (the platform holds it)")
    if 2.0 * leg > ORBIT_LOOP_MAX_M:
        raise ScenarioError(*where, f"the loop is {2.0 * leg / 1000:,.0f} km long: at most "
                                    f"{ORBIT_LOOP_MAX_M / 1000:,.0f} km")
    return track


def read_racetracks(path):
    """Candidate orbits from a CSV file: a header naming the columns ``lat1, lon1, lat2, lon2[, name]`` (any
    order), then one racetrack per line: the two waypoints [deg] the platform flies out and back between (the
    same point twice: it holds there). Raises :class:`~sim.scenario.ScenarioError` naming the file, the line and
    the column."""
    src = str(path)
    header = "lat1,lon1,lat2,lon2[,name]"

    def wrong_kind(cols):
        return "lat" in cols and "lat1" not in cols and (
            f"sites (lat,lon) are candidates for a --like radar on a fixed site; this one flies an orbit: give "
            f"racetracks {header}")

    out, names = [], set()
    for where, v in _csv_records(path, "racetracks lat1, lon1, lat2, lon2[, name] for an orbiting --like radar",
                                 "racetracks", header, RACETRACK_COLUMNS, 4, wrong_kind):
        la1, lo1 = _csv_number(src, where, v, "lat1", -90.0, 90.0), _csv_number(src, where, v, "lon1", -180.0, 180.0)
        la2, lo2 = _csv_number(src, where, v, "lat2", -90.0, 90.0), _csv_number(src, where, v, "lon2", -180.0, 180.0)
        name = _csv_name(src, where, v.get("name") or track_name(la1, lo1, la2, lo2), names)
        out.append(_check_track(Racetrack(name, la1, lo1, la2, lo2), (src, where)))
        if len(out) > CANDIDATES_MAX:
            raise ScenarioError(src, where, f"more than {CANDIDATES_MAX:,} racetracks")
    return tuple(out)


def orbit_grid_candidates(scenario, spacing_m, like_spec):
    """Candidate orbits centred on the centres of a square grid over the scenario's airspace (as
    :func:`grid_candidates`): each a racetrack of the ``like`` orbit's own length, turned to its heading (the
    geodesic's azimuth at the ``like`` racetrack's midpoint; both ends half the length from the centre along
    the geodesic). The ``like`` orbit must be a racetrack (two waypoints) or hold a point."""
    wps = like_spec.orbit.waypoints
    if len(wps) > 2:
        raise ScenarioError("--grid-km", None, f"{like_spec.name!r} flies a loop of {len(wps)} waypoints: a grid of "
                                               "copies needs a racetrack (two waypoints); give --candidates "
                                               "racetracks lat1,lon1,lat2,lon2")
    lat, lon = _grid_points(scenario, spacing_m)
    if len(wps) == 1:
        return tuple(Racetrack(track_name(a, b, a, b), float(a), float(b), float(a), float(b))
                     for a, b in zip(lat, lon))
    (la1, lo1), (la2, lo2) = wps
    az, _, length = WGS84.inv(lo1, la1, lo2, la2)
    _, _, back = WGS84.fwd(lo1, la1, az, 0.5 * length)
    heading = float(back) + 180.0                       # the geodesic's forward azimuth at its midpoint
    half = np.full(len(lat), 0.5 * float(length))
    b_lon, b_lat, _ = WGS84.fwd(lon, lat, np.full(len(lat), heading), half)
    a_lon, a_lat, _ = WGS84.fwd(lon, lat, np.full(len(lat), heading + 180.0), half)
    out = []
    for x in zip(*(np.round(np.asarray(v, dtype=float), 4) for v in (a_lat, a_lon, b_lat, b_lon))):
        x = tuple(float(v) for v in x)
        out.append(Racetrack(track_name(*x), *x))
    return tuple(out)


def _like_table(scenario, like):
    """The ``[[radar]]`` table (as written) and the validated spec of the radar named ``like``."""
    names = [r.name for r in scenario.radars]
    if like not in names:
        near = difflib.get_close_matches(str(like), names, n=3)
        raise ScenarioError("--like", None, f"no radar named {like!r} in {shown_source(scenario.path)}" + (
            f" (did you mean {' or '.join(repr(x) for x in near)}?)" if near else f" (radars: {', '.join(names)})"))
    spec = scenario.radars[names.index(like)]
    table = next(t for t in scenario.raw["radar"] if isinstance(t, dict) and t.get("name") == like)
    return table, spec


def candidate_table(like_table, like_name, cand):
    """The ``[[radar]]`` table of a candidate: the ``like`` radar's keys (kind, range, Pd, scan period,
    availability, outages) at the candidate's site, mast and elevation; for a :class:`Racetrack`, on an orbit
    through its waypoints with the ``like`` orbit's other keys (altitude, speed)."""
    if isinstance(cand, Racetrack):
        orbit = {"waypoints": [{"lat": a, "lon": b} for a, b in cand.waypoints]}
        orbit.update({k: copy.deepcopy(v) for k, v in like_table["orbit"].items() if k != "waypoints"})
        t = {"name": cand.name, "orbit": orbit}
        t.update({k: copy.deepcopy(v) for k, v in like_table.items() if k not in ("name", "orbit", "notes")})
        t["notes"] = f"placed by airpicture place: a copy of {like_name}"
        return t
    skip = ("name", "lat", "lon", "notes")
    rest = {k: copy.deepcopy(v) for k, v in like_table.items()
            if k not in skip and not k.startswith("antenna_height_") and not k.startswith("elevation_")}
    t = {"name": cand.name, "lat": cand.lat_deg, "lon": cand.lon_deg, "antenna_height_m": cand.antenna_height_m}
    if cand.elevation_m is not None:
        t["elevation_m"] = cand.elevation_m
    t.update(rest)
    t["notes"] = f"placed by airpicture place: a copy of {like_name}"
    return t


# --- the m-of-n track probability --------------------------------------------------------------------
def track_probability(pd, counts=None, m=1, n=1):
    """Probability that the m-of-n rule holds at some scan that counts, for independent scans.

    Parameters
    ----------
    pd : array_like, shape (G, K)
        Per-scan detection probability of each of G scan sequences (axis 1: scans in time order).
    counts : array_like of bool, shape (G, K), optional
        Scans at which a track counts (inside the airspace, early enough); default all.
    m, n : int
        A track is held at a scan when at least ``m`` of the last ``n`` scans (that one included) are
        detections (:func:`sim.detection.track_held`).

    Returns
    -------
    ndarray, shape (G,)

    Notes
    -----
    An exact dynamic programme over the scans: the state is the outcome of the last ``n - 1`` scans
    (``2^(n - 1)`` states, bit 0 the latest), absorbed at the first scan that counts with ``m`` of ``n``.
    ``n - 1`` is at most :data:`TRACK_N_MAX`.

    >>> float(track_probability([[0.5, 0.5, 0.5]], m=2, n=2)[0])   # 1 - P(no two hits in a row) = 1 - 5/8
    0.375
    """
    pd = np.atleast_2d(np.asarray(pd, dtype=float))
    G, K = pd.shape
    c = np.ones((G, K), dtype=bool) if counts is None else np.broadcast_to(np.asarray(counts, dtype=bool), (G, K))
    if not (1 <= m <= n) or n - 1 > TRACK_N_MAX:
        raise ValueError(f"m-of-n needs 1 <= m <= n <= {TRACK_N_MAX + 1}, got {m} of {n}")
    S = 1 << (n - 1)
    half = S >> 1
    pop = np.array([bin(s).count("1") for s in range(S)])
    abs_hit, abs_miss = pop + 1 >= m, pop >= m
    P = np.zeros((G, S))
    P[:, 0] = 1.0
    got = np.zeros(G)
    for k in range(K):
        H = P * pd[:, k, None]
        Mi = P - H
        ck = c[:, k, None]
        ah = np.where(ck & abs_hit, H, 0.0)
        am = np.where(ck & abs_miss, Mi, 0.0)
        got += ah.sum(axis=1) + am.sum(axis=1)
        H -= ah
        Mi -= am
        if S == 1:
            P = H + Mi
        else:
            P = np.empty_like(P)
            P[:, 1::2] = H[:, :half] + H[:, half:]
            P[:, 0::2] = Mi[:, :half] + Mi[:, half:]
    return np.minimum(got, 1.0)


# --- the selection sample -------------------------------------------------------------------------
@dataclass(frozen=True)
class FlightSet:
    """A fixed sample of flights of one scenario (its existing radars) and what each can gain.

    Arrays shape (N,); ``base`` is 1 for a flight that already counts, ``scale`` what a flight gains when
    a new radar makes it count (0: nothing to gain).
    """

    label: str
    scenario: object
    sim: object
    seed: int
    campaigns: int
    flights: int
    route_index: np.ndarray
    cross_track_m: np.ndarray
    transponder_on: np.ndarray
    base: np.ndarray
    scale: np.ndarray
    offset_step_m: float = OFFSET_STEP_M    # the sideways offsets its columns are computed on, this far apart

    @property
    def n(self):
        return len(self.base)

    def route_rows(self, i):
        """The flights of route ``i``."""
        return np.flatnonzero(self.route_index == i)


def objective_state(sim, result, objective):
    """``(base, scale)`` per flight of a run with per-flight arrays, for an objective of :data:`OBJECTIVES`.

    detect: base = detected; track-in-airspace: base = held in track while in the airspace; stopped:
    base = stopped; a flight whose crew refused a feasible order (or its escort), or that the state held in
    time and did not act on (``no_order``: its will draw is the same with a better track), gains nothing, one
    not tracked in time gains the order's compliance times the state's will. ``scale = 1 - base`` otherwise.
    """
    if objective == "detect":
        base = result.detected.astype(float)
        return base, 1.0 - base
    if objective == "track-in-airspace":
        base = result.detected_in_airspace.astype(float)
        return base, 1.0 - base
    code = {name: i for i, name in enumerate(OUTCOMES)}
    out = result.outcome
    base = np.isin(out, [code[s] for s in STOPPED]).astype(float)
    refused = np.isin(out, [code["order_refused"], code["escort_refused"], code["no_order"]])
    resp = sim.scenario.response
    scale = np.where((base > 0) | refused, 0.0, resp.compliance * resp.will)
    return base, scale


def _flight_set(label, scenario, objective, campaigns, flights, seed, terrain, cache, offset_step_m=OFFSET_STEP_M):
    sim = prepare(scenario, terrain, cache, with_fences=objective != "detect" or scenario.response is not None)
    res = run(sim, campaigns, flights, seed, keep_flights=True)
    base, scale = objective_state(sim, res, objective)
    sim = dataclasses.replace(sim, tables=())      # the existing radars' tables: the run's, no column reads them
    if offset_step_m != OFFSET_STEP_M:
        sim = _on_offsets(sim, offset_step_m)
    b = res.batch
    return FlightSet(label, scenario, sim, int(seed), int(campaigns), int(flights), b.route_index, b.cross_track_m,
                     b.transponder_on, base, scale, float(offset_step_m))


def _on_offsets(sim, step_m):
    """A simulation whose terrain-following routes keep their altitude rows only at the sideways offsets
    ``step_m`` apart that the columns read (:func:`sim.flights.offset_rows`; each the row the full table gives
    for that offset): the same positions there, a fraction of the memory."""
    routes = []
    for r in sim.routes:
        if r.alt_rows_m is not None:
            grid = offset_rows(r.cross_track_sigma_m, OFFSET_CLIP_SIGMA, step_m)
            rows = nearest_row(r.row_offsets_m, grid)
            r = dataclasses.replace(r, alt_m=np.array(r.alt_m), row_offsets_m=grid, alt_rows_m=r.alt_rows_m[rows])
        routes.append(r)
    return dataclasses.replace(sim, routes=tuple(routes), packed=pack_routes(routes))


# --- candidates' columns ----------------------------------------------------------------------------
class _Columns:
    """Each candidate's P_ij on one flight set, computed when first asked (and counted).

    ``models`` (shared by the caller across flight sets) keeps the :data:`MODELS_KEPT` most recently used
    candidates' radar models (:func:`sim.detection.prepare_radar`, its terrain masking table from the cache by
    :func:`sim.montecarlo.masking_builder`): a model depends on the radar and the aircraft's RCS, not on the
    routes.
    """

    def __init__(self, fs, tables, objective, terrain, cache, like_spec, models):
        self.fs, self.tables, self.objective = fs, tables, objective
        self.terrain, self.cache, self.like = terrain, cache, like_spec
        self.models = models
        self._cols = {}
        self._order = {}            # route -> (feasible, k_out) of the order to land (stopped)
        self.evaluated = 0
        self.seconds = 0.0
        self.sees = fs.scale > 0
        if like_spec.kind.needs_transponder:
            self.sees = self.sees & fs.transponder_on

    @property
    def computed(self):
        """The candidates whose column has been computed."""
        return tuple(self._cols)

    def column(self, j):
        got = self._cols.get(j)
        if got is None:
            t0 = time.perf_counter()
            got = self._compute(j)
            self._cols[j] = got
            self.evaluated += 1
            self.seconds += time.perf_counter() - t0
        return got

    def model(self, j):
        """Candidate ``j``'s radar model (:func:`sim.detection.prepare_radar` of the candidate's radar, its
        masking table from the cache, as :func:`sim.montecarlo.prepare` makes it)."""
        fs = self.fs
        sc = fs.scenario
        key = (j, sc.aircraft.rcs_m2, sc.detection.refraction_k, sc.detection.terrain)
        got = self.models.pop(key, None)
        if got is None:
            doc = copy.deepcopy(sc.raw)
            doc["radar"] = [self.tables[j]]
            doc.pop("uncertainty", None)
            spec = parse_scenario(doc, source=sc.path).radars[0]
            terrain = self.terrain if sc.detection.terrain else None
            builder = masking_builder(self.cache, terrain, sc.detection.refraction_k) if terrain is not None else None
            got = prepare_radar(spec, sc.aircraft.rcs_m2, sc.detection.refraction_k, terrain, builder)
        self.models[key] = got                  # the most recently used last; the least used goes past the limit
        while len(self.models) > MODELS_KEPT:
            del self.models[next(iter(self.models))]
        return got

    def _compute(self, j):
        fs = self.fs
        P = np.zeros(fs.n)
        if not self.sees.any():
            return P
        radar = self.model(j)
        det = fs.scenario.detection
        period = radar.scan_period_s
        for i, route in enumerate(fs.sim.routes):
            idx = np.flatnonzero(self.sees & (fs.route_index == i))
            if not idx.size:
                continue
            if isinstance(radar.platform, Orbit):
                self._orbit_route(radar, i, idx, P)
                continue
            k0, count = scan_window(radar, route, det.refraction_k)
            if count == 0:
                continue
            offsets = offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, fs.offset_step_m)
            rows, inverse = np.unique(nearest_row(offsets, fs.cross_track_m[idx]), return_inverse=True)
            tab = detection_table(fs.sim.packed, i, route.duration_s, radar, offsets[rows], (k0 - 1) * period,
                                  (k0 + count + 1) * period)
            seen = np.isfinite(tab.first_s)
            if not seen.any():
                continue
            k_a = max(int(np.floor(np.min(tab.first_s[seen]) / period)) - 1, 0)
            k_b = int(np.ceil(np.max(tab.last_s[seen]) / period)) + det.track_n
            ks = np.arange(k_a, k_b + 1)
            phase = (np.arange(PHASES) + 0.5) / PHASES
            g_rows = np.repeat(np.arange(len(rows)), PHASES)
            t = (np.tile(phase, len(rows))[:, None] + ks[None, :]) * period
            pd = tab.lookup(g_rows, t)
            counts = self._counts(i, offsets[rows][g_rows], t)
            p = track_probability(pd, counts, det.track_m, det.track_n).reshape(len(rows), PHASES).mean(axis=1)
            P[idx] = np.minimum(radar.availability * p[inverse], P_MAX)
        return P

    def _orbit_route(self, radar, i, idx, P):
        """An orbit candidate's ``P`` for the flights ``idx`` of route ``i`` (written into ``P``): the m-of-n
        track probability averaged over :data:`LOOP_PHASES` loop phases times :data:`PHASES` scan phases, each
        scan of the radar's window on the route (:func:`sim.montecarlo.scan_window`, then the ``n - 1`` scans a
        track is still held past it) from its exact geometry (:func:`sim.detection.in_coverage` at the
        platform's position of that instant), on the flight's nearest tabulated offset. Flights and scans are
        array axes, in blocks of :data:`_ORBIT_BLOCK` elements."""
        fs = self.fs
        det = fs.scenario.detection
        route = fs.sim.routes[i]
        period, n = radar.scan_period_s, det.track_n
        k0, count = scan_window(radar, route, det.refraction_k)
        if count == 0:
            return
        offsets = offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, fs.offset_step_m)
        rows, inverse = np.unique(nearest_row(offsets, fs.cross_track_m[idx]), return_inverse=True)
        ks = k0 + np.arange(count + n - 1)
        live = ks < k0 + count              # the Monte Carlo walks the window's scans (a track held n - 1 past it)
        scan_phase = (np.arange(PHASES) + 0.5) / PHASES
        loop_phase = ((np.arange(LOOP_PHASES) + 0.5) / LOOP_PHASES)[:, None, None]
        per_row = LOOP_PHASES * PHASES * len(ks)
        step = max(1, _ORBIT_BLOCK // per_row)
        p = np.zeros(len(rows))
        for a in range(0, len(rows), step):
            b = len(rows[a:a + step])
            off = np.repeat(offsets[rows[a:a + step]], PHASES)                          # (b P,)
            t = (np.tile(scan_phase, b)[:, None] + ks[None, :]) * period                # (b P, K)
            xyz, alt, airborne = positions_at(fs.sim.packed, np.full(b * PHASES, i), off, t)
            covered, slant = in_coverage(radar, xyz[None], alt[None], t[None], loop_phase)     # (L, b P, K)
            pd = np.where(covered & (airborne & live)[None], scan_pd(radar, slant, True), 0.0)
            hit = np.flatnonzero(pd.any(axis=(0, 1)))
            if not hit.size:
                continue
            # scans before the first possible detection change nothing; none is held n - 1 scans past the last
            sl = slice(hit[0], min(hit[-1] + n, len(ks)))
            counts = self._counts(i, off, t[:, sl])
            if counts is not None:
                counts = np.broadcast_to(counts[None], pd[:, :, sl].shape).reshape(-1, sl.stop - sl.start)
            prob = track_probability(pd[:, :, sl].reshape(-1, sl.stop - sl.start), counts, det.track_m, n)
            p[a:a + b] = prob.reshape(LOOP_PHASES, b, PHASES).mean(axis=(0, 2))
        P[idx] = np.minimum(radar.availability * p[inverse], P_MAX)

    def _counts(self, i, offsets_m, t):
        """Scans at which a track counts: all (detect), inside the airspace, or early enough for the order."""
        fs = self.fs
        if self.objective == "detect":
            return None
        route = np.full(len(offsets_m), i)
        inside = inside_airspace_at(fs.sim.fences, route, offsets_m, t)
        if self.objective == "track-in-airspace":
            return inside
        feasible, k_out = self._order_tables(i)
        fz = fs.sim.fences[i]
        r = fz.row(offsets_m)[:, None]
        T = feasible.shape[1]
        k_t = np.clip(np.rint(t / FENCE_STEP_S).astype(np.int64), 0, T - 1)
        k_d = np.rint((t + fs.scenario.response.decision_delay_s) / FENCE_STEP_S).astype(np.int64)
        ok = (k_d < T) & (k_d < k_out[r, k_t])
        return inside & ok & feasible[r, np.clip(k_d, 0, T - 1)]

    def _order_tables(self, i):
        """Per fence row and sample: whether an order to land decided then is feasible (the aircraft can land
        at the nearest airport before it leaves the airspace, gaps of airspace_gap bridged), and the first
        sample outside the bridged stretch (:func:`sim.response.flight_response`'s rule)."""
        got = self._order.get(i)
        if got is None:
            fs = self.fs
            sim, resp, ac = fs.sim, fs.scenario.response, fs.scenario.aircraft
            fz = sim.fences[i]
            gap = int(np.floor(resp.airspace_gap_s / FENCE_STEP_S + 1e-9))
            inside = bridge_gaps(fz.in_airspace, gap)
            k_out = next_false(inside)
            t_exit = np.minimum((k_out - 0.5) * FENCE_STEP_S, fz.t_s[-1])
            n_rows, T = inside.shape
            tt = np.broadcast_to(fz.t_s, (n_rows, T))
            xyz, alt, _ = positions_at(sim.packed, np.full(n_rows, i), fz.offsets_m, tt)
            ap = resp.land_airports
            need, _ = time_to_land_s(xyz.reshape(-1, 3), alt.reshape(-1),
                                     unit_vectors([a.lat_deg for a in ap], [a.lon_deg for a in ap]),
                                     np.array([a.elevation_m for a in ap]), ac.descent_speed_mps, ac.descent_rate_mps)
            feasible = inside & (need.reshape(n_rows, T) <= t_exit - tt)
            got = (feasible, k_out)
            self._order[i] = got
        return got


def flight_groups(fs, rows):
    """Flights of ``rows`` that share their route, their row of the tables (nearest tabulated offset), their
    transponder and their scale have the same ``P_ij`` for every candidate: one representative each and
    the group's summed scale. Returns ``(representatives, weights)`` (exact: the objective is a sum over
    flights of a function of their own hazards)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not rows.size:
        return rows, np.zeros(0)
    table_row = np.zeros(len(rows), dtype=np.int64)
    for i, route in enumerate(fs.sim.routes):
        sel = fs.route_index[rows] == i
        if sel.any():
            offsets = offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, fs.offset_step_m)
            table_row[sel] = nearest_row(offsets, fs.cross_track_m[rows[sel]])
    keys = np.column_stack([fs.route_index[rows], table_row, fs.transponder_on[rows].astype(np.int64),
                            np.round(fs.scale[rows] * 1e9).astype(np.int64)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=fs.scale[rows], minlength=len(first))
    return rows[first], weight


def reach_points(cands, like_spec):
    """Where each candidate can be: ``(xyz (Q, 3), alt_m (Q,), owner (Q,), slack_m (M,))``, the points in
    candidate order (``owner``: the candidate of each). A site is one point (its antenna); an orbit, its
    positions around the loop at most :data:`_BOUND_LOOP_M` apart (:meth:`sim.platforms.Orbit.loop_samples`) at
    its altitude, with that spacing as its slack (every position of the loop is within half of it of one)."""
    if not cands:
        return np.zeros((0, 3)), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0)
    if isinstance(cands[0], Racetrack):
        o = like_spec.orbit
        xyz = [flying_orbit(*zip(*c.waypoints), o.altitude_m, o.speed_mps).loop_samples(_BOUND_LOOP_M) for c in cands]
        owner = np.repeat(np.arange(len(cands)), [len(x) for x in xyz])
        return (np.vstack(xyz), np.full(len(owner), float(o.altitude_m)), owner,
                np.where([c.holds for c in cands], 0.0, _BOUND_LOOP_M))
    lat = np.array([c.lat_deg for c in cands])
    lon = np.array([c.lon_deg for c in cands])
    alt = np.array([(c.elevation_m or 0.0) + c.antenna_height_m for c in cands])
    return unit_vectors(lat, lon).reshape(-1, 3), alt, np.arange(len(cands)), np.zeros(len(cands))


def reach_matrix(fs, rows, cands, like_spec, points=None):
    """Geometric upper bounds on ``P_ij`` for the flights ``rows`` of a flight set and every candidate, shape
    (len(rows), M): the candidate's availability where flight ``i`` passes within its reach (instrumented
    range and, for a route at a fixed level, the smooth-Earth horizon, plus :data:`REACH_MARGIN_M`) at some
    point of its track, from some point where the candidate can be (:func:`reach_points`: its site, or its
    orbit's loop with the points' spacing added), else 0 (a flight a secondary candidate cannot see: 0).
    ``points`` is :func:`reach_points`'s answer, when the caller keeps it."""
    rows = np.asarray(rows, dtype=np.int64)
    M = len(cands)
    out = np.zeros((len(rows), M))
    if not len(rows) or not M:
        return out
    pxyz, palt, owner, pslack = reach_points(cands, like_spec) if points is None else points
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    k = fs.scenario.detection.refraction_k
    sees = np.ones(len(rows), dtype=bool)
    if like_spec.kind.needs_transponder:
        sees = fs.transponder_on[rows]
    for i, route in enumerate(fs.sim.routes):
        sel = np.flatnonzero((fs.route_index[rows] == i) & sees)
        if not sel.size:
            continue
        step = max(int(round(_BOUND_STEP_S / route.step_s)), 1)
        xyz, alt = route.xyz[::step], route.alt_m[::step]
        if (len(route.t_s) - 1) % step:
            xyz, alt = np.vstack([xyz, route.xyz[-1:]]), np.append(alt, route.alt_m[-1])
        chord_1s = np.linalg.norm(np.diff(route.xyz, axis=0), axis=1) if len(route.t_s) > 1 else np.zeros(1)
        speed = float(np.max(chord_1s)) * EARTH_RADIUS_M / route.step_s
        # the samples' spacing, the margin, and how much a ground distance can exceed the slant range it
        # belongs to on the sphere (R (theta - chord) <= D^3 / (24 R^2) at ground distance D; twice that)
        slack = (0.5 * step * route.step_s * speed + REACH_MARGIN_M
                 + like_spec.range_m ** 3 / (12.0 * EARTH_RADIUS_M ** 2)) + pslack
        d_pt = np.full(len(owner), np.inf)
        for a in range(0, len(owner), 256):
            c = pxyz[a:a + 256]
            chord = np.linalg.norm(c[:, None, :] - xyz[None, :, :], axis=-1)
            ground = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord / 2.0, 1.0))
            reach = np.full(ground.shape, like_spec.range_m)
            if route.alt_rows_m is None:       # a fixed level: the horizon too
                reach = np.minimum(reach, horizon_distance_m(palt[a:a + 256, None], alt[None, :], k))
            d_pt[a:a + 256] = np.min(ground - reach, axis=1)
        d_min = np.minimum.reduceat(d_pt, first)
        off = np.abs(fs.cross_track_m[rows[sel]])
        out[sel] = np.where(off[:, None] >= (d_min - slack)[None, :], like_spec.availability, 0.0)
    return out


# --- the objective of a set of flights ----------------------------------------------------------------
def _hazard(P):
    return -np.log1p(-np.minimum(P, P_MAX))


class Coverage:
    """``F(S) = base + sum_i w_i (1 - exp(-sum_{j in S} a_ij))``, ``a_ij = -ln(1 - P_ij)``: the objective
    of one set of flights (a route, or the scenario's mix), monotone and submodular in the layout ``S``.

    ``column(j)`` gives ``P_:j`` (shape (N,)); it is called at most once per candidate, only when needed;
    until then ``upper[:, j]`` (shape (N, M), ``>= P_:j``) stands for it, so every gain computed from
    :attr:`P` is exact for an evaluated candidate and an upper bound for the others.
    """

    def __init__(self, w, base, column, upper, name=""):
        self.w = np.asarray(w, dtype=float)
        self.base = float(base)
        self._column = column
        self.P = np.array(upper, dtype=float, copy=True)
        if self.P.ndim != 2 or self.P.shape[0] != len(self.w):
            raise ValueError("upper must have shape (N, M), N the length of w")
        self.exact = ~np.any(self.P > 0, axis=0)     # a column bounded by 0 is 0: known without computing it
        self.name = name
        self.evaluations = 0
        self._tops = {}             # (start, m) -> each flight's m largest hazards among candidates start.. (cols now)

    @property
    def n_candidates(self):
        return self.P.shape[1]

    def ensure(self, js):
        """Compute the exact columns of candidates ``js`` (those not computed yet)."""
        for j in np.atleast_1d(np.asarray(js, dtype=np.int64)):
            if not self.exact[j]:
                col = np.asarray(self._column(int(j)), dtype=float)
                if np.any(col > self.P[:, j] + 1e-9):
                    raise RuntimeError(f"{self.name}: candidate {int(j)}'s upper bound is below its P (a bug)")
                self.P[:, j] = col
                self.exact[j] = True
                self.evaluations += 1
                self._tops = {k: v for k, v in self._tops.items() if k[0] > j}   # those that read column j go

    def hazard(self, S):
        """``H_i = sum_{j in S} a_ij`` (exact columns), shape (N,)."""
        S = list(S)
        if not S:
            return np.zeros(len(self.w))
        self.ensure(S)
        return _hazard(self.P[:, S]).sum(axis=1)

    def value_at(self, H):
        return self.base + float(np.dot(self.w, -np.expm1(-H)))

    def value(self, S):
        return self.value_at(self.hazard(S))

    def gains(self, H, start=0):
        """Marginal gains at hazards ``H`` of candidates ``start..M-1``: exact where evaluated, bounds elsewhere."""
        return (self.w * np.exp(-H)) @ self.P[:, start:]

    def flight_bound(self, H, m, start=0, exclude=()):
        """An upper bound on ``F`` after adding any ``m`` of the candidates ``start..M-1`` (not ``exclude``) to a
        layout of hazards ``H``: each flight takes its own ``m`` largest hazards (a layout gives every flight
        the same ``m``, so it can do no better)."""
        if m <= 0:
            return self.value_at(H)
        m = min(m, self.P.shape[1] - start)
        if m <= 0:
            return self.value_at(H)
        top = None if len(exclude) else self._tops.get((start, m))
        if top is None:
            A = _hazard(self.P[:, start:])
            if len(exclude):
                A[:, [e - start for e in exclude if e >= start]] = 0.0
            top = -np.partition(-A, m - 1, axis=1)[:, :m].sum(axis=1)
            if not len(exclude):
                self._tops[(start, m)] = top
        return self.value_at(H + top)


# --- lazy greedy --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GreedyStep:
    """One pick of the lazy greedy: candidate ``index``, its marginal gain, the objective after it, and the
    upper bound on the best objective of any layout of ``k`` candidates (on the sample)."""

    k: int
    index: int
    gain: float
    value: float
    bound: float
    evaluations: int            # exact columns computed so far


#: A computed gain within this of the next upper bound is taken (ties need no further columns).
TIE_TOLERANCE = 1e-12


def lazy_greedy(k, cov):
    """Pick ``k`` candidates maximising a :class:`Coverage` by greedy, lazily in the columns.

    At each step the queue holds every candidate's marginal gain at the current layout: exact for a
    candidate whose column has been computed, an upper bound (from ``cov``'s bounds) for the others. The
    top is taken when exact; otherwise its column is computed and its exact gain taken if it is still the
    largest (within :data:`TIE_TOLERANCE`), else put back (Minoux's accelerated greedy; CELF). Ties: the
    first exact one, then the lowest index. When nothing gains, the lowest unpicked index is taken with
    gain 0.

    Returns
    -------
    steps : list of GreedyStep
    bounds : ndarray, shape (k + 1,)
        ``bounds[m]``, an upper bound on ``max_{|T| = m} F(T)``, the least of: over the layouts ``S_i``
        of the run, ``F(S_i)`` plus the ``m`` largest marginal-gain bounds at ``S_i`` (Nemhauser, Wolsey &
        Fisher 1978); greedy's ``F(S_0) + (F(S_m) - F(S_0)) / (1 - (1 - 1/m)^m)``; and each flight with
        its own ``m`` best candidates (:meth:`Coverage.flight_bound`).
    """
    M = cov.n_candidates
    k = min(int(k), M)
    picked, steps, snapshots = [], [], []
    H = np.zeros(len(cov.w))
    base_value = cov.value_at(H)
    value = base_value
    for step in range(1, k + 1):
        g_all = cov.gains(H)
        g_all[picked] = -np.inf
        snapshots.append((value, np.sort(g_all[np.isfinite(g_all)])[::-1][:k]))
        heap = [(-float(g), 0 if cov.exact[j] else 1, j) for j, g in enumerate(g_all) if g > 0]
        heapq.heapify(heap)
        top = None
        while heap:
            neg, inexact, j = heapq.heappop(heap)
            if not inexact:
                top = (-neg, j)
                break
            cov.ensure([j])
            g = float(np.dot(cov.w * np.exp(-H), cov.P[:, j]))
            if not heap or g >= -heap[0][0] - TIE_TOLERANCE:
                top = (g, j)
                break
            heapq.heappush(heap, (-g, 0, j))
        if top is None:
            top = (0.0, next(i for i in range(M) if i not in picked))
        g, j = top
        picked.append(j)
        if g > 0:
            H = H + cov.hazard([j])
        new = cov.value_at(H)
        steps.append((step, j, new - value, new))
        value = new
    g_all = cov.gains(H)
    g_all[picked] = -np.inf
    snapshots.append((value, np.sort(g_all[np.isfinite(g_all)])[::-1][:k]))
    bounds = np.full(k + 1, np.inf)
    bounds[0] = base_value
    zero = np.zeros(len(cov.w))
    for m in range(1, k + 1):
        online = min(v + float(np.sum(np.maximum(keys[:m], 0.0))) for v, keys in snapshots)
        greedy = base_value + (steps[m - 1][3] - base_value) / (1.0 - (1.0 - 1.0 / m) ** m)
        bounds[m] = max(min(online, greedy, cov.flight_bound(zero, m)), steps[m - 1][3])
    out = [GreedyStep(s, j, float(g), float(v), float(bounds[s]), int(cov.evaluations)) for s, j, g, v in steps]
    return out, bounds


# --- the robust layout --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobustLayout:
    """The best layout against the worst route of a set: ``max_{|S| = k} min_r F_r(S)`` on the sample."""

    layout: tuple           # candidate indices, increasing
    value: float            # min over routes of F_r(layout)
    bound: float            # no layout of k candidates does better than this (on the sample)
    proven: bool            # the search finished: the layout is the best (bound == value)
    nodes: int
    method: str


def robust_layout(covs, k, incumbents=(), node_limit=NODE_LIMIT):
    """``max over |S| = k of min_r F_r(S)`` over the :class:`Coverage` objects ``covs`` (one per route).

    Branch and bound over layouts in increasing index order (depth first, the most promising child
    first), from the best of ``incumbents`` (layouts) and greedy on the minimum. A node's children are
    bounded by the per-route submodular bound ``min_r [F_r(S) + g_r(j) + the k - |S| - 1 largest other
    marginal gains on route r]`` and dropped unless it beats the incumbent; the last pick is evaluated for
    every candidate at once (a single addition's gain is exact). Every node is also bounded by each
    flight taking its own best remaining candidates (:meth:`Coverage.flight_bound`), which proves a
    layout that gives every flight of the worst route all it could get. Stops after ``node_limit`` nodes;
    the bound is then the largest of the open nodes'.

    Columns are computed only where they can decide: a node is bounded with the columns as they stand
    (exact where computed, the upper bounds elsewhere: raising a hazard never lowers a coverage, so every
    bound stays a bound), and a leaf's value is made exact only on the routes that could set it, those
    whose value with the computed columns alone (a lower bound) is below it.
    """
    M = covs[0].n_candidates
    k = min(int(k), M)

    def state(S, exact=True):
        """The hazards and values of layout ``S`` on every route: exact, or with the columns as they stand (upper
        bounds)."""
        S = list(S)
        H = [c.hazard(S) if exact else (_hazard(c.P[:, S]).sum(axis=1) if S else np.zeros(len(c.w)))
             for c in covs]
        return H, np.array([c.value_at(h) for c, h in zip(covs, H)])

    def value(S):
        return float(np.min(state(tuple(sorted(S)))[1]))

    def lower(c, T):
        """``F`` of layout ``T`` on one route from its computed columns only (a lower bound)."""
        known = [j for j in T if c.exact[j]]
        return c.value_at(_hazard(c.P[:, known]).sum(axis=1)) if known else c.base

    def best_addition(S, start, exclude=(), floor=-np.inf):
        """The candidate ``j >= start`` (not in ``exclude``) with the largest ``min_r F_r(S + j)``, exactly;
        ``(None, -inf)`` when none can exceed ``floor``."""
        while True:
            H, F = state(S, exact=False)
            g = np.array([c.gains(h, start) for c, h in zip(covs, H)])
            v = np.min(F[:, None] + g, axis=0)          # upper bounds, exact where every column is
            v[[e - start for e in exclude if e >= start]] = -np.inf
            j = int(np.argmax(v))
            if not np.isfinite(v[j]) or v[j] <= floor:
                return None, -np.inf
            T = list(S) + [start + j]
            need = [c for c in covs if not c.exact[T].all() and lower(c, T) < v[j]]
            if not need:
                return start + j, float(v[j])
            for c in need:
                c.ensure(T)

    if k <= 0:
        v = value(())
        return RobustLayout((), v, v, True, 0, "empty")
    S = []
    for _ in range(k):        # greedy on the minimum: the first incumbent
        j, _ = best_addition(tuple(S), 0, exclude=S)
        S.append(j)
    cands = [tuple(sorted(S))] + [tuple(sorted(int(j) for j in s)) for s in incumbents if len(set(s)) == k]
    scored = [(value(s), s) for s in cands]
    best, best_S = max(scored, key=lambda x: (x[0], [-j for j in x[1]]))
    eps = 1e-12
    stack = [(np.inf, ())]
    nodes = 0
    open_bound = -np.inf
    while stack:
        ub, S = stack.pop()
        if ub <= best + eps:
            continue
        if nodes >= node_limit:
            open_bound = max([ub] + [u for u, _ in stack])
            break
        nodes += 1
        start = S[-1] + 1 if S else 0
        left = k - len(S)
        if M - start < left:
            continue
        if left == 1:
            j, v = best_addition(S, start, floor=best + eps)
            if j is not None and v > best + eps:
                best, best_S = v, tuple(S) + (j,)
            continue
        H, F = state(S, exact=False)
        flights = min(c.flight_bound(h, left, start) for c, h in zip(covs, H))
        if flights <= best + eps:
            continue
        g = np.array([c.gains(h, start) for c, h in zip(covs, H)])          # (R, M - start)
        rest = -np.sort(-g, axis=1)[:, :left - 1].sum(axis=1)
        child = np.minimum(np.min(F[:, None] + g + rest[:, None], axis=0), flights)[: M - start - (left - 1)]
        keep = np.flatnonzero(child > best + eps)
        for j in keep[np.argsort(child[keep], kind="stable")]:      # ascending: the most promising popped first
            stack.append((float(child[j]), tuple(S) + (start + int(j),)))
    proven = open_bound == -np.inf
    bound = best if proven else max(best, float(open_bound))
    return RobustLayout(tuple(best_S), float(best), float(bound), proven, nodes,
                        "branch and bound (exact on the sample)" if proven else
                        f"branch and bound stopped after {nodes:,} nodes (the best found, with its bound)")


# --- scenarios of layouts -----------------------------------------------------------------------------
def placed_doc(scenario, tables, like, campaigns, flights, seed, name=None, title=None, description=None):
    """A copy of the scenario's document with the candidates' radar tables added and its ``[run]`` set to
    the re-score's campaigns, flights and seed (so ``airpicture run`` on it gives the re-score's numbers)."""
    doc = copy.deepcopy(scenario.raw)
    doc["radar"] = [*copy.deepcopy(doc.get("radar", [])), *copy.deepcopy(list(tables))]
    sc = doc.setdefault("scenario", {})
    k = len(tables)
    sc["name"] = name or f"{scenario.info.name}-placed-{k}"
    t = title or f"{scenario.info.title}, plus {k} more {like} radar{'s' if k != 1 else ''} (placed)"
    sc["title"] = t if len(t) <= 200 else t[:197] + "..."
    if description:
        sc["description"] = description
    r = doc.setdefault("run", {})
    r["campaigns"], r["flights"], r["seed"] = int(campaigns), int(flights), int(seed)
    return doc


def _with_radars(doc, radars):
    d = copy.deepcopy(doc)
    d["radar"] = copy.deepcopy(list(radars))
    return d


@dataclass(frozen=True)
class Rescore:
    """A layout's full Monte Carlo run: the summary (summary.json) and the objective per route."""

    label: str
    doc: dict = field(repr=False)
    summary: dict = field(repr=False)
    value: float                    # the objective per flight over the run
    ci95: tuple
    route_values: dict              # route name -> (value, flights, (ci low, ci high))
    sim: object = field(repr=False, default=None)

    @property
    def worst_route(self):
        name = min(self.route_values, key=lambda r: (self.route_values[r][0], r))
        return name, self.route_values[name][0]


def _metric(result, objective):
    if objective == "detect":
        return result.detected
    if objective == "track-in-airspace":
        return result.detected_in_airspace
    code = {name: i for i, name in enumerate(OUTCOMES)}
    return np.isin(result.outcome, [code[s] for s in STOPPED])


def _summary_value(summary, objective):
    if objective == "detect":
        return summary["p_detect"], tuple(summary["p_detect_ci95"])
    if objective == "stopped":
        r = summary["response"]
        return r["p_stopped"], tuple(r["p_stopped_ci95"])
    return summary["p_detect_in_airspace"], None


def _rescore(label, doc, objective, terrain, cache, source, keep_sim=False):
    sc = parse_scenario(doc, source=source)
    sim = prepare(sc, terrain, cache)
    res = run(sim, keep_flights=True)
    summary = summarize(sim, res)
    hit = _metric(res, objective)
    n = len(hit)
    value, ci = _summary_value(summary, objective)
    if ci is None:
        ci = tuple(round(x, 6) for x in wilson_interval(int(hit.sum()), n))
    routes = {}
    for i, r in enumerate(sim.routes):
        sel = res.batch.route_index == i
        k = int(hit[sel].sum())
        ni = int(sel.sum())
        routes[r.name] = (k / ni if ni else float("nan"), ni, wilson_interval(k, ni))
    return Rescore(label, doc, summary, float(value), tuple(ci), routes, sim if keep_sim else None)


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


#: Candidates' radar models kept at once (each holds its terrain masking table, about 1.4 MB; one dropped is
#: prepared again from the cache when a column needs it).
MODELS_KEPT = 32
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


def flyer_budgets_km(max_extra_km):
    """The adaptive flyer's extra-distance budgets [km]: :data:`FLYER_BUDGET_FRACTIONS` of the largest."""
    return tuple(sorted({round(f * float(max_extra_km), 3) for f in FLYER_BUDGET_FRACTIONS}))


def _flyer_responses(scenario, layout_tables, round_no, budgets_km, levels, terrain, cache, projection,
                     progress=None):
    """The flyer's least-detectable routes against the scenario's radars plus ``layout_tables``: for each budget,
    the search's best route as flown (:func:`sim.analysis.evade.evade`'s P(detect) as flown, ``p_search``: the
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


# --- the whole question ------------------------------------------------------------------------------
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
class PlaceResult:
    """Everything ``airpicture place`` found: the candidates, the greedy steps, the layouts, the flyer's
    routes, the Monte Carlo re-scores, and how long each part took."""

    scenario: object
    like: str
    add: int
    objective: str
    against: str
    candidates: tuple
    candidate_source: str           # "grid of 25 km" or the CSV path
    tables: tuple = field(repr=False)   # each candidate's [[radar]] table
    evaluated: np.ndarray | None = field(repr=False, default=None)  # bool per candidate: its column was computed
    singleton: np.ndarray | None = field(repr=False, default=None)  # gain of each candidate alone (a bound where not
    #                                                          evaluated), against the fixed flyer
    singleton_exact: np.ndarray | None = field(repr=False, default=None)  # bool: singleton is exact (computed, or 0)
    base_value: float = 0.0         # the objective without new radars (selection sample)
    steps: tuple = ()               # GreedyStep per pick (against the fixed flyer)
    bounds: np.ndarray | None = None
    fixed_layout: tuple = ()        # candidate indices of the fixed flyer's layout
    layout: tuple = ()              # the layout reported (the robust one against the adaptive flyer)
    rounds: tuple = ()              # PlaceRound per round (adaptive)
    flyer_routes: tuple = ()        # every FlyerRoute found
    best_response: str | None = None   # the route of the set the flyer answers the final layout with
    robust_sample: float | None = None  # min over every route found of F_r(layout), selection sample
    robust_bound: float | None = None   # no layout of K does better than this against every route found (sample)
    rescore_prefix: tuple = ()      # Rescore of the fixed flyer's layouts of 0..K radars
    rescore_layout: Rescore | None = None        # the reported layout
    rescore_fixed: Rescore | None = None         # the fixed flyer's layout (adaptive: for comparison)
    rescore_flyer: dict = field(default_factory=dict)   # (layout label, flyer name) -> Rescore
    select_seed: int = 0
    select_campaigns: int = 0
    select_flights: int = 0
    select_flights_total: int = 0
    campaigns: int = 0
    flights: int = 0
    seed: int = 0
    max_extra_km: float | None = None
    levels: tuple | None = None     # the adaptive flyer's levels (sim.analysis.evade.Level)
    flyer_budgets_km: tuple = ()    # the adaptive flyer's budgets [km]
    flyer_spread_m: float | None = None   # the sideways spread its routes are searched and flown with [m]
    converged: bool | None = None   # the flyer's last answer did not beat the set (None: against the fixed flyer)
    timings_s: dict = field(default_factory=dict)
    notes: tuple = ()

    def site(self, j):
        return self.candidates[j]

    def robust_value(self, which="layout"):
        """The Monte Carlo value of a layout against the adaptive flyer: the least, over the scenario's routes
        (from the layout's own run) and the flyer's routes (runs of their own), of the objective per flight;
        ``(value, route name)``. ``which``: "layout" (the reported one), "fixed" (the greedy one) or "today"
        (today's radars, none added). None against the fixed flyer."""
        rs = {"layout": self.rescore_layout, "fixed": self.rescore_fixed,
              "today": self.rescore_prefix[0] if self.rescore_prefix else None}[which]
        if rs is None or not self.flyer_routes:
            return None
        vals = [(v[0], name) for name, v in rs.route_values.items()]
        vals += [(r.value, fname) for (lab, fname), r in self.rescore_flyer.items() if lab == which]
        return min(vals)


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
    levels : str or tuple of sim.analysis.evade.Level, optional
        The adaptive flyer's levels (:func:`sim.analysis.evade.parse_levels`; default every level the route
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
    if candidates is None and orbit:
        cands = orbit_grid_candidates(scenario, grid_km * 1000.0, like_spec)
        source = f"a {grid_km:g} km grid over {scenario.airspace.name}'s airspace (racetracks centred on it)"
    elif candidates is None:
        cands = grid_candidates(scenario, grid_km * 1000.0, like_spec.antenna_height_m, terrain)
        source = f"a {grid_km:g} km grid over {scenario.airspace.name}'s airspace"
    elif isinstance(candidates, str) and candidates in CANDIDATE_LISTS:
        if orbit:
            raise ScenarioError("--candidates", None, f"{candidates} lists sites for a --like radar on a fixed "
                                                      f"site; {like!r} flies an orbit: give racetracks (a CSV with "
                                                      "lat1,lon1,lat2,lon2[,name]) or --grid-km G")
        cands, source = listed_candidates(candidates, scenario, like_spec.antenna_height_m,
                                          terrain if terrain is not None or candidates == "airbases"
                                          else cache.terrain())
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

    rounds_done, flyers, layout = [], [], fixed_layout
    best_response, robust_sample, robust_bound = None, None, None
    flyer_cols = {}
    col_stats = {}                  # flight set -> (columns computed, seconds)
    levels = parse_levels(levels, scenario) if levels is None or isinstance(levels, str) else tuple(levels)
    budgets_km = flyer_budgets_km(max_extra_km)
    spread_m, stale = None, False
    if against == "adaptive":
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

    t0 = time.perf_counter()
    src = scenario.path
    # the flyer's routes each layout is re-scored against: those within FLYER_RESCORE_MARGIN of its worst route
    # on the selection sample (the others cannot be its worst in the Monte Carlo)
    against_flyer = {}
    if against == "adaptive":
        for label, lay in (("layout", layout), ("fixed", fixed_layout), ("today", ())):
            v = {name: c.value(lay) for name, c in found.items()}
            low = min(v.values())
            against_flyer[label] = [f for f in flyers if v[f.name] <= low + FLYER_RESCORE_MARGIN]
        # the flyer's flight sets and the candidates' models are done with: their memory goes before the runs
        col_stats.update({n: (c.evaluated, c.seconds) for n, c in flyer_cols.items()})
        found = covs = flyer_cols = fs = None
        models.clear()
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
    return PlaceResult(
        scenario=scenario, like=like, add=k, objective=objective, against=against, candidates=cands,
        candidate_source=source, tables=tables, evaluated=evaluated,
        singleton=cov_mix.gains(np.zeros(len(cov_mix.w))), singleton_exact=cov_mix.exact.copy(), base_value=base_value,
        steps=tuple(steps), bounds=bounds, fixed_layout=fixed_layout,
        layout=layout if against == "adaptive" else fixed_layout, rounds=tuple(rounds_done),
        flyer_routes=tuple(flyers), best_response=best_response, robust_sample=robust_sample,
        robust_bound=robust_bound,
        rescore_prefix=tuple(prefix), rescore_layout=rescore_layout, rescore_fixed=rescore_fixed,
        rescore_flyer=rescore_flyer, select_seed=select_seed, select_campaigns=select_campaigns,
        select_flights=flights, select_flights_total=fs_mix.n, campaigns=campaigns, flights=flights, seed=seed,
        max_extra_km=float(max_extra_km) if against == "adaptive" else None,
        levels=levels if against == "adaptive" else None,
        flyer_budgets_km=budgets_km if against == "adaptive" else (), flyer_spread_m=spread_m,
        converged=(not stale) if against == "adaptive" else None,
        timings_s=timings, notes=tuple(notes))

