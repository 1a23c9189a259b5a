"""Unpaired video-to-video translation: TimeCycleGAN-UP, CycleGAN and RecycleGAN.

Spec: ``shared/specs/timecycle.md`` §3.3-§3.4 (TimeCycleGAN, fa9r/TimeCycleGAN @ b479c99). Built on
:mod:`vidgan.temporal`. Data: the ``translation`` sampler with ``pairing=unpaired`` (a target clip drawn
independently for every source clip; the official code fixed the pairs per index, spec §10).

Presets (weights are CycleGAN's conventions and the fixture settings, never the unknown thesis values):

* ``up`` (default): TimeCycleGAN-UP (recurrent resnet_9blocks Gs, PatchGAN Ds, sequence Ds, two TimeCycles).
* ``cyclegan``: per-frame CycleGAN (identity 0.5 x cycle, image pool 50).
* ``recyclegan``: RecycleGAN (blocks of 3 frames, temporal predictors resnet_6blocks).
* ``tiny``: tests.

Roles: ``generator`` (source -> target), ``generator_source`` (target -> source), ``discriminator`` /
``discriminator_source`` (frame Ds of the target / source domain), ``seq_discriminator[_source]``,
``timecycle[_source]`` (motion models), ``predictor[_source]`` (RecycleGAN). Inference: ``direction=AtoB``
(default, source -> target) or ``BtoA``. No EMA.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from vidgan.families.api import DataSpec, Parts, StreamOptions, require
from vidgan.temporal.nets import define_discriminator, define_generator
from vidgan.temporal.pool import ImagePool
from vidgan.temporal.recurrent import RecurrentGenerator
from vidgan.temporal.seqd import SequenceDiscriminatorLoss
from vidgan.temporal.stream import RecurrentStream
from vidgan.temporal.timecycle import TimeCycleLoss
from vidgan.temporal.train_utils import linear_decay, to_sequence

from .config import Config
from .objective import D_ROLES, G_ROLES, UnpairedObjective

__all__ = ["Config", "PRESETS", "DEFAULT_PRESET", "DATA_SAMPLERS", "build", "build_modules"]

DATA_SAMPLERS = ("translation",)

_DATA = {
    "sampler": "translation",
    "source": "bouncing-shapes-labels",
    "source_interp": "nearest",  # label maps: no invented colours (spec §10)
    "target": "bouncing-shapes",
    "pairing": "unpaired",
    "frames": 5,
    "size": 256,
    "crop": "random",
    "hflip": True,
}

PRESETS: dict[str, dict[str, Any]] = {
    "up": {"family": {}, "data": dict(_DATA), "train": {"batch_size": 1}},
    "cyclegan": {
        "family": {"variant": "cyclegan", "n_frames_g": 0, "pool_size": 50, "seq_d": False, "tc_weight": 0.0},
        "data": {**_DATA, "frames": 1},
        "train": {"batch_size": 1},
    },
    "recyclegan": {
        "family": {"variant": "recyclegan", "n_frames_g": 0, "seq_d": False, "tc_weight": 0.0, "identity_weight": 0.0},
        "data": {**_DATA, "frames": 3},
        "train": {"batch_size": 1},
    },
    "tiny": {
        "family": {"generator": "resnet_1blocks", "ngf": 8, "ndf": 8, "motion_filters": 4, "tc_warp_weight": 1.0},
        "data": {**_DATA, "source": "moving-digits", "target": "bouncing-shapes", "frames": 3, "size": 32},
        "train": {"batch_size": 2},
    },
}
DEFAULT_PRESET = "up"


def _multiple(generator: str) -> int:
    return {"unet_256": 256, "unet_128": 128}.get(generator, 4)


def build_modules(cfg: Config, frames: int) -> dict[str, nn.Module]:
    cs, ct = cfg.source_channels, cfg.target_channels
    n_prev = cfg.n_frames_g if cfg.variant == "timecycle" else 0

    def gen(cin: int, cout: int) -> RecurrentGenerator:
        net = define_generator(cfg.generator, cin + cout * n_prev, cout, cfg.ngf, cfg.norm)
        return RecurrentGenerator(net, cout, cin, n_prev=n_prev, init=cfg.placeholder)

    mods: dict[str, nn.Module] = {
        "generator": gen(cs, ct),
        "generator_source": gen(ct, cs),
        "discriminator": define_discriminator(cfg.discriminator, ct, cfg.ndf, cfg.norm),
        "discriminator_source": define_discriminator(cfg.discriminator, cs, cfg.ndf, cfg.norm),
    }
    if cfg.variant == "recyclegan":
        mods["predictor"] = define_generator(cfg.predictor, 2 * ct, ct, cfg.ngf, cfg.norm)
        mods["predictor_source"] = define_generator(cfg.predictor, 2 * cs, cs, cfg.ngf, cfg.norm)
    if cfg.variant != "timecycle":
        return mods
    if cfg.seq_d:
        n = cfg.n_frames_d or frames
        for role, c in (("seq_discriminator", ct), ("seq_discriminator_source", cs)):
            mods[role] = SequenceDiscriminatorLoss(
                c, n, cfg.temporal_scales, architecture=cfg.discriminator, ndf=cfg.ndf, gan=cfg.gan
            )
    if cfg.tc_weight or cfg.tc_warp_weight or cfg.tc_frame_d:
        for role, c, cc in (("timecycle", ct, cs), ("timecycle_source", cs, ct)):
            mods[role] = TimeCycleLoss(
                c,
                cc,
                "conditional",
                separate_models=cfg.separate_motion_models,
                motion_architecture=cfg.motion_architecture,
                motion_filters=cfg.motion_filters,
                distance=cfg.tc_distance,
                weight=cfg.tc_weight,
                ignore_first=0,
                warp_weight=cfg.tc_warp_weight,
                normalize_warp_by_L=cfg.normalize_warp_by_L,
            )
    return mods


def _check_data(cfg: Config, data: DataSpec) -> None:
    require(
        data.sampler == "translation", "family.task", "data.sampler", "unpaired translation trains on 'translation'"
    )
    m = _multiple(cfg.generator)
    require(data.size % m == 0, "family.generator", "data.size", f"{cfg.generator} needs a multiple of {m}")
    require(data.size >= 32, "family.discriminator", "data.size", "a PatchGAN needs at least 32x32")
    if cfg.variant == "recyclegan":
        require(data.frames == 3, "family.variant", "data.frames", "RecycleGAN trains on blocks of 3 frames")
    if cfg.variant == "timecycle" and (cfg.tc_weight or cfg.tc_warp_weight):
        require(data.frames >= 2, "family.tc_weight", "data.frames", "the TimeCycle loss needs at least 2 frames")
    if cfg.identity_weight and cfg.cycle_weight and cfg.variant != "recyclegan":
        require(
            cfg.source_channels == cfg.target_channels,
            "family.identity_weight",
            "family.source_channels",
            "the identity loss needs equal channel counts",
        )


def build(cfg: Config, data: DataSpec) -> Parts:
    _check_data(cfg, data)
    mods = build_modules(cfg, data.frames)
    g_params = [p for r in G_ROLES if r in mods for p in mods[r].parameters()]
    d_params = [p for r in D_ROLES if r in mods for p in mods[r].parameters()]
    optimizers = {
        "G": torch.optim.Adam(g_params, lr=cfg.lr, betas=tuple(cfg.betas)),
        "D": torch.optim.Adam(d_params, lr=cfg.lr, betas=tuple(cfg.betas)),
    }
    pools = {} if cfg.pool_size <= 0 else {"target": ImagePool(cfg.pool_size), "source": ImagePool(cfg.pool_size)}
    multiple = _multiple(cfg.generator)

    def stream(modules: Mapping[str, nn.Module], options: StreamOptions):
        role = {"": "generator", "AtoB": "generator", "BtoA": "generator_source"}.get(options.direction)
        if role is None:
            raise ValueError(f"direction must be AtoB (source -> target) or BtoA, got {options.direction!r}")
        return RecurrentStream(modules[role], options.dtype, multiple, seed=int(options.extra.get("seed", 0)))

    return Parts(
        modules=mods,
        optimizers=optimizers,
        objective=UnpairedObjective(cfg, set(mods), pools),
        lr_factor=linear_decay(cfg.lr_decay_start, cfg.lr_decay_clips),
        ema=None,
        stream=stream,
        stream_roles=("generator", "generator_source"),
        eval_keys=("source", "target"),
        preview=_preview,
        preview_labels=("source", "source -> target", "target", "target -> source"),
        state={f"pool_{k}": v for k, v in pools.items()},
    )


@torch.no_grad()
def _preview(modules: Mapping[str, nn.Module], batch: Mapping[str, Any]) -> Tensor:
    """[source | G(source) | target | F(target)], (B, C, T, H, 4W) in [-1, 1] (seeded placeholders)."""
    a, b = to_sequence(batch["source"]), to_sequence(batch["target"])
    g = torch.Generator(device=a.device).manual_seed(0)
    fb = modules["generator"].unroll(a, generator=g)
    fa = modules["generator_source"].unroll(b, generator=g)
    return torch.cat([a, fb, b, fa], -1).clamp(-1, 1).transpose(1, 2).contiguous()
