"""The candidates: copies of the ``like`` radar at sites (a grid over the airspace, its airfields, its high
ground) or on orbits (racetracks), each as the ``[[radar]]`` table a placed scenario adds; the CSV files of
sites and racetracks are read by :mod:`sim.optimise.placement.readers`."""
import copy
import difflib
import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.ndimage import maximum_filter

from geo.airports import load_airports
from geo.coverage import project_geometry
from geo.earth import EARTH_RADIUS_M
from geo.geodesy import WGS84, leg_geometry
from geo.terrain import elevation_m
from sim.airspace import build_airspace
from sim.platforms import Racetrack
from sim.scenario import ORBIT_LOOP_MAX_M, WAYPOINT_SPACING_MIN_M, ScenarioError, shown_source

__all__ = ["Candidate", "site_name", "track_name", "grid_candidates", "airbase_candidates", "terrain_peaks",
           "high_ground_candidates", "listed_candidates", "orbit_grid_candidates", "candidate_table",
           "CANDIDATE_LISTS", "CANDIDATES_MAX", "HIGH_GROUND_COUNT", "HIGH_GROUND_SEPARATION_M"]

#: Most candidate sites.
CANDIDATES_MAX = 5_000


# --- candidates -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A candidate site: a copy of the ``like`` radar there."""

    name: str
    lat_deg: float
    lon_deg: float
    antenna_height_m: float          # mast above the ground
    elevation_m: float | None        # site ground AMSL; None: the scenario's smooth Earth (terrain masking off)


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


def _airspace(scenario, airspace):
    """The scenario's :class:`~sim.airspace.Airspace`: ``airspace`` when the caller has it (:func:`place` builds
    it once, :func:`sim.montecarlo.scenario_airspace`), else built here."""
    return build_airspace(scenario) if airspace is None else airspace


def _grid_points(scenario, spacing_m, airspace=None):
    """``(lat_deg, lon_deg)`` of the centres of a square grid over the scenario's airspace (rounded to 1e-4 deg)."""
    a = _airspace(scenario, airspace)
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


def grid_candidates(scenario, spacing_m, antenna_height_m, terrain=None, airspace=None):
    """Candidate sites at the centres of a square grid over the scenario's airspace.

    The grid is the scenario's equal-area projection (:func:`sim.airspace.build_airspace`), cells
    ``spacing_m`` wide with centres at ``(k + 1/2) spacing``; a centre inside the airspace polygon is a
    candidate (``antenna_height_m`` mast; site elevation from ``terrain`` when terrain masking is on).
    ``airspace``: the scenario's, when the caller has it (else built here).
    """
    out = []
    for la, lo in zip(*_grid_points(scenario, spacing_m, airspace)):
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


def airbase_candidates(scenario, antenna_height_m, terrain=None, airports=None, airspace=None):
    """Candidate sites at the airfields of the packaged airport table (:func:`geo.airports.load_airports`) that lie
    inside the scenario's airspace polygon (the test :func:`grid_candidates` applies to its grid points).

    Each is named ``"ICAO name"`` (``"ORAA Al Asad Air Base"``), in the table's order, with ``antenna_height_m``
    of mast. Its ground: the terrain model's there when terrain masking is on (as a grid site's: the masking
    tables are built on that ground; an airfield outside the terrain model is left out), else the table's
    elevation (rounded to 0.1 m). ``airports`` (``{ICAO: Airport}``) replaces the packaged table; ``airspace``:
    the scenario's, when the caller has it (else built here).
    """
    if airports is None:
        airports = load_airports()
    a = _airspace(scenario, airspace)
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
                           separation_m=HIGH_GROUND_SEPARATION_M, airspace=None):
    """Candidate sites on the scenario airspace's high ground: :func:`terrain_peaks` of the terrain model inside
    its airspace polygon (the ``count`` highest peaks at least ``separation_m`` apart, each the highest ground
    within ``separation_m``), highest first, named by their coordinates (:func:`site_name`), with
    ``antenna_height_m`` of mast. Each stands on its terrain cell's height (with terrain masking on, the model's
    ground there, as a grid site's: the same at a cell centre, rounded to 0.1 m); with masking off too, since
    its height is why it is listed (the smooth Earth then lifts its antenna by it, with no hills around).
    ``airspace``: the scenario's, when the caller has it (else built here)."""
    a = _airspace(scenario, airspace)
    lat, lon, z = terrain_peaks(terrain, a.polygon_m, a.transformer, count, separation_m)
    out = []
    for la, lo, h in zip(lat, lon, z):
        la, lo = round(float(la), 6), round(float(lo), 6)
        elev = (_site_elevation(scenario, terrain, la, lo, ("--candidates", "high-ground"))
                if scenario.detection.terrain else round(float(h), 1))
        out.append(Candidate(site_name(la, lo), la, lo, float(antenna_height_m), elev))
    return tuple(out)


def listed_candidates(which, scenario, antenna_height_m, terrain, airspace=None):
    """``(candidates, source)`` of a candidate list named in :data:`CANDIDATE_LISTS`: ``"airbases"``
    (:func:`airbase_candidates`) or ``"high-ground"`` (:func:`high_ground_candidates`; needs ``terrain``).
    Raises :class:`~sim.scenario.ScenarioError` (``--candidates``) when the airspace holds none."""
    name = scenario.airspace.name
    if which == "airbases":
        cands = airbase_candidates(scenario, antenna_height_m, terrain, airspace=airspace)
        if not cands:
            raise ScenarioError("--candidates", None, f"airbases: no airfield of the packaged airport table lies "
                                                      f"inside {name}'s airspace; give a CSV of sites "
                                                      "(lat,lon[,name,mast_m])")
        return cands, f"the packaged airport table's {len(cands)} airfields inside {name}'s airspace"
    if which == "high-ground":
        cands = high_ground_candidates(scenario, terrain, antenna_height_m, airspace=airspace)
        if not cands:
            raise ScenarioError("--candidates", None, f"high-ground: the terrain model does not cover {name}'s "
                                                      "airspace; give a CSV of sites (lat,lon[,name,mast_m])")
        return cands, (f"the terrain model's {len(cands)} highest peaks inside {name}'s airspace, each the highest "
                       f"ground within {HIGH_GROUND_SEPARATION_M / 1000:g} km")
    raise ScenarioError("--candidates", None, f"no candidate list {which!r} (lists: {', '.join(CANDIDATE_LISTS)})")


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


def orbit_grid_candidates(scenario, spacing_m, like_spec, airspace=None):
    """Candidate orbits centred on the centres of a square grid over the scenario's airspace (as
    :func:`grid_candidates`): each a racetrack of the ``like`` orbit's own length, turned to its heading (the
    geodesic's azimuth at the ``like`` racetrack's midpoint; both ends half the length from the centre along
    the geodesic). The ``like`` orbit must be a racetrack (two waypoints) or hold a point."""
    wps = like_spec.orbit.waypoints
    if len(wps) > 2:
        raise ScenarioError("--grid-km", None, f"{like_spec.name!r} flies a loop of {len(wps)} waypoints: a grid of "
                                               "copies needs a racetrack (two waypoints); give --candidates "
                                               "racetracks lat1,lon1,lat2,lon2")
    lat, lon = _grid_points(scenario, spacing_m, airspace)
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
