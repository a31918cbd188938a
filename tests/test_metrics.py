"""Any metric, every analysis command: sweep/compare/sensitivity --metric, compare --reference, the brief's drivers.

The references are independent runs: ``airpicture run --set KEY=VALUE`` read back from its summary.json,
and the 95% intervals of compare.csv for the flagged differences (z recomputed here from the file).
Small runs (20 campaigns x 15 flights, terrain off) keep the file under about 20 s.
"""
import csv
import json
import math

import numpy as np
import pytest

from conftest import SCENARIOS, read_summary, straight
from sim.analysis import METRICS_HELP, metric_names, sensitivity_metrics, sweep
from sim.analysis.metrics import METRIC_EXAMPLES
from sim.cli import main
from sim.pipeline import load
from sim.products.brief import _assumption_rows
from sim.montecarlo import prepare
from sim.scenario import parse_scenario

F16 = SCENARIOS / "iraq_2012_f16_balad.toml"
READY = "interceptor[F-16IQ Balad].ready_min"
SMALL = ["--campaigns", "20", "--set", "detection.terrain=false"]
#: Readiness values [min]: the file's own (10) and a slower one (the issue's F-16 what-if falls between 14 and 16).
READY_VALUES = (10, 16)


@pytest.fixture(scope="module")
def separate_runs(tmp_path_factory):
    """``airpicture run --set READY=v`` per value: the independent reference of the sweep (summaries by value)."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for v in READY_VALUES:
        assert main(["run", str(F16), *SMALL, "--set", f"{READY}={v}", "--out", str(root / str(v)), "-q"]) == 0
        out[v] = read_summary(root / str(v))
    return out


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sweep_of_p_stopped_over_f16_readiness_equals_separate_runs(run_cli, tmp_path, separate_runs):
    code, out, err = run_cli("sweep", F16, "--key", READY, "--values", ",".join(map(str, READY_VALUES)),
                             "--metric", "response.p_stopped", *SMALL, "--out", tmp_path / "s")
    assert code == 0, err
    rows = _rows(tmp_path / "s" / "sweep.csv")
    assert [float(r[READY]) for r in rows] == list(READY_VALUES)
    for r, v in zip(rows, READY_VALUES):
        ref = separate_runs[v]["response"]
        assert float(r["response.p_stopped"]) == ref["p_stopped"]                       # exactly: same draws
        assert [float(r["ci95_low"]), float(r["ci95_high"])] == ref["p_stopped_ci95"]
        assert float(r["p_detect"]) == separate_runs[v]["p_detect"]
        assert r["what_if"] == "detection.terrain=false"
    # a fighter airborne later cannot stop more flights (same draws: no noise in the difference)
    assert float(rows[0]["response.p_stopped"]) >= float(rows[1]["response.p_stopped"])
    assert "P(stopped)" in out and "what-if: detection.terrain=false" in out
    doc = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert doc["metric"] == "response.p_stopped" and doc["overrides"] == ["detection.terrain=false"]
    png = (tmp_path / "s" / "sweep.png").read_bytes()
    assert b"response.p_stopped" in png and b"detection.terrain=false" in png          # PNG metadata


def test_python_sweep_takes_any_metric_and_gives_no_interval_where_summary_has_none(separate_runs):
    sc = load(F16, ["detection.terrain=false"])
    (point,) = sweep(sc, READY, [16], campaigns=20, metric="p_detect_in_airspace")
    assert point["metric_value"] == separate_runs[16]["p_detect_in_airspace"]
    assert point["metric_ci95"] is None                       # summary.json has no p_detect_in_airspace_ci95


def test_help_names_the_metrics_and_every_named_metric_exists(run_cli, separate_runs):
    for command in ("sweep", "compare", "sensitivity"):
        code, out, _ = run_cli(command, "--help")
        flat = " ".join(out.split())
        assert code == 0 and "response.p_stopped" in flat and "detected_per_campaign.mean" in flat, command
    s = separate_runs[10]
    names = metric_names(s)
    fill = {"NAME": next(iter(s["radars"])), "OUTCOME": next(iter(s["response"]["outcomes"]))}
    for example in (*METRIC_EXAMPLES[0], *METRIC_EXAMPLES[1]):
        name = example.replace("radars.NAME", f"radars.{fill['NAME']}").replace(
            "routes.NAME", f"routes.{next(iter(s['routes']))}").replace("OUTCOME", fill["OUTCOME"])
        assert name in names, name
    assert "response.p_stopped" in METRICS_HELP


@pytest.mark.parametrize("command", ["sweep", "compare", "sensitivity"])
def test_a_mistyped_metric_exits_2_with_the_closest_spelling_before_any_run(run_cli, monkeypatch, command):
    import sim.analysis.sweeps as sweeps
    sizes = []
    real_run = sweeps.run

    def counting_run(sim, campaigns=None, *a, **k):
        sizes.append(campaigns)
        return real_run(sim, campaigns, *a, **k)
    monkeypatch.setattr(sweeps, "run", counting_run)
    extra = ["--key", READY, "--values", "10"] if command == "sweep" else []
    code, _, err = run_cli(command, F16, *extra, "--metric", "p_stopped", *SMALL)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    # the shipped scenario named by its file in the package, not where it is installed
    assert "did you mean response.p_stopped" in err and "scenarios/iraq_2012_f16_balad.toml: --metric" in err
    assert all(c == 1 for c in sizes), sizes        # only the one-flight probe ran, no Monte Carlo


def test_compare_has_a_p_stopped_column_and_the_reference_it_says(run_cli, write_scenario, tmp_path, separate_runs):
    plain = write_scenario(straight(campaigns=20, flights=15))        # no [response]: nothing to stop them
    code, out, err = run_cli("compare", F16, plain, *SMALL, "--out", tmp_path / "c")
    assert code == 0, err
    rows = {r["scenario"]: r for r in _rows(tmp_path / "c" / "compare.csv")}
    f16 = rows["iraq-2012-f16-balad"]
    assert float(f16["p_stopped"]) == separate_runs[10]["response"]["p_stopped"]        # the file's readiness
    assert [float(f16["p_stopped_ci95_low"]), float(f16["p_stopped_ci95_high"])] == \
        separate_runs[10]["response"]["p_stopped_ci95"]
    assert rows["analytic"]["p_stopped"] == "" and rows["analytic"]["what_if"] == "detection.terrain=false"
    header = out.splitlines()[0]
    assert "P(stopped) [95% CI]" in header
    analytic_line = next(line for line in out.splitlines() if line.startswith("analytic"))
    assert analytic_line.rstrip().endswith("-")
    assert "reference: iraq-2012-f16-balad" in out and "what-if, every scenario: detection.terrain=false" in out
    # the flagged differences: z from the two 95% intervals of compare.csv (half-width / 1.96 each)
    p = {k: float(r["p_detect"]) for k, r in rows.items()}
    se = {k: (float(r["ci95_high"]) - float(r["ci95_low"])) / (2 * 1.959963984540054) for k, r in rows.items()}
    z = abs(p["analytic"] - p["iraq-2012-f16-balad"]) / math.hypot(se["analytic"], se["iraq-2012-f16-balad"])
    assert ("analytic" in out.splitlines()[-2].split("in:")[1]) == (z > 3)

    code, md, err = run_cli("compare", F16, plain, *SMALL, "--markdown", "--reference", "analytic")
    assert code == 0, err
    lines = md.splitlines()
    assert "P(stopped) per flight [95% CI]" in lines[0] and lines[1].count("---") == 5
    assert lines[3].endswith("| - |")                                    # analytic: no response
    code, out, err = run_cli("compare", F16, plain, *SMALL, "--reference", plain.stem, "-q", "--out", tmp_path / "r")
    assert code == 0, err
    assert "against analytic (the reference)" in (tmp_path / "r" / "README.txt").read_text()
    code, _, err = run_cli("compare", F16, plain, *SMALL, "--reference", "nope", "-q")
    assert code == 2 and "--reference" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("compare", F16, plain, *SMALL, "--metric", "response.p_stopped", "-q")
    assert code == 2 and "[response]" in err and str(plain) in err and len(err.strip().splitlines()) == 1


def test_brief_tornadoes_rank_p_stopped_from_the_same_runs_and_the_table_lists_drivers(separate_runs):
    doc = load(F16, ["detection.terrain=false"]).raw
    sc = parse_scenario({**doc, "uncertainty": {READY: list(READY_VALUES)}}, str(F16))
    bases, rows = sensitivity_metrics(sc, ("p_detect", "response.p_stopped"), campaigns=20)
    (row,) = rows["response.p_stopped"]
    lo, hi = (separate_runs[v]["response"]["p_stopped"] for v in READY_VALUES)
    assert (row["metric_low"], row["metric_high"], row["value"]) == (lo, hi, 10)      # as run --set gives
    assert bases["response.p_stopped"] == lo and bases["p_detect"] == separate_runs[10]["p_detect"]
    assert rows["p_detect"][0]["swing"] == 0.0                 # readiness cannot change detection
    summary = dict(separate_runs[10])
    summary["sensitivity"] = {"metrics": {m: {"base": bases[m], "inputs": rows[m]} for m in bases}}
    sim = prepare(sc, with_fences=False)
    table = dict(_assumption_rows(summary, sim))
    assert table["Drivers of P(stopped)"] and table["  F-16IQ Balad ready [min]"].startswith("10 (10-16) ")
    assert table["Drivers of P(detect)"] == "none moves it"
    r = summary["response"]
    assert table["Decision delay"].startswith(f"{r['decision_delay_min']:g} min")
    assert table["  F-16IQ Balad"] == f"{r['interceptors'][0]['ready_min']:g} min, " \
                                      f"{r['interceptors'][0]['speed_kmh']:,.0f} km/h"
    assert np.isclose(float(table["  escorted crews obey"].rstrip("%")) / 100, r["intercept_compliance"])
