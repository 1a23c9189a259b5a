"""Seeded sampling from a trained unconditional generator (checkpoint file or run directory)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from vidgan.core.seed import derive_seed, make_generator, seed_everything
from vidgan.core.video import batch_to_videos, to_uint8
from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import RunConfig, run_config_from_dict
from vidgan.families import load_family
from vidgan.families.api import Parts

__all__ = ["load_for_inference", "sample_batches", "generate_to_folder"]


def load_for_inference(
    path: str | Path, device: torch.device, use_ema: bool = True
) -> tuple[RunConfig, Parts, dict[str, nn.Module]]:
    """Rebuild the family from a checkpoint's config and load its weights (EMA replaces its role)."""
    ckpt = ckpt_io.load(path, map_location="cpu")
    cfg = run_config_from_dict(ckpt["config"])
    family = load_family(cfg.family.name)
    seed_everything(0)
    parts = family.build(cfg.family, image_size=cfg.data.size, frames=cfg.data.frames)
    modules: dict[str, nn.Module] = {}
    for role, module in parts.modules.items():
        state = ckpt["modules"].get(role)
        if state is None:
            raise ckpt_io.CheckpointError(f"{path}: checkpoint has no weights for '{role}'")
        if use_ema and ckpt.get("ema") is not None and ckpt.get("ema_role") == role:
            state = ckpt["ema"]
        module.load_state_dict(state)
        modules[role] = module.to(device).eval()
    return cfg, parts, modules


@torch.no_grad()
def sample_batches(
    parts: Parts,
    generator: nn.Module,
    num: int,
    frames: int,
    seed: int,
    batch_size: int,
    device: torch.device,
) -> Iterator[torch.Tensor]:
    """Yield uint8 ``(B, C, T, H, W)`` batches; batch ``i`` is seeded from (seed, i), so results don't
    depend on how many batches were drawn before."""
    if parts.sample is None:
        raise ValueError(
            "this family is conditional (no unconditional sampler): use `vidgan upscale` or "
            "`vidgan translate`"
        )
    done = 0
    for i in range(0, num, batch_size):
        n = min(batch_size, num - i)
        g = make_generator(derive_seed(seed, "generate", i), device)
        video = parts.sample(generator, n, frames, g)
        yield to_uint8(video.float().cpu())
        done += n


def generate_to_folder(
    checkpoint: str | Path,
    out: str | Path,
    *,
    num_videos: int,
    frames: int = 0,
    seed: int = 0,
    batch_size: int = 8,
    fmt: str = "mp4",
    fps: float = 8.0,
    device: torch.device | None = None,
    use_ema: bool = True,
    progress: bool = True,
) -> list[Path]:
    """Write ``num_videos`` samples (``video_00000.<fmt>`` or frame folders) and ``grid.mp4``/``grid.gif``."""
    from tqdm import tqdm

    from vidgan.io import write_grid, write_video

    device = device or torch.device("cpu")
    cfg, parts, modules = load_for_inference(checkpoint, device, use_ema)
    frames = frames or cfg.data.frames
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    paths: list[Path] = []
    grid: list = []
    try:
        bar = tqdm(total=num_videos, unit="video", disable=not progress)
        for batch in sample_batches(
            parts, modules["generator"], num_videos, frames, seed, batch_size, device
        ):
            for video in batch_to_videos(batch):
                name = f"video_{len(paths):05d}"
                target = tmp / (name if fmt == "frames" else f"{name}.{fmt}")
                write_video(target, video, fps=fps)
                paths.append(out / target.name)
                if len(grid) < 64:
                    grid.append(video)
            bar.update(batch.shape[0])
        bar.close()
        write_grid(tmp / "grid.mp4", grid, fps=fps)
        write_grid(tmp / "grid.gif", grid, fps=fps)
        if out.exists():
            for p in tmp.iterdir():
                dst = out / p.name
                if dst.is_dir():
                    shutil.rmtree(dst)
                os.replace(p, dst)
            tmp.rmdir()
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return paths
