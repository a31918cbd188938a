"""Geodesy and Earth geometry against pyproj.Geod and closed forms."""
import numpy as np
import pytest

from geo.earth import azimuth_deg, ground_distance_m, horizon_distance_m, slant_range_m, unit_vectors
from geo.geodesy import WGS84, leg_geometry, positions_along_route
from geo.airports import load_airports


def test_horizon_4_3_earth_closed_form_430_6_km():
    # open-sources.md: 20 m antenna, 10 km target, k = 4/3, R = 6371 km -> 430.6 km (+-0.05 km)
    d = horizon_distance_m(20.0, 10_000.0, 4.0 / 3.0)
    assert d / 1000 == pytest.approx(430.6, abs=0.05)
    # broadcasting: shape from inputs
    assert horizon_distance_m(np.array([20.0, 30.0]), 10_000.0, 4 / 3).shape == (2,)


def test_positions_along_route_lie_on_pyproj_geodesics():
    # every sampled point must be at the right geodesic distance from its leg start and
    # on the leg (dist(start, p) + dist(p, end) = leg length); tolerance 1 m per 1000 km
    rng = np.random.default_rng(7)
    lat = rng.uniform(29, 38, 5)
    lon = rng.uniform(36, 52, 5)
    _, legs = leg_geometry(lat, lon)
    start = np.concatenate([[0], np.cumsum(legs)])
    s = rng.uniform(0, start[-1], 500)
    plat, plon, _ = positions_along_route(lat, lon, s)
    leg = np.searchsorted(start, s, side="right") - 1
    _, _, d0 = WGS84.inv(lon[leg], lat[leg], plon, plat)
    _, _, d1 = WGS84.inv(plon, plat, lon[leg + 1], lat[leg + 1])
    tol = 1.0 * legs[leg] / 1e6
    assert np.all(np.abs(d0 - (s - start[leg])) <= tol)
    assert np.all(np.abs(d0 + d1 - legs[leg]) <= tol)


def test_track_azimuth_matches_pyproj_forward_azimuth():
    lat, lon = [35.6892, 33.4115], [51.3134, 36.5156]
    s = np.linspace(1e3, 1.37e6, 50)
    plat, plon, track = positions_along_route(lat, lon, s)
    az, _, _ = WGS84.inv(plon, plat, np.full(50, lon[1]), np.full(50, lat[1]))
    assert np.allclose(((track - az + 180) % 360) - 180, 0, atol=1e-6)


def test_tehran_damascus_great_circle_1377_km():
    # open-sources.md: great circle OIII -> OSDI about 1,377 km (sphere); WGS84 geodesic
    # differs by < 0.5 %
    a = load_airports()
    d_sphere = ground_distance_m(a["OIII"].lat_deg, a["OIII"].lon_deg, a["OSDI"].lat_deg, a["OSDI"].lon_deg)
    assert d_sphere / 1000 == pytest.approx(1377, abs=1.0)
    _, length = leg_geometry([a["OIII"].lat_deg, a["OSDI"].lat_deg], [a["OIII"].lon_deg, a["OSDI"].lon_deg])
    assert length[0] / d_sphere == pytest.approx(1.0, abs=0.005)


def test_sphere_distance_and_azimuth_against_pyproj_sphere():
    # pyproj Geod on a sphere of radius 6371 km is an independent implementation
    sphere = __import__("pyproj").Geod(a=6_371_000.0, b=6_371_000.0)
    rng = np.random.default_rng(3)
    lat1, lon1, lat2, lon2 = rng.uniform(28, 40, 4 * 300).reshape(4, 300)
    lon1, lon2 = lon1 + 10, lon2 + 12
    az, _, d = sphere.inv(lon1, lat1, lon2, lat2)
    assert np.allclose(ground_distance_m(lat1, lon1, lat2, lon2), d, rtol=1e-9, atol=1e-3)
    assert np.allclose(((azimuth_deg(lat1, lon1, lat2, lon2) - az + 180) % 360) - 180, 0, atol=1e-7)


def test_slant_range_against_cartesian_brute_force():
    rng = np.random.default_rng(5)
    R = 6_371_000.0
    for _ in range(200):
        lat1, lat2 = rng.uniform(28, 40, 2)
        lon1, lon2 = rng.uniform(35, 50, 2)
        h1, h2 = rng.uniform(0, 12_000, 2)
        p1 = (R + h1) * unit_vectors(lat1, lon1)
        p2 = (R + h2) * unit_vectors(lat2, lon2)
        d = ground_distance_m(lat1, lon1, lat2, lon2)
        assert slant_range_m(d, h1, h2) == pytest.approx(np.linalg.norm(p1 - p2), rel=1e-9, abs=1e-3)
