"""Radar placement (``airpicture place``, :mod:`sim.optimise.placement`) against brute force and the Monte Carlo.

Toy cases fly straight east-west routes at a constant level on a smooth Earth (terrain off) past radars of
constant Pd; with Pd 1, a 1-of-1 track and availability 1 a candidate detects exactly the flights that
enter its coverage, so the Monte Carlo of a layout is the brute-force reference of its objective.
"""
import csv
import itertools
import json
import math
import tomllib

import numpy as np
import pytest

from conftest import read_summary
from sim.optimise.placement import (Candidate, Coverage, SELECTION_SEED_OFFSET, lazy_greedy, place, placed_doc,
                                robust_layout, track_probability)
from sim.detection import track_held
from sim.montecarlo import prepare, run
from sim.prepcache import PrepCache
from sim.scenario import parse_scenario

LAT0 = 33.0


def _doc(radars, *, lon=(42.0, 44.0), lat=LAT0, sigma_km=15.0, m=1, n=1, xpdr=0.0, campaigns=40, flights=10,
         seed=5, response=False):
    doc = {
        "scenario": {"name": "toy", "title": "placement toy"},
        "run": {"campaigns": campaigns, "flights": flights, "seed": seed},
        "aircraft": {"cruise_speed_kmh": 720, "cruise_altitude_m": 3000.0, "transponder_on_probability": xpdr},
        "route": [{"name": "east", "waypoints": [{"lat": lat, "lon": lon[0]}, {"lat": lat, "lon": lon[1]}],
                   "cross_track_sigma_km": sigma_km}],
        "radar": radars,
        "detection": {"terrain": False, "track_m": m, "track_n": n},
    }
    if response:
        doc["response"] = {"decision_delay_min": 2.0, "order_to_land": {"airports": ["ORBI"], "compliance": 0.5}}
    return doc


def _radar(name, lat, lon, *, range_km=30.0, pd=1.0, avail=1.0, scan_s=2.0, kind="primary"):
    return {"name": name, "lat": lat, "lon": lon, "elevation_m": 0.0, "antenna_height_m": 10.0, "kind": kind,
            "range_km": range_km, "scan_period_s": scan_s, "availability": avail, "pd": pd}


def _sc(doc):
    return parse_scenario(doc, source="toy.toml")


def _cands(points, mast=10.0):
    return [Candidate(f"c{k}", float(a), float(b), mast, None) for k, (a, b) in enumerate(points)]


def _mc_value(sc, tables, campaigns, flights, seed, cache, what="detected"):
    """The Monte Carlo of the scenario with the radar tables added (appended: the existing radars keep their
    streams), on a given sample: the share of flights detected (or held in track in the airspace)."""
    doc = placed_doc(sc, tables, "R0", campaigns, flights, seed)
    s = prepare(parse_scenario(doc, source="toy.toml"), cache=cache)
    r = run(s, keep_flights=True)
    return float(np.mean(getattr(r, what))), r


# --- the m-of-n programme ----------------------------------------------------------------------------
@pytest.mark.parametrize("m,n", [(1, 1), (2, 2), (2, 3), (3, 5), (1, 4)])
def test_track_probability_equals_enumeration_of_every_outcome(m, n):
    # reference: every hit pattern of K scans, weighted by its probability; a track is held at a scan when at
    # least m of the last n scans (that one included) are hits (a plain loop: the Monte Carlo's rule, in
    # sim.montecarlo's walk and sim.detection.track_held alike)
    rng = np.random.default_rng(7 + 10 * m + n)
    G, K = 4, 9
    pd = rng.uniform(0.0, 1.0, (G, K))
    pd[:, 0] = 0.0
    counts = rng.uniform(size=(G, K)) < 0.7
    patterns = np.array(list(itertools.product([0, 1], repeat=K)), dtype=bool)       # (2^K, K)
    held = np.zeros_like(patterns)
    for k in range(K):
        held[:, k] = patterns[:, max(0, k - n + 1):k + 1].sum(axis=1) >= m
    assert np.array_equal(held, track_held(patterns, m, n))
    want = np.zeros(G)
    for g in range(G):
        prob = np.prod(np.where(patterns, pd[g], 1.0 - pd[g]), axis=1)
        want[g] = np.sum(prob[(held & counts[g]).any(axis=1)])
    got = track_probability(pd, counts, m, n)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_track_probability_one_of_one_is_one_minus_product():
    pd = np.array([[0.2, 0.5, 0.0, 0.9]])
    assert track_probability(pd)[0] == pytest.approx(1 - 0.8 * 0.5 * 1.0 * 0.1, abs=1e-15)


# --- lazy greedy and the robust step on synthetic objectives ------------------------------------------
def _random_coverage(rng, N=40, M=9, scale=0.6):
    P = rng.uniform(0, 1, (N, M)) * (rng.uniform(size=(N, M)) < 0.5) * scale
    w = rng.uniform(0.5, 1.5, N)
    w /= w.sum()
    calls = []
    upper = np.minimum(P * rng.uniform(1.0, 1.6, (N, M)), 0.999) + (P > 0) * 1e-3
    cov = Coverage(w, 0.1, lambda j: (calls.append(j), P[:, j])[1], np.minimum(upper, 0.999))
    return cov, P, w, calls


def _brute(P, w, base, S):
    """F(S) by the product form: base + sum_i w_i (1 - prod_j (1 - P_ij)) (independent of the hazard sums)."""
    return base + float(np.dot(w, 1.0 - np.prod(1.0 - P[:, list(S)], axis=1)))


@pytest.mark.parametrize("seed", range(4))
def test_lazy_greedy_picks_brute_force_best_and_its_bounds_hold(seed):
    rng = np.random.default_rng(seed)
    cov, P, w, calls = _random_coverage(rng)
    steps, bounds = lazy_greedy(3, cov)
    M = P.shape[1]
    # K = 1: the brute-force argmax over every candidate
    singles = [_brute(P, w, 0.1, (j,)) for j in range(M)]
    assert steps[0].index == int(np.argmax(singles))
    assert steps[0].value == pytest.approx(max(singles), abs=1e-12)
    for k in (1, 2, 3):
        best = max(_brute(P, w, 0.1, S) for S in itertools.combinations(range(M), k))
        picked = [s.index for s in steps[:k]]
        assert steps[k - 1].value == pytest.approx(_brute(P, w, 0.1, picked), abs=1e-12)
        assert best <= bounds[k] + 1e-12            # the bound holds above the optimum
        assert steps[k - 1].value >= (1 - (1 - 1 / k) ** k) * (best - 0.1) + 0.1 - 1e-12   # Nemhauser et al.
    gains = [s.gain for s in steps]
    assert all(b <= a + 1e-12 for a, b in zip(gains, gains[1:]))     # marginal gains never increase
    assert len(set(calls)) == len(calls)                              # each column computed at most once


