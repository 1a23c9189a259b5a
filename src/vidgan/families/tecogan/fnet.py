"""FNet: FRVSR's flow estimator (Sajjadi et al. 2018), with TecoGAN's ``tanh * 24`` output.

Layer names follow the PyTorch port (skycrapers/TecoGAN-PyTorch ``FNet``) so its state dicts load key
for key: ``encoder{1,2,3}.{0,2}``, ``decoder{1,2,3}.{0,2}``, ``flow.{0,2}``.

compat "pt" (default): input ``concat(current, previous)``, output channels ``(dx, dy)``; the previous
frame is sampled at ``p + flow(p)`` (see :func:`vidgan.nn.warp.backward_warp`); decoder upsampling is
``interpolate(bilinear, align_corners=False)``. The official TF layout (concat(previous, current),
(dy, dx), sample at p - f, TF-legacy bilinear) is the planned ``compat="tf"``; see ``config.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["FNet"]


def _conv_pair(cin: int, cout: int) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, 1, 1, bias=True),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(cout, cout, 3, 1, 1, bias=True),
        nn.LeakyReLU(0.2, inplace=True),
    ]


class FNet(nn.Module):
    """LR flow estimator: 3 x [2 conv + maxpool] (32/64/128), 3 x [2 conv + bilinear x2] (256/128/64),
    conv 32 + LReLU, conv 2, ``tanh * max_flow``. 1,745,506 parameters for 3-channel frames.
    """

    def __init__(self, in_nc: int = 3, max_flow: float = 24.0) -> None:
        super().__init__()
        self.max_flow = max_flow
        self.encoder1 = nn.Sequential(*_conv_pair(2 * in_nc, 32), nn.MaxPool2d(2, 2))
        self.encoder2 = nn.Sequential(*_conv_pair(32, 64), nn.MaxPool2d(2, 2))
        self.encoder3 = nn.Sequential(*_conv_pair(64, 128), nn.MaxPool2d(2, 2))
        self.decoder1 = nn.Sequential(*_conv_pair(128, 256))
        self.decoder2 = nn.Sequential(*_conv_pair(256, 128))
        self.decoder3 = nn.Sequential(*_conv_pair(128, 64))
        self.flow = nn.Sequential(
            nn.Conv2d(64, 32, 3, 1, 1, bias=True), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(32, 2, 3, 1, 1)
        )

    @staticmethod
    def _up2(x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, x_curr: Tensor, x_prev: Tensor) -> Tensor:
        """x_curr, x_prev float ``(N, C, h, w)`` in [0, 1] -> flow ``(N, 2, h//8*8, w//8*8)`` = (dx, dy) in
        LR pixels, in (-max_flow, max_flow); ``warp(x_prev, flow)`` aligns the previous frame to the current.
        Max-pooling floors, so sizes that are not multiples of 8 give a smaller flow (pad it, see
        :func:`pad_flow`).
        """
        h, w = x_curr.shape[-2:]
        if h < 8 or w < 8:
            raise ValueError(f"FNet needs LR frames of at least 8x8 pixels, got {h}x{w}")
        out = self.encoder1(torch.cat([x_curr, x_prev], dim=1))
        out = self.encoder2(out)
        out = self.encoder3(out)
        out = self._up2(self.decoder1(out))
        out = self._up2(self.decoder2(out))
        out = self._up2(self.decoder3(out))
        return torch.tanh(self.flow(out)) * self.max_flow


def pad_flow(flow: Tensor, h: int, w: int) -> Tensor:
    """``(N, 2, h//8*8, w//8*8)`` -> ``(N, 2, h, w)`` by reflect padding at the bottom/right (the port's
    test path; the official TF code uses symmetric padding). Identity when the sizes already match."""
    ph, pw = h - flow.shape[-2], w - flow.shape[-1]
    if ph == 0 and pw == 0:
        return flow
    return F.pad(flow, (0, pw, 0, ph), mode="reflect")
