"""Could they be stopped? From a track inside the airspace to a decision, an order to land, an intercept.

Per flight, vectorized over flights (the scenario's ``[response]`` and ``[[interceptor]]``):

- **air picture**: after its first track inside the airspace a flight is
  held in track while it is in the coverage of a radar that is up for it
  and can see it (a secondary radar only with its transponder on), and for
  ``track_coast`` after it leaves that coverage (the track is coasted,
  dead-reckoned from its last plots); longer gaps lose it until coverage
  returns. Coverage is geometric (line of sight, terrain, instrumented
  range; an orbiting radar's from any point of its loop), read on the fence
  tables (:mod:`sim.fences`, every :data:`~sim.fences.FENCE_STEP_S`);
- **airspace**: the flight's time in the airspace after its track, where
  exits shorter than ``airspace_gap`` (a border sliver) count as inside;
- **reaction window**: from the first track inside the airspace to the last
  moment the flight is held in track inside it;
- **decision**: ``decision_delay`` after that track; too late when it falls
  after the reaction window;
- **will**: a flight held in track with the decision in time is acted on
  (ordered to land, interceptors sent) with probability ``will`` (the
  flight's ``will`` draw): the state's choice, apart from the crew's; one
  not acted on is ``no_order``;
- **order to land**: feasible when the decision is in time and the time the
  aircraft needs to land at the nearest of the landing airports (the longer
  of flying there at its descent speed and descending to the airport at its
  descent rate) does not exceed the time it has left in the airspace;
  obeyed with probability ``compliance`` (the flight's ``comply`` draw);
- **intercept**: the earliest moment, from the decision to the end of the
  reaction window and while the flight is held in track, that an
  interceptor, airborne ``ready`` after the decision and flying straight at
  its speed, reaches the flight no later than the flight gets there (found
  on a :data:`INTERCEPT_STEP_S` grid, refined by bisection to
  :data:`INTERCEPT_TOLERANCE_S`); found for every flight with the decision
  in time (``interceptable``, whether the state acts or not), sent when
  the state acts and no order was obeyed; the escorted crew obeys with
  probability ``intercept_compliance`` (the flight's ``escort`` draw);
- **outcome**: one of :data:`OUTCOMES` (codes in ``flights.csv`` and
  ``summary.json``, labels in :data:`OUTCOME_LABELS`); a flight is stopped
  with :data:`STOPPED`.
"""
import numpy as np

from geo.earth import EARTH_RADIUS_M, unit_vectors
from sim.fences import FENCE_STEP_S, bridge_gaps, last_true
from sim.flights import positions_at, to_lat_lon

__all__ = ["flight_response", "air_picture", "time_to_land_s", "first_reachable", "bridge_gaps", "coasted",
           "OUTCOMES", "OUTCOME_LABELS", "STOPPED", "INTERCEPT_STEP_S", "INTERCEPT_TOLERANCE_S"]

#: Outcome codes, in order of their integer values (stable names in flights.csv and summary.json).
OUTCOMES = ("not_tracked", "too_late", "order_obeyed", "order_refused", "escort_obeyed", "escort_refused",
            "no_means", "no_order")
#: What each outcome means, for the products.
OUTCOME_LABELS = {
    "not_tracked": "not tracked in the airspace",
    "too_late": "tracked too late to act (the decision falls after the track is lost or the flight leaves)",
    "order_obeyed": "ordered to land, obeyed",
    "order_refused": "ordered to land, refused, no interceptor could reach it",
    "escort_obeyed": "intercepted, obeyed the escort and landed",
    "escort_refused": "intercepted, refused the escort",
    "no_means": "tracked in time, but no order to land was feasible and no interceptor could reach it",
    "no_order": "tracked in time, no order given (the state did not act)",
}
#: The outcomes in which a flight is stopped.
STOPPED = ("order_obeyed", "escort_obeyed")
#: Spacing of the track points an interceptor is tried against [s].
INTERCEPT_STEP_S = 30.0
#: The earliest meeting time is refined between grid points to this [s].
INTERCEPT_TOLERANCE_S = 0.05
_BLOCK_FLIGHTS = 2000


