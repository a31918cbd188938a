"""The least-detectable route: a red-team planner's best answer to a scenario's radars.

A flyer who knows where the radars are does not fly the great circle. This
module finds, for a set of extra-distance budgets, the route between two
airports that minimises the chance of being detected, then runs every route
found through the full Monte Carlo (m-of-n track rule, outages, response).

Method (``docs/evade.md`` gives the assumptions and the error bounds):

1. **Hazard field.** Each radar's per-scan detection probability ``Pd`` at a
   point becomes a detection hazard per second of flight,
   ``-ln(1 - Pd) / scan_period`` where the point is in the radar's coverage
   (line of sight over the 4/3 Earth and the terrain masking tables, range),
   0 elsewhere. The field is the sum over radars of that hazard times the
   radar's availability (its expectation; outages are shared across scans, so
   this is the mean hazard, not the hazard of a mean flight). It is computed
   by :func:`sim.detection.in_coverage` and :func:`sim.detection.scan_pd` (the
   simulator's own functions, no second line-of-sight code) at the centres of
   an equal-area grid (the scenario's Lambert azimuthal equal-area
   projection), at one flight level: a cruise altitude above mean sea level,
   or terrain following at a height above the highest ground near the cell.
2. **Graph.** Each allowed cell is a node with 16 neighbours (the 8 king
   moves and the 8 knight moves); an edge's cost is the integral of the
   hazard over its flight time at the aircraft's cruise speed (trapezoid rule
   on the cell values and the bilinear value at the edge's middle), so
   ``P(detected at least once) = 1 - exp(-sum of costs)``.
3. **Budget.** Minimise cost subject to length <= budget by Lagrangian
   relaxation: Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`) on
   ``cost + mu * length``, bisection on the price of length ``mu``; every
   ``mu`` gives a lower bound on the constrained optimum (the dual), the best
   path within the budget an upper bound: their difference is the reported
   duality gap.
4. **Smoothing.** The grid path is string-pulled (a shortcut is taken when
   its hazard is no larger than the path's it replaces and it crosses no
   forbidden cell), its length measured geodesically (WGS84, ``pyproj.Geod``)
   and, when it exceeds the budget, the search's budget is tightened and the
   search repeated.
5. **Front.** Budgets are searched in increasing order and each point keeps
   the best route of any smaller budget (and the direct route), so P(detect)
   never rises with the budget. The direct route (the geodesic between the
   airports) on the same field is the reference point, and the zero-budget
   point.
6. **Re-score.** Each route becomes a scenario ``[[route]]`` (its waypoints,
   flown as planned: no sideways spread) in a copy of the scenario, which is
   validated and run through :func:`sim.montecarlo.run` with the scenario's
   seed: the Monte Carlo P(detect) with its 95% interval and P(stopped) stand
   beside the search's surrogate. The same route flown with the scenario's
   sideways spread (its most probable route's ``cross_track_sigma``) is run
   too: a route that grazes the coverage as planned is seen when flown a few
   km off it.

References
----------
M. Zabarankin, S. Uryasev, R. Murphey, "Aircraft routing under the risk of
detection", Naval Research Logistics 53(8), 728-747 (2006).
W. M. Carlyle, J. O. Royset, R. K. Wood, "Routing military aircraft with a
constrained shortest-path algorithm", Military Operations Research 14(3),
61-77 (2009).
P. Bose et al., "On the approximation of shortest paths on grids",
arXiv:2404.07562 (2024).
"""
import copy
import dataclasses
import difflib
import math
import time
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Geod
from scipy.ndimage import gaussian_filter
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.special import ndtr, ndtri

from geo.airports import load_airports
from geo.coverage import country_names, country_polygon
from geo.earth import EARTH_RADIUS_M, unit_vectors
from geo.geodesy import leg_geometry, positions_along_route
from geo.terrain import cell_max_m, load_terrain
from sim.analysis.fieldread import bilinear_idx, bilinear_many
from sim.aircraft import fuel_per_m_ratio
from sim.airspace import build_airspace
from sim.detection import in_coverage, scan_pd
from sim.flights import OFFSET_CLIP_SIGMA
from sim.montecarlo import needs_terrain, prepare, run
from sim.platforms import Orbit
from sim.prepcache import PrepCache
from sim.results import summarize
from sim.routes import cruise_level, route_time_and_fuel
from sim.scenario import ROUTE_WAYPOINTS_MAX, WAYPOINT_SPACING_MIN_M, ScenarioError, parse_scenario

__all__ = [
    "Level",
    "SearchGrid",
    "GridGraph",
    "LagrangianSearch",
    "ConstrainedPath",
    "EvadeRoute",
    "EvadeResult",
    "evade",
    "parse_levels",
    "parse_budgets_km",
    "parse_avoid",
    "scan_hazard_per_s",
    "hazard_rate_per_s",
    "search_grid",
    "hazard_field",
    "radar_fields",
    "offset_quantiles",
    "flown_exposures",
    "flown_field",
    "p_flown",
    "FLOWN_OFFSETS",
    "grid_graph",
    "string_pull",
    "shortcuts",
    "shortcut",
    "route_cost",
    "route_hazards",
    "route_scenario_doc",
    "MOVES_16",
    "DEFAULT_SPACING_M",
    "DEFAULT_LOW_AGL_M",
    "ORBIT_PHASES",
    "ORBIT_SPACING_M",
    "orbit_phases",
]

#: Sideways offsets that stand for the spread in the search's P(detect) as flown (:func:`offset_quantiles`).
FLOWN_OFFSETS = 32
#: Largest relative excess of a 16-neighbour grid path's length over the straight line it follows (it strays
#: at most 13.3 degrees from any direction: 1 / cos(13.3 deg) - 1).
GRID_EXCESS = 1.0 / math.cos(math.radians(13.28)) - 1.0
_GEOD = Geod(ellps="WGS84")
#: Routes with one turn kept per budget (:func:`one_turn_routes`).
ONE_TURN_KEEP = 3
#: Largest budget, relative to the great circle, searched by routes with one turn as well: where the grid's
#: own length error (:data:`GRID_EXCESS`, twice over) is not small against the budget.
ONE_TURN_EXTRA_MAX = 2.0 * GRID_EXCESS
#: Turns a route gets before :func:`polish` moves them.
POLISH_TURNS = 4
#: Smallest step of :func:`polish` [m].
POLISH_MIN_STEP_M = 500.0
#: What the front can minimise as flown.
OBJECTIVES = ("p_detect", "p_stopped")
#: Largest sideways spread a route is flown with [m] (that of a route's cross_track_sigma).
SPREAD_MAX_M = 100_000.0
#: Candidates per budget re-scored by the Monte Carlo as flown (the search's best by its P as flown).
RESCORE_CANDIDATES = 3
#: Only candidates within this of the search's best P as flown are re-scored by the Monte Carlo.
RESCORE_MARGIN = 0.05
#: Most radars whose crossing the search prices at its saturation, one search each (:func:`evade`).
FREE_RADARS_MAX = 3
#: Grid spacing of the search [m] (a few km: the error bounds in docs/evade.md scale with it).
DEFAULT_SPACING_M = 5_000.0
#: Most cells of a search grid; a larger area gets a coarser grid (the spacing used is reported).
MAX_CELLS = 250_000
#: Terrain following height of the low level when the scenario states none [m] (the clearance of
#: scenarios/iraq_2012_low_level.toml; an assumption).
DEFAULT_LOW_AGL_M = 300.0
#: An orbiting radar's hazard is the mean over positions around its loop this far apart [m] (the
#: expectation over the loop's random phase; the spacing of the masking-table radials at 300 km) ...
ORBIT_SPACING_M = 5_000.0
#: ... and at least this many.
ORBIT_PHASES = 12
#: Largest per-scan Pd used in the hazard (-ln(1 - Pd) is finite): a certain detection costs 20.7 per scan.
PD_MAX = 1.0 - 1e-9
#: The 16 moves of the search graph: 4 rook, 4 bishop and 8 knight moves (row, column).
MOVES_16 = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1),
            (1, 2), (2, 1), (-1, 2), (-2, 1), (1, -2), (2, -1), (-1, -2), (-2, -1))
#: The smallest price of length [1/m]: the hazard-first search (a tie-breaker among equally safe paths).
MU_MIN_PER_M = 1e-12
#: The largest price of length tried [1/m] before a budget is declared infeasible on the grid.
MU_MAX_PER_M = 1e3
#: The search for a budget's price stops when the duality gap is below this (cost units: about this change in P(detect)) ...
GAP_ABS = 1e-4
#: ... or below this fraction of the cost ...
GAP_REL = 1e-3
#: ... or after this many Dijkstra runs for one budget.
MAX_EVALUATIONS = 40
#: Forbidden airspaces are widened by this many grid spacings when cells are removed, so that no edge
#: between two allowed cells (at most sqrt(5) spacings long) can cut into them.
AVOID_BUFFER_CELLS = 1.2
#: Waypoints of a found route are at least this far apart [m] (the scenario format's minimum, with room).
WAYPOINT_SPACING_M = 1.5 * WAYPOINT_SPACING_MIN_M
#: Times the search's budget is tightened when the smoothed route is longer than the budget.
TIGHTEN_TRIES = 10
#: Cuts tried across the duality gap for one budget: the length a cut saves, scanned in this many steps ...
SCAN_CUTS = 8
#: ... then refined by this many bisections below the best one.
REFINE_CUTS = 4


