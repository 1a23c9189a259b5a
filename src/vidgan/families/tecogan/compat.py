"""Every layout / numerics difference between ``compat="pt"`` and ``compat="tf"``, in one place.

``pt`` (default): the PyTorch port (skycrapers/TecoGAN-PyTorch @ 903b070), pinned by the golden fixtures.
``tf``: the official TF code (thunil/TecoGAN @ bc747a4, ``lib/frvsr.py``, ``lib/Teco.py``, ``lib/ops.py``):

| piece | pt | tf |
|---|---|---|
| FNet input | concat(current, previous) | concat(previous, current) |
| FNet output | (dx, dy), sample at p + f | (dy, dx), sample at p - f (``dense_image_warp``) |
| FNet decoder x2 | bilinear, align_corners=False | TF1-legacy bilinear (no half-pixel shift) |
| odd-size flow padding | reflect | symmetric |
| LR -> HR flow | x s, then the skip upsampler | x s, then ``upscale_four`` (= TF1-legacy bilinear x4) |
| transposed conv | padding 1, output_padding 1 | TF "SAME": full output cropped at the end |
| D conditional group | skip upsampler of LR [0, 1] | TF1-legacy bilinear x4 of LR [0, 1] |
| D original/warped range | [0, 1] | [-1, 1] |
| D BN | affine, eps 1e-5 | no gamma, eps 1e-3 (momentum 0.1 = decay 0.9) |
| D head | flatten + Linear: 1 logit / triplet | per-location 1x1: 8x8 logit map (sigmoid in the loss) |

Internally every flow handed around is in the ``pt`` convention (``(dx, dy)``, sample at ``p + f``): the
``tf`` FNet output is converted right at its end, so warps, losses and D share one code path.
The official TF checkpoint (``model.zip``) imports through ``convert.import_tf_checkpoint`` (generator).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidgan.nn.resize import resize_tf1_bilinear

Compat = Literal["pt", "tf"]

__all__ = [
    "Compat",
    "check_compat",
    "fnet_input",
    "fnet_output",
    "decoder_up2",
    "pad_flow",
    "upsample_flow",
    "transposed_conv",
    "d_norm",
    "d_head",
    "d_conditional",
    "d_frames",
]


def check_compat(compat: str) -> Compat:
    if compat not in ("pt", "tf"):
        raise ValueError(f"compat must be 'pt' (PyTorch port layout) or 'tf' (official TF layout), got {compat!r}")
    return compat  # type: ignore[return-value]


def fnet_input(cur: Tensor, prev: Tensor, compat: Compat) -> Tensor:
    return torch.cat([cur, prev] if compat == "pt" else [prev, cur], dim=1)


def fnet_output(flow: Tensor, compat: Compat) -> Tensor:
    """Raw FNet output -> pt convention. tf: (dy, dx) sampled at p - f  ->  (dx, dy) sampled at p + f."""
    return flow if compat == "pt" else -flow.flip(1)


def decoder_up2(x: Tensor, compat: Compat) -> Tensor:
    if compat == "pt":
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    return resize_tf1_bilinear(x, (2 * x.shape[-2], 2 * x.shape[-1]))


def pad_flow(flow: Tensor, h: int, w: int, compat: Compat = "pt") -> Tensor:
    """``(N, 2, h//8*8, w//8*8)`` -> ``(N, 2, h, w)`` padding bottom/right (pt: reflect, tf: symmetric)."""
    ph, pw = h - flow.shape[-2], w - flow.shape[-1]
    if ph == 0 and pw == 0:
        return flow
    if compat == "pt":
        return F.pad(flow, (0, pw, 0, ph), mode="reflect")
    if ph:
        flow = torch.cat([flow, flow[..., flow.shape[-2] - ph :, :].flip(-2)], dim=-2)
    if pw:
        flow = torch.cat([flow, flow[..., flow.shape[-1] - pw :].flip(-1)], dim=-1)
    return flow


def upsample_flow(lr_flow: Tensor, scale: int, skip_upsample: nn.Module, compat: Compat) -> Tensor:
    """LR flow (px) -> HR flow (px): magnitude x scale, then x scale upsampling."""
    if compat == "pt":
        return scale * skip_upsample(lr_flow)
    h, w = lr_flow.shape[-2:]
    return scale * resize_tf1_bilinear(lr_flow, (scale * h, scale * w))


class _TFSameConvTranspose2d(nn.ConvTranspose2d):
    """3x3 stride-2 transposed conv with TF "SAME" placement: the padding-0 output (2H + 1) cropped to
    its first 2H rows/cols (PyTorch's padding 1, output_padding 1 keeps rows 1..2H instead). Same
    parameters (and state-dict keys) as the pt layer."""

    def __init__(self, nf: int) -> None:
        super().__init__(nf, nf, 3, 2, 0, bias=True)

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        h, w = x.shape[-2:]
        return super().forward(x)[..., : 2 * h, : 2 * w]


def transposed_conv(nf: int, compat: Compat) -> nn.Module:
    if compat == "pt":
        return nn.ConvTranspose2d(nf, nf, 3, 2, 1, output_padding=1, bias=True)
    return _TFSameConvTranspose2d(nf)


class _BatchNormNoGamma(nn.Module):
    """TF-slim ``batch_norm`` default: learned beta (``bias``), no gamma, eps 1e-3, decay 0.9. The
    statistics live in a child ``BatchNorm2d`` (``norm``) so SyncBatchNorm conversion keeps ``bias``."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(c, eps=1e-3, momentum=0.1, affine=False)
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x) + self.bias.view(1, -1, 1, 1)


def d_norm(c: int, compat: Compat) -> nn.Module:
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1) if compat == "pt" else _BatchNormNoGamma(c)


class _FlattenLinear(nn.Linear):
    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return super().forward(x.flatten(1))


def d_head(spatial_size: int, compat: Compat) -> nn.Module:
    """pt: Linear over the flattened 256 x (S/16)^2 features; tf: per-location 1x1 (an (S/16)^2 logit map)."""
    if compat == "pt":
        return _FlattenLinear(256 * (spatial_size // 16) ** 2, 1)
    return nn.Conv2d(256, 1, 1)


def d_conditional(lr: Tensor, scale: int, skip_upsample: nn.Module, compat: Compat) -> Tensor:
    """LR frames ``(N, C, h, w)`` [0, 1] -> D's conditional group at HR (in [0, 1] in both layouts)."""
    if compat == "pt":
        return skip_upsample(lr)
    return resize_tf1_bilinear(lr, (scale * lr.shape[-2], scale * lr.shape[-1]))


def d_frames(frames: Tensor, compat: Compat) -> Tensor:
    """Original/warped groups: [0, 1] (pt) or [-1, 1] (tf)."""
    return frames if compat == "pt" else frames * 2.0 - 1.0
