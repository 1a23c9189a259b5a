"""Small training helpers shared by the TimeCycle families (batch layout, graph reuse, LR schedule)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

__all__ = ["to_sequence", "fold", "grad_enabled", "linear_decay"]


def to_sequence(x: Tensor) -> Tensor:
    """Batch clip (B, C, T, H, W), uint8 or float in [-1, 1] -> float (B, T, C, H, W) in [-1, 1]."""
    y = x.float() / 127.5 - 1.0 if x.dtype == torch.uint8 else x.float()
    return y.transpose(1, 2)


def fold(x: Tensor) -> Tensor:
    """(N, T, ...) -> (N*T, ...)."""
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


@contextlib.contextmanager
def grad_enabled(*mods: nn.Module | None) -> Iterator[None]:
    """Temporarily let the parameters of ``mods`` record a graph (flags restored afterwards): a phase that
    freezes the generator can still build the generator pass that the next phase back-propagates."""
    params = [p for m in mods if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(True)
    try:
        with torch.enable_grad():
            yield
    finally:
        for p, f in zip(params, flags, strict=True):
            p.requires_grad_(f)


def linear_decay(start: int, length: int) -> Callable[[str, int], float]:
    """``lr_factor``: 1 until ``start`` clips, then linear to 0 over ``length`` clips (length 0: constant)."""

    def factor(name: str, clips_seen: int) -> float:
        if length <= 0:
            return 1.0
        return max(0.0, 1.0 - max(0, clips_seen - start) / length)

    return factor
