"""The compiled walk (:mod:`sim.walk`) against its reference, the numpy walk: the same bytes.

Both read the same addressed draws, detection-table and fence samples, so every output of a run
(flights.csv, summary.json, the Parquet dataset) must be byte-identical, whatever the chunking and the
engine; the numpy walk's agreement with the exact path is tests/test_fast_path.py's (which runs the
default, compiled walk against it).
"""
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SCENARIOS
from sim.montecarlo import WALKS, prepare, run
from sim.pipeline import load, simulate_to
from sim.prepcache import PrepCache
from sim.streams import stream_keys, uniforms_at

SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
ROOT = Path(__file__).resolve().parents[1]
_CACHE = PrepCache()     # the prepared parts, shared by this module's tests


def _outputs(tmp_path, name, scenario, walk, chunk=None, engine=None, flights_format="csv", campaigns=None):
    out = tmp_path / name
    simulate_to(out, scenario, campaigns=campaigns, chunk_campaigns=chunk, engine=engine, walk=walk,
                flights_format=flights_format, cache=_CACHE)
    files = {"summary.json": (out / "summary.json").read_bytes()}
    if flights_format == "csv":
        files["flights.csv"] = (out / "flights.csv").read_bytes()
    return files


def _random_batch(sim, rng, n, spread_sigmas):
    """``n`` flights on random routes, their offsets normal with ``spread_sigmas`` times each route's sigma
    (beyond the tables' clip too), the transponder on for half."""
    from sim.flights import FlightBatch
    route = rng.integers(0, len(sim.routes), n)
    sigma = np.array([r.cross_track_sigma_m for r in sim.routes])[route]
    return FlightBatch(np.zeros(n, np.int64), np.arange(n), route, rng.normal(0, spread_sigmas, n) * sigma,
                       rng.random(n) < 0.5)


def test_uniforms_are_those_of_the_streams():
    # the compiled SplitMix64 against sim.streams, negative counters (replayed scans before departure) too
    import numba
    from sim.walk import uniform_at

    @numba.njit
    def draws(key, ks):
        out = np.empty(ks.shape[0])
        for i in range(ks.shape[0]):
            out[i] = uniform_at(key, ks[i])
        return out

    for key in stream_keys(2012, np.arange(5), 3, [7, 1007, 5007, 8, 11]):
        ks = np.arange(-20, 3000, dtype=np.int64)
        assert np.array_equal(draws(np.uint64(key), ks), uniforms_at(key, ks))


@pytest.mark.parametrize("name", SHIPPED)
def test_compiled_walk_gives_the_numpy_walks_bytes(tmp_path, name):
    # every shipped scenario at 2,000 flights: flights.csv and summary.json byte for byte, at the default
    # chunking and two others (a chunk of one campaign, and an odd size)
    sc = load(SCENARIOS / f"{name}.toml")
    campaigns = max(2, 2_000 // sc.run.flights)
    ref = _outputs(tmp_path, "numpy", sc, "numpy", campaigns=campaigns)
    assert ref["flights.csv"].count(b"\n") == campaigns * sc.run.flights + 1
    for chunk in (None, 1, 7):
        got = _outputs(tmp_path, f"compiled-{chunk}", sc, "compiled", chunk=chunk, campaigns=campaigns)
        assert got == ref, (name, chunk)


@pytest.mark.parametrize("m, n", [(3, 62), (3, 63), (5, 80)])
def test_long_m_of_n_windows_walk_the_same_as_numpy(m, n):
    # the m-of-n memory in the bits of one integer up to 62 scans (the windows of every shipped scenario) and
    # in a ring beyond: both give the numpy walk's tracks (replays of n - 1 scans before an airspace entry too)
    from sim.walk import BITS_WINDOW
    sc = load(SCENARIOS / "iraq_2012_baseline.toml")
    sc = dataclasses.replace(sc, detection=dataclasses.replace(sc.detection, track_m=m, track_n=n))
    sim = prepare(sc, cache=_CACHE)
    a = run(sim, campaigns=40)
    b = run(dataclasses.replace(sim, walk="numpy"), campaigns=40)
    assert (n <= BITS_WINDOW) == (n == 62) and a.detected.any() and a.detected_in_airspace.any()
    for k in ("tracked_by", "track_time_s", "first_detection_s", "detected_in_airspace", "outcome"):
        assert np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True), k


