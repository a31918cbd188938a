"""The compiled walk: each flight's scans, from its first covered scan to its track, as one loop (numba).

The fast path of :mod:`sim.montecarlo` walks scans in growing numpy blocks
(``_blocks``): thousands of small array operations per chunk, about
2.7 microseconds per flight. The walk itself is a few tens of addressed
draws and table reads per flight; here it is one compiled loop over the
flights of a chunk per radar and route (:func:`walk_fixed_pair`), which
reads exactly the same addressed uniforms (:mod:`sim.streams`'s SplitMix64,
the same bits), the same detection-table samples (nearest row, nearest time
sample, the same float64 arithmetic) and the same fence samples, so its
per-flight results are byte-identical to the numpy walk's (tested on every
shipped scenario at several chunkings: ``tests/test_compiled_walk.py``).

What the numpy walk does per block, this loop does per scan: it keeps the
last ``n`` hits (in the bits of one integer up to :data:`BITS_WINDOW` scans,
else in a ring) and counts them (the m-of-n rule), stops at the scan that
completes the track and, when that scan is outside the airspace, walks on
from the flight's airspace entry, replaying the ``n - 1`` scans before it so
that the m-of-n memory is that of the same draws, and only while that can
still give the flight an earlier in-airspace track than another radar did.

Orbiting radars are not walked here (their Pd depends on where the
platform is on its loop: exact geometry per scan, :mod:`sim.montecarlo`).

More per-flight loops of a chunk are compiled here, each with its numpy
reference kept and tested equal: the chunk's per-flight draws and what
they decide (:func:`chunk_draws`, :func:`chunk_flights`,
:class:`sim.montecarlo.ChunkDraws`), the air
picture's exit and end of the reaction window (:func:`air_picture_route`,
:func:`sim.response.air_picture`), the positions at the decision to order a
landing (:func:`positions_once`, :func:`sim.flights.positions_at`), the
minutes in the airspace and in coverage (:func:`fence_figures_route`,
:func:`sim.fences.flight_fence_figures`) and each flight's first track
(:func:`first_tracks`). The rest of a chunk stays numpy.

The compiled code is cached on disk (numba's ``cache=True``): next to this
file in ``__pycache__`` when that folder is writable (an editable or
user-owned install), else numba's user-wide cache (``~/.cache/numba``), or
``$NUMBA_CACHE_DIR`` when set; when none of them can be written, a folder
of the system's temporary directory (:mod:`geo.compiled`, the decorator
every compiled kernel of the project uses). Only the
first use compiles (a few seconds; said on stderr when it takes longer
than :data:`COMPILE_NOTICE_S`); later processes, workers and Dask tasks
load the cached machine code.
"""
import sys
import threading
import time

import numpy as np

from geo.compiled import jit as _jit

__all__ = ["walk_fixed_pair", "BITS_WINDOW", "chunk_draws", "chunk_flights", "air_picture_route", "positions_once", "fence_figures_route",
           "first_tracks", "ensure_compiled", "uniform_at", "COMPILE_NOTICE_S"]

#: A first compilation that takes longer than this is announced on stderr [s].
COMPILE_NOTICE_S = 1.0

# the constants of sim.streams (same values: the same bits)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ONE = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0
#: "No such scan" (as sim.montecarlo's).
_NO_SCAN = np.iinfo(np.int64).min
#: The longest m-of-n window kept in the bits of one int64 (bit n must lie below the sign bit); longer ones
#: in a ring array (10% slower).
BITS_WINDOW = 62


@_jit(inline="always")
def _mix(z):
    """SplitMix64's output function (:func:`sim.streams._mix`)."""
    z = z ^ (z >> _S30)
    z = z * _M1
    z = z ^ (z >> _S27)
    z = z * _M2
    return z ^ (z >> _S31)


@_jit(inline="always")
def uniform_at(key, counter):
    """The uniform of :func:`sim.streams.uniforms_at` at ``counter`` (int64; wraps as uint64) of stream ``key``."""
    z = _mix(key + (np.uint64(counter) + _ONE) * _GOLDEN)
    return (np.float64(z >> _S11) + 0.5) * _TO_UNIT


