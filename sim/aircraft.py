"""Aircraft vertical profile: climb, cruise, descent as closed forms of time.

The climb rate falls linearly with altitude, from ``climb_rate_sea_level``
at mean sea level to ``climb_rate_top`` at the cruise altitude, so the
altitude approaches cruise exponentially (a common first-order model of a
jet's climb, e.g. BADA's reduced-climb-power behaviour); descent is at a
constant rate. Ground speeds are constant in each phase (still air). A
terrain-following route (a cruise above the ground) flies its cruise at the
aircraft's low-level speed.

Fuel: a constant fuel flow per phase (climb, cruise or low level, descent),
:func:`fuel_burn_kg`; :func:`flight_time_and_fuel` applies it to a profile
and gives the distance at cruise that burns as much fuel, which the
aircraft's range bounds (:func:`cruise_equivalent_m`).
"""
from dataclasses import dataclass

import numpy as np

from geo.units import KMH_MPS

__all__ = ["VerticalProfile", "vertical_profile", "profile_at", "terrain_following_profile",
           "FuelModel", "IL76TD_FUEL", "IL76TD_LOW_LEVEL_SPEED_MPS", "fuel_burn_kg", "fuel_per_m_ratio",
           "cruise_equivalent_m", "FlightTimeAndFuel", "flight_time_and_fuel"]

#: The Il-76TD's ground speed when terrain following (300 m above the ground) [m/s]: 580 km/h.
#: Assumption (no open source gives an Il-76 low-level speed): below the 750-800 km/h reported cruise,
#: because near the ground the speed is bounded by the airframe's indicated-airspeed limit and by
#: gust loads and reaction time over terrain, not by Mach; a heavy jet transport flies low level at
#: about 550-600 km/h (300-325 kt). Swept 450-650 km/h (scenarios/README.md).
IL76TD_LOW_LEVEL_SPEED_MPS = 580 * KMH_MPS


@dataclass(frozen=True)
class FuelModel:
    """Fuel flows per phase [kg/s] and the fuel the tanks hold [kg]; see :data:`IL76TD_FUEL`."""

    capacity_kg: float
    climb_flow_kgps: float
    cruise_flow_kgps: float       # at the cruise altitude and speed
    low_level_flow_kgps: float    # terrain following, at the low-level speed
    descent_flow_kgps: float

    def __post_init__(self):
        for f in ("capacity_kg", "climb_flow_kgps", "cruise_flow_kgps", "low_level_flow_kgps", "descent_flow_kgps"):
            v = getattr(self, f)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"FuelModel.{f} must be finite and > 0, got {v!r}")