@pytest.mark.parametrize("seed", range(3))
def test_robust_layout_equals_brute_force_max_min(seed):
    rng = np.random.default_rng(100 + seed)
    covs, mats = [], []
    for _ in range(3):
        cov, P, w, _ = _random_coverage(rng, N=25, M=8)
        covs.append(cov)
        mats.append((P, w))
    for k in (1, 2, 3):
        got = robust_layout(covs, k)
        want = max(min(_brute(P, w, 0.1, S) for P, w in mats) for S in itertools.combinations(range(8), k))
        assert got.proven
        assert got.value == pytest.approx(want, abs=1e-12)
        assert got.bound >= want - 1e-12
        assert min(_brute(P, w, 0.1, got.layout) for P, w in mats) == pytest.approx(want, abs=1e-12)


# --- the toy scenario against brute force by the Monte Carlo -------------------------------------------
def _toy_cands():
    # copies of R0 on the meridian 43.3E, at lateral distances 0, 33 and 50 km north and 44 and 67 km south of
    # the route, and one out of reach
    return _cands([(33.0, 43.3), (33.3, 43.3), (33.45, 43.3), (32.6, 43.3), (32.4, 43.3), (35.0, 43.3)])


def test_k1_and_k2_match_brute_force_by_monte_carlo():
    # R0 (always up, Pd 1) on the route detects the flights within 30 km of it; copies elsewhere add the
    # flights their coverage crosses: deterministic, so the Monte Carlo of a layout is its exact objective
    sc = _sc(_doc([_radar("R0", LAT0, 42.6)], sigma_km=25.0))
    cache = PrepCache()
    cands = _toy_cands()
    r = place(sc, 2, "R0", candidates=cands, select_campaigns=60, cache=cache)
    seed = (sc.run.seed + SELECTION_SEED_OFFSET)
    # brute force: the Monte Carlo of every single candidate and every pair, on the selection sample
    single = {j: _mc_value(sc, [r.tables[j]], 60, sc.run.flights, seed, cache)[0] for j in range(len(cands))}
    assert r.steps[0].index == max(single, key=single.get)
    assert r.steps[0].value == pytest.approx(single[r.steps[0].index], abs=1e-9)
    pairs = {S: _mc_value(sc, [r.tables[j] for j in S], 60, sc.run.flights, seed, cache)[0]
             for S in itertools.combinations(range(len(cands)), 2)}
    best = max(pairs.values())
    assert r.steps[1].value == pytest.approx(best, abs=1e-9)        # greedy finds the best pair here
    assert best <= r.steps[1].bound + 1e-9
    assert r.steps[1].gain <= r.steps[0].gain + 1e-12
    assert all(s.bound >= s.value - 1e-12 for s in r.steps)


@pytest.mark.parametrize("objective,what", [("detect", "detected"), ("track-in-airspace", "detected_in_airspace")])
def test_candidate_gain_agrees_with_the_monte_carlo(objective, what):
    # a 2-of-3 candidate of Pd 0.35 across the Syria-Iraq border (at 40.05E on 34N): the programme's expected
    # new detections against the Monte Carlo's on the same flights (binomial: 4 standard deviations)
    far = _radar("R0", 31.0, 47.0, range_km=40.0, pd=0.35, avail=0.8, scan_s=4.0)
    sc = _sc(_doc([far], lat=34.0, lon=(39.0, 41.5), sigma_km=12.0, m=2, n=3, campaigns=150, flights=10))
    cache = PrepCache()
    c = _cands([(34.05, 40.05)])
    r = place(sc, 1, "R0", candidates=c, objective=objective, select_campaigns=150, cache=cache)
    seed = sc.run.seed + SELECTION_SEED_OFFSET
    base, rb = _mc_value(sc, [], 150, sc.run.flights, seed, cache, what)
    with_c, rc = _mc_value(sc, [r.tables[0]], 150, sc.run.flights, seed, cache, what)
    assert base == pytest.approx(r.base_value, abs=1e-12)      # the same sample as the selection's
    n = len(rc.detected)
    new = int(np.sum(getattr(rc, what) & ~getattr(rb, what)))
    expect = n * r.steps[0].gain
    assert 0.05 * n < expect < 0.95 * n                          # a test that can fail both ways
    assert abs(new - expect) <= 4.0 * math.sqrt(expect) + 1.0


def test_candidate_at_an_existing_site_gains_only_the_overlap():
    # the copy at R0's own site detects exactly the flights R0 detects when up; it gains the flights R0 missed
    # because it was down, times its own availability: 0.6 (1 - share of R0 up), computed from the sample
    sc = _sc(_doc([_radar("R0", LAT0, 43.0, avail=0.6, range_km=40.0)], sigma_km=0.0))
    cache = PrepCache()
    r = place(sc, 1, "R0", candidates=_cands([(LAT0, 43.0), (LAT0 + 3, 43.0)]), select_campaigns=50, cache=cache)
    _, rs = _mc_value(sc, [], 50, sc.run.flights, sc.run.seed + SELECTION_SEED_OFFSET, cache)
    up = float(np.mean(rs.radar_up[:, 0]))
    assert np.all(rs.detected == rs.radar_up[:, 0])          # on the route, R0 detects iff it is up
    assert r.steps[0].index == 0
    assert r.steps[0].gain == pytest.approx(0.6 * (1.0 - up), abs=1e-9)
    # with R0 always up there is nothing left to gain
    sc1 = _sc(_doc([_radar("R0", LAT0, 43.0, avail=1.0, range_km=40.0)], sigma_km=0.0))
    r1 = place(sc1, 1, "R0", candidates=_cands([(LAT0, 43.0)]), select_campaigns=20, cache=cache)
    assert r1.steps[0].gain == 0.0


def test_secondary_candidate_gains_nothing_with_transponders_off():
    sc = _sc(_doc([_radar("R0", LAT0, 42.6, avail=0.5), _radar("SSR", LAT0, 42.6, kind="secondary",
                                                                 range_km=100.0)], xpdr=0.0))
    r = place(sc, 2, "SSR", candidates=_toy_cands(), select_campaigns=20)
    assert all(s.gain == 0.0 for s in r.steps)
    assert not r.evaluated.any()                              # no column was worth computing
    assert r.rescore_prefix[-1].value == r.rescore_prefix[0].value
    assert any("transponder" in note for note in r.notes)


