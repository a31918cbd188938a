"""Detection tables: a fixed radar's per-scan Pd along a route, over (sideways offset, time).

A flight differs from its route's nominal track only by its constant
sideways offset, so what a fixed radar can see of it at time ``t``
(line of sight over the effective Earth and the terrain, instrumented range)
and the per-scan Pd there are functions of (offset, t) alone. Tabulated once
per route and radar on rows at most :data:`~sim.flights.OFFSET_STEP_M` apart
and a :data:`TABLE_STEP_S` time grid, they turn a flight's scans into
lookups (nearest row, nearest time sample) instead of geodesy, horizon and
terrain per scan.

The approximation: a flight is read on the nearest tabulated offset (at
most 125 m sideways) and the nearest time sample (at most 0.5 s, about
110 m along track at cruise). It changes a scan's outcome only where the
flight grazes the edge of coverage; the tests bound the effect against the
exact per-scan path (:mod:`sim.montecarlo` with ``exact=True``).

An orbiting radar's Pd also depends on where it is on its loop, drawn per
flight, so it is not tabulated: its scans are evaluated from their exact
geometry. What is tabulated is *when* it can possibly see a flight: an
:class:`OrbitReach` gives, per band of sideways offsets and bin of the
orbit's loop phase (the phase as an axis), the first and last instants at
which the flight can come within the radar's reach, bounds proven with
slack for everything the bins leave out. Outside them every scan's Pd is
exactly 0, so the walk skips them and the results are those of the exact
path, scan for scan (tested).
"""
from dataclasses import dataclass

import numpy as np

from geo.earth import EARTH_RADIUS_M, horizon_distance_m
from sim.detection import in_coverage, platform_geometry, scan_pd
from sim.flights import nearest_row, offset_positions, positions_at

__all__ = ["DetectionTable", "detection_table", "OrbitReach", "orbit_reach", "TABLE_STEP_S", "WINDOW_MARGIN_M",
           "ORBIT_SAMPLE_M", "ORBIT_PHASE_BINS", "ORBIT_BAND_M"]

#: Time step of the detection tables [s].
TABLE_STEP_S = 1.0
#: Ground distance added to a radar's reach when its scan window along a route is found, and to a masking
#: table's range (at full slant range the ground distance can be slightly longer) [m].
WINDOW_MARGIN_M = 2_000.0
#: Spacing of the orbit positions tried when finding an orbiting radar's scan window [m].
ORBIT_SAMPLE_M = 10_000.0
#: Loop-phase bins of an :class:`OrbitReach` (a flight's orbit is within half a bin of the loop, 36 s or
#: 6 km for the AEW scenario's racetrack, of the bin's centre: that much slack in its bounds).
ORBIT_PHASE_BINS = 32
#: Width of the sideways-offset bands of an :class:`OrbitReach` [m] (half of it is slack in its bounds).
ORBIT_BAND_M = 2_000.0


@dataclass(frozen=True)
class DetectionTable:
    """Per-scan Pd of one fixed radar along one route, shape (n_offsets, n_times).

    ``pd[o, c]`` is the Pd of a scan at time ``t0_s + c * step_s`` of a
    flight at offset ``offsets_m[o]``: 0 outside coverage or off the
    route's flight time ``[0, duration_s]`` (also between samples). ``first_s[o]``
    and ``last_s[o]`` bound the covered times of each row (``inf``/``-inf``
    for a row never covered).
    """

    offsets_m: np.ndarray
    t0_s: float
    step_s: float
    duration_s: float
    pd: np.ndarray           # float32 (n_offsets, n_times)
    first_s: np.ndarray      # (n_offsets,)
    last_s: np.ndarray       # (n_offsets,)

    def row(self, cross_track_m):
        """Index of the nearest tabulated offset."""
        return nearest_row(self.offsets_m, cross_track_m)

    def lookup(self, rows, t_s):
        """Pd at times ``t_s`` (F, K) for flights on rows ``rows`` (F,) (nearest time sample; 0 off the table)."""
        c = np.rint((t_s - self.t0_s) / self.step_s).astype(np.int64)
        off = (c < 0) | (c >= self.pd.shape[1]) | (t_s < 0.0) | (t_s > self.duration_s)
        pd = self.pd[rows[:, None], np.clip(c, 0, self.pd.shape[1] - 1)]
        pd[off] = 0.0
        return pd


def detection_table(packed, route_index, duration_s, radar, offsets_m, t_start_s, t_end_s,
                    step_s=TABLE_STEP_S, block_rows=64):
    """Tabulate a fixed radar's per-scan Pd along a route over ``offsets_m`` x ``[t_start, t_end]``.

    Uses the exact per-scan functions (:func:`sim.flights.positions_at`,
    :func:`sim.detection.in_coverage`, :func:`sim.detection.scan_pd`) on
    the grid, with the transponder on (a radar that needs it is skipped by
    the caller for flights without it).
    """
    t = t_start_s + np.arange(int(np.ceil((t_end_s - t_start_s) / step_s)) + 1) * step_s
    pd = np.zeros((len(offsets_m), len(t)), dtype=np.float32)
    for a in range(0, len(offsets_m), block_rows):   # bounds memory: rows x times x 14 gathered floats
        o = offsets_m[a:a + block_rows]
        tt = np.broadcast_to(t, (len(o), len(t)))
        xyz, alt, airborne = positions_at(packed, np.full(len(o), route_index), o, tt)
        covered, slant = in_coverage(radar, xyz, alt)
        pd[a:a + block_rows] = np.where(airborne & covered & (tt <= duration_s), scan_pd(radar, slant, True), 0.0)
    seen = pd > 0
    any_seen = seen.any(axis=1)
    first = np.where(any_seen, t[np.argmax(seen, axis=1)], np.inf)
    last = np.where(any_seen, t[len(t) - 1 - np.argmax(seen[:, ::-1], axis=1)], -np.inf)
    return DetectionTable(np.asarray(offsets_m, dtype=float), float(t[0]), float(step_s), float(duration_s), pd,
                          first, last)


