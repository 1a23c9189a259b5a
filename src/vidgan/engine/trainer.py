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
import json
import math
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import vidgan
from vidgan.core import dist
from vidgan.core.atomic import atomic_write
from vidgan.core.config import dump_yaml, to_dict
from vidgan.core.seed import derive_seed, make_generator, rng_state, seed_everything, set_rng_state
from vidgan.core.threads import follow_run
from vidgan.core.video import to_uint8
from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import RunConfig
from vidgan.engine.data_order import ResumableBatchSampler
from vidgan.engine.ema import make_ema, update_ema
from vidgan.engine.logging import RunLogger
from vidgan.families import family_samplers, load_family
from vidgan.families.api import DataMismatch, Parts, StepContext

__all__ = ["TrainResult", "train", "build_parts", "check_parts", "run_dataset", "pick_device", "to_device"]

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
    """Build the family's modules/optimizers/objective with the seed fixed (same init on every rank).

    The family receives the run's data section (the one owner of size, frames, scale, degradation, ...)."""
    family = load_family(cfg.family.name)
    seed_everything(derive_seed(cfg.seed, "init"))
    parts = family.build(cfg.family, cfg.data)
    check_parts(cfg.family.name, cfg.family.task, parts)
    return parts


def run_dataset(cfg: RunConfig, split: str = "train"):
    """The run's dataset: ``cfg.data`` with the built-in samplers plus the family's own (``SAMPLERS``)."""
    from vidgan.data import build_dataset

    return build_dataset(cfg.data, split, seed=cfg.seed, samplers=family_samplers(cfg.family.name))


def check_training_data(cfg: RunConfig) -> None:
    """The data sampler is one the family trains on (its ``DATA_SAMPLERS``, when declared)."""
    allowed = getattr(load_family(cfg.family.name), "DATA_SAMPLERS", None)
    if allowed and cfg.data.sampler not in allowed:
        raise DataMismatch(
            f"data.sampler={cfg.data.sampler} vs family.name={cfg.family.name}: this family trains on "
            f"{' or '.join(allowed)} batches — set data.sampler={allowed[0]}"
        )


def check_parts(name: str, task: str, parts: Parts) -> None:
    """The family declared what its task needs (roles exist, an inference path for the task)."""
    roles = set(parts.modules)
    if task == "unconditional":
        if parts.sample is None:
            raise TypeError(f"family {name}: an unconditional family must set Parts.sample")
        if parts.sample_role not in roles:
            raise TypeError(
                f"family {name}: Parts.sample_role {parts.sample_role!r} is not a module role {sorted(roles)}"
            )
    elif parts.stream is not None and not set(parts.stream_roles) <= roles:
        raise TypeError(
            f"family {name}: Parts.stream_roles {parts.stream_roles} are not all module roles {sorted(roles)}"
        )
    if not set(parts.ema_roles) <= roles:
        raise TypeError(f"family {name}: Parts.ema {parts.ema!r} names a role that is not a module {sorted(roles)}")
    if parts.objective is not None:
        for ph in parts.objective.phases:
            if ph.optimizer not in parts.optimizers or not set(ph.modules) <= roles or ph.interval < 1:
                raise TypeError(f"family {name}: phase {ph.name} names an unknown optimizer/module or interval < 1")


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


def _now() -> float:
    """Wall clock (monotonic seconds) of time-interval checkpoints; tests replace it."""
    return time.monotonic()


