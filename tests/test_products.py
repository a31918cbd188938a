"""Tests of the briefing products: map, charts, KML, brief (sim.products.brief and friends)."""
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import shapely
from matplotlib.figure import Figure
from scipy.stats import norm

from geo.earth import ground_distance_m, horizon_distance_m
from sim.analysis import altitude_sweep
from sim.pipeline import load, simulate
from sim.products.brief import map_layers, write_brief
from sim.products.charts import detections_per_campaign, draw_altitude_curve, draw_detections_histogram
from sim.products.maps import draw_route_map, polygon_path
from sim.products.style import product_date, use_style
from sim.results import summarize
from sim.routes import build_routes

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "iraq_2012_baseline.toml"
TINY = ["run.campaigns=20", "run.flights=5", "detection.terrain=false"]
EPOCH = "1700000000"   # 2023-11-14T22:13:20Z
SWEEP_M = (300.0, 10000.0)
FILES = ("map.png", "map.pdf", "map.svg", "detections.png", "altitude.png", "routes.kml", "brief.pdf")

# A cookie-cutter radar (Pd = 1, always up, 1-of-1 track, range beyond the horizon) south of an
# east-west route flown level at cruise altitude ({lat, lon} endpoints: no climb or descent).
COOKIE = """
[scenario]
name = "cookie-cutter"
title = "Cookie-cutter radar"
[run]
campaigns = 40
flights = 10
seed = 11
[aircraft]
cruise_altitude_m = 5000
[[route]]
name = "east"
waypoints = [{lat = 35.0, lon = 40.0}, {lat = 35.0, lon = 48.0}]
cross_track_sigma_km = 100
[[radar]]
name = "Cutter"
lat = 33.2
lon = 44.0
elevation_m = 0
antenna_height_m = 10
kind = "primary"
range_km = 900
scan_period_s = 10
availability = 1.0
pd = 1.0
[detection]
track_m = 1
track_n = 1
terrain = false
refraction_k = 1.3333333333333333
"""


def _tiny_run():
    sc = load(BASELINE, TINY)
    sim, result = simulate(sc)
    return sim, result, summarize(sim, result)


@pytest.fixture(scope="module")
def brief(tmp_path_factory):
    """One tiny baseline run (terrain off) and its brief (dpi 50, 2-point sweep of 3 campaigns)."""
    out = tmp_path_factory.mktemp("brief")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        sim, result, summary = _tiny_run()
        points = altitude_sweep(sim.scenario, SWEEP_M, campaigns=3, terrain=sim.terrain)
        info = write_brief(out, sim, result, summary, points, dpi=50, n_tracks=30)
    return out, sim, result, summary, {**info, "altitude_sweep": points}


def _png_dpi(data):
    """Horizontal resolution from the PNG pHYs chunk [dots per inch]."""
    i = data.index(b"pHYs")
    ppm_x, _ppm_y, unit = struct.unpack(">IIB", data[i + 4:i + 13])
    assert unit == 1   # metre
    return ppm_x * 0.0254


