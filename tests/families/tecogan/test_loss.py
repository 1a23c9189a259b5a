"""Losses of one TecoGAN training batch vs ``losses_golden.json`` (the port's criteria, no VGG), and the
Objective in the port's options (``pixel_loss="charbonnier"``, ``balance="instant"``) on the same batch."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidgan.data.degradations import degrade
from vidgan.families.api import StepContext
from vidgan.families.tecogan.discriminator import assemble_triplets
from vidgan.families.tecogan.loss import TecoObjective, balance_statistic, d_flows
from vidgan.losses.temporal import charbonnier, pingpong_extend, pingpong_loss, warp_loss


@pytest.fixture(scope="module")
def batch(golden):
    d = golden("degradation_bd.npz")
    hr = torch.from_numpy(d["train_hr_clip_u8"]).float().div(255).permute(0, 3, 1, 2)  # (10, 3, 136, 136)
    lr = degrade(hr, "bd", bd_variant="valid")  # (10, 3, 32, 32)
    assert torch.equal(lr, torch.from_numpy(d["train_lr"]))
    target = hr[:, :, 4:132, 4:132]
    # vidgan batch layout (B, C, T, .) in [-1, 1]
    return {
        "lr": lr.transpose(0, 1)[None] * 2 - 1,
        "hr": target.transpose(0, 1)[None] * 2 - 1,
        "lr01": lr.transpose(0, 1)[None],
        "hr01": target.transpose(0, 1)[None],
    }


@pytest.fixture(scope="module")
def ref(shared_dir):
    return json.loads((shared_dir / "golden/tecogan/losses_golden.json").read_text())


def test_loss_values(batch, ref, nets, golden, tol):
    gen, disc, _ = nets["nb10"]
    lr, hr = pingpong_extend(batch["lr01"]), pingpong_extend(batch["hr01"])
    with torch.no_grad():
        out = gen.forward_sequence(lr)
    fake = out["hr"]
    # every HR value within the HR tolerance => the sum within numel x that (compared as a mean)
    n = fake.numel()
    np.testing.assert_allclose(
        fake.double().sum().item() / n, ref["hr19_sum"] / n, atol=tol["hr_images_and_warps_float32_atol"], rtol=0
    )
    lr_flow = out["lr_flow"][0].transpose(0, 1)
    np.testing.assert_allclose(lr_flow.numpy(), golden("loss_io.npz")["lr_flow"], atol=tol["lr_flow_px_atol"])
    rtol = tol["loss_values_rtol"]
    logit_atol = tol["discriminator_logit_atol"]
    np.testing.assert_allclose(charbonnier(fake, hr).item(), ref["charbonnier_pixel_mean"], rtol=rtol)
    np.testing.assert_allclose(
        warp_loss(lr, out["lr_flow"], "charbonnier").item(), ref["charbonnier_warp_mean"], rtol=rtol
    )
    np.testing.assert_allclose(
        pingpong_loss(fake, "charbonnier").item(), ref["charbonnier_pingpong_mean_unweighted"], rtol=rtol
    )
    flows = d_flows(gen, lr, out["hr_flow"], pingpong=True)
    disc.train()
    with torch.no_grad():
        real_logit, _ = disc(assemble_triplets(hr, lr, flows, disc.upsample_func))
        fake_logit, _ = disc(assemble_triplets(fake, lr, flows, disc.upsample_func))
    assert real_logit.shape == (6, 1)
    np.testing.assert_allclose(real_logit[:, 0].numpy(), ref["real_logits"], atol=logit_atol)
    np.testing.assert_allclose(fake_logit[:, 0].numpy(), ref["fake_logits"], atol=logit_atol)
    d_total = F.binary_cross_entropy_with_logits(
        real_logit, torch.ones_like(real_logit)
    ) + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
    np.testing.assert_allclose(d_total.item(), ref["d_loss_total"], rtol=rtol)
    g_adv = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
    np.testing.assert_allclose(g_adv.item(), ref["g_adv_bce_unweighted"], rtol=rtol)
    np.testing.assert_allclose(
        balance_statistic(real_logit, fake_logit).item(), ref["adaptive_distance"], atol=_distance_atol(tol), rtol=0
    )


def _distance_atol(tol: dict) -> float:
    """adaptive distance = mean log sigma(real) - mean log sigma(fake) (+1e-8 inside the logs):
    |d log sigma(x) / dx| = 1 - sigma(x) < 1, so each mean moves by less than the logit tolerance."""
    return 2 * tol["discriminator_logit_atol"]


def test_objective_port_options(batch, ref, nets, tol, shared_dir):
    """The family Objective with the port's options reproduces the port's own training-step log."""
    gen, disc, cfg = nets["nb10"]
    # the loss weights of the port's BD TecoGAN experiment (config.json -> experiments_yml)
    port = json.loads((shared_dir / "golden/tecogan/config.json").read_text())["experiments_yml"]
    train = port["experiments_BD/TecoGAN/TecoGAN_VimeoTecoGAN_4xSR_2GPU/train.yml"]["train"]
    pp_w, adv_w = train["pingpong_crit"]["weight"], train["gan_crit"]["weight"]
    cfg = dataclasses.replace(
        cfg,
        discriminator=True,
        pingpong=True,
        pingpong_weight=pp_w,
        adv_weight=adv_w,
        dfeat_weight=0.0,
        vgg_weight=0.0,
        pixel_loss="charbonnier",
        balance="instant",
    )
    obj = TecoObjective(cfg)
    assert [p.name for p in obj.phases] == ["D", "G"]
    modules = {"generator": gen, "discriminator": disc}
    ctx = StepContext(step=0, clips_seen=0, generator=torch.Generator())
    b = {"lr": batch["lr"], "hr": batch["hr"]}
    d_terms = obj("D", b, modules, ctx)
    log = ref["port_train_step_log_dict_no_vgg"]
    rtol, logit_atol = tol["loss_values_rtol"], tol["discriminator_logit_atol"]
    np.testing.assert_allclose(sum(d_terms.values()).item(), log["l_gan_D"], rtol=rtol)
    np.testing.assert_allclose(ctx.logs["D/t_balance"], log["distance"], atol=_distance_atol(tol), rtol=0)
    # p_real_D / p_fake_D are mean logits (README §5)
    np.testing.assert_allclose(ctx.logs["D/real_logit"], log["p_real_D"], atol=logit_atol)
    np.testing.assert_allclose(ctx.logs["D/fake_logit"], log["p_fake_D"], atol=logit_atol)
    with torch.no_grad():
        g_terms = obj("G", b, modules, ctx)
    np.testing.assert_allclose(g_terms["content"].item(), log["l_pix_G"], rtol=rtol)
    np.testing.assert_allclose(g_terms["warp"].item(), log["l_warp_G"], rtol=rtol)
    np.testing.assert_allclose(g_terms["pingpong"].item(), log["l_pp_G"], rtol=rtol)
    # no D step in between here, so the adversarial term is the pre-update value
    np.testing.assert_allclose(g_terms["adv"].item(), ref[f"g_adv_weighted_{adv_w}"], rtol=rtol)
    assert obj.state_dict()["d_updates"] == 1
