"""3D convolution that stays correct under CPU bf16 autocast.

torch 2.13's CPU (oneDNN) bf16 ``conv3d`` returns wrong *weight gradients* when the input has exactly two
frames and the temporal padding is 1 (relative errors of 1 to 1e37, measured over the TGANv2 discriminator's
channel widths 3..1024 and spatial sizes 2..24; T = 1, 3, 4, 8 are correct, so is fp32, so is conv2d).
Padding the time axis explicitly and convolving with temporal padding 0 is the same function and takes a
correct kernel (max relative error 4e-3, bf16 rounding). The detour is used only under CPU autocast; in fp32
this is a plain ``nn.Conv3d`` (same parameters, same state-dict keys, bit-identical outputs).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Conv3d"]


class Conv3d(nn.Conv3d):
    """Drop-in ``nn.Conv3d`` (zero padding) with the CPU-bf16 temporal-padding workaround."""

    def forward(self, x: Tensor) -> Tensor:  # x: (N, C, T, H, W)
        pt = self.padding[0] if isinstance(self.padding, tuple) else 0
        if pt and x.device.type == "cpu" and torch.is_autocast_enabled("cpu") and self.padding_mode == "zeros":
            x = F.pad(x, (0, 0, 0, 0, pt, pt))  # (N, C, T + 2 pt, H, W)
            return F.conv3d(x, self.weight, self.bias, self.stride, (0, *self.padding[1:]), self.dilation, self.groups)
        return super().forward(x)
