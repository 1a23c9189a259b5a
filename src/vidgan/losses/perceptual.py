"""VGG19 cosine feature loss (TecoGAN §4.3, spec §6.1) with a plain-torch VGG19 (no torchvision).

The network is torchvision's ``vgg19().features`` layout (``features.{i}.weight``), so the ImageNet file
``vgg19-dcbb9e9d.pth`` (or a TF-slim conversion into the same layout) loads from a user path. Layers used
by TecoGAN: the ReLUs after conv2_2, conv3_4, conv4_4, conv5_4 = ``features`` indices 8, 17, 26, 35.
Loss per layer: features L2-normalised over channels (eps 1e-12 inside the square root), per-location
cosine similarity, ``1 - mean(cos)``; the layers are summed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

__all__ = ["VGG19Features", "cosine_feature_loss", "TECOGAN_LAYERS"]

_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)
TECOGAN_LAYERS = (8, 17, 26, 35)
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN = (123.68, 116.78, 103.94)


class VGG19Features(nn.Module):
    """``forward(x)`` x float ``(N, 3, H, W)`` RGB in [0, 1] -> list of post-ReLU features at ``layers``.

    ``preprocess="torchvision"``: (x - ImageNet mean) / std (torchvision weights, the port);
    ``"caffe"``: x*255 - RGB mean (TF-slim weights, the official code). The weights are frozen.
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        layers: tuple[int, ...] = TECOGAN_LAYERS,
        preprocess: Literal["torchvision", "caffe"] = "torchvision",
        sha256: str = "",
    ) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        cin = 3
        for v in _CFG:
            if v == "M":
                mods.append(nn.MaxPool2d(2, 2))
            else:
                mods += [nn.Conv2d(cin, int(v), 3, 1, 1), nn.ReLU(inplace=False)]
                cin = int(v)
        self.features = nn.Sequential(*mods[: max(layers) + 1])
        self.layers = tuple(layers)
        self.preprocess = preprocess
        if weights is not None:
            self.load_weights(weights, sha256)
        self.requires_grad_(False)
        self.eval()

    def load_weights(self, path: str | Path, sha256: str = "") -> None:
        """Load ``features.*`` tensors from a torchvision-layout state dict (``classifier.*`` ignored)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"VGG19 weights not found at {path}: download torchvision's vgg19-dcbb9e9d.pth yourself and "
                "pass its path (family.vgg_weights), or set family.vgg_weight=0"
            )
        if sha256:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != sha256:
                raise ValueError(f"{path}: sha256 {digest} does not match the expected {sha256}")
        from vidgan.io.safe_load import load_tensors

        state = load_tensors(path, "VGG19 weights")
        own = self.state_dict()
        sub = {k: v for k, v in state.items() if k in own}
        missing = [k for k in own if k not in sub]
        if missing:
            raise KeyError(f"{path}: not a torchvision VGG19 state dict, missing {missing[:4]}")
        self.load_state_dict(sub)

    def forward(self, x: Tensor) -> list[Tensor]:
        if self.preprocess == "torchvision":
            mean = x.new_tensor(_MEAN).view(1, 3, 1, 1)
            x = (x - mean) / x.new_tensor(_STD).view(1, 3, 1, 1)
        else:
            x = x * 255.0 - x.new_tensor(_CAFFE_MEAN).view(1, 3, 1, 1)
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.layers:
                out.append(x)
        return out


def cosine_feature_loss(feats_a: list[Tensor], feats_b: list[Tensor], eps: float = 1e-12) -> Tensor:
    """Sum over layers of ``1 - mean_locations(cos(a, b))`` with channel-normalised features."""
    total = feats_a[0].new_zeros(())
    for a, b in zip(feats_a, feats_b, strict=True):
        an = a * torch.rsqrt((a * a).sum(1, keepdim=True) + eps)
        bn = b * torch.rsqrt((b * b).sum(1, keepdim=True) + eps)
        total = total + (1.0 - (an * bn).sum(1).mean())
    return total
