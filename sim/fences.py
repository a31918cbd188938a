"""Routes against geofences: the scenario's airspace and the air picture, per flight.

Flights differ from their nominal route only by a constant sideways offset,
so each route gets a table over (offset, time): inside the airspace, inside
the coverage of the radars that see every flight (those that need no
transponder), inside the coverage of any radar. A flight
reads the row of its nearest tabulated offset (rows at most
:data:`~sim.flights.OFFSET_STEP_M` apart), which makes the per-flight figures cheap for
any number of flights.

Coverage here is geometric (line of sight, terrain, instrumented range)
with every radar up: the nominal air picture that the maps draw. A radar
switched off (availability 0) covers nothing, here as on the maps. A radar
that needs the transponder counts only for flights with it on. An orbiting
radar covers what it can see from some point of its loop (the union over
the loop, as the maps draw it).
"""
from dataclasses import dataclass
from functools import cache, partial

import numpy as np

from geo.coverage import minutes_inside, time_inside
from sim.detection import coverage_from, in_coverage
from sim.flights import OFFSET_STEP_M, nearest_row, offset_rows, positions_at, to_lat_lon
from sim.platforms import Orbit

__all__ = ["RouteFences", "route_fences", "flight_fence_figures", "inside_airspace_at", "stretches", "last_true",
           "next_false", "bridge_gaps",
           "nominal_route_fences", "coverage_over_loop", "FENCE_STEP_S", "LOOP_STEP_M"]

#: Time step of the fence tables [s] (about 2 km at cruise speed).
FENCE_STEP_S = 10.0
#: Largest spacing of the orbit positions whose coverage is united [m].
LOOP_STEP_M = 20_000.0


@dataclass(frozen=True)
class RouteFences:
    """Fence tables of one route; boolean arrays shape (n_offsets, T)."""

    offsets_m: np.ndarray
    t_s: np.ndarray
    in_airspace: np.ndarray
    covered_primary: np.ndarray    # by radars that need no transponder
    covered_any: np.ndarray
    last_covered: np.ndarray | None = None    # (R, n_offsets, T) int32: last sample at or before each covered by
    #                                    radar j (-1: none yet); the air picture of :mod:`sim.response`

    def __getstate__(self):
        """Its fields only: what it derives and keeps (:meth:`row_minutes`, :meth:`bridged`) is not sent to
        workers (each derives it again, the same)."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def row(self, cross_track_m):
        """Index of the nearest tabulated offset."""
        return nearest_row(self.offsets_m, cross_track_m)

    def row_minutes(self):
        """``(in_airspace, covered_any, covered_primary)``: minutes of each table row inside the airspace and
        in coverage (:func:`geo.coverage.minutes_inside`), computed once per table (kept on it)."""
        got = self.__dict__.get("_row_minutes")
        if got is None:
            got = tuple(minutes_inside(m, self.t_s) for m in (self.in_airspace, self.covered_any, self.covered_primary))
            self.__dict__["_row_minutes"] = got       # derived from the frozen fields: never stale
        return got

    def bridged(self, max_gap):
        """``(inside, next_outside)``: the airspace rows with every exit of at most ``max_gap`` samples
        bridged (:func:`sim.response.bridge_gaps`), and the first sample outside at or after each
        (:func:`next_false`); computed once per table and gap (kept on it)."""
        kept = self.__dict__.setdefault("_bridged", {})
        if max_gap not in kept:
            inside = bridge_gaps(self.in_airspace, max_gap)
            kept[max_gap] = (inside, np.ascontiguousarray(next_false(inside)))
        return kept[max_gap]

    def entry_s(self, rows):
        """Earliest time [s] at which a flight on each row reads as inside the airspace (nearest
        table sample: half a step before the first sample inside), ``inf`` if never."""
        inside = self.in_airspace[rows]
        first = np.argmax(inside, axis=1)
        return np.where(inside.any(axis=1), (first - 0.5) * FENCE_STEP_S, np.inf)


def coverage_over_loop(radar, xyz, alt_m):
    """Whether targets are in a radar's coverage; for an orbit, from any point of its loop."""
    if not isinstance(radar.platform, Orbit):
        return in_coverage(radar, xyz, alt_m)[0]
    alt = np.broadcast_to(np.asarray(alt_m, dtype=float), np.shape(xyz)[:-1])
    covered = np.zeros(alt.shape, dtype=bool)
    for p in radar.platform.loop_samples(LOOP_STEP_M):
        todo = ~covered          # a target seen from one point of the loop needs no other
        covered[todo] = coverage_from(radar, p, radar.platform.alt_m, xyz[todo], alt[todo])[0]
    return covered


