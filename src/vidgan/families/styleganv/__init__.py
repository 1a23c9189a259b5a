"""StyleGAN-V (Skorokhodov, Tulyakov, Elhoseiny, CVPR 2022; universome/stylegan-v @ 3fecd69) and the
MoCoGAN+SG2 baseline.

A continuous-time video GAN: a StyleGAN2 generator whose 4×4 input is a learned constant concatenated with a
motion embedding v(t) (content w shared by a video's frames), trained on very sparse clips (3 frames within
32) against a discriminator that runs frames independently to 16², concatenates them and is conditioned on
the time gaps. Spec: ``shared/specs/styleganv.md``; golden fixtures ``shared/golden/styleganv``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from vidgan.families.api import DataSpec, Parts, SampleOptions, require

from .config import Config
from .discriminator import Discriminator
from .generator import Generator
from .loss import StyleGANVObjective
from .mocogan import MoCoGANDiscriminator

__all__ = [
    "Config",
    "PRESETS",
    "DEFAULT_PRESET",
    "SAMPLERS",
    "build",
    "sample",
    "Generator",
    "Discriminator",
    "MoCoGANDiscriminator",
]

DEFAULT_PRESET = "styleganv"

_CPU_64 = {
    "z_dim": 128,
    "w_dim": 128,
    "channel_base": 4096,
    "channel_max": 128,
    "d_channel_base": 4096,
    "d_channel_max": 128,
    "motion_z_dim": 128,
    "motion_v_dim": 128,
    "time_enc_dim": 64,
}

# Nested overrides of the default RunConfig (keys: family / data / train).
PRESETS: dict[str, dict] = {
    # The paper's FaceForensics / SkyTimelapse 256² setting (spec §5.1): 64 videos x 3 frames per iteration,
    # 25,000 kimg of frames = 8.33 M clips, EMA half-life 20 k videos without ramp-up, ADA bgc, mirrored data
    # (SkyTimelapse: family.min_period_len=256). G 32,105,941 / D 25,333,568 parameters.
    "styleganv": {
        "family": {},
        "data": {
            "source": "path/to/ffs_256",
            "sampler": "random_t",
            "frames": 3,
            "size": 256,
            "max_dist": 32,
            "hflip": True,
        },
        "train": {
            "batch_size": 64,
            "total_clips": 25_000_000 // 3,
            "ema_half_life_clips": 20_000,
            "ema_rampup": 0.0,
        },
    },
    # CPU-sized 64² run on the embedded moving digits (widths / 4; G 1,952,719, D 1,847,296 parameters).
    "styleganv_64": {
        "family": dict(_CPU_64),
        "data": {"source": "moving-digits", "sampler": "random_t", "frames": 3, "size": 64, "max_dist": 32},
        "train": {
            "batch_size": 8,
            "total_clips": 200_000,
            "ema_half_life_clips": 2_500,  # B x 10 / 32 kimg as the official auto rule (in videos)
            "ema_rampup": 0.0,
        },
    },
    # MoCoGAN + SG2 backbone (spec §3): LSTM motion + motion MLP, concat_w, image D + MoCoGAN video D (lr x 0.1),
    # consecutive frames (official `sampling=uniform sampling.max_dist_between_frames=1`, i.e. clips of stride 1).
    "mocogan_sg2": {
        "family": {"arch": "mocogan", "fake_sampler": "uniform"},
        "data": {
            "source": "path/to/ffs_256",
            "sampler": "clips",
            "frames": 3,
            "stride": 1,
            "size": 256,
            "max_dist": 1,
            "hflip": True,
        },
        "train": {
            "batch_size": 64,
            "total_clips": 25_000_000 // 3,
            "ema_half_life_clips": 20_000,
            "ema_rampup": 0.0,
        },
    },
    # CPU-sized MoCoGAN+SG2 on the embedded moving digits: the styleganv_64 widths and schedule, consecutive frames.
    "mocogan_sg2_64": {
        "family": {**_CPU_64, "arch": "mocogan", "fake_sampler": "uniform", "video_d_ch": 16, "lstm_hidden": 128},
        "data": {"source": "moving-digits", "sampler": "clips", "frames": 3, "stride": 1, "size": 64, "max_dist": 1},
        "train": {"batch_size": 8, "total_clips": 200_000, "ema_half_life_clips": 2_500, "ema_rampup": 0.0},
    },
    # Tests: 32², 3 frames, tiny widths.
    "tiny": {
        "family": {
            "z_dim": 16,
            "w_dim": 16,
            "channel_base": 256,
            "channel_max": 16,
            "d_channel_base": 256,
            "d_channel_max": 16,
            "motion_z_dim": 8,
            "motion_v_dim": 8,
            "time_enc_dim": 4,
            "lstm_hidden": 8,
            "video_d_ch": 4,
        },
        "data": {"source": "moving-digits", "sampler": "random_t", "frames": 3, "size": 32, "max_dist": 32},
        "train": {"batch_size": 2, "total_clips": 64, "ema_half_life_clips": 100, "ema_rampup": 0.0},
    },
}


def uniform_times(rng, length: int, num_frames: int = 3, max_dist: int = 32):
    """The fixed StyleGAN-V ``uniform`` sampler (spec §4, §11.1: d <= max_dist_between_frames): step d uniform
    over {1, 2, 4, …} with d <= max_dist and d·(F−1)+1 <= length, offset uniform in [0, length − d·(F−1) − 1],
    frames o + k·d; int64 (F,). Same signature as ``vidgan.data.samplers.random_times``."""
    import numpy as np

    dists = [2**i for i in range(12) if 2**i <= max_dist and 2**i * (num_frames - 1) + 1 <= length]
    if not dists:
        raise ValueError(f"uniform_t: a video of {length} frames is too short for {num_frames} frames at step 1")
    d = int(dists[int(rng.integers(0, len(dists)))])
    o = int(rng.integers(0, length - d * (num_frames - 1)))
    return o + d * np.arange(num_frames, dtype=np.int64)


# Extra data samplers (contract: selectable as data.sampler=<name>); signature (rng, length, frames, max_dist)
SAMPLERS = {"uniform_t": uniform_times}


# --------------------------------------------------------------------------------------------- build
def _gen_video_len(cfg: Config, data: DataSpec) -> int:
    if cfg.gen_video_len > 0:
        return cfg.gen_video_len
    source = str(getattr(data, "source", ""))
    name = source.split(":", 1)[0]
    if name and "/" not in name and "." not in name and not os.path.exists(source):
        # an embedded synthetic dataset: its videos' length (option "name:video_frames=N" or data.video_frames)
        for opt in source.partition(":")[2].split(","):
            key, _, val = opt.partition("=")
            if key.strip() == "video_frames" and val.strip().isdigit():
                return min(int(val), cfg.max_num_frames)
        vf = getattr(data, "video_frames", None)
        if isinstance(vf, int) and vf > 0:
            return min(vf, cfg.max_num_frames)
    return cfg.max_num_frames


def build(cfg: Config, data: DataSpec) -> Parts:
    """G, D (+ MoCoGAN video D), Adam, objective. D gets the base lr/betas (the engine applies the lazy R1
    correction of the ``Dreg`` phase); G gets the official lazy correction of its empty Greg phase here."""
    size, frames = int(data.size), int(data.frames)
    require(
        size >= 8 and 2 ** int(math.log2(size)) == size,
        "family (resolution)",
        "data.size",
        f"StyleGAN-V renders power-of-two sizes >= 8, got {size}",
    )
    sampler = str(getattr(data, "sampler", "random_t"))
    max_dist = int(getattr(data, "max_dist", 32))
    if cfg.arch == "styleganv":
        require(
            frames >= 2,
            "family.arch=styleganv",
            "data.frames",
            "the time-difference discriminator needs >= 2 frames per clip",
        )
        require(
            sampler in ("random_t", "uniform_t"),
            "family.arch=styleganv",
            "data.sampler",
            f"the D is conditioned on the real clips' frame times; use data.sampler=random_t, got {sampler!r}",
        )
        require(
            cfg.concat_res < size,
            "family.concat_res",
            "data.size",
            f"frames are concatenated at {cfg.concat_res}² which must be below the image size {size}",
        )
        require(
            max_dist <= cfg.max_num_frames - 1,
            "family.max_num_frames",
            "data.max_dist",
            f"time gaps index a {cfg.max_num_frames}-row embedding; max_dist={max_dist} is too large",
        )
    else:
        require(
            sampler in ("clips", "random_t", "uniform_t"),
            "family.arch=mocogan",
            "data.sampler",
            f"MoCoGAN+SG2 trains on clips (consecutive frames), got {sampler!r}",
        )
    require(max_dist >= 1, "family.fake_sampler", "data.max_dist", "the largest frame gap must be >= 1")
    if cfg.fake_sampler == "random" and frames > 1:
        require(
            max_dist >= frames - 1,
            "family.fake_sampler=random",
            "data.max_dist",
            f"{frames} frames need a total span >= {frames - 1} (use family.fake_sampler=uniform for "
            "consecutive frames)",
        )
    gen = Generator(cfg, size)
    if cfg.arch == "mocogan":
        dis: nn.Module = MoCoGANDiscriminator(cfg, size, frames)
        groups = [
            {"params": list(dis.image.parameters()), "lr": cfg.lr},
            {"params": list(dis.video.parameters()), "lr": cfg.lr * cfg.video_d_lr_mult},
        ]
    else:
        dis = Discriminator(cfg, size, frames)
        groups = [{"params": list(dis.parameters()), "lr": cfg.lr}]
    # the official no-op Greg phase (pl_weight = 0) leaves only its lazy correction: lr·c, β^c, c = k/(k+1)
    c = cfg.g_reg_interval / (cfg.g_reg_interval + 1) if cfg.g_reg_interval > 1 else 1.0
    g_betas = (cfg.betas[0] ** c, cfg.betas[1] ** c)
    optimizers: dict[str, torch.optim.Optimizer] = {
        "G": torch.optim.Adam(gen.parameters(), lr=cfg.lr * c, betas=g_betas, eps=cfg.eps),
        "D": torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps),
    }
    objective = StyleGANVObjective(cfg, size, frames, max_dist, _gen_video_len(cfg, data))
    return Parts(
        modules={"generator": gen, "discriminator": dis},
        optimizers=optimizers,
        objective=objective,
        ema="generator",
        sample=sample,
        sample_role="generator",
    )


# -------------------------------------------------------------------------------------------- sample
def _latents(g: Generator, num: int, max_t: float, generator: torch.Generator, layout: str, device):
    gdev = generator.device
    menc = g.motion_encoder
    if layout == "independent":
        z = torch.randn(num, g.z_dim, generator=generator, device=gdev)
        mz = menc.draw_noise(num, max_t, generator)
    elif layout == "decomposition":
        n = math.isqrt(num)
        if n * n != num:
            raise ValueError(f"styleganv: layout='decomposition' needs a square number of videos, got {num}")
        z = torch.randn(n, g.z_dim, generator=generator, device=gdev).repeat_interleave(n, dim=0)  # rows: content
        mz = menc.draw_noise(n, max_t, generator).repeat(n, 1, 1)  # columns: motion
    else:
        raise ValueError(f"styleganv: unknown layout {layout!r} (use 'independent' or 'decomposition')")
    return z.to(device), mz.to(device)


def sample(
    gen: nn.Module,
    num: int,
    frames: int,
    generator: torch.Generator,
    options: SampleOptions | None = None,
) -> Tensor | Iterator[Tensor]:
    """``num`` videos of ``frames`` frames at t = start + k·time_step: float (num, C, T, H, W) in [-1, 1], or an
    iterator of chunks along T when ``options.chunk > 0``. Motion noise is drawn once per video for the whole
    length (codes depend only on their own noise window, so chunks join seamlessly). w_avg is never updated."""
    opts = options or SampleOptions()
    if opts.extra:
        raise ValueError(f"styleganv: unknown sample options {sorted(opts.extra)} (none are defined)")
    if frames < 1 or num < 1:
        raise ValueError(f"styleganv: need num >= 1 and frames >= 1, got {num}, {frames}")
    g: Generator = getattr(gen, "module", gen)
    device = next(g.parameters()).device
    t = opts.start + opts.time_step * torch.arange(frames, dtype=torch.float64)
    if float(t.min()) < 0:
        raise ValueError(f"styleganv: frame times must be >= 0 (start={opts.start}, time_step={opts.time_step})")
    z, mz = _latents(g, num, float(t.max()), generator, opts.layout, device)
    with torch.no_grad():
        ws = g.mapping(z, None, truncation_psi=float(opts.truncation), update_w_avg=False)

    def render(ts: Tensor) -> Tensor:
        out = []
        with torch.no_grad():
            for i in range(num):  # one video per call: its frames share w, so each layer is one plain conv
                x = g.synthesis(ws[i : i + 1], ts.to(device)[None], motion_z=mz[i : i + 1])
                out.append(x.permute(1, 0, 2, 3).clamp(-1, 1).float())
        return torch.stack(out).contiguous()

    if opts.chunk > 0:
        step = int(opts.chunk)
        return (render(t[i : i + step]) for i in range(0, frames, step))
    inner = 16  # bound the activation memory of one synthesis call
    return torch.cat([render(t[i : i + inner]) for i in range(0, frames, inner)], dim=2)
