"""Tests of geo.coverage: coverage polygons, country fences, GeoJSON, time inside.

Polygons are compared with per-point checks on random points (the slow
reference), with pi r^2 in the equal-area region projection, and the Iraq
fence with the geodesic area quoted in shared/data/README.md.
"""
import math

import numpy as np
import pyproj
import pytest
import shapely

from geo.coverage import (
    coverage_polygon,
    coverage_polygon_agl,
    coverage_radius_m,
    country_polygon,
    load_borders,
    polygon_to_geojson_feature,
    time_inside,
)
from geo.earth import EARTH_RADIUS_M, azimuth_deg, ground_distance_m, horizon_distance_m, slant_range_m
from geo.projection import region_transformer
from geo.terrain import Terrain, elevation_m, load_terrain, masking_table, min_visible_alt_m

K = 4.0 / 3.0
SPHERE = pyproj.Geod(a=EARTH_RADIUS_M, b=EARTH_RADIUS_M)
BAGHDAD = (33.315, 44.366)
SULAYMANIYAH = (35.56, 45.32)


@pytest.fixture(scope="module")
def tr():
    return region_transformer(33.5, 44.0)


@pytest.fixture(scope="module")
def dem():
    return load_terrain()


def _random_points_in_disc(rng, lat0, lon0, r_m, n):
    """Uniform points in a spherical disc, via pyproj.Geod (independent of geo.terrain)."""
    az = rng.uniform(0, 360, n)
    d = r_m * np.sqrt(rng.uniform(0, 1, n))
    lon, lat, _ = SPHERE.fwd(np.full(n, lon0), np.full(n, lat0), az, d)
    return lat, lon


# ---------------------------------------------------------------- radius, disc


def test_coverage_radius_inverts_slant_range():
    # Slant-range-limited case: slant_range_m(radius) must give back range_m (1 mm).
    r = coverage_radius_m(50.0, 300e3, 12000.0, K)
    assert r < horizon_distance_m(50.0, 12000.0, K)
    assert slant_range_m(r, 50.0, 12000.0) == pytest.approx(300e3, abs=1e-3)
    # horizon-limited: equals geo.earth.horizon_distance_m
    assert coverage_radius_m(50.0, 900e3, 3000.0, K) == pytest.approx(horizon_distance_m(50.0, 3000.0, K))
    # range shorter than the height difference: nothing
    assert coverage_radius_m(0.0, 5e3, 10e3, K) == 0.0


@pytest.mark.parametrize("target_alt_m", [3000.0, 9000.0, 14000.0])
def test_disc_area_is_pi_r_squared(tr, target_alt_m):
    # Without masking the coverage is a disc of radius r = min(horizon, range).
    # Reference pi r^2; differences: spherical cap pi r^2 (1 - r^2/(12 R^2))
    # (< 5e-4 at 450 km), sphere vs WGS84 in the equal-area LAEA (< 3e-4),
    # inscribed 720-gon 1.3e-5: tolerance 0.5 % (brief).
    lat0, lon0 = BAGHDAD
    r = float(coverage_radius_m(60.0, 450e3, target_alt_m, K))
    g = coverage_polygon(lat0, lon0, 60.0, 450e3, target_alt_m, K, tr)
    assert g.geom_type == "Polygon" and g.is_valid and len(g.interiors) == 0
    assert shapely.get_num_coordinates(g) == 721  # one vertex per 0.5 deg, closed
    assert g.area == pytest.approx(math.pi * r * r, rel=5e-3)


def test_empty_when_nothing_visible(tr):
    g = coverage_polygon(33.0, 44.0, 50.0, 1e3, 10e3, K, tr)
    assert g.is_empty


def test_masking_table_must_match_site(tr):
    ter = Terrain(np.zeros((10, 10)), 34.0, 43.0, 0.1)
    tab = masking_table(ter, 33.5, 43.5, 30.0, 50e3, K)
    with pytest.raises(ValueError):
        coverage_polygon(33.6, 43.5, 30.0, 50e3, 1000.0, K, tr, masking=tab)


