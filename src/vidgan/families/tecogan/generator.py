"""FRNet = FNet + SRNet: the frame-recurrent generator of FRVSR / TecoGAN (4x video super-resolution).

Per frame t (Sajjadi et al. 2018, TecoGAN §3/§4.1):
    f_t   = FNet(x_t, x_{t-1})                    LR flow (dx, dy), sample x_{t-1} at p + f
    F_t   = scale * up(f_t)                       HR flow (magnitude x scale, then the skip upsampler)
    g_t   = SRNet(x_t, S2D(warp(g_{t-1}, F_t)))   3 + 48 input channels at LR resolution
    g_0   = SRNet(x_0, zeros)                     "black" first estimate

Ranges: this module works in **[0, 1]** like the PyTorch port whose checkpoints it loads key for key
(LR in [0, 1], HR out in [0, 1] space, unclamped). The family's Objective, preview and the streaming
upscaler map vidgan's [-1, 1] convention to and from it.

Module names follow the port (``fnet.*``, ``srnet.conv_in.0``, ``srnet.resblocks.{i}.conv.{0,2}``,
``srnet.conv_up.{0,2}``, ``srnet.conv_out``, and in BD mode the bicubic tap buffers
``upsample_func.kernels`` / ``srnet.upsample_func.kernels``: the same module registered twice, as in the
port). Three entry points as in the port: ``forward_sequence`` (training clip, full BPTT), ``step`` (one
recurrent step, the streaming state is (previous LR, previous HR)) and ``infer_sequence`` (the test
procedure with 5 reflected warm-up frames).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidgan.nn.bicubic import BicubicUpsampler
from vidgan.nn.space_to_depth import space_to_depth
from vidgan.nn.warp import backward_warp

from .compat import Compat, check_compat, pad_flow, transposed_conv, upsample_flow
from .fnet import FNet

__all__ = ["SRNet", "FRNet", "BilinearUpsampler", "reflected_order"]


class BilinearUpsampler(nn.Module):
    """The port's BI-mode upsampler (skip, flow and D-conditional): ``interpolate(bilinear,
    align_corners=False)``; no buffers, so BI state dicts have 76 keys."""

    def __init__(self, scale: int = 4) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)


def make_upsampler(degradation: Literal["bd", "bi"], scale: int) -> nn.Module:
    """BD: TF-style bicubic (buffer ``kernels``); BI: bilinear (as the port)."""
    if degradation == "bd":
        return BicubicUpsampler(scale)
    if degradation == "bi":
        return BilinearUpsampler(scale)
    raise ValueError(f"degradation must be 'bd' or 'bi', got {degradation!r}")


class ResidualBlock(nn.Module):
    """conv3x3, ReLU, conv3x3, + identity (no BN, no scaling)."""

    def __init__(self, nf: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(nf, nf, 3, 1, 1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(nf, nf, 3, 1, 1, bias=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x)


class SRNet(nn.Module):
    """conv 51->64 + ReLU, ``num_blocks`` residual blocks, transposed convs (x2 each) + ReLU, conv 64->3,
    plus the upsampled LR skip. 843,587 parameters with 10 blocks, 1,286,723 with 16 (scale 4)."""

    def __init__(
        self,
        upsample_func: nn.Module,
        in_nc: int = 3,
        nf: int = 64,
        num_blocks: int = 10,
        scale: int = 4,
        compat: Compat = "pt",
    ):
        super().__init__()
        if scale not in (2, 4):
            raise ValueError(f"scale must be 2 or 4, got {scale}")
        self.conv_in = nn.Sequential(nn.Conv2d((1 + scale * scale) * in_nc, nf, 3, 1, 1, bias=True), nn.ReLU(True))
        self.resblocks = nn.Sequential(*[ResidualBlock(nf) for _ in range(num_blocks)])
        # pt placement (padding 1, output_padding 1); TF "SAME" differs by a one-pixel kernel phase
        ups: list[nn.Module] = []
        for _ in range({2: 1, 4: 2}[scale]):
            ups += [transposed_conv(nf, compat), nn.ReLU(True)]
        self.conv_up = nn.Sequential(*ups)
        self.conv_out = nn.Conv2d(nf, in_nc, 3, 1, 1, bias=True)
        self.upsample_func = upsample_func

    def forward(self, lr_curr: Tensor, hr_prev_s2d: Tensor) -> Tensor:
        """lr_curr ``(N, C, h, w)`` in [0, 1], hr_prev_s2d ``(N, s*s*C, h, w)`` -> ``(N, C, s*h, s*w)``."""
        out = self.conv_in(torch.cat([lr_curr, hr_prev_s2d], dim=1))
        out = self.conv_up(self.resblocks(out))
        return self.conv_out(out) + self.upsample_func(lr_curr)


def reflected_order(num_frames: int, warmup: int = 5) -> list[int]:
    """Frame indices of the test procedure: ``warmup, ..., 1, 0, 1, ..., T-1`` (fewer warm-up frames
    when the clip is shorter). The first ``min(warmup, T-1)`` outputs are discarded."""
    w = min(warmup, num_frames - 1)
    return list(range(w, 0, -1)) + list(range(num_frames))


class FRNet(nn.Module):
    """Frame-recurrent generator (FNet + SRNet), working in [0, 1] (see module docstring)."""

    def __init__(
        self,
        in_nc: int = 3,
        nf: int = 64,
        num_blocks: int = 10,
        scale: int = 4,
        degradation: Literal["bd", "bi"] = "bd",
        max_flow: float = 24.0,
        compat: Compat = "pt",
    ) -> None:
        super().__init__()
        self.scale = scale
        self.in_nc = in_nc
        self.compat = check_compat(compat)
        # registered twice on purpose (port layout: both keys exist in BD state dicts)
        self.upsample_func = make_upsampler(degradation, scale)
        self.fnet = FNet(in_nc, max_flow, compat)
        self.srnet = SRNet(self.upsample_func, in_nc, nf, num_blocks, scale, compat)

    def hr_flow(self, lr_flow: Tensor) -> Tensor:
        """LR flow ``(N, 2, h, w)`` px -> HR flow ``(N, 2, s*h, s*w)`` px (magnitude x s, then upsampled)."""
        return upsample_flow(lr_flow, self.scale, self.upsample_func, self.compat)

    def flow(self, lr_curr: Tensor, lr_prev: Tensor) -> Tensor:
        """LR flow aligning ``lr_prev`` to ``lr_curr``, padded to the full LR size ``(N, 2, h, w)``."""
        return pad_flow(self.fnet(lr_curr, lr_prev), *lr_curr.shape[-2:], self.compat)

    def forward_sequence(self, lr: Tensor) -> dict[str, Tensor]:
        """Training forward over a clip (full BPTT, previous outputs used unclamped).

        lr float ``(B, C, T, h, w)`` in [0, 1] -> dict:
            ``hr``            ``(B, C, T, s*h, s*w)`` [0, 1] space, unclamped
            ``lr_flow``       ``(B, 2, T-1, h, w)``   flow t aligns frame t to t+1 (FNet(lr[t+1], lr[t]))
            ``hr_flow``       ``(B, 2, T-1, s*h, s*w)``
            ``hr_prev_warp``  ``(B, C, T-1, s*h, s*w)`` warp(hr[t], hr_flow[t]) fed to step t+1
        """
        b, c, t, h, w = lr.shape
        s = self.scale
        frames = lr.transpose(1, 2)  # (B, T, C, h, w)
        cur = frames[:, 1:].reshape(b * (t - 1), c, h, w)
        prev = frames[:, :-1].reshape(b * (t - 1), c, h, w)
        lr_flow = self.flow(cur, prev)  # one batched FNet call over all pairs (B*(T-1), 2, h, w)
        hr_flow = self.hr_flow(lr_flow).view(b, t - 1, 2, s * h, s * w)
        hr_prev = self.srnet(frames[:, 0], lr.new_zeros(b, s * s * c, h, w))
        outs, warps = [hr_prev], []
        for i in range(1, t):
            hr_prev_warp = backward_warp(hr_prev, hr_flow[:, i - 1])
            hr_prev = self.srnet(frames[:, i], space_to_depth(hr_prev_warp, s))
            outs.append(hr_prev)
            warps.append(hr_prev_warp)
        return {
            "hr": torch.stack(outs, dim=2),
            "lr_flow": lr_flow.view(b, t - 1, 2, h, w).transpose(1, 2),
            "hr_flow": hr_flow.transpose(1, 2),
            "hr_prev_warp": torch.stack(warps, dim=2) if warps else lr.new_zeros(b, c, 0, s * h, s * w),
        }

    def step(self, lr_curr: Tensor, lr_prev: Tensor, hr_prev: Tensor) -> Tensor:
        """One recurrent step (the streaming path).

        lr_curr, lr_prev ``(N, C, h, w)`` in [0, 1]; hr_prev ``(N, C, s*h, s*w)`` (the previous output,
        unclamped). Start a stream with ``lr_prev = hr_prev = 0`` (warping zeros gives zeros, so the first
        step equals SRNet(x_0, 0) exactly). Returns ``(N, C, s*h, s*w)``.
        """
        hr_flow = self.hr_flow(self.flow(lr_curr, lr_prev))
        hr_prev_warp = backward_warp(hr_prev, hr_flow)
        return self.srnet(lr_curr, space_to_depth(hr_prev_warp, self.scale))

    @torch.no_grad()
    def infer_sequence(self, lr: Tensor, warmup: int = 5) -> Tensor:
        """Test procedure: prepend reflected frames ``warmup..1``, step over the padded clip, drop the
        warm-up outputs. lr ``(B, C, T, h, w)`` in [0, 1] -> ``(B, C, T, s*h, s*w)`` unclamped."""
        b, c, t, h, w = lr.shape
        order = reflected_order(t, warmup)
        skip = len(order) - t
        lr_prev = lr.new_zeros(b, c, h, w)
        hr_prev = lr.new_zeros(b, c, self.scale * h, self.scale * w)
        outs = []
        for k, idx in enumerate(order):
            lr_curr = lr[:, :, idx]
            hr_prev = self.step(lr_curr, lr_prev, hr_prev)
            lr_prev = lr_curr
            if k >= skip:
                outs.append(hr_prev)
        return torch.stack(outs, dim=2)


def grow_resblocks(model: FRNet, state: dict[str, Tensor], init: Literal["residual_zero", "zero"] = "residual_zero"):
    """Warm-start ``model`` (N blocks) from a state dict with fewer blocks (FRVSR 10 -> TecoGAN 16).

    ``init="residual_zero"`` (default, the fix of TecoGAN spec §6.4/§14): new blocks keep their random
    first conv and get a zero second conv (function-preserving *and* trainable). ``init="zero"``
    reproduces the official recipe (all new-block tensors zero: only the second bias can ever move).
    Returns the list of new keys.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    bad = [k for k in missing if not k.startswith("srnet.resblocks.")]
    if bad:
        raise KeyError(f"grow_resblocks: the source state lacks non-residual keys {bad[:4]}")
    new_state = dict(state)
    for k in missing:
        zero = init == "zero" or ".conv.2." in k
        new_state[k] = torch.zeros_like(own[k]) if zero else own[k]
    model.load_state_dict(new_state, strict=True)
    return missing