@dataclass(frozen=True)
class OrbitReach:
    """When an orbiting radar can possibly see a flight of one route: bounds per (offset band, loop-phase bin).

    A flight whose sideways offset lies in band ``r`` (``band_lo_m + r * band_m`` to the next) and whose orbit
    phase at departure lies in bin ``b`` (``b / bins`` to ``(b + 1) / bins``) is out of the radar's reach
    (ground distance beyond its horizon or its instrumented range) at every instant before ``first_s[r, b]``
    and after ``last_s[r, b]`` (``inf`` / ``-inf``: never within reach): there every scan's Pd is 0.
    """

    band_lo_m: float
    band_m: float
    bins: int
    first_s: np.ndarray     # (n_bands, bins)
    last_s: np.ndarray      # (n_bands, bins)

    def window(self, cross_track_m, loop_phase):
        """``(first_s, last_s)`` per flight (shape of the inputs)."""
        r = np.clip(np.floor((np.asarray(cross_track_m) - self.band_lo_m) / self.band_m).astype(np.int64), 0,
                    self.first_s.shape[0] - 1)
        b = np.clip(np.floor(np.asarray(loop_phase) * self.bins).astype(np.int64), 0, self.bins - 1)
        return self.first_s[r, b], self.last_s[r, b]


def orbit_reach(route, radar, half_width_m, t_start_s, t_end_s, bins=ORBIT_PHASE_BINS, band_m=ORBIT_BAND_M):
    """An :class:`OrbitReach` of an orbiting radar along a route (:class:`sim.routes.RouteTrack`) for flights
    within ``half_width_m`` of its nominal track, over ``[t_start_s, t_end_s]``.

    Each band's centre track is sampled on the route's own time grid, and the orbit at each bin's centre
    phase; a sample is within reach when its ground distance to the orbit, less the slack, is within the
    radar's reach. The slack bounds every way a flight of the band and bin can be nearer: half the band
    (sideways offsets are great-circle distances), half a time step of the flight's fastest motion and
    the orbit's motion over half a phase bin and half a time step (its loop is flown at constant speed;
    interpolated chords are shorter than the arcs), plus :data:`WINDOW_MARGIN_M`. The reach is the
    smooth-Earth horizon at the highest altitude of the band within a time step (terrain only hides
    more) and the ground distance of a chord as long as the instrumented range allows (slant range
    bounds the chord: ``slant^2 = (r1 - r2)^2 + r1 r2 chord^2``).
    """
    p = radar.platform
    half = float(half_width_m)
    n_bands = max(1, int(np.ceil(2.0 * half / band_m)))
    width = 2.0 * half / n_bands if half > 0 else band_m
    centres = -half + (np.arange(n_bands) + 0.5) * width if half > 0 else np.zeros(1)
    T = len(route.t_s)
    g = np.arange(max(int(np.floor(t_start_s / route.step_s)), 0), min(int(np.ceil(t_end_s / route.step_s)), T - 1) + 1)
    first = np.full((n_bands, bins), np.inf)
    last = np.full((n_bands, bins), -np.inf)
    if not g.size:
        return OrbitReach(-half, width, bins, first, last)
    t = route.t_s[g]
    phases = (np.arange(bins) + 0.5) / bins
    oxyz, oalt = p.position(t[None, :], phases[:, None])            # (bins, G, 3)
    oxyz = np.broadcast_to(oxyz, (bins, len(g), 3))
    step_m = np.linalg.norm(np.diff(route.xyz, axis=0), axis=1).max() * EARTH_RADIUS_M if T > 1 else 0.0
    flight_v = step_m / route.step_s * (1.0 + half / EARTH_RADIUS_M)
    orbit_dt = (0.5 * p.period_s / bins if p.period_s > 0 else 0.0) + 0.5 * route.step_s
    slack = 1.01 * (0.5 * width + 0.5 * route.step_s * flight_v + orbit_dt * p.speed_mps) + WINDOW_MARGIN_M
    near_g = np.clip(np.stack([g - 1, g, g + 1]), 0, T - 1)          # samples within a step
    for r, c in enumerate(centres):
        if route.alt_rows_m is None:
            alt = route.alt_m
        else:
            rows = np.abs(route.row_offsets_m - c) <= 0.5 * width + np.diff(route.row_offsets_m[:2]).sum() + 1.0
            alt = route.alt_rows_m[rows].max(axis=0)
        alt_hi = alt[near_g].max(axis=0)                                   # (G,)
        r_lo = EARTH_RADIUS_M + min(float(np.min(alt[near_g])), p.alt_m, 0.0)
        chord_max = radar.range_m / r_lo
        by_range = 2.0 * EARTH_RADIUS_M * np.arcsin(min(chord_max / 2.0, 1.0))
        reach = np.minimum(by_range, horizon_distance_m(p.alt_m, alt_hi, radar.refraction_k))
        fxyz = offset_positions(route.xyz[g], route.right[g], [c])[0]    # (G, 3)
        ground, _ = platform_geometry(oxyz, oalt, fxyz[None], alt[g][None])
        near = ground - slack <= reach[None, :]                           # (bins, G)
        seen = near.any(axis=1)
        first[r] = np.where(seen, t[np.argmax(near, axis=1)] - 0.5 * route.step_s, np.inf)
        last[r] = np.where(seen, t[len(t) - 1 - np.argmax(near[:, ::-1], axis=1)] + 0.5 * route.step_s, -np.inf)
    return OrbitReach(-half, width, bins, first, last)
