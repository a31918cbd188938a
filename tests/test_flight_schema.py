"""One column schema for flights.csv and Run.to_pandas(): names, types, units, missing values."""
import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, SCENARIOS
from sim.api import read_flights, run
from sim.pipeline import write_run
from sim.results import FLIGHT_COLUMNS, flight_header

#: Each schema type's test of a pandas column.
IS_TYPE = {"int": pd.api.types.is_integer_dtype, "bool": pd.api.types.is_bool_dtype,
           "float": pd.api.types.is_float_dtype, "str": pd.api.types.is_string_dtype}


@pytest.mark.parametrize("overrides", [
    {"detection.terrain": False},                                      # a response: order to land at Baghdad
    {"detection.terrain": False, "aircraft.transponder_on_probability": 0,
     "radar[Kirkuk PSR].availability": 0, "radar[Baghdad PSR].availability": 0},   # nothing detected
])
def test_to_pandas_equals_flights_csv_read_back(tmp_path, overrides):
    r = run(SCENARIOS / "iraq_2012_baseline.toml", overrides=overrides, campaigns=8)
    write_run(tmp_path / "o", r.sim, r.result)
    df = r.to_pandas()
    back = read_flights(tmp_path / "o" / "flights.csv")
    pd.testing.assert_frame_equal(df, back)
    header = (tmp_path / "o" / "flights.csv").read_text().splitlines()[0].split(",")
    assert list(df.columns) == header
    # the types are the schema's, whatever the values (a run with nothing detected keeps text as text)
    for c in df.columns:
        kind = FLIGHT_COLUMNS[c][0]
        assert IS_TYPE[kind](df[c]), c
    # missing values are missing: no empty strings; numbers compute
    assert not any((df[c] == "").any() for c in df.columns if FLIGHT_COLUMNS[c][0] == "str")
    # the yes/no columns are bool, as the schema says (written 0/1 in the file)
    assert [c for c in df.columns if df[c].dtype == bool] == [c for c in header if FLIGHT_COLUMNS[c][0] == "bool"]
    assert {"detected", "transponder_on"} <= set(c for c in df.columns if df[c].dtype == bool)
    assert np.array_equal(df["detected"].to_numpy(), r.result.detected)
    assert df["first_detection_s"].isna().sum() == int((~r.result.detected).sum())
    if r.result.detected.any():
        assert np.isfinite(df["reaction_window_min"].mean())
        # a plain read_csv gives the same table, the yes/no columns as their 0/1
        plain = pd.read_csv(tmp_path / "o" / "flights.csv")
        yes_no = [c for c in df.columns if FLIGHT_COLUMNS[c][0] == "bool"]
        pd.testing.assert_frame_equal(df, plain.astype({c: bool for c in yes_no}))
        assert all(set(plain[c].unique()) <= {0, 1} for c in yes_no)
    else:
        assert df["first_radar"].isna().all()


def test_every_column_is_in_the_schema_and_documented():
    doc = (ROOT / "docs" / "scenario-format.md").read_text()
    r = run(SCENARIOS / "iraq_2012_baseline.toml", overrides={"detection.terrain": False}, campaigns=1)
    for c in flight_header(r.sim, True):
        assert c in FLIGHT_COLUMNS
        t, unit, _ = FLIGHT_COLUMNS[c]
        assert re.search(rf"\| `{c}` \| {t} \| {re.escape(unit or '-')} \|", doc), c


def test_parquet_dataset_equals_flights_csv_row_for_row(run_cli, tmp_path):
    # the workers' Parquet files (one per chunk of campaigns) read back as one table equal flights.csv read
    # with the schema, whatever the chunking and the engine
    args = (SCENARIOS / "iraq_2012_f16_balad.toml", "--campaigns", 300, "--set", "detection.terrain=false", "-q")
    code, _, err = run_cli("run", *args, "--out", tmp_path / "csv")
    assert code == 0, err
    code, _, err = run_cli("run", *args, "--chunk", 70, "--flights-format", "parquet", "--out", tmp_path / "pq")
    assert code == 0, err
    files = sorted((tmp_path / "pq" / "flights.parquet").glob("part-*.parquet"))
    assert len(files) == 5 and not (tmp_path / "pq" / "flights.csv").exists()
    csv = read_flights(tmp_path / "csv" / "flights.csv")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "pq" / "flights.parquet"), csv,
                                  check_dtype=False)
    for c in csv.columns:                     # the types of the schema (pandas' own string type for text)
        kind = FLIGHT_COLUMNS[c][0]
        got = pd.read_parquet(tmp_path / "pq" / "flights.parquet")[c]
        assert IS_TYPE[kind](got), c
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("csv", "pq"))
    assert a.pop("flights_file") == "flights.csv" and b.pop("flights_file") == "flights.parquet"
    assert a == b
    code, _, err = run_cli("run", *args, "--flights-format", "none", "--out", tmp_path / "none")
    assert code == 0 and sorted(p.name for p in (tmp_path / "none").iterdir()) == [
        "README.txt", "routes.geojson", "summary.json"]
