"""``vidgan upscale``: 4x video super-resolution with a TecoGAN / FRVSR checkpoint, streamed per frame."""

from __future__ import annotations

import argparse

from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "upscale",
        help="super-resolve a video with a TecoGAN/FRVSR checkpoint",
        description="Upscale INPUT (a video file or a folder of frames) with a frame-recurrent TecoGAN/FRVSR "
        "generator and write OUTPUT (.mp4/.mkv/.webm/.gif, or a folder of PNG frames). Frames stream "
        "through the model one at a time (constant memory for any length); the official 5 reflected "
        "warm-up frames are used; fps and frame count are kept. CKPT: a vidgan checkpoint or run directory, "
        "an imported TecoGAN-PyTorch checkpoint (tecogan.convert.import_weights), or a raw port .pth.",
        example="vidgan upscale --checkpoint frvsr.pt calendar_lr/ calendar_x4.mp4",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="checkpoint file or run directory")
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
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from vidgan.engine.trainer import pick_device
    from vidgan.io import VideoReader, VideoWriter
    from vidgan.sampling.vsr import StreamingUpscaler, load_upscaler

    if args.tile < 0:
        raise ValueError(f"--tile must be >= 0, got {args.tile}")
    device = pick_device(args.device)
    model, cfg = load_upscaler(args.checkpoint, device)
    reader = VideoReader(args.input)
    fps = args.fps or reader.fps
    upscaler = StreamingUpscaler(model, dtype=args.dtype, tile=args.tile)
    n = 0
    with VideoWriter(args.output, fps=fps) as writer:
        for frame in tqdm(
            upscaler.upscale(reader.iter_frames()), total=reader.num_frames, unit="frame", desc="upscale"
        ):
            writer.write(frame)
            n += 1
    h, w = reader.size
    print(f"wrote {n} frames {w * cfg.scale}x{h * cfg.scale} at {fps:g} fps to {args.output}")
    return 0
