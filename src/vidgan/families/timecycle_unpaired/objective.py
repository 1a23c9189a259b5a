"""Objective of the unpaired family (spec §3.3 -UP, §3.4 CycleGAN / RecycleGAN): phases ``D`` then ``G``.

Domains: A = source, B = target. G: A -> B (role ``generator``), F: B -> A (``generator_source``).

* TimeCycleGAN-UP / CycleGAN (frame terms are means over the frames of the block):
  G = GAN_B(G(a)) + GAN_A(F(b)) + cycle (|F(G(a)) - a| + |G(F(b)) - b|) + identity * cycle (|G(b) - b| +
  |F(a) - a|) [+ sequence-D terms of both domains + for both TimeCycles weight * L_TC + GAN_TC];
  the cycle is recurrent: F is unrolled over the generated sequence. D_X = ½ (real + fake) per domain (fakes
  through the image pool when ``pool_size`` > 0) [+ sequence Ds + TimeCycle frame-D terms].
* RecycleGAN (blocks of 3 frames; per-frame generators, temporal predictors P_A, P_B: (x0, x1) -> x2):
  G = mean GAN over {G(a0), G(a1), P_B(G(a0), G(a1))} (and symmetric) + recycle * (|F(P_B(G(a0), G(a1))) - a2|
  + sym.) + recycle * (|P_A(a0, a1) - a2| + sym.); D per domain = mean of the real terms on frames 0, 1 and the
  fake terms on G(frame 0), G(frame 1), halved (our reading of "D averages 4 terms per domain"; the RecycleGAN
  details are not covered by the golden fixtures).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from vidgan.families.api import Phase, StepContext
from vidgan.temporal.pool import ImagePool
from vidgan.temporal.recurrent import placeholder
from vidgan.temporal.timecycle import gan_fake, gan_gen, gan_real
from vidgan.temporal.train_utils import fold, grad_enabled, to_sequence

from .config import Config

__all__ = ["UnpairedObjective", "G_ROLES", "D_ROLES"]

G_ROLES = ("generator", "generator_source", "timecycle", "timecycle_source", "predictor", "predictor_source")
D_ROLES = ("discriminator", "discriminator_source", "seq_discriminator", "seq_discriminator_source")
_OTHER = {"generator": "generator_source", "generator_source": "generator"}


def _l1(a: Tensor, b: Tensor) -> Tensor:
    return (a.float() - b.float()).abs().mean()


class UnpairedObjective:
    def __init__(self, cfg: Config, roles: set[str], pools: dict[str, ImagePool]) -> None:
        self.cfg = cfg
        self.pools = pools
        self.phases = (
            Phase("D", "D", tuple(r for r in D_ROLES if r in roles)),
            Phase("G", "G", tuple(r for r in G_ROLES if r in roles)),
        )

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass

    # ------------------------------------------------------------------ generator pass
    def _unroll(self, mods, role: str, cond: Tensor, ctx: StepContext, key: str) -> Tensor:
        gen = mods[role]
        init = {}
        if gen.n_prev:
            noise = ctx.cache.setdefault("tc_noise", {})
            if key not in noise:
                n, _, _, h, w = cond.shape
                shape = (n, gen.n_prev, gen.frame_channels, h, w)
                noise[key] = placeholder(shape, gen.init, cond, ctx.generator)
            init["init_prev"] = noise[key]
        return gen.unroll(cond, **init)

    def forward_pass(self, mods, a: Tensor, b: Tensor, ctx: StepContext) -> dict[str, Any]:
        cfg = self.cfg
        out: dict[str, Any] = {}
        if cfg.variant == "recyclegan":
            g, f = mods["generator"].net, mods["generator_source"].net
            p_b, p_a = mods["predictor"], mods["predictor_source"]
            fb = [g(a[:, t]) for t in range(2)]
            fa = [f(b[:, t]) for t in range(2)]
            pb = p_b(torch.cat(fb, 1))
            pa = p_a(torch.cat(fa, 1))
            out.update(fake_b=torch.stack(fb, 1), fake_a=torch.stack(fa, 1), pred_b=pb, pred_a=pa)
            out.update(recycle_a=f(pb), recycle_b=g(pa))
            out.update(recur_a=p_a(torch.cat([a[:, 0], a[:, 1]], 1)), recur_b=p_b(torch.cat([b[:, 0], b[:, 1]], 1)))
            return out
        out["fake_b"] = self._unroll(mods, "generator", a, ctx, "fake_b")
        out["fake_a"] = self._unroll(mods, "generator_source", b, ctx, "fake_a")
        if cfg.cycle_weight:
            out["rec_a"] = self._unroll(mods, "generator_source", out["fake_b"], ctx, "rec_a")
            out["rec_b"] = self._unroll(mods, "generator", out["fake_a"], ctx, "rec_b")
        if cfg.cycle_weight and cfg.identity_weight:
            out["idt_b"] = self._unroll(mods, "generator", b, ctx, "idt_b")
            out["idt_a"] = self._unroll(mods, "generator_source", a, ctx, "idt_a")
        if "timecycle" in mods:
            out["r_b"] = mods["timecycle"].rollout(out["fake_b"], a)
            out["r_a"] = mods["timecycle_source"].rollout(out["fake_a"], b)
        return out

    def _pass(self, mods, a, b, ctx, with_graph: bool) -> dict[str, Any]:
        if not with_graph:
            with torch.no_grad():
                return self.forward_pass(mods, a, b, ctx)
        with grad_enabled(*(mods.get(r) for r in G_ROLES)):
            return self.forward_pass(mods, a, b, ctx)

    # ------------------------------------------------------------------ phases
    def __call__(
        self, phase: str, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext
    ) -> dict[str, Tensor]:
        a, b = to_sequence(batch["source"]), to_sequence(batch["target"])
        if phase == "D":
            out = self._pass(modules, a, b, ctx, self.cfg.reuse_fakes)
            if self.cfg.reuse_fakes:
                ctx.cache["tc_pass"] = out
            terms, logs = self.d_terms(modules, a, b, out, ctx)
        elif phase == "G":
            out = ctx.cache.pop("tc_pass", None) or self._pass(modules, a, b, ctx, True)
            terms, logs = self.g_terms(modules, a, b, out)
        else:
            raise KeyError(f"timecycle_unpaired objective has phases D and G, got {phase!r}")
        ctx.logs.update({k: v.detach() if isinstance(v, Tensor) else v for k, v in logs.items()})
        return terms

    def _pool(self, name: str, fake: Tensor, ctx: StepContext) -> Tensor:
        pool = self.pools.get(name)
        return fake if pool is None else pool.query(fake, ctx.generator)

    def d_terms(self, mods, a: Tensor, b: Tensor, out: dict[str, Any], ctx: StepContext):
        cfg = self.cfg
        terms: dict[str, Tensor] = {}
        logs: dict[str, Any] = {}
        for dom, real, fake_key, d_role, seq_role, tc_role, r_key in (
            ("target", b, "fake_b", "discriminator", "seq_discriminator", "timecycle", "r_b"),
            ("source", a, "fake_a", "discriminator_source", "seq_discriminator_source", "timecycle_source", "r_a"),
        ):
            disc = mods[d_role]
            real_frames = real[:, :2] if cfg.variant == "recyclegan" else real
            fake = self._pool(dom, fold(out[fake_key].detach()), ctx)
            lr = gan_real(cfg.gan, disc(fold(real_frames)))
            lf = gan_fake(cfg.gan, disc(fake))
            terms[f"frame_{dom}"] = 0.5 * (lr + lf)
            logs.update({f"D/{dom}/real": lr, f"D/{dom}/fake": lf})
            if seq_role in mods:
                terms[f"sequence_{dom}"] = mods[seq_role].d_loss(real, out[fake_key].detach())
            if r_key in out and cfg.tc_frame_d:
                terms[f"timecycle_{dom}"] = mods[tc_role].adversarial_d(out[r_key], disc, cfg.gan, real=real)
        return terms, logs

    def g_terms(self, mods, a: Tensor, b: Tensor, out: dict[str, Any]):
        cfg = self.cfg
        terms: dict[str, Tensor] = {}
        logs: dict[str, Any] = {}
        if cfg.variant == "recyclegan":
            for dom, fake_key, pred_key, d_role in (
                ("target", "fake_b", "pred_b", "discriminator"),
                ("source", "fake_a", "pred_a", "discriminator_source"),
            ):
                disc = mods[d_role]
                x = torch.cat([fold(out[fake_key]), out[pred_key]], 0)  # frames 0, 1 and "2f"
                terms[f"gan_{dom}"] = gan_gen(cfg.gan, disc(x))
            w = cfg.recycle_weight
            terms["recycle"] = w * (_l1(out["recycle_a"], a[:, 2]) + _l1(out["recycle_b"], b[:, 2]))
            terms["recurrent"] = w * (_l1(out["recur_a"], a[:, 2]) + _l1(out["recur_b"], b[:, 2]))
            return terms, logs
        terms["gan_target"] = gan_gen(cfg.gan, mods["discriminator"](fold(out["fake_b"])))
        terms["gan_source"] = gan_gen(cfg.gan, mods["discriminator_source"](fold(out["fake_a"])))
        if "rec_a" in out:
            cyc = _l1(out["rec_a"], a) + _l1(out["rec_b"], b)
            terms["cycle"] = cfg.cycle_weight * cyc
            logs["G/cycle"] = cyc
        if "idt_a" in out:
            idt = _l1(out["idt_b"], b) + _l1(out["idt_a"], a)
            terms["identity"] = cfg.identity_weight * cfg.cycle_weight * idt
            logs["G/identity"] = idt
        for dom, fake_key, seq_role in (
            ("target", "fake_b", "seq_discriminator"),
            ("source", "fake_a", "seq_discriminator_source"),
        ):
            if seq_role in mods:
                terms[f"sequence_{dom}"] = mods[seq_role].g_loss(out[fake_key])
        for dom, tc_role, r_key, d_role in (
            ("target", "timecycle", "r_b", "discriminator"),
            ("source", "timecycle_source", "r_a", "discriminator_source"),
        ):
            if r_key not in out:
                continue
            tc, r = mods[tc_role], out[r_key]
            loss, parts = tc.generator_loss(r, return_parts=True)
            terms[f"timecycle_{dom}"] = loss
            logs.update({f"G/timecycle_{dom}/{k}": v for k, v in parts.items()})
            if cfg.tc_frame_d:
                terms[f"timecycle_gan_{dom}"] = tc.adversarial_g(r, mods[d_role], cfg.gan)
        return terms, logs
