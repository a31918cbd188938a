"""Geofences in metres: radar coverage polygons, country airspace, GeoJSON export.

Every geometry here (except :func:`load_borders`) is in the region projection's
metres, ``x, y = transformer.transform(lon_deg, lat_deg)`` with a
``pyproj.Transformer`` built by :func:`geo.projection.region_transformer`.
Geometries are never buffered in degrees. Fences are tested with
``shapely.contains_xy`` on flattened arrays after ``shapely.prepare``.
"""
import functools
import json
import math
from importlib import resources

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.polygon import orient

from geo.earth import EARTH_RADIUS_M, horizon_distance_m
from geo.earth import destination_deg
from geo.terrain import azimuth_bin_count, elevation_m, min_visible_alt_m

__all__ = [
    "BORDERS_FILENAME",
    "coverage_radius_m",
    "coverage_polygon",
    "coverage_polygon_agl",
    "load_borders",
    "country_names",
    "country_polygon",
    "polygon_to_geojson_feature",
    "time_inside",
    "minutes_inside",
    "project_geometry",
]

#: Packaged Natural Earth 1:50m admin-0 borders inside ``geo.data``.
BORDERS_FILENAME = "ne_admin0_middle_east.geojson"

_SITE_TOL_DEG = 1e-9
_SITE_TOL_M = 1e-6


def coverage_radius_m(antenna_alt_m, range_m, target_alt_m, refraction_k):
    """Largest ground distance at which a target is in range and above the smooth horizon [m].

    Parameters
    ----------
    antenna_alt_m : array_like
        Antenna height above mean sea level [m].
    range_m : array_like
        Instrumented (slant) range [m].
    target_alt_m : array_like
        Target altitude above mean sea level [m].
    refraction_k : float
        Effective-Earth-radius factor [-].

    Returns
    -------
    ndarray
        ``min(horizon_distance_m, d_range)`` [m], where ``d_range`` is the
        ground distance at which :func:`geo.earth.slant_range_m` equals
        ``range_m``; 0 where the range does not even reach the target's
        altitude difference.

    Notes
    -----
    Inverting the law of cosines used by ``slant_range_m``,
    ``range^2 = (r1 - r2)^2 + 4 r1 r2 sin^2(phi / 2)`` with ``r = R + h``,
    gives ``phi = 2 asin(sqrt((range^2 - (r1 - r2)^2) / (4 r1 r2)))`` and
    ``d_range = R phi`` (R = 6371 km).

    Examples
    --------
    >>> round(float(coverage_radius_m(50.0, 450e3, 9000.0, 4.0 / 3.0)) / 1e3, 1)  # horizon-limited [km]
    420.2
    """
    h1 = np.asarray(antenna_alt_m, dtype=float)
    h2 = np.asarray(target_alt_m, dtype=float)
    r1 = EARTH_RADIUS_M + h1
    r2 = EARTH_RADIUS_M + h2
    s2 = (np.asarray(range_m, dtype=float) ** 2 - (r1 - r2) ** 2) / (4.0 * r1 * r2)
    phi = 2.0 * np.arcsin(np.sqrt(np.clip(s2, 0.0, 1.0)))
    d_range = EARTH_RADIUS_M * phi
    return np.minimum(horizon_distance_m(h1, h2, refraction_k), d_range)


def _check_site(masking, lat_deg, lon_deg, antenna_alt_m):
    if masking is None:
        return
    if (
        abs(masking.lat_deg - lat_deg) > _SITE_TOL_DEG
        or abs(masking.lon_deg - lon_deg) > _SITE_TOL_DEG
        or abs(masking.antenna_alt_m - antenna_alt_m) > _SITE_TOL_M
    ):
        raise ValueError("masking table was built for another radar site or antenna altitude")


