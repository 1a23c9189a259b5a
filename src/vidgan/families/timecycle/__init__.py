"""Paired video-to-video translation with TimeCycleGAN (-P, -P++), and the pix2pix baselines.

Paper: F. Altenberger, *Learning Temporal Consistency in Video Generation* (TUM master's thesis, 2020);
code fa9r/TimeCycleGAN @ b479c99. Spec: ``shared/specs/timecycle.md``. Built on :mod:`vidgan.temporal`.

Presets (data: the ``translation`` sampler, ``pairing=paired``; the thesis' weights are unknown, so the
weights are the golden-fixture settings or the original papers' conventions, never the thesis'):

* ``p`` (default): TimeCycleGAN-P: recurrent pix2pix (resnet_9blocks/64, input [source_t, previous fake]),
  conditional PatchGAN frame D with feature matching, sequence D over the 5-frame block, TimeCycle loss 10
  (shared resnet_1blocks motion model), TimeCycle warp term 1, L1 10. 256x256 blocks of 5 frames.
* ``p_plus``: -P++ read as "P plus the pix2pixHD VGG loss" (needs ``family.vgg_weights``; unverified reading).
* ``p_pingpong``: TimeCycle ping-pong mode (the generator is the backward model; no motion model).
* ``pix2pix``: per-frame pix2pix (unet_256, L1 100 as in pix2pix), no recurrence, no temporal losses.
* ``pix2pix_block``: pix2pix on whole blocks (B frames stacked); inference emits the middle frame.
* ``vid2vid``: the simplified vid2vid baseline (2 previous frames and sources, flow + mask + image heads,
  flows from Farnebäck instead of FlowNet2; see ``vid2vid.py``); ``timecycle_vid2vid`` adds the TimeCycle.
* ``tiny``: tests.

Roles: ``generator`` (a :class:`~vidgan.temporal.RecurrentGenerator`, or a block generator), ``discriminator``
(the frame PatchGAN), ``seq_discriminator`` (:class:`~vidgan.temporal.SequenceDiscriminatorLoss`, its Ds),
``timecycle`` (:class:`~vidgan.temporal.TimeCycleLoss`, the motion model; trained by G's optimizer).
No EMA (the official code keeps none). Official checkpoints: :func:`convert.import_weights`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from vidgan.families.api import DataSpec, Parts, StreamOptions, require
from vidgan.temporal.nets import define_discriminator, define_generator, init_weights
from vidgan.temporal.recurrent import RecurrentGenerator
from vidgan.temporal.seqd import SequenceDiscriminatorLoss
from vidgan.temporal.stream import BlockStream, RecurrentStream
from vidgan.temporal.timecycle import TimeCycleLoss
from vidgan.temporal.train_utils import linear_decay, to_sequence

from .config import Config
from .objective import BlockGenerator, PairedObjective
from .vid2vid import Vid2VidGenerator, Vid2VidNet

__all__ = ["Config", "PRESETS", "DEFAULT_PRESET", "DATA_SAMPLERS", "build", "build_modules", "down_factor"]

DATA_SAMPLERS = ("translation",)

# embedded paired data: colour label maps rendered from bouncing-shapes -> the frames (see
# vidgan.data.paired_synthetic); point data.source / data.target at two folder trees for real data
_DATA = {
    "sampler": "translation",
    "source": "bouncing-shapes-labels",
    "source_interp": "nearest",  # label maps: no invented colours (spec §10)
    "target": "bouncing-shapes",
    "pairing": "paired",
    "frames": 5,
    "size": 256,
    "crop": "random",
    "hflip": True,
}

PRESETS: dict[str, dict[str, Any]] = {
    "p": {"family": {}, "data": dict(_DATA), "train": {"batch_size": 1}},
    "p_plus": {"family": {"vgg_weight": 10.0}, "data": dict(_DATA), "train": {"batch_size": 1}},
    "p_pingpong": {"family": {"tc_mode": "pingpong"}, "data": dict(_DATA), "train": {"batch_size": 1}},
    "pix2pix": {
        "family": {
            "variant": "pix2pix",
            "generator": "unet_256",
            "l1_weight": 100.0,
            "fm_weight": 0.0,
            "seq_d": False,
            "tc_weight": 0.0,
            "tc_warp_weight": 0.0,
            "n_frames_g": 0,
        },
        "data": {**_DATA, "frames": 1},
        "train": {"batch_size": 1},
    },
    "pix2pix_block": {
        "family": {
            "variant": "pix2pix_block",
            "generator": "unet_256",
            "l1_weight": 100.0,
            "fm_weight": 0.0,
            "seq_d": False,
            "tc_weight": 0.0,
            "tc_warp_weight": 0.0,
        },
        "data": dict(_DATA),
        "train": {"batch_size": 1},
    },
    "vid2vid": {
        "family": {
            "variant": "vid2vid",
            "n_frames_g": 2,
            "g_input_conditioning": True,
            "tc_weight": 0.0,
            "tc_warp_weight": 0.0,
            "tc_frame_d": False,
            "warp_weight": 10.0,
        },
        "data": dict(_DATA),
        "train": {"batch_size": 1},
    },
    "timecycle_vid2vid": {
        "family": {"variant": "vid2vid", "n_frames_g": 2, "g_input_conditioning": True, "warp_weight": 10.0},
        "data": dict(_DATA),
        "train": {"batch_size": 1},
    },
    # tests: every term on (frame FM, sequence D with FM, TimeCycle + warp term + frame-D term), tiny nets
    "tiny": {
        "family": {"generator": "resnet_2blocks", "ngf": 8, "ndf": 8, "motion_filters": 4},
        "data": {**_DATA, "source": "moving-digits", "target": "moving-digits", "frames": 4, "size": 32},
        "train": {"batch_size": 2},
    },
}
DEFAULT_PRESET = "p"


def down_factor(generator: str) -> int:
    """Input size multiple a generator needs: 4 for resnet_<N>blocks, 2**levels for the U-Nets."""
    if generator == "unet_256":
        return 256
    if generator == "unet_128":
        return 128
    if re.match(r"^resnet_\d+blocks$", generator):
        return 4
    raise ValueError(f"family.generator={generator!r}: use resnet_<N>blocks, unet_128 or unet_256")


def build_modules(cfg: Config, frames: int) -> tuple[dict[str, nn.Module], TimeCycleLoss | None]:
    """The module roles of ``cfg`` for blocks of ``frames`` frames (and the TimeCycle loss, also held by the
    objective when it has no parameters, i.e. ping-pong)."""
    cs, ct = cfg.source_channels, cfg.target_channels
    if cfg.variant == "pix2pix_block":
        net = define_generator(cfg.generator, cs * frames, ct * frames, cfg.ngf, cfg.norm)
        gen: nn.Module = BlockGenerator(net, frames, ct)
        disc = define_discriminator(cfg.discriminator, (cs + ct) * frames, cfg.ndf, cfg.norm)
        return {"generator": gen, "discriminator": disc}, None
    n_prev = cfg.n_frames_g if cfg.variant in ("timecycle", "vid2vid") else 0
    if cfg.variant == "vid2vid":
        m = re.match(r"^resnet_(\d+)blocks$", cfg.generator)
        if m is None:
            raise ValueError("family.variant=vid2vid builds its own ResNet: family.generator must be resnet_<N>blocks")
        v2v = Vid2VidNet(cs, ct, n_prev, cfg.ngf, int(m.group(1)), cfg.norm, cfg.flow_scale, cfg.warp_align_corners)
        gen: nn.Module = Vid2VidGenerator(
            init_weights(v2v), ct, cs, n_prev=n_prev, cond_prev=True, init=cfg.placeholder
        )
    else:
        cond_prev = cfg.g_input_conditioning and n_prev > 0
        in_ch = cs * (1 + (n_prev if cond_prev else 0)) + ct * n_prev
        net = define_generator(cfg.generator, in_ch, ct, cfg.ngf, cfg.norm)
        gen = RecurrentGenerator(net, ct, cs, n_prev=n_prev, cond_prev=cond_prev, init=cfg.placeholder)
    modules: dict[str, nn.Module] = {
        "generator": gen,
        "discriminator": define_discriminator(cfg.discriminator, cs + ct, cfg.ndf, cfg.norm),
    }
    tc = None
    if cfg.variant in ("timecycle", "vid2vid"):
        if cfg.seq_d:
            modules["seq_discriminator"] = SequenceDiscriminatorLoss(
                ct,
                cfg.n_frames_d or frames,
                cfg.temporal_scales,
                0,
                architecture=cfg.discriminator,
                ndf=cfg.ndf,
                gan=cfg.gan,
                fm_weight=cfg.fm_weight,
                fm_mode=cfg.seq_fm_mode,
                fm_reduction=cfg.fm_reduction,
            )
        if cfg.tc_weight or cfg.tc_warp_weight or cfg.tc_frame_d:
            if cfg.tc_mode == "pingpong" and (n_prev != 1 or gen.cond_prev or cfg.variant == "vid2vid"):
                raise ValueError("family.tc_mode=pingpong needs n_frames_g=1, g_input_conditioning=false, no vid2vid")
            tc = TimeCycleLoss(
                ct,
                cs,
                cfg.tc_mode,
                separate_models=cfg.separate_motion_models,
                motion_architecture=cfg.motion_architecture,
                motion_filters=cfg.motion_filters,
                distance=cfg.tc_distance,
                weight=cfg.tc_weight,
                ignore_first=cfg.tc_ignore_first,
                terms=cfg.tc_terms if cfg.tc_mode == "conditional" else None,
                warp_weight=cfg.tc_warp_weight,
                normalize_warp_by_L=cfg.normalize_warp_by_L,
                rec_conditioning=cfg.rec_conditioning,
            )
            if list(tc.parameters()):
                modules["timecycle"] = tc
    return modules, tc


def _check_data(cfg: Config, data: DataSpec) -> None:
    require(
        data.sampler == "translation",
        "family.task",
        "data.sampler",
        "paired translation trains on the 'translation' sampler",
    )
    require(
        getattr(data, "pairing", "paired") == "paired",
        "family.name",
        "data.pairing",
        "the paired family needs pairing=paired (use timecycle_unpaired)",
    )
    m = down_factor(cfg.generator)
    require(data.size % m == 0, "family.generator", "data.size", f"{cfg.generator} needs a multiple of {m}")
    require(
        data.size >= 32 or cfg.discriminator == "pixel",
        "family.discriminator",
        "data.size",
        "a PatchGAN needs at least 32x32",
    )
    if cfg.variant in ("timecycle", "vid2vid"):
        if cfg.tc_weight or cfg.tc_warp_weight:
            require(
                data.frames - cfg.tc_ignore_first >= 2,
                "family.tc_ignore_first",
                "data.frames",
                f"the TimeCycle loss needs at least {cfg.tc_ignore_first + 2} frames",
            )
        if cfg.seq_d:
            require(
                (cfg.n_frames_d or data.frames) <= data.frames,
                "family.n_frames_d",
                "data.frames",
                "a window is longer than the clip",
            )
            require(
                (cfg.n_frames_d or data.frames) >= 2,
                "family.n_frames_d",
                "data.frames",
                "a sequence D needs 2+ frames",
            )


def build(cfg: Config, data: DataSpec) -> Parts:
    """Modules, Adam optimizers (G + motion model; frame D + sequence Ds), objective and inference."""
    _check_data(cfg, data)
    frames = data.frames
    modules, tc = build_modules(cfg, frames)
    g_params = [p for r in ("generator", "timecycle") if r in modules for p in modules[r].parameters()]
    d_params = [p for r in ("discriminator", "seq_discriminator") if r in modules for p in modules[r].parameters()]
    optimizers = {
        "G": torch.optim.Adam(g_params, lr=cfg.lr, betas=tuple(cfg.betas)),
        "D": torch.optim.Adam(d_params, lr=cfg.lr, betas=tuple(cfg.betas)),
    }
    multiple = down_factor(cfg.generator)

    def stream(mods: Mapping[str, nn.Module], options: StreamOptions):
        if options.direction not in ("", "AtoB"):
            raise ValueError(
                f"the paired timecycle family translates source -> target only (AtoB), got {options.direction!r}"
            )
        gen = mods["generator"]
        if isinstance(gen, BlockGenerator):
            return BlockStream(gen.net, gen.block, options.dtype, multiple)
        return RecurrentStream(gen, options.dtype, multiple, seed=int(options.extra.get("seed", 0)))

    return Parts(
        modules=modules,
        optimizers=optimizers,
        objective=PairedObjective(cfg, frames, tc),
        lr_factor=linear_decay(cfg.lr_decay_start, cfg.lr_decay_clips),
        ema=None,
        stream=stream,
        stream_roles=("generator",),
        eval_keys=("source", "target"),
        preview=_preview,
        preview_labels=("source", "output", "target"),
    )


@torch.no_grad()
def _preview(modules: Mapping[str, nn.Module], batch: Mapping[str, Any]) -> Tensor:
    """[source | output | target] side by side, (B, C, T, H, 3W) in [-1, 1] (placeholders seeded: deterministic)."""
    gen = modules["generator"]
    src, tgt = to_sequence(batch["source"]), to_sequence(batch["target"])
    if isinstance(gen, BlockGenerator):
        out = gen(src)
    else:
        g = torch.Generator(device=src.device).manual_seed(0)
        out = gen.unroll(src, generator=g)
    panels = [src[:, :, :3] if src.shape[2] >= 3 else src[:, :, :1].expand(-1, -1, 3, -1, -1), out, tgt]
    return torch.cat(panels, -1).clamp(-1, 1).transpose(1, 2).contiguous()
