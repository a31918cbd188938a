"""Sensitivity: one-at-a-time low/high runs with common random numbers (sim.analysis.sensitivity)."""
import pytest

from conftest import SCENARIOS, read_summary
from sim.analysis import metric_value, sensitivity
from sim.pipeline import load
from sim.scenario import ScenarioError, parse_scenario, uncertainty_variants

OFF = SCENARIOS / "iraq_2012_transponder_off.toml"
SMOOTH = ["detection.terrain=false"]


@pytest.fixture(scope="module")
def off_sensitivity():
    sc = load(OFF, SMOOTH)
    return sc, sensitivity(sc, campaigns=60)


def test_every_shipped_scenario_declares_valid_uncertain_inputs():
    for path in sorted(SCENARIOS.glob("*.toml")):
        sc = load(path)
        # a record's scenario declares the unknowns of airpicture infer (will and one capability input: docs/infer.md)
        assert len(sc.uncertainty) >= (2 if sc.record else 4), path.name
        assert all(lo != hi for _key, lo, hi in sc.uncertainty), path.name
        variants = uncertainty_variants(sc)          # every range applies to the file as shipped
        assert [v[:3] for v in variants] == list(sc.uncertainty), path.name
        assert all(v[3] != v[4] and v[3].overrides == (f"{v[0]}={v[1]}",) for v in variants), path.name


def test_swings_have_the_sign_physics_says(off_sensitivity):
    # more availability, a bigger target, transponders on: more detection; a stricter track rule: less
    _, (_, rows) = off_sensitivity
    seen = set()
    for r in rows:
        key = r["key"]
        if key.endswith(".availability") or key in ("aircraft.rcs_m2", "aircraft.transponder_on_probability"):
            assert r["swing"] >= 0, r
            seen.add("up")
        elif key == "detection.track_m":
            assert r["swing"] <= 0, r
            seen.add("down")
    assert seen == {"up", "down"}
    swings = [abs(r["swing"]) for r in rows]
    assert swings == sorted(swings, reverse=True) and swings[0] > 0.1     # ranked; Kirkuk's radar matters


def test_low_and_high_runs_equal_run_with_set_exactly(off_sensitivity, run_cli, tmp_path):
    sc, (base, rows) = off_sensitivity
    top = rows[0]
    for value, expected in ((top["low"], top["metric_low"]), (top["high"], top["metric_high"])):
        code, _, err = run_cli("run", OFF, "--campaigns", 60, *[a for s in SMOOTH for a in ("--set", s)],
                               "--set", f"{top['key']}={value}", "--out", tmp_path / str(value), "-q")
        assert code == 0, err
        assert read_summary(tmp_path / str(value))["p_detect"] == expected
    code, _, err = run_cli("run", OFF, "--campaigns", 60, "--set", SMOOTH[0], "--out", tmp_path / "base", "-q")
    assert read_summary(tmp_path / "base")["p_detect"] == base


def test_an_input_with_no_effect_swings_by_exactly_zero():
    # a radar that is never up: its Pd cannot matter, and with the same draws the swing is exactly 0
    doc = load(OFF, SMOOTH).raw
    doc = {**doc, "radar": [dict(t) for t in doc["radar"]]}
    for t in doc["radar"]:
        if t["name"] == "Kirkuk PSR":
            t["availability"] = 0.0
    doc["uncertainty"] = {"radar[Kirkuk SSR].pd": [0.2, 0.9], "radar[Baghdad PSR].availability": [0.5, 1.0]}
    _, rows = sensitivity(parse_scenario(doc), campaigns=30)
    by_key = {r["key"]: r for r in rows}
    assert by_key["radar[Kirkuk SSR].pd"]["swing"] == 0.0              # transponders off: SSR sees nothing
    assert by_key["radar[Baghdad PSR].availability"]["swing"] > 0


def test_bad_uncertainty_and_metric_are_clear_errors(run_cli, write_scenario):
    doc = load(OFF).raw
    sc = parse_scenario({**doc, "uncertainty": {"radar[Nope].availability": [0, 1]}}, "s.toml")   # loads: unused
    with pytest.raises(ScenarioError, match=r"^s.toml: uncertainty.radar\[Nope\].availability: the \[uncertainty\] "
                                            r"range \[0, 1\] does not apply to this scenario at 0: no radar named 'Nope'"):
        sensitivity(sc, campaigns=2)
    with pytest.raises(ScenarioError, match=r"uncertainty.aircraft.rcs_m2: must be \[low, high\]"):
        parse_scenario({**doc, "uncertainty": {"aircraft.rcs_m2": [1, 2, 3]}}, "s.toml")
    with pytest.raises(KeyError):
        metric_value({"p_detect": 0.5}, "nope")
    code, _, err = run_cli("sensitivity", OFF, "--metric", "nope", "--campaigns", 2, "--set", SMOOTH[0])
    assert code == 2 and "--metric" in err and len(err.strip().splitlines()) == 1


def test_a_what_if_is_never_refused_for_a_range_only_sensitivity_uses(run_cli, tmp_path):
    # the baseline declares detection.track_m in [2, 4]: with track_n = 3 the high end (4-of-3) is impossible,
    # which matters to `sensitivity` only
    what_if = ("--set", "detection.track_n=3", "--set", SMOOTH[0])
    code, _, err = run_cli("run", "iraq_2012_baseline", *what_if, "--campaigns", 2, "--out", tmp_path / "o", "-q")
    assert code == 0, err
    assert read_summary(tmp_path / "o")["flights_total"] == 30
    code, out, err = run_cli("sensitivity", "iraq_2012_baseline", *what_if, "--campaigns", 2)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "uncertainty.detection.track_m: the [uncertainty] range [2, 4] does not apply" in err
    assert "at 4: must be <= track_n (3)" in err
