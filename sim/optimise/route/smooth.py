"""From grid paths to flyable routes: string pulling, shortcuts across the duality gap, a route's hazard,
routes with one turn (measured exactly where the grid cannot tell small budgets apart) and the polish that
moves a route's turns to lower its P(detect) as flown."""
import math

import numpy as np
from pyproj import Geod

from geo.geodesy import leg_geometry, positions_along_route
from sim.optimise.route.grid import _bilinear, route_length_m
from sim.optimise.route.hazard import flown_exposures, p_flown
from sim.scenario import WAYPOINT_SPACING_MIN_M

__all__ = ["string_pull", "shortcuts", "shortcut", "route_cost", "polish", "one_turn_routes", "GRID_EXCESS",
           "WAYPOINT_SPACING_M"]

#: Largest relative excess of a 16-neighbour grid path's length over the straight line it follows (it strays
#: at most 13.3 degrees from any direction: 1 / cos(13.3 deg) - 1).
GRID_EXCESS = 1.0 / math.cos(math.radians(13.28)) - 1.0
_GEOD = Geod(ellps="WGS84")
#: Routes with one turn kept per budget (:func:`one_turn_routes`).
ONE_TURN_KEEP = 3
#: Largest budget, relative to the great circle, searched by routes with one turn as well: where the grid's
#: own length error (:data:`GRID_EXCESS`, twice over) is not small against the budget.
ONE_TURN_EXTRA_MAX = 2.0 * GRID_EXCESS
#: Turns a route gets before :func:`polish` moves them.
POLISH_TURNS = 4
#: Smallest step of :func:`polish` [m].
POLISH_MIN_STEP_M = 500.0
#: Waypoints of a found route are at least this far apart [m] (the scenario format's minimum, with room).
WAYPOINT_SPACING_M = 1.5 * WAYPOINT_SPACING_MIN_M


def _segment_costs(grid, lam, p, q, speed_mps, step_cells=0.5):
    """Hazard integrals of straight projected segments ``p[k] -> q[k]`` (``(K, 2)`` each), trapezoid rule on
    samples at most ``step_cells`` spacings apart; inf for a segment that touches a forbidden cell."""
    p, q = np.atleast_2d(p), np.atleast_2d(q)
    dxy = q - p
    d = np.hypot(dxy[:, 0], dxy[:, 1])
    n = np.maximum(np.ceil(d / (step_cells * grid.spacing_m) - 1e-9).astype(np.int64), 1) + 1
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    t = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(n - 1, n)
    x = np.repeat(p[:, 0], n) + t * np.repeat(dxy[:, 0], n)
    y = np.repeat(p[:, 1], n) + t * np.repeat(dxy[:, 1], n)
    lam_s = _bilinear(grid, lam, x, y)
    w = np.where((t == 0) | (t == 1), 0.5, 1.0)
    total = np.add.reduceat(w * lam_s, start)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(total), total * d / (n - 1) / speed_mps, np.inf)


def string_pull(grid, lam, xy, speed_mps, tolerance=1e-9):
    """String-pull a polyline (``(K, 2)`` projected metres) over a hazard field: from each kept vertex, the
    farthest later vertex reachable by one straight segment whose hazard integral is at most the path's
    between them (plus ``tolerance``, relative) and which crosses no forbidden cell. Returns the kept
    vertices, ``(M, 2)``; the hazard never rises and the length never grows."""
    xy = np.asarray(xy, dtype=float)
    if len(xy) <= 2:
        return xy
    lam = np.where(grid.allowed, lam, np.inf)
    legs = _segment_costs(grid, lam, xy[:-1], xy[1:], speed_mps)
    cum = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(legs), legs, 1e300))])
    keep = [0]
    i = 0
    while i < len(xy) - 1:
        j = np.arange(i + 2, len(xy))
        best = i + 1
        if len(j):
            c = _segment_costs(grid, lam, np.repeat(xy[i][None], len(j), axis=0), xy[j], speed_mps)
            ok = np.isfinite(c) & (c <= (cum[j] - cum[i]) * (1.0 + tolerance) + 1e-12)
            if ok.any():
                best = int(j[np.flatnonzero(ok)[-1]])
        keep.append(best)
        i = best
    return xy[keep]


def _densify(xy, step_m):
    """A polyline with points inserted so that consecutive points are at most ``step_m`` apart."""
    out = [xy[:1]]
    for p, q in zip(xy[:-1], xy[1:]):
        n = max(int(np.ceil(np.hypot(*(q - p)) / step_m)), 1)
        out.append(p + (q - p) * (np.arange(1, n + 1) / n)[:, None])
    return np.vstack(out)


def shortcuts(grid, lam, xy, speed_mps, block=4096):
    """Every straight shortcut of a polyline (``(K, 2)`` projected metres, densified to two spacings): the
    densified points and, per pair ``i < j``, the length it saves and the hazard it adds; shortcuts that
    cross a forbidden cell are left out. :func:`shortcut` picks one. (:func:`_lazy_shortcuts`' table with
    every pair computed.)"""
    return _lazy_shortcuts(grid, lam, xy, speed_mps, block)(-np.inf)


