"""Typed data options (filled by the lead's config loader from YAML / dotted overrides)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DataConfig"]


@dataclass(frozen=True)
class DataConfig:
    """Where real clips come from and how they are cut.

    ``source`` is a path (folder of videos / frame folders, a ``.zip`` in StyleGAN-V layout, TGANv2's official
    ``.h5`` with its ``.json`` beside it, or one video file) or an embedded dataset name (``moving-digits``,
    ``bouncing-shapes``, ``photo-pans``, ``detail-pans``, ``sharp-pans``, ...: ``vidgan.data.synthetic``),
    optionally with options: ``"moving-digits:num_videos=64,video_frames=24"``.
    """

    source: str = "moving-digits"  # path or embedded dataset name (see vidgan.data.synthetic)
    sampler: str = "clips"  # clips | multilevel | random_t | paired | translation | a family's own (its SAMPLERS)
    frames: int = 16  # clip length T (random_t: frames per video F)
    size: int = 64  # output H = W after resize/crop
    stride: int = 1  # frame step inside a contiguous clip
    resize: Literal["short_side", "none"] = "short_side"  # short side -> size (area down, cubic up)
    crop: Literal["center", "random", "none"] = "center"
    hflip: bool = False  # random horizontal flip, one draw per clip
    subsample_frame: tuple[int, ...] = (2, 2, 2)  # multilevel (TGANv2 §4.2): nested subsampling factors
    max_dist: int = 32  # random_t (StyleGAN-V §4): largest total span D between first and last frame
    scale: int = 4  # paired: HR / LR factor
    degradation: Literal["bd", "bi"] = "bd"  # paired: blur-downsample (TecoGAN) or bicubic
    sigma: float = 1.5  # paired: Gaussian sigma of the BD kernel
    val_fraction: float = 0.1  # deterministic split (hash of relative path; every k-th synthetic video)
    num_videos: int = 256  # embedded synthetic datasets: how many videos
    video_frames: int = 32  # embedded synthetic datasets: frames per video
    strict: bool = False  # bad files: raise (True) or skip with one warning summary (False)
    num_workers: int = 0  # DataLoader workers (used by the engine / cli)
    target: str = ""  # translation: the target-domain source (path or embedded name), like `source`
    pairing: Literal["paired", "unpaired"] = "paired"  # translation: aligned by relative name, or independent
    source_interp: Literal["area", "nearest"] = "area"  # translation: resizing of the source frames; "nearest"
    #                                                      keeps label maps' palettes (the target always uses area)
