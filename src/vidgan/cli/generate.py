"""``vidgan generate``: sample videos from any unconditional model (EMA weights when the checkpoint has them)."""

from __future__ import annotations

import argparse

from vidgan.cli._common import add_common, add_model_source, add_options, new_parser, parse_options


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "generate",
        help="sample videos from a checkpoint",
        description="Sample videos from a trained unconditional model (TGANv2, StyleGAN-V, ...). PATH is a "
        "checkpoint file or a run directory (its latest checkpoint, or the best one by a logged metric with "
        "--select). Writes one file per video plus grid.mp4 / grid.gif into --out. Long videos are generated "
        "and written --chunk frames at a time (memory flat in length) by families that support it.",
        example="vidgan generate --checkpoint runs/digits --out samples --num-videos 16 --frames 16 --seed 0",
    )
    add_model_source(p, "PATH")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--num-videos", type=int, default=16)
    p.add_argument("--frames", type=int, default=0, help="frames per video (0: the training clip length)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=8, help="videos generated at once")
    p.add_argument("--format", choices=["mp4", "gif", "frames"], default="mp4")
    p.add_argument("--fps", type=float, default=8.0)
    p.add_argument("--no-ema", action="store_true", help="use the raw generator instead of its EMA")
    p.add_argument("--truncation", type=float, default=1.0, metavar="PSI", help="truncation psi (1 = off)")
    p.add_argument("--start", type=float, default=0.0, metavar="T", help="time of the first frame (in frames)")
    p.add_argument(
        "--time-step", type=float, default=1.0, metavar="DT", help="time between frames (0.5 = twice the fps)"
    )
    p.add_argument(
        "--moco-decomposition",
        action="store_true",
        help="one grid whose rows share content and whose columns share motion (--num-videos = rows x columns)",
    )
    p.add_argument("--chunk", type=int, default=0, metavar="N", help="generate N frames at a time (0: all)")
    p.add_argument(
        "--select",
        default=None,
        metavar="METRIC",
        help="with a run directory: the kept checkpoint with the best logged METRIC (e.g. fvd_64_16f)",
    )
    p.add_argument("--no-grid", action="store_true", help="do not write grid.mp4 / grid.gif")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_options(p)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from vidgan.cli import _console as console
    from vidgan.engine.trainer import pick_device
    from vidgan.families.api import SampleOptions
    from vidgan.sampling.generate import generate_to_folder

    if args.chunk < 0:
        raise ValueError(f"--chunk: must be >= 0, got {args.chunk} — pass 0 to generate whole videos")
    options = SampleOptions(
        truncation=args.truncation,
        start=args.start,
        time_step=args.time_step,
        layout="decomposition" if args.moco_decomposition else "independent",
        chunk=args.chunk,
        extra=parse_options(args.opt),
    )
    source = args.checkpoint or f"random:{args.random_init}"
    device = pick_device(args.device)
    console.detail(f"model:  {source}{f' (best {args.select})' if args.select else ''}, EMA: {not args.no_ema}")
    console.detail(f"device: {console.describe_device(device)}; batch size {args.batch_size}, seed {args.seed}")
    t0 = time.perf_counter()
    paths = generate_to_folder(
        source,
        args.out,
        num_videos=args.num_videos,
        frames=args.frames,
        seed=args.seed,
        batch_size=args.batch_size,
        fmt=args.format,
        fps=args.fps,
        device=device,
        use_ema=not args.no_ema,
        progress=console.show_progress(args),
        options=options,
        select=args.select,
        grid=not args.no_grid,
    )
    seconds = time.perf_counter() - t0
    console.info(f"wrote {len(paths)} videos to {args.out}")
    for path in paths:
        console.detail(f"  {path}")
    console.detail(f"time:   {seconds:.2f} s ({len(paths) / max(seconds, 1e-9):.2f} videos/s, model load included)")
    return 0
