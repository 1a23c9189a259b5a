"""Temporal metrics tOF and tLP, TecoGAN protocol (tecogan.md §8, metrics.md §5.1).

* ``tof_teco``: OpenCV RGB->GRAY of frames t-1 and t (ground truth and output separately), dense
  Farnebäck flow t-1 -> t with TecoGAN's parameters (pyr_scale 0.5, levels 3, winsize 15,
  iterations 3, poly_n 5, poly_sigma 1.2, flags 0) on the **uncropped** frames, then ``crop_8x8`` of both
  flow fields, per-pixel Euclidean norm of the flow difference (the script's comment says "l1"; the
  code computes the 2-norm), mean over pixels. Raw value (the paper prints x10).
* ``tlp_teco``: 100 * |LPIPS(gt_{t-1}, gt_t) - LPIPS(out_{t-1}, out_t)| on ``crop_8x8``-cropped frames.

Frames are ``(H, W, 3)`` RGB uint8. Sequence-level frame selection (skip 2 frames at each end) is in
``vidgan.metrics.vsr``.

Speed: Farnebäck is the whole cost of tOF. :func:`tof_teco_sequence` (and :class:`TofPairs`, which
``vidgan.metrics.vsr`` feeds frame by frame) converts each frame to grey once and computes the two flows of
every pair on a thread pool (OpenCV releases the GIL; ``workers`` threads, default torch's intra-op thread
count). The values are bit-identical to :func:`tof_teco` per pair: the same OpenCV calls on the same arrays.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import cv2
import numpy as np
import torch

from vidgan.metrics.psnr_ssim import crop_8x8

__all__ = [
    "FARNEBACK_TECO",
    "grey",
    "farneback_flow",
    "tof_teco",
    "tof_teco_from_grey",
    "tof_teco_sequence",
    "TofPairs",
    "flow_workers",
    "tlp_teco",
]

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
    _check_pair(prev_gt, cur_gt, prev_out, cur_out)
    return _tof_from_flows(farneback_flow(prev_gt, cur_gt), farneback_flow(prev_out, cur_out), crop)


def _check_pair(prev_gt: np.ndarray, cur_gt: np.ndarray, prev_out: np.ndarray, cur_out: np.ndarray) -> None:
    if prev_gt.shape != cur_gt.shape or prev_out.shape != cur_out.shape or prev_gt.shape != prev_out.shape:
        raise ValueError(
            "tof_teco: all four frames must have the same size, got "
            f"{prev_gt.shape}, {cur_gt.shape}, {prev_out.shape}, {cur_out.shape}"
        )


def _tof_from_flows(f_gt: np.ndarray, f_out: np.ndarray, crop: bool) -> float:
    if crop:
        f_gt, f_out = crop_8x8(f_gt), crop_8x8(f_out)
    d = np.absolute(f_gt - f_out)  # float32, like the script
    return float(np.sqrt(np.sum(d * d, axis=-1)).mean())


def flow_workers(workers: int | None = None) -> int:
    """Threads for the Farnebäck flows: ``workers`` when given (>= 1), else ``torch.get_num_threads()``
    (so ``OMP_NUM_THREADS`` / ``torch.set_num_threads`` bound both)."""
    n = torch.get_num_threads() if workers is None else int(workers)
    if n < 1:
        raise ValueError(f"workers must be >= 1, got {n}")
    return n


class TofPairs:
    """tOF of frame pairs submitted one at a time, in submission order; the two flows of each pair run on a
    thread pool of ``workers`` threads (1: inline, no pool). At most ``2 * workers`` pairs are in flight
    (their flows are then resolved to values), so memory does not grow with the sequence length.

    Use as a context manager (shuts the pool down)::

        with TofPairs(workers=2) as tof:
            for t in range(1, n):
                tof.submit(g_gt[t - 1], g_gt[t], g_out[t - 1], g_out[t])  # (H, W) uint8 grey frames
            values = tof.values()
    """

    def __init__(self, workers: int | None = None, crop: bool = True) -> None:
        self.workers = flow_workers(workers)
        self.crop = crop
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="tof") if self.workers > 1 else None
        self._pending: deque[tuple[Future, Future]] = deque()
        self._values: list[float] = []

    def submit(self, prev_gt: np.ndarray, cur_gt: np.ndarray, prev_out: np.ndarray, cur_out: np.ndarray) -> None:
        """Queue one pair of ``(H, W)`` uint8 grey frames (ground truth t-1, t; output t-1, t)."""
        _check_pair(prev_gt, cur_gt, prev_out, cur_out)
        if self._pool is None:
            f_gt, f_out = farneback_flow(prev_gt, cur_gt), farneback_flow(prev_out, cur_out)
            self._values.append(_tof_from_flows(f_gt, f_out, self.crop))
            return
        self._pending.append(
            (self._pool.submit(farneback_flow, prev_gt, cur_gt), self._pool.submit(farneback_flow, prev_out, cur_out))
        )
        while len(self._pending) > 2 * self.workers:
            self._resolve_oldest()

    def _resolve_oldest(self) -> None:
        f_gt, f_out = self._pending.popleft()
        self._values.append(_tof_from_flows(f_gt.result(), f_out.result(), self.crop))

    def values(self) -> list[float]:
        """Every submitted pair's tOF (waits for the pending flows)."""
        while self._pending:
            self._resolve_oldest()
        return list(self._values)

    def close(self) -> None:
        if self._pool is not None:
            for pair in self._pending:
                for f in pair:
                    f.cancel()
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> TofPairs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tof_teco_sequence(
    gt_frames: Sequence[np.ndarray], out_frames: Sequence[np.ndarray], crop: bool = True, workers: int | None = None
) -> list[float]:
    """tOF of every consecutive pair ``(t-1, t)`` of two RGB uint8 ``(H, W, 3)`` sequences (len - 1 values,
    each equal to :func:`tof_teco` of that pair); each frame is converted to grey once, flows run on
    ``workers`` threads (default: torch's intra-op thread count)."""
    if len(gt_frames) != len(out_frames):
        raise ValueError(f"tof_teco_sequence: {len(gt_frames)} ground-truth frames but {len(out_frames)} outputs")
    g_gt = [grey(f) for f in gt_frames]
    g_out = [grey(f) for f in out_frames]
    with TofPairs(workers, crop) as tof:
        for t in range(1, len(g_gt)):
            tof.submit(g_gt[t - 1], g_gt[t], g_out[t - 1], g_out[t])
        return tof.values()


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