def _ground_m(a, b):
    """Great-circle distance [m] between unit vectors (broadcast)."""
    d = np.linalg.norm(a - b, axis=-1)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(d / 2.0, 1.0))


def coasted(mask, coast):
    """True where a True lies at most ``coast`` samples before (a track held, then coasted; last axis).

    >>> coasted(np.array([False, True, False, False, False, True]), 2).tolist()
    [False, True, True, True, False, True]
    """
    prev = last_true(mask)
    return (prev >= 0) & (np.arange(mask.shape[-1]) - prev <= coast)


def air_picture(sim, batch, t_in_s, sees):
    """The air picture after each flight's first track inside the airspace (see the module).

    ``t_in_s`` (F,): the first time a track was held inside the airspace (NaN if never);
    ``sees`` (F, R): the radars that are up for the flight and can see it.
    Returns ``(t_exit_s, t_end_s, held_at)``: the exit from the airspace (gaps shorter than
    ``airspace_gap`` bridged), the end of the reaction window (the last moment held in track inside
    the airspace), both (F,) and NaN where ``t_in_s`` is; and ``held_at(rows, t_s)`` (rows (K,)
    indices into the batch, ``t_s`` (K, M)) whether those flights are held in track inside the airspace.

    Notes
    -----
    A flight is held at a fence sample when the last sample at or before it covered by a radar that
    sees the flight is at most ``track_coast`` back; the per-radar "last covered sample" tables
    (:attr:`sim.fences.RouteFences.last_covered`) make that a gather over the flight's radars.
    """
    resp = sim.scenario.response
    F = len(batch)
    t_exit, t_end = np.full(F, np.nan), np.full(F, np.nan)
    tracked = np.isfinite(t_in_s)
    gap = int(np.floor(resp.airspace_gap_s / FENCE_STEP_S + 1e-9))
    coast = int(np.floor(resp.track_coast_s / FENCE_STEP_S + 1e-9))
    inside_tables = {}
    for i, fz in enumerate(sim.fences):     # loop over routes; flights are array rows
        sel = np.flatnonzero((batch.route_index == i) & tracked)
        if not sel.size:
            continue
        n_t = fz.in_airspace.shape[1]
        inside, outside = fz.bridged(gap)                      # (n_offsets, T), once per table and gap
        inside_tables[i] = inside
        if sim.walk == "compiled" and sim.tables:        # the same arithmetic, one flight at a time (sim.walk)
            from sim.walk import air_picture_route
            air_picture_route(sel, batch.cross_track_m, t_in_s, sees, fz.offsets_m, outside, fz.last_covered, coast,
                              float(fz.t_s[-1]), FENCE_STEP_S, t_exit, t_end)
            continue
        rows = fz.row(batch.cross_track_m[sel])
        k_in = np.clip(np.rint(t_in_s[sel] / FENCE_STEP_S).astype(np.int64), 0, n_t - 1)
        k_out = outside[rows, k_in]                            # first sample outside the bridged stretch
        t_exit[sel] = np.minimum((k_out - 0.5) * FENCE_STEP_S, fz.t_s[-1])
        last_cov = _last_seen(fz, rows, sees[sel], np.maximum(k_out - 1, 0)[:, None])[:, 0]
        last = np.where(last_cov >= 0, np.minimum(last_cov + coast, k_out - 1), -1)
        t_end[sel] = np.clip((last + 0.5) * FENCE_STEP_S, t_in_s[sel], t_exit[sel])

    def held_at(rows, t_s):
        out = np.zeros(np.shape(t_s), dtype=bool)
        for i, inside in inside_tables.items():
            s = batch.route_index[rows] == i
            if not s.any():
                continue
            fz = sim.fences[i]
            r = fz.row(batch.cross_track_m[rows[s]])
            k = np.clip(np.rint(np.nan_to_num(t_s[s]) / FENCE_STEP_S).astype(np.int64), 0, inside.shape[1] - 1)
            last_cov = _last_seen(fz, r, sees[rows[s]], k)
            out[s] = np.isfinite(t_s[s]) & inside[r[:, None], k] & (last_cov >= 0) & (k - last_cov <= coast)
        return out

    return t_exit, t_end, held_at


