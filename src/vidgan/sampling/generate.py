"""Seeded sampling from any unconditional family (checkpoint file or run directory), through the contract.

Videos are written as they are produced: with ``chunk > 0`` the family yields each batch in chunks of frames
and every chunk goes straight to the open video writers, so memory stays flat in the video length.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vidgan.core.atomic import apply_umask, remove_stale_temporaries, temp_prefix
from vidgan.core.seed import derive_seed, make_generator
from vidgan.core.video import batch_to_videos, to_uint8
from vidgan.families.api import Parts, SampleOptions
from vidgan.sampling.inference import load_for_inference, load_model

__all__ = ["load_for_inference", "sample_batches", "sample_chunks", "generate_to_folder"]


def sample_chunks(
    parts: Parts,
    generator: nn.Module,
    n: int,
    frames: int,
    g: torch.Generator,
    options: SampleOptions | None = None,
) -> Iterator[torch.Tensor]:
    """uint8 ``(n, C, t, H, W)`` chunks of one batch of ``n`` videos (one chunk when ``options.chunk == 0``)."""
    if parts.sample is None:
        raise ValueError(
            "this family is conditional (no unconditional sampler): use `vidgan upscale` or `vidgan translate`"
        )
    out = parts.sample(generator, n, frames, g, options) if options is not None else parts.sample(
        generator, n, frames, g
    )
    if isinstance(out, torch.Tensor):
        out = [out]
    for chunk in out:
        yield to_uint8(chunk.float().cpu())


@torch.no_grad()
def sample_batches(
    parts: Parts,
    generator: nn.Module,
    num: int,
    frames: int,
    seed: int,
    batch_size: int,
    device: torch.device,
    options: SampleOptions | None = None,
) -> Iterator[torch.Tensor]:
    """Yield uint8 ``(B, C, T, H, W)`` batches; batch ``i`` is seeded from (seed, i), so results don't
    depend on how many batches were drawn before."""
    if batch_size <= 0:
        raise ValueError(f"--batch-size must be positive, got {batch_size}")
    for i in range(0, num, batch_size):
        n = min(batch_size, num - i)
        g = make_generator(derive_seed(seed, "generate", i), device)
        yield torch.cat(list(sample_chunks(parts, generator, n, frames, g, options)), dim=2)


def _check(num_videos: int, frames: int, batch_size: int, options: SampleOptions) -> None:
    if num_videos <= 0:
        raise ValueError(f"--num-videos must be positive, got {num_videos}")
    if frames < 0:
        raise ValueError(f"--frames must be >= 1 (or 0 for the training clip length), got {frames}")
    if batch_size <= 0:
        raise ValueError(f"--batch-size must be positive, got {batch_size}")
    if options.layout == "decomposition":
        side = math.isqrt(num_videos)
        if side < 2 or side * side != num_videos:
            raise ValueError(
                f"--moco-decomposition needs a square number of videos >= 4 (rows x columns), got {num_videos}"
            )


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
    options: SampleOptions | None = None,
    select: str | None = None,
    grid: bool = True,
) -> list[Path]:
    """Write ``num_videos`` samples (``video_00000.<fmt>`` or frame folders) and ``grid.mp4``/``grid.gif``.

    The output folder appears whole or not at all (written to a temporary sibling, then renamed).
    ``options.layout == "decomposition"`` draws one batch of rows x columns videos (rows share content,
    columns share motion) and writes it as one grid.
    """
    from tqdm import tqdm

    from vidgan.io import VideoWriter, make_grid, write_grid, write_video

    device = device or torch.device("cpu")
    options = options or SampleOptions()
    _check(num_videos, frames, batch_size, options)
    got = load_model(checkpoint, device, use="sample", use_ema=use_ema, task="unconditional", select=select)
    cfg, parts, gen = got.cfg, got.parts, got.modules[got.parts.sample_role]
    frames = frames or cfg.data.frames
    if options.layout == "decomposition":
        batch_size = num_videos
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out}: exists and is not a folder — pass a new or existing folder path")
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)  # what a killed `vidgan generate` left for this output
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out), dir=out.parent))
    paths: list[Path] = []
    grid_videos: list[np.ndarray] = []
    try:
        bar = tqdm(total=num_videos * frames, unit="frame", disable=not progress, desc="generate")
        with torch.no_grad():
            for i in range(0, num_videos, batch_size):
                n = min(batch_size, num_videos - i)
                g = make_generator(derive_seed(seed, "generate", i), device)
                names = [f"video_{i + k:05d}" for k in range(n)]
                targets = [tmp / (name if fmt == "frames" else f"{name}.{fmt}") for name in names]
                writers = [VideoWriter(t, fps=fps) for t in targets]
                keep: list[list[np.ndarray]] = [[] for _ in range(n)]
                try:
                    for chunk in sample_chunks(parts, gen, n, frames, g, options):
                        for k, video in enumerate(batch_to_videos(chunk)):  # (t, H, W, 3)
                            for frame in video:
                                writers[k].write(frame)
                            if len(grid_videos) + k < 64 and frames <= 256:
                                keep[k].append(video)
                        bar.update(n * chunk.shape[2])
                except BaseException:
                    for w in writers:
                        w.abort()
                    raise
                for w in writers:
                    w.close()
                paths += [out / t.name for t in targets]
                grid_videos += [np.concatenate(v) for v in keep if v]
        bar.close()
        if grid and grid_videos:
            nrow = math.isqrt(num_videos) if options.layout == "decomposition" else None
            write_grid(tmp / "grid.mp4", grid_videos, fps=fps, nrow=nrow)
            write_video(tmp / "grid.gif", make_grid(grid_videos, nrow=nrow), fps=fps)
        apply_umask(tmp)
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
