"""airpicture infer: the posterior of will and capability from a scenario's [[record]] (sim.record, sim.analysis.infer).

Closed forms first (a certain capability gives the conjugate Beta posterior of will; no capability leaves
the prior), then the validation of a record, the pieces against slow references, simulation-based
calibration (Talts et al. 2018), and byte-identical outputs.
"""
import datetime
import json

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import SCENARIOS, straight
from sim.analysis.infer import Unknown, count_likelihood, infer, posterior_from_points, simulate_capability
from sim.api import load
from sim.record import FlightCount, RecordError, parse_record
from sim.scenario import override_text, with_overrides

#: A constructed scenario: one cookie-cutter radar (Pd 1, always up) covering the whole route, a flight
#: at 1,000 m inside Iraq for 15 minutes, an order to land at Baghdad given at the first track and
#: always feasible (36 km away, a 2-minute descent), obeyed with ``compliance``.
RESPONSE = """
[response]
decision_delay_min = 0
order_to_land = {{airports = ["ORBI"], compliance = {compliance}}}
"""


def _scenario(write_scenario, record, radar_lat=33.0, compliance=1.0, uncertainty="", campaigns=200, name="s.toml"):
    text = (straight(campaigns=campaigns, flights=10, alt_m=1000, range_km=300, pd=1.0, period_s=10,
                     radar_lat=radar_lat).replace("lon = 46.0", "lon = 45.8")
            + RESPONSE.format(compliance=compliance) + record + uncertainty)
    return write_scenario(text, name)


YEAR = """
[[record]]
name = "year"
start = 2012-01-01
end = 2012-12-31
flights = {flights}
{counts}
"""


def test_certain_capability_gives_the_beta_posterior_of_will(write_scenario):
    # Capability 1 (every flight tracked at once, the order always feasible), 200 flights, 2 ordered to
    # land, uniform prior: will ~ Beta(1 + 2, 1 + 198) exactly (conjugacy; the research notes' example:
    # mean 3/202 = 0.0149). The simulated capability is 2,000 of 2,000: its Beta(2000.5, 0.5) noise moves
    # will by about 1/M relatively (0.05%); the grid of the likelihood adds less.
    path = _scenario(write_scenario, YEAR.format(flights=200, counts='ordered_to_land = {count = 2, source = "t"}'))
    sc = load(path)
    r = infer(sc)
    s = r.summary["periods"][0]["will"]
    assert r.points.acted[0] == r.points.flights[0] == 2000           # the capability is certain
    assert f"if willing {sc.airspace.name} could have stopped" in r.summary["periods"][0]["verdict_text"]
    exact = stats.beta(3, 199)
    assert s["mean"] == pytest.approx(exact.mean(), rel=2e-3)
    assert s["ci90"] == pytest.approx(exact.ppf([0.05, 0.95]).tolist(), rel=2e-3)
    assert s["p_below_half"] == pytest.approx(1.0, abs=1e-9)
    # the draws are of the same posterior: mean within 4 standard errors of the draws
    draws = r.draws["will"][:, 0]
    assert abs(draws.mean() - exact.mean()) < 4 * exact.std() / np.sqrt(len(draws))
    # the density integrates to 1 and peaks at the mode k / N = 0.01
    assert np.trapezoid(r.will_density[0], r.will_grid) == pytest.approx(1.0, abs=1e-3)
    assert r.will_grid[np.argmax(r.will_density[0])] == pytest.approx(0.01, abs=1e-3)


def test_certain_capability_with_landings_among_orders_and_a_will_range(write_scenario):
    # compliance 1 makes every ordered flight land: searched = ordered is certain and changes nothing;
    # will's prior on [0, 0.5] (its [uncertainty] range) gives Beta(11, 91) truncated to [0, 0.5]: all but
    # 1e-9 of its mass lies below 0.5, so the mean is Beta(11, 91)'s, 11/102
    counts = 'ordered_to_land = {count = 10, source = "t"}\nsearched = {count = 10, source = "t"}'
    path = _scenario(write_scenario, YEAR.format(flights=100, counts=counts),
                     uncertainty='\n[uncertainty]\n"response.will" = [0.0, 0.5]\n')
    s = infer(load(path)).summary["periods"][0]["will"]
    assert s["prior"] == [0.0, 0.5]
    assert s["mean"] == pytest.approx(11 / 102, rel=2e-3)
    assert s["ci90"] == pytest.approx(stats.beta(11, 91).ppf([0.05, 0.95]).tolist(), rel=2e-3)


