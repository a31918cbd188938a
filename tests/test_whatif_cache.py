"""A warm what-if (one process, a PrepCache warmed by a run) reuses whole routes, radars, scan windows and fence
tables, and only for the inputs they read: a what-if that changes any of those gets fresh ones, equal to those
of a preparation with an empty cache (the reference: nothing reused), and every output equals a cold run's."""
import dataclasses
import json
import pickle
from importlib import resources

import numpy as np
import pytest

from conftest import SCENARIOS
from geo.coverage import BORDERS_FILENAME, country_names
from geo.terrain import load_terrain
from sim.montecarlo import prepare, run
from sim.prepcache import PrepCache
from sim.results import flight_csv_text, summarize
from sim.routes import AIRCRAFT_FIELDS_ROUTES_IGNORE, build_route
from sim.scenario import load_scenario, with_overrides

TERRAIN = load_terrain()
BASE = load_scenario(SCENARIOS / "iraq_2012_baseline.toml")      # terrain masking, fences, 8 radars, 2 routes
CAMPAIGNS = 20


def _outputs(sim):
    res = run(sim, campaigns=CAMPAIGNS)
    return json.dumps(summarize(sim, res), sort_keys=True), flight_csv_text(sim, res)


def _fence_arrays(fz):
    """Every array of a route's fence tables, and what they derive (the response's gap of the baseline: 30)."""
    out = {f.name: getattr(fz, f.name) for f in dataclasses.fields(fz)}
    out.update({f"row_minutes{k}": m for k, m in enumerate(fz.row_minutes())})
    out.update({f"bridged{k}": b for k, b in enumerate(fz.bridged(30))})
    return out