# --- inputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    """A flight level of the search: above mean sea level (``altitude_m``) or above ground (``agl_m``)."""

    altitude_m: float | None = None
    agl_m: float | None = None

    def __post_init__(self):
        if (self.altitude_m is None) == (self.agl_m is None):
            raise ValueError("a level is either altitude_m or agl_m")

    @property
    def label(self):
        """``"10,100 m AMSL"`` or ``"300 m above ground"``."""
        if self.agl_m is None:
            return f"{self.altitude_m:,.0f} m AMSL"
        return f"{self.agl_m:,.0f} m above ground"

    @property
    def key(self):
        """A short name for files and tables: ``"10100m"`` or ``"300agl"``."""
        return f"{self.altitude_m:g}m" if self.agl_m is None else f"{self.agl_m:g}agl"


def _main_route(scenario):
    return max(scenario.routes, key=lambda r: r.weight)


def parse_levels(text, scenario):
    """The search's levels from ``--levels`` text (None: the default), validated; a tuple of :class:`Level`.

    Items, comma-separated: ``cruise`` (the scenario's cruise level, as its most
    probable route flies it), ``low`` (terrain following at the scenario's
    clearance, else :data:`DEFAULT_LOW_AGL_M`), ``3000`` (metres above mean sea
    level) or ``300agl`` (metres above ground). Default: ``cruise,low``.
    """
    amsl, agl = cruise_level(_main_route(scenario), scenario.aircraft)
    cruise = Level(altitude_m=amsl) if agl is None else Level(agl_m=agl)
    low = Level(agl_m=agl if agl is not None else (scenario.aircraft.cruise_altitude_agl_m or DEFAULT_LOW_AGL_M))
    if text is None:
        return (cruise,) if low == cruise else (cruise, low)
    out = []
    for item in (t.strip().lower() for t in str(text).split(",")):
        if not item:
            continue
        if item == "cruise":
            lv = cruise
        elif item == "low":
            lv = low
        else:
            above = item.endswith("agl")
            number = item[:-3] if above else item.removesuffix("m")
            try:
                value = float(number)
            except ValueError:
                raise ScenarioError("--levels", None, f"cannot read {item!r}: give cruise, low, metres above mean "
                                                      "sea level (3000) or above ground (300agl)") from None
            if not (math.isfinite(value) and 0 < value <= 20_000):
                raise ScenarioError("--levels", None, f"{item!r}: a level is above 0 and at most 20,000 m")
            lv = Level(agl_m=value) if above else Level(altitude_m=value)
        if lv not in out:
            out.append(lv)
    if not out:
        raise ScenarioError("--levels", None, "give at least one level")
    return tuple(out)


def parse_budgets_km(values):
    """Extra-distance budgets from ``--max-extra-km`` (text ``"0,100,200"`` or numbers) -> metres, sorted, unique."""
    items = str(values).split(",") if isinstance(values, str) else list(values)
    out = []
    for v in items:
        if isinstance(v, str) and not v.strip():
            continue
        try:
            km = float(v)
        except (TypeError, ValueError):
            raise ScenarioError("--max-extra-km", None, f"cannot read {v!r} as kilometres") from None
        if not math.isfinite(km) or km < 0:
            raise ScenarioError("--max-extra-km", None, f"a budget is a distance of at least 0 km, got {v}")
        out.append(km * 1000.0)
    if not out:
        raise ScenarioError("--max-extra-km", None, "give at least one budget in km, e.g. 0,100,200")
    return tuple(sorted(set(out)))


def parse_avoid(values):
    """Forbidden airspaces from ``--avoid`` (``"TUR,SYR"`` or a list): ISO 3166-1 alpha-3 codes of the packaged
    borders, validated, upper-case, in order."""
    items = str(values).split(",") if isinstance(values, str) else list(values or ())
    names = country_names()
    out = []
    for v in items:
        code = str(v).strip().upper()
        if not code:
            continue
        if code not in names:
            near = difflib.get_close_matches(code, list(names), n=3)
            raise ScenarioError("--avoid", None, f"unknown country {v!r}: give ISO 3166-1 alpha-3 codes of the "
                                                 f"packaged borders ({', '.join(sorted(names))})"
                                + (f"; did you mean {' or '.join(near)}?" if near else ""))
        if code not in out:
            out.append(code)
    return tuple(out)


@dataclass(frozen=True)
class _Place:
    """An endpoint: an airport (``icao``) or a point."""

    lat_deg: float
    lon_deg: float
    icao: str | None = None

    @property
    def label(self):
        return self.icao or f"{self.lat_deg:.3f}N {self.lon_deg:.3f}E"

    def toml_value(self):
        return self.icao if self.icao else {"lat": self.lat_deg, "lon": self.lon_deg}


def _endpoint(code, default_waypoint, what):
    if code is None:
        w = default_waypoint
        return _Place(w.lat_deg, w.lon_deg, w.icao)
    airports = load_airports()
    key = str(code).strip().upper()
    if key not in airports:
        near = difflib.get_close_matches(key, list(airports), n=3)
        raise ScenarioError(what, None, f"unknown ICAO code {code!r}" + (
            f" (did you mean {' or '.join(near)}?)" if near else f" (known: {', '.join(airports)})"))
    a = airports[key]
    return _Place(a.lat_deg, a.lon_deg, key)


# --- the hazard ------------------------------------------------------------------------------------
def orbit_phases(orbit, spacing_m=ORBIT_SPACING_M):
    """The loop phases an orbiting platform's hazard averages over: evenly spaced, at most ``spacing_m``
    apart around the loop, at least :data:`ORBIT_PHASES` (one for a held position)."""
    if orbit.period_s == 0.0:
        return np.array([0.0])
    n = max(ORBIT_PHASES, int(np.ceil(orbit.length_m / spacing_m)))
    return (np.arange(n) + 0.5) / n


def scan_hazard_per_s(radar, xyz, alt_m, transponder_on, t_s=None):
    """Detection hazard of one radar per second of flight, availability not included [1/s].

    ``-ln(1 - Pd_scan) / scan_period`` where a target is in the radar's
    coverage (:func:`sim.detection.in_coverage`: line of sight, terrain
    masking, range), 0 elsewhere; ``Pd_scan`` from :func:`sim.detection.scan_pd`
    (capped at :data:`PD_MAX`). Over a stay of ``tau`` seconds the chance of no
    detection is then ``exp(-hazard * tau)``, that of ``tau / scan_period``
    independent scans.

    Parameters
    ----------
    radar : sim.detection.RadarModel
    xyz : ndarray, shape (..., 3)
        Earth-centred unit vectors of the targets.
    alt_m : array_like, shape (...)
        Target altitudes above mean sea level [m].
    transponder_on : bool
    t_s : array_like, optional
        Target times since departure [s] (an orbiting radar's position
        depends on them; None: 0).

    An orbiting radar's hazard is the mean over the loop phases of
    :func:`orbit_phases` (its expectation over the random phase the Monte
    Carlo draws per flight).

    Returns
    -------
    ndarray, shape (...)
    """
    alt = np.broadcast_to(np.asarray(alt_m, dtype=float), np.shape(xyz)[:-1])

    def one(covered, slant):
        pd = np.minimum(scan_pd(radar, slant, transponder_on), PD_MAX)
        return np.where(covered, -np.log1p(-pd), 0.0)

    if isinstance(radar.platform, Orbit):
        t = np.zeros(alt.shape) if t_s is None else np.broadcast_to(np.asarray(t_s, dtype=float), alt.shape)
        phases = orbit_phases(radar.platform)
        acc = np.zeros(alt.shape)
        for phase in phases:
            acc += one(*in_coverage(radar, xyz, alt, t, phase))
        return acc / len(phases) / radar.scan_period_s
    return one(*in_coverage(radar, xyz, alt)) / radar.scan_period_s


def hazard_rate_per_s(radars, xyz, alt_m, transponder_on, t_s=None):
    """The detection hazard of all radars per second of flight [1/s]: the sum of each radar's
    :func:`scan_hazard_per_s` times its availability (outages as their expectation)."""
    total = np.zeros(np.shape(xyz)[:-1])
    for r in radars:
        if r.availability > 0:
            total += r.availability * scan_hazard_per_s(r, xyz, alt_m, transponder_on, t_s)
    return total


