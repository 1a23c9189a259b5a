"""C3D UCF101 (TGANv2): golden preprocessing / resize / pooling, Chainer key-layout loader, forward shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.metrics.detectors.c3d import (
    C3D_CONVS,
    C3DUCF101,
    load_c3d_chainer,
    max_pool_1x2x2,
    max_pool_2x2x2,
    resize_112,
)

TINY = dict(widths=(2, 3, 4, 4, 5, 5, 6, 6), fc=7, n_classes=5)


@pytest.fixture(scope="module")
def gold(shared_dir):
    with np.load(shared_dir / "golden/tganv2/c3d_preprocess_io.npz") as z:
        return {k: z[k] for k in z.files}


def test_preprocess_golden(gold):
    m = C3DUCF101(mean=gold["mean_synthetic"], **TINY)
    assert torch.equal(m.pre_weight, torch.from_numpy(gold["pre_W"]))
    out = m.preprocess(torch.from_numpy(gold["pre/in"])).numpy()
    # values up to ~160; float32 ulp there is 1.5e-5 (float64 port: 1.5e-7 relative)
    np.testing.assert_allclose(out, gold["pre/out"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("key", ["resize_down", "resize_up"])
def test_resize_golden(gold, key):
    out = resize_112(torch.from_numpy(gold[f"{key}/in"])).numpy()
    assert out.shape == gold[f"{key}/out"].shape
    np.testing.assert_allclose(out, gold[f"{key}/out"], rtol=0, atol=5e-7)
    # PyTorch's own float32 align_corners kernel would be ~3e-5 off on the 192 -> 112 case
    assert np.abs(out - gold[f"{key}/out"]).max() < 1e-6


def test_pooling_golden(gold):
    assert np.array_equal(max_pool_2x2x2(torch.from_numpy(gold["pool3d/in"])).numpy(), gold["pool3d/out"])
    assert np.array_equal(max_pool_1x2x2(torch.from_numpy(gold["pool1x2x2/in"])).numpy(), gold["pool1x2x2/out"])


def _official_layout(rng, widths, fc, n_classes):
    arrays, c_in = {}, 3
    for name, c in zip(C3D_CONVS, widths):
        arrays[f"{name}/W"] = rng.standard_normal((c, c_in, 3, 3, 3)).astype(np.float32) * 0.2
        arrays[f"{name}/b"] = rng.standard_normal(c).astype(np.float32) * 0.1
        c_in = c
    for name, (o, i) in {"fc6": (fc, c_in * 16), "fc7": (fc, fc), "fc8": (n_classes, fc)}.items():
        arrays[f"{name}/W"] = rng.standard_normal((o, i)).astype(np.float32) * 0.2
        arrays[f"{name}/b"] = rng.standard_normal(o).astype(np.float32) * 0.1
    return arrays


def test_chainer_loader_consumes_every_key(tmp_path, gold):
    rng = np.random.default_rng(0)
    arrays = _official_layout(rng, **TINY)
    assert len(arrays) == 22
    np.savez(tmp_path / "conv3d_deepnetA_ucf.npz", **arrays)
    np.savez(tmp_path / "mean2.npz", mean=gold["mean_synthetic"])
    m = load_c3d_chainer(tmp_path / "conv3d_deepnetA_ucf.npz", tmp_path / "mean2.npz")
    sd = m.state_dict()
    assert len(sd) == 22
    for k, v in arrays.items():
        name, p = k.split("/")
        assert np.array_equal(sd[f"{name}.{'weight' if p == 'W' else 'bias'}"].numpy(), v)
    assert len(m.weights_sha256) == 64
    x = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 16, 24, 30)).astype(np.float32))
    prob, logits, fc7 = m(x), m(x, "fc8"), m(x, "fc7")
    assert prob.shape == (2, 5) and fc7.shape == (2, 7) and (fc7 >= 0).all()
    torch.testing.assert_close(prob.sum(1), torch.ones(2))
    torch.testing.assert_close(prob, torch.softmax(logits, 1))
    # manual forward with plain torch ops agrees (stage order, pool placement, flatten order)
    h = m.preprocess(x)
    for name in C3D_CONVS:
        h = torch.relu(torch.nn.functional.conv3d(h, sd[f"{name}.weight"], sd[f"{name}.bias"], padding=1))
        if name == "conv1a":
            h = torch.nn.functional.max_pool3d(h, (1, 2, 2), ceil_mode=True)
        elif name in ("conv2a", "conv3b", "conv4b", "conv5b"):
            h = torch.nn.functional.max_pool3d(h, 2, ceil_mode=True)
    assert h.shape[2:] == (1, 4, 4)
    h = torch.relu(h.reshape(2, -1) @ sd["fc6.weight"].T + sd["fc6.bias"])
    torch.testing.assert_close(torch.relu(h @ sd["fc7.weight"].T + sd["fc7.bias"]), fc7)

    # errors teach: a missing key, a wrong hash
    del arrays["fc8/b"]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(KeyError, match="missing"):
        load_c3d_chainer(tmp_path / "bad.npz", tmp_path / "mean2.npz")
    with pytest.raises(ValueError, match="sha256"):
        load_c3d_chainer(tmp_path / "conv3d_deepnetA_ucf.npz", tmp_path / "mean2.npz", weights_sha256="0" * 64)


def test_input_checks():
    m = C3DUCF101(**TINY)
    with pytest.raises(ValueError, match="16"):
        m(torch.zeros(1, 3, 8, 32, 32))
    with pytest.raises(ValueError, match="mean"):
        m.set_mean(np.zeros((3, 16, 112, 112)))
