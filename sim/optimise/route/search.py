"""One level's routes: for each budget, the grid search (Lagrangian, then shortcuts across the gap), routes
with one turn, the searches that cross a radar freely, and the polish, each route scored by the search's
P(detect) as flown; the candidates of the front (:mod:`sim.optimise.route.driver` chooses among them)."""
from dataclasses import dataclass

import numpy as np

from sim.optimise.route.graph import GAP_ABS, LagrangianSearch, grid_graph
from sim.optimise.route.grid import route_length_m
from sim.optimise.route.hazard import flown_exposures, flown_field, p_flown
from sim.optimise.route.inputs import Level
from sim.optimise.route.smooth import (GRID_EXCESS, _lazy_shortcuts, _thin, one_turn_routes, polish, route_cost,
                                       shortcut, string_pull)
from sim.scenario import ROUTE_WAYPOINTS_MAX

__all__ = ["level_candidates", "FREE_RADARS_MAX"]

#: Most radars whose crossing the search prices at its saturation, one search each (:func:`~sim.optimise.route.driver.evade`).
FREE_RADARS_MAX = 3
#: Times the search's budget is tightened when the smoothed route is longer than the budget.
TIGHTEN_TRIES = 10
#: Cuts tried across the duality gap for one budget: the length a cut saves, scanned in this many steps ...
SCAN_CUTS = 8
#: ... then refined by this many bisections below the best one.
REFINE_CUTS = 4


@dataclass(frozen=True)
class _Candidate:
    """A route the search found: its P(detect) as flown (:func:`p_flown`), length, level, waypoints, the grid
    search behind it, how it was found, the budget it was searched for, and the transponder state."""

    p_flown: float
    length_m: float
    level: Level
    lat: np.ndarray
    lon: np.ndarray
    search: object
    method: str
    budget_m: float
    t_on: bool | None = None


def _crossed_radars(grid, fields, availability, routes, speed_mps, offsets_m):
    """The radars that see the routes ``[(lat, lon), ...]`` as flown (a chance above 1%), the most seeing
    first, at most :data:`FREE_RADARS_MAX`."""
    seen = np.zeros(len(fields))
    for lat, lon in routes:
        e = flown_exposures(grid, fields, lat, lon, speed_mps, offsets_m)
        seen = np.maximum(seen, np.mean(availability[:, None] * -np.expm1(-e), axis=1))
    order = [int(i) for i in np.argsort(-seen, kind="stable") if seen[i] > 0.01]
    return order[:FREE_RADARS_MAX]


def level_candidates(grid, fr, avail, field_per_s, radars, lv, v, budgets, ends, great_circle, spread, offsets):
    """Every candidate route of one level and transponder state, each scored by the search's P(detect) as flown
    (:func:`~sim.optimise.route.hazard.p_flown`): a list of :class:`_Candidate`.

    The routes of every budget on the field as flown (each radar's hazard ``fr`` (R, ny, nx) times its
    availability ``avail``, blurred by the spread ``spread``) and the routes with one turn; then, for each
    radar those routes cross (:func:`_crossed_radars`), the routes that cross it freely (its detection
    saturates at its availability: once a route is seen by it, more of its coverage costs little, and a
    radar up 80% of the time is the better one to cross than one up 90%); each budget's best polished as
    flown (:func:`~sim.optimise.route.smooth.polish`); and the direct route (the geodesic between ``ends``)
    when it crosses no forbidden cell of the expected field ``field_per_s``. ``v``: the level's speed
    [m/s]; ``offsets``: the sideways offsets standing for the spread.
    """
    o, d = ends
    direct_lat, direct_lon = np.array([o.lat_deg, d.lat_deg]), np.array([o.lon_deg, d.lon_deg])

    def scored(lam, what, one_turn=False):
        out = []
        for bb, got in _search_level(grid, lam, v, budgets, ends, great_circle).items():
            if got is not None:
                p_s = p_flown(flown_exposures(grid, fr, got[2], got[3], v, offsets), avail)
                out.append(_Candidate(p_s, got[1], lv, got[2], got[3], got[4], f"{got[5]}{what}", bb))
        for bb, routes in (one_turn_routes(grid, lam, v, budgets, ends, great_circle) if one_turn
                           else {}).items():
            for _, length, lat, lon in routes:
                p_s = p_flown(flown_exposures(grid, fr, lat, lon, v, offsets), avail)
                out.append(_Candidate(p_s, length, lv, lat, lon, None, f"one turn{what}", bb))
        return out

    found = scored(flown_field(fr, avail, spread, grid.spacing_m), "", one_turn=True)
    crossed = _crossed_radars(grid, fr, avail, [(c.lat, c.lon) for c in found]
                              + [(direct_lat, direct_lon)], v, offsets)
    variants = [[r] for r in crossed] + ([crossed] if len(crossed) > 1 else [])
    for free in variants:
        w = avail.copy()
        w[free] = 0.0
        what = ", searched without " + " and ".join(radars[r].name for r in free)
        found += scored(flown_field(fr, w, spread, grid.spacing_m), what)
    # the best route of each budget, polished as flown (the grid cannot place a turn within a cell)
    for bb in budgets:
        pool = [c for c in found if c.budget_m <= bb]
        if pool and (best := min(pool, key=lambda c: (c.p_flown, c.length_m))).p_flown > 0.0:
            la, lo, p_s = polish(grid, fr, avail, best.lat, best.lon, v, offsets, great_circle + bb)
            if p_s < best.p_flown:
                found.append(_Candidate(p_s, route_length_m(la, lo), lv, la, lo, best.search,
                                        f"{best.method}, polished as flown", bb))
    if np.isfinite(route_cost(grid, field_per_s, direct_lat, direct_lon, v)):
        found.append(_Candidate(p_flown(flown_exposures(grid, fr, direct_lat, direct_lon, v, offsets), avail),
                                great_circle, lv, direct_lat, direct_lon, None, "direct", 0.0))
    return found


