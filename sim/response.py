"""Could they be stopped? From a track inside the airspace to a decision, an order to land, an intercept.

Per flight, vectorized over flights (the scenario's ``[response]`` and ``[[interceptor]]``):

- **reaction window**: from the first track held while the flight is inside
  the airspace to the flight's exit from that stretch of the airspace;
- **decision**: ``decision_delay`` after that track;
- **order to land**: feasible when the decision falls inside the airspace
  and the time the aircraft needs to land at the nearest of the landing
  airports (the longer of flying there at its descent speed and descending
  to the airport at its descent rate) does not exceed the time it has
  left in the airspace; obeyed with probability ``compliance`` (a draw of
  the flight's own stream);
- **interceptable**: the earliest point of the remaining track inside the
  airspace that an interceptor, airborne ``ready`` after the decision and
  flying straight at its speed, reaches no later than the flight does
  (found on a :data:`INTERCEPT_STEP_S` grid, then refined by bisection to
  :data:`INTERCEPT_TOLERANCE_S`);
- **outcome**: 0 not tracked inside the airspace, 1 tracked but no action
  possible, 2 ordered to land and obeyed, 3 interceptable (an order obeyed
  comes first). A flight is stopped with outcome 2 or 3.
"""
import numpy as np

from geo.earth import EARTH_RADIUS_M, unit_vectors
from sim.fences import FENCE_STEP_S
from sim.flights import positions_at, to_lat_lon

__all__ = ["flight_response", "exit_time_s", "time_to_land_s", "first_reachable", "OUTCOMES", "INTERCEPT_STEP_S"]

#: Names of the outcome codes.
OUTCOMES = ("not tracked in the airspace", "tracked, no action possible", "ordered to land and obeyed",
            "interceptable")
#: Spacing of the track points an interceptor is tried against [s].
INTERCEPT_STEP_S = 30.0
#: The earliest meeting time is refined between grid points to this [s].
INTERCEPT_TOLERANCE_S = 0.05
_BLOCK_FLIGHTS = 2000


def _ground_m(a, b):
    """Great-circle distance [m] between unit vectors (broadcast)."""
    d = np.linalg.norm(a - b, axis=-1)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(d / 2.0, 1.0))


def exit_time_s(fences, route_index, cross_track_m, t_s):
    """When each flight leaves the stretch of the airspace it is in at ``t_s`` [s] (NaN where ``t_s`` is NaN).

    Read on the fence tables (nearest offset row; the exit is half a table
    step after the last sample inside).
    """
    out = np.full(len(route_index), np.nan)
    for i, fz in enumerate(fences):
        sel = np.flatnonzero((route_index == i) & np.isfinite(t_s))
        if not sel.size:
            continue
        n_t = fz.in_airspace.shape[1]
        # per table row and sample: the first sample at or after it that is outside (n_t if none)
        first_out = np.where(fz.in_airspace, n_t, np.arange(n_t)[None, :])
        next_out = np.flip(np.minimum.accumulate(np.flip(first_out, axis=1), axis=1), axis=1)
        k0 = np.clip(np.rint(t_s[sel] / FENCE_STEP_S).astype(np.int64), 0, n_t - 1)
        k_out = next_out[fz.row(cross_track_m[sel]), k0]
        out[sel] = np.minimum((k_out - 0.5) * FENCE_STEP_S, fz.t_s[-1])
    return out


def time_to_land_s(xyz, alt_m, airports_xyz, airports_elev_m, descent_speed_mps, descent_rate_mps):
    """Seconds to land at the nearest (quickest) airport: the longer of the flight there and the descent.

    ``xyz`` (F, 3), ``alt_m`` (F,); airports ``(A, 3)``, ``(A,)``. Returns ``(seconds (F,), airport index (F,))``.
    """
    fly = _ground_m(xyz[:, None, :], airports_xyz[None, :, :]) / descent_speed_mps
    sink = np.maximum(alt_m[:, None] - airports_elev_m[None, :], 0.0) / descent_rate_mps
    need = np.maximum(fly, sink)
    best = np.argmin(need, axis=1)
    return need[np.arange(len(best)), best], best


def first_reachable(t_s, xyz, base_xyz, airborne_s, speed_mps):
    """Index of the first sample an interceptor reaches no later than the flight (-1 if none).

    ``t_s`` (F, K) times of the flight's points ``xyz`` (F, K, 3) (NaN: not
    a candidate); the interceptor is airborne at ``airborne_s`` (F,) and
    flies straight from ``base_xyz`` (3,) at ``speed_mps``: it meets the
    flight at point k when ``airborne + distance / speed <= t_k``.
    """
    arrive = airborne_s[:, None] + _ground_m(xyz, base_xyz) / speed_mps
    ok = np.isfinite(t_s) & (arrive <= t_s)
    return np.where(ok.any(axis=1), np.argmax(ok, axis=1), -1)


