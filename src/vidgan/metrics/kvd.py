"""Kernel Video Distance: polynomial-kernel MMD² on the FVD features (Unterthiner et al. 2018, FVD paper §4).

KVD uses exactly the clips, preprocessing and network of the FVD protocol it is named after
(``kvd`` <-> ``fvd``, ``kvd_<N>_<F>f``, ``kvd_styleganv_<N>_<F>f[_sub<S>]``, ``kvd_videogpt[_<N>_<F>f]``):
the same features FVD's Gaussians are fitted to, i.e. I3D-K400's 400 **logits**, averaged over time (vidgan's
I3D returns time-mean logits; no softmax). Only the distance differs:

    k(x, y) = (x·y / d + 1)³,  d = 400                       (sklearn ``polynomial_kernel`` defaults)
    MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j) − 2/m² Σ_{i,j} k(x_i, y_j)

(the unbiased estimator of Bińkowski et al. 2018 / KID, also TATS's and DIGAN's ``polynomial_mmd``). The
value is the mean of MMD²_u over ``subsets`` = 100 random subset pairs of ``m = min(n_real, n_fake, 1000)``
clips each, drawn without replacement from ``numpy.random.default_rng(seed)`` (real indices, then fake, per
subset), as StyleGAN2-ADA's KID; the standard deviation over subsets goes into the protocol. When both sides
hold the same number of clips and at most ``subset_size``, every subset would be the whole set, so MMD²_u is
computed once on the whole sets (``subsets`` = 1 in the protocol): then it equals TATS/DIGAN's full-set value.
Reported ×1 (no ×1000 scaling). The estimator is unbiased, so it can be slightly negative for close sets.

Subset sums are computed without forming one kernel matrix per subset: each kernel row block multiplies the
0/1 subset-indicator matrix, so the cost is one pass over the ``n_real x n_fake`` kernel plus an
``n x n x subsets`` product, in float64.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vidgan.metrics.fvd import FVDProtocol, Variant, clip_features, load_i3d
from vidgan.metrics.result import MetricResult

__all__ = ["polynomial_kernel", "mmd2_unbiased", "kvd_from_features", "kvd_name", "kvd"]

DEGREE = 3
COEF0 = 1.0
SUBSETS = 100
SUBSET_SIZE = 1000


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = DEGREE, coef0: float = COEF0) -> np.ndarray:
    """``(x @ y.T / d + coef0) ** degree`` for features ``x (n, d)``, ``y (m, d)``, float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return (x @ y.T / x.shape[1] + coef0) ** degree


def _check(x: Any, which: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"KVD {which} features must be (n, d), got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"KVD needs at least 2 {which} videos (the unbiased estimator drops i = j), got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise ValueError(f"KVD {which} features contain NaN/inf: check the videos")
    return x


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = DEGREE, coef0: float = COEF0) -> float:
    """Unbiased MMD² of features ``x (m, d)`` and ``y (n, d)`` under the polynomial kernel (whole sets)."""
    x, y = _check(x, "real"), _check(y, "fake")
    m, n = len(x), len(y)
    kxx, kyy = polynomial_kernel(x, x, degree, coef0), polynomial_kernel(y, y, degree, coef0)
    kxy = polynomial_kernel(x, y, degree, coef0)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()
    )


def _subset_sums(
    a: np.ndarray, b: np.ndarray, sa: np.ndarray, sb: np.ndarray, degree: int, coef0: float, block: int = 512
) -> np.ndarray:
    """``sa[:, s] @ K(a, b) @ sb[:, s]`` for every subset ``s`` (0/1 indicators ``(n, S)``), in row blocks."""
    out = np.zeros(sa.shape[1])
    for i in range(0, len(a), block):
        k = polynomial_kernel(a[i : i + block], b, degree, coef0)  # (block, n_b)
        out += np.einsum("is,is->s", sa[i : i + block], k @ sb)
    return out