def _lazy_shortcuts(grid, lam, xy, speed_mps, block=1024):
    """:func:`shortcuts`, the hazard each shortcut adds computed only when first asked for: returns
    ``table(need_m)``, the table of :func:`shortcuts` restricted to the pairs computed so far, every pair that
    saves at least ``need_m`` among them (so :func:`shortcut` picks from it what it picks from the whole
    table: each pair's hazard is computed on its own)."""
    lam = np.where(grid.allowed, lam, np.inf)
    pts = _densify(np.asarray(xy, dtype=float), 2.0 * grid.spacing_m)
    legs = _segment_costs(grid, lam, pts[:-1], pts[1:], speed_mps)
    cum_c = np.concatenate([[0.0], np.cumsum(legs)])
    cum_l = np.concatenate([[0.0], np.cumsum(np.hypot(*(pts[1:] - pts[:-1]).T))])
    i, j = np.triu_indices(len(pts), k=2)
    saving = cum_l[j] - cum_l[i] - np.hypot(*(pts[j] - pts[i]).T)
    added = np.full(len(i), np.nan)
    done = np.zeros(len(i), dtype=bool)

    def table(need_m):
        todo = np.flatnonzero((saving >= need_m) & ~done)
        for k in range(0, len(todo), block):
            sl = todo[k:k + block]
            added[sl] = _segment_costs(grid, lam, pts[i[sl]], pts[j[sl]], speed_mps) - (cum_c[j[sl]] - cum_c[i[sl]])
        done[todo] = True
        ok = done & np.isfinite(added)
        return pts, i[ok], j[ok], saving[ok], added[ok]

    return table


def shortcut(table, need_m, step_m=None):
    """From :func:`shortcuts`' table, the polyline with the one shortcut that saves at least ``need_m``
    (projected metres) and adds the least hazard (then saves the least); None when none saves enough.
    ``step_m``: the shortcut itself is returned as points this far apart (so that pulling the polyline
    again can leave it where it meets the coverage).

    This closes part of the duality gap: Lagrangian relaxation finds only the paths on the convex hull of
    the (length, hazard) front; a path across the gap is the safer hull path with a stretch cut short (for
    a single radar disk, the route that crosses the disk along a chord near its edge).
    """
    pts, i, j, saving, added = table
    ok = saving >= need_m
    if not ok.any():
        return None
    k = np.flatnonzero(ok)[np.lexsort((saving[ok], added[ok]))[0]]
    cut = np.vstack([pts[i[k]], pts[j[k]]])
    if step_m is not None:
        cut = _densify(cut, step_m)
    return np.vstack([pts[:i[k]], cut, pts[j[k] + 1:]])


def _thin(lat, lon, min_m=WAYPOINT_SPACING_M):
    """Drop intermediate waypoints closer than ``min_m`` to the previous kept one or to the last."""
    keep = [0]
    for k in range(1, len(lat) - 1):
        prev = keep[-1]
        d_prev = leg_geometry([lat[prev], lat[k]], [lon[prev], lon[k]])[1][0]
        d_end = leg_geometry([lat[k], lat[-1]], [lon[k], lon[-1]])[1][0]
        if d_prev >= min_m and d_end >= min_m:
            keep.append(k)
    keep.append(len(lat) - 1)
    return np.asarray(lat)[keep], np.asarray(lon)[keep]


def route_cost(grid, lam, lat_deg, lon_deg, speed_mps):
    """The hazard integral of a route of geodesic legs over a field (samples at most half a spacing apart
    along the legs, trapezoid rule); inf when it crosses a forbidden cell."""
    length = route_length_m(lat_deg, lon_deg)
    n = max(int(np.ceil(length / (0.5 * grid.spacing_m))), 1) + 1
    s = np.linspace(0.0, length, n)
    la, lo, _ = positions_along_route(lat_deg, lon_deg, s)
    x, y = grid.to_xy(la, lo)
    lam_s = _bilinear(grid, np.where(grid.allowed, lam, np.inf), x, y)
    if not np.all(np.isfinite(lam_s)):
        return np.inf
    return float(np.sum(0.5 * (lam_s[1:] + lam_s[:-1])) * (s[1] - s[0]) / speed_mps)


