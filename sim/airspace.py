"""The airspace of a scenario and the region it is drawn and fenced in.

The country comes from the scenario (``[airspace] country``, ISO 3166-1
alpha-3 of the packaged Natural Earth borders); the region's equal-area
projection is centred on the scenario's own routes and radars, so the same
question can be asked of any airspace in the packaged region.
"""
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from geo.coverage import country_polygon
from geo.projection import region_centre_deg, region_transformer

__all__ = ["Airspace", "scenario_points_deg", "build_airspace"]


@dataclass(frozen=True)
class Airspace:
    """A country's airspace as a geofence, in the scenario's region metres."""

    iso_a3: str
    name: str
    centre_lat_deg: float
    centre_lon_deg: float
    transformer: pyproj.Transformer     # lon/lat -> region metres, always_xy
    polygon_m: shapely.Geometry         # the country's territory (prepared)


def scenario_points_deg(scenario):
    """Latitudes and longitudes [deg] of every route waypoint, radar site and orbit waypoint."""
    pts = [(w.lat_deg, w.lon_deg) for r in scenario.routes for w in r.waypoints]
    for r in scenario.radars:
        pts += list(r.orbit.waypoints) if r.orbit is not None else [(r.lat_deg, r.lon_deg)]
    a = np.array(pts, dtype=float)
    return a[:, 0], a[:, 1]


def build_airspace(scenario):
    """The :class:`Airspace` of a validated scenario (projection centred on its routes and radars)."""
    lat0, lon0 = region_centre_deg(*scenario_points_deg(scenario))
    transformer = region_transformer(lat0, lon0)
    return Airspace(scenario.airspace.country, scenario.airspace.name, lat0, lon0, transformer,
                    country_polygon(scenario.airspace.country, transformer))
