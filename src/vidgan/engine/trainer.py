"""The training loop shared by every family: phases, AMP, EMA, ticks, checkpoints, samples, resume.

The loop never knows what a GAN loss is. Each iteration it:
1. takes the next batch (a pure function of (seed, clips seen): see ``data_order``),
2. seeds the iteration's generator from (seed, rank, step),
3. runs the family's phases in order: freeze the other modules, ask the objective for named loss terms,
   sum, backward, all-reduce grads (DDP), clip, step the phase's optimizer,
4. updates the generator EMA, advances ``clips_seen`` by batch x world size,
5. on tick boundaries (in clips) logs, writes sample grids and checkpoints (rank 0).

Re-running the same command resumes from the latest checkpoint and continues exactly as an uninterrupted
run (tested: N steps == N/2 + resume + N/2, bitwise on CPU).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import vidgan
from vidgan.core import dist
from vidgan.core.config import dump_yaml, to_dict
from vidgan.core.seed import derive_seed, make_generator, rng_state, seed_everything, set_rng_state
from vidgan.core.video import to_uint8
from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import RunConfig
from vidgan.engine.data_order import ResumableBatchSampler
from vidgan.engine.ema import make_ema, update_ema
from vidgan.engine.logging import RunLogger
from vidgan.families import load_family
from vidgan.families.api import Parts, StepContext

__all__ = ["TrainResult", "train", "build_parts", "pick_device", "to_device"]

EvalHook = Callable[[Parts, Mapping[str, nn.Module], int], dict[str, float]]


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    clips_seen: int
    last_logs: dict[str, float]
    checkpoint: Path | None
    modules: dict[str, nn.Module]


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was requested but CUDA is not available; use --device cpu")
        return torch.device("cuda", dist.local_rank())
    if name != "cpu":
        raise ValueError(f"unknown device '{name}': use auto, cpu or cuda")
    return torch.device("cpu")


def to_device(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, Mapping):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def build_parts(cfg: RunConfig) -> Parts:
    """Build the family's modules/optimizers/objective with the seed fixed (same init on every rank)."""
    family = load_family(cfg.family.name)
    seed_everything(derive_seed(cfg.seed, "init"))
    return family.build(cfg.family, image_size=cfg.data.size, frames=cfg.data.frames)


def _autocast(device: torch.device, amp: str):
    if amp == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if amp == "fp16":
        return torch.autocast(device_type=device.type, dtype=torch.float16)
    return contextlib.nullcontext()


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _crossed(before: int, after: int, every: int) -> bool:
    return every > 0 and after // every > before // every


