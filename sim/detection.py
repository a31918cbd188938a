"""Detection: which scans see a flight, with what Pd, and when a track forms.

The semantics are those of the scenario specification: line of sight over
an effective Earth (and the terrain, when on), instrumented slant range,
per-scan Pd (constant, or from a reference target through the Swerling
cases), secondary radar only with the transponder on, availability per
radar and flight, and an m-of-n track rule per radar.
"""
from dataclasses import dataclass

import numpy as np

from geo.earth import EARTH_RADIUS_M, horizon_distance_m, unit_vectors
from sim.radar import pd_from_reference

__all__ = [
    "RadarModel",
    "prepare_radar",
    "radar_geometry",
    "in_coverage",
    "scan_pd",
    "m_of_n_track",
    "track_held",
    "PD_TABLE_STEP_M",
]

#: Slant-range step of the tabulated Pd(range) of a reference-target radar [m].
PD_TABLE_STEP_M = 25.0


@dataclass(frozen=True)
class RadarModel:
    """A radar ready for vectorized detection (all SI)."""

    name: str
    kind: str
    lat_deg: float
    lon_deg: float
    site_elevation_m: float
    antenna_alt_m: float      # AMSL
    range_m: float            # instrumented slant range
    scan_period_s: float
    availability: float
    pd_constant: float | None
    pd_table: np.ndarray | None   # Pd at slant range k * PD_TABLE_STEP_M, k = 0..
    xyz: np.ndarray           # (3,) unit vector of the site
    east: np.ndarray          # (3,)
    north: np.ndarray         # (3,)
    masking: object = None    # geo.terrain.MaskingTable or None
    refraction_k: float = 4.0 / 3.0


def prepare_radar(spec, rcs_m2, refraction_k, terrain=None, masking_builder=None):
    """Turn a validated :class:`~sim.scenario.RadarSpec` into a :class:`RadarModel`.

    ``terrain`` (a :class:`geo.terrain.Terrain`) gives the site elevation when
    the scenario does not; ``masking_builder(lat, lon, antenna_alt_m, range_m)``
    returns the terrain masking table, or is None for a smooth Earth.
    """
    if spec.elevation_m is not None:
        site = spec.elevation_m
    elif terrain is not None:
        from geo.terrain import elevation_m
        site = float(elevation_m(terrain, spec.lat_deg, spec.lon_deg))
    else:
        site = 0.0
    antenna = site + spec.antenna_height_m
    pd_table = None
    if spec.kind == "primary" and spec.reference is not None:
        ref = spec.reference
        r = np.maximum(np.arange(int(np.ceil(spec.range_m / PD_TABLE_STEP_M)) + 2) * PD_TABLE_STEP_M, 1.0)
        pd_table = np.asarray(pd_from_reference(r, rcs_m2, ref.range_m, ref.rcs_m2, ref.pd, spec.pfa, spec.swerling))
    lat, lon = np.radians(spec.lat_deg), np.radians(spec.lon_deg)
    return RadarModel(
        name=spec.name, kind=spec.kind, lat_deg=spec.lat_deg, lon_deg=spec.lon_deg,
        site_elevation_m=site, antenna_alt_m=antenna, range_m=spec.range_m,
        scan_period_s=spec.scan_period_s, availability=spec.availability,
        pd_constant=spec.pd if pd_table is None else None, pd_table=pd_table,
        xyz=unit_vectors(spec.lat_deg, spec.lon_deg),
        east=np.array([-np.sin(lon), np.cos(lon), 0.0]),
        north=np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)]),
        masking=None if masking_builder is None else masking_builder(spec.lat_deg, spec.lon_deg, antenna, spec.range_m),
        refraction_k=refraction_k,
    )


def radar_geometry(radar, xyz, alt_m):
    """Ground distance [m], slant range [m] and azimuth [deg] from a radar to targets.

    ``xyz`` are Earth-centred unit vectors ``(..., 3)``; distances on the
    sphere of :data:`geo.earth.EARTH_RADIUS_M`.
    """
    d = xyz - radar.xyz
    chord = np.sqrt(np.einsum("...i,...i->...", d, d))
    ground = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord / 2.0, 1.0))
    r1 = EARTH_RADIUS_M + radar.antenna_alt_m
    r2 = EARTH_RADIUS_M + np.asarray(alt_m, dtype=float)
    slant = np.sqrt((r1 - r2) ** 2 + r1 * r2 * chord**2)   # law of cosines, 2(1-cos) = chord^2
    az = np.degrees(np.arctan2(d @ radar.east, d @ radar.north)) % 360.0
    return ground, slant, az


def in_coverage(radar, xyz, alt_m):
    """Whether targets are in the radar's coverage: line of sight and range.

    Line of sight: ground distance within the smooth effective-Earth horizon
    and, with terrain, altitude at or above the masking table's lowest
    visible altitude. Returns ``(covered, slant_range_m)``.
    """
    ground, slant, az = radar_geometry(radar, xyz, alt_m)
    covered = (ground <= horizon_distance_m(radar.antenna_alt_m, alt_m, radar.refraction_k)) & (slant <= radar.range_m)
    if radar.masking is not None:
        from geo.terrain import min_visible_alt_m
        covered &= np.asarray(alt_m) >= min_visible_alt_m(radar.masking, az, ground)
    return covered, slant


def scan_pd(radar, slant_m, transponder_on):
    """Per-scan detection probability inside coverage.

    ``transponder_on`` broadcasts against ``slant_m`` (a secondary radar
    sees only flights whose transponder is on).
    """
    if radar.pd_table is not None:
        u = slant_m / PD_TABLE_STEP_M
        i = np.minimum(u.astype(np.int64), len(radar.pd_table) - 2)
        f = u - i
        pd = radar.pd_table[i] * (1.0 - f) + radar.pd_table[i + 1] * f
    else:
        pd = np.full(np.shape(slant_m), radar.pd_constant)
    if radar.kind == "secondary":
        pd = pd * np.asarray(transponder_on, dtype=float)
    return pd


def track_held(hits, m, n):
    """Whether ``m`` of the last ``n`` scans (ending at each scan) are detections.

    ``hits`` is a boolean array (F, K): flights by scans. Returns the same shape.
    """
    hits = np.asarray(hits, dtype=bool)
    if m == 1:
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
