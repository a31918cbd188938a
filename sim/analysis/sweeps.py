"""Sweeps and comparisons: the same question asked of variants of a scenario (same seed).

A sweep varies one scenario key through the override syntax of
:mod:`sim.scenario` (the one place that knows the keys' spellings); the
altitude curve varies the cruise level in the altitude mode the scenario
itself uses (above mean sea level, or above ground for terrain following).
Every point is a full run of the core on a validated scenario, with common
random numbers (the same seed), so differences between points are not
sampling noise of independent runs.
"""
import dataclasses

import numpy as np

from geo.terrain import load_terrain
from geo.units import FL_M
from sim.analysis.metrics import DEFAULT_METRIC, MetricError, check_metric, metric_interval, metric_names, metric_value
from sim.prepcache import PrepCache
from sim.montecarlo import needs_terrain, prepare, run
from sim.results import summarize
from sim.routes import below_ground_shares, cruise_level
from sim.scenario import (ScenarioError, override_key_value, override_text, shown_source, uncertainty_variants,
                          with_cruise_level, with_overrides)

__all__ = ["sweep", "altitude_sweep", "altitude_levels", "altitude_mode", "compare", "sensitivity",
           "sensitivity_metrics", "sensitivity_runs", "SensitivityRuns", "applicable_inputs", "probe_metric_names",
           "metric_value", "DEFAULT_SENSITIVITY_CAMPAIGNS", "DEFAULT_SWEEP_ALTITUDES_M",
           "DEFAULT_SWEEP_AGL_M", "DEFAULT_SWEEP_CAMPAIGNS"]

#: Cruise altitudes of the altitude curve above mean sea level [m].
DEFAULT_SWEEP_ALTITUDES_M = (300.0, 1000.0, 2000.0, 3000.0, 4500.0, 6000.0, 8000.0, 10000.0, 12000.0)
#: Cruise heights of the altitude curve of a terrain-following scenario, above ground [m].
DEFAULT_SWEEP_AGL_M = (100.0, 300.0, 600.0, 1000.0, 2000.0, 3000.0, 4500.0, 6000.0)
#: Campaigns per point of the brief's altitude curve (capped by the run's own number): a 95% CI
#: half-width of at most 1.96 * sqrt(0.25 / (100 * flights)), e.g. 2.5 points at 15 flights.
DEFAULT_SWEEP_CAMPAIGNS = 100


def _point(sim, result):
    s = summarize(sim, result)
    return {"p_detect": s["p_detect"], "p_detect_ci95": s["p_detect_ci95"],
            "detected_per_campaign_mean": s["detected_per_campaign"]["mean"]}


def _run(scenario, campaigns, flights, seed, chunk_campaigns, terrain, cache, engine=None, exact=False):
    sim = prepare(scenario, terrain, cache, with_fences=False, exact=exact)
    return sim, run(sim, campaigns, flights, seed, chunk_campaigns, engine=engine)


def probe_metric_names(sim):
    """The metric names (:func:`sim.analysis.metrics.metric_names`) a run of a prepared simulation reports.

    Read from the summary of a one-flight run (milliseconds once prepared),
    so a mistyped metric is refused before the Monte Carlo starts.
    """
    return metric_names(summarize(sim, run(sim, campaigns=1, flights=1, keep_flights=False)))


def _metric_point(summary, metric):
    """A metric of a run's summary with its 95% interval (None when it has none), JSON-ready (NaN -> None)."""
    value = metric_value(summary, metric)
    ci = metric_interval(summary, metric)
    return {"metric": metric, "metric_value": None if np.isnan(value) else value,
            "metric_ci95": None if ci is None else list(ci)}


