"""Run configuration: the family config, the data config and the training-loop settings."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Literal

from vidgan.core.config import (
    ConfigError,
    deep_merge,
    from_dict,
    load_yaml,
    parse_override,
    set_dotted,
    to_dict,
)
from vidgan.data.config import DataConfig
from vidgan.families import list_families, load_family
from vidgan.families.api import FamilyConfig


@dataclass(frozen=True)
class TrainConfig:
    """Training-loop settings shared by every family. Progress is counted in clips seen (all ranks)."""

    batch_size: int = 8  # clips per iteration and per process
    accumulate: int = 1  # gradient-accumulation rounds per iteration (each on batch_size / accumulate clips);
    #                      gradients are averaged over the rounds and all-reduced once, after the last round
    total_clips: int = 1_000_000  # default run length in clips (``--max-clips`` ends earlier)
    amp: Literal["none", "bf16", "fp16"] = "none"  # bf16 autocast (CPU/GPU) or fp16 + GradScaler (GPU)
    grad_clip: float = 0.0  # max global grad norm per phase; 0 = off
    max_bad_steps: int = 3  # stop after this many iterations in a row with non-finite gradients (not applied)
    ema_half_life_clips: float = 10_000.0  # generator EMA half-life in clips; 0 = no EMA
    ema_rampup: float = 0.05  # half-life <= rampup x clips seen (StyleGAN2-ADA), so a short run's EMA is not
    #                           stuck near the initial weights; 0 = off
    log_every_clips: int = 256
    sample_every_clips: int = 2_048
    checkpoint_every_clips: int = 4_096
    checkpoint_every_minutes: float = 0.0  # also checkpoint once this much wall time passed since the last
    #                                        save (slow CPU runs); 0 = off. Rank 0's clock decides under DDP
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


# --------------------------------------------------------------------------------------------------
# Resolution: FAMILY[:PRESET] or a YAML file, then dotted overrides -> a typed RunConfig.
# --------------------------------------------------------------------------------------------------


def _family_and_preset(spec: str) -> tuple[str, str | None, dict]:
    """``"tganv2:tiny"`` -> ("tganv2", "tiny", {}); a YAML path -> (family, preset, its mapping)."""
    if spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
        data = load_yaml(spec)
        fam = data.get("family")
        name = fam.get("name") if isinstance(fam, dict) else fam
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{spec}: set 'family: <name>' (or family.name); families: {', '.join(list_families())}")
        data = dict(data)
        if isinstance(fam, str):
            data.pop("family")
        return name, data.pop("preset", None), data
    name, _, preset = spec.partition(":")
    return name, preset or None, {}


def preset_names(family: ModuleType) -> list[str]:
    return list(getattr(family, "PRESETS", {}))


def resolve_run_config(spec: str, overrides: Sequence[str] = ()) -> RunConfig:
    """Defaults in code < family preset < YAML file < ``key=value`` overrides; strict at every level."""
    name, preset, file_data = _family_and_preset(spec)
    family = load_family(name)
    presets: dict = getattr(family, "PRESETS", {})
    preset = preset or getattr(family, "DEFAULT_PRESET", None) or ("tiny" if "tiny" in presets else None)
    if preset is not None and preset not in presets:
        close = difflib.get_close_matches(preset, list(presets), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"family '{name}' has no preset '{preset}'.{hint} Presets: {', '.join(presets)}")
    data = to_dict(RunConfig(family=family.Config()))
    if preset is not None:
        data = deep_merge(data, presets[preset])
        data["preset"] = preset
    data = deep_merge(data, file_data)
    for text in overrides:
        path, value = parse_override(text)
        set_dotted(data, path, value)
    data.setdefault("family", {})["name"] = name
    return check_run_config(run_config_from_dict(data))


def check_run_config(cfg: RunConfig) -> RunConfig:
    """Value checks the types cannot express; each error names the field and what to do."""
    t = cfg.train
    for key, value, low in (
        ("train.batch_size", t.batch_size, 1),
        ("train.accumulate", t.accumulate, 1),
        ("train.sample_num", t.sample_num, 1),
        ("train.keep_last", t.keep_last, 1),
        ("train.max_bad_steps", t.max_bad_steps, 1),
        ("train.total_clips", t.total_clips, 1),
        ("train.sample_frames", t.sample_frames, 0),
        ("seed", cfg.seed, 0),
    ):
        if value < low:
            raise ConfigError(f"{key}: {value} is below {low} — set {key}={low} or more")
    if t.batch_size % t.accumulate:
        raise ConfigError(
            f"train.accumulate: {t.accumulate} does not divide train.batch_size={t.batch_size} — pick a divisor"
        )
    for key, value in (("train.sample_fps", t.sample_fps), ("train.ema_half_life_clips", t.ema_half_life_clips + 1)):
        if not value > 0:
            raise ConfigError(f"{key}: must be positive — set a positive value")
    for key in ("log_every_clips", "sample_every_clips", "checkpoint_every_clips"):
        if getattr(t, key) < 0:
            raise ConfigError(f"train.{key}: {getattr(t, key)} is negative — use 0 (never) or a number of clips")
    if not (t.checkpoint_every_minutes >= 0 and math.isfinite(t.checkpoint_every_minutes)):
        raise ConfigError(
            f"train.checkpoint_every_minutes: {t.checkpoint_every_minutes} — use 0 (off) or a positive number of "
            "minutes"
        )
    return cfg


def run_config_from_dict(data: dict) -> RunConfig:
    """Rebuild a RunConfig from plain data (a checkpoint's or run dir's resolved config)."""
    fam = data.get("family") or {}
    name = fam.get("name") if isinstance(fam, dict) else None
    if not name:
        raise ConfigError("config has no family.name")
    family = load_family(name)
    return from_dict(RunConfig, data, _overrides={"family": family.Config})