# --- files --------------------------------------------------------------------------------------
def test_every_file_is_written_and_opens(brief):
    out, sim, _, _, info = brief
    assert sorted(info["files"]) == sorted(FILES)
    for name in ("map.png", "detections.png", "altitude.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    for name in ("map.pdf", "brief.pdf"):
        data = (out / name).read_bytes()
        assert data[:5] == b"%PDF-" and data.rstrip().endswith(b"%%EOF"), name
        assert b"/Type /Page" in data, name
    svg = ET.parse(out / "map.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    kml = ET.parse(out / "routes.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    placemarks = kml.findall(".//k:Placemark", ns)
    # one per route, one per radar, coverage per radar, first detections (all tiny-run detections <= 200)
    n_first = min(200, int(np.sum(brief[2].detected)))
    assert len(placemarks) >= len(sim.routes) + len(sim.radars) + n_first
    lines = kml.findall(".//k:LineString", ns)
    assert len(lines) == len(sim.routes)   # no orbiting radar here: one line per route
    for ls in lines:
        assert ls.find("k:altitudeMode", ns).text == "absolute"
        first = ls.find("k:coordinates", ns).text.split()[0].split(",")
        assert len(first) == 3
    assert len(kml.findall(".//k:Polygon", ns)) >= len(sim.radars)


def test_briefs_routes_kml_validates_against_ogc_kml22(brief):
    # the file write_brief wrote (tests/test_kml.py checks every shipped scenario and the three fixed violations)
    from conftest import ogc_kml22_schema
    from lxml import etree
    schema = ogc_kml22_schema()
    assert schema.validate(etree.parse(str(brief[0] / "routes.kml"))), list(schema.error_log)[:5]


def test_png_resolution_follows_dpi(brief):
    out = brief[0]
    assert _png_dpi((out / "map.png").read_bytes()) == pytest.approx(50, abs=0.1)
    import inspect
    assert inspect.signature(write_brief).parameters["dpi"].default >= 200


def test_altitude_sweep_points_returned(brief):
    info = brief[4]
    pts = info["altitude_sweep"]
    # the levels asked for, and the scenario's own cruise (10,100 m), flagged, in increasing order
    assert [p["cruise_altitude_m"] for p in pts] == sorted(SWEEP_M + (10100.0,))
    assert [p["scenario_level"] for p in pts] == [False, False, True]
    for p in pts:
        assert p["mode"] == "amsl" and p["level_m"] == p["cruise_altitude_m"]
        assert p["campaigns"] == 3 and p["seed"] == brief[3]["seed"]
        lo, hi = p["p_detect_ci95"]
        assert 0.0 <= lo <= p["p_detect"] <= hi <= 1.0


# --- map ----------------------------------------------------------------------------------------
def test_map_extent_contains_every_route_vertex_and_radar(brief):
    _, sim, result, _, _ = brief
    tr = sim.airspace.transformer
    layers = map_layers(sim, result, n_tracks=10, n_points=10)
    with use_style():
        fig = Figure(figsize=(8, 5))
        ax = fig.add_axes([0.02, 0.02, 0.96, 0.96])
        artists = draw_route_map(ax, layers)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    lat = np.concatenate([np.concatenate([r.lat_deg, r.waypoint_lat_deg]) for r in sim.routes]
                         + [np.array([r.lat_deg for r in sim.radars])])
    lon = np.concatenate([np.concatenate([r.lon_deg, r.waypoint_lon_deg]) for r in sim.routes]
                         + [np.array([r.lon_deg for r in sim.radars])])
    x, y = tr.transform(lon, lat)
    assert np.all((x0 < x) & (x < x1) & (y0 < y) & (y < y1))
    # projected coordinates are drawn directly: metres, with a 1:1 aspect
    assert ax.get_aspect() == 1.0
    assert len(artists["site_labels"]) == len(layers.sites)
    assert len(artists["coverage"]) >= len(sim.radars)


def test_site_labels_do_not_overlap(brief):
    _, sim, result, _, _ = brief
    layers = map_layers(sim, result, n_tracks=5, n_points=5)
    with use_style():
        fig = Figure(figsize=(11, 8))
        ax = fig.add_axes([0.02, 0.1, 0.96, 0.8])
        artists = draw_route_map(ax, layers)
        renderer = ax.figure.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer) for t in artists["site_labels"]]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (artists["site_labels"][i].get_text(),
                                                     artists["site_labels"][j].get_text())


def test_polygon_path_keeps_terrain_holes_empty():
    # a masked coverage: a 100 km disc with a 20 km hole; rendered, the hole shows the background
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import PathPatch
    geom = shapely.Point(0, 0).buffer(100_000).difference(shapely.Point(40_000, 0).buffer(20_000))
    fig = Figure(figsize=(2, 2), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(-120_000, 120_000)
    ax.set_ylim(-120_000, 120_000)
    ax.set_axis_off()
    ax.add_patch(PathPatch(polygon_path(geom), facecolor="black", edgecolor="none"))
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())

    def pixel(x, y):
        px, py = ax.transData.transform((x, y))
        return img[img.shape[0] - 1 - int(py), int(px), :3]

    assert np.all(pixel(40_000, 0) == 255)     # inside the hole: white
    assert np.all(pixel(-40_000, 0) == 0)      # in the coverage: filled
    assert np.all(pixel(110_000, 0) == 255)    # outside