_K_CAMPAIGN = np.uint64(0xD1B54A32D192ED03)
_K_FLIGHT = np.uint64(0xAEF17502108EF2D9)
_K_STREAM = np.uint64(0xDB4F0B9175AE2165)
_CAMPAIGN = np.uint64(2**32 - 1)


@_jit()
def chunk_draws(seed, first, n_campaigns, flights, streams, per_campaign, scan_streams, uniforms, scan_keys):
    """The per-flight draws of a chunk in one pass (:class:`sim.montecarlo.ChunkDraws`'s, the same bits):
    for campaigns ``first ..`` and their ``flights``, ``uniforms[s, f]`` is the uniform at counter 0 of
    stream ``streams[s]`` (of the campaign's flight :data:`sim.streams.CAMPAIGN` where
    ``per_campaign[s]``) and ``scan_keys[r, f]`` the key of stream ``scan_streams[r]``
    (:func:`sim.streams.flight_keys`, :func:`~sim.streams.keys_of_streams`, :func:`~sim.streams.uniforms_at`)."""
    base = _mix(np.uint64(seed) * _GOLDEN + _GOLDEN)
    i = 0
    for c in range(n_campaigns):
        kc = _mix(base + np.uint64(first + c) * _K_CAMPAIGN)
        k_campaign = _mix(kc + _CAMPAIGN * _K_FLIGHT)
        for f in range(flights):
            kf = _mix(kc + np.uint64(f) * _K_FLIGHT)
            for s in range(streams.shape[0]):
                k = k_campaign if per_campaign[s] else kf
                uniforms[s, i] = uniform_at(_mix(k + streams[s] * _K_STREAM), 0)
            for r in range(scan_streams.shape[0]):
                scan_keys[r, i] = _mix(kf + scan_streams[r] * _K_STREAM)
            i += 1


@_jit()
def chunk_flights(drawn, route_row, transponder_row, up_rows, route_cum_p, on_probability, availability,
                  needs_transponder, route_index, transponder_on, up, sees):
    """Per flight (columns of ``drawn``, :func:`chunk_draws`'s uniforms), as :class:`sim.montecarlo.ChunkDraws`'s
    numpy reference: the route (the first whose cumulative probability ``route_cum_p`` exceeds the draw of
    row ``route_row``, the last at most), the transponder on (row ``transponder_row`` under
    ``on_probability``), each radar up (row ``up_rows[j]`` under ``availability[j]``) and seeing the flight
    (up, and its transponder on where ``needs_transponder[j]``)."""
    n_routes = route_cum_p.shape[0]
    for f in range(drawn.shape[1]):
        u = drawn[route_row, f]
        r = 0
        for c in range(n_routes):        # np.searchsorted(route_cum_p, u, side="right")
            if route_cum_p[c] <= u:
                r += 1
        route_index[f] = min(r, n_routes - 1)
        on = drawn[transponder_row, f] < on_probability
        transponder_on[f] = on
        for j in range(up_rows.shape[0]):
            ok = drawn[up_rows[j], f] < availability[j]
            up[f, j] = ok
            sees[f, j] = ok and (on or not needs_transponder[j])


@_jit(inline="always")
def _nearest_row(offsets_m, x):
    """:func:`sim.flights.nearest_row` of one offset."""
    n = offsets_m.shape[0]
    if n == 1:
        return 0
    r = np.int64(np.rint((x - offsets_m[0]) / (offsets_m[1] - offsets_m[0])))
    return min(max(r, 0), n - 1)


@_jit(inline="always")
def _pd(pd, row, t0_s, step_s, duration_s, t):
    """:meth:`sim.tables.DetectionTable.lookup` of one scan (float64 of the float32 sample)."""
    c = np.int64(np.rint((t - t0_s) / step_s))
    if c < 0 or c >= pd.shape[1] or t < 0.0 or t > duration_s:
        return 0.0
    return np.float64(pd[row, c])


@_jit(inline="always")
def _inside(in_airspace, frow, t, fence_step_s):
    """:func:`sim.fences.inside_airspace_at` of one instant (nearest fence sample)."""
    c = np.int64(np.rint(t / fence_step_s))
    c = min(max(c, 0), in_airspace.shape[1] - 1)
    return in_airspace[frow, c]


