"""The least-detectable route: a red-team planner's best answer to a scenario's radars.

A flyer who knows where the radars are does not fly the great circle. This
package finds, for a set of extra-distance budgets, the route between two
airports that minimises the chance of being detected, then runs every route
found through the full Monte Carlo (m-of-n track rule, outages, response).

Method (``docs/evade.md`` gives the assumptions and the error bounds):

1. **Hazard field.** Each radar's per-scan detection probability ``Pd`` at a
   point becomes a detection hazard per second of flight,
   ``-ln(1 - Pd) / scan_period`` where the point is in the radar's coverage
   (line of sight over the 4/3 Earth and the terrain masking tables, range),
   0 elsewhere. The field is the sum over radars of that hazard times the
   radar's availability (its expectation; outages are shared across scans, so
   this is the mean hazard, not the hazard of a mean flight). It is computed
   by :func:`sim.detection.in_coverage` and :func:`sim.detection.scan_pd` (the
   simulator's own functions, no second line-of-sight code) at the centres of
   an equal-area grid (the scenario's Lambert azimuthal equal-area
   projection), at one flight level: a cruise altitude above mean sea level,
   or terrain following at a height above the highest ground near the cell.
2. **Graph.** Each allowed cell is a node with 16 neighbours (the 8 king
   moves and the 8 knight moves); an edge's cost is the integral of the
   hazard over its flight time at the aircraft's cruise speed (trapezoid rule
   on the cell values and the bilinear value at the edge's middle), so
   ``P(detected at least once) = 1 - exp(-sum of costs)``.
3. **Budget.** Minimise cost subject to length <= budget by Lagrangian
   relaxation: Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`) on
   ``cost + mu * length``, bisection on the price of length ``mu``; every
   ``mu`` gives a lower bound on the constrained optimum (the dual), the best
   path within the budget an upper bound: their difference is the reported
   duality gap.
4. **Smoothing.** The grid path is string-pulled (a shortcut is taken when
   its hazard is no larger than the path's it replaces and it crosses no
   forbidden cell), its length measured geodesically (WGS84, ``pyproj.Geod``)
   and, when it exceeds the budget, the search's budget is tightened and the
   search repeated.
5. **Front.** Budgets are searched in increasing order and each point keeps
   the best route of any smaller budget (and the direct route), so P(detect)
   never rises with the budget. The direct route (the geodesic between the
   airports) on the same field is the reference point, and the zero-budget
   point.
6. **Re-score.** Each route becomes a scenario ``[[route]]`` (its waypoints,
   flown as planned: no sideways spread) in a copy of the scenario, which is
   validated and run through :func:`sim.montecarlo.run` with the scenario's
   seed: the Monte Carlo P(detect) with its 95% interval and P(stopped) stand
   beside the search's surrogate. The same route flown with the scenario's
   sideways spread (its most probable route's ``cross_track_sigma``) is run
   too: a route that grazes the coverage as planned is seen when flown a few
   km off it.

Modules, in the order of the method: :mod:`~sim.optimise.route.inputs` (levels,
budgets, forbidden airspaces, endpoints), :mod:`~sim.optimise.route.grid` (the
search grid), :mod:`~sim.optimise.route.hazard` (1: the hazard field, and a
route's P(detect) as flown), :mod:`~sim.optimise.route.graph` (2-3: the graph and
the Lagrangian search), :mod:`~sim.optimise.route.smooth` (4: string pull,
shortcuts, routes with one turn, polish), :mod:`~sim.optimise.route.search`
(one level's candidates), :mod:`~sim.optimise.route.driver` (5-6: :func:`evade`,
the front and its re-score) and :mod:`~sim.optimise.route.result` (what it
returns). Every public name is importable from this package.

References
----------
M. Zabarankin, S. Uryasev, R. Murphey, "Aircraft routing under the risk of
detection", Naval Research Logistics 53(8), 728-747 (2006).
W. M. Carlyle, J. O. Royset, R. K. Wood, "Routing military aircraft with a
constrained shortest-path algorithm", Military Operations Research 14(3),
61-77 (2009).
P. Bose et al., "On the approximation of shortest paths on grids",
arXiv:2404.07562 (2024).
"""
from sim.optimise.route.driver import (OBJECTIVES, RESCORE_CANDIDATES, RESCORE_MARGIN, SPREAD_MAX_M, evade,
                                       route_scenario_doc)
from sim.optimise.route.graph import MOVES_16, ConstrainedPath, GridGraph, LagrangianSearch, grid_graph
from sim.optimise.route.grid import (AVOID_BUFFER_CELLS, DEFAULT_SPACING_M, MAX_CELLS, SearchGrid, route_length_m,
                                     search_grid)
from sim.optimise.route.hazard import (FLOWN_OFFSETS, ORBIT_PHASES, ORBIT_SPACING_M, PD_MAX, flown_exposures,
                                       flown_field, hazard_field, hazard_rate_per_s, level_altitude_m, offset_quantiles,
                                       orbit_phases, p_flown, radar_fields, route_hazards, scan_hazard_per_s)
from sim.optimise.route.inputs import (DEFAULT_LOW_AGL_M, Level, level_speed_mps, parse_avoid, parse_budgets_km,
                                       parse_levels)
from sim.optimise.route.result import EvadeResult, EvadeRoute
from sim.optimise.route.search import FREE_RADARS_MAX, level_candidates
from sim.optimise.route.smooth import (GRID_EXCESS, WAYPOINT_SPACING_M, one_turn_routes, polish, route_cost, shortcut,
                                       shortcuts, string_pull)

__all__ = [
    "Level",
    "SearchGrid",
    "GridGraph",
    "LagrangianSearch",
    "ConstrainedPath",
    "EvadeRoute",
    "EvadeResult",
    "evade",
    "parse_levels",
    "parse_budgets_km",
    "parse_avoid",
    "scan_hazard_per_s",
    "hazard_rate_per_s",
    "search_grid",
    "hazard_field",
    "radar_fields",
    "offset_quantiles",
    "flown_exposures",
    "flown_field",
    "p_flown",
    "FLOWN_OFFSETS",
    "grid_graph",
    "string_pull",
    "shortcuts",
    "shortcut",
    "route_cost",
    "route_hazards",
    "route_scenario_doc",
    "MOVES_16",
    "DEFAULT_SPACING_M",
    "DEFAULT_LOW_AGL_M",
    "ORBIT_PHASES",
    "ORBIT_SPACING_M",
    "orbit_phases",
    "level_speed_mps",
    "AVOID_BUFFER_CELLS",
    "MAX_CELLS",
    "route_length_m",
    "PD_MAX",
    "level_altitude_m",
    "GRID_EXCESS",
    "WAYPOINT_SPACING_M",
    "one_turn_routes",
    "polish",
    "FREE_RADARS_MAX",
    "level_candidates",
    "OBJECTIVES",
    "RESCORE_CANDIDATES",
    "RESCORE_MARGIN",
    "SPREAD_MAX_M",
]
