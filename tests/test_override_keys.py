"""Every legal name is addressable: the override key language (``--set``, ``[uncertainty]``, sensitivity,
the page's controls) reads quoted names, and the one key writer round-trips every name through it."""
import json
import random
import re

import jsonschema
import pytest

from conftest import SCENARIOS, read_summary
from sim.scenario import (ScenarioError, apply_override, load_scenario, override_key_value, read_key, split_override,
                          table_key, with_overrides)
from sim.analysis.sweeps import applicable_inputs
from sim.pipeline import _brief_files
from sim.products.brief import BRIEF_FILES, _left_out_rows
from sim.serve.controls import control_keys, scenario_controls

_SCHEMA = json.loads((SCENARIOS.parent / "docs" / "summary.schema.json").read_text(encoding="utf-8"))
KIRKUK = "Kirkuk No. 2"
HOSTILE = 'A=B "q" [x]'

#: Names chosen to break a naive reader: every character the key language gives a meaning to, escapes,
#: integers (a quoted "0" is a name, never an index), space at either end, non-ASCII text.
HOSTILE_NAMES = [
    KIRKUK, HOSTILE, "Kirkuk PSR", "0", "-1", "12", "007", " lead", "trail ", "   ", "", ".", "=", "[", "]", '"',
    "\\", '\\"', '"\\', "a.b.c", "a=b=c", "a]b", "a[b", "[x]", "]x[", 'say "hi"', "x\\\\y", "radar[x].pd=1",
    "'single'", "#hash", "a,b", "Ali long-range", "F-16IQ Balad", "ü Ω 雷达", "日本 No.1", "✈ 1.5", "\\u0041",
    "\\n", "a\tb",
]


def _random_names(n, seed=26):
    """``n`` random names over an alphabet rich in the key language's own characters."""
    alphabet = list('.=[]"\\ \'#,-_0123456789aZ') + ["ü", "雷", "✈", "\t"]
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(n)]


def _hostile_file(tmp_path, uncertainty=True):
    """The shipped baseline with radar "Kirkuk PSR" renamed "Kirkuk No. 2" and "Basra SSR" renamed
    'A=B "q" [x]', and (``uncertainty``) both radars' availability declared uncertain under quoted keys."""
    text = (SCENARIOS / "iraq_2012_baseline.toml").read_text(encoding="utf-8")
    assert 'name = "Kirkuk PSR"' in text and 'name = "Basra SSR"' in text
    text = text.replace('name = "Kirkuk PSR"', f'name = "{KIRKUK}"')
    text = text.replace('name = "Basra SSR"', "name = 'A=B \"q\" [x]'")
    old = '"radar[Kirkuk PSR].availability" = [0.5, 1.0]\n'
    assert old in text
    new = ("'radar[\"Kirkuk No. 2\"].availability' = [0.5, 1.0]\n"
           "'radar[\"A=B \\\"q\\\" [x]\"].availability' = [0.5, 1.0]\n") if uncertainty else ""
    path = tmp_path / "hostile.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _radar(sc, name):
    [r] = [r for r in sc.radars if r.name == name]
    return r


# --- the key writer and the one reader ------------------------------------------------------------
@pytest.mark.parametrize("name", HOSTILE_NAMES + _random_names(400))
def test_table_key_round_trips_every_name(name):
    key = table_key("radar", name, "availability")
    head, field = read_key(key)
    assert (head.field, head.selector, field.field, field.selector) == ("radar", name, "availability", None)
    # and as KEY=VALUE: split at the first "=" outside brackets and quotes, whatever the name holds
    assert split_override(f"{key}=0.25") == (key, "0.25")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_table_key_selects_that_table_among_hostile_neighbours(name):
    # reference: the table of that name found by a plain loop over the list, not by the key language
    doc = {"radar": [{"name": n, "pd": 0.5} for n in HOSTILE_NAMES]}
    apply_override(doc, table_key("radar", name, "pd") + "=0.75")
    changed = [t["name"] for t in doc["radar"] if t["pd"] != 0.5]
    assert changed == [name]


