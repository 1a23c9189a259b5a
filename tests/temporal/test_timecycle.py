"""TimeCycle rollouts, generator terms and TimeCycle-discriminator terms against the official values."""

from __future__ import annotations

import pytest
import torch

from vidgan.temporal.nets import DCGANDiscriminator, PatchDiscriminator, ResnetGenerator
from vidgan.temporal.timecycle import TimeCycleLoss

from .conftest import close

ATOL = 2e-4  # README: rollouts
GAN_ATOL = 1e-5  # GAN terms on rollout outputs: means of signed logits near 0 (wgan) inherit the rollout's
# absolute error, so a pure rtol of 1e-4 is not meaningful there
MODES = ("lsgan", "vanilla", "wgangp")


def _conditional(golden, ignore, **kw):
    tc = TimeCycleLoss(3, 3, "conditional", motion_filters=8, weight=10, ignore_first=ignore, warp_weight=1, **kw)
    tc.motion.load_state_dict(golden.state("model_p.npz", "timecycle_target_motion_model_forward"), strict=True)
    return tc


def _frame_d(golden, file="model_p.npz"):
    d = PatchDiscriminator(6, 8)
    d.load_state_dict(golden.state(file, "discriminator"), strict=True)
    return d


def _check_g(golden, v, tc, r):
    loss, parts = tc.generator_loss(r, return_parts=True)
    close(tc.weight * parts["combined"], v["G_timecycle_weighted"])
    for k in ("cycle_long", "cycle_skip", "temp_long", "temp_skip", "combined"):
        close(parts[k], v[f"G_timecycle_logged/{k}"], atol=1e-9)
    if v["G_warp_weighted"]:
        close(parts["warp"], v["G_warp_weighted"])
        close(parts["warp_logged"], v["G_warp_logged"])
    close(loss, v["G_timecycle_weighted"] + v["G_warp_weighted"])


def _check_frame_adv(v, tc, r, d, real, cond):
    for gm in MODES:
        loss, parts = tc.adversarial_d(r, d, gm, real=real, cond=cond, return_parts=True)
        close(loss, v[f"{gm}/D_frame"], atol=GAN_ATOL)
        for k in ("real", "fake"):
            close(parts[k], v[f"{gm}/D_frame_logged/{k}"], atol=GAN_ATOL)
        for name in ("pred_long", "pred_skip", "rec_long", "rec_skip"):
            close(parts.get(f"fake_{name}", 0.0), v[f"{gm}/D_frame_logged/fake_{name}"], atol=GAN_ATOL)
        loss, parts = tc.adversarial_g(r, d, gm, cond=cond, return_parts=True)
        close(loss, v[f"{gm}/G_frame"], atol=GAN_ATOL)
        for name in ("pred_long", "pred_skip", "rec_long", "rec_skip"):
            close(parts.get(name, 0.0), v[f"{gm}/G_frame_logged/{name}"], atol=GAN_ATOL)


@pytest.mark.parametrize("ignore", [1, 0])
def test_conditional(golden, ignore):
    c = golden.clips()
    v = golden.values["tc_conditional"][f"ignore{ignore}"]
    tc = _conditional(golden, ignore)
    with torch.no_grad():
        r = tc.rollout(c["fake"], c["src"])
        assert r.L == v["L"]
        for k in ("pred_long", "pred_skip", "rec_long", "rec_skip"):
            torch.testing.assert_close(
                getattr(r, k), golden.t("tc_conditional.npz", f"ignore{ignore}/{k}"), atol=ATOL, rtol=0
            )
        _check_g(golden, v, tc, r)
        _check_frame_adv(v, tc, r, _frame_d(golden), c["real"], c["src"])
        tc2 = _conditional(golden, ignore, distance="l2")
        close(tc2.weight * tc2.generator_loss(r, return_parts=True)[1]["combined"], v["G_timecycle_weighted_l2"])


def test_conditional_sequence_discriminator(golden):
    c = golden.clips()
    v = golden.values["tc_conditional"]["ignore1"]
    tc = _conditional(golden, 1)
    seq_d = PatchDiscriminator(golden.config["tc_conditional"]["timecycle_seq_D"]["define_D_input_channels"], 8)
    seq_d.load_state_dict(golden.state("tc_conditional.npz", "timecycle_seq_D"), strict=True)
    with torch.no_grad():
        r = tc.rollout(c["fake"], c["src"])
        for gm in MODES:
            loss, parts = tc.adversarial_d(
                r, seq_d, gm, real=c["real"], cond=c["src"], n_frames=r.L + 1, return_parts=True
            )
            close(loss, v[f"{gm}/D_seq"], atol=GAN_ATOL)
            for k in ("real", "fake", "fake_long", "fake_skip"):
                close(parts[k], v[f"{gm}/D_seq_logged/{k}"], atol=GAN_ATOL)
            loss, parts = tc.adversarial_g(r, seq_d, gm, cond=c["src"], n_frames=r.L + 1, return_parts=True)
            close(loss, v[f"{gm}/G_seq"], atol=GAN_ATOL)
            for k in ("long", "skip"):
                close(parts[k], v[f"{gm}/G_seq_logged/{k}"], atol=GAN_ATOL)


