"""Fixtures for the TGANv2 golden tests: the official Chainer fixtures in ``../shared/golden/tganv2``.

The fixture models are the released UCF101 architecture with shrunk widths (clstm_ch 16, ch 4, mid_ch 4):
every spatial/temporal shape is the real 192 px one (golden README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidgan.families.tganv2 import Config
from vidgan.families.tganv2.convert import load_chainer_state
from vidgan.families.tganv2.discriminator import TGANv2Discriminator
from vidgan.families.tganv2.generator import TGANv2Generator

GOLDEN_CFG = dict(clstm_ch=16, ch=4, mid_ch=4, t_size=3, n_frames=16)


@pytest.fixture(scope="session")
def golden(shared_dir: Path) -> Path:
    path = shared_dir / "golden" / "tganv2"
    if not path.is_dir():
        pytest.fail(f"golden fixtures missing: {path}")
    return path


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="session")
def gen_io(golden: Path) -> dict[str, np.ndarray]:
    return _load(golden / "generator_io.npz")


@pytest.fixture(scope="session")
def dis_io(golden: Path) -> dict[str, np.ndarray]:
    return _load(golden / "discriminator_io.npz")


@pytest.fixture(scope="session")
def loss_io(golden: Path) -> dict[str, np.ndarray]:
    return _load(golden / "loss_io.npz")


@pytest.fixture(scope="session")
def gen_state(golden: Path) -> dict[str, np.ndarray]:
    return _load(golden / "generator_state.npz")


@pytest.fixture(scope="session")
def dis_state(golden: Path) -> dict[str, np.ndarray]:
    return _load(golden / "discriminator_state.npz")


@pytest.fixture
def golden_cfg() -> Config:
    return Config(**GOLDEN_CFG)


@pytest.fixture
def make_gen(gen_state, golden_cfg):
    """A fresh generator with the stored state (BN running stats change on every training forward)."""

    def make(**overrides) -> TGANv2Generator:
        cfg = Config(**{**GOLDEN_CFG, **overrides})
        return load_chainer_state(TGANv2Generator(cfg), gen_state)

    return make


@pytest.fixture
def dis(dis_state, golden_cfg) -> TGANv2Discriminator:
    return load_chainer_state(TGANv2Discriminator(golden_cfg), dis_state)
