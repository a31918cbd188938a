"""The selection sample: a fixed sample of flights run through the Monte Carlo with the existing radars, and
per flight what it already counts for and what a new radar could gain it, by objective."""
import dataclasses
from dataclasses import dataclass

import numpy as np

from sim.flights import OFFSET_CLIP_SIGMA, OFFSET_STEP_M, nearest_row, offset_rows, pack_routes
from sim.montecarlo import prepare, run
from sim.response import OUTCOMES, STOPPED

__all__ = ["FlightSet", "objective_state", "OBJECTIVES"]

#: What a layout is scored on, by name: a flight detected (tracked by any radar), tracked while in the
#: airspace, or stopped (the scenario's response).
OBJECTIVES = ("detect", "track-in-airspace", "stopped")


@dataclass(frozen=True)
class FlightSet:
    """A fixed sample of flights of one scenario (its existing radars) and what each can gain.

    Arrays shape (N,); ``base`` is 1 for a flight that already counts, ``scale`` what a flight gains when
    a new radar makes it count (0: nothing to gain).
    """

    label: str
    scenario: object
    sim: object
    seed: int
    campaigns: int
    flights: int
    route_index: np.ndarray
    cross_track_m: np.ndarray
    transponder_on: np.ndarray
    base: np.ndarray
    scale: np.ndarray
    offset_step_m: float = OFFSET_STEP_M    # the sideways offsets its columns are computed on, this far apart

    @property
    def n(self):
        return len(self.base)

    def route_rows(self, i):
        """The flights of route ``i``."""
        return np.flatnonzero(self.route_index == i)


def objective_state(sim, result, objective):
    """``(base, scale)`` per flight of a run with per-flight arrays, for an objective of :data:`OBJECTIVES`.

    detect: base = detected; track-in-airspace: base = held in track while in the airspace; stopped:
    base = stopped; a flight whose crew refused a feasible order (or its escort), or that the state held in
    time and did not act on (``no_order``: its will draw is the same with a better track), gains nothing, one
    not tracked in time gains the order's compliance times the state's will. ``scale = 1 - base`` otherwise.
    """
    if objective == "detect":
        base = result.detected.astype(float)
        return base, 1.0 - base
    if objective == "track-in-airspace":
        base = result.detected_in_airspace.astype(float)
        return base, 1.0 - base
    code = {name: i for i, name in enumerate(OUTCOMES)}
    out = result.outcome
    base = np.isin(out, [code[s] for s in STOPPED]).astype(float)
    refused = np.isin(out, [code["order_refused"], code["escort_refused"], code["no_order"]])
    resp = sim.scenario.response
    scale = np.where((base > 0) | refused, 0.0, resp.compliance * resp.will)
    return base, scale


def _flight_set(label, scenario, objective, campaigns, flights, seed, terrain, cache, offset_step_m=OFFSET_STEP_M):
    sim = prepare(scenario, terrain, cache, with_fences=objective != "detect" or scenario.response is not None)
    res = run(sim, campaigns, flights, seed, keep_flights=True)
    base, scale = objective_state(sim, res, objective)
    sim = dataclasses.replace(sim, tables=())      # the existing radars' tables: the run's, no column reads them
    if offset_step_m != OFFSET_STEP_M:
        sim = _on_offsets(sim, offset_step_m)
    b = res.batch
    return FlightSet(label, scenario, sim, int(seed), int(campaigns), int(flights), b.route_index, b.cross_track_m,
                     b.transponder_on, base, scale, float(offset_step_m))


def _on_offsets(sim, step_m):
    """A simulation whose terrain-following routes keep their altitude rows only at the sideways offsets
    ``step_m`` apart that the columns read (:func:`sim.flights.offset_rows`; each the row the full table gives
    for that offset): the same positions there, a fraction of the memory."""
    routes = []
    for r in sim.routes:
        if r.alt_rows_m is not None:
            grid = offset_rows(r.cross_track_sigma_m, OFFSET_CLIP_SIGMA, step_m)
            rows = nearest_row(r.row_offsets_m, grid)
            r = dataclasses.replace(r, alt_m=np.array(r.alt_m), row_offsets_m=grid, alt_rows_m=r.alt_rows_m[rows])
        routes.append(r)
    return dataclasses.replace(sim, routes=tuple(routes), packed=pack_routes(routes))
