"""Fixtures of the paired TimeCycleGAN family tests: official checkpoint folders written from the golden
state dicts (GPU-style ``module.`` prefixes on one of them), imported through the family's importer."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest
import torch


def load_npz(shared: Path, name: str) -> dict[str, np.ndarray]:
    with np.load(shared / "golden" / "timecycle" / name) as d:
        return {k: d[k] for k in d.files}


def official_folder(shared: Path, tmp: Path, name: str, prefix: str = "") -> Path:
    """``<net>.pth`` files as the official code saves them (raw state dicts)."""
    z = load_npz(shared, name)
    folder = tmp / Path(name).stem
    folder.mkdir()
    nets = sorted({k.split("/")[1] for k in z if k.startswith("sd/")})
    for net in nets:
        pre = f"sd/{net}/"
        state = {prefix + k[len(pre) :]: torch.from_numpy(v.copy()) for k, v in z.items() if k.startswith(pre)}
        torch.save(state, folder / f"{net}.pth")
    return folder


@pytest.fixture(scope="session")
def golden_tc(shared_dir):
    root = shared_dir / "golden" / "timecycle"
    cache: dict[str, dict[str, np.ndarray]] = {}

    def npz(name: str) -> dict[str, np.ndarray]:
        if name not in cache:
            cache[name] = load_npz(shared_dir, name)
        return cache[name]

    return types.SimpleNamespace(
        root=root,
        npz=npz,
        t=lambda name, key: torch.from_numpy(np.array(npz(name)[key], dtype=np.float32)),
        values=json.loads((root / "values.json").read_text()),
        config=json.loads((root / "config.json").read_text()),
    )


@pytest.fixture(scope="session")
def official(shared_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("official")
    return {
        "model_p": official_folder(shared_dir, tmp, "model_p.npz", prefix="module."),  # a GPU (DataParallel) run
        "model_p_pingpong": official_folder(shared_dir, tmp, "model_p_pingpong.npz"),
    }


def data_spec(frames=5, size=64, **kw):
    base = dict(sampler="translation", pairing="paired", frames=frames, size=size, source="s", target="t")
    base.update(kw)
    return types.SimpleNamespace(**base)