def test_adaptive_loop_terminates_robust_below_naive_and_routes_are_valid():
    doc = _doc([_radar("R0", LAT0, 42.6, avail=0.9, range_km=25.0)], sigma_km=5.0, campaigns=20)
    sc = _sc(doc)
    budget_km = 30.0
    r = place(sc, 1, "R0", candidates=_toy_cands(), against="adaptive", max_extra_km=budget_km, rounds=3,
              select_campaigns=20)
    assert 1 <= len(r.rounds) <= 4
    assert r.rounds[-1].new_layout is None                    # the loop ended
    naive = r.rescore_layout.value
    robust, route = r.robust_value("layout")
    assert robust <= naive + 1e-12                            # the price of adaptation is never negative
    assert r.robust_value("fixed")[0] <= r.rescore_fixed.value + 1e-12
    assert r.flyer_routes
    from geo.geodesy import leg_geometry
    direct = float(leg_geometry([LAT0, LAT0], [42.0, 44.0])[1].sum())
    for f in r.flyer_routes:
        # a valid route of the scenario: it validates as one of its routes, between the same endpoints,
        # within the budget
        d = json.loads(json.dumps(doc))
        d["route"].append(f.route_table())
        parsed = parse_scenario(d, source="toy.toml")
        assert parsed.routes[-1].waypoints[0].lat_deg == pytest.approx(LAT0)
        assert parsed.routes[-1].waypoints[-1].lon_deg == pytest.approx(44.0)
        assert float(leg_geometry(f.lat_deg, f.lon_deg)[1].sum()) - direct <= budget_km * 1000.0 + 1.0


def test_adaptive_layout_cannot_be_beaten_by_the_route_search_at_any_level_or_budget():
    # One copy of R0 (100 km, Pd 1, up 90% of the time) on the midpoint of a 373 km route, smooth Earth. On a
    # 10 m mast it sees a target at 300 m only to its horizon, 84 km (4/3 Earth); on a 300 m mast to its range,
    # 100 km, as at 3,000 m. Within 40 km extra the flyer passes at most 89 km from the midpoint: it skirts the
    # short mast's coverage at 300 m (flown with the 5 km spread, a share of its flights still stray into it),
    # never the tall one's. Greedy (the scenario's route, at 3,000 m) cannot tell the two apart and takes the first; the
    # loop must find the 300 m route and take the tall mast. Its robust value (the Monte Carlo against the
    # flyer's best route) must then hold against the route search itself, run afresh against the final layout
    # at every level and budget the flyer was given: no route's P(detect) as flown, by the search (p_search,
    # within the loop's tolerance) or by the Monte Carlo (its 95% interval), is below it (its interval).
    from sim.optimise.route import evade
    doc = _doc([_radar("R0", 35.5, 43.0, avail=0.9, range_km=100.0)], lon=(41.0, 45.0), sigma_km=5.0, campaigns=40)
    sc = _sc(doc)
    cache = PrepCache()
    cands = [Candidate("short mast", LAT0, 43.0, 10.0, None), Candidate("tall mast", LAT0, 43.0, 300.0, None),
             Candidate("far", 35.0, 43.0, 10.0, None)]
    r = place(sc, 1, "R0", candidates=cands, against="adaptive", max_extra_km=40.0, levels="cruise,300",
              select_campaigns=20, cache=cache)
    assert [lv.label for lv in r.levels] == ["3,000 m AMSL", "300 m AMSL"]
    assert r.flyer_budgets_km == (10.0, 20.0, 40.0) and r.flyer_spread_m == 5000.0
    assert all(f.spread_m == 5000.0 for f in r.flyer_routes)                # flown with the scenario's spread
    assert r.fixed_layout == (0,) and r.layout == (1,) and r.converged
    assert r.robust_value("fixed")[0] < 0.8                                  # the short mast: skirted at 300 m
    assert r.robust_value("today")[0] < 0.01                                 # today: nothing on the way
    robust, name = r.robust_value("layout")
    rs = r.rescore_flyer.get(("layout", name))
    lo = rs.ci95[0] if rs is not None else r.rescore_layout.route_values[name][2][0]
    assert 0.8 < robust < 0.95                                               # held to the availability
    placed = parse_scenario(r.rescore_layout.doc, source="toy.toml")
    checked = 0
    for lv in r.levels:
        res = evade(placed, r.flyer_budgets_km, levels=(lv,), campaigns=100, flights=10, seed=7, cache=cache)
        for route in res.routes():
            assert route.p_search >= lo - 0.01, (lv.label, route.label, route.p_search, robust)
            assert route.summary["p_detect_ci95"][1] >= lo, (lv.label, route.label, route.p_detect, robust)
            checked += 1
    assert checked == 2 * (1 + 3)


# --- the files ------------------------------------------------------------------------------------------
def _write_toy(tmp_path, doc):
    from sim.products.evade import toml_text
    p = tmp_path / "toy.toml"
    p.write_text(toml_text(doc), encoding="utf-8")
    sites = tmp_path / "sites.csv"
    with open(sites, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "lat", "lon", "mast_m"])
        for k, (a, b) in enumerate([(33.0, 43.3), (33.2, 43.3), (32.75, 43.3), (35.0, 43.3)]):
            w.writerow([f"site {k}", a, b, 12])
    return p, sites


