"""The state's will to act (``[response] will``, issue 29): against closed forms, the addressed draws and the
outputs of a run without the key."""
import json
import math

import numpy as np
import pytest

from conftest import SCENARIOS, read_summary
from sim.pipeline import load, simulate
from sim.response import OUTCOMES, STOPPED
from sim.results import headline, summarize
from sim.scenario import ScenarioError, load_scenario, with_overrides
from sim.streams import STREAMS, uniforms

#: A level route along 33N from 41.0E to 45.5E inside Iraq at 10,000 m, and a cookie-cutter radar (Pd 1,
#: 1-of-1, 2-s scans) whose coverage holds the whole route; up for a flight with {availability}; an order to
#: land at Baghdad, feasible all along the route, decided at the first track; no interceptors.
COOKIE_CUTTER = """
[scenario]
name = "will"
title = "will test"

[run]
campaigns = {campaigns}
flights = 5
seed = 29

[aircraft]
cruise_altitude_m = 10000
cruise_speed_kmh = 720

[[route]]
name = "east"
waypoints = [{{lat = 33.0, lon = 41.0}}, {{lat = 33.0, lon = 45.5}}]

[[radar]]
name = "R"
lat = 33.0
lon = 43.25
elevation_m = 0
antenna_height_m = 20
kind = "primary"
range_km = 400
scan_period_s = 2
availability = {availability}
pd = 1.0

[detection]
track_m = 1
track_n = 1

[response]
decision_delay_min = 0
order_to_land = {{airports = ["ORBI"], compliance = {compliance}}}
{will}
"""


def _cookie_cutter(write_scenario, will, availability=0.8, compliance=0.5, campaigns=800, name="s.toml"):
    text = COOKIE_CUTTER.format(campaigns=campaigns, availability=availability, compliance=compliance,
                                will="" if will is None else f"will = {will}")
    return write_scenario(text, name)


def _shares(res):
    return {name: float(np.mean(res.outcome == i)) for i, name in enumerate(OUTCOMES)}


def _within(got, p, n, k=4.0):
    """``got`` within ``k`` binomial standard errors of ``p`` on ``n`` flights."""
    return abs(got - p) <= k * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-12