# --- charts -------------------------------------------------------------------------------------
def test_histogram_bars_sum_to_campaigns(brief):
    _, _, result, summary, _ = brief
    per = detections_per_campaign(result)
    fig = Figure()
    ax = fig.add_subplot()
    art = draw_detections_histogram(ax, per, result.flights_per_campaign)
    heights = [p.get_height() for p in art["bars"]]
    assert len(heights) == result.flights_per_campaign + 1      # integer bins 0..N
    assert sum(heights) == result.campaigns
    assert art["mean"].get_xdata()[0] == pytest.approx(summary["detected_per_campaign"]["mean"], abs=1e-6)


@pytest.mark.slow
def test_altitude_curve_cookie_cutter_is_monotone_and_matches_geometry(tmp_path):
    path = tmp_path / "cookie.toml"
    path.write_text(COOKIE, encoding="utf-8")
    sc = load(path)
    alts = (300.0, 1500.0, 4000.0, 12000.0)
    pts = altitude_sweep(sc, alts)
    alts = np.array([q["level_m"] for q in pts])     # with the scenario's own 5,000 m
    assert sorted({300.0, 1500.0, 4000.0, 12000.0, 5000.0}) == list(alts)
    p = np.array([q["p_detect"] for q in pts])
    # same seed, Pd = 1, availability 1, nested coverage discs: exactly non-decreasing
    assert np.all(np.diff(p) >= 0.0)
    assert p[0] < 0.5 < p[-1]
    # independent value: detected iff the sideways offset (normal, sigma 100 km, positive = right =
    # towards the radar for this eastbound route) brings the closest approach within the smooth
    # horizon distance D(h), i.e. P = Phi((D - d0) / sigma). Tolerance: 4 binomial standard errors
    # of 400 flights plus 0.02 for the 10 s scan grid and the 4-sigma clip.
    r = build_routes(sc)[0]
    d0 = np.min(ground_distance_m(33.2, 44.0, r.lat_deg, r.lon_deg))
    d = horizon_distance_m(10.0, np.array(alts), 4.0 / 3.0)
    expected = norm.cdf((d - d0) / 100_000.0)
    n = 400
    tol = 4.0 * np.sqrt(expected * (1 - expected) / n) + 0.02
    assert np.all(np.abs(p - expected) <= tol), (p, expected)
    # the chart draws those points
    fig = Figure()
    ax = fig.add_subplot()
    art = draw_altitude_curve(ax, pts)
    line = art["curve"].lines[0]
    assert np.allclose(line.get_ydata(), p) and np.allclose(line.get_xdata(), alts)
    assert art["cruise"].get_xdata()[0] == 5000.0 and art["underground"] is None


# --- reproducibility and style ------------------------------------------------------------------
@pytest.mark.slow
def test_same_seed_gives_byte_identical_files(brief, tmp_path, monkeypatch):
    out1, _, _, _, info = brief
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    sim, result, summary = _tiny_run()
    write_brief(tmp_path, sim, result, summary, info["altitude_sweep"], dpi=50, n_tracks=30)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (out1 / name).read_bytes(), name


def test_product_date_from_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert product_date() == "2023-11-14"   # 1700000000 s after 1970-01-01 UTC


def test_style_is_applied_locally_only():
    before = matplotlib.rcParams["svg.hashsalt"], matplotlib.rcParams["font.size"]
    with use_style():
        assert matplotlib.rcParams["svg.hashsalt"] == "airpicture"
    assert (matplotlib.rcParams["svg.hashsalt"], matplotlib.rcParams["font.size"]) == before