@_jit(inline="always")
def _walk(key, phase, period_s, pd, row, t0_s, step_s, duration_s, k_start, k_stop, carry_from, m, n, ring,
          in_airspace, frow, fence_step_s, want_inside, t_before):
    """The first scan in ``[k_start, k_stop]`` from ``carry_from`` on at which ``m`` of the last ``n`` scans
    are hits (and, with ``want_inside``, the flight is inside the airspace), and before ``t_before`` [s]
    (:data:`_NO_SCAN` if none), and the number of scans drawn. Scans before ``carry_from`` only fill the
    m-of-n memory: the bits of one integer when ``ring`` is None (``n`` up to :data:`BITS_WINDOW`), else
    the array ``ring`` (``n`` long, reset here); the choice is made when the code is compiled (two
    versions), not per scan."""
    if ring is not None:
        for q in range(n):
            ring[q] = 0
    count = 0
    q = 0
    bits = 0
    for k in range(k_start, k_stop + 1):
        t = (phase + k) * period_s
        if t >= t_before:
            return _NO_SCAN, k - k_start
        hit = 1 if uniform_at(key, k) < _pd(pd, row, t0_s, step_s, duration_s, t) else 0
        if ring is None:            # the last n hits in the bits of one integer (bit n: the scan leaving)
            bits = (bits << 1) | hit
            count += hit - ((bits >> n) & 1)
        else:                       # a ring: slot q holds the scan n back
            count += hit - ring[q]
            ring[q] = hit
            q += 1
            if q == n:
                q = 0
        if k >= carry_from and count >= m:
            if not want_inside or _inside(in_airspace, frow, t, fence_step_s):
                return k, k - k_start + 1
    return _NO_SCAN, max(k_stop - k_start + 1, 0)


@_jit()
def walk_fixed_pair(j, route, route_index, sees, cross_track_m, phase, keys, offsets_m, pd, t0_s, step_s,
                    duration_s, first_s, last_s, period_s, m, n, fences_on, fence_offsets_m, in_airspace,
                    entry_s, fence_step_s, tracked_by, track_time_s, in_airspace_t, counts, ring):
    """Radar ``j`` (fixed, its detection table along route ``route``) over the flights of a chunk that fly
    that route and that it sees: each flight walked from its first possibly covered scan to its track,
    as :func:`sim.montecarlo._fast_pair` (same draws, same table samples, same results).

    Per flight ``f``: ``route_index`` (F,), ``sees`` (F, R), ``cross_track_m`` (F,), ``phase`` (F,) the
    radar's scan phase, ``keys`` (F,) its scan stream keys. The table: ``offsets_m``, ``pd`` (float32,
    offsets x times from ``t0_s`` every ``step_s``), ``duration_s``, ``first_s``, ``last_s``. The fences
    (``fences_on``): the route's ``fence_offsets_m``, ``in_airspace`` (offsets x samples every
    ``fence_step_s``) and ``entry_s`` per fence row (:meth:`sim.fences.RouteFences.entry_s`).
    Writes ``tracked_by[f, j]``, ``track_time_s[f, j]`` and lowers ``in_airspace_t[f]`` to the first
    time a track of this radar is held while the flight is inside the airspace; adds to ``counts``
    (int64, 2) the scans walked (each one addressed draw and one table read) and the flights walked.
    ``ring``: None for a window ``n`` up to :data:`BITS_WINDOW` scans, else an int64 array ``n`` long.
    """
    half = 0.5 * step_s       # scans read the nearest time sample
    for f in range(route_index.shape[0]):
        if route_index[f] != route or not sees[f, j]:
            continue
        row = _nearest_row(offsets_m, cross_track_m[f])
        ph = phase[f]
        lo = np.ceil((first_s[row] - half) / period_s - ph)
        if not np.isfinite(lo):
            continue
        k_lo = max(np.int64(lo), 0)      # scan 0 is the first after departure
        k_hi = np.int64(np.floor((last_s[row] + half) / period_s - ph))
        if k_lo > k_hi:
            continue
        k, drawn = _walk(keys[f], ph, period_s, pd, row, t0_s, step_s, duration_s, k_lo, k_hi, k_lo, m, n, ring,
                         in_airspace, 0, fence_step_s, False, np.inf)
        counts[1] += 1
        counts[0] += drawn
        if k == _NO_SCAN:
            continue
        t = (ph + k) * period_s
        tracked_by[f, j] = True
        track_time_s[f, j] = t
        if not fences_on:
            continue
        frow = _nearest_row(fence_offsets_m, cross_track_m[f])
        if _inside(in_airspace, frow, t, fence_step_s):
            inside_t = t
        else:      # tracked before it entered: walk on from its entry (replaying the n - 1 scans before)
            entry = np.ceil(entry_s[frow] / period_s - ph)
            k_from = max(k + 1, np.int64(entry) if np.isfinite(entry) else k_hi + n)
            k_stop = k_hi + n - 1        # a track is held up to n - 1 scans past the last hit
            # only a time before the earliest already found (another radar's) can change the flight's; the
            # walk stops at it (and is not begun when it comes before this walk's first scan)
            if (ph + k_from) * period_s >= in_airspace_t[f]:
                continue
            kin, drawn = _walk(keys[f], ph, period_s, pd, row, t0_s, step_s, duration_s, k_from - (n - 1),
                               k_stop, k_from, m, n, ring, in_airspace, frow, fence_step_s, True, in_airspace_t[f])
            counts[0] += drawn
            if kin == _NO_SCAN:
                continue
            inside_t = (ph + kin) * period_s
        if inside_t < in_airspace_t[f]:
            in_airspace_t[f] = inside_t


