"""Every picture shows the state that was run (issue 28): a radar switched off is drawn off, the side
analyses' "this scenario" and tornado bases are the key numbers, charts hide no data and cut no text, a P
with its interval never prints with no width, long commands show progress and every folder has a README."""
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from conftest import SCENARIOS, read_summary
from sim.pipeline import load
from sim.products.style import use_style
from sim.results import ci_digits, format_ci, format_p_ci

OFF = SCENARIOS / "iraq_2012_transponder_off.toml"
F16 = SCENARIOS / "iraq_2012_f16_balad.toml"
KML = "{http://www.opengis.net/kml/2.2}"
KIRKUK_OFF = ["radar[Kirkuk PSR].availability=0", "detection.terrain=false"]


# --- a P with its interval ----------------------------------------------------------------------
def test_format_p_ci_adds_digits_until_the_interval_has_width_or_the_value_shows_below_1():
    # the place map title: 0.9999 [0.9997-0.9999] printed "1.000 [1.000-1.000]"
    assert format_p_ci(0.9999, 0.9997, 0.9999) == "0.9999 [0.9997-0.9999]"
    # three decimals where they show it (the interval rounded outwards, as before)
    assert format_p_ci(0.278333, 0.262587, 0.294647) == "0.278 [0.262-0.295]"
    assert format_ci(0.262587, 0.294647) == "0.262-0.295"
    # a value below 1 never prints as 1, above 0 never as 0; a certain one stays at three decimals
    assert format_p_ci(0.99996, 0.9999, 1.0) == "0.99996 [0.99990-1.00000]"
    assert format_p_ci(0.00002, 0.0, 0.00004) == "0.00002 [0.00000-0.00004]"
    assert format_p_ci(1.0, 0.9995, 1.0) == "1.000 [0.999-1.000]"
    assert format_p_ci(0.0, 0.0, 0.0013) == "0.000 [0.000-0.002]"
    # an interval with width never prints with none
    for lo, hi in ((0.50001, 0.50004), (0.12345, 0.12346), (0.9, 0.9000001)):
        d = ci_digits(lo, hi)
        a, b = format_ci(lo, hi).split("-")
        assert a != b and len(a) == len(b) == d + 2, (lo, hi)
    # never narrower than computed
    for lo, hi, p in ((0.262587, 0.294647, 0.278), (0.9997, 0.9999, 0.9999), (0.1, 0.3, 0.2)):
        a, b = (float(x) for x in format_ci(lo, hi, p).split("-"))
        assert a <= lo and b >= hi


# --- a radar switched off is drawn off ----------------------------------------------------------
@pytest.fixture(scope="module")
def kirkuk_off_brief(tmp_path_factory):
    """The issue's what-if, briefed small: transponders off, Kirkuk PSR switched off (terrain off, quick)."""
    from sim.pipeline import simulate_to
    out = tmp_path_factory.mktemp("koff") / "b"
    sc = load(OFF, KIRKUK_OFF + ["run.campaigns=4", "run.flights=5"])
    sim, result, summary = simulate_to(out, sc, brief=True)
    return out, sim, result, summary


@pytest.mark.slow
def test_kml_puts_a_radar_switched_off_in_a_hidden_folder_named_off(kirkuk_off_brief):
    out = kirkuk_off_brief[0]
    root = ET.parse(out / "routes.kml").getroot()
    folders = {f.find(f"{KML}name").text: f for f in root.iter(f"{KML}Folder")}
    off = [f for name, f in folders.items() if "off (availability 0)" in name]
    assert len(off) == 1 and off[0].find(f"{KML}visibility").text == "0"
    names_off = [p.find(f"{KML}name").text for p in off[0].iter(f"{KML}Placemark")]
    assert names_off == ["Kirkuk PSR coverage: off (availability 0)"]
    live = next(f for name, f in folders.items() if name.startswith("Coverage at"))
    names_live = [p.find(f"{KML}name").text for p in live.iter(f"{KML}Placemark")]
    assert not any("Kirkuk PSR" in n for n in names_live)
    assert "Baghdad PSR coverage (up 95%)" in names_live          # a radar up part of the time says so


