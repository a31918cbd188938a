"""Radar platforms: where a radar is at each instant.

A radar is a sensor mounted on a platform. A :class:`FixedSite` stands on
the ground; an :class:`Orbit` flies the closed loop of its waypoints at
constant ground speed and altitude, forever (two waypoints: a racetrack,
out and back, :class:`Racetrack`). Detection asks the platform where it is at every scan:
``position(t_s, phase)`` with ``t_s`` the time since the flight departed
and ``phase`` in [0, 1) the orbit's phase at that departure (drawn per
flight from the campaign's random stream).

>>> site = fixed_site(33.0, 44.0, 20.0, 0.0)
>>> xyz, alt = site.position(0.0, 0.0)
>>> float(alt)
20.0
>>> orbit = flying_orbit([33.0, 34.0], [40.0, 40.0], 9000.0, 600 / 3.6)
>>> round(orbit.period_s / 60.0, 1)   # 2 x 111 km at 600 km/h
22.2
"""
from dataclasses import dataclass

import numpy as np

from geo.earth import unit_vectors
from geo.geodesy import leg_geometry, positions_along_route

__all__ = ["FixedSite", "Orbit", "Racetrack", "fixed_site", "flying_orbit", "ORBIT_STEP_S"]

#: Time step of an orbit's tabulated loop [s] (linear interpolation between samples).
ORBIT_STEP_S = 1.0


@dataclass(frozen=True)
class FixedSite:
    """A radar site on the ground (antenna altitude above mean sea level)."""

    lat_deg: float
    lon_deg: float
    alt_m: float                 # antenna altitude AMSL
    site_elevation_m: float      # ground at the site AMSL
    xyz: np.ndarray              # (3,) Earth-centred unit vector
    east: np.ndarray             # (3,)
    north: np.ndarray            # (3,)

    moving = False

    def position(self, t_s, phase):
        """Unit vector ``(3,)`` and altitude [m] (the same at every instant)."""
        return self.xyz, self.alt_m

    def loop_lat_lon(self):
        """The platform's track (one point for a site)."""
        return np.array([self.lat_deg]), np.array([self.lon_deg])


@dataclass(frozen=True)
class Orbit:
    """An airborne platform flying a closed loop at constant speed and altitude.

    ``xyz`` tabulates the loop on a uniform time grid ``k * step_s``,
    ``k = 0 .. n``, the last row equal to the first (the loop closes). One
    waypoint: the platform holds that point (``period_s = 0``).
    """

    waypoint_lat_deg: np.ndarray
    waypoint_lon_deg: np.ndarray
    alt_m: float
    speed_mps: float
    length_m: float              # one loop [m]
    period_s: float              # one loop [s]
    step_s: float
    xyz: np.ndarray              # (n + 1, 3)
    loop_lat_deg: np.ndarray     # (n + 1,)
    loop_lon_deg: np.ndarray     # (n + 1,)

    moving = True

    def position(self, t_s, phase):
        """Unit vectors ``(..., 3)`` and altitude [m] at ``t_s`` for loop phase ``phase``.

        ``t_s`` and ``phase`` broadcast; the platform is at phase ``phase``
        of its loop when ``t_s = 0``.
        """
        t, ph = np.broadcast_arrays(np.asarray(t_s, dtype=float), np.asarray(phase, dtype=float))
        if self.period_s == 0.0:
            return np.broadcast_to(self.xyz[0], t.shape + (3,)), self.alt_m
        tau = np.mod(ph * self.period_s + t, self.period_s)
        u = tau / self.step_s
        n = len(self.xyz) - 1
        i = np.clip(np.floor(u).astype(np.int64), 0, n - 1)
        f = (u - i)[..., None]
        p = self.xyz[i] * (1.0 - f) + self.xyz[i + 1] * f
        p /= np.sqrt(np.einsum("...i,...i->...", p, p))[..., None]
        return p, self.alt_m

    def loop_lat_lon(self):
        """The loop's track [deg], closed (first point repeated at the end)."""
        return self.loop_lat_deg, self.loop_lon_deg

    def loop_samples(self, spacing_m):
        """Unit vectors ``(m, 3)`` of ``m`` points evenly spaced in time around the loop,
        at most ``spacing_m`` apart (one point for a held position)."""
        m = 1 if self.period_s == 0.0 else max(1, int(np.ceil(self.length_m / spacing_m)))
        xyz, _ = self.position(np.arange(m) * (self.period_s / m), 0.0)
        return np.atleast_2d(xyz)


