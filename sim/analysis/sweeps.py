"""Sweeps and comparisons: the same question asked of variants of a scenario (same seed).

A sweep varies one scenario key through the override syntax of
:mod:`sim.scenario` (the one place that knows the keys' spellings); the
altitude curve varies the cruise level in the altitude mode the scenario
itself uses (above mean sea level, or above ground for terrain following).
Every point is a full run of the core on a validated scenario, with common
random numbers (the same seed), so differences between points are not
sampling noise of independent runs.
"""
import numpy as np

from geo.terrain import load_terrain
from geo.units import FL_M
from sim.montecarlo import needs_terrain, prepare, run
from sim.results import summarize
from sim.routes import below_ground_fraction, cruise_level
from sim.scenario import override_text, with_cruise_level, with_overrides

__all__ = ["sweep", "altitude_sweep", "altitude_levels", "altitude_mode", "compare", "sensitivity", "metric_value",
           "DEFAULT_SENSITIVITY_CAMPAIGNS", "DEFAULT_SWEEP_ALTITUDES_M",
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


def _run(scenario, campaigns, flights, seed, chunk_campaigns, terrain, masking_cache, engine=None, exact=False):
    sim = prepare(scenario, terrain, masking_cache, with_fences=False, exact=exact)
    return sim, run(sim, campaigns, flights, seed, chunk_campaigns, engine=engine)


def sweep(scenario, key, values, campaigns=None, flights=None, seed=None, chunk_campaigns=None, progress=None,
          engine=None, exact=False):
    """Run a scenario once per value of one key (same seed); return one dict per value.

    ``key`` is an override path such as ``aircraft.cruise_altitude_m`` or
    ``radar[Kirkuk PSR].availability``. Each point reports ``value``,
    ``p_detect``, ``p_detect_ci95`` and ``detected_per_campaign_mean``.
    Every value is validated before any run; terrain and masking tables are
    shared between points. ``exact`` as :func:`sim.montecarlo.prepare`.
    """
    variants = [with_overrides(scenario, [override_text(key, v)]) for v in values]
    terrain, cache, points = None, {}, []
    for v, sc in zip(values, variants):
        sim, result = _run(sc, campaigns, flights, seed, chunk_campaigns, terrain, cache, engine, exact)
        terrain = terrain if terrain is not None else sim.terrain
        points.append({"value": v, **_point(sim, result)})
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
                   progress=None, engine=None):
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
    cache, points = {}, []
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
    n = np.array([len(r.t_s) for r in sim.routes])
    share = np.array([below_ground_fraction(r, sim.terrain) for r in sim.routes])
    return round(float(np.sum(share * n) / n.sum()), 4)


def compare(scenarios, campaigns=None, flights=None, seed=None, engine=None, exact=False):
    """Run several validated scenarios (same seed when given); return ``(sim, result, summary)`` per scenario."""
    out = []
    for sc in scenarios:
        sim = prepare(sc, exact=exact)
        result = run(sim, campaigns, flights, seed, engine=engine, keep_flights=False)
        out.append((sim, result, summarize(sim, result)))
    return out


#: Campaigns per run of a sensitivity analysis unless given (15 flights each: 3,000 flights, a 95% half-width
#: of at most 1.8 points on P(detect) per run; the swings share their draws, so they are far sharper).
DEFAULT_SENSITIVITY_CAMPAIGNS = 200


def metric_value(summary, metric):
    """A scalar of a summary by its dotted path (``p_detect``, ``detected_per_campaign.mean``)."""
    value = summary
    for part in metric.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"no scalar {metric!r} in the summary")
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KeyError(f"{metric!r} is not a scalar of the summary")
    return float(value)


def sensitivity(scenario, metric="p_detect", campaigns=None, flights=None, seed=None, progress=None, engine=None):
    """One-at-a-time low/high runs of every declared uncertain input, with common random numbers.

    Every run uses the same seed, so each flight meets the same draws in
    every run and a swing is the input's effect, not sampling noise; an
    input with no effect swings by exactly 0. Returns ``(base, rows)``: the
    metric of the scenario as it is, and per input ``key``, ``low``,
    ``high``, ``metric_low``, ``metric_high``, ``swing`` (high minus low),
    ranked by the size of the swing.
    """
    campaigns = DEFAULT_SENSITIVITY_CAMPAIGNS if campaigns is None else int(campaigns)
    variants = [(key, lo, hi, with_overrides(scenario, [override_text(key, lo)]),
                 with_overrides(scenario, [override_text(key, hi)])) for key, lo, hi in scenario.uncertainty]
    cache, terrain = {}, None

    def value(sc):
        nonlocal terrain
        sim = prepare(sc, terrain, cache)
        terrain = terrain if terrain is not None else sim.terrain
        out = metric_value(summarize(sim, run(sim, campaigns, flights, seed, engine=engine, keep_flights=False)),
                           metric)
        if progress is not None:
            progress(1)
        return out

    base = value(scenario)
    rows = []
    for key, lo, hi, sc_lo, sc_hi in variants:
        m_lo, m_hi = value(sc_lo), value(sc_hi)
        rows.append({"key": key, "low": lo, "high": hi, "metric_low": m_lo, "metric_high": m_hi,
                     "swing": round(m_hi - m_lo, 6)})
    rows.sort(key=lambda r: -abs(r["swing"]))
    return base, rows
