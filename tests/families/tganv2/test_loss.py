"""One official ``DiracUpdater.update_core()`` step (golden ``loss_io.npz``) through the vidgan Objective,
driven like the engine drives it: for each phase zero the optimizer, freeze the other module, sum the
terms, backward, step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vidgan.data.config import DataConfig
from vidgan.families.api import StepContext
from vidgan.families.tganv2 import Config, build
from vidgan.families.tganv2.convert import chainer_key, chainer_state, load_chainer_state
from vidgan.families.tganv2.loss import gan_losses, r1_penalty
from vidgan.families.tganv2.optim import ChainerAdam

GOLDEN_CFG = dict(clstm_ch=16, ch=4, mid_ch=4, t_size=3, n_frames=16)  # as conftest.py


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def _parts(gen_state, dis_state, **overrides):
    cfg = Config(**{**GOLDEN_CFG, "r1_reduction": "sum", "lam": 0.5, **overrides})
    parts = build(cfg, DataConfig(sampler="multilevel", size=192, frames=16))
    load_chainer_state(parts.modules["generator"], gen_state)
    load_chainer_state(parts.modules["discriminator"], dis_state)
    return parts


def _real_batch(dis_io) -> dict:
    return {"levels": [_t(dis_io[f"real/x{lvl}"]) for lvl in range(1, 5)]}


def _step(parts, batch, gen_io):
    """Engine-like iteration with the recorded z and phases injected; returns terms, grads and logs."""
    ctx = StepContext(step=0, clips_seen=0, generator=torch.Generator().manual_seed(0))
    ctx.cache["z"] = _t(gen_io["z"])
    ctx.cache["phases"] = gen_io["train/phases"].tolist()
    terms, grads = {}, {}
    for ph in parts.objective.phases:
        opt = parts.optimizers[ph.optimizer]
        opt.zero_grad(set_to_none=True)
        for role, m in parts.modules.items():
            m.requires_grad_(role in ph.modules)
        out = parts.objective(ph.name, batch, parts.modules, ctx)
        sum(out.values()).backward()
        (mod,) = [parts.modules[r] for r in ph.modules]
        grads[ph.name] = {chainer_key(k, 3): p.grad.detach().clone() for k, p in mod.named_parameters()}
        terms.update({k: float(v.detach()) for k, v in out.items()})
        opt.step()
    return terms, grads, ctx


@pytest.fixture(scope="module")
def stepped(gen_state, dis_state, gen_io, dis_io):
    """Run the step once for the module (about 1 s)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        parts = _parts(gen_state, dis_state)
        terms, grads, ctx = _step(parts, _real_batch(dis_io), gen_io)
    finally:
        torch.set_num_threads(n)
    return parts, terms, grads, ctx


