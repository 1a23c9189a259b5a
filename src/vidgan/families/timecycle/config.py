"""Paired TimeCycleGAN family configuration (spec ``timecycle.md`` §3, §10).

Defaults are TimeCycleGAN-P as the golden fixtures run it (recurrent pix2pix with a resnet_9blocks G,
conditional PatchGAN frame D with feature matching, one sequence D over the whole block, conditional
TimeCycle with a shared resnet_1blocks motion model and the TimeCycle frame-D term). The released CLI has
every loss weight at 0 and the thesis values (§4.1.2) are unknown: the weights here (L1 10, FM 10,
TimeCycle 10, TimeCycle warp 1) are the fixture settings, **not the thesis'**.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vidgan.families.api import FamilyConfig

__all__ = ["Config"]


@dataclass(frozen=True)
class Config(FamilyConfig):
    name: str = "timecycle"
    task: Literal["translation"] = "translation"
    # "timecycle": TimeCycleGAN-P / -P++ (recurrent G, seq D, TimeCycle); "pix2pix": per-frame baseline;
    # "pix2pix_block": pix2pix on whole blocks (B frames stacked along channels; inference = middle frame);
    # "vid2vid": the simplified vid2vid generator (flow + mask + image heads; see vid2vid.py), TimeCycle optional
    variant: Literal["timecycle", "pix2pix", "pix2pix_block", "vid2vid"] = "timecycle"

    # ---- networks (spec §3.1) ----
    generator: str = "resnet_9blocks"  # resnet_<N>blocks | unet_128 | unet_256
    ngf: int = 64
    discriminator: str = "basic"  # basic | n_layers_<k> | pixel
    ndf: int = 64
    norm: Literal["instance", "batch"] = "instance"
    source_channels: int = 3
    target_channels: int = 3
    n_frames_g: int = 1  # previous generated frames fed back (0 = per-frame); timecycle variant only
    g_input_conditioning: bool = False  # also feed the previous source frames (vid2vid)
    placeholder: Literal["normal", "uniform", "zero"] = "normal"  # history before frame 0 (official N(0, 1))

    # ---- frame losses ----
    gan: Literal["lsgan", "vanilla", "wgangp"] = "lsgan"
    l1_weight: float = 10.0
    fm_weight: float = 10.0  # feature matching of the frame D and of the sequence D
    vgg_weight: float = 0.0  # pix2pixHD VGG19 loss (relu1_1..5_1, weights 1/32..1); skipped at 0
    vgg_weights: str = ""  # torchvision vgg19 .pth path (never downloaded); "random" = tests
    vgg_sha256: str = ""

    # ---- sequence discriminator (spec §2.3) ----
    seq_d: bool = True
    n_frames_d: int = 0  # 0 = the block length (data.frames), the CLI default
    temporal_scales: int = 1
    seq_fm_mode: Literal["window", "official"] = "window"
    fm_reduction: Literal["sum", "mean"] = "sum"

    # ---- TimeCycle (spec §1) ----
    tc_weight: float = 10.0  # 0 = off
    tc_mode: Literal["conditional", "pingpong"] = "conditional"
    tc_distance: Literal["l1", "l2"] = "l1"
    tc_terms: tuple[str, ...] = ("long", "skip")
    motion_architecture: str = "resnet_1blocks"
    motion_filters: int = 64
    separate_motion_models: bool = False
    tc_warp_weight: float = 1.0
    normalize_warp_by_L: bool = False
    rec_conditioning: Literal["frame", "last"] = "frame"
    tc_frame_d: bool = True  # the frame D also judges every motion-model output (weight 1)
    tc_ignore_first: int = 1  # paired models drop the frame generated from the noise placeholder

    # ---- flow warp loss (``timecyclep2``; spec §4) ----
    warp_weight: float = 0.0
    flow_source: Literal["farneback"] = "farneback"
    warp_align_corners: bool = False  # official sampling quirk by default

    # ---- vid2vid variant ----
    flow_weight: float = 10.0  # flow L1 + flow-warp L1 against the real frames' flow (confidence-masked)
    mask_weight: float = 1.0  # mean mask (pushes the composition towards the warped previous frame)
    flow_scale: float = 20.0  # flow head output x 20 px

    # ---- optimisation (Adam, beta1 0.5; constant LR as released, linear decay as an option) ----
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lr_decay_start: int = 0  # clips seen before the linear decay starts (0 with lr_decay_clips 0 = constant)
    lr_decay_clips: int = 0  # length of the linear decay to 0, in clips (0 = constant LR, as released)
    reuse_fakes: bool = True  # the G phase reuses the D phase's generator pass (one G forward per iteration)
