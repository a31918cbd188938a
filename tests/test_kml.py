"""routes.kml against the OGC KML 2.2 schema (ogckml22.xsd, OGC 07-147r2), and what it shows."""
import functools
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely
from pyproj import Geod

from conftest import SCENARIOS, ogc_kml22_schema
from geo.coverage import project_geometry
from sim.flights import positions_at, to_lat_lon
from sim.pipeline import load, simulate
from sim.products.brief import coverage_level, coverage_polygons, first_detection_sample, intercept_sample
from sim.products.kml import build_kml

etree = pytest.importorskip("lxml.etree")

KML = "{http://www.opengis.net/kml/2.2}"
TINY = ["detection.terrain=false", "run.campaigns=20", "run.flights=5"]


@pytest.fixture(scope="module")
def schema():
    return ogc_kml22_schema()


@functools.cache
def _kml(name):
    """A tiny run of a scenario and its KML, made as write_brief makes routes.kml (once per test process)."""
    sim, result = simulate(load(SCENARIOS / f"{name}.toml", TINY))
    tr = sim.airspace.transformer
    alt, agl, label = coverage_level(sim)
    cov = coverage_polygons(sim, tr, alt, agl)
    text = build_kml(title="Test & <title>", description="what-if: a \"quoted\" change", routes=sim.routes,
                     radars=sim.radars,
                     coverage_lonlat=[project_geometry(shapely.simplify(g, 100.0), tr, direction="INVERSE")
                                      for g in cov],
                     coverage_alt_m=alt, coverage_label=label, first_detections=first_detection_sample(sim, result),
                     interceptors=sim.scenario.interceptors, intercepts=intercept_sample(sim, result))
    return sim, result, text


def _errors(schema, text):
    ok = schema.validate(etree.fromstring(text.encode("utf-8")))
    return [] if ok else [f"line {e.line}: {e.message}" for e in schema.error_log][:10]


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.toml")))
def test_kml_of_every_shipped_scenario_validates_against_ogc_kml22(schema, name):
    _, _, text = _kml(name)
    assert _errors(schema, text) == []
    root = ET.fromstring(text)
    ids = [el.get("id") for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids))                        # xs:ID: unique, and NCNames (checked by the schema)
    for url in root.iter(f"{KML}styleUrl"):                  # every style reference resolves
        assert url.text.startswith("#") and url.text[1:] in ids, url.text


def test_the_schema_check_is_not_vacuous(schema):
    # each kind of violation that simplekml's raw output had fails the schema when put back
    _, _, text = _kml("iraq_2012_low_level")
    assert _errors(schema, text) == []

    def fails(change):
        root = etree.fromstring(text.encode("utf-8"))
        change(root)
        return not schema.validate(root)

    def bare_id(root):
        root[0].set("id", "1")

    def style_before_name(root):
        folder = root.find(f"{KML}Document/{KML}Folder")
        folder.insert(0, folder.find(f"{KML}Style"))

    def altitude_mode_last(root):
        point = next(root.iter(f"{KML}Point"))
        point.append(point.find(f"{KML}altitudeMode"))

    def holes_in_one_boundary(root):
        polygon = next(p for p in root.iter(f"{KML}Polygon") if len(p.findall(f"{KML}innerBoundaryIs")) > 1)
        first, second = polygon.findall(f"{KML}innerBoundaryIs")[:2]
        first.append(second[0])
        polygon.remove(second)

    for change in (bare_id, style_before_name, altitude_mode_last, holes_in_one_boundary):
        assert fails(change), change.__name__


def test_kml_point_order_follows_the_schema():
    _, _, text = _kml("iraq_2012_baseline")
    for point in ET.fromstring(text).iter(f"{KML}Point"):
        tags = [c.tag.removeprefix(KML) for c in point]
        assert tags == ["altitudeMode", "coordinates"], tags