def test_coverage_geojson_says_off_and_leaves_the_radar_out_of_every_union(run_cli, tmp_path):
    code, out, err = run_cli("coverage", OFF, "--altitude-m", 10000, *[a for s in KIRKUK_OFF for a in ("--set", s)],
                             "--out", tmp_path / "c")
    assert code == 0, err
    assert "switched off (availability 0), in no union: Kirkuk PSR" in out
    fc = json.loads((tmp_path / "c" / "coverage.geojson").read_text())
    by = {f["properties"]["name"]: f for f in fc["features"]}
    assert by["Kirkuk PSR"]["properties"]["state"] == "off" and by["Kirkuk PSR"]["properties"]["availability"] == 0
    assert by["Baghdad PSR"]["properties"]["state"] == "part-time"
    geom = {k: shapely.geometry.shape(f["geometry"]) for k, f in by.items()}
    primary_on = [k for k, f in by.items() if f["properties"].get("kind") == "radar_coverage"
                  and f["properties"]["radar_kind"] == "primary" and f["properties"]["state"] != "off"]
    union = shapely.union_all([geom[k] for k in primary_on])
    # the union is that of the primary radars switched on (to the export's rounding), Kirkuk PSR not in it
    assert shapely.symmetric_difference(union, geom["air_picture_primary"]).area < 1e-3 * union.area
    assert shapely.difference(geom["Kirkuk PSR"], geom["air_picture_primary"]).area > 0.1 * geom["Kirkuk PSR"].area
    assert fc["airpicture"]["overrides"] == KIRKUK_OFF
    readme = (tmp_path / "c" / "README.txt").read_text()        # every output folder has its README.txt
    assert "coverage.geojson" in readme and "Kirkuk PSR" in readme and "availability=0" in readme


@pytest.mark.slow
def test_map_draws_a_radar_switched_off_without_coverage_and_its_legend_says_off(kirkuk_off_brief):
    from matplotlib.figure import Figure
    from sim.products.brief import map_layers
    from sim.products.maps import draw_route_map, legend_handles
    from sim.products.style import COLORS
    _, sim, result, _ = kirkuk_off_brief
    layers = map_layers(sim, result, n_tracks=5, n_points=5)
    assert layers.radar_off() == tuple(r.name == "Kirkuk PSR" for r in sim.radars)
    _, labels = legend_handles(layers)
    assert [t for t in labels if "off (availability 0)" in t] == [
        "Kirkuk PSR: off (availability 0), no coverage (dotted: what it would cover)"]
    with use_style():
        fig = Figure(figsize=(11, 8))
        FigureCanvasAgg(fig)
        ax = fig.add_axes([0.02, 0.1, 0.96, 0.8])
        artists = draw_route_map(ax, layers)
    grey = [p for p in artists["coverage"] if p.get_edgecolor()[:3] == pytest.approx(
        tuple(int(COLORS["off"][i:i + 2], 16) / 255 for i in (1, 3, 5)))]
    assert len(grey) == 1 and grey[0].get_facecolor()[3] == 0.0          # outlined only: it covers nothing
    # the site label says it (and every radar up part of the time says its availability where labelled)
    texts = [t.get_text() for t in artists["site_labels"]]
    assert any(t.startswith("Kirkuk (ORKK)\n") and "PSR off" in t and "SSR up 90%" in t for t in texts), texts


def test_minutes_in_coverage_leave_out_a_radar_switched_off():
    # the air picture the fences count is that of the radars that can see: a radar off covers nothing
    from sim.montecarlo import prepare
    sc = load(OFF, KIRKUK_OFF)
    sim = prepare(sc)
    j = [r.name for r in sim.radars].index("Kirkuk PSR")
    on = [i for i, r in enumerate(sim.radars) if i != j and not r.kind.needs_transponder]
    full = prepare(load(OFF, ["detection.terrain=false"]))            # every radar on
    differs = []
    for fz, fz_full in zip(sim.fences, full.fences):
        differs.append(not np.array_equal(fz.covered_primary, fz_full.covered_primary))
        # covered where a primary radar switched on covers (its last-covered table: covered at this sample)
        k = np.arange(fz.last_covered.shape[-1])
        covered_by_on = np.zeros_like(fz.covered_primary)
        for i in on:
            covered_by_on |= fz.last_covered[i] == k
        assert np.array_equal(fz.covered_primary, covered_by_on)
    assert any(differs)                                   # Kirkuk PSR covered part of the direct route


