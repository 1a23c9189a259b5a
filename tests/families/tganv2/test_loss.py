"""One official ``DiracUpdater.update_core()`` step (golden ``loss_io.npz``) through the vidgan Objective,
driven like the engine drives it: for each phase zero the optimizer, freeze the other module, sum the
terms, backward, step."""

from __future__ import annotations

import json
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

# golden README "Suggested comparison for a float32 PyTorch port"
LOSS_RTOL = 1e-5  # D logits and losses
GEN_GRAD_RTOL = 1e-2  # relative norm, generator gradients
DIS_GRAD_RTOL = 1e-3  # relative norm, discriminator gradients (and the input gradients dD/dx)
ATOL_RUNNING = 4e-5  # README "BN running stats after a train step"


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


@pytest.fixture(scope="module")
def golden_config(golden) -> dict:
    return json.loads((golden / "config.json").read_text())


@pytest.fixture(scope="module")
def lam(loss_io) -> float:
    """The updater's R1 weight, as recorded with the split (= config.json updater lam)."""
    return float(loss_io["split/lam"])


def _adam_args(golden_config: dict, which: str) -> dict:
    """Chainer Adam arguments of the fixture step (config.json), as ChainerAdam keyword arguments."""
    a = golden_config["effective_constructor_args"]["optimizers"][which]["args"]
    return dict(lr=a["alpha"], betas=(a["beta1"], a["beta2"]), eps=a["eps"])


def _parts(gen_state, dis_state, lam: float, **overrides):
    cfg = Config(**{**GOLDEN_CFG, "r1_reduction": "sum", "lam": lam, **overrides})
    parts = build(cfg, DataConfig(sampler="multilevel", size=192, frames=16))
    load_chainer_state(parts.modules["generator"], gen_state)
    load_chainer_state(parts.modules["discriminator"], dis_state)
    return parts


def _real_batch(dis_io) -> dict:
    return {"levels": [_t(dis_io[f"real/x{lvl}"]) for lvl in range(1, 5)]}