def _airspace_rows(positions, t_s, airspace):
    """Whether each row's samples (``positions()``, at times ``t_s``) are inside the airspace, (N, T)."""
    lat, lon = to_lat_lon(positions()[0])
    x, y = airspace.transformer.transform(lon, lat)
    return time_inside(x, y, t_s, airspace.polygon_m)[0]


def _coverage_rows(radar, positions):
    """Whether each row's samples (``positions()``) are in a radar's coverage (for an orbit, from any point
    of its loop), (N, T)."""
    return coverage_over_loop(radar, *positions()[:2])


def route_fences(sim, clip_sigma, coverage_part=None, airspace_part=None, fences_part=None):
    """Fence tables of every route of a prepared simulation (its airspace and radars).

    ``coverage_part(i, j, compute)`` and ``airspace_part(i, compute)`` return route ``i``'s coverage
    rows of radar ``j`` and its airspace rows, calling ``compute()`` when they are not at hand
    (default: always; :func:`sim.montecarlo.prepare` passes its cache's).
    ``fences_part(i, reads, compute)`` returns route ``i``'s whole :class:`RouteFences`, calling ``compute()``
    when it is not at hand (default: always): it is a function of route ``i``'s airspace rows, of its coverage
    rows of every radar (in order) and of ``reads``, the rest it reads (``clip_sigma``, and which radars are
    on and which need no transponder), so a caller keys it by those parts' keys and ``reads``. A table kept
    keeps what it derives once (:meth:`RouteFences.row_minutes`, :meth:`RouteFences.bridged`).
    """
    coverage_part = coverage_part or (lambda i, j, compute: compute())
    airspace_part = airspace_part or (lambda i, compute: compute())
    fences_part = fences_part or (lambda i, reads, compute: compute())
    on = tuple(bool(r.availability > 0) for r in sim.radars)      # off: covers nothing
    primary = tuple(o and not r.kind.needs_transponder for o, r in zip(on, sim.radars))
    reads = (float(clip_sigma), on, primary)
    return tuple(fences_part(i, reads, partial(_route_fences_of, sim, i, clip_sigma, on, primary, coverage_part,
                                               airspace_part))
                 for i in range(len(sim.routes)))


def _route_fences_of(sim, i, clip_sigma, on, primary, coverage_part, airspace_part):
    """The :class:`RouteFences` of route ``i`` (:func:`route_fences`); ``on`` and ``primary``: per radar, whether
    it covers anything, and whether it covers flights without a transponder."""
    route = sim.routes[i]
    offsets = offset_rows(route.cross_track_sigma_m, clip_sigma, OFFSET_STEP_M)
    n = len(offsets)
    t = np.arange(0.0, route.duration_s + FENCE_STEP_S, FENCE_STEP_S)
    t = np.minimum(t, route.duration_s)
    tt = np.broadcast_to(t, (n, len(t)))
    # computed at most once, and only when a part is not at hand; each bound to this route's values
    positions = cache(partial(positions_at, sim.packed, np.full(n, i), offsets, tt))
    in_airspace = airspace_part(i, partial(_airspace_rows, positions, t, sim.airspace))
    per_radar = np.zeros((len(sim.radars), n, len(t)), dtype=bool)
    for j, radar in enumerate(sim.radars):
        per_radar[j] = coverage_part(i, j, partial(_coverage_rows, radar, positions))
    on, primary = np.array(on, dtype=bool), np.array(primary, dtype=bool)
    return RouteFences(offsets, t, in_airspace, per_radar[primary].any(axis=0), per_radar[on].any(axis=0),
                       last_true(per_radar))


