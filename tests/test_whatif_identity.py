"""What-ifs say what they are: every product of a run with ``--set`` overrides states them (and
``--exact``); a run without writes none of it.

The references are the override texts the test itself passes, read back from the files each
product writes (summary.json, README.txt, routes.geojson, the PDF's text layer, the PNG text
chunks, the KML), never values computed by the code under test.
"""
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from conftest import SCENARIOS, read_summary
from sim.analysis import altitude_sweep
from sim.pipeline import load, simulate
from sim.products.brief import detections_figure, write_brief
from sim.products.charts import detections_per_campaign
from sim.products.style import use_style
from sim.results import overrides_text, shown_title, summarize
from sim.scenario import load_scenario, with_cruise_level, with_overrides

SCENARIO = SCENARIOS / "iraq_2012_transponder_off.toml"
SMALL = ("--campaigns", 20, "--flights", 5)
WHAT_IF = ["detection.terrain=false", "radar[Kirkuk PSR].availability=0.5"]   # as a user types them


def _readme(out):
    return (Path(out) / "README.txt").read_text(encoding="utf-8")


def _geojson_about(out):
    return json.loads((Path(out) / "routes.geojson").read_text(encoding="utf-8"))["airpicture"]


# --- the validated scenario ---------------------------------------------------------------------
def test_scenario_records_its_overrides_in_order_and_accumulates_them():
    base = load_scenario(SCENARIO)
    assert base.overrides == ()
    sc = load_scenario(SCENARIO, WHAT_IF)
    assert sc.overrides == tuple(WHAT_IF)
    more = with_overrides(sc, ["aircraft.rcs_m2=10"])
    assert more.overrides == (*WHAT_IF, "aircraft.rcs_m2=10")
    assert more.aircraft.rcs_m2 == 10.0 and {r.name: r for r in more.radars}["Kirkuk PSR"].availability == 0.5
    # a point of the brief's altitude curve is not a what-if of the user's: nothing added, nothing lost
    assert with_cruise_level(sc, altitude_m=3000.0).overrides == tuple(WHAT_IF)
    # where a scenario comes from is not what it is: the same content compares equal
    assert with_overrides(base, ["detection.terrain=false"]) == load_scenario(SCENARIO, ["detection.terrain=false"])


def test_shown_title_counts_the_changes_and_a_long_list_is_shortened_readably():
    assert shown_title({"title": "T", "overrides": []}) == "T"
    assert shown_title({"title": "T", "overrides": ["a=1"]}) == "T (what-if: 1 change)"
    assert shown_title({"title": "T", "overrides": ["a=1", "b=2", "c=3"]}) == "T (what-if: 3 changes)"
    items = [f"radar[Site {i}].availability=0.{i}" for i in range(9)]
    full = overrides_text({"overrides": items})
    assert full == "; ".join(items)
    short = overrides_text({"overrides": items}, max_chars=100)
    assert len(short) <= 100
    kept = short.split("; … ")[0].split("; ")
    assert kept == items[:len(kept)]                              # whole overrides, in order
    assert short.endswith(f"(+{len(items) - len(kept)} more)")   # and how many are left out


# --- run: summary.json, README.txt, routes.geojson ------------------------------------------------
def test_run_with_set_and_exact_records_them(run_cli, tmp_path):
    sets = [a for text in WHAT_IF for a in ("--set", text)]
    code, out, err = run_cli("run", SCENARIO, *SMALL, *sets, "--exact", "--out", tmp_path / "w")
    assert code == 0, err
    s = read_summary(tmp_path / "w")
    assert s["overrides"] == WHAT_IF and s["exact"] is True
    assert s["title"] == load_scenario(SCENARIO).info.title       # the scenario's own title is kept
    readme = _readme(tmp_path / "w")
    assert "What-if: 2 changes" in readme and "Exact geometry" in readme
    lines = readme.splitlines()
    assert [lines.index(f"  {t}") for t in WHAT_IF] == sorted(lines.index(f"  {t}") for t in WHAT_IF)  # in order
    assert _geojson_about(tmp_path / "w")["overrides"] == WHAT_IF
    first = out.splitlines()[0]                                   # the title line printed says so too
    assert all(t in first for t in WHAT_IF) and "exact" in first


def test_run_without_set_writes_no_what_if(run_cli, tmp_path, write_scenario):
    # the scenario file itself turns terrain off: no override at all
    text = SCENARIO.read_text(encoding="utf-8").replace("terrain = true", "terrain = false")
    assert "terrain = false" in text
    code, out, err = run_cli("run", write_scenario(text), *SMALL, "--out", tmp_path / "p")
    assert code == 0, err
    s = read_summary(tmp_path / "p")
    assert s["overrides"] == [] and s["exact"] is False
    readme = _readme(tmp_path / "p")
    assert "what-if" not in readme.lower() and "exact geometry" not in readme.lower()
    assert "overrides" not in _geojson_about(tmp_path / "p")
    assert "what-if" not in out.lower()


# --- brief: PDF text layer, PNG metadata, KML ------------------------------------------------------
@pytest.fixture(scope="module")
def what_if_brief(tmp_path_factory):
    """One small what-if brief (terrain off, 20 x 5 flights, 2-point altitude curve of 3 campaigns, dpi 50)."""
    out = tmp_path_factory.mktemp("whatif_brief")
    sc = load(SCENARIO, [*WHAT_IF, "run.campaigns=20", "run.flights=5"])
    sim, result = simulate(sc)
    summary = summarize(sim, result)
    points = altitude_sweep(sc, (300.0, 10000.0), campaigns=3, terrain=sim.terrain)
    write_brief(out, sim, result, summary, points, dpi=50, n_tracks=30)
    return out, sc.overrides


@pytest.mark.slow
def test_brief_pdf_text_layer_states_the_what_if(what_if_brief):
    out, overrides = what_if_brief
    text = pdfium.PdfDocument(out / "brief.pdf")[0].get_textpage().get_text_range()
    assert "(what-if: 4 changes)" in text
    for t in overrides:
        assert t in text, t


@pytest.mark.slow
def test_png_metadata_and_kml_state_the_what_if(what_if_brief):
    out, overrides = what_if_brief
    for name in ("map.png", "detections.png", "altitude.png"):
        with Image.open(out / name) as image:
            info = image.info                                     # the PNG's tEXt/iTXt chunks
        assert "(what-if: 4 changes)" in info["Title"], name
        for t in overrides:
            assert t in info["Description"], (name, t)
    doc = ET.parse(out / "routes.kml").getroot()[0]              # <kml><Document>
    ns = "{http://www.opengis.net/kml/2.2}"
    assert "(what-if: 4 changes)" in doc.find(ns + "name").text
    assert all(t in doc.find(ns + "description").text for t in overrides)


def test_figures_of_a_run_without_overrides_say_nothing_of_what_ifs(tmp_path):
    # the same figure code, fed a summary without overrides: no what-if anywhere (text or metadata)
    sc = load(SCENARIO, ["detection.terrain=false", "run.campaigns=5", "run.flights=3"])
    sim, result = simulate(sc, with_fences=False)
    summary = summarize(sim, result)
    summary["overrides"] = []           # as a run of a file with these settings written in
    with use_style():
        fig, _ = detections_figure(detections_per_campaign(result), summary)   # captioned with the run
        texts = " ".join(t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")))
    assert "seed" in texts and "what-if" not in texts.lower()
    assert shown_title(summary) == sc.info.title
