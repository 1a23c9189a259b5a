"""TecoGAN / FRVSR: frame-recurrent 4x video super-resolution with a spatio-temporal GAN.

Papers: Chu et al., "Learning Temporal Coherence via Self-Supervision for GAN-based Video Generation"
(TOG 2020, arXiv 1811.09393); Sajjadi et al., "Frame-Recurrent Video Super-Resolution" (CVPR 2018).
Spec: ``shared/specs/tecogan.md``. Presets: ``frvsr`` (default: 10 blocks, L2 + warp, no D),
``tecogan`` (16 blocks, all losses, D), ``tiny`` (tests).

EMA: none (``Parts.ema = None``): neither official code keeps a generator EMA for VSR.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from vidgan.core.video import fold_time, unfold_time
from vidgan.families.api import DataMismatch, DataSpec, ForeignWeights, Parts, StreamOptions, require
from vidgan.nn.bicubic import upsample_bicubic

from .config import Config
from .convert import port_generator_config, read_generator_state, read_state
from .discriminator import SpatioTemporalDiscriminator
from .generator import FRNet, grow_resblocks
from .loss import TecoObjective
from .stream import StreamingUpscaler, build_generator

__all__ = [
    "Config",
    "PRESETS",
    "DEFAULT_PRESET",
    "build",
    "build_generator",
    "FRNet",
    "SpatioTemporalDiscriminator",
    "StreamingUpscaler",
    "load_foreign",
]

_FRVSR_FAMILY = {
    "num_blocks": 10,
    "discriminator": False,
    "vgg_weight": 0.0,
    "pingpong": False,
    "pingpong_weight": 0.0,
    "adv_weight": 0.0,
    "dfeat_weight": 0.0,
}
_DATA = {
    # the embedded camera pans over real photographs (README: `vidgan train tecogan:frvsr` runs out of the box);
    # point data.source at a folder of HR videos (e.g. VimeoTecoGAN) for real training
    "source": "photo-pans",
    "sampler": "paired",
    "frames": 10,
    "size": 128,
    # HR crops at the frames' own resolution (official: random 128² crops of the prepared frames); resizing the
    # short side to `size` first would train on shrunken video with none of its fine detail
    "resize": "none",
    "scale": 4,
    "degradation": "bd",
    "sigma": 1.5,
    "hflip": True,
    "crop": "random",
}

PRESETS: dict[str, dict[str, Any]] = {
    # FRVSR as trained by TecoGAN's runGan case 4: 10 blocks, L2 content + warp, 500k steps, batch 4
    "frvsr": {
        "family": dict(_FRVSR_FAMILY),
        "data": dict(_DATA),
        "train": {"batch_size": 4, "total_clips": 2_000_000},
    },
    # FRVSR's network (10 blocks) trained on a CPU budget: straight sub-pixel pans over the bundled photos, textures
    # and text shrunk 0.35-1x (`sharp-pans`, 2,048 videos), 64² HR crops (16² LR), 6 frames, batch 8, Adam 2e-4
    # (4x the official 5e-5: minutes, not days); checkpoints every 2,048 clips and every 5 minutes of wall time.
    # 20,480 clips (bf16, 2 threads, ~17 min): +2.2 / +1.8 / +1.4 dB over bicubic on held-out real video, where
    # the earlier `detail-pans:pages=50` recipe reached +1.7 / +0.9 / +0.9 (docs/families/tecogan.md)
    "frvsr_cpu": {
        "family": {**_FRVSR_FAMILY, "lr": 2e-4},
        "data": {**_DATA, "source": "sharp-pans:num_videos=2048", "frames": 6, "size": 64},
        "train": {
            "batch_size": 8,
            "total_clips": 40_000,
            "checkpoint_every_clips": 2_048,
            "checkpoint_every_minutes": 5.0,  # a stopped CPU run never loses more than 5 minutes
        },
    },
    # released TecoGAN: 16 blocks warm-started from FRVSR (set family.init_from), 900k steps, batch 4
    "tecogan": {"family": {}, "data": dict(_DATA), "train": {"batch_size": 4, "total_clips": 3_600_000}},
    # tests: small widths/sizes; D and all losses on (VGG with seeded random weights)
    "tiny": {
        "family": {"num_blocks": 2, "nf": 16, "vgg_weights": "random"},
        "data": {**_DATA, "frames": 3, "size": 32},
        "train": {"batch_size": 2},
    },
}
DEFAULT_PRESET = "frvsr"


DATA_SAMPLERS = ("paired",)  # the data samplers this family trains on (LR/HR pairs)


def _stream(modules: Mapping[str, nn.Module], options: StreamOptions) -> StreamingUpscaler:
    """``vidgan upscale``: frames stream through ``FRNet.step`` (official 5 reflected warm-up frames).

    ``--opt compile=true``: ``torch.compile`` the step (off by default); ``--opt fast=false``: run the model's
    own ``step`` instead of the fused channels_last copy (see ``stream.py``)."""
    if options.direction:
        raise ValueError(f"--direction {options.direction}: TecoGAN upscales in one direction only; drop it")
    unknown = sorted(set(options.extra) - {"compile", "fast"})
    if unknown:
        raise ValueError(f"--opt {unknown[0]}: TecoGAN's upscaler knows only compile=BOOL and fast=BOOL")
    flags = {}
    for k in ("compile", "fast"):
        if k in options.extra:
            v = options.extra[k]
            if not isinstance(v, bool):
                raise ValueError(f"--opt {k}={v}: expected true or false")
            flags[k] = v
    warmup = 5 if options.warmup < 0 else options.warmup
    return StreamingUpscaler(modules["generator"], dtype=options.dtype, warmup=warmup, tile=options.tile, **flags)


def load_foreign(path: str | Path) -> ForeignWeights | None:
    """A raw TecoGAN-PyTorch ``.pth`` generator file (``vidgan upscale --checkpoint FRVSR_BD.pth``)."""
    try:
        state = read_state(path)
        cfg = port_generator_config(state)
    except Exception:
        return None  # not a port state dict
    data = {"sampler": "paired", "scale": cfg.scale, "degradation": cfg.degradation}
    return ForeignWeights(cfg, {"generator": state}, data=data, source=Path(path))


def _preview(modules: Mapping[str, nn.Module], batch: Mapping[str, Any]) -> Tensor:
    """Sample-grid view: [bicubic | TecoGAN output | target] side by side, ``(B, C, T, H, 3W)`` in [-1, 1]."""
    gen = modules["generator"]
    lr = (batch["lr"].float() + 1.0) / 2.0
    with torch.no_grad():
        out = gen.forward_sequence(lr)["hr"]
        bic = unfold_time(upsample_bicubic(fold_time(lr), gen.scale), lr.shape[2])  # (B, C, T, H, W)
    panels = [bic, out, (batch["hr"].float() + 1.0) / 2.0]
    return (torch.cat(panels, dim=-1).clamp(0, 1) * 2.0 - 1.0).contiguous()


def build(cfg: Config, data: DataSpec) -> Parts:
    """Generator (+ discriminator), optimisers and objective for HR clips of ``data.size`` x ``data.frames``.

    The run's data section owns the degradation that makes the LR clips (``data.scale``, ``data.degradation``);
    the network's upsampler (``family.scale``, ``family.degradation``) must match it.
    """
    image_size, frames = data.size, data.frames
    require(
        data.scale == cfg.scale,
        f"family.scale={cfg.scale}",
        f"data.scale={data.scale}",
        "the LR clips and the generator must use one factor: set both to the same value",
    )
    require(
        data.degradation == cfg.degradation,
        f"family.degradation={cfg.degradation}",
        f"data.degradation={data.degradation}",
        "set both to the same value (bd or bi)",
    )
    if image_size % cfg.scale or image_size // cfg.scale < 8:
        raise DataMismatch(
            f"data.size={image_size} vs family.scale={cfg.scale}: the HR size must be a multiple of the scale "
            f"with an LR size of at least 8 (FNet pools three times)"
        )
    t_eff = 2 * frames - 1 if cfg.pingpong else frames
    if frames < 2 or (cfg.discriminator and t_eff < 3):
        raise DataMismatch(
            f"data.frames={frames} vs family.discriminator={cfg.discriminator}: need at least 2 frames "
            "(3 after ping-pong for the discriminator)"
        )
    gen = build_generator(cfg)
    if cfg.init_from:
        state, _ = read_generator_state(cfg.init_from)
        grow_resblocks(gen, state, cfg.grow_init)
    modules: dict[str, nn.Module] = {"generator": gen}
    optimizers: dict[str, torch.optim.Optimizer] = {
        # one Adam with SRNet and FNet groups == the official separate Adams (Adam is per parameter)
        "G": torch.optim.Adam(
            [
                {"params": gen.srnet.parameters(), "name": "srnet"},
                {"params": gen.fnet.parameters(), "name": "fnet"},
            ],
            lr=cfg.lr,
            betas=tuple(cfg.betas),
            eps=cfg.eps,
        )
    }
    if cfg.discriminator:
        if image_size % 16:
            raise DataMismatch(
                f"data.size={image_size} vs family.discriminator=true: the discriminator needs a multiple of 16"
            )
        disc = SpatioTemporalDiscriminator(cfg.in_channels, image_size, cfg.scale, cfg.degradation, cfg.compat)
        modules["discriminator"] = disc
        optimizers["D"] = torch.optim.Adam(disc.parameters(), lr=cfg.lr_d, betas=tuple(cfg.betas), eps=cfg.eps)
    return Parts(
        modules=modules,
        optimizers=optimizers,
        objective=TecoObjective(cfg),
        lr_factor=lambda name, clips_seen: 1.0,  # constant LR (official)
        ema=None,
        sample=None,
        stream=_stream,
        stream_roles=("generator",),
        eval_keys=("lr", "hr"),
        preview=_preview,
        preview_labels=("bicubic", "output", "target"),
    )