def _last_seen(fz, rows, sees, k):
    """The last fence sample at or before samples ``k`` (F, M) covered by a radar the flight sees (-1: none).

    ``rows`` (F,) table rows, ``sees`` (F, R) the radars that see each flight."""
    out = np.full(k.shape, -1, dtype=np.int64)
    for j in range(sees.shape[1]):           # loop over radars; flights and samples are array axes
        out = np.maximum(out, np.where(sees[:, j, None], fz.last_covered[j][rows[:, None], k], -1))
    return out


def _positions_once(sim, route_index, cross_track_m, t_s):
    """Positions (F, 3) and altitudes (F,) of flights at one time each: :func:`sim.flights.positions_at`, by
    one compiled loop on the compiled walk (:func:`sim.walk.positions_once`, the same bits)."""
    packed = sim.packed
    if not (sim.walk == "compiled" and sim.tables):
        xyz, alt, _ = positions_at(packed, route_index, cross_track_m, t_s[:, None])
        return xyz[:, 0], alt[:, 0]
    from sim.walk import positions_once
    xyz, alt = np.empty((len(t_s), 3)), np.empty(len(t_s))
    positions_once(packed.table, packed.start, packed.count, float(packed.step_s), EARTH_RADIUS_M,
                   np.ascontiguousarray(route_index, dtype=np.int64), np.ascontiguousarray(cross_track_m, dtype=float),
                   np.ascontiguousarray(t_s, dtype=float), xyz, alt)
    follows = [k for k, rows in enumerate(packed.alt_rows) if rows is not None]      # terrain-following routes
    on_rows = np.isin(route_index, follows)
    if on_rows.any():      # their altitudes on the flight's own row, as positions_at reads them
        alt[on_rows] = positions_at(packed, route_index[on_rows], cross_track_m[on_rows], t_s[on_rows, None])[1][:, 0]
    return xyz, alt


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


def _meets(sim, batch, f, airborne, base, speed_mps, t_s):
    """Whether an interceptor airborne at ``airborne`` (per flight) reaches flights ``f`` by ``t_s`` (per flight)."""
    p, _, _ = positions_at(sim.packed, batch.route_index[f], batch.cross_track_m[f], t_s[:, None])
    return airborne + _ground_m(p[:, 0], base) / speed_mps <= t_s


def _bisect(sim, batch, f, airborne, base, speed_mps, lo, hi):
    """The earliest meeting time between ``lo`` (not met) and ``hi`` (met), to :data:`INTERCEPT_TOLERANCE_S`
    (the meeting condition turns true once in between)."""
    while f.size and np.max(hi - lo) > INTERCEPT_TOLERANCE_S:
        mid = 0.5 * (lo + hi)
        ok = _meets(sim, batch, f, airborne, base, speed_mps, mid)
        hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid)
    return hi


