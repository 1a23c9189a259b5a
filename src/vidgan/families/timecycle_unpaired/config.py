"""Unpaired TimeCycleGAN family configuration (spec ``timecycle.md`` §3.3, §3.4, §10).

Defaults: TimeCycleGAN-UP: two recurrent CycleGAN generators (G: source -> target with input
[source_t, previous fake target], F: target -> source symmetric), unconditional PatchGAN frame Ds, a
sequence D per domain, two conditional TimeCycles ("target" on the fake targets conditioned on the real
sources, "source" symmetric; no frame dropped), no image pool. Weights: cycle 10 (CycleGAN's convention),
identity 0.5 x cycle, TimeCycle 10 -- the thesis values are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vidgan.families.api import FamilyConfig

__all__ = ["Config"]


@dataclass(frozen=True)
class Config(FamilyConfig):
    name: str = "timecycle_unpaired"
    task: Literal["translation"] = "translation"
    # timecycle: TimeCycleGAN-UP; cyclegan: per-frame CycleGAN; recyclegan: RecycleGAN (blocks of 3 frames)
    variant: Literal["timecycle", "cyclegan", "recyclegan"] = "timecycle"

    # ---- networks ----
    generator: str = "resnet_9blocks"
    ngf: int = 64
    discriminator: str = "basic"
    ndf: int = 64
    norm: Literal["instance", "batch"] = "instance"
    source_channels: int = 3
    target_channels: int = 3
    n_frames_g: int = 1  # timecycle variant: previous fakes fed back
    placeholder: Literal["normal", "uniform", "zero"] = "normal"
    predictor: str = "resnet_6blocks"  # RecycleGAN temporal predictors (2 frames -> next)

    # ---- losses ----
    gan: Literal["lsgan", "vanilla", "wgangp"] = "lsgan"
    cycle_weight: float = 10.0
    identity_weight: float = 0.5  # x cycle_weight (CycleGAN); needs source_channels == target_channels
    recycle_weight: float = 10.0  # RecycleGAN recycle and recurrent (predictor) terms
    pool_size: int = 0  # image pool of D's fakes (CycleGAN: 50; TimeCycleGAN-UP: none)

    # ---- sequence discriminators (timecycle variant) ----
    seq_d: bool = True
    n_frames_d: int = 0  # 0 = data.frames
    temporal_scales: int = 1

    # ---- TimeCycle (timecycle variant) ----
    tc_weight: float = 10.0
    tc_distance: Literal["l1", "l2"] = "l1"
    motion_architecture: str = "resnet_1blocks"
    motion_filters: int = 64
    separate_motion_models: bool = False
    tc_warp_weight: float = 0.0
    normalize_warp_by_L: bool = False
    tc_frame_d: bool = True

    # ---- optimisation ----
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lr_decay_start: int = 0
    lr_decay_clips: int = 0
    reuse_fakes: bool = True
