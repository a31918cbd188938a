"""The least-detectable route (``airpicture evade``, :mod:`sim.optimise.route`), against geometry and brute force.

The geometric tests fly one radar of constant Pd on a smooth Earth (terrain off): its coverage at the
cruise level is a disk, so the optimum is known in closed form (the tangent-arc detour) or by a brute
force over straight crossings between arcs (a short chord near the edge). Distances there are on the
sphere of the line-of-sight model (geo.earth), where the disk is a disk.
"""
import csv
import dataclasses
import heapq
import json
import math
import re
import tomllib
import xml.dom.minidom

import numpy as np
import pytest
from matplotlib.figure import Figure
from pyproj import Geod

from conftest import ROOT, SCENARIOS, ogc_kml22_schema, read_summary
from geo.earth import azimuth_deg, destination_deg, ground_distance_m, horizon_distance_m, slant_range_m
from geo.geodesy import positions_along_route
from geo.terrain import elevation_m, min_visible_alt_m
from sim.optimise.route import (LagrangianSearch, Level, evade, grid_graph, hazard_field, level_altitude_m,
                                search_grid)
from sim.airspace import build_airspace
from sim.montecarlo import prepare
from sim.pipeline import load
from sim.products.evade import FRONT_COLUMNS, draw_front, front_rows, toml_text
from sim.radar import pd_from_reference
from sim.scenario import parse_scenario

RADAR = (33.0, 44.0)
A_M = 100_000.0            # the endpoints, each this far from the radar (west and east)
RANGE_M = 50_000.0
ALT_M = 1000.0
ANTENNA_M = 10.0
H_M = 2000.0               # grid spacing of the geometric tests


def _disk_doc(pd=0.01, scan_s=10.0, campaigns=30, flights=10, response=True):
    la_a, lo_a = destination_deg(*RADAR, 270.0, A_M)
    la_b, lo_b = destination_deg(*RADAR, 90.0, A_M)
    doc = {
        "scenario": {"name": "disk", "title": "one constant-Pd disk on a smooth Earth"},
        "run": {"campaigns": campaigns, "flights": flights, "seed": 11},
        "aircraft": {"cruise_altitude_m": ALT_M, "transponder_on_probability": 0.0},
        "route": [{"name": "direct", "waypoints": [{"lat": float(la_a), "lon": float(lo_a)},
                                                   {"lat": float(la_b), "lon": float(lo_b)}]}],
        "radar": [{"name": "disk", "lat": RADAR[0], "lon": RADAR[1], "antenna_height_m": ANTENNA_M,
                   "elevation_m": 0.0, "kind": "primary", "range_km": RANGE_M / 1000.0, "scan_period_s": scan_s,
                   "pd": pd}],
        "detection": {"terrain": False},
    }
    if response:
        doc["response"] = {"decision_delay_min": 0.0, "order_to_land": {"airports": ["ORBI"], "compliance": 0.5}}
    return doc


def _disk_radius_m():
    """Ground radius of the coverage at the cruise level: slant range = the instrumented range (bisection
    on the sphere's law of cosines, :func:`geo.earth.slant_range_m`); the horizon (143 km) is farther."""
    lo, hi = 0.0, RANGE_M
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if slant_range_m(mid, ANTENNA_M, ALT_M) <= RANGE_M else (lo, mid)
    assert lo < horizon_distance_m(ANTENNA_M, ALT_M, 4.0 / 3.0)
    return lo


def _sphere_length_m(route):
    return float(ground_distance_m(route.lat_deg[:-1], route.lon_deg[:-1], route.lat_deg[1:],
                                   route.lon_deg[1:]).sum())


def _in_disk_m(route, rho_m, n=20_000):
    """Length of the route (its geodesic legs, sampled) within ``rho_m`` of the radar."""
    s = np.linspace(0.0, route.length_m, n)
    la, lo, _ = positions_along_route(route.lat_deg, route.lon_deg, s)
    return float(np.mean(ground_distance_m(la, lo, *RADAR) <= rho_m) * route.length_m)


