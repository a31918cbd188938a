"""The types of the format: a validated scenario as frozen dataclasses in SI (units in every name), and the
built-in aircraft profiles. Everything downstream reads these; :func:`sim.scenario.load_scenario` makes them.
"""
from dataclasses import dataclass, field

from geo.units import FT_M, KMH_MPS
from sim.aircraft import IL76TD_FUEL, IL76TD_LOW_LEVEL_SPEED_MPS, FuelModel
from sim.scenario.limits import IL76TD_RANGE_M
from sim.sensors import RadarKind

__all__ = ["ScenarioInfo", "RunConfig", "Aircraft", "Waypoint", "RouteSpec", "PdReference", "ResponseSpec",
           "InterceptorSpec", "OrbitSpec", "RadarSpec", "DetectionConfig", "DEFAULT_AIRSPACE", "AirspaceConfig",
           "Scenario", "AIRCRAFT_MODELS"]


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    title: str
    sources: tuple


@dataclass(frozen=True)
class RunConfig:
    campaigns: int
    flights: int
    seed: int
    flights_per_day: float = 1.0        # the campaign's cadence: flight k flies k / flights_per_day days in
    route_choice: str = "per_flight"    # or "per_campaign": one route for a whole campaign


@dataclass(frozen=True)
class Aircraft:
    """Aircraft profile in SI; see :data:`AIRCRAFT_MODELS` for the built-in values."""

    model: str
    cruise_speed_mps: float
    cruise_altitude_m: float
    climb_speed_mps: float
    climb_rate_sea_level_mps: float
    climb_rate_top_mps: float
    descent_speed_mps: float
    descent_rate_mps: float
    rcs_m2: float
    transponder_on_probability: float
    terrain_climb_gradient: float       # terrain following: steepest climb [m per m along track]
    terrain_descent_gradient: float     # terrain following: steepest descent [m per m along track]
    cruise_altitude_agl_m: float | None = None  # terrain following: cruise this high above the ground
    transponder_policy: str = "per_flight"      # or "per_campaign": one decision for a whole campaign
    range_m: float = IL76TD_RANGE_M             # the longest route it can fly (ground distance)
    low_level_speed_mps: float = IL76TD_LOW_LEVEL_SPEED_MPS  # terrain following: the cruise's ground speed
    fuel: FuelModel = IL76TD_FUEL               # fuel flows per phase and capacity (sim.aircraft.flight_time_and_fuel)


@dataclass(frozen=True)
class Waypoint:
    lat_deg: float
    lon_deg: float
    icao: str | None = None          # airport code when given by code
    elevation_m: float | None = None  # airport elevation; None for a {lat, lon} point


@dataclass(frozen=True)
class RouteSpec:
    name: str
    weight: float
    waypoints: tuple
    cross_track_sigma_m: float
    cruise_altitude_m: float | None  # overrides the aircraft's, for this route
    cruise_altitude_agl_m: float | None = None  # or: terrain following at this height, for this route


@dataclass(frozen=True)
class PdReference:
    range_m: float
    rcs_m2: float
    pd: float


@dataclass(frozen=True)
class ResponseSpec:
    """From a track inside the airspace to a decision, then an order to land (obeyed or not)."""

    decision_delay_s: float
    land_airports: tuple        # Waypoints (airports) where an ordered flight may land; () without an order
    compliance: float           # probability that an ordered flight obeys
    intercept_compliance: float = 0.75   # probability that an intercepted crew obeys its escort and lands
    track_coast_s: float = 300.0         # a track lost from coverage is still held (coasted) this long
    airspace_gap_s: float = 300.0        # exits from the airspace shorter than this count as inside
    will: float = 1.0                    # probability that the state acts on a flight held in track in time


@dataclass(frozen=True)
class InterceptorSpec:
    """An interceptor: airborne ``ready_s`` after the decision, then straight to the meeting point."""

    name: str
    lat_deg: float
    lon_deg: float
    ready_s: float
    speed_mps: float


@dataclass(frozen=True)
class OrbitSpec:
    """An airborne platform: the closed loop of its waypoints at constant speed and altitude."""

    waypoints: tuple          # ((lat_deg, lon_deg), ...)
    altitude_m: float         # AMSL
    speed_mps: float          # ground speed