def test_unconditional(golden):
    c = golden.clips()
    v = golden.values["tc_unconditional"]["ignore0"]
    tc = TimeCycleLoss(3, 0, "unconditional", motion_filters=8, weight=10, warp_weight=1)
    tc.motion.load_state_dict(golden.state("model_u.npz", "timecycle_target_motion_model_forward"), strict=True)
    d = DCGANDiscriminator(3, 8)
    d.load_state_dict(golden.state("model_u.npz", "discriminator"), strict=True)
    with torch.no_grad():
        r = tc.rollout(c["fake"])
        assert r.L == v["L"] and r.pred_skip is None
        for k in ("pred_long", "rec_long"):
            torch.testing.assert_close(getattr(r, k), golden.t("model_u.npz", f"ignore0/{k}"), atol=ATOL, rtol=0)
        _check_g(golden, v, tc, r)
        _check_frame_adv(v, tc, r, d, c["real"], None)
        l2 = TimeCycleLoss(3, 0, "unconditional", motion_model=tc.motion, distance="l2", weight=10)
        close(l2.generator_loss(r), v["G_timecycle_weighted_l2"])
        # the rollout-consistent warp order is a different (named) option
        other = TimeCycleLoss(3, 0, "unconditional", motion_model=tc.motion, warp_order="rollout", warp_weight=1)
        assert abs(float(other.warp_sum(r)) - v["G_warp_weighted"]) > 1e-4


def test_pingpong(golden):
    c = golden.clips()
    v = golden.values["tc_pingpong"]["ignore1"]
    gen = ResnetGenerator(6, 3, 8, 9)
    gen.load_state_dict(golden.state("model_p_pingpong.npz", "generator"), strict=True)
    tc = TimeCycleLoss(3, 3, "pingpong", weight=10, ignore_first=1, warp_weight=1)
    assert not list(tc.parameters())
    with torch.no_grad():
        r = tc.rollout(c["fake"], c["src"], backward_model=gen)
        torch.testing.assert_close(
            r.pred_long, golden.t("model_p_pingpong.npz", "ignore1/pred_long"), atol=ATOL, rtol=0
        )
        _check_g(golden, v, tc, r)
        _check_frame_adv(v, tc, r, _frame_d(golden, "model_p_pingpong.npz"), c["real"], c["src"])
        l2 = TimeCycleLoss(3, 3, "pingpong", weight=10, ignore_first=1, distance="l2")
        close(l2.generator_loss(r), v["G_timecycle_weighted_l2"])


def test_gradients_reach_generator_and_motion_model_and_parameters_are_deduplicated():
    tc = TimeCycleLoss(3, 2, "conditional", motion_filters=4, weight=1.0, ignore_first=1, warp_weight=1.0)
    assert tc.m_forward is tc.m_backward
    assert len(list(tc.parameters())) == len({id(p) for p in tc.motion.parameters()}) == 16
    fake = (torch.rand(1, 4, 3, 32, 32) * 2 - 1).requires_grad_(True)
    cond = torch.rand(1, 4, 2, 32, 32)
    r = tc.rollout(fake, cond)
    d = PatchDiscriminator(5, 4)
    (tc.generator_loss(r) + tc.adversarial_g(r, d, "lsgan", cond=cond)).backward()
    assert fake.grad[:, 0].abs().sum() == 0  # dropped frame
    assert fake.grad[:, 1:].abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in tc.parameters())
    sep = TimeCycleLoss(3, 2, separate_models=True, motion_filters=4)
    assert sep.m_forward is not sep.m_backward and len(list(sep.parameters())) == 32


def test_named_options():
    torch.manual_seed(0)
    tc = TimeCycleLoss(3, 2, motion_filters=4, warp_weight=2.0)
    fake, cond = torch.rand(1, 4, 3, 32, 32), torch.rand(1, 4, 2, 32, 32)
    with torch.no_grad():
        r = tc.rollout(fake, cond)
        _, parts = tc.generator_loss(r, return_parts=True)
        norm = TimeCycleLoss(3, 2, motion_model=tc.motion, warp_weight=2.0, normalize_warp_by_L=True)
        _, p2 = norm.generator_loss(r, return_parts=True)
        close(p2["warp"], parts["warp"] / r.L)
        d = PatchDiscriminator(5, 4)
        last = TimeCycleLoss(3, 2, motion_model=tc.motion, rec_conditioning="last")
        a = tc.adversarial_g(r, d, cond=cond, return_parts=True)[1]
        b = last.adversarial_g(r, d, cond=cond, return_parts=True)[1]
        assert a["pred_long"] == b["pred_long"] and a["rec_long"] != b["rec_long"]
        only_long = TimeCycleLoss(3, 2, motion_model=tc.motion, terms=("long",))
        r2 = only_long.rollout(fake, cond)
        assert r2.pred_skip is None and only_long.n_terms == 2
    short = tc.rollout(fake[:, :1], cond[:, :1])
    assert short.L == 0 and float(tc.generator_loss(short)) == 0.0
    with pytest.raises(ValueError, match="cond_channels"):
        TimeCycleLoss(3, 0, "conditional")
    with pytest.raises(ValueError, match="long rollouts only"):
        TimeCycleLoss(3, 0, "unconditional", terms=("long", "skip"))
