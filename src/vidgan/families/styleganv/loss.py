"""StyleGAN-V objective (official ``StyleGAN2Loss`` with sparse video clips; spec §2.3, §2.4, §4, §5.1).

Phases (contract v2): ``Gmain`` (G), ``Dmain`` (D), ``Dreg`` (D, every ``r1_interval``, lazy: the engine multiplies
the returned plain R1 term γ/2·E‖∇‖² by the interval and corrects the D optimizer). The official ``Greg`` phase
computes nothing (pl_weight = 0) but still gives the G optimizer the lazy correction; ``build`` applies that
correction to the G optimizer directly (lr·4/5, β^(4/5)), so no empty phase is declared.

* G: mean softplus(−D(G(z, t_fake))); D: mean softplus(D(fake)) + mean softplus(−D(real)), fakes made
  without grad; R1 on the un-augmented real pixels, per frame ‖∇‖² summed over C, H, W, ×γ/2, averaged over
  each video's frames, then over videos. γ auto = 0.0002·R²/B_total (videos).
* Each phase draws its own z, fake times (random3_max32 with a shared fractional offset) and motion noise
  from ``ctx.generator``; ``ctx.cache["gen_z" | "gen_t" | "gen_motion_z"]`` override them (golden tests).
* ADA ``bgc`` (video-consistent) on every D input; p is adjusted in :meth:`end_iteration` every
  ``ada_interval`` iterations from the mean sign of the real logits; p and the pending sign sums are state.

Batch (``random_t`` sampler): ``video`` uint8 (B, C, F, H, W), ``times`` int64 (B, F). A batch without
``times`` (the ``clips`` sampler, consecutive frames) is given times 0..F−1 (only the D of the MoCoGAN
baseline, which ignores them, is run on such batches).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from vidgan.core import dist
from vidgan.families.api import Phase, StepContext
from vidgan.losses.gan import d_loss, double_backward_precision, g_loss, grad_sqnorm

from .augment import AugmentPipe
from .config import Config
from .layers import double_backward_safe

__all__ = ["StyleGANVObjective", "fake_times", "real_batch", "auto_r1_gamma"]


def _parts(logits: Tensor | tuple[Tensor, ...]) -> list[Tensor]:
    """D outputs: one logit tensor (StyleGAN-V) or (image logits, video logits) (MoCoGAN+SG2)."""
    return list(logits) if isinstance(logits, tuple | list) else [logits]


TOTAL_DISTS = tuple(2**i for i in range(12))


def auto_r1_gamma(resolution: int, batch_total: int) -> float:
    """γ = 0.0002·R²/B (spec §2.3): 0.2048 at 256² with 64 videos."""
    return 0.0002 * resolution**2 / max(batch_total, 1)


def fake_times(
    n: int,
    num_frames: int,
    video_len: int,
    max_dist: int,
    generator: torch.Generator | None,
    kind: str = "random",
    fractional: bool = True,
) -> Tensor:
    """Generator clip times (float64 (n, F)), drawn as the official sampler with ``use_fractional_t``.

    ``random``: span D uniform over {d ∈ 1, 2, 4, … : F−1 ≤ d ≤ min(L−1, max_dist)}, offset o uniform in
    [0, L−D−1] (real-valued when ``fractional``), frames o, o + D and F−2 distinct interior offsets, sorted;
    ``uniform``: step d uniform over {d ∈ 1, 2, 4, … : d ≤ max_dist, d(F−1)+1 ≤ L}, frames o + k·d.
    """
    dev = generator.device if generator is not None else None
    out = torch.empty(n, num_frames, dtype=torch.float64)

    def uniform() -> float:
        return float(torch.rand((), generator=generator, device=dev, dtype=torch.float64))

    def randint(hi: int) -> int:  # [0, hi)
        return int(torch.randint(0, hi, (1,), generator=generator, device=dev))

    for i in range(n):
        if num_frames == 1:
            o = uniform() * (video_len - 1) if fractional else randint(video_len)
            out[i, 0] = o
            continue
        if kind == "random":
            dists = [d for d in TOTAL_DISTS if num_frames - 1 <= d <= min(video_len - 1, max_dist)]
            if not dists:
                raise ValueError(f"styleganv: fake videos of {video_len} frames cannot hold {num_frames} frames")
            d = dists[randint(len(dists))]
            o = uniform() * (video_len - d - 1) if fractional else float(randint(video_len - d))
            inner = torch.randperm(d - 1, generator=generator, device=dev)[: num_frames - 2].cpu() + 1
            ks = sorted([0, d, *inner.tolist()])
            out[i] = torch.tensor([o + k for k in ks], dtype=torch.float64)
        elif kind == "uniform":
            dists = [d for d in TOTAL_DISTS if d <= max_dist and d * (num_frames - 1) + 1 <= video_len]
            if not dists:
                raise ValueError(f"styleganv: no frame step fits {num_frames} frames in {video_len}")
            d = dists[randint(len(dists))]
            span = d * (num_frames - 1)
            o = uniform() * (video_len - span - 1) if fractional else float(randint(video_len - span))
            out[i] = o + d * torch.arange(num_frames, dtype=torch.float64)
        else:
            raise ValueError(f"styleganv: unknown fake sampler {kind!r}")
    return out


def real_batch(batch: Mapping[str, Any], device: torch.device) -> tuple[Tensor, Tensor]:
    """uint8 ``video`` (B, C, F, H, W) → float frames (B·F, C, H, W) in [-1, 1] video-major, times (B, F)."""
    video = batch["video"]
    if video.ndim != 5:
        raise ValueError(f"styleganv: batch['video'] must be (B, C, F, H, W), got {tuple(video.shape)}")
    b, c, f, h, w = video.shape
    x = video.to(device).permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
    x = x.to(torch.float32) / 127.5 - 1 if video.dtype == torch.uint8 else x.to(torch.float32)
    times = batch.get("times")
    if times is None:
        times = torch.arange(f, device=device).expand(b, f)
    return x, times.to(device)


class StyleGANVObjective:
    def __init__(self, cfg: Config, resolution: int, num_frames: int, max_dist: int, gen_video_len: int) -> None:
        self.cfg, self.resolution, self.num_frames = cfg, resolution, num_frames
        self.max_dist, self.gen_video_len = max_dist, gen_video_len
        phases = [Phase("Gmain", "G", ("generator",))]
        phases.append(Phase("Dmain", "D", ("discriminator",)))
        phases.append(Phase("Dreg", "D", ("discriminator",), interval=cfg.r1_interval, lazy=cfg.r1_interval > 1))
        self.phases = tuple(phases)
        self.augment = AugmentPipe(cfg.img_channels) if cfg.aug != "noaug" else None
        self.p = float(cfg.aug_p) if cfg.aug != "noaug" else 0.0
        self.sign_sum, self.sign_count = 0.0, 0
        self.iterations = 0  # iterations since the start (drives the ADA interval)

    # ------------------------------------------------------------------ helpers
    def r1_gamma(self, ctx: StepContext, batch_videos: int) -> float:
        if self.cfg.r1_gamma >= 0:
            return float(self.cfg.r1_gamma)
        per_rank = ctx.batch_size if ctx.batch_size > 0 else batch_videos * max(ctx.rounds, 1)
        return auto_r1_gamma(self.resolution, per_rank * dist.world_size())

    def _draw_fakes(
        self, gen: nn.Module, n: int, ctx: StepContext, device: torch.device, grad: bool, update_w_avg: bool
    ):
        cache = ctx.cache
        z = cache.get("gen_z")
        if z is None:
            z = torch.randn(n, self.cfg.z_dim, generator=ctx.generator, device=ctx.generator.device)
        t = cache.get("gen_t")
        if t is None:
            t = fake_times(
                n,
                self.num_frames,
                self.gen_video_len,
                self.max_dist,
                ctx.generator,
                kind=self.cfg.fake_sampler,
                fractional=self.cfg.arch == "styleganv",
            )
        mz = cache.get("gen_motion_z")
        g = getattr(gen, "module", gen)
        if mz is None:
            mz = g.motion_encoder.draw_noise(n, float(t.max()), ctx.generator, device=device)
        z, t, mz = z.to(device), t.to(device), mz.to(device)
        with torch.set_grad_enabled(grad):
            img = gen(z, t, motion_z=mz, update_w_avg=update_w_avg)
        return img, t

    def _run_d(self, dis: nn.Module, img: Tensor, t: Tensor, ctx: StepContext) -> Tensor:
        if self.augment is not None and self.p > 0:
            n, c, h, w = img.shape
            b = t.shape[0]
            vid = img.reshape(b, -1, h, w)  # frames stacked as channels: one warp per video
            vid = self.augment(vid, self.p, ctx.generator)
            img = vid.reshape(n, c, h, w)
        return dis(img, t)

    def _report(self, ctx: StepContext, phase: str, **values: Tensor) -> None:
        rep = ctx.cache.setdefault("report", {}).setdefault(phase, {})
        for k, v in values.items():
            rep[k] = v.detach()

    def _track_signs(self, logits: Tensor) -> None:
        s = logits.detach().float().sign()
        self.sign_sum += float(s.sum())
        self.sign_count += int(s.numel())

    # ------------------------------------------------------------------ phases
    def __call__(
        self, phase: str, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext
    ) -> dict[str, Tensor]:
        gen, dis = modules["generator"], modules["discriminator"]
        device = next(dis.parameters()).device
        n = batch["video"].shape[0]
        if phase == "Gmain":
            img, t = self._draw_fakes(gen, n, ctx, device, grad=True, update_w_avg=True)
            parts = _parts(self._run_d(dis, img, t, ctx))
            loss = g_loss("logistic", parts[0], reduce=False)
            self._report(ctx, phase, **{"scores/fake": parts[0], "G/loss": loss})
            ctx.logs["G/scores_fake"] = parts[0].detach().float().mean()
            out = {"loss_G": loss.mean()}
            if len(parts) > 1:
                out["loss_G_video"] = g_loss("logistic", parts[1])
            return out
        if phase == "Dmain":
            upd = self.cfg.w_avg_updates == "official"
            img, t = self._draw_fakes(gen, n, ctx, device, grad=False, update_w_avg=upd)
            fake_parts = _parts(self._run_d(dis, img.detach(), t, ctx))
            real, real_t = real_batch(batch, device)
            real_parts = _parts(self._run_d(dis, real.detach(), real_t, ctx))
            fake_logits, real_logits = fake_parts[0], real_parts[0]
            terms = d_loss("logistic", real_logits, fake_logits, reduce=False)
            self._report(
                ctx,
                phase,
                **{"scores/fake": fake_logits, "scores/real": real_logits, "D/loss": terms["fake"] + terms["real"]},
            )
            self._track_signs(real_logits)
            ctx.logs["D/scores_real"] = real_logits.detach().float().mean()
            ctx.logs["D/scores_fake"] = fake_logits.detach().float().mean()
            ctx.logs["ada_p"] = self.p
            out = {"loss_Dgen": terms["fake"].mean(), "loss_Dreal": terms["real"].mean()}
            if len(fake_parts) > 1:
                vterms = d_loss("logistic", real_parts[1], fake_parts[1])
                out["loss_Dgen_video"], out["loss_Dreal_video"] = vterms["fake"], vterms["real"]
            return out
        if phase == "Dreg":
            real, real_t = real_batch(batch, device)
            real = real.detach().requires_grad_(True)
            # R1 differentiates the input gradient: plain autograd convs, and fp32 under CPU bf16 autocast (torch's
            # CPU bf16 double backward gives wrong weight gradients here; bf16 convs with a correct double backward,
            # losses.gan.double_backward_convs, measured 5-200 % off on this D: fp32 it stays)
            with double_backward_safe(), double_backward_precision():
                parts = _parts(self._run_d(dis, real, real_t, ctx))
            logits = parts[0]
            gamma = self.r1_gamma(ctx, n)
            pen = grad_sqnorm(parts, [real])  # (B·F,) per frame, summed over C, H, W
            per_video = pen.view(n, -1).mean(dim=1) * (gamma / 2)
            self._report(ctx, phase, **{"scores/real": logits, "r1_penalty": pen, "D/reg": per_video})
            self._track_signs(logits)
            ctx.logs["D/r1_penalty"] = pen.detach().mean()
            return {"loss_r1": per_video.mean() + sum(p.sum() for p in parts) * 0}
        raise ValueError(f"styleganv objective: unknown phase {phase!r}")

    # ------------------------------------------------------------------ ADA
    def end_iteration(self, modules: Mapping[str, nn.Module], ctx: StepContext) -> None:
        """ADA: every ``ada_interval`` iterations p += sign(E[sign(D(real))] − target)·B·interval/(ada_kimg·1000)."""
        self.iterations += 1
        if self.cfg.aug != "ada" or self.iterations % self.cfg.ada_interval:
            return
        if self.sign_count == 0:
            return
        batch_total = (ctx.batch_size or 1) * dist.world_size()
        rt = self.sign_sum / self.sign_count
        adjust = (
            float(np.sign(rt - self.cfg.ada_target))
            * (batch_total * self.cfg.ada_interval)
            / (self.cfg.ada_kimg * 1000)
        )
        self.p = max(self.p + adjust, 0.0)
        ctx.logs["ada_rt"] = rt
        self.sign_sum, self.sign_count = 0.0, 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "ada_p": self.p,
            "ada_sign_sum": self.sign_sum,
            "ada_sign_count": self.sign_count,
            "iterations": self.iterations,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if not state:
            return
        self.p = float(state.get("ada_p", self.p))
        self.sign_sum = float(state.get("ada_sign_sum", 0.0))
        self.sign_count = int(state.get("ada_sign_count", 0))
        self.iterations = int(state.get("iterations", 0))
