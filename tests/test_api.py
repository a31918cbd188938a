"""The notebook front door (sim.api) and the README's worked example, run as written."""
import re

import pytest

from conftest import ROOT, SCENARIOS
from sim.api import Run, run
from sim.pipeline import load


def test_readme_notebook_example_runs_as_written(monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"### In a notebook\n\n```python\n(.*?)```", readme, flags=re.S).group(1)
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    r, df = ns["r"], ns["df"]
    assert isinstance(r, Run) and len(df) == r.flights == 3000
    # Kirkuk's primary radar up half the time: between no Kirkuk (0.28) and Kirkuk always up (0.99)
    assert 0.4 < r.p_detect < 0.85 and r.p_detect_ci95[0] < r.p_detect < r.p_detect_ci95[1]
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