# ---------------------------------------------------------------- vs per-point check


@pytest.mark.parametrize("site, target_alt_m", [(SULAYMANIYAH, 8000.0), (BAGHDAD, 1500.0)])
def test_masked_polygon_vs_per_point_check(dem, tr, site, target_alt_m):
    # Slow reference: per point, ground distance and azimuth (geo.earth),
    # slant range + smooth horizon (coverage_radius_m = min(horizon, range)),
    # masking table lookup. Cells equal the table bins, so any mismatch must
    # sit within one bin (0.5 deg or 500 m) of a place where the per-point
    # answer changes; require >= 99 % agreement (brief).
    lat0, lon0 = site
    h_a = float(elevation_m(dem, lat0, lon0)) + 25.0
    rng_m = 400e3
    tab = masking_table(dem, lat0, lon0, h_a, rng_m, K)
    g = coverage_polygon(lat0, lon0, h_a, rng_m, target_alt_m, K, tr, masking=tab)
    assert g.is_valid and not g.is_empty
    r = float(coverage_radius_m(h_a, rng_m, target_alt_m, K))
    rng = np.random.default_rng(11)
    lat, lon = _random_points_in_disc(rng, lat0, lon0, r + 20e3, 4000)

    def check(az, d):
        return (d <= r) & (target_alt_m >= min_visible_alt_m(tab, az, d))

    az = azimuth_deg(lat0, lon0, lat, lon)
    d = ground_distance_m(lat0, lon0, lat, lon)
    direct = check(az, d)
    x, y = tr.transform(lon, lat)
    poly = shapely.contains_xy(g, x, y)
    assert np.mean(poly == direct) >= 0.99
    assert 0.1 < direct.mean() < 0.95  # both outcomes occur
    bad = np.nonzero(poly != direct)[0]
    for i in bad:
        near = [check(az[i] + da, d[i] + dd) for da in (-0.5, 0, 0.5) for dd in (-500.0, 0, 500.0)]
        assert any(v != direct[i] for v in near)


def test_agl_polygon_on_flat_plateau_equals_amsl(tr):
    # On a flat 600 m plateau, 900 m AGL is 1500 m AMSL everywhere: the AGL
    # and AMSL polygons agree to within one 500 m ring at the edge
    # (symmetric difference < 2 pi r * 500 m).
    ter = Terrain(np.full((800, 800), 600.0), lat_max_deg=37.0, lon_min_deg=40.0, cell_deg=0.01)
    lat0, lon0 = 33.0, 44.0
    tab = masking_table(ter, lat0, lon0, 640.0, 300e3, K)
    a = coverage_polygon_agl(ter, lat0, lon0, 640.0, 300e3, 900.0, K, tr, masking=tab)
    b = coverage_polygon(lat0, lon0, 640.0, 300e3, 1500.0, K, tr, masking=tab)
    r = float(coverage_radius_m(640.0, 300e3, 1500.0, K))
    assert a.symmetric_difference(b).area < 2 * math.pi * r * 500.0
    assert a.area == pytest.approx(b.area, rel=0.02)


def test_agl_polygon_vs_per_point_check(dem, tr):
    # Per point: target AMSL = terrain there + AGL, then range/horizon and
    # masking. The polygon evaluates terrain at cell centres, so points in
    # rough terrain can differ within a cell: require >= 97 % agreement.
    lat0, lon0 = BAGHDAD
    h_a = float(elevation_m(dem, lat0, lon0)) + 25.0
    tab = masking_table(dem, lat0, lon0, h_a, 300e3, K)
    agl = 1000.0
    g = coverage_polygon_agl(dem, lat0, lon0, h_a, 300e3, agl, K, tr, masking=tab)
    rng = np.random.default_rng(12)
    lat, lon = _random_points_in_disc(rng, lat0, lon0, 300e3, 3000)
    alt = elevation_m(dem, lat, lon) + agl
    d = ground_distance_m(lat0, lon0, lat, lon)
    direct = (d <= coverage_radius_m(h_a, 300e3, alt, K)) & (
        alt >= min_visible_alt_m(tab, azimuth_deg(lat0, lon0, lat, lon), d)
    )
    x, y = tr.transform(lon, lat)
    assert np.mean(shapely.contains_xy(g, x, y) == direct) >= 0.97
    assert 0.1 < direct.mean() < 0.99


