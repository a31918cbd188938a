"""The pipeline as a Python API: scenario -> simulation -> results -> files.

>>> from sim.pipeline import load, simulate
>>> sc = load("scenarios/iraq_2012_baseline.toml", ["run.campaigns=2"])  # doctest: +SKIP
>>> sim, result = simulate(sc)                                           # doctest: +SKIP
"""
from pathlib import Path

from sim.montecarlo import prepare, run
from sim.products.export import radar_features, routes_feature_collection, staged_output, write_csv, write_json
from sim.results import flight_rows, summarize
from sim.scenario import load_scenario

__all__ = ["load", "simulate", "write_run"]


def load(path, overrides=()):
    """Load and validate a scenario file with optional ``KEY=VALUE`` overrides."""
    return load_scenario(path, overrides)


def _terrain_for(scenario):
    needs = scenario.detection.terrain or any(r.elevation_m is None for r in scenario.radars)
    if not needs:
        return None
    from geo.terrain import load_terrain
    return load_terrain()


def simulate(scenario, campaigns=None, flights=None, seed=None, chunk_campaigns=100, progress=None,
             map_chunks=None, terrain=None):
    """Prepare and run a scenario; returns ``(Simulation, RunResult)``."""
    sim = prepare(scenario, terrain if terrain is not None else _terrain_for(scenario))
    result = run(sim, campaigns=campaigns, flights=flights, seed=seed, chunk_campaigns=chunk_campaigns,
                 progress=progress, map_chunks=map_chunks)
    return sim, result


def write_run(out_dir, sim, result, brief=False):
    """Write the contract files (and the brief when asked) into ``out_dir``; return the summary."""
    summary = summarize(sim, result)
    with staged_output(Path(out_dir)) as stage:
        write_json(stage / "summary.json", summary)
        write_csv(stage / "flights.csv", *flight_rows(sim, result))
        write_json(stage / "routes.geojson", routes_feature_collection(sim.routes, extra_features=radar_features(sim.radars)))
        if brief:
            from sim.products.brief import write_brief
            write_brief(stage, sim, result, summary)
    return summary