@dataclass(frozen=True)
class Racetrack:
    """A racetrack orbit by its two waypoints, flown out and back along the geodesic between them (both
    waypoints equal: the platform holds that point); :func:`flying_orbit` flies it at an altitude and speed.
    The placement's candidate orbits are racetracks (copies of an airborne radar at its own altitude and
    speed, :mod:`sim.optimise.placement`)."""

    name: str
    lat1_deg: float
    lon1_deg: float
    lat2_deg: float
    lon2_deg: float

    @property
    def holds(self):
        """Both waypoints are the same point: the platform holds it (a one-waypoint orbit)."""
        return (self.lat1_deg, self.lon1_deg) == (self.lat2_deg, self.lon2_deg)

    @property
    def waypoints(self):
        """``((lat, lon), ...)`` [deg]: two, or one when it holds a point."""
        a, b = (self.lat1_deg, self.lon1_deg), (self.lat2_deg, self.lon2_deg)
        return (a,) if self.holds else (a, b)

    @property
    def lat_deg(self):
        """The midpoint of the racetrack (on the sphere) [deg]: where its label goes."""
        return self._mid()[0]

    @property
    def lon_deg(self):
        return self._mid()[1]

    def _mid(self):
        v = unit_vectors([self.lat1_deg, self.lat2_deg], [self.lon1_deg, self.lon2_deg]).sum(axis=0)
        v /= np.linalg.norm(v)
        return float(np.degrees(np.arcsin(np.clip(v[2], -1.0, 1.0)))), float(np.degrees(np.arctan2(v[1], v[0])))


def fixed_site(lat_deg, lon_deg, antenna_alt_m, site_elevation_m):
    """A :class:`FixedSite` at ``(lat, lon)`` with its antenna at ``antenna_alt_m`` AMSL."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return FixedSite(
        lat_deg=float(lat_deg), lon_deg=float(lon_deg), alt_m=float(antenna_alt_m),
        site_elevation_m=float(site_elevation_m), xyz=unit_vectors(lat_deg, lon_deg),
        east=np.array([-np.sin(lon), np.cos(lon), 0.0]),
        north=np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)]),
    )


def flying_orbit(lat_deg, lon_deg, alt_m, speed_mps, step_s=ORBIT_STEP_S):
    """An :class:`Orbit` around the closed loop of waypoints ``(lat_deg[i], lon_deg[i])``.

    Legs are WGS84 geodesics (as routes); the loop returns from the last
    waypoint to the first, so two waypoints give a racetrack flown out and
    back. The time grid is ``step_s`` or slightly less, so that it divides
    the period exactly.
    """
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    if len(lat) == 1:
        xyz = unit_vectors(lat, lon).reshape(1, 3)
        return Orbit(lat, lon, float(alt_m), float(speed_mps), 0.0, 0.0, float(step_s), xyz, lat.copy(), lon.copy())
    loop_lat = np.append(lat, lat[0])
    loop_lon = np.append(lon, lon[0])
    _, legs = leg_geometry(loop_lat, loop_lon)
    length = float(legs.sum())
    period = length / float(speed_mps)
    n = max(2, int(np.ceil(period / step_s)))
    s = np.linspace(0.0, length, n + 1)
    plat, plon, _ = positions_along_route(loop_lat, loop_lon, s)
    plat[-1], plon[-1] = plat[0], plon[0]
    return Orbit(lat, lon, float(alt_m), float(speed_mps), length, period, period / n,
                 unit_vectors(plat, plon), plat, plon)