def flight_fence_figures(fences, route_index, cross_track_m, transponder_on):
    """Minutes in the airspace and in coverage per flight, shape (F,) each."""
    F = len(route_index)
    in_airspace = np.zeros(F)
    in_cov = np.zeros(F)
    for i, fz in enumerate(fences):   # loop over routes; flights are array rows
        sel = route_index == i
        if not sel.any():
            continue
        rows = fz.row(cross_track_m[sel])
        airspace_min, any_min, primary_min = fz.row_minutes()
        in_airspace[sel] = airspace_min[rows]
        in_cov[sel] = np.where(transponder_on[sel], any_min[rows], primary_min[rows])
    return in_airspace, in_cov


def inside_airspace_at(fences, route_index, cross_track_m, t_s):
    """Whether flights are inside the airspace at times ``t_s`` (F, K), nearest table sample."""
    out = np.zeros(np.shape(t_s), dtype=bool)
    for i, fz in enumerate(fences):
        sel = route_index == i
        if not sel.any():
            continue
        rows = fz.row(cross_track_m[sel])[:, None]
        cols = np.clip(np.rint(t_s[sel] / FENCE_STEP_S).astype(np.int64), 0, len(fz.t_s) - 1)
        out[sel] = fz.in_airspace[rows, cols]
    return out


def last_true(mask):
    """Index of the last True at or before each sample (-1 if none), along the last axis.

    >>> last_true(np.array([False, True, False, True, False])).tolist()
    [-1, 1, 1, 3, 3]
    """
    idx = np.arange(mask.shape[-1], dtype=np.int32)
    return np.maximum.accumulate(np.where(mask, idx, np.int32(-1)), axis=-1)


def next_false(mask):
    """Index of the first False at or after each sample (the length if none), along the last axis."""
    n = mask.shape[-1]
    first = np.where(mask, n, np.arange(n))
    return np.flip(np.minimum.accumulate(np.flip(first, axis=-1), axis=-1), axis=-1)


def bridge_gaps(mask, max_gap):
    """``mask`` with every run of False of at most ``max_gap`` samples between two Trues set True (last axis).

    >>> bridge_gaps(np.array([True, False, False, True, False]), 2).tolist()
    [True, True, True, True, False]
    """
    n = mask.shape[-1]
    prev, nxt = last_true(mask), next_false(~mask)      # the first True at or after each sample
    return mask | ((prev >= 0) & (nxt < n) & (nxt - prev - 1 <= max_gap))


def stretches(mask, t_s):
    """Runs of True in a boolean series as ``[[start, end], ...]`` in the units of ``t_s``."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    return [[float(t_s[a]), float(t_s[b])] for a, b in zip(starts, ends)]


def nominal_route_fences(fz):
    """Entry into and exit from the airspace, and the stretches in coverage, of a nominal route (offset 0).

    Times in minutes since departure, to the table step (:data:`FENCE_STEP_S`).
    """
    row = int(fz.row(0.0))
    t_min = fz.t_s / 60.0
    inside_mask = fz.in_airspace[row]
    r = lambda v: [[round(a, 2), round(b, 2)] for a, b in v]  # noqa: E731
    inside = stretches(inside_mask, t_min)
    return {
        "airspace_entry_min": round(inside[0][0], 2) if inside else None,
        "airspace_exit_min": round(inside[-1][1], 2) if inside else None,
        "in_airspace_min": r(inside),
        "in_coverage_all_radars_min": r(stretches(fz.covered_any[row], t_min)),
        "in_coverage_primary_min": r(stretches(fz.covered_primary[row], t_min)),
        "in_airspace_outside_primary_coverage_minutes": round(float(np.sum(inside_mask & ~fz.covered_primary[row]))
                                                          * FENCE_STEP_S / 60.0, 2),
    }