def test_table_key_quotes_only_when_needed():
    assert table_key("radar", "Kirkuk PSR", "availability") == "radar[Kirkuk PSR].availability"
    assert table_key("route", "via-baghdad-fir-south", "weight") == "route[via-baghdad-fir-south].weight"
    assert table_key("radar", KIRKUK, "availability") == 'radar["Kirkuk No. 2"].availability'
    assert table_key("radar", HOSTILE, "pd") == 'radar["A=B \\"q\\" [x]"].pd'
    assert table_key("route", "0") == 'route["0"]'          # a name that reads as an index is quoted
    assert table_key("radar", "AEW orbit", "orbit", "altitude_m") == "radar[AEW orbit].orbit.altitude_m"


def test_quoted_zero_is_a_name_bare_zero_an_index():
    doc = {"route": [{"name": "a", "weight": 1}, {"name": "0", "weight": 1}]}
    apply_override(doc, 'route["0"].weight=2')
    assert [t["weight"] for t in doc["route"]] == [1, 2]
    apply_override(doc, "route[0].weight=3")      # the name "0" exists: a bare 0 selects it, as before
    assert [t["weight"] for t in doc["route"]] == [1, 3]
    doc = {"route": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]}
    apply_override(doc, "route[-1].weight=5")
    assert [t["weight"] for t in doc["route"]] == [1, 5]
    with pytest.raises(ScenarioError, match="no route named '1'"):
        apply_override(doc, 'route["1"].weight=5')        # quoted: never an index


def test_bare_and_quoted_spellings_select_the_same_table():
    doc = {"radar": [{"name": "Kirkuk PSR", "pd": 0.5}, {"name": KIRKUK, "pd": 0.5}]}
    apply_override(doc, 'radar[ "Kirkuk PSR" ] . pd = 0.6')
    apply_override(doc, "radar[Kirkuk No. 2].pd=0.7")       # the bare form reads up to the first ]
    assert [t["pd"] for t in doc["radar"]] == [0.6, 0.7]


