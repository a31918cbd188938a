"""The flyer's costs at low level: a terrain-following cruise at the low-level speed, fuel, and range.

References: route lengths and positions from ``pyproj.Geod`` (WGS84), independent of the route
builder's own geodesy; fuel by hand from the stated flows (sim.aircraft.IL76TD_FUEL, assumptions,
scenarios/README.md); the committed code before the low-level speed (a958930) for the unchanged
routes above mean sea level.
"""
import numpy as np
import pyproj
import pytest

from conftest import SCENARIOS, read_summary
from geo.terrain import load_terrain
from geo.units import KMH_MPS
from sim.aircraft import (IL76TD_FUEL, IL76TD_LOW_LEVEL_SPEED_MPS, FuelModel, cruise_equivalent_m, fuel_burn_kg,
                          fuel_per_m_ratio)
from sim.routes import build_route, route_profile, route_time_and_fuel
from sim.scenario import ScenarioError, load_scenario, parse_scenario, uncertainty_variants

GEOD = pyproj.Geod(ellps="WGS84")
LOW = SCENARIOS / "iraq_2012_low_level.toml"


def _doc(aircraft=None, waypoints=None, route=None):
    """A small scenario: one route 33N 44E -> 33N 46E ({lat, lon} endpoints: all cruise), no radar."""
    return {
        "scenario": {"name": "low", "title": "low level"},
        "run": {"campaigns": 10, "flights": 2, "seed": 1},
        "aircraft": {"cruise_speed_kmh": 780.0, **(aircraft or {})},
        "route": [{"name": "east", "waypoints": waypoints or [{"lat": 33.0, "lon": 44.0}, {"lat": 33.0, "lon": 46.0}],
                   **(route or {})}],
    }


def _geod_length_m(lat, lon):
    return float(sum(GEOD.inv(lon[i], lat[i], lon[i + 1], lat[i + 1])[2] for i in range(len(lat) - 1)))


# --- the low-level speed ---------------------------------------------------------------------------------

def test_il76td_low_level_speed_is_the_argued_assumption():
    # scenarios/README.md: 580 km/h, an assumption (no open source gives an Il-76 low-level speed)
    assert IL76TD_LOW_LEVEL_SPEED_MPS == pytest.approx(580 / 3.6)
    sc = parse_scenario(_doc())
    assert sc.aircraft.low_level_speed_mps == pytest.approx(580 / 3.6)
    assert load_scenario(LOW).aircraft.low_level_speed_mps == pytest.approx(580 / 3.6)


@pytest.mark.parametrize("spelling,value,mps", [("low_level_speed_kmh", 500.0, 500 / 3.6),
                                                ("low_level_speed_kt", 300.0, 300 * 1852 / 3600),
                                                ("low_level_speed_mps", 150.0, 150.0)])
def test_geod_agl_cruise_flies_at_the_low_level_speed(spelling, value, mps):
    # {lat, lon} endpoints: the whole route is cruise, so its time is the pyproj.Geod length over the speed
    sc = parse_scenario(_doc({"cruise_altitude_agl_m": 300.0, spelling: value}))
    length, prof = route_profile(sc.routes[0], sc.aircraft)
    geod = _geod_length_m([33.0, 33.0], [44.0, 46.0])
    assert length == pytest.approx(geod, rel=1e-9)
    assert prof.low_level and prof.cruise_speed_mps == pytest.approx(mps)
    assert prof.duration_s == pytest.approx(geod / mps, rel=1e-9)
    # the same route above mean sea level flies at the cruise speed
    amsl = parse_scenario(_doc({"cruise_altitude_m": 3000.0, spelling: value}))
    _, p2 = route_profile(amsl.routes[0], amsl.aircraft)
    assert not p2.low_level and p2.duration_s == pytest.approx(geod / (780 / 3.6), rel=1e-9)


