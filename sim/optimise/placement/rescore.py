"""Layouts as scenarios, and their re-score: the scenario's document with the layout's radars added
(:func:`placed_doc`), run through the full Monte Carlo with the re-score's seed (:class:`Rescore`), so the
file written gives the same numbers under ``airpicture run``."""
import copy
from dataclasses import dataclass, field

import numpy as np

from sim.montecarlo import prepare, run
from sim.response import OUTCOMES, STOPPED
from sim.results import summarize, wilson_interval
from sim.scenario import parse_scenario

__all__ = ["placed_doc", "Rescore"]


# --- scenarios of layouts -----------------------------------------------------------------------------
def placed_doc(scenario, tables, like, campaigns, flights, seed, name=None, title=None, description=None):
    """A copy of the scenario's document with the candidates' radar tables added and its ``[run]`` set to
    the re-score's campaigns, flights and seed (so ``airpicture run`` on it gives the re-score's numbers)."""
    doc = copy.deepcopy(scenario.raw)
    doc["radar"] = [*copy.deepcopy(doc.get("radar", [])), *copy.deepcopy(list(tables))]
    sc = doc.setdefault("scenario", {})
    k = len(tables)
    sc["name"] = name or f"{scenario.info.name}-placed-{k}"
    t = title or f"{scenario.info.title}, plus {k} more {like} radar{'s' if k != 1 else ''} (placed)"
    sc["title"] = t if len(t) <= 200 else t[:197] + "..."
    if description:
        sc["description"] = description
    r = doc.setdefault("run", {})
    r["campaigns"], r["flights"], r["seed"] = int(campaigns), int(flights), int(seed)
    return doc


def _with_radars(doc, radars):
    d = copy.deepcopy(doc)
    d["radar"] = copy.deepcopy(list(radars))
    return d


@dataclass(frozen=True)
class Rescore:
    """A layout's full Monte Carlo run: the summary (summary.json) and the objective per route."""

    label: str
    doc: dict = field(repr=False)
    summary: dict = field(repr=False)
    value: float                    # the objective per flight over the run
    ci95: tuple
    route_values: dict              # route name -> (value, flights, (ci low, ci high))
    sim: object = field(repr=False, default=None)

    @property
    def worst_route(self):
        name = min(self.route_values, key=lambda r: (self.route_values[r][0], r))
        return name, self.route_values[name][0]


def _metric(result, objective):
    if objective == "detect":
        return result.detected
    if objective == "track-in-airspace":
        return result.detected_in_airspace
    code = {name: i for i, name in enumerate(OUTCOMES)}
    return np.isin(result.outcome, [code[s] for s in STOPPED])


def _summary_value(summary, objective):
    if objective == "detect":
        return summary["p_detect"], tuple(summary["p_detect_ci95"])
    if objective == "stopped":
        r = summary["response"]
        return r["p_stopped"], tuple(r["p_stopped_ci95"])
    return summary["p_detect_in_airspace"], None


def _rescore(label, doc, objective, terrain, cache, source, keep_sim=False):
    sc = parse_scenario(doc, source=source)
    sim = prepare(sc, terrain, cache)
    res = run(sim, keep_flights=True)
    summary = summarize(sim, res)
    hit = _metric(res, objective)
    n = len(hit)
    value, ci = _summary_value(summary, objective)
    if ci is None:
        ci = tuple(round(x, 6) for x in wilson_interval(int(hit.sum()), n))
    routes = {}
    for i, r in enumerate(sim.routes):
        sel = res.batch.route_index == i
        k = int(hit[sel].sum())
        ni = int(sel.sum())
        routes[r.name] = (k / ni if ni else float("nan"), ni, wilson_interval(k, ni))
    return Rescore(label, doc, summary, float(value), tuple(ci), routes, sim if keep_sim else None)
