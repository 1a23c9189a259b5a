"""Inception-v3 with the TF 2015-12-05 graph semantics used by FID, in plain torch (metrics.md §2).

Input: float ``(N, 3, 299, 299)`` already normalised as the TF graph does, ``(x - 128) / 128`` from 0..255
(use :func:`preprocess_fid`). Output: ``(N, 2048)`` pool3 features (or 1008 logits via ``logits``).

Differences from torchvision's Inception-v3 that the TF graph needs (pytorch-fid's FIDInception blocks):
average-pool branches exclude padding from the mean (``count_include_pad=False``), and the last block
(Mixed_7c) pools its branch with max-pool instead of average-pool. BatchNorm eps 1e-3, conv without bias.
Parameter names follow ``pt_inception-2015-12-05-6726825d.pth`` (pytorch-fid), so that file loads as is.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidgan.nn.resize import resize_tf1_bilinear

__all__ = ["InceptionFID", "load_inception_fid", "preprocess_fid"]


class BasicConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, k, s: int = 1, p=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: Tensor) -> Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)  # TF: padding not counted


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, p=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, p=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, p=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool(x))], 1)


class InceptionB(nn.Module):  # Mixed_6a, grid reduction
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, s=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, p=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, s=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), p=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), p=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), p=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), p=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), p=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), p=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for i in range(1, 6):
            d = getattr(self, f"branch7x7dbl_{i}")(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool(x))], 1)


class InceptionD(nn.Module):  # Mixed_7a, grid reduction
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, s=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), p=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), p=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, s=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int, pool: str):
        super().__init__()
        self.pool = pool  # "avg" (Mixed_7b) or "max" (Mixed_7c: the TF graph's quirk)
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), p=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), p=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, p=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), p=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), p=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        a = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(a), self.branch3x3_2b(a)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = _avg_pool(x) if self.pool == "avg" else F.max_pool2d(x, 3, stride=1, padding=1)
        return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(pooled)], 1)


class InceptionFID(nn.Module):
    """``forward``: float (N, 3, 299, 299), (x-128)/128 -> (N, 2048) pool3. ``logits``: -> (N, 1008)."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, s=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, p=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, "avg")
        self.Mixed_7c = InceptionE(2048, "max")
        self.fc = nn.Linear(2048, 1008)  # TF graph's 1008-way head (IS); FID uses pool3 only

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"Inception expects (N, 3, 299, 299), got {tuple(x.shape)}")
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))  # pool3: global average (8x8 at 299²)

    def logits(self, x: Tensor) -> Tensor:
        return self.fc(self.forward(x))


def preprocess_fid(frames: Tensor) -> Tensor:
    """uint8 ``(N, 3, H, W)`` -> float ``(N, 3, 299, 299)``: TF1-legacy bilinear, then (x - 128) / 128."""
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[1] != 3:
        raise ValueError(f"FID expects uint8 RGB frames (N, 3, H, W), got {frames.dtype} {tuple(frames.shape)}")
    return (resize_tf1_bilinear(frames.float(), (299, 299)) - 128.0) / 128.0


def load_inception_fid(path: str | Path, device: str | torch.device = "cpu") -> InceptionFID:
    """Load ``pt_inception-2015-12-05-6726825d.pth`` (pytorch-fid key layout); every key must be used."""
    from vidgan.io.safe_load import load_torch

    sd = load_torch(path, "Inception weights")
    if not isinstance(sd, dict):
        raise ValueError(f"{path}: expected a state_dict (pytorch-fid layout), got {type(sd).__name__}")
    sd = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    model = InceptionFID()
    own = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    missing, unexpected = sorted(own - set(sd)), sorted(set(sd) - own)
    if missing or unexpected:
        raise ValueError(
            f"{path}: not the pytorch-fid Inception layout (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    model.load_state_dict(sd, strict=False)  # only num_batches_tracked may be absent
    return model.eval().requires_grad_(False).to(device)