@pytest.mark.parametrize("text, expect", [
    ('radar["Kirkuk No. 2].availability=0', "unterminated quoted name"),
    ("radar[Kirkuk No. 2.availability=0", "no closing ]"),
    ('radar[Kirkuk "No" 2].availability=0', "must be quoted"),
    ("radar[a[b]].availability=0", "must be quoted"),
    ("radar[].availability=0", "give a name or an index"),
    ('radar["x"y].availability=0', "expected ] right after the quoted name"),
    ("radar[x]y.availability=0", "unexpected 'y'"),
    ('radar["\\q"].availability=0', "cannot read the quoted name"),
    ("radar..availability=0", "cannot read key segment"),
    ("3radar[x].pd=0", "cannot read key segment"),
    ("radar[x].availability", "KEY=VALUE"),
    ("nonsense", "KEY=VALUE"),
])
def test_bad_keys_raise_one_line_naming_the_key(text, expect):
    with pytest.raises(ScenarioError, match=re.escape(expect)) as info:
        apply_override({"radar": [{"name": "x"}]}, text, source="s.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("s.toml: " + text.split("=", 1)[0].strip() + ": "), message


def test_bad_quoting_exits_2_naming_the_key(tmp_path, run_cli):
    path = _hostile_file(tmp_path)
    out = tmp_path / "out"
    code, _, err = run_cli("run", path, "--campaigns", "1", "--out", out, "-q",
                           "--set", 'radar["Kirkuk No. 2].availability=0')
    assert code == 2
    [line] = err.strip().splitlines()
    assert 'radar["Kirkuk No. 2].availability: unterminated quoted name' in line
    assert "Traceback" not in err and not out.exists()


# --- --set, override_key_value, messages ----------------------------------------------------------
def test_set_quoted_name_runs_and_matches_the_index_spelling(tmp_path, run_cli):
    path = _hostile_file(tmp_path, uncertainty=False)
    sc = load_scenario(path)
    index = [r.name for r in sc.radars].index(KIRKUK)
    assert _radar(sc, KIRKUK).availability == 0.9
    quoted = with_overrides(sc, ['radar["Kirkuk No. 2"].availability=0'])
    assert _radar(quoted, KIRKUK).availability == 0
    assert [r.availability for r in quoted.radars if r.name != KIRKUK] == \
           [r.availability for r in sc.radars if r.name != KIRKUK]
    # reference: the same radar selected by its position, a spelling that needs no name at all
    by_index, by_name = tmp_path / "by_index", tmp_path / "by_name"
    assert run_cli("run", path, "--campaigns", "20", "--out", by_index, "-q",
                   "--set", f"radar[{index}].availability=0")[0] == 0
    code, _, err = run_cli("run", path, "--campaigns", "20", "--out", by_name, "-q",
                           "--set", 'radar["Kirkuk No. 2"].availability=0')
    assert code == 0, err
    a, b = read_summary(by_index), read_summary(by_name)
    assert b["overrides"] == ['radar["Kirkuk No. 2"].availability=0']
    assert b["radars"][KIRKUK]["p_up"] == 0 and b["radars"][KIRKUK]["p_detect"] == 0
    a.pop("overrides"), b.pop("overrides")
    assert a == b
    assert (by_index / "flights.csv").read_bytes().split(b"\n", 1)[1] == \
           (by_name / "flights.csv").read_bytes().split(b"\n", 1)[1]


def test_override_key_value_reads_quoted_keys(tmp_path):
    sc = load_scenario(_hostile_file(tmp_path))
    assert override_key_value(sc, 'radar["Kirkuk No. 2"].availability') == ("availability", 0.9)
    assert override_key_value(sc, 'radar["Kirkuk No. 2"].range_km') == ("range_nm", 60)
    assert override_key_value(sc, table_key("radar", HOSTILE, "availability")) == \
           override_key_value(sc, "radar[5].availability")
    assert override_key_value(sc, 'radar["nobody"].availability') is None
    with pytest.raises(ScenarioError, match="unterminated"):
        override_key_value(sc, 'radar["Kirkuk No. 2].availability')


def test_messages_name_a_table_as_set_selects_it(tmp_path):
    sc = load_scenario(_hostile_file(tmp_path))
    for name in (KIRKUK, HOSTILE):
        key = table_key("radar", name, "availability")
        with pytest.raises(ScenarioError) as info:
            with_overrides(sc, [f"{key}=3"])
        assert info.value.key == key      # the page shows it on the control that wrote this key


# --- [uncertainty] and sensitivity ----------------------------------------------------------------
def test_sensitivity_ranks_quoted_radars(tmp_path, run_cli):
    path = _hostile_file(tmp_path)
    out = tmp_path / "sens"
    code, stdout, err = run_cli("sensitivity", path, "--campaigns", "2", "--out", out)
    assert code == 0, err
    assert 'radar["Kirkuk No. 2"].availability' in stdout
    assert 'radar["A=B \\"q\\" [x]"].availability' in stdout
    rows = (out / "sensitivity.csv").read_text(encoding="utf-8")
    assert "Kirkuk No. 2" in rows and "A=B" in rows
    keys = {r[0] for r in load_scenario(path).uncertainty}
    assert {'radar["Kirkuk No. 2"].availability', 'radar["A=B \\"q\\" [x]"].availability'} <= keys


# --- the page -------------------------------------------------------------------------------------
def test_controls_write_keys_that_select_their_own_table(tmp_path):
    sc = load_scenario(_hostile_file(tmp_path))
    groups = scenario_controls(sc)
    radars = [c for g in groups for c in g["controls"] if c["type"] == "radar"]
    assert [c["availability"]["key"] for c in radars] == [table_key("radar", r.name, "availability")
                                                          for r in sc.radars]
    for c in radars:
        key = c["availability"]["key"]
        assert read_key(key)[0].selector == c["name"]
        after = with_overrides(sc, [f"{key}=0.125"])
        assert [r.name for r in after.radars if r.availability == 0.125] == [c["name"]]
    for key in control_keys(groups):
        read_key(key)                   # every key the page writes reads back


def test_page_runs_and_places_errors_on_hostile_controls(tmp_path):
    from sim.serve.planner import PageError, Planner
    path = _hostile_file(tmp_path)
    planner = Planner(tmp_path / "page", scenarios=[path])
    base = planner.base(planner.given[0])
    key = table_key("radar", HOSTILE, "availability")
    assert key in control_keys(planner.describe(base.id)["controls"])      # the key the page's control sends
    sc = planner.what_if(base, [[key, "0"], ['radar["Kirkuk No. 2"].mean_outage_days', "2"]])
    assert _radar(sc, HOSTILE).availability == 0
    with pytest.raises(PageError) as info:
        planner.what_if(base, [[key, "3"]])
    assert info.value.field == key
    with pytest.raises(PageError, match="not a key"):
        planner.what_if(base, [[key + "=1", "0"]])


# --- the brief never drops an input silently ------------------------------------------------------
def test_inputs_left_out_of_the_tornado_are_named_with_the_reason(tmp_path):
    path = _hostile_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        '"detection.track_m" = [2, 4]', '"detection.track_m" = [2, 4]\n\'radar["gone"].availability\' = [0, 1]')
    path.write_text(text, encoding="utf-8")
    sc = load_scenario(path, ["detection.track_n=3"])          # track_m up to 4 no longer applies
    kept, left_out = applicable_inputs(sc)
    kept_keys = [v[0] for v in kept]
    assert 'radar["Kirkuk No. 2"].availability' in kept_keys and table_key("radar", HOSTILE, "availability") in kept_keys
    assert [k for k, _ in left_out] == ["detection.track_m", 'radar["gone"].availability']
    assert "must be <= track_n (3)" in left_out[0][1] and "no radar named 'gone'" in left_out[1][1]
    # every declared input is either varied or named, in the file's order
    assert sorted(kept_keys + [k for k, _ in left_out]) == sorted(k for k, _, _ in sc.uncertainty)
    readme = _brief_files({"sensitivity": {"left_out": [{"key": k, "why": w} for k, w in left_out]}})
    assert "Left out of the tornado (the ranges do not apply to the scenario as run):" in readme
    assert f"  detection.track_m: {left_out[0][1]}\n" in readme
    rows = _left_out_rows({"sensitivity": {"left_out": [{"key": k, "why": w} for k, w in left_out]}})
    assert [label.strip() for label, _ in rows] == ["Left out of the tornado", "track hits", "gone availability"]
    assert _brief_files({}) == BRIEF_FILES and _left_out_rows({}) == []
    sensitivity = {"campaigns_per_run": 2, "flights_per_campaign": 15, "seed": 1, "metrics": {},
                   "left_out": [{"key": k, "why": w} for k, w in left_out]}
    jsonschema.Draft202012Validator(_SCHEMA["properties"]["sensitivity"]).validate(sensitivity)


