"""Names are text in every viewer (issue 26): markup in a name or title reads as its characters in the KML
(whose descriptions Google Earth shows as HTML), a character some output cannot carry or a reader cannot
see is refused at load naming the key, and a 200-character title stays on the brief's page."""
import html
import sys
import tomllib
import unicodedata

import pytest

from conftest import SCENARIOS, ogc_kml22_schema
from geo.earth import destination_deg
from sim.optimise.placement import read_candidates, read_racetracks
from sim.cli import main
from sim.products.evade import toml_text
from sim.products.kml import BALLOON_TEXT
from sim.scenario import ScenarioError, load_scenario, parse_scenario, shown_text, text_refusal

etree = pytest.importorskip("lxml.etree")
lxml_html = pytest.importorskip("lxml.html")

KML = "{http://www.opengis.net/kml/2.2}"
#: Markup, entities, quotes and CDATA (closed and not: simplekml once passed it through as markup).
HOSTILE = {
    "radar": ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&amp; \"q\" 'x'",
              "<![CDATA[<b>cdata</b>]]>", "open <![CDATA[ <i>"],
    "route": ["<img src=x onerror=alert(1)> &amp; \"q\" 'r'", "<script>alert(1)</script> ]]>"],
    "interceptor": ["<b onmouseover=alert(1)>F-16</b>"],
}


def _title_200():
    """A title of exactly 200 characters (scenario.TITLE_MAX_CHARS), markup first, then words."""
    words = ("Il-76 flights Tehran-Damascus against the civil air traffic control radars of Iraq in March 2012, "
             "with a title long enough to need two lines on the brief's page and more than two on the map page "
             "of the same run").split()
    t = "<script>alert(1)</script> <img src=x onerror=alert(1)> &amp; \"q\" 'x'"
    for w in words:
        if len(t) + 1 + len(w) > 200:
            break
        t += " " + w
    return t + "." * (200 - len(t))


TITLE = _title_200()


def _hostile_doc():
    """The F-16 scenario (no [uncertainty]: no tornado runs), smooth Earth, its names and title hostile."""
    text = (SCENARIOS / "iraq_2012_f16_balad.toml").read_text(encoding="utf-8").split("[uncertainty]")[0]
    doc = tomllib.loads(text)
    doc["detection"]["terrain"] = False
    doc["scenario"]["title"] = TITLE
    for table, names in HOSTILE.items():
        for i, name in enumerate(names):
            doc[table][i]["name"] = name
    return doc


