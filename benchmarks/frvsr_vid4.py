"""Does a CPU-budget FRVSR beat bicubic on held-out real content? (TecoGAN issue proof.)

Ground truth: the 41 Vid4 "calendar" frames in ``../shared/data/vid4_calendar_lr`` (180x144); LR: their x4
BD degradation (Gaussian sigma 1.5, official test-time OpenCV variant). Reports the official TecoGAN-protocol
PSNR-Y (``psnr_y_teco``: float Y, crop_8x8 border, first/last 2 frames skipped) and SSIM-Y for bicubic
upsampling (the network's own TF-style bicubic skip) and for the model, as JSON.

    python benchmarks/frvsr_vid4.py --checkpoint runs/frvsr [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vidgan.data.degradations import degrade
from vidgan.families.tecogan.stream import StreamingUpscaler, load_upscaler
from vidgan.metrics.vsr import evaluate_vsr_videos
from vidgan.nn.bicubic import upsample_bicubic


def _u8(x: torch.Tensor) -> np.ndarray:  # (T, C, H, W) in [0, 1] -> (T, H, W, C) uint8
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="vidgan checkpoint or run directory of a tecogan model")
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1] / ".." / "shared"))
    args = ap.parse_args()
    frames_dir = Path(args.shared) / "data" / "vid4_calendar_lr"
    gt = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in sorted(frames_dir.glob("*.png"))])
    hr = torch.from_numpy(gt).permute(0, 3, 1, 2).float() / 255.0  # (T, 3, 144, 180)
    lr = degrade(hr, "bd", scale=4, sigma=1.5, bd_variant="opencv")  # (T, 3, 36, 45)
    lr_u8 = _u8(lr)
    bicubic = _u8(upsample_bicubic(torch.from_numpy(lr_u8).permute(0, 3, 1, 2).float() / 255.0, 4))
    model, cfg = load_upscaler(args.checkpoint, "cpu")
    t0 = time.time()
    out = np.stack(list(StreamingUpscaler(model).upscale(iter(lr_u8))))
    seconds = time.time() - t0
    results = {}
    for name, video in (("bicubic", bicubic), ("model", out)):
        res = evaluate_vsr_videos({"calendar": video}, {"calendar": gt}, metrics=("psnr_y_teco", "ssim_y_teco"))
        results[name] = {r.metric: round(r.value, 4) for r in res}
    print(json.dumps({"checkpoint": str(args.checkpoint), "frames": int(gt.shape[0]), "gt_size": list(gt.shape[1:3]),
                      "lr_size": list(lr_u8.shape[1:3]), "upscale_seconds": round(seconds, 2), **results}, indent=1))


if __name__ == "__main__":
    main()
