"""Reading official TimeCycleGAN / pytorch-CycleGAN-and-pix2pix state dicts (shared by the family importers)."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import Tensor

from vidgan.io.safe_load import load_torch

__all__ = ["read_state", "generator_spec", "patchgan_spec", "same_state", "save_imported"]


def save_imported(
    out: str | Path,
    family: dict,
    preset: str,
    data: dict,
    modules: dict[str, dict[str, Tensor]],
    files: list[Path],
    fmt: str,
) -> Path:
    """Write an imported official checkpoint in the engine's layout, reduced to inference (config, modules, the
    sha256 of every source file), atomically."""
    import hashlib

    from vidgan import __version__
    from vidgan.core.atomic import atomic_write

    ckpt = {
        "vidgan_version": __version__,
        "config": {"family": family, "preset": preset, "data": data, "train": {}, "seed": 0},
        "modules": modules,
        "ema": None,
        "source": {"files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}, "format": fmt},
    }
    with atomic_write(out) as f:
        torch.save(ckpt, f)
    return Path(out)


def read_state(path: str | Path) -> dict[str, Tensor]:
    """A raw ``.pth`` state dict (weights only); ``{"state_dict": ...}`` unwrapped, DataParallel's ``module.``
    prefix stripped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    obj = load_torch(path, "TimeCycleGAN checkpoint")
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise ValueError(f"{path}: expected a state dict of tensors (an official TimeCycleGAN .pth)")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def generator_spec(state: dict[str, Tensor], where: str = "generator") -> tuple[str, int, int, int]:
    """(architecture name, filters, input channels, output channels) of a ResNet or U-Net generator state."""
    if "model.model.0.weight" in state:
        levels = 1 + sum(1 for k in state if k.endswith(".model.1.weight"))
        name = {7: "unet_128", 8: "unet_256"}.get(levels)
        if name is None:
            raise ValueError(f"{where}: a U-Net with {levels} levels is neither unet_128 nor unet_256")
        w = state["model.model.0.weight"]
        return name, w.shape[0], w.shape[1], state["model.model.3.weight"].shape[1]
    if "model.1.weight" in state:
        blocks = {int(m.group(1)) for k in state if (m := re.match(r"^model\.(\d+)\.conv_block\.1\.weight$", k))}
        w = state["model.1.weight"]
        out = state[f"model.{17 + len(blocks)}.weight"].shape[0]
        return f"resnet_{len(blocks)}blocks", w.shape[0], w.shape[1], out
    raise KeyError(f"{where}: not a ResNet or U-Net generator state dict (no model.1.weight / model.model.0.weight)")


def patchgan_spec(state: dict[str, Tensor]) -> tuple[int, int, int]:
    """(n_layers, ndf, in_channels) of a PatchGAN state (official keys; store_layers aliases allowed)."""
    convs = sorted({int(m.group(1)) for k in state if (m := re.match(r"^model\.(\d+)\.weight$", k))})
    if not convs:
        raise KeyError("not a PatchGAN state dict (no model.<i>.weight)")
    w = state["model.0.weight"]
    return len(convs) - 2, w.shape[0], w.shape[1]


def same_state(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    """Whether two state dicts hold identical tensors under identical keys (a shared motion model saved twice)."""
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
