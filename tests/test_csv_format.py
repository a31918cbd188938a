"""flights.csv rows built by numpy (sim.results.flight_csv_text) equal, byte for byte, the rows that
csv.writer writes from Python's own cell formatting (sim.results.flight_rows: f"{x:.1f}" per cell).

Python's fixed-decimal formatting is the correctly rounded decimal of the double, ties to even on
its exact binary value (so 0.25 -> "0.2", 2.675 -> "2.67", -0.04 -> "-0.0"): the reference here.
"""
import csv
import io
from types import SimpleNamespace

import numpy as np
import pytest

import sim.results as results
from conftest import SCENARIOS
from sim.api import run
from sim.flights import FlightBatch
from sim.montecarlo import simulate_chunk
from sim.pipeline import load, simulate
from sim.response import OUTCOMES
from sim.results import flight_csv_text, flight_rows

HOSTILE_NAMES = ["a,b", 'say "hi"', "two\nlines", "=cmd()", "+1", "-x", "@x", "'quoted", "", "Ünïcødé ✈",
                 "cr\rhere", " space", "-1234.5", "tab\tin", '"', ",", "plain"]


def reference_text(sim, part):
    """The reference: csv.writer over the rows of Python-formatted cells."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(flight_rows(sim, part))
    return buf.getvalue()


def awkward_floats(rng, n, decimals):
    """Values whose fixed-decimal text is hard to get right: exact and inexact ties, neighbours of
    ties, signed zeros, tiny and huge values, NaN and infinities, and plain random values."""
    scale = 10 ** decimals
    special = np.array([0.25, 0.125, 0.375, 2.675, 1.005, 0.005, 0.015, 0.05, 0.15, 0.35, 1.45, 2.5, 9.95,
                        9.96, 99.995, 0.045, 37.335, 1234567.85, 1e-9, -1e-9, -0.04, -0.004, -0.05, -0.0, 0.0,
                        5e-324, 1e14, 1.2345e15, 1e20, 1e300, 1.7976931348623157e308, np.inf, -np.inf, np.nan,
                        -np.nan, 2.0 ** 50 / scale, 2.0 ** 53 / scale, 999999.95, -999999.95, 0.95, -0.95])
    ties = (rng.integers(-10**7, 10**7, n) + 0.5) / scale            # x.x5 / x.xx5: mostly not representable
    binary_ties = rng.integers(-2**20, 2**20, n) / 2.0 ** rng.integers(1, 12, n)    # exact ties among them
    near = np.nextafter(ties, np.where(rng.random(n) < 0.5, np.inf, -np.inf))      # one ulp off a tie
    plain = rng.normal(0, 10.0 ** rng.integers(-3, 7, n), n)
    pool = np.concatenate([ties, binary_ties, near, plain])
    return rng.permutation(np.concatenate([special, rng.choice(pool, max(0, n - len(special)))]))[:n]


def synthetic(rng, n, radar_names, route_names, fences=True, response=True, nothing_detected=False):
    """A sim (names only) and a chunk of ``n`` flights with awkward values in every column."""
    sim = SimpleNamespace(radars=[SimpleNamespace(name=s) for s in radar_names],
                          routes=[SimpleNamespace(name=s) for s in route_names])
    R = len(radar_names)
    batch = FlightBatch(campaign=rng.integers(0, 10**12, n), flight=rng.integers(0, 100_000, n),
                        route_index=rng.integers(0, len(route_names), n),
                        cross_track_m=awkward_floats(rng, n, 1), transponder_on=rng.random(n) < 0.5)
    tracked_by = (rng.random((n, max(R, 1))) < 0.3)[:, :R] & (not nothing_detected)
    detected = tracked_by.any(axis=1)
    first_s = np.where(detected, awkward_floats(rng, n, 1), np.nan)
    part = dict(batch=batch, tracked_by=tracked_by, detected=detected, first_detection_s=first_s,
                first_radar=np.where(detected, np.argmax(tracked_by, axis=1) if R else -1, -1),
                detected_in_airspace=None, minutes_in_airspace=None, minutes_in_coverage=None, outcome=None)
    if fences:
        part.update(detected_in_airspace=detected & (rng.random(n) < 0.7),
                    minutes_in_airspace=awkward_floats(rng, n, 2), minutes_in_coverage=awkward_floats(rng, n, 2))
    if response:
        part.update(reaction_window_min=np.where(rng.random(n) < 0.6, awkward_floats(rng, n, 1), np.nan),
                    order_feasible=rng.random(n) < 0.5, obeyed=rng.random(n) < 0.5,
                    interceptable=rng.random(n) < 0.5,
                    outcome=rng.integers(0, len(OUTCOMES), n).astype(np.int8))
    return sim, part


@pytest.mark.parametrize("fences, response", [(True, True), (True, False), (False, False), (False, True)])
def test_awkward_values_and_hostile_names_format_as_python_does(fences, response):
    rng = np.random.default_rng(17)
    sim, part = synthetic(rng, 6000, HOSTILE_NAMES, HOSTILE_NAMES[::-1], fences, response)
    text = flight_csv_text(sim, part)
    assert text == reference_text(sim, part)
    # and the reference itself is what it claims: the rows read back give Python's cells (without the
    # name holding a bare CR: csv.writer leaves it unquoted with lineterminator="\n", and csv.reader
    # refuses it)
    sim.routes = sim.radars = [SimpleNamespace(name=s.replace("\r", " ")) for s in HOSTILE_NAMES]
    back = list(csv.reader(io.StringIO(flight_csv_text(sim, part))))
    assert len(back) == 6000
    col = 10 if fences else 7
    assert [r[col] for r in back[:50]] == [f"{x:.1f}" for x in part["batch"].cross_track_m[:50]]


def test_ties_round_to_even_on_the_exact_value():
    # independent of both implementations: the decimals Python's documentation gives for these doubles
    rng = np.random.default_rng(0)
    sim, part = synthetic(rng, 8, ["r"], ["route"], fences=True, response=False)
    x = np.array([0.25, 0.35, 2.675, -0.04, -0.0, 1e-9, 0.125, 9.96])
    part["batch"] = FlightBatch(part["batch"].campaign, part["batch"].flight, part["batch"].route_index,
                                x, part["batch"].transponder_on)
    part["minutes_in_airspace"] = x
    rows = list(csv.reader(io.StringIO(flight_csv_text(sim, part))))
    assert [r[10] for r in rows] == ["0.2", "0.3", "2.7", "-0.0", "-0.0", "0.0", "0.1", "10.0"]
    assert [r[7] for r in rows] == ["0.25", "0.35", "2.67", "-0.04", "-0.00", "0.00", "0.12", "9.96"]


def test_no_radars_no_flights_nothing_detected_and_blocks():
    rng = np.random.default_rng(3)
    sim, part = synthetic(rng, 500, [], ["only"], nothing_detected=True)
    assert flight_csv_text(sim, part) == reference_text(sim, part)
    sim, part = synthetic(rng, 500, ["a", "b"], ["x"], nothing_detected=True)
    assert flight_csv_text(sim, part) == reference_text(sim, part)
    sim, part = synthetic(rng, 0, ["a"], ["x"])
    assert flight_csv_text(sim, part) == "" == reference_text(sim, part)
    sim, part = synthetic(rng, 2500, HOSTILE_NAMES, HOSTILE_NAMES)
    whole = flight_csv_text(sim, part)
    old = results._CSV_BLOCK_ROWS
    try:            # formatted in blocks of rows: the same text whatever the block
        results._CSV_BLOCK_ROWS = 333
        assert flight_csv_text(sim, part) == whole == reference_text(sim, part)
    finally:
        results._CSV_BLOCK_ROWS = old


@pytest.mark.parametrize("scenario, overrides", [
    ("iraq_2012_baseline.toml", {}),                                          # fences and a response
    ("iraq_2012_baseline.toml", {f"radar[{name}].availability": 0 for name in (       # nothing detected
        "Baghdad PSR", "Baghdad SSR", "Kirkuk PSR", "Kirkuk SSR", "Ali long-range", "Basra SSR", "Erbil SSR",
        "Sulaymaniyah SSR")}),
    ("turkey_2011_route.toml", {}),
    ("iraq_2012_f16_balad.toml", {}),                                         # interceptors
])
def test_runs_format_as_the_reference(scenario, overrides):
    r = run(SCENARIOS / scenario, overrides={"detection.terrain": False, **overrides}, campaigns=40)
    assert flight_csv_text(r.sim, r.result) == reference_text(r.sim, r.result)        # a whole run
    part = simulate_chunk(r.sim, 5, 3, 17, r.sim.scenario.run.flights)               # one chunk (a dict)
    assert flight_csv_text(r.sim, part) == reference_text(r.sim, part)
    if overrides:
        assert not r.result.detected.any()


def test_run_without_fences_formats_as_the_reference():
    sc = load(SCENARIOS / "iraq_2012_baseline.toml", ["detection.terrain=false"])
    sim, result = simulate(sc, campaigns=30, with_fences=False)
    assert result.minutes_in_airspace is None
    assert flight_csv_text(sim, result) == reference_text(sim, result)