def test_compiled_walk_tracks_flights_at_all():
    # not vacuous: the baseline's fixed radars track most flights on the compiled walk, and the per-flight
    # arrays (track times, in-airspace figure) equal the numpy walk's
    sc = load(SCENARIOS / "iraq_2012_baseline.toml")
    sim = prepare(sc, cache=_CACHE)
    assert sim.walk == "compiled" and WALKS == ("compiled", "numpy", "exact")
    a = run(sim, campaigns=60)
    b = run(dataclasses.replace(sim, walk="numpy"), campaigns=60)
    assert a.detected.mean() > 0.3 and a.detected_in_airspace.any() and not a.tracked_by.all()
    for k in ("tracked_by", "track_time_s", "first_detection_s", "detected_in_airspace", "outcome"):
        assert np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True), k


@pytest.mark.slow
def test_every_engine_uses_the_compiled_walk_byte_identically(tmp_path):
    # worker processes and a local Dask cluster give the in-process numpy walk's bytes, CSV and Parquet
    pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    from sim.engine import DaskCluster, LocalProcesses
    sc = load(SCENARIOS / "iraq_2012_baseline.toml")
    ref = _outputs(tmp_path, "ref", sc, "numpy", campaigns=300)
    with LocalProcesses(2) as eng:
        assert _outputs(tmp_path, "procs", sc, "compiled", chunk=40, engine=eng, campaigns=300) == ref
    with DaskCluster("local", n_workers=2) as eng:
        assert _outputs(tmp_path, "dask", sc, "compiled", chunk=40, engine=eng, campaigns=300) == ref
        pq = tmp_path / "dask-parquet"
        simulate_to(pq, sc, campaigns=300, chunk_campaigns=40, engine=eng, flights_format="parquet", cache=_CACHE)
    pq_ref = tmp_path / "ref-parquet"
    simulate_to(pq_ref, sc, campaigns=300, chunk_campaigns=40, walk="numpy", flights_format="parquet", cache=_CACHE)
    files = sorted(p.relative_to(pq_ref) for p in pq_ref.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(pq) for p in pq.rglob("*") if p.is_file())
    for f in files:
        assert (pq / f).read_bytes() == (pq_ref / f).read_bytes(), f


_CHILD = """
import sys
from sim.pipeline import simulate_to
from sim.scenario import parse_scenario
doc = {"scenario": {"name": "small", "title": "two radars, smooth Earth"},
       "run": {"campaigns": 200, "flights": 10, "seed": 5},
       "route": [{"name": "r", "waypoints": ["OIII", {"lat": 34.0, "lon": 45.0}, "OSDI"],
                  "cross_track_sigma_km": 20.0}],
       "radar": [{"name": n, "lat": lat, "lon": lon, "antenna_height_m": 15.0, "kind": "primary",
                  "range_km": 120.0, "scan_period_s": 6.0, "availability": 0.9, "pd": 0.6}
                 for n, lat, lon in (("A", 34.6, 45.3), ("C", 34.3, 41.0))],
       "detection": {"track_m": 2, "track_n": 3, "terrain": False}}
simulate_to(sys.argv[1], parse_scenario(doc))
"""


@pytest.mark.slow
def test_cold_and_warm_compiler_cache_give_the_same_bytes(tmp_path):
    # a fresh compiler cache (compiled in the process) and the same cache warm (loaded from disk): the same
    # flights.csv, and the cache holds the compiled walk afterwards
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    outs = []
    for run_name in ("cold", "warm"):
        out = tmp_path / run_name
        subprocess.run([sys.executable, "-c", _CHILD, str(out)], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        outs.append((out / "flights.csv").read_bytes())
        if run_name == "cold":
            assert any(p.suffix == ".nbc" for p in (tmp_path / "numba").rglob("*"))
    assert outs[0] == outs[1] and outs[0].count(b"\n") == 2001


def _plus_one(x):
    return x + 1


def test_cache_folder_falls_back_when_none_can_be_written(monkeypatch):
    # numba refuses cache=True when no locator can write its folder (a read-only install and home): the
    # walk then caches in a folder of the temporary directory instead of failing
    import numba
    import geo.compiled as walk          # the decorator of sim.walk's kernels (and geo's)
    calls = []
    real = numba.njit

    def refusing(*args, **kw):
        calls.append(numba.config.CACHE_DIR)
        if kw.get("cache") and numba.config.CACHE_DIR != walk.cache_fallback():
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kw)

    monkeypatch.setattr(numba, "njit", refusing)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    fn = walk.jit()(_plus_one)
    assert fn(1) == 2
    assert numba.config.CACHE_DIR == walk.cache_fallback() and len(calls) == 2


