"""vidgan.metrics: exact-protocol video metrics, looked up by protocol-encoding names.

Every metric returns :class:`MetricResult` (value + protocol). Names (metrics.md §11):

    fvd, fvd_<N>_<F>f                  canonical TF-reference FVD (N videos per side, F frames)
    fvd_styleganv_<N>_<F>f[_sub<S>]    StyleGAN-V protocol (PyTorch bilinear, biased Σ, random real offset)
    fvd2048_16f, fvd2048_128f, fvd2048_128f_subsample8f   StyleGAN-V's own names (aliases of the above)
    fvd_videogpt[_<N>_<F>f]            VideoGPT/TATS port (BN eps 1e-5, short side + centre crop)
    kvd, kvd_<N>_<F>f, kvd_styleganv_<N>_<F>f[_sub<S>], kvd_videogpt[_<N>_<F>f]   Kernel Video Distance on the
                                       same I3D logits and clips as the fvd name it mirrors (vidgan.metrics.kvd)
    fid, fid_<N>                       frame-level FID, TF Inception pool3 (N fake frames)
    is_c3d_ucf101, is_c3d_ucf101_tganv2   video IS (C3D UCF101), StyleGAN-V / TGANv2 protocols
    fid_c3d_fc7_tganv2                 TGANv2's C3D-fc7 "FID" (parity only; not an FVD)
    psnr_y_teco, ssim_y_teco, lpips_teco, tof_teco, tlp_teco, psnr_y_basicsr, ssim_y_basicsr, psnr_rgb,
    vsr_teco (= the five TecoGAN metrics)  paired VSR metrics: --fake = outputs, --real = ground truth
    tlp_timecycle, tof_timecycle_flownet2   TimeCycleGAN's definitions (no x100, summed flow differences)

Distribution metrics take *video sources*: callables ``source(frames_needed: int | None) -> Iterable of
uint8 (T, H, W, 3)`` (``None`` = whole videos), so callers read only the frames a protocol needs.
Heavy modules are imported lazily: ``import vidgan.metrics`` stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vidgan.metrics.result import MetricResult

__all__ = ["MetricResult", "EvalOptions", "MetricSpec", "resolve", "list_metrics", "evaluate", "evaluate_baseline"]

VideoSource = Callable[[int | None], Iterable[np.ndarray]]


@dataclass
class EvalOptions:
    """Options shared by all metrics; a protocol name overrides ``num``/``frames``/``stride`` it encodes."""

    num: int | None = None
    frames: int | None = None
    stride: int = 1
    batch_size: int = 8
    device: str = "cpu"
    bf16: bool = False
    seed: int = 0
    progress: bool = False
    weights: dict[str, str] = field(default_factory=dict)  # registry name -> explicit file
    real_cache_key: Any = None  # JSON-able dataset description -> cached real statistics
    extra: dict[str, Any] = field(default_factory=dict)  # metric-specific (e.g. lpips_weights)
    features: dict[Any, Any] = field(default_factory=dict)  # I3D features per (source, side, protocol): fvd and
    #                                                         kvd evaluated with one EvalOptions run I3D once


@dataclass(frozen=True)
class MetricSpec:
    """A resolved metric; ``kind``: "distribution" (real vs fake sets) or "paired" (outputs vs truth)."""

    name: str
    kind: Literal["distribution", "paired"]
    run: Callable[..., list[MetricResult]]
    params: dict[str, Any] = field(default_factory=dict)


def _progress(opts: EvalOptions):
    if not opts.progress:
        return None
    from tqdm import tqdm

    return lambda desc: tqdm(desc=desc, unit="clip", leave=False)


def _i3d_args(real: VideoSource, fake: VideoSource, opts: EvalOptions, p: dict[str, Any]) -> dict[str, Any]:
    """The arguments FVD and KVD share: one protocol (name params over options), the clips, the I3D weights."""
    variant = p["variant"]
    frames = p.get("frames") or opts.frames or 16
    stride = p.get("stride") or opts.stride
    span = (frames - 1) * stride + 1
    weights = opts.weights.get("i3d_k400_tfhub")
    if variant == "videogpt":  # its own .pt (piergiaj layout) when given; else the same TF-Hub tensors
        weights = opts.weights.get("i3d_videogpt", weights)
    return dict(
        real=real(None if variant == "styleganv" else span),
        fake=fake(span),
        frames=frames,
        stride=stride,
        num=p.get("num", opts.num),
        variant=variant,
        weights=weights,
        batch_size=opts.batch_size,
        device=opts.device,
        bf16=opts.bf16,
        seed=opts.seed,
        progress_factory=_progress(opts),
        feature_cache=opts.features,
        cache_tags=(real, fake),
    )


def _run_fvd(real: VideoSource, fake: VideoSource, opts: EvalOptions, **p: Any) -> list[MetricResult]:
    from vidgan.metrics.fvd import fvd

    return [fvd(**_i3d_args(real, fake, opts, p), real_cache_key=opts.real_cache_key)]


def _run_kvd(real: VideoSource, fake: VideoSource, opts: EvalOptions, **p: Any) -> list[MetricResult]:
    """KVD on the same I3D logits and clips as the FVD of the same name (features shared through opts.features)."""
    from vidgan.metrics.kvd import kvd

    return [kvd(**_i3d_args(real, fake, opts, p))]


def _run_fid(real: VideoSource, fake: VideoSource, opts: EvalOptions, **p: Any) -> list[MetricResult]:
    from vidgan.metrics.fid import fid_videos

    return [
        fid_videos(
            real(opts.frames),
            fake(opts.frames),
            num_fake_frames=p.get("num_frames"),
            num_videos=opts.num,
            weights=opts.weights.get("inception_fid"),
            batch_size=opts.batch_size * 4,
            device=opts.device,
            real_cache_key=opts.real_cache_key,
            progress_factory=_progress(opts),
        )
    ]


def _c3d(opts: EvalOptions):
    try:
        from vidgan.metrics.detectors.c3d import load_c3d_chainer
    except ImportError as e:  # pragma: no cover - depends on the metrics-B modules being present
        raise RuntimeError(f"C3D metrics are not available in this build: {e}") from e
    from vidgan.metrics.weights import path as weights_path

    w = opts.weights.get("c3d_ucf101") or weights_path("c3d_ucf101")
    m = opts.weights.get("c3d_ucf101_mean") or weights_path("c3d_ucf101_mean")
    return load_c3d_chainer(w, m).eval().to(opts.device)


def _c3d_batches(source: VideoSource, opts: EvalOptions, frames: int = 16):
    """uint8 batches (B, 3, 16, H, W) of the first 16 frames of each video (the C3D input of both papers)."""
    import torch

    buf = []
    for v in source(frames):
        buf.append(np.asarray(v)[:frames])
        if len(buf) == opts.batch_size:
            yield torch.from_numpy(np.stack(buf)).permute(0, 4, 1, 2, 3)
            buf = []
    if buf:
        yield torch.from_numpy(np.stack(buf)).permute(0, 4, 1, 2, 3)


def _run_isv(real: VideoSource, fake: VideoSource, opts: EvalOptions, **p: Any) -> list[MetricResult]:
    try:
        from vidgan.metrics.inception_score import isv
    except ImportError as e:  # pragma: no cover
        raise RuntimeError(f"video IS is not available in this build: {e}") from e
    model = _c3d(opts)
    return [isv(_c3d_batches(fake, opts), model, protocol=p["protocol"], num_videos=opts.num or 2048)]


def _run_c3d_fid(real: VideoSource, fake: VideoSource, opts: EvalOptions, **p: Any) -> list[MetricResult]:
    """TGANv2's C3D "FID" (fc7, 4096-d; np.cov ddof 1): kept for parity, never called FVD (metrics.md §11)."""
    from vidgan.metrics.feature_stats import FeatureStats
    from vidgan.metrics.frechet import frechet_distance
    from vidgan.metrics.inception_score import c3d_features

    model = _c3d(opts)
    num = opts.num or 2048
    stats = []
    for source in (real, fake):
        st = FeatureStats()
        st.update(c3d_features(_c3d_batches(source, opts), model, num, layer="fc7"))
        stats.append(st)
    fd = frechet_distance(stats[0].mean, stats[0].cov(), stats[1].mean, stats[1].cov())
    protocol = {
        "network": "C3D UCF101 (TGANv2 Chainer weights), fc7 4096-d",
        "weights_sha256": getattr(model, "weights_sha256", None),
        "frames": 16,
        "clip_sampling": "first 16 frames",
        "covariance": "unbiased",
        "n_real": stats[0].n,
        "n_fake": stats[1].n,
    }
    return [MetricResult("fid_c3d_fc7_tganv2", float(fd), protocol)]


