"""The hazard field: each radar's detection hazard per second of flight at a point, on the search grid at a
flight level (terrain following included), and along a route flown with the scenario's sideways spread."""
import math

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.special import ndtr, ndtri

from geo.geodesy import positions_along_route
from geo.terrain import cell_max_m
from sim.detection import in_coverage, scan_pd
from sim.flights import OFFSET_CLIP_SIGMA
from sim.optimise.fieldread import bilinear_many
from sim.optimise.route.grid import route_length_m
from sim.platforms import Orbit

__all__ = ["orbit_phases", "scan_hazard_per_s", "hazard_rate_per_s", "route_hazards", "level_altitude_m",
           "hazard_field", "radar_fields", "offset_quantiles", "flown_exposures", "p_flown", "flown_field",
           "FLOWN_OFFSETS", "ORBIT_PHASES", "ORBIT_SPACING_M", "PD_MAX"]

#: Sideways offsets that stand for the spread in the search's P(detect) as flown (:func:`offset_quantiles`).
FLOWN_OFFSETS = 32
#: An orbiting radar's hazard is the mean over positions around its loop this far apart [m] (the
#: expectation over the loop's random phase; the spacing of the masking-table radials at 300 km) ...
ORBIT_SPACING_M = 5_000.0
#: ... and at least this many.
ORBIT_PHASES = 12
#: Largest per-scan Pd used in the hazard (-ln(1 - Pd) is finite): a certain detection costs 20.7 per scan.
PD_MAX = 1.0 - 1e-9


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