@pytest.mark.slow
def test_cli_walk_option(tmp_path):
    # airpicture run --walk numpy and --walk compiled write the same files; --walk exact is --exact
    from sim.cli import main
    outs = {}
    for walk in ("numpy", "compiled"):
        assert main(["run", "iraq_2012_baseline", "--campaigns", "20", "-q", "--no-cache", "--walk", walk,
                     "--out", str(tmp_path / walk)]) == 0
        outs[walk] = [(tmp_path / walk / f).read_bytes() for f in ("flights.csv", "summary.json")]
    assert outs["numpy"] == outs["compiled"]
    assert main(["run", "iraq_2012_baseline", "--campaigns", "2", "-q", "--no-cache", "--walk", "numpy", "--exact",
                 "--out", str(tmp_path / "x")]) == 2


@pytest.mark.parametrize("name", ["iraq_2012_baseline", "iraq_2012_aew_orbit", "turkey_2011_route"])
def test_compiled_chunk_draws_are_the_numpy_draws(name):
    # sim.walk.chunk_draws against ChunkDraws' numpy hashing: every per-flight draw and scan key, per flight
    # and per campaign (route and transponder policies), a seed near 2**63, an orbit's loop phase
    from sim.montecarlo import ChunkDraws
    sc = load(SCENARIOS / f"{name}.toml")
    sim = prepare(sc, cache=_CACHE, with_fences=False)
    outages = dataclasses.replace(sim, scenario=dataclasses.replace(sc, radars=(
        dataclasses.replace(sc.radars[0], mean_outage_s=3600.0, availability=0.7), *sc.radars[1:])))
    for per_campaign in (False, True, "outages"):
        s = sim
        if per_campaign == "outages":     # a radar's outages last hours: the numpy draws' path, the same values
            s = outages
        elif per_campaign:
            s = dataclasses.replace(sim, scenario=dataclasses.replace(
                sc, run=dataclasses.replace(sc.run, route_choice="per_campaign"),
                aircraft=dataclasses.replace(sc.aircraft, transponder_policy="per_campaign")))
        a = ChunkDraws(s, 2**63 - 25, 7, 40, sc.run.flights)
        b = ChunkDraws(dataclasses.replace(s, walk="numpy"), 2**63 - 25, 7, 40, sc.run.flights)
        for k in ("up", "scan_phase", "comply", "escort", "will", "sees"):
            assert np.array_equal(getattr(a, k), getattr(b, k)), k
        for k in ("route_index", "cross_track_m", "transponder_on"):
            assert np.array_equal(getattr(a.batch, k), getattr(b.batch, k)), k
        assert all(np.array_equal(x, y) for x, y in zip(a.scan_keys, b.scan_keys)) and len(a.scan_keys) == len(sim.radars)
        assert a.orbit_phase.keys() == b.orbit_phase.keys()
        assert all(np.array_equal(a.orbit_phase[j], b.orbit_phase[j]) for j in a.orbit_phase)


@pytest.mark.parametrize("name", ["iraq_2012_baseline", "iraq_2012_low_level"])
def test_compiled_air_picture_is_the_numpy_one(name):
    # sim.response.air_picture's exit and end of the reaction window on the compiled walk against its numpy
    # arithmetic, on flights tracked at random times over the whole route (outside the airspace too),
    # random offsets and random radars seeing them
    from sim.response import air_picture
    sim = prepare(load(SCENARIOS / f"{name}.toml"), cache=_CACHE)
    rng = np.random.default_rng(7)
    n = 20_000
    batch = _random_batch(sim, rng, n, 1.5)
    route = batch.route_index
    duration = np.array([r.duration_s for r in sim.routes])[route]
    t_in = np.where(rng.random(n) < 0.9, rng.random(n) * duration, np.nan)
    sees = rng.random((n, len(sim.radars))) < 0.6
    got = air_picture(sim, batch, t_in, sees)[:2]
    want = air_picture(dataclasses.replace(sim, walk="numpy"), batch, t_in, sees)[:2]
    for a, b in zip(got, want):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.isfinite(got[0]).sum() > n // 2


