"""Fixtures of the TecoGAN tests: golden arrays and port-layout weights imported through the importer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from vidgan.families.tecogan.convert import import_weights


def load_npz(shared: Path, name: str) -> dict[str, np.ndarray]:
    with np.load(shared / "golden" / "tecogan" / name) as d:
        return {k: d[k] for k in d.files}


@pytest.fixture(scope="session")
def golden(shared_dir):
    return lambda name: load_npz(shared_dir, name)


@pytest.fixture(scope="session")
def tol(shared_dir) -> dict:
    """``tolerances.json`` "recommended": every tolerance of a TecoGAN golden comparison comes from here."""
    return json.loads((shared_dir / "golden" / "tecogan" / "tolerances.json").read_text())["recommended"]


def uint8_level_tol(tol: dict) -> int:
    """``uint8_outputs`` is prose ("at most N level..."): the number of grey levels it allows."""
    m = re.search(r"at most (\d+) level", tol["uint8_outputs"])
    assert m, tol["uint8_outputs"]
    return int(m.group(1))


def assert_uint8_close(u8: np.ndarray, ref_u8: np.ndarray, ref_float: np.ndarray, tol: dict) -> None:
    """uint8 outputs (``round(255 x)``): at most ``uint8_outputs`` levels off, and only where it is a
    rounding tie-break -- the recorded float output lies within the float tolerance (x 255) of a .5
    boundary. No count of mismatches tuned to one fixture set."""
    diff = np.abs(u8.astype(int) - ref_u8.astype(int))
    assert diff.max() <= uint8_level_tol(tol)
    scaled = 255.0 * ref_float.astype(np.float64)
    to_boundary = np.abs(scaled - np.floor(scaled) - 0.5)
    off = diff > 0
    assert np.all(to_boundary[off] <= 255.0 * tol["hr_images_and_warps_float32_atol"]), to_boundary[off].max()


def _pth(shared: Path, tmp: Path, names: list[str], drop_kernels: bool = False) -> Path:
    state = {}
    for n in names:
        state.update({k: torch.from_numpy(np.array(v)) for k, v in load_npz(shared, n).items()})
    # the .npz stores 0-d BN counters as shape (1,); the port's state dicts hold 0-d tensors (state_keys.json)
    state = {k: v.reshape(()) if k.endswith("num_batches_tracked") else v for k, v in state.items()}
    if drop_kernels:
        state = {k: v for k, v in state.items() if not k.endswith("upsample_func.kernels")}
    out = tmp / ("_".join(names) + ("_bi" if drop_kernels else "") + ".pth")
    torch.save(state, out)
    return out


@pytest.fixture(scope="session")
def port_files(shared_dir, tmp_path_factory):
    """Port-style ``.pth`` files built from the golden state ``.npz`` (what the released files look like)."""
    tmp = tmp_path_factory.mktemp("port")
    return {
        "nb10": _pth(shared_dir, tmp, ["frnet_nb10_bd_state.npz"]),
        "nb16": _pth(shared_dir, tmp, ["frnet_nb10_bd_state.npz", "frnet_nb16_bd_extra_state.npz"]),
        "nb10_bi": _pth(shared_dir, tmp, ["frnet_nb10_bd_state.npz"], drop_kernels=True),
        "stnet": _pth(shared_dir, tmp, ["stnet_bd_state.npz"]),
    }


@pytest.fixture(scope="session")
def imported(port_files, tmp_path_factory):
    """name -> vidgan checkpoint path made by ``import_weights`` (the key-for-key importer)."""
    tmp = tmp_path_factory.mktemp("imported")
    return {
        "nb10": import_weights(port_files["nb10"], tmp / "nb10.pt", discriminator=port_files["stnet"]),
        "nb16": import_weights(port_files["nb16"], tmp / "nb16.pt"),
        "nb10_bi": import_weights(port_files["nb10_bi"], tmp / "nb10_bi.pt"),
    }


def load_modules(path: Path):
    """(generator FRNet, discriminator or None) rebuilt from an imported checkpoint."""
    from vidgan.core.config import from_dict
    from vidgan.families.tecogan import Config, SpatioTemporalDiscriminator, build_generator

    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = from_dict(Config, ckpt["config"]["family"])
    gen = build_generator(cfg)
    gen.load_state_dict(ckpt["modules"]["generator"], strict=True)
    disc = None
    if "discriminator" in ckpt["modules"]:
        disc = SpatioTemporalDiscriminator(cfg.in_channels, 128, cfg.scale, cfg.degradation)
        disc.load_state_dict(ckpt["modules"]["discriminator"], strict=True)
    return gen.eval(), disc, cfg


@pytest.fixture(scope="session", name="load_modules")
def load_modules_fixture():
    return load_modules


@pytest.fixture(scope="session")
def nets(imported):
    return {k: load_modules(v) for k, v in imported.items()}


@pytest.fixture(scope="session", name="assert_uint8_close")
def assert_uint8_close_fixture(tol):
    return lambda u8, ref_u8, ref_float: assert_uint8_close(u8, ref_u8, ref_float, tol)
