"""The spherical Earth of the line-of-sight model, vectorized.

Line of sight, radar horizons and radar-to-target geometry use a sphere of
radius 6371 km (scaled by the refraction factor k for line of sight). Route
legs, by contrast, are WGS84 geodesics (see :mod:`geo.geodesy`); the
difference between the two for a radar-to-target distance is under 0.5 %.
All functions broadcast like numpy ufuncs.
"""
import numpy as np

__all__ = [
    "EARTH_RADIUS_M",
    "unit_vectors",
    "ground_distance_m",
    "azimuth_deg",
    "horizon_distance_m",
    "slant_range_m",
    "destination_deg",
]

#: Mean Earth radius of the line-of-sight model [m] (scenario spec).
EARTH_RADIUS_M = 6_371_000.0


def unit_vectors(lat_deg, lon_deg):
    """Earth-centred unit vectors of points, shape ``(..., 3)``."""
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    cl = np.cos(lat)
    return np.stack(np.broadcast_arrays(cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)), axis=-1)


def ground_distance_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg, radius_m=EARTH_RADIUS_M):
    """Great-circle distance on the sphere [m] (haversine, accurate at all ranges).

    References
    ----------
    R. W. Sinnott, "Virtues of the Haversine", Sky and Telescope 68(2), 159 (1984).
    """
    p1, p2 = np.radians(lat1_deg), np.radians(lat2_deg)
    dl = np.radians(np.subtract(lon2_deg, lon1_deg))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * radius_m * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def azimuth_deg(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360)."""
    p1, p2 = np.radians(lat1_deg), np.radians(lat2_deg)
    dl = np.radians(np.subtract(lon2_deg, lon1_deg))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360.0


def horizon_distance_m(h_radar_m, h_target_m, refraction_k, radius_m=EARTH_RADIUS_M):
    """Maximum ground distance for line of sight over a smooth effective Earth [m].

    ``d = sqrt(2 k R h_r) + sqrt(2 k R h_t)``, heights above mean sea level
    (negative heights count as 0).

    References
    ----------
    M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill 2001,
    sec. 8.2 (4/3 effective Earth radius).
    """
    kr2 = 2.0 * refraction_k * radius_m
    return np.sqrt(kr2 * np.maximum(h_radar_m, 0.0)) + np.sqrt(kr2 * np.maximum(h_target_m, 0.0))


def slant_range_m(ground_distance_m, h1_m, h2_m, radius_m=EARTH_RADIUS_M):
    """Straight-line distance between two points given ground distance and heights [m].

    Law of cosines on the true sphere (refraction bends the ray, but changes
    its length by far less than a range bin).
    """
    r1 = radius_m + np.asarray(h1_m, dtype=float)
    r2 = radius_m + np.asarray(h2_m, dtype=float)
    phi = np.asarray(ground_distance_m, dtype=float) / radius_m
    # r1^2 + r2^2 - 2 r1 r2 cos(phi) written to stay accurate when phi is small
    return np.sqrt((r1 - r2) ** 2 + 4.0 * r1 * r2 * np.sin(phi / 2.0) ** 2)


def destination_deg(lat_deg, lon_deg, azimuth_deg, distance_m, radius_m=EARTH_RADIUS_M):
    """Point reached along a great circle on the sphere (direct problem).

    Parameters
    ----------
    lat_deg, lon_deg : array_like
        Start point [deg].
    azimuth_deg : array_like
        Initial bearing, clockwise from north [deg].
    distance_m : array_like
        Great-circle distance [m] on a sphere of radius ``radius_m`` [m].

    Returns
    -------
    lat_deg, lon_deg : ndarray
        End point [deg], broadcast shape of the inputs; longitude in [-180, 180).

    References
    ----------
    E. Williams, *Aviation Formulary* v1.47, "Lat/lon given radial and distance".
    """
    p1 = np.radians(lat_deg)
    a = np.radians(azimuth_deg)
    d = np.asarray(distance_m, dtype=float) / radius_m
    sp1, cp1 = np.sin(p1), np.cos(p1)
    sd, cd = np.sin(d), np.cos(d)
    sp2 = np.clip(sp1 * cd + cp1 * sd * np.cos(a), -1.0, 1.0)
    p2 = np.arcsin(sp2)
    dl = np.arctan2(np.sin(a) * sd * cp1, cd - sp1 * sp2)
    lon2 = (np.asarray(lon_deg, dtype=float) + np.degrees(dl) + 180.0) % 360.0 - 180.0
    return np.degrees(p2), lon2