def test_geod_low_level_scenario_track_flies_its_cruise_at_the_low_level_speed():
    # the shipped terrain-following scenario's direct route OIII -> OSDI, one geodesic leg: in cruise the
    # along-track speed is the low-level speed, climb and descent keep theirs, and the nominal positions
    # lie on the pyproj.Geod geodesic at the along-track distance they imply (within 1 m)
    sc = load_scenario(LOW)
    ac = sc.aircraft
    spec = sc.routes[0]
    r = build_route(spec, ac, terrain=load_terrain())
    p = r.profile
    assert p.low_level and p.cruise_speed_mps == pytest.approx(580 / 3.6)
    lat = [w.lat_deg for w in spec.waypoints]
    lon = [w.lon_deg for w in spec.waypoints]
    geod = _geod_length_m(lat, lon)
    # the phases add up to the Geod length: climb and descent at their speeds, the rest at the low-level speed
    assert (p.climb_s * ac.climb_speed_mps + p.cruise_s * ac.low_level_speed_mps
            + p.descent_s * ac.descent_speed_mps) == pytest.approx(geod, rel=1e-9)
    cruise = (r.t_s > p.climb_s + 1.0) & (r.t_s < p.climb_s + p.cruise_s - 1.0)
    assert cruise.sum() > 5000                      # about 2 h of cruise
    speed = np.diff(r.s_m)[cruise[1:]] / r.step_s
    assert np.allclose(speed, 580 / 3.6, rtol=1e-9)
    az = GEOD.inv(lon[0], lat[0], lon[1], lat[1])[0]
    k = np.flatnonzero(cruise)[::500]
    glon, glat, _ = GEOD.fwd(np.full(k.size, lon[0]), np.full(k.size, lat[0]), np.full(k.size, az), r.s_m[k])
    _, _, miss = GEOD.inv(glon, glat, r.lon_deg[k], r.lat_deg[k])
    assert np.max(miss) < 1.0
    # the time of the whole route against the cruise speed's: slower by the cruise's share
    assert r.duration_s - (p.climb_s + p.descent_s) == pytest.approx(
        (geod - p.climb_s * ac.climb_speed_mps - p.descent_s * ac.descent_speed_mps) / (580 / 3.6), rel=1e-9)


def test_amsl_routes_do_not_read_the_low_level_speed():
    # a route above mean sea level is built the same whatever the low-level speed
    base = load_scenario(SCENARIOS / "iraq_2012_transponder_off.toml")
    other = load_scenario(SCENARIOS / "iraq_2012_transponder_off.toml", ["aircraft.low_level_speed_kmh=100"])
    for a, b in zip(base.routes, other.routes):
        ra, rb = build_route(a, base.aircraft), build_route(b, other.aircraft)
        for k in ("t_s", "s_m", "lat_deg", "lon_deg", "alt_m"):
            assert np.array_equal(getattr(ra, k), getattr(rb, k))


def test_amsl_run_is_byte_identical_whatever_the_low_level_speed(run_cli, tmp_path):
    name = SCENARIOS / "iraq_2012_transponder_off.toml"
    assert run_cli("run", name, "--campaigns", 40, "-q", "--out", tmp_path / "a")[0] == 0
    assert run_cli("run", name, "--campaigns", 40, "-q", "--out", tmp_path / "b",
                   "--set", "aircraft.low_level_speed_kmh=300")[0] == 0
    assert (tmp_path / "a" / "flights.csv").read_bytes() == (tmp_path / "b" / "flights.csv").read_bytes()


@pytest.mark.snapshot
def test_amsl_scenarios_summary_unchanged_from_before_the_low_level_speed(run_cli, tmp_path):
    # self-computed: `airpicture run iraq_2012_transponder_off --campaigns 200` on the committed code before
    # the low-level speed (a958930): its flights.csv is byte-identical after it, and these numbers equal
    assert run_cli("run", SCENARIOS / "iraq_2012_transponder_off.toml", "--campaigns", 200, "-q",
                   "--out", tmp_path / "o")[0] == 0
    s = read_summary(tmp_path / "o")
    assert (s["flights_detected"], s["flights_total"], s["p_detect"]) == (2749, 3000, 0.916333)
    assert {k: (v["duration_min"], v["length_km"], v["p_detect"], v["cruise_speed_kmh"], v["fuel_t"])
            for k, v in s["routes"].items()} == {"direct": (119.9, 1380.1, 0.90283, 780.0, 16.11),
                                                 "via-baghdad-fir-south": (122.2, 1409.6, 0.948864, 780.0, 16.41)}


# --- fuel ------------------------------------------------------------------------------------------------

def test_fuel_burn_by_hand():
    # 10 min climb at 3 kg/s, 1 h cruise at 2 kg/s, 15 min descent at 0.5 kg/s: 1,800 + 7,200 + 450 kg
    assert fuel_burn_kg(600.0, 3600.0, 900.0, 3.0, 2.0, 0.5) == pytest.approx(9450.0)
    # broadcasting: one flow, several durations
    got = fuel_burn_kg(np.array([0.0, 60.0]), np.array([100.0, 0.0]), 0.0, 2.0, 1.0, 5.0)
    assert got.shape == (2,) and np.allclose(got, [100.0, 120.0])


