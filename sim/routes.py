"""Nominal routes: waypoints -> a 4-D track sampled on a uniform time grid.

Each route of a scenario becomes a :class:`RouteTrack`: positions along the
WGS84 geodesic legs, the vertical profile of the aircraft, and the unit
vectors the flight batch needs to offset flights sideways, all on a 1-s
grid (linear interpolation between samples 217 m apart is exact to well
under a metre).
"""
from dataclasses import dataclass, fields

import numpy as np

from geo.earth import EARTH_RADIUS_M, unit_vectors
from geo.geodesy import leg_geometry, positions_along_route
from geo.terrain import cell_max_m, elevation_m, neighbour_max
from sim.aircraft import VerticalProfile, flight_time_and_fuel, profile_at, terrain_following_profile, vertical_profile
from sim.flights import OFFSET_CLIP_SIGMA, OFFSET_STEP_M, offset_positions, offset_rows, to_lat_lon

__all__ = ["RouteTrack", "build_route", "build_routes", "route_profile", "route_samples", "cruise_level",
           "route_time_and_fuel", "follows_terrain", "below_ground_fraction", "below_ground_shares",
           "route_inputs", "ROUTE_STEP_S", "BELOW_GROUND_TOLERANCE_M", "AIRCRAFT_FIELDS_ROUTES_IGNORE"]

#: Time step of the nominal route grids [s].
ROUTE_STEP_S = 1.0
#: The fields of :class:`sim.scenario.Aircraft` that :func:`build_route` never reads (its RCS, its transponder,
#: its range and fuel: validation and the results read those); every other field is one of a route's inputs
#: (:func:`route_inputs`), so a field added to the aircraft counts as read until it is named here.
AIRCRAFT_FIELDS_ROUTES_IGNORE = ("rcs_m2", "transponder_on_probability", "transponder_policy", "range_m", "fuel")


@dataclass(frozen=True)
class RouteTrack:
    """One nominal route on a uniform time grid ``t_s = k * step_s``; arrays shape (T,)."""

    name: str
    weight: float
    cross_track_sigma_m: float
    waypoint_lat_deg: np.ndarray
    waypoint_lon_deg: np.ndarray
    step_s: float
    t_s: np.ndarray
    s_m: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    track_deg: np.ndarray
    xyz: np.ndarray      # (T, 3) Earth-centred unit vectors of the nominal position
    right: np.ndarray    # (T, 3) unit vectors pointing right of track (cross-track +)
    length_m: float
    duration_s: float
    cruise_altitude_m: float           # AMSL; for terrain following, the highest cruise altitude
    cruise_agl_m: float | None = None  # terrain following: the stated clearance above the ground
    row_offsets_m: np.ndarray | None = None   # terrain following: offsets of the altitude rows [m]
    alt_rows_m: np.ndarray | None = None      # terrain following: altitude per offset row (n_offsets, T) [m]
    clearance_min_m: float | None = None      # terrain following: achieved height above the ground under the
    clearance_mean_m: float | None = None     # nominal track, in cruise (min, mean) [m]
    agl_profile_m: np.ndarray | None = None   # terrain following: the stated height above ground (T,) [m]
    profile: VerticalProfile | None = None    # its phases and speeds (:func:`route_profile`): time and fuel

    def __post_init__(self):
        n = self.t_s.shape[0]
        for k in ("s_m", "lat_deg", "lon_deg", "alt_m", "track_deg"):
            if getattr(self, k).shape != (n,):
                raise ValueError(f"RouteTrack.{k} must have shape ({n},)")
        if self.xyz.shape != (n, 3) or self.right.shape != (n, 3):
            raise ValueError("RouteTrack.xyz and .right must have shape (T, 3)")


def _right_vectors(lat_deg, lon_deg, track_deg):
    lat, lon, az = np.radians(lat_deg), np.radians(lon_deg), np.radians(track_deg)
    east = np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], axis=-1)
    north = np.stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)], axis=-1)
    # track direction = cos(az) north + sin(az) east; right of it = az + 90 deg
    return np.cos(az + np.pi / 2)[:, None] * north + np.sin(az + np.pi / 2)[:, None] * east


