"""LR degradations for 4x video super-resolution (TecoGAN / FRVSR, spec §4).

BD ("blur-down"): per-channel Gaussian blur with sigma 1.5, then every ``scale``-th pixel, **top-left
aligned** (LR pixel i is the blur centred on HR pixel ``scale*i``), the alignment shared with the
bicubic skip and the flow upsampling. Variants (``bd_variant``):

* ``"pad"`` (default of :func:`degrade`): the 9x9 training kernel (1 + 2*int(3 sigma) taps,
  exp(-n^2 / 2 sigma^2), outer product normalised in float64, cast to float32), reflect padding by 4
  (mirror without repeating the edge), stride ``scale``: the port's ``resize_bd.py``; equals the
  training path away from the border. Output ``(H/scale, W/scale)``.
* ``"valid"``: the training path of both codes (``tf_data_gaussDownby4``): valid convolution, stride
  ``scale``, on an HR crop with a 4-px blur margin (136 -> 32; the target is the central 128).
* ``"opencv"``: the official TF **test-time** degradation (``cv2.GaussianBlur`` on the float image, kernel
  size from sigma, 13x13 for 1.5, reflect-101 border, ``[::scale, ::scale]``); differs from "pad" by
  up to 0.0024. Implemented in torch with OpenCV's float kernel formula.

BI: MATLAB ``imresize(img, 1/scale, 'bicubic')`` (antialiased cubic a = -0.5, centre aligned, symmetric
borders), the PyTorch port's offline BI data.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["gaussian_kernel_1d", "gaussian_kernel_2d", "degrade", "matlab_imresize_matrix"]


def gaussian_kernel_1d(sigma: float = 1.5, size: int | None = None) -> np.ndarray:
    """float64 ``(size,)`` unnormalised taps exp(-n^2 / (2 sigma^2)), n centred; size 1 + 2*int(3 sigma)."""
    size = 1 + 2 * int(3 * sigma) if size is None else size
    n = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    return np.exp(-(n**2) / (2.0 * sigma**2))


def gaussian_kernel_2d(sigma: float = 1.5) -> Tensor:
    """float32 ``(k, k)``: outer product of :func:`gaussian_kernel_1d`, normalised by its sum in float64
    (reproduces the port's ``create_kernel`` exactly; it used the removed ``scipy.signal.gaussian``)."""
    g = gaussian_kernel_1d(sigma)
    k2 = np.outer(g, g)
    return torch.from_numpy((k2 / k2.sum()).astype(np.float32))


def _opencv_kernel_1d(sigma: float) -> Tensor:
    """OpenCV's ``getGaussianKernel`` for float images with automatic size round(8 sigma + 1) | 1."""
    size = int(round(sigma * 4 * 2 + 1)) | 1
    g = gaussian_kernel_1d(sigma, size)
    return torch.from_numpy(g / g.sum())


def _blur_stride(x: Tensor, kernel2d: Tensor, scale: int) -> Tensor:
    n, c, h, w = x.shape
    k = kernel2d.to(x.dtype).to(x.device)
    weight = k.expand(c, 1, *k.shape)  # diagonal per-channel filter
    return F.conv2d(x, weight, stride=scale, groups=c)


def matlab_imresize_matrix(in_size: int, out_size: int, scale: float) -> Tensor:
    """float64 ``(out_size, in_size)`` matrix of MATLAB ``imresize`` bicubic (a = -0.5) along one axis,
    antialiased when shrinking (kernel stretched by 1/scale), symmetric border handling."""

    def cubic(x: np.ndarray) -> np.ndarray:
        ax = np.abs(x)
        return ((1.5 * ax**3 - 2.5 * ax**2 + 1) * (ax <= 1)) + (
            (-0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))
        )

    kscale = min(scale, 1.0)
    width = 4.0 / kscale
    x = np.arange(1, out_size + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # 1-based input coordinate (centre aligned)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    wts = kscale * cubic(kscale * (u[:, None] - idx))
    wts /= wts.sum(axis=1, keepdims=True)
    # symmetric padding: mirror indices (1-based) into [1, in_size]
    aux = np.concatenate([np.arange(1, in_size + 1), np.arange(in_size, 0, -1)]) - 1
    src = aux[np.mod(idx.astype(np.int64) - 1, aux.size)]
    mat = np.zeros((out_size, in_size), dtype=np.float64)
    for r in range(out_size):
        np.add.at(mat[r], src[r], wts[r])
    return torch.from_numpy(mat)


def degrade(
    hr: Tensor,
    kind: Literal["bd", "bi"],
    scale: int = 4,
    sigma: float = 1.5,
    *,
    bd_variant: Literal["pad", "valid", "opencv"] = "pad",
) -> Tensor:
    """hr float ``(N, C, H, W)`` in [0, 1] -> LR float ``(N, C, H/scale, W/scale)`` (see module docstring).

    ``bd_variant="valid"`` instead returns ``((H - k)//scale + 1, ...)`` for the 9-tap kernel k (an HR crop of
    ``scale*h + 8`` gives h). The output is not clipped or quantised.
    """
    if hr.dim() != 4 or not hr.is_floating_point():
        raise ValueError(f"degrade expects float (N, C, H, W) in [0, 1], got {hr.dtype} {tuple(hr.shape)}")
    n, c, h, w = hr.shape
    if kind == "bd":
        if bd_variant == "valid":
            return _blur_stride(hr, gaussian_kernel_2d(sigma), scale)
        if h % scale or w % scale:
            raise ValueError(f"degrade: HR size {h}x{w} is not a multiple of scale {scale}; crop it first")
        if bd_variant == "pad":
            k2 = gaussian_kernel_2d(sigma)
            p = k2.shape[0] // 2
            out = _blur_stride(F.pad(hr, (p, p, p, p), mode="reflect"), k2, scale)
        elif bd_variant == "opencv":
            g = _opencv_kernel_1d(sigma)
            p = g.numel() // 2
            x = F.pad(hr.double(), (p, p, p, p), mode="reflect")  # reflect-101
            x = F.conv2d(x.reshape(n * c, 1, *x.shape[-2:]), g.view(1, 1, -1, 1).to(x.device))
            x = F.conv2d(x, g.view(1, 1, 1, -1).to(x.device))
            out = x.reshape(n, c, h, w)[..., ::scale, ::scale].to(hr.dtype)
        else:
            raise ValueError(f"bd_variant must be 'pad', 'valid' or 'opencv', got {bd_variant!r}")
        return out[..., : h // scale, : w // scale]
    if kind == "bi":
        if h % scale or w % scale:
            raise ValueError(f"degrade: HR size {h}x{w} is not a multiple of scale {scale}; crop it first")
        mh = matlab_imresize_matrix(h, h // scale, 1.0 / scale).to(hr.device)
        mw = matlab_imresize_matrix(w, w // scale, 1.0 / scale).to(hr.device)
        out = torch.einsum("ih,nchw,jw->ncij", mh, hr.double(), mw)
        return out.to(hr.dtype)
    raise ValueError(f"degrade: kind must be 'bd' or 'bi', got {kind!r}")
