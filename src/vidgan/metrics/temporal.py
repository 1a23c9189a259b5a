"""Temporal metrics tOF and tLP, TecoGAN protocol (tecogan.md §8, metrics.md §5.1).

* ``tof_teco``: OpenCV RGB->GRAY of frames t-1 and t (ground truth and output separately), dense
  Farnebäck flow t-1 -> t with TecoGAN's parameters (pyr_scale 0.5, levels 3, winsize 15,
  iterations 3, poly_n 5, poly_sigma 1.2, flags 0) on the **uncropped** frames, then ``crop_8x8`` of both
  flow fields, per-pixel Euclidean norm of the flow difference (the script's comment says "l1"; the
  code computes the 2-norm), mean over pixels. Raw value (the paper prints x10).
* ``tlp_teco``: 100 * |LPIPS(gt_{t-1}, gt_t) - LPIPS(out_{t-1}, out_t)| on ``crop_8x8``-cropped frames.

Frames are ``(H, W, 3)`` RGB uint8. Sequence-level frame selection (skip 2 frames at each end) is in
``vidgan.metrics.vsr``.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from vidgan.metrics.psnr_ssim import crop_8x8

__all__ = ["FARNEBACK_TECO", "grey", "farneback_flow", "tof_teco", "tof_teco_from_grey", "tlp_teco"]

# TecoGAN metrics.py: cv2.calcOpticalFlowFarneback(prev, next, None, 0.5, 3, 15, 3, 5, 1.2, 0)
FARNEBACK_TECO: dict[str, float | int] = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 15,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.2,
    "flags": 0,
}


def grey(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB uint8 -> ``(H, W)`` uint8 grey with OpenCV's RGB2GRAY (as the script)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {rgb.dtype} {rgb.shape}")
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def farneback_flow(prev_grey: np.ndarray, cur_grey: np.ndarray) -> np.ndarray:
    """Dense flow prev -> cur, ``(H, W, 2)`` float32 (dx, dy), TecoGAN's Farnebäck parameters."""
    p = FARNEBACK_TECO
    return cv2.calcOpticalFlowFarneback(
        prev_grey,
        cur_grey,
        None,
        p["pyr_scale"],
        p["levels"],
        p["winsize"],
        p["iterations"],
        p["poly_n"],
        p["poly_sigma"],
        p["flags"],
    )


def tof_teco_from_grey(
    prev_gt: np.ndarray, cur_gt: np.ndarray, prev_out: np.ndarray, cur_out: np.ndarray, crop: bool = True
) -> float:
    """tOF of one frame pair from ``(H, W)`` uint8 grey frames (flows cropped after computation)."""
    if prev_gt.shape != cur_gt.shape or prev_out.shape != cur_out.shape or prev_gt.shape != prev_out.shape:
        raise ValueError(
            "tof_teco: all four frames must have the same size, got "
            f"{prev_gt.shape}, {cur_gt.shape}, {prev_out.shape}, {cur_out.shape}"
        )
    f_gt = farneback_flow(prev_gt, cur_gt)
    f_out = farneback_flow(prev_out, cur_out)
    if crop:
        f_gt, f_out = crop_8x8(f_gt), crop_8x8(f_out)
    d = np.absolute(f_gt - f_out)  # float32, like the script
    return float(np.sqrt(np.sum(d * d, axis=-1)).mean())


def tof_teco(
    prev_gt: np.ndarray, cur_gt: np.ndarray, prev_out: np.ndarray, cur_out: np.ndarray, crop: bool = True
) -> float:
    """tOF of one pair of RGB uint8 ``(H, W, 3)`` frames (ground truth t-1, t; output t-1, t). 0 is best."""
    return tof_teco_from_grey(grey(prev_gt), grey(cur_gt), grey(prev_out), grey(cur_out), crop=crop)


def tlp_teco(
    lpips_fn: Callable[[np.ndarray, np.ndarray], float],
    prev_gt: np.ndarray,
    cur_gt: np.ndarray,
    prev_out: np.ndarray,
    cur_out: np.ndarray,
) -> float:
    """tLP ("tLP100") of one pair: 100 * |LPIPS(gt_{t-1}, gt_t) - LPIPS(out_{t-1}, out_t)|.

    ``lpips_fn`` maps two RGB uint8 frames (already ``crop_8x8``-cropped by the caller, as the script
    does) to a float, e.g. ``vidgan.metrics.lpips.LPIPS.frame_distance``.
    """
    return float(abs(lpips_fn(prev_gt, cur_gt) - lpips_fn(prev_out, cur_out)) * 100.0)
