"""Frame-level FID over videos (metrics.md §2, §11): TF 2015-12-05 Inception pool3, 2048-d.

Frames: uint8 ``(T, H, W, 3)`` videos; every frame is a sample (StyleGAN-V ``fid50k_full`` style: all real
frames, the first ``num_fake_frames`` generated frames). Preprocessing = TF graph: TF1-legacy bilinear to
299², (x − 128)/128. float64 statistics, unbiased Σ, eigen-based trace of √(Σ₁Σ₂).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidgan.metrics.feature_stats import FeatureStats, load_cached_stats, save_cached_stats, stats_key
from vidgan.metrics.frechet import frechet_distance
from vidgan.metrics.result import MetricResult

__all__ = ["fid_videos", "inception_stats", "load_inception"]

PROTOCOL = {
    "network": "Inception-v3 TF 2015-12-05 graph (pytorch-fid layout), pool3 2048-d",
    "resize": "tf1_legacy_bilinear_299x299",
    "range": "(x-128)/128",
    "unit": "frames",
    "covariance": "unbiased",
    "sqrt_trace": "eigh_symmetric_float64",
}


@lru_cache(maxsize=2)
def _load(path: str, device: str) -> tuple[torch.nn.Module, str]:
    from vidgan.metrics.detectors.inception import load_inception_fid
    from vidgan.metrics.weights import read_sidecar, sha256_file

    p = Path(path)
    return load_inception_fid(p, device), read_sidecar(p).get("sha256") or sha256_file(p)


def load_inception(weights: str | Path | None = None, device: str = "cpu") -> tuple[torch.nn.Module, str]:
    """(Inception in eval mode, weights sha256); default file: the registry's ``inception_fid``."""
    if weights is None:
        from vidgan.metrics.weights import path as weights_path

        weights = weights_path("inception_fid")
    return _load(str(Path(weights).resolve()), str(device))


def _frame_batches(videos: Iterable[np.ndarray], batch_size: int, limit: int | None) -> Iterator[torch.Tensor]:
    buf: list[np.ndarray] = []
    seen = 0
    for i, v in enumerate(videos):
        v = np.asarray(v)
        if v.dtype != np.uint8 or v.ndim != 4 or v.shape[-1] != 3:
            raise ValueError(f"video {i}: expected uint8 (T, H, W, 3), got {v.dtype} {v.shape}")
        for frame in v:
            if limit is not None and seen >= limit:
                break
            buf.append(frame)
            seen += 1
            if len(buf) == batch_size:
                yield torch.from_numpy(np.stack(buf)).permute(0, 3, 1, 2)
                buf = []
        if limit is not None and seen >= limit:
            break
    if buf:
        yield torch.from_numpy(np.stack(buf)).permute(0, 3, 1, 2)


def inception_stats(
    videos: Iterable[np.ndarray],
    model: torch.nn.Module,
    batch_size: int = 32,
    device: str = "cpu",
    limit: int | None = None,
    progress: Any = None,
) -> FeatureStats:
    """Float64 pool3 statistics over all frames (at most ``limit``) of uint8 videos ``(T, H, W, 3)``."""
    from vidgan.metrics.detectors.inception import preprocess_fid

    stats = FeatureStats()  # 2048-d for the real network
    with torch.inference_mode():
        for batch in _frame_batches(videos, batch_size, limit):
            stats.update(model(preprocess_fid(batch.to(device))).double())
            if progress is not None:
                progress.update(batch.shape[0])
    return stats


def fid_videos(
    real: Iterable[np.ndarray],
    fake: Iterable[np.ndarray],
    num_fake_frames: int | None = None,
    num_videos: int | None = None,
    weights: str | Path | None = None,
    batch_size: int = 32,
    device: str = "cpu",
    real_cache_key: Any = None,
    progress_factory: Any = None,
    model: torch.nn.Module | None = None,
) -> MetricResult:
    """Frame-level FID; ``num_fake_frames`` (e.g. 50_000) fixes N_fake, ``num_videos`` caps videos per side.

    ``model`` overrides the loaded network (tests use seeded random weights); its sha256 is then "custom".
    """
    if model is None:
        model, sha = load_inception(weights, device)
    else:
        sha = "custom"

    def cap(vs: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for i, v in enumerate(vs):
            if num_videos is not None and i >= num_videos:
                return
            yield v

    def run(vs: Iterable[np.ndarray], desc: str, limit: int | None) -> FeatureStats:
        bar = progress_factory(desc) if progress_factory else None
        try:
            return inception_stats(cap(vs), model, batch_size, device, limit, bar)
        finally:
            if bar is not None:
                bar.close()

    proto = {**PROTOCOL, "weights_sha256": sha, "num_videos": num_videos}
    real_stats, key = None, None
    if real_cache_key is not None:
        key = stats_key(real_cache_key, sha, proto)
        real_stats = load_cached_stats(key)
    if real_stats is None:
        real_stats = run(real, "FID real", None)
        if key is not None:
            save_cached_stats(key, real_stats, {"dataset": real_cache_key, **proto})
    fake_stats = run(fake, "FID fake", num_fake_frames)
    if num_fake_frames is not None and fake_stats.n < num_fake_frames:
        raise ValueError(f"FID: protocol needs {num_fake_frames} fake frames, only {fake_stats.n} were given")
    fd, info = frechet_distance(real_stats.mean, real_stats.cov(), fake_stats.mean, fake_stats.cov(), return_info=True)
    name = f"fid_{num_fake_frames}" if num_fake_frames else f"fid_{fake_stats.n}"
    protocol = {
        **proto,
        "n_real": real_stats.n,
        "n_fake": fake_stats.n,
        "min_eigenvalue_clipped": info.min_eigenvalue_clipped,
    }
    return MetricResult(name, float(fd), protocol)
