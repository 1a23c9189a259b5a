"""StyleGAN-V family configuration (defaults = the released 256² ``stylegan-v`` model of universome/stylegan-v
@ 3fecd69, unconditional; spec ``shared/specs/styleganv.md`` §1, §2, §5, §13).

``arch="mocogan"`` selects the MoCoGAN+SG2 baseline (spec §3): LSTM motion + motion MLP, v concatenated to
every w, per-frame image D + MoCoGAN 3-D video D. Data settings (size, frames, max_dist) are owned by the
run's data section; :func:`vidgan.families.styleganv.build` checks them against this config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from vidgan.families.api import FamilyConfig

__all__ = ["Config"]


@dataclass(frozen=True)
class Config(FamilyConfig):
    name: str = "styleganv"
    task: Literal["unconditional"] = "unconditional"
    arch: Literal["styleganv", "mocogan"] = "styleganv"

    # ---- generator (SG2-ADA `auto`, spec §1) ----
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 2
    channel_base: int = 16384  # fmaps 0.5 * 32768 below 512 px
    channel_max: int = 512
    img_channels: int = 3
    conv_clamp: float = 256.0  # 0 = no clamp (official `training.fp32=true` removes it)
    num_fp16_res: int = 4  # fp16 for the top resolutions, CUDA only (CPU: fp32 or the engine's bf16 autocast)
    fp32: bool = False  # True: every block fp32 even on CUDA (keeps the clamp)
    channels_last: bool = True  # NHWC activations (oneDNN / cuDNN run these convs markedly faster)
    w_avg_beta: float = 0.995
    # "once": w_avg tracks the Gmain mapping call only (vidgan default, spec §13 golden correction 4);
    # "official": also the no-grad G call of the Dmain phase (w_avg updated twice per iteration)
    w_avg_updates: Literal["once", "official"] = "once"

    # ---- motion (spec §1.3, §1.4) ----
    motion_z_dim: int = 512
    motion_v_dim: int = 512
    motion_kernel: int = 11
    motion_z_distance: int = 0  # δ; 0 = min_period_len (16; SkyTimelapse 256)
    time_enc_dim: int = 256  # number of frequencies; v(t) has 2x this
    min_period_len: int = 16
    max_period_len: int = 1024
    max_num_frames: int = 1024  # trajectory length floor and the D time-gap embedding size

    # ---- discriminator (spec §2) ----
    d_channel_base: int = 16384
    d_channel_max: int = 512
    concat_res: int = 16
    num_frames_div_factor: int = 2
    mbstd_group_size: int = 4
    mbstd_num_channels: int = 1
    d_mapping_layers: int = 2

    # ---- objective (spec §2.3, §5.1) ----
    r1_gamma: float = -1.0  # < 0: auto 0.0002 * R^2 / (videos per iteration, all ranks)
    r1_interval: int = 16  # lazy R1 (Dreg every k iterations, loss x k by the engine)
    g_reg_interval: int = 4  # official no-op Greg phase: only its lazy lr/beta correction of the G optimizer
    lr: float = 0.0025
    betas: tuple[float, float] = (0.0, 0.99)
    eps: float = 1e-8
    # fake clip times: a fractional offset in a video of this many frames (0 = auto: the embedded
    # dataset's video_frames, else max_num_frames); the official code uses a random dataset video's length
    gen_video_len: int = 0
    fake_sampler: Literal["random", "uniform"] = "random"  # "uniform": equally spaced (MoCoGAN+SG2)

    # ---- ADA (spec §2.4) ----
    aug: Literal["ada", "noaug", "fixed"] = "ada"
    augpipe: Literal["bgc"] = "bgc"
    aug_p: float = 0.0  # initial (ada) or fixed p
    ada_target: float = 0.6
    ada_interval: int = 4  # iterations between p updates
    ada_kimg: float = 100.0  # thousands of *videos* for p to move by 1 (official default launch)

    # ---- MoCoGAN+SG2 baseline (spec §3) ----
    lstm_hidden: int = 512
    video_d_ch: int = 64
    video_d_lr_mult: float = 0.1
    video_d_noise: float = 0.1

    def __post_init__(self) -> None:
        if self.arch not in ("styleganv", "mocogan"):
            raise ValueError(f"styleganv Config: arch must be 'styleganv' or 'mocogan', got {self.arch!r}")
        if self.min_period_len < 1 or self.max_period_len < self.min_period_len:
            raise ValueError("styleganv Config: need 1 <= min_period_len <= max_period_len")
        if self.motion_kernel < 1 or self.time_enc_dim < 1 or self.max_num_frames < 2:
            raise ValueError("styleganv Config: motion_kernel, time_enc_dim >= 1 and max_num_frames >= 2")
        if self.r1_interval < 1 or self.g_reg_interval < 1 or self.ada_interval < 1:
            raise ValueError("styleganv Config: r1_interval, g_reg_interval and ada_interval must be >= 1")

    @property
    def delta(self) -> int:
        """Motion-code spacing δ in frames (1 for the MoCoGAN LSTM)."""
        if self.arch == "mocogan":
            return 1
        return self.motion_z_distance or self.min_period_len

    def g_channels(self, res: int) -> int:
        return min(self.channel_base // res, self.channel_max)

    def d_channels(self, res: int) -> int:
        return min(self.d_channel_base // res, self.d_channel_max)

    def fp16_resolution(self, img_resolution: int) -> int:
        """Blocks at r >= this run in fp16 on CUDA (official: max(2^(log2 R + 1 - num_fp16_res), 8))."""
        if self.fp32 or self.num_fp16_res <= 0:
            return 1 << 30
        log2 = int(round(math.log2(img_resolution)))
        return max(2 ** (log2 + 1 - self.num_fp16_res), 8)
