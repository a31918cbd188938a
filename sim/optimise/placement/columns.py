"""The candidates' columns: ``P_ij``, the chance that candidate ``j`` makes flight ``i`` count (the exact
m-of-n track probability over its scans, averaged over the scan and loop phases), computed when first asked;
and the geometric upper bounds that stand for a column until then."""
import copy
import time

import numpy as np

from geo.earth import EARTH_RADIUS_M, horizon_distance_m, unit_vectors
from sim.detection import in_coverage, prepare_radar, scan_pd
from sim.fences import FENCE_STEP_S, inside_airspace_at, next_false
from sim.flights import OFFSET_CLIP_SIGMA, nearest_row, offset_rows, positions_at
from sim.montecarlo import masking_builder, scan_window
from sim.platforms import Orbit, Racetrack, flying_orbit
from sim.response import bridge_gaps, time_to_land_s
from sim.scenario import parse_scenario
from sim.tables import detection_table

__all__ = ["track_probability", "flight_groups", "reach_points", "reach_matrix", "PHASES", "LOOP_PHASES",
           "TRACK_N_MAX", "P_MAX", "MODELS_KEPT"]

#: Scan phases averaged in each candidate's track probability (the Monte Carlo draws it uniformly).
PHASES = 4
#: Loop phases averaged in an orbit candidate's track probability, evenly spaced (the Monte Carlo draws the
#: platform's phase on its loop uniformly per flight), times the :data:`PHASES` scan phases. At 16 the
#: platform is at most 1/32 of its loop from a phase evaluated (12 km on the 380 km loop of the shipped AEW
#: orbit). Measured on that scenario (its radar's range cut to 150 km so that coverage is partial; six
#: racetracks, 3,000 flights): each candidate's mean P differs from 64 loop phases' by at most 0.001 (8
#: phases: 0.002), one flight's by up to 0.06; a column takes about 1 s (64 phases: 3 s).
LOOP_PHASES = 16
#: Largest m-of-n window the dynamic programme handles (2^(n-1) states).
TRACK_N_MAX = 12
#: P_ij is capped here so that a_ij = -ln(1 - P_ij) stays finite.
P_MAX = 1.0 - 1e-12
#: Added to a candidate's reach in its geometric bound [m] (route samples 10 s apart, table rounding).
REACH_MARGIN_M = 5_000.0
#: Sample spacing of the routes in the geometric bound [s].
_BOUND_STEP_S = 10.0
#: Largest spacing of an orbit candidate's positions around its loop in the geometric bound [m] (added to
#: its reach: every position of the loop is within half of it of one of them).
_BOUND_LOOP_M = 5_000.0
#: Sequences x scans of an orbit candidate's column evaluated at once (bounds memory: about 20 floats each).
_ORBIT_BLOCK = 1 << 20
#: Candidates' radar models kept at once (each holds its terrain masking table, about 1.4 MB; one dropped is
#: prepared again from the cache when a column needs it).
MODELS_KEPT = 32


