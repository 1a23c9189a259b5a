"""FNet: FRVSR's flow estimator (Sajjadi et al. 2018), with TecoGAN's ``tanh * 24`` output.

Layer names follow the PyTorch port (skycrapers/TecoGAN-PyTorch ``FNet``) so its state dicts load key
for key: ``encoder{1,2,3}.{0,2}``, ``decoder{1,2,3}.{0,2}``, ``flow.{0,2}``.

The output is always in the pt convention: channels ``(dx, dy)``, the previous frame is sampled at
``p + flow(p)`` (see :func:`vidgan.nn.warp.backward_warp`). ``compat="tf"`` (official layout: input
concat(previous, current), raw output (dy, dx) sampled at p - f, TF-legacy bilinear decoder) converts its
raw output at the end; every difference lives in ``compat.py``.
"""

from __future__ import annotations

from torch import Tensor, nn

from .compat import Compat, check_compat, decoder_up2, fnet_input, fnet_output, pad_flow

__all__ = ["FNet", "pad_flow"]


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

    def __init__(self, in_nc: int = 3, max_flow: float = 24.0, compat: Compat = "pt") -> None:
        super().__init__()
        self.max_flow = max_flow
        self.compat = check_compat(compat)
        self.encoder1 = nn.Sequential(*_conv_pair(2 * in_nc, 32), nn.MaxPool2d(2, 2))
        self.encoder2 = nn.Sequential(*_conv_pair(32, 64), nn.MaxPool2d(2, 2))
        self.encoder3 = nn.Sequential(*_conv_pair(64, 128), nn.MaxPool2d(2, 2))
        self.decoder1 = nn.Sequential(*_conv_pair(128, 256))
        self.decoder2 = nn.Sequential(*_conv_pair(256, 128))
        self.decoder3 = nn.Sequential(*_conv_pair(128, 64))
        self.flow = nn.Sequential(
            nn.Conv2d(64, 32, 3, 1, 1, bias=True), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(32, 2, 3, 1, 1)
        )

    def _up2(self, x: Tensor) -> Tensor:
        return decoder_up2(x, self.compat)

    def forward(self, x_curr: Tensor, x_prev: Tensor) -> Tensor:
        """x_curr, x_prev float ``(N, C, h, w)`` in [0, 1] -> flow ``(N, 2, h//8*8, w//8*8)`` = (dx, dy) in
        LR pixels, in (-max_flow, max_flow); ``warp(x_prev, flow)`` aligns the previous frame to the current.
        Max-pooling floors, so sizes that are not multiples of 8 give a smaller flow (pad it, see
        :func:`pad_flow`).
        """
        h, w = x_curr.shape[-2:]
        if h < 8 or w < 8:
            raise ValueError(f"FNet needs LR frames of at least 8x8 pixels, got {h}x{w}")
        out = self.encoder1(fnet_input(x_curr, x_prev, self.compat))
        out = self.encoder2(out)
        out = self.encoder3(out)
        out = self._up2(self.decoder1(out))
        out = self._up2(self.decoder2(out))
        out = self._up2(self.decoder3(out))
        return fnet_output(self.flow(out).tanh() * self.max_flow, self.compat)
