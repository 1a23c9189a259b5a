"""Streaming video super-resolution with a frame-recurrent TecoGAN / FRVSR generator (the family's
``Parts.stream``; ``vidgan upscale`` reaches it through the contract).

Frames go through ``FRNet.step`` one at a time; the only state is (previous LR frame, previous HR
output), so memory is constant in the video length (the official TF inference loads the whole video
first, thunil/TecoGAN #76). The official test procedure is kept: the first ``warmup`` (5) frames are
prepended in reflected order (5, 4, 3, 2, 1, 0, 1, 2, ...) and their outputs discarded, which needs a
buffer of ``warmup + 1`` frames at the start only. Output pixels: ``uint8(clip(round(255 x), 0, 255))``
of the [0, 1]-space output (the PyTorch port's PNG writing).

Optional tiling (``tile > 0``, not the default): each LR tile (with an ``overlap`` margin) runs its own
recurrence; only the tile centres are kept. Results differ slightly from whole-frame inference near
tile seams (flows are estimated per tile); use it when the frame does not fit in memory.

Speed: by default each video runs on :class:`~.fused.FastFRNet`, a channels_last copy of the model with
fused conv + activation kernels and (bf16) weights cast once; ``fast=False`` runs ``FRNet.step`` itself
(under bf16 autocast for ``dtype="bf16"``). ``compile=True`` (off by default) wraps the step in
``torch.compile`` (tens of seconds of compilation per process and frame size; see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from vidgan.core.config import from_dict

from .config import Config
from .convert import port_generator_config, read_generator_state
from .fused import FastFRNet
from .generator import FRNet

__all__ = ["load_upscaler", "StreamingUpscaler"]


def build_generator(cfg: Config) -> FRNet:
    """FRNet from the config (working in [0, 1]; see ``generator.py``)."""
    return FRNet(cfg.in_channels, cfg.nf, cfg.num_blocks, cfg.scale, cfg.degradation, cfg.max_flow, cfg.compat)


def load_upscaler(path: str | Path, device: torch.device | str = "cpu") -> tuple[FRNet, Config]:
    """FRNet from a vidgan checkpoint (file or run directory), an imported port checkpoint
    (``import_weights``) or a raw TecoGAN-PyTorch ``.pth``; eval mode on ``device``."""
    p = Path(path)
    state, fam = read_generator_state(p)
    if fam is None:
        cfg = port_generator_config(state)
    else:
        if fam.get("name", "tecogan") != "tecogan":
            raise ValueError(f"{p}: a '{fam.get('name')}' checkpoint, not a TecoGAN/FRVSR one (vidgan upscale)")
        cfg = from_dict(Config, fam)
    model = build_generator(cfg)
    model.load_state_dict(state)
    return model.to(device).eval(), cfg


def _to_tensor(frame: np.ndarray, device: torch.device) -> Tensor:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected uint8 (H, W, 3) frames, got {frame.dtype} {frame.shape}")
    arr = frame if frame.flags.writeable and frame.flags.c_contiguous else frame.copy()
    return torch.from_numpy(arr).to(device).permute(2, 0, 1)[None].float() / 255.0


def _to_uint8(x: Tensor) -> np.ndarray:
    return (x[0].float() * 255.0).round().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


class StreamingUpscaler:
    """``upscale(frames)``: iterable of uint8 ``(h, w, 3)`` -> iterator of uint8 ``(s*h, s*w, 3)``.

    model: an eval-mode :class:`FRNet` (works in [0, 1]). dtype: ``"fp32"`` or ``"bf16"`` (the recurrent
    state stays float32). tile: LR tile side (0 = whole frames), overlap: LR margin per side.
    fast: run a fused channels_last copy of the model (its weights when the upscaler is built; see the
    module docstring), else ``model.step`` (bf16 by autocast). compile: ``torch.compile`` the step (off by
    default).
    """

    def __init__(
        self,
        model: FRNet,
        *,
        dtype: Literal["fp32", "bf16"] = "fp32",
        warmup: int = 5,
        tile: int = 0,
        overlap: int = 8,
        fast: bool = True,
        compile: bool = False,
    ) -> None:
        if tile and tile < 8:
            raise ValueError(f"--tile {tile}: tiles must be at least 8 LR pixels (FNet pools three times)")
        self.model = model
        self.device = next(model.parameters()).device
        self.dtype = dtype
        self.warmup = warmup
        self.tile = tile
        self.overlap = overlap
        self.fast = fast
        self.compile = compile
        self._state: dict[tuple[int, int], tuple[Tensor, Tensor]] = {}
        # the fast copy holds the model's weights as they are now (build a new upscaler after changing them)
        self._run = FastFRNet(model, dtype).step if fast else self._model_step
        if compile:
            self._run = torch.compile(self._run)

    def _model_step(self, lr: Tensor, lr_prev: Tensor, hr_prev: Tensor) -> Tensor:
        with self._autocast():
            return self.model.step(lr, lr_prev, hr_prev).float()

    def _autocast(self):
        if self.dtype == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def _windows(self, h: int, w: int) -> list[tuple[int, int, int, int, int, int]]:
        """(y0, y1, x0, x1) of each padded tile and the (oy, ox) offset of its kept core."""
        if not self.tile:
            return [(0, h, 0, w, 0, 0)]
        out = []
        for cy in range(0, h, self.tile):
            for cx in range(0, w, self.tile):
                y0, x0 = max(cy - self.overlap, 0), max(cx - self.overlap, 0)
                y1, x1 = min(cy + self.tile + self.overlap, h), min(cx + self.tile + self.overlap, w)
                y0, x0 = max(min(y0, y1 - 8), 0), max(min(x0, x1 - 8), 0)
                out.append((y0, y1, x0, x1, cy, cx))
        return out

    @torch.no_grad()
    def _step(self, lr: Tensor) -> Tensor:
        """lr ``(1, C, h, w)`` [0, 1] -> HR ``(1, C, s*h, s*w)`` float32, advancing every tile's state."""
        s = self.model.scale
        _, c, h, w = lr.shape
        out = lr.new_empty(1, c, s * h, s * w)
        for y0, y1, x0, x1, cy, cx in self._windows(h, w):
            lr_t = lr[:, :, y0:y1, x0:x1]
            key = (cy, cx)
            lr_prev, hr_prev = self._state.get(
                key, (torch.zeros_like(lr_t), lr_t.new_zeros(1, c, s * lr_t.shape[2], s * lr_t.shape[3]))
            )
            hr = self._run(lr_t, lr_prev, hr_prev)
            self._state[key] = (lr_t, hr)
            th = min(self.tile, h - cy) if self.tile else h
            tw = min(self.tile, w - cx) if self.tile else w
            oy, ox = s * (cy - y0), s * (cx - x0)
            out[:, :, s * cy : s * (cy + th), s * cx : s * (cx + tw)] = hr[:, :, oy : oy + s * th, ox : ox + s * tw]
        return out

    def upscale_float(self, frames: Iterable[np.ndarray]) -> Iterator[Tensor]:
        """Like :meth:`upscale`, yielding float ``(1, C, s*h, s*w)`` outputs ([0, 1] space, unclamped)."""
        self._state = {}
        it = iter(frames)
        head: list[Tensor] = []
        for frame in it:  # buffer frames 0..warmup (the only non-constant memory, at the start)
            head.append(_to_tensor(frame, self.device))
            if len(head) == self.warmup + 1:
                break
        if not head:
            return
        if any(f.shape != head[0].shape for f in head):
            raise ValueError("all frames of a video must share one size")
        w = min(self.warmup, len(head) - 1)
        for idx in range(w, 0, -1):  # reflected warm-up frames, outputs discarded
            self._step(head[idx])
        for x in head:
            yield self._step(x)
        size, start = head[0].shape, len(head)
        del head
        for k, frame in enumerate(it, start=start):
            x = _to_tensor(frame, self.device)
            if x.shape != size:
                raise ValueError(
                    f"frame {k}: size {tuple(x.shape[-2:])} differs from the first frame's {tuple(size[-2:])}; "
                    "all frames of a video must share one size"
                )
            yield self._step(x)

    @property
    def scale(self) -> int:
        return self.model.scale

    def upscale(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Stream uint8 ``(h, w, 3)`` RGB frames -> uint8 ``(s*h, s*w, 3)`` frames (same count and order)."""
        for y in self.upscale_float(frames):
            yield _to_uint8(y)

    __call__ = upscale  # the contract's Stream