def polish(grid, fields, availability, lat_deg, lon_deg, speed_mps, offsets_m, max_length_m, turns=POLISH_TURNS,
           step_m=None, min_step_m=POLISH_MIN_STEP_M):
    """A route moved, turn by turn, to lower its P(detect) as flown (:func:`p_flown`) within a length.

    The route gets at least ``turns`` turns (its longest legs split), then a
    pattern search: each turn in turn tries a step of ``step_m`` (default the
    grid spacing) in each of 8 directions and keeps the first that lowers the
    P as flown without making the route longer than ``max_length_m``
    (geodesic legs), bringing two waypoints closer than
    :data:`WAYPOINT_SPACING_M` (the scenario format's spacing) or crossing a
    forbidden cell; the step halves when no
    turn moves, down to ``min_step_m``. The grid cannot place a turn closer
    than a cell, nor measure a small budget (:data:`GRID_EXCESS`): this is
    where a route threading a narrow gap between two coverages finds its line.
    Returns ``(lat, lon, p)``.
    """
    lat, lon = np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float)
    x, y = grid.to_xy(lat, lon)
    xy = np.column_stack([x, y])
    while len(xy) - 2 < turns:
        k = int(np.argmax(np.hypot(*np.diff(xy, axis=0).T)))
        xy = np.insert(xy, k + 1, 0.5 * (xy[k] + xy[k + 1]), axis=0)
    forbidden = np.where(grid.allowed, 0.0, np.inf)

    def score(pts, k=None):
        """P as flown of a polyline; inf when it is too long or touches a forbidden cell (checked on the two
        legs of turn ``k`` when only that turn moved: the others were checked with the route they left)."""
        la, lo = grid.to_lat_lon(pts[:, 0], pts[:, 1])
        la[0], lo[0], la[-1], lo[-1] = lat[0], lon[0], lat[-1], lon[-1]
        legs = leg_geometry(la, lo)[1]
        a, b = (0, len(pts)) if k is None else (k - 1, k + 2)
        if (float(legs.sum()) > max_length_m or float(legs.min()) < WAYPOINT_SPACING_M   # a route the format takes
                or not np.isfinite(_segment_costs(grid, forbidden, pts[a:b - 1], pts[a + 1:b], 1.0).sum())):
            return np.inf, la, lo
        return p_flown(flown_exposures(grid, fields, la, lo, speed_mps, offsets_m), availability), la, lo

    best, la, lo = score(xy)
    if not np.isfinite(best):
        return lat, lon, p_flown(flown_exposures(grid, fields, lat, lon, speed_mps, offsets_m), availability)
    step = grid.spacing_m if step_m is None else float(step_m)
    moves = np.array([(np.cos(a), np.sin(a)) for a in np.arange(8) * np.pi / 4])
    while step >= min_step_m and best > 0.0:
        moved = False
        for k in range(1, len(xy) - 1):
            for m in moves:
                trial = xy.copy()
                trial[k] = xy[k] + step * m
                p_t, la_t, lo_t = score(trial, k)
                if p_t < best - 1e-9:
                    xy, best, la, lo, moved = trial, p_t, la_t, lo_t, True
                    break
        if not moved:
            step *= 0.5
    return la, lo, best


def one_turn_routes(grid, lam, speed_mps, budgets, ends, great_circle, keep=ONE_TURN_KEEP, block=1024):
    """The routes with one turn, ``origin -> cell -> destination`` through every allowed cell, of least hazard
    on the field ``lam`` within each budget: ``{budget: [(cost, length_m, lat, lon), ...]}`` (at most
    ``keep`` each, safest first).

    For a budget that is small against the route (tens of km on a thousand), the grid's own paths cannot
    tell the routes apart: a 16-neighbour path is up to :data:`GRID_EXCESS` longer than the line it
    follows, more in some directions than in others, which is more than the budget. A route with one
    turn is measured exactly (geodesic legs, ``pyproj.Geod``); its hazard is the trapezoid rule along
    the straight projected legs (:func:`_segment_costs`), inf where it touches a forbidden cell.
    """
    o, d = ends
    budgets = [b for b in budgets if b > 0]
    if not budgets:
        return {}
    rows, cols = np.nonzero(grid.allowed)
    la, lo = grid.lat_deg[rows, cols], grid.lon_deg[rows, cols]
    _, _, d1 = _GEOD.inv(np.full(la.shape, o.lon_deg), np.full(la.shape, o.lat_deg), lo, la)
    _, _, d2 = _GEOD.inv(lo, la, np.full(la.shape, d.lon_deg), np.full(la.shape, d.lat_deg))
    extra = d1 + d2 - great_circle
    sel = (extra <= min(max(budgets), ONE_TURN_EXTRA_MAX * great_circle)) & (np.minimum(d1, d2) >= WAYPOINT_SPACING_M)
    rows, cols, la, lo, extra = rows[sel], cols[sel], la[sel], lo[sel], extra[sel]
    mid = np.column_stack([grid.x_m[cols], grid.y_m[rows]])
    lam = np.where(grid.allowed, lam, np.inf)
    cost = np.empty(len(mid))
    for k in range(0, len(mid), block):
        m = mid[k:k + block]
        cost[k:k + block] = (_segment_costs(grid, lam, np.broadcast_to(grid.origin_xy, m.shape), m, speed_mps, 1.0)
                             + _segment_costs(grid, lam, m, np.broadcast_to(grid.dest_xy, m.shape), speed_mps, 1.0))
    out = {}
    for b in budgets:
        if b > ONE_TURN_EXTRA_MAX * great_circle:
            break
        idx = np.flatnonzero((extra <= b) & np.isfinite(cost))
        idx = idx[np.lexsort((extra[idx], cost[idx]))][:keep]
        out[b] = [(float(cost[i]), float(extra[i] + great_circle), np.array([o.lat_deg, la[i], d.lat_deg]),
                   np.array([o.lon_deg, lo[i], d.lon_deg])) for i in idx]
    return out