@pytest.fixture(scope="module")
def brief(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    path = tmp / "hostile.toml"
    path.write_text(toml_text(_hostile_doc()), encoding="utf-8")
    out = tmp / "out"
    code = main(["brief", str(path), "--campaigns", "20", "--out", str(out), "-q", "--no-cache"])
    assert code == 0
    return out


def _as_html_is_text(text):
    """``text`` (an element's text as XML gives it) read as HTML: no element, and its characters are
    ``html.unescape(text)``."""
    div = lxml_html.fragment_fromstring(text, create_parent="div")
    return len(div) == 0 and div.text_content() == html.unescape(text)


def _check_kml(text, names, title):
    """Every description and snippet is text when read as HTML, each begins with its feature's name, names
    are the scenario's as written, and every balloon is ``$[description]`` (never ``$[name]``)."""
    root = etree.fromstring(text.encode("utf-8"))
    assert "$[name]" not in text
    styles = {s.get("id"): s for s in root.iter(f"{KML}Style")}
    shown = []
    for tag in ("description", "Snippet", "snippet"):
        for el in root.iter(f"{KML}{tag}"):
            assert _as_html_is_text(el.text), el.text
            feature = el.getparent()
            name = feature.find(f"{KML}name").text
            assert html.unescape(el.text).startswith(f"{name}: "), (name, el.text[:80])
            shown.append(html.unescape(el.text))
    assert shown
    for feature in [root[0], *root.iter(f"{KML}Placemark")]:      # the Document, then every placemark
        style = styles[feature.find(f"{KML}styleUrl").text[1:]]
        assert style.find(f"{KML}BalloonStyle/{KML}text").text == BALLOON_TEXT
    all_names = {el.text for el in root.iter(f"{KML}name")}
    for name in names:
        assert name in all_names, name                          # as written, markup and all
        assert any(name in s for s in shown), name              # and in a balloon, as its characters
    assert any(title in s for s in shown)
    return root


@pytest.mark.slow
def test_brief_kml_shows_hostile_names_as_text_in_every_description(brief):
    # Google Earth shows a description as HTML: each must parse (lxml.html) to no element, the markup
    # coming back as its characters; the 144 first-detection balloons of the probe included
    text = (brief / "routes.kml").read_text(encoding="utf-8")
    names = [n for names in HOSTILE.values() for n in names]
    root = _check_kml(text, names, TITLE)
    assert root[0].find(f"{KML}name").text == TITLE
    firsts = [p for p in root.iter(f"{KML}Placemark") if "first track by" in p.find(f"{KML}description").text]
    assert firsts and any(name in html.unescape(p.find(f"{KML}description").text)
                          for p in firsts for name in HOSTILE["radar"])
    schema = ogc_kml22_schema()
    assert schema.validate(etree.fromstring(text.encode("utf-8"))), list(schema.error_log)[:5]


def test_the_html_check_is_not_vacuous():
    # the KML as it was before issue 26: a description's text that is markup reads as an element
    assert not _as_html_is_text("first track by <img src=x onerror=alert(1)> at t = 3.0 min")
    assert not _as_html_is_text("<script>alert(1)</script>")
    assert _as_html_is_text(html.escape("<img src=x onerror=alert(1)> &amp; \"q\" 'x'", quote=True))


def test_evade_kml_shows_a_hostile_title_and_radar_name_as_text():
    from sim.optimise.route import evade
    from sim.products.evade import routes_kml
    la_a, lo_a = destination_deg(33.0, 44.0, 270.0, 100_000.0)
    la_b, lo_b = destination_deg(33.0, 44.0, 90.0, 100_000.0)
    title = "<img src=x onerror=alert(1)> &amp; \"q\" 'x' <script>alert(1)</script>"
    radar = "<script>alert(1)</script> ]]> <![CDATA[ <b>"
    doc = {"scenario": {"name": "disk", "title": title}, "run": {"campaigns": 5, "flights": 3, "seed": 11},
           "aircraft": {"cruise_altitude_m": 1000.0, "transponder_on_probability": 0.0},
           "route": [{"name": "direct", "waypoints": [{"lat": float(la_a), "lon": float(lo_a)},
                                                      {"lat": float(la_b), "lon": float(lo_b)}]}],
           "radar": [{"name": radar, "lat": 33.0, "lon": 44.0, "antenna_height_m": 10.0, "elevation_m": 0.0,
                      "kind": "primary", "range_km": 50.0, "scan_period_s": 10.0, "pd": 0.01}],
           "detection": {"terrain": False}}
    result = evade(parse_scenario(doc, "disk.toml"), "0,10", spacing_m=5000.0, levels="cruise")
    text = routes_kml(result)
    root = _check_kml(text, [radar], title)
    assert root[0].find(f"{KML}name").text == f"Least-detectable routes: {title}"
    schema = ogc_kml22_schema()
    assert schema.validate(etree.fromstring(text.encode("utf-8"))), list(schema.error_log)[:5]


# --- characters refused at load ------------------------------------------------------------------------------
def _is_noncharacter(cp):
    return 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE


def test_refused_code_points_are_unicodedatas_cc_cf_cs_zl_zp_and_the_66_noncharacters():
    # independent reference: the rule of docs/scenario-format.md in unicodedata's categories (Cc, Cf, Cs,
    # Zl, Zp) and the noncharacters (Unicode 15.1, section 23.7: U+FDD0-U+FDEF and U+nFFFE/U+nFFFF)
    # checked code point by code point; the regex may also hold the format characters Unicode 15 added
    # (U+13439-U+1343F) where this Python's Unicode has them unassigned
    later_format = set(range(0x13439, 0x13440))
    wrong = []
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        rule = unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") or _is_noncharacter(cp)
        refused = text_refusal(c) is not None
        if refused != rule and not (refused and cp in later_format and unicodedata.category(c) == "Cn"):
            wrong.append(f"U+{cp:04X}")
    assert wrong == []
    assert len([cp for cp in range(0x110000) if _is_noncharacter(cp)]) == 66


@pytest.mark.parametrize("ch", ["\x1b", "\u200b", "\u200e", "\u200f", "\u061c", "\ufeff", "\xad", "\u202e",
                                "\ud800", "\ufdd0", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"])
def test_shown_text_escapes_every_refused_character_and_the_message_names_its_code_point(ch):
    msg = text_refusal(f"ab{ch}c")
    assert f"U+{ord(ch):04X}" in msg and "at position 2" in msg
    shown = shown_text(f"a{ch}b")
    assert text_refusal(shown) is None and shown == "a" + repr(ch)[1:-1] + "b"


def _refused_doc(where, ch):
    doc = tomllib.loads((SCENARIOS / "iraq_2012_baseline.toml").read_text(encoding="utf-8"))
    if where == "title":
        doc["scenario"]["title"] = f"Il-76 {ch}flights"
    else:
        doc["radar"][2]["name"] = f"Kirkuk{ch} PSR"
    return doc


@pytest.mark.parametrize("where, key", [("radar", "radar[2].name"), ("title", "scenario.title")])
@pytest.mark.parametrize("ch", ["\uffff", "\ufffe", "\u200b", "\ufeff"])
def test_validate_exits_2_with_one_line_naming_the_key_and_the_code_point(run_cli, tmp_path, where, key, ch):
    path = tmp_path / "s.toml"
    path.write_text(toml_text(_refused_doc(where, ch)), encoding="utf-8")
    code, out, err = run_cli("validate", path)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"{key}: holds " in lines[0] and f"U+{ord(ch):04X}" in lines[0], err
    assert text_refusal(lines[0]) is None                 # the message itself shows no such character


@pytest.mark.parametrize("ch", ["\u200c", "\u200d", "\u2060", "\U000e0041", "\ud800", "\ufdd0", "\U0010fffe"])
def test_parse_refuses_the_other_invisible_and_non_xml_characters(ch):
    # a surrogate cannot be in a UTF-8 file, but a command line's undecodable bytes arrive as one
    with pytest.raises(ScenarioError, match=rf"radar\[2\]\.name: holds .*U\+{ord(ch):04X}"):
        parse_scenario(_refused_doc("radar", ch), "x.toml")


def test_a_name_with_markup_and_a_200_character_title_load(tmp_path):
    path = tmp_path / "hostile.toml"
    path.write_text(toml_text(_hostile_doc()), encoding="utf-8")
    sc = load_scenario(path)
    assert sc.info.title == TITLE and len(TITLE) == 200
    assert [r.name for r in sc.radars[:5]] == HOSTILE["radar"]


# --- place candidates CSV ------------------------------------------------------------------------------------
@pytest.mark.parametrize("ch", ["\x1b", "\u200b", "\uffff"])
def test_a_candidates_csv_name_is_refused_naming_the_csv_its_line_and_column(tmp_path, ch):
    doc = tomllib.loads((SCENARIOS / "iraq_2012_baseline.toml").read_text(encoding="utf-8"))
    doc["detection"]["terrain"] = False                  # the good row's site needs no terrain model
    sc = parse_scenario(doc, "baseline.toml")
    sites = tmp_path / "sites.csv"
    sites.write_text(f"lat,lon,name\n33.0,44.0,good\n34.0,44.5,ba{ch}d\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        read_candidates(sites, sc, 15.0)
    assert str(e.value).startswith(f"{sites}: line 3: name: holds ") and f"U+{ord(ch):04X}" in str(e.value)
    tracks = tmp_path / "tracks.csv"
    tracks.write_text(f"lat1,lon1,lat2,lon2,name\n33.0,44.0,33.5,44.5,a{ch}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        read_racetracks(tracks)
    assert str(e.value).startswith(f"{tracks}: line 2: name: holds ") and f"U+{ord(ch):04X}" in str(e.value)


def test_place_names_the_candidates_csv_not_the_scenario(run_cli, tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("lat,lon,name\n33.0,44.0,good\n34.0,44.5,ba\x1bd\n", encoding="utf-8")
    code, _, err = run_cli("place", SCENARIOS / "iraq_2012_baseline.toml", "--add", 1, "--like", "Kirkuk PSR",
                           "--candidates", sites, "--campaigns", 5, "-q")
    assert code == 2
    why = text_refusal("ba\x1bd")
    assert err.strip().splitlines() == [f"airpicture: error: {sites}: line 3: name: {why}"]


# --- a 200-character title on the brief ----------------------------------------------------------------------
def _title_chars(path):
    """The page size and the characters of a PDF page's largest font (its title): ``[(l, b, r, t, line, ch)]``,
    the glyph's box [pt] and a key of its line (the font's box, the same for every glyph of a line)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c
    page = pdfium.PdfDocument(str(path))[0]
    tp = page.get_textpage()
    chars = []
    for i in range(tp.count_chars()):
        ch = tp.get_text_range(i, 1)
        if ch.strip():
            _, b, _, t = tp.get_charbox(i, loose=True)
            chars.append((round(pdfium_c.FPDFText_GetFontSize(tp.raw, i), 1), *tp.get_charbox(i), round(b + t), ch))
    top = max(c[0] for c in chars)
    return page.get_size(), [c[1:] for c in chars if c[0] == top]


@pytest.mark.slow
def test_a_200_character_title_stays_on_the_brief_page_and_is_whole_in_its_metadata(brief):
    pdfium = pytest.importorskip("pypdfium2")
    from sim.products.brief import BRIEF_MARGIN_MM
    (w, h), chars = _title_chars(brief / "brief.pdf")
    margin = BRIEF_MARGIN_MM / 25.4 * 72.0            # [pt]; 0.5 pt: pdfium's glyph boxes against matplotlib's
    assert min(c[0] for c in chars) >= margin - 0.5 and max(c[2] for c in chars) <= w - margin + 0.5
    assert max(c[3] for c in chars) <= h - margin + 0.5
    assert len({c[4] for c in chars}) == 2              # wrapped onto two lines, nothing left out on the brief
    assert "".join(c[5] for c in chars) == TITLE.replace(" ", "")
    assert pdfium.PdfDocument(str(brief / "brief.pdf")).get_metadata_dict()["Title"] == f"Brief: {TITLE}"
    assert f"Title: {TITLE}\n" in (brief / "README.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_title_too_long_for_two_lines_is_shortened_on_the_map_page(brief):
    pdfium = pytest.importorskip("pypdfium2")
    (w, _), chars = _title_chars(brief / "map.pdf")
    assert min(c[0] for c in chars) >= 0.0 and max(c[2] for c in chars) <= w
    assert len({c[4] for c in chars}) == 2
    shown = "".join(c[5] for c in chars)
    assert shown.endswith("…") and TITLE.replace(" ", "").startswith(shown[:-1])
    assert pdfium.PdfDocument(str(brief / "map.pdf")).get_metadata_dict()["Title"].endswith(TITLE)