def cruise_level(spec, aircraft):
    """``(altitude_m, agl_m)`` of a route's cruise: exactly one is not None.

    A route's own level wins over the aircraft's; above ground (terrain
    following) wins over above mean sea level at the same level.
    """
    if spec.cruise_altitude_m is not None:
        return spec.cruise_altitude_m, None
    if spec.cruise_altitude_agl_m is not None:
        return None, spec.cruise_altitude_agl_m
    if aircraft.cruise_altitude_agl_m is not None:
        return None, aircraft.cruise_altitude_agl_m
    return aircraft.cruise_altitude_m, None


def route_profile(spec, aircraft):
    """A validated route's ground length [m] and :class:`~sim.aircraft.VerticalProfile` for an aircraft.

    Cheap (geodesic legs and closed forms, no samples): validation reads the
    length and flight time from it before anything is built, and
    :func:`build_route` samples it. A terrain-following route's profile is
    that of its height above the ground (its timing is the same), and its
    cruise is flown at the aircraft's ``low_level_speed_mps`` (the profile's
    ``low_level``); climb and descent keep their speeds.
    """
    lat = np.array([w.lat_deg for w in spec.waypoints])
    lon = np.array([w.lon_deg for w in spec.waypoints])
    _, legs = leg_geometry(lat, lon)
    length = float(legs.sum())
    first, last = spec.waypoints[0], spec.waypoints[-1]
    h_amsl, h_agl = cruise_level(spec, aircraft)
    h_cruise = h_amsl if h_agl is None else h_agl

    def endpoint_h(w):
        """Profile height at an endpoint: the airport (0 above ground), or cruise at a point."""
        if w.elevation_m is None:
            return h_cruise
        return w.elevation_m if h_agl is None else 0.0

    prof = vertical_profile(
        length, endpoint_h(first), endpoint_h(last), h_cruise,
        cruise_speed_mps=aircraft.cruise_speed_mps if h_agl is None else aircraft.low_level_speed_mps,
        climb_speed_mps=aircraft.climb_speed_mps,
        climb_rate_sea_level_mps=aircraft.climb_rate_sea_level_mps,
        climb_rate_top_mps=aircraft.climb_rate_top_mps,
        descent_speed_mps=aircraft.descent_speed_mps,
        descent_rate_mps=aircraft.descent_rate_mps,
        climb=first.elevation_m is not None,
        descend=last.elevation_m is not None,
        low_level=h_agl is not None,
    )
    return length, prof


def route_time_and_fuel(route, aircraft):
    """A route's flight time, fuel burnt and cruise-equivalent distance as the aircraft flies it.

    Parameters
    ----------
    route : RouteTrack, RouteSpec or sim.aircraft.VerticalProfile
        A built route (its ``profile``), a validated route
        (:class:`sim.scenario.RouteSpec`: its :func:`route_profile` is
        computed, cheap: no samples), or a profile.
    aircraft : sim.scenario.Aircraft
        Its speeds, range and fuel figures (``aircraft.fuel``).

    Returns
    -------
    sim.aircraft.FlightTimeAndFuel
        ``flight_time_s`` [s], ``fuel_kg`` [kg], ``fuel_capacity_kg``,
        ``length_m``, ``low_level_m`` (the terrain-following cruise) and
        ``cruise_equivalent_m`` [m], the distance at cruise that burns as
        much fuel: the route is within the aircraft's range when
        ``result.within_range(aircraft.range_m)``, and within its tanks when
        ``result.within_fuel_capacity``.
    """
    if isinstance(route, VerticalProfile):
        prof = route
    elif isinstance(route, RouteTrack):
        if route.profile is None:
            raise ValueError(f"route {route.name!r} was built without its profile")
        prof = route.profile
    else:
        prof = route_profile(route, aircraft)[1]
    return flight_time_and_fuel(prof, aircraft)


