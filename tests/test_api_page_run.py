"""The page's what-if is :func:`sim.api.run` with ``keep_flights=False``: the same numbers as a run that keeps
every flight (the summary is built from the run's totals either way), no per-flight table, the prepare and run
times measured (issue 30: the page is a front door like the others)."""
import pytest

from sim import api
from sim.prepcache import PrepCache


def test_a_run_without_its_flights_has_the_same_summary():
    cache = PrepCache()
    kept = api.run("iraq_2012_transponder_off", {"detection.terrain": False}, campaigns=3, cache=cache)
    flat = api.run("iraq_2012_transponder_off", {"detection.terrain": False}, campaigns=3, cache=cache,
                   keep_flights=False)
    assert flat.summary == kept.summary and flat.headline == kept.headline
    assert flat.result.batch is None and flat.result.sample is not None      # the map's fixed sample of flights
    assert set(flat.timing_s) == {"prepare", "run"} and all(t >= 0 for t in flat.timing_s.values())
    with pytest.raises(ValueError, match="keep_flights"):
        flat.to_pandas()


def test_the_pages_run_is_the_apis(tmp_path):
    from sim.serve.planner import Planner
    planner = Planner(tmp_path)
    page = planner.run("iraq_2012_transponder_off", [("detection.terrain", "false")], campaigns=3)
    ref = api.run("iraq_2012_transponder_off", ["detection.terrain=false"], campaigns=3, cache=False,
                  keep_flights=False)
    assert page["summary"] == ref.summary and page["headline"] == ref.headline