@dataclass(frozen=True)
class RadarSpec:
    """A radar: a sensor of a kind on a platform (a fixed site, or ``orbit``).

    A fixed site has ``lat_deg``, ``lon_deg``, ``antenna_height_m`` (and
    optionally ``elevation_m``); an orbiting radar has ``orbit`` and None
    for those four.
    """

    name: str
    lat_deg: float | None
    lon_deg: float | None
    antenna_height_m: float | None
    elevation_m: float | None  # site ground elevation AMSL; None: from terrain (or 0)
    kind: RadarKind
    range_m: float
    scan_period_s: float
    availability: float
    pd: float | None
    reference: PdReference | None
    pfa: float
    swerling: int
    orbit: OrbitSpec | None = None
    mean_outage_s: float | None = None   # outages last this long on average (None: up or down per flight)


@dataclass(frozen=True)
class DetectionConfig:
    track_m: int
    track_n: int
    terrain: bool
    refraction_k: float
    mean_outage_s: float | None = None   # every radar's, unless the radar gives its own


#: The airspace of a scenario without an ``[airspace]`` table (ISO 3166-1 alpha-3).
DEFAULT_AIRSPACE = "IRQ"


@dataclass(frozen=True)
class AirspaceConfig:
    """The country whose airspace the in-airspace figures are about."""

    country: str     # ISO 3166-1 alpha-3, one of the packaged borders
    name: str        # its name in the packaged borders


@dataclass(frozen=True)
class Scenario:
    path: str
    info: ScenarioInfo
    run: RunConfig
    aircraft: Aircraft
    routes: tuple
    radars: tuple
    detection: DetectionConfig
    airspace: AirspaceConfig
    uncertainty: tuple = ()   # ((KEY, low, high), ...): the inputs a sensitivity analysis varies
    response: "ResponseSpec | None" = None   # what the airspace's owner does once a flight is tracked
    interceptors: tuple = ()  # InterceptorSpec per interceptor
    record: tuple = ()        # sim.record.RecordPeriod per period of the public record ([[record]])
    raw: dict | None = field(repr=False, compare=False, default=None)
    # the ``--set KEY=VALUE`` texts applied to the file, as given and in order (a what-if when any): where the
    # scenario comes from, not what it is, so two scenarios that validate alike compare equal
    overrides: tuple = field(compare=False, default=())


#: Built-in aircraft profiles (SI). Sources in scenarios/README.md; values
#: marked "assumption" there have no citable source.
AIRCRAFT_MODELS = {
    "Il-76TD": dict(
        cruise_speed_mps=780 * KMH_MPS,          # 750-800 km/h reported
        cruise_altitude_m=10_100.0,               # 9-12 km reported
        climb_speed_mps=550 * KMH_MPS,            # assumption
        climb_rate_sea_level_mps=1800 * FT_M / 60,  # assumption, ~1,500-2,000 ft/min low
        climb_rate_top_mps=500 * FT_M / 60,       # assumption, ~500 ft/min near top
        descent_speed_mps=600 * KMH_MPS,          # assumption
        descent_rate_mps=1500 * FT_M / 60,        # assumption, ~3 deg path
        rcs_m2=40.0,                              # assumption, large airliners 10-100 m2
        transponder_on_probability=1.0,
        range_m=IL76TD_RANGE_M,                   # reported 3,600-4,200 km with payload: the top
        low_level_speed_mps=IL76TD_LOW_LEVEL_SPEED_MPS,  # assumption, 580 km/h (sim.aircraft)
        fuel=IL76TD_FUEL,                         # assumptions: 90 t; 8 t/h cruise, 9 t/h low level (sim.aircraft)
        # terrain following: the low-level climb rate at the climb speed (9.1 m/s at 153 m/s, 6.0%) and
        # the descent rate at the descent speed (7.6 m/s at 167 m/s, 4.6%): assumptions, as those rates
        terrain_climb_gradient=(1800 * FT_M / 60) / (550 * KMH_MPS),
        terrain_descent_gradient=(1500 * FT_M / 60) / (600 * KMH_MPS),
    ),
}