def _polygonal(geom):
    """The polygonal part of a geometry (drops points/lines left by cleaning)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


def _sector_polygons(x_m, y_m, visible):
    """Union of polar cells, built as one ring per run of visible range bins.

    Parameters
    ----------
    x_m, y_m : ndarray, shape (n_az, n_edges)
        Projected vertices on the azimuth-bin boundary rays: row ``b`` is the
        ray at ``(b - 0.5) * step`` (left edge of sector ``b``), column ``j``
        the ``j``-th range edge. Column 0 must be the site for every row.
    visible : ndarray of bool, shape (n_az, n_edges - 1)
        Visible cells ``(sector, range bin)``.

    Notes
    -----
    Each run ``[j0, j1)`` of visible bins in sector ``a`` becomes the ring
    left ray ``j0..j1`` then right ray ``j1..j0``. Neighbouring sectors use
    the very same vertex coordinates on their shared ray, at every range
    edge, so the cells form an exact coverage and
    ``shapely.coverage_union_all`` dissolves them (falling back to
    ``shapely.union_all`` if that fails). Arcs between rays are chords: the
    sag is ``r (1 - cos(step / 2))``, 4 m at 450 km for a 0.5 deg step.
    """
    n_az, n_bins = visible.shape
    pad = np.zeros((n_az, 1), dtype=bool)
    v = np.concatenate([pad, visible, pad], axis=1).astype(np.int8)
    dv = np.diff(v, axis=1)
    sa, sj = np.nonzero(dv == 1)  # run starts (row-major order)
    ea, ej = np.nonzero(dv == -1)  # run ends (exclusive), same order
    if sa.size == 0:
        return shapely.Polygon()
    n_side = ej - sj + 1
    n_tot = 2 * n_side
    run = np.repeat(np.arange(sa.size), n_tot)
    k = np.arange(n_tot.sum()) - np.repeat(np.cumsum(n_tot) - n_tot, n_tot)
    ns = n_side[run]
    left = k < ns
    ai = np.where(left, sa[run], (sa[run] + 1) % n_az)
    ji = np.where(left, sj[run] + k, ej[run] - (k - ns))
    coords = np.column_stack([x_m[ai, ji], y_m[ai, ji]])
    polys = shapely.polygons(shapely.linearrings(coords, indices=run))
    try:
        geom = shapely.coverage_union_all(polys)
    except shapely.errors.GEOSException:  # pragma: no cover - defensive
        geom = shapely.union_all(polys)
    if not geom.is_valid:  # pragma: no cover - defensive
        geom = shapely.make_valid(geom)
    return _polygonal(geom)


def _boundary_vertices(lat_deg, lon_deg, n_az, azimuth_step_deg, edges_m, transformer):
    """Projected vertices on the sector boundary rays, shape (n_az, n_edges)."""
    az_b = (np.arange(n_az)[:, None] - 0.5) * azimuth_step_deg
    lat, lon = destination_deg(lat_deg, lon_deg, az_b, edges_m[None, :])
    lat[:, edges_m == 0.0] = lat_deg
    lon[:, edges_m == 0.0] = lon_deg
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def coverage_polygon(
    lat_deg,
    lon_deg,
    antenna_alt_m,
    range_m,
    target_alt_m,
    refraction_k,
    transformer,
    masking=None,
    azimuth_step_deg=0.5,
    radial_step_m=500.0,
):
    """Ground area over which a target at a fixed altitude is seen by one radar.

    Parameters
    ----------
    lat_deg, lon_deg : float
        Radar site [deg].
    antenna_alt_m : float
        Antenna height above mean sea level [m].
    range_m : float
        Instrumented slant range [m].
    target_alt_m : float
        Target altitude above mean sea level [m].
    refraction_k : float
        Effective-Earth-radius factor [-].
    transformer : pyproj.Transformer
        lon/lat -> region metres, ``always_xy`` (``geo.projection.region_transformer()``).
    masking : MaskingTable, optional
        Terrain masking of this radar (same site and antenna altitude).
        Beyond its ``max_range_m`` nothing is visible, so build it out to at
        least the coverage radius.
    azimuth_step_deg : float, default 0.5
        Sector width [deg]; must divide 360. Sector ``a`` is centred on
        ``a * azimuth_step_deg``.
    radial_step_m : float, default 500
        Range-bin width [m] (used only with ``masking``).

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        In region metres; empty when nothing is visible.

    Notes
    -----
    A ground point is covered when a target above it at ``target_alt_m`` is
    (a) within slant range ``range_m``, (b) within the smooth effective-Earth
    horizon, both through :func:`coverage_radius_m` (radius ``r``), and
    (c) with ``masking``, at or above :func:`geo.terrain.min_visible_alt_m`.

    Without masking the result is the ``r`` disc drawn through one vertex per
    sector boundary (720 vertices at 0.5 deg; area deficit of the inscribed
    polygon ``(2 pi / n)^2 / 6 = 1.3e-5``).

    With masking, polar cells ``[j dr, (j + 1) dr]`` (the last one clipped
    to ``r``) are evaluated at the cell centre (sector-centre azimuth, mid
    range); runs of visible cells in a sector become annular-sector rings
    whose vertices come from the spherical direct formula and the
    transformer, and the rings are dissolved into one geometry. The result
    matches a per-point check to within one cell: when the sector and range
    steps equal the masking table's, the cells are exactly the table's bins.
    """
    _check_site(masking, lat_deg, lon_deg, antenna_alt_m)
    n_az = azimuth_bin_count(azimuth_step_deg)
    r_m = float(coverage_radius_m(antenna_alt_m, range_m, target_alt_m, refraction_k))
    if not r_m > 0:
        return shapely.Polygon()
    if masking is None:
        edges = np.array([0.0, r_m])
        visible = np.ones((n_az, 1), dtype=bool)
    else:
        if not radial_step_m > 0:
            raise ValueError("radial_step_m must be positive")
        n_bins = int(math.ceil(r_m / radial_step_m - 1e-9))
        edges = np.minimum(np.arange(n_bins + 1) * radial_step_m, r_m)
        mid = 0.5 * (edges[:-1] + edges[1:])
        az_c = np.arange(n_az)[:, None] * azimuth_step_deg
        visible = target_alt_m >= min_visible_alt_m(masking, az_c, mid[None, :])
    x, y = _boundary_vertices(lat_deg, lon_deg, n_az, azimuth_step_deg, edges, transformer)
    return _sector_polygons(x, y, visible)


def coverage_polygon_agl(
    terrain,
    lat_deg,
    lon_deg,
    antenna_alt_m,
    range_m,
    target_agl_m,
    refraction_k,
    transformer,
    masking=None,
    azimuth_step_deg=0.5,
    radial_step_m=500.0,
):
    """Ground area over which a target at a fixed height above ground is seen.

    Parameters
    ----------
    terrain : Terrain
        Elevation model giving the ground under the target.
    lat_deg, lon_deg, antenna_alt_m, range_m, refraction_k, transformer, masking,
    azimuth_step_deg, radial_step_m
        As in :func:`coverage_polygon`.
    target_agl_m : float
        Target height above ground level [m].

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        In region metres; empty when nothing is visible.

    Notes
    -----
    Polar cells ``[j dr, (j + 1) dr]`` out to the coverage radius of the
    highest possible target (highest DEM value plus ``target_agl_m``) are
    evaluated at their centre: target altitude = ``elevation_m`` there plus
    ``target_agl_m``, then the three tests of :func:`coverage_polygon`
    (range and horizon per cell via :func:`coverage_radius_m`). The masking
    table's bin values are never below the terrain in the bin, so in rough
    terrain a low AGL target counts as hidden where any ground in its bin
    rises above it (conservative). Without ``masking`` only range and the
    smooth horizon are applied.
    """
    _check_site(masking, lat_deg, lon_deg, antenna_alt_m)
    n_az = azimuth_bin_count(azimuth_step_deg)
    if not radial_step_m > 0:
        raise ValueError("radial_step_m must be positive")
    top_m = float(np.max(terrain.elevation_m)) + target_agl_m
    r_max = float(coverage_radius_m(antenna_alt_m, range_m, max(top_m, 0.0), refraction_k))
    if not r_max > 0:
        return shapely.Polygon()
    n_bins = int(math.ceil(r_max / radial_step_m - 1e-9))
    edges = np.arange(n_bins + 1) * radial_step_m
    mid = 0.5 * (edges[:-1] + edges[1:])
    az_c = np.arange(n_az)[:, None] * azimuth_step_deg
    lat_c, lon_c = destination_deg(lat_deg, lon_deg, az_c, mid[None, :])
    alt_c = elevation_m(terrain, lat_c, lon_c) + target_agl_m
    visible = mid[None, :] <= coverage_radius_m(antenna_alt_m, range_m, alt_c, refraction_k)
    if masking is not None:
        visible &= alt_c >= min_visible_alt_m(masking, az_c, mid[None, :])
    x, y = _boundary_vertices(lat_deg, lon_deg, n_az, azimuth_step_deg, edges, transformer)
    return _sector_polygons(x, y, visible)


def load_borders():
    """Country borders from the packaged Natural Earth file, in lon/lat.

    Returns
    -------
    list of (str, str, shapely geometry)
        ``(name, iso_a3, geometry)`` for the 22 countries, sorted by ISO A3;
        geometries are WGS84 lon/lat degrees (for maps, not for fences).

    References
    ----------
    Natural Earth 1:50m Admin 0 - Countries, v4.0.0 (public domain);
    provenance in ``geo/data/PROVENANCE.md``.
    """
    return [(f["properties"]["NAME"], f["properties"]["ISO_A3"], shape(f["geometry"])) for f in _border_features()]


def _border_features():
    text = resources.files("geo.data").joinpath(BORDERS_FILENAME).read_text(encoding="utf-8")
    return json.loads(text)["features"]


@functools.cache
def _country_table():
    """``((iso_a3, name), ...)`` of the packaged borders file, in file order.

    Read once per process and kept: it is a pure read of a file inside the installed package (which does
    not change while the process runs), its result an immutable tuple of strings, so keeping it changes no
    result. Every scenario that is read or overridden asks for it, and parsing the whole GeoJSON (every
    border's coordinates) for these 22 names took about 5 ms each time.
    """
    return tuple((f["properties"]["ISO_A3"], f["properties"]["NAME"]) for f in _border_features())


def country_names():
    """``{iso_a3: name}`` of the countries in the packaged borders file (a new dict each call).

    >>> country_names()["TUR"]
    'Turkey'
    """
    return dict(_country_table())


def project_geometry(geom, transformer, direction="FORWARD"):
    """Transform a shapely geometry's coordinates (``"FORWARD"``: lon/lat -> metres, ``"INVERSE"`` back)."""
    def f(xy):
        x, y = transformer.transform(xy[:, 0], xy[:, 1], direction=direction)
        return np.column_stack([x, y])

    return shapely.transform(geom, f)


def country_polygon(iso_a3, transformer):
    """A country's territory as a geofence in region metres.

    Parameters
    ----------
    iso_a3 : str
        ISO 3166-1 alpha-3 code of one of the packaged countries (e.g. ``"IRQ"``).
    transformer : pyproj.Transformer
        lon/lat -> region metres, ``always_xy``.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        Projected, prepared (``shapely.prepare``) geometry.

    Raises
    ------
    KeyError
        If the code is not in the packaged file.
    """
    for _name, iso, geom in load_borders():
        if iso == iso_a3:
            fence = project_geometry(geom, transformer)
            shapely.prepare(fence)
            return fence
    raise KeyError(f"no country {iso_a3!r} in {BORDERS_FILENAME}")


def _ring_coords(ring, decimals):
    c = np.round(np.asarray(ring.coords)[:, :2], decimals)
    keep = np.ones(len(c), dtype=bool)
    keep[1:] = np.any(c[1:] != c[:-1], axis=1)  # drop repeats created by rounding
    c = c[keep]
    if len(c) == 0 or np.any(c[0] != c[-1]):
        c = np.vstack([c, c[:1]])
    return c.tolist()


def polygon_to_geojson_feature(geom_m, transformer, properties=None, decimals=6):
    """A projected polygon as an RFC 7946 GeoJSON Feature in WGS84 lon/lat.

    Parameters
    ----------
    geom_m : shapely.Polygon or shapely.MultiPolygon
        Geometry in region metres (other parts of a collection are dropped).
    transformer : pyproj.Transformer
        The lon/lat -> metres transformer it was built with (used inversely).
    properties : dict, optional
        Feature properties (copied).
    decimals : int, default 6
        Decimal places of the coordinates (1e-6 deg is 0.11 m).

    Returns
    -------
    dict
        ``{"type": "Feature", "geometry": ..., "properties": ...}``; the
        geometry is ``None`` for an empty input.

    Notes
    -----
    RFC 7946 sec. 3.1.6: exterior rings counter-clockwise, holes clockwise,
    rings closed; positions are ``[lon, lat]``.

    References
    ----------
    H. Butler et al., "The GeoJSON Format", IETF RFC 7946, 2016.
    """
    props = dict(properties or {})
    geom_m = _polygonal(geom_m)
    if geom_m.is_empty:
        return {"type": "Feature", "geometry": None, "properties": props}
    geom = project_geometry(geom_m, transformer, direction="INVERSE")
    if hasattr(shapely, "orient_polygons"):
        geom = shapely.orient_polygons(geom, exterior_cw=False)
    else:  # shapely < 2.1
        geom = shapely.MultiPolygon([orient(p, 1.0) for p in shapely.get_parts(geom)])
    polys = [p for p in shapely.get_parts(geom) if not p.is_empty]
    rings = [
        [_ring_coords(p.exterior, decimals)] + [_ring_coords(h, decimals) for h in p.interiors]
        for p in polys
    ]
    if len(rings) == 1:
        g = {"type": "Polygon", "coordinates": rings[0]}
    else:
        g = {"type": "MultiPolygon", "coordinates": rings}
    return {"type": "Feature", "geometry": g, "properties": props}


def time_inside(x_m, y_m, t_s, fence):
    """Which samples are inside a fence, and minutes inside per flight.

    Parameters
    ----------
    x_m, y_m : array_like, shape (F, T)
        Projected positions [m] of F flights on a time grid of T samples
        (NaN where a flight has no position: counted outside).
    t_s : array_like, shape (T,) or (F, T)
        Sample times [s], increasing along the last axis.
    fence : shapely geometry
        Geofence in the same metres; prepared in place with
        ``shapely.prepare`` (idempotent) if it is not yet.

    Returns
    -------
    inside : ndarray of bool, shape (F, T)
    minutes_inside : ndarray of float64, shape (F,)
        Trapezoidal integral of the inside indicator over time [min]: an
        interval with one end inside counts half.
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"x_m and y_m must have the same (F, T) shape, got {x.shape} and {y.shape}")
    t = np.broadcast_to(np.asarray(t_s, dtype=float), x.shape)
    if not shapely.is_prepared(fence):
        shapely.prepare(fence)
    inside = shapely.contains_xy(fence, x.ravel(), y.ravel()).reshape(x.shape)
    return inside, minutes_inside(inside, t)


def minutes_inside(inside, t_s):
    """Time inside [min] along the last axis: trapezoidal integral of a boolean series.

    An interval with one end inside counts half. ``t_s`` [s] broadcasts
    against ``inside``.
    """
    f = np.asarray(inside, dtype=float)
    t = np.broadcast_to(np.asarray(t_s, dtype=float), f.shape)
    return np.sum(0.5 * (f[..., 1:] + f[..., :-1]) * np.diff(t, axis=-1), axis=-1) / 60.0