def test_a_record_that_cannot_inform_will_leaves_its_prior(write_scenario):
    # no radar sees the flights (the radar 1,300 km south): capability 0, 0 stopped of 100: the
    # likelihood is flat in will, so the posterior is the uniform prior (mean 0.5, 90% interval 0.05-0.95).
    # The simulated capability, 0 of 2,000 flights, is Beta(0.5, 2000.5) (mean 2.5e-4): it tilts will by
    # at most about 100 x 2.5e-4 / 12 = 0.002.
    path = _scenario(write_scenario, YEAR.format(flights=100, counts='searched = {count = 0, source = "t"}'),
                     radar_lat=21.0)
    r = infer(load(path))
    assert r.points.held[0] == 0 and r.points.acted[0] == 0
    s = r.summary["periods"][0]["will"]
    assert s["mean"] == pytest.approx(0.5, abs=0.005)
    assert s["ci90"] == pytest.approx([0.05, 0.95], abs=0.005)
    assert s["p_below_half"] == pytest.approx(0.5, abs=0.005)
    assert r.summary["periods"][0]["verdict"] == "unable"
    assert r.summary["capability"]["p_unable"] == pytest.approx(1.0, abs=1e-6)


def test_count_likelihood_equals_the_sum_of_binomials():
    # reference: scipy's binomial pmf summed over the flights by a plain loop
    support, pmf = np.arange(40, 61), np.full(21, 1 / 21)
    x = np.linspace(0, 1, 101)
    log_scale, f = count_likelihood(3, support, pmf, x)
    ref = np.zeros_like(x)
    for n, p in zip(support, pmf):
        ref += p * stats.binom.pmf(3, n, x)
    assert np.allclose(f * np.exp(log_scale), ref, rtol=1e-10, atol=1e-300)


def test_daily_flights_are_a_binomial_mixed_over_the_rate():
    # FlightCount.pmf("daily") against numerical integration of Binomial(days, p) over p uniform
    fc = FlightCount(0.5, 0.9, per_day=True, distribution="daily")
    n, p = fc.pmf(30)
    for k in (10, 15, 20, 27):
        ref, _ = integrate.quad(lambda q, k=k: stats.binom.pmf(k, 30, q), 0.5, 0.9)
        assert p[n == k][0] == pytest.approx(ref / 0.4, rel=1e-6)
    assert p.sum() == pytest.approx(1.0)
    # uniform over a rate: the count is the rate times the days, rounded; each count its share of the range
    n, p = FlightCount(0.5, 1.0, per_day=True).pmf(10)
    assert n.tolist() == [5, 6, 7, 8, 9, 10] and p.tolist() == pytest.approx([0.1, 0.2, 0.2, 0.2, 0.2, 0.1])


def test_the_shipped_record_is_sourced_and_parsed():
    sc = load(SCENARIOS / "iraq_2012_record.toml")
    assert [p.name for p in sc.record] == ["Jul 2012 - Feb 2013", "Mar - Apr 2013"]
    first, second = sc.record
    assert (first.start, first.end) == (datetime.date(2012, 7, 1), datetime.date(2013, 2, 27))
    assert first.observed("ordered_to_land").count == 2 and first.landed.count == 2
    assert second.landed.count == 5 and second.observed("ordered_to_land") is None
    for p in sc.record:
        assert p.flights.source and p.flights.assumed        # "almost daily" read as a rate: an assumption
        assert all(o.source for o in p.observations)
    readme = (SCENARIOS / "README.md").read_text(encoding="utf-8")
    for text in ("LA Times 2013-02-27", "Reuters 2012-09-20", "Radio Zamaneh", "2012-10-27"):
        assert text in readme


