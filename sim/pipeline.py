"""The pipeline as a Python API (a front door): scenario -> simulation -> results -> files.

>>> from sim.pipeline import load, simulate
>>> sc = load("scenarios/iraq_2012_transponder_off.toml", ["detection.terrain=false"])
>>> sim, result = simulate(sc, campaigns=2, flights=3)
>>> len(result.detected)
6
"""
from pathlib import Path

from geo.terrain import load_terrain
from sim.analysis import DEFAULT_SWEEP_CAMPAIGNS, altitude_sweep, compare, sweep
from sim.montecarlo import needs_terrain, prepare, run
from sim.products.brief import BRIEF_FILES, write_brief
from sim.products.export import (radar_features, routes_feature_collection, staged_output, write_csv, write_json,
                                 write_readme)
from sim.results import flight_rows, summarize
from sim.scenario import load_scenario, override_text, with_overrides

__all__ = ["load", "simulate", "write_run", "sweep", "compare", "altitude_sweep", "with_overrides", "override_text",
           "terrain_for"]


def load(path, overrides=()):
    """Load and validate a scenario file with optional ``KEY=VALUE`` overrides."""
    return load_scenario(path, overrides)


def terrain_for(scenario):
    """The terrain model when the scenario uses it (terrain masking, or a route cruising above ground), else None."""
    return load_terrain() if needs_terrain(scenario) else None


def simulate(scenario, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None,
             engine=None, terrain=None, masking_cache=None, with_fences=True):
    """Prepare and run a scenario; returns ``(Simulation, RunResult)``.

    ``engine`` runs the chunks (None: in this process; ``"local"``: a local
    Dask cluster; a scheduler address; or an engine object, see
    :mod:`sim.engine`); results never depend on it. ``with_fences=False``
    skips the in-airspace and coverage figures (faster).
    """
    sim = prepare(scenario, terrain, masking_cache, with_fences=with_fences)
    result = run(sim, campaigns=campaigns, flights=flights, seed=seed, chunk_campaigns=chunk_campaigns,
                 progress=progress, engine=engine)
    return sim, result


def write_run(out_dir, sim, result, brief=False, progress=None, altitude_points=None):
    """Write the contract files (and the brief when asked) into ``out_dir``; return the summary.

    With ``brief``, the altitude curve (:func:`sim.analysis.altitude_sweep`,
    same seed, at most :data:`~sim.analysis.DEFAULT_SWEEP_CAMPAIGNS`
    campaigns per point) is run first unless ``altitude_points`` are given,
    and goes into summary.json; ``progress(1)`` is called after each point.
    """
    summary = summarize(sim, result)
    if brief:
        if altitude_points is None:
            altitude_points = altitude_sweep(sim.scenario, campaigns=min(result.campaigns, DEFAULT_SWEEP_CAMPAIGNS),
                                             flights=result.flights_per_campaign, seed=result.seed,
                                             terrain=sim.terrain, progress=progress)
        summary["altitude_sweep"] = altitude_points
    with staged_output(Path(out_dir)) as stage:
        if brief:
            write_brief(stage, sim, result, summary, altitude_points)
        write_json(stage / "summary.json", summary)
        write_csv(stage / "flights.csv", *flight_rows(sim, result))
        write_json(stage / "routes.geojson", routes_feature_collection(
            sim.routes, extra_features=radar_features(sim.radars), scenario_name=sim.scenario.info.name))
        write_readme(stage / "README.txt", summary, extra=BRIEF_FILES if brief else "")
    return summary
