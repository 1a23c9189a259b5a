"""Pure sampling functions: which frames a training example uses and how it is cut.

All draws come from a ``numpy.random.Generator`` passed in by the caller (the dataset seeds it from
``(index, seed)``), so an example is a pure function of its seed.

* contiguous clips: start frame uniform over every start whose span fits;
* TGANv2 multi-level real clips (tganv2.md §4.2, golden ``tganv2/discriminator_io.npz``);
* StyleGAN-V sparse frame times, ``random`` strategy (styleganv.md §4);
* the official TGANv2 ``UCF101Dataset`` crop (xmargin 4, y0 = 0, flip p = 0.5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "STYLEGANV_TOTAL_DISTS",
    "contiguous_start",
    "draw_offsets",
    "multilevel_frames",
    "multilevel_clip",
    "random_times",
    "random_times_min_length",
    "ucf101_draw",
    "ucf101_crop",
]

# StyleGAN-V configs/sampling/random.yaml: total_dists = [1, 2, 4, ..., 2048]
STYLEGANV_TOTAL_DISTS: tuple[int, ...] = tuple(2**i for i in range(12))


def contiguous_start(rng: np.random.Generator, num_frames: int, frames: int, stride: int = 1) -> int:
    """Uniform start of a ``frames``-long clip at ``stride`` inside a ``num_frames`` video."""
    span = (frames - 1) * stride + 1
    if span > num_frames:
        raise ValueError(f"a clip of {frames} frames at stride {stride} needs {span} frames, video has {num_frames}")
    return int(rng.integers(0, num_frames - span + 1))


# ---------------------------------------------------------------------------------------- TGANv2
def draw_offsets(rng: np.random.Generator, factors: Sequence[int]) -> np.ndarray:
    """One frame offset per subsampling layer, ``o_l`` uniform in ``[0, f_l)``; int64 ``(L,)``."""
    return np.array([int(rng.integers(0, f)) for f in factors], dtype=np.int64)


def multilevel_frames(num_frames: int, factors: Sequence[int], offsets: Sequence[int]) -> list[np.ndarray]:
    """Frame indices kept at each of the ``L + 1`` levels (nested ``::f`` with an offset per level).

    Level 1 keeps all ``num_frames``; level ``l + 1`` keeps ``idx_l[phase_l::f_l]``.
    E.g. 16 frames, factors (2, 2, 2), offsets (1, 0, 1) -> [0..15], [1,3,..,15], [1,5,9,13], [5,13].
    """
    if len(offsets) != len(factors):
        raise ValueError(f"need one frame offset per factor: factors {tuple(factors)}, offsets {tuple(offsets)}")
    idx = [np.arange(num_frames, dtype=np.int64)]
    for f, o in zip(factors, offsets):
        if not 0 <= o < f:
            raise ValueError(f"frame offset {o} out of range for factor {f}")
        idx.append(idx[-1][o::f])
    return idx


def multilevel_clip(clip_u8: Tensor, factors: Sequence[int], offsets: Sequence[int]) -> list[Tensor]:
    """TGANv2 real multi-level inputs from one clip.

    clip_u8: uint8 ``(C, T, H, W)``. Returns ``L + 1`` float32 tensors; level ``l`` (1-based) is
    ``(C, T_l, H / k_l, W / k_l)`` with ``k_l = 2 ** (L + 1 - l)`` (8, 4, 2, 1 for three factors: the
    generator doubles the resolution at every level whatever the frame factors, e.g. (4, 5, 1) on 20 frames).
    Each level box-averages the **full-resolution** kept frames over non-overlapping
    ``k_l x k_l`` blocks (not a cascade of resizes), in TGANv2's real-data scale ``(u8 - 128) / 128``
    computed in float64 then cast to float32 (matches the official data exactly).
    """
    if clip_u8.dtype != torch.uint8 or clip_u8.ndim != 4:
        raise ValueError(f"expected a uint8 clip (C, T, H, W), got {clip_u8.dtype} {tuple(clip_u8.shape)}")
    c, t, h, w = clip_u8.shape
    k = 2 ** len(factors)
    if h % k or w % k or t % math.prod(factors):
        raise ValueError(
            f"clip of {t} frames of {h}x{w}: the frames must be divisible by prod(subsample_frame) = "
            f"{math.prod(factors)} and the size by 2 ** levels = {k}"
        )
    x = (clip_u8.to(torch.float64) - 128.0) / 128.0
    out = []
    for level, idx in enumerate(multilevel_frames(t, factors, offsets)):
        if level > 0:
            k //= 2
        xl = x[:, torch.from_numpy(idx)]
        # (C, T_l, H, W) -> (C, T_l, H/k, k, W/k, k) -> mean over the k x k block
        xl = xl.reshape(c, len(idx), h // k, k, w // k, k).mean(dim=(3, 5))
        out.append(xl.to(torch.float32))
    return out


def ucf101_draw(
    rng: np.random.Generator, num_frames: int, width: int, frames: int = 16, crop: int = 192, xmargin: int = 4
) -> tuple[int, int, bool]:
    """The three draws of the official TGANv2 ``UCF101Dataset`` in its order: ``(start, x0, flip)``.

    start uniform in ``[0, num_frames - frames)`` (exclusive bound: the last valid start is never
    used, as in the official code); x0 uniform in ``[xmargin, width - crop + 1 - xmargin)``; flip when
    a uniform draw is ``> 0.5``.
    """
    start = int(rng.integers(0, num_frames - frames))
    x0 = int(rng.integers(xmargin, width - crop + 1 - xmargin))
    flip = bool(rng.random() > 0.5)
    return start, x0, flip


def ucf101_crop(video_u8: np.ndarray, start: int, x0: int, flip: bool, frames: int = 16, crop: int = 192) -> Tensor:
    """Official TGANv2 UCF101 clip: uint8 ``(N, C, H, W)`` (HDF5 layout) -> uint8 ``(C, T, crop, crop)``.

    Rows from y0 = 0 (the prepared frames are 192 rows tall), columns from ``x0``, optional mirror.
    """
    clip = video_u8[start : start + frames, :, :crop, x0 : x0 + crop]  # (T, C, crop, crop)
    if flip:
        clip = clip[..., ::-1]
    return torch.from_numpy(np.ascontiguousarray(clip.transpose(1, 0, 2, 3)))


# ------------------------------------------------------------------------------------ StyleGAN-V
def random_times_min_length(num_frames: int, max_dist: int, total_dists: Sequence[int] = STYLEGANV_TOTAL_DISTS) -> int:
    """Shortest video length for which :func:`random_times` can draw ``num_frames`` frames."""
    if num_frames == 1:
        return 1
    ok = [d for d in total_dists if num_frames - 1 <= d <= max_dist]
    if not ok:
        raise ValueError(
            f"random_t: no total span d in {tuple(total_dists)} with {num_frames - 1} <= d <= "
            f"max_dist={max_dist}; "
            "raise max_dist or lower frames"
        )
    return min(ok) + 1


def random_times(
    rng: np.random.Generator,
    length: int,
    num_frames: int = 3,
    max_dist: int = 32,
    total_dists: Sequence[int] = STYLEGANV_TOTAL_DISTS,
) -> np.ndarray:
    """StyleGAN-V ``random`` frame times for a video of usable length ``length``; sorted int64 ``(F,)``.

    1. total span D uniform over {d in total_dists : F - 1 <= d <= min(length - 1, max_dist)};
    2. offset o uniform in [0, length - D - 1];
    3. frames o and o + D plus F - 2 distinct interior o + k, k drawn without replacement from 1..D-1;
    4. sort. ``num_frames == 1`` gives one uniform frame (the ``random_1`` debugging config).
    """
    if num_frames == 1:
        return np.array([int(rng.integers(0, length))], dtype=np.int64)
    dists = [d for d in total_dists if num_frames - 1 <= d <= min(length - 1, max_dist)]
    if not dists:
        raise ValueError(f"random_t: a video of {length} frames is too short for {num_frames} frames")
    d = int(dists[int(rng.integers(0, len(dists)))])
    o = int(rng.integers(0, length - d))
    inner = rng.choice(np.arange(1, d), size=num_frames - 2, replace=False) if num_frames > 2 else []
    return np.sort(np.array([o, o + d, *(o + int(k) for k in inner)], dtype=np.int64))
