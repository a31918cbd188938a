"""Terrain following per flight: every flight over its own ground, within the aircraft's gradients.

References: the GLOBE ground (geo.terrain.elevation_m, bilinear) under each flight's own position;
a hand computation for a synthetic ridge; the gradients of the Il-76TD profile. Tolerance: the
profile's floor is the highest of the four interpolation corners of the cells around each row and
sample and their neighbours, so the interpolated ground never rises above it between samples: no
deficit larger than rounding (TOL_M) is allowed.
"""
import numpy as np
import pytest

from conftest import SCENARIOS
from geo.terrain import Terrain, elevation_m
from sim.aircraft import terrain_following_profile
from sim.flights import OFFSET_CLIP_SIGMA, positions_at, to_lat_lon
from sim.montecarlo import prepare
from sim.pipeline import load
from sim.routes import build_route
from sim.scenario import parse_scenario

TOL_M = 0.01
TF_SCENARIOS = [p.name for p in sorted(SCENARIOS.glob("*.toml"))
                if any(r.cruise_altitude_agl_m is not None for r in load(p).routes)
                or load(p).aircraft.cruise_altitude_agl_m is not None]


def test_there_is_a_terrain_following_scenario():
    assert "iraq_2012_low_level.toml" in TF_SCENARIOS


@pytest.mark.parametrize("name", TF_SCENARIOS)
def test_no_flight_below_its_own_ground_plus_clearance(name):
    sc = load(SCENARIOS / name)
    sim = prepare(sc, with_fences=False)
    for i, r in enumerate(sim.routes):
        if r.agl_profile_m is None:
            continue
        half = OFFSET_CLIP_SIGMA * r.cross_track_sigma_m
        offs = np.clip(np.linspace(-half, half, 41) + 37.0, -half, half)    # also between the rows
        t = np.broadcast_to(np.arange(0.0, r.duration_s, 2.5), (len(offs), int(np.ceil(r.duration_s / 2.5))))
        xyz, alt, _ = positions_at(sim.packed, np.full(len(offs), i), offs, t)
        lat, lon = to_lat_lon(xyz)
        need = elevation_m(sim.terrain, lat, lon) + np.interp(t, r.t_s, r.agl_profile_m)
        assert (alt - need).min() >= -TOL_M, (r.name, (alt - need).min())
        # and it follows: in cruise, most samples within 150 m of the stated clearance
        cruise = np.interp(t, r.t_s, r.agl_profile_m) >= r.cruise_agl_m - 1e-6
        assert np.median((alt - need)[cruise]) < 150.0


@pytest.mark.parametrize("name", TF_SCENARIOS)
def test_profile_gradients_stay_within_the_aircraft_limits(name):
    sc = load(SCENARIOS / name)
    sim = prepare(sc, with_fences=False)
    climb, descent = sc.aircraft.terrain_climb_gradient, sc.aircraft.terrain_descent_gradient
    # Il-76TD profile: 1,800 ft/min at 550 km/h, 1,500 ft/min at 600 km/h (assumptions, scenarios/README.md)
    assert climb == pytest.approx(9.144 / 152.78, rel=1e-3) and descent == pytest.approx(7.62 / 166.67, rel=1e-3)
    for r in sim.routes:
        if r.alt_rows_m is None:
            continue
        cruise = r.agl_profile_m >= r.cruise_agl_m - 1e-6        # between top of climb and top of descent
        both = cruise[1:] & cruise[:-1]
        slope = np.diff(r.alt_rows_m, axis=1) / np.diff(r.s_m)
        assert slope[:, both].max() <= climb + 1e-9
        assert slope[:, both].min() >= -descent - 1e-9


