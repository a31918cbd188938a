"""The limits of the scenario format (docs/scenario-format.md, "Limits"): every numeric limit a scenario is
held to, as a constant, and the checks of a route's spacing and reach and of a radar's equation against them.

From the physics first, then from the machine: what no planner means and no machine holds is refused at load,
naming the key and the limit (:class:`~sim.scenario.ScenarioError`).
"""
import numpy as np

from geo.geodesy import leg_geometry
from geo.units import KMH_MPS
from sim.aircraft import fuel_per_m_ratio
from sim.radar import pd_from_reference, required_snr_db
from sim.routes import route_profile, route_time_and_fuel
from sim.scenario.messages import _Err

__all__ = ["SEED_MAX", "ROUTE_WEIGHT_MAX", "RCS_MAX_M2", "RCS_MIN_M2", "IL76TD_RANGE_M", "AIRCRAFT_RANGE_MAX_M",
           "FLIGHT_TIME_MAX_S", "WAYPOINT_SPACING_MIN_M", "ROUTE_WAYPOINTS_MAX", "ROUTES_MAX", "RADARS_MAX",
           "INTERCEPTORS_MAX", "ORBIT_WAYPOINTS_MAX", "ORBIT_LOOP_MAX_M", "LAND_AIRPORTS_MAX", "UNCERTAIN_MAX",
           "SOURCES_MAX", "NAME_MAX_CHARS", "TITLE_MAX_CHARS", "TEXT_MAX_CHARS", "SCAN_PERIOD_MIN_S",
           "REFERENCE_RANGE_MIN_M", "SPEED_MIN_MPS", "RATE_MIN_MPS", "CAMPAIGNS_MAX", "FLIGHTS_MAX",
           "SCENARIO_MAX_BYTES"]


#: The largest seed (run.seed, --seed): seeds are 0 to 2^63-1, a signed 64-bit integer's range.
SEED_MAX = 2**63 - 1
#: The largest route weight: weights are relative (a route's share is its weight over the sum), and bounded
#: so that the sum of any number of them stays finite.
ROUTE_WEIGHT_MAX = 1e6
#: The largest radar cross-section accepted (aircraft and a radar's reference) [m2]: a large ship is about
#: 1e4 m2; bounded so that the radar equation's ratios stay finite.
RCS_MAX_M2 = 1e6

# --- limits (docs/scenario-format.md, "Limits"): from the physics first, then from the machine -------------
#: The smallest radar cross-section accepted [m2]: an insect (Skolnik, Introduction to Radar Systems, 3rd ed.,
#: table 2.1: 1e-5 m2); with :data:`RCS_MAX_M2` every RCS ratio of the radar equation is within 1e11.
RCS_MIN_M2 = 1e-5
#: The Il-76TD's range with a typical payload [m]: "28-60 t over 3,600-4,200 km, depending on the version"
#: (the Il-76 article of the Russian-language encyclopedias); the top of that span, so that no flight an
#: Il-76TD can make is refused. A route longer than ``[aircraft] range_km`` is refused.
IL76TD_RANGE_M = 4_200_000.0
#: The longest ``[aircraft] range_km`` [m]: half the Earth's circumference (no non-stop route is longer).
AIRCRAFT_RANGE_MAX_M = 20_000_000.0
#: The longest flight time of a route [s]: no transport flies a day without refuelling; a route is sampled
#: every second (:data:`sim.routes.ROUTE_STEP_S`), so this also bounds its arrays.
FLIGHT_TIME_MAX_S = 86_400.0
#: Fewest metres between consecutive waypoints (routes and orbits): closer points are a typing slip or a
#: generated zig-zag, never a flight plan (a route's time grid is 217 m per second at cruise).
WAYPOINT_SPACING_MIN_M = 1_000.0
#: Most waypoints of one route (a flight plan across a region has tens; a zig-zag of thousands is refused).
ROUTE_WAYPOINTS_MAX = 100
#: Most routes of a scenario: each route's tables are built against every radar.
ROUTES_MAX = 50
#: Most radars of a scenario: each radar's tables are built along every route.
RADARS_MAX = 200
#: Most interceptors of a scenario: each is tried for every tracked flight.
INTERCEPTORS_MAX = 50
#: Most waypoints of an orbit (an airborne radar's racetrack has two to four).
ORBIT_WAYPOINTS_MAX = 20
#: The longest orbit loop [m]: an airborne radar flies its loop for hours around one station (three hours at
#: 650 km/h); its coverage is evaluated from points every few km around it.
ORBIT_LOOP_MAX_M = 2_000_000.0
#: Most airports of an order to land.
LAND_AIRPORTS_MAX = 20
#: Most ``[uncertainty]`` entries: each is checked as two scenarios and run twice by a sensitivity analysis.
UNCERTAIN_MAX = 30
#: Most ``[scenario] sources``.
SOURCES_MAX = 50
#: Longest names [characters]: scenario, route, radar and interceptor names are labels on maps, in tables
#: and in ``--set`` keys.
NAME_MAX_CHARS = 80
#: Longest ``[scenario] title`` [characters]: a heading on every product.
TITLE_MAX_CHARS = 200
#: Longest free text [characters]: ``[scenario] description``, each of ``sources``, a radar's ``notes``.
TEXT_MAX_CHARS = 2_000
#: The shortest scan period [s]: the fastest surveillance radars turn at 60 rpm, and the detection tables
#: are sampled every second (:data:`sim.tables.TABLE_STEP_S`).
SCAN_PERIOD_MIN_S = 1.0
#: The shortest reference range [m]: inside a radar's blind zone (a 1 us pulse blinds it to 150 m).
REFERENCE_RANGE_MIN_M = 100.0
#: The lowest aircraft speed [m/s] (36 km/h): slower than any aeroplane flies.
SPEED_MIN_MPS = 10.0
#: The lowest climb or descent rate [m/s] (19.685 ft/min): slower than any aircraft climbs. A ``_fpm`` key's
#: message states it as ``>= 19.6851 fpm`` (bounds are stated rounded inwards: :func:`_bound_text`).
RATE_MIN_MPS = 0.1
#: The most campaigns of a run (``run.campaigns``, and ``--campaigns`` of every command).
CAMPAIGNS_MAX = 10_000_000
#: The most flights of a campaign (``run.flights``, and ``--flights`` of every command): a campaign runs in
#: one chunk, never split, so this also bounds a chunk's memory (about 0.1 GB at this limit, sim/cost.py).
FLIGHTS_MAX = 100_000
#: The largest scenario file read [bytes] (the shipped ones are under 10 kB).
SCENARIO_MAX_BYTES = 1 << 20


