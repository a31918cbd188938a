"""Could they be stopped: reaction windows, orders to land and intercepts against closed forms."""
import math

import numpy as np
import pytest

from conftest import SCENARIOS, read_summary
from geo.earth import EARTH_RADIUS_M
from geo.geodesy import WGS84
from sim.pipeline import load, simulate
from sim.response import INTERCEPT_TOLERANCE_S, OUTCOMES, bridge_gaps, coasted, time_to_land_s
from sim.results import summarize, wilson_interval
from sim.scenario import parse_scenario, read_toml, with_overrides

V_FLIGHT = 200.0          # 720 km/h
START_LON = 41.0          # the route: along 33N from 41.0E to 45.5E, inside Iraq


def _straight(response=None, interceptors=(), campaigns=20, flights=5, scan_s=2.0):
    """A level route along 33N from 41.0E to 45.5E inside Iraq at 10,000 m and 200 m/s, and a cookie-cutter
    radar (Pd 1, always up, 1-of-1) whose coverage holds the whole route."""
    doc = {
        "scenario": {"name": "respond", "title": "response test"},
        "run": {"campaigns": campaigns, "flights": flights, "seed": 4},
        "aircraft": {"cruise_altitude_m": 10_000.0, "cruise_speed_kmh": 720.0},
        "route": [{"name": "east", "waypoints": [{"lat": 33.0, "lon": START_LON}, {"lat": 33.0, "lon": 45.5}]}],
        "radar": [{"name": "R", "lat": 33.0, "lon": 43.25, "elevation_m": 0.0, "antenna_height_m": 20.0,
                   "kind": "primary", "range_km": 400.0, "scan_period_s": scan_s, "availability": 1.0, "pd": 1.0}],
        "detection": {"track_m": 1, "track_n": 1},
    }
    if response is not None:
        doc["response"] = response
    if interceptors:
        doc["interceptor"] = list(interceptors)
    return parse_scenario(doc)


def _along_m(lat, lon):
    """Distance along the route from its start [m] (WGS84, as the route itself)."""
    _, _, d = WGS84.inv(np.full(np.shape(lat), START_LON), np.full(np.shape(lat), 33.0), lon, lat)
    return np.asarray(d)


def test_analytic_intercept_from_the_closed_form():
    # base 120 km north of the route at 44.6E; decision at the first track (delay 0), airborne 5 min later,
    # 250 m/s. The flight is at s(t) = V t along the track; the base's foot is at x0 along it and D off it:
    # the earliest meeting solves D^2 + (x0 - V t)^2 = (v (t - t_ready))^2 (smallest root >= t_ready).
    lat_b = 33.0 + 120e3 / 110_900.0
    sc = _straight(response={"decision_delay_min": 0}, interceptors=[
        {"name": "I", "base": {"lat": lat_b, "lon": 44.6}, "ready_min": 5, "speed_kmh": 900}])
    sim, res = simulate(sc)
    assert res.interceptable.all()
    # the foot of the perpendicular from the base on the route's geodesic (dense pyproj samples; the
    # distance off the track on the simulator's sphere)
    az, _, length = WGS84.inv(START_LON, 33.0, 45.5, 33.0)
    s = np.arange(0.0, length, 10.0)
    lon, lat, _ = WGS84.fwd(np.full(s.shape, START_LON), np.full(s.shape, 33.0), np.full(s.shape, az), s)
    p1, l1, p2, l2 = map(np.radians, (lat, lon, lat_b, 44.6))
    off = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.sin((p2 - p1) / 2) ** 2
                                                 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2))
    x0, d = s[np.argmin(off)], off.min()
    v = 250.0
    t_in = res.first_detection_s                                 # the track formed inside Iraq at once
    t_ready = t_in + 300.0
    # quadratic a t^2 + b t + c = 0
    a = V_FLIGHT ** 2 - v ** 2
    b = -2 * x0 * V_FLIGHT + 2 * v ** 2 * t_ready
    c = x0 ** 2 + d ** 2 - v ** 2 * t_ready ** 2
    t_ref = (-b - np.sqrt(b * b - 4 * a * c)) / (2 * a)
    t_ref = np.where(t_ref >= t_ready, t_ref, (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a))
    # the simulator's meeting point, and its time from the along-track distance
    t_sim = _along_m(res.intercept_lat_deg, res.intercept_lon_deg) / V_FLIGHT
    # within one route grid step (1 s) plus the refinement tolerance; the sphere vs WGS84 differ by 0.3%
    assert np.allclose(res.intercept_t_s, t_sim, atol=1.0 + INTERCEPT_TOLERANCE_S)
    assert np.allclose(t_sim, t_ref, atol=1.0 + INTERCEPT_TOLERANCE_S)


