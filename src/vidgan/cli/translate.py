"""``vidgan translate``: video-to-video translation with any translation-task checkpoint, streamed per frame."""

from __future__ import annotations

import argparse

from vidgan.cli._common import add_common, add_model_source, add_options, new_parser, parse_options, run_stream


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "translate",
        help="video-to-video translation (translation families)",
        description="Translate INPUT (a video file or a folder of frames) with a translation model (any family "
        "of task 'translation', e.g. paired or unpaired TimeCycleGAN models) and write OUTPUT (.mp4/.mkv/.webm/"
        ".gif, or a folder of PNG frames). Frames stream through the model one at a time with its recurrent "
        "state carried (constant memory for any length); fps and frame count are kept. Two-way (CycleGAN-type) "
        "models take --direction.",
        example="vidgan translate --checkpoint runs/edges2digits edges.mp4 digits.mp4",
    )
    add_model_source(p, "PATH")
    p.add_argument("input", metavar="INPUT", help="video file or frame folder")
    p.add_argument("output", metavar="OUTPUT", help="output video file, or a folder for PNG frames")
    p.add_argument("--direction", default="", help="two-way models: AtoB or BtoA (default: the family's)")
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32", help="compute precision (bf16: autocast)")
    p.add_argument("--fps", type=float, default=0.0, help="output fps (0: the input's)")
    add_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidgan.families.api import StreamOptions

    options = StreamOptions(dtype=args.dtype, direction=args.direction, extra=parse_options(args.opt))
    return run_stream(args, "translation", options)
