"""Detection: which scans see a flight, with what Pd, and when a track forms.

The semantics are those of the scenario specification: line of sight over
an effective Earth (and the terrain, when on), instrumented slant range,
per-scan Pd (constant, or from a reference target through the Swerling
cases), a radar that needs the transponder sees only flights squawking,
availability per radar and flight, and an m-of-n track rule per radar.

A radar is a sensor on a platform (:mod:`sim.platforms`): at every scan its
position, horizon, range and Pd are those of that instant. A fixed site
with terrain reads its terrain masking table; an airborne platform checks
the terrain along the actual ray (:func:`geo.terrain.ray_clears_terrain`).
"""
from dataclasses import dataclass

import numpy as np

from geo.earth import EARTH_RADIUS_M, horizon_distance_m
from geo.terrain import MaskingTable, Terrain, elevation_m, min_visible_alt_m, ray_clears_terrain
from sim.platforms import FixedSite, Orbit, fixed_site, flying_orbit
from sim.radar import pd_from_reference
from sim.sensors import RadarKind

__all__ = [
    "RadarModel",
    "prepare_radar",
    "radar_geometry",
    "platform_geometry",
    "in_coverage",
    "coverage_from",
    "scan_pd",
    "m_of_n_track",
    "track_held",
    "PD_TABLE_STEP_M",
]

#: Slant-range step of the tabulated Pd(range) of a reference-target radar [m].
PD_TABLE_STEP_M = 25.0


@dataclass(frozen=True)
class RadarModel:
    """A radar ready for vectorized detection (all SI): a sensor on a platform."""

    name: str
    kind: RadarKind
    platform: FixedSite | Orbit
    range_m: float            # instrumented slant range
    scan_period_s: float
    availability: float
    pd_constant: float | None
    pd_table: np.ndarray | None   # Pd at slant range k * PD_TABLE_STEP_M, k = 0..
    refraction_k: float = 4.0 / 3.0
    masking: MaskingTable | None = None   # fixed site with terrain on
    terrain: Terrain | None = None        # airborne platform with terrain on (rays checked)

    @property
    def lat_deg(self):
        """The site, or an orbit's first waypoint [deg]."""
        p = self.platform
        return p.lat_deg if isinstance(p, FixedSite) else float(p.waypoint_lat_deg[0])

    @property
    def lon_deg(self):
        """The site, or an orbit's first waypoint [deg]."""
        p = self.platform
        return p.lon_deg if isinstance(p, FixedSite) else float(p.waypoint_lon_deg[0])

    @property
    def antenna_alt_m(self):
        """Antenna altitude above mean sea level [m] (an orbit's altitude)."""
        return self.platform.alt_m


def prepare_radar(spec, rcs_m2, refraction_k, terrain=None, masking_builder=None):
    """Turn a validated :class:`~sim.scenario.RadarSpec` into a :class:`RadarModel`.

    ``terrain`` (a :class:`geo.terrain.Terrain`, given when terrain masking
    is on) gives the site elevation when the scenario does not, and the
    ground an airborne radar's rays must clear;
    ``masking_builder(lat, lon, antenna_alt_m, range_m)`` returns a fixed
    site's terrain masking table, or is None for a smooth Earth.
    """
    pd_table = None
    if spec.kind.skin_return and spec.reference is not None:
        ref = spec.reference
        r = np.maximum(np.arange(int(np.ceil(spec.range_m / PD_TABLE_STEP_M)) + 2) * PD_TABLE_STEP_M, 1.0)
        pd_table = np.asarray(pd_from_reference(r, rcs_m2, ref.range_m, ref.rcs_m2, ref.pd, spec.pfa, spec.swerling))
    common = dict(name=spec.name, kind=spec.kind, range_m=spec.range_m, scan_period_s=spec.scan_period_s,
                  availability=spec.availability, pd_constant=spec.pd if pd_table is None else None,
                  pd_table=pd_table, refraction_k=refraction_k)
    if spec.orbit is not None:
        o = spec.orbit
        lat, lon = zip(*o.waypoints)
        return RadarModel(platform=flying_orbit(lat, lon, o.altitude_m, o.speed_mps), terrain=terrain, **common)
    if spec.elevation_m is not None:
        site = spec.elevation_m
    elif terrain is not None:
        site = float(elevation_m(terrain, spec.lat_deg, spec.lon_deg))
    else:
        site = 0.0
    antenna = site + spec.antenna_height_m
    masking = None if masking_builder is None else masking_builder(spec.lat_deg, spec.lon_deg, antenna, spec.range_m)
    return RadarModel(platform=fixed_site(spec.lat_deg, spec.lon_deg, antenna, site), masking=masking, **common)


def platform_geometry(radar_xyz, radar_alt_m, xyz, alt_m):
    """Ground distance [m] and slant range [m] between radar positions and targets.

    ``radar_xyz`` and ``xyz`` are Earth-centred unit vectors ``(..., 3)``
    that broadcast; distances on the sphere of :data:`geo.earth.EARTH_RADIUS_M`
    (slant range by the law of cosines, ``2 (1 - cos) = chord^2``).
    """
    d = xyz - radar_xyz
    chord = np.sqrt(np.einsum("...i,...i->...", d, d))
    ground = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord / 2.0, 1.0))
    r1 = EARTH_RADIUS_M + np.asarray(radar_alt_m, dtype=float)
    r2 = EARTH_RADIUS_M + np.asarray(alt_m, dtype=float)
    slant = np.sqrt((r1 - r2) ** 2 + r1 * r2 * chord**2)
    return ground, slant


