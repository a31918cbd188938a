"""The flight batch: many flights as arrays (axis 0 = flight), sampled at any times.

A :class:`FlightBatch` holds what differs between flights (route, sideways
offset, transponder); positions come from the nominal :class:`RouteTrack`
grids by one vectorized gather-and-interpolate, for an array of sample times
per flight (axis 1 = sample).
"""
from dataclasses import dataclass

import numpy as np

from geo.earth import EARTH_RADIUS_M

__all__ = ["FlightBatch", "PackedRoutes", "pack_routes", "positions_at", "to_lat_lon", "offset_rows", "nearest_row",
           "OFFSET_STEP_M", "OFFSET_CLIP_SIGMA", "offset_positions"]

#: Largest spacing of tabulated sideways offsets (fences, detection tables, terrain following) [m].
OFFSET_STEP_M = 250.0
#: Sideways offsets are normal, truncated at this many standard deviations.
OFFSET_CLIP_SIGMA = 4.0


@dataclass(frozen=True)
class FlightBatch:
    """Flights as a struct of arrays, all shape (F,)."""

    campaign: np.ndarray        # int, campaign index
    flight: np.ndarray          # int, flight index within its campaign
    route_index: np.ndarray     # int, index into the scenario's routes
    cross_track_m: np.ndarray   # float, sideways offset from the nominal route (+ = right) [m]
    transponder_on: np.ndarray  # bool

    def __post_init__(self):
        n = self.campaign.shape
        for k in ("flight", "route_index", "cross_track_m", "transponder_on"):
            if getattr(self, k).shape != n:
                raise ValueError(f"FlightBatch.{k} must have shape {n}")

    def __len__(self):
        return self.campaign.shape[0]


@dataclass(frozen=True)
class PackedRoutes:
    """All route grids concatenated, for gathers by (route, time) in one call.

    ``table`` rows hold, for each grid sample ``i`` of a route, the values at
    ``i`` and their increments to ``i + 1``: unit position (0:3, 3:6), unit
    right-of-track vector (6:9, 9:12) and altitude (12, 13), so one gather
    serves the whole linear interpolation.
    """

    step_s: float
    start: np.ndarray       # (n_routes,) first row of each route
    count: np.ndarray       # (n_routes,) rows of each route
    duration_s: np.ndarray  # (n_routes,)
    table: np.ndarray       # (rows, 14)
    alt_rows: tuple = ()    # per route: None, or (offsets_m, altitude per offset row (n_offsets, T)) of a
    #                         terrain-following route, whose altitude depends on the flight's own ground


def _increments(a):
    d = np.zeros_like(a)
    d[:-1] = a[1:] - a[:-1]
    return d


def pack_routes(routes):
    """Concatenate the grids of :class:`~sim.routes.RouteTrack` objects (same step)."""
    steps = {r.step_s for r in routes}
    if len(steps) != 1:
        raise ValueError("all routes must share one time step")
    count = np.array([len(r.t_s) for r in routes])
    table = np.concatenate([
        np.column_stack([r.xyz, _increments(r.xyz), r.right, _increments(r.right), r.alt_m, _increments(r.alt_m)])
        for r in routes])
    return PackedRoutes(
        step_s=steps.pop(),
        start=np.concatenate([[0], np.cumsum(count)[:-1]]),
        count=count,
        duration_s=np.array([r.duration_s for r in routes]),
        table=np.ascontiguousarray(table),
        alt_rows=tuple(None if r.alt_rows_m is None else (r.row_offsets_m, r.alt_rows_m) for r in routes),
    )


def positions_at(packed, route_index, cross_track_m, t_s):
    """Positions of flights at sample times.

    Parameters
    ----------
    packed : PackedRoutes
    route_index, cross_track_m : ndarray, shape (F,)
    t_s : ndarray, shape (F, K)
        Sample times since departure [s].

    Returns
    -------
    xyz : ndarray, shape (F, K, 3)
        Earth-centred unit vectors.
    alt_m : ndarray, shape (F, K)
        Altitude above mean sea level [m].
    airborne : ndarray of bool, shape (F, K)
        ``0 <= t <= duration`` of the flight's route.

    Notes
    -----
    The sideways offset ``o`` is applied along the right-of-track unit
    vector ``r`` (tangent, so orthogonal to the position ``u``) and the sum
    rescaled by ``1 / sqrt(1 + (o/R)^2)``: a point on the great circle
    through ``u`` perpendicular to the track at angle ``atan(o/R)``, which
    differs from the distance ``o`` by ``o^3 / (3 R^2)`` (8 mm at 10 km).
    A terrain-following route's altitude is read on the nearest tabulated
    offset row (its profile clears the ground of that row and of its
    neighbours, :func:`sim.routes.build_route`).
    """
    t = np.asarray(t_s, dtype=float)
    r = np.asarray(route_index)[:, None]
    u = t / packed.step_s
    i = np.clip(np.floor(u).astype(np.int64), 0, packed.count[r] - 2)
    frac = np.clip(u - i, 0.0, 1.0)[..., None]
    row = packed.table[packed.start[r] + i]                      # (F, K, 14), one gather
    a = (np.asarray(cross_track_m, dtype=float) / EARTH_RADIUS_M)[:, None, None]
    xyz = row[..., 0:3] + frac * row[..., 3:6]
    xyz += a * (row[..., 6:9] + frac * row[..., 9:12])
    xyz *= 1.0 / np.sqrt(1.0 + a * a)
    alt = row[..., 12] + frac[..., 0] * row[..., 13]
    for k, rows in enumerate(packed.alt_rows):      # terrain-following routes: the flight's own row
        sel = np.asarray(route_index) == k
        if rows is None or not sel.any():
            continue
        offsets, table = rows
        rr = nearest_row(offsets, np.asarray(cross_track_m, dtype=float)[sel])[:, None]
        ii = i[sel]
        alt[sel] = table[rr, ii] + frac[sel][..., 0] * (table[rr, ii + 1] - table[rr, ii])
    airborne = (t >= 0.0) & (t <= packed.duration_s[r])
    return xyz, alt, airborne


def offset_rows(sigma_m, clip_sigma, step_m):
    """Tabulated sideways offsets [m]: ``-clip sigma .. +clip sigma`` at most ``step_m`` apart (odd count, 0 in)."""
    half = clip_sigma * sigma_m
    n = 1 if half == 0 else 2 * int(np.ceil(half / step_m)) + 1
    return np.linspace(-half, half, n)


def nearest_row(offsets_m, cross_track_m):
    """Index of the nearest of evenly spaced tabulated offsets ``offsets_m`` [m]."""
    if len(offsets_m) == 1:
        return np.zeros(np.shape(cross_track_m), dtype=np.int64)
    step = offsets_m[1] - offsets_m[0]
    return np.clip(np.rint((cross_track_m - offsets_m[0]) / step).astype(np.int64), 0, len(offsets_m) - 1)


def offset_positions(xyz, right, offsets_m):
    """Unit vectors ``(n_offsets, T, 3)`` of tracks offset sideways from a nominal one (as positions_at)."""
    a = (np.asarray(offsets_m, dtype=float) / EARTH_RADIUS_M)[:, None, None]
    return (xyz[None] + a * right[None]) / np.sqrt(1.0 + a * a)


def to_lat_lon(xyz):
    """Latitude and longitude [deg] of Earth-centred unit vectors ``(..., 3)``."""
    lat = np.degrees(np.arcsin(np.clip(xyz[..., 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(xyz[..., 1], xyz[..., 0]))
    return lat, lon
