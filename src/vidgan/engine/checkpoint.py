"""Checkpoints: everything needed to resume exactly, written atomically, loaded with ``weights_only=True``.

Layout of ``<run_dir>/checkpoints/ckpt-<clips_seen:012d>.pt`` (a plain dict of tensors and primitives)::

    {"vidgan_version": str, "config": <resolved RunConfig as plain data>,
     "progress": {"step": int, "clips_seen": int},
     "modules": {role: state_dict}, "ema": state_dict | None,
     "optimizers": {name: state_dict}, "scaler": state_dict | None,
     "objective": dict, "rng": {...}}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidgan.core.atomic import atomic_write

__all__ = [
    "CheckpointError",
    "save_atomic",
    "list_checkpoints",
    "latest_checkpoint",
    "load",
    "resolve",
    "pack_rng",
    "unpack_rng",
]

_NAME = re.compile(r"^ckpt-(\d{12})\.pt$")


class CheckpointError(RuntimeError):
    pass


def save_atomic(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file in the same folder, fsync, then ``os.replace`` (never half-written)."""
    with atomic_write(path) as f:
        torch.save(obj, f)
    return Path(path)


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    d = Path(run_dir) / "checkpoints"
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if _NAME.match(p.name))


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    ckpts = list_checkpoints(run_dir)
    return ckpts[-1] if ckpts else None


def prune(run_dir: str | Path, keep_last: int) -> None:
    for p in list_checkpoints(run_dir)[:-keep_last] if keep_last > 0 else []:
        p.unlink(missing_ok=True)


def resolve(path: str | Path) -> Path:
    """A checkpoint file, or a run directory (-> its latest checkpoint)."""
    p = Path(path)
    if p.is_dir():
        latest = latest_checkpoint(p)
        if latest is None:
            raise CheckpointError(f"{p}: no checkpoints under {p / 'checkpoints'} (train first, or pass a .pt file)")
        return latest
    if not p.is_file():
        raise CheckpointError(f"checkpoint not found: {p}")
    return p


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    from vidgan.io.safe_load import WeightsFileError, load_torch

    p = resolve(path)
    try:
        ckpt = load_torch(p, "checkpoint", map_location=map_location)
    except WeightsFileError as e:  # corrupt / truncated / not a torch file / needs code
        raise CheckpointError(f"{p}: cannot read checkpoint: {str(e).removeprefix(f'{p}: ')}") from None
    if not isinstance(ckpt, dict) or "modules" not in ckpt or "config" not in ckpt:
        raise CheckpointError(
            f"{p}: not a vidgan checkpoint (missing 'modules'/'config') — pass a file written by `vidgan train` "
            "or imported with `vidgan weights import`"
        )
    return ckpt


def pack_rng(state: dict) -> dict:
    """Global RNG states in a weights_only-loadable form (numpy arrays -> tensors)."""
    out = dict(state)
    if "numpy" in out:
        kind, keys, pos, has_gauss, cached = out["numpy"]
        out["numpy"] = [
            kind,
            torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            int(pos),
            int(has_gauss),
            float(cached),
        ]
    return out


def unpack_rng(state: dict) -> dict:
    out = dict(state)
    if "numpy" in out:
        kind, keys, pos, has_gauss, cached = out["numpy"]
        out["numpy"] = (kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached)
    return out
