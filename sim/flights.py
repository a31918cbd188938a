"""The flight batch: many flights as arrays (axis 0 = flight), sampled at any times.

A :class:`FlightBatch` holds what differs between flights (route, sideways
offset, transponder); positions come from the nominal :class:`RouteTrack`
grids by one vectorized gather-and-interpolate, for an array of sample times
per flight (axis 1 = sample).
"""
from dataclasses import dataclass

import numpy as np

from geo.earth import EARTH_RADIUS_M

__all__ = ["FlightBatch", "PackedRoutes", "pack_routes", "positions_at", "to_lat_lon"]


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
    """All route grids concatenated, for gathers by (route, time) in one call."""

    step_s: float
    start: np.ndarray       # (n_routes,) first row of each route
    count: np.ndarray       # (n_routes,) rows of each route
    duration_s: np.ndarray  # (n_routes,)
    xyz: np.ndarray         # (rows, 3)
    right: np.ndarray       # (rows, 3)
    alt_m: np.ndarray       # (rows,)


def pack_routes(routes):
    """Concatenate the grids of :class:`~sim.routes.RouteTrack` objects (same step)."""
    steps = {r.step_s for r in routes}
    if len(steps) != 1:
        raise ValueError("all routes must share one time step")
    count = np.array([len(r.t_s) for r in routes])
    return PackedRoutes(
        step_s=steps.pop(),
        start=np.concatenate([[0], np.cumsum(count)[:-1]]),
        count=count,
        duration_s=np.array([r.duration_s for r in routes]),
        xyz=np.concatenate([r.xyz for r in routes]),
        right=np.concatenate([r.right for r in routes]),
        alt_m=np.concatenate([r.alt_m for r in routes]),
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
    The sideways offset is applied in the local tangent plane and the result
    renormalised; for offsets ``o`` the position error is of order
    ``o^3 / R^2`` (0.3 mm at 10 km).
    """
    t = np.asarray(t_s, dtype=float)
    r = np.asarray(route_index)[:, None]
    u = t / packed.step_s
    i = np.clip(np.floor(u).astype(np.int64), 0, packed.count[r] - 2)
    frac = np.clip(u - i, 0.0, 1.0)[..., None]
    g = packed.start[r] + i
    xyz = packed.xyz[g] * (1.0 - frac) + packed.xyz[g + 1] * frac
    xyz += (np.asarray(cross_track_m, dtype=float)[:, None, None] / EARTH_RADIUS_M) * (
        packed.right[g] * (1.0 - frac) + packed.right[g + 1] * frac)
    xyz /= np.sqrt(np.einsum("...i,...i->...", xyz, xyz))[..., None]
    f = frac[..., 0]
    alt = packed.alt_m[g] * (1.0 - f) + packed.alt_m[g + 1] * f
    airborne = (t >= 0.0) & (t <= packed.duration_s[r])
    return xyz, alt, airborne


def to_lat_lon(xyz):
    """Latitude and longitude [deg] of Earth-centred unit vectors ``(..., 3)``."""
    lat = np.degrees(np.arcsin(np.clip(xyz[..., 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(xyz[..., 1], xyz[..., 0]))
    return lat, lon