# --- the m-of-n track probability --------------------------------------------------------------------
def track_probability(pd, counts=None, m=1, n=1):
    """Probability that the m-of-n rule holds at some scan that counts, for independent scans.

    Parameters
    ----------
    pd : array_like, shape (G, K)
        Per-scan detection probability of each of G scan sequences (axis 1: scans in time order).
    counts : array_like of bool, shape (G, K), optional
        Scans at which a track counts (inside the airspace, early enough); default all.
    m, n : int
        A track is held at a scan when at least ``m`` of the last ``n`` scans (that one included) are
        detections (:func:`sim.detection.track_held`).

    Returns
    -------
    ndarray, shape (G,)

    Notes
    -----
    An exact dynamic programme over the scans: the state is the outcome of the last ``n - 1`` scans
    (``2^(n - 1)`` states, bit 0 the latest), absorbed at the first scan that counts with ``m`` of ``n``.
    ``n - 1`` is at most :data:`TRACK_N_MAX`.

    >>> float(track_probability([[0.5, 0.5, 0.5]], m=2, n=2)[0])   # 1 - P(no two hits in a row) = 1 - 5/8
    0.375
    """
    pd = np.atleast_2d(np.asarray(pd, dtype=float))
    G, K = pd.shape
    c = np.ones((G, K), dtype=bool) if counts is None else np.broadcast_to(np.asarray(counts, dtype=bool), (G, K))
    if not (1 <= m <= n) or n - 1 > TRACK_N_MAX:
        raise ValueError(f"m-of-n needs 1 <= m <= n <= {TRACK_N_MAX + 1}, got {m} of {n}")
    S = 1 << (n - 1)
    half = S >> 1
    pop = np.array([bin(s).count("1") for s in range(S)])
    abs_hit, abs_miss = pop + 1 >= m, pop >= m
    P = np.zeros((G, S))
    P[:, 0] = 1.0
    got = np.zeros(G)
    for k in range(K):
        H = P * pd[:, k, None]
        Mi = P - H
        ck = c[:, k, None]
        ah = np.where(ck & abs_hit, H, 0.0)
        am = np.where(ck & abs_miss, Mi, 0.0)
        got += ah.sum(axis=1) + am.sum(axis=1)
        H -= ah
        Mi -= am
        if S == 1:
            P = H + Mi
        else:
            P = np.empty_like(P)
            P[:, 1::2] = H[:, :half] + H[:, half:]
            P[:, 0::2] = Mi[:, :half] + Mi[:, half:]
    return np.minimum(got, 1.0)


