"""Aircraft vertical profile: climb, cruise, descent as closed forms of time.

The climb rate falls linearly with altitude, from ``climb_rate_sea_level``
at mean sea level to ``climb_rate_top`` at the cruise altitude, so the
altitude approaches cruise exponentially (a common first-order model of a
jet's climb, e.g. BADA's reduced-climb-power behaviour); descent is at a
constant rate. Ground speeds are constant in each phase (still air).
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["VerticalProfile", "vertical_profile", "profile_at", "terrain_following_profile"]


@dataclass(frozen=True)
class VerticalProfile:
    """Phase boundaries of one flight profile (all SI)."""

    h_start_m: float
    h_cruise_m: float
    h_end_m: float
    climb_s: float            # duration of the climb
    cruise_s: float           # duration of the cruise
    descent_s: float          # duration of the descent
    climb_speed_mps: float
    cruise_speed_mps: float
    descent_speed_mps: float
    climb_b_per_s: float      # climb-rate slope: rate(h) = b (h_inf - h)
    climb_h_inf_m: float
    length_m: float

    @property
    def duration_s(self):
        return self.climb_s + self.cruise_s + self.descent_s


def _climb(h0, hc, r0, r1):
    """Climb time and constants for rate(h) = r0 + (r1 - r0) h / hc."""
    if hc <= h0:
        return 0.0, 0.0, hc
    if abs(r0 - r1) < 1e-9:
        return (hc - h0) / r0, 0.0, np.inf
    b = (r0 - r1) / hc
    h_inf = r0 / b
    rate0 = b * (h_inf - h0)
    if rate0 <= 0:
        raise ValueError("climb rate is not positive at the departure elevation")
    return float(np.log((h_inf - h0) / (h_inf - hc)) / b), b, h_inf


def vertical_profile(length_m, h_start_m, h_end_m, h_cruise_m, *, cruise_speed_mps,
                     climb_speed_mps, climb_rate_sea_level_mps, climb_rate_top_mps,
                     descent_speed_mps, descent_rate_mps, climb=True, descend=True):
    """Phases of a flight over ``length_m`` of ground track.

    ``climb=False`` starts the flight at cruise altitude (a ``{lat, lon}``
    endpoint), ``descend=False`` ends it there. If the route is too short to
    reach ``h_cruise_m``, the cruise altitude is lowered (bisection) until
    climb and descent fit the route exactly.
    """
    def phases(hc):
        t_c, b, h_inf = _climb(h_start_m, hc, climb_rate_sea_level_mps, climb_rate_top_mps) if climb else (0.0, 0.0, hc)
        t_d = max(hc - h_end_m, 0.0) / descent_rate_mps if descend else 0.0
        return t_c, t_d, b, h_inf

    hc = float(h_cruise_m)
    t_c, t_d, b, h_inf = phases(hc)
    if t_c * climb_speed_mps + t_d * descent_speed_mps > length_m:
        lo, hi = max(h_start_m if climb else hc, h_end_m if descend else hc), hc
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            tc, td, _, _ = phases(mid)
            if tc * climb_speed_mps + td * descent_speed_mps > length_m:
                hi = mid
            else:
                lo = mid
        hc = lo
        t_c, t_d, b, h_inf = phases(hc)
    cruise_m = max(length_m - t_c * climb_speed_mps - t_d * descent_speed_mps, 0.0)
    return VerticalProfile(
        h_start_m=float(h_start_m if climb else hc), h_cruise_m=hc,
        h_end_m=float(h_end_m if descend else hc), climb_s=t_c,
        cruise_s=cruise_m / cruise_speed_mps, descent_s=t_d,
        climb_speed_mps=climb_speed_mps, cruise_speed_mps=cruise_speed_mps,
        descent_speed_mps=descent_speed_mps, climb_b_per_s=b, climb_h_inf_m=h_inf,
        length_m=float(length_m),
    )


def profile_at(p, t_s):
    """Along-track distance [m] and altitude [m AMSL] at times ``t_s`` (clipped to the flight)."""
    t = np.clip(np.asarray(t_s, dtype=float), 0.0, p.duration_s)
    t1 = p.climb_s
    t2 = t1 + p.cruise_s
    tc = np.minimum(t, t1)
    if p.climb_s == 0.0:
        h_climb = np.full_like(t, p.h_cruise_m)
    elif p.climb_b_per_s == 0.0:
        h_climb = p.h_start_m + (p.h_cruise_m - p.h_start_m) * tc / p.climb_s
    else:
        h_climb = p.climb_h_inf_m - (p.climb_h_inf_m - p.h_start_m) * np.exp(-p.climb_b_per_s * tc)
    td = np.maximum(t - t2, 0.0)
    rate_d = (p.h_cruise_m - p.h_end_m) / p.descent_s if p.descent_s > 0 else 0.0
    alt = np.where(t <= t1, h_climb, np.where(t <= t2, p.h_cruise_m, p.h_cruise_m - rate_d * td))
    s = (p.climb_speed_mps * tc + p.cruise_speed_mps * np.clip(t - t1, 0.0, p.cruise_s)
         + p.descent_speed_mps * td)
    return np.minimum(s, p.length_m), alt


def terrain_following_profile(s_m, floor_m, climb_gradient, descent_gradient):
    """The lowest altitude profile above a floor that climbs and descends no steeper than given.

    Parameters
    ----------
    s_m : ndarray, shape (T,)
        Along-track distance of the samples [m], increasing.
    floor_m : ndarray, shape (..., T)
        Lowest allowed altitude at each sample [m] (the ground plus the
        clearance); leading axes are independent profiles (e.g. offsets).
    climb_gradient, descent_gradient : float
        Steepest climb and descent [m per m along track].

    Returns
    -------
    ndarray, shape (..., T)
        ``h(s) = max over s' of floor(s') - cone(s' - s)``, with the cone
        ``climb_gradient (s' - s)`` for obstacles ahead (``s' > s``: climb
        early enough) and ``descent_gradient (s - s')`` behind (descend no
        faster). It is the smallest ``h >= floor`` whose slopes stay within
        the gradients, computed as two running maxima (a max-plus
        convolution with a convex cone, like a distance transform).

    References
    ----------
    P. F. Felzenszwalb, D. P. Huttenlocher, "Distance transforms of sampled
    functions", Theory of Computing 8 (2012) 415-428 (lower envelopes of
    cones; here upper envelopes, the same algebra with max for min).

    Examples
    --------
    >>> s = np.arange(0.0, 5001.0, 1000.0)
    >>> terrain_following_profile(s, np.array([0, 0, 0, 300, 0, 0.0]), 0.1, 0.05).tolist()
    [0.0, 100.0, 200.0, 300.0, 250.0, 200.0]
    """
    f = np.asarray(floor_m, dtype=float)
    s = np.asarray(s_m, dtype=float)
    behind = np.maximum.accumulate(f + descent_gradient * s, axis=-1) - descent_gradient * s
    ahead = np.flip(np.maximum.accumulate(np.flip(f - climb_gradient * s, axis=-1), axis=-1), axis=-1) \
        + climb_gradient * s
    return np.maximum(behind, ahead)
