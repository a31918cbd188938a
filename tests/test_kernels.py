"""Fast kernels against slow references (plain loops, pyproj, ODE integration)."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from geo.earth import azimuth_deg, ground_distance_m, slant_range_m
from geo.geodesy import WGS84
from sim.aircraft import profile_at, vertical_profile
from sim.detection import m_of_n_track, prepare_radar, radar_geometry
from sim.flights import pack_routes, positions_at, to_lat_lon
from sim.routes import build_route
from sim.scenario import AIRCRAFT_MODELS, load_scenario
from conftest import SCENARIOS


def _loop_m_of_n(hits, m, n):
    tracked, first = [], []
    for row in hits:
        f = -1
        for k in range(len(row)):
            if sum(row[max(0, k - n + 1):k + 1]) >= m:
                f = k
                break
        tracked.append(f >= 0)
        first.append(f)
    return np.array(tracked), np.array(first)


@pytest.mark.parametrize("m,n", [(1, 1), (2, 3), (3, 5), (4, 4), (2, 10)])
def test_m_of_n_against_plain_loop(m, n):
    rng = np.random.default_rng(m * 10 + n)
    hits = rng.random((300, 40)) < 0.3
    t, f, held = m_of_n_track(hits, m, n)
    t2, f2 = _loop_m_of_n(hits, m, n)
    assert np.array_equal(t, t2) and np.array_equal(f, f2)
    for i in range(0, 300, 37):   # held: m of the last n scans, scan by scan
        ref = [sum(hits[i, max(0, k - n + 1):k + 1]) >= m for k in range(hits.shape[1])]
        assert np.array_equal(held[i], ref)


def _profile_kwargs():
    a = dict(AIRCRAFT_MODELS["Il-76TD"])
    for k in ("rcs_m2", "transponder_on_probability", "cruise_altitude_m", "terrain_climb_gradient",
              "terrain_descent_gradient", "range_m", "low_level_speed_mps", "fuel"):
        a.pop(k)
    return a


def test_climb_closed_form_against_ode_integration():
    # dh/dt = r0 + (r1 - r0) h / hc integrated numerically (RK45, rtol 1e-10)
    kw = _profile_kwargs()
    p = vertical_profile(1.4e6, 1200.0, 600.0, 10_100.0, **kw)
    r0, r1, hc = kw["climb_rate_sea_level_mps"], kw["climb_rate_top_mps"], 10_100.0
    sol = solve_ivp(lambda t, h: r0 + (r1 - r0) * h / hc, (0, p.climb_s), [1200.0],
                    dense_output=True, rtol=1e-10, atol=1e-6)
    t = np.linspace(0, p.climb_s, 50)
    _, alt = profile_at(p, t)
    assert np.allclose(alt, sol.sol(t)[0], atol=0.01)
    assert sol.sol(p.climb_s)[0] == pytest.approx(hc, abs=0.01)


def test_profile_ends_at_destination_and_short_route_lowers_cruise():
    kw = _profile_kwargs()
    p = vertical_profile(1.38e6, 1207.0, 615.0, 10_100.0, **kw)
    s, alt = profile_at(p, p.duration_s)
    assert s == pytest.approx(1.38e6) and alt == pytest.approx(615.0)
    q = vertical_profile(80e3, 1207.0, 615.0, 10_100.0, **kw)
    assert q.h_cruise_m < 10_100.0 and q.cruise_s == pytest.approx(0.0, abs=1e-3)
    s, _ = profile_at(q, q.duration_s)
    assert s == pytest.approx(80e3, rel=1e-6)


def test_positions_at_against_pyproj_offsets():
    # slow reference: pyproj Geod.fwd from the nominal point, perpendicular to the track
    sc = load_scenario(SCENARIOS / "iraq_2012_baseline.toml")
    routes = [build_route(r, sc.aircraft) for r in sc.routes]
    packed = pack_routes(routes)
    rng = np.random.default_rng(11)
    F = 40
    ri = rng.integers(0, len(routes), F)
    off = rng.normal(0, 10_000, F)
    t = rng.uniform(0, 6000, (F, 3))
    xyz, alt, airborne = positions_at(packed, ri, off, t)
    lat, lon = to_lat_lon(xyz)
    for f in range(F):
        r = routes[ri[f]]
        for k in range(3):
            if not airborne[f, k]:
                continue
            la = np.interp(t[f, k], r.t_s, r.lat_deg)
            lo = np.interp(t[f, k], r.t_s, r.lon_deg)
            tr = np.interp(t[f, k], r.t_s, np.unwrap(r.track_deg, period=360))
            lo2, la2, _ = WGS84.fwd(lo, la, tr + 90.0, off[f])
            _, _, err = WGS84.inv(lon[f, k], lat[f, k], lo2, la2)
            # sphere-vs-ellipsoid offset and interpolation: within 0.5 % of the offset + 2 m
            assert err <= 0.005 * abs(off[f]) + 2.0
            assert alt[f, k] == pytest.approx(np.interp(t[f, k], r.t_s, r.alt_m), abs=1e-6)


def test_radar_geometry_against_spherical_formulas():
    sc = load_scenario(SCENARIOS / "iraq_2012_baseline.toml")
    radar = prepare_radar(sc.radars[0], 40.0, 4 / 3)
    rng = np.random.default_rng(2)
    lat, lon = rng.uniform(30, 37, 200), rng.uniform(40, 48, 200)
    alt = rng.uniform(0, 12_000, 200)
    from geo.earth import unit_vectors
    g, s, az = radar_geometry(radar, unit_vectors(lat, lon), alt)
    assert np.allclose(g, ground_distance_m(radar.lat_deg, radar.lon_deg, lat, lon), rtol=1e-9, atol=1e-3)
    assert np.allclose(s, slant_range_m(g, radar.antenna_alt_m, alt), rtol=1e-9, atol=1e-3)
    assert np.allclose(((az - azimuth_deg(radar.lat_deg, radar.lon_deg, lat, lon) + 180) % 360) - 180, 0, atol=1e-7)
