"""``vidgan upscale``: 4x video super-resolution with a TecoGAN / FRVSR checkpoint, streamed per frame."""

from __future__ import annotations

import argparse

from vidgan.cli._common import add_common, add_model_source, add_options, new_parser, parse_options, run_stream


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "upscale",
        help="super-resolve a video with a VSR checkpoint (e.g. TecoGAN/FRVSR)",
        description="Upscale INPUT (a video file or a folder of frames) with a video super-resolution model "
        "(any family of task 'vsr', e.g. a frame-recurrent TecoGAN/FRVSR generator) and write OUTPUT "
        "(.mp4/.mkv/.webm/.gif, or a folder of PNG frames). Frames stream through the model one at a time "
        "(constant memory for any length); fps and frame count are kept. TecoGAN uses the official 5 "
        "reflected warm-up frames. CKPT: a vidgan checkpoint or run directory, an imported checkpoint "
        "(`vidgan weights import tecogan ...`), or a raw TecoGAN-PyTorch .pth. Alignment: a BD model (the "
        "TecoGAN/FRVSR default) expects LR pixel (i, j) centred on HR pixel (4i, 4j), as its training "
        "degradation makes it; make test LR from HR with `vidgan prepare --pairs bd`. Area-resized input "
        "(`vidgan prepare --size`, image editors) is centre-aligned and comes out shifted by 1.5 HR pixels "
        "(docs/vsr-alignment.md).",
        example="vidgan upscale --checkpoint frvsr.pt calendar_lr/ calendar_x4.mp4",
    )
    add_model_source(p, "CKPT")
    p.add_argument("input", metavar="INPUT", help="video file or folder of frames (sorted naturally)")
    p.add_argument("output", metavar="OUTPUT", help="output video file, or a folder for PNG frames")
    p.add_argument(
        "--tile",
        type=int,
        default=0,
        metavar="N",
        help="process N x N LR tiles with their own recurrence (0 = whole frames; saves memory, small seams)",
    )
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32", help="compute precision (bf16: autocast)")
    p.add_argument("--fps", type=float, default=0.0, help="output fps (0: the input's)")
    add_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidgan.families.api import StreamOptions

    if args.tile < 0:
        raise ValueError(f"--tile: must be >= 0, got {args.tile} — pass 0 for whole frames")
    return run_stream(args, "vsr", StreamOptions(dtype=args.dtype, tile=args.tile, extra=parse_options(args.opt)))