def route_hazards(radars, route, transponder_on):
    """Each radar's hazard integral along a route's track (availability not included), shape (R,).

    ``route`` is a :class:`sim.routes.RouteTrack` (1-s samples, its climb,
    cruise and descent); trapezoid rule over its time grid.
    """
    dt = np.diff(route.t_s)
    out = []
    for r in radars:
        h = scan_hazard_per_s(r, route.xyz, route.alt_m, transponder_on, t_s=route.t_s)
        out.append(float(np.sum(0.5 * (h[1:] + h[:-1]) * dt)))
    return np.array(out)


# --- the grid ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchGrid:
    """Cell centres of the search on the projected plane; axis 0 = row (y), axis 1 = column (x).

    ``allowed`` marks the cells a route may use: inside the ellipse of points
    reachable within the largest budget, inside the terrain model when one is
    used, outside the forbidden airspaces (widened by
    :data:`AVOID_BUFFER_CELLS` spacings).
    """

    transformer: object             # lon/lat -> metres (always_xy)
    spacing_m: float
    x_m: np.ndarray                 # (nx,)
    y_m: np.ndarray                 # (ny,)
    lat_deg: np.ndarray             # (ny, nx)
    lon_deg: np.ndarray             # (ny, nx)
    xyz: np.ndarray                 # (ny, nx, 3)
    allowed: np.ndarray             # (ny, nx) bool
    origin_cell: tuple              # (row, col)
    dest_cell: tuple
    origin_xy: tuple                # exact endpoints [m]
    dest_xy: tuple
    avoid_polygons_m: tuple = ()    # the forbidden airspaces (not widened), projected

    @property
    def shape(self):
        return self.allowed.shape

    def node(self, cell):
        return int(cell[0]) * self.shape[1] + int(cell[1])

    def to_xy(self, lat_deg, lon_deg):
        x, y = self.transformer.transform(np.asarray(lon_deg, dtype=float), np.asarray(lat_deg, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_lat_lon(self, x_m, y_m):
        lon, lat = self.transformer.transform(np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float),
                                              direction="INVERSE")
        return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)

    def describe(self):
        """What the grid is, for digests and outputs."""
        return {"spacing_m": self.spacing_m, "x0_m": float(self.x_m[0]), "y0_m": float(self.y_m[0]),
                "nx": int(len(self.x_m)), "ny": int(len(self.y_m)), "crs": self.transformer.target_crs.to_wkt()}


def search_grid(transformer, origin, dest, max_extra_m, spacing_m=DEFAULT_SPACING_M, terrain=None,
                avoid_polygons_m=(), margin_m=0.0):
    """The search grid between two endpoints (``(lat_deg, lon_deg)`` each) for budgets up to ``max_extra_m``.

    The cells are those of the ellipse with the endpoints as foci whose points
    can be reached within the largest budget (plus two spacings), on a square
    grid of ``spacing_m`` in the projection of ``transformer`` (made coarser when
    it would exceed :data:`MAX_CELLS`), restricted to the terrain model's area
    when ``terrain`` is given and outside ``avoid_polygons_m``. The grid reaches
    ``margin_m`` beyond the ellipse on every side (cells not allowed: a route
    never enters them, but a flight flown off its route's line does, so the
    hazard is known there).
    Raises :class:`~sim.scenario.ScenarioError` when an endpoint is not allowed.
    """
    ox, oy = (float(v) for v in transformer.transform(origin[1], origin[0]))
    dx, dy = (float(v) for v in transformer.transform(dest[1], dest[0]))
    d = math.hypot(dx - ox, dy - oy)
    a = (d + max_extra_m) / 2.0 + 2.0 * spacing_m
    c = d / 2.0
    b = math.sqrt(max(a * a - c * c, 0.0))
    theta = math.atan2(dy - oy, dx - ox)
    hx = math.sqrt((a * math.cos(theta)) ** 2 + (b * math.sin(theta)) ** 2) + margin_m
    hy = math.sqrt((a * math.sin(theta)) ** 2 + (b * math.cos(theta)) ** 2) + margin_m
    spacing = float(spacing_m)
    cells = (2 * hx / spacing + 1) * (2 * hy / spacing + 1)
    if cells > MAX_CELLS:
        spacing = float(np.ceil(spacing * math.sqrt(cells / MAX_CELLS) / 100.0) * 100.0)
    mx, my = (ox + dx) / 2.0, (oy + dy) / 2.0
    nx, ny = int(np.ceil(hx / spacing)), int(np.ceil(hy / spacing))
    x = mx + np.arange(-nx, nx + 1) * spacing
    y = my + np.arange(-ny, ny + 1) * spacing
    X, Y = np.meshgrid(x, y)
    lon, lat = transformer.transform(X, Y, direction="INVERSE")
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    allowed = np.hypot(X - ox, Y - oy) + np.hypot(X - dx, Y - dy) <= 2.0 * a
    if terrain is not None:
        allowed &= ((lat >= terrain.lat_min_deg) & (lat <= terrain.lat_max_deg)
                    & (lon >= terrain.lon_min_deg) & (lon <= terrain.lon_max_deg))
    for poly in avoid_polygons_m:
        wide = shapely.buffer(poly, AVOID_BUFFER_CELLS * spacing)
        allowed &= ~shapely.contains_xy(wide, X, Y)
    grid = SearchGrid(transformer, spacing, x, y, lat, lon, unit_vectors(lat, lon), allowed,
                      _nearest_cell(x, y, ox, oy), _nearest_cell(x, y, dx, dy), (ox, oy), (dx, dy),
                      tuple(avoid_polygons_m))
    return grid


def _nearest_cell(x, y, px, py):
    return (int(np.clip(np.rint((py - y[0]) / (y[1] - y[0])), 0, len(y) - 1)),
            int(np.clip(np.rint((px - x[0]) / (x[1] - x[0])), 0, len(x) - 1)))


def _cell_ground_max_m(grid, terrain, samples_per_cell=None):
    """The highest ground within each cell's square [m]: :func:`geo.terrain.cell_max_m` (the highest of the
    terrain cells around a point) at a sub-grid of points no farther apart than the terrain's cells."""
    h = grid.spacing_m
    if samples_per_cell is None:
        samples_per_cell = int(np.ceil(h / (terrain.cell_deg * 111_000.0 * 0.75))) + 1
    offsets = (np.arange(samples_per_cell) / (samples_per_cell - 1) - 0.5) * h
    X, Y = np.meshgrid(grid.x_m, grid.y_m)
    top = np.zeros(grid.shape)
    for ox in offsets:
        for oy in offsets:
            lat, lon = grid.to_lat_lon(X + ox, Y + oy)
            top = np.maximum(top, cell_max_m(terrain, lat, lon))
    return top


def _cone_dilation(floor_m, spacing_m, gradient):
    """``max over cells c' of floor(c') - gradient * distance(c, c')`` (the lowest surface above the floor
    whose slopes stay within ``gradient`` in every direction)."""
    relief = float(np.max(floor_m) - np.min(floor_m))
    reach = int(np.ceil(relief / (gradient * spacing_m))) if relief > 0 else 0
    out = floor_m.copy()
    ny, nx = floor_m.shape
    for di in range(-reach, reach + 1):
        for dj in range(-reach, reach + 1):
            dist = math.hypot(di, dj) * spacing_m
            if (di == 0 and dj == 0) or dist * gradient > relief:
                continue
            src = floor_m[max(di, 0):ny + min(di, 0), max(dj, 0):nx + min(dj, 0)] - gradient * dist
            dst = out[max(-di, 0):ny + min(-di, 0), max(-dj, 0):nx + min(-dj, 0)]
            np.maximum(dst, src, out=dst)
    return out


def level_altitude_m(grid, level, terrain, aircraft=None):
    """The altitude flown at each cell [m AMSL].

    Above mean sea level: the level's. Terrain following: the highest ground
    within the cell plus the height above ground, raised where a higher cell
    nearby forces the aircraft to climb before it or descend after it no
    steeper than its terrain-following gradients (``aircraft``; the gentler
    of the two, in every direction: the direction of flight is not known
    here). This approximates the profile :func:`sim.routes.build_route`
    flies from above (docs/evade.md).
    """
    if level.agl_m is None:
        return np.full(grid.shape, float(level.altitude_m))
    floor = _cell_ground_max_m(grid, terrain) + level.agl_m
    if aircraft is None:
        return floor
    g = min(aircraft.terrain_climb_gradient, aircraft.terrain_descent_gradient)
    return _cone_dilation(floor, grid.spacing_m, g)


def hazard_field(radars, grid, level, transponder_on, terrain=None, aircraft=None):
    """The hazard per second of flight at each cell of ``grid`` at ``level`` [1/s], shape (ny, nx)
    (:func:`hazard_rate_per_s` at :func:`level_altitude_m`; forbidden cells keep their value: the graph
    leaves them out)."""
    return hazard_rate_per_s(radars, grid.xyz, level_altitude_m(grid, level, terrain, aircraft), transponder_on)