def _grid_intercepts(sim, batch, f, t_d, t_end, held_at, itc):
    """Earliest meeting time (inf if none) of one interceptor with flights ``f``: the first reachable
    held point of a :data:`INTERCEPT_STEP_S` grid from the decision to the window's end (and the end
    itself), refined by bisection from the grid point before (the reference, any speeds)."""
    k = int(np.ceil(np.max(t_end[f] - t_d[f]) / INTERCEPT_STEP_S)) + 1
    grid = t_d[f, None] + np.arange(k)[None, :] * INTERCEPT_STEP_S
    grid = np.where(grid <= t_end[f, None], grid, np.nan)
    grid = np.where(held_at(f, grid), grid, np.nan)                 # only where the track is held
    last_col = np.where(np.isfinite(grid).any(axis=1), k - 1 - np.argmax(np.isfinite(grid[:, ::-1]), axis=1), 0)
    t = np.concatenate([grid, t_end[f, None]], axis=1)               # the end of the window is the last candidate
    xyz, _, _ = positions_at(sim.packed, batch.route_index[f], batch.cross_track_m[f], np.nan_to_num(t))
    base = unit_vectors(itc.lat_deg, itc.lon_deg)
    airborne = t_d[f] + itc.ready_s
    kk = first_reachable(t, xyz, base, airborne, itc.speed_mps)
    tk = np.where(kk >= 0, t[np.arange(len(f)), np.maximum(kk, 0)], np.inf)
    # refine from the candidate before when it is held; the window's end refines from the last grid point
    ref = np.flatnonzero(kk > 0)
    before = np.where(kk[ref] == k, last_col[ref], kk[ref] - 1)
    lo, hi = t[ref, before], tk[ref]
    lo = np.where(np.isfinite(lo) & (lo < hi), lo, hi)
    tk[ref] = _bisect(sim, batch, f[ref], airborne[ref], base, itc.speed_mps, lo, hi)
    return tk


def _chase_intercepts(sim, batch, f, t_d, t_end, held_at, itc):
    """As :func:`_grid_intercepts` for an interceptor faster than the aircraft can fly: the meeting
    condition ``airborne + distance / speed <= t`` then turns true once along the whole track (its left
    side grows more slowly than ``t``), so its root is found by bisection on [decision, window's end]
    directly; flights not held at that root take the grid."""
    base = unit_vectors(itc.lat_deg, itc.lon_deg)
    airborne = t_d[f] + itc.ready_s
    lo, hi = t_d[f].copy(), t_end[f].copy()
    out = np.full(len(f), np.inf)
    reach = _meets(sim, batch, f, airborne, base, itc.speed_mps, hi)
    r = np.flatnonzero(reach)
    at_once = _meets(sim, batch, f[r], airborne[r], base, itc.speed_mps, lo[r])
    out[r] = np.where(at_once, lo[r], _bisect(sim, batch, f[r], airborne[r], base, itc.speed_mps, lo[r], hi[r]))
    held = held_at(f[r], out[r, None])[:, 0]
    if not held.all():
        g = r[~held]
        out[g] = _grid_intercepts(sim, batch, f[g], t_d, t_end, held_at, itc)
    return out


#: An interceptor this much faster than the aircraft's fastest ground speed is found by :func:`_chase_intercepts`.
_CHASE_MARGIN = 1.05


def _earliest_intercepts(sim, batch, f, t_d, t_end, held_at, exact=False):
    """Earliest meeting time (inf if none) of any interceptor with the flights ``f`` (one block).

    ``exact``: every interceptor on the grid (:func:`_grid_intercepts`, the reference); otherwise an
    interceptor faster than the aircraft by :data:`_CHASE_MARGIN` by :func:`_chase_intercepts`."""
    ac = sim.scenario.aircraft
    fastest = max(ac.cruise_speed_mps, ac.low_level_speed_mps, ac.climb_speed_mps, ac.descent_speed_mps)
    best = np.full(len(f), np.inf)
    for itc in sim.scenario.interceptors:
        chase = not exact and itc.speed_mps > _CHASE_MARGIN * fastest
        best = np.minimum(best, (_chase_intercepts if chase else _grid_intercepts)(sim, batch, f, t_d, t_end,
                                                                                  held_at, itc))
    return best


