"""``vidgan eval``: exact-protocol metrics between real and generated videos (or VSR outputs vs truth).

PATH (``--real``/``--fake``) = a folder of videos / frame folders / zips (read with ``vidgan.io``), an
embedded dataset name (``moving-digits``...), or a generator checkpoint / training run directory, sampled on
the fly (seeded, EMA weights) by :func:`sample_from_checkpoint` (replaceable through
:func:`set_checkpoint_loader`: ``loader(path, num_videos, frames, seed, device) -> Iterable[uint8 (T, H, W,
3)]``). Checkpoints are recognised by suffix (.pt .pth .ckpt .pkl .safetensors), a ``ckpt:`` prefix, or a
run directory holding ``checkpoints/ckpt-*.pt``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vidgan.cli import _console as console
from vidgan.cli._common import add_common, new_parser

CheckpointLoader = Callable[[Path, int | None, int | None, int, str], Iterable[np.ndarray]]
_CHECKPOINT_LOADER: CheckpointLoader | None = None
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".safetensors")


def set_checkpoint_loader(fn: CheckpointLoader | None) -> None:
    """Register ``fn(path, num_videos, frames, seed, device) -> iterable of uint8 (T, H, W, 3) videos``."""
    global _CHECKPOINT_LOADER
    _CHECKPOINT_LOADER = fn


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "eval",
        help="compute FVD / FID / IS / VSR metrics with named protocols",
        description=(
            "Compute metrics by protocol-encoding name. Distribution metrics (fvd*, kvd*, fid*, is_c3d*) compare "
            "--real and --fake video sets; paired VSR metrics (psnr_y_teco, ..., vsr_teco) compare --fake "
            "outputs with --real ground truth, sequence by sequence. Names: fvd, fvd_N_Ff, "
            "fvd_styleganv_N_Ff[_subS], fvd2048_16f, fvd2048_128f, fvd2048_128f_subsample8f, fvd_videogpt, "
            "kvd, kvd_N_Ff, kvd_styleganv_N_Ff[_subS], kvd_videogpt (kernel video distance on the FVD features; "
            "fvd and kvd together extract them once), "
            "fid, fid_N, fid50k, is_c3d_ucf101[_tganv2], vsr_teco, psnr_y_teco, ssim_y_teco, lpips_teco, "
            "tof_teco, tlp_teco, psnr_y_basicsr, ssim_y_basicsr, psnr_rgb."
        ),
        example="vidgan eval fvd --real data/ucf_test --fake samples/ --num 2048 --frames 16 --json\n"
        "  vidgan eval vsr_teco --real pairs/hr --fake out/ --baseline bicubic --lr pairs/lr",
    )
    p.add_argument("metrics", nargs="+", metavar="METRIC", help="metric names (see description)")
    p.add_argument("--real", required=True, help="real videos (folder/zip) or ground truth for VSR")
    p.add_argument("--fake", required=True, help="generated videos (folder/zip/checkpoint) or VSR outputs")
    p.add_argument(
        "--num", type=int, default=None, help="videos per side (default: all; names like fvd_2048_16f set it)"
    )
    p.add_argument("--frames", type=int, default=None, help="frames per clip (FVD default 16)")
    p.add_argument("--stride", type=int, default=1, help="frame subsampling inside a clip")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the feature network (not for papers)")
    p.add_argument("--seed", type=int, default=0, help="seed for random clip offsets / generator sampling")
    p.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="use this file for registered weights NAME (e.g. i3d_k400_tfhub=/x.safetensors)",
    )
    p.add_argument("--cache-real", action="store_true", help="cache real statistics under $VIDGAN_HOME/stats")
    p.add_argument("--lpips-weights", default=None, help="AlexNet backbone for lpips_teco / tlp_teco")
    p.add_argument("--json", action="store_true", help='print {"results": [...]} as JSON')
    p.add_argument("--out", default=None, help="also write the JSON to this file (atomic)")
    p.add_argument(
        "--report",
        default=None,
        metavar="DIR",
        help="also write DIR/report.html: metric table with protocols, per-frame VSR plots, output / ground-truth "
        "strips (self-contained, opens from disk)",
    )
    p.add_argument(
        "--baseline",
        choices=["bicubic", "bilinear"],
        default=None,
        help="paired VSR metrics: also score the --lr frames upsampled by the model's skip (bicubic: TF-style, "
        "top-left aligned, the BD skip; bilinear: the BI skip); rows carry method=model / method=<baseline>",
    )
    p.add_argument("--lr", default=None, metavar="DIR", help="--baseline: the LR frames (sequences named like --real)")
    p.add_argument("--scale", type=int, default=4, help="--baseline: upsampling factor (default 4)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")
    add_common(p, device=False)  # --debug, -q (the results are still printed), -v
    p.set_defaults(func=run)


def _device(name: str) -> str:
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _is_checkpoint(path: str) -> bool:
    """A checkpoint file, a ``ckpt:`` prefix, or a training run directory (``<dir>/checkpoints/ckpt-*.pt``)."""
    p = Path(path)
    return (
        path.startswith("ckpt:")
        or (p.is_file() and path.endswith(CHECKPOINT_SUFFIXES))
        or (p.is_dir() and any((p / "checkpoints").glob("ckpt-*.pt")))
    )


def sample_from_checkpoint(
    path: Path, num: int | None, frames: int | None, seed: int, device: str
) -> Iterator[np.ndarray]:
    """Default loader: seeded samples (EMA generator) from a vidgan checkpoint or run directory."""
    import torch

    from vidgan.core.video import batch_to_videos
    from vidgan.sampling.generate import sample_batches
    from vidgan.sampling.inference import load_model

    dev = torch.device(device)
    got = load_model(path, dev, use="sample", task="unconditional")
    cfg, parts, gen = got.cfg, got.parts, got.modules[got.parts.sample_role]
    n = num if num is not None else 2048
    for batch in sample_batches(parts, gen, n, frames or cfg.data.frames, seed, 8, dev):
        yield from batch_to_videos(batch)


_CHECKPOINT_LOADER = sample_from_checkpoint


def video_source(path: str, num: int | None, seed: int, device: str) -> Callable[[int | None], Iterator[np.ndarray]]:
    """PATH -> ``source(frames_needed) -> iterator of uint8 (T, H, W, 3)``, reading only what is needed."""
    if _is_checkpoint(path):
        ckpt = Path(path.removeprefix("ckpt:"))
        if _CHECKPOINT_LOADER is None:
            raise ValueError(
                f"{ckpt} looks like a generator checkpoint, but no checkpoint loader is registered in this "
                "build; sample videos first (`vidgan generate ... --out DIR`) and pass the folder"
            )
        loader = _CHECKPOINT_LOADER

        def from_ckpt(frames: int | None) -> Iterator[np.ndarray]:
            yield from loader(ckpt, num, frames, seed, device)

        return from_ckpt
    from vidgan.data.synthetic import is_synthetic

    if is_synthetic(path):
        from vidgan.data import VideoSource

        src = VideoSource(path, seed=seed)

        def from_synthetic(frames: int | None) -> Iterator[np.ndarray]:
            for i in range(min(len(src), num) if num else len(src)):
                yield src[i][:frames] if frames else src[i]

        return from_synthetic
    from vidgan.data.hdf5 import list_video_paths, open_video
    from vidgan.io import VideoReadError

    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such folder/file of videos")
    files = list_video_paths(path)  # an official TGANv2 .h5 (+ .json) lists its videos
    if not files:
        raise ValueError(f"{path}: no videos found (expected video files, frame folders or a zip)")

    def from_folder(frames: int | None) -> Iterator[np.ndarray]:
        for f in files:
            try:
                with open_video(f) as r:
                    yield r.read(0, frames)
            except IndexError:
                raise VideoReadError(
                    f"{f}: shorter than the {frames} frames this protocol needs; drop it or lower --frames"
                ) from None

    return from_folder


def _compact(protocol: dict[str, Any]) -> str:
    parts = []
    for k, v in protocol.items():
        if isinstance(v, dict | list) and len(json.dumps(v, default=str)) > 80:
            continue  # per-frame tables etc.: in --json only
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def _row(r) -> dict[str, Any]:
    """A result as JSON with its ``method`` ("model" unless a baseline's protocol names another)."""
    d = r.to_dict()
    return {"metric": d["metric"], "method": r.protocol.get("method", "model"), **d}


def _per_frame_by_method(results) -> dict[str, dict[str, list[float]]]:
    """Per-frame plots with baselines: one plot per metric, a series per sequence and method."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in results:
        table = r.protocol.get("per_frame")
        if not isinstance(table, dict):
            continue
        method = r.protocol.get("method", "model")
        for seq, vals in table.items():
            out.setdefault(r.metric, {})[seq if method == "model" else f"{seq} ({method})"] = list(vals)
    return out


def run(args: argparse.Namespace) -> int:
    from vidgan.metrics import EvalOptions, MetricResult, evaluate_baseline, resolve

    specs = []
    for name in args.metrics:
        try:
            specs.append(resolve(name))
        except KeyError as e:
            raise ValueError(e.args[0]) from None
    weights = {}
    for item in args.weights:
        if "=" not in item:
            raise ValueError(f"--weights expects NAME=PATH, got '{item}'")
        k, v = item.split("=", 1)
        weights[k] = v
    baseline = getattr(args, "baseline", None)
    if baseline is not None and not getattr(args, "lr", None):
        raise ValueError("--baseline: needs the LR frames — pass --lr DIR (e.g. the lr/ of `vidgan prepare --pairs`)")
    if baseline is None and getattr(args, "lr", None):
        raise ValueError("--lr: only used with --baseline — add --baseline bicubic or drop --lr")
    if baseline is not None:
        bad = [s.name for s in specs if s.kind != "paired"]
        if bad:
            raise ValueError(f"--baseline: {', '.join(bad)} not paired VSR metric(s) — drop --baseline or those names")
    device = _device(args.device)
    opts = EvalOptions(
        num=args.num,
        frames=args.frames,
        stride=args.stride,
        batch_size=args.batch_size,
        device=device,
        bf16=args.bf16,
        seed=args.seed,
        progress=console.show_progress(args),
        weights=weights,
        real_cache_key={"real": str(Path(args.real).resolve())} if args.cache_real else None,
        extra={"lpips_weights": args.lpips_weights},
    )
    results = []
    console.detail(f"real:   {args.real}\nfake:   {args.fake}\ndevice: {console.describe_device(device)}")
    sources = None
    for spec in specs:
        t0 = time.perf_counter()
        if spec.kind == "paired":
            out = spec.run(args.real, args.fake, opts, **spec.params)
        else:
            if sources is None:  # one pair for every metric: fvd + kvd share their I3D features through opts
                sources = (
                    video_source(args.real, args.num, args.seed, device),
                    video_source(args.fake, args.num, args.seed, device),
                )
            out = spec.run(*sources, opts, **spec.params)
        if baseline is not None:  # tag the model's rows; the baseline rows follow them
            out = [MetricResult(r.metric, r.value, {"method": "model", **r.protocol}) for r in out]
            out += evaluate_baseline(spec.name, args.real, args.lr, baseline, args.scale, opts)
        for r in out:
            results.append(r)
            if not args.json:
                tag = f" [{r.protocol['method']}]" if baseline is not None else ""
                print(f"{r.metric}{tag} = {r.value:.6f}\n    protocol: {_compact(r.protocol)}", flush=True)
        console.detail(f"{spec.name}: {time.perf_counter() - t0:.2f} s")
    doc = {"results": [_row(r) for r in results]}
    if args.json:
        print(json.dumps(doc, indent=1))
    if args.out:
        from vidgan.core.atomic import atomic_write

        with atomic_write(args.out, "w") as f:
            json.dump(doc, f, indent=1)
    if args.report:
        from vidgan.report import write_eval_report

        strips = None
        if any(s.kind == "paired" for s in specs):
            from vidgan.metrics.vsr import find_sequences

            gt, out = find_sequences(args.real), find_sequences(args.fake)
            if len(gt) == 1 and len(out) == 1:
                only_out, only_gt = next(iter(out.values())), next(iter(gt.values()))
                strips = {next(iter(gt)): {"output": only_out, "ground_truth": only_gt}}
            else:
                strips = {k: {"output": out[k], "ground_truth": gt[k]} for k in gt if k in out}
            if baseline is not None and strips:
                lr = find_sequences(args.lr)
                for k, panels in strips.items():
                    panels["input"] = lr[k] if k in lr else (next(iter(lr.values())) if len(lr) == 1 else None)
        per_frame = _per_frame_by_method(results) if baseline is not None else None
        path = write_eval_report(args.report, results, per_frame=per_frame, strips=strips)
        console.info(f"report: {path}", file=sys.stderr if args.json else sys.stdout)
    return 0