def radar_fields(radars, grid, level, transponder_on, terrain=None, aircraft=None):
    """Each radar's hazard per second of flight at each cell of ``grid`` at ``level``, availability not
    included [1/s], shape (R, ny, nx) (:func:`scan_hazard_per_s`; ``availability @ fields`` is
    :func:`hazard_field`)."""
    alt = level_altitude_m(grid, level, terrain, aircraft)
    out = np.zeros((len(radars), *grid.shape))
    for i, r in enumerate(radars):
        out[i] = scan_hazard_per_s(r, grid.xyz, alt, transponder_on)
    return out


# --- the route as flown -------------------------------------------------------------------------------
def offset_quantiles(spread_m, n=FLOWN_OFFSETS):
    """Sideways offsets [m] standing for the scenario's spread in :func:`flown_exposures`: the midpoints, in
    probability, of ``n`` equally likely slices of the normal distribution of standard deviation
    ``spread_m`` truncated at :data:`sim.flights.OFFSET_CLIP_SIGMA` (the distribution the Monte Carlo
    draws). A mean over them is a mean over the offsets, within ``1 / n`` for any function of the offset
    that steps once from 0 to 1. One offset, 0, for no spread."""
    if not spread_m > 0:
        return np.zeros(1)
    lo = ndtr(-OFFSET_CLIP_SIGMA)
    u = lo + (np.arange(n) + 0.5) / n * (1.0 - 2.0 * lo)
    return spread_m * ndtri(u)


def flown_exposures(grid, fields, lat_deg, lon_deg, speed_mps, offsets_m):
    """Each radar's hazard integral along a route flown at each sideways offset, shape (R, K) [-].

    The route (geodesic legs between the waypoints) is sampled at most half a
    grid spacing apart; each sample is moved ``offsets_m[k]`` to the right of
    its track (in the projection, along the normal of the sampled polyline) and
    each radar's field (:func:`radar_fields`) is read there bilinearly (0
    outside the grid); trapezoid rule over the flight time at ``speed_mps``.
    Forbidden cells count as any other (a flight off its planned line can
    stray into them; the route's own line avoids them).
    """
    length = route_length_m(lat_deg, lon_deg)
    n = max(int(np.ceil(length / (0.5 * grid.spacing_m))), 1) + 1
    s = np.linspace(0.0, length, n)
    la, lo, _ = positions_along_route(lat_deg, lon_deg, s)
    x, y = grid.to_xy(la, lo)
    dx, dy = np.gradient(x), np.gradient(y)
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    rx, ry = dy / norm, -dx / norm                         # right of track
    off = np.asarray(offsets_m, dtype=float)[:, None]
    px, py = x[None, :] + off * rx[None, :], y[None, :] + off * ry[None, :]
    out = np.zeros((len(fields), len(off)))
    w = np.full(n, s[1] - s[0] if n > 1 else 0.0)
    w[0] *= 0.5
    w[-1] *= 0.5
    h = grid.spacing_m
    seen = [i for i, f in enumerate(fields) if f.any()]   # a radar that sees nothing here: its exposure is 0
    if seen:
        vals = bilinear_many(fields, seen, (px - grid.x_m[0]) / h, (py - grid.y_m[0]) / h)
        for i, val in zip(seen, vals):
            out[i] = np.where(np.isfinite(val), val, 0.0) @ w / speed_mps
    return out


def p_flown(exposures, availability):
    """P(detected at least once) of a route flown with the spread, from :func:`flown_exposures` (R, K):
    per offset ``1 - prod_r (1 - a_r (1 - exp(-H_r)))`` (each radar up with probability ``a_r`` for the
    whole flight, as the Monte Carlo draws it), then the mean over the offsets."""
    a = np.asarray(availability, dtype=float)[:, None]
    survive = np.prod(1.0 - a * -np.expm1(-np.asarray(exposures)), axis=0)
    return float(np.mean(1.0 - survive))


def flown_field(fields, weights, spread_m, spacing_m):
    """The search's field for a route flown with the spread [1/s], shape (ny, nx): ``sum_r w_r field_r``
    blurred by the spread's normal kernel (standard deviation ``spread_m``), so that its integral along a
    straight line is the mean over the sideways offsets of the integral along the offset line. (The
    kernel also blurs along the track, which leaves a line integral unchanged but for the ends.)"""
    lam = np.tensordot(np.asarray(weights, dtype=float), fields, axes=1)
    if spread_m > 0:
        lam = gaussian_filter(lam, sigma=spread_m / spacing_m, mode="nearest", truncate=OFFSET_CLIP_SIGMA)
    return lam


# --- the graph ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridGraph:
    """The 16-neighbour directed graph of a grid in CSR form; edges sorted by (source, target).

    ``cost`` is the hazard integral over each edge's flight time [-], ``length_m``
    its great-circle length between cell centres [m].
    """

    n_nodes: int
    indptr: np.ndarray     # (n_nodes + 1,)
    indices: np.ndarray    # (E,) target node
    source: np.ndarray     # (E,) source node
    length_m: np.ndarray   # (E,)
    cost: np.ndarray       # (E,)

    def edge_ids(self, nodes):
        """The edges along a node path."""
        out = np.empty(max(len(nodes) - 1, 0), dtype=np.int64)
        for k, (u, v) in enumerate(zip(nodes[:-1], nodes[1:])):
            lo, hi = self.indptr[u], self.indptr[u + 1]
            out[k] = lo + np.searchsorted(self.indices[lo:hi], v)
        return out

    def matrix(self, weights):
        return csr_matrix((weights, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes))


def _samples(length_cells):
    """Samples of a straight segment ``length_cells`` spacings long: at most half a spacing apart."""
    return max(int(np.ceil(length_cells / 0.5 - 1e-9)), 1) + 1


def grid_graph(grid, field_per_s, speed_mps):
    """The :class:`GridGraph` of a grid and a hazard field.

    An edge joins two allowed cells by one of :data:`MOVES_16`; its cost is
    the trapezoid rule on the field's bilinear values at samples at most half
    a spacing apart along it (the same rule as :func:`string_pull` and
    :func:`route_cost`) times its flight time; an edge any of whose samples
    needs a forbidden cell is left out.
    """
    ny, nx = grid.shape
    I, J = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    lam = np.where(grid.allowed, field_per_s, np.inf)
    src, dst, length, cost = [], [], [], []
    for di, dj in MOVES_16:
        ok = grid.allowed & (I + di >= 0) & (I + di < ny) & (J + dj >= 0) & (J + dj < nx)
        a_i, a_j = I[ok], J[ok]
        b_i, b_j = a_i + di, a_j + dj
        ok_b = grid.allowed[b_i, b_j]
        a_i, a_j, b_i, b_j = a_i[ok_b], a_j[ok_b], b_i[ok_b], b_j[ok_b]
        n = _samples(math.hypot(di, dj))
        t = np.linspace(0.0, 1.0, n)
        w = np.where((t == 0) | (t == 1), 0.5, 1.0)
        acc = np.zeros(len(a_i))
        for tk, wk in zip(t, w):
            acc += wk * bilinear_idx(lam, a_j + dj * tk, a_i + di * tk)
        keep = np.isfinite(acc)
        xa, xb = grid.xyz[a_i[keep], a_j[keep]], grid.xyz[b_i[keep], b_j[keep]]
        ell = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(np.linalg.norm(xa - xb, axis=-1) / 2.0, 1.0))
        src.append(a_i[keep] * nx + a_j[keep])
        dst.append(b_i[keep] * nx + b_j[keep])
        length.append(ell)
        cost.append(acc[keep] / (n - 1) * ell / speed_mps)
    src, dst = np.concatenate(src), np.concatenate(dst)
    order = np.lexsort((dst, src))
    n_nodes = ny * nx
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n_nodes))]).astype(np.int64)
    return GridGraph(n_nodes, indptr, dst[order].astype(np.int32), src[order].astype(np.int32),
                     np.concatenate(length)[order], np.concatenate(cost)[order])


# --- the constrained shortest path ---------------------------------------------------------------------
@dataclass(frozen=True)
class ConstrainedPath:
    """The best grid path found within a length budget, and the Lagrangian bound on any.

    ``cost`` is the path's hazard integral (the upper bound), ``lower_bound``
    the best dual value ``max over mu of min over paths (cost + mu (length -
    budget))``: no grid path within the budget costs less. ``gap = cost -
    lower_bound`` (0 when the hazard-first path fits the budget).
    """

    nodes: np.ndarray
    cost: float
    length_m: float
    budget_m: float
    lower_bound: float
    mu_per_m: float
    evaluations: int

    @property
    def gap(self):
        return max(self.cost - self.lower_bound, 0.0)


