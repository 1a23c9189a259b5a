"""Video IS (TGANv2 official golden, StyleGAN-V splits/shuffle), the isv driver, C3D "FID" maths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.metrics.detectors.c3d import C3DUCF101
from vidgan.metrics.inception_score import c3d_features, inception_score, isv


@pytest.fixture(scope="module")
def gold(shared_dir):
    with np.load(shared_dir / "golden/tganv2/metrics_io.npz") as z:
        return {k: z[k] for k in z.files}


def _softmax(logits):
    z = logits.astype(np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("splits", [1, 10])
def test_tganv2_golden(gold, splits):
    p = _softmax(gold["is/logits"])
    mean, std = inception_score(p, splits=splits, shuffle_seed=None, eps=1e-20)
    assert mean == pytest.approx(float(gold[f"is/mean_splits{splits}"]), rel=1e-6)
    assert std == pytest.approx(float(gold[f"is/std_splits{splits}"]), rel=1e-5, abs=1e-12)


def test_is_properties():
    k = 7
    onehot = np.eye(k)[np.arange(70) % k]
    assert inception_score(onehot + 0, splits=1, shuffle_seed=None, eps=1e-20)[0] == pytest.approx(k, rel=1e-6)
    # exact zeros without eps (StyleGAN-V): 0 log 0 = 0, not NaN
    assert inception_score(onehot, splits=2, shuffle_seed=None)[0] == pytest.approx(k)
    uniform = np.full((20, k), 1 / k)
    assert inception_score(uniform, splits=2)[0] == pytest.approx(1.0)
    # shuffling matters for split composition, not for a single split
    rng = np.random.default_rng(0)
    p = _softmax(rng.standard_normal((40, 5)) * 3)
    assert inception_score(p, 1, 42)[0] == pytest.approx(inception_score(p, 1, None)[0], rel=1e-12)
    assert inception_score(p, 10, 42)[0] != pytest.approx(inception_score(p, 10, None)[0], rel=1e-9)
    # StyleGAN-V shuffle = np.random.RandomState(42).shuffle over rows
    q = p.copy()
    np.random.RandomState(42).shuffle(q)
    assert inception_score(p, 10, 42) == inception_score(q, 10, None)


def test_c3d_fid_formula_golden(gold):
    """TGANv2 get_mean_cov (np.cov, ddof 1) + get_FID, here with a float64 eigen-based trace."""
    for side in ("real", "fake"):
        f = gold[f"fid/feat_{side}"].astype(np.float64)
        np.testing.assert_allclose(f.mean(0), gold[f"fid/mean_{side}"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.cov(f, rowvar=False), gold[f"fid/cov_{side}"], rtol=0, atol=1e-12)
    m1, m2, s1, s2 = gold["fid/mean_real"], gold["fid/mean_fake"], gold["fid/cov_real"], gold["fid/cov_fake"]
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr = np.sqrt(np.clip(np.linalg.eigvalsh(r1 @ s2 @ r1), 0, None)).sum()
    fid = ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr
    assert fid == pytest.approx(float(gold["fid/value"]), rel=1e-6)


def _videos(n_batches, b=4, t=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_batches):
        yield torch.randint(0, 256, (b, 3, t, 20, 24), generator=g, dtype=torch.uint8)


def test_isv_protocols():
    torch.manual_seed(0)
    clf = C3DUCF101(widths=(2, 2, 3, 3, 3, 3, 4, 4), fc=6, n_classes=5)
    for p in clf.parameters():
        p.data.normal_(0, 0.05)
    r = isv(_videos(3, t=18), clf, num_videos=8, splits=4)
    assert r.metric == "is_c3d_ucf101" and r.protocol["splits"] == 4 and r.protocol["n_runs"] == 1
    assert r.protocol["shuffle"] == "np.random.RandomState(42)" and r.protocol["eps"] == 0.0
    assert 1.0 <= r.value <= 5.0 and r.protocol["std_over"] == "splits"
    r2 = isv(_videos(3), clf, protocol="tganv2", num_videos=4, n_runs=3)  # default n_runs is 10
    assert r2.metric == "is_c3d_ucf101_tganv2" and r2.protocol["n_runs"] == 3 and r2.protocol["splits"] == 1
    assert r2.protocol["std_over"] == "runs" and len(r2.protocol["run_means"]) == 3
    assert r2.value == pytest.approx(np.mean(r2.protocol["run_means"]))
    fc7 = c3d_features(_videos(1, b=3), clf, num_videos=3, layer="fc7")
    assert fc7.shape == (3, 6) and fc7.dtype == np.float64 and (fc7 >= 0).all()
    with pytest.raises(ValueError, match="ended after"):
        isv(_videos(1, b=2), clf, num_videos=4, splits=2)
    with pytest.raises(ValueError, match="16 frames"):
        isv(_videos(1, b=2, t=8), clf, num_videos=2, splits=2)