def test_kml_has_the_interceptor_bases_and_the_sampled_intercepts():
    sim, result, text = _kml("iraq_2012_f16_balad")
    folders = {f.find(f"{KML}name").text: f for f in ET.fromstring(text).iter(f"{KML}Folder")}
    bases = folders["Interceptor bases"].findall(f"{KML}Placemark")
    assert [b.find(f"{KML}name").text for b in bases] == [i.name for i in sim.scenario.interceptors]
    for b, itc in zip(bases, sim.scenario.interceptors):
        lon, lat, _ = map(float, b.find(f".//{KML}coordinates").text.split(","))
        assert (lon, lat) == (round(itc.lon_deg, 5), round(itc.lat_deg, 5))
    n = min(50, int(result.interceptable.sum()))
    assert n > 0
    hits = folders[f"Earliest intercepts (sample of {n})"].findall(f"{KML}Placemark")
    assert len(hits) == n
    b = result.batch
    row = {(int(c), int(f)): i for i, (c, f) in enumerate(zip(b.campaign, b.flight))}
    geod = Geod(ellps="WGS84")
    for h in hits:
        c, f = (int(s[1:]) for s in h.find(f"{KML}name").text.split())
        i = row[(c, f)]
        assert result.interceptable[i]
        lon, lat, alt = map(float, h.find(f".//{KML}coordinates").text.split(","))
        # the meeting point is on the flight's own track at the intercept time (independent: the flight's
        # position there, and a WGS84 geodesic distance within the KML's 5-decimal rounding, about 1 m)
        xyz, alt_m, _ = positions_at(sim.packed, b.route_index[[i]], b.cross_track_m[[i]],
                                     result.intercept_t_s[[i]][:, None])
        flat, flon = to_lat_lon(xyz[:, 0])
        assert geod.inv(lon, lat, float(flon[0]), float(flat[0]))[2] < 2.0
        assert alt == pytest.approx(float(alt_m[0, 0]), abs=0.06)
    assert np.all(np.isfinite([result.intercept_t_s[row[k]] for k in row if result.interceptable[row[k]]]))


def test_kml_without_interceptors_has_no_interceptor_folders():
    _, result, text = _kml("iraq_2012_transponder_off")
    names = [f.find(f"{KML}name").text for f in ET.fromstring(text).iter(f"{KML}Folder")]
    assert not any("nterce" in n for n in names), names


@pytest.mark.parametrize("name", ["iraq_2012_f16_balad", "iraq_2012_aew_orbit"])
def test_every_description_is_text_when_read_as_html_and_every_balloon_shows_only_it(name):
    # Google Earth shows a description as HTML (and a balloon's $[name] inside HTML): the title's "&" and
    # "<title>" and the description's quotes must come back as characters, with no element, from every
    # description (lxml.html, an independent HTML parser), and no balloon may show $[name]
    import html

    from sim.products.kml import BALLOON_TEXT
    lxml_html = pytest.importorskip("lxml.html")
    _, _, text = _kml(name)
    root = etree.fromstring(text.encode("utf-8"))
    styles = {s.get("id"): s for s in root.iter(f"{KML}Style")}
    descriptions = list(root.iter(f"{KML}description"))
    assert len(descriptions) > 10
    for d in descriptions:
        div = lxml_html.fragment_fromstring(d.text, create_parent="div")
        assert len(div) == 0 and div.text_content() == html.unescape(d.text), d.text
        assert html.unescape(d.text).startswith(d.getparent().find(f"{KML}name").text + ": ")
    doc = root[0]
    assert doc.find(f"{KML}name").text == "Test & <title>"
    assert 'what-if: a "quoted" change' in html.unescape(doc.find(f"{KML}description").text)
    for feature in [doc, *root.iter(f"{KML}Placemark")]:
        style = styles[feature.find(f"{KML}styleUrl").text[1:]]
        assert style.find(f"{KML}BalloonStyle/{KML}text").text == BALLOON_TEXT
    assert "$[name]" not in text