def _chord_optimum_m(rho, a, extra, n=2881):
    """The shortest chord of a disk (radius ``rho``, centred between two points ``2 a`` apart) that a path of
    length at most ``2 a + extra`` crosses: brute force over the entry and exit points; outside the disk the
    path is the shortest way round (straight where visible, else tangent and arc)."""
    phi = np.linspace(-np.pi, np.pi, n)
    beta = np.arccos(rho / a)
    tangent = np.sqrt(a * a - rho * rho)

    def reach(angle):          # from an endpoint at angle 0 (seen from the centre) to the point at ``angle``
        d = np.abs(np.angle(np.exp(1j * angle)))
        return np.where(d <= beta, np.sqrt(a * a + rho * rho - 2 * a * rho * np.cos(d)), tangent + rho * (d - beta))

    p = np.stack([rho * np.cos(phi), rho * np.sin(phi)], axis=-1)
    chord = np.linalg.norm(p[:, None] - p[None], axis=-1)
    total = reach(phi - np.pi)[:, None] + chord + reach(phi)[None, :]
    return float(chord[total <= 2 * a + extra + 1e-9].min())


@pytest.fixture(scope="module")
def disk_front():
    sc = parse_scenario(_disk_doc(), "disk.toml")
    return sc, evade(sc, "0,2,10,20,40", spacing_m=H_M, levels="cruise")


def test_detour_matches_tangent_arc_construction(disk_front):
    # Reference: the shortest path round a disk of radius rho between points a either side of its centre is
    # two tangents and an arc: 2 sqrt(a^2 - rho^2) + rho (pi - 2 acos(rho / a)). Stated bound (docs/evade.md):
    # the grid's hazard is positive up to one diagonal cell (sqrt(2) h) outside the coverage and the pulled
    # route's vertices lie within one more cell, so the detour is at most (1 + sqrt(2)) theta h longer,
    # theta the arc's angle; never shorter (up to 0.2 km: the sphere against the plane, sampling).
    _sc, r = disk_front
    rho = _disk_radius_m()
    theta = math.pi - 2 * math.acos(rho / A_M)
    optimum = 2 * math.sqrt(A_M**2 - rho**2) + rho * theta
    around = r.front[False][-1]                      # the 40 km budget: enough to go round (25.6 km)
    excess = _sphere_length_m(around) - optimum
    assert -200.0 <= excess <= (1 + math.sqrt(2)) * theta * r.grid.spacing_m + 200.0
    assert _in_disk_m(around, rho) == 0.0
    assert around.p_surrogate < 1e-9 and around.p_detect == 0.0       # the Monte Carlo agrees: never seen
    assert around.extra_m <= 40_000.0


def test_small_budget_crosses_the_disk_along_a_short_chord(disk_front):
    # With 10 km to spare the route cannot go round (25.6 km) and crosses; no route of its length crosses a
    # shorter chord than the brute-force optimum of the disk, and the search (whose hazard is blurred by up
    # to sqrt(2) h past the edge) does no worse than the optimum of the disk widened by that much.
    _sc, r = disk_front
    rho = _disk_radius_m()
    direct = r.direct[False]
    point = next(p for p in r.front[False] if p.budget_m == 10_000.0)
    chord = _in_disk_m(point, rho)
    assert point.extra_m <= 10_000.0
    assert _chord_optimum_m(rho, A_M, 10_000.0) - 500.0 <= chord
    assert chord <= _chord_optimum_m(rho + math.sqrt(2) * H_M, A_M, 10_000.0) + 500.0
    assert chord < _in_disk_m(direct, rho) - 5_000.0                 # not the diameter: off-centre
    assert point.p_surrogate < direct.p_surrogate
    # the surrogate of a constant-Pd disk is 1 - (1 - Pd)^(time in the disk / scan period)
    time_s = chord / r.speed_mps
    assert point.p_surrogate == pytest.approx(1 - 0.99 ** (time_s / 10.0), abs=0.01)


def test_front_is_monotone_zero_budget_is_the_direct_route_and_bounds_hold(disk_front):
    _sc, r = disk_front
    front = r.front[False]
    p = [x.p_detect for x in front]                     # the headline, as flown (no spread here)
    assert all(b <= a for a, b in zip(p, p[1:]))
    assert p[-1] == 0.0 < p[0] and front[-1].p_grid < 1e-9 < front[0].p_grid
    zero, direct = front[0], r.direct[False]
    assert zero.budget_m == 0.0 and zero.search is None
    assert np.array_equal(zero.lat_deg, direct.lat_deg) and np.array_equal(zero.lon_deg, direct.lon_deg)
    assert zero.p_grid == direct.p_grid and zero.extra_m == direct.extra_m == 0.0
    for x in front[1:]:
        assert x.extra_m <= x.budget_m
        s = x.search
        if s is not None:                                # a grid search's bounds (a route with one turn has none)
            assert s.lower_bound <= s.cost + 1e-12 and s.length_m <= s.budget_m
            assert x.p_lower <= float(-np.expm1(-s.cost))


