"""The air picture at an altitude: per-radar coverage geofences and their union.

Polygons are built in the region's equal-area projection (areas in km2 are
true) and exported as RFC 7946 GeoJSON in WGS84 lon/lat.
"""
import shapely

from geo.coverage import coverage_polygon, coverage_polygon_agl, iraq_airspace, polygon_to_geojson_feature
from sim.products.export import feature_collection

__all__ = ["radar_coverages", "coverage_collection"]


def radar_coverages(sim, transformer, altitude_m=None, agl_m=None, terrain=None):
    """Coverage polygon (region metres) of every radar at one altitude.

    Give ``altitude_m`` (above mean sea level) or ``agl_m`` (above the
    ground, needs ``terrain``). Returns a list of ``(RadarModel, geometry)``.
    """
    if (altitude_m is None) == (agl_m is None):
        raise ValueError("give exactly one of altitude_m and agl_m")
    k = sim.scenario.detection.refraction_k
    out = []
    for r in sim.radars:
        kw = {}
        if r.masking is not None:   # polygons in the bins of the radar's masking table
            kw = dict(masking=r.masking, azimuth_step_deg=r.masking.azimuth_step_deg,
                      radial_step_m=r.masking.range_step_m)
        if agl_m is None:
            g = coverage_polygon(r.lat_deg, r.lon_deg, r.antenna_alt_m, r.range_m, altitude_m, k, transformer, **kw)
        else:
            g = coverage_polygon_agl(terrain, r.lat_deg, r.lon_deg, r.antenna_alt_m, r.range_m, agl_m, k,
                                     transformer, **kw)
        out.append((r, g))
    return out


def _km2(g):
    return round(float(shapely.area(g)) / 1e6, 1)


def coverage_collection(sim, transformer, altitude_m=None, agl_m=None, terrain=None):
    """GeoJSON FeatureCollection of the air picture, and a dict of its areas.

    Features: each radar's coverage, the union of primary radars, the union
    of all radars, and Iraq's airspace; the stats give areas [km2] and the
    fraction of Iraq's airspace each union covers.
    """
    covs = radar_coverages(sim, transformer, altitude_m, agl_m, terrain)
    iraq = iraq_airspace(transformer)
    level = {"altitude_m": altitude_m} if agl_m is None else {"altitude_agl_m": agl_m}
    feats = []
    stats = {"scenario": sim.scenario.info.name, **level, "terrain": sim.scenario.detection.terrain,
             "refraction_k": sim.scenario.detection.refraction_k, "radars": {}}
    for r, g in covs:
        feats.append(polygon_to_geojson_feature(g, transformer, {
            "kind": "radar_coverage", "name": r.name, "radar_kind": r.kind, **level,
            "range_km": round(r.range_m / 1000, 1), "area_km2": _km2(g)}))
        stats["radars"][r.name] = {"kind": r.kind, "area_km2": _km2(g),
                                   "iraq_fraction": round(float(shapely.area(shapely.intersection(g, iraq)) / shapely.area(iraq)), 4)}
    iraq_area = float(shapely.area(iraq))
    for name, sel in (("air_picture_primary", lambda r: r.kind == "primary"), ("air_picture_all", lambda r: True)):
        parts = [g for r, g in covs if sel(r)]
        u = shapely.union_all(parts) if parts else shapely.Polygon()
        inside = shapely.intersection(u, iraq)
        feats.append(polygon_to_geojson_feature(u, transformer, {"kind": name, "name": name, **level,
                                                                 "area_km2": _km2(u)}))
        stats[name] = {"area_km2": _km2(u), "iraq_area_km2": _km2(inside),
                       "iraq_fraction": round(float(shapely.area(inside)) / iraq_area, 4)}
    feats.append(polygon_to_geojson_feature(iraq, transformer, {"kind": "airspace", "name": "Iraq",
                                                                "area_km2": _km2(iraq)}))
    return feature_collection(feats, sim.scenario.info.name), stats
