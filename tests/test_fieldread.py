"""The compiled bilinear read of the route search gives the bits of its numpy reference."""
import numpy as np
import pytest

from sim.analysis.fieldread import bilinear_idx, bilinear_idx_numpy


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