# --- the side analyses at the headline's precision --------------------------------------------
@pytest.fixture(scope="module")
def f16_brief(tmp_path_factory):
    """A brief whose headline has more campaigns than its side analyses run (120 > 100)."""
    from sim.pipeline import simulate_to
    out = tmp_path_factory.mktemp("f16") / "b"
    sc = load(F16, ["detection.terrain=false", "run.campaigns=120", "run.flights=3"])
    simulate_to(out, sc, brief=True)
    return out, read_summary(out)


@pytest.mark.slow
def test_altitude_charts_this_scenario_is_the_key_number_and_the_curve_says_its_campaigns(f16_brief):
    from matplotlib.figure import Figure
    from sim.products.brief import headline_point
    from sim.products.charts import draw_altitude_curve
    _, s = f16_brief
    pts = s["altitude_sweep"]
    assert all(p["campaigns"] == 100 and len(p["p_detect_ci95"]) == 2 for p in pts)     # each says its own
    with use_style():
        fig = Figure(figsize=(5.5, 3.6))
        FigureCanvasAgg(fig)
        ax = fig.add_axes([0.1, 0.2, 0.85, 0.6])
        art = draw_altitude_curve(ax, pts, headline=headline_point(s))
    x, y = art["own"].lines[0].get_xydata()[0]
    assert y == s["p_detect"] and x == next(p["level_m"] for p in pts if p["scenario_level"])
    lo, hi = art["own"].lines[2][0].get_segments()[0][:, 1]
    assert (lo, hi) == tuple(s["p_detect_ci95"])
    labels = [t.get_text().replace("\n", " ") for t in art["legend"].get_texts()]      # wrapped, not cut
    assert any("the key number, 120 campaigns" in t for t in labels), labels
    assert any("100 campaigns per level" in t for t in labels), labels


@pytest.mark.slow
def test_tornado_bases_are_the_key_numbers_and_the_bars_the_effects_on_the_same_draws(f16_brief):
    out, s = f16_brief
    sens = s["sensitivity"]
    assert sens["campaigns_per_run"] == 100 and sens["base_campaigns"] == 120
    key = {"p_detect": (s["p_detect"], s["p_detect_ci95"]),
           "response.p_stopped": (s["response"]["p_stopped"], s["response"]["p_stopped_ci95"])}
    for metric, (value, ci) in key.items():
        m = sens["metrics"][metric]
        assert m["base"] == value and m["base_ci95"] == ci, metric
        for r in m["inputs"]:
            assert r["effect_low"] == pytest.approx(r["metric_low"] - m["base_same_draws"], abs=2e-6)
            assert r["effect_high"] == pytest.approx(r["metric_high"] - m["base_same_draws"], abs=2e-6)
    # an input with no effect on detection (the fighter's readiness) has no bar at all
    ready = next(r for r in sens["metrics"]["p_detect"]["inputs"] if r["key"].endswith("ready_min"))
    assert ready["effect_low"] == ready["effect_high"] == 0.0


@pytest.mark.slow
def test_sensitivity_base_is_runs_headline_for_the_same_scenario_and_campaigns(run_cli, tmp_path):
    # the check (airpicture sensitivity iraq_2012_f16_balad --metric response.p_stopped against
    # airpicture run), smaller: the scenario's 250 campaigns for the base, 200 for each low/high run
    sets = [a for s in ("detection.terrain=false", "run.campaigns=250", "run.flights=2") for a in ("--set", s)]
    code, _, err = run_cli("run", F16, *sets, "--out", tmp_path / "r", "-q")
    assert code == 0, err
    headline = read_summary(tmp_path / "r")["response"]
    code, out, err = run_cli("sensitivity", F16, "--metric", "response.p_stopped", *sets, "--out", tmp_path / "s")
    assert code == 0, err
    text = f"{headline['p_stopped']:.3f} [{headline['p_stopped_ci95_text']}], 250 campaigns as airpicture run"
    assert text in out.splitlines()[0]
    rows = (tmp_path / "s" / "sensitivity.csv").read_text().splitlines()
    header = rows[0].split(",")
    first = dict(zip(header, rows[1].split(",")))
    assert float(first["response.p_stopped_base"]) == headline["p_stopped"]
    assert first["base_campaigns"] == "250" and first["campaigns_per_run"] == "200"


