"""Clip-consistent transforms on stored videos uint8 ``(T, H, W, 3)``.

Every random choice is one draw per clip (never per frame), taken from the ``numpy.random.Generator``
the caller passes, so a clip stays temporally coherent and reproducible from its seed.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

__all__ = ["resize_short_side", "crop_clip", "hflip_clip", "apply_clip_transforms"]


def resize_short_side(clip: np.ndarray, size: int, down: Literal["area", "cubic", "nearest"] = "area") -> np.ndarray:
    """uint8 ``(T, H, W, C)`` -> uint8 ``(T, H', W', C)`` with ``min(H', W') == size``, aspect kept.

    Downscaling uses ``INTER_AREA`` (no aliasing) or, with ``down="cubic"``, ``INTER_CUBIC`` as TGANv2's
    official UCF101 script did; upscaling uses ``INTER_CUBIC``. ``down="nearest"`` uses nearest neighbour both
    ways: label maps keep their palette (TimeCycleGAN's resize invented colours that are no class, spec §10).
    """
    t, h, w, c = clip.shape
    if min(h, w) == size:
        return clip
    if h <= w:
        nh, nw = size, max(size, round(w * size / h))
    else:
        nh, nw = max(size, round(h * size / w)), size
    if down == "nearest":
        interp = cv2.INTER_NEAREST
    else:
        interp = cv2.INTER_AREA if nh < h and down == "area" else cv2.INTER_CUBIC
    out = np.empty((t, nh, nw, c), np.uint8)
    for i in range(t):
        out[i] = cv2.resize(clip[i], (nw, nh), interpolation=interp).reshape(nh, nw, c)
    return out


def crop_clip(
    clip: np.ndarray,
    size: int,
    mode: Literal["center", "random", "none"],
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Square ``size`` crop of uint8 ``(T, H, W, C)``; ``random`` draws (y0, x0) once from ``rng``."""
    if mode == "none":
        return clip
    t, h, w, _ = clip.shape
    if h < size or w < size:
        raise ValueError(f"cannot crop {size}x{size} from frames of {h}x{w}; enable resize='short_side'")
    if mode == "center":
        y0, x0 = (h - size) // 2, (w - size) // 2
    elif mode == "random":
        if rng is None:
            raise ValueError("crop='random' needs a numpy Generator")
        y0, x0 = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    else:
        raise ValueError(f"unknown crop mode {mode!r}; use center, random or none")
    return clip[:, y0 : y0 + size, x0 : x0 + size]


def hflip_clip(clip: np.ndarray) -> np.ndarray:
    """Mirror every frame of uint8 ``(T, H, W, C)`` left-right."""
    return clip[:, :, ::-1]


def apply_clip_transforms(
    clip: np.ndarray,
    size: int,
    resize: Literal["short_side", "none"],
    crop: Literal["center", "random", "none"],
    hflip: bool,
    rng: np.random.Generator,
    interp: Literal["area", "nearest"] = "area",
) -> np.ndarray:
    """Resize short side, crop, then (p = 0.5, one draw) flip. Draw order: crop (y0, x0), then flip."""
    if resize == "short_side":
        clip = resize_short_side(clip, size, down=interp)
    clip = crop_clip(clip, size, crop, rng)
    if hflip and rng.random() > 0.5:
        clip = hflip_clip(clip)
    return np.ascontiguousarray(clip)