class LagrangianSearch:
    """Constrained shortest paths between two nodes of one graph, by Lagrangian relaxation.

    Every Dijkstra run (one per price of length ``mu``) is kept, so budgets
    solved one after another share them; each run gives a lower bound for
    every budget, and its path is a candidate for every budget it fits.
    """

    def __init__(self, graph, source, target):
        self.graph, self.source, self.target = graph, int(source), int(target)
        self._runs = {}        # mu -> (nodes, cost, length)

    @property
    def runs(self):
        """Dijkstra runs so far."""
        return len(self._runs)

    def at(self, mu):
        """The path minimising ``cost + mu * length`` (None when the target cannot be reached)."""
        mu = float(mu)
        if mu not in self._runs:
            g = self.graph
            dist, pred = dijkstra(g.matrix(g.cost + mu * g.length_m), directed=True, indices=self.source,
                                  return_predecessors=True)
            if not np.isfinite(dist[self.target]):
                self._runs[mu] = None
            else:
                nodes = [self.target]
                while nodes[-1] != self.source:
                    nodes.append(int(pred[nodes[-1]]))
                nodes = np.array(nodes[::-1], dtype=np.int64)
                e = g.edge_ids(nodes)
                self._runs[mu] = (nodes, float(g.cost[e].sum()), float(g.length_m[e].sum()))
        return self._runs[mu]

    def shortest_length_m(self):
        """The length of the shortest grid path (the least a budget can be); inf when unreachable."""
        run = self.at(MU_MAX_PER_M)
        return np.inf if run is None else run[2]

    def _bounds(self, budget_m):
        lower, best = -np.inf, None
        for mu, found in self._runs.items():
            if found is None:
                continue
            _, c, ell = found
            lower = max(lower, c + mu * (ell - budget_m))
            if ell <= budget_m and (best is None or (c, ell) < (best[1][1], best[1][2])):
                best = (mu, found)
        return lower, best

    def safer(self, budget_m, cost):
        """Paths found so far that are longer than ``budget_m`` but cost less than ``cost``: the nearest
        in length and the safest, as node arrays (the neighbours across the duality gap)."""
        runs = [r for r in self._runs.values() if r is not None and r[2] > budget_m and r[1] < cost]
        if not runs:
            return []
        near = min(runs, key=lambda r: (r[2], r[1]))
        safest = min(runs, key=lambda r: (r[1], r[2]))
        return [near[0]] if near is safest else [near[0], safest[0]]

    def solve(self, budget_m):
        """The best path within ``budget_m`` (a :class:`ConstrainedPath`), or None when none fits."""
        start = len(self._runs)
        if self.at(MU_MIN_PER_M) is None:
            return None
        feasible = {mu: r for mu, r in self._runs.items() if r is not None and r[2] <= budget_m}
        infeasible = [mu for mu, r in self._runs.items() if r is not None and r[2] > budget_m]
        hi = min(feasible) if feasible else None
        lo = max([m for m in infeasible if hi is None or m < hi], default=None)
        if hi is None:                       # raise the price until the path fits
            mu = max(lo * 10.0, 1e-9)
            while mu <= MU_MAX_PER_M:
                run = self.at(mu)
                if run[2] <= budget_m:
                    hi = mu
                    break
                lo = mu
                mu *= 10.0
            if hi is None:
                return None
        while lo is not None and len(self._runs) - start < MAX_EVALUATIONS:
            lower, (mu_best, run) = self._bounds(budget_m)
            if run[1] - lower <= GAP_ABS + GAP_REL * run[1] or hi / lo < 1.0 + 1e-9:
                break
            # the price at which the two bracketing paths tie (Eisner and Severance 1976): a path cheaper
            # there is a new vertex of the lower hull of (length, cost) between them; none proves the
            # bracket an edge of the hull, whose dual bound is then the best any price gives
            (_, c_lo, l_lo), (_, c_hi, l_hi) = self._runs[lo], self._runs[hi]
            mid = (c_hi - c_lo) / (l_lo - l_hi) if l_lo > l_hi else math.sqrt(lo * hi)
            if not lo < mid < hi:
                mid = math.sqrt(lo * hi)
            tie = c_lo + mid * l_lo
            found = self.at(mid)
            if found[1] + mid * found[2] >= tie - 1e-12 * max(abs(tie), 1.0):
                break
            if found[2] <= budget_m:
                hi = mid
            else:
                lo = mid
        lower, (mu_best, run) = self._bounds(budget_m)
        return ConstrainedPath(run[0], run[1], run[2], float(budget_m), float(np.clip(lower, 0.0, run[1])), mu_best,
                               len(self._runs) - start)


# --- smoothing and route costs -----------------------------------------------------------------------
def _bilinear(grid, values, x_m, y_m):
    """Bilinear interpolation of a cell-centre field at projected points (:func:`sim.analysis.fieldread.bilinear_idx`)."""
    h = grid.spacing_m
    return bilinear_idx(values, (np.asarray(x_m) - grid.x_m[0]) / h, (np.asarray(y_m) - grid.y_m[0]) / h)


def _segment_costs(grid, lam, p, q, speed_mps, step_cells=0.5):
    """Hazard integrals of straight projected segments ``p[k] -> q[k]`` (``(K, 2)`` each), trapezoid rule on
    samples at most ``step_cells`` spacings apart; inf for a segment that touches a forbidden cell."""
    p, q = np.atleast_2d(p), np.atleast_2d(q)
    dxy = q - p
    d = np.hypot(dxy[:, 0], dxy[:, 1])
    n = np.maximum(np.ceil(d / (step_cells * grid.spacing_m) - 1e-9).astype(np.int64), 1) + 1
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    t = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(n - 1, n)
    x = np.repeat(p[:, 0], n) + t * np.repeat(dxy[:, 0], n)
    y = np.repeat(p[:, 1], n) + t * np.repeat(dxy[:, 1], n)
    lam_s = _bilinear(grid, lam, x, y)
    w = np.where((t == 0) | (t == 1), 0.5, 1.0)
    total = np.add.reduceat(w * lam_s, start)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(total), total * d / (n - 1) / speed_mps, np.inf)


def string_pull(grid, lam, xy, speed_mps, tolerance=1e-9):
    """String-pull a polyline (``(K, 2)`` projected metres) over a hazard field: from each kept vertex, the
    farthest later vertex reachable by one straight segment whose hazard integral is at most the path's
    between them (plus ``tolerance``, relative) and which crosses no forbidden cell. Returns the kept
    vertices, ``(M, 2)``; the hazard never rises and the length never grows."""
    xy = np.asarray(xy, dtype=float)
    if len(xy) <= 2:
        return xy
    lam = np.where(grid.allowed, lam, np.inf)
    legs = _segment_costs(grid, lam, xy[:-1], xy[1:], speed_mps)
    cum = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(legs), legs, 1e300))])
    keep = [0]
    i = 0
    while i < len(xy) - 1:
        j = np.arange(i + 2, len(xy))
        best = i + 1
        if len(j):
            c = _segment_costs(grid, lam, np.repeat(xy[i][None], len(j), axis=0), xy[j], speed_mps)
            ok = np.isfinite(c) & (c <= (cum[j] - cum[i]) * (1.0 + tolerance) + 1e-12)
            if ok.any():
                best = int(j[np.flatnonzero(ok)[-1]])
        keep.append(best)
        i = best
    return xy[keep]


def _densify(xy, step_m):
    """A polyline with points inserted so that consecutive points are at most ``step_m`` apart."""
    out = [xy[:1]]
    for p, q in zip(xy[:-1], xy[1:]):
        n = max(int(np.ceil(np.hypot(*(q - p)) / step_m)), 1)
        out.append(p + (q - p) * (np.arange(1, n + 1) / n)[:, None])
    return np.vstack(out)


def shortcuts(grid, lam, xy, speed_mps, block=4096):
    """Every straight shortcut of a polyline (``(K, 2)`` projected metres, densified to two spacings): the
    densified points and, per pair ``i < j``, the length it saves and the hazard it adds; shortcuts that
    cross a forbidden cell are left out. :func:`shortcut` picks one."""
    lam = np.where(grid.allowed, lam, np.inf)
    pts = _densify(np.asarray(xy, dtype=float), 2.0 * grid.spacing_m)
    legs = _segment_costs(grid, lam, pts[:-1], pts[1:], speed_mps)
    cum_c = np.concatenate([[0.0], np.cumsum(legs)])
    cum_l = np.concatenate([[0.0], np.cumsum(np.hypot(*(pts[1:] - pts[:-1]).T))])
    i, j = np.triu_indices(len(pts), k=2)
    saving = cum_l[j] - cum_l[i] - np.hypot(*(pts[j] - pts[i]).T)
    added = np.empty(len(i))
    for k in range(0, len(i), block):
        sl = slice(k, k + block)
        added[sl] = _segment_costs(grid, lam, pts[i[sl]], pts[j[sl]], speed_mps) - (cum_c[j[sl]] - cum_c[i[sl]])
    ok = np.isfinite(added)
    return pts, i[ok], j[ok], saving[ok], added[ok]


