"""Temporal losses of TecoGAN / FRVSR (spec §6): LR warp loss, ping-pong loss, and their pixel metrics.

Pure tensor functions (no state). Video tensors are ``(B, C, T, H, W)``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from vidgan.nn.warp import backward_warp

__all__ = ["charbonnier", "channel_sum_l2", "warp_loss", "pingpong_loss", "pingpong_extend"]


def charbonnier(a: Tensor, b: Tensor, eps: float = 1e-6) -> Tensor:
    """mean(sqrt((a - b)^2 + eps)) — the PyTorch port's pixel/warp/ping-pong criterion (eps inside)."""
    return torch.sqrt((a - b) ** 2 + eps).mean()


def channel_sum_l2(a: Tensor, b: Tensor) -> Tensor:
    """Official TF content/warp loss: mean over everything but channels of the channel-summed (a - b)^2.
    Channels are dim 1 (``(B, C, ...)``)."""
    return ((a - b) ** 2).sum(1).mean()


def pingpong_extend(x: Tensor) -> Tensor:
    """``(B, C, T, ...)`` -> ``(B, C, 2T-1, ...)``: frames 0..T-1 then T-2..0 (ping-pong clip)."""
    return torch.cat([x, x.flip(2)[:, :, 1:]], dim=2)


def warp_loss(lr: Tensor, lr_flow: Tensor, kind: Literal["l2", "charbonnier"] = "l2") -> Tensor:
    """LR warp loss: warp(lr[t], lr_flow[t]) vs lr[t+1].

    lr ``(B, C, T, h, w)`` in [0, 1]; lr_flow ``(B, 2, T-1, h, w)`` (flow t aligns frame t to frame t+1).
    ``l2``: channel-sum L2 (official); ``charbonnier``: the port's Charbonnier mean.
    """
    b, c, t, h, w = lr.shape
    prev = lr[:, :, :-1].transpose(1, 2).reshape(b * (t - 1), c, h, w)
    cur = lr[:, :, 1:].transpose(1, 2).reshape(b * (t - 1), c, h, w)
    flow = lr_flow.transpose(1, 2).reshape(b * (t - 1), 2, h, w)
    warped = backward_warp(prev, flow)
    return channel_sum_l2(warped, cur) if kind == "l2" else charbonnier(warped, cur)


def pingpong_loss(out: Tensor, kind: Literal["l1", "charbonnier"] = "l1") -> Tensor:
    """Ping-pong loss on a ``(B, C, 2T-1, H, W)`` output of a ping-pong clip: positions 0..T-2 vs
    2T-2..T (same frame, reversed history). ``l1``: official mean abs; ``charbonnier``: the port."""
    n = out.shape[2]
    if n % 2 == 0:
        raise ValueError(f"pingpong_loss expects an odd ping-pong length 2T-1, got {n} frames")
    half = (n - 1) // 2
    fwd = out[:, :, :half]
    bwd = out[:, :, half + 1 :].flip(2)
    return (fwd - bwd).abs().mean() if kind == "l1" else charbonnier(fwd, bwd)
