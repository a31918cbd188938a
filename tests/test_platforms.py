"""Radar platforms: fixed sites and orbits that fly, against independent computations.

References: pyproj.Geod (WGS84 geodesics) for the orbit's positions, closed
forms (period = loop length / speed), a brute-force loop over orbit phases
and scans for detection by a moving radar, and ``line_of_sight_brute`` (a
per-point loop) for terrain along an airborne radar's rays.
"""
import math

import numpy as np
import pytest

from conftest import SCENARIOS, read_summary
from geo.earth import EARTH_RADIUS_M, horizon_distance_m, unit_vectors
from geo.geodesy import WGS84
from geo.terrain import load_terrain, lowest_ray_alt_m, ray_clears_terrain
from reference import line_of_sight_brute
from sim.flights import to_lat_lon
from sim.montecarlo import prepare, run
from sim.platforms import flying_orbit
from sim.scenario import parse_scenario

K = 4.0 / 3.0


def _scenario(radar, campaigns=300, flights=10, seed=7, terrain=False):
    """A level east-west route along 33N from 44E to 46E at 10,000 m, 720 km/h, and one radar."""
    return parse_scenario({
        "scenario": {"name": "platform", "title": "platform test"},
        "run": {"campaigns": campaigns, "flights": flights, "seed": seed},
        "aircraft": {"cruise_altitude_m": 10_000.0, "cruise_speed_kmh": 720.0, "transponder_on_probability": 1.0},
        "route": [{"name": "east", "waypoints": [{"lat": 33.0, "lon": 44.0}, {"lat": 33.0, "lon": 46.0}]}],
        "radar": [{"name": "R", "kind": "primary", "scan_period_s": 10.0, "availability": 1.0, "pd": 1.0, **radar}],
        "detection": {"track_m": 1, "track_n": 1, "terrain": terrain},
    })


def _p_detect(sc):
    res = run(prepare(sc, with_fences=False))
    return float(res.detected.mean()), len(res.detected)


# --- the orbit itself ---------------------------------------------------------------------------
def test_orbit_period_and_positions_against_pyproj():
    lat, lon = (33.0, 34.5), (40.5, 41.5)
    speed = 600 / 3.6
    orbit = flying_orbit(lat, lon, 9000.0, speed)
    _, _, leg = WGS84.inv(lon[0], lat[0], lon[1], lat[1])
    assert orbit.period_s == pytest.approx(2 * leg / speed, rel=1e-12)      # out and back
    # at time t from phase 0 the platform is s = v t along the loop (pyproj forward geodesic)
    az01, az10, _ = WGS84.inv(lon[0], lat[0], lon[1], lat[1])
    t = np.linspace(0.0, orbit.period_s, 97)
    s = speed * t
    out = s <= leg
    lo1, la1, _ = WGS84.fwd(np.full(t.shape, lon[0]), np.full(t.shape, lat[0]), np.full(t.shape, az01), s)
    lo2, la2, _ = WGS84.fwd(np.full(t.shape, lon[1]), np.full(t.shape, lat[1]), np.full(t.shape, az10), s - leg)
    ref_lat, ref_lon = np.where(out, la1, la2), np.where(out, lo1, lo2)
    xyz, alt = orbit.position(t, 0.0)
    plat, plon = to_lat_lon(xyz)
    err_m = EARTH_RADIUS_M * np.linalg.norm(xyz - unit_vectors(ref_lat, ref_lon), axis=-1)
    assert alt == 9000.0
    assert err_m.max() < 5.0, err_m.max()          # 1-s grid interpolated (about 167 m apart)
    # the phase shifts the loop: phase u at t is phase 0 at t + u P
    a, _ = orbit.position(100.0, 0.25)
    b, _ = orbit.position(100.0 + 0.25 * orbit.period_s, 0.0)
    assert np.allclose(a, b, atol=1e-9)


def test_one_waypoint_orbit_holds_its_point():
    orbit = flying_orbit([33.0], [45.0], 8000.0, 150.0)
    xyz, alt = orbit.position(np.array([0.0, 10.0, 1e5]), np.array([0.0, 0.3, 0.9]))
    assert orbit.period_s == 0.0 and alt == 8000.0
    assert np.allclose(xyz, unit_vectors(33.0, 45.0))


