"""Embedded *paired* translation data: condition videos derived frame by frame from an embedded set.

The derived set ``<name>`` renders video i of its base set and maps every frame, so with the same seed,
``num_videos`` and ``video_frames`` the translation sampler pairs condition video i with base video i (data
``source`` = the derived name, ``target`` = the base name, ``pairing=paired``):

* ``bouncing-shapes-labels``: colour-coded label maps of ``bouncing-shapes`` (Cityscapes palette colours,
  like TimeCycleGAN's DeepLab label maps): background -> road, each shape -> a class picked by its hue.
* ``moving-digits-edges``: Canny edge maps of ``moving-digits`` (pix2pix's edges -> image task).

Derived frames are pure functions of the base frames (no randomness of their own). Label maps use a few
flat palette colours and are rendered at the target size: resize them with nearest neighbour only.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = ["DERIVED", "label_maps", "edge_maps", "CITYSCAPES_COLOURS"]

# a few Cityscapes palette entries (road, car, vegetation, sky, traffic sign, person, building)
CITYSCAPES_COLOURS = {
    "road": (128, 64, 128),
    "car": (0, 0, 142),
    "vegetation": (107, 142, 35),
    "sky": (70, 130, 180),
    "traffic sign": (220, 220, 0),
    "person": (220, 20, 60),
    "building": (70, 70, 70),
}
_BY_HUE = ("person", "traffic sign", "vegetation", "sky", "car", "building")  # hue sextants from red


def label_maps(frames: np.ndarray, threshold: int = 24) -> np.ndarray:
    """uint8 (T, H, W, 3) RGB -> uint8 (T, H, W, 3) colour label maps (see the module docstring)."""
    frames = np.asarray(frames, dtype=np.uint8)
    out = np.empty_like(frames)
    for t, img in enumerate(frames):
        border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]], 0)
        bg = np.median(border, axis=0)
        fg = np.abs(img.astype(np.int16) - bg.astype(np.int16)).max(-1) > threshold
        hue = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2HSV_FULL)[..., 0].astype(np.int32)
        sextant = np.clip(((hue + 21) % 256) * 6 // 256, 0, 5)
        palette = np.array([CITYSCAPES_COLOURS[n] for n in _BY_HUE], np.uint8)
        lab = np.empty_like(img)
        lab[:] = CITYSCAPES_COLOURS["road"]
        lab[fg] = palette[sextant[fg]]
        out[t] = lab
    return out


def edge_maps(frames: np.ndarray, low: int = 50, high: int = 150) -> np.ndarray:
    """uint8 (T, H, W, 3) RGB -> uint8 (T, H, W, 3) white Canny edges on black."""
    frames = np.asarray(frames, dtype=np.uint8)
    out = np.empty_like(frames)
    for t, img in enumerate(frames):
        e = cv2.Canny(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY), low, high)
        out[t] = e[..., None]
    return out


# derived name -> (base embedded set, frame mapping)
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "bouncing-shapes-labels": ("bouncing-shapes", label_maps),
    "moving-digits-edges": ("moving-digits", edge_maps),
}
