"""Import the PyTorch port's released checkpoints (skycrapers/TecoGAN-PyTorch @ 903b070) key for key.

The port's ``.pth`` files are plain ``FRNet`` state dicts (no ``module.`` prefix): 78 keys for 10 blocks
in BD mode (including the two bicubic tap buffers ``upsample_func.kernels`` and
``srnet.upsample_func.kernels``), 76 in BI mode; 16-block files have 24 more. vidgan's ``FRNet`` uses the
same names, so the import is an identity map with checks: every key and shape must match, and BD tap
buffers must equal the fixed table. A third-party loader is known to strip the buffers; pass
``degradation="bd"`` to restore them.

Output format (what ``vidgan upscale --checkpoint`` and ``family.init_from`` read) = the engine's
checkpoint layout, reduced to inference::

    {"vidgan_version": str, "config": {"family": <Config as plain dict>, "preset": "frvsr"|"tecogan",
     "data": {"scale": s, "degradation": d}, "train": {}, "seed": 0},
     "modules": {"generator": state_dict[, "discriminator": state_dict]}, "ema": None,
     "source": {"file": name, "sha256": hex, "format": "tecogan-pytorch@903b070"}}
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from vidgan import __version__
from vidgan.core.atomic import atomic_write
from vidgan.io.safe_load import load_torch
from vidgan.nn.bicubic import bicubic_taps

from .config import Config
from .discriminator import SpatioTemporalDiscriminator
from .generator import FRNet

__all__ = ["import_weights", "read_state", "port_generator_config", "read_generator_state"]

_KERNEL_KEYS = ("upsample_func.kernels", "srnet.upsample_func.kernels")


def read_state(src: str | Path) -> dict[str, Tensor]:
    """Load a ``.pth`` state dict (weights only); unwrap ``{"state_dict": ...}``, strip ``module.``."""
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"checkpoint not found: {src}")
    obj = load_torch(src, "TecoGAN-PyTorch generator")
    for key in ("state_dict", "params", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise ValueError(f"{src}: expected a state dict of tensors (a TecoGAN-PyTorch .pth file)")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def port_generator_config(state: dict[str, Tensor], degradation: Literal["bd", "bi"] | None = None) -> Config:
    """The :class:`Config` matching a port generator state dict (blocks, scale, BD/BI from the buffers)."""
    if "srnet.conv_in.0.weight" not in state:
        raise KeyError("not a TecoGAN-PyTorch generator state dict: 'srnet.conv_in.0.weight' is missing")
    blocks = {int(k.split(".")[2]) for k in state if k.startswith("srnet.resblocks.")}
    in_nc = state["srnet.conv_out.weight"].shape[0]
    s2 = state["srnet.conv_in.0.weight"].shape[1] // in_nc - 1
    scale = {4: 2, 16: 4}.get(s2)
    if scale is None:
        raise ValueError(f"unsupported SRNet input width {state['srnet.conv_in.0.weight'].shape[1]}")
    if degradation is None:
        degradation = "bd" if _KERNEL_KEYS[0] in state else "bi"
    nb = len(blocks)
    return Config(
        num_blocks=nb,
        scale=scale,
        in_channels=in_nc,
        nf=state["srnet.conv_in.0.weight"].shape[0],
        degradation=degradation,
        discriminator=False,
        adv_weight=0.0,
        vgg_weight=0.0,
        pingpong=False,
        dfeat_weight=0.0,
    )


def _check_and_fill(state: dict[str, Tensor], model: torch.nn.Module, where: str) -> dict[str, Tensor]:
    own = model.state_dict()
    state = dict(state)
    for k in own:
        if k.endswith("upsample_func.kernels") and k not in state:
            state[k] = own[k].clone()  # stripped by a third-party loader: restore the fixed table
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        raise KeyError(f"{where}: keys do not match the port layout; missing {missing[:4]}, unexpected {extra[:4]}")
    for k, v in own.items():
        if state[k].shape != v.shape:
            raise ValueError(f"{where}: {k} has shape {tuple(state[k].shape)}, expected {tuple(v.shape)}")
        if k.endswith("upsample_func.kernels"):
            ref = bicubic_taps(v.shape[0])
            if not torch.allclose(state[k].float(), ref, atol=1e-6):
                raise ValueError(f"{where}: {k} is not the bicubic tap table (a = -0.75)")
    return {k: state[k].to(own[k].dtype) for k in own}


def read_generator_state(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any] | None]:
    """Generator weights from a vidgan checkpoint (``modules.generator``) or a port ``.pth``.
    A run directory means its latest ``checkpoints/ckpt-*.pt``.
    Returns (state_dict, family config dict or None for a raw port file)."""
    path = Path(path)
    if path.is_dir():
        ckpts = sorted((path / "checkpoints").glob("ckpt-*.pt"))
        if not ckpts:
            raise FileNotFoundError(f"{path}: no checkpoints under {path / 'checkpoints'}")
        path = ckpts[-1]
    obj = load_torch(path, "TecoGAN checkpoint")
    if isinstance(obj, dict) and "modules" in obj:
        if "generator" not in obj["modules"]:
            raise KeyError(f"{path}: vidgan checkpoint without a 'generator' module")
        fam = (obj.get("config") or {}).get("family")
        return obj["modules"]["generator"], fam
    return read_state(path), None


def _save_atomic(obj: Any, out: Path) -> Path:
    with atomic_write(out) as f:
        torch.save(obj, f)
    return out


def import_weights(
    src: str | Path,
    out: str | Path,
    *,
    discriminator: str | Path | None = None,
    degradation: Literal["bd", "bi"] | None = None,
) -> Path:
    """Convert a port generator ``.pth`` (and optionally a discriminator ``.pth``) to a vidgan checkpoint.

    Checks every key and shape (strict, key for key); BD/BI is read from the tap buffers unless given.
    ``out`` is the checkpoint file, or a folder (an existing directory or a path without suffix, as
    ``vidgan weights import tecogan SRC`` passes) that receives ``<src stem>.pt``. Returns the file
    written (atomically).
    """
    src, out = Path(src), Path(out)
    if _is_tf_checkpoint(src):
        return import_tf_checkpoint(src, out)
    if out.is_dir() or not out.suffix:
        out = out / f"{src.stem}.pt"
    state = read_state(src)
    cfg = port_generator_config(state, degradation)
    gen = FRNet(cfg.in_channels, cfg.nf, cfg.num_blocks, cfg.scale, cfg.degradation)
    modules = {"generator": _check_and_fill(state, gen, str(src))}
    if discriminator is not None:
        dstate = read_state(discriminator)
        size = int(round((dstate["dense.weight"].shape[1] / 256) ** 0.5)) * 16
        disc = SpatioTemporalDiscriminator(cfg.in_channels, size, cfg.scale, cfg.degradation)
        modules["discriminator"] = _check_and_fill(dstate, disc, str(discriminator))
        cfg = dataclasses.replace(cfg, discriminator=True)
    ckpt = {
        "vidgan_version": __version__,
        "config": {
            "family": dataclasses.asdict(cfg),
            "preset": "frvsr" if cfg.num_blocks == 10 and discriminator is None else "tecogan",
            "data": {"scale": cfg.scale, "degradation": cfg.degradation},
            "train": {},
            "seed": 0,
        },
        "modules": modules,
        "ema": None,
        "source": {
            "file": src.name,
            "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
            "format": "tecogan-pytorch@903b070",
        },
    }
    return _save_atomic(ckpt, out)


def _is_tf_checkpoint(src: Path) -> bool:
    return src.suffix == ".index" or Path(f"{src}.index").is_file()


def import_tf_checkpoint(src: str | Path, out: str | Path) -> Path:
    """Official TF checkpoint (``PREFIX`` or ``PREFIX.index`` of thunil/TecoGAN's ``model.zip``) -> a vidgan
    checkpoint of a ``compat="tf"`` FRNet (blocks counted from the variables; BD, x4 as released)."""
    from vidgan.io.tf_checkpoint import TFCheckpoint

    from .tf_convert import tf_generator_state, tf_num_blocks

    ckpt = TFCheckpoint(src)
    prefix, out = Path(ckpt.prefix), Path(out)
    if out.is_dir() or not out.suffix:
        out = out / f"{prefix.name}.pt"
    nb = tf_num_blocks(ckpt.names)
    wanted = [n for n in ckpt.names if n.startswith(("fnet/", "generator/"))]
    state = tf_generator_state({n: ckpt[n] for n in wanted}, nb)
    cfg = dataclasses.replace(
        Config(),
        compat="tf",
        num_blocks=nb,
        discriminator=False,
        adv_weight=0.0,
        vgg_weight=0.0,
        pingpong=False,
        pingpong_weight=0.0,
        dfeat_weight=0.0,
    )
    gen = FRNet(cfg.in_channels, cfg.nf, cfg.num_blocks, cfg.scale, cfg.degradation, cfg.max_flow, cfg.compat)
    full = gen.state_dict()
    unexpected = set(state) - set(full)
    if unexpected:
        raise KeyError(f"{src}: mapped variables the network does not have: {sorted(unexpected)[:3]}")
    for k, v in state.items():
        if tuple(v.shape) != tuple(full[k].shape):
            raise ValueError(f"{src}: {k} has shape {tuple(v.shape)}, the network expects {tuple(full[k].shape)}")
    full.update(state)  # buffers (the bicubic taps) come from the module itself
    gen.load_state_dict(full)
    data = {
        "vidgan_version": __version__,
        "config": {
            "family": dataclasses.asdict(cfg),
            "preset": "frvsr" if nb == 10 else "tecogan",
            "data": {"scale": cfg.scale, "degradation": cfg.degradation},
            "train": {},
            "seed": 0,
        },
        "modules": {"generator": gen.state_dict()},
        "ema": None,
        "source": {"file": prefix.name, "format": "thunil/TecoGAN TF checkpoint", "variables": len(wanted)},
    }
    return _save_atomic(data, out)