@_jit()
def air_picture_route(flights, cross_track_m, t_in_s, sees, offsets_m, outside, last_covered, coast, t_last_s,
                      fence_step_s, t_exit_s, t_end_s):
    """:func:`sim.response.air_picture`'s exit and end of the reaction window of the ``flights`` of one route
    (indices; each tracked in the airspace at ``t_in_s``), the same arithmetic one flight at a time: the
    route's fence rows ``offsets_m``, the first sample outside the bridged airspace at or after each
    (``outside``, :meth:`sim.fences.RouteFences.bridged`) and each radar's last covered sample
    (``last_covered``, radars x rows x samples); ``sees`` (F, R) the radars that see each flight.
    Writes ``t_exit_s[f]`` and ``t_end_s[f]``."""
    n_t = outside.shape[1]
    for f in flights:
        row = _nearest_row(offsets_m, cross_track_m[f])
        k_in = min(max(np.int64(np.rint(t_in_s[f] / fence_step_s)), 0), n_t - 1)
        k_out = outside[row, k_in]                  # the first sample outside the bridged stretch
        exit_s = min((k_out - 0.5) * fence_step_s, t_last_s)
        k = max(k_out - 1, 0)
        last_cov = -1                               # the last sample covered by a radar that sees it
        for j in range(last_covered.shape[0]):
            if sees[f, j] and last_covered[j, row, k] > last_cov:
                last_cov = np.int64(last_covered[j, row, k])
        last = min(last_cov + coast, k_out - 1) if last_cov >= 0 else -1
        t_exit_s[f] = exit_s
        t_end_s[f] = min(max((last + 0.5) * fence_step_s, t_in_s[f]), exit_s)


@_jit()
def positions_once(table, start, count, step_s, radius_m, route_index, cross_track_m, t_s, xyz, alt_m):
    """:func:`sim.flights.positions_at` of flights at one time each (``t_s`` (F,), finite), the same float64
    operations in the same order: writes ``xyz`` (F, 3) and ``alt_m`` (F,) on the nominal altitude profile
    (a terrain-following route's own rows are its caller's). ``table``, ``start``, ``count``, ``step_s``: the
    :class:`sim.flights.PackedRoutes`; ``radius_m`` the Earth's radius."""
    for f in range(t_s.shape[0]):
        r = route_index[f]
        u = t_s[f] / step_s
        i = min(max(np.int64(np.floor(u)), 0), count[r] - 2)
        frac = min(max(u - i, 0.0), 1.0)
        k = start[r] + i
        a = cross_track_m[f] / radius_m
        scale = 1.0 / np.sqrt(1.0 + a * a)
        for c in range(3):
            x = table[k, c] + frac * table[k, 3 + c]
            x += a * (table[k, 6 + c] + frac * table[k, 9 + c])
            xyz[f, c] = x * scale
        alt_m[f] = table[k, 12] + frac * table[k, 13]


