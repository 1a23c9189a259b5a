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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vidgan.cli._common import new_parser

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
            "Compute metrics by protocol-encoding name. Distribution metrics (fvd*, fid*, is_c3d*) compare "
            "--real and --fake video sets; paired VSR metrics (psnr_y_teco, ..., vsr_teco) compare --fake "
            "outputs with --real ground truth, sequence by sequence. Names: fvd, fvd_N_Ff, "
            "fvd_styleganv_N_Ff[_subS], fvd2048_16f, fvd2048_128f, fvd2048_128f_subsample8f, fvd_videogpt, "
            "fid, fid_N, fid50k, is_c3d_ucf101[_tganv2], vsr_teco, psnr_y_teco, ssim_y_teco, lpips_teco, "
            "tof_teco, tlp_teco, psnr_y_basicsr, ssim_y_basicsr, psnr_rgb."
        ),
        example="vidgan eval fvd --real data/ucf_test --fake samples/ --num 2048 --frames 16 --json",
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
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
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
    from vidgan.io import VideoReadError, list_videos, read_video

    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such folder/file of videos")
    files = list_videos(path)
    if not files:
        raise ValueError(f"{path}: no videos found (expected video files, frame folders or a zip)")

    def from_folder(frames: int | None) -> Iterator[np.ndarray]:
        for f in files:
            try:
                yield read_video(f, start=0, num=frames)
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


def run(args: argparse.Namespace) -> int:
    from vidgan.metrics import EvalOptions, resolve

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
    device = _device(args.device)
    opts = EvalOptions(
        num=args.num,
        frames=args.frames,
        stride=args.stride,
        batch_size=args.batch_size,
        device=device,
        bf16=args.bf16,
        seed=args.seed,
        progress=not args.no_progress and sys.stderr.isatty(),
        weights=weights,
        real_cache_key={"real": str(Path(args.real).resolve())} if args.cache_real else None,
        extra={"lpips_weights": args.lpips_weights},
    )
    results = []
    for spec in specs:
        if spec.kind == "paired":
            out = spec.run(args.real, args.fake, opts, **spec.params)
        else:
            real = video_source(args.real, args.num, args.seed, device)
            fake = video_source(args.fake, args.num, args.seed, device)
            out = spec.run(real, fake, opts, **spec.params)
        for r in out:
            results.append(r)
            if not args.json:
                print(f"{r.metric} = {r.value:.6f}\n    protocol: {_compact(r.protocol)}", flush=True)
    doc = {"results": [r.to_dict() for r in results]}
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
        path = write_eval_report(args.report, results, strips=strips)
        print(f"report: {path}", file=sys.stderr if args.json else sys.stdout)
    return 0