def _step(parts, batch, gen_io):
    """Engine-like iteration with the recorded z and offsets injected; returns terms, grads and logs."""
    ctx = StepContext(step=0, clips_seen=0, generator=torch.Generator().manual_seed(0))
    ctx.cache["z"] = _t(gen_io["z"])
    ctx.cache["offsets"] = gen_io["train/phases"].tolist()
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
def stepped(gen_state, dis_state, gen_io, dis_io, lam):
    """Run the step once for the module (about 1 s)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        parts = _parts(gen_state, dis_state, lam=lam)
        terms, grads, ctx = _step(parts, _real_batch(dis_io), gen_io)
    finally:
        torch.set_num_threads(n)
    return parts, terms, grads, ctx


def test_losses_and_g(stepped, loss_io, dis_io, lam):
    _, terms, _, ctx = stepped
    assert terms.keys() == {"loss_gen", "loss_dis", "loss_gp"}
    for k in ("loss_gen", "loss_dis", "loss_gp"):
        np.testing.assert_allclose(terms[k], float(loss_io[f"updater/{k}"]), rtol=LOSS_RTOL, err_msg=k)
    np.testing.assert_allclose(
        terms["loss_dis"] + terms["loss_gp"], float(loss_io["updater/loss_dis_total"]), rtol=LOSS_RTOL
    )
    # g = mean of the last level's input gradient: a mean of signed values, so its error is bounded by the
    # gradient's own scale, not by |g| -- |mean(e)| <= rms(e) <= DIS_GRAD_RTOL * rms(dD/dx_4), and the
    # fixture gives rms(dD/dx_4) through the per-level squared norm
    x4 = dis_io["real/x4"]
    rms4 = math.sqrt(float(loss_io["split/r1_sqnorm_level4"]) / x4.size)
    np.testing.assert_allclose(ctx.logs["g"], float(loss_io["updater/g"]), rtol=0, atol=DIS_GRAD_RTOL * rms4)
    # the official sum form has gamma/2 = lam * sum of the batch sizes over the 4 levels
    n_real = sum(dis_io[f"real/x{lvl}"].shape[0] for lvl in range(1, 5))
    assert ctx.logs["r1_gamma_half_effective"] == pytest.approx(lam * n_real)


def test_generator_gradients(stepped, loss_io):
    _, _, grads, _ = stepped
    keys = [k for k in loss_io if k.startswith("updater/grad_gen/")]
    assert {k.removeprefix("updater/grad_gen/") for k in keys} == set(grads["G"])  # every G parameter
    for k in keys:
        name = k.removeprefix("updater/grad_gen/")
        got, ref = grads["G"][name].numpy(), loss_io[k]
        if name.startswith("block") and name.split("/")[1] in ("c1", "c2", "c_sc") and name.endswith("/b"):
            # zero in the maths: each feeds a training-mode BN (README); stored values are float noise.
            # "Zero" at the tolerance the gradients are compared with: below GEN_GRAD_RTOL x the sibling
            # weight gradient (a BN in eval mode would give the bias a gradient of the weight's order)
            scale = GEN_GRAD_RTOL * np.abs(loss_io[k.removesuffix("/b") + "/W"]).max()
            assert np.abs(got).max() < scale and np.abs(ref).max() < scale, name
            continue
        assert _rel(got, ref) < GEN_GRAD_RTOL, f"{name}: rel {_rel(got, ref):.2e}"


def test_discriminator_gradients(stepped, loss_io):
    _, _, grads, _ = stepped
    keys = [k for k in loss_io if k.startswith("updater/grad_dis/")]
    assert {k.removeprefix("updater/grad_dis/") for k in keys} == set(grads["D"])  # every D parameter
    for k in keys:
        name = k.removeprefix("updater/grad_dis/")
        got, ref = grads["D"][name].numpy(), loss_io[k]
        assert _rel(got, ref) < DIS_GRAD_RTOL, f"{name}: rel {_rel(got, ref):.2e}"


def _first_adam_step(g: np.ndarray, lr: float, betas: tuple[float, float], eps: float) -> np.ndarray:
    """Chainer Adam's first update with beta1 = 0 (README): lr * sqrt(1-b2) * g / (sqrt((1-b2) g^2) + eps)."""
    assert betas[0] == 0.0
    g = g.astype(np.float64)
    c = math.sqrt(1 - betas[1])
    return lr * c * g / (c * np.abs(g) + eps)


def test_params_after_adam_and_bn_running(stepped, loss_io, golden_config):
    """The parameters after the engine's optimizer step. Per element, the allowed difference is what a
    gradient error of the README's relative-norm tolerance can do to the step (the step saturates at lr
    for |g| >> eps, so large gradients pin the result tightly; near-zero ones may move by up to 2 lr),
    plus float32 rounding of the parameter."""
    parts, _, _, _ = stepped
    state = {**chainer_state(parts.modules["generator"]), **chainer_state(parts.modules["discriminator"])}
    keys = [k for k in loss_io if "_after_adam/" in k]
    assert keys
    for k in keys:
        role, name = k.removeprefix("updater/").split("_after_adam/")
        grad_ref = loss_io[f"updater/grad_{role}/{name}"]
        adam = _adam_args(golden_config, f"{role}_opt")
        delta = (GEN_GRAD_RTOL if role == "gen" else DIS_GRAD_RTOL) * np.linalg.norm(grad_ref)
        s0 = _first_adam_step(grad_ref, **adam)
        bound = np.maximum(
            np.abs(_first_adam_step(grad_ref + delta, **adam) - s0),
            np.abs(_first_adam_step(grad_ref - delta, **adam) - s0),
        ) + 4 * np.spacing(np.abs(loss_io[k]))
        diff = np.abs(state[name].astype(np.float64) - loss_io[k])
        assert np.all(diff <= bound), f"{name}: worst {np.max(diff - bound):.2e} over the bound"
        # and the step was taken (a missing step would leave the stored state, off by ~lr)
        assert np.abs(state[name] - loss_io[k]).max() < np.abs(s0).max()
    bn = "updater/gen_bn_running_after/block6/b1/avg_var"
    np.testing.assert_allclose(state[bn.split("running_after/")[1]], loss_io[bn], atol=ATOL_RUNNING, rtol=0)


