"""The page's map of a run as GeoJSON in WGS84 lon/lat: what the brief's route map draws.

The layers are those of :func:`sim.products.brief.map_layers` (the same
sample of tracks, first detections and intercepts, the same coverage at the
level flown, the same labelled sites), projected back from the region's
metres to lon/lat for Leaflet. Coverage polygons are the slow part (terrain
masking along every ray): :func:`coverage_m` keeps them in the page's
:class:`~sim.prepcache.PrepCache`, keyed by what a radar's coverage reads, so
a what-if that changes only draws or the response draws them at once.

Each radar's coverage and site carry its state as run (the what-if's
availability: ``availability``, ``state`` ``"on"``, ``"part-time"`` or
``"off"``, and ``label``, the words of :mod:`sim.products.coverage`), so the
page draws a radar switched off as off (its coverage outlined, dashed, not
filled, and "off" in the legend) and names a part-time one's availability.
"""
import dataclasses

import numpy as np
import shapely
from pyproj.enums import TransformDirection

from geo.coverage import polygon_to_geojson_feature
from sim.products.brief import coverage_level, coverage_polygons, map_layers
from sim.products.coverage import OFF_TEXT, availability_text, radar_label, radar_state

__all__ = ["coverage_m", "map_geojson", "ROUTE_SIMPLIFY_M", "DECIMALS"]

#: Tolerance of the simplified route lines sent to the page [m] (the nominal tracks are sampled densely).
ROUTE_SIMPLIFY_M = 250.0
#: Decimal places of the lon/lat sent to the page (1e-4 deg is about 11 m).
DECIMALS = 4


def coverage_m(sim, cache):
    """Each radar's coverage polygon [region metres] at the level the map draws (:func:`coverage_level`).

    A radar's polygon reads its kind, platform (site or orbit, antenna
    altitude), range and refraction, whether terrain masks it (the packaged
    terrain model, by its digest), the level, and the region's projection:
    it is kept in ``cache`` (a :class:`sim.prepcache.PrepCache`) under
    those, not under its Pd, availability or name.
    """
    alt, agl, _ = coverage_level(sim)
    a = sim.airspace
    terrain_key = None if sim.terrain is None else cache.terrain_key(sim.terrain)
    out = []
    for r in sim.radars:
        inputs = (r.kind.name, r.platform, r.range_m, r.refraction_k, r.masking is not None,
                  r.terrain is not None, terrain_key, alt, agl, a.centre_lat_deg, a.centre_lon_deg)
        one = dataclasses.replace(sim, radars=(r,))
        out.append(cache.get("page-coverage", inputs,
                             lambda one=one: coverage_polygons(one, a.transformer, alt, agl)[0]))
    return tuple(out)


