"""Slow reference implementations used only by the tests.

Importable as ``reference`` (``pythonpath = ["tests"]`` in pyproject.toml).
These are deliberately plain loops, kept out of the production packages; the
fast paths in ``geo`` / ``sim`` are checked against them.
"""
import math

import numpy as np

from geo.earth import EARTH_RADIUS_M, azimuth_deg, ground_distance_m
from geo.terrain import elevation_m

__all__ = ["line_of_sight_brute"]


def line_of_sight_brute(
    terrain,
    radar_lat_deg,
    radar_lon_deg,
    antenna_alt_m,
    target_lat_deg,
    target_lon_deg,
    target_alt_m,
    refraction_k,
    step_m=100.0,
):
    """Slow reference: does the straight ray on the effective Earth clear the terrain?

    Parameters
    ----------
    terrain : Terrain
    radar_lat_deg, radar_lon_deg : float
        Radar site [deg].
    antenna_alt_m : float
        Antenna height above mean sea level [m].
    target_lat_deg, target_lon_deg : float
        Target position [deg].
    target_alt_m : float
        Target altitude above mean sea level [m].
    refraction_k : float
        Effective-Earth-radius factor [-].
    step_m : float, default 100
        Spacing of the checked points along the path [m].

    Returns
    -------
    bool
        True when at every checked point along the great-circle path (the
        target's own position included) the ray is at or above the terrain.

    Notes
    -----
    A plain Python loop, used only to test :func:`masking_table`. On the
    effective-Earth sphere (radius ``Re = k R``) the ray from the antenna
    (radius ``r1 = Re + h_r``, central angle 0) to the target
    (``r2 = Re + h_t``, angle ``Psi = D / Re``) is a straight line; in polar
    coordinates its radius at angle ``psi`` is

        r(psi) = r1 r2 sin(Psi) / (r2 sin(Psi - psi) + r1 sin(psi)).

    The terrain includes sea level (0 m), so where the terrain is at or below
    0 m the test is the smooth effective-Earth one. Terrain elevations come
    from :func:`elevation_m` (tested separately against a per-point loop).
    """
    d = float(ground_distance_m(radar_lat_deg, radar_lon_deg, target_lat_deg, target_lon_deg))
    re_m = refraction_k * EARTH_RADIUS_M
    h_t = float(target_alt_m)
    if d == 0.0:
        return bool(h_t >= float(elevation_m(terrain, target_lat_deg, target_lon_deg)))
    az = math.radians(float(azimuth_deg(radar_lat_deg, radar_lon_deg, target_lat_deg, target_lon_deg)))
    r1 = re_m + float(antenna_alt_m)
    r2 = re_m + h_t
    big_psi = d / re_m
    p1 = math.radians(radar_lat_deg)
    n = max(1, math.ceil(d / step_m))
    lats, lons, ray_alt = [], [], []
    for i in range(1, n + 1):
        x = d * i / n
        delta = x / EARTH_RADIUS_M
        sp2 = math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(az)
        p2 = math.asin(max(-1.0, min(1.0, sp2)))
        dl = math.atan2(math.sin(az) * math.sin(delta) * math.cos(p1), math.cos(delta) - math.sin(p1) * sp2)
        lats.append(math.degrees(p2))
        lons.append(radar_lon_deg + math.degrees(dl))
        psi = x / re_m
        r = r1 * r2 * math.sin(big_psi) / (r2 * math.sin(big_psi - psi) + r1 * math.sin(psi))
        ray_alt.append(r - re_m)
    ray_alt[-1] = h_t  # the target itself (avoid rounding in r(Psi))
    z = elevation_m(terrain, np.array(lats), np.array(lons))
    for ray, ground in zip(ray_alt, z.tolist()):
        if ray < ground:
            return False
    return True