def flight_response(sim, batch, t_in_s, u_comply, u_escort, sees, u_will):
    """Reaction window, order to land, intercept and outcome of each flight of a chunk (see the module).

    ``t_in_s`` (F,): the first time a track was held inside the airspace (NaN if never); ``u_comply``,
    ``u_escort`` (F,): the flights' uniform draws for obeying an order and an escort; ``sees`` (F, R):
    the radars up for each flight that can see it; ``u_will`` (F,): the draws of the state's will to act
    (it acts when ``u_will < will``: always at ``will`` 1, the draws lying in (0, 1)). Returns a dict of
    arrays (F,): ``reaction_window_min``, ``order_feasible`` (feasible in time, whether given or not),
    ``obeyed``, ``interceptable`` (an interceptor could meet it, whether sent or not),
    ``intercept_lat_deg``, ``intercept_lon_deg``, ``intercept_t_s``, ``stopped_if_acted`` (the flight
    would be stopped were the state to act on it: the outcome at ``will`` 1 on the same draws),
    ``outcome`` (int8, index into :data:`OUTCOMES`).
    """
    sc = sim.scenario
    resp, ac = sc.response, sc.aircraft
    F = len(batch)
    t_exit, t_end, held_at = air_picture(sim, batch, t_in_s, sees)
    tracked = np.isfinite(t_in_s)
    window = (t_end - t_in_s) / 60.0
    t_d = t_in_s + resp.decision_delay_s
    acting = tracked & (t_d <= t_end)
    feasible = np.zeros(F, dtype=bool)
    intercept = np.zeros(F, dtype=bool)
    ilat, ilon, meet_t = np.full(F, np.nan), np.full(F, np.nan), np.full(F, np.nan)
    idx = np.flatnonzero(acting)
    if idx.size and resp.land_airports:
        xyz, alt = _positions_once(sim, batch.route_index[idx], batch.cross_track_m[idx], t_d[idx])
        ap = resp.land_airports
        need, _ = time_to_land_s(xyz, alt, unit_vectors([a.lat_deg for a in ap], [a.lon_deg for a in ap]),
                                 np.array([a.elevation_m for a in ap]), ac.descent_speed_mps, ac.descent_rate_mps)
        feasible[idx] = need <= t_exit[idx] - t_d[idx]
    comply = feasible & (u_comply < resp.compliance)      # the crew would obey an order
    acts = acting & (u_will < resp.will)                   # the state acts: it orders and sends interceptors
    obeyed = comply & acts
    for b in range(0, idx.size if sc.interceptors else 0, _BLOCK_FLIGHTS):
        f = idx[b:b + _BLOCK_FLIGHTS]
        best = _earliest_intercepts(sim, batch, f, t_d, t_end, held_at, exact=not sim.tables)
        got = np.isfinite(best)
        intercept[f[got]] = True
        meet_t[f[got]] = best[got]
        if got.any():
            p, _, _ = positions_at(sim.packed, batch.route_index[f[got]], batch.cross_track_m[f[got]],
                                   best[got, None])
            ilat[f[got]], ilon[f[got]] = to_lat_lon(p[:, 0])
    escort_obeys = u_escort < resp.intercept_compliance
    stopped_if_acted = comply | (intercept & ~comply & escort_obeys)
    escorted = intercept & ~obeyed & acts              # an interceptor is sent when no order was obeyed
    code = {name: i for i, name in enumerate(OUTCOMES)}
    outcome = np.select(
        [~tracked, tracked & ~acting, ~acts, obeyed, escorted & escort_obeys, escorted, feasible],
        [code["not_tracked"], code["too_late"], code["no_order"], code["order_obeyed"], code["escort_obeyed"],
         code["escort_refused"], code["order_refused"]], code["no_means"]).astype(np.int8)
    return dict(reaction_window_min=window, order_feasible=feasible, obeyed=obeyed, interceptable=intercept,
                intercept_lat_deg=ilat, intercept_lon_deg=ilon, intercept_t_s=meet_t,
                stopped_if_acted=stopped_if_acted, outcome=outcome)