BAD_RECORDS = [
    ("unknown key", 'searchd = {count = 1, source = "t"}', "record[year].searchd: unknown key (did you mean searched"),
    ("date as text", None, 'record[year].start: must be a TOML date such as 2012-07-01 (no quotes)'),
    ("inverted range", None, "record[year].flights: the range [300, 100] is inverted"),
    ("end before start", None, "record[year].end: 2011-12-31 is before the start, 2012-01-01"),
    ("more landed than ordered", None, "record[year].searched.count: 3 landed is more than the 2 ordered"),
    ("no source", 'searched = {count = 1}', "record[year].searched.source: missing"),
    ("both landed kinds", None, "record[year].stopped: searched and stopped are one event"),
]


def _bad_text(case, extra):
    good = YEAR.format(flights=200, counts='ordered_to_land = {count = 2, source = "t"}')
    if case == "date as text":
        return good.replace("start = 2012-01-01", 'start = "2012-01-01"')
    if case == "inverted range":
        return good.replace("flights = 200", "flights = [300, 100]")
    if case == "end before start":
        return good.replace("end = 2012-12-31", "end = 2011-12-31")
    if case == "more landed than ordered":
        return good + 'searched = {count = 3, source = "t"}\n'
    if case == "both landed kinds":
        return good + 'searched = {count = 1, source = "t"}\nstopped = {count = 1, source = "t"}\n'
    return good + extra + "\n"


@pytest.mark.parametrize("case,extra,message", BAD_RECORDS, ids=[c[0] for c in BAD_RECORDS])
def test_a_bad_record_exits_2_with_one_line_naming_the_file_and_key(write_scenario, run_cli, case, extra, message):
    path = _scenario(write_scenario, _bad_text(case, extra))
    for command in ("infer", "validate"):
        code, out, err = run_cli(command, path)
        assert code == 2 and out == "", (command, err)
        assert err.count("\n") == 1 and err.startswith(f"airpicture: error: {path}: "), err
        assert message in err, err


def test_overlapping_periods_and_a_scenario_without_a_record_exit_2(write_scenario, run_cli):
    two = YEAR.format(flights=10, counts='searched = {count = 1, source = "t"}')
    second = two.replace('name = "year"', 'name = "later"').replace("start = 2012-01-01", "start = 2012-06-01")
    code, _, err = run_cli("infer", _scenario(write_scenario, two + second))
    assert code == 2 and "record[later].start: overlaps the period 'year'" in err and err.count("\n") == 1
    code, _, err = run_cli("infer", SCENARIOS / "iraq_2012_baseline.toml")
    assert code == 2 and "record: the scenario has no [[record]]" in err and err.count("\n") == 1
    code, _, err = run_cli("infer", SCENARIOS / "iraq_2012_record.toml", "--samples", "12")
    assert code == 2 and "--samples: must be a power of two" in err


def test_parse_record_refuses_a_datetime():
    with pytest.raises(RecordError, match=r"record\[p\]\.end: must be a date"):
        parse_record([{"name": "p", "start": datetime.date(2012, 1, 1),
                       "end": datetime.datetime(2012, 2, 1, 12, 0), "flights": 3,
                       "searched": {"count": 1, "source": "t"}}])


def test_a_response_only_point_reuses_the_prepared_simulation_byte_for_byte(write_scenario):
    # the decision delay is read at run time only: the reused simulation and a fresh prepare give the
    # same totals for every point
    path = _scenario(write_scenario, YEAR.format(flights=200, counts='ordered_to_land = {count = 2, source = "t"}'),
                     uncertainty='\n[uncertainty]\n"response.decision_delay_min" = [0, 15]\n', campaigns=20)
    sc = load(path)
    cap = (Unknown("response.decision_delay_min", 0.0, 15.0),)
    reused = simulate_capability(sc, cap, 4, 20, 10, 7)
    from sim.montecarlo import prepare, run
    for i, v in enumerate(reused.values[:, 0]):
        fresh = prepare(with_overrides(sc, [override_text("response.decision_delay_min", float(v))]))
        tot = run(fresh, 20, 10, 7, keep_flights=False).totals
        from sim.response import OUTCOMES
        oc = dict(zip(OUTCOMES, tot.outcomes))
        assert reused.acted[i] == oc["order_obeyed"] + oc["order_refused"] + oc["escort_obeyed"] + oc["escort_refused"]
        assert reused.stopped[i] == oc["order_obeyed"] + oc["escort_obeyed"]
    assert len(set(reused.acted.tolist())) > 1          # the delay matters on this route (15 min in Iraq)


