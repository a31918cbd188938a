"""The pipeline as a Python API: scenario -> simulation -> results -> files.

>>> from sim.pipeline import load, simulate
>>> sc = load("scenarios/iraq_2012_baseline.toml", ["run.campaigns=2"])  # doctest: +SKIP
>>> sim, result = simulate(sc)                                           # doctest: +SKIP
"""
import copy
import json
from pathlib import Path

from sim.montecarlo import prepare, run
from sim.routes import follows_terrain
from sim.products.export import (radar_features, routes_feature_collection, staged_output, write_csv, write_json,
                                 write_readme)
from sim.results import flight_rows, summarize
from sim.scenario import apply_override, load_scenario, parse_scenario

__all__ = ["load", "simulate", "write_run", "sweep", "with_overrides", "override_text", "terrain_for"]


def load(path, overrides=()):
    """Load and validate a scenario file with optional ``KEY=VALUE`` overrides."""
    return load_scenario(path, overrides)


def terrain_for(scenario):
    """The terrain model when the scenario uses it (terrain masking, or a route cruising
    above ground), else None."""
    if not (scenario.detection.terrain or follows_terrain(scenario)):
        return None
    from geo.terrain import load_terrain
    return load_terrain()


def simulate(scenario, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None,
             map_chunks=None, terrain=None, masking_cache=None, with_fences=True):
    """Prepare and run a scenario; returns ``(Simulation, RunResult)``.

    ``with_fences=False`` skips the in-Iraq and coverage figures (faster).
    """
    sim = prepare(scenario, terrain if terrain is not None else terrain_for(scenario), masking_cache,
                  with_fences=with_fences)
    result = run(sim, campaigns=campaigns, flights=flights, seed=seed, chunk_campaigns=chunk_campaigns,
                 progress=progress, map_chunks=map_chunks)
    return sim, result


def with_overrides(scenario, overrides):
    """A new validated scenario: ``scenario`` with ``KEY=VALUE`` overrides applied."""
    doc = copy.deepcopy(scenario.raw)
    for text in overrides:
        apply_override(doc, text, source=scenario.path)
    return parse_scenario(doc, source=scenario.path)


def override_text(key, value):
    """``KEY=VALUE`` with the value written as TOML (``true``, ``"text"``, ``3000``)."""
    return f"{key}={json.dumps(value)}"


def sweep(scenario, key, values, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None):
    """Run a scenario once per value of one key (same seed); return one dict per value.

    ``key`` is an override path such as ``aircraft.cruise_altitude_m``. Each
    point reports ``value``, ``p_detect``, ``p_detect_ci95`` and
    ``detected_per_campaign_mean``. Terrain and masking tables are shared
    between points.
    """
    terrain = terrain_for(scenario)
    cache = {}
    points = []
    for v in values:
        sc = with_overrides(scenario, [override_text(key, v)])
        if terrain is None:
            terrain = terrain_for(sc)
        sim, result = simulate(sc, campaigns, flights, seed, chunk_campaigns, terrain=terrain, masking_cache=cache,
                               with_fences=False)
        s = summarize(sim, result)
        points.append({"value": v, "p_detect": s["p_detect"], "p_detect_ci95": s["p_detect_ci95"],
                       "detected_per_campaign_mean": s["detected_per_campaign"]["mean"]})
        if progress is not None:
            progress(1)
    return points


_BRIEF_FILES = """map.png/.pdf/.svg the route map (routes, coverage at cruise level, sampled flights, first detections)
detections.png   flights detected per campaign
altitude.png     P(detect) against cruise altitude (same seed)
routes.kml       routes, radar sites, coverage and first detections for Google Earth
brief.pdf        one page: map, charts, key numbers and the assumptions behind them
"""


def write_run(out_dir, sim, result, brief=False, progress=None):
    """Write the contract files (and the brief when asked) into ``out_dir``; return the summary.

    ``progress(1)`` is called after each point of the brief's altitude sweep.
    """
    summary = summarize(sim, result)
    with staged_output(Path(out_dir)) as stage:
        if brief:   # first: its altitude sweep goes into summary.json
            from sim.products.brief import write_brief
            summary["altitude_sweep"] = write_brief(stage, sim, result, summary, progress=progress)["altitude_sweep"]
        write_json(stage / "summary.json", summary)
        write_csv(stage / "flights.csv", *flight_rows(sim, result))
        write_json(stage / "routes.geojson", routes_feature_collection(
            sim.routes, extra_features=radar_features(sim.radars), scenario_name=sim.scenario.info.name))
        write_readme(stage / "README.txt", summary, extra=_BRIEF_FILES if brief else "")
    return summary
