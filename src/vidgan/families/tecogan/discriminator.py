"""Spatio-temporal discriminator D_{s,t} of TecoGAN (Chu et al. 2020, §4.2) in the PyTorch port's layout.

Input per triplet (frames 3k, 3k+1, 3k+2) = 27 channels at HR, three 9-channel groups each ordered
RRRGGGBBB (colour major, then frame): original frames; frames warped onto the middle one (16-px border
zeroed); the LR frames upsampled by the skip upsampler. Network: conv3x3 27->64 + LReLU, 4 x [conv4x4/2
(no bias), BN, LReLU] (64, 64, 128, 256), then compat "pt": flatten + Linear -> one logit per triplet
(819,457 parameters at 128x128). BN runs in training mode (batch statistics of the call) as in both codes.
``compat="tf"``: the official head (per-location 1x1 -> 8x8 logit map, sigmoid in the loss), BN without
gamma (eps 1e-3), original/warped groups in [-1, 1], TF-legacy bilinear conditional group (802,817
parameters); see ``compat.py``.

Key names follow the port (``conv_in.0``, ``discriminator_block.block{1..4}.{0,1}``, ``dense``, and the
BD buffer ``upsample_func.kernels``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from vidgan.nn.warp import backward_warp

from .compat import Compat, check_compat, d_conditional, d_frames, d_head, d_norm
from .generator import make_upsampler

__all__ = ["SpatioTemporalDiscriminator", "assemble_triplets", "merge_flows"]


def _block(cin: int, cout: int, compat: Compat) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), d_norm(cout, compat), nn.LeakyReLU(0.2, True))


class _Blocks(nn.Module):
    def __init__(self, compat: Compat) -> None:
        super().__init__()
        self.block1 = _block(64, 64, compat)
        self.block2 = _block(64, 64, compat)
        self.block3 = _block(64, 128, compat)
        self.block4 = _block(128, 256, compat)

    def forward(self, x: Tensor) -> list[Tensor]:
        feats = []
        for blk in (self.block1, self.block2, self.block3, self.block4):
            x = blk(x)
            feats.append(x)
        return feats


class SpatioTemporalDiscriminator(nn.Module):
    """D_{s,t}: ``forward(x27)`` with x27 ``(N, 27, S, S)`` -> ``(logits, [4 block features])``; logits
    ``(N, 1)`` (pt) or ``(N, 1, S/16, S/16)`` (tf)."""

    def __init__(
        self,
        in_nc: int = 3,
        spatial_size: int = 128,
        scale: int = 4,
        degradation: Literal["bd", "bi"] = "bd",
        compat: Compat = "pt",
    ) -> None:
        super().__init__()
        if spatial_size % 16:
            raise ValueError(f"discriminator spatial_size must be a multiple of 16, got {spatial_size}")
        self.spatial_size = spatial_size
        self.scale = scale
        self.compat = check_compat(compat)
        self.conv_in = nn.Sequential(nn.Conv2d(in_nc * 9, 64, 3, 1, 1, bias=True), nn.LeakyReLU(0.2, True))
        self.discriminator_block = _Blocks(compat)
        self.dense = d_head(spatial_size, compat)
        self.upsample_func = make_upsampler(degradation, scale)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        feats = self.discriminator_block(self.conv_in(x))
        return self.dense(feats[-1]), feats


def _rrrgggbbb(frames: Tensor) -> Tensor:
    """``(N, 3 frames, C, H, W)`` -> ``(N, C*3, H, W)``, channel = c*3 + frame."""
    n, f, c, h, w = frames.shape
    return frames.transpose(1, 2).reshape(n, c * f, h, w)


def merge_flows(hr_flow: Tensor, num_frames: int, fw_hr_flow: Tensor | None = None) -> Tensor:
    """Per-frame warp flows of the triplets, ``(B, n_trip, 3, 2, H, W)``.

    hr_flow ``(B, 2, T-1, H, W)``: flow j warps frame j onto frame j+1 (the recurrence's flows).
    Frame 3k: ``hr_flow[3k]``; frame 3k+1: zero; frame 3k+2: with ping-pong ``hr_flow[T-3-3k]`` (the
    reversed half of the clip), else ``fw_hr_flow[:, :, k]`` ``(B, 2, n_trip, H, W)`` (FNet(3k+1, 3k+2)).
    """
    b, _, _, h, w = hr_flow.shape
    n_trip = num_frames // 3
    bw = hr_flow[:, :, 0 : 3 * n_trip : 3]  # (B, 2, n_trip, H, W)
    if fw_hr_flow is None:
        idx = torch.tensor([num_frames - 3 - 3 * k for k in range(n_trip)], device=hr_flow.device)
        fw = hr_flow.index_select(2, idx)
    else:
        fw = fw_hr_flow
    zero = torch.zeros_like(bw)
    return torch.stack([bw, zero, fw], dim=3).permute(0, 2, 3, 1, 4, 5).reshape(b, n_trip, 3, 2, h, w)


def assemble_triplets(
    hr: Tensor,
    lr: Tensor,
    flows: Tensor,
    upsample: nn.Module,
    crop_border_ratio: float = 0.75,
    compat: Compat = "pt",
) -> Tensor:
    """Build D's 27-channel input (the port's ordering: original, warped, conditional).

    hr float ``(B, C, T, H, W)`` (real or fake; the range the D sees, [0, 1] in the port),
    lr ``(B, C, T, h, w)`` [0, 1], flows ``(B, n_trip, 3, 2, H, W)`` from :func:`merge_flows` (detached).
    Returns ``(B*n_trip, 27, H, W)`` (triplets batch-major); frames past ``3*n_trip`` are dropped.
    """
    b, c, _, hh, ww = hr.shape
    n_trip = flows.shape[1]
    t = 3 * n_trip
    frames = d_frames(hr[:, :, :t], compat).transpose(1, 2).reshape(b * n_trip, 3, c, hh, ww)
    lr_frames = lr[:, :, :t].transpose(1, 2).reshape(b * n_trip * 3, c, *lr.shape[-2:])
    warped = backward_warp(frames.reshape(-1, c, hh, ww), flows.reshape(-1, 2, hh, ww))
    # warping is unreliable near the borders: keep the central crop_border_ratio, zero the rest
    bh, bwid = int(hh * (1 - crop_border_ratio) / 2), int(ww * (1 - crop_border_ratio) / 2)
    mask = torch.zeros(1, 1, hh, ww, dtype=warped.dtype, device=warped.device)
    mask[..., bh : hh - bh, bwid : ww - bwid] = 1
    warped = (warped * mask).view(b * n_trip, 3, c, hh, ww)
    cond = d_conditional(lr_frames, upsample.scale, upsample, compat).view(b * n_trip, 3, c, hh, ww)
    return torch.cat([_rrrgggbbb(frames), _rrrgggbbb(warped), _rrrgggbbb(cond)], dim=1)