def test_outcomes_equal_the_closed_form_held_times_will_times_compliance(write_scenario):
    # independent reference: the radar is up for a flight with a (its own draw), and then holds it from its
    # first scan over Iraq to the border with the decision at once, so P(held in time) = a; the state acts
    # on such a flight with w, the crew obeys with c (independent draws). Hence order_obeyed = a w c,
    # order_refused = a w (1 - c), no_order = a (1 - w), not_tracked = 1 - a; P(ordered) = a w, and were the
    # state to act on all, P(stopped) = a c. Binomial shares of n = 4,000 flights, 4 standard errors.
    a, w, c = 0.8, 0.4, 0.5
    sc = load_scenario(_cookie_cutter(write_scenario, w, a, c))
    sim, res = simulate(sc)
    n = len(res.outcome)
    assert n == 4000 and res.order_feasible[res.detected].all()          # every order feasible in time
    got = _shares(res)
    expected = {"order_obeyed": a * w * c, "order_refused": a * w * (1 - c), "no_order": a * (1 - w),
                "not_tracked": 1 - a, "too_late": 0.0, "no_means": 0.0, "escort_obeyed": 0.0, "escort_refused": 0.0}
    for name, p in expected.items():
        assert _within(got[name], p, n), (name, got[name], p)
    s = summarize(sim, res)["response"]
    assert s["will"] == w
    for key, p in (("p_held_in_time", a), ("p_ordered", a * w), ("p_stopped", a * w * c), ("p_stopped_if_acted", a * c)):
        assert _within(s[key], p, n), (key, s[key], p)
        lo, hi = s[key + "_ci95"]
        assert lo <= s[key] <= hi and s[key + "_ci95_text"]
    # the summary's shares are the flights' (no rounding beyond summary.json's six decimals)
    assert s["p_held_in_time"] == pytest.approx(1 - got["not_tracked"] - got["too_late"], abs=1e-6)
    assert s["p_ordered"] == pytest.approx(got["order_obeyed"] + got["order_refused"], abs=1e-6)
    assert s["outcomes"]["no_order"] == pytest.approx(got["no_order"], abs=1e-6)
    assert sum(s["outcomes"].values()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("walk", ["compiled", "numpy", "exact"])
def test_the_state_acts_exactly_where_its_addressed_draw_is_below_will(walk):
    # the reference: the will uniform of each flight from sim.streams by its address (seed, campaign, flight,
    # the "will" stream, counter 0), not from the run's draws; on a shipped scenario with an order and an
    # interceptor, on the compiled walk, its numpy reference and the exact one (--exact). A flight held in time is no_order exactly
    # where u >= will; any other flight is stopped exactly where it would be were the state to act on all
    w = 0.3
    sc = load(SCENARIOS / "iraq_2012_f16_balad.toml", ["detection.terrain=false", f"response.will={w}"])
    sim, res = simulate(sc, campaigns=40, exact=walk == "exact", walk=None if walk == "exact" else walk)
    b = res.batch
    u = uniforms(sc.run.seed, b.campaign, b.flight, STREAMS["will"], 0)
    held = ~np.isin(res.outcome, [OUTCOMES.index("not_tracked"), OUTCOMES.index("too_late")])
    acts = held & (u < w)
    assert held.sum() > 400 and 0 < acts.sum() < held.sum()
    assert np.array_equal(res.outcome == OUTCOMES.index("no_order"), held & ~acts)
    stopped = np.isin(res.outcome, [OUTCOMES.index(s) for s in STOPPED])
    assert np.array_equal(stopped, res.stopped_if_acted & acts)
    assert not res.obeyed[~acts].any()
    # at will 1, on the same draws: every outcome is what the flight would meet were the state to act
    full = with_overrides(sc, ["response.will=1.0"])
    _, res1 = simulate(full, campaigns=40, exact=walk == "exact", walk=None if walk == "exact" else walk)
    stopped1 = np.isin(res1.outcome, [OUTCOMES.index(s) for s in STOPPED])
    assert np.array_equal(stopped1, res.stopped_if_acted)
    assert np.array_equal(res1.outcome[acts], res.outcome[acts])


def _files(out):
    return (out / "flights.csv").read_bytes(), json.loads((out / "summary.json").read_text())


def test_will_one_gives_the_outputs_of_a_run_without_the_key(run_cli, write_scenario, tmp_path):
    # written in the file or set on the command line: flights.csv byte for byte, summary.json equal but for
    # the --set text it records, and the headline the same sentence
    plain = _cookie_cutter(write_scenario, None, campaigns=40, name="plain.toml")
    one = _cookie_cutter(write_scenario, "1.0", campaigns=40, name="one.toml")
    outs = {}
    for label, path, extra in (("plain", plain, ()), ("file", one, ()), ("set", plain, ("--set", "response.will=1"))):
        code, out, err = run_cli("run", path, *extra, "--out", tmp_path / label)
        assert code == 0, err
        outs[label] = (*_files(tmp_path / label), out.splitlines()[1])
    csv, summary, line = outs["plain"]
    assert "no_order" not in csv.decode() and summary["response"]["outcomes"]["no_order"] == 0.0
    for label in ("file", "set"):
        assert outs[label][0] == csv, label
        other = dict(outs[label][1], overrides=summary["overrides"])
        assert other == summary, label
        assert outs[label][2] == line and "if ordered" not in line
    # a shipped scenario with interceptors: the same bytes with the key at 1
    code, _, err = run_cli("run", SCENARIOS / "iraq_2012_f16_balad.toml", "--campaigns", 10, "--set",
                           "detection.terrain=false", "--out", tmp_path / "a", "-q")
    assert code == 0, err
    code, _, err = run_cli("run", SCENARIOS / "iraq_2012_f16_balad.toml", "--campaigns", 10, "--set",
                           "detection.terrain=false", "--set", "response.will=1.0", "--out", tmp_path / "b", "-q")
    assert code == 0, err
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a[0] == b[0] and dict(b[1], overrides=a[1]["overrides"]) == a[1]
    assert headline(a[1]) == headline(b[1])


def test_will_zero_stops_nothing_and_every_flight_held_in_time_gets_no_order(write_scenario):
    sc = load_scenario(_cookie_cutter(write_scenario, 0, campaigns=100))
    sim, res = simulate(sc)
    held = ~np.isin(res.outcome, [OUTCOMES.index("not_tracked"), OUTCOMES.index("too_late")])
    assert held.sum() > 300
    assert np.array_equal(res.outcome == OUTCOMES.index("no_order"), held)
    assert not res.obeyed.any()
    s = summarize(sim, res)
    r = s["response"]
    assert r["p_stopped"] == 0.0 and r["p_ordered"] == 0.0 and r["stopped_per_campaign"]["mean"] == 0.0
    assert r["p_held_in_time"] == pytest.approx(held.mean(), abs=1e-6) and r["p_stopped_if_acted"] > 0.2
    text = headline(s)
    assert f"of which {r['stopped_if_acted_per_campaign']['mean']:.1f} could have been stopped if ordered " \
           "(will 0: 0.0 were, 0-0)" in text


def test_the_headline_says_the_will_below_one():
    s = {"detected_per_campaign": {"mean": 12.04, "p05": 9, "p95": 15}, "flights_per_campaign": 15,
         "p_detect": 0.8, "p_detect_ci95": [0.78, 0.82],
         "response": {"will": 0.3, "stopped_per_campaign": {"mean": 0.63, "p05": 0, "p95": 2},
                      "stopped_if_acted_per_campaign": {"mean": 2.1, "p05": 1, "p95": 4}}}
    assert headline(s) == ("12.0 of 15 flights detected on average (90% of campaigns between 9 and 15), of which "
                           "2.1 could have been stopped if ordered (will 0.3: 0.6 were, 0-2); P(detect) per flight "
                           "0.800 [95% CI 0.780-0.820]")
    s["response"]["will"] = 1.0
    assert headline(s).split(";")[0].endswith("of which 0.6 could have been stopped (0-2)")


@pytest.mark.parametrize("value, message", [("-0.1", "must be >= 0"), ("1.5", "must be <= 1"),
                                            ("x", "must be a number, got 'x'"), ('"0.5"', "must be a number")])
def test_a_bad_will_exits_2_in_one_line_naming_the_file_and_key(run_cli, write_scenario, tmp_path, value, message):
    path = _cookie_cutter(write_scenario, None, campaigns=2)
    code, out, err = run_cli("run", path, "--set", f"response.will={value}", "--out", tmp_path / "o", "-q")
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{path}: response.will: {message}" in err
    # written in the file (a word as a TOML string): the same line
    bad = _cookie_cutter(write_scenario, '"x"' if value == "x" else value, campaigns=2, name="bad.toml")
    code, _, err = run_cli("validate", bad)
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"{bad}: response.will: {message}" in err


def test_will_through_the_api_the_chunks_and_the_workers_gives_the_same_bytes(run_cli, tmp_path):
    from sim import api
    sc = SCENARIOS / "iraq_2012_f16_balad.toml"
    args = ("--campaigns", 12, "--set", "detection.terrain=false", "--set", "response.will=0.3", "-q")
    for label, extra in (("one", ()), ("chunks", ("--chunk", 5)), ("workers", ("--chunk", 4, "--workers", 2))):
        code, _, err = run_cli("run", sc, *args, *extra, "--out", tmp_path / label)
        assert code == 0, err
    one = _files(tmp_path / "one")
    assert b"no_order" in one[0]
    for label in ("chunks", "workers"):
        assert (tmp_path / label / "flights.csv").read_bytes() == one[0], label
        assert (tmp_path / label / "summary.json").read_bytes() == (tmp_path / "one" / "summary.json").read_bytes()
    r = api.run("iraq_2012_f16_balad", {"detection.terrain": False, "response.will": 0.3}, campaigns=12)
    assert r.summary["response"] == one[1]["response"]


@pytest.mark.slow
def test_will_on_a_local_dask_cluster_gives_the_same_bytes(run_cli, tmp_path):
    pytest.importorskip("distributed")
    sc = SCENARIOS / "iraq_2012_f16_balad.toml"
    args = ("--campaigns", 12, "--set", "detection.terrain=false", "--set", "response.will=0.3", "-q")
    code, _, err = run_cli("run", sc, *args, "--chunk", 4, "--dask", "local", "--out", tmp_path / "d")
    assert code == 0, err
    code, _, err = run_cli("run", sc, *args, "--out", tmp_path / "l")
    assert code == 0, err
    for name in ("summary.json", "flights.csv"):
        assert (tmp_path / "d" / name).read_bytes() == (tmp_path / "l" / name).read_bytes()


def test_sensitivity_and_sweep_vary_the_will(write_scenario):
    from sim.analysis import sensitivity, sweep
    path = _cookie_cutter(write_scenario, 0.5, campaigns=60)
    text = path.read_text() + '\n[uncertainty]\n"response.will" = [0.0, 1.0]\n'
    sc = load_scenario(write_scenario(text, "sens.toml"))
    base, rows = sensitivity(sc, "response.p_stopped", campaigns=60)
    [row] = rows
    assert row["key"] == "response.will" and row["value"] == 0.5
    assert row["metric_low"] == 0.0 and row["metric_high"] > 0.3 and 0 < base < row["metric_high"]
    # the metric at will 1 is P(stopped) had the state acted on all, at the base's will, on the same draws
    s = summarize(*simulate(sc, campaigns=60))
    assert row["metric_high"] == pytest.approx(s["response"]["p_stopped_if_acted"], abs=1e-6)
    points = sweep(sc, "response.will", [0.0, 0.5, 1.0], metric="response.p_ordered")
    got = [p["metric_value"] for p in points]
    assert [p["value"] for p in points] == [0.0, 0.5, 1.0] and got[0] == 0.0 and got[0] < got[1] < got[2]
    assert all(p["metric_ci95"] is not None for p in points)
    bad = load_scenario(write_scenario(path.read_text() + '\n[uncertainty]\n"response.will" = [0.0, 1.5]\n',
                                       "bad.toml"))
    with pytest.raises(ScenarioError, match=r"uncertainty\.response\.will.*must be <= 1"):
        sensitivity(bad, "response.p_stopped", campaigns=2)


def test_the_page_has_a_will_control_validated_as_the_command_line(run_cli, tmp_path):
    pytest.importorskip("starlette", reason="the page needs the serve extra")
    from sim.serve import Planner
    from sim.serve.planner import PageError
    planner = Planner(tmp_path / "page")
    desc = planner.describe("iraq_2012_baseline")
    [ctl] = [c for g in desc["controls"] for c in g["controls"] if c.get("key") == "response.will"]
    assert ctl["value"] == "1" and ctl["unit"] == "probability"
    overrides = [["detection.terrain", "false"], ["response.will", "0.3"]]
    got = planner.run("iraq_2012_baseline", overrides, campaigns=8)
    code, out, err = run_cli("run", "iraq_2012_baseline", "--campaigns", 8, "--set", "detection.terrain=false",
                             "--set", "response.will=0.3", "--out", tmp_path / "cli")
    assert code == 0, err
    assert got["headline"] == out.splitlines()[1] and "(will 0.3: " in got["headline"]
    assert got["summary"]["response"] == read_summary(tmp_path / "cli")["response"]
    with pytest.raises(PageError) as e:
        planner.what_if(planner.base("iraq_2012_baseline"), [["response.will", "1.5"]])
    code, _, err = run_cli("run", "iraq_2012_baseline", "--set", "response.will=1.5")
    assert code == 2 and e.value.field == "response.will" and err.strip() == f"airpicture: error: {e.value}"
