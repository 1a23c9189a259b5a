"""TF-style bicubic upsampling by an integer factor (TecoGAN's ``bicubic_four``).

Keys cubic convolution with a = -0.75 (old ``tf.image.resize_bicubic``), **top-left aligned**: output
pixel ``s*i + k`` samples input coordinate ``i + k/s`` (no half-pixel shift), borders replicated (pad 1
before, 2 after). Separable, rows first, then columns. This is what the official TF code uses for the
generator skip and what the PyTorch port's ``BicubicUpsampler`` reproduces; it is *not*
``F.interpolate(mode="bicubic")`` (which differs by up to 0.26 on natural images). The alignment
matches the BD degradation (LR pixel i centred on HR pixel s*i), see ``vidgan.data.degradations``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["bicubic_taps", "upsample_bicubic", "BicubicUpsampler"]


def _keys_cubic(x: float, a: float) -> float:
    x = abs(x)
    if x <= 1.0:
        return (a + 2.0) * x**3 - (a + 3.0) * x**2 + 1.0
    if x < 2.0:
        return a * x**3 - 5.0 * a * x**2 + 8.0 * a * x - 4.0 * a
    return 0.0


def bicubic_taps(scale: int = 4, a: float = -0.75) -> Tensor:
    """float32 ``(scale, 4)``: row k = taps on input samples (i-1, i, i+1, i+2) for output phase k."""
    rows = []
    for k in range(scale):
        t = k / scale
        rows.append([_keys_cubic(t + 1.0, a), _keys_cubic(t, a), _keys_cubic(1.0 - t, a), _keys_cubic(2.0 - t, a)])
    return torch.tensor(rows, dtype=torch.float64).to(torch.float32)


def _upsample_rows(x: Tensor, taps: Tensor) -> Tensor:
    """``(M, H, W)`` -> ``(M, s*H, W)`` along dim 1 with replicate padding (1 before, 2 after)."""
    m, h, w = x.shape
    s = taps.shape[0]
    xp = F.pad(x.unsqueeze(1), (0, 0, 1, 2), mode="replicate")  # (M, 1, H+3, W)
    y = F.conv2d(xp, taps.to(x.dtype).view(s, 1, 4, 1))  # (M, s, H, W): phase k in channel k
    return y.permute(0, 2, 1, 3).reshape(m, h * s, w)  # row s*i + k


def upsample_bicubic(x: Tensor, scale: int = 4, taps: Tensor | None = None) -> Tensor:
    """float ``(N, C, H, W)`` (any range) -> ``(N, C, scale*H, scale*W)``, TF-style bicubic (see module)."""
    if x.dim() != 4:
        raise ValueError(f"upsample_bicubic expects (N, C, H, W), got shape {tuple(x.shape)}")
    if taps is None:
        taps = bicubic_taps(scale).to(x.device)
    n, c, h, w = x.shape
    s = taps.shape[0]
    y = _upsample_rows(x.reshape(n * c, h, w), taps)  # rows first (as the reference)
    y = _upsample_rows(y.transpose(1, 2), taps).transpose(1, 2)  # then columns
    return y.reshape(n, c, h * s, w * s)


class BicubicUpsampler(nn.Module):
    """Module form holding the tap table as the buffer ``kernels`` ``(scale, 4)``.

    The PyTorch port stores this buffer in its BD state dicts (``upsample_func.kernels``), so a module
    with the same buffer loads those checkpoints key for key. ``persistent=False`` drops it from the
    state dict (BI-style layouts).
    """

    def __init__(self, scale: int = 4, persistent: bool = True) -> None:
        super().__init__()
        self.scale = scale
        self.register_buffer("kernels", bicubic_taps(scale), persistent=persistent)

    def forward(self, x: Tensor) -> Tensor:
        return upsample_bicubic(x, self.scale, self.kernels)
