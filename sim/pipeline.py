"""The pipeline behind the Python API: scenario -> simulation -> results -> files.

Import these functions from :mod:`sim.api`, the one documented front door
(it re-exports them; the command line uses them from here).

>>> from sim.pipeline import load, simulate
>>> sc = load("iraq_2012_transponder_off", ["detection.terrain=false"])
>>> simulation, result = simulate(sc, campaigns=2, flights=3)
>>> len(result.detected)
6
"""
import dataclasses
import time
from pathlib import Path

from geo.terrain import load_terrain
from sim.analysis import (DEFAULT_SWEEP_CAMPAIGNS, altitude_levels, altitude_sweep, compare, is_probability,
                          metric_short_label, sensitivity_runs, sweep)
from sim.analysis.sweeps import applicable_inputs
from sim.catalog import resolve_scenario
from sim.montecarlo import needs_terrain, prepare, run
from sim.engine import make_engine
from sim.prepcache import PrepCache
from sim.products.export import radar_features, routes_feature_collection, staged_output, write_json, write_readme
from sim.results import (ASSUMPTIONS_NOTE, flight_csv_text, flight_header, format_p_ci, overrides_text, shown_title,
                         summarize)
from sim.scenario import ScenarioError, load_scenario, override_text, with_overrides

__all__ = ["load", "simulate", "simulate_to", "write_run", "sweep", "compare", "altitude_sweep", "with_overrides", "override_text",
           "terrain_for"]


def load(path, overrides=()):
    """Load and validate a scenario with optional ``KEY=VALUE`` overrides (``--set`` texts, keys and units as
    in the scenario file: ``["aircraft.cruise_altitude_m=3000", "radar[Kirkuk PSR].availability=0.5"]``);
    returns a :class:`~sim.scenario.Scenario` (SI inside: metres, seconds).

    ``path`` is a scenario file, or the name of a shipped scenario
    (``"iraq_2012_baseline"``, see :func:`sim.catalog.resolve_scenario`:
    a path that exists wins).
    """
    return load_scenario(resolve_scenario(path), overrides)


def terrain_for(scenario):
    """The terrain model when the scenario uses it (terrain masking, or a route cruising above ground), else None."""
    return load_terrain() if needs_terrain(scenario) else None


def simulate(scenario, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None,
             engine=None, terrain=None, masking_cache=None, with_fences=True, exact=False, cache=None, walk=None,
             keep_flights=True, sample=False, timing_s=None):
    """Prepare and run a scenario; returns ``(Simulation, RunResult)`` with the per-flight arrays.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`load`).
    campaigns, flights, seed : int, optional
        Monte Carlo campaigns, flights per campaign and the seed (default: the scenario's ``[run]``).
    chunk_campaigns : int, optional
        Campaigns per task: memory and speed only, the results do not change.
    progress : callable, optional
        Called with the number of flights of each finished chunk.

    Notes
    -----
    ``engine`` runs the chunks (None: in this process; ``"local"``: a local
    Dask cluster; a scheduler address; or an engine object, see
    :mod:`sim.engine`); results never depend on it. ``with_fences=False``
    skips the in-airspace and coverage figures (faster). ``exact=True``
    evaluates every scan from its geometry instead of the detection tables
    (the reference of the fast path; same draws). ``cache`` (a
    :class:`sim.prepcache.PrepCache` kept across calls; ``masking_cache`` is its
    older name) reuses every prepared part whose inputs are unchanged. ``walk``: how each flight's scans are
    walked (:data:`sim.montecarlo.WALKS`; compiled and numpy give the same results).
    ``keep_flights=False`` keeps no per-flight arrays (memory flat in the flights; the totals and the summary
    are the same) and ``sample=True`` keeps the run's fixed sample of flights (:mod:`sim.sample`, what a map
    draws), as :func:`simulate_to` runs them. ``timing_s``: a dict given is filled with the seconds of
    ``"prepare"`` and ``"run"``.
    """
    t0 = time.perf_counter()
    sim = prepare(scenario, terrain, masking_cache if cache is None else cache, with_fences=with_fences,
                  exact=exact, walk=walk)
    t1 = time.perf_counter()
    result = run(sim, campaigns=campaigns, flights=flights, seed=seed, chunk_campaigns=chunk_campaigns,
                 progress=progress, engine=engine, keep_flights=keep_flights, sample=sample)
    if timing_s is not None:
        timing_s.update(prepare=t1 - t0, run=time.perf_counter() - t1)
    return sim, result


#: Steps of drawing a brief's files (:func:`sim.products.brief.write_brief`: the map, the charts, brief.pdf,
#: the KML), each reported to the brief's progress.
BRIEF_DRAW_STEPS = 4


