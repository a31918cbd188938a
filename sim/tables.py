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
"""
from dataclasses import dataclass

import numpy as np

from sim.detection import in_coverage, scan_pd
from sim.flights import nearest_row
from sim.flights import positions_at

__all__ = ["DetectionTable", "detection_table", "TABLE_STEP_S", "WINDOW_MARGIN_M", "ORBIT_SAMPLE_M"]

#: Time step of the detection tables [s].
TABLE_STEP_S = 1.0
#: Ground distance added to a radar's reach when its scan window along a route is found, and to a masking
#: table's range (at full slant range the ground distance can be slightly longer) [m].
WINDOW_MARGIN_M = 2_000.0
#: Spacing of the orbit positions tried when finding an orbiting radar's scan window [m].
ORBIT_SAMPLE_M = 10_000.0


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
