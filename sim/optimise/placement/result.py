"""What a placement returns (:class:`PlaceResult`): the candidates, the greedy steps, the layouts, the flyer's
routes, the Monte Carlo re-scores, the phases each column averages over, and how long each part took."""
from dataclasses import dataclass, field

import numpy as np

from sim.optimise.placement.columns import LOOP_PHASES, PHASES
from sim.optimise.placement.rescore import Rescore

__all__ = ["PlaceResult"]


@dataclass(frozen=True)
class PlaceResult:
    """Everything ``airpicture place`` found: the candidates, the greedy steps, the layouts, the flyer's
    routes, the Monte Carlo re-scores, the phases each candidate's P per flight averages over (``scan_phases``,
    and an orbit's ``loop_phases``: what the products state), and how long each part took."""

    scenario: object
    like: str
    add: int
    objective: str
    against: str
    candidates: tuple
    candidate_source: str           # "grid of 25 km" or the CSV path
    tables: tuple = field(repr=False)   # each candidate's [[radar]] table
    evaluated: np.ndarray | None = field(repr=False, default=None)  # bool per candidate: its column was computed
    singleton: np.ndarray | None = field(repr=False, default=None)  # gain of each candidate alone (a bound where not
    #                                                          evaluated), against the fixed flyer
    singleton_exact: np.ndarray | None = field(repr=False, default=None)  # bool: singleton is exact (computed, or 0)
    base_value: float = 0.0         # the objective without new radars (selection sample)
    steps: tuple = ()               # GreedyStep per pick (against the fixed flyer)
    bounds: np.ndarray | None = None
    fixed_layout: tuple = ()        # candidate indices of the fixed flyer's layout
    layout: tuple = ()              # the layout reported (the robust one against the adaptive flyer)
    rounds: tuple = ()              # PlaceRound per round (adaptive)
    flyer_routes: tuple = ()        # every FlyerRoute found
    best_response: str | None = None   # the route of the set the flyer answers the final layout with
    robust_sample: float | None = None  # min over every route found of F_r(layout), selection sample
    robust_bound: float | None = None   # no layout of K does better than this against every route found (sample)
    rescore_prefix: tuple = ()      # Rescore of the fixed flyer's layouts of 0..K radars
    rescore_layout: Rescore | None = None        # the reported layout
    rescore_fixed: Rescore | None = None         # the fixed flyer's layout (adaptive: for comparison)
    rescore_flyer: dict = field(default_factory=dict)   # (layout label, flyer name) -> Rescore
    select_seed: int = 0
    select_campaigns: int = 0
    select_flights: int = 0
    select_flights_total: int = 0
    campaigns: int = 0
    flights: int = 0
    seed: int = 0
    max_extra_km: float | None = None
    levels: tuple | None = None     # the adaptive flyer's levels (sim.optimise.route.Level)
    flyer_budgets_km: tuple = ()    # the adaptive flyer's budgets [km]
    flyer_spread_m: float | None = None   # the sideways spread its routes are searched and flown with [m]
    converged: bool | None = None   # the flyer's last answer did not beat the set (None: against the fixed flyer)
    scan_phases: int = PHASES       # scan phases each candidate's P per flight averages (the products say so)
    loop_phases: int = LOOP_PHASES  # an orbit candidate's loop phases, each times the scan phases
    timings_s: dict = field(default_factory=dict)
    notes: tuple = ()

    def site(self, j):
        return self.candidates[j]

    def robust_value(self, which="layout"):
        """The Monte Carlo value of a layout against the adaptive flyer: the least, over the scenario's routes
        (from the layout's own run) and the flyer's routes (runs of their own), of the objective per flight;
        ``(value, route name)``. ``which``: "layout" (the reported one), "fixed" (the greedy one) or "today"
        (today's radars, none added). None against the fixed flyer."""
        rs = {"layout": self.rescore_layout, "fixed": self.rescore_fixed,
              "today": self.rescore_prefix[0] if self.rescore_prefix else None}[which]
        if rs is None or not self.flyer_routes:
            return None
        vals = [(v[0], name) for name, v in rs.route_values.items()]
        vals += [(r.value, fname) for (lab, fname), r in self.rescore_flyer.items() if lab == which]
        return min(vals)