# --- charts hide no data and cut no text --------------------------------------------------------
def _points_px(ax, line):
    """A line's data points in display coordinates (from the line's own data and the axes' transform)."""
    return ax.transData.transform(line.get_xydata())


def _inside(box, xy):
    return (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)


def _curve(levels, p, campaigns=100):
    return [{"mode": "amsl", "level_m": v, "p_detect": q, "p_detect_ci95": [max(q - 0.03, 0), min(q + 0.03, 1)],
             "campaigns": campaigns, "scenario_level": v == 10100.0, "below_ground_fraction": 0.0}
            for v, q in zip(levels, p)]


LEVELS = [300.0, 1000.0, 2000.0, 3000.0, 4500.0, 6000.0, 8000.0, 10000.0, 10100.0, 12000.0]


@pytest.mark.parametrize("shape", ["rising", "falling", "flat_high", "flat_low", "everywhere"])
def test_altitude_legend_covers_no_point_of_the_curve(shape):
    # the case: a curve under the fixed lower-right legend from 1,800 to 12,000 m; here every shape
    from matplotlib.figure import Figure
    from sim.products.charts import draw_altitude_curve
    p = {"rising": np.linspace(0.05, 0.98, 10), "falling": np.linspace(0.98, 0.05, 10),
         "flat_high": np.full(10, 0.97), "flat_low": np.full(10, 0.03),
         "everywhere": np.array([0.02, 0.98, 0.5, 0.1, 0.9, 0.3, 0.7, 0.05, 0.95, 0.5])}[shape]
    head = {"p_detect": float(p[8]), "p_detect_ci95": [float(p[8]) - 0.01, float(p[8]) + 0.01], "campaigns": 2000}
    for size, rect in (((5.5, 3.6), [0.11, 0.2, 0.86, 0.56]), ((3.6, 2.0), [0.15, 0.25, 0.8, 0.5])):
        with use_style():
            fig = Figure(figsize=size)
            FigureCanvasAgg(fig)
            ax = fig.add_axes(rect)
            art = draw_altitude_curve(ax, _curve(LEVELS, p), ground_max_m=3108.0, headline=head)
            fig.canvas.draw()
        box = art["legend"].get_window_extent()
        for line in (art["curve"].lines[0], art["own"].lines[0]):
            assert not _inside(box, _points_px(ax, line)).any(), (shape, size)
        assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)
        assert ax.get_ylim() == (0.0, 1.0)                       # a probability's axis: 0 to 1