def test_a_base_too_far_or_too_slow_cannot_intercept():
    far = _straight(response={"decision_delay_min": 0}, interceptors=[
        {"name": "far", "base": {"lat": 37.5, "lon": 44.6}, "ready_min": 5, "speed_kmh": 900}])
    slow = _straight(response={"decision_delay_min": 0}, interceptors=[
        {"name": "slow", "base": {"lat": 34.1, "lon": 43.2}, "ready_min": 5, "speed_kmh": 300}])
    for sc in (far, slow):
        _, res = simulate(sc)
        assert not res.interceptable.any()
        assert set(res.outcome.tolist()) == {OUTCOMES.index("no_means")}   # tracked, nothing could act


def test_tracked_at_entry_the_window_is_the_time_in_the_airspace():
    # the real route Tehran -> Damascus tracked by a cookie-cutter radar covering its whole crossing of
    # Iraq with 2-s scans: the first track held inside Iraq is at the entry, so the reaction window is
    # the flight's time in Iraq (fence tables every 10 s: within 20 s)
    sc = load(SCENARIOS / "iraq_2012_transponder_off.toml",
              ["route[direct].cross_track_sigma_km=0", "route[via-baghdad-fir-south].weight=0",
               "detection.terrain=false", "detection.track_m=1",
               "radar[Kirkuk PSR].range_km=900", "radar[Kirkuk PSR].scan_period_s=2",
               "radar[Kirkuk PSR].antenna_height_m=3000",
               "radar[Kirkuk PSR].availability=1", "response.decision_delay_min=0"])
    sim, res = simulate(sc, campaigns=10)
    assert res.detected_in_airspace.all()
    assert np.allclose(res.reaction_window_min, res.minutes_in_airspace, atol=20 / 60)


def test_an_order_decided_after_the_last_feasible_point_is_not_feasible():
    # land at Baghdad (ORBI) from the straight route: the order is feasible while the time needed to
    # land (the longer of flying to ORBI at the descent speed and descending at the descent rate) fits
    # in the time left in Iraq. Find the last feasible decision time t* on a dense grid from the same
    # closed form, then decide 30 s before and 30 s after it.
    base = _straight(response={"decision_delay_min": 0, "order_to_land": {"airports": ["ORBI"], "compliance": 1}},
                     campaigns=1, flights=1)
    sim, res = simulate(base)
    t_in = float(res.first_detection_s[0])
    t_exit = t_in + 60 * float(res.reaction_window_min[0])
    from sim.flights import positions_at
    from geo.earth import unit_vectors
    ts = np.arange(t_in, t_exit, 1.0)
    xyz, alt, _ = positions_at(sim.packed, np.zeros(1, dtype=int), np.zeros(1), ts[None, :])
    ac = base.aircraft
    need, _ = time_to_land_s(xyz[0], alt[0], unit_vectors([33.2625], [44.2346]), np.array([34.7472]),
                             ac.descent_speed_mps, ac.descent_rate_mps)
    ok = need <= t_exit - ts
    assert ok[0] and not ok[-1]
    t_star = ts[np.flatnonzero(ok)[-1]]
    for shift, expected in ((-30.0, True), (30.0, False)):
        delay_min = (t_star + shift - t_in) / 60.0
        sc = _straight(response={"decision_delay_min": delay_min,
                                 "order_to_land": {"airports": ["ORBI"], "compliance": 1}}, campaigns=1, flights=1)
        _, r = simulate(sc)
        assert bool(r.order_feasible[0]) is expected
        assert bool(r.obeyed[0]) is expected                   # compliance 1: every feasible order obeyed
        assert OUTCOMES[r.outcome[0]] == ("order_obeyed" if expected else "no_means")


