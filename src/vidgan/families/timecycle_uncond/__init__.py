"""Unconditional video generation: TimeCycleGAN-U (recurrent DCGAN + frame encoder, 64x64) and DCGAN.

Spec: ``shared/specs/timecycle.md`` §3.3 (TimeCycleDCGAN) and §3.4 (DCGAN). Built on :mod:`vidgan.temporal`.

* ``u`` (default): TimeCycleGAN-U. Frame 0 = G(E(placeholder)), the placeholder an N(0, 1) *image* (the only
  randomness); frame t = G(E(frame t-1)). DCGAN frame D with an image pool of 50 for its fakes, DCGAN
  sequence D over the block, unconditional TimeCycle (a resnet_1blocks motion model sees two frames,
  L = T - 2), TimeCycle weight 10, TimeCycle warp term 1 (fixture settings; thesis values unknown).
* ``dcgan``: per-frame DCGAN (z ~ N(0, 1)^100 per frame, frames independent), no pool.
* ``tiny``: tests.

Roles: ``generator`` (-U: a :class:`~vidgan.temporal.RecurrentGenerator` over encoder + DCGAN G; DCGAN: the
DCGAN G), ``discriminator``, ``seq_discriminator``, ``timecycle``. 64x64 only (DCGAN nets). No EMA.
Official checkpoints: :func:`convert.import_weights`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from vidgan.families.api import DataSpec, FamilyConfig, Parts, Phase, SampleOptions, StepContext, require
from vidgan.temporal.nets import DCGANDiscriminator, DCGANEncoder, DCGANGenerator, EncodedGenerator, init_weights
from vidgan.temporal.pool import ImagePool
from vidgan.temporal.recurrent import RecurrentGenerator, placeholder
from vidgan.temporal.seqd import SequenceDiscriminatorLoss
from vidgan.temporal.timecycle import TimeCycleLoss, gan_fake, gan_gen, gan_real
from vidgan.temporal.train_utils import fold, grad_enabled, linear_decay, to_sequence

__all__ = ["Config", "PRESETS", "DEFAULT_PRESET", "DATA_SAMPLERS", "build", "build_modules", "sample"]

DATA_SAMPLERS = ("clips",)


@dataclass(frozen=True)
class Config(FamilyConfig):
    name: str = "timecycle_uncond"
    task: Literal["unconditional"] = "unconditional"
    variant: Literal["timecycle", "dcgan"] = "timecycle"
    channels: int = 3
    ngf: int = 64
    ndf: int = 64
    nz: int = 100
    norm: Literal["instance", "batch"] = "instance"  # official: instance norm in the DCGAN nets too
    placeholder: Literal["normal", "uniform", "zero"] = "normal"
    gan: Literal["lsgan", "vanilla", "wgangp"] = "lsgan"
    pool_size: int = 50  # frame D's image pool (-U); 0 = off
    seq_d: bool = True
    n_frames_d: int = 0  # 0 = data.frames
    temporal_scales: int = 1
    tc_weight: float = 10.0
    tc_distance: Literal["l1", "l2"] = "l1"
    motion_architecture: str = "resnet_1blocks"
    motion_filters: int = 64
    separate_motion_models: bool = False
    tc_warp_weight: float = 1.0
    normalize_warp_by_L: bool = False
    warp_order: Literal["official", "rollout"] = "official"
    tc_frame_d: bool = True
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lr_decay_start: int = 0
    lr_decay_clips: int = 0
    reuse_fakes: bool = True


_DATA = {"sampler": "clips", "source": "moving-digits", "frames": 5, "size": 64}
PRESETS: dict[str, dict[str, Any]] = {
    "u": {"family": {}, "data": dict(_DATA), "train": {"batch_size": 1}},
    "dcgan": {
        "family": {"variant": "dcgan", "pool_size": 0, "seq_d": False, "tc_weight": 0.0, "tc_warp_weight": 0.0},
        "data": dict(_DATA),
        "train": {"batch_size": 64},
    },
    "tiny": {
        "family": {"ngf": 4, "ndf": 4, "motion_filters": 4, "pool_size": 4},
        "data": {**_DATA, "frames": 4},
        "train": {"batch_size": 2},
    },
}
DEFAULT_PRESET = "u"


def build_modules(cfg: Config, frames: int) -> dict[str, nn.Module]:
    c = cfg.channels
    if cfg.variant == "dcgan":
        gen: nn.Module = init_weights(DCGANGenerator(c, cfg.ngf, cfg.nz, cfg.norm))
    else:
        net = EncodedGenerator(
            DCGANEncoder(c, cfg.ngf, cfg.nz, cfg.norm), DCGANGenerator(c, cfg.ngf, cfg.nz, cfg.norm)
        )
        gen = RecurrentGenerator(init_weights(net), c, 0, n_prev=1, init=cfg.placeholder)
    mods: dict[str, nn.Module] = {
        "generator": gen,
        "discriminator": init_weights(DCGANDiscriminator(c, cfg.ndf, cfg.norm)),
    }
    if cfg.variant == "dcgan":
        return mods
    if cfg.seq_d:
        mods["seq_discriminator"] = SequenceDiscriminatorLoss(
            c,
            cfg.n_frames_d or frames,
            cfg.temporal_scales,
            make_d=lambda cin: init_weights(DCGANDiscriminator(cin, cfg.ndf, cfg.norm)),
            gan=cfg.gan,
        )
    if cfg.tc_weight or cfg.tc_warp_weight or cfg.tc_frame_d:
        mods["timecycle"] = TimeCycleLoss(
            c,
            0,
            "unconditional",
            separate_models=cfg.separate_motion_models,
            motion_architecture=cfg.motion_architecture,
            motion_filters=cfg.motion_filters,
            distance=cfg.tc_distance,
            weight=cfg.tc_weight,
            warp_weight=cfg.tc_warp_weight,
            normalize_warp_by_L=cfg.normalize_warp_by_L,
            warp_order=cfg.warp_order,
        )
    return mods


def generate(
    gen: nn.Module, num: int, frames: int, generator: torch.Generator | None, init_prev: Tensor | None = None
):
    """(num, T, C, 64, 64) in [-1, 1] with full autograd (training)."""
    dev = next(gen.parameters()).device
    if isinstance(gen, RecurrentGenerator):
        if init_prev is None:
            like = torch.empty(num, gen.frame_channels, 64, 64, device=dev)
            init_prev = placeholder((num, 1, gen.frame_channels, 64, 64), gen.init, like, generator)
        return gen.unroll(None, frames=frames, init_prev=init_prev)
    z = torch.randn(num * frames, gen.nz, 1, 1, generator=generator, device=dev)
    out = gen(z)
    return out.reshape(num, frames, *out.shape[1:])


@torch.no_grad()
def sample(
    module: nn.Module, num: int, frames: int, generator: torch.Generator, options: SampleOptions | None = None
) -> Tensor | Iterator[Tensor]:
    """``Parts.sample``: (num, C, frames, 64, 64) in [-1, 1], or chunks along T when ``options.chunk`` > 0.
    ``options.start`` (whole frames) skips the first frames of the recurrence; truncation, fractional time
    steps and the decomposition layout do not exist for these models (ValueError)."""
    opts = options or SampleOptions()
    if opts.truncation != 1.0 or opts.time_step != 1.0 or opts.layout != "independent":
        raise ValueError("timecycle_uncond supports neither truncation, time_step != 1 nor the decomposition layout")
    start = int(opts.start)
    if start != opts.start or start < 0:
        raise ValueError(f"options.start must be a whole number of frames >= 0, got {opts.start}")
    module.eval()

    def chunks(size: int) -> Iterator[Tensor]:
        if not isinstance(module, RecurrentGenerator):
            for i in range(0, frames, size):
                yield generate(module, num, min(size, frames - i), generator).transpose(1, 2).clamp(-1, 1)
            return
        dev = next(module.parameters()).device
        like = torch.empty(num, module.frame_channels, 64, 64, device=dev)
        state = module.init_state(like, generator)
        buf: list[Tensor] = []
        for t in range(start + frames):
            y, state = module.step(None, state)
            if t >= start:
                buf.append(y)
            if len(buf) == size or (t == start + frames - 1 and buf):
                yield torch.stack(buf, 2).clamp(-1, 1)
                buf = []

    if opts.chunk > 0:
        return chunks(opts.chunk)
    return torch.cat(list(chunks(frames)), 2)


class UncondObjective:
    def __init__(self, cfg: Config, roles: set[str], pool: ImagePool | None) -> None:
        self.cfg, self.pool = cfg, pool
        self.phases = (
            Phase("D", "D", tuple(r for r in ("discriminator", "seq_discriminator") if r in roles)),
            Phase("G", "G", tuple(r for r in ("generator", "timecycle") if r in roles)),
        )

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass

    def forward_pass(self, mods, real: Tensor, ctx: StepContext, with_graph: bool):
        gen = mods["generator"]
        n, t = real.shape[:2]

        def run():
            if isinstance(gen, RecurrentGenerator):
                init = ctx.cache.get("tc_init")
                if init is None:
                    init = placeholder((n, 1, gen.frame_channels, 64, 64), gen.init, real[:, 0], ctx.generator)
                    ctx.cache["tc_init"] = init
                fake = gen.unroll(None, frames=t, init_prev=init)
            else:
                z = ctx.cache.get("tc_z")
                if z is None:
                    z = ctx.cache["tc_z"] = torch.randn(
                        n * t, gen.nz, 1, 1, generator=ctx.generator, device=real.device
                    )
                fake = gen(z).reshape(n, t, *real.shape[2:])
            r = mods["timecycle"].rollout(fake) if "timecycle" in mods else None
            return fake, r

        if not with_graph:
            with torch.no_grad():
                return run()
        with grad_enabled(gen, mods.get("timecycle")):
            return run()

    def __call__(self, phase: str, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext):
        real = to_sequence(batch["video"])
        if phase == "D":
            fake, r = self.forward_pass(modules, real, ctx, self.cfg.reuse_fakes)
            if self.cfg.reuse_fakes:
                ctx.cache["tc_pass"] = (fake, r)
            terms = self.d_terms(modules, real, fake, r, ctx.generator)
        elif phase == "G":
            cached = ctx.cache.pop("tc_pass", None)
            fake, r = cached if cached is not None else self.forward_pass(modules, real, ctx, True)
            terms = self.g_terms(modules, fake, r)
        else:
            raise KeyError(f"timecycle_uncond objective has phases D and G, got {phase!r}")
        return terms

    def d_terms(self, mods, real: Tensor, fake: Tensor, r, generator=None) -> dict[str, Tensor]:
        cfg, disc = self.cfg, mods["discriminator"]
        fake = fake.detach()
        pooled = fold(fake) if self.pool is None else self.pool.query(fold(fake), generator)
        terms = {"frame": 0.5 * (gan_real(cfg.gan, disc(fold(real))) + gan_fake(cfg.gan, disc(pooled)))}
        if "seq_discriminator" in mods:
            terms["sequence"] = mods["seq_discriminator"].d_loss(real, fake)
        if r is not None and cfg.tc_frame_d:
            terms["timecycle"] = mods["timecycle"].adversarial_d(r, disc, cfg.gan, real=real)
        return terms

    def g_terms(self, mods, fake: Tensor, r) -> dict[str, Tensor]:
        cfg, disc = self.cfg, mods["discriminator"]
        terms = {"gan_frame": gan_gen(cfg.gan, disc(fold(fake)))}
        if "seq_discriminator" in mods:
            terms["sequence"] = mods["seq_discriminator"].g_loss(fake)
        if r is not None:
            tc = mods["timecycle"]
            terms["timecycle"] = tc.generator_loss(r)
            if cfg.tc_frame_d:
                terms["timecycle_gan"] = tc.adversarial_g(r, disc, cfg.gan)
        return terms


def build(cfg: Config, data: DataSpec) -> Parts:
    require(data.size == 64, "family.variant", "data.size", "the DCGAN networks are 64x64 only")
    require(data.sampler == "clips", "family.task", "data.sampler", "unconditional training reads 'clips' batches")
    if cfg.variant == "timecycle" and (cfg.tc_weight or cfg.tc_warp_weight):
        require(data.frames >= 3, "family.tc_weight", "data.frames", "the unconditional TimeCycle needs 3+ frames")
    if cfg.variant == "timecycle" and cfg.seq_d:
        n = cfg.n_frames_d or data.frames
        require(2 <= n <= data.frames, "family.n_frames_d", "data.frames", "the window must fit the clip (2+ frames)")
    mods = build_modules(cfg, data.frames)
    g_params = [p for r in ("generator", "timecycle") if r in mods for p in mods[r].parameters()]
    d_params = [p for r in ("discriminator", "seq_discriminator") if r in mods for p in mods[r].parameters()]
    pool = ImagePool(cfg.pool_size) if cfg.pool_size > 0 else None
    return Parts(
        modules=mods,
        optimizers={
            "G": torch.optim.Adam(g_params, lr=cfg.lr, betas=tuple(cfg.betas)),
            "D": torch.optim.Adam(d_params, lr=cfg.lr, betas=tuple(cfg.betas)),
        },
        objective=UncondObjective(cfg, set(mods), pool),
        lr_factor=linear_decay(cfg.lr_decay_start, cfg.lr_decay_clips),
        ema=None,
        sample=sample,
        sample_role="generator",
        state={"pool": pool} if pool is not None else {},
    )