def test_front_chart_x_is_the_extra_distance_flown_one_point_per_route_with_all_its_budgets(disk_front):
    # front.png (draw_front): x is the extra distance each route flies (reference: its waypoints' WGS84
    # geodesic legs by pyproj.Geod, less the geodesic between the endpoints, within 1 m), not the budget;
    # budgets that answer the same route are one point labelled with every one of them, and one row of
    # front.csv. Two budgets (50, 70 km) are added that answer the 40 km budget's route.
    _sc, r = disk_front
    front = r.front[False]
    last = front[-1]
    more = tuple(dataclasses.replace(last, label=f"{b}km", budget_m=b * 1000.0) for b in (50, 70))
    res = dataclasses.replace(r, front={False: (*front, *more)}, budgets_m=(*r.budgets_m, 50_000.0, 70_000.0))
    assert draw_front(Figure().add_subplot(), res)["planned"] == []    # no spread: the planned track is as flown
    # the chart as drawn for routes flown with a spread (a planned-track series beside the as-flown one)
    res = dataclasses.replace(res, spread_m=3000.0, front={False: tuple(
        dataclasses.replace(x, spread_m=3000.0) for x in res.front[False])})
    distinct = []                                       # the routes by their waypoints, in front order
    for x in res.front[False]:
        key = (tuple(x.lat_deg), tuple(x.lon_deg), x.level)
        if not distinct or distinct[-1][0] != key:
            distinct.append((key, x, []))
        distinct[-1][2].append(x.budget_m / 1000.0)
    geod = Geod(ellps="WGS84")
    gc = geod.inv(last.lon_deg[0], last.lat_deg[0], last.lon_deg[-1], last.lat_deg[-1])[2]
    flown_km = [(geod.line_length(x.lon_deg, x.lat_deg) - gc) / 1000.0 for _, x, _ in distinct]

    art = draw_front(Figure().add_subplot(), res)
    line = art["detect"][0].lines[0]
    assert np.allclose(line.get_xdata(), flown_km, atol=1e-3)
    assert len(line.get_xdata()) == len(distinct) < len(res.front[False])
    assert any(abs(x - b[-1]) > 1.0 for x, (_, _, b) in zip(flown_km, distinct))    # not the budgets
    assert list(line.get_ydata()) == [x.p_detect for _, x, _ in distinct]          # as flown, the headline
    assert list(art["planned"][0].get_ydata()) == [x.p_detect_planned for _, x, _ in distinct]
    labels = [a.get_text() for a in art["labels"]]
    assert len(labels) == len(distinct)
    for text, (_, _, budgets) in zip(labels, distinct):
        assert re.findall(r"[0-9.]+", text.split(" km")[0]) == [f"{b:g}" for b in budgets]
    assert labels[-1] == f"budgets {', '.join(f'{b:g}' for b in distinct[-1][2])} km"
    # front.csv: one row per distinct route (the direct one first), with every budget it answers
    rows = front_rows(res)
    assert rows[0]["point"] == "direct"
    assert sorted(b for row in rows for b in row["budgets_km"]) == sorted(b for _, _, bs in distinct for b in bs)
    assert len({row["scenario_file"] for row in rows}) == len(rows)
    assert rows[-1]["budgets_km"] == distinct[-1][2] and rows[-1]["scenario_file"] == (
        f"evade-{last.extra_m / 1000:.1f}km-{last.level.key}.toml")


def _exact_constrained_cost(graph, source, target, budget_m):
    """Exact constrained shortest path: label setting on (length, cost) with Pareto dominance."""
    labels = {}                      # node -> list of (length, cost) kept
    heap = [(0.0, 0.0, source)]
    best = np.inf
    while heap:
        ell, c, u = heapq.heappop(heap)
        if any(l2 <= ell and c2 <= c for l2, c2 in labels.get(u, ())):
            continue
        labels.setdefault(u, []).append((ell, c))
        if u == target:
            best = min(best, c)
            continue
        for e in range(graph.indptr[u], graph.indptr[u + 1]):
            l2, c2 = ell + graph.length_m[e], c + graph.cost[e]
            if l2 <= budget_m and c2 < best:
                heapq.heappush(heap, (l2, c2, int(graph.indices[e])))
    return best


