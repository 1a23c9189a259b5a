"""One safe way to read weight and checkpoint files: no code from the file ever runs, and every failure is
one line naming the file, the format that was expected and what to do.

Formats (chosen by content, not by suffix):

* torch zip or legacy files: ``torch.load(weights_only=True)`` (tensors, numbers, strings, containers only);
* safetensors;
* numpy ``.npz``/``.npy`` with ``allow_pickle=False`` (object arrays are refused);
* anything else is refused (pickles that need classes go through :mod:`vidgan.io.safe_pickle`, which
  extracts tensors with an allow-list and never imports a class).
"""

from __future__ import annotations

import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["WeightsFileError", "detect_format", "load_torch", "load_tensors"]


class WeightsFileError(ValueError):
    """A weight/checkpoint file is missing, unreadable, of the wrong format or refused (one-line message)."""


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def detect_format(path: str | os.PathLike) -> str:
    """``"torch-zip"``, ``"torch-legacy"``, ``"safetensors"``, ``"npz"``, ``"npy"`` or ``"unknown"``."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(16)
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(p) as z:
                names = z.namelist()
        except Exception:  # noqa: BLE001 - a damaged directory (bad names, offsets): not a readable archive
            return "unknown"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        if any(n.endswith("data.pkl") for n in names):
            return "torch-zip"
        return "unknown"
    if len(head) >= 8:
        n = int.from_bytes(head[:8], "little")
        if 2 <= n < 100_000_000 and head[8:9] == b"{":
            return "safetensors"
    if head[:1] == b"\x80":  # a pickle protocol header: torch's legacy format starts with one
        return "torch-legacy"
    return "unknown"


def _check_file(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise WeightsFileError(f"{p}: {what} file not found — check the path")
    if p.is_dir():
        raise WeightsFileError(f"{p}: is a folder, not a {what} file — pass the file inside it")
    if p.stat().st_size == 0:
        raise WeightsFileError(f"{p}: empty file, not a {what} file — re-download or re-export it")
    return p


def load_torch(path: str | os.PathLike, what: str = "checkpoint", map_location: Any = "cpu") -> Any:
    """A torch file read with ``weights_only=True``; a file needing code (a class, a function) is refused."""
    p = _check_file(path, what)
    fmt = detect_format(p)
    if fmt not in ("torch-zip", "torch-legacy"):
        hint = {"safetensors": "a safetensors file", "npz": "a numpy .npz", "npy": "a numpy .npy"}.get(fmt)
        raise WeightsFileError(
            f"{p}: not a torch {what} file ({hint or 'unrecognised content'}) — pass the torch .pt/.pth file"
        )
    import torch

    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols before refusing them
            warnings.simplefilter("ignore")
            return torch.load(p, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - every failure becomes one line naming the file
        reason = _first_line(e)
        if "Weights only load failed" in str(e) or "Unsupported global" in str(e):
            raise WeightsFileError(
                f"{p}: refused — the file needs code to load (a pickled class or function); vidgan reads "
                f"tensors only — re-save it as a state dict (torch.save(model.state_dict(), ...))"
            ) from None
        raise WeightsFileError(
            f"{p}: cannot read this torch {what} file ({reason}) — re-download or re-export it"
        ) from None


def load_tensors(path: str | os.PathLike, what: str = "weights") -> dict[str, Any]:
    """A flat ``{name: tensor}`` (torch files, safetensors) or ``{name: ndarray}`` (npz) from ``path``."""
    p = _check_file(path, what)
    fmt = detect_format(p)
    try:
        if fmt == "safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(p)))
        if fmt in ("npz", "npy"):
            import numpy as np

            with np.load(p, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001
        reason = _first_line(e)
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise WeightsFileError(
                f"{p}: refused — holds object arrays (pickled Python objects); vidgan reads numeric arrays only"
            ) from None
        raise WeightsFileError(f"{p}: cannot read this {fmt} {what} file ({reason}) — re-download it") from None
    if fmt in ("torch-zip", "torch-legacy"):
        obj = load_torch(p, what)
        for key in ("state_dict", "params", "model"):
            if isinstance(obj, dict) and isinstance(obj.get(key), dict):
                obj = obj[key]
        import torch

        if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
            raise WeightsFileError(f"{p}: a torch file but not a state dict of tensors — pass a {what} state dict")
        return obj
    raise WeightsFileError(
        f"{p}: not a {what} file vidgan can read (expected torch .pt/.pth, .safetensors or .npz) — check the path"
    )
