"""The region's metric projection: geofences are built and tested in metres.

A Lambert azimuthal equal-area projection centred on the region of a
scenario (its routes and radars) keeps areas true and distances within
about 1 % out to 1,000 km from the centre.
"""
import numpy as np
import pyproj

__all__ = ["region_centre_deg", "region_crs", "region_transformer"]


def region_centre_deg(lat_deg, lon_deg):
    """Centre of the region spanned by points: the middle of their lat/lon bounding box [deg].

    >>> region_centre_deg([35.7, 33.4, 33.2], [51.3, 36.5, 44.2])
    (34.45, 43.9)
    """
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    return (round(float(lat.min() + lat.max()) / 2.0, 6), round(float(lon.min() + lon.max()) / 2.0, 6))


def region_crs(lat0_deg, lon0_deg):
    """Lambert azimuthal equal-area CRS centred on (lat0, lon0), WGS84, metres."""
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat0_deg} +lon_0={lon0_deg} +datum=WGS84 +units=m +no_defs"
    )


def region_transformer(lat0_deg, lon0_deg):
    """Transformer lon/lat (degrees, WGS84) -> region x/y (metres); ``always_xy``.

    Use ``.transform(lon, lat)`` forward and ``.transform(x, y, direction="INVERSE")`` back.
    """
    return pyproj.Transformer.from_crs("EPSG:4326", region_crs(lat0_deg, lon0_deg), always_xy=True)
