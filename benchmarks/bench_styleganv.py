"""StyleGAN-V CPU benchmark (prints JSON): one training iteration at 64² with the paper's widths (G main + D main
+ EMA, batch 4 videos x 3 frames, Adam steps), the lazy R1 phase separately, fp32 and bf16 autocast (loss
agreement reported), peak RSS; generation frames/s of one 16-frame video at 64² and 256² (random weights).

    python benchmarks/bench_styleganv.py               # 2 threads, median of 3 iterations after 1 warm-up
    python benchmarks/bench_styleganv.py --iters 5 --threads 2

Each measurement runs in a child process (clean peak RSS, no allocator carry-over). The box may be shared:
``os.getloadavg()`` is printed beside the figures; compare ratios measured in one run.

Official reference on this CPU (official code, same settings, fp32): iteration 20.7 s (R1 8.75 s), 4.1 GB RSS;
generation 3.42 fps at 64², 1.41 fps at 256².
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

OFFICIAL = {"iter_fp32_s": 20.7, "r1_fp32_s": 8.75, "rss_gb": 4.1, "gen_fps_64": 3.42, "gen_fps_256": 1.41}


def _child_train(precision: str, iters: int, threads: int) -> dict:
    import dataclasses
    import types

    import torch

    from vidgan.engine.ema import make_ema, update_ema
    from vidgan.families.api import StepContext
    from vidgan.families.styleganv import Config, build

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = dataclasses.replace(Config(), aug="noaug")
    data = types.SimpleNamespace(size=64, frames=3, sampler="random_t", max_dist=32, source="x", video_frames=1024)
    parts = build(cfg, data)
    g, d = parts.modules["generator"], parts.modules["discriminator"]
    g.train()
    d.train()
    ema = make_ema(g)
    gen = torch.Generator().manual_seed(1)
    video = torch.randint(0, 256, (4, 3, 3, 64, 64), generator=gen, dtype=torch.uint8)
    times = torch.tensor([[0, 5, 17], [3, 4, 35], [10, 12, 14], [0, 16, 32]])
    batch = {"video": video, "times": times}
    amp = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else None
    phases = {p.name: p for p in parts.objective.phases}

    def run(name: str, step: int, update: bool = True) -> dict:
        ph = phases[name]
        ctx = StepContext(step=step, clips_seen=0, generator=torch.Generator().manual_seed(100 + step), batch_size=4)
        for role, m in parts.modules.items():
            m.requires_grad_(role in ph.modules)
        opt = parts.optimizers[ph.optimizer]
        opt.zero_grad(set_to_none=True)
        if amp is not None:
            with amp:
                terms = parts.objective(name, batch, parts.modules, ctx)
        else:
            terms = parts.objective(name, batch, parts.modules, ctx)
        loss = sum(t.float() for t in terms.values()) * (ph.interval if ph.lazy else 1)
        loss.backward()
        if update:
            opt.step()
        return {k: float(v.detach()) for k, v in terms.items()}

    # losses of each phase from the initial weights and identical draws, no optimizer step in between
    # (fp32 vs bf16 agreement); w_avg is the only state these calls change
    w_avg0 = g.mapping.w_avg.clone()
    first = {**run("Gmain", 0, False), **run("Dmain", 0, False), **run("Dreg", 0, False)}
    g.mapping.w_avg.copy_(w_avg0)
    it_times, r1_times = [], []
    for i in range(iters + 1):
        t0 = time.perf_counter()
        run("Gmain", i + 1)
        run("Dmain", i + 1)
        update_ema(ema, g, 4, 20_000)
        t1 = time.perf_counter()
        run("Dreg", i + 1)
        t2 = time.perf_counter()
        if i > 0:  # the first iteration is the warm-up
            it_times.append(t1 - t0)
            r1_times.append(t2 - t1)
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {
        "iter_s": statistics.median(it_times),
        "iter_min_s": min(it_times),
        "iter_all_s": it_times,
        "r1_s": statistics.median(r1_times),
        "r1_min_s": min(r1_times),
        "peak_rss_gb": rss_gb,
        "first_losses": first,
    }


def _child_generate(res: int, threads: int, reps: int, precision: str) -> dict:
    import contextlib

    import torch

    from vidgan.families.styleganv import Config, sample
    from vidgan.families.styleganv.generator import Generator

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    g = Generator(Config(), res).eval()
    amp = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
    times = []
    for i in range(reps + 1):
        t0 = time.perf_counter()
        with amp:
            v = sample(g, 1, 16, torch.Generator().manual_seed(i))
        times.append(time.perf_counter() - t0)
    assert v.shape == (1, 3, 16, res, res)
    t = statistics.median(times[1:])
    return {
        "fps": 16 / t,
        "fps_best": 16 / min(times[1:]),
        "video_s": t,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def _spawn(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gen-reps", type=int, default=3)
    ap.add_argument("--child", choices=["train", "gen"], default=None)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--res", type=int, default=64)
    a = ap.parse_args()
    if a.child == "train":
        print(json.dumps(_child_train(a.precision, a.iters, a.threads)))
        return
    if a.child == "gen":
        print(json.dumps(_child_generate(a.res, a.threads, a.gen_reps, a.precision)))
        return

    import torch

    res: dict = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "threads": a.threads,
            "loadavg_start": os.getloadavg(),
        },
        "official_reference": OFFICIAL,
    }
    common = ["--threads", str(a.threads)]
    train = {
        p: _spawn(["--child", "train", "--precision", p, "--iters", str(a.iters), *common]) for p in ("fp32", "bf16")
    }
    res["train_64"] = train
    f32, b16 = train["fp32"]["first_losses"], train["bf16"]["first_losses"]
    res["bf16_loss_rel_diff"] = {k: abs(b16[k] - f32[k]) / max(abs(f32[k]), 1e-12) for k in f32}
    res["loadavg_after_train"] = os.getloadavg()
    gen = {}
    for r in (64, 256):
        for p in ("fp32", "bf16"):
            gen[f"{r}_{p}"] = _spawn(
                ["--child", "gen", "--res", str(r), "--precision", p, "--gen-reps", str(a.gen_reps), *common]
            )
    res["generate_16f"] = gen
    res["loadavg_end"] = os.getloadavg()
    res["speedup_vs_official"] = {
        "iter_fp32": OFFICIAL["iter_fp32_s"] / train["fp32"]["iter_s"],
        "iter_fp32_best": OFFICIAL["iter_fp32_s"] / train["fp32"]["iter_min_s"],
        "iter_bf16_best": OFFICIAL["iter_fp32_s"] / train["bf16"]["iter_min_s"],
        "bf16_vs_fp32_same_run_median": train["fp32"]["iter_s"] / train["bf16"]["iter_s"],
        "iter_bf16": OFFICIAL["iter_fp32_s"] / train["bf16"]["iter_s"],
        "r1_fp32": OFFICIAL["r1_fp32_s"] / train["fp32"]["r1_s"],
        "r1_bf16": OFFICIAL["r1_fp32_s"] / train["bf16"]["r1_s"],
        "gen_64_fp32": gen["64_fp32"]["fps"] / OFFICIAL["gen_fps_64"],
        "gen_256_fp32": gen["256_fp32"]["fps"] / OFFICIAL["gen_fps_256"],
        "gen_64_bf16": gen["64_bf16"]["fps"] / OFFICIAL["gen_fps_64"],
        "gen_256_bf16": gen["256_bf16"]["fps"] / OFFICIAL["gen_fps_256"],
    }
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
