"""The air picture at an altitude: per-radar coverage geofences and their union.

Polygons are built in the region's equal-area projection (areas in km2 are
true) and exported as RFC 7946 GeoJSON in WGS84 lon/lat. An orbiting
radar's polygon is the union of its coverage from points around its loop
(at most :data:`ORBIT_POLYGON_STEP_M` apart), over a smooth Earth: the
simulation checks the terrain along every ray of an airborne radar, the
drawing does not.
"""
import numpy as np
import shapely

from geo.coverage import coverage_polygon, coverage_polygon_agl, polygon_to_geojson_feature
from sim.flights import to_lat_lon
from sim.platforms import Orbit
from sim.products.export import feature_collection

__all__ = ["radar_coverages", "coverage_collection", "ORBIT_POLYGON_STEP_M"]

#: Largest spacing of the orbit positions whose coverage polygons are united [m].
ORBIT_POLYGON_STEP_M = 25_000.0


def _radar_polygon(sim, r, transformer, altitude_m, agl_m):
    k = sim.scenario.detection.refraction_k
    if isinstance(r.platform, Orbit):
        lat, lon = to_lat_lon(r.platform.loop_samples(ORBIT_POLYGON_STEP_M))
        sites = [(float(a), float(b), r.platform.alt_m, {}) for a, b in zip(np.atleast_1d(lat), np.atleast_1d(lon))]
    else:
        kw = {}
        if r.masking is not None:   # polygons in the bins of the radar's masking table
            kw = dict(masking=r.masking, azimuth_step_deg=r.masking.azimuth_step_deg,
                      radial_step_m=r.masking.range_step_m)
        sites = [(r.lat_deg, r.lon_deg, r.antenna_alt_m, kw)]
    parts = []
    for lat, lon, antenna, kw in sites:
        if agl_m is None:
            parts.append(coverage_polygon(lat, lon, antenna, r.range_m, altitude_m, k, transformer, **kw))
        else:
            parts.append(coverage_polygon_agl(sim.terrain, lat, lon, antenna, r.range_m, agl_m, k, transformer, **kw))
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def radar_coverages(sim, transformer, altitude_m=None, agl_m=None):
    """Coverage polygon (region metres) of every radar at one level.

    Give ``altitude_m`` (above mean sea level) or ``agl_m`` (above the
    ground; the simulation must hold a terrain model). Returns a list of
    ``(RadarModel, geometry)``.
    """
    if (altitude_m is None) == (agl_m is None):
        raise ValueError("give exactly one of altitude_m and agl_m")
    if agl_m is not None and sim.terrain is None:
        raise ValueError("coverage above ground needs the simulation's terrain model")
    return [(r, _radar_polygon(sim, r, transformer, altitude_m, agl_m)) for r in sim.radars]


def _km2(g):
    return round(float(shapely.area(g)) / 1e6, 1)


def coverage_collection(sim, altitude_m=None, agl_m=None):
    """GeoJSON FeatureCollection of the air picture, and a dict of its areas.

    Features: each radar's coverage, the union of the radars that need no
    transponder (``air_picture_primary``), the union of all radars, and the
    scenario's airspace; the stats give areas [km2] and the fraction of the
    airspace each union covers.
    """
    airspace = sim.airspace
    transformer = airspace.transformer
    covs = radar_coverages(sim, transformer, altitude_m, agl_m)
    fence = airspace.polygon_m
    fence_area = float(shapely.area(fence))
    level = {"altitude_m": altitude_m} if agl_m is None else {"altitude_agl_m": agl_m}
    feats = []
    stats = {"scenario": sim.scenario.info.name, "airspace": airspace.name, "airspace_iso_a3": airspace.iso_a3,
             **level, "terrain": sim.scenario.detection.terrain,
             "refraction_k": sim.scenario.detection.refraction_k, "radars": {}}
    for r, g in covs:
        feats.append(polygon_to_geojson_feature(g, transformer, {
            "kind": "radar_coverage", "name": r.name, "radar_kind": r.kind.name,
            "platform": "orbit" if isinstance(r.platform, Orbit) else "fixed site", **level,
            "range_km": round(r.range_m / 1000, 1), "area_km2": _km2(g)}))
        stats["radars"][r.name] = {"kind": r.kind.name, "area_km2": _km2(g),
                                   "airspace_fraction": round(float(shapely.area(shapely.intersection(g, fence)))
                                                              / fence_area, 4)}
    for name, sel in (("air_picture_primary", lambda r: not r.kind.needs_transponder),
                      ("air_picture_all", lambda r: True)):
        parts = [g for r, g in covs if sel(r)]
        u = shapely.union_all(parts) if parts else shapely.Polygon()
        inside = shapely.intersection(u, fence)
        feats.append(polygon_to_geojson_feature(u, transformer, {"kind": name, "name": name, **level,
                                                                 "area_km2": _km2(u)}))
        stats[name] = {"area_km2": _km2(u), "airspace_area_km2": _km2(inside),
                       "airspace_fraction": round(float(shapely.area(inside)) / fence_area, 4)}
    feats.append(polygon_to_geojson_feature(fence, transformer, {"kind": "airspace", "name": airspace.name,
                                                                 "iso_a3": airspace.iso_a3, "area_km2": _km2(fence)}))
    return feature_collection(feats, sim.scenario.info.name), stats