def sweep(scenario, key, values, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None,
          engine=None, exact=False, metric=DEFAULT_METRIC, cache=None, on_flights=None):
    """Run a scenario once per value of one key (same seed); return one dict per value.

    ``key`` is an override path such as ``aircraft.cruise_altitude_m`` or
    ``radar[Kirkuk PSR].availability``; ``metric`` a scalar of summary.json
    by its dotted path (``p_detect``, ``response.p_stopped``, see
    :mod:`sim.analysis.metrics`). Each point reports ``value``, ``metric``,
    ``metric_value``, ``metric_ci95`` (the summary's 95% interval of the
    metric, or None), and ``p_detect``, ``p_detect_ci95`` and
    ``detected_per_campaign_mean``; each equals what ``airpicture run --set
    KEY=VALUE`` reports. Every value is validated, and the metric checked on
    the first value's prepared simulation (:class:`~sim.analysis.metrics.MetricError`),
    before any run; terrain and every prepared part are shared between points
    (``cache``: a :class:`sim.prepcache.PrepCache`, default one of this call's own).
    ``exact`` as :func:`sim.montecarlo.prepare`. ``on_flights(n)`` is called as each chunk of ``n`` flights
    is done (as :func:`sim.montecarlo.run`'s ``progress``; the same in compare and sensitivity).
    """
    variants = [with_overrides(scenario, [override_text(key, v)]) for v in values]
    terrain, cache, points = None, cache if cache is not None else PrepCache(), []
    for i, (v, sc) in enumerate(zip(values, variants)):
        sim = prepare(sc, terrain, cache, exact=exact)       # with fences: the response and in-airspace figures
        terrain = terrain if terrain is not None else sim.terrain
        if i == 0:
            check_metric(metric, probe_metric_names(sim), f"{shown_source(scenario.path)}: --metric")
        s = summarize(sim, run(sim, campaigns, flights, seed, chunk_campaigns, engine=engine, keep_flights=False,
                               progress=on_flights))
        points.append({"value": v, **_metric_point(s, metric), "p_detect": s["p_detect"],
                       "p_detect_ci95": s["p_detect_ci95"],
                       "detected_per_campaign_mean": s["detected_per_campaign"]["mean"]})
        if progress is not None:
            progress(1)
    return points


def altitude_mode(scenario):
    """``"agl"`` when the scenario's most probable route follows the terrain, else ``"amsl"``."""
    main = max(scenario.routes, key=lambda r: r.weight)
    return "amsl" if cruise_level(main, scenario.aircraft)[1] is None else "agl"


def _scenario_level_m(scenario, mode):
    main = max(scenario.routes, key=lambda r: r.weight)
    amsl, agl = cruise_level(main, scenario.aircraft)
    return float(amsl if mode == "amsl" else agl)


def altitude_levels(scenario, values_m=None):
    """``(mode, levels_m)`` of the altitude curve: the values (default by mode) and the scenario's own level, sorted."""
    mode = altitude_mode(scenario)
    if values_m is None:
        values_m = DEFAULT_SWEEP_ALTITUDES_M if mode == "amsl" else DEFAULT_SWEEP_AGL_M
    return mode, sorted({float(v) for v in values_m} | {_scenario_level_m(scenario, mode)})