def test_il76td_fuel_per_km_ratio_by_hand():
    # scenarios/README.md: 8,000 kg/h at 780 km/h is 10.26 kg/km; 9,000 kg/h at 580 km/h is 15.52 kg/km
    assert IL76TD_FUEL.cruise_flow_kgps * 3600 == pytest.approx(8000.0)
    assert IL76TD_FUEL.low_level_flow_kgps * 3600 == pytest.approx(9000.0)
    assert IL76TD_FUEL.capacity_kg == pytest.approx(90_000.0)
    ratio = (9000 / 580) / (8000 / 780)
    assert float(fuel_per_m_ratio(780 * KMH_MPS, 580 * KMH_MPS, IL76TD_FUEL)) == pytest.approx(ratio, rel=1e-12)
    assert float(cruise_equivalent_m(1000e3, 600e3, ratio)) == pytest.approx(400e3 + 600e3 * ratio)


def test_route_time_and_fuel_by_hand_low_level_and_cruise():
    geod = _geod_length_m([33.0, 33.0], [44.0, 46.0])
    low = parse_scenario(_doc({"cruise_altitude_agl_m": 300.0}))
    got = route_time_and_fuel(low.routes[0], low.aircraft)        # all at low level: 580 km/h, 9 t/h
    t = geod / (580 / 3.6)
    assert got.flight_time_s == pytest.approx(t, rel=1e-9)
    assert got.fuel_kg == pytest.approx(t * 9000 / 3600, rel=1e-9)
    assert got.low_level_m == pytest.approx(geod, rel=1e-9)
    assert got.cruise_equivalent_m == pytest.approx(geod * (9000 / 580) / (8000 / 780), rel=1e-9)
    assert got.within_fuel_capacity and got.within_range(4_200e3) and not got.within_range(geod)
    amsl = parse_scenario(_doc({"cruise_altitude_m": 3000.0}))
    got = route_time_and_fuel(amsl.routes[0], amsl.aircraft)      # all at cruise: 780 km/h, 8 t/h
    assert got.fuel_kg == pytest.approx(geod / (780 / 3.6) * 8000 / 3600, rel=1e-9)
    assert got.low_level_m == 0.0 and got.cruise_equivalent_m == pytest.approx(geod, rel=1e-9)


def test_route_time_and_fuel_of_airport_to_airport_route_by_hand():
    # OIII -> OSDI at cruise: climb, cruise and descent each at their flow (12, 8, 2.5 t/h)
    sc = load_scenario(SCENARIOS / "iraq_2012_baseline.toml")
    spec = sc.routes[0]
    _, p = route_profile(spec, sc.aircraft)
    track = build_route(spec, sc.aircraft)
    hand = (p.climb_s * 12000 + p.cruise_s * 8000 + p.descent_s * 2500) / 3600
    for route in (spec, track, p):            # a RouteSpec, a RouteTrack or a profile give the same
        got = route_time_and_fuel(route, sc.aircraft)
        assert got.fuel_kg == pytest.approx(hand, rel=1e-12)
        assert got.flight_time_s == pytest.approx(p.climb_s + p.cruise_s + p.descent_s, rel=1e-12)
    assert 14_000 < hand < 18_000             # about 2 h: some 16 t


def test_summary_reports_each_routes_speed_and_fuel(run_cli, tmp_path):
    assert run_cli("run", LOW, "--campaigns", 20, "-q", "--out", tmp_path / "o")[0] == 0
    s = read_summary(tmp_path / "o")
    sc = load_scenario(LOW)
    for spec in sc.routes:
        r = s["routes"][spec.name]
        got = route_time_and_fuel(spec, sc.aircraft)
        assert r["cruise_speed_kmh"] == 580.0
        assert r["fuel_t"] == pytest.approx(got.fuel_kg / 1000, abs=0.005)
        assert r["duration_min"] == pytest.approx(got.flight_time_s / 60, abs=0.05)


def test_fuel_model_refuses_nonpositive_figures():
    with pytest.raises(ValueError, match="cruise_flow_kgps"):
        FuelModel(90e3, 1.0, 0.0, 1.0, 1.0)


# --- validation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting,message", [
    ("aircraft.low_level_speed_kmh=0", "aircraft.low_level_speed_kmh: must be > 0 kmh"),
    ("aircraft.low_level_speed_kmh=35", "aircraft.low_level_speed_kmh: must be >= 36 kmh"),
    ("aircraft.low_level_speed_kmh=1441", "aircraft.low_level_speed_kmh: must be <= 1,440 kmh"),
    ("aircraft.low_level_speed_kt=-5", "aircraft.low_level_speed_kt: must be > 0 kt"),
    ("aircraft.low_level_speed_mps=nan", "aircraft.low_level_speed_mps: must be"),
    ('aircraft.low_level_speed_kmh="fast"', "aircraft.low_level_speed_kmh: must be a number"),
])
def test_bad_low_level_speed_exits_2_naming_the_key(run_cli, setting, message):
    code, _, err = run_cli("validate", LOW, "--set", setting)
    assert code == 2 and message in err, err