def _lazy_shortcuts(grid, lam, xy, speed_mps, block=1024):
    """:func:`shortcuts`, the hazard each shortcut adds computed only when first asked for: returns
    ``table(need_m)``, the table of :func:`shortcuts` restricted to the pairs computed so far, every pair that
    saves at least ``need_m`` among them (so :func:`shortcut` picks from it what it picks from the whole
    table: each pair's hazard is computed on its own)."""
    lam = np.where(grid.allowed, lam, np.inf)
    pts = _densify(np.asarray(xy, dtype=float), 2.0 * grid.spacing_m)
    legs = _segment_costs(grid, lam, pts[:-1], pts[1:], speed_mps)
    cum_c = np.concatenate([[0.0], np.cumsum(legs)])
    cum_l = np.concatenate([[0.0], np.cumsum(np.hypot(*(pts[1:] - pts[:-1]).T))])
    i, j = np.triu_indices(len(pts), k=2)
    saving = cum_l[j] - cum_l[i] - np.hypot(*(pts[j] - pts[i]).T)
    added = np.full(len(i), np.nan)
    done = np.zeros(len(i), dtype=bool)

    def table(need_m):
        todo = np.flatnonzero((saving >= need_m) & ~done)
        for k in range(0, len(todo), block):
            sl = todo[k:k + block]
            added[sl] = _segment_costs(grid, lam, pts[i[sl]], pts[j[sl]], speed_mps) - (cum_c[j[sl]] - cum_c[i[sl]])
        done[todo] = True
        ok = done & np.isfinite(added)
        return pts, i[ok], j[ok], saving[ok], added[ok]

    return table


def shortcut(table, need_m, step_m=None):
    """From :func:`shortcuts`' table, the polyline with the one shortcut that saves at least ``need_m``
    (projected metres) and adds the least hazard (then saves the least); None when none saves enough.
    ``step_m``: the shortcut itself is returned as points this far apart (so that pulling the polyline
    again can leave it where it meets the coverage).

    This closes part of the duality gap: Lagrangian relaxation finds only the paths on the convex hull of
    the (length, hazard) front; a path across the gap is the safer hull path with a stretch cut short (for
    a single radar disk, the route that crosses the disk along a chord near its edge).
    """
    pts, i, j, saving, added = table
    ok = saving >= need_m
    if not ok.any():
        return None
    k = np.flatnonzero(ok)[np.lexsort((saving[ok], added[ok]))[0]]
    cut = np.vstack([pts[i[k]], pts[j[k]]])
    if step_m is not None:
        cut = _densify(cut, step_m)
    return np.vstack([pts[:i[k]], cut, pts[j[k] + 1:]])


def _thin(lat, lon, min_m=WAYPOINT_SPACING_M):
    """Drop intermediate waypoints closer than ``min_m`` to the previous kept one or to the last."""
    keep = [0]
    for k in range(1, len(lat) - 1):
        prev = keep[-1]
        d_prev = leg_geometry([lat[prev], lat[k]], [lon[prev], lon[k]])[1][0]
        d_end = leg_geometry([lat[k], lat[-1]], [lon[k], lon[-1]])[1][0]
        if d_prev >= min_m and d_end >= min_m:
            keep.append(k)
    keep.append(len(lat) - 1)
    return np.asarray(lat)[keep], np.asarray(lon)[keep]


def route_length_m(lat_deg, lon_deg):
    """Geodesic (WGS84) length of a polyline [m]."""
    return float(leg_geometry(lat_deg, lon_deg)[1].sum())


def route_cost(grid, lam, lat_deg, lon_deg, speed_mps):
    """The hazard integral of a route of geodesic legs over a field (samples at most half a spacing apart
    along the legs, trapezoid rule); inf when it crosses a forbidden cell."""
    length = route_length_m(lat_deg, lon_deg)
    n = max(int(np.ceil(length / (0.5 * grid.spacing_m))), 1) + 1
    s = np.linspace(0.0, length, n)
    la, lo, _ = positions_along_route(lat_deg, lon_deg, s)
    x, y = grid.to_xy(la, lo)
    lam_s = _bilinear(grid, np.where(grid.allowed, lam, np.inf), x, y)
    if not np.all(np.isfinite(lam_s)):
        return np.inf
    return float(np.sum(0.5 * (lam_s[1:] + lam_s[:-1])) * (s[1] - s[0]) / speed_mps)


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


# --- results ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvadeRoute:
    """One route of the front (or the direct reference), with the search's and the simulator's numbers.

    The headline is the route **as it will be flown**: ``summary`` is the Monte
    Carlo summary (summary.json) of the route's scenario, flown with the
    sideways spread ``spread_m`` (the scenario's, or ``--spread-km``), each
    radar's availability and outages and the transponder state searched;
    ``p_detect`` and ``p_stopped`` are its figures, and ``doc`` (the scenario
    written for the route) flies it so. ``summary_planned`` is the same route
    flown exactly on its line (no spread): the secondary figure.

    The search's own numbers: ``p_search`` its P(detect) as flown
    (:func:`p_flown`: the route's per-radar exposures at offsets standing for
    the spread, radars combined through their availability); ``p_grid``
    ``1 - exp(-cost)`` of the route's legs on the expected hazard field, as
    planned; ``p_surrogate`` the same hazard evaluated exactly along the
    planned track (every second, climb and descent included, no grid);
    ``p_surrogate_outages`` that with each radar's availability drawn once per
    flight; ``p_lower`` the Lagrangian lower bound of the grid problem it came
    from (``1 - exp(-lower_bound)``). ``flight_time_s`` and ``fuel_kg`` are the
    planned track's (fuel None where the aircraft model has no fuel flow).
    """

    label: str
    budget_m: float | None            # None: the direct route (reference)
    level: Level
    transponder_on: bool
    lat_deg: np.ndarray               # waypoints, endpoints included
    lon_deg: np.ndarray
    length_m: float
    extra_m: float                    # over the geodesic between the endpoints
    cost_grid: float                  # hazard integral of the route's legs on the expected field
    search: ConstrainedPath | None    # the grid search behind it (None: the direct route)
    method: str                       # how the search found it ("direct", "Lagrangian", ...)
    p_surrogate: float
    p_surrogate_outages: float
    doc: dict = field(repr=False)     # its scenario document (flown with the spread)
    summary: dict | None = field(repr=False, default=None)          # the Monte Carlo as flown (the headline)
    track: object = field(repr=False, default=None)           # the sim.routes.RouteTrack the Monte Carlo flew
    summary_planned: dict | None = field(repr=False, default=None)   # the same route flown exactly as planned
    spread_m: float = 0.0                                     # the sideways spread flown [m]
    p_search: float = float("nan")                            # the search's P(detect) as flown
    flight_time_s: float = float("nan")
    fuel_kg: float | None = None

    @property
    def p_grid(self):
        return float(-np.expm1(-self.cost_grid))

    @property
    def p_lower(self):
        return None if self.search is None else float(-np.expm1(-self.search.lower_bound))

    @property
    def p_detect(self):
        """P(detect) as flown (the headline)."""
        return self.summary["p_detect"]

    @property
    def p_stopped(self):
        """P(stopped) as flown (None without a response model)."""
        return _response_figure(self.summary, "p_stopped")

    @property
    def p_detect_planned(self):
        """P(detect) of the route flown exactly on its line (the secondary figure)."""
        return self.summary_planned["p_detect"]

    @property
    def p_stopped_planned(self):
        return _response_figure(self.summary_planned, "p_stopped")

    def same_route(self, other):
        """Whether ``other`` flies the same route (level, transponder state, waypoints)."""
        return (self.level == other.level and self.transponder_on == other.transponder_on
                and np.array_equal(self.lat_deg, other.lat_deg) and np.array_equal(self.lon_deg, other.lon_deg))

    def row(self):
        """A flat, JSON-ready record (front.csv and front.json): the as-flown figures first."""
        s, sr = self.summary, self.search
        ci = _response_figure(s, "p_stopped_ci95") or (None, None)
        return {
            "point": self.label, "budget_km": None if self.budget_m is None else round(self.budget_m / 1000.0, 3),
            "level": self.level.label, "transponder": "on" if self.transponder_on else "off",
            "length_km": round(self.length_m / 1000.0, 3), "extra_km": round(self.extra_m / 1000.0, 3),
            "flight_time_min": round(self.flight_time_s / 60.0, 2),
            "fuel_t": None if self.fuel_kg is None else round(self.fuel_kg / 1000.0, 3),
            "waypoints": len(self.lat_deg), "spread_km": round(self.spread_m / 1000.0, 3),
            "p_detect": s["p_detect"], "p_detect_ci95_low": s["p_detect_ci95"][0],
            "p_detect_ci95_high": s["p_detect_ci95"][1],
            "p_stopped": self.p_stopped, "p_stopped_ci95_low": ci[0], "p_stopped_ci95_high": ci[1],
            "p_detect_planned_track": self.p_detect_planned, "p_stopped_planned_track": self.p_stopped_planned,
            "p_search_as_flown": None if not np.isfinite(self.p_search) else round(self.p_search, 6),
            "p_surrogate_grid": round(self.p_grid, 6), "p_surrogate": round(self.p_surrogate, 6),
            "p_surrogate_outages": round(self.p_surrogate_outages, 6),
            "p_lagrangian_lower": None if sr is None else round(self.p_lower, 6),
            "p_grid_path": None if sr is None else round(float(-np.expm1(-sr.cost)), 6),
            "duality_gap": None if sr is None else round(sr.gap, 6),
            "mu_per_km": None if sr is None else float(f"{sr.mu_per_m * 1000.0:.6g}"),
            "dijkstra_runs": None if sr is None else sr.evaluations, "method": self.method,
            "grid_budget_km": None if sr is None else round(sr.budget_m / 1000.0, 3),
            "scenario_file": None,
        }


