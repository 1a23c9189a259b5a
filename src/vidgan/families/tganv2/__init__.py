"""TGANv2, "Train Sparsely, Generate Densely" (Saito et al., IJCV 2020; pfnet-research/tgan2).

Unconditional video GAN: a ConvLSTM + per-frame ResNet generator renders 4 levels (16f@24^2 ... 2f@192^2 in
training, subsampled frames between levels), judged by 4 independent 3D ResNet discriminators; at test time
the generator renders all frames at full resolution. Spec: ``shared/specs/tganv2.md``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from vidgan.families.api import DataMismatch, DataSpec, Parts, SampleOptions, require

from .config import Config
from .discriminator import TGANv2Discriminator
from .generator import TGANv2Generator
from .loss import TGANv2Objective
from .optim import ChainerAdam

__all__ = ["Config", "PRESETS", "DEFAULT_PRESET", "build", "sample", "TGANv2Generator", "TGANv2Discriminator"]

DEFAULT_PRESET = "moving_digits_64"

# Nested overrides of the default RunConfig (keys: family / data / train = dataclass field names).
PRESETS: dict[str, dict] = {
    # The released UCF101 run (spec §4.1): 4 GPUs x 32 = 128 clips per iteration, 100k iterations.
    # Official data path: frames cubic-resized to 192x256, random 192^2 crop, flip (spec §5.1).
    "ucf101_192": {
        "family": {"t_size": 3},
        "data": {
            "source": "path/to/ucf101_frames",
            "sampler": "multilevel",
            "frames": 16,
            "size": 192,
            "resize": "short_side",
            "crop": "random",
            "hflip": True,
            "subsample_frame": [2, 2, 2],
        },
        "train": {"batch_size": 32, "total_clips": 100_000 * 128},
    },
    # FaceForensics v1, 256 px face crops, 8 GPUs x 16, no flip (spec §5.2).
    "faceforensics_256": {
        "family": {"t_size": 4},
        "data": {
            "source": "path/to/faceforensics_frames",
            "sampler": "multilevel",
            "frames": 16,
            "size": 256,
            "resize": "short_side",
            "crop": "center",
            "hflip": False,
            "subsample_frame": [2, 2, 2],
        },
        "train": {"batch_size": 16, "total_clips": 100_000 * 128},
    },
    # The faithful TGANv2-structured 64 px variant of the port's Moving-MNIST case (spec §1.7 b, §11):
    # t_size 4, one Up block before level 1, frames [2,2,2] -> 16f@8^2, 8f@16^2, 4f@32^2, 2f@64^2;
    # widths shrunk for a CPU (G 0.60 M, D 1.82 M parameters): 0.93 CPU s per batch-8 iteration on one
    # thread (measured, AMD EPYC box), i.e. about 1 h single-threaded for the 4,000 iterations, less with more
    # cores; constant LR (as the port).
    "moving_digits_64": {
        "family": {"t_size": 4, "n_pre_blocks": 1, "ch": 8, "clstm_ch": 64, "mid_ch": 8, "decay_clips": 0},
        "data": {
            "source": "moving-digits",
            "sampler": "multilevel",
            "frames": 16,
            "size": 64,
            "subsample_frame": [2, 2, 2],
            "hflip": False,
        },
        "train": {"batch_size": 8, "total_clips": 32_000},
    },
    # README command 1: learns within minutes on a 2-core CPU. 32² bouncing shapes, 16 frames (levels 4/8/16/32 px
    # with 16/8/4/2 frames), widths ch 16 / ConvLSTM 128 / D 16, R1 gamma/2 0.1 (the UCF101 strength of 64 kept
    # every seed on one static frame at this size), Adam 2e-4, batch 8, constant LR.
    "demo": {
        "family": {
            "t_size": 2,
            "n_pre_blocks": 1,
            "ch": 16,
            "clstm_ch": 128,
            "mid_ch": 16,
            "r1_gamma_half": 0.1,
            "lr": 2e-4,
            "decay_clips": 0,
        },
        "data": {
            "source": "bouncing-shapes",
            "sampler": "multilevel",
            "frames": 16,
            "size": 32,
            "subsample_frame": [2, 2, 2],
            "hflip": False,
        },
        "train": {"batch_size": 8, "total_clips": 4_096, "sample_every_clips": 1_024, "checkpoint_every_clips": 2_048},
    },
    # The tganv2-pytorch port's Moving-MNIST configuration (spec §7.2), same widths (G 6,420,420 and D 7,485,060
    # parameters, as the port), 1 channel, 20 frames with its frame factor 4 as whole counts (4, 5, 1): 20 -> 5
    # -> 1 -> 1 frames, no D ReLU, D lr 5e-5 / G lr 1e-4, Adam eps 1e-8, constant LR, D step first, R1 sum form
    # lam 0.5, batch 32 for 10,000 iterations. On the embedded moving-digits data (grey levels of the RGB clips).
    "port_parity_64": {
        "family": {
            "t_size": 4,
            "n_pre_blocks": 1,
            "clstm_ch": 256,
            "ch": 32,
            "d_widths": [32, 32, 64, 128, 256],
            "out_channels": 1,
            "n_frames": 20,
            "subsample_frame": [4, 5, 1],
            "d_head_relu": False,
            "lr_d": 5e-5,
            "eps": 1e-8,
            "decay_clips": 0,
            "update_order": "d_first",
            "r1_reduction": "sum",
            "lam": 0.5,
        },
        "data": {
            "source": "moving-digits",
            "sampler": "multilevel",
            "frames": 20,
            "size": 64,
            "subsample_frame": [4, 5, 1],
            "hflip": False,
        },
        "train": {"batch_size": 32, "total_clips": 10_000 * 32},
    },
    # Tests: 8 frames at 32 px (t_size 2, one pre block -> 4/8/16/32 px), tiny widths.
    "tiny": {
        "family": {
            "t_size": 2,
            "n_pre_blocks": 1,
            "n_frames": 8,
            "ch": 4,
            "clstm_ch": 8,
            "mid_ch": 2,
            "z_slow_dim": 16,
        },
        "data": {
            "source": "moving-digits",
            "sampler": "multilevel",
            "frames": 8,
            "size": 32,
            "subsample_frame": [2, 2, 2],
        },
        "train": {"batch_size": 2, "total_clips": 64},
    },
}


DATA_SAMPLERS = ("multilevel",)  # the data samplers this family trains on


def sample(
    gen: nn.Module, num: int, frames: int, generator: torch.Generator, options: SampleOptions | None = None
) -> Tensor:
    """ "Generate densely": z ~ U[-1, 1] from ``generator`` -> float (num, C, frames, S, S) in [-1, 1].

    Always in ``eval()`` mode (BN running statistics, no subsampling, last render head; spec §1.6);
    the module's previous mode is restored. TGANv2 has no mapping network (no truncation) and renders
    frames 0..frames-1 at the training rate; other :class:`SampleOptions` are refused.
    """
    opts = options or SampleOptions()
    for field_name, value, default, why in (
        ("truncation", opts.truncation, 1.0, "TGANv2 has no mapping network to truncate"),
        ("start", opts.start, 0.0, "the ConvLSTM always starts at frame 0"),
        ("time_step", opts.time_step, 1.0, "TGANv2 renders frames at the training rate only"),
        ("layout", opts.layout, "independent", "TGANv2 has no separate content and motion codes"),
    ):
        if value != default:
            raise ValueError(f"--{field_name.replace('_', '-')} {value}: {why} — drop the option for tganv2")
    was_training = gen.training
    device = next(gen.parameters()).device
    z = torch.rand(num, gen.cfg.z_slow_dim, generator=generator, device=generator.device) * 2 - 1
    gen.eval()
    try:
        with torch.no_grad():
            return gen.dense(z.to(device), frames or None)
    finally:
        gen.train(was_training)


def build(cfg: Config, data: DataSpec) -> Parts:
    """Generator, the 4 level discriminators, ChainerAdam for each, the linear LR decay and the Objective.

    The data section must describe the clips the generator renders: ``data.size`` equals
    ``t_size * 2**(n_pre_blocks + 3)``, ``data.frames`` equals ``n_frames`` and ``data.subsample_frame`` equals
    the generator's ``subsample_frame`` (the real levels are cut by the ``multilevel`` sampler).
    """
    image_size, frames = data.size, data.frames
    require(
        image_size == cfg.image_size,
        f"family.t_size={cfg.t_size}, family.n_pre_blocks={cfg.n_pre_blocks}",
        f"data.size={image_size}",
        f"the generator renders {cfg.image_size} px: set data.size={cfg.image_size} or change family.t_size",
    )
    require(frames == cfg.n_frames, f"family.n_frames={cfg.n_frames}", f"data.frames={frames}", "make them equal")
    require(
        tuple(data.subsample_frame) == tuple(cfg.subsample_frame),
        f"family.subsample_frame={list(cfg.subsample_frame)}",
        f"data.subsample_frame={list(data.subsample_frame)}",
        "the real levels must be cut like the generated ones: make them equal",
    )
    if frames % math.prod(cfg.subsample_frame):
        raise DataMismatch(
            f"data.frames={frames} vs family.subsample_frame={list(cfg.subsample_frame)}: the frames are not "
            "divisible by the product of the factors; the nested levels need whole frame counts"
        )
    gen, dis = TGANv2Generator(cfg), TGANv2Discriminator(cfg)
    lr_d = cfg.lr_d or cfg.lr
    optimizers: dict[str, torch.optim.Optimizer] = {
        "G": ChainerAdam(gen.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps),
        "D": ChainerAdam(dis.parameters(), lr=lr_d, betas=cfg.betas, eps=cfg.eps),
    }
    decay = cfg.decay_clips

    def lr_factor(name: str, clips_seen: int) -> float:
        """Chainer LinearShift from 0: base LR -> 0 over ``decay_clips`` clips (both optimisers)."""
        if decay <= 0:
            return 1.0
        return max(0.0, 1.0 - clips_seen / decay)

    return Parts(
        modules={"generator": gen, "discriminator": dis},
        optimizers=optimizers,
        objective=TGANv2Objective(cfg),
        lr_factor=lr_factor,
        ema="generator",
        sample=sample,
    )
