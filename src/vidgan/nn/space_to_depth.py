"""Space-to-depth in TF's channel order (block position major, colour minor).

``y[n, (dy*s + dx)*C + c, i, j] = x[n, c, s*i + dy, s*j + dx]``: FRVSR's way of feeding the warped
previous HR estimate to SRNet at LR resolution. ``F.pixel_unshuffle`` orders channels colour-major and
does **not** match (the PyTorch port's checkpoints depend on this order).
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["space_to_depth"]


def space_to_depth(x: Tensor, scale: int) -> Tensor:
    """float ``(N, C, H, W)`` -> ``(N, scale*scale*C, H/scale, W/scale)`` (H, W multiples of ``scale``)."""
    n, c, h, w = x.shape
    if h % scale or w % scale:
        raise ValueError(f"space_to_depth: size {h}x{w} is not a multiple of the block size {scale}")
    y = x.reshape(n, c, h // scale, scale, w // scale, scale)  # (N, C, i, dy, j, dx)
    y = y.permute(0, 3, 5, 1, 2, 4)  # (N, dy, dx, C, i, j)
    return y.reshape(n, scale * scale * c, h // scale, w // scale)