def kvd_from_features(
    real: np.ndarray,
    fake: np.ndarray,
    subsets: int = SUBSETS,
    subset_size: int = SUBSET_SIZE,
    seed: int = 0,
    degree: int = DEGREE,
    coef0: float = COEF0,
) -> tuple[float, dict[str, Any]]:
    """KVD of two feature sets ``(n, d)``: ``(mean MMD²_u over subsets, {"subsets", "subset_size", "std"})``.

    See the module doc for the subset protocol (whole sets when ``n_real == n_fake <= subset_size``).
    """
    x, y = _check(real, "real"), _check(fake, "fake")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"KVD feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    if subsets < 1 or subset_size < 2:
        raise ValueError(f"KVD needs subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
    nx, ny = len(x), len(y)
    m = min(nx, ny, subset_size)
    if nx == ny == m:
        return mmd2_unbiased(x, y, degree, coef0), {"subsets": 1, "subset_size": m, "std": 0.0}
    rng = np.random.default_rng(seed)
    sx, sy = np.zeros((nx, subsets)), np.zeros((ny, subsets))
    for s in range(subsets):
        sx[rng.choice(nx, m, replace=False), s] = 1.0
        sy[rng.choice(ny, m, replace=False), s] = 1.0
    dx = (np.einsum("ij,ij->i", x, x) / x.shape[1] + coef0) ** degree  # k(x_i, x_i)
    dy = (np.einsum("ij,ij->i", y, y) / y.shape[1] + coef0) ** degree
    kxx = _subset_sums(x, x, sx, sx, degree, coef0) - dx @ sx
    kyy = _subset_sums(y, y, sy, sy, degree, coef0) - dy @ sy
    kxy = _subset_sums(x, y, sx, sy, degree, coef0)
    values = (kxx + kyy) / (m * (m - 1)) - 2 * kxy / (m * m)
    return float(values.mean()), {"subsets": subsets, "subset_size": m, "std": float(values.std())}


def kvd_name(proto: FVDProtocol, n: int) -> str:
    """``fvd...`` protocol name -> the matching ``kvd...`` name (``kvd_2048_16f``, ``kvd_videogpt_256_16f``)."""
    return "k" + proto.name(n)[1:]


def kvd(
    real: Iterable[np.ndarray] | Tensor,
    fake: Iterable[np.ndarray] | Tensor,
    frames: int = 16,
    stride: int = 1,
    num: int | None = None,
    variant: Variant = "tf",
    weights: str | Path | None = None,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    bf16: bool = False,
    seed: int = 0,
    subsets: int = SUBSETS,
    subset_size: int = SUBSET_SIZE,
    progress_factory: Any = None,
    feature_cache: dict | None = None,
    cache_tags: tuple[Any, Any] | None = None,
) -> MetricResult:
    """KVD between real and fake uint8 videos under the FVD protocol ``variant``; a :class:`MetricResult` named
    ``kvd...`` like the FVD it accompanies. ``seed`` drives both the styleganv real-clip offsets and the subsets;
    ``feature_cache`` / ``cache_tags`` share the I3D features with an FVD of the same evaluation."""
    proto = FVDProtocol(variant, frames, stride, num, seed)
    model, winfo = load_i3d(weights, proto.bn_eps, device)
    tags = cache_tags or (None, None)
    feats = []
    for side, videos, tag in (("real", real, tags[0]), ("fake", fake, tags[1])):
        _, f = clip_features(
            videos,
            proto,
            model,
            side,
            batch_size=batch_size,
            device=device,
            bf16=bf16,
            progress_factory=progress_factory,
            label="KVD",
            cache=feature_cache,
            cache_tag=tag,
        )
        feats.append(f)
    value, info = kvd_from_features(feats[0], feats[1], subsets, subset_size, seed)
    protocol = {k: v for k, v in proto.as_dict().items() if k not in ("covariance", "sqrt_trace")}
    protocol.update(
        {
            "features": "I3D logits, time-mean, 400-d (the FVD features)",
            "kernel": "polynomial (x.y/d + 1)^3, d = 400",
            "estimator": "unbiased MMD^2 (i != j within sets, all cross pairs)",
            "subsets": info["subsets"],
            "subset_size": info["subset_size"],
            "subset_sampling": "without replacement, numpy default_rng(seed)" if info["subsets"] > 1 else "whole sets",
            "subset_std": info["std"],
            "scale": 1,
            "n_real": len(feats[0]),
            "n_fake": len(feats[1]),
            **winfo,
            "dtype": "bf16_autocast" if bf16 else "fp32",
        }
    )
    if num is not None:
        protocol["n_requested"] = num
    return MetricResult(kvd_name(proto, len(feats[1])), value, protocol)