#: The Il-76TD's fuel figures (D-30KP-2 engines). All assumptions: no open source found gives its fuel
#: flows, and none stored gives its tank capacity (scenarios/README.md argues each):
#:
#: - capacity 90 t: the figure commonly quoted for the Il-76MD/TD (84-90 t);
#: - cruise 8,000 kg/h: a cruise drag of about 9.5-11 t-force (150-170 t at a lift-to-drag ratio of
#:   15-16) at a specific fuel consumption of 0.70 kg/(kgf h), the D-30KP's usual cruise figure, gives
#:   6.7-7.7 t/h, rounded up for bleed air and installation losses; with the reported 190 t take-off
#:   mass and 40 t payload over about 4,000 km and an empty mass of about 92 t, 58 t of fuel: about
#:   45 t burnt at these flows and 13 t of reserve, which is consistent;
#: - low level 9,000 kg/h at 580 km/h: about 1.2 times the cruise drag at 300 m (the denser air outweighs
#:   the lower speed), at a specific consumption lower by about 15% at Mach 0.47 near sea level, plus
#:   10-20% for the climbs, descents and manoeuvres of terrain following: 1.5 times the cruise's fuel
#:   per km (15.5 kg/km against 10.3 kg/km);
#: - climb 12,000 kg/h (climb thrust, near the take-off flow of about 23 t/h at first, falling with
#:   altitude); descent 2,500 kg/h (near flight idle).
IL76TD_FUEL = FuelModel(
    capacity_kg=90_000.0,
    climb_flow_kgps=12_000.0 / 3600.0,
    cruise_flow_kgps=8_000.0 / 3600.0,
    low_level_flow_kgps=9_000.0 / 3600.0,
    descent_flow_kgps=2_500.0 / 3600.0,
)


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
    low_level: bool = False   # the cruise is terrain following: ``cruise_speed_mps`` is the low-level speed

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
                     descent_speed_mps, descent_rate_mps, climb=True, descend=True, low_level=False):
    """Phases of a flight over ``length_m`` of ground track.

    ``cruise_speed_mps`` is the speed of the cruise segment: the low-level
    speed for a terrain-following route (``low_level=True``, recorded in the
    profile for its fuel). ``climb=False`` starts the flight at cruise altitude (a ``{lat, lon}``
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
        length_m=float(length_m), low_level=bool(low_level),
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


def fuel_burn_kg(climb_s, cruise_s, descent_s, climb_flow_kgps, cruise_flow_kgps, descent_flow_kgps):
    """Fuel burnt over a climb, a cruise and a descent at a constant flow in each [kg].

    Parameters
    ----------
    climb_s, cruise_s, descent_s : float or array_like
        Durations of the phases [s].
    climb_flow_kgps, cruise_flow_kgps, descent_flow_kgps : float or array_like
        Fuel flow in each phase [kg/s]; the cruise's is the low-level flow
        for a terrain-following cruise.

    Returns
    -------
    float or ndarray
        ``climb_s climb_flow + cruise_s cruise_flow + descent_s descent_flow``,
        the inputs broadcast.

    Notes
    -----
    A constant flow per phase is the simplest of the phase-based fuel models
    (the Breguet range equation with the weight held constant): it ignores
    the flow falling as fuel burns off (a few per cent over these flights)
    and, at low level, its change with speed over the range swept.

    References
    ----------
    E. Torenbeek, *Synthesis of Subsonic Airplane Design* (1982), ch. 11
    (mission fuel by flight phase); BADA 3 user manual (EUROCONTROL), fuel
    flow per flight phase.

    Examples
    --------
    >>> float(fuel_burn_kg(600.0, 3600.0, 900.0, 3.0, 2.0, 0.5))
    9450.0
    """
    return (np.multiply(climb_s, climb_flow_kgps) + np.multiply(cruise_s, cruise_flow_kgps)
            + np.multiply(descent_s, descent_flow_kgps))


def fuel_per_m_ratio(cruise_speed_mps, low_level_speed_mps, fuel):
    """How many times the cruise's fuel per metre the aircraft burns per metre at low level.

    ``(low_level_flow / low_level_speed) / (cruise_flow / cruise_speed)``;
    scalars or arrays, broadcast. 1.51 for the Il-76TD's figures
    (:data:`IL76TD_FUEL`) at 780 and 580 km/h.

    >>> round(float(fuel_per_m_ratio(780 * KMH_MPS, 580 * KMH_MPS, IL76TD_FUEL)), 4)
    1.5129
    """
    return (fuel.low_level_flow_kgps / np.asarray(low_level_speed_mps, dtype=float)) / (
        fuel.cruise_flow_kgps / np.asarray(cruise_speed_mps, dtype=float))


def cruise_equivalent_m(length_m, low_level_m, ratio):
    """The ground distance at cruise that burns as much fuel as a route [m]: what the aircraft's range bounds.

    A route of ``length_m`` flying ``low_level_m`` of it at low level,
    where the aircraft burns ``ratio`` times the cruise's fuel per metre
    (:func:`fuel_per_m_ratio`), counts as ``length_m + (ratio - 1)
    low_level_m``; climb, descent and cruise count as their length, as the
    range itself does. So the range at low level is the range divided by
    ``ratio``. Scalars or arrays, broadcast.

    >>> float(cruise_equivalent_m(1000e3, 800e3, 1.5))
    1400000.0
    """
    return np.asarray(length_m, dtype=float) + (np.asarray(ratio, dtype=float) - 1.0) * low_level_m


@dataclass(frozen=True)
class FlightTimeAndFuel:
    """A route's flight time [s], fuel burnt [kg] and what its range and tanks allow (all SI)."""

    flight_time_s: float
    fuel_kg: float
    fuel_capacity_kg: float
    length_m: float
    low_level_m: float           # ground distance flown at low level (a terrain-following cruise)
    cruise_equivalent_m: float   # the distance at cruise that burns as much fuel (:func:`cruise_equivalent_m`)

    @property
    def within_fuel_capacity(self):
        """Whether the fuel burnt fits in the tanks (with no reserve and no payload traded for fuel)."""
        return self.fuel_kg <= self.fuel_capacity_kg

    def within_range(self, range_m):
        """Whether an aircraft of range ``range_m`` [m] (at cruise, with its payload) can fly it."""
        return self.cruise_equivalent_m <= range_m


def flight_time_and_fuel(profile, aircraft):
    """Flight time, fuel burnt and cruise-equivalent distance of a :class:`VerticalProfile`.

    ``aircraft`` needs ``fuel`` (a :class:`FuelModel`), ``cruise_speed_mps``
    and ``low_level_speed_mps`` (a :class:`sim.scenario.Aircraft`). A
    profile with ``low_level`` burns the low-level flow in its cruise, and
    its cruise distance counts :func:`fuel_per_m_ratio` times towards the
    range. Use :func:`sim.routes.route_time_and_fuel` for a route.
    """
    fuel = aircraft.fuel
    low = profile.low_level
    fuel_kg = fuel_burn_kg(profile.climb_s, profile.cruise_s, profile.descent_s, fuel.climb_flow_kgps,
                           fuel.low_level_flow_kgps if low else fuel.cruise_flow_kgps, fuel.descent_flow_kgps)
    low_m = profile.cruise_s * profile.cruise_speed_mps if low else 0.0
    ratio = fuel_per_m_ratio(aircraft.cruise_speed_mps, profile.cruise_speed_mps, fuel) if low else 1.0
    return FlightTimeAndFuel(
        flight_time_s=float(profile.duration_s), fuel_kg=float(fuel_kg), fuel_capacity_kg=float(fuel.capacity_kg),
        length_m=float(profile.length_m), low_level_m=float(low_m),
        cruise_equivalent_m=float(cruise_equivalent_m(profile.length_m, low_m, ratio)))
