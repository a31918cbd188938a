"""The region's metric projection: geofences are built and tested in metres.

A Lambert azimuthal equal-area projection centred on Iraq keeps areas true
and distances within about 1 % over the whole Iran-Syria region.
"""
import pyproj

__all__ = ["REGION_CENTER_LAT_DEG", "REGION_CENTER_LON_DEG", "region_crs", "region_transformer"]

REGION_CENTER_LAT_DEG = 33.5
REGION_CENTER_LON_DEG = 44.0


def region_crs(lat0_deg=REGION_CENTER_LAT_DEG, lon0_deg=REGION_CENTER_LON_DEG):
    """Lambert azimuthal equal-area CRS centred on (lat0, lon0), WGS84, metres."""
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat0_deg} +lon_0={lon0_deg} +datum=WGS84 +units=m +no_defs"
    )


def region_transformer(lat0_deg=REGION_CENTER_LAT_DEG, lon0_deg=REGION_CENTER_LON_DEG):
    """Transformer lon/lat (degrees, WGS84) -> region x/y (metres); ``always_xy``.

    Use ``.transform(lon, lat)`` forward and ``.transform(x, y, direction="INVERSE")`` back.
    """
    return pyproj.Transformer.from_crs("EPSG:4326", region_crs(lat0_deg, lon0_deg), always_xy=True)