def _run_vsr(real: str | Path, fake: str | Path, opts: EvalOptions, **p: Any) -> list[MetricResult]:
    try:
        from vidgan.metrics.vsr import evaluate_vsr
    except ImportError as e:  # pragma: no cover
        raise RuntimeError(f"VSR metrics are not available in this build: {e}") from e
    return evaluate_vsr(
        fake,
        real,
        metrics=p["metrics"],
        lpips_weights=opts.extra.get("lpips_weights"),
        progress=opts.progress,
    )


def evaluate_baseline(
    name: str,
    real: str | Path,
    lr: str | Path,
    method: str = "bicubic",
    scale: int = 4,
    opts: EvalOptions | None = None,
) -> list[MetricResult]:
    """Paired VSR metric ``name`` of a non-learned baseline: the LR frames under ``lr`` upsampled by ``method``
    (``vidgan.metrics.vsr.BASELINES``) against the ground truth ``real``; protocol["method"] names it."""
    spec = resolve(name)
    if spec.run is not _run_vsr:
        names = ", ".join(("vsr_teco", *_VSR_NAMES))
        raise ValueError(f"--baseline: {name} is not a paired VSR metric — baselines apply to {names}")
    from vidgan.metrics.vsr import evaluate_vsr_baseline

    opts = opts or EvalOptions()
    return evaluate_vsr_baseline(
        lr,
        real,
        method=method,
        scale=scale,
        metrics=spec.params["metrics"],
        lpips_weights=opts.extra.get("lpips_weights"),
        progress=opts.progress,
    )


