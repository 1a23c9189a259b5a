"""PSNR and SSIM under named conventions (metrics.md §5; tecogan.md §8).

All functions take single frames: ``(H, W, 3)`` RGB, uint8 (or float holding 0..255 values), and return
a Python float. No function here is called plain "PSNR": the convention is in the name.

* ``*_teco``: TecoGAN's official ``metrics.py`` (thunil/TecoGAN). Y of the BT.601 "studio" YCbCr
  (Y = 16 + 0.2568 R + 0.5041 G + 0.0979 B, float, **not rounded**); PSNR = 20 log10(255 / RMSE);
  SSIM = scikit-image ``structural_similarity`` with its defaults (7x7 uniform window, sample
  covariance, K1 0.01, K2 0.03) and ``data_range = max(Y_out) - min(Y_out)`` (the script's choice, not
  255). The protocol's border crop (:func:`crop_8x8_box`) is applied by the caller (``vidgan.metrics.vsr``).
* ``*_basicsr``: XPixelGroup/BasicSR ``basicsr/metrics/psnr_ssim.py``: ``crop_border`` pixels removed on
  every side; Y from the same matrix computed via float32 like BasicSR's ``to_y_channel``; PSNR
  10 log10(255^2 / MSE) in float64; SSIM MATLAB-style (11x11 Gaussian sigma 1.5, "valid" region,
  C1 = (0.01*255)^2, C2 = (0.03*255)^2, mean over channels for RGB).
* ``psnr_rgb``: plain PSNR over all RGB values (float64), optional border crop.

Identical inputs give ``inf`` PSNR (no division-by-zero warning).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from skimage.metrics import structural_similarity

__all__ = [
    "crop_8x8_box",
    "crop_8x8",
    "rgb_to_y_teco",
    "psnr_y_teco",
    "ssim_y_teco",
    "rgb_to_y_basicsr",
    "psnr_y_basicsr",
    "ssim_y_basicsr",
    "ssim_rgb_basicsr",
    "psnr_rgb",
]

# First row of the BT.601 studio-range RGB -> YCbCr matrix exactly as written in TecoGAN's metrics.py
# (taken there from yhjo09/VSR-DUF): 65.481/255, 128.553/255, 24.966/255.
_TECO_Y = np.array([0.256788235294118, 0.504129411764706, 0.097905882352941], dtype=np.float64)
# BasicSR's bgr2ycbcr(y_only=True) coefficients, reordered for RGB input (it reads cv2 BGR frames).
_BASICSR_Y_RGB = np.array([65.481, 128.553, 24.966], dtype=np.float64)


def _check_frame(img: np.ndarray, name: str) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"{name}: expected an RGB frame (H, W, 3) with values 0..255, got shape {img.shape}")
    return img


def _check_pair(gt: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gt, out = _check_frame(gt, "ground truth"), _check_frame(out, "output")
    if gt.shape != out.shape:
        raise ValueError(
            f"frame shapes differ: ground truth {gt.shape} vs output {out.shape}; crop the output to the "
            "ground-truth size first (vidgan.metrics.vsr does this as TecoGAN's script does)"
        )
    return gt, out


def crop_8x8_box(height: int, width: int) -> tuple[int, int, int, int]:
    """TecoGAN's ``crop_8x8`` window ``(y, x, h, w)`` for a ``height x width`` frame (tecogan.md §8).

    Despite the name: h = largest multiple of 32 <= H, reduced by 32 while h > H - 16 (same for w),
    centred (offset floor((H - h) / 2)). E.g. 144x180 -> (8, 10, 128, 160); 576x720 -> (16, 8, 544, 704).
    """
    h = (height // 32) * 32
    w = (width // 32) * 32
    while h > height - 16:
        h -= 32
    while w > width - 16:
        w -= 32
    if h <= 0 or w <= 0:
        raise ValueError(
            f"frame {height}x{width} is too small for TecoGAN's crop_8x8 border rule (needs >= 48 px per "
            "side); evaluate without the border crop (crop='none')"
        )
    return (height - h) // 2, (width - w) // 2, h, w


def crop_8x8(img: np.ndarray) -> np.ndarray:
    """``(H, W, ...)`` -> the centred ``crop_8x8_box`` window (a view)."""
    y, x, h, w = crop_8x8_box(img.shape[0], img.shape[1])
    return img[y : y + h, x : x + w]


# ----------------------------------------------------------------------------- TecoGAN convention
def rgb_to_y_teco(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB 0..255 -> float64 ``(H, W)`` Y in [16, 235], as TecoGAN's ``_rgb2ycbcr``.

    The script first rounds and clips to 0..255 in float32 (``to_uint8``), then multiplies by the
    matrix in float64; Y is not rounded.
    """
    rgb = _check_frame(rgb, "frame")
    # to_uint8(x, 0, 255): float32 (x - 0) / 255 * 255, rounded and clipped (exact for integer input)
    q = np.clip(np.round(rgb.astype(np.float32) / np.float32(255) * np.float32(255)), 0, 255)
    return (q.reshape(-1, 3) @ _TECO_Y + 16.0).reshape(rgb.shape[:2])


def psnr_y_teco(gt: np.ndarray, out: np.ndarray) -> float:
    """PSNR (dB) on TecoGAN's float Y: 20 log10(255 / RMSE). ``inf`` for identical Y."""
    gt, out = _check_pair(gt, out)
    diff = rgb_to_y_teco(gt) - rgb_to_y_teco(out)
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return math.inf
    return float(20.0 * np.log10(255.0 / np.sqrt(mse)))