def _search_level(grid, lam, speed, budgets, ends, great_circle):
    """The routes of one field for every budget > 0: ``{budget: (cost, length, lat, lon, ConstrainedPath,
    method)}`` (None where no route fits)."""
    graph = grid_graph(grid, lam, speed)
    search = LagrangianSearch(graph, grid.node(grid.origin_cell), grid.node(grid.dest_cell))
    shortest = search.shortest_length_m()
    out = {}
    if not np.isfinite(shortest):
        return {b: None for b in budgets}
    o, d = ends
    nx = grid.shape[1]

    def polyline(nodes):
        rows, cols = np.divmod(nodes, nx)
        return np.vstack([grid.origin_xy, np.column_stack([grid.x_m[cols], grid.y_m[rows]]), grid.dest_xy])

    def as_route(xy):
        pulled = string_pull(grid, lam, xy, speed)
        lat, lon = grid.to_lat_lon(pulled[:, 0], pulled[:, 1])
        lat[0], lon[0], lat[-1], lon[-1] = o.lat_deg, o.lon_deg, d.lat_deg, d.lon_deg
        lat, lon = _thin(lat, lon)
        if len(lat) > ROUTE_WAYPOINTS_MAX:
            lat, lon = _thin(lat, lon, min_m=grid.spacing_m * 4)
        ok = len(lat) <= ROUTE_WAYPOINTS_MAX
        return pulled, lat, lon, route_length_m(lat, lon), route_cost(grid, lam, lat, lon, speed) if ok else np.inf

    for b in budgets:
        if b <= 0:
            continue
        # a 16-neighbour path is up to GRID_EXCESS longer than the route it stands for, the shortest one less
        # so in some directions than in others: the search starts with that slack and tightens its grid
        # budget while the pulled route is too long
        grid_budget = shortest + b + GRID_EXCESS * shortest
        got, path = None, None
        for _ in range(TIGHTEN_TRIES):
            path = search.solve(grid_budget)
            if path is None:
                break
            _, lat, lon, length, cost = as_route(polyline(path.nodes))
            if length - great_circle <= b and np.isfinite(cost):
                got = (cost, length, lat, lon, path, "Lagrangian")
                break
            grid_budget -= max(length - great_circle - b, 0.0) + 0.5 * grid.spacing_m
            if grid_budget < shortest:
                break
        # across the duality gap: the safer, longer paths cut short to the budget. The cut is pulled again
        # (which shortens the route where the cut meets the coverage), so the length a cut must save is
        # scanned (and the best refined by bisection): the cut that just fits the budget once pulled.
        if path is not None and (got is None or got[0] > GAP_ABS):
            for nodes in search.safer(grid_budget, got[0] if got else np.inf):
                pulled, _, _, length, _ = as_route(polyline(nodes))
                scale = length / max(float(np.sum(np.hypot(*np.diff(pulled, axis=0).T))), 1.0)
                table = _lazy_shortcuts(grid, lam, pulled, speed)
                excess = (length - great_circle - b) / scale
                tried = {}

                def attempt(need, table=table, tried=tried, b=b, path=path):
                    cut = shortcut(table(need), need, 0.5 * grid.spacing_m)
                    if cut is None:
                        tried[need] = None
                        return
                    _, lat, lon, length2, cost = as_route(cut)
                    fits = length2 - great_circle <= b and np.isfinite(cost)
                    tried[need] = cost if fits else np.inf
                    nonlocal got
                    if fits and (got is None or cost < got[0]):
                        got = (cost, length2, lat, lon, path, "Lagrangian, then a shortcut across the gap")

                for k in range(1, SCAN_CUTS + 1):
                    attempt(excess * k / SCAN_CUTS)
                for _ in range(REFINE_CUTS):       # between the best cut that fits and the next smaller one
                    ok = sorted(n for n, c in tried.items() if c is not None and np.isfinite(c))
                    if not ok:
                        break
                    best = min(ok, key=lambda n: tried[n])
                    below = [n for n in tried if n < best]
                    lo = max(below) if below else 0.0
                    if best - lo < 0.25 * grid.spacing_m:
                        break
                    attempt(0.5 * (lo + best))
        out[b] = got
    return out