# --- detection by a moving radar ----------------------------------------------------------------
def test_orbit_beyond_range_plus_horizon_detects_nothing():
    # every point of the loop (34.5-35.5N) is more than 160 km from the route along 33N, while
    # range 80 km + the horizon of 9,000 m over 10,000 m targets (about 800 km) is far more: the
    # instrumented range decides; and no scan window opens at all
    sc = _scenario({"orbit": {"waypoints": [{"lat": 34.5, "lon": 45.0}, {"lat": 35.5, "lon": 45.0}],
                              "altitude_m": 9000.0, "speed_kmh": 600.0}, "range_km": 80.0})
    sim = prepare(sc, with_fences=False)
    assert sim.scan_count.sum() == 0
    p, _ = _p_detect(sc)
    assert p == 0.0


def test_one_waypoint_orbit_equals_a_fixed_radar_at_that_point_and_altitude():
    # a radar 25 km north of the route at 3,000 m AMSL, per-scan Pd 0.05, availability 0.8
    common = {"range_km": 60.0, "pd": 0.05, "availability": 0.8}
    fixed = _scenario({"lat": 33.225, "lon": 45.0, "elevation_m": 0.0, "antenna_height_m": 3000.0, **common})
    held = _scenario({"orbit": {"waypoints": [{"lat": 33.225, "lon": 45.0}], "altitude_m": 3000.0,
                                "speed_kmh": 600.0}, **common})
    p1, n = _p_detect(fixed)
    p2, _ = _p_detect(held)
    assert 0.2 < p1 < 0.9
    assert abs(p1 - p2) <= 3 * math.sqrt(2 * p1 * (1 - p1) / n), (p1, p2)


def _brute_fraction(speed_kmh, range_m, n_phase=120, n_scan_phase=8):
    """Fraction of (orbit phase, scan phase) pairs at which some scan sees the flight (a plain loop).

    The flight flies the geodesic 33N 44E -> 33N 46E at 200 m/s and 10,000 m from t = 0; the orbit
    flies out and back between 32.6N 45E and 33.4N 45E at 9,000 m; positions from pyproj; slant
    range by the chord between points at their altitudes on the sphere.
    """
    speed = speed_kmh / 3.6
    az_f, _, length_f = WGS84.inv(44.0, 33.0, 46.0, 33.0)
    az01, az10, leg = WGS84.inv(45.0, 32.6, 45.0, 33.4)
    period = 2 * leg / speed
    scan = 10.0
    hits = 0
    for u in (np.arange(n_phase) + 0.5) / n_phase:
        for v in (np.arange(n_scan_phase) + 0.5) / n_scan_phase:
            t = (v + np.arange(int(length_f / 200.0 / scan) + 2)) * scan
            t = t[t <= length_f / 200.0]
            flon, flat, _ = WGS84.fwd(np.full(t.shape, 44.0), np.full(t.shape, 33.0), np.full(t.shape, az_f), 200.0 * t)
            s = np.mod(u * period + t, period) * speed
            out = s <= leg
            olon1, olat1, _ = WGS84.fwd(np.full(t.shape, 45.0), np.full(t.shape, 32.6), np.full(t.shape, az01), s)
            olon2, olat2, _ = WGS84.fwd(np.full(t.shape, 45.0), np.full(t.shape, 33.4), np.full(t.shape, az10), s - leg)
            olat, olon = np.where(out, olat1, olat2), np.where(out, olon1, olon2)
            a = (EARTH_RADIUS_M + 10_000.0) * unit_vectors(flat, flon)
            b = (EARTH_RADIUS_M + 9_000.0) * unit_vectors(olat, olon)
            hits += bool(np.any(np.linalg.norm(a - b, axis=-1) <= range_m))
    return hits / (n_phase * n_scan_phase)