def altitude_sweep(scenario, values_m=None, *, campaigns=None, flights=None, seed=None, terrain=None,
                   progress=None, engine=None, cache=None):
    """P(detect) against the cruise level, in the scenario's altitude mode: one run per level, same seed.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
    values_m : sequence of float, optional
        Cruise levels [m]: above mean sea level, or above ground when the
        scenario follows the terrain (:func:`altitude_mode`). Default
        :data:`DEFAULT_SWEEP_ALTITUDES_M` or :data:`DEFAULT_SWEEP_AGL_M`.
        The scenario's own level is always added. Every route flies each
        level in turn (the routes' own levels are dropped).
    campaigns : int, optional
        Campaigns per point; default ``min(scenario campaigns, DEFAULT_SWEEP_CAMPAIGNS)``.
    flights, seed : int, optional
        Default: the scenario's.
    terrain : geo.terrain.Terrain, optional
        Reused when given (else loaded once when needed).
    progress : callable, optional
        ``progress(1)`` after each point.
    cache : sim.prepcache.PrepCache, optional
        Prepared parts shared with other runs (e.g. the brief's own run).

    Returns
    -------
    list of dict
        Per level, in increasing order: ``mode`` (``"amsl"``/``"agl"``),
        ``level_m``, ``cruise_altitude_m`` or ``cruise_altitude_agl_m``,
        ``flight_level`` (AMSL only), ``scenario_level`` (True for the
        scenario's own), ``below_ground_fraction`` (AMSL with terrain: the
        share of the nominal routes' samples below the ground, flagged
        because such a flight is not flyable as modelled; 0 above ground),
        ``p_detect``, ``p_detect_ci95``, ``detected_per_campaign_mean``,
        ``campaigns``, ``flights_per_campaign``, ``seed``.
    """
    mode, levels = altitude_levels(scenario, values_m)
    own = _scenario_level_m(scenario, mode)
    campaigns = min(scenario.run.campaigns, DEFAULT_SWEEP_CAMPAIGNS) if campaigns is None else int(campaigns)
    flights = scenario.run.flights if flights is None else int(flights)
    seed = scenario.run.seed if seed is None else int(seed)
    variants = [with_cruise_level(scenario, **({"altitude_m": v} if mode == "amsl" else {"agl_m": v}))
                for v in levels]
    if terrain is None and any(needs_terrain(sc) for sc in variants):
        terrain = load_terrain()
    cache, points = cache if cache is not None else PrepCache(), []
    for v, sc in zip(levels, variants):
        sim, result = _run(sc, campaigns, flights, seed, None, terrain, cache, engine)
        terrain = terrain if terrain is not None else sim.terrain
        level = {"cruise_altitude_m": v, "flight_level": round(v / FL_M, 1)} if mode == "amsl" else \
            {"cruise_altitude_agl_m": v}
        points.append({"mode": mode, "level_m": v, **level, "scenario_level": v == own,
                       "below_ground_fraction": _below_ground_fraction(sim) if mode == "amsl" else 0.0,
                       **_point(sim, result), "campaigns": campaigns, "flights_per_campaign": flights,
                       "seed": seed})
        if progress is not None:
            progress(1)
    return points


def _below_ground_fraction(sim):
    """Share of the nominal routes' grid samples below the ground (None without a terrain model)."""
    if sim.terrain is None:
        return None
    return round(below_ground_shares(sim.routes, sim.terrain)[1], 4)


def compare(scenarios, campaigns=None, flights=None, seed=None, engine=None, exact=False, metric=None, cache=None,
            on_flights=None):
    """Run several validated scenarios (same seed when given); return ``(sim, result, summary)`` per scenario.

    With ``metric`` (a dotted path of summary.json), every scenario must
    report it (:class:`~sim.analysis.metrics.MetricError` otherwise): a
    ``response.`` metric is checked against every scenario before any run,
    any metric against each scenario's prepared simulation before its run.
    ``cache`` (a :class:`sim.prepcache.PrepCache`) shares prepared parts between the scenarios.
    """
    cache = cache if cache is not None else PrepCache()
    if metric is not None and metric.split(".")[0] == "response":
        for sc in scenarios:
            if sc.response is None:
                raise MetricError(f"{shown_source(sc.path)}: --metric: no scalar {metric!r}: the scenario has no "
                                  "[response] and no [[interceptor]] (nothing to stop the flights)")
    out = []
    for sc in scenarios:
        sim = prepare(sc, cache=cache, exact=exact)
        if metric is not None:
            check_metric(metric, probe_metric_names(sim), f"{shown_source(sc.path)}: --metric")
        result = run(sim, campaigns, flights, seed, engine=engine, keep_flights=False, progress=on_flights)
        out.append((sim, result, summarize(sim, result)))
    return out


#: Campaigns per run of a sensitivity analysis unless given (15 flights each: 3,000 flights, a 95% half-width
#: of at most 1.8 points on P(detect) per run; the swings share their draws, so they are far sharper).
DEFAULT_SENSITIVITY_CAMPAIGNS = 200