def brief_steps(scenario):
    """How many times the brief of ``scenario`` calls its progress (``sweep_progress`` of
    :func:`simulate_to`): once per level of the altitude curve, per run of its tornadoes (a base on the
    runs' draws and two per declared input that applies) and per group of files drawn."""
    tornado = 1 + 2 * len(applicable_inputs(scenario)[0]) if scenario.uncertainty else 0
    return len(altitude_levels(scenario)[1]) + tornado + BRIEF_DRAW_STEPS


def _header_line(sim):
    return ",".join(flight_header(sim, bool(sim.fences))) + "\n"


#: What ``flights_format`` may be: ``flights.csv``, a ``flights.parquet/`` dataset written by the
#: workers, or no per-flight file.
FLIGHTS_FORMATS = ("csv", "parquet", "none")


def simulate_to(out_dir, scenario, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None,
                engine=None, brief=False, exact=False, sweep_progress=None, flights_format="csv", cache=None,
                evade_km=None, record=False, walk=None):
    """Prepare, run and write a scenario's outputs; returns ``(sim, result, summary)``.

    ``flights.csv`` is written chunk by chunk as the run goes (rows
    formatted by the engine's workers) and the summary comes from mergeable
    totals, so memory stays flat in the number of flights; the brief draws
    the run's fixed sample of flights (:mod:`sim.sample`), never every flight. ``flights_format="parquet"``: each
    task writes its rows as one file of the dataset ``flights.parquet/``
    itself and sends back only its totals (the output folder must then be
    reachable from the workers); ``"none"``: no per-flight file.
    ``cache``: a :class:`sim.prepcache.PrepCache` for the prepared parts.
    ``evade_km`` (with ``brief``): the brief also shows the least-detectable route within that extra
    distance (:func:`sim.optimise.route.evade`, re-scored like the altitude curve).
    ``record`` (with ``brief``): the brief also says what the scenario's ``[[record]]`` supports, unable or
    unwilling (:func:`sim.analysis.infer.infer`: infer.png and its numbers; the scenario must have a record).
    ``sweep_progress(1)`` (with ``brief``) is called after each step of the brief: each level of the altitude
    curve, each run of the tornadoes, each group of files drawn (:func:`brief_steps` of them).
    ``walk``: how each flight's scans are walked (:data:`sim.montecarlo.WALKS`; the outputs of compiled
    and numpy are byte-identical).
    Everything is staged: a failed run leaves no partial outputs.
    """
    if flights_format not in FLIGHTS_FORMATS:
        raise ValueError(f"flights_format must be one of {', '.join(FLIGHTS_FORMATS)}")
    if record and brief and not scenario.record:      # refused before the run, not after it
        raise ScenarioError(scenario.path, "record", "--record: the scenario has no [[record]]")
    cache = cache if cache is not None else PrepCache()      # shared with the brief's altitude curve and tornadoes
    with make_engine(engine) as eng:     # a cluster, when given, prepares the tables too
        sim = prepare(scenario, cache=cache, exact=exact, engine=None if engine is None else eng, walk=walk)
        with staged_output(Path(out_dir)) as stage:
            kw = dict(keep_flights=False, sample=brief)     # the brief draws the run's fixed sample of flights
            if flights_format == "parquet":
                (stage / "flights.parquet").mkdir()
                kw["parquet_dir"] = stage / "flights.parquet"
            if flights_format == "csv":
                with open(stage / "flights.csv", "w", encoding="utf-8", newline="") as fh:
                    fh.write(_header_line(sim))
                    result = run(sim, campaigns, flights, seed, chunk_campaigns, progress, eng,
                                 sink=fh.write, **kw)
            else:
                result = run(sim, campaigns, flights, seed, chunk_campaigns, progress, eng, **kw)
            summary = _write_products(stage, sim, result, brief, sweep_progress, None,
                                      flights_file={"csv": "flights.csv", "parquet": "flights.parquet"}.get(flights_format),
                                      cache=cache, evade_km=evade_km, record=record)
    return sim, result, summary


def write_run(out_dir, sim, result, brief=False, progress=None, altitude_points=None, cache=None):
    """Write the contract files (and the brief when asked) of a run with its per-flight arrays; return the summary.

    With ``brief``, the altitude curve (:func:`sim.analysis.altitude_sweep`,
    same seed, at most :data:`~sim.analysis.DEFAULT_SWEEP_CAMPAIGNS`
    campaigns per point) is run first unless ``altitude_points`` are given,
    and goes into summary.json; ``progress(1)`` is called after each point.
    ``cache``: a :class:`sim.prepcache.PrepCache` for the brief's extra runs.
    """
    if result.batch is None:
        raise ValueError("the run kept no per-flight results (keep_flights=False): use simulate_to")
    with staged_output(Path(out_dir)) as stage:
        (stage / "flights.csv").write_text(_header_line(sim) + flight_csv_text(sim, result), encoding="utf-8")
        return _write_products(stage, sim, result, brief, progress, altitude_points, cache=cache)