def test_compliance_is_the_share_of_feasible_orders_obeyed(run_cli, tmp_path):
    code, out, err = run_cli("run", SCENARIOS / "iraq_2012_baseline.toml", "--campaigns", 200, "--set",
                             "detection.terrain=false", "--out", tmp_path / "o", "-q")
    assert code == 0, err
    s = read_summary(tmp_path / "o")["response"]
    obeyed = s["outcomes"]["order_obeyed"]
    assert obeyed == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / 3000))     # compliance 0.5, all feasible here
    assert s["p_stopped"] == pytest.approx(obeyed) and s["stopped_per_campaign"]["mean"] == pytest.approx(15 * obeyed)
    rows = (tmp_path / "o" / "flights.csv").read_text().splitlines()
    assert rows[0].endswith("reaction_window_min,order_feasible,obeyed,interceptable,outcome")


# --- outcomes, the air picture, compliance under escort ----------------------------------------------------
NEAR_BASE = {"lat": 33.0 + 120e3 / 110_900.0, "lon": 44.6}      # 120 km north of the route: reachable
ORDER = {"airports": ["ORBI"]}


def _shares(res):
    return {name: float(np.mean(res.outcome == i)) for i, name in enumerate(OUTCOMES)}


@pytest.mark.parametrize("expected, response, interceptors, radar_availability", [
    ("not_tracked", {"decision_delay_min": 0}, (), 0.0),
    ("too_late", {"decision_delay_min": 600, "order_to_land": {**ORDER, "compliance": 1}}, (), 1.0),
    ("order_obeyed", {"order_to_land": {**ORDER, "compliance": 1}}, (), 1.0),
    ("order_refused", {"order_to_land": {**ORDER, "compliance": 0}}, (), 1.0),
    ("escort_obeyed", {"intercept_compliance": 1}, ({"name": "I", "base": NEAR_BASE, "ready_min": 5,
                                                     "speed_kmh": 900},), 1.0),
    ("escort_refused", {"intercept_compliance": 0, "order_to_land": {**ORDER, "compliance": 0}},
     ({"name": "I", "base": NEAR_BASE, "ready_min": 5, "speed_kmh": 900},), 1.0),
    ("no_means", {"decision_delay_min": 0}, ({"name": "far", "base": {"lat": 37.5, "lon": 44.6}, "ready_min": 5,
                                              "speed_kmh": 900},), 1.0),
])
def test_every_outcome_is_reachable(expected, response, interceptors, radar_availability):
    sc = _straight(response=response, interceptors=interceptors, campaigns=4)
    sc = with_overrides(sc, [f"radar[R].availability={radar_availability}"])
    _, res = simulate(sc)
    assert _shares(res)[expected] == 1.0