def sensitivity(scenario, metric=DEFAULT_METRIC, campaigns=None, flights=None, seed=None, progress=None,
                engine=None, cache=None, on_flights=None, base_campaigns=None):
    """One-at-a-time low/high runs of every declared uncertain input, with common random numbers.

    Every run uses the same seed, so each flight meets the same draws in
    every run and a swing is the input's effect, not sampling noise; an
    input with no effect swings by exactly 0. Returns ``(base, rows)``: the
    metric of the scenario as it is (run with ``base_campaigns``, default
    ``campaigns``: what ``airpicture run --campaigns N`` reports), and per
    input ``key``, ``value`` (the scenario's own, see
    :func:`sensitivity_metrics`), ``low``, ``high``, ``metric_low``,
    ``metric_high``, ``swing`` (high minus low), ``effect_low`` and
    ``effect_high`` (each minus the base run on the low/high runs' own
    campaigns: the input's effect), ranked by the size of the swing. The
    metric is checked before the first run
    (:class:`~sim.analysis.metrics.MetricError`).
    """
    bases, rows = sensitivity_metrics(scenario, (metric,), campaigns, flights, seed, progress, engine, cache,
                                      on_flights, base_campaigns=base_campaigns)
    return bases[metric], rows[metric]


@dataclasses.dataclass(frozen=True)
class SensitivityRuns:
    """The runs of a sensitivity analysis (:func:`sensitivity_runs`), by metric.

    Attributes
    ----------
    base : dict
        The metric of the scenario as it is, at ``base_campaigns`` (the
        headline's precision: what ``airpicture run`` reports).
    base_ci95 : dict
        Its 95% interval (None where summary.json gives none).
    base_campaigns : int
    same_draws_base : dict
        The metric of the scenario as it is on the low/high runs' own
        ``campaigns`` (the same draws as theirs): the effects are measured
        from it. Equal to ``base`` when the campaigns are.
    same_draws_base_ci95 : dict
        Its 95% interval (None where summary.json gives none): about the
        precision of each low/high run.
    campaigns : int
        Campaigns of each low/high run.
    rows : dict
        Per metric, one dict per input (as :func:`sensitivity`), ranked.
    """

    base: dict
    base_ci95: dict
    base_campaigns: int
    same_draws_base: dict
    same_draws_base_ci95: dict
    campaigns: int
    rows: dict


def sensitivity_runs(scenario, metrics, campaigns=None, flights=None, seed=None, progress=None, engine=None,
                     cache=None, on_flights=None, base_campaigns=None, headline=None):
    """The low/high runs of every declared input and the base they are drawn against; a :class:`SensitivityRuns`.

    The low/high runs and a base run share ``campaigns`` (default
    :data:`DEFAULT_SENSITIVITY_CAMPAIGNS`) and the seed: each input's effect
    (``effect_low``, ``effect_high``: a run minus that base) is not noise.
    The base shown is the scenario as it is at ``base_campaigns`` (default
    ``campaigns``): a run of its own when more, or ``headline``, the
    summary.json of that very run when the caller has it (the brief's
    headline: no run). A tornado draws each bar as that base plus the effect
    (:func:`sim.products.charts.draw_tornado`), so that its base is the key
    number and a input with no effect has no bar.
    """
    metrics = tuple(metrics)
    campaigns = DEFAULT_SENSITIVITY_CAMPAIGNS if campaigns is None else int(campaigns)
    base_campaigns = campaigns if base_campaigns is None else int(base_campaigns)
    cache, terrain = cache if cache is not None else PrepCache(), None

    def summary_of(sc, n, check=False):
        nonlocal terrain
        sim = prepare(sc, terrain, cache)
        terrain = terrain if terrain is not None else sim.terrain
        if check:                     # a mistyped metric stops here, before the first Monte Carlo
            names = probe_metric_names(sim)
            for m in metrics:
                check_metric(m, names, f"{shown_source(scenario.path)}: --metric")
        s = summarize(sim, run(sim, n, flights, seed, engine=engine, keep_flights=False, progress=on_flights))
        if progress is not None:
            progress(1)
        return s

    def values(s):
        return {m: metric_value(s, m) for m in metrics}

    # the [uncertainty] ranges are checked here, where they are used, against the scenario as it is (what-if
    # overrides included), before any run: one that does not apply is a ScenarioError naming [uncertainty]
    variants = uncertainty_variants(scenario)
    same = summary_of(scenario, campaigns, check=True)
    if headline is not None:
        top = headline
    elif base_campaigns != campaigns:
        top = summary_of(scenario, base_campaigns)
    else:
        top = same
    ci = lambda s: {m: None if metric_interval(s, m) is None else list(metric_interval(s, m)) for m in metrics}  # noqa: E731
    base, same_base = values(top), values(same)
    rows = {m: [] for m in metrics}
    for key, lo, hi, sc_lo, sc_hi in variants:
        at_lo, at_hi = values(summary_of(sc_lo, campaigns)), values(summary_of(sc_hi, campaigns))
        own = _input_value(scenario, key)
        for m in metrics:
            rows[m].append({"key": key, "value": own, "low": lo, "high": hi, "metric_low": at_lo[m],
                            "metric_high": at_hi[m], "swing": round(at_hi[m] - at_lo[m], 6),
                            "effect_low": round(at_lo[m] - same_base[m], 6),
                            "effect_high": round(at_hi[m] - same_base[m], 6)})
    for m in metrics:      # largest swing first; a swing the runs left undefined (NaN) last
        rows[m].sort(key=lambda r: -abs(r["swing"]) if r["swing"] == r["swing"] else 1.0)
    return SensitivityRuns(base=base, base_ci95=ci(top), base_campaigns=base_campaigns, same_draws_base=same_base,
                           same_draws_base_ci95=ci(same), campaigns=campaigns, rows=rows)


