"""Fréchet distance numerics vs a float64 scipy.linalg.sqrtm reference (metrics.md §2.2)."""

import numpy as np
import pytest
import scipy.linalg

from vidgan.metrics.frechet import frechet_distance


def _stats(rng, n, d, shift=0.0, scale=1.0):
    a = rng.standard_normal((d, d)) / np.sqrt(d)
    x = (rng.standard_normal((n, d)) @ a) * scale + shift
    return x.mean(0), np.cov(x, rowvar=False)


def _reference(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2)  # no disp= (removed in SciPy 1.18)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)


@pytest.mark.parametrize("n,d", [(2048, 64), (512, 128), (100, 64)])  # last: N > d but small
def test_matches_scipy_sqrtm(n, d):
    rng = np.random.default_rng(d + n)
    mu1, s1 = _stats(rng, n, d)
    mu2, s2 = _stats(rng, n, d, shift=0.3, scale=1.2)
    ref = _reference(mu1, s1, mu2, s2)
    got = frechet_distance(mu1, s1, mu2, s2)
    assert abs(got - ref) <= 1e-6 * abs(ref), (got, ref)


def test_rank_deficient_is_finite_and_clipped():
    rng = np.random.default_rng(1)
    mu1, s1 = _stats(rng, 20, 64)  # N < d: singular covariances
    mu2, s2 = _stats(rng, 20, 64, shift=0.1)
    fd, info = frechet_distance(mu1, s1, mu2, s2, return_info=True)
    ref = _reference(mu1, s1, mu2, s2)
    assert np.isfinite(fd) and abs(fd - ref) <= 1e-4 * ref
    assert info.min_eigenvalue_clipped <= 0.0


def test_zero_for_identical_and_known_closed_form():
    rng = np.random.default_rng(2)
    mu, s = _stats(rng, 300, 32)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-9
    # diagonal case: FD = |dmu|^2 + sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    fd = frechet_distance(np.zeros(3), np.diag(a), np.ones(3), np.diag(b))
    assert abs(fd - (3.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())) < 1e-12


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="feature dimensions"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full(2, np.nan), np.eye(2), np.zeros(2), np.eye(2))


def test_cholesky_and_eigen_routes_agree(monkeypatch):
    """Full-rank S1 takes the Cholesky route; singular S1 the sqrt(S1) route: the same number either way."""
    import vidgan.metrics.frechet as fr

    rng = np.random.default_rng(5)
    mu1, s1 = _stats(rng, 400, 48)
    mu2, s2 = _stats(rng, 400, 48, shift=0.2, scale=0.9)
    fast = frechet_distance(mu1, s1, mu2, s2)

    def no_cholesky(*a, **k):
        raise np.linalg.LinAlgError("forced")

    monkeypatch.setattr(fr.scipy.linalg, "cholesky", no_cholesky)
    slow = frechet_distance(mu1, s1, mu2, s2)
    assert abs(fast - slow) <= 1e-9 * abs(slow)
