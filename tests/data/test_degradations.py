"""BD / BI degradations vs the TecoGAN golden fixtures (and PIL for BI), plus alignment checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from vidgan.data.degradations import degrade, gaussian_kernel_1d, gaussian_kernel_2d


@pytest.fixture(scope="module")
def bd(shared_dir):
    with np.load(shared_dir / "golden/tecogan/degradation_bd.npz") as d:
        out = {k: d[k] for k in d.files}
    out["checks"] = json.loads((shared_dir / "golden/tecogan/checks.json").read_text())
    return out


def _f(u8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(u8).float().div(255).permute(0, 3, 1, 2)


def test_kernel(bd):
    assert np.array_equal(gaussian_kernel_2d(1.5).numpy(), bd["kernel_2d"])
    g = gaussian_kernel_1d(1.5)
    np.testing.assert_allclose(g / g.sum(), bd["kernel_1d_float64"], atol=1e-8)


def test_training_path_valid(bd):
    lr = degrade(_f(bd["train_hr_clip_u8"]), "bd", bd_variant="valid")
    assert lr.shape == (10, 3, 32, 32)
    np.testing.assert_allclose(lr.numpy(), bd["train_lr"], atol=1e-6)


def test_test_path_pad(bd):
    lr = degrade(_f(bd["test_hr_u8"]), "bd", 4, 1.5)
    assert lr.shape == (2, 3, 36, 45)
    np.testing.assert_allclose(lr.numpy(), bd["test_lr"], atol=1e-6)
    assert np.array_equal(np.round(lr.numpy() * 255).astype(np.uint8), bd["test_lr_u8_rounded"])
    # the official TF test-time variant (OpenCV 13x13, reflect-101)
    cv = degrade(_f(bd["test_hr_u8"]), "bd", bd_variant="opencv").permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(cv, bd["tf_official_test_float"], atol=1e-5)
    checks = bd["checks"]
    gap = np.abs(cv - lr.permute(0, 2, 3, 1).numpy()).max()  # the recorded gap between the two test-time BDs
    assert abs(gap - checks["bd_test_vs_tf_official_maxabs"]) <= 2e-5


def test_bd_alignment_impulse():
    """A blur centred on HR pixel 4i lands on LR pixel i (top-left alignment, shared with the skip)."""
    x = torch.zeros(1, 1, 32, 32)
    x[0, 0, 12, 20] = 1.0
    y = degrade(x, "bd")
    assert y[0, 0].argmax().item() == 3 * 8 + 5
    assert y[0, 0, 3, 5] == pytest.approx(gaussian_kernel_2d(1.5).max().item(), rel=1e-6)


def test_bi_matches_pil_interior_and_keeps_constants(bd):
    hr = _f(bd["test_hr_u8"][:1])
    lr = degrade(hr, "bi")
    assert lr.shape == (1, 3, 36, 45)
    img = Image.fromarray(hr[0, 0].numpy(), mode="F").resize((45, 36), Image.BICUBIC)
    np.testing.assert_allclose(lr[0, 0].numpy()[3:-3, 3:-3], np.asarray(img)[3:-3, 3:-3], atol=1e-5)
    torch.testing.assert_close(degrade(torch.full((1, 3, 16, 12), 0.3), "bi"), torch.full((1, 3, 4, 3), 0.3))


def test_errors():
    with pytest.raises(ValueError, match="multiple of scale"):
        degrade(torch.rand(1, 3, 30, 32), "bd")
    with pytest.raises(ValueError, match="kind"):
        degrade(torch.rand(1, 3, 32, 32), "xx")  # type: ignore[arg-type]