def _run_timecycle(real: str | Path, fake: str | Path, opts: EvalOptions, **p: Any) -> list[MetricResult]:
    """TimeCycleGAN's tLP on sequences matched by name (folders of frame folders, or two frame folders)."""
    import torch

    from vidgan.io import read_image
    from vidgan.metrics.lpips import lpips_alex
    from vidgan.metrics.vsr import find_sequences, list_frames
    from vidgan.temporal.metrics import tlp_timecycle

    if p["metric"] != "tlp_timecycle":
        raise ValueError(
            f"{p['metric']}: TimeCycleGAN's tOF needs FlowNet2 flows and vidgan ships no FlowNet2 network yet — "
            "use tof_teco (Farneback, TecoGAN's definition) or compute flows with vidgan.temporal.metrics"
        )
    gt, out = find_sequences(real), find_sequences(fake)
    if len(gt) == 1 and len(out) == 1:
        out = {next(iter(gt)): next(iter(out.values()))}
    missing = sorted(set(gt) - set(out))
    if missing:
        raise ValueError(f"{fake}: no output sequence for {missing[:3]} — name the folders like the real ones")
    model = lpips_alex(opts.extra.get("lpips_weights"))

    def load(folder: Path) -> torch.Tensor:
        frames = [read_image(f) for f in list_frames(folder)]
        x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return x[None]  # (1, T, C, H, W)

    values = {}
    for name in gt:
        r, f = load(gt[name]), load(out[name])
        n = min(r.shape[1], f.shape[1])
        values[name] = tlp_timecycle(r[:, :n], f[:, :n], lambda a, b: model(a, b))
    protocol = {
        "definition": "mean over consecutive pairs of |LPIPS(real_t, real_t+1) - LPIPS(fake_t, fake_t+1)|, no x100, "
        "no skipped frames, true frame size (TimeCycleGAN evaluation/compute_tlp.py, 64x64 view bug fixed)",
        "lpips": "v0.1 alex net-lin, x/127.5-1",
        "per_sequence": values,
        "value": "mean over sequences",
    }
    return [MetricResult("tlp_timecycle", float(np.mean(list(values.values()))), protocol)]


