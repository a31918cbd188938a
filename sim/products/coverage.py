"""The air picture at an altitude: per-radar coverage geofences and their union.

Polygons are built in the region's equal-area projection (areas in km2 are
true) and exported as RFC 7946 GeoJSON in WGS84 lon/lat. An orbiting
radar's polygon is the union of its coverage from points around its loop
(at most :data:`ORBIT_POLYGON_STEP_M` apart), over a smooth Earth: the
simulation checks the terrain along every ray of an airborne radar, the
drawing does not.

Every picture shows the state that was run: a radar switched off
(availability 0) covers nothing, so it is in no union and its own feature
says ``"state": "off"``; a radar up part of the time keeps its coverage
and says its availability (:func:`availability_text`, the words every map,
legend and KML name use).
"""
import numpy as np
import shapely

from geo.coverage import coverage_polygon, coverage_polygon_agl, polygon_to_geojson_feature
from sim.flights import to_lat_lon
from sim.platforms import Orbit
from sim.products.export import feature_collection

__all__ = ["radar_coverages", "coverage_collection", "radar_state", "availability_text", "radar_label",
           "OFF_TEXT", "ORBIT_POLYGON_STEP_M"]

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


def radar_coverages(sim, transformer, altitude_m=None, agl_m=None, progress=None):
    """Coverage polygon (region metres) of every radar at one level.

    Give ``altitude_m`` (above mean sea level) or ``agl_m`` (above the
    ground; the simulation must hold a terrain model). Returns a list of
    ``(RadarModel, geometry)``, every radar's (one switched off too: what it
    would cover; :func:`radar_state` says it is off). ``progress(1)`` is
    called after each radar.
    """
    if (altitude_m is None) == (agl_m is None):
        raise ValueError("give exactly one of altitude_m and agl_m")
    if agl_m is not None and sim.terrain is None:
        raise ValueError("coverage above ground needs the simulation's terrain model")
    out = []
    for r in sim.radars:
        out.append((r, _radar_polygon(sim, r, transformer, altitude_m, agl_m)))
        if progress is not None:
            progress(1)
    return out


#: How products say a radar is switched off: in legends, labels, KML names and GeoJSON.
OFF_TEXT = "off (availability 0)"


def radar_state(availability):
    """``"off"`` (availability 0: it covers and sees nothing), ``"part-time"`` (up a share of the time) or ``"on"``.

    >>> radar_state(0.0), radar_state(0.5), radar_state(1.0)
    ('off', 'part-time', 'on')
    """
    return "off" if availability <= 0 else "part-time" if availability < 1 else "on"


def availability_text(availability):
    """How a label says a radar's availability: :data:`OFF_TEXT`, ``"up 50%"``, or "" when always up.

    >>> availability_text(0.0), availability_text(0.5), availability_text(0.995), availability_text(1.0)
    ('off (availability 0)', 'up 50%', 'up 99.5%', '')
    """
    state = radar_state(availability)
    if state != "part-time":
        return OFF_TEXT if state == "off" else ""
    pct = 100.0 * availability
    return f"up {pct:.0f}%" if round(pct) == round(pct, 1) else f"up {pct:.1f}%"


def radar_label(name, availability):
    """A radar's name as products label it, with its availability when it is not always up (a radar off:
    ``(off)``, the legend saying :data:`OFF_TEXT`).

    >>> radar_label("Kirkuk PSR", 0.5), radar_label("Kirkuk PSR", 0), radar_label("Baghdad PSR", 1)
    ('Kirkuk PSR (up 50%)', 'Kirkuk PSR (off)', 'Baghdad PSR')
    """
    state = radar_state(availability)
    return name if state == "on" else f"{name} (off)" if state == "off" else f"{name} ({availability_text(availability)})"


def _km2(g):
    return round(float(shapely.area(g)) / 1e6, 1)


def coverage_collection(sim, altitude_m=None, agl_m=None, progress=None):
    """GeoJSON FeatureCollection of the air picture, and a dict of its areas.

    Features: each radar's coverage (with its ``availability`` and
    ``state``: a radar switched off keeps its geometry, marked ``"off"``, for
    reference), the union of the radars that need no transponder
    (``air_picture_primary``), the union of all radars, and the scenario's
    airspace; the unions leave out the radars switched off. The stats give
    areas [km2] and the fraction of the airspace each union covers.
    ``progress(1)`` is called after each radar's polygon.
    """
    airspace = sim.airspace
    transformer = airspace.transformer
    covs = radar_coverages(sim, transformer, altitude_m, agl_m, progress)
    fence = airspace.polygon_m
    fence_area = float(shapely.area(fence))
    level = {"altitude_m": altitude_m} if agl_m is None else {"altitude_agl_m": agl_m}
    feats = []
    stats = {"scenario": sim.scenario.info.name, "airspace": airspace.name, "airspace_iso_a3": airspace.iso_a3,
             **({"overrides": list(sim.scenario.overrides)} if sim.scenario.overrides else {}),
             **level, "terrain": sim.scenario.detection.terrain,
             "refraction_k": sim.scenario.detection.refraction_k, "radars": {}}
    for r, g in covs:
        feats.append(polygon_to_geojson_feature(g, transformer, {
            "kind": "radar_coverage", "name": r.name, "radar_kind": r.kind.name,
            "platform": "orbit" if isinstance(r.platform, Orbit) else "fixed site", **level,
            "range_km": round(r.range_m / 1000, 1), "area_km2": _km2(g), "availability": r.availability,
            "state": radar_state(r.availability), "label": radar_label(r.name, r.availability)}))
        stats["radars"][r.name] = {"kind": r.kind.name, "availability": r.availability,
                                   "state": radar_state(r.availability), "area_km2": _km2(g),
                                   "airspace_fraction": round(float(shapely.area(shapely.intersection(g, fence)))
                                                              / fence_area, 4)}
    for name, sel in (("air_picture_primary", lambda r: not r.kind.needs_transponder),
                      ("air_picture_all", lambda r: True)):
        parts = [g for r, g in covs if sel(r) and r.availability > 0]      # a radar off covers nothing
        u = shapely.union_all(parts) if parts else shapely.Polygon()
        inside = shapely.intersection(u, fence)
        feats.append(polygon_to_geojson_feature(u, transformer, {"kind": name, "name": name, **level,
                                                                 "area_km2": _km2(u)}))
        stats[name] = {"area_km2": _km2(u), "airspace_area_km2": _km2(inside),
                       "airspace_fraction": round(float(shapely.area(inside)) / fence_area, 4)}
    feats.append(polygon_to_geojson_feature(fence, transformer, {"kind": "airspace", "name": airspace.name,
                                                                 "iso_a3": airspace.iso_a3, "area_km2": _km2(fence)}))
    return feature_collection(feats, sim.scenario.info.name, sim.scenario.overrides), stats
