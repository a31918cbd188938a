"""WGS84 geodesics for routes, vectorized through ``pyproj.Geod``.

A route is a polyline of geodesic legs between waypoints. Positions at any
vector of along-track distances come from one vectorized ``Geod.fwd`` call
(Karney's algorithm in PROJ, accurate to nanometres).
"""
import numpy as np
import pyproj

__all__ = ["WGS84", "leg_geometry", "positions_along_route"]

#: The WGS84 ellipsoid geodesic solver (stateless; safe to share).
WGS84 = pyproj.Geod(ellps="WGS84")


def leg_geometry(lat_deg, lon_deg):
    """Initial azimuths and lengths of the geodesic legs of a polyline.

    Parameters
    ----------
    lat_deg, lon_deg : array_like, shape (n,)
        Waypoints, n >= 2.

    Returns
    -------
    azimuth_deg : ndarray, shape (n-1,)
        Initial azimuth of each leg, degrees clockwise from north.
    length_m : ndarray, shape (n-1,)
        Geodesic length of each leg [m].
    """
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    az, _, length = WGS84.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(az, dtype=float), np.asarray(length, dtype=float)


def positions_along_route(lat_deg, lon_deg, s_m):
    """Positions and track azimuths at along-track distances on a geodesic polyline.

    Parameters
    ----------
    lat_deg, lon_deg : array_like, shape (n,)
        Waypoints.
    s_m : array_like
        Along-track distances from the first waypoint [m], any shape; values
        are clipped to [0, route length].

    Returns
    -------
    lat_deg, lon_deg, track_deg : ndarray, shape of ``s_m``
        Position and forward azimuth of the track (degrees from north).
    """
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    az, length = leg_geometry(lat, lon)
    start = np.concatenate([[0.0], np.cumsum(length)])
    s = np.clip(np.asarray(s_m, dtype=float), 0.0, start[-1])
    leg = np.clip(np.searchsorted(start, s, side="right") - 1, 0, len(length) - 1)
    flat_leg = leg.ravel()
    lon_out, lat_out, back_az = WGS84.fwd(
        lon[:-1][flat_leg], lat[:-1][flat_leg], az[flat_leg], (s - start[leg]).ravel()
    )
    track = (np.asarray(back_az) + 180.0) % 360.0
    shape = s.shape
    return (
        np.asarray(lat_out, dtype=float).reshape(shape),
        np.asarray(lon_out, dtype=float).reshape(shape),
        track.reshape(shape),
    )
