"""PSNR/SSIM conventions: TecoGAN golden per-frame values, scikit-image cross-checks, identities."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vidgan.metrics.psnr_ssim import (
    crop_8x8,
    crop_8x8_box,
    psnr_rgb,
    psnr_y_basicsr,
    psnr_y_teco,
    rgb_to_y_basicsr,
    rgb_to_y_teco,
    ssim_rgb_basicsr,
    ssim_y_basicsr,
    ssim_y_teco,
)


def _frame(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def golden(shared_dir):
    return json.loads((shared_dir / "golden/tecogan/metrics_golden.json").read_text())


@pytest.mark.parametrize(
    ("hw", "box"),
    [
        ((144, 180), (8, 10, 128, 160)),
        ((576, 720), (16, 8, 544, 704)),
        ((480, 720), (16, 8, 448, 704)),
        ((576, 704), (16, 16, 544, 672)),
        ((534, 1280), (11, 16, 512, 1248)),
    ],
)
def test_crop_8x8_box(hw, box):
    # tecogan.md §8 examples; 144x180 is the golden's recorded crop (y 8, x 10, 128x160)
    assert crop_8x8_box(*hw) == box


def test_golden_per_frame_psnr_ssim(shared_dir, golden):
    """Official metrics.py per-frame PSNR/SSIM on Vid4 calendar vs its degraded copies, to 1e-9."""
    gt_dir = shared_dir / "data/vid4_calendar_lr"
    out_root = shared_dir / "data/vid4_calendar_lr_metric_outputs"
    for name, sub in (("A", "A_gauss7x7_s1.0"), ("B", "B_bicubic_roundtrip_padded")):
        n = golden["sequences"][name]["n_frames"]
        idx = golden["protocol"][f"spatial_frame_indices_{name}"]
        psnrs, ssims = [], []
        for i in idx:
            gt = _frame(gt_dir / f"{i + 1:04d}.png")
            out = _frame(out_root / sub / f"{i + 1:04d}.png")[: gt.shape[0], : gt.shape[1]]
            psnrs.append(psnr_y_teco(crop_8x8(gt), crop_8x8(out)))
            ssims.append(ssim_y_teco(crop_8x8(gt), crop_8x8(out)))
        assert len(idx) == n - 4
        np.testing.assert_allclose(psnrs, golden["per_frame"][name]["PSNR"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(ssims, golden["per_frame"][name]["SSIM"], rtol=0, atol=1e-9)


def _pair(shared_dir):
    gt = _frame(shared_dir / "data/vid4_calendar_lr/0010.png")
    out = _frame(shared_dir / "data/vid4_calendar_lr_metric_outputs/A_gauss7x7_s1.0/0010.png")
    return gt, out


def test_teco_cross_check_skimage(shared_dir):
    gt, out = _pair(shared_dir)
    y_gt, y_out = rgb_to_y_teco(gt), rgb_to_y_teco(out)
    assert y_gt.dtype == np.float64 and y_gt.min() >= 16 and y_gt.max() <= 235
    # Y is not rounded: a non-integer value must appear
    assert np.any(np.abs(y_gt - np.round(y_gt)) > 1e-3)
    assert psnr_y_teco(gt, out) == pytest.approx(peak_signal_noise_ratio(y_gt, y_out, data_range=255), abs=1e-10)
    ref = structural_similarity(y_gt, y_out, data_range=y_out.max() - y_out.min())
    assert ssim_y_teco(gt, out) == pytest.approx(ref, abs=1e-12)
    # the non-standard data range matters (metrics.md §5.3: 0.7477 vs 0.7667 on such a pair)
    assert abs(ssim_y_teco(gt, out) - structural_similarity(y_gt, y_out, data_range=255)) > 1e-3


def test_basicsr_cross_check_skimage(shared_dir):
    gt, out = _pair(shared_dir)
    c = 4
    a = rgb_to_y_basicsr(gt)[c:-c, c:-c]
    b = rgb_to_y_basicsr(out)[c:-c, c:-c]
    # BasicSR Y equals the TecoGAN matrix up to float32 rounding
    np.testing.assert_allclose(rgb_to_y_basicsr(gt), rgb_to_y_teco(gt), atol=2e-5)
    assert psnr_y_basicsr(gt, out, crop_border=c) == pytest.approx(
        peak_signal_noise_ratio(a, b, data_range=255), abs=1e-10
    )
    # MATLAB-style SSIM = skimage with an 11x11 sigma-1.5 Gaussian, population covariance, data range 255
    # (skimage averages over the same interior region BasicSR keeps with its 'valid' crop)
    kw = dict(data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert ssim_y_basicsr(gt, out, crop_border=c) == pytest.approx(structural_similarity(a, b, **kw), abs=1e-6)
    ref_rgb = structural_similarity(
        gt[c:-c, c:-c].astype(np.float64), out[c:-c, c:-c].astype(np.float64), channel_axis=2, **kw
    )
    assert ssim_rgb_basicsr(gt, out, crop_border=c) == pytest.approx(ref_rgb, abs=1e-6)
    assert psnr_rgb(gt, out) == pytest.approx(peak_signal_noise_ratio(gt, out, data_range=255), abs=1e-10)
    # conventions give different numbers: never a bare "PSNR"
    assert abs(psnr_y_basicsr(gt, out, crop_border=c) - psnr_y_teco(gt, out)) > 1e-3


def test_identities():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    assert psnr_y_teco(x, x) == math.inf
    assert psnr_y_basicsr(x, x, crop_border=2) == math.inf
    assert psnr_rgb(x, x) == math.inf
    assert ssim_y_teco(x, x) == pytest.approx(1.0, abs=1e-12)
    assert ssim_y_basicsr(x, x) == pytest.approx(1.0, abs=1e-12)
    y = x.copy()
    y[0, 0, 0] ^= 1
    assert math.isfinite(psnr_rgb(x, y))


def test_errors_teach():
    x = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="crop the output"):
        psnr_y_teco(x, np.zeros((32, 30, 3), np.uint8))
    with pytest.raises(ValueError, match="constant"):
        ssim_y_teco(x, x)
    with pytest.raises(ValueError, match="too small"):
        crop_8x8_box(40, 200)