def _input_value(scenario, key):
    """The scenario's own value of an uncertain input as written (``60 range_nm`` in another unit; None: default)."""
    found = override_key_value(scenario, key)
    if found is None:
        return None
    spelling, value = found
    return value if spelling == key.rsplit(".", 1)[-1] else f"{value} ({spelling})"


def applicable_inputs(scenario):
    """The declared inputs whose ranges apply to the scenario as it is (a what-if's), and those that do not.

    Returns ``(kept, left_out)``: ``kept`` as
    :func:`~sim.scenario.uncertainty_variants` with ``applicable_only``
    gives it (the brief's tornado varies these), ``left_out`` one
    ``(key, why)`` per other input, in the file's order, ``why`` the message
    ``airpicture sensitivity`` gives for it (so that nothing is left out
    silently).
    """
    kept = uncertainty_variants(scenario, applicable_only=True)
    varied = {v[0] for v in kept}
    left_out = []
    for entry in scenario.uncertainty:
        if entry[0] in varied:
            continue
        try:
            uncertainty_variants(dataclasses.replace(scenario, uncertainty=(entry,)))
            why = "its range does not apply to this scenario"     # not reached: it applies alone iff kept
        except ScenarioError as e:
            why = e.message
        left_out.append((entry[0], why))
    return kept, tuple(left_out)


def sensitivity_metrics(scenario, metrics, campaigns=None, flights=None, seed=None, progress=None, engine=None,
                        cache=None, on_flights=None, base_campaigns=None, headline=None):
    """:func:`sensitivity` of several metrics from the same runs: ``(bases, rows)``, dicts by metric.

    One run per input value serves every metric (the brief's tornadoes of
    P(detect) and P(stopped) cost the runs of one). Each row also carries
    ``value``, the input's value in the scenario as written (a text naming
    the spelling when the file writes it in another unit, None when the
    file leaves it at its default). ``cache``: a :class:`sim.prepcache.PrepCache` for the prepared parts
    (an input that changes only draws or the response prepares nothing). ``base_campaigns`` and
    ``headline``: the base's precision, as :func:`sensitivity_runs` (which returns the rest too).
    """
    r = sensitivity_runs(scenario, metrics, campaigns, flights, seed, progress, engine, cache, on_flights,
                         base_campaigns=base_campaigns, headline=headline)
    return r.base, r.rows
