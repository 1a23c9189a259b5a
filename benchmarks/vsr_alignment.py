"""Measure the pixel alignment of VSR LR inputs against the model's upsampling skip (docs/vsr-alignment.md).

    python benchmarks/vsr_alignment.py                        # best-aligning shifts (HR pixels), ~30 s on CPU
    python benchmarks/vsr_alignment.py --checkpoint RUN_DIR   # + a trained BD model on the same inputs

A smooth analytic HR image f(y, x) (a sum of low-frequency sinusoids) is sampled at the integer HR pixel
centres, degraded to LR (BD = ``degrade(bd)``, the training degradation; BI = ``degrade(bi)``, MATLAB-style
bicubic; area = OpenCV ``INTER_AREA`` by 1/4, what ``vidgan prepare --size`` does), upsampled with the
TecoGAN BD skip (``upsample_bicubic``: TF-style, top-left aligned) and with the BI skip (bilinear,
``align_corners=False``), and compared with f evaluated at shifted positions: the reported (dy, dx) minimises
the interior MSE between ``up[y, x]`` and ``f(y + dy, x + dx)``, i.e. the upsampled frame shows the content of
HR position p + d at pixel p, so it lines up with the ground truth after moving it by +d (down/right).
Searched on a 0.01-px grid. Also reported: area-resized LR resampled by -3/8 LR pixel (the correction an
``upscale --input-resample area`` option would apply) before the BD skip, and the same skips on real frames.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vidgan.data.degradations import degrade
from vidgan.nn.bicubic import upsample_bicubic

SIZE, SCALE, MARGIN = 192, 4, 24
# (amplitude, frequency y, frequency x, phase) in cycles per HR pixel: low enough for the LR grid (Nyquist 1/8)
WAVES = ((0.20, 0.013, 0.021, 0.3), (0.15, -0.017, 0.011, 1.1), (0.10, 0.029, 0.007, 2.0), (0.08, 0.005, -0.031, 0.7))


def field(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The analytic HR image at (fractional) pixel positions, values in [0.05, 0.95]."""
    out = np.full(np.broadcast(y, x).shape, 0.5)
    for a, fy, fx, ph in WAVES:
        out = out + a * np.sin(2 * np.pi * (fy * y + fx * x) + ph)
    return out


def hr_frame() -> torch.Tensor:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    return torch.from_numpy(field(yy, xx)).float()[None, None].repeat(1, 3, 1, 1)