def test_lagrangian_bounds_bracket_the_exact_constrained_optimum():
    # a coarse grid (8 km) with a random hazard field: every budget's Lagrangian lower bound is at most the
    # exact optimum (label setting), and the path returned fits the budget and costs at least the optimum
    sc = parse_scenario(_disk_doc(), "disk.toml")
    tr = build_airspace(sc).transformer
    la_a, lo_a = destination_deg(*RADAR, 270.0, 40_000.0)
    la_b, lo_b = destination_deg(*RADAR, 90.0, 40_000.0)
    grid = search_grid(tr, (float(la_a), float(lo_a)), (float(la_b), float(lo_b)), 20_000.0, 8_000.0)
    rng = np.random.default_rng(3)
    graph = grid_graph(grid, rng.uniform(0.0, 1e-3, grid.shape) * (rng.uniform(size=grid.shape) < 0.6), 200.0)
    search = LagrangianSearch(graph, grid.node(grid.origin_cell), grid.node(grid.dest_cell))
    shortest = search.shortest_length_m()
    for extra in (4_000.0, 10_000.0, 20_000.0):
        got = search.solve(shortest + extra)
        exact = _exact_constrained_cost(graph, grid.node(grid.origin_cell), grid.node(grid.dest_cell),
                                        shortest + extra)
        assert got.length_m <= shortest + extra
        assert got.lower_bound <= exact + 1e-12 <= got.cost + 2e-12


def test_hazard_field_matches_a_per_scan_loop_with_terrain_masking():
    # Reference: a plain loop per cell and radar with the geo.earth formulas (haversine distance, bearing,
    # smooth 4/3-Earth horizon, slant range), the radar's masking table read at that bearing and distance,
    # and Pd from the radar equation (sim.radar.pd_from_reference, not the tabulated Pd):
    # hazard = sum of availability * -ln(1 - Pd) / scan period. Tolerance: 1e-3 relative (the Pd table's
    # 25 m interpolation); a cell exactly on a coverage edge may differ (azimuth bins), at most 2%.
    sc = load("iraq_2012_transponder_off")
    sim = prepare(sc, with_fences=False)
    tr = build_airspace(sc).transformer
    grid = search_grid(tr, (35.6892, 51.3134), (33.4114, 36.5156), 100_000.0, 10_000.0, sim.terrain)
    rng = np.random.default_rng(5)
    rows, cols = np.nonzero(grid.allowed)
    for level in (Level(altitude_m=10_100.0), Level(agl_m=300.0)):
        alt = level_altitude_m(grid, level, sim.terrain, sc.aircraft)
        field = hazard_field(sim.radars, grid, level, False, sim.terrain, sc.aircraft)
        near = np.zeros(len(rows), dtype=bool)
        for r in sc.radars:
            d = ground_distance_m(grid.lat_deg[rows, cols], grid.lon_deg[rows, cols], r.lat_deg, r.lon_deg)
            near |= d < r.range_m
        pick = rng.choice(np.flatnonzero(near), 150, replace=False)      # cells a radar may see
        mismatched, masked = 0, 0
        for k in pick:
            i, j = rows[k], cols[k]
            lat, lon, h = grid.lat_deg[i, j], grid.lon_deg[i, j], alt[i, j]
            ref = 0.0
            for spec, model in zip(sc.radars, sim.radars):
                if spec.kind.needs_transponder:
                    continue
                d = float(ground_distance_m(spec.lat_deg, spec.lon_deg, lat, lon))
                az = float(azimuth_deg(spec.lat_deg, spec.lon_deg, lat, lon))
                ant = model.antenna_alt_m
                slant = float(slant_range_m(d, ant, h))
                seen = d <= horizon_distance_m(ant, h, sc.detection.refraction_k) and slant <= spec.range_m
                if seen and h < float(min_visible_alt_m(model.masking, az, d)):
                    seen, masked = False, masked + 1
                if seen:
                    ref_ = spec.reference
                    pd = float(pd_from_reference(slant, sc.aircraft.rcs_m2, ref_.range_m, ref_.rcs_m2, ref_.pd,
                                                 spec.pfa, spec.swerling))
                    ref += spec.availability * -math.log1p(-min(pd, 1 - 1e-9)) / spec.scan_period_s
            if not math.isclose(field[i, j], ref, rel_tol=1e-3, abs_tol=1e-9):
                mismatched += 1
        assert mismatched <= 3, level
        if level.agl_m is not None:
            assert masked > 5          # the terrain hides the low level in places: masking is exercised
        # terrain following: never below the ground plus the clearance
        if level.agl_m is not None:
            ground = elevation_m(sim.terrain, grid.lat_deg, grid.lon_deg)
            assert np.all(alt >= ground + 300.0 - 1e-6)