def test_chainer_adam_rule_exact(gen_state, dis_state, loss_io, golden_config):
    """ChainerAdam on the *recorded* gradients reproduces the recorded parameters (float32 rounding)."""
    keys = [k for k in loss_io if "_after_adam/" in k]
    assert keys
    for k in keys:
        role, name = k.removeprefix("updater/").split("_after_adam/")
        src, ref = (gen_state if role == "gen" else dis_state), loss_io[k]
        adam = _adam_args(golden_config, f"{role}_opt")
        p = torch.nn.Parameter(_t(src[name]).clone())
        p.grad = _t(loss_io[f"updater/grad_{role}/{name}"]).clone()
        ChainerAdam([p], **adam).step()
        # the same float32 operations up to their order: a few ulps of the parameter
        np.testing.assert_array_less(np.abs(p.detach().numpy() - ref), 4 * np.spacing(np.abs(ref)) + 1e-30, name)
        expected = src[name] - _first_adam_step(p.grad.numpy(), **adam)
        np.testing.assert_array_less(np.abs(p.detach().numpy() - expected), 4 * np.spacing(np.abs(ref)) + 1e-30)


def _assert_logits(got: np.ndarray, ref: np.ndarray) -> None:
    """README rtol on D logits, with an atol of the same relative size of the logits' magnitude."""
    np.testing.assert_allclose(got, ref, rtol=LOSS_RTOL, atol=LOSS_RTOL * float(np.abs(ref).max()))


def test_r1_sqnorm_per_level(dis, dis_io, loss_io, lam):
    """``split/r1_sqnorm_level{l}``: per-level sums of the squared input gradients of sum(D), from
    vidgan's ``r1_penalty`` gradients; they add up (times lam) to the recorded loss_gp."""
    x = [_t(dis_io[f"real/x{lvl}"]).requires_grad_(True) for lvl in range(1, 5)]
    gp, grads = r1_penalty(dis(x), x, Config(**GOLDEN_CFG, r1_reduction="sum", lam=lam))
    prefix = "split/r1_sqnorm_level"
    levels = sorted(int(k.removeprefix(prefix)) for k in loss_io if k.startswith(prefix))
    assert levels == list(range(1, len(grads) + 1))
    ours = [float(g.detach().double().pow(2).sum()) for g in grads]
    for lvl, got in zip(levels, ours):
        ref = float(loss_io[f"split/r1_sqnorm_level{lvl}"])
        np.testing.assert_allclose(got, ref, rtol=LOSS_RTOL, err_msg=f"level {lvl}")
        # the per-level sum is the sum of the per-sample values
        np.testing.assert_allclose(loss_io[f"split/r1_sqnorm_per_sample_level{lvl}"].sum(), ref, rtol=LOSS_RTOL)
    np.testing.assert_allclose(float(gp.detach()), lam * sum(ours), rtol=LOSS_RTOL)
    np.testing.assert_allclose(float(gp.detach()), float(loss_io["split/loss_gp"]), rtol=LOSS_RTOL)


def test_r1_decomposition(dis, dis_io, loss_io, lam):
    """Per-level R1 sums and input gradients (``split/*``), adversarial/R1 parameter-gradient split."""
    cfg = Config(**GOLDEN_CFG, r1_reduction="sum", lam=lam)
    x = [_t(dis_io[f"real/x{lvl}"]).requires_grad_(True) for lvl in range(1, 5)]
    y_real = dis(x)
    gp, grads = r1_penalty(y_real, x, cfg)
    np.testing.assert_allclose(float(gp.detach()), float(loss_io["split/loss_gp"]), rtol=LOSS_RTOL)
    for lvl in range(1, 5):
        per = grads[lvl - 1].double().pow(2).flatten(1).sum(1).detach().numpy()
        np.testing.assert_allclose(per, loss_io[f"split/r1_sqnorm_per_sample_level{lvl}"], rtol=LOSS_RTOL)
    dydx = sorted(k for k in loss_io if k.startswith("split/dydx_real_level"))
    assert dydx
    for k in dydx:
        lvl = int(k.removeprefix("split/dydx_real_level"))
        assert _rel(grads[lvl - 1].detach().numpy(), loss_io[k]) < DIS_GRAD_RTOL, k
    _assert_logits(torch.cat(y_real).detach().numpy(), loss_io["split/y_real"])
    # parameter-gradient split for the 3 recorded keys
    state = dict(dis.named_parameters())
    names = {chainer_key(k, 3): k for k in state}
    for part, term in (("grad_gp", gp),):
        keys = [k for k in loss_io if k.startswith(f"split/{part}/")]
        g = torch.autograd.grad(term, [state[names[k.split(f"{part}/")[1]]] for k in keys], retain_graph=True)
        for k, gi in zip(keys, g):
            ref = loss_io[k]
            if k.endswith("/b"):  # R1 gives exactly zero to every D bias (D piecewise linear in x)
                # zero at the tolerance the total D gradient (adversarial + R1) is compared with
                scale = DIS_GRAD_RTOL * np.abs(loss_io[k.replace("/grad_gp/", "/grad_adv/")]).max()
                assert np.abs(gi.numpy()).max() <= scale and np.abs(ref).max() <= scale, k
            else:
                assert _rel(gi.numpy(), ref) < DIS_GRAD_RTOL, k