def make_lr(hr: torch.Tensor, how: str) -> torch.Tensor:
    if how in ("bd", "bi"):
        return degrade(hr, how, scale=SCALE)
    if how == "bd_opencv":
        return degrade(hr, "bd", scale=SCALE, bd_variant="opencv")
    if how == "area":
        img = hr[0].permute(1, 2, 0).numpy()
        small = cv2.resize(img, (img.shape[1] // SCALE, img.shape[0] // SCALE), interpolation=cv2.INTER_AREA)
        return torch.from_numpy(small).permute(2, 0, 1)[None].float()
    raise ValueError(how)


def pre_shift(lr: torch.Tensor, shift: float) -> torch.Tensor:
    """Resample ``lr`` at LR coordinate ``i + shift`` (both axes) with the TF-style cubic, replicate edges."""
    n, c, h, w = lr.shape
    ys = torch.arange(h, dtype=torch.float64) + shift
    xs = torch.arange(w, dtype=torch.float64) + shift
    grid_y = (2 * ys + 1) / h - 1  # align_corners=False normalisation of pixel centres
    grid_x = (2 * xs + 1) / w - 1
    gy, gx = torch.meshgrid(grid_y, grid_x, indexing="ij")
    grid = torch.stack([gx, gy], -1)[None].to(lr.dtype).expand(n, h, w, 2)
    return F.grid_sample(lr, grid, mode="bicubic", padding_mode="border", align_corners=False)


def best_shift(up: torch.Tensor) -> tuple[float, float, float]:
    """(dy, dx, psnr_db) minimising the interior MSE of up[p] against field(p + d); dB at the best shift."""
    img = up[0].mean(0).double().numpy()
    m = MARGIN
    yy, xx = np.mgrid[m : SIZE - m, m : SIZE - m].astype(np.float64)
    patch = img[m : SIZE - m, m : SIZE - m]

    def err(dy: float, dx: float) -> float:
        return float(np.mean((patch - field(yy + dy, xx + dx)) ** 2))

    best = (0.0, 0.0)
    for step, span in ((0.25, 3.0), (0.05, 0.3), (0.01, 0.06)):
        cy, cx = best
        grid = np.arange(-span, span + 1e-9, step)
        cands = [(cy + a, cx + b) for a in grid for b in grid]
        best = min(cands, key=lambda d: err(*d))
    mse = err(*best)
    return round(best[0], 2), round(best[1], 2), round(10 * np.log10(1.0 / mse), 2)


def _row(up: torch.Tensor) -> dict[str, float]:
    dy, dx, psnr = best_shift(up)
    ref = field(*np.mgrid[0:SIZE, 0:SIZE].astype(np.float64))
    d = (up[0].mean(0).double().numpy() - ref)[MARGIN:-MARGIN, MARGIN:-MARGIN]
    return {"dy": dy, "dx": dx, "psnr_at_best_shift": psnr, "psnr_unshifted": round(-10 * np.log10(np.mean(d**2)), 2)}


def measure() -> dict[str, dict[str, float]]:
    hr = hr_frame()
    rows = {}
    for how in ("bd", "bd_opencv", "bi", "area"):
        lr = make_lr(hr, how)
        rows[f"{how} -> bicubic_tf"] = _row(upsample_bicubic(lr, SCALE))
        bil = F.interpolate(lr, scale_factor=SCALE, mode="bilinear", align_corners=False)
        rows[f"{how} -> bilinear_half_pixel"] = _row(bil)
    rows["area pre-shifted -3/8 LR px -> bicubic_tf"] = _row(upsample_bicubic(pre_shift(make_lr(hr, "area"), -0.375)))
    return rows


def natural(folder: Path, checkpoint: str | None = None) -> dict[str, dict[str, float]]:
    """Real frames (e.g. the 41 Vid4 calendar frames in ../shared/data/vid4_calendar_lr) as ground truth: mean
    PSNR-Y (float studio Y, 8-px border crop, uint8 outputs) of the upsampling skips, and for area LR with the
    BD skip the best integer output shift (dy, dx) in 0..2 and its PSNR on the same window."""
    from PIL import Image

    from vidgan.metrics.psnr_ssim import psnr_y_teco

    files = sorted(p for p in folder.iterdir() if p.suffix == ".png")
    gt = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in files])
    hr = torch.from_numpy(gt).permute(0, 3, 1, 2).float() / 255.0

    def u8(x: torch.Tensor) -> np.ndarray:
        return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()

    def lr_of(how: str) -> torch.Tensor:
        lr = torch.cat([make_lr(hr[i : i + 1], how) for i in range(len(hr))])
        return torch.from_numpy(u8(lr)).permute(0, 3, 1, 2).float() / 255.0  # stored as uint8 PNG

    m = 8

    def score(out: np.ndarray, dy: int = 0, dx: int = 0) -> float:
        h, w = gt.shape[1:3]
        win = (slice(m, h - m), slice(m, w - m))
        moved = (slice(m - dy, h - m - dy), slice(m - dx, w - m - dx))
        return float(np.mean([psnr_y_teco(g[win], o[moved]) for g, o in zip(gt, out)]))

    rows: dict[str, dict[str, float]] = {}
    for how in ("bd", "area", "bi"):
        lr = lr_of(how)
        rows[f"{how} -> bicubic_tf"] = {"psnr": round(score(u8(upsample_bicubic(lr, SCALE))), 3)}
        bil = F.interpolate(lr, scale_factor=SCALE, mode="bilinear", align_corners=False)
        rows[f"{how} -> bilinear_half_pixel"] = {"psnr": round(score(u8(bil)), 3)}
    area = lr_of("area")
    up = u8(upsample_bicubic(area, SCALE))
    best = max(((dy, dx) for dy in range(3) for dx in range(3)), key=lambda d: score(up, *d))
    rows["area -> bicubic_tf, output moved by best integer shift"] = {
        "dy": best[0],
        "dx": best[1],
        "psnr": round(score(up, *best), 3),
    }
    up = u8(upsample_bicubic(pre_shift(area, -3.0 / 8.0), SCALE))
    rows["area pre-shifted -3/8 LR px -> bicubic_tf"] = {"psnr": round(score(up), 3)}
    if checkpoint:  # the same inputs through a trained model (streamed like `vidgan upscale`)
        from vidgan.families.tecogan.stream import StreamingUpscaler, load_upscaler

        model, _ = load_upscaler(checkpoint, "cpu")

        def run(lr: torch.Tensor) -> np.ndarray:
            return np.stack(list(StreamingUpscaler(model).upscale(iter(u8(lr)))))

        rows["bd -> model"] = {"psnr": round(score(run(lr_of("bd"))), 3)}
        out = run(area)
        rows["area -> model"] = {"psnr": round(score(out), 3)}
        best = max(((dy, dx) for dy in range(3) for dx in range(3)), key=lambda d: score(out, *d))
        rows["area -> model, output moved by best integer shift"] = {
            "dy": best[0],
            "dx": best[1],
            "psnr": round(score(out, *best), 3),
        }
        shifted = torch.from_numpy(u8(pre_shift(area, -3.0 / 8.0))).permute(0, 3, 1, 2).float() / 255.0
        rows["area pre-shifted -3/8 LR px -> model"] = {"psnr": round(score(run(shifted)), 3)}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--frames",
        default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "vid4_calendar_lr"),
        help="folder of real frames for the natural-image table (skipped when absent)",
    )
    ap.add_argument("--checkpoint", default=None, help="also run these inputs through a BD TecoGAN/FRVSR checkpoint")
    args = ap.parse_args()
    rows = measure()
    nat = natural(Path(args.frames), args.checkpoint) if Path(args.frames).is_dir() else {}
    if args.json:
        print(json.dumps({"analytic": rows, "natural": nat}, indent=1))
        return
    print(f"{'LR -> skip (analytic smooth image)':48s} {'dy':>6s} {'dx':>6s} {'dB@best':>8s} {'dB@0':>7s}")
    for k, r in rows.items():
        print(f"{k:48s} {r['dy']:6.2f} {r['dx']:6.2f} {r['psnr_at_best_shift']:8.2f} {r['psnr_unshifted']:7.2f}")
    if nat:
        print(f"\n{'LR -> skip (' + Path(args.frames).name + ', PSNR-Y dB)':56s} {'psnr':>7s}")
        for k, r in nat.items():
            extra = f"  (dy, dx) = ({r['dy']}, {r['dx']})" if "dy" in r else ""
            print(f"{k:56s} {r['psnr']:7.3f}{extra}")


if __name__ == "__main__":
    main()