def test_tornado_names_the_inputs_left_out():
    from sim.products.brief import tornado_figure
    rows = [{"key": 'radar["Kirkuk No. 2"].availability', "low": 0.5, "high": 1.0, "metric_low": 0.8,
             "metric_high": 0.9, "swing": 0.1}]
    fig, _ = tornado_figure(0.85, rows, "p_detect", "title", "run", left_out=[("detection.track_m", "why")])
    assert any(t.get_text().endswith(": detection.track_m") and "Left out" in t.get_text() for t in fig.texts)
    fig, _ = tornado_figure(0.85, rows, "p_detect", "title", "run")
    assert not any("Left out" in t.get_text() for t in fig.texts)


@pytest.mark.slow
def test_brief_of_a_what_if_says_which_inputs_it_left_out(tmp_path, run_cli):
    path = _hostile_file(tmp_path)
    out = tmp_path / "brief"
    code, _, err = run_cli("run", path, "--campaigns", "2", "--brief", "-q", "--out", out,
                           "--set", "detection.track_n=3")
    assert code == 0, err
    summary = read_summary(out)
    jsonschema.Draft202012Validator(_SCHEMA).validate(summary)
    sens = summary["sensitivity"]
    assert [r["key"] for r in sens["left_out"]] == ["detection.track_m"]
    assert 'radar["Kirkuk No. 2"].availability' in [r["key"] for r in sens["metrics"]["p_detect"]["inputs"]]
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "Left out of the tornado" in readme and "detection.track_m: " in readme