def _assert_same_fences(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        a, b = _fence_arrays(g), _fence_arrays(w)
        assert a.keys() == b.keys()
        for k in a:
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


def _assert_same_routes(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for f in dataclasses.fields(g):
            x, y = getattr(g, f.name), getattr(w, f.name)
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype and np.array_equal(x, y), f.name
            else:
                assert x == y, f.name


@pytest.fixture(scope="module")
def warm():
    """A cache warmed by a run of the baseline, and that run's simulation."""
    cache = PrepCache()
    sim = prepare(BASE, TERRAIN, cache)
    run(sim, campaigns=CAMPAIGNS, keep_flights=False)
    return cache, sim


def test_a_warm_transponder_what_if_reuses_every_part_and_equals_a_cold_one(warm):
    cache, base_sim = warm
    sc = with_overrides(BASE, ["aircraft.transponder_on_probability=0.3"])
    before = dict(cache.stats["rebuilt"])
    sim = prepare(sc, TERRAIN, cache)
    # nothing rebuilt: the very routes, radars and fence tables of the base run (what they derive kept on them)
    assert dict(cache.stats["rebuilt"]) == before
    assert all(a is b for a, b in zip(sim.routes, base_sim.routes))
    assert all(a is b for a, b in zip(sim.radars, base_sim.radars))
    assert all(a is b for a, b in zip(sim.fences, base_sim.fences))
    cold = prepare(sc, TERRAIN)                                  # an empty cache: everything computed again
    assert not any(a is b for a, b in zip(cold.fences, base_sim.fences))
    _assert_same_routes(sim.routes, cold.routes)
    _assert_same_fences(sim.fences, cold.fences)
    assert np.array_equal(sim.scan_k0, cold.scan_k0) and np.array_equal(sim.scan_count, cold.scan_count)
    assert _outputs(sim) == _outputs(cold)


@pytest.mark.parametrize("override, fresh_fences, fresh_routes", [
    # a radar switched off covers nothing: every route's fence tables change (its coverage rows do not)
    ("radar[Baghdad PSR].availability=0", (0, 1), ()),
    # one route's waypoint: that route (its track, its fences), not the other
    ('route[via-baghdad-fir-south].waypoints=["OIII", {lat = 34.2, lon = 46.0}, {lat = 33.5, lon = 43.0}, "OSDI"]',
     (1,), (1,)),
    # the airspace: every route's airspace rows
    ("airspace.country=SYR", (0, 1), ()),
])
def test_a_what_if_of_what_the_fences_read_gets_fresh_fence_tables(warm, override, fresh_fences, fresh_routes):
    cache, base_sim = warm
    sc = with_overrides(BASE, [override])
    sim = prepare(sc, TERRAIN, cache)
    cold = prepare(sc, TERRAIN)
    _assert_same_fences(sim.fences, cold.fences)
    _assert_same_routes(sim.routes, cold.routes)
    assert np.array_equal(sim.scan_k0, cold.scan_k0) and np.array_equal(sim.scan_count, cold.scan_count)
    for i in range(len(sim.routes)):
        assert (sim.fences[i] is base_sim.fences[i]) == (i not in fresh_fences)
        assert (sim.routes[i] is base_sim.routes[i]) == (i not in fresh_routes)
    assert _outputs(sim) == _outputs(cold)


def test_a_radar_switched_off_is_off_in_the_fence_tables(warm):
    # the reference, without the cache: each radar's coverage read back from the base's tables (covered at
    # sample t where its last covered sample at or before t is t), united over the radars left on
    cache, base_sim = warm
    j = [r.name for r in BASE.radars].index("Baghdad PSR")
    sim = prepare(with_overrides(BASE, ["radar[Baghdad PSR].availability=0"]), TERRAIN, cache)
    assert all(r.availability > 0 for k, r in enumerate(sim.radars) if k != j)
    changed = False
    for fz, old in zip(sim.fences, base_sim.fences):
        covered = old.last_covered == np.arange(old.t_s.size)                   # (R, n_offsets, T)
        on = np.arange(len(sim.radars)) != j
        primary = on & np.array([not r.kind.needs_transponder for r in sim.radars])
        assert np.array_equal(fz.covered_any, covered[on].any(axis=0))
        assert np.array_equal(fz.covered_primary, covered[primary].any(axis=0))
        assert np.array_equal(fz.last_covered, old.last_covered)       # the geometry is the radar's, on or off
        changed |= not np.array_equal(fz.covered_primary, old.covered_primary)
    assert changed           # the base's tables would fail the test: the radar covers where no other primary does


@pytest.mark.parametrize("override", ["aircraft.cruise_speed_kmh=700", "aircraft.rcs_m2=10",
                                      "radar[Kirkuk PSR].range_km=150", "detection.refraction_k=1.2"])
def test_a_what_if_of_what_routes_or_radars_read_equals_a_cold_one(warm, override):
    cache, base_sim = warm
    sc = with_overrides(BASE, [override])
    sim = prepare(sc, TERRAIN, cache)
    cold = prepare(sc, TERRAIN)
    _assert_same_routes(sim.routes, cold.routes)
    for a, b in zip(sim.radars, cold.radars):
        assert a.name == b.name and a.range_m == b.range_m and a.availability == b.availability
        assert (a.pd_table is None) == (b.pd_table is None)
        assert a.pd_table is None or np.array_equal(a.pd_table, b.pd_table)
    _assert_same_fences(sim.fences, cold.fences)
    assert np.array_equal(sim.scan_k0, cold.scan_k0) and np.array_equal(sim.scan_count, cold.scan_count)
    assert _outputs(sim) == _outputs(cold)


def test_the_routes_read_none_of_the_aircraft_fields_their_key_leaves_out():
    # the claim behind sim.routes.route_inputs, checked against build_route itself: changing any field it
    # leaves out of a route's key builds the same route (bit for bit)
    other = {"rcs_m2": 3.0, "transponder_on_probability": 0.1, "transponder_policy": "per_campaign",
             "range_m": 9_000_000.0,
             "fuel": dataclasses.replace(BASE.aircraft.fuel, cruise_flow_kgps=BASE.aircraft.fuel.cruise_flow_kgps * 2)}
    assert set(other) == set(AIRCRAFT_FIELDS_ROUTES_IGNORE)
    low = load_scenario(SCENARIOS / "iraq_2012_low_level.toml")        # terrain following: its own path
    for sc in (BASE, low):
        for spec in sc.routes:
            want = build_route(spec, sc.aircraft, terrain=TERRAIN)
            for name, value in other.items():
                assert getattr(sc.aircraft, name) != value
                got = build_route(spec, dataclasses.replace(sc.aircraft, **{name: value}), terrain=TERRAIN)
                _assert_same_routes([got], [want])


def test_a_terrain_following_what_if_equals_a_cold_one():
    low = load_scenario(SCENARIOS / "iraq_2012_low_level.toml")
    cache = PrepCache()
    base_sim = prepare(low, TERRAIN, cache)
    for override in ("aircraft.transponder_on_probability=0.5", "aircraft.cruise_altitude_agl_m=200"):
        sc = with_overrides(low, [override])
        sim = prepare(sc, TERRAIN, cache)
        cold = prepare(sc, TERRAIN)
        reused = override.startswith("aircraft.transponder")
        assert all((a is b) == reused for a, b in zip(sim.routes, base_sim.routes))
        _assert_same_routes(sim.routes, cold.routes)
        _assert_same_fences(sim.fences, cold.fences)
        assert _outputs(sim) == _outputs(cold)


def test_fence_tables_travel_without_what_they_derive_and_derive_it_again_the_same(warm):
    _, sim = warm
    for fz in sim.fences:
        fz.row_minutes(), fz.bridged(30)                    # derived and kept on it
        assert "_row_minutes" in fz.__dict__ and "_bridged" in fz.__dict__
        back = pickle.loads(pickle.dumps(fz))
        assert "_row_minutes" not in back.__dict__ and "_bridged" not in back.__dict__
        _assert_same_fences([back], [fz])


def test_country_names_are_those_of_the_packaged_file_and_a_new_dict_each_call():
    # the reference: the packaged GeoJSON read directly
    features = json.loads(resources.files("geo.data").joinpath(BORDERS_FILENAME).read_text(encoding="utf-8"))
    want = {f["properties"]["ISO_A3"]: f["properties"]["NAME"] for f in features["features"]}
    got = country_names()
    assert got == want and list(got) == list(want)
    got["XXX"] = "Nowhere"
    got.pop("IRQ")
    assert country_names() == want