def _check_spacing(points, key):
    """Consecutive ``(lat, lon)`` points at least :data:`WAYPOINT_SPACING_MIN_M` apart; returns the legs [m]."""
    lat, lon = (np.array(v, dtype=float) for v in zip(*points))
    legs = leg_geometry(lat, lon)[1]
    for j in np.flatnonzero(legs < WAYPOINT_SPACING_MIN_M):
        raise _Err(f"{key}[{j + 1}]", f"{legs[j]:,.0f} m from the previous waypoint: waypoints are at least "
                                      f"{WAYPOINT_SPACING_MIN_M / 1000:g} km apart")
    return legs


def _check_route_reach(route, aircraft, key):
    """A route the aircraft can fly: no longer than its range, in at most :data:`FLIGHT_TIME_MAX_S`.

    At low level (a terrain-following cruise) the aircraft burns more fuel per km than at cruise, so
    its range there is shorter: the route's cruise-equivalent distance (each low-level km counted
    :func:`sim.aircraft.fuel_per_m_ratio` times) must be within the range."""
    length_m, profile = route_profile(route, aircraft)
    if length_m > aircraft.range_m:
        raise _Err(f"{key}.waypoints", f"the route is {length_m / 1000:,.0f} km long, beyond the aircraft's range "
                                       f"of {aircraft.range_m / 1000:,.0f} km (aircraft.range_km)")
    if profile.low_level:
        cost = route_time_and_fuel(profile, aircraft)
        if not cost.within_range(aircraft.range_m):
            ratio = float(fuel_per_m_ratio(aircraft.cruise_speed_mps, aircraft.low_level_speed_mps, aircraft.fuel))
            raise _Err(f"{key}.waypoints", (
                f"the route is {length_m / 1000:,.0f} km long, {cost.low_level_m / 1000:,.0f} km of it at low level, "
                f"where the aircraft burns {ratio:.2f} times its cruise's fuel per km (at "
                f"{aircraft.low_level_speed_mps / KMH_MPS:,.0f} km/h, aircraft.low_level_speed_kmh): as much fuel as "
                f"{cost.cruise_equivalent_m / 1000:,.0f} km at cruise, beyond the aircraft's range of "
                f"{aircraft.range_m / 1000:,.0f} km (aircraft.range_km; "
                f"{aircraft.range_m / ratio / 1000:,.0f} km all at low level)"))
    if not profile.duration_s <= FLIGHT_TIME_MAX_S:
        raise _Err(f"{key}.waypoints", f"the flight takes {profile.duration_s / 3600:,.1f} h: at most "
                                       f"{FLIGHT_TIME_MAX_S / 3600:g} h (check the aircraft's speeds and rates)")


def _check_radar_equation(spec, rcs_m2, key):
    """The Pd of a reference-target radar from its reference, finite at its reference, at its instrumented
    range and at 1 m for the aircraft's RCS: every derived quantity of the radar equation checked here,
    once, so that a run never warns of an overflow."""
    ref = spec.reference
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            required_snr_db(ref.pd, spec.pfa, spec.swerling)
            pd = pd_from_reference(np.array([1.0, ref.range_m, spec.range_m]), rcs_m2, ref.range_m, ref.rcs_m2,
                                   ref.pd, spec.pfa, spec.swerling)
    except ValueError as e:   # pd at or above 1, or too close to pfa for the Swerling case
        why = ("must be < 1 (a target detected for certain gives no signal-to-noise ratio)" if ref.pd >= 1.0 else
               f"too close to pfa ({spec.pfa:g}) for Swerling {spec.swerling}: {e}")
        raise _Err(f"{key}.reference.pd", why) from None
    except FloatingPointError as e:
        raise _Err(f"{key}.reference", f"the radar equation overflows ({e})") from None
    if not np.all(np.isfinite(pd) & (pd >= 0.0) & (pd <= 1.0)):
        raise _Err(f"{key}.reference", "the radar equation gives no finite Pd")