def test_mistyped_or_doubled_low_level_speed_names_the_key():
    with pytest.raises(ScenarioError) as e:
        parse_scenario(_doc({"cruise_altitude_agl_m": 300.0, "low_level_speed_kph": 500.0}))
    assert e.value.key == "aircraft.low_level_speed_kph" and "low_level_speed_kmh" in str(e.value)
    with pytest.raises(ScenarioError, match="give only one of") as e:
        parse_scenario(_doc({"low_level_speed_kmh": 500.0, "low_level_speed_kt": 270.0}))
    assert e.value.key.startswith("aircraft.low_level_speed_")


def test_range_at_low_level_is_shorter_by_the_fuel_ratio():
    # 33N 44E -> 33N 46E: 186.9 km (pyproj.Geod). At low level it burns as much as 186.9 * 1.513 = 282.8 km at
    # cruise: refused with a 280 km range, flown with 285 km; at cruise both ranges fly it.
    geod = _geod_length_m([33.0, 33.0], [44.0, 46.0])
    equivalent_km = geod * (9000 / 580) / (8000 / 780) / 1000
    assert 282.0 < equivalent_km < 283.5
    with pytest.raises(ScenarioError) as e:
        parse_scenario(_doc({"cruise_altitude_agl_m": 300.0, "range_km": 280.0}))
    assert e.value.key == "route[east].waypoints"
    assert "aircraft.range_km" in str(e.value) and "aircraft.low_level_speed_kmh" in str(e.value)
    assert f"as much fuel as {equivalent_km:,.0f} km at cruise" in str(e.value)
    assert "185 km all at low level" in str(e.value)            # 280 / 1.513
    parse_scenario(_doc({"cruise_altitude_agl_m": 300.0, "range_km": 285.0}))
    parse_scenario(_doc({"cruise_altitude_m": 3000.0, "range_km": 190.0}))
    # a route's own level: the same, its aircraft cruising above mean sea level
    with pytest.raises(ScenarioError, match="at low level"):
        parse_scenario(_doc({"range_km": 280.0}, route={"cruise_altitude_agl_m": 300.0}))
    # a slower low-level speed burns more per km (the flow is held): a shorter range there
    with pytest.raises(ScenarioError, match="at low level"):
        parse_scenario(_doc({"cruise_altitude_agl_m": 300.0, "range_km": 285.0, "low_level_speed_kmh": 450.0}))


def test_cli_low_level_range_refusal_exits_2(run_cli):
    code, _, err = run_cli("validate", LOW, "--set", "aircraft.range_km=1800")
    assert code == 2 and "route[direct].waypoints" in err and "aircraft.range_km" in err, err


def test_low_level_speed_is_swept_by_sensitivity():
    sc = load_scenario(LOW)
    got = {key: (lo, hi, a, b) for key, lo, hi, a, b in uncertainty_variants(sc)}
    lo, hi, a, b = got["aircraft.low_level_speed_kmh"]
    assert (lo, hi) == (450, 650)
    assert a.aircraft.low_level_speed_mps == pytest.approx(450 / 3.6)
    assert b.aircraft.low_level_speed_mps == pytest.approx(650 / 3.6)
    # the swept speeds change the flight time of the terrain-following routes
    t = [route_profile(v.routes[0], v.aircraft)[1].duration_s for v in (a, sc, b)]
    assert t[0] > t[1] > t[2]


@pytest.mark.parametrize("speed_kmh", [450, 580, 650, 780])
def test_no_flight_below_its_own_ground_at_turns_at_low_level_speeds(speed_kmh):
    # reference: the bilinear GLOBE ground under each flight's own position (geo.terrain.elevation_m) plus the
    # stated height, along offsets between the rows and at times between the samples, turns included (where
    # the rows outside a turn jump by kilometres in one sample): no deficit beyond rounding (1 cm)
    from geo.terrain import elevation_m
    from sim.flights import OFFSET_CLIP_SIGMA, positions_at, to_lat_lon
    from sim.montecarlo import prepare
    sc = load_scenario(LOW, [f"aircraft.low_level_speed_kmh={speed_kmh}"])
    sim = prepare(sc, with_fences=False)
    for i, r in enumerate(sim.routes):
        half = OFFSET_CLIP_SIGMA * r.cross_track_sigma_m
        offs = np.clip(np.linspace(-half, half, 41) + 37.0, -half, half)
        t = np.broadcast_to(np.arange(0.0, r.duration_s, 0.5), (len(offs), int(np.ceil(r.duration_s / 0.5))))
        xyz, alt, _ = positions_at(sim.packed, np.full(len(offs), i), offs, t)
        lat, lon = to_lat_lon(xyz)
        need = elevation_m(sim.terrain, lat, lon) + np.interp(t, r.t_s, r.agl_profile_m)
        assert (alt - need).min() >= -0.01, (r.name, (alt - need).min())
