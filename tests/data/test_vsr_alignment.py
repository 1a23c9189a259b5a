"""Pins the VSR pixel-alignment convention (docs/vsr-alignment.md) with exact ramp images.

Every filter involved (Gaussian blur, box/area average, MATLAB bicubic, Keys bicubic, bilinear) has symmetric,
normalised taps and reproduces linear functions, so on HR = a*y + c the upsampled LR equals HR(p + d) exactly
away from the borders: d = (up - HR) / a is the shift (in HR pixels) at which the upsampled frame shows the
ground truth. The TecoGAN BD convention: LR pixel i is centred on HR pixel s*i, and the bicubic skip assumes it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidgan.data.degradations import degrade
from vidgan.nn.bicubic import upsample_bicubic

H = W = 64
S = 4
M = 16  # border margin (padding effects) in HR pixels


def _ramp(axis: int) -> torch.Tensor:
    """float64 (1, 3, H, W): 0.2 + 0.006 * y (axis 0) or 0.2 + 0.006 * x (axis 1)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    img = 0.2 + 0.006 * (yy if axis == 0 else xx)
    return torch.from_numpy(img)[None, None].repeat(1, 3, 1, 1)


def _lr(hr: torch.Tensor, how: str) -> torch.Tensor:
    if how == "bd":
        return degrade(hr, "bd", scale=S)  # the paired training sampler's call (default "pad" variant)
    if how == "bd_opencv":
        return degrade(hr, "bd", scale=S, bd_variant="opencv")
    if how == "bi":
        return degrade(hr, "bi", scale=S)
    if how == "area":  # `vidgan prepare --size` (cv2.INTER_AREA)
        img = hr[0].permute(1, 2, 0).numpy()
        return torch.from_numpy(cv2.resize(img, (W // S, H // S), interpolation=cv2.INTER_AREA)).permute(2, 0, 1)[None]
    raise ValueError(how)


def _up(lr: torch.Tensor, skip: str) -> torch.Tensor:
    if skip == "bicubic":  # the BD model's skip
        return upsample_bicubic(lr, S)
    return F.interpolate(lr, scale_factor=S, mode="bilinear", align_corners=False)  # the BI model's skip


def _shift(how: str, skip: str) -> tuple[float, float]:
    """(dy, dx): the mean over the interior of d(p), where the upsampled LR at HR pixel p equals HR(p + d(p)).

    Bilinear reproduces ramps exactly (d constant). Keys' cubic with a = -0.75 does not (only a = -0.5 does):
    its phase k = 1 (t = 1/4) taps have a centroid of 0.2969 LR px, not 0.25, so output rows s*i + 1 / s*i + 3
    read the ramp 0.1875 HR px late / early, symmetrically (mean 0); that pattern is pinned too."""
    out = []
    for axis in (0, 1):
        hr = _ramp(axis)
        diff = (_up(_lr(hr, how), skip) - hr)[..., M:-M, M:-M] / 0.006
        mean = float(diff.mean())
        per_phase = diff.mean(dim=(0, 1, 3 - axis)).reshape(-1, S).mean(0) - mean  # rows (cols) s*i + k
        wobble = [0.0, 0.1875, 0.0, -0.1875] if skip == "bicubic" else [0.0] * S
        assert per_phase.tolist() == pytest.approx(wobble, abs=1e-5)
        out.append(mean)
    return out[0], out[1]


@pytest.mark.parametrize(
    "how, skip, expected",
    [
        ("bd", "bicubic", 0.0),  # training degradation + BD skip: aligned
        ("bd_opencv", "bicubic", 0.0),  # the official test-time BD: aligned
        ("bi", "bicubic", 1.5),  # MATLAB bicubic is centre aligned: LR pixel i sits on HR s*i + (s-1)/2
        ("area", "bicubic", 1.5),  # `prepare --size` area resize: same centre alignment, off by 1.5 px
        ("bi", "bilinear", 0.0),  # the BI model's half-pixel bilinear skip matches BI data
        ("area", "bilinear", 0.0),
        ("bd", "bilinear", -1.5),
    ],
)
def test_alignment_convention(how, skip, expected):
    dy, dx = _shift(how, skip)
    assert dy == pytest.approx(expected, abs=1e-6) and dx == pytest.approx(expected, abs=1e-6)


def test_bd_lr_pixel_is_the_blur_centred_on_hr_pixel_s_i():
    """An HR impulse at (s*i, s*j) lands, as the kernel's centre tap, on LR pixel (i, j) and nowhere off-centre."""
    hr = torch.zeros(1, 1, 32, 32, dtype=torch.float64)
    hr[0, 0, 12, 20] = 1.0  # = (4*3, 4*5)
    lr = degrade(hr, "bd", scale=S)[0, 0]
    assert tuple(int(v) for v in np.unravel_index(int(lr.argmax()), lr.shape)) == (3, 5)
    assert lr[2, 5] == pytest.approx(lr[4, 5].item()) == pytest.approx(lr[3, 4].item())  # symmetric around it


def test_valid_variant_is_aligned_with_the_central_crop():
    """Training path "valid": HR crop of s*h + 8 -> h, LR pixel i on HR pixel s*i + 4 = the target's s*i."""
    hr = _ramp(0)[..., : S * 12 + 8, : S * 12 + 8]
    lr = degrade(hr, "bd", scale=S, bd_variant="valid")
    target = hr[..., 4:-4, 4:-4]
    diff = (upsample_bicubic(lr, S) - target)[..., 8:-8, 8:-8] / 0.006
    assert abs(float(diff.mean())) < 1e-5 and float(diff.abs().max()) < 0.1875 + 1e-5  # a = -0.75 wobble only