def _response_figure(summary, key):
    """A figure of a summary's response (``p_stopped``, ``p_stopped_ci95``); None without a response model."""
    r = summary.get("response")
    return None if r is None else r[key]


@dataclass(frozen=True)
class EvadeResult:
    """The front of one call: the direct route and a route per budget, per transponder state searched."""

    scenario: object
    origin: _Place
    dest: _Place
    levels: tuple
    transponder_states: tuple
    budgets_m: tuple
    avoid: tuple
    grid: SearchGrid
    fields: dict                   # (level, transponder_on) -> hazard field (ny, nx) [1/s]
    direct: dict                   # transponder_on -> EvadeRoute of the direct route (the reference)
    front: dict                    # transponder_on -> tuple of EvadeRoute, one per budget (increasing)
    great_circle_m: float
    speed_mps: float
    campaigns: int
    flights: int
    seed: int
    timings_s: dict
    notes: tuple = ()
    radars: tuple = ()             # the sim.detection.RadarModel of each radar
    spread_m: float = 0.0          # the sideways spread every route is flown with [m]
    objective: str = "p_detect"    # what the front minimises as flown: "p_detect" or "p_stopped"
    speeds_mps: dict = field(default_factory=dict)   # Level -> the speed its routes cruise at [m/s]

    def routes(self):
        """Every route: for each transponder state, the direct route and then the front."""
        return [r for t in self.transponder_states for r in (self.direct[t], *self.front[t])]

    def points(self, transponder_on):
        """The front as distinct routes: ``[(route, budgets_m), ...]``, each route once with every budget it
        answers (increasing), in order of the extra distance flown."""
        out = []
        for r in self.front[transponder_on]:
            if out and out[-1][0].same_route(r):
                out[-1] = (out[-1][0], (*out[-1][1], r.budget_m))
            else:
                out.append((r, (r.budget_m,)))
        return out


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
        airspace projection (:func:`sim.airspace.build_airspace`), which is centred on its routes and
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
    transformer = build_airspace(scenario).transformer if projection is None else projection
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

    # the search: per level and transponder state, the routes of every budget on the field as flown (each
    # radar's hazard times its availability, blurred by the spread), then, for each radar those routes
    # cross, the routes that cross it freely (its detection saturates at its availability: once a route is
    # seen by it, more of its coverage costs little, and a radar up 80% of the time is the better one to cross
    # than one up 90%); every route scored by the search's P(detect) as flown (:func:`p_flown`)
    avail = np.array([r.availability for r in radars])
    offsets = offset_quantiles(spread)
    fields, per_radar, cands = {}, {}, {}
    t0 = time.perf_counter()
    for t_on in states:
        for lv in levels:
            fr = _cached_fields(cache, radars, grid, lv, t_on, terrain, aircraft)
            per_radar[(lv, t_on)], fields[(lv, t_on)] = fr, np.tensordot(avail, fr, axes=1)
            v = level_speed_mps(aircraft, lv)

            def scored(lam, what, one_turn=False, fr=fr, v=v, lv=lv):
                out = []
                for bb, got in _search_level(grid, lam, v, budgets, (o, d), great_circle).items():
                    if got is not None:
                        p_s = p_flown(flown_exposures(grid, fr, got[2], got[3], v, offsets), avail)
                        out.append(_Candidate(p_s, got[1], lv, got[2], got[3], got[4], f"{got[5]}{what}", bb))
                for bb, routes in (one_turn_routes(grid, lam, v, budgets, (o, d), great_circle) if one_turn
                                   else {}).items():
                    for _, length, lat, lon in routes:
                        p_s = p_flown(flown_exposures(grid, fr, lat, lon, v, offsets), avail)
                        out.append(_Candidate(p_s, length, lv, lat, lon, None, f"one turn{what}", bb))
                return out

            found = scored(flown_field(fr, avail, spread, grid.spacing_m), "", one_turn=True)
            crossed = _crossed_radars(grid, fr, avail, [(c.lat, c.lon) for c in found]
                                      + [(direct_lat, direct_lon)], v, offsets)
            variants = [[r] for r in crossed] + ([crossed] if len(crossed) > 1 else [])
            for free in variants:
                w = avail.copy()
                w[free] = 0.0
                what = ", searched without " + " and ".join(radars[r].name for r in free)
                found += scored(flown_field(fr, w, spread, grid.spacing_m), what)
            # the best route of each budget, polished as flown (the grid cannot place a turn within a cell)
            for bb in budgets:
                pool = [c for c in found if c.budget_m <= bb]
                if pool and (best := min(pool, key=lambda c: (c.p_flown, c.length_m))).p_flown > 0.0:
                    la, lo, p_s = polish(grid, fr, avail, best.lat, best.lon, v, offsets, great_circle + bb)
                    if p_s < best.p_flown:
                        found.append(_Candidate(p_s, route_length_m(la, lo), lv, la, lo, best.search,
                                                f"{best.method}, polished as flown", bb))
            if np.isfinite(route_cost(grid, fields[(lv, t_on)], direct_lat, direct_lon, v)):
                found.append(_Candidate(p_flown(flown_exposures(grid, fr, direct_lat, direct_lon, v, offsets), avail),
                                        great_circle, lv, direct_lat, direct_lon, None, "direct", 0.0))
            cands[(lv, t_on)] = found
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


@dataclass(frozen=True)
class _Candidate:
    """A route the search found: its P(detect) as flown (:func:`p_flown`), length, level, waypoints, the grid
    search behind it, how it was found, the budget it was searched for, and the transponder state."""

    p_flown: float
    length_m: float
    level: Level
    lat: np.ndarray
    lon: np.ndarray
    search: object
    method: str
    budget_m: float
    t_on: bool | None = None


def _crossed_radars(grid, fields, availability, routes, speed_mps, offsets_m):
    """The radars that see the routes ``[(lat, lon), ...]`` as flown (a chance above 1%), the most seeing
    first, at most :data:`FREE_RADARS_MAX`."""
    seen = np.zeros(len(fields))
    for lat, lon in routes:
        e = flown_exposures(grid, fields, lat, lon, speed_mps, offsets_m)
        seen = np.maximum(seen, np.mean(availability[:, None] * -np.expm1(-e), axis=1))
    order = [int(i) for i in np.argsort(-seen, kind="stable") if seen[i] > 0.01]
    return order[:FREE_RADARS_MAX]


def level_speed_mps(aircraft, level):
    """The speed a route at ``level`` flies its cruise at [m/s]: the aircraft's low-level speed for terrain
    following (where the aircraft has one), else its cruise speed."""
    low = getattr(aircraft, "low_level_speed_mps", None)
    return float(low) if (level.agl_m is not None and low) else float(aircraft.cruise_speed_mps)


