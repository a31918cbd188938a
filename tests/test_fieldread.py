"""The compiled bilinear read of the route search gives the bits of its numpy reference."""
import numpy as np
import pytest

from sim.optimise.fieldread import bilinear_idx, bilinear_idx_numpy


@pytest.mark.parametrize("seed", range(4))
def test_compiled_bilinear_read_is_bitwise_its_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    ny, nx = rng.integers(2, 40, size=2)
    field = rng.exponential(1e-3, size=(ny, nx))
    field[rng.random((ny, nx)) < 0.1] = np.inf                 # forbidden cells
    u = rng.uniform(-2.0, nx + 1.0, size=(7, 300))
    v = rng.uniform(-2.0, ny + 1.0, size=(7, 300))
    u[0, :40] = np.round(u[0, :40])                             # on cell centres: weights of 0 beside an inf
    v[1, :40] = np.round(v[1, :40])
    u[2, :5] = np.nan
    got, want = bilinear_idx(field, u, v), bilinear_idx_numpy(field, u, v)
    assert got.shape == want.shape == (7, 300)
    assert np.array_equal(got, want)
    assert np.isinf(got).any() and np.isfinite(got).any()


def test_compiled_bilinear_read_of_a_finite_field_inside_is_the_closed_form():
    # a plane a + b u + c v is reproduced exactly by bilinear interpolation (up to rounding)
    ny, nx = 12, 17
    jj, ii = np.meshgrid(np.arange(nx), np.arange(ny))
    field = 2.0 + 0.5 * jj - 0.25 * ii
    u, v = np.array([0.0, 3.3, 15.99, 16.0]), np.array([0.0, 7.7, 0.01, 11.0])
    assert np.allclose(bilinear_idx(field, u, v), 2.0 + 0.5 * u - 0.25 * v, rtol=0, atol=1e-12)
    assert np.isinf(bilinear_idx(field, np.array([-0.1, 16.5]), np.array([1.0, 1.0]))).all()


def test_compiled_terrain_height_is_bitwise_its_numpy_reference(monkeypatch):
    import geo.terrain
    from geo.terrain import elevation_m, elevation_m_numpy, load_terrain
    monkeypatch.setattr(geo.terrain, "SMALL_POINTS", 0)       # every read compiled, however few points
    ter = load_terrain()
    n_row, n_col = ter.elevation_m.shape
    lat_min = ter.lat_max_deg - n_row * ter.cell_deg
    lon_max = ter.lon_min_deg + n_col * ter.cell_deg
    rng = np.random.default_rng(7)
    lat = rng.uniform(lat_min - 1.0, ter.lat_max_deg + 1.0, size=(50, 400))
    lon = rng.uniform(ter.lon_min_deg - 1.0, lon_max + 1.0, size=(50, 400))
    lat[0, :50] = ter.lat_max_deg - (rng.integers(0, n_row, 50) + 0.5) * ter.cell_deg     # cell centres
    lon[1, :50] = ter.lon_min_deg + (rng.integers(0, n_col, 50) + 0.5) * ter.cell_deg
    lat[2, :3], lon[3, :3] = np.nan, np.nan
    lat[4, :4] = [ter.lat_max_deg, lat_min, ter.lat_max_deg + 1e-9, lat_min - 1e-9]        # the outer edges
    got, want = elevation_m(ter, lat, lon), elevation_m_numpy(ter, lat, lon)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got).sum() == 6 and (got > 0).any() and (got == 0).any()
    assert elevation_m(ter, 35.955, 52.110).shape == ()


def test_many_fields_read_at_once_are_bitwise_each_read_alone():
    from sim.optimise.fieldread import bilinear_many
    rng = np.random.default_rng(3)
    fields = rng.exponential(1e-3, size=(5, 23, 31))
    fields[2][rng.random((23, 31)) < 0.2] = np.inf
    u = rng.uniform(-2.0, 33.0, size=(9, 200))
    v = rng.uniform(-2.0, 25.0, size=(9, 200))
    u[0, :30] = np.round(u[0, :30])
    got = bilinear_many(fields, [4, 2, 0], u, v)
    assert got.shape == (3, 9, 200)
    for m, k in enumerate([4, 2, 0]):
        assert np.array_equal(got[m], bilinear_idx_numpy(fields[k], u, v))


def test_compiled_cell_maximum_is_its_numpy_reference(monkeypatch):
    import geo.terrain
    from geo.terrain import cell_max_m, cell_max_m_numpy, load_terrain
    monkeypatch.setattr(geo.terrain, "SMALL_POINTS", 0)       # every read compiled, however few points
    ter = load_terrain()
    n_row, n_col = ter.elevation_m.shape
    rng = np.random.default_rng(11)
    lat = rng.uniform(ter.lat_max_deg - n_row * ter.cell_deg - 1.0, ter.lat_max_deg + 1.0, size=(40, 300))
    lon = rng.uniform(ter.lon_min_deg - 1.0, ter.lon_min_deg + n_col * ter.cell_deg + 1.0, size=(40, 300))
    lat[0, :3] = np.nan
    got, want = cell_max_m(ter, lat, lon), cell_max_m_numpy(ter, lat, lon)
    assert np.array_equal(got, want)
    assert (got > 0).any() and (got == 0).any()