@pytest.mark.slow
def test_compiled_code_cached_when_neither_install_nor_home_can_be_written(tmp_path):
    # a read-only install (its __pycache__ cannot be made: here a file in its place) and no user-wide cache
    # folder (XDG_CACHE_HOME below a file): the walk compiles, runs and caches its code in the temporary
    # directory's folder (geo.compiled.cache_fallback), where a second process loads it
    import shutil
    pkg = tmp_path / "install"
    (pkg / "geo").mkdir(parents=True)
    shutil.copy(ROOT / "sim" / "walk.py", pkg / "walk.py")
    for name in ("__init__.py", "compiled.py"):
        shutil.copy(ROOT / "geo" / name, pkg / "geo" / name)
    for folder in (pkg, pkg / "geo"):
        (folder / "__pycache__").write_text("not a folder")
    (tmp_path / "home-file").write_text("not a folder")
    (tmp_path / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(XDG_CACHE_HOME=str(tmp_path / "home-file" / "cache"), HOME=str(tmp_path / "home-file"),
               TMPDIR=str(tmp_path / "tmp"), PYTHONPATH=str(pkg))
    code = "import walk, numba; walk.ensure_compiled(); print(numba.config.CACHE_DIR)"
    for _ in range(2):
        got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert got.stdout.strip().startswith(str(tmp_path / "tmp"))
    assert any(p.suffix == ".nbi" for p in (tmp_path / "tmp").rglob("*"))


def test_command_line_starts_without_numba_or_scipy():
    # the command line's start (airpicture --help, every command before it runs) imports neither numba (about
    # 0.3 s and 100 MB: the compiled kernels load at their first use) nor scipy.special (a run's first chunk)
    code = "import sys, sim.cli; print(sorted(m for m in ('numba', 'scipy.special') if m in sys.modules))"
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert got.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["iraq_2012_baseline", "iraq_2012_low_level"])
def test_compiled_positions_at_one_time_are_positions_at(name):
    # sim.walk.positions_once (the order to land's positions, through sim.response._positions_once) against
    # sim.flights.positions_at, bit for bit: times before departure, after arrival, on grid samples and
    # between, offsets out to the clip; a terrain-following route's altitudes on its own rows
    from sim.flights import positions_at
    from sim.response import _positions_once
    sim = prepare(load(SCENARIOS / f"{name}.toml"), cache=_CACHE, with_fences=False)
    rng = np.random.default_rng(5)
    n = 20_000
    route = rng.integers(0, len(sim.routes), n)
    duration = np.array([r.duration_s for r in sim.routes])[route]
    t = rng.uniform(-0.05, 1.05, n) * duration
    t[:100] = np.round(t[:100] / sim.packed.step_s) * sim.packed.step_s
    t[100:110], t[110:120] = -5.0, duration[110:120] + 5.0
    cross = rng.normal(0.0, 2.0, n) * np.array([r.cross_track_sigma_m for r in sim.routes])[route]
    xyz, alt = _positions_once(sim, route, cross, t)
    want_xyz, want_alt, _ = positions_at(sim.packed, route, cross, t[:, None])
    assert np.array_equal(xyz, want_xyz[:, 0]) and np.array_equal(alt, want_alt[:, 0])
    got_numpy = _positions_once(dataclasses.replace(sim, walk="numpy"), route, cross, t)
    assert np.array_equal(got_numpy[0], xyz) and np.array_equal(got_numpy[1], alt)
    assert any(rows is not None for rows in sim.packed.alt_rows) == (name == "iraq_2012_low_level")


def test_compiled_first_tracks_are_the_numpy_ones():
    # sim.walk.first_tracks against the numpy reference: ties go to the first radar, untracked flights -1 and NaN
    from sim.montecarlo import _first_tracks
    rng = np.random.default_rng(9)
    for shape in ((5_000, 8), (300, 1), (40, 0)):
        tracked = rng.random(shape) < 0.3
        times = np.where(tracked, rng.integers(0, 50, shape) * 4.8, np.nan)    # many ties
        got = _first_tracks(tracked, times, compiled=True)
        want = _first_tracks(tracked, times, compiled=False)
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    assert got[0].sum() == 0 and (got[1] == -1).all()


@pytest.mark.parametrize("name", ["iraq_2012_baseline", "iraq_2012_aew_orbit"])
def test_compiled_fence_figures_are_flight_fence_figures(name):
    # sim.walk.fence_figures_route (through sim.montecarlo._fence_figures) against sim.fences.flight_fence_figures
    from sim.montecarlo import _fence_figures
    sim = prepare(load(SCENARIOS / f"{name}.toml"), cache=_CACHE)
    batch = _random_batch(sim, np.random.default_rng(3), 10_000, 2.0)
    got, want = _fence_figures(sim, batch, compiled=True), _fence_figures(sim, batch, compiled=False)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))
    assert (got[0] > 0).any() and (got[1] > 0).any()