def test_p_stopped_is_order_then_escort_in_closed_form(tmp_path):
    # every flight is tracked at once, every order feasible and every flight interceptable: a crew obeys the
    # order with c_o; one that refuses is intercepted and obeys the escort with c_i (independent draws), so
    # P(stopped) = c_o + (1 - c_o) c_i, each branch a binomial share (4 standard errors)
    c_o, c_i, n = 0.3, 0.6, 4000
    sc = _straight(response={"decision_delay_min": 0, "intercept_compliance": c_i,
                             "order_to_land": {**ORDER, "compliance": c_o}},
                   interceptors=[{"name": "I", "base": NEAR_BASE, "ready_min": 5, "speed_kmh": 900}],
                   campaigns=n // 5)
    sim, res = simulate(sc)
    assert res.order_feasible.all() and res.interceptable.all()
    expected = {"order_obeyed": c_o, "escort_obeyed": (1 - c_o) * c_i, "escort_refused": (1 - c_o) * (1 - c_i)}
    got = _shares(res)
    for name, p in expected.items():
        assert got[name] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n)), name
    summary = summarize(sim, res)["response"]
    p = c_o + (1 - c_o) * c_i
    assert summary["p_stopped"] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))
    assert summary["p_stopped"] == pytest.approx(got["order_obeyed"] + got["escort_obeyed"], abs=1e-6)
    assert sum(summary["outcomes"].values()) == pytest.approx(1.0, abs=1e-5)
    lo, hi = summary["p_stopped_ci95"]
    assert (lo, hi) == pytest.approx(wilson_interval(round(summary["p_stopped"] * n), n), abs=1e-6)


def _coverage_end_s(range_m, radar_lon):
    """When the straight route leaves a radar's instrumented range (pyproj, the slant range at 10 km)."""
    az, _, length = WGS84.inv(START_LON, 33.0, 45.5, 33.0)
    s = np.arange(0.0, length, 50.0)
    lon, lat, _ = WGS84.fwd(np.full(s.shape, START_LON), np.full(s.shape, 33.0), np.full(s.shape, az), s)
    _, _, d = WGS84.inv(np.full(s.shape, radar_lon), np.full(s.shape, 33.0), lon, lat)
    ground_m = math.sqrt(range_m ** 2 - (10_000.0 - 20.0) ** 2)
    return s[np.flatnonzero(d <= ground_m)[-1]] / V_FLIGHT


def test_an_interceptor_meets_a_flight_only_while_the_track_is_held_or_coasted():
    # a radar near the start of the route (range 100 km) loses the flight about a third of the way; an
    # interceptor from the far end (600 km/h) reaches it only later: with a long coast it does, and the
    # meeting is after the coverage ends; with a coast shorter than that it does not; with just enough, it does
    def run(coast_min):
        sc = _straight(response={"decision_delay_min": 0, "track_coast_min": coast_min},
                       interceptors=[{"name": "I", "base": {"lat": 33.5, "lon": 45.0}, "ready_min": 5,
                                      "speed_kmh": 600}], campaigns=4)
        sc = with_overrides(sc, ["radar[R].lon=41.5", "radar[R].range_km=100"])
        return simulate(sc)[1]

    t_cov = _coverage_end_s(100_000.0, 41.5)
    long = run(60)
    assert long.interceptable.all()
    t_meet = float(np.max(long.intercept_t_s))
    assert t_meet > t_cov + 120.0                            # met well after the last covered scan
    assert not run(0).interceptable.any()
    short = (t_meet - t_cov) / 60.0 - 0.5                    # the track lost 30 s before the meeting
    assert not run(short).interceptable.any()
    assert run(short + 1.0).interceptable.all()              # held 30 s past it
    # the reaction window ends when the coasted track is lost
    res = run(short)
    assert np.allclose(res.reaction_window_min * 60 + res.first_detection_s, t_cov + short * 60, atol=25.0)


