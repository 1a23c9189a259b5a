"""CycleGAN's image pool (Shrivastava et al. 2017): D sees a history of generated images.

``pool.query(images)`` (N, ...) returns N images: while the pool holds fewer than ``size`` images each new
image is stored and returned; afterwards, with probability 1/2 a new image replaces a random stored one and
the stored one is returned, otherwise the new image is returned. Randomness comes from the ``generator``
passed in (the engine's per-round generator), so a resumed run repeats the draws; the pool itself is saved
through ``state_dict``. ``size=0`` disables the pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

__all__ = ["ImagePool"]


class ImagePool:
    def __init__(self, size: int = 50) -> None:
        self.size = int(size)
        self.images: list[Tensor] = []

    @torch.no_grad()
    def query(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if self.size == 0:
            return images
        out = []
        for img in images.detach():
            img = img.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
                continue
            u = torch.rand((), generator=generator, device=generator.device if generator is not None else "cpu")
            if float(u) > 0.5:
                j = int(torch.randint(len(self.images), (), generator=generator, device=u.device))
                old = self.images[j].clone()
                self.images[j] = img.clone()
                out.append(old.to(img.device))
            else:
                out.append(img)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "images": [t.cpu() for t in self.images]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.size = int(state.get("size", self.size))
        self.images = [t.clone() for t in state.get("images", [])]
