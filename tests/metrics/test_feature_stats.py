"""Running float64 statistics vs numpy in one pass; atomic cache round trip."""

import numpy as np
import pytest

from vidgan.metrics.feature_stats import FeatureStats, load_cached_stats, save_cached_stats, stats_key


def test_running_matches_numpy_over_uneven_batches():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((101, 7)) * 3 + 1000.0  # large offset: naive sum-of-squares would lose digits
    s = FeatureStats()
    for a, b in [(0, 1), (1, 40), (40, 41), (41, 101)]:
        s.update(x[a:b].astype(np.float32) if a == 1 else x[a:b])
    x[1:40] = x[1:40].astype(np.float32)
    np.testing.assert_allclose(s.mean, x.mean(0), rtol=1e-13)
    np.testing.assert_allclose(s.cov(), np.cov(x, rowvar=False), rtol=1e-9)
    np.testing.assert_allclose(s.cov("biased"), np.cov(x, rowvar=False, bias=True), rtol=1e-9)
    assert s.n == 101


def test_errors():
    s = FeatureStats()
    with pytest.raises(ValueError, match="no features"):
        _ = s.mean
    s.update(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        s.cov()
    with pytest.raises(ValueError, match="dimension"):
        s.update(np.zeros((2, 4)))


def test_cache_roundtrip(tmp_path):
    s = FeatureStats()
    s.update(np.random.default_rng(1).standard_normal((10, 4)))
    key = stats_key({"root": "/data/ucf"}, "ab" * 32, {"frames": 16})
    assert key != stats_key({"root": "/data/ucf"}, "ab" * 32, {"frames": 128})
    assert load_cached_stats(key, tmp_path) is None
    p = save_cached_stats(key, s, {"n": 10}, tmp_path)
    assert p.is_file() and not list(tmp_path.glob(".*"))  # no temp file left behind
    t = load_cached_stats(key, tmp_path)
    assert t.n == 10 and np.array_equal(t.cov(), s.cov()) and np.array_equal(t.mean, s.mean)
