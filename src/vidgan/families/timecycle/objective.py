"""Objective of the paired TimeCycleGAN family (spec §1.7, §3.3): phases ``D`` then ``G``.

One training iteration as released: the generator unrolls the block once (placeholder history drawn from
the round's generator), the TimeCycle rollout runs on the generated clip, the discriminators step on the
detached fakes, then the generator (and the motion model, same optimizer) steps on

    G = GAN_frame + fm * FM_frame + l1 * L1 + vgg * VGG          (frame terms, mean over the B frames)
      + sum_scales (GAN_seq + fm * FM_seq)                        (sequence D)
      + tc * L_TC + tc_warp * warp_TC + GAN_TC-frame               (TimeCycle; frame-D term weight 1)
      + warp * L_warp                                              (optional flow warp loss)
    D = ½ (real + fake)_frame + sum_scales ½ (real + fake)_seq + TimeCycle frame-D term.

With ``reuse_fakes`` (default) the D phase builds the generator's graph once and leaves it in the round's
cache for the G phase (the official single forward); otherwise the G phase re-runs the generator with the
same placeholder draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from vidgan.families.api import Phase, StepContext
from vidgan.losses.perceptual import VGG19Features
from vidgan.temporal.recurrent import placeholder
from vidgan.temporal.seqd import SequenceDiscriminatorLoss
from vidgan.temporal.timecycle import Rollout, TimeCycleLoss, gan_fake, gan_gen, gan_real
from vidgan.temporal.train_utils import fold, grad_enabled, to_sequence
from vidgan.temporal.warp import FarnebackFlow, FlowWarpLoss, flow_warp

from .config import Config
from .vid2vid import Vid2VidGenerator

__all__ = ["PairedObjective", "BlockGenerator", "PIX2PIXHD_VGG_LAYERS"]

PIX2PIXHD_VGG_LAYERS = (1, 6, 11, 20, 29)  # relu1_1 .. relu5_1 in torchvision's vgg19().features
PIX2PIXHD_VGG_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


class BlockGenerator(nn.Module):
    """pix2pix "block" mode: ``net`` maps the B stacked source frames to B stacked output frames."""

    def __init__(self, net: nn.Module, block: int, out_channels: int) -> None:
        super().__init__()
        self.net, self.block, self.out_channels = net, block, out_channels

    def forward(self, src: Tensor) -> Tensor:
        n, t = src.shape[:2]
        out = self.net(src.flatten(1, 2))
        return out.reshape(n, t, self.out_channels, *out.shape[-2:])


class PairedObjective:
    """See the module docstring. ``frames``: the block length B of the run (data.frames)."""

    def __init__(self, cfg: Config, frames: int, timecycle: TimeCycleLoss | None) -> None:
        self.cfg, self.frames = cfg, frames
        self.timecycle = timecycle  # also a module role when it has parameters (conditional mode)
        self.phases = (Phase("D", "D", self._d_roles(cfg)), Phase("G", "G", self._g_roles(cfg, timecycle)))
        self._vgg: VGG19Features | None = None
        self._aux: dict[str, Tensor] | None = None
        # real-frame flows (Farnebäck): the fake's warp loss and vid2vid's flow supervision
        use_flows = cfg.warp_weight or (cfg.variant == "vid2vid" and cfg.flow_weight)
        self._warp = FlowWarpLoss(FarnebackFlow(), 1.0, align_corners=cfg.warp_align_corners) if use_flows else None

    @staticmethod
    def _d_roles(cfg: Config) -> tuple[str, ...]:
        temporal = cfg.variant in ("timecycle", "vid2vid") and cfg.seq_d
        return ("discriminator", "seq_discriminator") if temporal else ("discriminator",)

    @staticmethod
    def _g_roles(cfg: Config, tc: TimeCycleLoss | None) -> tuple[str, ...]:
        return ("generator", "timecycle") if tc is not None and list(tc.parameters()) else ("generator",)

    # ------------------------------------------------------------------ state (none beyond the modules)
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass

    # ------------------------------------------------------------------ generator pass
    def placeholders(self, gen: nn.Module, src: Tensor, generator: torch.Generator | None) -> dict[str, Tensor]:
        """The history placeholders of one round (drawn once, shared by the phases)."""
        if not hasattr(gen, "n_prev") or gen.n_prev == 0:
            return {}
        n, _, _, h, w = src.shape
        out = {"init_prev": placeholder((n, gen.n_prev, gen.frame_channels, h, w), gen.init, src, generator)}
        if gen.cond_prev:
            out["init_cond"] = placeholder((n, gen.n_prev, gen.cond_channels, h, w), gen.init, src, generator)
        return out

    def generate(self, modules: Mapping[str, nn.Module], src: Tensor, init: Mapping[str, Tensor]) -> Tensor:
        """The generated clip; vid2vid also leaves its flows and masks in ``self._aux`` (read once per pass)."""
        gen = modules["generator"]
        if isinstance(gen, BlockGenerator):
            return gen(src)
        if isinstance(gen, Vid2VidGenerator):
            fake, flows, masks = gen.unroll_aux(src, **init)
            self._aux = {"flow": flows, "mask": masks}
            return fake
        return gen.unroll(src, **init)

    def rollout(self, modules: Mapping[str, nn.Module], fake: Tensor, src: Tensor) -> Rollout | None:
        tc = self.timecycle
        if tc is None:
            return None
        return tc.rollout(fake, src, backward_model=modules["generator"].net if tc.mode == "pingpong" else None)

    def forward_pass(
        self, modules: Mapping[str, nn.Module], src: Tensor, ctx: StepContext, with_graph: bool
    ) -> tuple[Tensor, Rollout | None, dict[str, Tensor] | None]:
        init = ctx.cache.get("tc_init")
        if init is None:
            init = ctx.cache["tc_init"] = self.placeholders(modules["generator"], src, ctx.generator)
        self._aux = None
        if not with_graph:
            with torch.no_grad():
                fake = self.generate(modules, src, init)
                return fake, self.rollout(modules, fake, src), self._aux
        with grad_enabled(modules["generator"], modules.get("timecycle")):
            fake = self.generate(modules, src, init)
            return fake, self.rollout(modules, fake, src), self._aux

    # ------------------------------------------------------------------ phases
    def __call__(
        self, phase: str, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext
    ) -> dict[str, Tensor]:
        src, tgt = to_sequence(batch["source"]), to_sequence(batch["target"])
        if phase == "D":
            fake, r, aux = self.forward_pass(modules, src, ctx, with_graph=self.cfg.reuse_fakes)
            if self.cfg.reuse_fakes:
                ctx.cache["tc_pass"] = (fake, r, aux)
            terms, logs = self.d_terms(modules, src, tgt, fake, r)
        elif phase == "G":
            cached = ctx.cache.pop("tc_pass", None)
            fake, r, aux = cached if cached is not None else self.forward_pass(modules, src, ctx, with_graph=True)
            terms, logs = self.g_terms(modules, src, tgt, fake, r, aux)
        else:
            raise KeyError(f"timecycle objective has phases D and G, got {phase!r}")
        ctx.logs.update({k: v.detach() if isinstance(v, Tensor) else v for k, v in logs.items()})
        return terms

    def _frame_d(self, disc: nn.Module, src: Tensor, img: Tensor, features: bool = False):
        if self.cfg.variant == "pix2pix_block":
            x = torch.cat([src.flatten(1, 2), img.flatten(1, 2)], 1)
        else:
            x = fold(torch.cat([src, img], 2))
        return disc(x, features=True) if features else disc(x)

    def d_terms(
        self, modules: Mapping[str, nn.Module], src: Tensor, tgt: Tensor, fake: Tensor, r: Rollout | None
    ) -> tuple[dict[str, Tensor], dict[str, Any]]:
        cfg, disc = self.cfg, modules["discriminator"]
        fake = fake.detach()
        logs: dict[str, Any] = {}
        real_l = gan_real(cfg.gan, self._frame_d(disc, src, tgt))
        fake_l = gan_fake(cfg.gan, self._frame_d(disc, src, fake))
        terms = {"frame": 0.5 * (real_l + fake_l)}
        logs.update({"D/frame/real": real_l, "D/frame/fake": fake_l})
        if "seq_discriminator" in modules:
            seq, parts = modules["seq_discriminator"].d_loss(tgt, fake, return_parts=True)
            terms["sequence"] = seq
            logs.update({f"D/sequence/{k}": v for k, v in parts.items()})
        if r is not None and cfg.tc_frame_d:
            tc_d, parts = self.timecycle.adversarial_d(r, disc, cfg.gan, real=tgt, cond=src, return_parts=True)
            terms["timecycle"] = tc_d
            logs.update({f"D/timecycle/{k}": v for k, v in parts.items()})
        return terms, logs

    def g_terms(
        self,
        modules: Mapping[str, nn.Module],
        src: Tensor,
        tgt: Tensor,
        fake: Tensor,
        r: Rollout | None,
        aux: Mapping[str, Tensor] | None = None,
    ) -> tuple[dict[str, Tensor], dict[str, Any]]:
        cfg, disc = self.cfg, modules["discriminator"]
        terms: dict[str, Tensor] = {}
        logs: dict[str, Any] = {}
        if cfg.fm_weight:
            out, feats = self._frame_d(disc, src, fake, features=True)
            with torch.no_grad():
                _, feats_real = self._frame_d(disc, src, tgt, features=True)
            fm = sum((a.float() - b.float()).abs().mean() for a, b in zip(feats, feats_real, strict=True))
            terms["fm_frame"] = cfg.fm_weight * fm
            logs["G/fm_frame"] = fm
        else:
            out = self._frame_d(disc, src, fake)
        terms["gan_frame"] = gan_gen(cfg.gan, out)
        if cfg.l1_weight:
            l1 = (fake.float() - tgt).abs().mean()
            terms["l1"] = cfg.l1_weight * l1
            logs["G/l1"] = l1
        if cfg.vgg_weight:
            vgg = self.vgg_loss(fold(fake), fold(tgt))
            terms["vgg"] = cfg.vgg_weight * vgg
        if "seq_discriminator" in modules:
            seqd: SequenceDiscriminatorLoss = modules["seq_discriminator"]  # type: ignore[assignment]
            seq, parts = seqd.g_loss(fake, tgt if seqd.fm_weight else None, return_parts=True)
            terms["sequence"] = seq
            logs.update({f"G/sequence/{k}": v for k, v in parts.items()})
        if r is not None:
            tc = self.timecycle
            loss, parts = tc.generator_loss(r, return_parts=True)
            terms["timecycle"] = loss
            logs.update({f"G/timecycle/{k}": v for k, v in parts.items()})
            if cfg.tc_frame_d:
                adv, parts = tc.adversarial_g(r, disc, cfg.gan, cond=src, return_parts=True)
                terms["timecycle_gan"] = adv
                logs.update({f"G/timecycle_gan/{k}": v for k, v in parts.items()})
        if self._warp is not None:
            flow, conf = self._warp.flows(tgt)  # pairs (t+1, t) of the real clip: target_{t+1} ~ warp(target_t)
            if cfg.warp_weight:
                terms["warp"] = cfg.warp_weight * self._warp.loss_from_flows(fake, flow, conf)
            if aux is not None and cfg.flow_weight:
                # vid2vid: the flow predicted at frame t (t >= 1) warps frame t-1 onto frame t
                pred = aux["flow"][:, 1:].float()
                n, t1 = pred.shape[:2]
                prev = tgt[:, :-1].reshape(n * t1, *tgt.shape[2:])
                warped = flow_warp(prev, pred.reshape(n * t1, *pred.shape[2:]), cfg.warp_align_corners)
                warped = warped.reshape(n, t1, *tgt.shape[2:])
                fl = ((pred - flow).abs() * conf).mean() + ((warped - tgt[:, 1:]).abs() * conf).mean()
                terms["flow"] = cfg.flow_weight * fl
                logs["G/flow"] = fl
        if aux is not None and cfg.mask_weight:
            terms["mask"] = cfg.mask_weight * aux["mask"].float().mean()
        return terms, logs

    # ------------------------------------------------------------------ VGG (pix2pixHD)
    def vgg_loss(self, fake: Tensor, real: Tensor) -> Tensor:
        """pix2pixHD VGG loss: sum_i w_i L1(phi_i(fake), sg(phi_i(real))), inputs in [-1, 1] as they are."""
        if self._vgg is None:
            w = self.cfg.vgg_weights
            if not w:
                raise ValueError(
                    "family.vgg_weight > 0 needs family.vgg_weights=<path to torchvision vgg19-dcbb9e9d.pth> "
                    "(never downloaded), or family.vgg_weight=0"
                )
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0x5EED)
                self._vgg = VGG19Features(
                    None if w == "random" else w, layers=PIX2PIXHD_VGG_LAYERS, sha256=self.cfg.vgg_sha256
                )
        vgg = self._vgg.to(fake.device)

        def feats(x: Tensor) -> list[Tensor]:
            out = []
            for i, layer in enumerate(vgg.features):  # no ImageNet normalisation (as pix2pixHD)
                x = layer(x)
                if i in PIX2PIXHD_VGG_LAYERS:
                    out.append(x)
            return out

        ff = feats(fake)
        with torch.no_grad():
            fr = feats(real)
        return sum(
            w * (a.float() - b.float()).abs().mean() for w, a, b in zip(PIX2PIXHD_VGG_WEIGHTS, ff, fr, strict=True)
        )
