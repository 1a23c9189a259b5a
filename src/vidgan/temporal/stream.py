"""Streaming video-to-video inference: uint8 RGB frames in, uint8 frames out, constant memory.

* :class:`RecurrentStream`: a :class:`~vidgan.temporal.recurrent.RecurrentGenerator` stepped frame by frame
  (the recurrent history is the only state); a new call starts a new video with fresh placeholders drawn
  from a seeded generator (deterministic output).
* :class:`BlockStream`: a block generator (B source frames stacked along channels -> B output frames); output
  frame t is the middle frame of the block centred on t (edges replicated), as pix2pix "block" mode tests.

Frames are padded (edge replication) to a multiple of ``multiple`` (the generator's down-sampling factor) and
cropped back. ``dtype="bf16"`` runs the network under CPU/GPU autocast; the recurrent history stays float32.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .recurrent import RecurrentGenerator

__all__ = ["RecurrentStream", "BlockStream", "to_tensor", "to_uint8"]


def _device(module: nn.Module) -> torch.device:
    p = next(module.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def to_tensor(frame: np.ndarray, device: torch.device, multiple: int) -> tuple[Tensor, tuple[int, int]]:
    """uint8 (h, w, 3) -> float (1, 3, H, W) in [-1, 1], edge-padded to multiples of ``multiple``."""
    a = np.asarray(frame)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise ValueError(f"expected uint8 RGB frames (h, w, 3), got {a.dtype} {a.shape}")
    h, w = a.shape[:2]
    x = torch.from_numpy(a.copy()).to(device).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


def to_uint8(x: Tensor, size: tuple[int, int]) -> np.ndarray:
    """float (1, 3, H, W) in [-1, 1] -> uint8 (h, w, 3), cropped to ``size``."""
    h, w = size
    y = ((x[0, :, :h, :w].float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return y.permute(1, 2, 0).cpu().numpy()


class RecurrentStream:
    """Frames -> frames through a recurrent generator (see the module docstring)."""

    scale = 1

    def __init__(self, gen: RecurrentGenerator, dtype: str = "fp32", multiple: int = 4, seed: int = 0) -> None:
        if dtype not in ("fp32", "bf16"):
            raise ValueError(f"dtype must be fp32 or bf16, got {dtype!r}")
        self.gen, self.dtype, self.multiple, self.seed = gen, dtype, multiple, seed

    @torch.no_grad()
    def __call__(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        gen = self.gen.eval()
        dev = _device(gen)
        state = None
        g = torch.Generator(device=dev).manual_seed(self.seed)
        for frame in frames:
            x, size = to_tensor(frame, dev, self.multiple)
            if state is None:
                state = gen.init_state(x, generator=g)
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=self.dtype == "bf16"):
                y, state = gen.step(x if gen.cond_channels else None, state)
            y = y.float()
            state.fakes = [f.float() for f in state.fakes]
            yield to_uint8(y, size)


class BlockStream:
    """Frames -> frames through a block generator ``net`` ((1, B*C, H, W) -> (1, B*C, H, W))."""

    scale = 1

    def __init__(self, net: nn.Module, block: int, dtype: str = "fp32", multiple: int = 4) -> None:
        if dtype not in ("fp32", "bf16"):
            raise ValueError(f"dtype must be fp32 or bf16, got {dtype!r}")
        self.net, self.block, self.dtype, self.multiple = net, block, dtype, multiple

    def _run(self, window: list[Tensor]) -> Tensor:
        dev = window[0].device
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=self.dtype == "bf16"):
            out = self.net(torch.cat(window, 1)).float()
        mid = self.block // 2
        c = out.shape[1] // self.block
        return out[:, mid * c : (mid + 1) * c]

    @torch.no_grad()
    def __call__(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        net = self.net.eval()
        dev = _device(net)
        half = self.block // 2
        buf: deque[Tensor] = deque(maxlen=self.block)
        size = None
        pending = 0  # frames read but not yet emitted
        for frame in frames:
            x, size = to_tensor(frame, dev, self.multiple)
            if not buf:
                buf.extend([x] * (half + 1))  # left edge replicated; the window centre is the first frame
            else:
                buf.append(x)
            pending += 1
            if len(buf) == self.block:
                yield to_uint8(self._run(list(buf)), size)
                pending -= 1
        while pending > 0:  # right edge: replicate the last frame
            buf.append(buf[-1])
            if len(buf) == self.block:
                yield to_uint8(self._run(list(buf)), size)
                pending -= 1