def _write_products(stage, sim, result, brief, progress, altitude_points, flights_file="flights.csv", cache=None,
                    evade_km=None, record=False):
    """summary.json, routes.geojson, README.txt and, with ``brief``, the altitude curve and the brief
    (``flights_file``: the per-flight file beside them, or None; ``cache``: the prepared parts)."""
    summary = summarize(sim, result)
    summary["flights_file"] = flights_file
    if brief:
        if altitude_points is None:
            altitude_points = altitude_sweep(sim.scenario, campaigns=min(result.campaigns, DEFAULT_SWEEP_CAMPAIGNS),
                                             flights=result.flights_per_campaign, seed=result.seed,
                                             terrain=sim.terrain, progress=progress, cache=cache)
        summary["altitude_sweep"] = altitude_points
        if evade_km is not None:
            summary["evade"] = _least_detectable(sim, result, evade_km, cache)
        infer_summary = None
        if record:
            summary["record"], infer_summary = _record_panel(stage, sim, result, cache)
        if sim.scenario.uncertainty:       # which assumptions matter: ranked first, the brief lists the top ones
            summary["sensitivity"] = _write_tornadoes(stage, sim, result, summary, cache, progress)
        from sim.products.brief import write_brief   # matplotlib (0.3 s to import) loads only to draw
        write_brief(stage, sim, result, summary, altitude_points, progress=progress, record=infer_summary)
    write_json(stage / "summary.json", summary)
    write_json(stage / "routes.geojson", routes_feature_collection(
        sim.routes, extra_features=radar_features(sim.radars), scenario_name=sim.scenario.info.name,
        overrides=sim.scenario.overrides))
    write_readme(stage / "README.txt", summary, extra=_brief_files(summary) if brief else "")
    return summary


def _brief_files(summary):
    """README.txt's lines on the brief's files, and the declared inputs its tornado leaves out (and why)."""
    from sim.products.brief import BRIEF_FILES, left_out_text   # the drawing products load only when a brief is drawn
    left_out = [(r["key"], r["why"]) for r in summary.get("sensitivity", {}).get("left_out", ())]
    record = ("infer.png, prior_posterior.png, posterior.nc, infer.json: what the public record says (brief "
              "--record,\n  airpicture infer; docs/infer.md); brief.pdf's second page: its chart and verdicts\n"
              ) if "record" in summary else ""
    return BRIEF_FILES + record + (f"\n{left_out_text(left_out, reasons=True)}" if left_out else "")


def _record_panel(stage, sim, result, cache):
    """summary.json's ``record`` (brief --record): what the public record says of will and capability
    (:func:`sim.analysis.infer.infer` with the run's seed), its files written beside the brief's (infer.png,
    prior_posterior.png, posterior.nc, infer.json); returns it and infer.json (brief.pdf's second page)."""
    from sim.analysis.infer import infer            # scipy.stats and ArviZ load only when asked
    from sim.products.infer import write_infer_files
    found = infer(sim.scenario, seed=result.seed, cache=cache)
    s = write_infer_files(stage, found)
    c = s["capability"]["p_could_stop_if_willing"]
    return {"chart": "infer.png", "p_could_stop_if_willing": c["mean"], "p_could_stop_if_willing_ci90": c["ci90"],
            "periods": [{"name": p["name"], "verdict": p["verdict"], "verdict_strength": p["verdict_strength"],
                         "will": p["will"]["mean"], "will_ci90": p["will"]["ci90"],
                         "p_will_below_half": p["will"]["p_below_half"], "p_did_stop": p["p_did_stop"]["mean"],
                         "p_did_stop_ci90": p["p_did_stop"]["ci90"], "verdict_text": p["verdict_text"]}
                        for p in s["periods"]]}, s


def _least_detectable(sim, result, budget_km, cache):
    """summary.json's ``evade``: the least-detectable route within ``budget_km`` extra (the scenario's
    transponder state, or on when it is drawn) as it will be flown (the scenario's sideways spread, each
    radar's availability and outages), re-scored with the headline's own campaigns and seed (so its figures
    are those ``airpicture evade`` gives the same route); the same route flown exactly on its planned line is
    the secondary figure."""
    from sim.optimise.route import evade        # the route search (scipy's csgraph) loads only when asked
    found = evade(sim.scenario, [budget_km], campaigns=result.campaigns,
                  flights=result.flights_per_campaign, seed=result.seed, terrain=sim.terrain, cache=cache)
    r = found.front[found.transponder_states[0]][0]
    row = r.row()
    return {"budget_km": budget_km, "extra_km": row["extra_km"], "level": row["level"],
            "transponder": row["transponder"], "p_detect": row["p_detect"],
            "p_detect_ci95": [row["p_detect_ci95_low"], row["p_detect_ci95_high"]],
            "p_stopped": row["p_stopped"], "spread_km": row["spread_km"],
            "p_detect_planned_track": row["p_detect_planned_track"],
            "p_stopped_planned_track": row["p_stopped_planned_track"],
            "flight_time_min": row["flight_time_min"], "fuel_t": row["fuel_t"],
            "waypoints": [[float(a), float(b)] for a, b in zip(r.lat_deg, r.lon_deg)],
            "campaigns": found.campaigns}