def radar_geometry(radar, xyz, alt_m):
    """Ground distance [m], slant range [m] and azimuth [deg] from a fixed radar site to targets."""
    site = radar.platform
    ground, slant = platform_geometry(site.xyz, site.alt_m, xyz, alt_m)
    d = xyz - site.xyz
    az = np.degrees(np.arctan2(d @ site.east, d @ site.north)) % 360.0
    return ground, slant, az


def coverage_from(radar, radar_xyz, radar_alt_m, xyz, alt_m):
    """Line of sight and range from an airborne radar position to targets (terrain along the ray).

    Returns ``(covered, slant_range_m)``, broadcast shape of the inputs.
    """
    ground, slant = platform_geometry(radar_xyz, radar_alt_m, xyz, alt_m)
    alt = np.broadcast_to(np.asarray(alt_m, dtype=float), ground.shape)
    covered = (ground <= horizon_distance_m(radar_alt_m, alt, radar.refraction_k)) & (slant <= radar.range_m)
    if radar.terrain is not None and covered.any():
        idx = np.flatnonzero(covered)
        rx = np.broadcast_to(radar_xyz, ground.shape + (3,)).reshape(-1, 3)[idx]
        tx = np.broadcast_to(xyz, ground.shape + (3,)).reshape(-1, 3)[idx]
        clear = ray_clears_terrain(radar.terrain, rx, radar_alt_m, tx, alt.reshape(-1)[idx], radar.refraction_k)
        flat = covered.reshape(-1).copy()
        flat[idx] = clear
        covered = flat.reshape(ground.shape)
    return covered, slant


def in_coverage(radar, xyz, alt_m, t_s=None, phase=None):
    """Whether targets are in the radar's coverage: line of sight and range.

    Line of sight: ground distance within the smooth effective-Earth horizon
    and, with terrain, clear of the ground (a fixed site's masking table; an
    airborne platform's actual ray). An orbiting radar needs the targets'
    times ``t_s`` (broadcast against ``alt_m``) and its loop ``phase``.
    Returns ``(covered, slant_range_m)``.
    """
    if isinstance(radar.platform, Orbit):
        rxyz, ralt = radar.platform.position(t_s, phase)
        return coverage_from(radar, rxyz, ralt, xyz, alt_m)
    ground, slant, az = radar_geometry(radar, xyz, alt_m)
    covered = (ground <= horizon_distance_m(radar.antenna_alt_m, alt_m, radar.refraction_k)) & (slant <= radar.range_m)
    if radar.masking is not None:
        covered &= np.asarray(alt_m) >= min_visible_alt_m(radar.masking, az, ground)
    return covered, slant


def scan_pd(radar, slant_m, transponder_on):
    """Per-scan detection probability inside coverage.

    ``transponder_on`` broadcasts against ``slant_m`` (a radar whose kind
    needs the transponder sees only flights squawking).
    """
    if radar.pd_table is not None:
        u = slant_m / PD_TABLE_STEP_M
        i = np.minimum(u.astype(np.int64), len(radar.pd_table) - 2)
        f = u - i
        pd = radar.pd_table[i] * (1.0 - f) + radar.pd_table[i + 1] * f
    else:
        pd = np.full(np.shape(slant_m), radar.pd_constant)
    if radar.kind.needs_transponder:
        pd = pd * np.asarray(transponder_on, dtype=float)
    return pd


def track_held(hits, m, n):
    """Whether ``m`` of the last ``n`` scans (ending at each scan) are detections.

    ``hits`` is a boolean array (F, K): flights by scans. Returns the same shape.

    >>> track_held([[1, 0, 1, 1, 0]], 2, 3).astype(int)
    array([[0, 0, 1, 1, 1]])
    >>> track_held([[1, 0, 0, 0, 1]], 1, 3).astype(int)     # 1 of 3: held two scans past a hit
    array([[1, 1, 1, 0, 1]])
    """
    hits = np.asarray(hits, dtype=bool)
    if m == 1 and n == 1:
        return hits
    cs = np.cumsum(hits, axis=1, dtype=np.int32)
    lag = np.zeros_like(cs)
    if n < cs.shape[1]:
        lag[:, n:] = cs[:, :-n]
    return (cs - lag) >= m


def m_of_n_track(hits, m, n):
    """First scan at which ``m`` detections fall within ``n`` consecutive scans.

    Parameters
    ----------
    hits : ndarray of bool, shape (F, K)
        Detections per flight (axis 0) and scan (axis 1).

    Returns
    -------
    tracked : ndarray of bool, shape (F,)
    first_scan : ndarray of int, shape (F,)
        Index of the scan that completes the first track; -1 where none.
    held : ndarray of bool, shape (F, K)
        :func:`track_held`: the m-of-n rule holds at each scan.
    """
    held = track_held(hits, m, n)
    tracked = held.any(axis=1)
    first = np.where(tracked, held.argmax(axis=1), -1)
    return tracked, first, held
