"""MoCoGAN+SG2 baseline discriminators (spec §3): the StyleGAN2 ResNet D on every frame (no time
conditioning, one logit per frame) and the MoCoGAN 3-D CNN video discriminator.

Video D: each layer = Gaussian noise (σ = 0.1, training only) then Conv3d k = 4, stride (1, 2, 2), no bias;
channels c → 2c → 4c → 8c (c = 64), BatchNorm3d from the 2nd layer on, leaky ReLU 0.2; k = 3 strided
Conv3d 8c → 8c with BatchNorm until 4×4 (two at 256²); then Conv3d(8c → 1, k = 4) over the 4×4 map. Weights
N(0, 0.02), BN weights N(1, 0.02). The spec leaves the temporal padding of 3-frame clips open and no golden
fixture covers it: vidgan pads time "same"-style (1 before, 2 after for k = 4; 1/1 for k = 3) so every clip
length ≥ 1 works; the video logit of a clip is the mean over the output time positions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import Config
from .discriminator import Discriminator

__all__ = ["MoCoGANDiscriminator", "VideoDiscriminator"]


class _Layer(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: tuple[int, int, int], bn: bool, act: bool, noise: float):
        super().__init__()
        self.k, self.noise, self.act = k, noise, act
        sp = 1 if stride[1] > 1 else 0
        self.conv = nn.Conv3d(cin, cout, k, stride=stride, padding=(0, sp, sp), bias=False)
        nn.init.normal_(self.conv.weight, 0.0, 0.02)
        self.bn = nn.BatchNorm3d(cout) if bn else None
        if self.bn is not None:
            nn.init.normal_(self.bn.weight, 1.0, 0.02)
            nn.init.zeros_(self.bn.bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.noise > 0 and self.training:
            x = x + self.noise * torch.randn_like(x)
        x = F.pad(x, [0, 0, 0, 0, (self.k - 1) // 2, self.k // 2])  # "same" in time
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.leaky_relu(x, 0.2) if self.act else x


class VideoDiscriminator(nn.Module):
    """(B, C, F, H, W) → one logit per clip (B,): the mean over the output positions."""

    def __init__(self, img_channels: int, resolution: int, ch: int = 64, noise: float = 0.1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        n_k4 = min(4, int(math.log2(resolution // 4)))
        cin, cout = img_channels, ch
        for i in range(n_k4):
            layers.append(_Layer(cin, cout, 4, (1, 2, 2), bn=i > 0, act=True, noise=noise))
            cin, cout = cout, cout * 2
        res = resolution >> n_k4
        while res > 4:
            layers.append(_Layer(cin, cin, 3, (1, 2, 2), bn=True, act=True, noise=noise))
            res //= 2
        layers.append(_Layer(cin, 1, 4, (1, 1, 1), bn=False, act=False, noise=noise))
        self.layers = nn.Sequential(*layers)
        self.final_spatial = res

    def forward(self, video: Tensor) -> Tensor:
        y = self.layers(video)  # (B, 1, F', h, w)
        return y.flatten(1).mean(dim=1)


class MoCoGANDiscriminator(nn.Module):
    """``D(img (B·F, C, H, W), t)`` → (image logits (B·F,), video logits (B,))."""

    def __init__(self, cfg: Config, img_resolution: int, num_frames: int) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.image = Discriminator(cfg, img_resolution, num_frames, time_conditioning=False)
        self.video = VideoDiscriminator(cfg.img_channels, img_resolution, cfg.video_d_ch, cfg.video_d_noise)

    def forward(self, img: Tensor, t: Tensor | None = None) -> tuple[Tensor, Tensor]:
        n, c, h, w = img.shape
        b = t.shape[0] if t is not None else n // self.num_frames
        image_logits = self.image(img)
        video = img.reshape(b, n // b, c, h, w).transpose(1, 2)  # (B, C, F, H, W)
        return image_logits, self.video(video)
