"""Fixtures for the StyleGAN-V golden tests (``../shared/golden/styleganv``, made by the official code).

The golden model configuration is read from the fixture's own ``config.json`` (constructor kwargs and the
official config), never typed here, so regenerated fixtures with other sizes or seeds still apply.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from vidgan.families.styleganv import Config
from vidgan.families.styleganv.convert import load_strict
from vidgan.families.styleganv.discriminator import Discriminator
from vidgan.families.styleganv.generator import Generator


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def t(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


@pytest.fixture(scope="session")
def golden(shared_dir: Path) -> Path:
    path = shared_dir / "golden" / "styleganv"
    if not path.is_dir():
        pytest.fail(f"golden fixtures missing: {path}")
    return path


@pytest.fixture(scope="session")
def golden_json(golden) -> dict:
    return json.loads((golden / "config.json").read_text())


@pytest.fixture(scope="session")
def golden_setup(golden_json) -> tuple[Config, int, int]:
    """(Config, resolution, frames per clip) of the fixture model, from config.json."""
    off = golden_json["official_config"]
    gk = golden_json["constructor_kwargs"]["Generator"]
    dk = golden_json["constructor_kwargs"]["Discriminator"]
    gm, dm = off["model"]["generator"], off["model"]["discriminator"]
    cfg = Config(
        z_dim=gm["z_dim"],
        w_dim=gm["w_dim"],
        mapping_layers=gk["mapping_kwargs"]["num_layers"],
        channel_base=gk["synthesis_kwargs"]["channel_base"],
        channel_max=gk["synthesis_kwargs"]["channel_max"],
        conv_clamp=gk["synthesis_kwargs"]["conv_clamp"],
        num_fp16_res=gk["synthesis_kwargs"]["num_fp16_res"],
        motion_z_dim=gm["motion"]["z_dim"],
        motion_v_dim=gm["motion"]["v_dim"],
        motion_kernel=gm["motion"]["kernel_size"],
        motion_z_distance=gm["motion"]["motion_z_distance"],
        time_enc_dim=gm["time_enc"]["dim"],
        min_period_len=gm["time_enc"]["min_period_len"],
        max_period_len=gm["time_enc"]["max_period_len"],
        max_num_frames=off["sampling"]["max_num_frames"],
        d_channel_base=dk["channel_base"],
        d_channel_max=dk["channel_max"],
        concat_res=dm["concat_res"],
        num_frames_div_factor=dm["num_frames_div_factor"],
        mbstd_group_size=dk["epilogue_kwargs"]["mbstd_group_size"],
        d_mapping_layers=dk["mapping_kwargs"]["num_layers"],
        aug="noaug",
    )
    return cfg, gk["img_resolution"], off["sampling"]["num_frames_per_video"]


@pytest.fixture(scope="session")
def gen_state(golden) -> dict[str, np.ndarray]:
    return _load(golden / "generator_state.npz")


@pytest.fixture(scope="session")
def dis_state(golden) -> dict[str, np.ndarray]:
    return _load(golden / "discriminator_state.npz")


@pytest.fixture(scope="session")
def gen_io(golden) -> dict[str, np.ndarray]:
    return _load(golden / "generator_io.npz")


@pytest.fixture(scope="session")
def dis_io(golden) -> dict[str, np.ndarray]:
    return _load(golden / "discriminator_io.npz")


@pytest.fixture(scope="session")
def loss_io(golden) -> dict[str, np.ndarray]:
    return _load(golden / "loss_io.npz")


@pytest.fixture
def make_gen(golden_setup, gen_state):
    def make() -> Generator:
        cfg, res, _ = golden_setup
        return load_strict(Generator(cfg, res), {k: t(v) for k, v in gen_state.items()}, "G")

    return make


@pytest.fixture
def make_dis(golden_setup, dis_state):
    def make() -> Discriminator:
        cfg, res, frames = golden_setup
        return load_strict(Discriminator(cfg, res, frames), {k: t(v) for k, v in dis_state.items()}, "D")

    return make


@pytest.fixture
def data_spec():
    """Factory of stand-ins for the run's data section."""

    def make(**kw):
        base = dict(source="moving-digits", sampler="random_t", frames=3, size=32, max_dist=32, video_frames=32)
        base.update(kw)
        return types.SimpleNamespace(**base)

    return make
