"""toy_translate: a two-way video translation GAN written against vidgan's family contract only.

G_ab, G_ba: tiny recurrent conv generators, frame t sees (source_t, previous output). D_a, D_b: per-frame
PatchGAN-like critics. Losses: LSGAN adversarial + cycle L1 (CycleGAN), R1 on real frames every 4 iterations
(lazy, StyleGAN2 convention: the engine scales the term and the D optimizer), gradient accumulation in 2
rounds in the ``tiny`` preset. Batches come from vidgan's ``translation`` sampler: ``source`` (domain A) and
``target`` (domain B), uint8 (B, C, T, H, W).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from vidgan.core.video import fold_time, to_model
from vidgan.families.api import DataSpec, FamilyConfig, Parts, Phase, StepContext, StreamOptions, require
from vidgan.losses.gan import d_loss, double_backward_precision, g_loss, r1_penalty


@dataclass(frozen=True)
class Config(FamilyConfig):
    name: str = "toy_translate"
    task: str = "translation"
    width: int = 8
    cycle_weight: float = 10.0
    r1_gamma: float = 1.0
    r1_interval: int = 4
    lr: float = 2e-4


_DATA = {
    "source": "moving-digits:num_videos=12,video_frames=8",
    "target": "bouncing-shapes:num_videos=12,video_frames=8",
    "sampler": "translation",
    "pairing": "unpaired",
    "frames": 4,
    "size": 16,
}
PRESETS = {"tiny": {"data": _DATA, "train": {"batch_size": 4, "accumulate": 2, "sample_num": 2}}}
DEFAULT_PRESET = "tiny"
DATA_SAMPLERS = ("translation",)


class Generator(nn.Module):
    """(x_t, previous output) -> y_t, all (N, 3, H, W) in [-1, 1]."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(6, width, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(width, 3, 3, padding=1), nn.Tanh()
        )

    def forward(self, x: Tensor, prev: Tensor) -> Tensor:
        return self.net(torch.cat([x, prev], dim=1))

    def unroll(self, video: Tensor) -> Tensor:
        """(B, C, T, H, W) -> (B, C, T, H, W); the first frame sees zeros as its previous output."""
        prev, out = torch.zeros_like(video[:, :, 0]), []
        for t in range(video.shape[2]):
            prev = self(video[:, :, t], prev)
            out.append(prev)
        return torch.stack(out, dim=2)


def critic(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(width, 1, 3, padding=1)
    )


class Objective:
    phases = (
        Phase("G", "G", ("g_ab", "g_ba")),
        Phase("D", "D", ("d_a", "d_b")),
        Phase("Dreg", "D", ("d_a", "d_b"), interval=4, lazy=True),
    )

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def __call__(self, phase: str, batch: Mapping[str, Any], m: Mapping[str, nn.Module], ctx: StepContext):
        a, b = to_model(batch["source"]), to_model(batch["target"])
        if phase == "G":
            fake_b, fake_a = m["g_ab"].unroll(a), m["g_ba"].unroll(b)
            ctx.cache["fakes"] = (fake_a.detach(), fake_b.detach())
            cycle = (m["g_ba"].unroll(fake_b) - a).abs().mean() + (m["g_ab"].unroll(fake_a) - b).abs().mean()
            adv = g_loss("lsgan", m["d_b"](fold_time(fake_b))) + g_loss("lsgan", m["d_a"](fold_time(fake_a)))
            return {"adv": adv, "cycle": self.cfg.cycle_weight * cycle}
        if phase == "D":
            fake_a, fake_b = ctx.cache["fakes"]
            terms = {}
            for name, real, fake in (("a", a, fake_a), ("b", b, fake_b)):
                parts = d_loss("lsgan", m[f"d_{name}"](fold_time(real)), m[f"d_{name}"](fold_time(fake)))
                terms[f"{name}_real"], terms[f"{name}_fake"] = 0.5 * parts["real"], 0.5 * parts["fake"]
            return terms
        reals = {"a": fold_time(a).requires_grad_(True), "b": fold_time(b).requires_grad_(True)}
        with double_backward_precision():  # R1's double backward in fp32 under CPU bf16 (losses.gan)
            logits = {k: m[f"d_{k}"](x) for k, x in reals.items()}
        return {f"r1_{k}": r1_penalty(logits[k], x, self.cfg.r1_gamma) for k, x in reals.items()}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


class Stream:
    """One frame in, one frame out; the previous output is the only state (constant memory)."""

    scale = 1

    def __init__(self, gen: nn.Module, dtype: str) -> None:
        self.gen, self.dtype = gen, dtype

    @torch.no_grad()
    def __call__(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        prev = None
        for frame in frames:
            x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float() / 127.5 - 1.0
            prev = torch.zeros_like(x) if prev is None else prev
            with torch.autocast("cpu", torch.bfloat16, enabled=self.dtype == "bf16"):
                prev = self.gen(x, prev).float()
            yield ((prev[0] + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def _stream(modules: Mapping[str, nn.Module], options: StreamOptions) -> Stream:
    role = {"": "g_ab", "AtoB": "g_ab", "BtoA": "g_ba"}.get(options.direction)
    if role is None:
        raise ValueError(f"--direction {options.direction}: use AtoB or BtoA")
    return Stream(modules[role], options.dtype)


def _preview(modules: Mapping[str, nn.Module], batch: Mapping[str, Any]) -> Tensor:
    a = to_model(batch["source"])
    with torch.no_grad():
        return torch.cat([a, modules["g_ab"].unroll(a)], dim=-1)


def build(cfg: Config, data: DataSpec) -> Parts:
    require(data.size % 2 == 0, "family.name=toy_translate", f"data.size={data.size}", "use an even size")
    modules = {
        "g_ab": Generator(cfg.width),
        "g_ba": Generator(cfg.width),
        "d_a": critic(cfg.width),
        "d_b": critic(cfg.width),
    }
    g_params = [*modules["g_ab"].parameters(), *modules["g_ba"].parameters()]
    d_params = [*modules["d_a"].parameters(), *modules["d_b"].parameters()]
    return Parts(
        modules=modules,
        optimizers={
            "G": torch.optim.Adam(g_params, lr=cfg.lr, betas=(0.5, 0.999)),
            "D": torch.optim.Adam(d_params, lr=cfg.lr, betas=(0.5, 0.999)),
        },
        objective=Objective(cfg),
        ema=None,
        stream=_stream,
        stream_roles=("g_ab", "g_ba"),
        eval_keys=("source", "target"),
        preview=_preview,
        preview_labels=("A", "A->B"),
    )


__all__ = ["Config", "PRESETS", "DEFAULT_PRESET", "DATA_SAMPLERS", "build"]
