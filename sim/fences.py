"""Routes against geofences: Iraq's airspace and the air picture, per flight.

Flights differ from their nominal route only by a constant sideways offset,
so each route gets a table over (offset, time): inside Iraq, inside the
coverage of the primary radars, inside the coverage of any radar. A flight
reads the row of its nearest tabulated offset (rows at most
:data:`OFFSET_STEP_M` apart), which makes the per-flight figures cheap for
any number of flights.

Coverage here is geometric (line of sight, terrain, instrumented range)
with every radar up: the nominal air picture that the maps draw. A
secondary radar counts only for flights with the transponder on.
"""
from dataclasses import dataclass

import numpy as np

from geo.coverage import minutes_inside, time_inside
from sim.detection import in_coverage
from sim.flights import positions_at, to_lat_lon

__all__ = ["RouteFences", "route_fences", "flight_fence_figures", "inside_iraq_at", "stretches",
           "nominal_route_fences", "FENCE_STEP_S", "OFFSET_STEP_M"]

#: Time step of the fence tables [s] (about 2 km at cruise speed).
FENCE_STEP_S = 10.0
#: Largest spacing of tabulated sideways offsets [m].
OFFSET_STEP_M = 250.0


@dataclass(frozen=True)
class RouteFences:
    """Fence tables of one route; boolean arrays shape (n_offsets, T)."""

    offsets_m: np.ndarray
    t_s: np.ndarray
    in_iraq: np.ndarray
    covered_primary: np.ndarray
    covered_any: np.ndarray

    def row(self, cross_track_m):
        """Index of the nearest tabulated offset."""
        if len(self.offsets_m) == 1:
            return np.zeros(np.shape(cross_track_m), dtype=np.int64)
        step = self.offsets_m[1] - self.offsets_m[0]
        return np.clip(np.rint((cross_track_m - self.offsets_m[0]) / step).astype(np.int64),
                       0, len(self.offsets_m) - 1)


def route_fences(sim, iraq_m, transformer, clip_sigma):
    """Fence tables of every route of a prepared simulation.

    ``iraq_m`` is Iraq's airspace in region metres (prepared), ``transformer``
    the lon/lat -> metres transformer it was projected with.
    """
    out = []
    for i, route in enumerate(sim.routes):
        half = clip_sigma * route.cross_track_sigma_m
        n = 1 if half == 0 else 2 * int(np.ceil(half / OFFSET_STEP_M)) + 1
        offsets = np.linspace(-half, half, n)
        t = np.arange(0.0, route.duration_s + FENCE_STEP_S, FENCE_STEP_S)
        t = np.minimum(t, route.duration_s)
        tt = np.broadcast_to(t, (n, len(t)))
        xyz, alt, _ = positions_at(sim.packed, np.full(n, i), offsets, tt)
        lat, lon = to_lat_lon(xyz)
        x, y = transformer.transform(lon, lat)
        in_iraq, _ = time_inside(x, y, t, iraq_m)
        prim = np.zeros((n, len(t)), dtype=bool)
        anyr = np.zeros((n, len(t)), dtype=bool)
        for radar in sim.radars:
            cov, _ = in_coverage(radar, xyz, alt)
            anyr |= cov
            if radar.kind == "primary":
                prim |= cov
        out.append(RouteFences(offsets, t, in_iraq, prim, anyr))
    return tuple(out)


def flight_fence_figures(fences, route_index, cross_track_m, transponder_on):
    """Minutes in Iraq and in coverage per flight, shape (F,) each."""
    F = len(route_index)
    in_iraq = np.zeros(F)
    in_cov = np.zeros(F)
    for i, fz in enumerate(fences):   # loop over routes; flights are array rows
        sel = route_index == i
        if not sel.any():
            continue
        rows = fz.row(cross_track_m[sel])
        in_iraq[sel] = minutes_inside(fz.in_iraq, fz.t_s)[rows]
        cov_any = minutes_inside(fz.covered_any, fz.t_s)[rows]
        cov_prim = minutes_inside(fz.covered_primary, fz.t_s)[rows]
        in_cov[sel] = np.where(transponder_on[sel], cov_any, cov_prim)
    return in_iraq, in_cov


def inside_iraq_at(fences, route_index, cross_track_m, t_s):
    """Whether flights are inside Iraq at times ``t_s`` (F, K), nearest table sample."""
    out = np.zeros(np.shape(t_s), dtype=bool)
    for i, fz in enumerate(fences):
        sel = route_index == i
        if not sel.any():
            continue
        rows = fz.row(cross_track_m[sel])[:, None]
        cols = np.clip(np.rint(t_s[sel] / FENCE_STEP_S).astype(np.int64), 0, len(fz.t_s) - 1)
        out[sel] = fz.in_iraq[rows, cols]
    return out


def stretches(mask, t_s):
    """Runs of True in a boolean series as ``[[start, end], ...]`` in the units of ``t_s``."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    return [[float(t_s[a]), float(t_s[b])] for a, b in zip(starts, ends)]


def nominal_route_fences(fz):
    """Entry into and exit from Iraq, and the stretches in coverage, of a nominal route (offset 0).

    Times in minutes since departure, to the table step (:data:`FENCE_STEP_S`).
    """
    row = int(fz.row(0.0))
    t_min = fz.t_s / 60.0
    iraq = fz.in_iraq[row]
    r = lambda v: [[round(a, 2), round(b, 2)] for a, b in v]  # noqa: E731
    inside = stretches(iraq, t_min)
    return {
        "iraq_entry_min": round(inside[0][0], 2) if inside else None,
        "iraq_exit_min": round(inside[-1][1], 2) if inside else None,
        "in_iraq_min": r(inside),
        "in_coverage_all_radars_min": r(stretches(fz.covered_any[row], t_min)),
        "in_coverage_primary_min": r(stretches(fz.covered_primary[row], t_min)),
        "in_iraq_outside_primary_coverage_minutes": round(float(np.sum(iraq & ~fz.covered_primary[row]))
                                                          * FENCE_STEP_S / 60.0, 2),
    }