def route_samples(duration_s, step_s=ROUTE_STEP_S):
    """Samples of a route's time grid: ``t = 0, step, ..., >= duration``."""
    return int(np.ceil(duration_s / step_s)) + 1


def _jump_ground_max_m(terrain, pts, step_m):
    """Per sample of each offset row ``(rows, T)``, the highest cell corner (:func:`~geo.terrain.cell_max_m`)
    along the chords to its neighbouring samples where those are more than 1.5 ``step_m`` apart, checked
    every ``step_m`` at most; 0 elsewhere.

    On a straight leg an offset row's samples are as far apart as the nominal track's (``step_m``), and the
    floor's neighbouring samples cover the ground between them; at a waypoint's turn the rows outside the
    turn jump (a 15 degree turn moves a row 10 km out by 2.6 km in one step), and a flight there crosses
    the ground between two samples, which this covers. ``pts``: unit vectors ``(rows, T, 3)``.
    """
    out = np.zeros(pts.shape[:2])
    if pts.shape[1] < 2 or not step_m > 0:
        return out
    gap = np.empty((pts.shape[0], pts.shape[1] - 1))                                      # (rows, T - 1) [m]
    for i in range(0, pts.shape[0], 32):          # in blocks of rows: no temporary as large as the rows
        gap[i:i + 32] = np.linalg.norm(np.diff(pts[i:i + 32], axis=1), axis=-1) * EARTH_RADIUS_M
    row, k = np.nonzero(gap > 1.5 * step_m)
    if row.size == 0:
        return out
    f = np.linspace(0.0, 1.0, int(np.ceil(gap[row, k].max() / step_m)) + 1)[1:-1]        # interior points
    a, b = pts[row, k], pts[row, k + 1]
    p = a[:, None, :] + f[None, :, None] * (b - a)[:, None, :]                           # as positions_at reads
    lat, lon = to_lat_lon(p / np.linalg.norm(p, axis=-1, keepdims=True))
    top = cell_max_m(terrain, lat, lon).max(axis=1)
    np.maximum.at(out, (row, k), top)
    np.maximum.at(out, (row, k + 1), top)
    return out


def build_route(spec, aircraft, step_s=ROUTE_STEP_S, terrain=None):
    """Build the :class:`RouteTrack` of a validated route for an aircraft.

    A route cruising above ground (terrain following) needs ``terrain``. Its
    altitude depends on each flight's own ground, so it is built per offset
    row (every :data:`~sim.flights.OFFSET_STEP_M` out to the 4-sigma
    offsets): the floor is the highest GLOBE ground of the row and its
    neighbouring rows and samples (so a flight read on its nearest row
    clears the ground under itself; where a row jumps at a turn, also the
    ground between its samples) plus the profile's height (climbing from
    and descending to the ground at the airports, the stated clearance in
    cruise), and the altitude is the lowest profile above that floor that
    climbs and descends no steeper than the aircraft's terrain-following
    gradients (:func:`sim.aircraft.terrain_following_profile`).
    """
    lat = np.array([w.lat_deg for w in spec.waypoints])
    lon = np.array([w.lon_deg for w in spec.waypoints])
    h_agl = cruise_level(spec, aircraft)[1]
    if h_agl is not None and terrain is None:
        raise ValueError(f"route {spec.name!r} cruises above ground: it needs the terrain model")
    length, prof = route_profile(spec, aircraft)
    n = route_samples(prof.duration_s, step_s)
    t = np.arange(n) * step_s
    s, alt = profile_at(prof, t)
    plat, plon, track = positions_along_route(lat, lon, s)
    xyz, right = unit_vectors(plat, plon), _right_vectors(plat, plon, track)
    cruise_alt = prof.h_cruise_m
    tf = {}
    if h_agl is not None:
        offsets = offset_rows(spec.cross_track_sigma_m, OFFSET_CLIP_SIGMA, OFFSET_STEP_M)
        pts = offset_positions(xyz, right, offsets)                                        # (rows, T, 3)
        lat_rows, lon_rows = to_lat_lon(pts)                                               # (rows, T)
        ground = elevation_m(terrain, lat_rows, lon_rows)
        top = np.maximum(cell_max_m(terrain, lat_rows, lon_rows),
                         _jump_ground_max_m(terrain, pts, float(np.max(np.diff(s), initial=0.0))))
        floor = neighbour_max(top) + alt[None, :]
        rows = terrain_following_profile(s, floor, aircraft.terrain_climb_gradient, aircraft.terrain_descent_gradient)
        for end in (0, -1):       # take off and land at the floor (the highest ground around the runway)
            if alt[end] <= 1e-6:
                rows[:, end] = floor[:, end]
        centre = len(offsets) // 2
        cruise = alt >= prof.h_cruise_m - 1e-6
        agl = rows[centre] - ground[centre]
        alt, agl_profile = rows[centre], alt
        cruise_alt = float(alt.max())
        tf = dict(row_offsets_m=offsets, alt_rows_m=rows, clearance_min_m=float(agl[cruise].min()),
                  clearance_mean_m=float(agl[cruise].mean()), agl_profile_m=agl_profile)
    return RouteTrack(
        name=spec.name, weight=spec.weight, cross_track_sigma_m=spec.cross_track_sigma_m,
        waypoint_lat_deg=lat, waypoint_lon_deg=lon, step_s=step_s, t_s=t, s_m=s,
        lat_deg=plat, lon_deg=plon, alt_m=alt, track_deg=track, xyz=xyz, right=right,
        length_m=length, duration_s=prof.duration_s, cruise_altitude_m=cruise_alt,
        cruise_agl_m=None if h_agl is None else prof.h_cruise_m, profile=prof, **tf,
    )



