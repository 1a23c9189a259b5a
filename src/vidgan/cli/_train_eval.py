"""The periodic-evaluation callback of ``vidgan train --eval METRIC --eval-every CLIPS``.

Built here, in the CLI (the only place that wires concrete pieces together): the engine calls it with the
live modules; it samples the EMA generator (seeded, so every evaluation sees the same latents) and compares
with real clips from the validation split of the training data (or ``--eval-real``). Real statistics are
cached on disk, keyed by the data description, so later evaluations only extract fake features.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from vidgan.core import dist
from vidgan.core.config import to_dict
from vidgan.core.video import batch_to_videos
from vidgan.engine.config import RunConfig
from vidgan.families.api import Parts


def make_eval_hook(cfg: RunConfig, metrics: list[str], num: int, real: str | None, device: torch.device):
    from vidgan.metrics import EvalOptions, evaluate, resolve

    for name in metrics:
        try:
            spec = resolve(name)
        except KeyError as e:
            raise ValueError(e.args[0]) from None
        if spec.kind != "distribution":
            raise ValueError(f"--eval {name}: only distribution metrics (fvd*, fid*, is_c3d*) run during training")
    if cfg.family.task != "unconditional":
        raise ValueError(f"--eval needs an unconditional family; {cfg.family.name} is '{cfg.family.task}'")

    def real_source(frames: int | None) -> Iterator[np.ndarray]:
        if real is not None:
            from vidgan.cli.eval import video_source

            yield from video_source(real, num, cfg.seed, device.type)(frames)
            return
        from vidgan.data import build_dataset

        data = replace(cfg.data, sampler="clips", frames=frames or cfg.data.frames, hflip=False)
        ds = build_dataset(data, "val", seed=cfg.seed)
        for i in range(num):
            video = ds[(i % len(ds), i)]["video"]  # uint8 (C, T, H, W)
            yield video.permute(1, 2, 3, 0).numpy()

    cache_key = {"data": to_dict(cfg.data), "split": "val", "num": num, "real": real, "seed": cfg.seed}

    def hook(parts: Parts, modules: Mapping[str, nn.Module], clips_seen: int) -> dict[str, float]:
        if not dist.is_main():
            return {}
        from vidgan.sampling.generate import sample_batches

        g = modules.get("ema") or modules["generator"]
        was_training = g.training
        g.eval()

        def fake_source(frames: int | None) -> Iterator[np.ndarray]:
            for batch in sample_batches(parts, g, num, frames or cfg.data.frames, cfg.seed, 8, device):
                yield from batch_to_videos(batch)

        out: dict[str, float] = {}
        try:
            for name in metrics:
                opts = EvalOptions(num=num, frames=None, device=device.type, seed=cfg.seed, real_cache_key=cache_key)
                for r in evaluate(name, real_source, fake_source, opts):
                    out[f"eval/{r.metric}"] = float(r.value)
        finally:
            g.train(was_training)
        dist.print0(f"\n[eval @ {clips_seen} clips] " + ", ".join(f"{k[5:]}={v:.4g}" for k, v in out.items()))
        return out

    return hook