def polish(grid, fields, availability, lat_deg, lon_deg, speed_mps, offsets_m, max_length_m, turns=POLISH_TURNS,
           step_m=None, min_step_m=POLISH_MIN_STEP_M):
    """A route moved, turn by turn, to lower its P(detect) as flown (:func:`p_flown`) within a length.

    The route gets at least ``turns`` turns (its longest legs split), then a
    pattern search: each turn in turn tries a step of ``step_m`` (default the
    grid spacing) in each of 8 directions and keeps the first that lowers the
    P as flown without making the route longer than ``max_length_m``
    (geodesic legs), bringing two waypoints closer than
    :data:`WAYPOINT_SPACING_M` (the scenario format's spacing) or crossing a
    forbidden cell; the step halves when no
    turn moves, down to ``min_step_m``. The grid cannot place a turn closer
    than a cell, nor measure a small budget (:data:`GRID_EXCESS`): this is
    where a route threading a narrow gap between two coverages finds its line.
    Returns ``(lat, lon, p)``.
    """
    lat, lon = np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float)
    x, y = grid.to_xy(lat, lon)
    xy = np.column_stack([x, y])
    while len(xy) - 2 < turns:
        k = int(np.argmax(np.hypot(*np.diff(xy, axis=0).T)))
        xy = np.insert(xy, k + 1, 0.5 * (xy[k] + xy[k + 1]), axis=0)
    forbidden = np.where(grid.allowed, 0.0, np.inf)

    def score(pts, k=None):
        """P as flown of a polyline; inf when it is too long or touches a forbidden cell (checked on the two
        legs of turn ``k`` when only that turn moved: the others were checked with the route they left)."""
        la, lo = grid.to_lat_lon(pts[:, 0], pts[:, 1])
        la[0], lo[0], la[-1], lo[-1] = lat[0], lon[0], lat[-1], lon[-1]
        legs = leg_geometry(la, lo)[1]
        a, b = (0, len(pts)) if k is None else (k - 1, k + 2)
        if (float(legs.sum()) > max_length_m or float(legs.min()) < WAYPOINT_SPACING_M   # a route the format takes
                or not np.isfinite(_segment_costs(grid, forbidden, pts[a:b - 1], pts[a + 1:b], 1.0).sum())):
            return np.inf, la, lo
        return p_flown(flown_exposures(grid, fields, la, lo, speed_mps, offsets_m), availability), la, lo

    best, la, lo = score(xy)
    if not np.isfinite(best):
        return lat, lon, p_flown(flown_exposures(grid, fields, lat, lon, speed_mps, offsets_m), availability)
    step = grid.spacing_m if step_m is None else float(step_m)
    moves = np.array([(np.cos(a), np.sin(a)) for a in np.arange(8) * np.pi / 4])
    while step >= min_step_m and best > 0.0:
        moved = False
        for k in range(1, len(xy) - 1):
            for m in moves:
                trial = xy.copy()
                trial[k] = xy[k] + step * m
                p_t, la_t, lo_t = score(trial, k)
                if p_t < best - 1e-9:
                    xy, best, la, lo, moved = trial, p_t, la_t, lo_t, True
                    break
        if not moved:
            step *= 0.5
    return la, lo, best


def one_turn_routes(grid, lam, speed_mps, budgets, ends, great_circle, keep=ONE_TURN_KEEP, block=1024):
    """The routes with one turn, ``origin -> cell -> destination`` through every allowed cell, of least hazard
    on the field ``lam`` within each budget: ``{budget: [(cost, length_m, lat, lon), ...]}`` (at most
    ``keep`` each, safest first).

    For a budget that is small against the route (tens of km on a thousand), the grid's own paths cannot
    tell the routes apart: a 16-neighbour path is up to :data:`GRID_EXCESS` longer than the line it
    follows, more in some directions than in others, which is more than the budget. A route with one
    turn is measured exactly (geodesic legs, ``pyproj.Geod``); its hazard is the trapezoid rule along
    the straight projected legs (:func:`_segment_costs`), inf where it touches a forbidden cell.
    """
    o, d = ends
    budgets = [b for b in budgets if b > 0]
    if not budgets:
        return {}
    rows, cols = np.nonzero(grid.allowed)
    la, lo = grid.lat_deg[rows, cols], grid.lon_deg[rows, cols]
    _, _, d1 = _GEOD.inv(np.full(la.shape, o.lon_deg), np.full(la.shape, o.lat_deg), lo, la)
    _, _, d2 = _GEOD.inv(lo, la, np.full(la.shape, d.lon_deg), np.full(la.shape, d.lat_deg))
    extra = d1 + d2 - great_circle
    sel = (extra <= min(max(budgets), ONE_TURN_EXTRA_MAX * great_circle)) & (np.minimum(d1, d2) >= WAYPOINT_SPACING_M)
    rows, cols, la, lo, extra = rows[sel], cols[sel], la[sel], lo[sel], extra[sel]
    mid = np.column_stack([grid.x_m[cols], grid.y_m[rows]])
    lam = np.where(grid.allowed, lam, np.inf)
    cost = np.empty(len(mid))
    for k in range(0, len(mid), block):
        m = mid[k:k + block]
        cost[k:k + block] = (_segment_costs(grid, lam, np.broadcast_to(grid.origin_xy, m.shape), m, speed_mps, 1.0)
                             + _segment_costs(grid, lam, m, np.broadcast_to(grid.dest_xy, m.shape), speed_mps, 1.0))
    out = {}
    for b in budgets:
        if b > ONE_TURN_EXTRA_MAX * great_circle:
            break
        idx = np.flatnonzero((extra <= b) & np.isfinite(cost))
        idx = idx[np.lexsort((extra[idx], cost[idx]))][:keep]
        out[b] = [(float(cost[i]), float(extra[i] + great_circle), np.array([o.lat_deg, la[i], d.lat_deg]),
                   np.array([o.lon_deg, lo[i], d.lon_deg])) for i in idx]
    return out


def _search_level(grid, lam, speed, budgets, ends, great_circle):
    """The routes of one field for every budget > 0: ``{budget: (cost, length, lat, lon, ConstrainedPath,
    method)}`` (None where no route fits)."""
    graph = grid_graph(grid, lam, speed)
    search = LagrangianSearch(graph, grid.node(grid.origin_cell), grid.node(grid.dest_cell))
    shortest = search.shortest_length_m()
    out = {}
    if not np.isfinite(shortest):
        return {b: None for b in budgets}
    o, d = ends
    nx = grid.shape[1]

    def polyline(nodes):
        rows, cols = np.divmod(nodes, nx)
        return np.vstack([grid.origin_xy, np.column_stack([grid.x_m[cols], grid.y_m[rows]]), grid.dest_xy])

    def as_route(xy):
        pulled = string_pull(grid, lam, xy, speed)
        lat, lon = grid.to_lat_lon(pulled[:, 0], pulled[:, 1])
        lat[0], lon[0], lat[-1], lon[-1] = o.lat_deg, o.lon_deg, d.lat_deg, d.lon_deg
        lat, lon = _thin(lat, lon)
        if len(lat) > ROUTE_WAYPOINTS_MAX:
            lat, lon = _thin(lat, lon, min_m=grid.spacing_m * 4)
        ok = len(lat) <= ROUTE_WAYPOINTS_MAX
        return pulled, lat, lon, route_length_m(lat, lon), route_cost(grid, lam, lat, lon, speed) if ok else np.inf

    for b in budgets:
        if b <= 0:
            continue
        # a 16-neighbour path is up to GRID_EXCESS longer than the route it stands for, the shortest one less
        # so in some directions than in others: the search starts with that slack and tightens its grid
        # budget while the pulled route is too long
        grid_budget = shortest + b + GRID_EXCESS * shortest
        got, path = None, None
        for _ in range(TIGHTEN_TRIES):
            path = search.solve(grid_budget)
            if path is None:
                break
            _, lat, lon, length, cost = as_route(polyline(path.nodes))
            if length - great_circle <= b and np.isfinite(cost):
                got = (cost, length, lat, lon, path, "Lagrangian")
                break
            grid_budget -= max(length - great_circle - b, 0.0) + 0.5 * grid.spacing_m
            if grid_budget < shortest:
                break
        # across the duality gap: the safer, longer paths cut short to the budget. The cut is pulled again
        # (which shortens the route where the cut meets the coverage), so the length a cut must save is
        # scanned (and the best refined by bisection): the cut that just fits the budget once pulled.
        if path is not None and (got is None or got[0] > GAP_ABS):
            for nodes in search.safer(grid_budget, got[0] if got else np.inf):
                pulled, _, _, length, _ = as_route(polyline(nodes))
                scale = length / max(float(np.sum(np.hypot(*np.diff(pulled, axis=0).T))), 1.0)
                table = _lazy_shortcuts(grid, lam, pulled, speed)
                excess = (length - great_circle - b) / scale
                tried = {}

                def attempt(need, table=table, tried=tried, b=b, path=path):
                    cut = shortcut(table(need), need, 0.5 * grid.spacing_m)
                    if cut is None:
                        tried[need] = None
                        return
                    _, lat, lon, length2, cost = as_route(cut)
                    fits = length2 - great_circle <= b and np.isfinite(cost)
                    tried[need] = cost if fits else np.inf
                    nonlocal got
                    if fits and (got is None or cost < got[0]):
                        got = (cost, length2, lat, lon, path, "Lagrangian, then a shortcut across the gap")

                for k in range(1, SCAN_CUTS + 1):
                    attempt(excess * k / SCAN_CUTS)
                for _ in range(REFINE_CUTS):       # between the best cut that fits and the next smaller one
                    ok = sorted(n for n, c in tried.items() if c is not None and np.isfinite(c))
                    if not ok:
                        break
                    best = min(ok, key=lambda n: tried[n])
                    below = [n for n in tried if n < best]
                    lo = max(below) if below else 0.0
                    if best - lo < 0.25 * grid.spacing_m:
                        break
                    attempt(0.5 * (lo + best))
        out[b] = got
    return out
