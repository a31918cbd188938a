"""Analytic end-to-end cases through the command line.

Each expected value is computed independently of the simulator: closed forms,
or a brute-force loop over the route with pyproj-computed positions.
"""
import itertools
import math

import numpy as np
import pytest

from conftest import read_summary, straight
from geo.earth import EARTH_RADIUS_M, unit_vectors
from sim.routes import build_route
from sim.scenario import load_scenario


def _time_in_range_s(path, range_m, step_s=0.05):
    """Brute force: seconds the nominal route spends within slant range of radar 0."""
    sc = load_scenario(path)
    route = build_route(sc.routes[0], sc.aircraft)
    radar = sc.radars[0]
    rp = (EARTH_RADIUS_M + radar.elevation_m + radar.antenna_height_m) * unit_vectors(radar.lat_deg, radar.lon_deg)
    inside = 0
    for t in np.arange(0.0, route.duration_s, step_s):
        lat = np.interp(t, route.t_s, route.lat_deg)
        lon = np.interp(t, route.t_s, route.lon_deg)
        alt = np.interp(t, route.t_s, route.alt_m)
        p = (EARTH_RADIUS_M + alt) * unit_vectors(lat, lon)
        if math.dist(p, rp) <= range_m:
            inside += 1
    return inside * step_s


def _p_k_scans(T, P, per_k):
    """Expected value over a uniform scan phase: k = floor(T/P) or +1 scans fall in T."""
    k0 = math.floor(T / P)
    f = T / P - k0
    return (1 - f) * per_k(k0) + f * per_k(k0 + 1)


def _sigma(p, n):
    return math.sqrt(max(p * (1 - p), 1e-4) / n)


def test_cookie_cutter_inside_range_always_detected(write_scenario, run_cli, tmp_path):
    # route passes over the radar (33.0N 45.0E); range 50 km >> 10 km altitude
    path = write_scenario(straight(range_km=50))
    code, out, err = run_cli("run", path, "--out", tmp_path / "o", "--quiet")
    assert code == 0, err
    s = read_summary(tmp_path / "o")
    assert s["p_detect"] == 1.0
    assert s["detected_per_campaign"]["p05"] == 10


def test_cookie_cutter_outside_range_never_detected(write_scenario, run_cli, tmp_path):
    # radar 0.5 deg (55.6 km) north of the route, instrumented range 40 km: never in range
    path = write_scenario(straight(range_km=40, radar_lat=33.5))
    code, _, err = run_cli("run", path, "--out", tmp_path / "o", "--quiet")
    assert code == 0, err
    s = read_summary(tmp_path / "o")
    assert s["p_detect"] == 0.0
    assert s["radars"]["R"]["p_detect"] == 0.0


def test_per_scan_pd_gives_one_minus_one_minus_p_to_the_k(write_scenario, run_cli, tmp_path):
    # closed form 1-(1-p)^k, averaged over the two possible scan counts of a uniform phase
    p, P, rng_km = 0.1, 10.0, 30.0
    path = write_scenario(straight(range_km=rng_km, period_s=P, pd=p, campaigns=400, flights=10))
    T = _time_in_range_s(path, rng_km * 1000)
    expected = _p_k_scans(T, P, lambda k: 1 - (1 - p) ** k)
    code, _, err = run_cli("run", path, "--out", tmp_path / "o", "--quiet")
    assert code == 0, err
    got = read_summary(tmp_path / "o")["p_detect"]
    assert got == pytest.approx(expected, abs=4 * _sigma(expected, 4000)), (T, expected)


def test_availability_with_pd_one_gives_availability(write_scenario, run_cli, tmp_path):
    a = 0.7
    path = write_scenario(straight(avail=a, campaigns=300, flights=10))
    code, _, err = run_cli("run", path, "--out", tmp_path / "o", "--quiet")
    assert code == 0, err
    s = read_summary(tmp_path / "o")
    assert s["p_detect"] == pytest.approx(a, abs=4 * _sigma(a, 3000))
    assert s["radars"]["R"]["p_up"] == pytest.approx(a, abs=4 * _sigma(a, 3000))


def _m_of_n_exact(k, p, m, n):
    """Brute force over all 2^k detection patterns."""
    total = 0.0
    for bits in itertools.product((0, 1), repeat=k):
        if any(sum(bits[max(0, i - n + 1):i + 1]) >= m for i in range(k)):
            total += p ** sum(bits) * (1 - p) ** (k - sum(bits))
    return total


