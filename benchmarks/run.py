"""vidgan's benchmark suite: one JSON document of what this machine does with vidgan, against its own limit.

    python benchmarks/run.py --quick              # < 5 min on 2 CPU cores: tiny/CPU-sized presets
    python benchmarks/run.py --out bench.json     # the full set (CPU-sized and released presets)
    python benchmarks/run.py --quick --device cuda

Contents:
* machine: CPU model, cores, threads, torch version, device, load average before/after; git commit;
* peak: measured matmul GFLOP/s at 2048^2 in fp32 and bf16 (the machine's limit the rest is read against);
* train: per family preset, fp32 and bf16 autocast: amortised iteration seconds (every phase, lazy ones
  divided by their interval; ``vidgan.engine.profile``), FLOPs of one iteration (torch's FLOP counter,
  convolutions and matmuls), achieved GFLOP/s and the fraction of the peak in that dtype, and peak RSS of a
  child process that ran only that measurement;
* infer: per family, frames/s of ``generate`` (unconditional) or of the streaming ``upscale``/``translate``
  (random weights, ``--random-init``), fp32 and bf16;
* data: clips/s of the training data loader on real mp4 files written for the run;
* metrics: I3D feature clips/s, Fréchet distance at d = 2048 (seconds), tOF and LPIPS frames/s.

Every time is the median of the measured repeats after a warm-up. On a shared machine quote ratios measured in
one run (fp32 vs bf16), with the load average beside any absolute figure.
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
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (family:preset, overrides, inference size) measured by --quick; the full run adds the released sizes
QUICK = [
    ("tganv2:tiny", ["train.batch_size=4"], None),
    ("tganv2:port_parity_64", ["train.batch_size=8"], None),
    ("tecogan:tiny", ["train.batch_size=2"], (36, 45)),
    ("styleganv:styleganv_64", ["train.batch_size=4"], None),  # the official benchmark setting: 4 videos x 3 frames
    ("timecycle:p", ["data.size=64", "train.batch_size=1"], (64, 64)),
]
FULL = [
    *QUICK,
    ("tganv2:port_parity_64", ["train.batch_size=32"], None),
    ("tecogan:frvsr", ["train.batch_size=4", "data.frames=5", "data.size=64"], (144, 180)),
]


def machine() -> dict:
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "git_commit": commit,
        "loadavg_start": list(os.getloadavg()),
    }


def _median_time(fn, repeats: int, warmup: int = 1, sync=None) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if sync:
            sync()
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_peak(device: str, n: int = 2048, repeats: int = 5) -> dict:  # noqa: D401
    """GFLOP/s of an n x n matmul in fp32 and bf16 (2 n^3 flops)."""
    import torch

    out = {}
    sync = torch.cuda.synchronize if device == "cuda" else None
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        sec = _median_time(lambda a=a, b=b: a @ b, repeats, sync=sync)
        out[f"{name}_gflops"] = 2 * n**3 / sec / 1e9
    return out


# --------------------------------------------------------------------------------- child measurements
def _child(kind: str, spec: str, overrides: list[str], amp: str, device: str, steps: int, size) -> dict:
    """Run one measurement in a fresh process (clean peak RSS); returns its JSON."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--spec",
        spec,
        "--amp",
        amp,
        "--device",
        device,
        "--steps",
        str(steps),
        "--overrides",
        json.dumps(overrides),
        "--size",
        json.dumps(size),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_train(spec: str, overrides: list[str], amp: str, device: str, steps: int) -> dict:
    import torch
    from torch.utils.data import default_collate

    from vidgan.engine.config import resolve_run_config
    from vidgan.engine.profile import profile_iteration
    from vidgan.engine.trainer import _Trainer, pick_device, run_dataset, to_device

    cfg = resolve_run_config(spec, [*overrides, f"train.amp={amp}"])
    dev = pick_device(device)
    ds = run_dataset(cfg)
    prof = profile_iteration(cfg, steps=steps, warmup=1, device=dev, dataset=ds)
    # FLOPs of each phase (one more iteration with every phase), amortised by the phases' intervals
    with tempfile.TemporaryDirectory() as tmp:
        t = _Trainer(cfg, Path(tmp), ds, dev, None, False)
        t.run_every_phase = True
        t.phase_flops = {}
        b = cfg.train.batch_size
        t.iteration(to_device(default_collate([ds[(k % len(ds), k)] for k in range(b)]), dev))
        if t.logger is not None:
            t.logger.close()
    # phases the counter cannot follow (R1's autograd.grad) are left out of the FLOPs and of the time they divide
    counted = {k: f for k, f in t.phase_flops.items() if f is not None}
    amortised_flops = sum(f / prof["phase_intervals"][k] for k, f in counted.items())
    counted_sec = sum(prof["phase_seconds"][k] / prof["phase_intervals"][k] for k in counted)
    sec = prof["iteration_seconds_amortised"]
    return {
        "iteration_seconds": sec,
        "phase_seconds": prof["phase_seconds"],
        "phase_intervals": prof["phase_intervals"],
        "clips_per_second": prof["clips_per_second"],
        "flops_per_iteration": amortised_flops,
        "phase_flops": t.phase_flops,
        "flops_note": "torch FlopCounterMode (conv/matmul, forward+backward) per phase, lazy phases / interval",
        "gflops_achieved": amortised_flops / counted_sec / 1e9 if counted_sec else None,
        "phases_not_counted": sorted(k for k, f in t.phase_flops.items() if f is None),
        "peak_rss_mb": _peak_rss_mb(),
        "parameters": {k: sum(p.numel() for p in m.parameters()) for k, m in t.parts.modules.items()},
        "threads": torch.get_num_threads(),
    }


