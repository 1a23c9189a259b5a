"""TGANv2 objective (official ``DiracUpdater``, spec §3): non-saturating logistic loss per level on the
concatenated level logits + R1 on the real levels; G step first, then D on the same (detached) fakes.

Batch (from the ``multilevel`` sampler): ``{"video": uint8 (B, C, T, H, W), "levels": [x_1..x_4] float32
(B, C, T_l, S_l, S_l) in [-1, 1] ((u8 - 128) / 128, box-averaged), "offsets": int64 (B, 3)}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from vidgan.families.api import Phase, StepContext
from vidgan.losses.gan import d_loss, double_backward_convs, g_loss
from vidgan.nn.double_backward import input_grads_only

from .config import Config

__all__ = ["TGANv2Objective", "draw_offsets", "gan_losses", "r1_penalty", "real_levels"]


def draw_offsets(cfg: Config, generator: torch.Generator | None) -> list[int]:
    """One frame offset per subsampling layer, o ~ U{0..s-1}, shared by the batch (spec §1.5); drawn from
    a seeded ``torch.Generator`` instead of numpy's global RNG (spec §11, per-rank seeds)."""
    device = generator.device if generator is not None else None
    return [int(torch.randint(0, s, (1,), generator=generator, device=device).item()) for s in cfg.subsample_frame]


def gan_losses(
    y_real: Sequence[Tensor] | None, y_fake: Sequence[Tensor], level_loss: str = "concat"
) -> tuple[Tensor | None, Tensor]:
    """(loss_dis_adv, loss_gen) from per-level logits [(N_l, 1)].

    "concat" (official code): mean softplus over the logits concatenated along the batch axis, so each
    level is weighted by its batch count. "sum_sigmoid" (paper figure, untested): sigma(sum_l D_l).
    """
    if level_loss == "concat":
        fake = torch.cat(list(y_fake))
        real = torch.cat(list(y_real)) if y_real is not None else None
    elif level_loss == "sum_sigmoid":
        fake = torch.stack(list(y_fake)).sum(0)
        real = torch.stack(list(y_real)).sum(0) if y_real is not None else None
    else:
        raise ValueError(f"tganv2: level_loss must be 'concat' or 'sum_sigmoid', got {level_loss!r}")
    loss_gen = g_loss("logistic", fake)  # mean softplus(-D(G(z)))
    loss_dis = None
    if real is not None:
        d = d_loss("logistic", real, fake)  # mean softplus(-D(x)) + mean softplus(D(G(z)))
        loss_dis = d["real"] + d["fake"]
    return loss_dis, loss_gen


def r1_penalty(y_real: Sequence[Tensor], x_real: Sequence[Tensor], cfg: Config) -> tuple[Tensor, list[Tensor]]:
    """R1 on real inputs with double back-prop (``create_graph``); returns (penalty, input gradients).

    "sum" (official): lam * sum_{l,i} ||d sum(y) / d x_{l,i}||^2; "mean": r1_gamma_half * mean over the
    (l, i) entries (batch-independent; equals "sum" when r1_gamma_half = lam * sum_l N_l, spec §3.2).
    """
    total = sum(y.float().sum() for y in y_real)
    with input_grads_only():
        grads = list(torch.autograd.grad(total, list(x_real), create_graph=True))
    per_sample = torch.cat([g.float().pow(2).flatten(1).sum(1) for g in grads])
    if cfg.r1_reduction == "sum":
        return cfg.lam * per_sample.sum(), grads
    if cfg.r1_reduction == "mean":
        return cfg.r1_gamma_half * per_sample.mean(), grads
    raise ValueError(f"tganv2: r1_reduction must be 'mean' or 'sum', got {cfg.r1_reduction!r}")