def test_same_seed_same_bytes_and_the_files_are_complete(write_scenario, run_cli, tmp_path):
    counts = 'ordered_to_land = {count = 5, source = "t"}\nsearched = {count = 4, source = "t"}'
    path = _scenario(write_scenario, YEAR.format(flights="[150, 250]", counts=counts), compliance=0.75,
                     uncertainty='\n[uncertainty]\n"radar[R].availability" = [0.0, 1.0]\n', campaigns=20)
    outs = []
    for k in (1, 2):
        code, out, err = run_cli("infer", path, "--samples", "8", "--out", tmp_path / f"o{k}")
        assert code == 0, err
        outs.append(out)
    untimed = [[line for line in o.replace(str(tmp_path / "o2"), str(tmp_path / "o1")).splitlines()
                if "time:" not in line] for o in outs]
    assert "the record supports" in outs[0] and untimed[0] == untimed[1]
    from sim.products.infer import INFER_FILES
    for name in INFER_FILES:
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes(), name
    summary = json.loads((tmp_path / "o1" / "infer.json").read_text())
    jsonschema = pytest.importorskip("jsonschema")
    from conftest import ROOT
    schema = json.loads((ROOT / "docs" / "infer.schema.json").read_text())
    jsonschema.validate(summary, schema)
    az = pytest.importorskip("arviz")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = az.from_netcdf(str(tmp_path / "o1" / "posterior.nc"))
    assert idata.posterior["will"].shape == (1, summary["draws"], 1)
    assert idata.posterior["will"].values.mean() == pytest.approx(summary["periods"][0]["will"]["mean"], abs=0.02)