def child_infer(spec: str, overrides: list[str], amp: str, device: str, steps: int, size) -> dict:
    import numpy as np
    import torch

    from vidgan.families.api import SampleOptions, StreamOptions
    from vidgan.sampling.inference import random_model

    dev = torch.device(device if device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    got = random_model(spec, dev, use="all")
    parts = got.parts
    frames = 16
    if parts.sample is not None:
        gen = got.modules[parts.sample_role]
        g = torch.Generator(device=dev).manual_seed(0)

        def run():
            with torch.no_grad(), torch.autocast(dev.type, torch.bfloat16, enabled=amp == "bf16"):
                out = parts.sample(gen, 1, frames, g, SampleOptions())
                if not isinstance(out, torch.Tensor):
                    out = torch.cat(list(out), dim=2)
            return out

        sec = _median_time(run, steps)
        return {"frames_per_second": frames / sec, "task": "generate", "frames": frames, "peak_rss_mb": _peak_rss_mb()}
    h, w = size or (32, 32)
    rng = np.random.default_rng(0)
    video = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(frames)]
    stream = parts.stream(got.modules, StreamOptions(dtype="bf16" if amp == "bf16" else "fp32"))

    def run():
        for _ in stream(video):
            pass

    sec = _median_time(run, steps)
    return {
        "frames_per_second": frames / sec,
        "task": "stream",
        "input_hw": [h, w],
        "scale": stream.scale,
        "frames": frames,
        "peak_rss_mb": _peak_rss_mb(),
    }


# --------------------------------------------------------------------------------- data and metrics
def bench_data(quick: bool) -> dict:
    import numpy as np

    from vidgan.data import DataConfig, build_dataset
    from vidgan.io import write_video

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        for i in range(4 if quick else 16):
            write_video(Path(tmp) / f"v{i:02d}.mp4", rng.integers(0, 256, (48, 96, 128, 3), dtype=np.uint8), fps=25)
        ds = build_dataset(DataConfig(source=tmp, frames=16, size=64, crop="random", hflip=True), "all")
        n = 16 if quick else 64
        t0 = time.perf_counter()
        for k in range(n):
            ds[(k % len(ds), k)]
        sec = time.perf_counter() - t0
    return {"clips_per_second": n / sec, "clip": "16 frames of 128x96 H.264 -> 64x64", "workers": 0}


