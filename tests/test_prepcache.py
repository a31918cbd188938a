"""Prepared parts keyed by their inputs: reused in memory and on disk, recomputed when an input changes."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SCENARIOS
from geo.terrain import load_terrain
from sim.montecarlo import prepare, run
from sim.prepcache import PrepCache, digest
from sim.results import flight_csv_text, summarize
from sim.scenario import load_scenario, with_overrides

TERRAIN = load_terrain()
BASE = load_scenario(SCENARIOS / "iraq_2012_f16_balad.toml")      # terrain, fences, a response, interceptors


def _outputs(sim):
    res = run(sim, campaigns=30)
    return json.dumps(summarize(sim, res), sort_keys=True), flight_csv_text(sim, res)


def _computed(cache):
    return {k: v for k, v in cache.stats["computed"].items() if v}


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    cache = PrepCache(folder)
    sim = prepare(BASE, TERRAIN, cache)
    return folder, cache, sim


def test_cold_warm_and_disk_cached_runs_are_identical(warm):
    folder, cache, sim = warm
    cold = _outputs(prepare(BASE, TERRAIN))                          # no cache at all
    assert _outputs(sim) == cold
    again = prepare(BASE, TERRAIN, cache)                            # in memory
    assert cache.stats["memory"]["detection"] > 0
    assert _outputs(again) == cold
    disk = PrepCache(folder, version=cache.version)                  # another process's view: the files
    assert _outputs(prepare(BASE, TERRAIN, disk)) == cold
    assert not _computed(disk) and sum(disk.stats["disk"].values()) == sum(cache.stats["computed"].values())


@pytest.mark.parametrize("override", [
    "aircraft.transponder_on_probability=0.3", "radar[Kirkuk PSR].availability=0.5",
    "radar[Baghdad SSR].mean_outage_days=3", "response.order_to_land.compliance=0.9",
    "response.decision_delay_min=12", "interceptor[F-16IQ Balad].ready_min=20", "run.seed=7",
    "response.track_coast_min=1",
])
def test_a_what_if_of_draws_or_response_prepares_nothing(warm, override):
    _, cache, _ = warm
    before = dict(cache.stats["computed"])
    prepare(with_overrides(BASE, [override]), TERRAIN, cache)
    assert dict(cache.stats["computed"]) == before


def test_changing_an_input_recomputes_that_part_and_only_that_part(warm):
    _, cache, sim = warm
    routes_seen = int((sim.scan_count[[r.name for r in sim.radars].index("Kirkuk PSR")] > 0).sum())
    cases = {
        # one radar's range: its masking table, its detection table on each route it sees, its coverage rows
        "radar[Kirkuk PSR].range_km=120": {"masking": 1, "detection": routes_seen, "coverage": 2},
        # one radar's Pd model: its detection tables only (the coverage is geometric)
        "radar[Kirkuk SSR].pd=0.9": {"detection": int((sim.scan_count[[r.name for r in sim.radars]
                                                                      .index("Kirkuk SSR")] > 0).sum())},
        # one route's spread: that route's detection tables, coverage rows and airspace rows
        "route[direct].cross_track_sigma_km=7": {"detection": int((sim.scan_count[:, 0] > 0).sum()),
                                                 "coverage": len(sim.radars), "airspace": 1},
    }
    for override, expected in cases.items():
        c = PrepCache(memory=dict(cache._memory), version=cache.version)
        prepare(with_overrides(BASE, [override]), TERRAIN, c)
        assert _computed(c) == expected, override
    # the terrain flag: no masking tables at all, every table and coverage row again
    c = PrepCache(memory=dict(cache._memory), version=cache.version)
    prepare(with_overrides(BASE, ["detection.terrain=false"]), TERRAIN, c)
    assert "masking" not in _computed(c) and _computed(c)["detection"] == int((sim.scan_count > 0).sum())


def test_the_code_version_is_part_of_every_key(warm):
    folder, cache, _ = warm
    other = PrepCache(folder, version="another version of the code")
    prepare(BASE, TERRAIN, other)
    assert _computed(other) == _computed(cache) and not sum(other.stats["disk"].values())


def test_a_corrupt_or_truncated_file_is_recomputed_never_trusted(tmp_path):
    sc = with_overrides(BASE, ["detection.terrain=false"])
    PrepCache(tmp_path).get("x", 1, lambda: np.arange(5))
    prepare(sc, TERRAIN, PrepCache(tmp_path))
    files = sorted(tmp_path.glob("detection-*.part"))
    assert files
    data = files[0].read_bytes()
    files[0].write_bytes(data[:len(data) // 2])                              # truncated
    files[1].write_bytes(data[:-10] + bytes(10))                             # corrupt: same size, other bytes
    said = []
    c = PrepCache(tmp_path, warn=said.append)
    sim = prepare(sc, TERRAIN, c)
    assert _computed(c) == {"detection": 2}
    assert len(said) == 1 and "refused" in said[0]                         # one line for the whole run
    assert _outputs(sim) == _outputs(prepare(sc, TERRAIN))
    assert PrepCache(tmp_path).get("x", 1, lambda: None).tolist() == list(range(5))


@pytest.mark.slow
def test_two_processes_sharing_a_folder_do_not_corrupt_it(tmp_path):
    code = ("import sys; from sim.scenario import load_scenario; from sim.montecarlo import prepare; "
            "from sim.prepcache import PrepCache; "
            f"prepare(load_scenario({str(SCENARIOS / 'iraq_2012_baseline.toml')!r}, ['detection.terrain=false']), "
            "cache=PrepCache(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT) for _ in range(2)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert not list(tmp_path.glob(".*.tmp"))
    c = PrepCache(tmp_path)
    sc = load_scenario(SCENARIOS / "iraq_2012_baseline.toml", ["detection.terrain=false"])
    sim = prepare(sc, cache=c)
    assert not _computed(c)
    assert _outputs(sim) == _outputs(prepare(sc))


def test_the_folder_stays_within_its_bound(tmp_path):
    c = PrepCache(tmp_path, max_bytes=50_000)
    for k in range(20):
        c.get("blob", k, lambda: np.zeros(2_000))                       # 16 kB each
    assert sum(p.stat().st_size for p in tmp_path.glob("*.part")) <= 50_000
    assert PrepCache(tmp_path).get("blob", 19, lambda: None) is not None     # the latest kept


def test_digest_reads_arrays_by_content():
    a = np.arange(10.0)
    assert digest(a) == digest(a.copy()) != digest(a + 1e-12)
    assert digest(1.0) != digest(1) and digest((1, 2)) != digest((2, 1))


def test_memory_stays_within_its_bound_least_recently_used_first():
    c = PrepCache(max_memory_bytes=50_000)
    for k in range(10):
        c.get("blob", k, lambda: np.zeros(2_000))                       # 16 kB each: three fit
    c.get("blob", 7, lambda: None)                                      # used again: kept
    c.get("blob", 10, lambda: np.zeros(2_000))
    assert len(c._memory) == 3 and sum(a.nbytes for a in c._memory.values()) <= 50_000
    assert isinstance(c.get("blob", 7, lambda: "recomputed"), np.ndarray)        # kept: not recomputed
    assert c.get("blob", 0, lambda: "recomputed") == "recomputed"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["dask", "processes"])
def test_a_cluster_prepares_the_same_tables_in_parallel(kind):
    # with an engine, the masking and detection tables not at hand are computed on it, one task each; the
    # simulation and its outputs are those of an in-process preparation
    from sim.engine import DaskCluster, LocalProcesses
    if kind == "dask":
        pytest.importorskip("distributed")
    c = PrepCache()
    with (DaskCluster("local", n_workers=2) if kind == "dask" else LocalProcesses(2)) as eng:
        sim = prepare(BASE, TERRAIN, c, engine=eng)
    cold = prepare(BASE, TERRAIN)
    assert c.stats["computed"]["masking"] == len(BASE.radars)
    assert c.stats["computed"]["detection"] == sum(t is not None for row in cold.tables for t in row)
    for a, b in zip(sim.tables, cold.tables):
        for x, y in zip(a, b):
            assert (x is None) == (y is None) and (x is None or np.array_equal(x.pd, y.pd))
    assert _outputs(sim) == _outputs(cold)
