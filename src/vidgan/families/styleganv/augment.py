"""ADA (Karras et al. 2020) ``bgc`` pipeline in plain PyTorch, video-consistent (spec §2.4).

A video's F frames are stacked as channels (B, F·C, H, W) so that every geometric warp is identical for all its
frames; the colour matrix is drawn per video and applied to each C = 3 group. Transformations and their
default strengths are StyleGAN2-ADA's ``bgc``: xflip, rotate90, xint (0.125), scale (std 0.2), rotate (max 1,
applied before and after aniso with p_rot = 1 - sqrt(1 - p)), aniso (0.2), xfrac (0.125), brightness (0.2),
contrast (0.5), lumaflip, hue (max 1), saturation (1). Geometry: reflect padding, 2× upsampling with the
``sym6`` wavelet low-pass, bilinear ``grid_sample``, 2× downsampling (as the official pipe); ``grid_sample``
double-backward w.r.t. the image is native in current PyTorch (R1 through the augmentation).

All random draws come from the ``torch.Generator`` handed in (the engine's per-step generator).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .layers import upfirdn2d

__all__ = ["AugmentPipe", "SYM6"]

# Daubechies symlet-6 decomposition low-pass (orthonormal: sum = sqrt(2), 6 vanishing moments)
SYM6 = (
    0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633,
    0.4910559419267466, 0.787641141030194, 0.3379294217276218, -0.07263752278646252,
    -0.021060292512300564, 0.04472490177066578, 0.0017677118642428036, -0.007800708325034148,
)  # fmt: skip


def _mat(rows, device) -> Tensor:
    """Stack per-sample matrix rows given as lists of (B,) tensors / floats into (B, n, n)."""
    b = next(e.shape[0] for r in rows for e in r if isinstance(e, Tensor))
    out = []
    for r in rows:
        out.append(
            torch.stack([e if isinstance(e, Tensor) else torch.full((b,), float(e), device=device) for e in r], -1)
        )
    return torch.stack(out, dim=-2)


def translate2d(tx, ty, device):
    return _mat([[1, 0, tx], [0, 1, ty], [0, 0, 1]], device)


def scale2d(sx, sy, device):
    return _mat([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], device)


def rotate2d(theta, device):
    return _mat([[theta.cos(), -theta.sin(), 0], [theta.sin(), theta.cos(), 0], [0, 0, 1]], device)


def translate3d(tx, ty, tz, device):
    return _mat([[1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz], [0, 0, 0, 1]], device)


def scale3d(sx, sy, sz, device):
    return _mat([[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, sz, 0], [0, 0, 0, 1]], device)


def rotate3d(v: Tensor, theta: Tensor, device):
    vx, vy, vz = float(v[0]), float(v[1]), float(v[2])
    s, c = theta.sin(), theta.cos()
    cc = 1 - c
    return _mat(
        [
            [vx * vx * cc + c, vx * vy * cc - vz * s, vx * vz * cc + vy * s, 0],
            [vy * vx * cc + vz * s, vy * vy * cc + c, vy * vz * cc - vx * s, 0],
            [vz * vx * cc - vy * s, vz * vy * cc + vx * s, vz * vz * cc + c, 0],
            [0, 0, 0, 1],
        ],
        device,
    )


class AugmentPipe:
    """``pipe(images (B, F·C, H, W), p, generator)`` → augmented images (differentiable in the images)."""

    def __init__(
        self,
        channels: int = 3,
        xint_max: float = 0.125,
        scale_std: float = 0.2,
        rotate_max: float = 1.0,
        aniso_std: float = 0.2,
        xfrac_std: float = 0.125,
        brightness_std: float = 0.2,
        contrast_std: float = 0.5,
        hue_max: float = 1.0,
        saturation_std: float = 1.0,
    ) -> None:
        self.channels = channels
        self.xint_max, self.scale_std, self.rotate_max = xint_max, scale_std, rotate_max
        self.aniso_std, self.xfrac_std = aniso_std, xfrac_std
        self.brightness_std, self.contrast_std = brightness_std, contrast_std
        self.hue_max, self.saturation_std = hue_max, saturation_std
        f = torch.tensor(SYM6, dtype=torch.float64)
        self.hz_geom = (f[:, None] * f[None, :] / (f.sum() ** 2)).float()  # 12x12, sums to 1
        self.hz_pad = len(SYM6) // 4

    def __call__(self, images: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
        if p <= 0:
            return images
        b, ch, h, w = images.shape
        dev = images.device
        gdev = generator.device if generator is not None else dev

        def rand(*shape):
            return torch.rand(*shape, generator=generator, device=gdev).to(dev)

        def randn(*shape):
            return torch.randn(*shape, generator=generator, device=gdev).to(dev)

        def gate(val: Tensor, neutral: float, prob: float) -> Tensor:
            return torch.where(rand(b) < prob, val, torch.full_like(val, neutral))

        eye3 = torch.eye(3, device=dev).expand(b, 3, 3)
        g_inv = eye3
        # ---- pixel blitting
        i = gate(torch.floor(rand(b) * 2), 0.0, p)
        g_inv = g_inv @ scale2d(1 - 2 * i, 1.0, dev)
        i = gate(torch.floor(rand(b) * 4), 0.0, p)
        g_inv = g_inv @ rotate2d(math.pi / 2 * i, dev)  # rotate2d_inv(-pi/2 i)
        t = (rand(b, 2) * 2 - 1) * self.xint_max
        keep = (rand(b) < p)[:, None]
        t = torch.where(keep, t, torch.zeros_like(t))
        g_inv = g_inv @ translate2d(-torch.round(t[:, 0] * w), -torch.round(t[:, 1] * h), dev)
        # ---- general geometric
        s = gate(torch.exp2(randn(b) * self.scale_std), 1.0, p)
        g_inv = g_inv @ scale2d(1 / s, 1 / s, dev)
        p_rot = 1 - math.sqrt(max(1 - p, 0.0))
        theta = gate((rand(b) * 2 - 1) * math.pi * self.rotate_max, 0.0, p_rot)
        g_inv = g_inv @ rotate2d(theta, dev)  # rotate2d_inv(-theta) == rotate2d(theta)
        s = gate(torch.exp2(randn(b) * self.aniso_std), 1.0, p)
        g_inv = g_inv @ scale2d(1 / s, s, dev)
        theta = gate((rand(b) * 2 - 1) * math.pi * self.rotate_max, 0.0, p_rot)
        g_inv = g_inv @ rotate2d(theta, dev)
        t = randn(b, 2) * self.xfrac_std
        keep = (rand(b) < p)[:, None]
        t = torch.where(keep, t, torch.zeros_like(t))
        g_inv = g_inv @ translate2d(-t[:, 0] * w, -t[:, 1] * h, dev)
        if not torch.equal(g_inv, eye3):
            images = self._warp(images, g_inv)
        # ---- colour (per video, same matrix for each C-channel group of its frames)
        c_mat = torch.eye(4, device=dev).expand(b, 4, 4)
        bri = gate(randn(b) * self.brightness_std, 0.0, p)
        c_mat = translate3d(bri, bri, bri, dev) @ c_mat
        con = gate(torch.exp2(randn(b) * self.contrast_std), 1.0, p)
        c_mat = scale3d(con, con, con, dev) @ c_mat
        v = torch.tensor([1.0, 1.0, 1.0, 0.0], device=dev) / math.sqrt(3)
        vv = torch.outer(v, v)
        i = gate(torch.floor(rand(b) * 2), 0.0, p)
        c_mat = (torch.eye(4, device=dev) - 2 * vv * i[:, None, None]) @ c_mat
        theta = gate((rand(b) * 2 - 1) * math.pi * self.hue_max, 0.0, p)
        c_mat = rotate3d(v, theta, dev) @ c_mat
        sat = gate(torch.exp2(randn(b) * self.saturation_std), 1.0, p)
        c_mat = (vv + (torch.eye(4, device=dev) - vv) * sat[:, None, None]) @ c_mat
        if not torch.equal(c_mat, torch.eye(4, device=dev).expand(b, 4, 4)) and self.channels == 3:
            x = images.reshape(b, ch // 3, 3, h * w)
            m = c_mat[:, None, :3, :3].to(x.dtype)
            off = c_mat[:, None, :3, 3:].to(x.dtype)
            images = (m @ x + off).reshape(b, ch, h, w)
        return images

    def _warp(self, images: Tensor, g_inv: Tensor) -> Tensor:
        b, ch, h, w = images.shape
        dev = images.device
        cx, cy = (w - 1) / 2, (h - 1) / 2
        cp = torch.tensor([[-cx, -cy, 1], [cx, -cy, 1], [cx, cy, 1], [-cx, cy, 1]], device=dev)
        cp = g_inv @ cp.t()  # (B, 3, 4)
        pad = self.hz_pad
        margin = cp[:, :2, :].permute(1, 0, 2).flatten(1)  # (2, B*4)
        margin = torch.cat([-margin, margin]).max(dim=1).values  # (4,) x0, y0, x1, y1
        margin = margin + torch.tensor([pad * 2 - cx, pad * 2 - cy] * 2, device=dev)
        margin = margin.max(torch.zeros_like(margin)).min(
            torch.tensor([w - 1, h - 1] * 2, device=dev, dtype=margin.dtype)
        )
        mx0, my0, mx1, my1 = (int(v) for v in margin.ceil().tolist())
        images = F.pad(images, [mx0, mx1, my0, my1], mode="reflect")
        g_inv = translate2d(torch.full((b,), (mx0 - mx1) / 2, device=dev), (my0 - my1) / 2, dev) @ g_inv
        # 2x upsample with the wavelet filter
        f = self.hz_geom.to(dev, images.dtype)
        fw = f.shape[-1]
        images = upfirdn2d(images, f, up=2, padding=((fw + 1) // 2, (fw - 2) // 2) * 2, gain=4)
        s2 = scale2d(torch.full((b,), 2.0, device=dev), 2.0, dev)
        s2i = scale2d(torch.full((b,), 0.5, device=dev), 0.5, dev)
        g_inv = s2 @ g_inv @ s2i
        tp = translate2d(torch.full((b,), -0.5, device=dev), -0.5, dev)
        tpi = translate2d(torch.full((b,), 0.5, device=dev), 0.5, dev)
        g_inv = tp @ g_inv @ tpi
        out_h, out_w = (h + pad * 2) * 2, (w + pad * 2) * 2
        sa = scale2d(torch.full((b,), 2 / images.shape[3], device=dev), 2 / images.shape[2], dev)
        sbi = scale2d(torch.full((b,), out_w / 2, device=dev), out_h / 2, dev)
        g_inv = sa @ g_inv @ sbi
        grid = F.affine_grid(g_inv[:, :2, :].to(images.dtype), [b, ch, out_h, out_w], align_corners=False)
        images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        # 2x downsample with the wavelet filter, cropping the extra margin
        p = -pad * 2
        fw = f.shape[-1]
        d0, d1 = (fw - 2 + 1) // 2, (fw - 2) // 2
        images = upfirdn2d(images, f.flip([0, 1]), down=2, padding=(p + d0, p + d1, p + d0, p + d1))
        return images
