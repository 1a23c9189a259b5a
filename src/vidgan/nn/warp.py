"""Backward (bilinear) warping with clamp-to-edge borders, as in FRVSR / TecoGAN.

``out(p) = img(p + flow(p))`` with ``flow`` channels ``(dx, dy)`` in pixels (the PyTorch port's
convention). Sampling positions outside the image are clamped to the border (replicate), which is what
both the official TF ``dense_image_warp`` (clamped floor index and weights) and the port's
``grid_sample(padding_mode="border", align_corners=True)`` do. We follow the port's normalised-grid
route so the float32 rounding matches its checkpoints' fixtures (a zero flow is therefore not a
bit-exact identity: differences up to ~3e-7).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["backward_warp"]


def backward_warp(img: Tensor, flow: Tensor) -> Tensor:
    """img float ``(N, C, H, W)``, flow float ``(N, 2, H, W)`` = (dx, dy) in pixels -> ``(N, C, H, W)``.

    Bilinear sample of ``img`` at ``(x + dx, y + dy)``, coordinates clamped to the image.
    """
    if img.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"backward_warp expects img (N,C,H,W) and flow (N,2,H,W), got {img.shape}, {flow.shape}")
    if img.shape[0] != flow.shape[0] or img.shape[-2:] != flow.shape[-2:]:
        raise ValueError(f"img {tuple(img.shape)} and flow {tuple(flow.shape)} differ in batch or size")
    n, _, h, w = img.shape
    kw = dict(device=img.device, dtype=img.dtype)
    gx = torch.linspace(-1.0, 1.0, w, **kw).view(1, 1, w).expand(n, h, w)
    gy = torch.linspace(-1.0, 1.0, h, **kw).view(1, h, 1).expand(n, h, w)
    # pixels -> normalised units of align_corners=True: (size - 1) / 2 pixels per unit
    fx = flow[:, 0].to(img.dtype) / ((w - 1.0) / 2.0 if w > 1 else 1.0)
    fy = flow[:, 1].to(img.dtype) / ((h - 1.0) / 2.0 if h > 1 else 1.0)
    grid = torch.stack((gx + fx, gy + fy), dim=3)  # (N, H, W, 2)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)
