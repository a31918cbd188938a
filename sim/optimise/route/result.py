"""What the route search returns: each route of the front with the search's and the Monte Carlo's figures
(:class:`EvadeRoute`), and the front of one call (:class:`EvadeResult`)."""
from dataclasses import dataclass, field

import numpy as np

from sim.optimise.route.graph import ConstrainedPath
from sim.optimise.route.grid import SearchGrid
from sim.optimise.route.inputs import Level, _Place

__all__ = ["EvadeRoute", "EvadeResult"]


@dataclass(frozen=True)
class EvadeRoute:
    """One route of the front (or the direct reference), with the search's and the simulator's numbers.

    The headline is the route **as it will be flown**: ``summary`` is the Monte
    Carlo summary (summary.json) of the route's scenario, flown with the
    sideways spread ``spread_m`` (the scenario's, or ``--spread-km``), each
    radar's availability and outages and the transponder state searched;
    ``p_detect`` and ``p_stopped`` are its figures, and ``doc`` (the scenario
    written for the route) flies it so. ``summary_planned`` is the same route
    flown exactly on its line (no spread): the secondary figure.

    The search's own numbers: ``p_search`` its P(detect) as flown
    (:func:`p_flown`: the route's per-radar exposures at offsets standing for
    the spread, radars combined through their availability); ``p_grid``
    ``1 - exp(-cost)`` of the route's legs on the expected hazard field, as
    planned; ``p_surrogate`` the same hazard evaluated exactly along the
    planned track (every second, climb and descent included, no grid);
    ``p_surrogate_outages`` that with each radar's availability drawn once per
    flight; ``p_lower`` the Lagrangian lower bound of the grid problem it came
    from (``1 - exp(-lower_bound)``). ``flight_time_s`` and ``fuel_kg`` are the
    planned track's (fuel None where the aircraft model has no fuel flow).
    """

    label: str
    budget_m: float | None            # None: the direct route (reference)
    level: Level
    transponder_on: bool
    lat_deg: np.ndarray               # waypoints, endpoints included
    lon_deg: np.ndarray
    length_m: float
    extra_m: float                    # over the geodesic between the endpoints
    cost_grid: float                  # hazard integral of the route's legs on the expected field
    search: ConstrainedPath | None    # the grid search behind it (None: the direct route)
    method: str                       # how the search found it ("direct", "Lagrangian", ...)
    p_surrogate: float
    p_surrogate_outages: float
    doc: dict = field(repr=False)     # its scenario document (flown with the spread)
    summary: dict | None = field(repr=False, default=None)          # the Monte Carlo as flown (the headline)
    track: object = field(repr=False, default=None)           # the sim.routes.RouteTrack the Monte Carlo flew
    summary_planned: dict | None = field(repr=False, default=None)   # the same route flown exactly as planned
    spread_m: float = 0.0                                     # the sideways spread flown [m]
    p_search: float = float("nan")                            # the search's P(detect) as flown
    flight_time_s: float = float("nan")
    fuel_kg: float | None = None

    @property
    def p_grid(self):
        return float(-np.expm1(-self.cost_grid))

    @property
    def p_lower(self):
        return None if self.search is None else float(-np.expm1(-self.search.lower_bound))

    @property
    def p_detect(self):
        """P(detect) as flown (the headline)."""
        return self.summary["p_detect"]

    @property
    def p_stopped(self):
        """P(stopped) as flown (None without a response model)."""
        return _response_figure(self.summary, "p_stopped")

    @property
    def p_detect_planned(self):
        """P(detect) of the route flown exactly on its line (the secondary figure)."""
        return self.summary_planned["p_detect"]

    @property
    def p_stopped_planned(self):
        return _response_figure(self.summary_planned, "p_stopped")

    def same_route(self, other):
        """Whether ``other`` flies the same route (level, transponder state, waypoints)."""
        return (self.level == other.level and self.transponder_on == other.transponder_on
                and np.array_equal(self.lat_deg, other.lat_deg) and np.array_equal(self.lon_deg, other.lon_deg))

    def row(self):
        """A flat, JSON-ready record (front.csv and front.json): the as-flown figures first."""
        s, sr = self.summary, self.search
        ci = _response_figure(s, "p_stopped_ci95") or (None, None)
        return {
            "point": self.label, "budget_km": None if self.budget_m is None else round(self.budget_m / 1000.0, 3),
            "level": self.level.label, "transponder": "on" if self.transponder_on else "off",
            "length_km": round(self.length_m / 1000.0, 3), "extra_km": round(self.extra_m / 1000.0, 3),
            "flight_time_min": round(self.flight_time_s / 60.0, 2),
            "fuel_t": None if self.fuel_kg is None else round(self.fuel_kg / 1000.0, 3),
            "waypoints": len(self.lat_deg), "spread_km": round(self.spread_m / 1000.0, 3),
            "p_detect": s["p_detect"], "p_detect_ci95_low": s["p_detect_ci95"][0],
            "p_detect_ci95_high": s["p_detect_ci95"][1],
            "p_stopped": self.p_stopped, "p_stopped_ci95_low": ci[0], "p_stopped_ci95_high": ci[1],
            "p_detect_planned_track": self.p_detect_planned, "p_stopped_planned_track": self.p_stopped_planned,
            "p_search_as_flown": None if not np.isfinite(self.p_search) else round(self.p_search, 6),
            "p_surrogate_grid": round(self.p_grid, 6), "p_surrogate": round(self.p_surrogate, 6),
            "p_surrogate_outages": round(self.p_surrogate_outages, 6),
            "p_lagrangian_lower": None if sr is None else round(self.p_lower, 6),
            "p_grid_path": None if sr is None else round(float(-np.expm1(-sr.cost)), 6),
            "duality_gap": None if sr is None else round(sr.gap, 6),
            "mu_per_km": None if sr is None else float(f"{sr.mu_per_m * 1000.0:.6g}"),
            "dijkstra_runs": None if sr is None else sr.evaluations, "method": self.method,
            "grid_budget_km": None if sr is None else round(sr.budget_m / 1000.0, 3),
            "scenario_file": None,
        }