def test_adversarial_gradient_split(dis, dis_io, gen_io, loss_io):
    y_real = dis([_t(dis_io[f"real/x{lvl}"]) for lvl in range(1, 5)])
    y_fake = dis([_t(gen_io[f"train/x{lvl}"]) for lvl in range(1, 5)])  # the step's (pre-update) fakes
    _assert_logits(torch.cat(y_fake).detach().numpy(), loss_io["split/y_fake"])
    loss_dis, loss_gen = gan_losses(y_real, y_fake)
    np.testing.assert_allclose(float(loss_dis.detach()), float(loss_io["split/loss_dis_adv"]), rtol=LOSS_RTOL)
    np.testing.assert_allclose(float(loss_gen.detach()), float(loss_io["split/loss_gen"]), rtol=LOSS_RTOL)
    state = dict(dis.named_parameters())
    names = {chainer_key(k, 3): k for k in state}
    keys = [k for k in loss_io if k.startswith("split/grad_adv/")]
    g = torch.autograd.grad(loss_dis, [state[names[k.removeprefix("split/grad_adv/")]] for k in keys])
    for k, gi in zip(keys, g):
        assert _rel(gi.numpy(), loss_io[k]) < DIS_GRAD_RTOL, k


def test_r1_mean_form_equals_sum_form_at_matching_strength(dis, dis_io, lam):
    """mean form with gamma/2 = lam * sum_l N_l is the official sum form (spec §3.2)."""
    x = [_t(dis_io[f"real/x{lvl}"]).requires_grad_(True) for lvl in range(1, 5)]
    y = dis(x)
    n_real = sum(xi.shape[0] for xi in x)
    s, _ = r1_penalty(y, x, Config(**GOLDEN_CFG, r1_reduction="sum", lam=lam))
    m, _ = r1_penalty(y, x, Config(**GOLDEN_CFG, r1_reduction="mean", r1_gamma_half=lam * n_real))
    np.testing.assert_allclose(float(m.detach()), float(s.detach()), rtol=1e-6)
    assert Config().r1_gamma_half == 0.5 * 4 * 32  # the release: lam 0.5 at 4 levels x per-GPU batch 32


def test_lr_schedule_and_optimizers(golden_config):
    parts = build(Config(**GOLDEN_CFG), DataConfig(sampler="multilevel", size=192, frames=16))
    assert parts.lr_factor("G", 0) == 1.0
    assert parts.lr_factor("D", 82_000 * 128) == pytest.approx(0.18)  # the evaluated 82k checkpoint
    assert parts.lr_factor("G", 100_000 * 128) == 0.0 and parts.lr_factor("G", 10**9) == 0.0
    for role, opt in parts.optimizers.items():
        assert isinstance(opt, ChainerAdam)
        want = _adam_args(golden_config, {"G": "gen_opt", "D": "dis_opt"}[role])  # the official YAML values
        assert {k: opt.param_groups[0][k] for k in want} == want, role
    assert [p.name for p in parts.objective.phases] == ["G", "D"]
    assert parts.objective.phases[0].modules == ("generator",)
    assert parts.objective.phases[1].modules == ("discriminator",)