def bench_metrics(quick: bool) -> dict:
    import numpy as np
    import torch

    from vidgan.metrics.frechet import frechet_distance

    out: dict = {}
    d, n = (512, 1000) if quick else (2048, 2500)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, d)), rng.standard_normal((n, d)) + 0.1
    ma, mb, ca, cb = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    out["frechet_seconds"] = _median_time(lambda: frechet_distance(ma, ca, mb, cb), 1 if quick else 3)
    out["frechet_dim"] = d
    from vidgan.metrics.detectors.i3d import I3D
    from vidgan.metrics.fvd import preprocess

    model = I3D().eval()
    clips = torch.randint(0, 256, (2, 3, 16, 64, 64), dtype=torch.uint8)

    def i3d():
        with torch.inference_mode():
            model(preprocess(clips))

    sec = _median_time(i3d, 1 if quick else 3)
    out["i3d_clips_per_second"] = 2 / sec
    out["i3d_note"] = "random weights, 16 frames resized to 224^2 (TF1 bilinear)"
    from vidgan.metrics.temporal import tof_teco

    frames = [rng.integers(0, 256, (144, 180, 3), dtype=np.uint8) for _ in range(6)]
    pairs = list(zip(frames[:-1], frames[1:]))
    sec = _median_time(lambda: [tof_teco(a, b, b, a) for a, b in pairs], 1)
    out["tof_pairs_per_second_180x144"] = len(pairs) / sec
    from vidgan.metrics.lpips import lpips_alex

    try:
        lp = lpips_alex(None)
        x = torch.rand(4, 3, 144, 180) * 2 - 1  # LPIPS input convention: [-1, 1]
        with torch.inference_mode():
            sec = _median_time(lambda: lp(x, x.flip(0)), 1 if quick else 3)
        out["lpips_frames_per_second_180x144"] = 4 / sec
    except Exception as e:  # noqa: BLE001
        out["lpips_error"] = str(e)[:200]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny / CPU-sized presets only (< 5 min on 2 cores)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    p.add_argument("--out", default=None, help="also write the JSON here")
    p.add_argument("--only", default="", help="comma list of sections: peak,train,infer,data,metrics")
    p.add_argument("--smoke", action="store_true", help="one tiny case, fp32 only (the test suite's check)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--spec", default="", help=argparse.SUPPRESS)
    p.add_argument("--amp", default="none", help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=3, help=argparse.SUPPRESS)
    p.add_argument("--overrides", default="[]", help=argparse.SUPPRESS)
    p.add_argument("--size", default="null", help=argparse.SUPPRESS)
    a = p.parse_args()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    if a.child:
        fn = child_train if a.child == "train" else child_infer
        args = [a.spec, json.loads(a.overrides), a.amp, a.device, a.steps]
        if a.child != "train":
            args.append(json.loads(a.size))
        print(json.dumps(fn(*args)))
        return
    sections = set((a.only or "peak,train,infer,data,metrics").split(","))
    doc: dict = {"suite": "vidgan benchmarks/run.py", "quick": a.quick, "machine": machine()}
    device = a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if "peak" in sections:
        doc["peak"] = matmul_peak(device)
    cases = [QUICK[0]] if a.smoke else QUICK if a.quick else FULL
    steps = 1 if a.smoke else 2 if a.quick else 3
    amps = ("none",) if a.smoke else ("none", "bf16")
    if "train" in sections:
        doc["train"] = {}
        for spec, overrides, _ in cases:
            key = f"{spec} {' '.join(overrides)}".strip()
            doc["train"][key] = {}
            for amp in amps:
                r = _child("train", spec, overrides, amp, device, steps, None)
                dtype = "fp32" if amp == "none" else "bf16"
                if "gflops_achieved" in r and r["gflops_achieved"] and "peak" in doc:
                    r["fraction_of_peak"] = r["gflops_achieved"] / doc["peak"][f"{dtype}_gflops"]
                doc["train"][key][dtype] = r
    if "infer" in sections:
        doc["infer"] = {}
        for spec, _, size in cases:
            if spec in doc["infer"]:
                continue
            doc["infer"][spec] = {
                ("fp32" if amp == "none" else "bf16"): _child("infer", spec, [], amp, device, steps, size)
                for amp in amps
            }
    if "data" in sections:
        doc["data"] = bench_data(a.quick or a.smoke)
    if "metrics" in sections:
        doc["metrics"] = bench_metrics(a.quick or a.smoke)
    doc["machine"]["loadavg_end"] = list(os.getloadavg())
    text = json.dumps(doc, indent=1)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