def test_toml_writer_round_trips_every_shipped_scenario():
    for path in sorted(SCENARIOS.glob("*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        assert tomllib.loads(toml_text(doc, header=("a comment",))) == doc, path.name
    odd = {"scenario": {"name": "x", "title": 'quote " back\\slash \u00e9'},
           "uncertainty": {"radar[A B].pd": [0.1, 1e-07]}, "run": {"seed": 2**63 - 1, "flag": True, "v": -0.0}}
    assert tomllib.loads(toml_text(odd)) == odd


def test_cli_writes_the_front_and_its_rescore_equals_airpicture_run(run_cli, write_scenario, tmp_path):
    path = tmp_path / "disk.toml"
    path.write_text(toml_text(_disk_doc(campaigns=20)), encoding="utf-8")
    out = tmp_path / "evade"
    args = ("--max-extra-km", "0,10,40,60", "--levels", "cruise", "--spacing-km", 2, "--spread-km", 2)
    code, stdout, err = run_cli("evade", path, *args, "--out", out)
    assert code == 0, err
    assert "outputs:" in stdout
    # the table: as flown first (the spread stated), the planned track's figure after, named as such
    assert "as flown: every figure is of the route flown with a 2 km sideways spread (--spread-km)" in stdout
    head = next(line for line in stdout.splitlines() if "budgets km" in line)
    assert head.index("P(detect) as flown") < head.index("P(stopped) as flown") < head.index("planned track, exactly")
    rows = list(csv.DictReader((out / "front.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0]["point"] == "direct"
    budgets = [b for r in rows for b in r["budgets_km"].split(";") if b]
    assert sorted(budgets, key=float) == ["0", "10", "40", "60"]          # each budget once, on its route's row
    for r in rows:
        line = next(x for x in stdout.splitlines() if x.startswith(f"  {r['budgets_km'].replace(';', ', ')} ")
                    or (r["point"] == "direct" and x.startswith("  direct")))
        first = re.search(r"\d\.\d{3} \[", line)                        # the first probability of the row
        assert first.group(0) == f"{float(r['p_detect']):.3f} [", line
    for name in ("front.png", "map.png", "front.json", "README.txt"):
        assert (out / name).stat().st_size > 0
    # README.txt names every column of front.csv, in words
    readme = (out / "README.txt").read_text(encoding="utf-8")
    for col in rows[0]:
        assert FRONT_COLUMNS.get(col), col
        assert re.search(rf"^  {col} +\S", readme, re.M), col
    front = json.loads((out / "front.json").read_text(encoding="utf-8"))
    assert [p["budgets_km"] for p in front["points"]] == [[float(b) for b in r["budgets_km"].split(";") if b]
                                                          for r in rows]
    assert front["search"]["spread_km"] == 2.0 and front["search"]["objective"] == "p_detect"
    fc = json.loads((out / "routes.geojson").read_text(encoding="utf-8"))
    assert len(fc["features"]) == len(rows) and fc["features"][0]["geometry"]["type"] == "LineString"
    xml.dom.minidom.parseString((out / "routes.kml").read_bytes())
    schema = ogc_kml22_schema()                 # the OGC KML 2.2 schema, offline (skips without lxml)
    etree = pytest.importorskip("lxml.etree")
    assert schema.validate(etree.parse(str(out / "routes.kml"))), schema.error_log
    # one scenario file per distinct route, flown with the spread: run as a user would, it gives exactly the
    # as-flown numbers of the front (the headline)
    assert sorted(p.name for p in out.glob("evade-*.toml")) == sorted(r["scenario_file"] for r in rows)
    for row in rows[1:]:
        doc = tomllib.loads((out / row["scenario_file"]).read_text(encoding="utf-8"))
        assert doc["route"][0]["cross_track_sigma_km"] == 2.0
        code, _, err = run_cli("run", out / row["scenario_file"], "--out", tmp_path / row["point"], "-q")
        assert code == 0, err
        s = read_summary(tmp_path / row["point"])
        assert s["p_detect"] == float(row["p_detect"])
        assert s["p_detect_ci95"] == [float(row["p_detect_ci95_low"]), float(row["p_detect_ci95_high"])]
        assert s["response"]["p_stopped"] == float(row["p_stopped"])
        assert s["campaigns"] == 20 and s["seed"] == 11
    # the secondary figure is the same file flown exactly on its line (no spread)
    doc["route"][0]["cross_track_sigma_km"] = 0.0
    (tmp_path / "planned.toml").write_text(toml_text(doc), encoding="utf-8")
    code, _, err = run_cli("run", tmp_path / "planned.toml", "--out", tmp_path / "planned", "-q")
    assert code == 0, err
    assert read_summary(tmp_path / "planned")["p_detect"] == float(rows[-1]["p_detect_planned_track"])
    # the same scenario and seed: byte-identical outputs
    code, _, err = run_cli("evade", path, *args, "--out", tmp_path / "again", "-q")
    assert code == 0, err
    for name in ("front.csv", "front.json", "routes.geojson", "routes.kml", rows[-1]["scenario_file"]):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


@pytest.mark.parametrize("args, key", [
    (("--from", "XXXX"), "--from"),
    (("--max-extra-km", "10,-5"), "--max-extra-km"),
    (("--to", "OIII", "--set", "aircraft.range_km=250"), "range"),
    (("--avoid", "XYZ"), "--avoid"),
    (("--avoid", "IRQ"), "--avoid"),         # the endpoints lie in Iraq
    (("--levels", "high"), "--levels"),
])
def test_bad_input_exits_2_with_one_line(run_cli, tmp_path, args, key):
    path = tmp_path / "disk.toml"
    path.write_text(toml_text(_disk_doc()), encoding="utf-8")
    code, _, err = run_cli("evade", path, *args, "--out", tmp_path / "o", "-q")
    assert code == 2 and len(err.strip().splitlines()) == 1 and key in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_brief_shows_the_least_detectable_route_when_asked(run_cli, tmp_path):
    # brief --evade D: the route of `evade` for budget D (same campaigns, flights, seed) in summary.json, on the
    # map's legend and in the brief's key numbers; a bad budget is refused before the run
    import jsonschema
    import pypdfium2 as pdfium

    args = (SCENARIOS / "iraq_2012_transponder_off.toml", "--campaigns", 20, "--set", "detection.terrain=false")
    code, _, err = run_cli("brief", *args, "--evade", "-5", "--out", tmp_path / "bad")
    assert code == 2 and "budget" in err.lower() and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
    code, _, err = run_cli("brief", *args, "--evade", 100, "--out", tmp_path / "b", "-q")
    assert code == 0, err
    s = json.loads((tmp_path / "b" / "summary.json").read_text())
    sc = load(SCENARIOS / "iraq_2012_transponder_off.toml", ["detection.terrain=false"])
    found = evade(sc, [100], campaigns=20, flights=15, seed=sc.run.seed)
    ref = found.front[found.transponder_states[0]][0]
    assert s["evade"]["p_detect"] == ref.p_detect and s["evade"]["extra_km"] == ref.row()["extra_km"]
    assert s["evade"]["p_detect_planned_track"] == ref.p_detect_planned and s["evade"]["spread_km"] == 10.0
    assert s["evade"]["waypoints"] == [[float(a), float(b)] for a, b in zip(ref.lat_deg, ref.lon_deg)]
    schema = json.loads((ROOT / "docs" / "summary.schema.json").read_text())
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(s))
    text = " ".join(pdfium.PdfDocument(tmp_path / "b" / "brief.pdf")[0].get_textpage().get_text_range().split())
    assert "least-detectable route within 100 km" in text and "Least detectable, as flown" in text
    assert text.index("Least detectable, as flown") < text.index("planned track, exactly")