def route_inputs(spec, aircraft, terrain_key=None, step_s=ROUTE_STEP_S):
    """What :func:`build_route` reads to build a validated route: the route, the aircraft's fields but
    :data:`AIRCRAFT_FIELDS_ROUTES_IGNORE`, the time step, and (``terrain_key``, the terrain model's digest)
    the terrain when the route follows it (else None: a route at a fixed level reads no terrain). The
    inputs of a prepared route's key (:func:`sim.prepcache.digest` reads them by content)."""
    air = tuple((f.name, getattr(aircraft, f.name)) for f in fields(aircraft)
                if f.name not in AIRCRAFT_FIELDS_ROUTES_IGNORE)
    follows = cruise_level(spec, aircraft)[1] is not None
    return spec, air, float(step_s), terrain_key if follows else None


#: A route sample counts as below the ground when it is this far under the interpolated GLOBE
#: ground [m] (airport elevations and the 30" grid differ by tens of metres at the runway).
BELOW_GROUND_TOLERANCE_M = 50.0


def below_ground_fraction(route, terrain, tolerance_m=BELOW_GROUND_TOLERANCE_M):
    """Share of a route's grid samples more than ``tolerance_m`` below the GLOBE ground (not flyable as modelled)."""
    return float(np.mean(route.alt_m + tolerance_m < elevation_m(terrain, route.lat_deg, route.lon_deg)))


def below_ground_shares(routes, terrain):
    """Per route, the share of its grid samples below the ground (:func:`below_ground_fraction`; 0 for a
    terrain-following route), and the share of all routes' samples together: ``(list, float)``."""
    shares = [0.0 if r.cruise_agl_m is not None else below_ground_fraction(r, terrain) for r in routes]
    n = np.array([len(r.t_s) for r in routes], dtype=float)
    return shares, float(np.sum(np.array(shares) * n) / n.sum())


def build_routes(scenario, terrain=None):
    """All routes of a scenario, in file order (``terrain`` for terrain-following routes)."""
    return tuple(build_route(r, scenario.aircraft, terrain=terrain) for r in scenario.routes)


def follows_terrain(scenario):
    """Whether any route of the scenario cruises above ground."""
    return any(cruise_level(r, scenario.aircraft)[1] is not None for r in scenario.routes)
