"""Exponential moving average of a module's parameters (and a copy of its buffers)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(module: nn.Module) -> nn.Module:
    ema = copy.deepcopy(module).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: nn.Module, module: nn.Module, clips: int, half_life_clips: float) -> None:
    """``ema = beta * ema + (1 - beta) * module`` with ``beta = 0.5 ** (clips / half_life)``; buffers copied."""
    beta = 0.5 ** (clips / max(half_life_clips, 1e-8))
    for p_ema, p in zip(ema.parameters(), module.parameters()):
        p_ema.lerp_(p.detach().to(p_ema.dtype), 1.0 - beta)
    for b_ema, b in zip(ema.buffers(), module.buffers()):
        b_ema.copy_(b)