_VSR_NAMES = (
    "psnr_y_teco",
    "ssim_y_teco",
    "lpips_teco",
    "tof_teco",
    "tlp_teco",
    "psnr_y_basicsr",
    "ssim_y_basicsr",
    "psnr_rgb",
)
_STYLEGANV_ALIASES = {
    "fvd2048_16f": "fvd_styleganv_2048_16f",
    "fvd2048_128f": "fvd_styleganv_2048_128f",
    "fvd2048_128f_subsample8f": "fvd_styleganv_2048_128f_sub8",
}
_FVD_RE = re.compile(r"^([fk]vd)(?:_(styleganv|videogpt))?(?:_(\d+)_(\d+)f(?:_sub(\d+))?)?$")  # FVD and KVD
_FID_RE = re.compile(r"^fid(?:_?(\d+)(k)?)?(?:_full)?$")  # fid, fid_N, fid50k, fid50k_full


def resolve(name: str) -> MetricSpec:
    """Metric name -> :class:`MetricSpec`; unknown names raise ``KeyError`` listing the valid forms."""
    key = _STYLEGANV_ALIASES.get(name, name)
    m = _FVD_RE.match(key)
    if m:
        variant = {None: "tf", "styleganv": "styleganv", "videogpt": "videogpt"}[m.group(2)]
        params: dict[str, Any] = {"variant": variant}
        if m.group(3):
            span, stride = int(m.group(4)), int(m.group(5) or 1)
            if span % stride:
                raise KeyError(f"{name}: {span} frames are not a multiple of the subsampling {stride}")
            params.update(num=int(m.group(3)), frames=span // stride, stride=stride)
        return MetricSpec(name, "distribution", _run_fvd if m.group(1) == "fvd" else _run_kvd, params)
    m = _FID_RE.match(key)
    if m:
        n = int(m.group(1)) * (1000 if m.group(2) else 1) if m.group(1) else None
        return MetricSpec(name, "distribution", _run_fid, {"num_frames": n})
    if key == "fid_c3d_fc7_tganv2":
        return MetricSpec(name, "distribution", _run_c3d_fid, {})
    if key in ("is_c3d_ucf101", "is_c3d_ucf101_tganv2"):
        return MetricSpec(name, "distribution", _run_isv, {"protocol": "tganv2" if "tganv2" in key else "styleganv"})
    if key == "vsr_teco":
        metrics = ["psnr_y_teco", "ssim_y_teco", "lpips_teco", "tof_teco", "tlp_teco"]
        return MetricSpec(name, "paired", _run_vsr, {"metrics": metrics})
    if key in _VSR_NAMES:
        return MetricSpec(name, "paired", _run_vsr, {"metrics": [key]})
    if key in ("tlp_timecycle", "tof_timecycle_flownet2"):
        return MetricSpec(name, "paired", _run_timecycle, {"metric": key})
    raise KeyError(f"unknown metric '{name}'; valid: {', '.join(list_metrics())} (N, F, S are integers)")


def list_metrics() -> list[str]:
    """Representative metric names (patterns use N videos, F frames, S subsampling)."""
    return [
        "fvd",
        "fvd_N_Ff",
        "fvd_styleganv_N_Ff",
        "fvd_styleganv_N_Ff_subS",
        *_STYLEGANV_ALIASES,
        "fvd_videogpt",
        "fvd_videogpt_N_Ff",
        "kvd",
        "kvd_N_Ff",
        "kvd_styleganv_N_Ff_subS",
        "kvd_videogpt_N_Ff",
        "fid",
        "fid_N",
        "fid50k",
        "is_c3d_ucf101",
        "is_c3d_ucf101_tganv2",
        "fid_c3d_fc7_tganv2",
        "vsr_teco",
        *_VSR_NAMES,
        "tlp_timecycle",
        "tof_timecycle_flownet2",
    ]


def evaluate(name: str, real: Any, fake: Any, opts: EvalOptions | None = None) -> list[MetricResult]:
    """Run metric ``name``: distribution metrics take video sources, paired metrics take folders."""
    spec = resolve(name)
    return spec.run(real, fake, opts or EvalOptions(), **spec.params)
