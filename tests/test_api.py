"""The Python front door (sim.api), and the README's and the docs' worked examples, run as written."""
import json
import re
import subprocess
import sys

import pytest

import sim.api
import sim.pipeline
from conftest import ROOT, SCENARIOS
from sim.api import Run, load, run, simulate
from sim.results import summarize


def _python_block(page, heading):
    """The first Python block under a heading of a Markdown page (README.md, docs/*.md), as written."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return re.search(rf"^#+ {re.escape(heading)}\n\n```python\n(.*?)```", text, flags=re.S | re.M).group(1)


def test_one_front_door_re_exports_the_pipeline_as_the_same_objects():
    assert set(sim.pipeline.__all__) <= set(sim.api.__all__)
    for name in sim.api.__all__:
        assert hasattr(sim.api, name), name
        if name in sim.pipeline.__all__:
            assert getattr(sim.api, name) is getattr(sim.pipeline, name), name


def _run_kirkuk_example(monkeypatch, tmp_path, page, heading):
    """Run a page's Python example (Kirkuk's primary radar up half the time, 3,000 flights) from another folder
    (a shipped scenario by name); check what both examples show; return its names."""
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(_python_block(page, heading), page, "exec"), ns)
    r, df = ns["r"], ns["df"]
    assert isinstance(r, Run) and len(df) == r.flights == 3000
    # Kirkuk's primary radar up half the time: between no Kirkuk (0.28) and Kirkuk always up (0.99)
    assert 0.4 < r.p_detect < 0.85 and r.p_detect_ci95[0] < r.p_detect < r.p_detect_ci95[1]
    return ns


def test_readme_python_example_runs_as_written(monkeypatch, tmp_path):
    r = _run_kirkuk_example(monkeypatch, tmp_path, "README.md", "From Python")["r"]
    assert r.overrides == ("radar[Kirkuk PSR].availability=0.5",)
    assert r.headline.startswith(f"{r.detected_per_campaign:.1f} of 15")


def test_getting_started_notebook_example_runs_as_written(monkeypatch, tmp_path):
    ns = _run_kirkuk_example(monkeypatch, tmp_path, "docs/getting-started.md", "In a notebook")
    r, df = ns["r"], ns["df"]
    assert df["detected"].mean() == pytest.approx(r.p_detect, abs=1e-6)
    assert set(ns["by_route"].index) == {"direct", "via-baghdad-fir-south"}


def test_run_result_repr_and_html_carry_the_numbers():
    sc = load(SCENARIOS / "iraq_2012_baseline.toml", ["detection.terrain=false"])
    r = run(sc, campaigns=10, flights=4)
    text = repr(r)
    assert text.startswith("<Run iraq-2012-baseline") and f"{r.p_detect:.3f}" in text and "40 flights" in text
    page = r._repr_html_()
    assert r.summary["p_detect_ci95_text"] in page and "Illustrative" in page
    assert r.headline.startswith(f"{r.detected_per_campaign:.1f} of 4")


@pytest.mark.slow
def test_batch_runs_script_runs_as_written_with_a_local_cluster(tmp_path):
    # The script of docs/batch-runs.md as a file, run by a fresh Python from an empty folder: with the
    # __main__ guard the Dask workers do not run it again, so it prints exactly one line.
    pytest.importorskip("distributed")
    script = tmp_path / "whatif.py"
    script.write_text(_python_block("docs/batch-runs.md", "In a script"), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    written = json.loads((tmp_path / "out" / "what-if" / "summary.json").read_text(encoding="utf-8"))
    # the cluster's numbers are the in-process ones (independent run here)
    sc = load(SCENARIOS / "iraq_2012_baseline.toml", ["aircraft.transponder_on_probability=0"])
    here = summarize(*simulate(sc, campaigns=500))
    assert written["p_detect"] == here["p_detect"] and written["flights_total"] == 500 * 15
    assert lines[0].startswith(f"{here['p_detect']} [")


def test_a_cache_kept_across_api_calls_prepares_a_draws_only_what_if_once():
    # the notebook's repeated what-ifs: the second call with one PrepCache prepares nothing, same numbers
    from conftest import SCENARIOS
    from sim.api import run
    from sim.prepcache import PrepCache
    c = PrepCache()
    base = {"detection.terrain": False}
    run(SCENARIOS / "iraq_2012_baseline.toml", base, campaigns=5, cache=c)
    computed = sum(c.stats["computed"].values())
    r = run(SCENARIOS / "iraq_2012_baseline.toml", {**base, "aircraft.transponder_on_probability": 0.5},
            campaigns=5, cache=c)
    assert sum(c.stats["computed"].values()) == computed and computed > 0
    fresh = run(SCENARIOS / "iraq_2012_baseline.toml", {**base, "aircraft.transponder_on_probability": 0.5},
                campaigns=5)
    assert r.summary == fresh.summary