@pytest.mark.slow
def test_low_level_altitude_curve_is_above_ground_and_holds_the_scenario_point():
    # a terrain-following scenario: the curve is in height above ground, and its own level's point is
    # the scenario's own run (same seed, same campaigns) exactly
    sc = load(ROOT / "scenarios" / "iraq_2012_low_level.toml")
    sim, result = simulate(sc, campaigns=15, with_fences=False)
    pts = altitude_sweep(sc, (1000.0,), campaigns=15, terrain=sim.terrain)
    assert [p["mode"] for p in pts] == ["agl", "agl"]
    own = [p for p in pts if p["scenario_level"]]
    assert len(own) == 1 and own[0]["cruise_altitude_agl_m"] == 300.0
    assert own[0]["p_detect"] == pytest.approx(float(result.detected.mean()), abs=1e-6)
    assert all(p["below_ground_fraction"] == 0.0 for p in pts)
    fig = Figure()
    art = draw_altitude_curve(fig.add_subplot(), pts)
    assert art["secondary"] is None and art["ground"] is None
    assert "above ground" in fig.axes[0].get_xlabel()


def test_amsl_curve_flags_levels_below_the_ground():
    # the low-level scenario swept above mean sea level: at 300 m the route from Tehran (1,208 m) is
    # largely below the ground, and the point says so
    sc = load(ROOT / "scenarios" / "iraq_2012_low_level.toml", ["aircraft.cruise_altitude_m=10100"])
    pts = altitude_sweep(sc, (300.0,), campaigns=2)
    low = [p for p in pts if p["level_m"] == 300.0][0]
    assert low["below_ground_fraction"] > 0.3
    assert [p for p in pts if p["level_m"] == 10100.0][0]["below_ground_fraction"] == 0.0
    fig = Figure()
    art = draw_altitude_curve(fig.add_subplot(), pts)
    assert art["underground"] is not None


def test_ci_strings_agree_across_headline_brief_table_and_summary(brief):
    # one interval method and one rounding rule: the headline, the brief's key-numbers table and
    # summary.json say the same interval
    from sim.products.brief import _key_rows
    from sim.results import headline
    summary = brief[3]
    text = summary["p_detect_ci95_text"]
    assert f"[95% CI {text}]" in headline(summary)
    rows = dict(_key_rows(summary))
    assert rows["  95% CI"] == text
    if "response" in summary:
        assert rows["  P(stopped) 95% CI"] == summary["response"]["p_stopped_ci95_text"]


def test_map_legend_counts_match_the_run_and_say_when_misses_are_oversampled(brief):
    from sim.products.maps import legend_handles
    _, sim, result, _, _ = brief
    layers = map_layers(sim, result, n_tracks=30, n_points=5)
    _, labels = legend_handles(layers)
    total, det = len(result.detected), int(result.detected.sum())
    und = total - det
    shown_det = int(layers.track_detected.sum())
    shown_und = len(layers.track_detected) - shown_det
    lab_det = [x for x in labels if x.startswith("flight detected")][0]
    lab_und = [x for x in labels if x.startswith("flight undetected")][0]
    for label, k in ((lab_det, det), (lab_und, und)):
        if k == 0:
            assert label.endswith(f"none (0 of {total:,})")
        else:
            assert f"% of {total:,}" in label
            assert float(label.split("(")[1].split("%")[0]) == pytest.approx(100 * k / total, abs=0.051)
    assert (f"{shown_und} drawn of {und:,}" in lab_und) or (shown_und == und and f"all {und:,} drawn" in lab_und) \
        or (und == 0 and "none" in lab_und)
    assert ("over-sampled" in lab_und) == (shown_und / len(layers.track_detected) > 1.5 * und / total)


def test_every_image_product_carries_the_scenario_and_the_note(brief):
    # the file's own metadata (PNG text chunks, PDF info, SVG metadata) names the scenario and the run
    out, _, _, summary, _ = brief
    for name in ("map.png", "map.pdf", "map.svg", "detections.png", "altitude.png", "brief.pdf"):
        data = (out / name).read_bytes()
        assert summary["scenario"].encode() in data, name
        assert b"Illustrative model" in data or name.endswith(".pdf"), name   # PDF info may be compressed


