"""Run configuration: the family config, the data config and the training-loop settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vidgan.data.config import DataConfig
from vidgan.families.api import FamilyConfig


@dataclass(frozen=True)
class TrainConfig:
    """Training-loop settings shared by every family. Progress is counted in clips seen (all ranks)."""

    batch_size: int = 8  # clips per iteration and per process
    total_clips: int = 1_000_000  # default run length in clips (``--max-clips`` ends earlier)
    amp: Literal["none", "bf16", "fp16"] = "none"  # bf16 autocast (CPU/GPU) or fp16 + GradScaler (GPU)
    grad_clip: float = 0.0  # max global grad norm per phase; 0 = off
    ema_half_life_clips: float = 10_000.0  # generator EMA half-life in clips; 0 = no EMA
    log_every_clips: int = 256
    sample_every_clips: int = 2_048
    checkpoint_every_clips: int = 4_096
    keep_last: int = 3  # checkpoints kept
    sample_num: int = 16  # videos in a sample grid
    sample_frames: int = 0  # frames per sample video; 0 = the data clip length
    sample_fps: float = 8.0


@dataclass(frozen=True)
class RunConfig:
    family: FamilyConfig
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0
    preset: str = ""