def flight_response(sim, batch, t_in_s, u_comply):
    """Reaction window, order to land, intercept and outcome of each flight of a chunk (see the module).

    ``t_in_s`` (F,): the first time a track was held inside the airspace (NaN if never).
    Returns a dict of arrays (F,): ``reaction_window_min``, ``order_feasible``, ``obeyed``,
    ``interceptable``, ``intercept_lat_deg``, ``intercept_lon_deg``, ``intercept_t_s``, ``outcome``.
    """
    sc = sim.scenario
    resp, ac = sc.response, sc.aircraft
    F = len(batch)
    t_exit = exit_time_s(sim.fences, batch.route_index, batch.cross_track_m, t_in_s)
    window = (t_exit - t_in_s) / 60.0
    t_d = t_in_s + resp.decision_delay_s
    acting = np.isfinite(t_in_s) & (t_d < t_exit)
    feasible = np.zeros(F, dtype=bool)
    intercept = np.zeros(F, dtype=bool)
    ilat, ilon, meet_t = np.full(F, np.nan), np.full(F, np.nan), np.full(F, np.nan)
    idx = np.flatnonzero(acting)
    if idx.size and resp.land_airports:
        xyz, alt, _ = positions_at(sim.packed, batch.route_index[idx], batch.cross_track_m[idx], t_d[idx, None])
        ap = resp.land_airports
        need, _ = time_to_land_s(xyz[:, 0], alt[:, 0], unit_vectors([a.lat_deg for a in ap], [a.lon_deg for a in ap]),
                                 np.array([a.elevation_m for a in ap]), ac.descent_speed_mps, ac.descent_rate_mps)
        feasible[idx] = need <= t_exit[idx] - t_d[idx]
    for b in range(0, idx.size if sc.interceptors else 0, _BLOCK_FLIGHTS):
        f = idx[b:b + _BLOCK_FLIGHTS]
        k = int(np.ceil(np.max(t_exit[f] - t_d[f]) / INTERCEPT_STEP_S)) + 1
        t = t_d[f, None] + np.arange(k)[None, :] * INTERCEPT_STEP_S
        t = np.where(t <= t_exit[f, None], t, np.nan)
        last_grid = np.nanmax(t, axis=1)
        t = np.concatenate([t, t_exit[f, None]], axis=1)         # the exit itself is the last candidate
        xyz, _, _ = positions_at(sim.packed, batch.route_index[f], batch.cross_track_m[f], np.nan_to_num(t))
        best_t, best_k = np.full(len(f), np.inf), np.full(len(f), -1)
        for itc in sc.interceptors:
            base = unit_vectors(itc.lat_deg, itc.lon_deg)
            kk = first_reachable(t, xyz, base, t_d[f] + itc.ready_s, itc.speed_mps)
            tk = np.where(kk >= 0, t[np.arange(len(f)), np.maximum(kk, 0)], np.inf)
            # refine between the grid point before and the first reachable one (the meeting condition
            # turns true once along a straight chase)
            ref = np.flatnonzero(kk > 0)
            lo, hi = t[ref, kk[ref] - 1], tk[ref]
            lo = np.where(np.isfinite(lo), lo, last_grid[ref])
            while ref.size and np.max(hi - lo) > INTERCEPT_TOLERANCE_S:
                mid = 0.5 * (lo + hi)
                p, _, _ = positions_at(sim.packed, batch.route_index[f[ref]], batch.cross_track_m[f[ref]], mid[:, None])
                ok = t_d[f[ref]] + itc.ready_s + _ground_m(p[:, 0], base) / itc.speed_mps <= mid
                hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid)
            tk[ref] = hi
            better = tk < best_t
            best_t[better], best_k[better] = tk[better], kk[better]
        got = np.isfinite(best_t)
        intercept[f[got]] = True
        meet_t[f[got]] = best_t[got]
        if got.any():
            p, _, _ = positions_at(sim.packed, batch.route_index[f[got]], batch.cross_track_m[f[got]],
                                   best_t[got, None])
            ilat[f[got]], ilon[f[got]] = to_lat_lon(p[:, 0])
    obeyed = feasible & (u_comply < resp.compliance)
    outcome = np.where(~np.isfinite(t_in_s), 0, np.where(obeyed, 2, np.where(intercept, 3, 1))).astype(np.int8)
    return dict(reaction_window_min=window, order_feasible=feasible, obeyed=obeyed, interceptable=intercept,
                intercept_lat_deg=ilat, intercept_lon_deg=ilon, intercept_t_s=meet_t, outcome=outcome)
