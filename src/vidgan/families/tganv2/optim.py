"""Chainer's Adam (the official optimiser of TGANv2, spec §4.1), as a ``torch.optim.Optimizer``.

Chainer: m += (1-b1)(g-m); v += (1-b2)(g^2-v); p -= lr_t * m / (sqrt(v) + eps), with
lr_t = lr * sqrt(1-b2^t) / (1-b1^t). ``torch.optim.Adam`` instead adds eps to sqrt(v_hat), i.e. its eps is
effectively eps / sqrt(1-b2^t) in Chainer terms (2.5e-7 vs 8e-8 at t=1, b2=0.9): visible on the first
steps of small-gradient parameters, hence this exact variant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = ["ChainerAdam"]


class ChainerAdam(torch.optim.Optimizer):
    """Adam with Chainer's bias-correction/eps placement. ``lr`` is Chainer's ``alpha``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"ChainerAdam: invalid lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            by_step: dict[int, tuple[list[Tensor], ...]] = {}
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.float() if p.grad.dtype in (torch.float16, torch.bfloat16) else p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["v"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                lists = by_step.setdefault(state["step"], ([], [], [], []))
                for lst, x in zip(lists, (p, g, state["m"], state["v"])):
                    lst.append(x)
            for t, (ps, gs, ms, vs) in by_step.items():
                # one multi-tensor pass per formula term (foreach): m += (1-b1)(g-m) is lerp(m, g, 1-b1)
                torch._foreach_lerp_(ms, gs, 1 - b1)
                torch._foreach_lerp_(vs, torch._foreach_mul(gs, gs), 1 - b2)
                denom = torch._foreach_sqrt(vs)
                torch._foreach_add_(denom, group["eps"])
                lr_t = group["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
                torch._foreach_addcdiv_(ps, ms, denom, value=-lr_t)
        return loss
