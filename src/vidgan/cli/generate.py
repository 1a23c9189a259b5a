"""``vidgan generate``: sample videos from a trained generator (EMA weights when the checkpoint has them)."""

from __future__ import annotations

import argparse

from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "generate",
        help="sample videos from a checkpoint",
        description="Sample videos from a trained unconditional generator. PATH is a checkpoint file or a run "
        "directory (its latest checkpoint). Writes one file per video plus grid.mp4 / grid.gif.",
        example="vidgan generate --checkpoint runs/digits --out samples --num-videos 16 --frames 16 --seed 0",
    )
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="checkpoint file or run directory")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--num-videos", type=int, default=16)
    p.add_argument("--frames", type=int, default=0, help="frames per video (0: the training clip length)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--format", choices=["mp4", "gif", "frames"], default="mp4")
    p.add_argument("--fps", type=float, default=8.0)
    p.add_argument("--no-ema", action="store_true", help="use the raw generator instead of its EMA")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidgan.engine.trainer import pick_device
    from vidgan.sampling.generate import generate_to_folder

    if args.num_videos <= 0:
        raise ValueError("--num-videos must be positive")
    paths = generate_to_folder(
        args.checkpoint,
        args.out,
        num_videos=args.num_videos,
        frames=args.frames,
        seed=args.seed,
        batch_size=args.batch_size,
        fmt=args.format,
        fps=args.fps,
        device=pick_device(args.device),
        use_ema=not args.no_ema,
    )
    print(f"wrote {len(paths)} videos to {args.out}")
    return 0
