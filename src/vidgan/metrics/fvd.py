"""Fréchet Video Distance: canonical TF-reference protocol and labelled variants (metrics.md §1).

Inputs: videos as uint8 numpy ``(T, H, W, 3)`` (an iterable of them) or a uint8 batch ``(B, 3, T, H, W)``.

Canonical ``fvd`` (§1.5): TF-Hub I3D-K400 (BN eps 1e-3, TF SAME padding), TF1-legacy bilinear straight
to 224², 2x/255 − 1, ``frames`` (16) consecutive frames from t = 0 with ``stride``, 400-d time-averaged
logits, float64 statistics, unbiased Σ, eigen-based trace of √(Σ₁Σ₂).

Variants (never called plain "fvd"):
- ``styleganv``: PyTorch bilinear (align_corners=False) to 224², biased Σ (÷N), real clips at a seeded
  random offset (videos too short are skipped), fakes from t = 0 (universome/stylegan-v).
- ``videogpt``: BN eps 1e-5 (the VideoGPT/TATS port; same TF-Hub tensors), short side → 224 (ceil) with
  PyTorch bilinear + centre crop, unbiased Σ.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vidgan.core.video import fold_time, unfold_time
from vidgan.metrics.feature_stats import FeatureStats, load_cached_stats, save_cached_stats, stats_key
from vidgan.metrics.frechet import frechet_distance
from vidgan.metrics.result import MetricResult
from vidgan.nn.resize import resize_tf1_bilinear

__all__ = [
    "Variant",
    "FVDProtocol",
    "preprocess",
    "load_i3d",
    "sample_clips",
    "i3d_stats",
    "clip_features",
    "fvd",
    "fvd_from_stats",
]

Variant = Literal["tf", "styleganv", "videogpt"]


@dataclass(frozen=True)
class FVDProtocol:
    """Everything that changes an FVD value; ``as_dict`` goes into every result."""

    variant: Variant = "tf"
    frames: int = 16
    stride: int = 1
    num: int | None = None  # videos per side; None = all given
    seed: int = 0  # only for random real-clip offsets (styleganv)

    @property
    def bn_eps(self) -> float:
        return 1e-5 if self.variant == "videogpt" else 1e-3

    @property
    def resize(self) -> str:
        return {
            "tf": "tf1_legacy_bilinear_direct_224x224",
            "styleganv": "torch_bilinear_align_corners_false_direct_224x224",
            "videogpt": "torch_bilinear_short_side_224_ceil_center_crop",
        }[self.variant]

    @property
    def covariance(self) -> Literal["unbiased", "biased"]:
        return "biased" if self.variant == "styleganv" else "unbiased"

    @property
    def real_sampling(self) -> str:
        return "random_offset_seeded_skip_short" if self.variant == "styleganv" else "from_t0"

    def name(self, n: int) -> str:
        prefix = {"tf": "fvd", "styleganv": "fvd_styleganv", "videogpt": "fvd_videogpt"}[self.variant]
        sub = f"_sub{self.stride}" if self.stride > 1 else ""
        frames_span = self.frames * self.stride if self.stride > 1 else self.frames
        return f"{prefix}_{n}_{frames_span}f{sub}"

    def as_dict(self) -> dict[str, Any]:
        note = {}
        if self.variant == "videogpt":
            note["weights_note"] = "VideoGPT's i3d_pretrained_400.pt is a conversion of the TF-Hub tensors (gamma=1)"
        elif self.variant == "styleganv":
            note["weights_note"] = "TF-Hub tensors in vidgan's I3D; StyleGAN-V's TorchScript resize reproduced"
        return {
            **note,
            "variant": self.variant,
            "network": "I3D RGB Kinetics-400 (TF-Hub deepmind/i3d-kinetics-400/1), logits time-mean, 400-d",
            "bn_eps": self.bn_eps,
            "padding": "tf_same",
            "resize": self.resize,
            "range": "2x/255-1",
            "frames": self.frames,
            "stride": self.stride,
            "clip_sampling_real": self.real_sampling,
            "clip_sampling_fake": "from_t0",
            "covariance": self.covariance,
            "sqrt_trace": "eigh_symmetric_float64",
        }


def preprocess(videos: Tensor, variant: Variant = "tf") -> Tensor:
    """uint8 ``(B, 3, T, H, W)`` -> float32 ``(B, 3, T, 224, 224)`` in [-1, 1] per the variant."""
    if videos.dtype != torch.uint8 or videos.ndim != 5 or videos.shape[1] != 3:
        raise ValueError(f"FVD expects uint8 RGB videos (B, 3, T, H, W), got {videos.dtype} {tuple(videos.shape)}")
    t = videos.shape[2]
    x = fold_time(videos).float()  # (B*T, 3, H, W), 0..255
    h, w = x.shape[-2:]
    if variant == "tf":
        x = resize_tf1_bilinear(x, (224, 224))
    elif variant == "styleganv":
        x = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
    elif variant == "videogpt":
        s = 224 / min(h, w)
        nh, nw = math.ceil(h * s), math.ceil(w * s)
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
        top, left = (nh - 224) // 2, (nw - 224) // 2
        x = x[..., top : top + 224, left : left + 224]
    else:
        raise ValueError(f"unknown FVD variant '{variant}' (tf, styleganv, videogpt)")
    return unfold_time(2.0 * x / 255.0 - 1.0, t)  # the reference op order: 2. * x / 255. - 1


@lru_cache(maxsize=4)
def _load_i3d_cached(path: str, eps: float, device: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    from vidgan.metrics.detectors.i3d import I3D, convert_piergiaj
    from vidgan.metrics.weights import read_sidecar, sha256_file

    p = Path(path)
    if p.suffix == ".safetensors":
        from safetensors import safe_open

        from vidgan.io.safe_load import load_tensors

        sd = load_tensors(p, "I3D weights")
        with safe_open(str(p), "pt") as f:
            meta = f.metadata() or {}
        info = {"weights_file": p.name, "weights_sha256": read_sidecar(p).get("sha256") or sha256_file(p)}
        if "source_sha256" in meta:
            info["weights_source_sha256"] = meta["source_sha256"]
    else:  # VideoGPT/TATS i3d_pretrained_400.pt (piergiaj layout)
        from vidgan.io.safe_load import load_torch

        sd, _ = convert_piergiaj(load_torch(p, "I3D weights"))
        info = {"weights_file": p.name, "weights_sha256": sha256_file(p)}
    model = I3D(eps=eps)
    model.load_state_dict(sd, strict=True)
    model.fuse_()  # BN folded + 1x1x1 branch convs merged: same logits to float rounding, faster
    return model.eval().requires_grad_(False).to(device), info


def load_i3d(
    weights: str | Path | None = None, eps: float = 1e-3, device: str | torch.device = "cpu"
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """I3D with weights from ``weights`` (safetensors or piergiaj ``.pt``) or the cache (``i3d_k400_tfhub``).

    Returns ``(model in eval mode, {"weights_file", "weights_sha256", ...})``; cached per (path, eps, device).
    """
    if weights is None:
        from vidgan.metrics.weights import path as weights_path

        weights = weights_path("i3d_k400_tfhub")
    return _load_i3d_cached(str(Path(weights).resolve()), float(eps), str(device))


def sample_clips(
    videos: Iterable[np.ndarray] | Tensor,
    frames: int,
    stride: int = 1,
    mode: Literal["from_t0", "random"] = "from_t0",
    num: int | None = None,
    seed: int = 0,
    skip_short: bool = False,
) -> Iterator[np.ndarray]:
    """Yield uint8 clips ``(frames, H, W, 3)`` (every ``stride``-th frame), at most ``num`` of them."""
    if isinstance(videos, Tensor):
        videos = (v.permute(1, 2, 3, 0).cpu().numpy() for v in videos)  # (B,C,T,H,W) -> (T,H,W,C)
    rng = np.random.RandomState(seed)
    span = (frames - 1) * stride + 1
    count = 0
    for i, v in enumerate(videos):
        if num is not None and count >= num:
            return
        v = np.asarray(v)
        if v.dtype != np.uint8 or v.ndim != 4 or v.shape[-1] != 3:
            raise ValueError(f"video {i}: expected uint8 (T, H, W, 3), got {v.dtype} {v.shape}")
        if v.shape[0] < span:
            if skip_short:
                continue
            raise ValueError(
                f"video {i} has {v.shape[0]} frames, the protocol needs {span} "
                f"({frames} frames, stride {stride}); use a shorter --frames or longer videos"
            )
        start = rng.randint(0, v.shape[0] - span + 1) if mode == "random" else 0
        yield v[start : start + span : stride]
        count += 1


def _batches(clips: Iterable[np.ndarray], batch_size: int) -> Iterator[Tensor]:
    """uint8 ``(B, 3, T, H, W)`` batches; videos of another size start a new batch (every clip is resized to
    the network's input anyway), so sets of mixed sizes work."""
    buf: list[np.ndarray] = []
    for c in clips:
        if buf and c.shape != buf[0].shape:
            yield torch.from_numpy(np.stack(buf)).permute(0, 4, 1, 2, 3)
            buf = []
        buf.append(c)
        if len(buf) == batch_size:
            yield torch.from_numpy(np.stack(buf)).permute(0, 4, 1, 2, 3)
            buf = []
    if buf:
        yield torch.from_numpy(np.stack(buf)).permute(0, 4, 1, 2, 3)


def i3d_stats(
    clips: Iterable[np.ndarray],
    model: torch.nn.Module,
    variant: Variant = "tf",
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    bf16: bool = False,
    progress: Any = None,
    keep: list[np.ndarray] | None = None,
) -> FeatureStats:
    """Float64 running statistics of I3D logits over uint8 clips ``(T, H, W, 3)``.

    ``keep``: a list that receives each batch's logits, float64 ``(b, 400)`` numpy (KVD needs the features
    themselves). ``progress``: optional tqdm-like object with ``update(n)``. ``bf16`` runs the network under CPU/CUDA
    bfloat16 autocast: measured on CPU (benchmarks/bench_metrics.py, random 16-frame clips) max abs logit
    error 0.13 for logits up to 6.9, relative L2 2.0 %; recorded in the protocol, never for papers.
    """
    stats = FeatureStats(400)
    dev = torch.device(device)
    with torch.inference_mode():
        for batch in _batches(clips, batch_size):
            x = preprocess(batch.to(dev), variant)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(x)
            stats.update(logits.double())
            if keep is not None:
                keep.append(logits.double().cpu().numpy())
            if progress is not None:
                progress.update(batch.shape[0])
    return stats


def _feature_key(tag: Any, side: str, proto: FVDProtocol, model: torch.nn.Module, bf16: bool) -> tuple:
    return (tag, side, proto, model, bf16)  # the model object itself (no id() reuse after garbage collection)


def clip_features(
    videos: Iterable[np.ndarray] | Tensor,
    proto: FVDProtocol,
    model: torch.nn.Module,
    side: Literal["real", "fake"],
    *,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    bf16: bool = False,
    progress_factory: Any = None,
    label: str = "FVD",
    cache: dict | None = None,
    cache_tag: Any = None,
) -> tuple[FeatureStats, np.ndarray]:
    """I3D logits of one side's protocol clips: ``(float64 statistics, features float64 (n, 400))``.

    Real clips of the ``styleganv`` variant start at a seeded random offset (short videos skipped), every other
    side from t = 0. With ``cache`` (a dict) and ``cache_tag`` (what identifies the videos, e.g. the video-source
    callable; never ``None``), the result is stored under (tag, side, protocol, model, bf16) and reused, so FVD and
    KVD of one evaluation run I3D once per side.
    """
    key = None
    if cache is not None and cache_tag is not None:
        key = _feature_key(cache_tag, side, proto, model, bf16)
        if key in cache:
            return cache[key]
    mode: Literal["from_t0", "random"] = "random" if proto.variant == "styleganv" and side == "real" else "from_t0"
    desc = f"{label} {side}"
    bar = progress_factory(desc) if progress_factory else None
    clips = sample_clips(videos, proto.frames, proto.stride, mode, proto.num, proto.seed, skip_short=mode == "random")
    keep: list[np.ndarray] = []
    try:
        st = i3d_stats(clips, model, proto.variant, batch_size, device, bf16, bar, keep=keep)
    finally:
        if bar is not None:
            bar.close()
    if proto.num is not None and st.n < proto.num:
        raise ValueError(f"{desc}: protocol needs {proto.num} videos, only {st.n} usable ones were given")
    out = (st, np.concatenate(keep) if keep else np.zeros((0, 400)))
    if key is not None:
        cache[key] = out
    return out


def fvd_from_stats(
    real: FeatureStats, fake: FeatureStats, proto: FVDProtocol, extra: dict[str, Any] | None = None
) -> MetricResult:
    """Fréchet distance of two logit statistics, packaged with the protocol."""
    fd, info = frechet_distance(
        real.mean, real.cov(proto.covariance), fake.mean, fake.cov(proto.covariance), return_info=True
    )
    protocol = {**proto.as_dict(), "n_real": real.n, "n_fake": fake.n, **(extra or {})}
    protocol["min_eigenvalue_clipped"] = info.min_eigenvalue_clipped
    few = min(real.n, fake.n)
    if few < 64:
        import warnings

        warnings.warn(
            f"FVD from {few} videos per side: strongly biased and noisy at this size (papers use 256 or 2048); "
            "compare only values computed with the same number of videos",
            stacklevel=2,
        )
    return MetricResult(proto.name(fake.n), float(fd), protocol)


def fvd(
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
    real_cache_key: Any = None,
    progress_factory: Any = None,
    feature_cache: dict | None = None,
    cache_tags: tuple[Any, Any] | None = None,
) -> MetricResult:
    """FVD between real and fake uint8 videos; returns a :class:`MetricResult` named by its protocol.

    ``real_cache_key``: any JSON-able dataset description; when given, real statistics are cached under
    ``$VIDGAN_HOME/stats`` keyed by it, the weights sha256 and the protocol. ``progress_factory(desc)``
    returns a tqdm-like object (or None). ``feature_cache`` + ``cache_tags`` (what identifies the real and the
    fake videos): in-memory I3D features shared with other metrics of one evaluation (see :func:`clip_features`).
    """
    proto = FVDProtocol(variant, frames, stride, num, seed)
    model, winfo = load_i3d(weights, proto.bn_eps, device)
    extra = {**winfo, "dtype": "bf16_autocast" if bf16 else "fp32"}
    if num is not None:
        extra["n_requested"] = num

    tags = cache_tags or (None, None)

    def run(videos: Any, side: Literal["real", "fake"], tag: Any) -> FeatureStats:
        return clip_features(
            videos,
            proto,
            model,
            side,
            batch_size=batch_size,
            device=device,
            bf16=bf16,
            progress_factory=progress_factory,
            cache=feature_cache,
            cache_tag=tag,
        )[0]

    real_stats = None
    key = None
    in_memory = feature_cache is not None and _feature_key(tags[0], "real", proto, model, bf16) in feature_cache
    if real_cache_key is not None and not in_memory:  # features already extracted for another metric win
        key = stats_key(real_cache_key, extra["weights_sha256"], {**proto.as_dict(), "num": num, "bf16": bf16})
        real_stats = load_cached_stats(key)
        extra["real_stats_cache"] = "hit" if real_stats is not None else "miss"
    if real_stats is None:
        real_stats = run(real, "real", tags[0])
        if key is not None:
            save_cached_stats(key, real_stats, {"dataset": real_cache_key, **proto.as_dict()})
    fake_stats = run(fake, "fake", tags[1])
    return fvd_from_stats(real_stats, fake_stats, proto, extra)
