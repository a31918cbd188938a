"""Parquet parts written from the arrays (sim.parquet.write_flights_part) against their reference, the
parts converted from the rows' flights.csv text (sim.parquet.write_part): the same bytes.

The reference of a float cell's value is Python's own: ``float(f"{x:.{d}f}")``, the double the written
decimal reads back as.
"""
import numpy as np
import pytest

from conftest import SCENARIOS
from sim.montecarlo import prepare, simulate_chunk
from sim.pipeline import load
from sim.prepcache import PrepCache
from sim.results import flight_csv_text, flight_header

pytest.importorskip("pyarrow")
from sim.parquet import fixed_decimal_values, write_flights_part, write_part  # noqa: E402

SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
_CACHE = PrepCache()


@pytest.mark.parametrize("decimals", [1, 2])
def test_fixed_decimal_values_are_the_texts_read_back(decimals):
    # random values at every scale, and the hard ones: ties and near-ties of the scaled value, small
    # negatives written -0.0, signed zeros, NaN, infinities, values past 2**50 after scaling
    rng = np.random.default_rng(31)
    x = np.concatenate([rng.normal(0, 1, 20_000) * 10.0 ** rng.integers(-4, 7, 20_000),
                        np.arange(-2000, 2000) / 10 ** decimals + 0.5 / 10 ** decimals,       # ties, nominally
                        np.nextafter(np.arange(-200, 200) / 20.0, np.inf),
                        [0.0, -0.0, -0.001, -0.04, 0.05, 0.15, 0.25, 2.675, 1.005, np.nan, np.inf, -np.inf,
                         1e300, -1e300, 2.0 ** 52 + 0.5, 1e17 + 3.0]])
    got = fixed_decimal_values(x, decimals)
    want = np.array([float(f"{v:.{decimals}f}") for v in x])
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))          # -0.0 where the text says -0.0


@pytest.mark.parametrize("name", SHIPPED)
def test_parts_from_arrays_are_the_parts_from_text(tmp_path, name):
    # every shipped scenario at 2,000 flights and a chunk of 105: the same Parquet bytes both ways
    sc = load(SCENARIOS / f"{name}.toml")
    sim = prepare(sc, cache=_CACHE)
    header = flight_header(sim, bool(sim.fences))
    for campaigns in (max(2, 2_000 // sc.run.flights), max(1, 105 // sc.run.flights)):
        part = simulate_chunk(sim, sc.run.seed, 5, campaigns, sc.run.flights)
        write_part(tmp_path / "text.parquet", header, flight_csv_text(sim, part))
        write_flights_part(tmp_path / "arrays.parquet", sim, part, header)
        assert (tmp_path / "arrays.parquet").read_bytes() == (tmp_path / "text.parquet").read_bytes(), campaigns