@pytest.mark.slow
def test_low_level_f16_probe_no_interception_after_the_track_is_lost():
    # the low-level scenario with an F-16 at Balad (decision 5 min, no crew obeys an order): an intercept
    # needs the track held; every meeting is within the coast time of the last covered sample of the
    # flight's route (any offset, any radar): nothing after the air picture has lost the flight
    doc = read_toml(SCENARIOS / "iraq_2012_low_level.toml")
    doc["response"] = {"decision_delay_min": 5, "order_to_land": {"airports": ["ORBI"], "compliance": 0.0}}
    doc["interceptor"] = [{"name": "F-16IQ Balad", "base": "ORBD", "ready_min": 10, "speed_kmh": 1100}]
    late = 0
    for coast_min in (5, 60):
        doc["response"]["track_coast_min"] = coast_min
        sim, res = simulate(parse_scenario(doc), campaigns=100)
        for i, fz in enumerate(sim.fences):
            last_cov_s = fz.t_s[np.flatnonzero(fz.covered_primary.any(axis=0))[-1]]
            sel = (res.batch.route_index == i) & res.interceptable
            assert np.all(res.intercept_t_s[sel] <= last_cov_s + 60 * coast_min + 10.0)
            late += int(np.sum(res.intercept_t_s[sel] > last_cov_s + 5 * 60 + 10.0))
    assert late > 0          # with an hour's coast some flights are met after the coverage: the rule bites


def test_a_border_sliver_does_not_end_the_window_turkey_2011():
    # Turkey 2011: flights 3.3-3.7 km right of the Van-Diyarbakir track leave Turkey for a moment (a sliver
    # of the border); with exits shorter than airspace_gap counted as inside, their windows and outcome
    # shares are those of their neighbours (2.5-3.3 and 3.7-4.5 km), within sampling error
    sc = load(SCENARIOS / "turkey_2011_route.toml", ["route[via-hakkari].weight=0"])
    sim, res = simulate(sc, campaigns=600)
    x = res.batch.cross_track_m
    band = (x > 3300) & (x < 3700)
    near = ((x > 2500) & (x <= 3300)) | ((x >= 3700) & (x < 4500))
    assert band.sum() > 50
    assert np.min(res.reaction_window_min[band]) > 30.0              # was 0.0-0.3 min
    assert abs(np.median(res.reaction_window_min[band]) - np.median(res.reaction_window_min[near])) < 1.0
    for i, name in enumerate(OUTCOMES):
        a, b = np.mean(res.outcome[band] == i), np.mean(res.outcome[near] == i)
        pooled = np.mean(res.outcome[band | near] == i)
        se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / band.sum() + 1 / near.sum()))
        assert abs(a - b) <= 4 * se + 1e-9, name


def test_bridge_gaps_and_coast_against_a_loop():
    rng = np.random.default_rng(7)
    mask = rng.random((50, 60)) < 0.6
    for gap in (0, 1, 3):
        ref = mask.copy()
        for r in range(mask.shape[0]):
            on = np.flatnonzero(mask[r])
            for a, b in zip(on[:-1], on[1:]):
                if 1 < b - a <= gap + 1:
                    ref[r, a:b] = True
        assert (bridge_gaps(mask, gap) == ref).all()
        ref = np.array([[any(mask[r, max(0, k - gap):k + 1]) for k in range(mask.shape[1])]
                        for r in range(mask.shape[0])])
        assert (coasted(mask, gap) == ref).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["iraq_2012_f16_balad.toml", "turkey_2011_route.toml"])
def test_chase_root_agrees_with_the_grid_reference(name, monkeypatch):
    # an interceptor faster than the aircraft meets it where a monotone condition turns true: its root by
    # bisection over the whole window must be the grid's first reachable held point, refined (the
    # reference, as every interceptor in exact mode); same flights, same draws
    import sim.response as response
    sc = load(SCENARIOS / name, ["response.order_to_land.compliance=0"] if "f16" in name else [])
    sim, fast = simulate(sc, campaigns=150)
    monkeypatch.setattr(response, "_CHASE_MARGIN", np.inf)          # every interceptor on the grid
    _, grid = simulate(sc, campaigns=150)
    assert fast.interceptable.mean() > 0.3
    same = fast.interceptable == grid.interceptable
    assert same.mean() >= 0.999
    both = fast.interceptable & grid.interceptable
    assert np.max(np.abs(fast.intercept_t_s[both] - grid.intercept_t_s[both])) <= 2 * INTERCEPT_TOLERANCE_S
    assert np.array_equal(fast.outcome[same], grid.outcome[same])