def test_racetrack_across_the_route_against_brute_force_and_speed():
    # the racetrack crosses the route at 45E; range 25 km: a flight is seen only if the platform is
    # near the crossing when the flight passes, so the fraction depends on the orbit's speed
    results = {}
    for speed in (150.0, 600.0):
        sc = _scenario({"orbit": {"waypoints": [{"lat": 32.6, "lon": 45.0}, {"lat": 33.4, "lon": 45.0}],
                                  "altitude_m": 9000.0, "speed_kmh": speed}, "range_km": 25.0},
                       campaigns=200, flights=10)
        p, n = _p_detect(sc)
        ref = _brute_fraction(speed, 25_000.0)
        # sampling error of the Monte Carlo (4 sigma) plus the brute grid's resolution (0.02)
        assert abs(p - ref) <= 4 * math.sqrt(ref * (1 - ref) / n) + 0.02, (speed, p, ref)
        results[speed] = (p, ref)
    # a faster platform sweeps more of its loop while the flight passes: seen more often, as the
    # independent computation says
    assert results[600.0][1] > results[150.0][1] + 0.1
    assert results[600.0][0] > results[150.0][0] + 0.1


# --- terrain along an airborne radar's rays -----------------------------------------------------
@pytest.fixture(scope="module")
def dem():
    return load_terrain()


def test_lowest_ray_altitude_against_sampled_ray():
    # closed form vs the ray sampled finely: r(psi) = r1 r2 sin(Psi) / (r2 sin(Psi - psi) + r1 sin(psi))
    rng = np.random.default_rng(3)
    re_m = K * EARTH_RADIUS_M
    for _ in range(200):
        d = rng.uniform(1e3, 500e3)
        h1, h2 = rng.uniform(0, 12e3, 2)
        big = d / re_m
        psi = np.linspace(0, big, 20001)
        r = (re_m + h1) * (re_m + h2) * np.sin(big) / ((re_m + h2) * np.sin(big - psi) + (re_m + h1) * np.sin(psi))
        assert lowest_ray_alt_m(d, h1, h2, K) == pytest.approx(r.min() - re_m, abs=0.5)


def test_airborne_rays_against_brute_force_over_the_zagros(dem):
    # an AEW platform at 9,000 m over the Iraqi plain looking at low targets in the Zagros foothills
    rng = np.random.default_rng(11)
    n = 300
    lat0, lon0, h0 = 34.0, 44.0, 9000.0
    lat = rng.uniform(34.0, 36.5, n)
    lon = rng.uniform(45.0, 47.5, n)
    alt = rng.uniform(200.0, 3500.0, n)
    fast = ray_clears_terrain(dem, np.tile(unit_vectors(lat0, lon0), (n, 1)), h0, unit_vectors(lat, lon), alt, K,
                              step_m=100.0)
    slow = np.array([line_of_sight_brute(dem, lat0, lon0, h0, lat[i], lon[i], alt[i], K) for i in range(n)])
    assert 0.1 < slow.mean() < 0.9            # both outcomes occur
    assert np.mean(fast == slow) >= 0.98, np.mean(fast == slow)


def test_high_rays_clear_without_sampling(dem):
    # above the highest GLOBE cell of the clip (Damavand, about 5,300 m in the 30" grid) nothing masks
    top = float(np.max(dem.elevation_m))
    assert 5000 < top < 5700
    a = np.tile(unit_vectors(33.0, 41.0), (3, 1))
    b = unit_vectors(np.array([33.5, 34.0, 34.5]), np.array([43.0, 45.0, 44.0]))   # within 400 km
    assert ray_clears_terrain(dem, a, 12_000.0, b, 12_000.0, K, step_m=1e9).all()   # no sample could help


# --- the shipped airborne scenario ----------------------------------------------------------------
def test_aew_scenario_flies_its_orbit(run_cli, tmp_path):
    code, out, err = run_cli("run", SCENARIOS / "iraq_2012_aew_orbit.toml", "--campaigns", 20,
                             "--set", "detection.terrain=false", "--out", tmp_path / "o", "-q")
    assert code == 0, err
    s = read_summary(tmp_path / "o")
    plat = s["radars"]["AEW orbit"]["platform"]
    assert plat["type"] == "orbit" and plat["period_min"] > 10
    assert s["radars"]["AEW orbit"]["p_detect"] > 0.5
    import json
    feats = json.loads((tmp_path / "o" / "routes.geojson").read_text())["features"]
    aew = [f for f in feats if f["properties"].get("name") == "AEW orbit"][0]
    assert aew["geometry"]["type"] == "LineString" and aew["properties"]["platform"] == "orbit"
    assert horizon_distance_m(9000.0, 10_000.0, K) > 700e3   # why its reach is the instrumented range
