"""C3D v1 fine-tuned on UCF101 (TGANv2's ``C3DVersion1UCF101``), plain torch (tganv2.md §6.1, metrics.md §3).

The video Inception Score classifier of TGANv2 (pfnet-research/tgan2 ``tgan2/models/c3d/c3d_ucf101.py``)
and StyleGAN-V (``isv2048_ucf``, a TorchScript port of the same Chainer weights).

Input: float ``(N, 3, 16, H, W)`` RGB in [-1, 1]. Stages (names as the official ``functions`` table):

* ``pre``: fixed 1x1x1 conv without bias, RGB -> BGR and x128; every frame bilinear to 112x112 with
  corner alignment (Chainer ``resize_images`` = ``align_corners=True``, no antialiasing); + (128 -
  mean[:, :, 8:120, 8:120]) with the C3D mean clip ``mean2.npz['mean']`` (3, 16, >=120, >=120, BGR).
* conv1a 64 - pool (1,2,2) - conv2a 128 - pool 2 - conv3a/b 256 - pool - conv4a/b 512 - pool - conv5a/b
  512 - pool (all 3x3x3 pad 1 + ReLU; max pools with Chainer ``cover_all`` = ``ceil_mode=True``) - fc6
  4096 ReLU - fc7 4096 ReLU (the TGANv2 "FID" feature) - fc8 101 - softmax (IS posterior). Dropout is
  off at evaluation.

Weights: the Chainer ``conv3d_deepnetA_ucf.npz`` (keys ``conv1a/W``, ``conv1a/b``, ..., ``fc8/b``;
conv W (out, in, 3, 3, 3), Linear W (out, in)) + ``mean2.npz``, both from
``github.com/rezoo/tgan2/releases/download/v1.0/``; loaded from user paths, sha256 recorded. Not shipped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "C3DUCF101",
    "C3D_CONVS",
    "rgb_to_bgr128_weight",
    "resize_112",
    "max_pool_1x2x2",
    "max_pool_2x2x2",
    "load_c3d_chainer",
]

# (name, kind): the Chainer link names, in forward order; "pool1" is (1,2,2), the other pools (2,2,2)
C3D_CONVS = ("conv1a", "conv2a", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b")
_OFFICIAL_WIDTHS = (64, 128, 256, 256, 512, 512, 512, 512)
_POOL_AFTER = {"conv1a": "1x2x2", "conv2a": "2x2x2", "conv3b": "2x2x2", "conv4b": "2x2x2", "conv5b": "2x2x2"}
Layer = Literal["fc7", "fc8", "prob"]


def rgb_to_bgr128_weight() -> Tensor:
    """The official fixed ``pre`` conv weight ``(3, 3, 1, 1, 1)``: W[o, i] = 128 for (o, i) in
    {(0, 2), (1, 1), (2, 0)} (RGB -> BGR, x128)."""
    w = torch.zeros(3, 3, 1, 1, 1)
    w[[0, 1, 2], [2, 1, 0]] = 128.0
    return w


def resize_112(x: Tensor, size: int = 112) -> Tensor:
    """``(N, C, T, H, W)`` -> ``(N, C, T, size, size)``, per-frame bilinear with ``align_corners=True``."""
    n, c, t, h, w = x.shape
    y = x.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)  # (N*T, C, H, W)
    # float64 source coordinates: PyTorch's float32 kernel rounds the (in-1)/(out-1) scale and is off
    # by up to 3e-5 against Chainer's resize_images (golden c3d_preprocess_io); float64 gives 1.5e-7
    y = F.interpolate(y.double(), size=(size, size), mode="bilinear", align_corners=True).to(x.dtype)
    return y.reshape(n, t, c, size, size).permute(0, 2, 1, 3, 4)


def max_pool_1x2x2(x: Tensor) -> Tensor:
    """pool1: max over (1, 2, 2), stride (1, 2, 2), ceil mode (Chainer ``cover_all=True``)."""
    return F.max_pool3d(x, (1, 2, 2), (1, 2, 2), ceil_mode=True)


def max_pool_2x2x2(x: Tensor) -> Tensor:
    """pool2..pool5: max over 2x2x2, stride 2, ceil mode (e.g. (2, 7, 7) -> (1, 4, 4) at pool5)."""
    return F.max_pool3d(x, 2, 2, ceil_mode=True)


class C3DUCF101(nn.Module):
    """C3D v1 UCF101. ``forward(x, layer)``: ``(N, 3, 16, H, W)`` float in [-1, 1] -> ``(N, 4096)`` fc7,
    ``(N, 101)`` fc8 logits or ``(N, 101)`` probabilities.

    Args:
        mean: the C3D mean clip ``(3, 16, Hm, Wm)`` (BGR, Hm, Wm >= 120); ``None`` = zeros (tests only).
        widths: conv widths (official: 64, 128, 256, 256, 512, 512, 512, 512); fc6/fc7 width ``fc``
            (official 4096) and ``n_classes`` (101). Smaller values only serve tests of the key layout.
    """

    def __init__(
        self,
        mean: np.ndarray | Tensor | None = None,
        widths: tuple[int, ...] = _OFFICIAL_WIDTHS,
        fc: int = 4096,
        n_classes: int = 101,
    ) -> None:
        super().__init__()
        if len(widths) != len(C3D_CONVS):
            raise ValueError(f"widths needs {len(C3D_CONVS)} entries, got {len(widths)}")
        c_in = 3
        for name, c_out in zip(C3D_CONVS, widths):
            self.add_module(name, nn.Conv3d(c_in, c_out, 3, padding=1))
            c_in = c_out
        self.fc6 = nn.Linear(c_in * 1 * 4 * 4, fc)  # pool5 output (C, 1, 4, 4) at 16 x 112 x 112
        self.fc7 = nn.Linear(fc, fc)
        self.fc8 = nn.Linear(fc, n_classes)
        self.register_buffer("pre_weight", rgb_to_bgr128_weight(), persistent=False)
        self.register_buffer("mean_bias", torch.zeros(3, 16, 112, 112), persistent=False)
        if mean is not None:
            self.set_mean(mean)
        self.eval().requires_grad_(False)

    def set_mean(self, mean: np.ndarray | Tensor) -> None:
        """Store 128 - mean[:, :, 8:120, 8:120] (the official fixed window at offset (8, 8))."""
        m = torch.as_tensor(np.asarray(mean), dtype=torch.float32)
        if m.ndim != 4 or m.shape[0] != 3 or m.shape[1] != 16 or m.shape[2] < 120 or m.shape[3] < 120:
            raise ValueError(f"C3D mean must be (3, 16, >=120, >=120) BGR, got {tuple(m.shape)}")
        self.mean_bias.copy_(128.0 - m[:, :, 8:120, 8:120])

    def preprocess(self, x: Tensor) -> Tensor:
        """``(N, 3, 16, H, W)`` in [-1, 1] -> ``(N, 3, 16, 112, 112)``: BGR x128, resize, + (128 - mean)."""
        if x.ndim != 5 or x.shape[1] != 3 or x.shape[2] != 16:
            raise ValueError(f"C3D expects (N, 3, 16, H, W) RGB clips in [-1, 1], got {tuple(x.shape)}")
        y = F.conv3d(x, self.pre_weight)
        return resize_112(y) + self.mean_bias

    def forward(self, x: Tensor, layer: Layer = "prob") -> Tensor:
        h = self.preprocess(x)
        for name in C3D_CONVS:
            h = F.relu(getattr(self, name)(h))
            pool = _POOL_AFTER.get(name)
            if pool == "1x2x2":
                h = max_pool_1x2x2(h)
            elif pool == "2x2x2":
                h = max_pool_2x2x2(h)
        h = F.relu(self.fc6(h.flatten(1)))  # (N, C*1*4*4), C-major like Chainer's Linear reshape
        h = F.relu(self.fc7(h))
        if layer == "fc7":
            return h
        h = self.fc8(h)
        if layer == "fc8":
            return h
        if layer == "prob":
            return F.softmax(h, dim=1)
        raise ValueError(f"layer must be 'fc7', 'fc8' or 'prob', got {layer!r}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_c3d_chainer(
    weights: str | Path,
    mean: str | Path,
    weights_sha256: str | None = None,
    mean_sha256: str | None = None,
) -> C3DUCF101:
    """C3D from the Chainer ``conv3d_deepnetA_ucf.npz`` and ``mean2.npz`` (key ``mean``).

    Every array of the weights file must be consumed (``{conv1a..conv5b, fc6..fc8}/{W, b}``, a leading
    ``/`` or ``predictor/`` prefix tolerated); widths are read from the shapes. The files' sha256 are
    checked when given and recorded on the model as ``weights_sha256`` / ``mean_sha256``.
    """
    weights, mean = Path(weights), Path(mean)
    for p, what in ((weights, "C3D weights conv3d_deepnetA_ucf.npz"), (mean, "C3D mean mean2.npz")):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: {what} not found (github.com/rezoo/tgan2/releases/tag/v1.0)")
    w_sha, m_sha = _sha256(weights), _sha256(mean)
    for p, got, want in ((weights, w_sha, weights_sha256), (mean, m_sha, mean_sha256)):
        if want is not None and got != want:
            raise ValueError(f"{p}: sha256 {got} does not match the expected {want}")
    from vidgan.io.safe_load import load_tensors

    raw = load_tensors(weights, "C3D weights")
    arrays = {k.removeprefix("/").removeprefix("predictor/"): v for k, v in raw.items()}
    means = load_tensors(mean, "C3D mean")
    if "mean" not in means:
        raise ValueError(f"{mean}: no 'mean' array (keys: {sorted(means)}) — pass the C3D mean .npz")
    mean_arr = means["mean"]
    names = (*C3D_CONVS, "fc6", "fc7", "fc8")
    expected = {f"{n}/{p}" for n in names for p in ("W", "b")}
    if set(arrays) != expected:
        raise KeyError(
            f"{weights}: key mismatch with the Chainer C3DVersion1UCF101 layout: missing "
            f"{sorted(expected - set(arrays))}, unexpected {sorted(set(arrays) - expected)}"
        )
    widths = tuple(int(arrays[f"{n}/W"].shape[0]) for n in C3D_CONVS)
    model = C3DUCF101(
        mean=mean_arr,
        widths=widths,
        fc=int(arrays["fc6/W"].shape[0]),
        n_classes=int(arrays["fc8/W"].shape[0]),
    )
    sd = {
        f"{n}.{'weight' if p == 'W' else 'bias'}": torch.from_numpy(np.asarray(arrays[f"{n}/{p}"], np.float32))
        for n in names
        for p in ("W", "b")
    }
    model.load_state_dict(sd, strict=True)
    model.weights_sha256 = w_sha  # type: ignore[attr-defined]
    model.mean_sha256 = m_sha  # type: ignore[attr-defined]
    return model