class _SaveClock:
    """``train.checkpoint_every_minutes``: due once that much wall time passed since the last save (0 = never).
    Reading it has no side effect on training (no RNG, no data order); under DDP rank 0's clock decides and the
    flag is broadcast, so every rank saves at the same step."""

    def __init__(self, minutes: float, device: torch.device) -> None:
        self.seconds, self.device = 60.0 * minutes, device
        self.reset()

    def reset(self) -> None:
        self.last = _now() if self.seconds > 0 else 0.0

    def due(self) -> bool:
        if self.seconds <= 0:
            return False
        return dist.broadcast_flag(_now() - self.last >= self.seconds, self.device)


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
        tcfg = cfg.train
        if tcfg.amp == "fp16" and device.type != "cuda":
            raise ValueError("train.amp=fp16 needs CUDA (GradScaler); use train.amp=bf16 on CPU")
        if tcfg.accumulate < 1 or tcfg.batch_size % tcfg.accumulate:
            raise ValueError(
                f"train.accumulate={tcfg.accumulate}: must be >= 1 and divide train.batch_size={tcfg.batch_size}"
            )

        check_training_data(cfg)
        self.parts = build_parts(cfg)
        if self.parts.objective is None:
            raise ValueError(f"family '{cfg.family.name}' built no objective: nothing to train")
        if device.type == "cuda" and self.world > 1:
            self.parts.modules = {k: nn.SyncBatchNorm.convert_sync_batchnorm(m) for k, m in self.parts.modules.items()}
        for m in self.parts.modules.values():
            m.to(device).train()
            dist.broadcast_params(m)
        self.trainable = {id(p) for m in self.parts.modules.values() for p in m.parameters() if p.requires_grad}
        for opt in self.parts.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self._apply_lazy_regularisation()
        ema_roles = self.parts.ema_roles if tcfg.ema_half_life_clips > 0 else ()
        self.emas: dict[str, nn.Module] = {role: make_ema(self.parts.modules[role]) for role in ema_roles}
        self.scaler = torch.amp.GradScaler("cuda") if tcfg.amp == "fp16" else None
        self.step, self.clips_seen = 0, 0
        self.logger: RunLogger | None = None  # opened by open_logger() once a resume check has passed
        self._log_acc: dict[str, list[torch.Tensor]] = {}
        self.bad_steps, self._bad_this_step = 0, False
        # profiling (engine.profile): per-phase wall times, and every phase every iteration (then amortised)
        self.phase_times: dict[str, list[float]] | None = None
        self.phase_flops: dict[str, int | None] | None = None
        self.run_every_phase = False
        self.last_logs: dict[str, float] = {}
        # Checkpoint contents by name: (get, set). Families add theirs through Parts.state.
        self.registry: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self._loading: Mapping[str, Any] = {}
        self._register_core_state()
        for name, obj in self.parts.state.items():
            self.register(f"state/{name}", obj.state_dict, obj.load_state_dict)

    # ---------------------------------------------------------------- setup helpers
    def _apply_lazy_regularisation(self) -> None:
        """StyleGAN2: an optimizer shared with a lazy phase of interval k gets lr * c and betas ** c,
        c = k / (k + 1) (the phase's loss is multiplied by k in ``iteration``)."""
        done: set[str] = set()
        for phase in self.parts.objective.phases:
            if not phase.lazy or phase.interval <= 1 or phase.optimizer in done:
                continue
            done.add(phase.optimizer)
            c = phase.interval / (phase.interval + 1)
            for group in self.parts.optimizers[phase.optimizer].param_groups:
                group["initial_lr"] = group["lr"] = group["initial_lr"] * c
                if "betas" in group:
                    group["betas"] = tuple(b**c for b in group["betas"])

    def register(self, name: str, get: Callable[[], Any], set_: Callable[[Any], None]) -> None:
        """Add named state to every checkpoint (restored on resume in registration order)."""
        if name in self.registry:
            raise ValueError(f"checkpoint state {name!r} registered twice")
        self.registry[name] = (get, set_)

    def _register_core_state(self) -> None:
        p = self.parts

        def set_progress(s):
            self.step, self.clips_seen = int(s["step"]), int(s["clips_seen"])
            if self.device.type == "cpu" and follow_run(s.get("threads")):  # bitwise resume needs the same count
                dist.print0(f"using {s['threads']} CPU threads as when this run started (VIDGAN_THREADS overrides)")

        def get_progress():
            return {"step": self.step, "clips_seen": self.clips_seen, "threads": torch.get_num_threads()}

        def set_modules(states):
            for k, m in p.modules.items():
                m.load_state_dict(states[k])

        def set_optimizers(states):
            for k, o in p.optimizers.items():
                o.load_state_dict(states[k])

        self.register("progress", get_progress, set_progress)
        self.register("modules", lambda: {k: m.state_dict() for k, m in p.modules.items()}, set_modules)
        self.register("ema", lambda: {k: m.state_dict() for k, m in self.emas.items()} or None, self._set_ema)
        self.register("ema_roles", lambda: list(self.emas), lambda s: None)
        self.register("optimizers", lambda: {k: o.state_dict() for k, o in p.optimizers.items()}, set_optimizers)
        self.register(
            "scaler",
            lambda: self.scaler.state_dict() if self.scaler is not None else None,
            lambda s: self.scaler.load_state_dict(s) if self.scaler is not None and s else None,
        )
        self.register("objective", p.objective.state_dict, lambda s: p.objective.load_state_dict(s or {}))
        self.register("rng", lambda: ckpt_io.pack_rng(rng_state()), lambda s: set_rng_state(ckpt_io.unpack_rng(s)))

    def _set_ema(self, state: Any) -> None:
        if not state or not self.emas:
            return
        if "ema_roles" not in self._loading:  # checkpoints before contract v2: one EMA state dict
            state = {self._loading.get("ema_role"): state}
        for role, m in self.emas.items():
            if role in state:
                m.load_state_dict(state[role])

    # ---------------------------------------------------------------- checkpoint / resume
    def state(self) -> dict:
        out = {"vidgan_version": vidgan.__version__, "config": to_dict(self.cfg)}
        out.update({name: get() for name, (get, _) in self.registry.items()})
        return out

    def check_finite(self) -> None:
        """Refuse to checkpoint non-finite weights (they would become the resume point of every re-run)."""
        for role, m in self.parts.modules.items():
            for name, t in [*m.named_parameters(), *m.named_buffers()]:
                if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                    raise FloatingPointError(
                        f"{role}.{name}: non-finite values at step {self.step}; not checkpointed (the last good "
                        "checkpoint is kept) — lower the learning rate or disable AMP (train.amp=none)"
                    )

    def save(self) -> Path | None:
        path = None
        self.check_finite()
        if dist.is_main():
            path = self.run_dir / "checkpoints" / f"ckpt-{self.clips_seen:012d}.pt"
            ckpt_io.save_atomic(self.state(), path)
            ckpt_io.prune(self.run_dir, self.cfg.train.keep_last)
        dist.barrier()
        return path

    def resume(self, path: Path) -> None:
        state = ckpt_io.load(path, map_location=self.device)
        check_resumable(state, self.cfg, path, self.run_dir)
        self._loading = state
        try:
            for name, (_, set_) in self.registry.items():
                if name in state:
                    set_(state[name])
                elif not name.startswith("state/"):
                    raise ckpt_io.CheckpointError(f"{path}: checkpoint has no {name!r} entry")
        finally:
            self._loading = {}

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

    def _contexts(self, rounds: int) -> list[StepContext]:
        """One context per accumulation round; round 0 keeps the (seed, rank, step) stream."""
        ctxs = []
        for r in range(rounds):
            seed = (
                derive_seed(self.cfg.seed, self.rank, self.step)
                if r == 0
                else derive_seed(self.cfg.seed, self.rank, self.step, r)
            )
            ctxs.append(
                StepContext(
                    step=self.step,
                    clips_seen=self.clips_seen,
                    generator=make_generator(seed, self.device),
                    round=r,
                    rounds=rounds,
                    batch_size=self.cfg.train.batch_size,
                )
            )
        return ctxs

    def _phase(self, phase: Any, subs: list[Any], ctxs: list[StepContext]) -> bool:
        """One phase over every accumulation round; returns whether its optimizer stepped."""
        cfg = self.cfg.train
        modules = self.parts.modules
        rounds = len(subs)
        self._freeze_except(phase.modules)
        opt = self.parts.optimizers[phase.optimizer]
        opt.zero_grad(set_to_none=True)
        gain = (phase.interval if phase.lazy else 1) / rounds
        ran = False
        for sub, ctx in zip(subs, ctxs):
            with _autocast(self.device, cfg.amp):
                terms = self.parts.objective(phase.name, sub, modules, ctx)
            if not terms:
                continue
            ran = True
            loss = sum(t.float() for t in terms.values())
            scaled = loss * gain if gain != 1 else loss
            (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
            for k, v in terms.items():
                self._acc(f"{phase.name}/{k}", v)
            self._acc(f"{phase.name}/loss", loss)
        if not ran:
            return False
        params = [p for g in opt.param_groups for p in g["params"]]
        dist.all_reduce_grads(params)  # once per phase, after the last round
        if self.scaler is None and not self._grads_finite(params):  # same verdict on every rank
            self._skip_bad_step(phase, terms, opt)
            return False
        if self.scaler is not None:
            self.scaler.unscale_(opt)
        if cfg.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            self._acc(f"{phase.name}/grad_norm", norm)
        if self.scaler is not None:
            self.scaler.step(opt)
        else:
            opt.step()
        return True

    def iteration(self, batch: Mapping[str, Any]) -> None:
        cfg = self.cfg.train
        torch.manual_seed(derive_seed(self.cfg.seed, self.rank, self.step))
        rounds = cfg.accumulate
        subs = split_batch(batch, rounds)
        ctxs = self._contexts(rounds)
        self._set_lr()
        modules = self.parts.modules
        for phase in self.parts.objective.phases:
            if self.step % phase.interval and not self.run_every_phase:
                continue
            t_phase = self._clock()
            if self.phase_flops is not None:  # profiling: FLOPs of each phase (conv/matmul, fwd + bwd)
                from torch.utils.flop_counter import FlopCounterMode

                try:
                    with FlopCounterMode(display=False) as counter:
                        stepped = self._phase(phase, subs, ctxs)
                    self.phase_flops[phase.name] = counter.get_total_flops()
                except RuntimeError:  # torch's counter cannot follow autograd.grad (R1's double backward)
                    self.phase_flops[phase.name] = None
                    stepped = self._phase(phase, subs, ctxs)
            else:
                stepped = self._phase(phase, subs, ctxs)
            if stepped and self.phase_times is not None:
                self.phase_times.setdefault(phase.name, []).append(self._clock() - t_phase)
        if self.scaler is not None:
            self.scaler.update()  # once per iteration, after every optimizer stepped
        if not self._bad_this_step:
            self.bad_steps = 0
        self._bad_this_step = False
        self._freeze_except(None)
        end = getattr(self.parts.objective, "end_iteration", None)
        if end is not None:
            end(modules, ctxs[0])
        for ctx in ctxs:
            for k, v in ctx.logs.items():
                self._acc(k, v)
        if self.world > 1 and self.device.type != "cuda":
            for m in modules.values():
                dist.broadcast_buffers(m)
        clips = cfg.batch_size * self.world
        if self.emas:
            half_life = cfg.ema_half_life_clips
            if cfg.ema_rampup > 0:
                half_life = min(half_life, (self.clips_seen + clips) * cfg.ema_rampup)
            for role, ema in self.emas.items():
                update_ema(ema, modules[role], clips, half_life)
        self.step += 1
        self.clips_seen += clips

    @staticmethod
    def _grads_finite(params: list[torch.Tensor]) -> bool:
        grads = [p.grad.sum() for p in params if p.grad is not None]
        return not grads or bool(torch.isfinite(torch.stack(grads).float()).all())  # one sync per phase

    def _skip_bad_step(self, phase: Any, terms: Mapping[str, torch.Tensor], opt: torch.optim.Optimizer) -> None:
        """A phase with non-finite gradients is not applied; ``train.max_bad_steps`` such iterations in a row
        end the run naming the phase, its modules and the non-finite terms (the last good checkpoint stays)."""
        opt.zero_grad(set_to_none=True)
        if not self._bad_this_step:
            self.bad_steps += 1
            self._bad_this_step = True
        bad_terms = [k for k, v in terms.items() if not bool(torch.isfinite(v.detach()).all())]
        self._acc(f"{phase.name}/skipped_nonfinite", 1.0)
        if self.bad_steps >= self.cfg.train.max_bad_steps:
            raise FloatingPointError(
                f"train.max_bad_steps: {self.bad_steps} iteration(s) in a row with non-finite gradients at step "
                f"{self.step} — phase {phase.name} (modules {', '.join(phase.modules)}; non-finite loss terms: "
                f"{', '.join(bad_terms) or 'none, the gradients overflowed'}); lower the learning rate or disable "
                "AMP (train.amp=none); the last good checkpoint is kept"
            )

    def open_logger(self) -> None:
        if dist.is_main() and self.logger is None:
            self.logger = RunLogger(self.run_dir)

    def _clock(self) -> float:
        if self.phase_times is None:
            return 0.0
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def _acc(self, key: str, value: Any) -> None:
        """Keep a logged value on its device (detached); reduced once at logging time."""
        if isinstance(value, torch.Tensor):
            value = value.detach()
        self._log_acc.setdefault(key, []).append(value)

    # ---------------------------------------------------------------- side effects
    def flush_logs(self, extra: Mapping[str, float] | None = None) -> None:
        scalars = reduce_logs(self._log_acc)
        self._log_acc.clear()
        bad = sorted(
            k for k, v in scalars.items() if not math.isfinite(v) and (k.endswith("/loss") or "grad_norm" in k)
        )
        scalars.update(extra or {})
        if scalars:
            self.last_logs = scalars
        if self.logger is not None and scalars:
            self.logger.log(self.clips_seen, self.step, scalars)
        if bad and self.scaler is None:
            raise FloatingPointError(
                f"non-finite {', '.join(bad)} before step {self.step}: lower the learning rate or disable AMP "
                "(train.amp=none); the last good checkpoint is kept"
            )

    def inference_modules(self) -> dict[str, nn.Module]:
        """The modules inference uses: each EMA in place of its role."""
        return {**self.parts.modules, **self.emas}

    @torch.no_grad()
    def write_samples(self, preview_batch: Mapping[str, Any] | None) -> Path | None:
        if not dist.is_main():
            return None
        from vidgan.io import write_grid

        cfg = self.cfg.train
        parts, frames = self.parts, cfg.sample_frames or self.cfg.data.frames
        modules = self.inference_modules()
        if parts.sample is not None:
            g = modules[parts.sample_role]
            was_training = g.training
            g.eval()
            video = as_video(
                parts.sample(
                    g, cfg.sample_num, frames, make_generator(derive_seed(self.cfg.seed, "samples"), self.device)
                )
            )
            g.train(was_training)
        elif parts.preview is not None and preview_batch is not None:
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
        labels = list(parts.preview_labels) if parts.sample is None else None
        write_grid(out.with_suffix(".mp4"), u8, fps=cfg.sample_fps, labels=labels)
        write_grid(out.with_suffix(".gif"), u8, fps=cfg.sample_fps, labels=labels)
        return out.with_suffix(".mp4")


def remove_leftovers(run_dir: Path) -> int:
    """Delete the temporaries of killed writers (``.ckpt-*.tmp``, ``.samples-*.tmp-*``, ``.config.yaml.*``):
    hidden files in the run directory and its checkpoints/samples folders, never anything else."""
    n = 0
    for folder in (run_dir, run_dir / "checkpoints", run_dir / "samples"):
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if p.name.startswith(".") and (".tmp" in p.name or p.name.startswith((".ckpt-", ".samples-"))):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                n += 1
    return n


def truncate_log(path: Path, step: int) -> None:
    """Keep the log records up to the resume point (records of replayed steps would appear twice)."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines()
    keep = []
    for line in lines:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line from a killed run
        if int(rec.get("step", 0)) <= step:
            keep.append(line)
    if len(keep) != len(lines):
        with atomic_write(path, "w") as f:
            f.write("".join(line + "\n" for line in keep))


def as_video(out: Any) -> torch.Tensor:
    """A sampler's result (a tensor, or an iterator of chunks along T) as one ``(B, C, T, H, W)`` tensor."""
    if isinstance(out, torch.Tensor):
        return out
    return torch.cat(list(out), dim=2)


def split_batch(batch: Any, rounds: int) -> list[Any]:
    """Split every tensor of a (nested) batch along dim 0 into ``rounds`` equal parts."""
    if rounds == 1:
        return [batch]
    if isinstance(batch, torch.Tensor):
        if batch.shape[0] % rounds:
            raise ValueError(f"batch of {batch.shape[0]} does not split into train.accumulate={rounds} rounds")
        return list(batch.chunk(rounds))
    if isinstance(batch, Mapping):
        parts = {k: split_batch(v, rounds) for k, v in batch.items()}
        return [{k: v[r] for k, v in parts.items()} for r in range(rounds)]
    if isinstance(batch, list | tuple):
        parts = [split_batch(v, rounds) for v in batch]
        return [type(batch)(p[r] for p in parts) for r in range(rounds)]
    return [batch] * rounds


def reduce_logs(acc: Mapping[str, list[Any]]) -> dict[str, float]:
    """Mean of each key's accumulated values, with one device sync for all tensor values."""
    keys = [k for k, v in acc.items() if v]
    if not keys:
        return {}
    means = []
    for k in keys:
        vals = [torch.as_tensor(v, dtype=torch.float32).reshape(()) for v in acc[k]]
        means.append(torch.stack([v.float().cpu() if v.device.type != "cpu" else v.float() for v in vals]).mean())
    return dict(zip(keys, torch.stack(means).tolist()))


def check_resumable(state: Mapping[str, Any], cfg: RunConfig, path: Path, run_dir: Path) -> None:
    """A run directory only resumes the run it was made for (same family and data config)."""
    saved = state["config"]
    mine = to_dict(cfg)
    for section in ("family", "data"):
        if saved.get(section) != mine.get(section):
            diff = sorted(
                k
                for k in set(saved.get(section) or {}) | set(mine.get(section) or {})
                if (saved.get(section) or {}).get(k) != (mine.get(section) or {}).get(k)
            )
            raise ckpt_io.CheckpointError(
                f"{path}: the run directory was made with a different {section} config "
                f"({', '.join(f'{section}.{k}' for k in diff[:4])} differ); resume with the same config "
                f"(see {run_dir / 'config.yaml'}) or use a new --run-dir"
            )


def _silent(*args, **kwargs) -> None:
    pass


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
    on_tick: Callable[[Path], None] | None = None,
    verbosity: int = 1,
) -> TrainResult:
    """Train (or resume) the run in ``run_dir`` until ``max_clips`` (default ``cfg.train.total_clips``).

    ``on_tick(run_dir)`` runs on rank 0 after each sample grid / checkpoint (e.g. rebuilding report.html);
    its failures are warnings, never the end of training. ``verbosity``: 0 prints only warnings, 1 also
    resume / cleanup notes and, when no progress bar is drawn (not a terminal, ``progress=False``), one line per log
    interval (clips, step, losses, speed); 2 prints those lines under the bar too."""
    say = dist.print0 if verbosity >= 1 else _silent
    device = device or pick_device("auto")
    run_dir = Path(run_dir)
    dist.init(device)
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"--run-dir {run_dir}: exists and is not a folder — pass a folder path")
    t = _Trainer(cfg, run_dir, dataset, device, eval_hook, progress)
    latest = ckpt_io.latest_checkpoint(run_dir)
    if latest is not None:  # a refused resume changes nothing in the run directory
        t.resume(latest)
        say(f"resumed from {latest} at {t.clips_seen} clips (step {t.step})")
    stop = int(max_clips if max_clips is not None else cfg.train.total_clips)
    tcfg = cfg.train
    if dist.is_main():
        run_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(run_dir / "config.yaml", "w") as f:
            f.write(dump_yaml(cfg))
        removed = remove_leftovers(run_dir)
        if removed:
            say(f"removed {removed} temporary file(s) left by an interrupted run")
        truncate_log(run_dir / "log.jsonl", t.step)
    if latest is not None and t.clips_seen >= stop:  # already done: change nothing (no re-save, no samples)
        say(f"{run_dir}: already at {t.clips_seen} clips (>= {stop}); nothing to do")
        return TrainResult(run_dir, t.step, t.clips_seen, {}, latest, t.parts.modules)
    t.open_logger()

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
    save_clock = _SaveClock(tcfg.checkpoint_every_minutes, device)

    def tick() -> None:
        if on_tick is not None and dist.is_main():
            try:
                on_tick(run_dir)
            except Exception as e:  # a report problem never stops training
                warnings.warn(f"{run_dir / 'report.html'} not updated: {type(e).__name__}: {e}", stacklevel=2)

    if t.clips_seen == 0:
        t.write_samples(preview_batch)
        if eval_hook is not None and eval_every_clips > 0:  # the untrained baseline, logged at 0 clips
            base = eval_hook(t.parts, t.inference_modules(), 0)
            if t.logger is not None and base:
                t.logger.log(0, 0, base)
        tick()
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
                extra = eval_hook(t.parts, t.inference_modules(), after)
            if _crossed(before, after, tcfg.log_every_clips) or extra or after >= stop:
                elapsed = time.time() - t0
                extra = {**extra, "speed/clips_per_s": (after - start_clips) / max(elapsed, 1e-9)}
                t.flush_logs(extra)
                if bar is not None and t.last_logs:
                    shown = {k: f"{v:.3g}" for k, v in t.last_logs.items() if k.endswith("/loss")}  # per phase
                    bar.set_postfix(shown, refresh=False)
                # a line per log interval: always at -v, and at the normal level when no bar is drawn (a log file)
                if (verbosity >= 2 or (verbosity == 1 and bar is None)) and dist.is_main():
                    line = f"[{after} clips, step {t.step}] " + ", ".join(
                        f"{k}={v:.4g}" for k, v in t.last_logs.items() if k.endswith("/loss") or k.startswith("speed/")
                    )
                    if bar is not None:
                        bar.write(line, file=sys.stderr)
                    else:
                        print(line, file=sys.stderr, flush=True)
            if _crossed(before, after, tcfg.sample_every_clips):
                t.write_samples(preview_batch)
            ckpt_due = _crossed(before, after, tcfg.checkpoint_every_clips) or save_clock.due()
            if ckpt_due and after < stop:
                last_ckpt = t.save()
                save_clock.reset()
            if _crossed(before, after, tcfg.sample_every_clips) or ckpt_due:
                tick()
        last_ckpt = t.save()
        if not _crossed(t.clips_seen - tcfg.batch_size * t.world, t.clips_seen, tcfg.sample_every_clips):
            t.write_samples(preview_batch)
        tick()
    except KeyboardInterrupt:
        if t.world == 1 and t.clips_seen > start_clips:  # under DDP the other ranks may already be gone
            path = t.save()
            tick()
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
