"""Frame-recurrent generator wrapper (TimeCycleGAN's ``SequentialMixin``, spec §2.5).

Any image generator becomes a video generator by feeding it its own previous output(s):
frame t's input is ``cat([cond_{t-n}, ..., cond_{t-1}, cond_t, fake_{t-n}, ..., fake_{t-1}], channels)``
(oldest first; the previous conditions only with ``cond_prev=True``, vid2vid's ``G_input_conditioning``).
Before the first frame the history holds placeholder images: N(0, 1) noise (``"normal"``, official),
``"zero"`` or ``"uniform"`` (U(-1, 1)). Training unrolls with full back-propagation through time; inference
carries the same history in constant memory (:meth:`RecurrentGenerator.step`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

__all__ = ["RecurrentGenerator", "RecurrentState", "placeholder"]


def placeholder(shape: tuple[int, ...], kind: str, like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """A placeholder history image batch of ``shape`` (official: N(0, 1) noise)."""
    if kind == "normal":
        return torch.randn(shape, generator=generator, device=like.device, dtype=like.dtype)
    if kind == "uniform":
        return torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype) * 2 - 1
    if kind == "zero":
        return like.new_zeros(shape)
    raise ValueError(f"unknown placeholder init {kind!r}: use normal, uniform or zero")


@dataclass
class RecurrentState:
    """History of one batch of videos: previous fakes and (optionally) previous conditions, oldest first."""

    fakes: list[Tensor] = field(default_factory=list)
    conds: list[Tensor] = field(default_factory=list)


class RecurrentGenerator(nn.Module):
    """Wrap ``net`` (input channels ``cond_channels * (1 + n_prev * cond_prev) + frame_channels * n_prev``).

    ``unroll(cond)`` maps (N, T, Cc, H, W) (or ``None`` with ``frames=T`` for unconditional nets) to
    (N, T, C, H, W). ``init_prev`` / ``init_cond`` (N, n_prev, ., H, W) replace the random placeholders.
    """

    def __init__(
        self,
        net: nn.Module,
        frame_channels: int,
        cond_channels: int = 0,
        n_prev: int = 1,
        cond_prev: bool = False,
        init: str = "normal",
    ) -> None:
        super().__init__()
        if n_prev < 0:
            raise ValueError(f"n_prev must be >= 0 (0 = a per-frame generator), got {n_prev}")
        self.net = net
        self.frame_channels, self.cond_channels = frame_channels, cond_channels
        self.n_prev, self.cond_prev, self.init = n_prev, cond_prev and cond_channels > 0 and n_prev > 0, init

    @property
    def in_channels(self) -> int:
        return self.cond_channels * (1 + (self.n_prev if self.cond_prev else 0)) + self.frame_channels * self.n_prev

    def init_state(
        self,
        like: Tensor,
        generator: torch.Generator | None = None,
        init_prev: Tensor | None = None,
        init_cond: Tensor | None = None,
    ) -> RecurrentState:
        """Fresh history for a batch shaped like ``like`` (N, ., H, W)."""
        n, h, w = like.shape[0], like.shape[-2], like.shape[-1]
        if self.n_prev == 0:
            return RecurrentState()
        if init_prev is None:
            init_prev = placeholder((n, self.n_prev, self.frame_channels, h, w), self.init, like, generator)
        state = RecurrentState(fakes=list(init_prev.unbind(1)))
        if self.cond_prev:
            if init_cond is None:
                init_cond = placeholder((n, self.n_prev, self.cond_channels, h, w), self.init, like, generator)
            state.conds = list(init_cond.unbind(1))
        return state

    def step(self, cond: Tensor | None, state: RecurrentState) -> tuple[Tensor, RecurrentState]:
        """One frame: ``cond`` (N, Cc, H, W) or None -> (frame (N, C, H, W), updated state)."""
        parts = list(state.conds) if self.cond_prev else []
        if cond is not None:
            parts.append(cond)
        parts += state.fakes
        out = self.net(torch.cat(parts, 1))
        fakes = (state.fakes[1:] + [out]) if self.n_prev else []
        conds = (state.conds[1:] + [cond]) if self.cond_prev else []
        return out, RecurrentState(fakes=fakes, conds=conds)

    def unroll(
        self,
        cond: Tensor | None,
        frames: int | None = None,
        generator: torch.Generator | None = None,
        init_prev: Tensor | None = None,
        init_cond: Tensor | None = None,
        like: Tensor | None = None,
    ) -> Tensor:
        """Full-BPTT unroll over T frames -> (N, T, C, H, W)."""
        if cond is not None:
            t = cond.shape[1]
            ref = cond[:, 0]
        else:
            if frames is None:
                raise ValueError("unroll without a condition needs frames=T")
            t = frames
            if init_prev is not None:
                ref = init_prev[:, 0]
            elif like is not None:
                ref = like
            else:
                raise ValueError("unroll without a condition needs init_prev or like=(N, C, H, W) tensor")
        state = self.init_state(ref, generator, init_prev, init_cond)
        outs = []
        for i in range(t):
            y, state = self.step(None if cond is None else cond[:, i], state)
            outs.append(y)
        return torch.stack(outs, 1)

    def forward(self, cond: Tensor | None, **kw) -> Tensor:
        return self.unroll(cond, **kw)