@_jit()
def fence_figures_route(route, route_index, cross_track_m, transponder_on, offsets_m, airspace_min, any_min,
                        primary_min, in_airspace_min, in_coverage_min):
    """:func:`sim.fences.flight_fence_figures` of the flights of route ``route``: each reads its row's minutes
    in the airspace and in coverage (of any radar with its transponder on, else of those that need none)."""
    for f in range(route_index.shape[0]):
        if route_index[f] != route:
            continue
        row = _nearest_row(offsets_m, cross_track_m[f])
        in_airspace_min[f] = airspace_min[row]
        in_coverage_min[f] = any_min[row] if transponder_on[f] else primary_min[row]


@_jit()
def first_tracks(tracked_by, track_time_s, detected, first_radar, first_detection_s):
    """Per flight (rows of ``tracked_by`` (F, R) and ``track_time_s``): whether any radar tracked it, the
    radar of its earliest track (the first on a tie, as ``argmin``; -1 if none) and that track's time (NaN
    if none), written into ``detected``, ``first_radar`` and ``first_detection_s``
    (:func:`sim.montecarlo._first_tracks`'s numpy reference)."""
    for f in range(tracked_by.shape[0]):
        best, when = -1, np.inf
        for j in range(tracked_by.shape[1]):
            if tracked_by[f, j] and (best < 0 or track_time_s[f, j] < when):
                best, when = j, track_time_s[f, j]
        detected[f] = best >= 0
        first_radar[f] = best
        first_detection_s[f] = when if best >= 0 else np.nan


_compiled: list[bool] = []


def ensure_compiled():
    """Compile the walk (or load it from the disk cache) now, on a tiny input; a compilation that takes
    longer than :data:`COMPILE_NOTICE_S` is announced on stderr while it runs. Returns the seconds taken."""
    if _compiled:
        return 0.0
    t0 = time.perf_counter()
    notice = threading.Timer(COMPILE_NOTICE_S, lambda: print(
        "airpicture: readying the compiled walk (compiled on first use, a few seconds; then loaded from its disk "
        "cache)", file=sys.stderr,
        flush=True))
    notice.daemon = True
    notice.start()
    try:
        F, R = 1, 1
        z = np.zeros
        for ring in (None, z(1, np.int64)):      # both versions: the window in bits, and in a ring
            walk_fixed_pair(0, 0, z(F, np.int64), np.ones((F, R), bool), z(F), z(F), z(F, np.uint64), z(1),
                            z((1, 2), np.float32), 0.0, 1.0, 1.0, z(1), z(1), 1.0, 1, 1, True, z(1),
                            z((1, 2), bool), z(1), 10.0, z((F, R), bool), z((F, R)), z(F), z(2, np.int64), ring)
        chunk_draws(np.uint64(1), 0, 1, 1, np.ones(1, np.uint64), np.zeros(1, bool), np.ones(1, np.uint64),
                    z((1, 1)), z((1, 1), np.uint64))
        chunk_flights(z((3, F)), 0, 1, np.full(R, 2), np.ones(1), 0.5, np.ones(R), np.ones(R, bool), z(F, np.int64),
                      z(F, bool), z((F, R), bool), z((F, R), bool))
        air_picture_route(z(F, np.int64), z(F), z(F), np.ones((F, R), bool), z(1), z((1, 1), np.int64),
                          z((R, 1, 1), np.int32), 1, 0.0, 10.0, z(F), z(F))
        positions_once(z((2, 14)), z(1, np.int64), np.full(1, 2), 1.0, 1.0, z(F, np.int64), z(F), z(F), z((F, 3)),
                       z(F))
        fence_figures_route(0, z(F, np.int64), z(F), np.ones(F, bool), z(1), z(1), z(1), z(1), z(F), z(F))
        first_tracks(z((F, R), bool), z((F, R)), z(F, bool), z(F, np.int64), z(F))
    finally:
        notice.cancel()
    _compiled.append(True)
    return time.perf_counter() - t0