def real_levels(batch: Mapping[str, Any], cfg: Config) -> list[Tensor]:
    """The 4 real level videos of a batch, batch-subsampled with strides 1, b1, b1*b2, b1*b2*b3."""
    levels = batch.get("levels") if isinstance(batch, Mapping) else None
    if levels is None or len(levels) != 4:
        got = "no 'levels'" if levels is None else f"{len(levels)} levels"
        raise ValueError(
            f"tganv2: the batch needs 'levels' with 4 videos ({got}); set data.sampler='multilevel' and "
            f"data.subsample_frame={list(cfg.subsample_frame)}"
        )
    out, stride = [], 1
    sizes, frames = cfg.level_sizes, cfg.level_frames
    for lvl, x in enumerate(levels):
        if lvl > 0:
            stride *= cfg.subsample_batch[lvl - 1]
        want = (cfg.out_channels, frames[lvl], sizes[lvl], sizes[lvl])
        if cfg.out_channels == 1 and x.shape[1] == 3:  # grey models (the port's Moving MNIST) on RGB data
            x = x.mean(dim=1, keepdim=True)
        if tuple(x.shape[1:]) != want:
            raise ValueError(
                f"tganv2: real level {lvl + 1} has shape {tuple(x.shape)}, expected (B, *{want}); check "
                f"data.frames={cfg.n_frames}, data.size={cfg.image_size}, data.subsample_frame"
            )
        out.append(x[::stride].float())
    return out


class TGANv2Objective:
    """Phases G then D (official order) or D then G (``update_order='d_first'``, the port's order).

    Random draws per iteration come from ``ctx.generator``: the 3 frame offsets (shared by the batch) and
    z ~ U[-1, 1]; ``ctx.cache["z"]`` / ``ctx.cache["offsets"]`` set before the first phase override them.
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        g = Phase("G", "G", ("generator",))
        d = Phase("D", "D", ("discriminator",))
        self.phases = (g, d) if cfg.update_order == "g_first" else (d, g)

    def _latents(self, n: int, ctx: StepContext, device: torch.device) -> Tensor:
        if "z" in ctx.cache:  # injected latents (golden tests, reproductions)
            return ctx.cache["z"].to(device)
        z = torch.rand(n, self.cfg.z_slow_dim, generator=ctx.generator, device=ctx.generator.device)
        return (z * 2 - 1).to(device)  # U[-1, 1] as the official make_hidden

    def _fakes(self, gen: nn.Module, n: int, ctx: StepContext, device: torch.device) -> list[Tensor]:
        offsets = ctx.cache.get("offsets")  # injected offsets (golden tests), else drawn per batch
        if offsets is None:
            offsets = draw_offsets(self.cfg, ctx.generator)
            ctx.cache["offsets"] = offsets
        return gen(self._latents(n, ctx, device), offsets)

    def __call__(
        self, phase: str, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext
    ) -> dict[str, Tensor]:
        gen, dis = modules["generator"], modules["discriminator"]
        reals = real_levels(batch, self.cfg)
        n, device = reals[0].shape[0], reals[0].device
        if phase == "G":
            fakes = self._fakes(gen, n, ctx, device)
            _, loss_gen = gan_losses(None, dis(fakes), self.cfg.level_loss)
            if self.cfg.update_order == "g_first":
                # D reuses these fakes: G before its update, as the official single forward (spec §3.3)
                ctx.cache["fakes"] = [f.detach() for f in fakes]
            return {"loss_gen": loss_gen}
        if phase == "D":
            fakes = ctx.cache.get("fakes")
            if fakes is None:  # d_first: draw fakes without building G's graph
                with torch.no_grad():
                    fakes = self._fakes(gen, n, ctx, device)
            x_real = [x.detach().requires_grad_(True) for x in reals]
            # Two D calls, reals then fakes, as the official code. (One call on [real; fake] was tried: R1's
            # input-gradient pass and its double backward then run through the fake half too; measured on the port
            # preset's D phase, 2 threads, quiet: 0.70 -> 0.58 s at batch 8, 2.91 -> 1.99 s at batch 32.)
            with double_backward_convs():  # CPU bf16: convs whose double backward is correct (losses.gan)
                y_real = dis(x_real)
            y_fake = dis([f.detach() for f in fakes])
            loss_dis, _ = gan_losses(y_real, y_fake, self.cfg.level_loss)
            loss_gp, grads = r1_penalty(y_real, x_real, self.cfg)
            ctx.logs["g"] = grads[-1].detach().float().mean()  # official "g": last level's mean
            n_entries = sum(x.shape[0] for x in x_real)
            ctx.logs["r1_gamma_half_effective"] = (
                self.cfg.lam * n_entries if self.cfg.r1_reduction == "sum" else self.cfg.r1_gamma_half
            )
            assert loss_dis is not None
            return {"loss_dis": loss_dis, "loss_gp": loss_gp}
        raise ValueError(f"tganv2 objective: unknown phase {phase!r} (expected 'G' or 'D')")

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        return None
