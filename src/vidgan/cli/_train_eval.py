"""The periodic-evaluation callback of ``vidgan train --eval METRIC --eval-every CLIPS``.

Built here, in the CLI (the only place that wires concrete pieces together): the engine calls it with the
live modules (each EMA in place of its role).

* Unconditional families: it samples ``Parts.sample`` (seeded, so every evaluation sees the same latents) and
  compares with real clips from the validation split of the training data (or ``--eval-real``). Real
  statistics are cached on disk, keyed by the data description, so later evaluations only extract fake
  features.
* Conditional families (VSR, translation): it streams the inputs (``Parts.eval_keys[0]``) of a fixed set of
  validation clips through ``Parts.stream`` and scores the outputs against the targets (``eval_keys[1]``):
  paired metrics (``psnr_y_teco``, ``lpips_teco``, ``tof_teco``, ...) per clip, distribution metrics (``fid``,
  ``fvd``) between the output and target sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from vidgan.cli import _console as console
from vidgan.core import dist
from vidgan.core.config import to_dict
from vidgan.core.seed import derive_seed
from vidgan.core.video import batch_to_videos
from vidgan.engine.config import RunConfig
from vidgan.families.api import Parts


def make_eval_hook(cfg: RunConfig, metrics: list[str], num: int, real: str | None, device: torch.device):
    from vidgan.metrics import EvalOptions, evaluate, resolve

    kinds = {}
    for name in metrics:
        try:
            kinds[name] = resolve(name).kind
        except KeyError as e:
            raise ValueError(e.args[0]) from None
    if cfg.family.task != "unconditional":
        return make_conditional_eval_hook(cfg, metrics, kinds, num, device)
    for name, kind in kinds.items():
        if kind != "distribution":
            raise ValueError(
                f"--eval {name}: only distribution metrics (fvd*, fid*, is_c3d*) evaluate an unconditional "
                f"family like {cfg.family.name}; {name} is a paired metric for VSR / translation families"
            )

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

        g = modules[parts.sample_role]
        was_training = g.training
        g.eval()

        def fake_source(frames: int | None) -> Iterator[np.ndarray]:
            for batch in sample_batches(parts, g, num, frames or cfg.data.frames, cfg.seed, 8, device):
                yield from batch_to_videos(batch)

        out: dict[str, float] = {}
        try:
            # one EvalOptions for all metrics of this evaluation: fvd* and kvd* share their I3D features
            opts = EvalOptions(num=num, frames=None, device=device.type, seed=cfg.seed, real_cache_key=cache_key)
            for name in metrics:
                for r in evaluate(name, real_source, fake_source, opts):
                    out[f"eval/{r.metric}"] = float(r.value)
        finally:
            g.train(was_training)
        console.info(f"\n[eval @ {clips_seen} clips] " + ", ".join(f"{k[5:]}={v:.4g}" for k, v in out.items()))
        return out

    return hook


def _frames_u8(x: torch.Tensor) -> np.ndarray:
    """One example's (C, T, H, W) uint8 or [-1, 1] float tensor -> uint8 (T, H, W, 3)."""
    from vidgan.core.video import to_uint8

    if x.dtype != torch.uint8:
        x = to_uint8(x[None].float())[0]
    return x.permute(1, 2, 3, 0).cpu().numpy()


def make_conditional_eval_hook(cfg: RunConfig, metrics: list[str], kinds: dict, num: int, device: torch.device):
    from vidgan.engine.trainer import run_dataset
    from vidgan.families.api import StreamOptions
    from vidgan.metrics import EvalOptions, evaluate

    val_cfg = replace(cfg, data=replace(cfg.data, hflip=False))
    ds = run_dataset(val_cfg, "val")
    n = min(num, len(ds))
    examples = [ds[(i % len(ds), derive_seed(cfg.seed, "eval", i))] for i in range(n)]

    def hook(parts: Parts, modules: Mapping[str, nn.Module], clips_seen: int) -> dict[str, float]:
        if not dist.is_main():
            return {}
        if parts.stream is None or parts.eval_keys is None:
            raise ValueError(
                f"--eval: family {cfg.family.name} declares no streaming inference with eval keys "
                "(Parts.stream, Parts.eval_keys), so it cannot be evaluated during training"
            )
        key_in, key_out = parts.eval_keys
        states = {k: m.training for k, m in modules.items()}
        for m in modules.values():
            m.eval()
        try:
            stream = parts.stream(modules, StreamOptions())
            outputs, targets = {}, {}
            with torch.no_grad():
                for i, ex in enumerate(examples):
                    outputs[f"val{i:03d}"] = np.stack(list(stream(list(_frames_u8(ex[key_in])))))
                    targets[f"val{i:03d}"] = _frames_u8(ex[key_out])
        finally:
            for k, m in modules.items():
                m.train(states[k])
        out: dict[str, float] = {}
        paired = [m for m in metrics if kinds[m] == "paired"]
        if paired:
            from vidgan.metrics.vsr import evaluate_vsr_videos

            t = next(iter(targets.values())).shape[0]
            names = [
                x
                for m in paired
                for x in (
                    ["psnr_y_teco", "ssim_y_teco", "lpips_teco", "tof_teco", "tlp_teco"] if m == "vsr_teco" else [m]
                )
            ]
            for r in evaluate_vsr_videos(outputs, targets, names, cutfr=2 if t >= 8 else 0, keep_per_frame=False):
                out[f"eval/{r.metric}"] = float(r.value)
        for name in (m for m in metrics if kinds[m] == "distribution"):

            def real_src(frames, _t=targets):
                yield from (v[:frames] if frames else v for v in _t.values())

            def fake_src(frames, _o=outputs):
                yield from (v[:frames] if frames else v for v in _o.values())

            opts = EvalOptions(num=n, device=device.type, seed=cfg.seed)
            for r in evaluate(name, real_src, fake_src, opts):
                out[f"eval/{r.metric}"] = float(r.value)
        console.info(f"\n[eval @ {clips_seen} clips] " + ", ".join(f"{k[5:]}={v:.4g}" for k, v in out.items()))
        return out

    return hook
