"""Counter-based random streams (sim.streams) against SplitMix64 and statistical checks.

Reference: G. L. Steele, D. Lea, C. H. Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014 (SplitMix64: state += 0x9E3779B97F4A7C15, output = mix64(state)), coded here in plain
Python integers.
"""
import numpy as np
from scipy import stats

from sim.streams import STREAMS, stream_keys, uniforms, uniforms_at

MASK = (1 << 64) - 1


def _splitmix64(state, n):
    """Plain-integer SplitMix64: the first n outputs from ``state``."""
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        out.append(z ^ (z >> 31))
    return out


def test_counters_of_one_key_are_the_splitmix64_sequence():
    key = int(stream_keys(2012, 17, 4, STREAMS["scan"]))
    ref = _splitmix64(key, 20)
    u = uniforms_at(np.uint64(key), np.arange(20))
    assert np.array_equal(u, ((np.array(ref, dtype=np.uint64) >> np.uint64(11)).astype(float) + 0.5) / 2.0**53)


def test_uniforms_are_uniform_and_in_the_open_interval():
    # 200,000 draws over counters, flights and campaigns: Kolmogorov-Smirnov at the 0.1% level
    c, f, k = np.meshgrid(np.arange(20), np.arange(100), np.arange(100), indexing="ij")
    u = uniforms(7, c, f, STREAMS["scan"], k).ravel()
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)


def test_neighbouring_addresses_are_uncorrelated():
    # consecutive counters, neighbouring flights, campaigns, streams and seeds: correlations within
    # 4 standard errors of 0 (1 / sqrt(n))
    n = 100_000
    i = np.arange(n)
    base = uniforms(1, i // 100, i % 100, 5, 0)
    for other in (uniforms(1, i // 100, i % 100, 5, 1), uniforms(1, i // 100, i % 100 + 1, 5, 0),
                  uniforms(1, i // 100 + 1, i % 100, 5, 0), uniforms(1, i // 100, i % 100, 6, 0),
                  uniforms(2, i // 100, i % 100, 5, 0)):
        assert abs(np.corrcoef(base, other)[0, 1]) < 4 / np.sqrt(n)


def test_same_address_same_number_any_shape():
    a = uniforms(3, np.arange(6)[:, None], 2, 9, np.arange(4)[None, :])
    assert a.shape == (6, 4)
    assert a[4, 3] == uniforms(3, 4, 2, 9, 3)