def test_rescore_equals_airpicture_run_on_the_written_scenario(tmp_path, run_cli):
    p, sites = _write_toy(tmp_path, _doc([_radar("R0", LAT0, 42.6, avail=0.5)], campaigns=30))
    code, out, err = run_cli("place", p, "--add", "2", "--like", "R0", "--candidates", sites, "--select-campaigns",
                             "20", "--out", tmp_path / "place", "-q")
    assert code == 0, err
    for name in ("README.txt", "steps.csv", "candidates.csv", "place.json", "objective.png", "map.png",
                 "placed.toml"):
        assert (tmp_path / "place" / name).is_file()
    written = tomllib.loads((tmp_path / "place" / "placed.toml").read_text())
    assert [t["name"] for t in written["radar"]][1:] == [
        json.loads((tmp_path / "place" / "place.json").read_text())["layout"]["sites"][k]["name"] for k in range(2)]
    assert written["radar"][1]["antenna_height_m"] == 12.0          # the CSV's mast
    code, _, err = run_cli("run", tmp_path / "place" / "placed.toml", "--out", tmp_path / "run", "-q")
    assert code == 0, err
    ran = read_summary(tmp_path / "run")
    ran.pop("flights_file")
    placed = json.loads((tmp_path / "place" / "place.json").read_text())
    assert ran == placed["layout"]["summary"]                      # exactly: same seed, same file
    with open(tmp_path / "place" / "steps.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[-1]["objective_mc"]) == ran["p_detect"]


@pytest.mark.parametrize("args,needle", [
    (["--like", "Nope"], "no radar named 'Nope'"),
    (["--like", "R0", "--grid-km", "0.5"], "--grid-km: must be between"),
    (["--like", "R0", "--objective", "stopped"], "order to land"),
    (["--like", "R0", "--candidates", "BAD"], "line 2: lat: must be a number"),
    (["--like", "R0", "--candidates", "MISSING"], "no such file"),
    (["--like", "R0", "--against", "adaptive", "--levels", "high"], "--levels: cannot read"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, run_cli, args, needle):
    p, sites = _write_toy(tmp_path, _doc([_radar("R0", LAT0, 42.6)]))
    bad = tmp_path / "bad.csv"
    bad.write_text("lat,lon\nx,43\n", encoding="utf-8")
    args = [str(bad) if a == "BAD" else str(tmp_path / "missing.csv") if a == "MISSING" else a for a in args]
    code, out, err = run_cli("place", p, "--add", "1", *args, "--out", tmp_path / "o", "-q")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_help_examples_parse_and_name_shipped_scenarios(run_cli):
    import shlex

    from sim.catalog import resolve_scenario
    from sim.cli import build_parser
    code, out, _ = run_cli("place", "--help")
    assert code == 0 and "docs/place.md" in out and "--against" in out
    joined = out.replace("\\\n", " ")
    examples = [line.strip() for line in joined.splitlines() if line.strip().startswith("airpicture place")]
    assert len(examples) == 4
    for line in examples:
        args = build_parser().parse_args(shlex.split(line)[1:])
        assert args.func.__module__ == "sim.cli.place" and resolve_scenario(args.scenario).is_file()


def test_same_scenario_and_seed_give_byte_identical_files(tmp_path, run_cli):
    p, sites = _write_toy(tmp_path, _doc([_radar("R0", LAT0, 42.6, avail=0.5)], campaigns=10))
    for out in ("a", "b"):
        code, _, err = run_cli("place", p, "--add", "2", "--like", "R0", "--candidates", sites, "--select-campaigns",
                               "10", "--out", tmp_path / out, "-q")
        assert code == 0, err
    names = sorted(f.name for f in (tmp_path / "a").iterdir())
    assert names == sorted(f.name for f in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# --- orbit candidates (racetracks of an airborne like radar) ---------------------------------------------------
def _aew(name="AEW", *, waypoints=((34.5, 42.5), (34.5, 43.5)), alt_m=6000.0, range_km=40.0, pd=0.8, avail=0.8,
         scan_s=30.0, speed_kmh=600.0):
    return {"name": name, "kind": "primary",
            "orbit": {"waypoints": [{"lat": a, "lon": b} for a, b in waypoints], "altitude_m": alt_m,
                      "speed_kmh": speed_kmh},
            "range_km": range_km, "scan_period_s": scan_s, "availability": avail, "pd": pd}


def _tracks(quads):
    from sim.platforms import Racetrack
    return [Racetrack(f"t{k}", *map(float, q)) for k, q in enumerate(quads)]


def _reference_p(route, offset_m, waypoints, alt_m, speed_mps, range_m, pd, avail, period_s, m, n, refraction_k):
    """An orbit's P for a flight at ``offset_m`` off a route, by plain loops: the flight's position from the
    route's lat/lon/track interpolated and moved sideways on the sphere, the platform's from
    :meth:`sim.platforms.Orbit.position`, coverage from the spherical law of cosines (ground distance by arccos,
    horizon sqrt(2kRh1) + sqrt(2kRh2), slant range), and the m-of-n probability by enumerating every hit pattern
    of the covered scans; averaged over the loop and scan phases the placement states (LOOP_PHASES x PHASES,
    evenly spaced) and times the availability."""
    from geo.earth import EARTH_RADIUS_M as R
    from sim.optimise.placement import LOOP_PHASES, PHASES
    from sim.platforms import flying_orbit
    lat_w, lon_w = zip(*waypoints)
    orbit = flying_orbit(lat_w, lon_w, alt_m, speed_mps)
    kr = 2.0 * refraction_k * R
    total = 0.0
    for q in range(LOOP_PHASES):
        for ph in range(PHASES):
            pds = []
            k = 0
            while (ph + 0.5) / PHASES * period_s + k * period_s <= route.duration_s:
                t = ((ph + 0.5) / PHASES + k) * period_s
                k += 1
                lat0, lon0 = (np.radians(np.interp(t, route.t_s, v)) for v in (route.lat_deg, route.lon_deg))
                az = np.radians(np.interp(t, route.t_s, np.unwrap(route.track_deg, period=360.0)) + 90.0)
                alt = np.interp(t, route.t_s, route.alt_m)
                d = math.atan(offset_m / R)      # the offset, as positions_at applies it
                lat = math.asin(math.sin(lat0) * math.cos(d) + math.cos(lat0) * math.sin(d) * math.cos(az))
                lon = lon0 + math.atan2(math.sin(az) * math.sin(d) * math.cos(lat0),
                                        math.cos(d) - math.sin(lat0) * math.sin(lat))
                u = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
                p, _ = orbit.position(t, (q + 0.5) / LOOP_PHASES)
                theta = math.acos(min(1.0, float(np.dot(u, p))))
                r1, r2 = R + alt_m, R + alt
                slant = math.sqrt(r1 * r1 + r2 * r2 - 2.0 * r1 * r2 * math.cos(theta))
                seen = R * theta <= math.sqrt(kr * alt_m) + math.sqrt(kr * max(alt, 0.0)) and slant <= range_m
                pds.append(pd if seen else 0.0)
            pds = np.array(pds)
            cov = np.flatnonzero(pds > 0)
            assert len(cov) <= 16                                  # the enumeration stays small
            if not len(cov):
                continue
            patterns = np.array(list(itertools.product([0, 1], repeat=len(cov))), dtype=int).reshape(-1, len(cov))
            hits = np.zeros((len(patterns), len(pds)), dtype=int)
            hits[:, cov] = patterns
            held = np.zeros(len(patterns), dtype=bool)
            for j in range(len(pds)):                              # m of the last n scans, at each scan
                held |= hits[:, max(0, j - n + 1):j + 1].sum(axis=1) >= m
            prob = np.prod(np.where(patterns == 1, pds[cov], 1.0 - pds[cov]), axis=1)
            total += float(prob[held].sum())
    return avail * total / (LOOP_PHASES * PHASES)


def _orbit_columns(sc, tracks, objective="detect", campaigns=10, seed=11):
    """The selection sample of a scenario and the orbit candidates' columns on it (every flight)."""
    from sim.optimise.placement.candidates import _like_table, candidate_table
    from sim.optimise.placement.columns import _Columns
    from sim.optimise.placement.sample import _flight_set
    cache = PrepCache()
    like_table, spec = _like_table(sc, "AEW")
    tables = [candidate_table(like_table, "AEW", c) for c in tracks]
    fs = _flight_set("s", sc, objective, campaigns, sc.run.flights, seed, None, cache)
    cols = _Columns(fs, tables, objective, None, cache, spec, {})
    cols.sees = np.ones(fs.n, dtype=bool)                     # every flight, whatever the existing radars did
    return fs, spec, np.array([cols.column(j) for j in range(len(tracks))])


def test_orbit_column_equals_a_brute_force_loop_over_phases_and_hit_patterns():
    # reference: _reference_p (plain loops, independent geometry, every hit pattern enumerated); tolerance 1e-9:
    # the same phases, so only float rounding differs (positions agree to a millimetre)
    sc = _sc(_doc([_aew(waypoints=((36.0, 42.5), (36.0, 43.5)))], sigma_km=4.0, m=2, n=3, flights=5))
    track = (33.38, 42.8, 33.3, 43.3)          # 37-42 km north of the route, 40 km reach: partly covered
    fs, spec, P = _orbit_columns(sc, _tracks([track]), campaigns=4)
    from sim.flights import OFFSET_CLIP_SIGMA, OFFSET_STEP_M, nearest_row, offset_rows
    route = fs.sim.routes[0]
    offsets = offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, OFFSET_STEP_M)
    for target_m in (-1000.0, 3500.0, 5500.0):                 # flights 1 km north, 3.5 and 5.5 km south of it
        i = int(np.argmin(np.abs(fs.cross_track_m - target_m)))
        off = float(offsets[nearest_row(offsets, fs.cross_track_m[i])])
        want = _reference_p(route, off, ((track[0], track[1]), (track[2], track[3])), 6000.0, 600 / 3.6, 40e3, 0.8,
                            0.8, 30.0, 2, 3, sc.detection.refraction_k)
        assert 0.03 < want < 0.75                                 # partly covered: a test that can fail both ways
        assert P[0, i] == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("objective,what", [("detect", "detected"), ("track-in-airspace", "detected_in_airspace")])
def test_orbit_candidate_gain_agrees_with_the_monte_carlo(objective, what):
    # an orbit across the Syria-Iraq border at 40.05E, 30 km north of a 34N route, 2-of-3 at Pd 0.6: the
    # placement's expected new tracks (loop phases averaged) against the Monte Carlo's on the same flights
    # (its own loop phase per flight): binomial, 4 standard deviations
    sc = _sc(_doc([_aew(waypoints=((31.0, 47.0), (31.5, 47.0)), pd=0.6, scan_s=10.0)], lat=34.0, lon=(39.0, 41.5),
                  sigma_km=12.0, m=2, n=3, campaigns=150, flights=10))
    cache = PrepCache()
    tr = _tracks([(34.3, 39.6, 34.3, 40.5)])
    r = place(sc, 1, "AEW", candidates=tr, objective=objective, select_campaigns=150, cache=cache)
    seed = sc.run.seed + SELECTION_SEED_OFFSET
    base, rb = _mc_value(sc, [], 150, sc.run.flights, seed, cache, what)
    with_c, rc = _mc_value(sc, [r.tables[0]], 150, sc.run.flights, seed, cache, what)
    assert base == pytest.approx(r.base_value, abs=1e-12)
    n = len(rc.detected)
    new = int(np.sum(getattr(rc, what) & ~getattr(rb, what)))
    expect = n * r.steps[0].gain
    assert 0.05 * n < expect < 0.95 * n
    assert abs(new - expect) <= 4.0 * math.sqrt(expect) + 1.0


def test_zero_length_racetrack_equals_a_fixed_site_at_its_altitude():
    # both waypoints the same point: the platform holds it (a one-waypoint orbit), seen as a site with its
    # antenna at the orbit's altitude (smooth Earth, 0 m ground); the fixed site's column reads its detection
    # table (nearest second), the orbit's its exact geometry: per flight within 0.01, on average within 0.001
    far_orbit = _aew(waypoints=((36.0, 42.5), (36.0, 43.5)), scan_s=10.0, pd=0.5)
    sc = _sc(_doc([far_orbit], sigma_km=8.0, m=2, n=3, flights=10))
    hold = _tracks([(33.33, 43.0, 33.33, 43.0)])
    fs, _, P_orbit = _orbit_columns(sc, hold, campaigns=10)
    from sim.optimise.placement.candidates import _like_table, candidate_table
    from sim.optimise.placement.columns import _Columns
    from sim.optimise.placement.sample import _flight_set
    site = {k: v for k, v in far_orbit.items() if k != "orbit"} | {"lat": 36.0, "lon": 43.0, "elevation_m": 0.0,
                                                                    "antenna_height_m": 6000.0}
    sc_f = _sc(_doc([site], sigma_km=8.0, m=2, n=3, flights=10))
    cache = PrepCache()
    like_table, spec = _like_table(sc_f, "AEW")
    table = candidate_table(like_table, "AEW", Candidate("hold", 33.33, 43.0, 6000.0, None))
    fs_f = _flight_set("s", sc_f, "detect", 10, sc_f.run.flights, 11, None, cache)
    assert np.array_equal(fs_f.cross_track_m, fs.cross_track_m)        # the same flights (same streams)
    cols = _Columns(fs_f, [table], "detect", None, cache, spec, {})
    cols.sees = np.ones(fs_f.n, dtype=bool)
    P_site = cols.column(0)
    written = candidate_table(_like_table(sc, "AEW")[0], "AEW", hold[0])
    assert written["orbit"]["waypoints"] == [{"lat": 33.33, "lon": 43.0}]   # one waypoint: it holds there
    assert 0.1 < P_site.mean() < 0.6
    assert np.max(np.abs(P_orbit[0] - P_site)) <= 0.01
    assert abs(P_orbit[0].mean() - P_site.mean()) <= 0.001


def test_k1_over_racetracks_picks_the_brute_force_best():
    # two routes (33.0N and 33.5N, no sideways spread), 1-of-1 at Pd 0.5: a racetrack's P per flight is
    # 1 - prod(1 - pd_k) over its covered scans, averaged over the phases (the reference above); each
    # candidate's value alone is then the route shares of the sample times those, independent of the placement
    doc = _doc([_aew(waypoints=((36.0, 42.5), (36.0, 43.5)), pd=0.5, avail=0.9)], sigma_km=0.0, flights=10)
    doc["route"].append({"name": "north", "waypoints": [{"lat": 33.5, "lon": 42.0}, {"lat": 33.5, "lon": 44.0}],
                         "cross_track_sigma_km": 0.0, "weight": 0.5})
    sc = _sc(doc)
    quads = [(33.25, 42.6, 33.25, 43.0), (32.8, 43.0, 33.1, 43.0), (33.6, 43.2, 33.75, 43.6), (33.4, 42.6, 33.4, 42.6)]
    cache = PrepCache()
    r = place(sc, 1, "AEW", candidates=_tracks(quads), select_campaigns=12, cache=cache)
    _, rs = _mc_value(sc, [], 12, sc.run.flights, sc.run.seed + SELECTION_SEED_OFFSET, cache)
    assert not rs.detected.any()                                  # the existing orbit is far: every flight can gain
    share = np.bincount(rs.batch.route_index, minlength=2) / len(rs.detected)
    sim = prepare(sc)
    value = []
    for q in quads:
        wps = ((q[0], q[1]),) if q[:2] == q[2:] else ((q[0], q[1]), (q[2], q[3]))
        value.append(sum(share[i] * _reference_p(sim.routes[i], 0.0, wps, 6000.0, 600 / 3.6, 40e3, 0.5, 0.9, 30.0,
                                                 1, 1, sc.detection.refraction_k) for i in range(2)))
    assert len(set(np.round(value, 6))) == len(quads)              # no ties: the argmax is a real choice
    assert r.steps[0].index == int(np.argmax(value))
    assert r.steps[0].value == pytest.approx(max(value), abs=1e-9)
    exact = r.singleton_exact
    np.testing.assert_allclose(r.singleton[exact], np.array(value)[exact], atol=1e-9)
    assert np.all(r.singleton[~exact] >= np.array(value)[~exact] - 1e-12)   # the others stand in by their bounds


def test_reach_matrix_bounds_orbit_columns():
    # the geometric bound (the loop's positions 5 km apart, that spacing added) is above every orbit column,
    # and 0 only where the column is 0; racetracks near the edge of reach of the route's flights
    sc = _sc(_doc([_aew(waypoints=((36.0, 42.5), (36.0, 43.5)), pd=0.9, scan_s=10.0)], sigma_km=10.0, flights=10))
    quads = [(33.4, 42.5, 33.45, 43.5), (33.55, 42.8, 33.6, 43.2), (32.45, 43.0, 32.6, 43.6), (33.0, 43.0, 33.0, 43.0),
             (34.5, 43.0, 34.6, 43.2)]
    tr = _tracks(quads)
    fs, spec, P = _orbit_columns(sc, tr, campaigns=10)
    from sim.optimise.placement import reach_matrix
    upper = reach_matrix(fs, np.arange(fs.n), tr, spec)
    assert np.all(P.T <= upper + 1e-12)
    assert np.all(upper[:, -1] == 0.0) and np.all(P[-1] == 0.0)        # 110 km north of the route: out of reach
    assert np.any((upper[:, 1] > 0) & (P[1] == 0.0)) and np.any(P[1] > 0)   # at the edge: some flights, not all
    assert np.all((P.T > 0) <= (upper > 0))


def test_orbit_grid_copies_the_like_racetrack_onto_the_grid():
    # every grid racetrack has the like's length and heading at its centre, and is centred on a grid point of the
    # fixed-site grid (pyproj.Geod as the reference; 1 m and 1e-6 deg)
    from geo.geodesy import WGS84
    from sim.optimise.placement.candidates import _like_table, grid_candidates, orbit_grid_candidates
    sc = _sc(_doc([_aew(waypoints=((33.0, 41.2), (34.5, 42.2)))]))
    spec = _like_table(sc, "AEW")[1]
    tracks = orbit_grid_candidates(sc, 150e3, spec)
    sites = grid_candidates(sc, 150e3, 10.0)
    assert len(tracks) == len(sites) > 5
    az_like, _, len_like = WGS84.inv(41.2, 33.0, 42.2, 34.5)
    lon_m, lat_m, back = WGS84.fwd(41.2, 33.0, az_like, len_like / 2)
    for t, c in zip(tracks, sites):
        az, _, length = WGS84.inv(t.lon1_deg, t.lat1_deg, t.lon2_deg, t.lat2_deg)
        assert length == pytest.approx(len_like, abs=30.0)        # the ends are rounded to 1e-4 deg (11 m)
        lon_c, lat_c, back_c = WGS84.fwd(t.lon1_deg, t.lat1_deg, az, length / 2)
        assert (lat_c, lon_c) == pytest.approx((c.lat_deg, c.lon_deg), abs=2e-4)
        assert (back_c - back) % 360.0 == pytest.approx(0.0, abs=0.01) or (back_c - back) % 360.0 == pytest.approx(
            360.0, abs=0.01)


@pytest.mark.slow
def test_adaptive_flyer_answers_orbit_candidates():
    # the red-team route search takes a layout of orbits (its hazards averaged over the loop): the loop ends, and
    # the robust value never exceeds the naive one
    sc = _sc(_doc([_aew(waypoints=((36.0, 42.5), (36.0, 43.5)), scan_s=10.0)], sigma_km=5.0, campaigns=20))
    r = place(sc, 1, "AEW", candidates=_tracks([(33.2, 42.5, 33.2, 43.5), (32.5, 43.0, 33.5, 43.0)]),
              against="adaptive", max_extra_km=30.0, rounds=2, select_campaigns=20)
    assert r.rounds[-1].new_layout is None
    assert r.flyer_routes
    assert r.robust_value("layout")[0] <= r.rescore_layout.value + 1e-12
    assert "orbit" in r.rescore_layout.doc["radar"][-1]


def _write_orbit_toy(tmp_path, doc):
    from sim.products.evade import toml_text
    p = tmp_path / "toy.toml"
    p.write_text(toml_text(doc), encoding="utf-8")
    tracks = tmp_path / "racetracks.csv"
    tracks.write_text("name,lat1,lon1,lat2,lon2\nnear,33.2,42.6,33.2,43.4\ncross,32.6,43.0,33.4,43.0\n"
                      "hold,33.3,43.5,33.3,43.5\nfar,35.5,42.6,35.5,43.4\n", encoding="utf-8")
    return p, tracks


def test_orbit_rescore_equals_airpicture_run_on_the_written_scenario(tmp_path, run_cli):
    p, tracks = _write_orbit_toy(tmp_path, _doc([_aew(waypoints=((36.0, 42.5), (36.0, 43.5)), scan_s=10.0,
                                                      avail=0.5)], campaigns=20, sigma_km=8.0, m=2, n=3))
    code, out, err = run_cli("place", p, "--add", "2", "--like", "AEW", "--candidates", tracks, "--select-campaigns",
                             "10", "--out", tmp_path / "place", "-q")
    assert code == 0, err
    placed = json.loads((tmp_path / "place" / "place.json").read_text())
    assert placed["question"]["platform"] == "orbit"
    written = tomllib.loads((tmp_path / "place" / "placed.toml").read_text())
    new = written["radar"][1:]
    assert [t["name"] for t in new] == [s["name"] for s in placed["layout"]["sites"]]
    with open(tracks, newline="") as fh:
        rows = {r["name"]: r for r in csv.DictReader(fh)}
    for t in new:
        want = [{"lat": float(rows[t["name"]][f"lat{k}"]), "lon": float(rows[t["name"]][f"lon{k}"])} for k in (1, 2)]
        assert t["orbit"]["waypoints"] == (want[:1] if want[0] == want[1] else want)
        assert (t["orbit"]["altitude_m"], t["orbit"]["speed_kmh"], t["range_km"]) == (6000.0, 600.0, 40.0)
        assert "lat" not in t and "antenna_height_m" not in t
    code, _, err = run_cli("run", tmp_path / "place" / "placed.toml", "--out", tmp_path / "run", "-q")
    assert code == 0, err
    ran = read_summary(tmp_path / "run")
    ran.pop("flights_file")
    assert ran == placed["layout"]["summary"]                      # exactly: same seed, same file
    with open(tmp_path / "place" / "steps.csv", newline="") as fh:
        steps = list(csv.DictReader(fh))
    assert float(steps[-1]["objective_mc"]) == ran["p_detect"]
    assert {"lat1", "lon1", "lat2", "lon2", "altitude_m"} <= set(steps[0])
    assert "orbit" in (tmp_path / "place" / "README.txt").read_text()


@pytest.mark.parametrize("like,rows,extra,needle", [
    ("AEW", "lat1,lon1,lat2,lon2\n33,42.6,33,43.4\n33,x,33,43\n", [], "line 3: lon1: must be a number"),
    ("AEW", "lat1,lon1,lat2,lon2\n33,42.6,33.004,42.6\n", [], "line 2: the waypoints are 444 m apart"),
    ("AEW", "lat1,lon1,lat2\n33,42.6,33\n", [], "line 1: the header has no column 'lon2'"),
    ("AEW", "lat1,lon1,lat2,lon2,name\n33,42.6,33,43,a\n33,42.6,34,43,a\n", [], "line 3: name: 'a' is given twice"),
    ("AEW", "lat,lon\n33,42.6\n", [], "line 1: sites (lat,lon) are candidates for a --like radar on a fixed site"),
    ("R0", "lat1,lon1,lat2,lon2\n33,42.6,33,43.4\n", [], "line 1: racetracks (lat1,lon1,lat2,lon2) are candidates"),
    ("AEW", None, [], "flies an orbit: give its candidate racetracks"),
    ("AEW", None, ["--candidates", "airbases"], "airbases lists sites for a --like radar on a fixed site"),
    ("AEW", None, ["--candidates", "high-ground"], "high-ground lists sites for a --like radar on a fixed site"),
])
def test_bad_racetracks_exit_2_with_one_line(tmp_path, run_cli, like, rows, extra, needle):
    p, _ = _write_orbit_toy(tmp_path, _doc([_aew(waypoints=((36.0, 42.5), (36.0, 43.5))), _radar("R0", LAT0, 42.6)]))
    args = []
    if rows is not None:
        bad = tmp_path / "bad.csv"
        bad.write_text(rows, encoding="utf-8")
        args = ["--candidates", bad]
    code, out, err = run_cli("place", p, "--add", "1", "--like", like, *args, *extra, "--out", tmp_path / "o", "-q")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    if rows is not None:
        assert "bad.csv" in err                                    # the file is named


# --- candidate lists by name: airbases and high ground ------------------------------------------------------
def _iraq(terrain):
    from sim.pipeline import load
    from conftest import SCENARIOS
    return load(SCENARIOS / "iraq_2012_transponder_off.toml", [f"detection.terrain={str(terrain).lower()}"])


def _inside_slow(sc, lat, lon):
    """Whether each point lies inside the scenario's airspace: one shapely ``contains`` per point (the slow
    reference for the vectorized ``contains_xy``)."""
    import shapely.geometry
    from sim.airspace import build_airspace
    a = build_airspace(sc)
    return [bool(a.polygon_m.contains(shapely.geometry.Point(*a.transformer.transform(b, la))))
            for la, b in zip(lat, lon)]


@pytest.mark.parametrize("terrain", [False, True])
def test_airbases_are_the_table_airfields_inside_the_airspace(terrain):
    # reference: geo/data/airports.csv read with the csv module (elevation: feet x 0.3048, the international
    # foot), each airfield tested by its own shapely Point; with terrain masking on, the ground is the terrain
    # model's at the site (bilinear, rounded to 0.1 m), as a grid site's
    from importlib.resources import files

    from geo.terrain import elevation_m, load_terrain
    from sim.optimise.placement import airbase_candidates
    sc = _iraq(terrain)
    ter = load_terrain() if terrain else None
    got = airbase_candidates(sc, 15.0, ter)
    rows = list(csv.DictReader(files("geo.data").joinpath("airports.csv").read_text(encoding="utf-8").splitlines()))
    inside = _inside_slow(sc, [float(r["lat_deg"]) for r in rows], [float(r["lon_deg"]) for r in rows])
    want = [r for r, ok in zip(rows, inside) if ok]
    assert len(want) == 14 and {r["country"] for r in want} == {"IRQ"}       # Iraq's 14; none of its neighbours'
    assert [c.name for c in got] == [f"{r['icao']} {r['name']}" for r in want]
    assert len({c.name for c in got}) == len(got)
    for c, r in zip(got, want):
        assert (c.lat_deg, c.lon_deg, c.antenna_height_m) == (float(r["lat_deg"]), float(r["lon_deg"]), 15.0)
        if terrain:
            assert c.elevation_m == pytest.approx(float(elevation_m(ter, c.lat_deg, c.lon_deg)), abs=0.05)
        else:
            assert c.elevation_m == pytest.approx(float(r["elevation_ft"]) * 0.3048, abs=0.05)


def _peaks_brute_force(z, lat, lon, inside, sep_m):
    """Every cell inside that no higher inside cell within ``sep_m`` (pyproj geodesic, all pairs) overtops,
    taken highest first (ties: north, then west) and skipped within ``sep_m`` of one taken: plain loops."""
    import pyproj
    geod = pyproj.Geod(ellps="WGS84")
    cells = [(i, j) for i in range(z.shape[0]) for j in range(z.shape[1]) if inside[i, j]]
    la = np.array([lat[i] for i, _ in cells])
    lo = np.array([lon[j] for _, j in cells])
    h = np.array([z[i, j] for i, j in cells], dtype=float)
    peaks = []
    for k in range(len(cells)):
        d = geod.inv(np.full(len(cells), lo[k]), np.full(len(cells), la[k]), lo, la)[2]
        if not np.any((h > h[k]) & (d <= sep_m)):
            peaks.append(k)
    peaks.sort(key=lambda k: (-h[k], cells[k][0], cells[k][1]))
    taken = []
    for k in peaks:
        if all(geod.inv(lo[k], la[k], lo[t], la[t])[2] >= sep_m for t in taken):
            taken.append(k)
    return [(la[k], lo[k], h[k]) for k in taken]


def test_terrain_peaks_equal_brute_force_on_a_random_terrain():
    # reference: _peaks_brute_force (every pair of cells, pyproj geodesic, shapely Point per cell); exact: the
    # same cells, heights and order (the vectorized prefilter must drop no peak)
    import shapely.geometry

    from geo.projection import region_transformer
    from geo.terrain import Terrain
    from sim.optimise.placement import terrain_peaks
    rng = np.random.default_rng(7)
    z = rng.integers(0, 60, size=(48, 60)) * 50          # coarse steps: ties between peaks happen
    ter = Terrain(elevation_m=z.astype(np.int16), lat_max_deg=34.0, lon_min_deg=43.0, cell_deg=1 / 120)
    tr = region_transformer(33.8, 43.25)
    box = shapely.geometry.Polygon([(43.03, 33.63), (43.47, 33.66), (43.45, 33.97), (43.06, 33.95)])
    poly = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    lat = 34.0 - (np.arange(48) + 0.5) / 120
    lon = 43.0 + (np.arange(60) + 0.5) / 120
    inside = np.array([[poly.contains(shapely.geometry.Point(*tr.transform(b, a))) for b in lon] for a in lat])
    want = _peaks_brute_force(z, lat, lon, inside, 8_000.0)
    assert 5 <= len(want) <= 40
    for count in (len(want) + 5, 3):
        got = terrain_peaks(ter, poly, tr, count=count, separation_m=8_000.0)
        assert [tuple(map(float, p)) for p in zip(*got)] == [tuple(map(float, p)) for p in want[:count]]


def test_high_ground_sites_over_iraq_are_separated_local_maxima_inside_the_airspace():
    # reference: the DEM's cells around each site (pyproj geodesic to each; shapely Point per higher cell), the
    # site's own cell value, pairwise pyproj geodesics between the sites (1 m: sites are rounded to 1e-6 deg)
    import pyproj
    import shapely.geometry

    from geo.terrain import load_terrain
    from sim.airspace import build_airspace
    from sim.optimise.placement import HIGH_GROUND_COUNT, HIGH_GROUND_SEPARATION_M, high_ground_candidates
    sc, ter = _iraq(False), load_terrain()
    got = high_ground_candidates(sc, ter, 15.0)
    assert len(got) == HIGH_GROUND_COUNT and len({c.name for c in got}) == len(got)
    assert all(_inside_slow(sc, [c.lat_deg for c in got], [c.lon_deg for c in got]))
    geod, sep = pyproj.Geod(ellps="WGS84"), HIGH_GROUND_SEPARATION_M
    a = build_airspace(sc)
    z, c = ter.elevation_m, ter.cell_deg
    for s in got:
        i, j = int((ter.lat_max_deg - s.lat_deg) // c), int((s.lon_deg - ter.lon_min_deg) // c)
        assert s.elevation_m == float(z[i, j])                  # the cell's own height (terrain masking off)
        ii, jj = np.meshgrid(np.arange(i - 40, i + 41), np.arange(j - 50, j + 51), indexing="ij")  # +-37 km
        higher = z[ii, jj] > z[i, j]
        la = ter.lat_max_deg - (ii[higher] + 0.5) * c
        lo = ter.lon_min_deg + (jj[higher] + 0.5) * c
        near = geod.inv(np.full(la.size, s.lon_deg), np.full(la.size, s.lat_deg), lo, la)[2] <= sep
        for b, x in zip(la[near], lo[near]):
            assert not a.polygon_m.contains(shapely.geometry.Point(*a.transformer.transform(x, b))), (s.name, b, x)
    heights = [s.elevation_m for s in got]
    assert heights == sorted(heights, reverse=True)
    for p, q in itertools.combinations(got, 2):
        assert geod.inv(p.lon_deg, p.lat_deg, q.lon_deg, q.lat_deg)[2] >= sep - 1.0


def test_place_from_airbases_writes_a_runnable_scenario(tmp_path, run_cli):
    from conftest import SCENARIOS
    from sim.optimise.placement import airbase_candidates
    code, out, err = run_cli("place", SCENARIOS / "iraq_2012_transponder_off.toml", "--add", "1", "--like",
                             "Kirkuk PSR", "--candidates", "airbases", "--select-campaigns", "10", "--campaigns",
                             "10", "--set", "detection.terrain=false", "--out", tmp_path / "place", "-q")
    assert code == 0, err
    placed = json.loads((tmp_path / "place" / "place.json").read_text())
    written = tomllib.loads((tmp_path / "place" / "placed.toml").read_text())
    new = written["radar"][-1]
    assert new["name"] == placed["layout"]["sites"][0]["name"]
    cands = {c.name: c for c in airbase_candidates(_iraq(False), 15.0)}
    c = cands[new["name"]]
    assert (new["lat"], new["lon"], new["elevation_m"]) == (c.lat_deg, c.lon_deg, c.elevation_m)
    with open(tmp_path / "place" / "candidates.csv", newline="") as fh:
        assert [r["site"] for r in csv.DictReader(fh)] == list(cands)
    assert len(written["radar"]) == len(_iraq(False).radars) + 1


def test_api_place_takes_high_ground():
    from sim import api
    from sim.optimise.placement import high_ground_candidates
    from geo.terrain import load_terrain
    from conftest import SCENARIOS
    r = api.place(SCENARIOS / "iraq_2012_transponder_off.toml", 1, "Kirkuk PSR",
                  overrides={"detection.terrain": False}, candidates="high-ground", select_campaigns=10,
                  campaigns=10)
    assert r.candidates == high_ground_candidates(_iraq(False), load_terrain(), 15.0)
    assert r.tables[r.layout[0]]["elevation_m"] == r.candidates[r.layout[0]].elevation_m > 0


def test_map_site_numbers_cover_no_other_number_or_site():
    """Chosen sites 20 km apart (the greedy picks a cluster on the transponders-off scenario): each number
    sits beside its own site, no number's box covers another number or any site's marker."""
    import matplotlib
    matplotlib.use("Agg")
    from sim import api
    from sim.products.place import map_figure
    from conftest import SCENARIOS
    r = api.place(SCENARIOS / "iraq_2012_transponder_off.toml", 3, "Kirkuk PSR",
                  overrides={"detection.terrain": False}, grid_km=25.0, select_campaigns=20, campaigns=10)
    fig = map_figure(r)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    numbers = [t for t in ax.texts if t.get_gid() == "site-number"]
    assert sorted(t.get_text() for t in numbers) == ["1", "2", "3"]
    boxes = [t.get_window_extent(renderer) for t in numbers]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j])
    sites = ax.transData.transform(np.array([t.xy for t in numbers]))
    for b in boxes:
        assert not any(b.contains(x, y) for x, y in sites)