def test_losses_and_g(stepped, loss_io):
    _, terms, _, ctx = stepped
    assert terms.keys() == {"loss_gen", "loss_dis", "loss_gp"}
    for k in ("loss_gen", "loss_dis", "loss_gp"):
        np.testing.assert_allclose(terms[k], float(loss_io[f"updater/{k}"]), rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(
        terms["loss_dis"] + terms["loss_gp"], float(loss_io["updater/loss_dis_total"]), rtol=1e-5
    )
    np.testing.assert_allclose(ctx.logs["g"], float(loss_io["updater/g"]), rtol=1e-4)
    assert ctx.logs["r1_gamma_half_effective"] == 0.5 * 8  # lam * (4 levels x batch 2)


def test_generator_gradients(stepped, loss_io):
    _, _, grads, _ = stepped
    keys = [k for k in loss_io if k.startswith("updater/grad_gen/")]
    assert len(keys) == len(grads["G"]) == 81
    for k in keys:
        name = k.removeprefix("updater/grad_gen/")
        got, ref = grads["G"][name].numpy(), loss_io[k]
        if name.startswith("block") and name.split("/")[1] in ("c1", "c2", "c_sc") and name.endswith("/b"):
            # zero in the maths: each feeds a training-mode BN (README); stored values are ~1e-8 noise
            assert np.abs(got).max() < 1e-6 and np.abs(ref).max() < 1e-6, name
            continue
        assert _rel(got, ref) < 1e-2, f"{name}: rel {_rel(got, ref):.2e}"


def test_discriminator_gradients(stepped, loss_io):
    _, _, grads, _ = stepped
    keys = [k for k in loss_io if k.startswith("updater/grad_dis/")]
    assert len(keys) == len(grads["D"]) == 128
    for k in keys:
        name = k.removeprefix("updater/grad_dis/")
        got, ref = grads["D"][name].numpy(), loss_io[k]
        assert _rel(got, ref) < 1e-3, f"{name}: rel {_rel(got, ref):.2e}"


def test_params_after_adam_and_bn_running(stepped, loss_io):
    parts, _, _, _ = stepped
    state = {**chainer_state(parts.modules["generator"]), **chainer_state(parts.modules["discriminator"])}
    for k in loss_io:
        if "_after_adam/" in k:
            name = k.split("_after_adam/")[1]
            # first step moves each weight by ~1e-4 * sign(g): a sign flip on a ~0 gradient shows as <=1e-4
            diff = np.abs(state[name] - loss_io[k])
            assert diff.max() < 2e-5 and diff.mean() < 1e-6, f"{name}: {diff.max():.2e}"
    np.testing.assert_allclose(
        state["block6/b1/avg_var"],
        loss_io["updater/gen_bn_running_after/block6/b1/avg_var"],
        atol=4e-5,
        rtol=1e-4,
    )


def test_chainer_adam_rule_exact(gen_state, dis_state, loss_io):
    """ChainerAdam on the *recorded* gradients reproduces the recorded parameters (float32 noise)."""
    for name, ref in [(k.split("_after_adam/")[1], loss_io[k]) for k in loss_io if "_after_adam/" in k]:
        src = gen_state if "gen_after" in next(k for k in loss_io if k.endswith(name) and "after" in k) else dis_state
        grad_key = ("updater/grad_gen/" if src is gen_state else "updater/grad_dis/") + name
        p = torch.nn.Parameter(_t(src[name]).clone())
        p.grad = _t(loss_io[grad_key]).clone()
        ChainerAdam([p], lr=1e-4, betas=(0.0, 0.9), eps=8e-8).step()
        np.testing.assert_allclose(p.detach().numpy(), ref, atol=1e-9, rtol=1e-6, err_msg=name)
        # torch.optim.Adam puts eps inside the bias correction: different on small gradients
        q = torch.nn.Parameter(_t(src[name]).clone())
        q.grad = p.grad
        torch.optim.Adam([q], lr=1e-4, betas=(0.0, 0.9), eps=8e-8).step()
        expected = _t(src[name]) - 1e-4 * math.sqrt(0.1) * p.grad / (math.sqrt(0.1) * p.grad.abs() + 8e-8)
        np.testing.assert_allclose(p.detach().numpy(), expected.numpy(), atol=1e-9, rtol=1e-6)


def test_r1_decomposition(dis, dis_io, loss_io):
    """Per-level R1 sums and input gradients (``split/*``), adversarial/R1 parameter-gradient split."""
    cfg = Config(**GOLDEN_CFG, r1_reduction="sum", lam=0.5)
    x = [_t(dis_io[f"real/x{lvl}"]).requires_grad_(True) for lvl in range(1, 5)]
    y_real = dis(x)
    gp, grads = r1_penalty(y_real, x, cfg)
    np.testing.assert_allclose(float(gp.detach()), float(loss_io["split/loss_gp"]), rtol=1e-5)
    for lvl in range(1, 5):
        per = grads[lvl - 1].double().pow(2).flatten(1).sum(1).detach().numpy()
        np.testing.assert_allclose(per, loss_io[f"split/r1_sqnorm_per_sample_level{lvl}"], rtol=1e-5)
    for lvl in (1, 2):
        ref = loss_io[f"split/dydx_real_level{lvl}"]
        assert _rel(grads[lvl - 1].detach().numpy(), ref) < 1e-5
    np.testing.assert_allclose(torch.cat(y_real).detach().numpy(), loss_io["split/y_real"], rtol=1e-5, atol=1e-6)
    # parameter-gradient split for the 3 recorded keys
    state = dict(dis.named_parameters())
    names = {chainer_key(k, 3): k for k in state}
    for part, term in (("grad_gp", gp),):
        keys = [k for k in loss_io if k.startswith(f"split/{part}/")]
        g = torch.autograd.grad(term, [state[names[k.split(f"{part}/")[1]]] for k in keys], retain_graph=True)
        for k, gi in zip(keys, g):
            ref = loss_io[k]
            if k.endswith("/b"):  # R1 gives exactly zero to every D bias (D piecewise linear in x)
                assert np.abs(gi.numpy()).max() < 1e-9 and np.abs(ref).max() < 1e-9
            else:
                assert _rel(gi.numpy(), ref) < 1e-3, k


def test_adversarial_gradient_split(dis, dis_io, gen_io, loss_io):
    y_real = dis([_t(dis_io[f"real/x{lvl}"]) for lvl in range(1, 5)])
    y_fake = dis([_t(gen_io[f"train/x{lvl}"]) for lvl in range(1, 5)])  # the step's (pre-update) fakes
    np.testing.assert_allclose(torch.cat(y_fake).detach().numpy(), loss_io["split/y_fake"], rtol=1e-5, atol=1e-6)
    loss_dis, loss_gen = gan_losses(y_real, y_fake)
    np.testing.assert_allclose(float(loss_dis.detach()), float(loss_io["split/loss_dis_adv"]), rtol=1e-5)
    np.testing.assert_allclose(float(loss_gen.detach()), float(loss_io["split/loss_gen"]), rtol=1e-5)
    state = dict(dis.named_parameters())
    names = {chainer_key(k, 3): k for k in state}
    keys = [k for k in loss_io if k.startswith("split/grad_adv/")]
    g = torch.autograd.grad(loss_dis, [state[names[k.removeprefix("split/grad_adv/")]] for k in keys])
    for k, gi in zip(keys, g):
        assert _rel(gi.numpy(), loss_io[k]) < 1e-3, k


def test_r1_mean_form_equals_sum_form_at_matching_strength(dis, dis_io):
    """mean form with gamma/2 = lam * sum_l N_l is the official sum form (spec §3.2)."""
    x = [_t(dis_io[f"real/x{lvl}"]).requires_grad_(True) for lvl in range(1, 5)]
    y = dis(x)
    s, _ = r1_penalty(y, x, Config(**GOLDEN_CFG, r1_reduction="sum", lam=0.5))
    m, _ = r1_penalty(y, x, Config(**GOLDEN_CFG, r1_reduction="mean", r1_gamma_half=0.5 * 8))
    np.testing.assert_allclose(float(m.detach()), float(s.detach()), rtol=1e-6)
    assert Config().r1_gamma_half == 0.5 * 4 * 32  # the release: lam 0.5 at 4 levels x per-GPU batch 32


def test_lr_schedule_and_optimizers():
    parts = build(Config(**GOLDEN_CFG), DataConfig(sampler="multilevel", size=192, frames=16))
    assert parts.lr_factor("G", 0) == 1.0
    assert parts.lr_factor("D", 82_000 * 128) == pytest.approx(0.18)  # the evaluated 82k checkpoint
    assert parts.lr_factor("G", 100_000 * 128) == 0.0 and parts.lr_factor("G", 10**9) == 0.0
    for opt in parts.optimizers.values():
        assert isinstance(opt, ChainerAdam)
        assert opt.param_groups[0]["lr"] == 1e-4 and opt.param_groups[0]["betas"] == (0.0, 0.9)
        assert opt.param_groups[0]["eps"] == 8e-8
    assert [p.name for p in parts.objective.phases] == ["G", "D"]
    assert parts.objective.phases[0].modules == ("generator",)
    assert parts.objective.phases[1].modules == ("discriminator",)
