"""TGANv2 "train sparsely" benchmark: memory and time of one G+D training step, sparse vs dense.

Prints JSON. Two parts:

* ``memory`` (deterministic, no compute): the model runs on the ``meta`` device at the ``ucf101_192``
  configuration and every tensor saved for backward is recorded (``saved_tensors_hooks``), attributed
  to the level whose module is running, parameters excluded, views de-duplicated. That is the
  activation memory of one step: G = the G forward of the G phase; D = the D phase (real forward +
  R1 double-backward graph + fake forward). Modes: ``dense`` (no subsampling, all 4 levels get 16
  frames), ``sparse`` (the release: frames [2,2,2]), ``sparse_batch`` (frames and batch [2,2,2], the
  paper's "proposed" memory figure, spec §6.5).
* ``time`` (real CPU compute, one subprocess per configuration for a clean peak RSS): seconds of one
  G+D step at ``--time-batch`` in fp32 and bf16 autocast, peak RSS, and the fp32-bf16 loss differences
  (same seed -> same weights and batch).

Usage: ``python benchmarks/bench_tganv2.py [--batch 8] [--time-batch 2] [--quick] [--no-time]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import replace

import torch
from torch import nn

from vidgan.data.config import DataConfig
from vidgan.families.api import StepContext
from vidgan.families.tganv2 import PRESETS, Config, build
from vidgan.families.tganv2.discriminator import TGANv2Discriminator
from vidgan.families.tganv2.generator import TGANv2Generator

MODES = {
    "dense": {"subsample_frame": (1, 1, 1), "subsample_batch": (1, 1, 1)},
    "sparse": {"subsample_frame": (2, 2, 2), "subsample_batch": (1, 1, 1)},
    "sparse_batch": {"subsample_frame": (2, 2, 2), "subsample_batch": (2, 2, 2)},
}


def preset_config(mode: str, preset: str = "ucf101_192") -> Config:
    fam = {k: tuple(v) if isinstance(v, list) else v for k, v in PRESETS[preset]["family"].items()}
    return replace(Config(**fam), **MODES[mode])


class SavedBytes:
    """Bytes of tensors saved for backward, per tag; parameters excluded, each storage counted once.

    Keyed by the storage (``untyped_storage()._cdata``, valid on ``meta`` too): the double-backward graph
    of R1 saves detached aliases of activations and weights, which share the storage.
    """

    def __init__(self, params: list[nn.Parameter]) -> None:
        self.param_storages = {p.untyped_storage()._cdata for p in params}
        self.seen: set[int] = set()
        self.keep: list[torch.Tensor] = []  # keep storages alive so their addresses stay unique
        self.tag = "other"
        self.bytes: dict[str, int] = {}

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        key = st._cdata
        if key not in self.param_storages and key not in self.seen:
            self.seen.add(key)
            self.keep.append(t)
            self.bytes[self.tag] = self.bytes.get(self.tag, 0) + st.nbytes()
        return t

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t)


def _tag_generator(g: TGANv2Generator, rec: SavedBytes) -> list:
    n_pre = g.cfg.n_pre_blocks

    def setter(tag):
        return lambda *_: setattr(rec, "tag", tag)

    hooks = [g.fc.register_forward_pre_hook(setter("L1"))]
    for k, blk in enumerate(g.blocks):
        hooks.append(blk.register_forward_pre_hook(setter("L1" if k < n_pre else f"L{k - n_pre + 2}")))
    for lvl, r in enumerate(g.renders):
        hooks.append(r.register_forward_pre_hook(setter(f"L{lvl + 1}")))
    return hooks


def memory_analysis(mode: str, batch: int) -> dict:
    """Saved-activation GB per level for G and D at ``batch`` (meta device: shapes only)."""
    cfg = preset_config(mode)
    with torch.device("meta"):
        g, d = TGANv2Generator(cfg), TGANv2Discriminator(cfg)
        z = torch.rand(batch, cfg.z_slow_dim)
        gen = SavedBytes(list(g.parameters()) + list(d.parameters()))
        hooks = _tag_generator(g, gen)
        with gen.hooks():
            fakes = g.levels(z, [0, 0, 0])
        for h in hooks:
            h.remove()
        reals = [torch.rand(f.shape[0], 3, f.shape[2], f.shape[3], f.shape[4]).requires_grad_(True) for f in fakes]
        dis = SavedBytes(list(g.parameters()) + list(d.parameters()))
        with dis.hooks():
            for i, (lv, x, f) in enumerate(zip(d.levels, reals, fakes)):
                dis.tag = f"L{i + 1}"  # real forward + this level's R1 double-backward graph + fake forward
                y_real = lv(x)
                torch.autograd.grad(y_real.sum(), x, create_graph=True)
                lv(f.detach())
        fwd = SavedBytes(list(g.parameters()) + list(d.parameters()))
        with fwd.hooks():
            for i, (lv, x) in enumerate(zip(d.levels, reals)):
                fwd.tag = f"L{i + 1}"  # one D forward with grad on one input set (closest to the paper's)
                lv(x)
    gb = lambda b: {k: round(v / 1e9, 4) for k, v in sorted(b.items())}  # noqa: E731
    return {
        "level_shapes": ["x".join(map(str, f.shape)) for f in fakes],
        "G_gb": gb(gen.bytes),
        "G_total_gb": round(sum(gen.bytes.values()) / 1e9, 4),
        "D_gb": gb(dis.bytes),
        "D_total_gb": round(sum(dis.bytes.values()) / 1e9, 4),
        "D_forward_only_gb": gb(fwd.bytes),
        "D_forward_only_total_gb": round(sum(fwd.bytes.values()) / 1e9, 4),
    }


def _rss_gb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1e6
    return float("nan")


def run_step(mode: str, batch: int, amp: str, seed: int = 0) -> dict:
    """One real G+D step (engine-like) on CPU; returns seconds, peak RSS and the loss terms."""
    torch.manual_seed(seed)
    cfg = preset_config(mode)
    data = DataConfig(
        sampler="multilevel", size=cfg.image_size, frames=cfg.n_frames, subsample_frame=cfg.subsample_frame
    )
    parts = build(cfg, data)
    gen = torch.Generator().manual_seed(seed + 1)
    levels = [torch.rand(batch, 3, t, s, s, generator=gen) * 2 - 1 for t, s in zip(cfg.level_frames, cfg.level_sizes)]
    rss_build = _rss_gb()
    ctx = StepContext(step=0, clips_seen=0, generator=torch.Generator().manual_seed(seed + 2))
    terms_all: dict[str, float] = {}
    phase_s: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for ph in parts.objective.phases:
        t1 = time.perf_counter()
        opt = parts.optimizers[ph.optimizer]
        opt.zero_grad(set_to_none=True)
        for role, m in parts.modules.items():
            m.requires_grad_(role in ph.modules)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp == "bf16"):
            terms = parts.objective(ph.name, {"levels": levels}, parts.modules, ctx)
        sum(terms.values()).backward()
        opt.step()
        phase_s[ph.name] = round(time.perf_counter() - t1, 3)
        terms_all.update({k: float(v.detach()) for k, v in terms.items()})
    step_s = time.perf_counter() - t0
    cpu_s = time.process_time() - c0  # CPU seconds of this process: robust to a shared, loaded machine
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux -> GB
    return {
        "mode": mode,
        "amp": amp,
        "batch": batch,
        "step_s": round(step_s, 3),
        "phase_s": phase_s,
        "cpu_s": round(cpu_s, 3),
        "s_per_clip": round(step_s / batch, 3),
        "peak_rss_gb": round(peak, 3),
        "rss_after_build_gb": round(rss_build, 3),
        "losses": terms_all,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8, help="batch of the memory analysis (paper: 8)")
    ap.add_argument("--time-batch", type=int, default=0, help="batch of the timed steps (default --batch)")
    ap.add_argument("--quick", action="store_true", help="timed steps at batch 2, reported scaled to --batch")
    ap.add_argument("--no-time", action="store_true", help="memory analysis only")
    ap.add_argument("--modes", default="sparse,dense", help="timed modes (sparse, dense, sparse_batch)")
    ap.add_argument("--amps", default="fp32,bf16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--_child", nargs=3, metavar=("MODE", "BATCH", "AMP"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args._child:
        mode, batch, amp = args._child
        print(json.dumps(run_step(mode, int(batch), amp)))
        return

    out: dict = {
        "benchmark": "tganv2 train step, ucf101_192 (clstm 1024, ch 32, mid_ch 64, 16 frames, 192 px)",
        "device": "cpu",
        "cpu": platform.processor() or platform.machine(),
        "threads": args.threads,
        "torch": torch.__version__,
        "memory_batch": args.batch,
        "memory": {},
    }
    for mode in MODES:
        out["memory"][mode] = memory_analysis(mode, args.batch)
    mem = out["memory"]
    out["memory_reduction"] = {
        f"{m}_vs_dense": {
            "G": round(mem["dense"]["G_total_gb"] / mem[m]["G_total_gb"], 2),
            "D": round(mem["dense"]["D_total_gb"] / mem[m]["D_total_gb"], 2),
            "D_forward_only": round(mem["dense"]["D_forward_only_total_gb"] / mem[m]["D_forward_only_total_gb"], 2),
        }
        for m in ("sparse", "sparse_batch")
    }
    out["paper_memory_gb"] = {
        "G": {"naive": 7.716, "frame_only": 2.116, "proposed": 1.091},
        "D": {"naive": 15.689, "frame_only": 3.000, "proposed": 0.771},
    }
    if not args.no_time:
        tb = args.time_batch or (2 if args.quick else args.batch)
        runs = []
        for mode in args.modes.split(","):
            for amp in args.amps.split(","):
                cmd = [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--threads",
                    str(args.threads),
                    "--_child",
                    mode,
                    str(tb),
                    amp,
                ]
                res = subprocess.run(cmd, capture_output=True, text=True)
                if res.returncode != 0:
                    runs.append({"mode": mode, "amp": amp, "error": res.stderr[-2000:]})
                    continue
                r = json.loads(res.stdout.strip().splitlines()[-1])
                r["step_s_scaled_to_memory_batch"] = round(r["step_s"] * args.batch / tb, 1)
                runs.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
        out["time"] = runs
        out["bf16_vs_fp32"] = {}
        for mode in args.modes.split(","):
            a = [r for r in runs if r.get("mode") == mode and r.get("amp") == "fp32" and "losses" in r]
            b = [r for r in runs if r.get("mode") == mode and r.get("amp") == "bf16" and "losses" in r]
            if a and b:
                out["bf16_vs_fp32"][mode] = {
                    "speedup_wall": round(a[0]["step_s"] / b[0]["step_s"], 2),
                    "speedup_cpu": round(a[0].get("cpu_s", float("nan")) / b[0].get("cpu_s", float("nan")), 2),
                    "loss_abs_diff": {k: abs(a[0]["losses"][k] - b[0]["losses"][k]) for k in a[0]["losses"]},
                }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