@pytest.mark.slow   # CI (.ci/run): about 20-40 s
def test_simulation_based_calibration_ranks_are_uniform(write_scenario):
    # Talts, Betancourt, Simpson, Vehtari, Gelman (2018), "Validating Bayesian inference algorithms with
    # simulation-based calibration": draw the inputs from the prior (a radar's availability, the capability;
    # will; the flights), simulate a record with the simulator itself (a run at that availability, the
    # state acting on each flight it could with probability will, the crews obeying with 0.75), infer, and
    # rank the true values among L posterior draws: uniform ranks when the inference is right. 120
    # replications, L = 99, 10 bins; chi-square p > 0.01 for will and the availability.
    from sim.montecarlo import prepare, run
    from sim.response import OUTCOMES, STOPPED
    counts = 'ordered_to_land = {count = 1, source = "t"}\nsearched = {count = 1, source = "t"}'
    path = _scenario(write_scenario, YEAR.format(flights="[20, 60]", counts=counts), compliance=0.75,
                     uncertainty='\n[uncertainty]\n"radar[R].availability" = [0.0, 1.0]\n', campaigns=50)
    sc = load(path)
    cap = (Unknown("radar[R].availability", 0.0, 1.0),)
    points = simulate_capability(sc, cap, 64, 50, 10, 11)
    acted_codes = [OUTCOMES.index(k) for k in ("order_obeyed", "order_refused", "escort_obeyed", "escort_refused")]
    stopped_codes = [OUTCOMES.index(k) for k in STOPPED]
    rng = np.random.default_rng(20180101)
    reps, L = 120, 99
    ranks = {"will": [], "availability": []}
    for rep in range(reps):
        theta, will, n = rng.random(), rng.random(), int(rng.integers(20, 61))
        sim = prepare(with_overrides(sc, [override_text("radar[R].availability", float(theta))]))
        res = run(sim, 1, n, 100 + rep)
        acts = rng.random(n) < will
        ordered = int(np.sum(np.isin(res.outcome, acted_codes) & acts))
        landed = int(np.sum(np.isin(res.outcome, stopped_codes) & acts))
        record = parse_record([{"name": "year", "start": datetime.date(2012, 1, 1), "end": datetime.date(2012, 12, 31),
                                "flights": [20, 60], "ordered_to_land": {"count": ordered, "source": "t"},
                                "searched": {"count": landed, "source": "t"}}])
        _, _, _, draws, _, _, _ = posterior_from_points(record, points, (0.0, 1.0), 1000 + rep, draws=L)
        ranks["will"].append(int(np.sum(draws["will"][:, 0] < will)))
        ranks["availability"].append(int(np.sum(points.values[draws["point"], 0] < theta)))
    for name, r in ranks.items():
        hist = np.bincount(np.asarray(r) // 10, minlength=10)
        p = stats.chisquare(hist).pvalue
        assert p > 0.01, (name, hist.tolist(), p)


@pytest.mark.slow
def test_brief_record_adds_the_answer_to_the_brief(write_scenario, run_cli, tmp_path):
    # brief --record: the infer files beside the brief's, the answer in summary.json and the key numbers;
    # a scenario without a record is refused before the run
    counts = 'ordered_to_land = {count = 2, source = "t"}'
    path = _scenario(write_scenario, YEAR.format(flights=200, counts=counts), campaigns=5)
    code, _, err = run_cli("brief", path, "--record", "--out", tmp_path / "b", "-q")
    assert code == 0, err
    for name in ("infer.png", "posterior.nc", "infer.json", "brief.pdf"):
        assert (tmp_path / "b" / name).is_file(), name
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    alone = json.loads((tmp_path / "b" / "infer.json").read_text())
    assert summary["record"]["periods"][0]["will"] == alone["periods"][0]["will"]["mean"]
    assert summary["record"]["periods"][0]["will"] == pytest.approx(3 / 202, rel=2e-3)   # Beta(3, 199), as above
    assert "infer.png" in (tmp_path / "b" / "README.txt").read_text()
    # brief.pdf: page one as without --record (its key numbers say where the rest is), page two the record's
    # panel: each period's answer in words and as airpicture infer prints it, and the chart
    pdfium = pytest.importorskip("pypdfium2")
    from sim.products.brief import record_verdict_words
    doc = pdfium.PdfDocument(str(tmp_path / "b" / "brief.pdf"))
    assert len(doc) == 2 and doc[0].get_size() == doc[1].get_size()
    first, second = (" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(2))
    assert "Public record page 2" in first and "Unwilling or unable: what the public record says" in second
    assert "Could stop if willing, against did stop: the gap is will" in second
    for p in alone["periods"]:
        assert f"{p['name']} {record_verdict_words(p)}" in second, (p["name"], second)
        assert " ".join(p["verdict_text"].split()) in second
        assert record_verdict_words(p) == "Unwilling, very strongly"     # 2 of 200 with a certain capability
    code, _, err = run_cli("brief", SCENARIOS / "iraq_2012_baseline.toml", "--record", "--out", tmp_path / "c")
    assert code == 2 and "--record: the scenario has no [[record]]" in err and not (tmp_path / "c").exists()


def test_every_key_of_the_infer_schema_is_described_and_every_object_closed():
    from conftest import ROOT
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "infer.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{path}.{key}")
                walk(sub, f"{path}.{key}")
            for k in ("additionalProperties", "items"):
                if isinstance(node.get(k), dict):
                    walk(node[k], f"{path}[]")
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, path
    walk(schema, "infer")
    assert not missing, missing


def test_the_verdict_names_the_state_whose_airspace_it_is():
    # the sentence names who could act (the scenario's airspace), not a fixed country
    from sim.analysis.infer import _verdict
    text = _verdict("2011", "Turkey", {"mean": 0.2, "ci90": [0.1, 0.3]}, 0.9, 20.0, 0.1, 0.5,
                    {"mean": 0.6, "ci90": [0.4, 0.8]}, {"mean": 0.1, "ci90": [0.05, 0.2]}, "3 flights")
    assert "if willing Turkey could have stopped 0.600" in text and "Iraq" not in text
