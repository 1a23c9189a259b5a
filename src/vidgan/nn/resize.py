"""TF1-legacy bilinear resize (``tf.compat.v1.image.resize_bilinear`` defaults), as explicit tables.

Shapes: images float ``(N, C, H, W)`` (any range, any float dtype); output ``(N, C, out_h, out_w)`` in the
same dtype. Values are NOT re-quantised: TF's op returns float32 and FVD/FID scale that float directly.

Convention (TF1 defaults ``align_corners=False, half_pixel_centers=False``; metrics.md §1.1, §1.5):
    scale  = in_size / out_size                       (float32 in TF)
    src(d) = d * scale                                 (no half-pixel shift, no antialias)
    lo     = floor(src),  hi = min(lo + 1, in_size - 1),  frac = src - lo
    out    = top + (bottom - top) * frac_y,  top = tl + (tr - tl) * frac_x   (TF's evaluation order)

This differs from PyTorch ``F.interpolate(mode="bilinear", align_corners=False)``, which uses
``src = (d + 0.5) * scale - 0.5``; on Vid4 the difference changes I3D logits by ~10 % (metrics.md §1.4).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["tf1_bilinear_coords", "tf1_bilinear_matrix", "resize_tf1_bilinear"]


def tf1_bilinear_coords(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinate table of TF1-legacy bilinear along one axis.

    Returns ``(lo, hi, frac)``: int64 ``(out_size,)`` source indices and float32 ``(out_size,)`` weights of
    ``hi``; output sample ``d`` = ``x[lo[d]] * (1 - frac[d]) + x[hi[d]] * frac[d]``. Computed in float32 like
    TF's ``LegacyScaler`` (``static_cast<float>(d) * scale``).
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f"resize sizes must be >= 1, got in_size={in_size}, out_size={out_size}")
    scale = np.float32(in_size) / np.float32(out_size)
    src = np.arange(out_size, dtype=np.float32) * scale
    lo_f = np.floor(src)
    lo = lo_f.astype(np.int64)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = (src - lo_f).astype(np.float32)
    return lo, hi, frac


def tf1_bilinear_matrix(in_size: int, out_size: int, dtype: np.dtype = np.float64) -> np.ndarray:
    """Interpolation matrix ``A`` ``(out_size, in_size)`` with ``resized = A @ x`` along one axis."""
    lo, hi, frac = tf1_bilinear_coords(in_size, out_size)
    a = np.zeros((out_size, in_size), dtype=dtype)
    rows = np.arange(out_size)
    np.add.at(a, (rows, lo), 1.0 - frac.astype(dtype))
    np.add.at(a, (rows, hi), frac.astype(dtype))
    return a


def resize_tf1_bilinear(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize float ``(N, C, H, W)`` to ``(N, C, *size)`` with TF1-legacy bilinear (see module doc).

    Integer inputs (e.g. uint8 frames) are converted to float32 first, as TF does. The arithmetic follows
    TF's kernel order (horizontal lerp of the two rows, then vertical lerp) so float32 results agree with
    TF to rounding.
    """
    if x.ndim != 4:
        raise ValueError(f"resize_tf1_bilinear expects (N, C, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        x = x.float()
    out_h, out_w = int(size[0]), int(size[1])
    in_h, in_w = x.shape[-2:]
    if (in_h, in_w) == (out_h, out_w):
        return x
    dev = x.device
    ylo, yhi, yfr = (torch.from_numpy(a).to(dev) for a in tf1_bilinear_coords(in_h, out_h))
    xlo, xhi, xfr = (torch.from_numpy(a).to(dev) for a in tf1_bilinear_coords(in_w, out_w))
    yfr = yfr.to(x.dtype).view(-1, 1)
    xfr = xfr.to(x.dtype)
    top_rows = x.index_select(-2, ylo)  # (N, C, out_h, W)
    bot_rows = x.index_select(-2, yhi)
    tl, tr = top_rows.index_select(-1, xlo), top_rows.index_select(-1, xhi)
    bl, br = bot_rows.index_select(-1, xlo), bot_rows.index_select(-1, xhi)
    top = tl + (tr - tl) * xfr
    bottom = bl + (br - bl) * xfr
    return top + (bottom - top) * yfr