# ---------------------------------------------------------------- GeoJSON


def _shoelace(ring):
    c = np.asarray(ring)
    return 0.5 * np.sum(c[:-1, 0] * c[1:, 1] - c[1:, 0] * c[:-1, 1])


def _check_rfc7946(feature):
    """Closed rings, exterior CCW (positive shoelace in lon/lat), holes CW,
    [lon, lat] order inside the region, 6 decimals. Returns (n_polys, n_holes)."""
    geom = feature["geometry"]
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    n_holes = 0
    for poly in polys:
        for k, ring in enumerate(poly):
            assert ring[0] == ring[-1] and len(ring) >= 4
            c = np.asarray(ring)
            assert np.all((c[:, 0] > 30) & (c[:, 0] < 65)) and np.all((c[:, 1] > 25) & (c[:, 1] < 42))
            assert np.all(np.round(c, 6) == c)
            if k == 0:
                assert _shoelace(ring) > 0
            else:
                n_holes += 1
                assert _shoelace(ring) < 0
    return len(polys), n_holes


def _to_metres(geom_lonlat, tr):
    return shapely.transform(geom_lonlat, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def test_geojson_feature_rfc7946_multipolygon_with_hole(tr):
    # RFC 7946 sec. 3.1.6 (exterior CCW, holes CW, closed rings, [lon, lat]).
    # Input deliberately wound the wrong way (CW exterior, CCW hole).
    x0, y0 = tr.transform(BAGHDAD[1], BAGHDAD[0])
    outer = [(x0 - 50e3, y0 - 50e3), (x0 - 50e3, y0 + 50e3), (x0 + 50e3, y0 + 50e3), (x0 + 50e3, y0 - 50e3)]
    hole = [(x0 - 10e3, y0 - 10e3), (x0 + 10e3, y0 - 10e3), (x0 + 10e3, y0 + 10e3), (x0 - 10e3, y0 + 10e3)]
    g = shapely.MultiPolygon([shapely.Polygon(outer, [hole]), shapely.box(x0 + 100e3, y0, x0 + 150e3, y0 + 50e3)])
    assert not g.geoms[0].exterior.is_ccw
    f = polygon_to_geojson_feature(g, tr, {"name": "test"})
    assert f["type"] == "Feature" and f["properties"] == {"name": "test"}
    assert f["geometry"]["type"] == "MultiPolygon"
    assert _check_rfc7946(f) == (2, 1)
    # Baghdad (the hole centre) is not inside the lon/lat geometry
    back = shapely.geometry.shape(f["geometry"])
    assert not back.contains(shapely.Point(BAGHDAD[1], BAGHDAD[0]))
    # round trip to metres keeps the area (6-decimal rounding ~0.1 m: 1e-5)
    assert _to_metres(back, tr).area == pytest.approx(g.area, rel=1e-5)
    assert polygon_to_geojson_feature(shapely.Polygon(), tr)["geometry"] is None


def test_geojson_feature_of_masked_coverage(dem, tr):
    lat0, lon0 = SULAYMANIYAH
    h_a = float(elevation_m(dem, lat0, lon0)) + 25.0
    tab = masking_table(dem, lat0, lon0, h_a, 250e3, K)
    g = coverage_polygon(lat0, lon0, h_a, 250e3, 3000.0, K, tr, masking=tab)
    f = polygon_to_geojson_feature(g, tr, {"radar": "test", "target_alt_m": 3000.0})
    n_polys, _ = _check_rfc7946(f)
    assert n_polys >= 1
    back = _to_metres(shapely.geometry.shape(f["geometry"]), tr)
    assert back.area == pytest.approx(g.area, rel=1e-4)


# ---------------------------------------------------------------- borders


def test_load_borders_22_countries():
    # Source: shared/data/README.md: 22 countries kept, sorted by ISO_A3.
    b = load_borders()
    isos = [iso for _, iso, _ in b]
    assert len(b) == 22 and isos == sorted(isos)
    assert dict((iso, name) for name, iso, _ in b)["IRQ"] == "Iraq"


def test_iraq_area_and_cities(tr):
    # Source: shared/data/README.md: geodesic WGS84 area of IRQ 437,234 km^2
    # (pyproj). The LAEA region projection is equal-area: within 1 % (brief);
    # the geodesic area of the lon/lat geometry within 0.01 % (rounding).
    iraq = country_polygon("IRQ", tr)
    assert iraq.area / 1e6 == pytest.approx(437_234, rel=0.01)
    lonlat = [g for _, iso, g in load_borders() if iso == "IRQ"][0]
    geod_km2 = abs(pyproj.Geod(ellps="WGS84").geometry_area_perimeter(lonlat)[0]) / 1e6
    assert geod_km2 == pytest.approx(437_234, rel=1e-4)
    cities = {"Baghdad": (44.366, 33.315), "Tehran": (51.389, 35.689), "Damascus": (36.292, 33.513)}
    x, y = tr.transform(*np.array(list(cities.values())).T)
    assert list(shapely.contains_xy(iraq, x, y)) == [True, False, False]
    with pytest.raises(KeyError):
        country_polygon("XXX", tr)


# ---------------------------------------------------------------- time inside


def test_time_inside_square_fence():
    # A 100 km square; flight 0 crosses it at 200 m/s in x: analytic 500 s
    # (the fence edges fall mid-interval, where the trapezoid rule on the
    # indicator is exact); flight 1 stays out; flight 2 has no position (NaN).
    fence = shapely.box(0.0, 0.0, 100e3, 100e3)
    t = np.arange(0.0, 2000.0, 10.0)
    x0 = -99e3 + 200.0 * t
    x = np.stack([x0, x0, np.full_like(t, np.nan)])
    y = np.stack([np.full_like(t, 50e3), np.full_like(t, 150e3), np.full_like(t, 50e3)])
    inside, minutes = time_inside(x, y, t, fence)
    assert inside.shape == (3, t.size)
    np.testing.assert_allclose(minutes, [500.0 / 60.0, 0.0, 0.0], atol=1e-12)
    # slow reference: shapely.contains per point
    slow = np.array([[fence.contains(shapely.Point(a, b)) for a, b in zip(xr, yr)] for xr, yr in zip(x, y)])
    assert np.array_equal(inside, slow)
    # per-flight time grids (F, T) give the same answer
    _, m2 = time_inside(x, y, np.broadcast_to(t, x.shape), fence)
    np.testing.assert_allclose(m2, minutes)


def test_time_inside_iraq_random_positions(tr):
    # Random positions in the region vs shapely.contains per point.
    iraq = country_polygon("IRQ", tr)
    rng = np.random.default_rng(13)
    x = rng.uniform(-1000e3, 1000e3, (4, 50))
    y = rng.uniform(-800e3, 800e3, (4, 50))
    inside, minutes = time_inside(x, y, np.arange(50) * 60.0, iraq)
    slow = np.array([[iraq.contains(shapely.Point(a, b)) for a, b in zip(xr, yr)] for xr, yr in zip(x, y)])
    assert np.array_equal(inside, slow)
    assert np.all((minutes >= 0) & (minutes <= 49.0))