def test_flat_ground_keeps_the_stated_clearance_at_offset_zero():
    # a flat plain (500 m) and a route of {lat, lon} points: the profile is ground + clearance exactly
    ter = Terrain(np.full((120, 240), 500, dtype=np.int16), lat_max_deg=36.0, lon_min_deg=42.0, cell_deg=0.025)
    sc = parse_scenario({"scenario": {"name": "flat", "title": "flat"}, "run": {"campaigns": 1, "flights": 1, "seed": 1},
                         "aircraft": {"cruise_altitude_agl_m": 300.0},
                         "route": [{"name": "r", "waypoints": [{"lat": 34.0, "lon": 43.0}, {"lat": 34.0, "lon": 46.0}],
                                    "cross_track_sigma_km": 5.0}]})
    r = build_route(sc.routes[0], sc.aircraft, terrain=ter)
    assert np.allclose(r.alt_m, 800.0) and np.allclose(r.alt_rows_m, 800.0)
    assert r.clearance_min_m == pytest.approx(300.0) and r.clearance_mean_m == pytest.approx(300.0)


def test_synthetic_ridge_crossed_with_clearance_and_an_early_climb():
    # flat ground at 0 m with a north-south ridge 1,000 m high along one column of cells at 44.5E;
    # the route flies east along 34N at 300 m above ground. Hand computation: the profile reaches
    # 1,000 + 300 m over the ridge and must start climbing 1,000 m / climb gradient before the
    # ridge's first cell influence (with the floor's one-cell guard band), descending after it at the
    # descent gradient.
    cell = 0.025
    z = np.zeros((120, 240), dtype=np.int16)
    col = int(round((44.5 - 42.0) / cell))
    z[:, col] = 1000
    ter = Terrain(z, lat_max_deg=36.0, lon_min_deg=42.0, cell_deg=cell)
    sc = parse_scenario({"scenario": {"name": "ridge", "title": "ridge"}, "run": {"campaigns": 1, "flights": 1, "seed": 1},
                         "aircraft": {"cruise_altitude_agl_m": 300.0, "terrain_climb_gradient": 0.05,
                                      "terrain_descent_gradient": 0.04},
                         "route": [{"name": "r", "waypoints": [{"lat": 34.0, "lon": 43.0}, {"lat": 34.0, "lon": 46.0}]}]})
    r = build_route(sc.routes[0], sc.aircraft, terrain=ter)
    top = r.alt_m.max()
    assert top == pytest.approx(1300.0)
    # where the floor first feels the ridge: the first sample whose interpolation cells (or their
    # neighbours') include the ridge column
    over = r.s_m[r.alt_m >= top - 1e-6]
    s_first, s_last = over.min(), over.max()
    climb_start = r.s_m[np.argmax(r.alt_m > 300.0 + 1e-6)]
    descent_end = r.s_m[len(r.s_m) - 1 - np.argmax(r.alt_m[::-1] > 300.0 + 1e-6)]
    assert s_first - climb_start == pytest.approx(1000.0 / 0.05, abs=250.0)      # 20 km of climb at 5%
    assert descent_end - s_last == pytest.approx(1000.0 / 0.04, abs=250.0)      # 25 km of descent at 4%
    assert float(elevation_m(ter, 34.0, 44.5 + cell / 2)) == pytest.approx(1000.0)   # the ridge column


def test_envelope_against_a_brute_force_max_over_cones():
    rng = np.random.default_rng(5)
    s = np.cumsum(rng.uniform(100, 300, 400))
    f = rng.uniform(0, 2000, (3, 400))
    got = terrain_following_profile(s, f, 0.06, 0.045)
    ref = np.empty_like(f)
    for k in range(400):   # plain loop: max over every obstacle's cone
        ahead = f[:, k:] - 0.06 * (s[k:] - s[k])
        behind = f[:, :k + 1] - 0.045 * (s[k] - s[:k + 1])
        ref[:, k] = np.maximum(ahead.max(axis=1), behind.max(axis=1))
    assert np.allclose(got, ref)


def test_neighbour_max_against_a_plain_loop():
    from geo.terrain import neighbour_max
    rng = np.random.default_rng(8)
    a = rng.normal(size=(13, 17))
    ref = np.empty_like(a)
    for i in range(13):
        for j in range(17):
            ref[i, j] = a[max(i - 1, 0):i + 2, max(j - 1, 0):j + 2].max()
    assert np.array_equal(neighbour_max(a), ref)