def test_m_of_n_reduces_detection_as_expected(write_scenario, run_cli, tmp_path):
    p, P, rng_km, m, n = 0.5, 20.0, 20.0, 3, 5
    base = dict(range_km=rng_km, period_s=P, pd=p, campaigns=400, flights=10)
    path1 = write_scenario(straight(**base), "one.toml")
    path3 = write_scenario(straight(m=m, n=n, **base), "mofn.toml")
    T = _time_in_range_s(path1, rng_km * 1000)
    e1 = _p_k_scans(T, P, lambda k: 1 - (1 - p) ** k)
    e3 = _p_k_scans(T, P, lambda k: _m_of_n_exact(k, p, m, n))
    assert e3 < e1
    for path, e, name in ((path1, e1, "o1"), (path3, e3, "o3")):
        code, _, err = run_cli("run", path, "--out", tmp_path / name, "--quiet")
        assert code == 0, err
        got = read_summary(tmp_path / name)["p_detect"]
        assert got == pytest.approx(e, abs=4 * _sigma(e, 4000)), (name, T, e)


def test_secondary_radar_needs_transponder(write_scenario, run_cli, tmp_path):
    off = write_scenario(straight(kind="secondary", xpdr=0.0), "off.toml")
    on = write_scenario(straight(kind="secondary", xpdr=1.0), "on.toml")
    half = write_scenario(straight(kind="secondary", xpdr=0.5, campaigns=300), "half.toml")
    assert run_cli("run", off, "--out", tmp_path / "off", "-q")[0] == 0
    assert run_cli("run", on, "--out", tmp_path / "on", "-q")[0] == 0
    assert run_cli("run", half, "--out", tmp_path / "half", "-q")[0] == 0
    assert read_summary(tmp_path / "off")["p_detect"] == 0.0
    assert read_summary(tmp_path / "on")["p_detect"] == 1.0
    assert read_summary(tmp_path / "half")["p_detect"] == pytest.approx(0.5, abs=4 * _sigma(0.5, 3000))


def test_baseline_writes_the_three_contract_files(run_cli, tmp_path):
    from conftest import SCENARIOS
    import csv, json
    code, out, err = run_cli("run", SCENARIOS / "iraq_2012_baseline.toml", "--campaigns", 20,
                             "--out", tmp_path / "o")
    assert code == 0, err
    assert "flights detected on average" in out
    s = read_summary(tmp_path / "o")
    for key in ("scenario", "seed", "campaigns", "flights_per_campaign", "p_detect", "p_detect_ci95",
                "detected_per_campaign", "radars"):
        assert key in s
    assert s["campaigns"] == 20 and s["flights_per_campaign"] == 15
    lo, hi = s["p_detect_ci95"]
    assert lo <= s["p_detect"] <= hi
    rows = list(csv.DictReader((tmp_path / "o" / "flights.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 300
    for key in ("campaign", "flight", "route", "detected", "first_detection_s", "first_radar"):
        assert key in rows[0]
    assert sum(int(r["detected"]) for r in rows) == s["flights_detected"]
    gj = json.loads((tmp_path / "o" / "routes.geojson").read_text())
    assert "open-source" in gj["airpicture"]["note"]             # every product says so
    assert "open-source" in (tmp_path / "o" / "README.txt").read_text()
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    assert {f["properties"]["name"] for f in lines} == {"direct", "via-baghdad-fir-south"}


def test_scenario_without_radars_detects_nothing(write_scenario, run_cli, tmp_path):
    # the spec allows zero [[radar]] tables: nothing can be detected
    text = straight()
    text = text[:text.index("[[radar]]")] + text[text.index("[detection]"):]
    code, _, err = run_cli("run", write_scenario(text), "--out", tmp_path / "o", "-q")
    assert code == 0, err
    s = read_summary(tmp_path / "o")
    assert s["p_detect"] == 0.0 and s["radars"] == {}


def test_failed_brief_leaves_no_partial_outputs(write_scenario, run_cli, tmp_path, monkeypatch):
    import sim.pipeline as pipeline

    def boom(*a, **k):
        raise RuntimeError("disk full")
    import sim.products.brief as brief
    monkeypatch.setattr(brief, "write_brief", boom)      # the pipeline imports it when it draws
    monkeypatch.setattr(pipeline, "altitude_sweep", lambda *a, **k: [])
    code, _, err = run_cli("run", write_scenario(straight(campaigns=3)), "--brief", "--out", tmp_path / "o", "-q")
    assert code == 1 and "disk full" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    assert not any(p.name.startswith(".airpicture-") for p in tmp_path.iterdir())


def test_wilson_interval_against_score_test_inversion():
    # the Wilson interval is {p : |k/n - p| <= z sqrt(p (1 - p) / n)}: invert on a fine grid
    from sim.results import wilson_interval
    grid = np.linspace(0, 1, 200_001)
    for k, n in ((0, 30), (81, 263), (30, 30), (1, 4000), (3678, 4000)):
        lo, hi = wilson_interval(k, n)
        ok = np.abs(k / n - grid) <= 1.959963984540054 * np.sqrt(grid * (1 - grid) / n)
        assert lo == pytest.approx(grid[ok].min(), abs=1e-5) and hi == pytest.approx(grid[ok].max(), abs=1e-5)