def test_compare_chart_flags_only_differences_beyond_sampling_noise():
    from sim.products.charts import draw_compare
    fig = Figure()
    art = draw_compare(fig.add_subplot(), ["a", "b", "c"], [0.90, 0.905, 0.80],
                       [(0.89, 0.91), (0.895, 0.915), (0.79, 0.81)], [3000, 3000, 3000])
    # b: z = 0.005 / sqrt(p(1-p) 2/3000) = 0.65 (noise); c: z = 11 (flagged)
    assert art["flagged"] == ["c"]


def test_sweep_and_compare_write_charts_that_name_their_scenarios(run_cli, tmp_path):
    sc = ROOT / "scenarios" / "iraq_2012_transponder_off.toml"
    code, _, err = run_cli("sweep", sc, "--key", "aircraft.rcs_m2", "--values", "10,100", "--campaigns", 10,
                           "--set", "detection.terrain=false", "--out", tmp_path / "s", "-q")
    assert code == 0, err
    data = (tmp_path / "s" / "sweep.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and b"iraq-2012-transponder-off" in data and b"Illustrative" in data
    code, _, err = run_cli("compare", sc, BASELINE, "--campaigns", 10, "--set", "detection.terrain=false",
                           "--out", tmp_path / "c", "-q")
    assert code == 0, err
    data = (tmp_path / "c" / "compare.png").read_bytes()
    assert b"iraq-2012-baseline" in data and b"Illustrative" in data


def test_brief_pdf_margins_measured_from_its_text_boxes(brief):
    # every character of brief.pdf at least 10 mm from the A4 page's edges, and still 10 mm when the
    # page is printed to fit US Letter landscape (279.4 x 215.9 mm: scale 0.9407, centred)
    pdfium = pytest.importorskip("pypdfium2")
    page = pdfium.PdfDocument(brief[0] / "brief.pdf")[0]
    w, h = page.get_size()
    tp = page.get_textpage()
    boxes = np.array([tp.get_charbox(i) for i in range(tp.count_chars())])
    boxes = boxes[boxes[:, 2] > boxes[:, 0]]
    mm = 25.4 / 72
    assert (w * mm, h * mm) == pytest.approx((297, 210), abs=0.5)
    left, bottom = boxes[:, 0].min() * mm, boxes[:, 1].min() * mm
    right, top = (w - boxes[:, 2].max()) * mm, (h - boxes[:, 3].max()) * mm
    assert min(left, bottom, right, top) >= 10.0, (left, bottom, right, top)
    scale = min(279.4 / 297, 215.9 / 210)
    assert min(left, right) * scale >= 10.0
    assert min(bottom, top) * scale + (215.9 - 210 * scale) / 2 >= 10.0


def test_table_values_never_run_past_their_box():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from sim.products.brief import _draw_table
    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0.1, 0.1, 0.5, 0.8])
    art = _draw_table(ax, "T", [("Cruise altitude", "300 m above ground, terrain following, very long"),
                                ("  short", "1")])
    renderer = fig.canvas.get_renderer()
    right = ax.get_window_extent(renderer).x1
    texts = [t for t in art if hasattr(t, "get_text") and t.get_text()]
    assert all(t.get_window_extent(renderer).x1 <= right + 0.5 for t in texts)
    # the label with no room left of its long value wraps onto a second line, whole (issue 28: never cut)
    shown = [t.get_text() for t in texts]
    assert "300 m above ground, terrain following, very long" in shown
    assert " ".join(s for s in shown if s in ("Cruise", "altitude", "Cruise altitude")) == "Cruise altitude"
    assert "…" not in "".join(shown)


def test_legend_says_misses_are_oversampled_with_the_real_rate():
    # the example: 3 misses in 29,997 flights, all drawn among 100 sampled tracks
    from types import SimpleNamespace
    from sim.products.maps import _track_label
    layers = SimpleNamespace(flights_total=29_997, flights_detected=29_994,
                             track_detected=np.array([True] * 97 + [False] * 3))
    assert _track_label("undetected", 3, 3, layers) == "flight undetected: all 3 drawn (0.01% of 29,997, over-sampled)"
    assert _track_label("detected", 97, 29_994, layers) == "flight detected: 97 drawn of 29,994 (99.99% of 29,997)"