def ssim_y_teco(gt: np.ndarray, out: np.ndarray) -> float:
    """SSIM on TecoGAN's float Y, skimage defaults, ``data_range = max(Y_out) - min(Y_out)``.

    A constant output (data_range 0) is undefined in the script (division by zero); here it raises.
    """
    gt, out = _check_pair(gt, out)
    y_gt, y_out = rgb_to_y_teco(gt), rgb_to_y_teco(out)
    data_range = float(y_out.max() - y_out.min())
    if data_range == 0.0:
        raise ValueError(
            "ssim_y_teco: the output frame is constant, so TecoGAN's data_range = max(Y) - min(Y) is 0 "
            "and SSIM is undefined; use ssim_y_basicsr (data range 255) for such frames"
        )
    return float(structural_similarity(y_gt, y_out, data_range=data_range))


# ----------------------------------------------------------------------------- BasicSR convention
def _crop_border(img: np.ndarray, crop_border: int) -> np.ndarray:
    if crop_border < 0:
        raise ValueError(f"crop_border must be >= 0, got {crop_border}")
    if crop_border == 0:
        return img
    if 2 * crop_border >= min(img.shape[0], img.shape[1]):
        raise ValueError(f"crop_border={crop_border} removes the whole {img.shape[0]}x{img.shape[1]} frame")
    return img[crop_border:-crop_border, crop_border:-crop_border]


def rgb_to_y_basicsr(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB 0..255 -> float64 ``(H, W)`` Y (0..255 scale) as BasicSR's ``to_y_channel``.

    BasicSR: x/255 in float32, ``np.dot`` with (24.966, 128.553, 65.481) on BGR + 16, /255 back to
    float32, then x255 in float32; the metric then casts to float64.
    """
    rgb = _check_frame(rgb, "frame")
    x = rgb.astype(np.float32) / np.float32(255.0)
    y = (np.dot(x, _BASICSR_Y_RGB) + 16.0) / 255.0
    return (y.astype(np.float32) * np.float32(255.0)).astype(np.float64)


def psnr_y_basicsr(gt: np.ndarray, out: np.ndarray, crop_border: int = 0) -> float:
    """BasicSR ``calculate_psnr(..., crop_border, test_y_channel=True)``: float64, 10 log10(255^2/MSE)."""
    gt, out = _check_pair(gt, out)
    a = rgb_to_y_basicsr(_crop_border(gt, crop_border))
    b = rgb_to_y_basicsr(_crop_border(out, crop_border))
    return _psnr_255(a, b)


def psnr_rgb(gt: np.ndarray, out: np.ndarray, crop_border: int = 0) -> float:
    """Plain PSNR over all RGB values (float64, peak 255), optional border crop (BasicSR with Y off)."""
    gt, out = _check_pair(gt, out)
    a = _crop_border(gt, crop_border).astype(np.float64)
    b = _crop_border(out, crop_border).astype(np.float64)
    return _psnr_255(a, b)


def _psnr_255(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return math.inf
    return float(10.0 * np.log10(255.0 * 255.0 / mse))


def _ssim_matlab(a: np.ndarray, b: np.ndarray) -> float:
    """One channel, float64 0..255: 11x11 Gaussian (sigma 1.5), 'valid' region (BasicSR ``_ssim``)."""
    c1 = (0.01 * 255) ** 2
    c2 = (0.03 * 255) ** 2
    k = cv2.getGaussianKernel(11, 1.5)
    win = np.outer(k, k.transpose())
    if min(a.shape) < 11:
        raise ValueError(f"BasicSR SSIM needs frames of at least 11x11 after the border crop, got {a.shape}")

    def filt(x: np.ndarray) -> np.ndarray:
        return cv2.filter2D(x, -1, win)[5:-5, 5:-5]  # 'valid' part of the filtered map

    mu1, mu2 = filt(a), filt(b)
    mu1_sq, mu2_sq, mu12 = mu1**2, mu2**2, mu1 * mu2
    s1 = filt(a**2) - mu1_sq
    s2 = filt(b**2) - mu2_sq
    s12 = filt(a * b) - mu12
    ssim_map = ((2 * mu12 + c1) * (2 * s12 + c2)) / ((mu1_sq + mu2_sq + c1) * (s1 + s2 + c2))
    return float(ssim_map.mean())


def ssim_y_basicsr(gt: np.ndarray, out: np.ndarray, crop_border: int = 0) -> float:
    """BasicSR ``calculate_ssim(..., crop_border, test_y_channel=True)`` (MATLAB-compatible SSIM on Y)."""
    gt, out = _check_pair(gt, out)
    a = rgb_to_y_basicsr(_crop_border(gt, crop_border))
    b = rgb_to_y_basicsr(_crop_border(out, crop_border))
    return _ssim_matlab(a, b)


def ssim_rgb_basicsr(gt: np.ndarray, out: np.ndarray, crop_border: int = 0) -> float:
    """BasicSR ``calculate_ssim`` on RGB: MATLAB-style SSIM per channel, then the channel mean."""
    gt, out = _check_pair(gt, out)
    a = _crop_border(gt, crop_border).astype(np.float64)
    b = _crop_border(out, crop_border).astype(np.float64)
    return float(np.mean([_ssim_matlab(a[..., c], b[..., c]) for c in range(3)]))