def _response_figure(summary, key):
    """A figure of a summary's response (``p_stopped``, ``p_stopped_ci95``); None without a response model."""
    r = summary.get("response")
    return None if r is None else r[key]


@dataclass(frozen=True)
class EvadeResult:
    """The front of one call: the direct route and a route per budget, per transponder state searched."""

    scenario: object
    origin: _Place
    dest: _Place
    levels: tuple
    transponder_states: tuple
    budgets_m: tuple
    avoid: tuple
    grid: SearchGrid
    fields: dict                   # (level, transponder_on) -> hazard field (ny, nx) [1/s]
    direct: dict                   # transponder_on -> EvadeRoute of the direct route (the reference)
    front: dict                    # transponder_on -> tuple of EvadeRoute, one per budget (increasing)
    great_circle_m: float
    speed_mps: float
    campaigns: int
    flights: int
    seed: int
    timings_s: dict
    notes: tuple = ()
    radars: tuple = ()             # the sim.detection.RadarModel of each radar
    spread_m: float = 0.0          # the sideways spread every route is flown with [m]
    objective: str = "p_detect"    # what the front minimises as flown: "p_detect" or "p_stopped"
    speeds_mps: dict = field(default_factory=dict)   # Level -> the speed its routes cruise at [m/s]

    def routes(self):
        """Every route: for each transponder state, the direct route and then the front."""
        return [r for t in self.transponder_states for r in (self.direct[t], *self.front[t])]

    def points(self, transponder_on):
        """The front as distinct routes: ``[(route, budgets_m), ...]``, each route once with every budget it
        answers (increasing), in order of the extra distance flown."""
        out = []
        for r in self.front[transponder_on]:
            if out and out[-1][0].same_route(r):
                out[-1] = (out[-1][0], (*out[-1][1], r.budget_m))
            else:
                out.append((r, (r.budget_m,)))
        return out
