"""Benchmark of the streaming TecoGAN / FRVSR upscaler (``vidgan.families.tecogan.stream``); prints JSON.

1. Throughput: frames/s of 4x streaming inference, LR 180x144 -> HR 720x576 (Vid4 calendar size), fp32 and
   bf16 autocast (with the max abs difference of the float outputs vs fp32), random-init weights of the
   chosen preset (speed does not depend on the values). Wall time includes the 5 reflected warm-up steps;
   ``steady_frames_per_s`` excludes them.
2. Memory: peak RSS of a fresh process that streams a synthetic N-frame video (generated frame by frame,
   never held in memory) through the upscaler into an mp4 (VideoWriter), for N = 50 and N = 1000. The goal
   is equal peaks (within 10 %): memory must not grow with the length. To keep the 1000-frame run short
   on a CPU this uses a reduced model (``--rss-blocks``/``--rss-nf``) at a reduced size (``--rss-size``).

Usage: ``nice python benchmarks/bench_tecogan.py [--preset frvsr] [--frames 8] [--threads 2]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def synthetic_frames(n: int, h: int, w: int, seed: int = 0):
    """A moving pattern, generated lazily: uint8 (h, w, 3) frames."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h + 64, w + 64, 3), dtype=np.uint8)
    for t in range(n):
        dy, dx = (t * 1) % 64, (t * 2) % 64
        yield np.ascontiguousarray(base[dy : dy + h, dx : dx + w])


def throughput(preset: str, frames: int, dtype: str, h: int, w: int) -> tuple[dict, list[torch.Tensor]]:
    from vidgan.core.config import from_dict
    from vidgan.families.tecogan import PRESETS, Config, build_generator
    from vidgan.families.tecogan.stream import StreamingUpscaler

    torch.manual_seed(0)
    model = build_generator(from_dict(Config, PRESETS[preset]["family"])).eval()
    up = StreamingUpscaler(model, dtype=dtype)
    outs, stamps = [], []
    t0 = time.perf_counter()
    for y in up.upscale_float(synthetic_frames(frames, h, w)):
        outs.append(y)
        stamps.append(time.perf_counter())
    total = stamps[-1] - t0
    steady = (stamps[-1] - stamps[0]) / max(len(stamps) - 1, 1)  # after the warm-up + first frame
    return {
        "dtype": dtype,
        "frames": frames,
        "wall_s": round(total, 3),
        "frames_per_s": round(frames / total, 4),
        "steady_frames_per_s": round(1.0 / steady, 4) if len(stamps) > 1 else None,
    }, outs


def current_rss_mib() -> float:
    """Resident set size now (Linux ``/proc/self/statm``), MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return round(pages * resource.getpagesize() / 2**20, 1)


def rss_child(n: int, size: tuple[int, int], blocks: int, nf: int) -> None:
    from vidgan.families.tecogan.generator import FRNet
    from vidgan.families.tecogan.stream import StreamingUpscaler
    from vidgan.io import VideoWriter

    torch.manual_seed(0)
    model = FRNet(nf=nf, num_blocks=blocks).eval()
    up = StreamingUpscaler(model)
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # imports + model, before streaming
    count, samples = 0, []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, VideoWriter(Path(tmp) / "out.mp4", fps=25) as writer:
        for frame in up.upscale(synthetic_frames(n, *size)):
            writer.write(frame)
            count += 1
            if count % 10 == 0 or count == 1:
                samples.append(current_rss_mib())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "frames": count,
                "peak_rss_mib": round(peak_kib / 1024, 1),
                "rss_before_stream_mib": round(base_kib / 1024, 1),
                "stream_increment_mib": round((peak_kib - base_kib) / 1024, 1),
                "current_rss_first_frame_mib": samples[0],
                "current_rss_max_while_streaming_mib": max(samples),
                "current_rss_last_mib": samples[-1],
                "wall_s": round(time.perf_counter() - t0, 2),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="frvsr", choices=["frvsr", "tecogan"])
    ap.add_argument("--frames", type=int, default=8, help="frames for the throughput runs (0: skip them)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch default)")
    ap.add_argument("--rss-frames", default="50,1000")
    ap.add_argument("--rss-size", default="36x48", help="LR HxW of the memory runs")
    ap.add_argument("--rss-blocks", type=int, default=2)
    ap.add_argument("--rss-nf", type=int, default=16)
    ap.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rss_size = tuple(int(v) for v in args.rss_size.split("x"))
    if args.rss_child:
        rss_child(args.rss_child, rss_size, args.rss_blocks, args.rss_nf)
        return
    h, w = 144, 180
    tp: list[dict] = []
    if args.frames > 0:
        fp32, a = throughput(args.preset, args.frames, "fp32", h, w)
        bf16, b = throughput(args.preset, args.frames, "bf16", h, w)
        bf16["max_abs_diff_vs_fp32"] = float(max((x - y).abs().max() for x, y in zip(a, b, strict=True)))
        bf16["max_abs_diff_uint8_levels"] = int(
            max(
                ((x.clamp(0, 1) * 255).round() - (y.clamp(0, 1) * 255).round()).abs().max()
                for x, y in zip(a, b, strict=True)
            )
        )
        tp = [fp32, bf16]
    rss = {}
    for n in (int(v) for v in args.rss_frames.split(",")):
        cmd = [
            sys.executable,
            __file__,
            "--rss-child",
            str(n),
            "--rss-size",
            args.rss_size,
            "--rss-blocks",
            str(args.rss_blocks),
            "--rss-nf",
            str(args.rss_nf),
        ]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        rss[str(n)] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    peaks = [v["peak_rss_mib"] for v in rss.values()]
    print(
        json.dumps(
            {
                "benchmark": "tecogan streaming upscaler (vidgan upscale)",
                "device": "cpu",
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "preset": args.preset,
                "lr_size": [h, w],
                "hr_size": [4 * h, 4 * w],
                "throughput": tp,
                "memory": {
                    "model": f"FRNet nf={args.rss_nf} blocks={args.rss_blocks} (FNet full width)",
                    "lr_size": list(rss_size),
                    "runs": rss,
                    "peak_ratio_max_over_min": round(max(peaks) / min(peaks), 4),
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
