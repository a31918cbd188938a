"""
A batch on a Dask cluster, written as Parquet
=============================================

The same run on a local Dask cluster of two single-threaded worker processes, its per-flight rows
written by the workers themselves as a Parquet dataset, read back with pandas. The command line is
``airpicture run iraq_2012_transponder_off --dask local --flights-format parquet --out DIR``; on a real cluster
``--dask tcp://HOST:8786`` (the output folder must then be reachable from the workers).

Every random number is addressed by (seed, campaign, flight, stream, scan), so the numbers are those of
a run in this process, whatever the engine, the number of workers or the chunk size: the script checks
it. 100 campaigns of 15 flights, in chunks of 25 campaigns so that both workers get some.

A script that starts a local cluster (or ``engine="processes"``) keeps its work under
``if __name__ == "__main__":``: each worker process imports the script again, and without the guard
would start a cluster of its own.
"""
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.api import load, simulate, simulate_to
from sim.engine import DaskCluster
from sim.prepcache import PrepCache

if __name__ == "__main__":
    scenario = load("iraq_2012_transponder_off")
    cache = PrepCache()
    out = Path(tempfile.mkdtemp()) / "transponder-off-dask"
    with DaskCluster("local", n_workers=2) as cluster:
        print(len(cluster.client.nthreads()), "workers")
        simulation, result, summary = simulate_to(out, scenario, campaigns=100, chunk_campaigns=25,
                                                  engine=cluster, flights_format="parquet", cache=cache)
    print(sorted(p.name for p in out.iterdir()))
    print(len(list((out / "flights.parquet").glob("*.parquet"))), "Parquet files, one per chunk")
    print(f"P(detect) {summary['p_detect']} {summary['p_detect_ci95']}")

# %%
# The same scenario and seed in this process: the same numbers, flight for flight.
if __name__ == "__main__":
    _, in_process = simulate(scenario, campaigns=100, cache=cache)
    print("in process: P(detect)", round(float(in_process.detected.mean()), 6))
    assert summary["flights_total"] == in_process.detected.size
    assert summary["p_detect"] == round(float(in_process.detected.mean()), 6)

# %%
# The dataset in pandas (``pd.read_parquet`` reads the folder; polars and DuckDB read it too). The columns
# and their units are :data:`sim.results.FLIGHT_COLUMNS`.
if __name__ == "__main__":
    flights = pd.read_parquet(out / "flights.parquet").sort_values(["campaign", "flight"])
    print(flights.dtypes.to_string())
    assert (flights["detected"].to_numpy() == in_process.detected).all()

    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.hist(flights.loc[flights["detected"] == 1, "first_detection_s"] / 60, bins=40, color="#4477aa")
    ax.set_xlabel("first detection [min after departure]")
    ax.set_ylabel("flights")
    ax.set_title(f"{summary['scenario']}: first detections of {len(flights):,} flights (Dask, Parquet)")
    fig.tight_layout()