class _Trainer:
    def __init__(
        self,
        cfg: RunConfig,
        run_dir: Path,
        dataset: Dataset,
        device: torch.device,
        eval_hook: EvalHook | None,
        progress: bool,
    ):
        self.cfg, self.run_dir, self.dataset, self.device = cfg, run_dir, dataset, device
        self.eval_hook, self.progress = eval_hook, progress
        self.rank, self.world = dist.rank(), dist.world_size()
        if cfg.train.amp == "fp16" and device.type != "cuda":
            raise ValueError("train.amp=fp16 needs CUDA (GradScaler); use train.amp=bf16 on CPU")

        self.parts = build_parts(cfg)
        if self.parts.objective is None:
            raise ValueError(f"family '{cfg.family.name}' built no objective: nothing to train")
        if device.type == "cuda" and self.world > 1:
            self.parts.modules = {
                k: nn.SyncBatchNorm.convert_sync_batchnorm(m) for k, m in self.parts.modules.items()
            }
        for m in self.parts.modules.values():
            m.to(device).train()
            dist.broadcast_params(m)
        # Optimizer state lives on the parameters' device; rebuild param references after .to().
        self.trainable = {
            id(p) for m in self.parts.modules.values() for p in m.parameters() if p.requires_grad
        }
        for opt in self.parts.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
        ema_role = self.parts.ema if cfg.train.ema_half_life_clips > 0 else None
        self.ema = make_ema(self.parts.modules[ema_role]) if ema_role else None
        self.ema_role = ema_role
        self.scaler = torch.amp.GradScaler("cuda") if cfg.train.amp == "fp16" else None
        self.step, self.clips_seen = 0, 0
        self.logger = RunLogger(run_dir) if dist.is_main() else None
        self._log_acc: dict[str, list[float]] = {}
        self.last_logs: dict[str, float] = {}

    # ---------------------------------------------------------------- checkpoint / resume
    def state(self) -> dict:
        return {
            "vidgan_version": vidgan.__version__,
            "config": to_dict(self.cfg),
            "progress": {"step": self.step, "clips_seen": self.clips_seen},
            "modules": {k: m.state_dict() for k, m in self.parts.modules.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "ema_role": self.ema_role,
            "optimizers": {k: o.state_dict() for k, o in self.parts.optimizers.items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "objective": self.parts.objective.state_dict(),
            "rng": ckpt_io.pack_rng(rng_state()),
        }

    def save(self) -> Path | None:
        path = None
        if dist.is_main():
            path = self.run_dir / "checkpoints" / f"ckpt-{self.clips_seen:012d}.pt"
            ckpt_io.save_atomic(self.state(), path)
            ckpt_io.prune(self.run_dir, self.cfg.train.keep_last)
        dist.barrier()
        return path

    def resume(self, path: Path) -> None:
        state = ckpt_io.load(path, map_location=self.device)
        saved = state["config"]
        mine = to_dict(self.cfg)
        for section in ("family", "data"):
            if saved.get(section) != mine.get(section):
                raise ckpt_io.CheckpointError(
                    f"{path}: the run directory was made with a different {section} config; resume with the "
                    f"same config (see {self.run_dir / 'config.yaml'}) or use a new --run-dir"
                )
        for k, m in self.parts.modules.items():
            m.load_state_dict(state["modules"][k])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        for k, o in self.parts.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.parts.objective.load_state_dict(state.get("objective") or {})
        set_rng_state(ckpt_io.unpack_rng(state["rng"]))
        self.step = int(state["progress"]["step"])
        self.clips_seen = int(state["progress"]["clips_seen"])

    # ---------------------------------------------------------------- one iteration
    def _set_lr(self) -> None:
        for name, opt in self.parts.optimizers.items():
            factor = self.parts.lr_factor(name, self.clips_seen)
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * factor

    def _freeze_except(self, roles: tuple[str, ...] | None) -> None:
        for role, m in self.parts.modules.items():
            for p in m.parameters():
                p.requires_grad_(id(p) in self.trainable and (roles is None or role in roles))

    def iteration(self, batch: Mapping[str, Any]) -> None:
        cfg = self.cfg.train
        step_seed = derive_seed(self.cfg.seed, self.rank, self.step)
        torch.manual_seed(step_seed)
        ctx = StepContext(
            step=self.step, clips_seen=self.clips_seen, generator=make_generator(step_seed, self.device)
        )
        self._set_lr()
        modules = self.parts.modules
        for phase in self.parts.objective.phases:
            if self.step % phase.interval:
                continue
            self._freeze_except(phase.modules)
            with _autocast(self.device, cfg.amp):
                terms = self.parts.objective(phase.name, batch, modules, ctx)
            if not terms:
                continue
            loss = sum(t.float() for t in terms.values())
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"phase {phase.name}: non-finite loss at step {self.step} "
                    f"({ {k: float(v) for k, v in terms.items()} }); lower the LR or disable AMP"
                )
            opt = self.parts.optimizers[phase.optimizer]
            opt.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
            else:
                loss.backward()
            params = [p for g in opt.param_groups for p in g["params"]]
            dist.all_reduce_grads(params)
            if self.scaler is not None:
                self.scaler.unscale_(opt)
            if cfg.grad_clip > 0:
                norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                if not torch.isfinite(norm) and self.scaler is None:  # (GradScaler skips such steps itself)
                    raise FloatingPointError(
                        f"phase {phase.name}: non-finite gradient norm at step {self.step}; "
                        f"disable AMP (train.amp=none) or lower the learning rate")
                self._acc(f"{phase.name}/grad_norm", float(norm))
            if self.scaler is not None:
                self.scaler.step(opt)
                self.scaler.update()
            else:
                opt.step()
            for k, v in terms.items():
                self._acc(f"{phase.name}/{k}", float(v.detach()))
            self._acc(f"{phase.name}/loss", float(loss.detach()))
        self._freeze_except(None)
        for k, v in ctx.logs.items():
            self._acc(k, float(v))
        if self.world > 1 and self.device.type != "cuda":
            for m in modules.values():
                dist.broadcast_buffers(m)
        clips = cfg.batch_size * self.world
        if self.ema is not None:
            half_life = cfg.ema_half_life_clips
            if cfg.ema_rampup > 0:
                half_life = min(half_life, (self.clips_seen + clips) * cfg.ema_rampup)
            update_ema(self.ema, modules[self.ema_role], clips, half_life)
        self.step += 1
        self.clips_seen += clips

    def _acc(self, key: str, value: float) -> None:
        self._log_acc.setdefault(key, []).append(value)

    # ---------------------------------------------------------------- side effects
    def flush_logs(self, extra: Mapping[str, float] | None = None) -> None:
        scalars = {k: sum(v) / len(v) for k, v in self._log_acc.items() if v}
        scalars.update(extra or {})
        self._log_acc.clear()
        if scalars:
            self.last_logs = scalars
        if self.logger is not None and scalars:
            self.logger.log(self.clips_seen, self.step, scalars)

    @torch.no_grad()
    def write_samples(self, preview_batch: Mapping[str, Any] | None) -> Path | None:
        if not dist.is_main():
            return None
        from vidgan.io import write_grid

        cfg = self.cfg.train
        parts, frames = self.parts, cfg.sample_frames or self.cfg.data.frames
        if parts.sample is not None:
            g = self.ema if self.ema is not None else parts.modules["generator"]
            was_training = g.training
            g.eval()
            video = parts.sample(
                g, cfg.sample_num, frames, make_generator(derive_seed(self.cfg.seed, "samples"), self.device)
            )
            g.train(was_training)
        elif parts.preview is not None and preview_batch is not None:
            modules = dict(parts.modules)
            if self.ema is not None:
                modules[self.ema_role] = self.ema
            states = {k: m.training for k, m in modules.items()}
            for m in modules.values():
                m.eval()
            video = parts.preview(modules, preview_batch)
            for k, m in modules.items():
                m.train(states[k])
        else:
            return None
        out = self.run_dir / "samples" / f"samples-{self.clips_seen:012d}"
        out.parent.mkdir(parents=True, exist_ok=True)
        u8 = to_uint8(video.float().cpu())
        write_grid(out.with_suffix(".mp4"), u8, fps=cfg.sample_fps)
        write_grid(out.with_suffix(".gif"), u8, fps=cfg.sample_fps)
        return out.with_suffix(".mp4")


def train(
    cfg: RunConfig,
    run_dir: str | Path,
    dataset: Dataset,
    *,
    device: torch.device | None = None,
    max_clips: int | None = None,
    eval_hook: EvalHook | None = None,
    progress: bool = True,
    eval_every_clips: int = 0,
) -> TrainResult:
    """Train (or resume) the run in ``run_dir`` until ``max_clips`` (default ``cfg.train.total_clips``)."""
    device = device or pick_device("auto")
    run_dir = Path(run_dir)
    dist.init(device)
    if dist.is_main():
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump_yaml(cfg))
    t = _Trainer(cfg, run_dir, dataset, device, eval_hook, progress)
    latest = ckpt_io.latest_checkpoint(run_dir)
    if latest is not None:
        t.resume(latest)
        dist.print0(f"resumed from {latest} at {t.clips_seen} clips (step {t.step})")
    stop = int(max_clips if max_clips is not None else cfg.train.total_clips)
    tcfg = cfg.train

    sampler = ResumableBatchSampler(
        len(dataset), tcfg.batch_size, cfg.seed, start=t.clips_seen, rank=t.rank, world=t.world
    )
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=cfg.data.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=cfg.data.num_workers > 0,
    )
    n_prev = min(tcfg.sample_num, len(dataset))
    preview_batch = None
    if t.parts.preview is not None:
        from torch.utils.data import default_collate

        preview_batch = to_device(
            default_collate([dataset[(i, derive_seed(cfg.seed, "preview", i))] for i in range(n_prev)]),
            device,
        )

    bar = None
    if progress and dist.is_main():
        from tqdm import tqdm

        bar = tqdm(
            total=stop,
            initial=min(t.clips_seen, stop),
            unit="clip",
            dynamic_ncols=True,
            desc=f"{cfg.family.name}:{cfg.preset or 'custom'}",
        )
    last_ckpt = None
    it = iter(loader)
    # SIGTERM (schedulers, `kill`) is handled like Ctrl-C: save, then stop (main thread, single process only)
    previous_term = None
    if t.world == 1 and threading.current_thread() is threading.main_thread():
        previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    start_clips, t0 = t.clips_seen, time.time()
    if t.clips_seen == 0:
        t.write_samples(preview_batch)
        if eval_hook is not None and eval_every_clips > 0:  # the untrained baseline, logged at 0 clips
            base = eval_hook(t.parts, {**t.parts.modules, **({"ema": t.ema} if t.ema else {})}, 0)
            if t.logger is not None and base:
                t.logger.log(0, 0, base)
    try:
        while t.clips_seen < stop:
            batch = to_device(next(it), device)
            before = t.clips_seen
            t.iteration(batch)
            after = t.clips_seen
            if bar is not None:
                bar.update(min(after, stop) - min(before, stop))
            extra: dict[str, float] = {}
            if eval_hook is not None and _crossed(before, after, eval_every_clips):
                extra = eval_hook(t.parts, {**t.parts.modules, **({"ema": t.ema} if t.ema else {})}, after)
            if _crossed(before, after, tcfg.log_every_clips) or extra or after >= stop:
                elapsed = time.time() - t0
                extra = {**extra, "speed/clips_per_s": (after - start_clips) / max(elapsed, 1e-9)}
                t.flush_logs(extra)
                if bar is not None and t.last_logs:
                    shown = {k: f"{v:.3g}" for k, v in t.last_logs.items() if k.endswith("/loss")}  # per phase
                    bar.set_postfix(shown, refresh=False)
            if _crossed(before, after, tcfg.sample_every_clips):
                t.write_samples(preview_batch)
            if _crossed(before, after, tcfg.checkpoint_every_clips) and after < stop:
                last_ckpt = t.save()
        last_ckpt = t.save()
        if not _crossed(t.clips_seen - tcfg.batch_size * t.world, t.clips_seen, tcfg.sample_every_clips):
            t.write_samples(preview_batch)
    except KeyboardInterrupt:
        if t.world == 1 and t.clips_seen > start_clips:  # under DDP the other ranks may already be gone
            path = t.save()
            print(f"\ninterrupted: saved {path} at {t.clips_seen} clips; run the same command again to resume")
        raise
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if bar is not None:
            bar.close()
        if t.logger is not None:
            t.logger.close()
    if not math.isfinite(sum(t.last_logs.values()) if t.last_logs else 0.0):
        dist.print0("warning: non-finite values in the last logs")
    return TrainResult(run_dir, t.step, t.clips_seen, t.last_logs, last_ckpt, t.parts.modules)
