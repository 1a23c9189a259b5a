"""The one video convention of vidgan, written once.

Storage, datasets and metrics:
    one video    uint8 ``(T, H, W, C)``   (what decoders return and encoders take)
    a batch      uint8 ``(B, C, T, H, W)``
Models:
    float ``(B, C, T, H, W)`` in ``[-1, 1]``

Only :func:`to_model` and :func:`to_uint8` convert between the two; :func:`fold_time` and
:func:`unfold_time` are the only reshapes between video and per-frame image layouts.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "to_model",
    "to_uint8",
    "fold_time",
    "unfold_time",
    "video_to_batch",
    "batch_to_videos",
    "check_video_batch",
]


def to_model(video: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """uint8 ``(B, C, T, H, W)`` in [0, 255] -> float ``(B, C, T, H, W)`` in [-1, 1] (x / 127.5 - 1)."""
    if video.dtype != torch.uint8:
        raise TypeError(f"to_model expects a uint8 video batch, got {video.dtype}")
    return video.to(dtype) / 127.5 - 1.0


def to_uint8(video: Tensor) -> Tensor:
    """float ``(B, C, T, H, W)`` in [-1, 1] -> uint8 in [0, 255], rounded to nearest and clipped."""
    if not video.is_floating_point():
        raise TypeError(f"to_uint8 expects a float video batch, got {video.dtype}")
    return ((video.detach().float() + 1.0) * 127.5).round().clamp_(0, 255).to(torch.uint8)


def fold_time(x: Tensor) -> Tensor:
    """``(B, C, T, H, W)`` -> ``(B*T, C, H, W)``, rows ordered batch-major (row = b*T + t)."""
    b, c, t, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)


def unfold_time(x: Tensor, t: int) -> Tensor:
    """``(B*T, C, H, W)`` (batch-major) -> ``(B, C, T, H, W)``; inverse of :func:`fold_time`."""
    bt, c, h, w = x.shape
    if bt % t:
        raise ValueError(f"cannot unfold {bt} frames into clips of {t}")
    return x.reshape(bt // t, t, c, h, w).permute(0, 2, 1, 3, 4)


def video_to_batch(videos: list[np.ndarray] | np.ndarray) -> Tensor:
    """Stored videos, each uint8 ``(T, H, W, C)``, -> uint8 batch ``(B, C, T, H, W)``."""
    arr = np.stack(list(videos)) if isinstance(videos, list) else np.asarray(videos)
    if arr.ndim == 4:
        arr = arr[None]
    if arr.dtype != np.uint8 or arr.ndim != 5:
        raise ValueError(f"expected uint8 videos (T, H, W, C), got {arr.dtype} {arr.shape}")
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 4, 1, 2, 3)))


def batch_to_videos(batch: Tensor) -> list[np.ndarray]:
    """uint8 batch ``(B, C, T, H, W)`` -> list of uint8 ``(T, H, W, C)`` numpy videos."""
    check_video_batch(batch, dtype=torch.uint8)
    return [np.ascontiguousarray(v) for v in batch.permute(0, 2, 3, 4, 1).cpu().numpy()]


def check_video_batch(batch: Tensor, dtype: torch.dtype | None = None, channels: int | None = None) -> None:
    """Raise ``ValueError`` unless ``batch`` is ``(B, C, T, H, W)`` (optionally of a dtype / channel count)."""
    if batch.ndim != 5:
        raise ValueError(f"expected a video batch (B, C, T, H, W), got shape {tuple(batch.shape)}")
    if dtype is not None and batch.dtype != dtype:
        raise ValueError(f"expected dtype {dtype}, got {batch.dtype}")
    if channels is not None and batch.shape[1] != channels:
        raise ValueError(f"expected {channels} channels, got {batch.shape[1]} (shape {tuple(batch.shape)})")
