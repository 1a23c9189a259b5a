"""Benchmark of the streaming TecoGAN / FRVSR upscaler (``vidgan.families.tecogan.stream``); prints JSON.

1. Throughput: frames/s of 4x streaming inference, LR 180x144 -> HR 720x576 (Vid4 calendar size), fp32 and
   bf16 autocast (with the max abs difference of the float outputs vs fp32), random-init weights of the
   chosen preset (speed does not depend on the values). Wall time includes the 5 reflected warm-up steps;
   ``steady_frames_per_s`` excludes them.
2. Memory: peak RSS of a fresh process that streams a synthetic N-frame video (generated frame by frame,
   never held in memory) through the upscaler into an mp4 (VideoWriter), for N = 50 and N = 1000. The goal
   is equal peaks (within 10 %): memory must not grow with the length. To keep the 1000-frame run short
   on a CPU this uses a reduced model (``--rss-blocks``/``--rss-nf``) at a reduced size (``--rss-size``).

3. ``--compare``: the previous path (``FRNet.step`` on the NCHW model, bf16 by autocast; ``fast=False``)
   against the default fused channels_last copy (``FastFRNet``), fp32 and bf16, in alternating rounds in
   one process (the machine is shared: only ratios measured side by side mean something), with the load
   average and each variant's process CPU seconds per frame. ``--compile`` adds ``torch.compile`` of the
   fast step (compile time reported).
4. ``--profile``: one frame's wall time per stage (FNet, flow upsampling, warp, space-to-depth, SRNet
   parts, bicubic skip) for both paths, torch.profiler's top operators, the convolution FLOPs per frame
   (torch's FLOP counter) and the fraction of this machine's matmul peak (``benchmarks/run.py``'s
   ``matmul_peak``, measured in the same process) that the generator's convolutions reach.

Usage: ``nice python benchmarks/bench_tecogan.py [--preset frvsr] [--frames 8] [--threads 2]``,
``python benchmarks/bench_tecogan.py --compare --profile --frames 20 --rss-frames ""``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
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


def _model(preset: str):
    from vidgan.core.config import from_dict
    from vidgan.families.tecogan import PRESETS, Config, build_generator

    torch.manual_seed(0)
    return build_generator(from_dict(Config, PRESETS[preset]["family"])).eval()


def throughput(
    preset: str, frames: int, dtype: str, h: int, w: int, fast: bool = True, up=None
) -> tuple[dict, list[torch.Tensor]]:
    from vidgan.families.tecogan.stream import StreamingUpscaler

    up = up or StreamingUpscaler(_model(preset), dtype=dtype, fast=fast)
    outs, stamps = [], []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for y in up.upscale_float(synthetic_frames(frames, h, w)):
        outs.append(y)
        stamps.append(time.perf_counter())
    total = stamps[-1] - t0
    steady = (stamps[-1] - stamps[0]) / max(len(stamps) - 1, 1)  # after the warm-up + first frame
    return {
        "dtype": dtype,
        "fast": up.fast,
        "frames": frames,
        "wall_s": round(total, 3),
        "frames_per_s": round(frames / total, 4),
        "steady_frames_per_s": round(1.0 / steady, 4) if len(stamps) > 1 else None,
        "process_cpu_s_per_frame": round((time.process_time() - cpu0) / (frames + up.warmup), 4),
    }, outs


def compare(preset: str, frames: int, rounds: int, h: int, w: int, with_compile: bool) -> dict:
    """Previous vs fast path, fp32 and bf16, alternating rounds (after one warm-up stream each)."""
    from vidgan.families.tecogan.stream import StreamingUpscaler

    model = _model(preset)
    ups = {
        "previous_fp32": StreamingUpscaler(model, dtype="fp32", fast=False),
        "fast_fp32": StreamingUpscaler(model, dtype="fp32"),
        "previous_bf16": StreamingUpscaler(model, dtype="bf16", fast=False),
        "fast_bf16": StreamingUpscaler(model, dtype="bf16"),
    }
    extra = {}
    if with_compile:
        for dt in ("fp32", "bf16"):
            up = StreamingUpscaler(model, dtype=dt, compile=True)
            t = time.perf_counter()
            list(up.upscale_float(synthetic_frames(2, h, w)))
            extra[f"compile_{dt}_first_2_frames_s"] = round(time.perf_counter() - t, 1)
            ups[f"compiled_{dt}"] = up
    outs = {}
    for k, up in ups.items():  # warm-up stream + the outputs compared below
        outs[k] = list(up.upscale_float(synthetic_frames(3, h, w)))
    ref = outs["previous_fp32"]

    def maxdiff(k: str) -> float:
        return float(max((a - b).abs().max() for a, b in zip(outs[k], ref, strict=True)))

    load0 = os.getloadavg()
    runs: dict[str, list[dict]] = {k: [] for k in ups}
    for _ in range(rounds):
        for k, up in ups.items():
            runs[k].append(throughput(preset, frames, up.dtype, h, w, up=up)[0])
    res = {}
    for k, rs in runs.items():
        fps = statistics.median(r["frames_per_s"] for r in rs)
        prev = statistics.median(r["frames_per_s"] for r in runs["previous_" + k.split("_")[-1]])
        res[k] = {
            "frames_per_s_median": round(fps, 4),
            "frames_per_s_all": [r["frames_per_s"] for r in rs],
            "steady_frames_per_s_median": round(statistics.median(r["steady_frames_per_s"] for r in rs), 4),
            "process_cpu_s_per_frame_median": round(statistics.median(r["process_cpu_s_per_frame"] for r in rs), 4),
            "speedup_vs_previous_same_dtype": round(fps / prev, 3),
            "speedup_vs_previous_fp32": round(
                fps / statistics.median(r["frames_per_s"] for r in runs["previous_fp32"]), 3
            ),
            "max_abs_diff_vs_previous_fp32": maxdiff(k),
        }
    return {
        "frames": frames,
        "rounds": rounds,
        "frames_per_s": "frames / wall seconds including the 5 reflected warm-up steps (as throughput)",
        "loadavg_start_end": [list(load0), list(os.getloadavg())],
        **extra,
        "variants": res,
    }


def _staged_step(net, lr, lr_prev, hr_prev, stamp) -> torch.Tensor:
    """``FRNet.step`` split into stages (the same calls as FRNet.step / SRNet.forward)."""
    from vidgan.nn.space_to_depth import space_to_depth
    from vidgan.nn.warp import backward_warp

    sr = net.srnet
    flow = stamp("fnet", lambda: net.flow(lr, lr_prev))
    hr_flow = stamp("flow x4 (bicubic) + scale", lambda: net.hr_flow(flow))
    warped = stamp("warp (grid_sample)", lambda: backward_warp(hr_prev, hr_flow))
    s2d = stamp("space_to_depth + cat", lambda: torch.cat([lr, space_to_depth(warped, net.scale)], dim=1))
    x = stamp("srnet conv_in", lambda: sr.conv_in(s2d))
    x = stamp("srnet resblocks", lambda: sr.resblocks(x))
    x = stamp("srnet conv_up (2 transposed convs)", lambda: sr.conv_up(x))
    y = stamp("srnet conv_out (64->3 at HR)", lambda: sr.conv_out(x))
    skip = stamp("bicubic skip x4", lambda: sr.upsample_func(lr))
    return stamp("add skip", lambda: (y + skip).float())


_CONV_STAGES = (
    "fnet",
    "srnet conv_in",
    "srnet resblocks",
    "srnet conv_up (2 transposed convs)",
    "srnet conv_out (64->3 at HR)",
)


def _matmul_peak() -> dict:
    spec = importlib.util.spec_from_file_location("_bench_run", Path(__file__).with_name("run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.matmul_peak("cpu")


def profile(preset: str, h: int, w: int, repeats: int) -> dict:
    """Per-stage wall time of one frame (median of ``repeats``), top operators, FLOPs, fraction of peak."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as tprofile
    from torch.utils.flop_counter import FlopCounterMode

    from vidgan.families.tecogan.fused import FastFRNet

    model = _model(preset)
    torch.manual_seed(1)
    lr, lr_prev, hr_prev = torch.rand(1, 3, h, w), torch.rand(1, 3, h, w), torch.rand(1, 3, 4 * h, 4 * w)
    flops: dict[str, int] = {}

    def count(name, fn):
        with FlopCounterMode(display=False) as fc:
            out = fn()
        flops[name] = fc.get_total_flops()
        return out

    with torch.no_grad():
        _staged_step(model, lr, lr_prev, hr_prev, count)
    peak = _matmul_peak()
    out: dict = {
        "load_start": list(os.getloadavg()),
        "conv_gflop_per_frame": {k: round(v / 1e9, 3) for k, v in flops.items() if v},
        "matmul_peak_gflops": {k: round(v, 1) for k, v in peak.items()},
        "paths": {},
    }
    conv_gflop = sum(flops[k] for k in _CONV_STAGES) / 1e9
    for dtype in ("fp32", "bf16"):
        paths = {"previous": (model, torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"))}
        paths["fast"] = (FastFRNet(model, dtype).net, torch.autocast("cpu", enabled=False))
        for name, (net, ac) in paths.items():
            times: dict[str, list[float]] = {}

            def stamp(stage, fn, times=times):
                t = time.perf_counter()
                r = fn()
                times.setdefault(stage, []).append(time.perf_counter() - t)
                return r

            with torch.no_grad(), ac:
                for _ in range(repeats + 1):
                    _staged_step(net, lr, lr_prev, hr_prev, stamp)
                with tprofile(activities=[ProfilerActivity.CPU]) as prof:
                    _staged_step(net, lr, lr_prev, hr_prev, lambda s, fn: fn())
            med = {k: statistics.median(v[1:]) for k, v in times.items()}
            total = sum(med.values())
            conv_s = sum(med[k] for k in _CONV_STAGES)
            ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:12]
            out["paths"][f"{name}_{dtype}"] = {
                "stage_ms": {k: round(1e3 * v, 1) for k, v in med.items()},
                "stage_fraction": {k: round(v / total, 3) for k, v in med.items()},
                "frame_ms": round(1e3 * total, 1),
                "conv_gflops_achieved": round(conv_gflop / conv_s, 1),
                "conv_fraction_of_peak": round(conv_gflop / conv_s / peak[f"{dtype}_gflops"], 3),
                "top_ops_self_ms": {e.key: round(e.self_cpu_time_total / 1e3, 1) for e in ops},
            }
    out["load_end"] = list(os.getloadavg())
    return out


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
    ap.add_argument("--compare", action="store_true", help="previous vs fast path, alternating rounds")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of --compare")
    ap.add_argument("--compile", action="store_true", help="--compare also times torch.compile of the fast step")
    ap.add_argument("--profile", action="store_true", help="per-stage breakdown, FLOPs and fraction of peak")
    ap.add_argument("--profile-repeats", type=int, default=3)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rss_size = tuple(int(v) for v in args.rss_size.split("x"))
    if args.rss_child:
        rss_child(args.rss_child, rss_size, args.rss_blocks, args.rss_nf)
        return
    h, w = 144, 180
    extra: dict = {}
    if args.profile:
        extra["profile"] = profile(args.preset, h, w, args.profile_repeats)
    if args.compare:
        extra["compare"] = compare(args.preset, args.frames, args.rounds, h, w, args.compile)
        args.frames = 0
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
    for n in (int(v) for v in args.rss_frames.split(",") if v):
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
    peaks = [v["peak_rss_mib"] for v in rss.values()] or [1.0]
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
                **extra,
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
