"""Video Inception Score with the C3D UCF101 classifier (metrics.md §3, §11; tganv2.md §6.2).

IS = exp(mean_i KL(p(y|x_i) || p(y))), p(y) = mean posterior of the split. Two named protocols, which
are **not comparable** (smaller splits bias IS downwards):

* ``is_c3d_ucf101`` (default, StyleGAN-V ``isv2048_ucf``): 2048 videos, first 16 frames, probabilities
  shuffled with ``np.random.RandomState(42)``, 10 splits of ~205, no epsilon; mean +- std over splits.
* ``is_c3d_ucf101_tganv2`` (TGANv2 ``compute_inception_score.py``): 2048 samples, 1 split, softmax
  + 1e-20, repeated over 10 runs with fresh samples; mean +- std over runs (ddof 0).

Inputs are uint8 video batches ``(B, C, T, H, W)`` (vidgan's storage convention); they are scaled to
[-1, 1] (x/127.5 - 1) for the classifier, as TGANv2 feeds its clipped generator output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np
import torch
from scipy.special import xlogy

from vidgan.metrics.result import MetricResult

__all__ = ["inception_score", "c3d_features", "c3d_probabilities", "isv"]


def inception_score(
    probs: np.ndarray, splits: int = 10, shuffle_seed: int | None = 42, eps: float = 0.0
) -> tuple[float, float]:
    """IS from class posteriors ``probs`` ``(N, K)`` (rows sum to 1): ``(mean, std)`` over ``splits``.

    Split ``i`` is rows ``[i*N//splits, (i+1)*N//splits)`` after an optional in-place-style shuffle with
    ``np.random.RandomState(shuffle_seed)`` (StyleGAN-V: 42; TGANv2: none). ``eps`` is added to the
    probabilities first (TGANv2: 1e-20). float64 throughout; std has ddof 0; 0 log 0 is taken as 0.
    """
    p = np.array(probs, dtype=np.float64, copy=True)
    if p.ndim != 2 or len(p) < splits or splits < 1:
        raise ValueError(f"need probs (N, K) with N >= splits >= 1, got shape {p.shape} and splits={splits}")
    if shuffle_seed is not None:
        np.random.RandomState(shuffle_seed).shuffle(p)
    p = p + eps
    n = len(p)
    scores = []
    for i in range(splits):
        part = p[i * n // splits : (i + 1) * n // splits]
        # part * (log part - log mean) with 0 log 0 = 0: without eps (StyleGAN-V) a float32 softmax that
        # underflows to exactly 0 would otherwise turn the whole score into NaN
        kl = xlogy(part, part) - xlogy(part, np.mean(part, axis=0, keepdims=True))
        scores.append(np.exp(np.mean(np.sum(kl, axis=1))))
    return float(np.mean(scores)), float(np.std(scores))


@torch.no_grad()
def c3d_features(
    videos: Iterable[np.ndarray | torch.Tensor],
    classifier: torch.nn.Module,
    num_videos: int,
    layer: Literal["fc7", "fc8", "prob"] = "prob",
    n_frames: int = 16,
) -> np.ndarray:
    """C3D outputs ``(num_videos, D)`` float64 of the first ``num_videos`` videos.

    ``videos`` yields uint8 batches ``(B, 3, T, H, W)`` with T >= 16; the first 16 frames are used, scaled
    x/127.5 - 1. ``layer="fc7"`` gives the 4096-d feature of TGANv2's C3D "FID" (``fid_c3d_fc7_tganv2``:
    ``np.cov`` ddof 1 + Fréchet distance, see ``vidgan.metrics.frechet``); ``"prob"`` the IS posterior.
    Videos left in the last batch beyond ``num_videos`` are dropped.
    """
    dev = next(classifier.parameters()).device
    out: list[np.ndarray] = []
    seen = 0
    for batch in videos:
        x = torch.as_tensor(batch)
        if x.dtype != torch.uint8 or x.ndim != 5 or x.shape[1] != 3:
            raise ValueError(f"expected uint8 video batches (B, 3, T, H, W), got {x.dtype} {tuple(x.shape)}")
        if x.shape[2] < n_frames:
            raise ValueError(f"C3D needs {n_frames} frames per video, got T={x.shape[2]}")
        x = x[:, :, :n_frames][: num_videos - seen].to(dev)
        xf = x.float() / 127.5 - 1.0
        out.append(classifier(xf, layer).double().cpu().numpy())
        seen += len(x)
        if seen >= num_videos:
            break
    if seen < num_videos:
        raise ValueError(f"the video iterator ended after {seen} videos; {num_videos} are needed")
    return np.concatenate(out)


def c3d_probabilities(
    videos: Iterable[np.ndarray | torch.Tensor],
    classifier: torch.nn.Module,
    num_videos: int,
    n_frames: int = 16,
) -> np.ndarray:
    """Softmax posteriors ``(num_videos, K)`` float64: :func:`c3d_features` with ``layer="prob"``."""
    return c3d_features(videos, classifier, num_videos, "prob", n_frames)


def isv(
    videos_uint8_iter: Iterable[np.ndarray | torch.Tensor],
    classifier: torch.nn.Module,
    splits: int | None = None,
    n_runs: int | None = None,
    protocol: Literal["styleganv", "tganv2"] = "styleganv",
    num_videos: int = 2048,
) -> MetricResult:
    """Video IS with C3D UCF101 (``vidgan.metrics.detectors.c3d.C3DUCF101``).

    Args:
        videos_uint8_iter: uint8 batches ``(B, 3, T, H, W)``; ``num_videos * n_runs`` videos are consumed
            (each TGANv2 run uses fresh samples).
        classifier: the C3D (``forward(x, "prob")``).
        splits / n_runs: default 10 / 1 (StyleGAN-V) or 1 / 10 (TGANv2); other values are allowed and
            recorded.
        protocol: ``"styleganv"`` (shuffle seed 42, no eps, std over splits) or ``"tganv2"`` (no shuffle,
            eps 1e-20, std over runs).
        num_videos: videos per run (2048 in both papers).

    Returns:
        ``MetricResult`` named ``is_c3d_ucf101`` or ``is_c3d_ucf101_tganv2``; ``protocol["std"]`` holds the
        spread (over splits for a single run, else over runs).
    """
    if protocol == "styleganv":
        splits, n_runs = splits or 10, n_runs or 1
        seed, eps, name = 42, 0.0, "is_c3d_ucf101"
    elif protocol == "tganv2":
        splits, n_runs = splits or 1, n_runs or 10
        seed, eps, name = None, 1e-20, "is_c3d_ucf101_tganv2"
    else:
        raise ValueError(f"protocol must be 'styleganv' or 'tganv2', got {protocol!r}")
    it: Iterator = iter(videos_uint8_iter)
    run_means, run_stds = [], []
    for _ in range(n_runs):
        probs = c3d_probabilities(it, classifier, num_videos)
        m, s = inception_score(probs, splits=splits, shuffle_seed=seed, eps=eps)
        run_means.append(m)
        run_stds.append(s)
    value = float(np.mean(run_means))
    std = float(np.std(run_means)) if n_runs > 1 else run_stds[0]
    return MetricResult(
        name,
        value,
        {
            "protocol": protocol,
            "classifier": "C3D v1 UCF101 (TGANv2 conv3d_deepnetA_ucf.npz), softmax of fc8",
            "weights_sha256": getattr(classifier, "weights_sha256", None),
            "mean_sha256": getattr(classifier, "mean_sha256", None),
            "num_videos": num_videos,
            "frames": "first 16",
            "input": "uint8 -> x/127.5-1 -> BGRx128, bilinear align_corners 112^2, +128-mean[8:120,8:120]",
            "splits": splits,
            "n_runs": n_runs,
            "shuffle": f"np.random.RandomState({seed})" if seed is not None else "none",
            "eps": eps,
            "std": std,
            "std_over": "runs" if n_runs > 1 else "splits",
            "run_means": run_means,
        },
    )