def _write_tornadoes(stage, sim, result, summary, cache=None, progress=None):
    """The brief's sensitivity: P(detect), and P(stopped) when the scenario has a response, from the same runs
    (:func:`sim.analysis.sensitivity_runs`); one tornado chart per metric (:data:`TORNADO_FILES`). The base
    of each is the headline itself (``summary``: the key number, its interval and campaigns); the low/high
    runs use at most :data:`~sim.analysis.DEFAULT_SWEEP_CAMPAIGNS` campaigns, each bar the base plus the
    input's effect measured against a base run on the same draws, and the chart says so. ``progress(1)``
    after each run. Returns summary.json's ``sensitivity``."""
    from sim.products.brief import TORNADO_FILES, tornado_figure     # matplotlib loads only to draw
    from sim.products.style import save_figure, use_style
    metrics = ("p_detect", "response.p_stopped") if "response" in summary else ("p_detect",)
    campaigns = min(result.campaigns, DEFAULT_SWEEP_CAMPAIGNS)
    # a what-if varies the declared inputs whose ranges apply to it (never refused for one that does not);
    # the others are named, with the reason, under the tornado, in the brief and in README.txt
    kept, left_out = applicable_inputs(sim.scenario)
    varied = dataclasses.replace(sim.scenario, uncertainty=tuple(v[:3] for v in kept))
    runs = sensitivity_runs(varied, metrics, campaigns=campaigns, flights=result.flights_per_campaign,
                            seed=result.seed, cache=cache, progress=progress, base_campaigns=result.campaigns,
                            headline=summary)
    changes = overrides_text(summary)
    what_if = f" (what-if: {changes})" if changes else ""
    out = {}
    for metric in metrics:
        run_text = (f"sensitivity of {metric} in scenario {sim.scenario.info.name}{what_if}, seed {result.seed}, "
                    f"{campaigns} campaigns x {result.flights_per_campaign} flights per low/high run, the same draws "
                    f"in every run")
        with use_style():
            fig, _ = tornado_figure(runs.base[metric], runs.rows[metric], metric,
                                    f"Which assumption matters for {metric_short_label(metric)} ({summary['scenario']})",
                                    run_text, left_out=left_out, base_ci95=runs.base_ci95[metric],
                                    runs_text=tornado_runs_text(runs, metric))
            save_figure(fig, stage / TORNADO_FILES[metric], title=f"Sensitivity of {metric}: {shown_title(summary)}",
                        description=f"{run_text}. {ASSUMPTIONS_NOTE}")
        out[metric] = {"chart": TORNADO_FILES[metric], "base": runs.base[metric], "base_ci95": runs.base_ci95[metric],
                       "base_same_draws": runs.same_draws_base[metric], "inputs": runs.rows[metric]}
    return {"campaigns_per_run": campaigns, "base_campaigns": runs.base_campaigns,
            "flights_per_campaign": result.flights_per_campaign, "seed": result.seed,
            "metrics": out, **({"left_out": [{"key": k, "why": w} for k, w in left_out]} if left_out else {})}


def tornado_runs_text(runs, metric):
    """What a tornado's base and bars are, when the base is run on more campaigns than the low/high runs
    ("" when on the same): the base's campaigns and interval, the runs' campaigns and their own base."""
    if runs.base_campaigns == runs.campaigns:
        return ""
    ci = runs.same_draws_base_ci95[metric]
    own = (format_p_ci(runs.same_draws_base[metric], *ci) if ci is not None and is_probability(metric)
           else f"{runs.same_draws_base[metric]:.3f}")
    base_ci = runs.base_ci95[metric]
    base = (format_p_ci(runs.base[metric], *base_ci) if base_ci is not None and is_probability(metric)
            else f"{runs.base[metric]:.3f}")
    return (f"Base: the key number {base}, {runs.base_campaigns:,} campaigns. Each bar: the base plus the input's "
            f"effect, from low/high runs of {runs.campaigns:,} campaigns each against a base run on the same "
            f"draws ({own}).")
