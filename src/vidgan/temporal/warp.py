"""Flow-based warp loss (TimeCycleGAN's ``WarpLossMixin``, spec §4) behind a flow-source interface.

L_warp = 1/(T-1) sum_t mean | sg(warp(fake_t, F_t)) * conf_t - fake_{t+1} * conf_t |, where F_t is the flow
estimated on the **real** frames with a = real_{t+1}, b = real_t (a ~ warp(b, F)), and conf_t the
brightness-constancy mask 1[sum_c (a - warp(b, F))^2 < threshold] computed at the flow source's working
resolution and bilinearly resized (soft edges). Gradients reach only fake_{t+1}; the first frame is not
skipped (as released).

Flow sources (:class:`FlowSource`: ``source(a, b)`` on (N, 3, H, W) frames in [-1, 1] -> flow (N, 2, H, W)
in pixels, (dx, dy), or ``(flow, conf)``):

* :class:`FarnebackFlow`: OpenCV's dense Farnebäck flow on the grey frames (CPU, no weights);
* :class:`ModuleFlow`: any ``nn.Module`` / callable ``(a, b) -> flow`` (e.g. a trained FNet, RAFT), with
  optional input range conversion and flow scaling;
* a plain function with the same signature.

FlowNet2 (the official estimator, 162 M parameters, CUDA extensions) is not bundled; wrap a plain-torch
port with :class:`ModuleFlow` and ``min_side=256, multiple_of=64`` to reproduce the official resizing.

Warping (:func:`flow_warp`): bilinear, border padding. ``align_corners=False`` is the official behaviour
(an align_corners=True grid sampled with the default align_corners=False, which stretches the image by
W/(W-1) around the centre even for a zero flow); ``True`` is the pixel-exact warp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidgan.nn.warp import backward_warp

from .timecycle import as_sequence

__all__ = [
    "FlowSource",
    "FarnebackFlow",
    "ModuleFlow",
    "FlowWarpLoss",
    "WarpLoss",
    "flow_warp",
    "brightness_confidence",
    "working_size",
]


@runtime_checkable
class FlowSource(Protocol):
    """``source(a, b)``: flow (N, 2, H, W) in pixels with a ~ warp(b, flow), or ``(flow, conf)``."""

    def __call__(self, a: Tensor, b: Tensor) -> Tensor | tuple[Tensor, Tensor]: ...


def flow_warp(img: Tensor, flow: Tensor, align_corners: bool = False) -> Tensor:
    """Backward warp ``img`` (N, C, H, W) by ``flow`` (N, 2, H, W) pixels, bilinear, border padding.

    The grid is ``linspace(-1, 1)`` + flow / ((size - 1) / 2) (an align_corners=True grid); it is sampled with
    ``align_corners`` (official: False, see the module docstring)."""
    n, _, h, w = img.shape
    kw = dict(device=img.device, dtype=img.dtype)
    gx = torch.linspace(-1.0, 1.0, w, **kw).view(1, 1, w).expand(n, h, w)
    gy = torch.linspace(-1.0, 1.0, h, **kw).view(1, h, 1).expand(n, h, w)
    fx = flow[:, 0].to(img.dtype) / ((w - 1.0) / 2.0 if w > 1 else 1.0)
    fy = flow[:, 1].to(img.dtype) / ((h - 1.0) / 2.0 if h > 1 else 1.0)
    grid = torch.stack((gx + fx, gy + fy), dim=3)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=align_corners)


def brightness_confidence(a: Tensor, b: Tensor, flow: Tensor, threshold: float = 0.02) -> Tensor:
    """1[sum_c (a - warp(b, flow))^2 < threshold], (N, 1, H, W) float; the warp is flownet2's Resample2d
    (bilinear at x + flow, clamped to the image)."""
    err = (a - backward_warp(b, flow)).square().sum(1, keepdim=True)
    return (err < threshold).to(a.dtype)


def working_size(h: int, w: int, min_side: int = 0, multiple_of: int = 1) -> tuple[int, int]:
    """Size the flow source works at: scaled so the short side is >= ``min_side`` (official FlowNet2: 256),
    then floored to multiples of ``multiple_of`` (FlowNet2: 64). ``(h, w)`` when no change is needed."""
    if min_side and min(h, w) < min_side:
        s = min_side / min(h, w)
        h, w = int(round(h * s)), int(round(w * s))
    if multiple_of > 1:
        h2, w2 = max(multiple_of, h // multiple_of * multiple_of), max(multiple_of, w // multiple_of * multiple_of)
        h, w = h2, w2
    return h, w


class FarnebackFlow:
    """OpenCV Farnebäck flow on grey frames (frames in [-1, 1]); computed on the CPU, returned on the input's
    device. Default parameters = TecoGAN's tOF (pyr_scale 0.5, levels 3, winsize 15, iterations 3, poly_n 5,
    poly_sigma 1.2)."""

    def __init__(
        self,
        pyr_scale: float = 0.5,
        levels: int = 3,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.2,
        flags: int = 0,
    ) -> None:
        self.params = (pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags)

    @staticmethod
    def _grey(x: Tensor) -> np.ndarray:
        u8 = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
        return np.stack([cv2.cvtColor(np.ascontiguousarray(f.transpose(1, 2, 0)), cv2.COLOR_RGB2GRAY) for f in u8])

    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        ga, gb = self._grey(a), self._grey(b)
        flows = [cv2.calcOpticalFlowFarneback(p, q, None, *self.params) for p, q in zip(ga, gb)]
        out = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2)
        return out.to(device=a.device, dtype=a.dtype)


class ModuleFlow(nn.Module):
    """Any flow network or callable as a :class:`FlowSource`, frozen and run without grad.

    ``input_range``: ``"-1,1"`` (frames as given) or ``"0,1"``; ``flow_scale`` multiplies the output;
    ``swap=True`` calls ``net(b, a)`` for networks that take (previous, current)."""

    def __init__(
        self,
        net: nn.Module | Callable[[Tensor, Tensor], Tensor],
        input_range: str = "-1,1",
        flow_scale: float = 1.0,
        swap: bool = False,
    ) -> None:
        super().__init__()
        if input_range not in ("-1,1", "0,1"):
            raise ValueError(f"input_range must be '-1,1' or '0,1', got {input_range!r}")
        self.net = net
        if isinstance(net, nn.Module):
            net.eval().requires_grad_(False)
        self.input_range, self.flow_scale, self.swap = input_range, flow_scale, swap

    @torch.no_grad()
    def forward(self, a: Tensor, b: Tensor):
        if self.input_range == "0,1":
            a, b = (a + 1) / 2, (b + 1) / 2
        out = self.net(b, a) if self.swap else self.net(a, b)
        if isinstance(out, tuple):
            return out[0] * self.flow_scale, out[1]
        return out * self.flow_scale


class FlowWarpLoss(nn.Module):
    """Confidence-masked backward warp loss on (N, T, C, H, W) sequences (see the module docstring).

    Args:
        flow_source: a :class:`FlowSource`.
        weight: multiplies the loss in :meth:`forward` (``loss(real, fake)`` returns weight * L_warp).
        conf_threshold: brightness-constancy threshold (0.02; frames in [-1, 1]).
        align_corners: sampling of the loss warp (False = official).
        min_side, multiple_of: working resolution of the flow source (official FlowNet2: 256 and 64; the
            flow is computed there, the mask too, then both are bilinearly resized back, the flow scaled).
    """

    def __init__(
        self,
        flow_source: FlowSource | Callable,
        weight: float = 1.0,
        conf_threshold: float = 0.02,
        align_corners: bool = False,
        min_side: int = 0,
        multiple_of: int = 1,
    ) -> None:
        super().__init__()
        self.flow_source = flow_source
        self.weight, self.conf_threshold = float(weight), conf_threshold
        self.align_corners, self.min_side, self.multiple_of = align_corners, min_side, multiple_of

    @torch.no_grad()
    def flows(self, real: Tensor | Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        """(flow (N, T-1, 2, H, W), conf (N, T-1, 1, H, W)) of the pairs (real_{t+1}, real_t)."""
        seq = as_sequence(real)
        assert seq is not None
        n, t, c, h, w = seq.shape
        a = seq[:, 1:].reshape(n * (t - 1), c, h, w).float()
        b = seq[:, :-1].reshape(n * (t - 1), c, h, w).float()
        hh, ww = working_size(h, w, self.min_side, self.multiple_of)
        resized = (hh, ww) != (h, w)
        if resized:
            a = F.interpolate(a, size=(hh, ww), mode="bilinear", align_corners=False)
            b = F.interpolate(b, size=(hh, ww), mode="bilinear", align_corners=False)
        out = self.flow_source(a, b)
        flow, conf = out if isinstance(out, tuple) else (out, None)
        flow = flow.float()
        if conf is None:
            conf = brightness_confidence(a, b, flow, self.conf_threshold)
        if resized:
            flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
            flow = flow * torch.tensor([w / ww, h / hh], device=flow.device, dtype=flow.dtype).view(1, 2, 1, 1)
            conf = F.interpolate(conf.float(), size=(h, w), mode="bilinear", align_corners=False)
        return flow.reshape(n, t - 1, 2, h, w), conf.reshape(n, t - 1, 1, h, w)

    def loss_from_flows(self, fake: Tensor | Sequence[Tensor], flow: Tensor, conf: Tensor) -> Tensor:
        """Unweighted L_warp of ``fake`` given flows/masks from :meth:`flows`."""
        seq = as_sequence(fake)
        assert seq is not None
        n, t, c, h, w = seq.shape
        prev = seq[:, :-1].reshape(n * (t - 1), c, h, w)
        cur = seq[:, 1:].reshape(n * (t - 1), c, h, w)
        fl = flow.reshape(n * (t - 1), 2, h, w).to(prev.dtype)
        cf = conf.reshape(n * (t - 1), 1, h, w).to(prev.dtype)
        warped = flow_warp(prev.detach(), fl, self.align_corners)
        per_pair = (warped * cf - cur * cf).abs().float().reshape(n, t - 1, -1).mean(dim=(0, 2))
        return per_pair.mean()

    def forward(self, real: Tensor | Sequence[Tensor], fake: Tensor | Sequence[Tensor]) -> Tensor:
        """weight * L_warp; flows from ``real``, penalty on ``fake``."""
        flow, conf = self.flows(real)
        return self.weight * self.loss_from_flows(fake, flow, conf)


WarpLoss = FlowWarpLoss
