"""Benchmark of TimeCycleGAN-P training and streaming translation (``vidgan.families.timecycle``); prints JSON.

1. Training iteration (the official benchmark's setting): resnet_9blocks/64 generator, basic/64 PatchGAN frame D,
   64x64, blocks of 5 frames, batch 1, sequence D over all 5 frames, TimeCycle weight 10 (the ``p`` preset:
   + L1 10, feature matching 10, TimeCycle warp term 1, TimeCycle frame-D term). One iteration = D phase +
   G phase with their Adam steps, exactly as the engine runs them (freeze, zero_grad, backward, step), in fp32
   and under bf16 autocast. Median over ``--iters`` after ``--warmup`` iterations. The VGG term is skipped at
   weight 0 (the official code computes VGG19 every step even at weight 0; its 3.29 s includes it).
2. Peak RSS of a fresh child process that runs the fp32 iterations (imports + model + optimizer state + step).
3. Translation inference: frames/s of the streaming recurrent generator at 256x256 (fp32, bf16).

The CPU may be shared: ``os.getloadavg()`` is reported before and after. Usage:
``nice python benchmarks/bench_timecycle.py [--threads 2] [--iters 5] [--warmup 2] [--single-thread-reference]
[--omp-passive]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import types

# Shared CPUs: with OpenMP's default (active, spinning) wait policy a descheduled sibling thread stalls every
# barrier: fp32 iterations at 2 threads were measured from 1.2 s (load average 0.9) to 27 s (load 3-5), bf16 up to
# 75 s. --omp-passive (threads sleep at barriers; set before torch loads OpenMP) steadied fp32 at 2.3-4 s under
# load 4-6 but slowed bf16 there. On an idle machine the default is fastest and is what the figures compare.
if "--omp-passive" in sys.argv and "OMP_WAIT_POLICY" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import numpy as np  # noqa: E402
import torch  # noqa: E402

OFFICIAL = {"s_per_iteration": 3.29, "peak_rss_gb": 1.1}


def _parts():
    from vidgan.core.config import from_dict
    from vidgan.families import timecycle as T

    torch.manual_seed(0)
    cfg = from_dict(T.Config, T.PRESETS["p"]["family"])
    data = types.SimpleNamespace(sampler="translation", pairing="paired", frames=5, size=64)
    return cfg, T.build(cfg, data)


def _batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    shape = (1, 3, 5, 64, 64)
    return {
        "source": torch.randint(0, 256, shape, generator=g, dtype=torch.uint8),
        "target": torch.randint(0, 256, shape, generator=g, dtype=torch.uint8),
    }


def iteration(parts, batch, step: int, dtype: str) -> None:
    from vidgan.families.api import StepContext

    ctx = StepContext(step, step, torch.Generator().manual_seed(step))
    for ph in parts.objective.phases:
        for role, m in parts.modules.items():
            m.requires_grad_(role in ph.modules)
        opt = parts.optimizers[ph.optimizer]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
            terms = parts.objective(ph.name, batch, parts.modules, ctx)
        sum(t.float() for t in terms.values()).backward()
        opt.step()
    for m in parts.modules.values():
        m.requires_grad_(True)


def train_timing(dtype: str, warmup: int, iters: int) -> dict:
    _, parts = _parts()
    batch = _batch()
    for i in range(warmup):
        iteration(parts, batch, i, dtype)
    times, cpu = [], []
    for i in range(iters):
        t0, c0 = time.perf_counter(), time.process_time()
        iteration(parts, batch, warmup + i, dtype)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med = statistics.median(times)
    return {
        "dtype": dtype,
        "threads": torch.get_num_threads(),
        "median_s_per_iteration": round(med, 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "median_cpu_s_per_iteration": round(statistics.median(cpu), 3),  # all threads; spin-waits included
        "speedup_vs_official": round(OFFICIAL["s_per_iteration"] / med, 2),
        "speedup_vs_official_best": round(OFFICIAL["s_per_iteration"] / min(times), 2),
    }


def rss_child(iters: int) -> None:
    _, parts = _parts()
    batch = _batch()
    for i in range(iters):
        iteration(parts, batch, i, "fp32")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mib": round(peak_kib / 1024, 1), "iterations": iters}))


def inference(dtype: str, frames: int, size: int) -> dict:
    from vidgan.families.api import StreamOptions

    _, parts = _parts()
    stream = parts.stream(parts.modules, StreamOptions(dtype=dtype))
    rng = np.random.default_rng(0)
    video = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(frames + 1)]
    it = stream(video)
    next(it)  # first frame: warm-up (allocations, placeholder draw)
    t0 = time.perf_counter()
    n = sum(1 for _ in it)
    dt = time.perf_counter() - t0
    return {"dtype": dtype, "size": size, "frames": n, "frames_per_s": round(n / dt, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--infer-frames", type=int, default=6)
    ap.add_argument("--infer-size", type=int, default=256)
    ap.add_argument("--omp-passive", action="store_true", help="OMP_WAIT_POLICY=PASSIVE (heavily shared CPUs)")
    ap.add_argument("--single-thread-reference", action="store_true", help="also time 1 thread (shared CPUs)")
    ap.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.rss_child:
        rss_child(args.rss_child)
        return
    load_before = os.getloadavg()
    train = [train_timing("fp32", args.warmup, args.iters), train_timing("bf16", args.warmup, args.iters)]
    if args.single_thread_reference and args.threads != 1:
        # contention-robust reference: one thread cannot be slowed by a descheduled sibling thread
        torch.set_num_threads(1)
        train += [train_timing("fp32", 1, args.iters), train_timing("bf16", 1, args.iters)]
        torch.set_num_threads(args.threads)
    cmd = [sys.executable, __file__, "--rss-child", str(args.warmup + 1), "--threads", str(args.threads)]
    cmd += ["--omp-passive"] if args.omp_passive else []
    rss = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    infer = [inference(d, args.infer_frames, args.infer_size) for d in ("fp32", "bf16")]
    load_after = os.getloadavg()
    cfg, parts = _parts()
    print(
        json.dumps(
            {
                "benchmark": "TimeCycleGAN-P training iteration + streaming translation",
                "device": "cpu",
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default (active)"),
                "loadavg_before": [round(v, 2) for v in load_before],
                "loadavg_after": [round(v, 2) for v in load_after],
                "setting": {
                    "generator": f"{cfg.generator}/{cfg.ngf}",
                    "discriminator": f"{cfg.discriminator}/{cfg.ndf}",
                    "size": 64,
                    "frames": 5,
                    "batch": 1,
                    "seq_d_frames": 5,
                    "tc_weight": cfg.tc_weight,
                    "weights": {
                        "l1": cfg.l1_weight,
                        "fm": cfg.fm_weight,
                        "tc_warp": cfg.tc_warp_weight,
                        "vgg": cfg.vgg_weight,
                    },
                    "parameters": {r: sum(p.numel() for p in m.parameters()) for r, m in parts.modules.items()},
                },
                "official": OFFICIAL,
                "train": train,
                "targets": {"fp32_speedup": 1.5, "bf16_speedup": 2.5},
                "memory": {**rss, "vs_official_1.1GB": round(rss["peak_rss_mib"] / 1024 / OFFICIAL["peak_rss_gb"], 3)},
                "inference": infer,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