def _lonlat(tr, xy):
    """Region metres (N, 2) -> rounded [[lon, lat], ...]."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not len(xy):
        return []
    lon, lat = tr.transform(xy[:, 0], xy[:, 1], direction=TransformDirection.INVERSE)
    return np.round(np.column_stack([lon, lat]), DECIMALS).tolist()


def _feature(geometry_type, coordinates, **properties):
    return {"type": "Feature", "geometry": {"type": geometry_type, "coordinates": coordinates},
            "properties": properties}


def _collection(features):
    return {"type": "FeatureCollection", "features": list(features)}


def _radar_properties(r):
    """A radar's state as run: ``availability``, ``state`` (:func:`~sim.products.coverage.radar_state`),
    ``availability_text`` ("" when always up) and ``label`` (its name with its availability)."""
    a = float(r.availability)
    return {"availability": a, "state": radar_state(a), "availability_text": availability_text(a),
            "label": radar_label(r.name, a)}


def map_geojson(sim, result, cache):
    """The map of a run, as a dict of GeoJSON FeatureCollections and facts for the legend.

    Keys: ``routes``, ``coverage`` (one polygon per radar; ``hidden`` when
    the radar can see no flight of the run; its state as run:
    :func:`_radar_properties`), ``radars`` (sites, with their state), ``orbits``,
    ``tracks`` (``detected`` true/false), ``first_detections``,
    ``intercepts``, ``interceptors``, ``sites`` (labelled points, with
    ``priority`` and ``airport``), and ``coverage_label``, ``focus_iso_a3``,
    ``airspace``, ``flights_total``, ``flights_detected``, ``tracks_drawn``,
    ``bounds`` (``[[south, west], [north, east]]`` of what must show),
    ``radars_off`` (the names of the radars switched off) and ``off_text``
    (how the legend says it).
    """
    layers = map_layers(sim, result, coverage=coverage_m(sim, cache))
    tr = layers.transformer
    routes = [_feature("LineString", _lonlat(tr, shapely.get_coordinates(
                  shapely.simplify(shapely.LineString(xy), ROUTE_SIMPLIFY_M))), name=name, weight=float(p))
              for name, xy, p in zip(layers.route_names, layers.route_xy, sim.route_p)]
    state = [_radar_properties(r) for r in sim.radars]         # the what-if's radars, as run
    coverage = []
    for name, kind, hidden, g, st in zip(layers.radar_names, layers.radar_kinds, layers.radar_hidden, layers.coverage,
                                         state):
        f = polygon_to_geojson_feature(g, tr, {"name": name, "kind": kind, "hidden": bool(hidden), **st},
                                       decimals=DECIMALS)
        if f["geometry"] is not None:
            coverage.append(f)
    radars = [_feature("Point", _lonlat(tr, xy)[0], name=name, kind=kind, kind_label=label, **st)
              for name, kind, label, xy, st in zip(layers.radar_names, layers.radar_kinds, layers.radar_kind_labels,
                                                   layers.radar_xy, state) if np.isfinite(xy).all()]
    orbits = [_feature("LineString", _lonlat(tr, xy), name=name, kind=kind, **st)
              for name, kind, xy, st in zip(layers.radar_names, layers.radar_kinds, layers.radar_orbit_xy, state)
              if len(xy)]
    tracks = [_feature("LineString", _lonlat(tr, xy), detected=bool(d))          # the rare misses drawn last, on top
              for xy, d in sorted(zip(layers.track_xy, layers.track_detected), key=lambda t: bool(not t[1]))]
    first = [_feature("Point", c) for c in _lonlat(tr, layers.first_xy)]
    intercepts = [_feature("Point", c) for c in _lonlat(tr, layers.intercept_xy)]
    interceptors = [_feature("Point", c, name=i.name) for c, i in zip(_lonlat(tr, layers.interceptor_xy),
                                                                      sim.scenario.interceptors)]
    airports = {tuple(np.round(xy, 3)) for xy in np.asarray(layers.airport_xy).reshape(-1, 2)}
    sites = [_feature("Point", _lonlat(tr, [(x, y)])[0], label=label, priority=int(prio),
                      airport=(round(x, 3), round(y, 3)) in airports)
             for label, x, y, prio in layers.sites]
    must = layers.must_show_xy[np.isfinite(layers.must_show_xy).all(axis=1)]
    ll = np.array(_lonlat(tr, must)).reshape(-1, 2)
    bounds = [[float(ll[:, 1].min()), float(ll[:, 0].min())], [float(ll[:, 1].max()), float(ll[:, 0].max())]]
    return {"routes": _collection(routes), "coverage": _collection(coverage), "radars": _collection(radars),
            "orbits": _collection(orbits), "tracks": _collection(tracks), "first_detections": _collection(first),
            "intercepts": _collection(intercepts), "interceptors": _collection(interceptors),
            "sites": _collection(sites), "coverage_label": layers.coverage_label, "terrain": layers.terrain,
            "focus_iso_a3": layers.focus_iso_a3, "airspace": layers.airspace_name,
            "flights_total": layers.flights_total, "flights_detected": layers.flights_detected,
            "tracks_drawn": len(tracks), "bounds": bounds,
            "radars_off": [r.name for r, st in zip(sim.radars, state) if st["state"] == "off"], "off_text": OFF_TEXT}