# --- candidates' columns ----------------------------------------------------------------------------
class _Columns:
    """Each candidate's P_ij on one flight set, computed when first asked (and counted).

    ``models`` (shared by the caller across flight sets) keeps the :data:`MODELS_KEPT` most recently used
    candidates' radar models (:func:`sim.detection.prepare_radar`, its terrain masking table from the cache by
    :func:`sim.montecarlo.masking_builder`): a model depends on the radar and the aircraft's RCS, not on the
    routes.
    """

    def __init__(self, fs, tables, objective, terrain, cache, like_spec, models):
        self.fs, self.tables, self.objective = fs, tables, objective
        self.terrain, self.cache, self.like = terrain, cache, like_spec
        self.models = models
        self._cols = {}
        self._order = {}            # route -> (feasible, k_out) of the order to land (stopped)
        self.evaluated = 0
        self.seconds = 0.0
        self.sees = fs.scale > 0
        if like_spec.kind.needs_transponder:
            self.sees = self.sees & fs.transponder_on

    @property
    def computed(self):
        """The candidates whose column has been computed."""
        return tuple(self._cols)

    def column(self, j):
        got = self._cols.get(j)
        if got is None:
            t0 = time.perf_counter()
            got = self._compute(j)
            self._cols[j] = got
            self.evaluated += 1
            self.seconds += time.perf_counter() - t0
        return got

    def model(self, j):
        """Candidate ``j``'s radar model (:func:`sim.detection.prepare_radar` of the candidate's radar, its
        masking table from the cache, as :func:`sim.montecarlo.prepare` makes it)."""
        fs = self.fs
        sc = fs.scenario
        key = (j, sc.aircraft.rcs_m2, sc.detection.refraction_k, sc.detection.terrain)
        got = self.models.pop(key, None)
        if got is None:
            doc = copy.deepcopy(sc.raw)
            doc["radar"] = [self.tables[j]]
            doc.pop("uncertainty", None)
            spec = parse_scenario(doc, source=sc.path).radars[0]
            terrain = self.terrain if sc.detection.terrain else None
            builder = masking_builder(self.cache, terrain, sc.detection.refraction_k) if terrain is not None else None
            got = prepare_radar(spec, sc.aircraft.rcs_m2, sc.detection.refraction_k, terrain, builder)
        self.models[key] = got                  # the most recently used last; the least used goes past the limit
        while len(self.models) > MODELS_KEPT:
            del self.models[next(iter(self.models))]
        return got

    def _compute(self, j):
        fs = self.fs
        P = np.zeros(fs.n)
        if not self.sees.any():
            return P
        radar = self.model(j)
        det = fs.scenario.detection
        period = radar.scan_period_s
        for i, route in enumerate(fs.sim.routes):
            idx = np.flatnonzero(self.sees & (fs.route_index == i))
            if not idx.size:
                continue
            if isinstance(radar.platform, Orbit):
                self._orbit_route(radar, i, idx, P)
                continue
            k0, count = scan_window(radar, route, det.refraction_k)
            if count == 0:
                continue
            offsets = offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, fs.offset_step_m)
            rows, inverse = np.unique(nearest_row(offsets, fs.cross_track_m[idx]), return_inverse=True)
            tab = detection_table(fs.sim.packed, i, route.duration_s, radar, offsets[rows], (k0 - 1) * period,
                                  (k0 + count + 1) * period)
            seen = np.isfinite(tab.first_s)
            if not seen.any():
                continue
            k_a = max(int(np.floor(np.min(tab.first_s[seen]) / period)) - 1, 0)
            k_b = int(np.ceil(np.max(tab.last_s[seen]) / period)) + det.track_n
            ks = np.arange(k_a, k_b + 1)
            phase = (np.arange(PHASES) + 0.5) / PHASES
            g_rows = np.repeat(np.arange(len(rows)), PHASES)
            t = (np.tile(phase, len(rows))[:, None] + ks[None, :]) * period
            pd = tab.lookup(g_rows, t)
            counts = self._counts(i, offsets[rows][g_rows], t)
            p = track_probability(pd, counts, det.track_m, det.track_n).reshape(len(rows), PHASES).mean(axis=1)
            P[idx] = np.minimum(radar.availability * p[inverse], P_MAX)
        return P

    def _orbit_route(self, radar, i, idx, P):
        """An orbit candidate's ``P`` for the flights ``idx`` of route ``i`` (written into ``P``): the m-of-n
        track probability averaged over :data:`LOOP_PHASES` loop phases times :data:`PHASES` scan phases, each
        scan of the radar's window on the route (:func:`sim.montecarlo.scan_window`, then the ``n - 1`` scans a
        track is still held past it) from its exact geometry (:func:`sim.detection.in_coverage` at the
        platform's position of that instant), on the flight's nearest tabulated offset. Flights and scans are
        array axes, in blocks of :data:`_ORBIT_BLOCK` elements."""
        fs = self.fs
        det = fs.scenario.detection
        route = fs.sim.routes[i]
        period, n = radar.scan_period_s, det.track_n
        k0, count = scan_window(radar, route, det.refraction_k)
        if count == 0:
            return
        offsets = offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, fs.offset_step_m)
        rows, inverse = np.unique(nearest_row(offsets, fs.cross_track_m[idx]), return_inverse=True)
        ks = k0 + np.arange(count + n - 1)
        live = ks < k0 + count              # the Monte Carlo walks the window's scans (a track held n - 1 past it)
        scan_phase = (np.arange(PHASES) + 0.5) / PHASES
        loop_phase = ((np.arange(LOOP_PHASES) + 0.5) / LOOP_PHASES)[:, None, None]
        per_row = LOOP_PHASES * PHASES * len(ks)
        step = max(1, _ORBIT_BLOCK // per_row)
        p = np.zeros(len(rows))
        for a in range(0, len(rows), step):
            b = len(rows[a:a + step])
            off = np.repeat(offsets[rows[a:a + step]], PHASES)                          # (b P,)
            t = (np.tile(scan_phase, b)[:, None] + ks[None, :]) * period                # (b P, K)
            xyz, alt, airborne = positions_at(fs.sim.packed, np.full(b * PHASES, i), off, t)
            covered, slant = in_coverage(radar, xyz[None], alt[None], t[None], loop_phase)     # (L, b P, K)
            pd = np.where(covered & (airborne & live)[None], scan_pd(radar, slant, True), 0.0)
            hit = np.flatnonzero(pd.any(axis=(0, 1)))
            if not hit.size:
                continue
            # scans before the first possible detection change nothing; none is held n - 1 scans past the last
            sl = slice(hit[0], min(hit[-1] + n, len(ks)))
            counts = self._counts(i, off, t[:, sl])
            if counts is not None:
                counts = np.broadcast_to(counts[None], pd[:, :, sl].shape).reshape(-1, sl.stop - sl.start)
            prob = track_probability(pd[:, :, sl].reshape(-1, sl.stop - sl.start), counts, det.track_m, n)
            p[a:a + b] = prob.reshape(LOOP_PHASES, b, PHASES).mean(axis=(0, 2))
        P[idx] = np.minimum(radar.availability * p[inverse], P_MAX)

    def _counts(self, i, offsets_m, t):
        """Scans at which a track counts: all (detect), inside the airspace, or early enough for the order."""
        fs = self.fs
        if self.objective == "detect":
            return None
        route = np.full(len(offsets_m), i)
        inside = inside_airspace_at(fs.sim.fences, route, offsets_m, t)
        if self.objective == "track-in-airspace":
            return inside
        feasible, k_out = self._order_tables(i)
        fz = fs.sim.fences[i]
        r = fz.row(offsets_m)[:, None]
        T = feasible.shape[1]
        k_t = np.clip(np.rint(t / FENCE_STEP_S).astype(np.int64), 0, T - 1)
        k_d = np.rint((t + fs.scenario.response.decision_delay_s) / FENCE_STEP_S).astype(np.int64)
        ok = (k_d < T) & (k_d < k_out[r, k_t])
        return inside & ok & feasible[r, np.clip(k_d, 0, T - 1)]

    def _order_tables(self, i):
        """Per fence row and sample: whether an order to land decided then is feasible (the aircraft can land
        at the nearest airport before it leaves the airspace, gaps of airspace_gap bridged), and the first
        sample outside the bridged stretch (:func:`sim.response.flight_response`'s rule)."""
        got = self._order.get(i)
        if got is None:
            fs = self.fs
            sim, resp, ac = fs.sim, fs.scenario.response, fs.scenario.aircraft
            fz = sim.fences[i]
            gap = int(np.floor(resp.airspace_gap_s / FENCE_STEP_S + 1e-9))
            inside = bridge_gaps(fz.in_airspace, gap)
            k_out = next_false(inside)
            t_exit = np.minimum((k_out - 0.5) * FENCE_STEP_S, fz.t_s[-1])
            n_rows, T = inside.shape
            tt = np.broadcast_to(fz.t_s, (n_rows, T))
            xyz, alt, _ = positions_at(sim.packed, np.full(n_rows, i), fz.offsets_m, tt)
            ap = resp.land_airports
            need, _ = time_to_land_s(xyz.reshape(-1, 3), alt.reshape(-1),
                                     unit_vectors([a.lat_deg for a in ap], [a.lon_deg for a in ap]),
                                     np.array([a.elevation_m for a in ap]), ac.descent_speed_mps, ac.descent_rate_mps)
            feasible = inside & (need.reshape(n_rows, T) <= t_exit - tt)
            got = (feasible, k_out)
            self._order[i] = got
        return got


def flight_groups(fs, rows):
    """Flights of ``rows`` that share their route, their row of the tables (nearest tabulated offset), their
    transponder and their scale have the same ``P_ij`` for every candidate: one representative each and
    the group's summed scale. Returns ``(representatives, weights)`` (exact: the objective is a sum over
    flights of a function of their own hazards)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not rows.size:
        return rows, np.zeros(0)
    table_row = np.zeros(len(rows), dtype=np.int64)
    for i, route in enumerate(fs.sim.routes):
        sel = fs.route_index[rows] == i
        if sel.any():
            offsets = offset_rows(route.cross_track_sigma_m, OFFSET_CLIP_SIGMA, fs.offset_step_m)
            table_row[sel] = nearest_row(offsets, fs.cross_track_m[rows[sel]])
    keys = np.column_stack([fs.route_index[rows], table_row, fs.transponder_on[rows].astype(np.int64),
                            np.round(fs.scale[rows] * 1e9).astype(np.int64)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=fs.scale[rows], minlength=len(first))
    return rows[first], weight


def reach_points(cands, like_spec):
    """Where each candidate can be: ``(xyz (Q, 3), alt_m (Q,), owner (Q,), slack_m (M,))``, the points in
    candidate order (``owner``: the candidate of each). A site is one point (its antenna); an orbit, its
    positions around the loop at most :data:`_BOUND_LOOP_M` apart (:meth:`sim.platforms.Orbit.loop_samples`) at
    its altitude, with that spacing as its slack (every position of the loop is within half of it of one)."""
    if not cands:
        return np.zeros((0, 3)), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0)
    if isinstance(cands[0], Racetrack):
        o = like_spec.orbit
        xyz = [flying_orbit(*zip(*c.waypoints), o.altitude_m, o.speed_mps).loop_samples(_BOUND_LOOP_M) for c in cands]
        owner = np.repeat(np.arange(len(cands)), [len(x) for x in xyz])
        return (np.vstack(xyz), np.full(len(owner), float(o.altitude_m)), owner,
                np.where([c.holds for c in cands], 0.0, _BOUND_LOOP_M))
    lat = np.array([c.lat_deg for c in cands])
    lon = np.array([c.lon_deg for c in cands])
    alt = np.array([(c.elevation_m or 0.0) + c.antenna_height_m for c in cands])
    return unit_vectors(lat, lon).reshape(-1, 3), alt, np.arange(len(cands)), np.zeros(len(cands))


def reach_matrix(fs, rows, cands, like_spec, points=None):
    """Geometric upper bounds on ``P_ij`` for the flights ``rows`` of a flight set and every candidate, shape
    (len(rows), M): the candidate's availability where flight ``i`` passes within its reach (instrumented
    range and, for a route at a fixed level, the smooth-Earth horizon, plus :data:`REACH_MARGIN_M`) at some
    point of its track, from some point where the candidate can be (:func:`reach_points`: its site, or its
    orbit's loop with the points' spacing added), else 0 (a flight a secondary candidate cannot see: 0).
    ``points`` is :func:`reach_points`'s answer, when the caller keeps it."""
    rows = np.asarray(rows, dtype=np.int64)
    M = len(cands)
    out = np.zeros((len(rows), M))
    if not len(rows) or not M:
        return out
    pxyz, palt, owner, pslack = reach_points(cands, like_spec) if points is None else points
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    k = fs.scenario.detection.refraction_k
    sees = np.ones(len(rows), dtype=bool)
    if like_spec.kind.needs_transponder:
        sees = fs.transponder_on[rows]
    for i, route in enumerate(fs.sim.routes):
        sel = np.flatnonzero((fs.route_index[rows] == i) & sees)
        if not sel.size:
            continue
        step = max(int(round(_BOUND_STEP_S / route.step_s)), 1)
        xyz, alt = route.xyz[::step], route.alt_m[::step]
        if (len(route.t_s) - 1) % step:
            xyz, alt = np.vstack([xyz, route.xyz[-1:]]), np.append(alt, route.alt_m[-1])
        chord_1s = np.linalg.norm(np.diff(route.xyz, axis=0), axis=1) if len(route.t_s) > 1 else np.zeros(1)
        speed = float(np.max(chord_1s)) * EARTH_RADIUS_M / route.step_s
        # the samples' spacing, the margin, and how much a ground distance can exceed the slant range it
        # belongs to on the sphere (R (theta - chord) <= D^3 / (24 R^2) at ground distance D; twice that)
        slack = (0.5 * step * route.step_s * speed + REACH_MARGIN_M
                 + like_spec.range_m ** 3 / (12.0 * EARTH_RADIUS_M ** 2)) + pslack
        d_pt = np.full(len(owner), np.inf)
        for a in range(0, len(owner), 256):
            c = pxyz[a:a + 256]
            chord = np.linalg.norm(c[:, None, :] - xyz[None, :, :], axis=-1)
            ground = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord / 2.0, 1.0))
            reach = np.full(ground.shape, like_spec.range_m)
            if route.alt_rows_m is None:       # a fixed level: the horizon too
                reach = np.minimum(reach, horizon_distance_m(palt[a:a + 256, None], alt[None, :], k))
            d_pt[a:a + 256] = np.min(ground - reach, axis=1)
        d_min = np.minimum.reduceat(d_pt, first)
        off = np.abs(fs.cross_track_m[rows[sel]])
        out[sel] = np.where(off[:, None] >= (d_min - slack)[None, :], like_spec.availability, 0.0)
    return out
