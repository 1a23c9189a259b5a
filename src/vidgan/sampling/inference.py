"""Load any family's trained model for inference, through the contract only.

A vidgan checkpoint (file or run directory) names its family and configs: the family is rebuilt from them and
only the roles the task needs are loaded (``Parts.sample_role`` for unconditional sampling,
``Parts.stream_roles`` for streaming inference), each EMA in place of its role. A file that is not a vidgan
checkpoint is offered to the families that can read foreign checkpoints (``load_foreign``), e.g. a
TecoGAN-PyTorch ``.pth``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from vidgan.core.config import to_dict
from vidgan.core.seed import seed_everything
from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import RunConfig, run_config_from_dict
from vidgan.engine.trainer import check_parts
from vidgan.families import list_families, load_family
from vidgan.families.api import Parts

__all__ = ["Loaded", "load_model", "load_for_inference", "random_model", "select_checkpoint", "RANDOM_PREFIX"]

Use = Literal["sample", "stream", "all"]


@dataclass
class Loaded:
    cfg: RunConfig
    parts: Parts
    modules: dict[str, nn.Module]
    path: Path


def select_checkpoint(path: str | Path, metric: str | None = None) -> Path:
    """A checkpoint file as given; for a run directory its latest checkpoint, or with ``metric`` the kept
    checkpoint whose clips count has the best (lowest; highest for psnr/ssim/is) logged value of that metric."""
    p = Path(path)
    if not p.is_dir() or not metric:
        return ckpt_io.resolve(p)
    kept = {int(c.stem.split("-")[1]): c for c in ckpt_io.list_checkpoints(p)}
    if not kept:
        return ckpt_io.resolve(p)  # raises the "no checkpoints" error
    log = p / "log.jsonl"
    values: dict[int, float] = {}
    if log.is_file():
        for line in log.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            for key in (metric, f"eval/{metric}"):
                if key in rec and isinstance(rec[key], int | float) and math.isfinite(rec[key]):
                    values[int(rec["clips_seen"])] = float(rec[key])
    scored = {c: v for c, v in values.items() if c in kept}
    if not scored:
        logged = sorted({k.removeprefix("eval/") for k in _logged_keys(log) if k.startswith("eval/")})
        raise ckpt_io.CheckpointError(
            f"{p}: no kept checkpoint has a logged '{metric}' value (metrics logged: {', '.join(logged) or 'none'}) "
            "— train with --eval METRIC --eval-every CLIPS, or drop --select to use the latest checkpoint"
        )
    higher = metric.startswith(("psnr", "ssim", "is_"))
    best = (max if higher else min)(scored, key=lambda c: scored[c])
    return kept[best]


def _logged_keys(log: Path) -> set[str]:
    keys: set[str] = set()
    if log.is_file():
        for line in log.read_text().splitlines():
            try:
                keys |= set(json.loads(line))
            except json.JSONDecodeError:
                pass
    return keys


def _roles(parts: Parts, use: Use) -> tuple[str, ...]:
    if use == "sample":
        return (parts.sample_role,)
    if use == "stream":
        return tuple(parts.stream_roles)
    return tuple(parts.modules)


def _build(cfg: RunConfig) -> Parts:
    family = load_family(cfg.family.name)
    seed_everything(0)
    parts = family.build(cfg.family, cfg.data)
    check_parts(cfg.family.name, cfg.family.task, parts)
    return parts


def _foreign(path: Path, task: str | None) -> tuple[RunConfig, dict[str, Any]] | None:
    for name in list_families():
        family = load_family(name)
        reader = getattr(family, "load_foreign", None)
        if reader is None or (task is not None and family.Config.task != task):
            continue
        got = reader(path)
        if got is not None:
            data = {"config": {"family": to_dict(got.config), "data": dict(got.data)}, "modules": got.states}
            data["config"]["family"]["name"] = name
            return run_config_from_dict(data["config"]), data
    return None


def load_model(
    path: str | Path,
    device: torch.device | str = "cpu",
    *,
    use: Use = "all",
    use_ema: bool = True,
    task: str | None = None,
    select: str | None = None,
) -> Loaded:
    """Rebuild the family of checkpoint ``path`` and load the roles ``use`` needs, in eval mode on ``device``.

    ``task`` (``"vsr"``, ``"translation"``, ``"unconditional"``): refuse a checkpoint of another task with a
    message naming the command that serves it.
    """
    device = torch.device(device)
    if str(path).startswith(RANDOM_PREFIX):  # benchmarking without a trained checkpoint
        return random_model(str(path)[len(RANDOM_PREFIX) :], device, use=use, task=task)
    p = Path(path)
    try:
        p = select_checkpoint(p, select)
        ckpt = ckpt_io.load(p, map_location="cpu")
        cfg = run_config_from_dict(ckpt["config"])
    except ckpt_io.CheckpointError:
        if not p.is_file():
            raise
        found = _foreign(p, task)  # a reference implementation's file, if a family can read it
        if found is None:
            raise
        cfg, ckpt = found
    if task is not None and cfg.family.task != task:
        other = {"vsr": "vidgan upscale", "unconditional": "vidgan generate", "translation": "vidgan translate"}
        raise ckpt_io.CheckpointError(
            f"{p}: a '{cfg.family.task}' model (family {cfg.family.name}), not a '{task}' one — use "
            f"`{other[cfg.family.task]}` for it"
        )
    parts = _build(cfg)
    if use == "stream" and parts.stream is None:
        raise ckpt_io.CheckpointError(f"{p}: family {cfg.family.name} declares no streaming inference (Parts.stream)")
    if use == "sample" and parts.sample is None:
        raise ckpt_io.CheckpointError(
            f"{p}: family {cfg.family.name} is conditional ('{cfg.family.task}'): use `vidgan upscale` or "
            "`vidgan translate`"
        )
    emas = ckpt.get("ema") or {}
    if emas and "ema_roles" not in ckpt:  # checkpoints written before contract v2: one EMA
        emas = {ckpt.get("ema_role"): emas}
    modules: dict[str, nn.Module] = {}
    for role in _roles(parts, use):
        module = parts.modules[role]
        state = emas.get(role) if use_ema and role in emas else ckpt["modules"].get(role)
        if state is None:
            raise ckpt_io.CheckpointError(f"{p}: checkpoint has no weights for role '{role}'")
        try:
            module.load_state_dict(state)
        except RuntimeError as e:
            raise ckpt_io.CheckpointError(
                f"{p}: the '{role}' weights do not fit family {cfg.family.name} as configured ({str(e)[:200]})"
            ) from None
        modules[role] = module.to(device).eval()
    return Loaded(cfg, parts, modules, p)


RANDOM_PREFIX = "random:"


def random_model(
    spec: str, device: torch.device | str = "cpu", *, use: Use = "all", task: str | None = None
) -> Loaded:
    """``FAMILY[:PRESET]`` built with seeded random weights (``--random-init``): for speed measurements."""
    from vidgan.engine.config import resolve_run_config

    cfg = resolve_run_config(spec)
    if task is not None and cfg.family.task != task:
        raise ValueError(f"--random-init {spec}: a '{cfg.family.task}' family, not a '{task}' one")
    parts = _build(cfg)
    modules = {role: parts.modules[role].to(device).eval() for role in _roles(parts, use)}
    return Loaded(cfg, parts, modules, Path(f"{RANDOM_PREFIX}{spec}"))


def load_for_inference(
    path: str | Path, device: torch.device, use_ema: bool = True
) -> tuple[RunConfig, Parts, dict[str, nn.Module]]:
    """Every role of checkpoint ``path`` (EMA in place of its role): ``(cfg, parts, modules)``."""
    got = load_model(path, device, use="all", use_ema=use_ema)
    return got.cfg, got.parts, got.modules
