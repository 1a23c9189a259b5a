"""TecoGAN objective (spec §6): content, LR warp, VGG19 cosine, ping-pong, spatio-temporal GAN,
D-feature losses, and the Dbalance gate.

Phases per iteration (official order, spec §6.3): ``D`` then ``G``. The D phase runs G without grad,
D on the real and the (detached) fake triplets, updates the balance statistic and returns ``{}`` when
the gate says "skip D". The G phase re-runs G with grad (the NNabla port's order: a fresh forward after
the D step) and returns the generator terms; the warp term only reaches FNet (it depends on the LR
flow alone), so one Adam over SRNet + FNet equals the official separate G / FNet Adams.

Ranges: batches arrive in [-1, 1]; FRNet and D work in [0, 1] (port layout); the official losses are
taken in [-1, 1] (content, ping-pong) and LR [0, 1] (warp); ``pixel_loss="charbonnier"`` is the port's
recipe (Charbonnier means in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidgan.core import dist
from vidgan.core.video import fold_time
from vidgan.families.api import Phase, StepContext
from vidgan.losses.perceptual import VGG19Features, cosine_feature_loss
from vidgan.losses.temporal import channel_sum_l2, charbonnier, pingpong_extend, pingpong_loss, warp_loss

from .config import Config
from .discriminator import assemble_triplets, merge_flows

__all__ = ["TecoObjective", "d_flows", "balance_statistic", "DFEAT_NORMS"]

DFEAT_NORMS = (12.0, 14.0, 24.0, 100.0)  # official per-block divisors of the D-feature loss


@torch.no_grad()
def d_flows(generator: nn.Module, lr: Tensor, hr_flow: Tensor, pingpong: bool) -> Tensor:
    """Detached per-frame triplet flows ``(B, n_trip, 3, 2, H, W)`` for D (see ``merge_flows``).

    lr ``(B, C, T, h, w)`` [0, 1]; hr_flow ``(B, 2, T-1, H, W)`` from ``forward_sequence``. Without
    ping-pong, FNet runs once more on (frame 3k+1, frame 3k+2) for the forward flows.
    """
    t = lr.shape[2]
    hr_flow = hr_flow.detach()
    if pingpong:
        return merge_flows(hr_flow, t)
    n_trip = t // 3
    b, c, _, h, w = lr.shape
    cur = lr[:, :, 1 : 3 * n_trip : 3].transpose(1, 2).reshape(b * n_trip, c, h, w)
    nxt = lr[:, :, 2 : 3 * n_trip : 3].transpose(1, 2).reshape(b * n_trip, c, h, w)
    fw = generator.hr_flow(generator.flow(cur, nxt))  # (B*n_trip, 2, H, W)
    fw = fw.view(b, n_trip, 2, *fw.shape[-2:]).transpose(1, 2)
    return merge_flows(hr_flow, t, fw)


def balance_statistic(real_logit: Tensor, fake_logit: Tensor, eps: float = 1e-8) -> Tensor:
    """t_balance = mean log(D(real) + eps) - mean log(D(fake) + eps), D = sigmoid(logit) (spec §6.3)."""
    return torch.log(torch.sigmoid(real_logit) + eps).mean() - torch.log(torch.sigmoid(fake_logit) + eps).mean()


class TecoObjective:
    """The family :class:`~vidgan.families.api.Objective`. State: the Dbalance EMA and branch counters."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        use_d = cfg.discriminator
        self.phases = (
            (Phase("D", "D", ("discriminator",)), Phase("G", "G", ("generator",)))
            if use_d
            else (Phase("G", "G", ("generator",)),)
        )
        self.balance_ema = 0.0  # EMA starting at 0 (NNabla; D trains on the first step)
        self.d_updates = 0
        self.d_skips = 0
        self._vgg: VGG19Features | None = None

    # ---- state (exact resume) ----
    def state_dict(self) -> dict[str, Any]:
        return {"balance_ema": self.balance_ema, "d_updates": self.d_updates, "d_skips": self.d_skips}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.balance_ema = float(state.get("balance_ema", 0.0))
        self.d_updates = int(state.get("d_updates", 0))
        self.d_skips = int(state.get("d_skips", 0))

    # ---- helpers ----
    def _vgg_net(self, device: torch.device) -> VGG19Features:
        if self._vgg is None:
            w = self.cfg.vgg_weights
            if not w:
                raise ValueError(
                    "family.vgg_weight > 0 needs family.vgg_weights=<path to vgg19-dcbb9e9d.pth> "
                    "(torchvision layout; never downloaded at run time), or set family.vgg_weight=0"
                )
            # Built lazily, so "random" weights (tests) must not depend on when it is first needed: a fixed
            # seed, outside the global RNG stream, keeps a resumed run identical to an uninterrupted one.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0x5EED)
                self._vgg = VGG19Features(
                    None if w == "random" else w, preprocess=self.cfg.vgg_preprocess, sha256=self.cfg.vgg_sha256
                )
        return self._vgg.to(device)

    def prepare(self, batch: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
        """batch lr/hr ``(B, C, T, .)`` in [-1, 1] -> (lr [0, 1], hr [0, 1]), ping-pong extended if on."""
        lr = (batch["lr"].float() + 1.0) / 2.0
        hr = (batch["hr"].float() + 1.0) / 2.0
        if self.cfg.pingpong:
            lr, hr = pingpong_extend(lr), pingpong_extend(hr)
        return lr, hr

    def _d_pass(self, disc: nn.Module, frames: Tensor, lr: Tensor, flows: Tensor) -> tuple[Tensor, list[Tensor]]:
        disc.train()  # batch statistics, as both codes (real and fake in separate calls)
        x = assemble_triplets(frames, lr, flows, disc.upsample_func, self.cfg.crop_border_ratio, self.cfg.compat)
        return disc(x)

    # ---- the phases ----
    def __call__(
        self, phase: str, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext
    ) -> dict[str, Tensor]:
        if phase == "D":
            return self.d_phase(batch, modules, ctx)
        if phase == "G":
            return self.g_phase(batch, modules, ctx)
        raise KeyError(f"TecoGAN objective has phases {[p.name for p in self.phases]}, got {phase!r}")

    def d_phase(self, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext) -> dict:
        cfg, gen, disc = self.cfg, modules["generator"], modules["discriminator"]
        lr, hr = self.prepare(batch)
        with torch.no_grad():
            out = gen.forward_sequence(lr)
        flows = d_flows(gen, lr, out["hr_flow"], cfg.pingpong)
        real_logit, _ = self._d_pass(disc, hr, lr, flows)
        fake_logit, _ = self._d_pass(disc, out["hr"].detach(), lr, flows)
        t_bal_t = balance_statistic(real_logit.detach(), fake_logit.detach())
        if dist.is_dist():  # one gate for all ranks (a rank skipping D alone would hang the grad all-reduce)
            torch.distributed.all_reduce(t_bal_t)
            t_bal_t = t_bal_t / dist.world_size()
        t_bal = float(t_bal_t)
        if cfg.balance == "ema":
            self.balance_ema = cfg.balance_decay * self.balance_ema + (1.0 - cfg.balance_decay) * t_bal
            gate = self.balance_ema
        else:
            gate = t_bal
        update = cfg.balance == "off" or gate < cfg.balance_threshold
        ctx.logs.update(
            {
                "D/t_balance": t_bal,
                "D/balance_gate": gate,
                "D/real_logit": real_logit.detach().mean(),
                "D/fake_logit": fake_logit.detach().mean(),
                "D/updated": float(update),
            }
        )
        if not update:
            self.d_skips += 1
            return {}
        self.d_updates += 1
        return {
            "real": F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit)),
            "fake": F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)),
        }

    def g_phase(self, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext) -> dict:
        cfg, gen = self.cfg, modules["generator"]
        lr, hr = self.prepare(batch)
        out = gen.forward_sequence(lr)
        fake = out["hr"]  # [0, 1] space, unclamped
        terms: dict[str, Tensor] = {}
        cb = cfg.pixel_loss == "charbonnier"
        if cfg.content_weight:
            # official: channel-sum L2 in [-1, 1] (x -> 2x - 1 scales the difference by 2)
            c = charbonnier(fake, hr) if cb else channel_sum_l2(2 * fake, 2 * hr)
            terms["content"] = cfg.content_weight * c
        if cfg.warp_weight:
            terms["warp"] = cfg.warp_weight * warp_loss(lr, out["lr_flow"], "charbonnier" if cb else "l2")
        if cfg.pingpong and cfg.pingpong_weight:
            pp = pingpong_loss(fake, "charbonnier") if cb else pingpong_loss(2 * fake, "l1")
            terms["pingpong"] = cfg.pingpong_weight * pp
        if cfg.vgg_weight:
            vgg = self._vgg_net(fake.device)
            f_fake = vgg(fold_time(fake))  # (B*T, C, H, W), frame-major per video
            with torch.no_grad():
                f_real = vgg(fold_time(hr))
            terms["vgg"] = cfg.vgg_weight * cosine_feature_loss(f_fake, f_real)
        if cfg.discriminator and (cfg.adv_weight or cfg.dfeat_weight):
            disc = modules["discriminator"]
            flows = d_flows(gen, lr, out["hr_flow"], cfg.pingpong)
            fake_logit, fake_feats = self._d_pass(disc, fake, lr, flows)
            if cfg.adv_weight:
                # -log D(fake) with D = sigmoid(logit)
                adv = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
                terms["adv"] = cfg.adv_weight * adv
            if cfg.dfeat_weight:
                with torch.no_grad():
                    _, real_feats = self._d_pass(disc, hr, lr, flows)
                dfeat = fake.new_zeros(())
                for fr, ff, n in zip(real_feats, fake_feats, DFEAT_NORMS, strict=True):
                    # mean over (triplets, positions) of the channel sum of |F_real - F_fake|
                    dfeat = dfeat + (ff - fr).abs().sum(1).mean() / n
                terms["dfeat"] = cfg.dfeat_weight * dfeat
        return terms
