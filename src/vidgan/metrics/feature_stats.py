"""Running feature statistics in float64 and the on-disk cache of real-data statistics.

Features: float ``(n, d)`` batches (any float dtype; accumulated in float64). Batches are merged with
Chan et al.'s pairwise update (mean and centred scatter), so no ``sum x x^T - n mu mu^T`` cancellation.

Cache (metrics.md §11 "caches"): ``$VIDGAN_HOME/stats/<sha256 of the key>.npz``, key = JSON of
(dataset spec, detector weights sha256, protocol); written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vidgan.core.atomic import atomic_write

__all__ = ["FeatureStats", "stats_key", "stats_cache_path", "load_cached_stats", "save_cached_stats"]


class FeatureStats:
    """Accumulates count, mean ``(d,)`` and centred scatter ``(d, d)`` of features, all float64."""

    def __init__(self, dim: int | None = None):
        self.n = 0
        self.dim = dim
        self._mean: np.ndarray | None = None
        self._m2: np.ndarray | None = None

    def update(self, feats: Any) -> None:
        """Add a batch ``(n, d)`` (numpy or torch)."""
        if hasattr(feats, "detach"):
            feats = feats.detach().cpu().double().numpy()
        x = np.asarray(feats, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be (n, d), got shape {x.shape}")
        if self.dim is None:
            self.dim = x.shape[1]
        if x.shape[1] != self.dim:
            raise ValueError(f"feature dimension {x.shape[1]} != {self.dim} of earlier batches")
        nb = x.shape[0]
        if nb == 0:
            return
        mb = x.mean(0)
        xc = x - mb
        m2b = xc.T @ xc
        if self.n == 0:
            self.n, self._mean, self._m2 = nb, mb, m2b
            return
        n = self.n + nb
        delta = mb - self._mean
        self._mean = self._mean + delta * (nb / n)
        self._m2 = self._m2 + m2b + np.outer(delta, delta) * (self.n * nb / n)
        self.n = n

    @property
    def mean(self) -> np.ndarray:
        if self._mean is None:
            raise ValueError("no features accumulated (empty input?)")
        return self._mean

    def cov(self, estimator: Literal["unbiased", "biased"] = "unbiased") -> np.ndarray:
        """Covariance ``(d, d)``: ÷(N−1) (TF-GAN, np.cov) or ÷N (StyleGAN-V's FeatureStats)."""
        if self._m2 is None:
            raise ValueError("no features accumulated (empty input?)")
        denom = self.n - 1 if estimator == "unbiased" else self.n
        if denom <= 0:
            raise ValueError(f"need at least 2 samples for an unbiased covariance, got N = {self.n}")
        return self._m2 / denom

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"n": np.asarray(self.n), "mean": self.mean, "m2": self._m2}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FeatureStats:
        s = cls(int(arrays["mean"].shape[0]))
        s.n = int(arrays["n"])
        s._mean = np.asarray(arrays["mean"], dtype=np.float64)
        s._m2 = np.asarray(arrays["m2"], dtype=np.float64)
        return s


def stats_key(dataset: Any, weights_sha256: str, protocol: dict[str, Any]) -> str:
    """Stable sha256 hex key of (dataset spec, detector weights sha256, protocol)."""
    blob = json.dumps(
        {"dataset": dataset, "weights": weights_sha256, "protocol": protocol}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def stats_cache_path(key: str, root: str | os.PathLike | None = None) -> Path:
    if root is None:
        root = Path(os.environ.get("VIDGAN_HOME") or Path.home() / ".cache" / "vidgan") / "stats"
    return Path(root) / f"{key}.npz"


def load_cached_stats(key: str, root: str | os.PathLike | None = None) -> FeatureStats | None:
    """Cached statistics for ``key`` or None."""
    p = stats_cache_path(key, root)
    if not p.is_file():
        return None
    with np.load(p, allow_pickle=False) as z:
        return FeatureStats.from_arrays({k: z[k] for k in ("n", "mean", "m2")})


def save_cached_stats(
    key: str, stats: FeatureStats, meta: dict[str, Any] | None = None, root: str | os.PathLike | None = None
) -> Path:
    """Write ``stats`` (+ JSON ``meta``) to the cache atomically (temp file in the same dir, os.replace)."""
    p = stats_cache_path(key, root)
    with atomic_write(p) as f:
        np.savez(f, **stats.to_arrays(), meta=np.asarray(json.dumps(meta or {}, default=str)))
    return p