def _texts_inside_figure(fig):
    """The texts drawn outside the figure (cut): every Text but the tick labels of ticks out of view."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ticks, drawn = set(), set()
    for ax in fig.findobj(lambda a: hasattr(a, "get_major_ticks") and hasattr(a, "_update_ticks")):
        for tick in ax.get_major_ticks() + ax.get_minor_ticks():
            ticks |= {id(tick.label1), id(tick.label2)}
        for tick in ax._update_ticks():                     # the ticks matplotlib draws: those in view
            drawn |= {id(tick.label1), id(tick.label2)}
    bad = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or (id(t) in ticks and id(t) not in drawn):
            continue
        b = t.get_window_extent(renderer)
        if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > fig.bbox.x1 + 0.5 or b.y1 > fig.bbox.y1 + 0.5:
            bad.append(t.get_text()[:60])
    return bad


@pytest.mark.slow
def test_no_text_of_a_chart_is_cut_and_long_labels_wrap(f16_brief):
    from sim.products.brief import altitude_figure, compare_figure, sweep_figure, tornado_figure
    _, s = f16_brief
    long_key = "route[" + "a very long route name " * 4 + "].cross_track_sigma_km"
    rows = [{"key": long_key, "value": 10, "low": 0, "high": 20, "metric_low": 0.5, "metric_high": 0.7,
             "swing": 0.2, "effect_low": -0.1, "effect_high": 0.1},
            {"key": 'radar["Baghdad PSR"].availability', "value": 0.95, "low": 0.5, "high": 1.0,
             "metric_low": 0.4, "metric_high": 0.65, "swing": 0.25, "effect_low": -0.2, "effect_high": 0.05}]
    caption = "a run text of some length " * 20
    with use_style():
        figs = {
            "altitude": altitude_figure(s["altitude_sweep"], s, 3108.0)[0],
            "tornado": tornado_figure(0.6, rows, "p_detect", "Which assumption matters " * 5, caption,
                                      base_ci95=[0.58, 0.62], runs_text="Base: the key number " * 10)[0],
            "compare": compare_figure(["iraq-2012-baseline", "a scenario name " * 6], [0.6, 0.99],
                                      [[0.58, 0.62], [0.97, 1.0]], [3000, 3000], caption, reference=0,
                                      reference_why="the baseline, by default")[0],
            "sweep": sweep_figure("aircraft.rcs_m2", [{"value": v, "metric": "p_detect", "metric_value": q,
                                                      "metric_ci95": [q - 0.02, q + 0.02]}
                                                     for v, q in ((1, 0.2), (10, 0.6), (100, 0.95))],
                                  "P(detect) against aircraft.rcs_m2 " * 4, caption)[0],
        }
    for name, fig in figs.items():
        FigureCanvasAgg(fig)
        assert _texts_inside_figure(fig) == [], name
    ticks = [t.get_text() for t in figs["tornado"].axes[0].get_yticklabels()]
    assert any("\n" in t and t.replace("\n", " ").startswith(long_key[:20]) for t in ticks)   # wrapped, whole
    assert figs["compare"].axes[0].get_xlim() == (0.0, 1.0)                   # no probability beyond 1


def test_tornado_bars_stay_within_0_and_1():
    from matplotlib.figure import Figure
    from sim.products.charts import draw_tornado
    rows = [{"key": "k", "low": 0, "high": 1, "metric_low": 0.1, "metric_high": 1.0, "swing": 0.9,
             "effect_low": -0.9, "effect_high": 0.3}]
    with use_style():
        fig = Figure()
        FigureCanvasAgg(fig)
        ax = fig.add_axes([0.3, 0.2, 0.6, 0.6])
        art = draw_tornado(ax, 0.95, rows, "p_detect", base_ci95=[0.94, 0.96])
    (lo,), (hi,) = art["low"].patches, art["high"].patches
    assert lo.get_x() + lo.get_width() == pytest.approx(0.05) and hi.get_x() + hi.get_width() == pytest.approx(1.0)
    assert 0.0 <= ax.get_xlim()[0] and ax.get_xlim()[1] <= 1.0


def test_compare_defaults_to_the_baseline_and_says_so(run_cli, tmp_path):
    code, out, err = run_cli("compare", OFF, SCENARIOS / "iraq_2012_baseline.toml", "--campaigns", 2,
                             "--set", "detection.terrain=false", "--out", tmp_path / "c")
    assert code == 0, err
    assert "reference: iraq-2012-baseline (the baseline, by default)" in out
    assert "against iraq-2012-baseline (the reference; the baseline, by default)" in (
        tmp_path / "c" / "README.txt").read_text()


# --- the brief's map labels, table and progress ------------------------------------------------
@pytest.mark.slow
def test_what_if_map_labels_overlap_neither_each_other_nor_a_marker(kirkuk_off_brief):
    from matplotlib.figure import Figure
    from sim.products.brief import map_layers
    from sim.products.maps import draw_route_map
    _, sim, result, _ = kirkuk_off_brief
    layers = map_layers(sim, result, n_tracks=5, n_points=5)
    for size, rect in (((11, 8), [0.02, 0.1, 0.96, 0.8]), ((11.69, 8.27), [0.034, 0.16, 0.571, 0.68])):   # map.png, brief
        with use_style():
            fig = Figure(figsize=size)
            FigureCanvasAgg(fig)
            ax = fig.add_axes(rect)
            artists = draw_route_map(ax, layers)
            renderer = fig.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer) for t in artists["site_labels"]]
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                assert not boxes[i].overlaps(boxes[j]), (artists["site_labels"][i].get_text(),
                                                         artists["site_labels"][j].get_text())
        radar_xy = layers.radar_xy[np.isfinite(layers.radar_xy[:, 0])]
        markers = ax.transData.transform(np.vstack([radar_xy, layers.airport_xy.reshape(-1, 2)]))
        for t, b in zip(artists["site_labels"], boxes):
            assert not _inside(b.padded(-1.0), markers).any(), t.get_text()     # Erbil's label off Mosul's airport


@pytest.mark.slow
def test_brief_says_first_track_from_departure_and_shows_progress_on_a_terminal(run_cli, tmp_path, monkeypatch):
    import sys
    from sim.pipeline import brief_steps
    from sim.products.brief import _key_rows
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = run_cli("brief", OFF, "--campaigns", 2, "--flights", 2, "--set", "detection.terrain=false",
                           "--out", tmp_path / "b")
    assert code == 0, err
    steps = brief_steps(load(OFF, ["detection.terrain=false"]))
    assert "brief:" in err and f"/{steps} [" in err, err[-400:]          # a bar of the brief's steps
    s = read_summary(tmp_path / "b")
    rows = _key_rows(s)
    i = [a for a, _ in rows].index("First track, mean")
    assert rows[i + 1][0].strip() == "since departure"


@pytest.mark.slow
def test_the_brief_reports_every_step_it_counts(tmp_path):
    # the bar's total is what the brief calls: each level, each tornado run, each group of files drawn
    from sim.pipeline import brief_steps, simulate_to
    sc = load(OFF, ["detection.terrain=false", "run.campaigns=2", "run.flights=2"])
    calls = []
    simulate_to(tmp_path / "b", sc, brief=True, sweep_progress=calls.append)
    assert calls == [1] * brief_steps(sc)


@pytest.mark.parametrize("command", [
    ("coverage", OFF, "--altitude-m", 3000),
    ("sweep", OFF, "--key", "aircraft.rcs_m2", "--values", "10,40", "--campaigns", 2),
    ("compare", OFF, OFF, "--campaigns", 2),
    ("sensitivity", OFF, "--campaigns", 2),
])
def test_long_commands_show_a_bar_on_a_terminal_and_none_with_quiet(run_cli, monkeypatch, tmp_path, command):
    import sys
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    out = ("--out", tmp_path / "a") if command[0] == "coverage" else ()
    code, _, err = run_cli(*command, "--set", "detection.terrain=false", *out)
    assert code == 0, err
    assert "/s]" in err, err[-300:]            # tqdm's rate
    out = ("--out", tmp_path / "b") if command[0] == "coverage" else ()
    code, _, err = run_cli(*command, "--set", "detection.terrain=false", "-q", *out)
    assert code == 0 and "/s]" not in err


@pytest.mark.slow
def test_no_text_of_the_brief_page_is_cut_and_its_charts_have_no_legend_over_data(kirkuk_off_brief):
    from sim.products.brief import brief_figure, map_layers, route_ground_max_m
    from sim.products.charts import detections_per_campaign
    _, sim, result, summary = kirkuk_off_brief
    with use_style():
        fig = brief_figure(map_layers(sim, result, n_tracks=5, n_points=5), detections_per_campaign(result),
                           summary["altitude_sweep"], summary, sim, "2012-03-01", route_ground_max_m(sim))
    FigureCanvasAgg(fig)
    assert _texts_inside_figure(fig) == []
    charts = [ax for ax in fig.axes if ax.get_xlabel() in ("cruise altitude [m AMSL]", "flights detected per "
                                                            f"campaign (of {summary['flights_per_campaign']})")]
    assert len(charts) == 2 and all(ax.get_legend() is None for ax in charts)     # said in their titles
    texts = " ".join(t.get_text().replace("\n", " ") for t in fig.texts)
    assert "diamond: this scenario, the key number" in texts and "solid line: mean" in texts
