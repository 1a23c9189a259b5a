"""One official ``StyleGAN2Loss.accumulate_gradients`` step (golden ``loss_io.npz``) through the vidgan
Objective, driven like the engine: per phase freeze the other module, sum the terms, multiply lazy phases by
their interval, backward; compare losses, per-sample reports, gradient norms and full gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.families.api import StepContext
from vidgan.families.styleganv import build
from vidgan.families.styleganv.convert import load_strict


def _t(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


@pytest.fixture(scope="module")
def stepped(golden_setup, gen_state, dis_state, loss_io):
    import dataclasses
    import types

    cfg, res, frames = golden_setup
    cfg = dataclasses.replace(cfg, r1_gamma=float(loss_io["r1_gamma"]))
    data = types.SimpleNamespace(size=res, frames=frames, sampler="random_t", max_dist=32, source="x")
    parts = build(cfg, data)
    g, d = parts.modules["generator"], parts.modules["discriminator"]
    load_strict(g, {k: _t(v) for k, v in gen_state.items()}, "G")
    load_strict(d, {k: _t(v) for k, v in dis_state.items()}, "D")
    real = _t(loss_io["real_img"])  # (B, F, C, H, W) in [-1, 1]
    batch = {"video": real.permute(0, 2, 1, 3, 4), "times": _t(loss_io["real_t"])}
    ctx = StepContext(step=0, clips_seen=0, generator=torch.Generator().manual_seed(0))
    ctx.cache.update(gen_z=_t(loss_io["gen_z"]), gen_t=_t(loss_io["gen_t"]), gen_motion_z=_t(loss_io["gen_motion_z"]))
    g.train()
    d.train()
    out = {}
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for ph in parts.objective.phases:
            g.mapping.w_avg.copy_(_t(loss_io["w_avg_before"]))  # reset before each phase, as the fixture
            for role, m in parts.modules.items():
                m.requires_grad_(role in ph.modules)
                m.zero_grad(set_to_none=True)
            terms = parts.objective(ph.name, batch, parts.modules, ctx)
            if not terms:
                out[ph.name] = None
                continue
            gain = ph.interval if ph.lazy else 1
            (sum(terms.values()) * gain).backward()
            mod = parts.modules[ph.modules[0]]
            out[ph.name] = {
                "terms": {k: float(v.detach()) for k, v in terms.items()},
                "gain": gain,
                "grads": {
                    k: (p.grad.clone() if p.grad is not None else torch.zeros_like(p))
                    for k, p in mod.named_parameters()
                },
                "names": [k for k, _ in mod.named_parameters()],
                "w_avg": g.mapping.w_avg.clone(),
            }
    finally:
        torch.set_num_threads(n)
    return parts, out, ctx


def test_phases_and_gains(stepped, loss_io):
    parts, out, _ = stepped
    names = [p.name for p in parts.objective.phases]
    assert names == ["Gmain", "Dmain", "Dreg"]  # the official Greg phase is empty (pl_weight = 0)
    for ph in ("Gmain", "Dmain", "Dreg"):
        assert out[ph]["gain"] == int(loss_io[f"{ph}.gain"])


def test_scalar_losses(stepped, loss_io):
    _, out, ctx = stepped
    rep = ctx.cache["report"]
    np.testing.assert_allclose(
        out["Gmain"]["terms"]["loss_G"], loss_io["Gmain.report.Loss/G/loss"].mean(), rtol=0, atol=1e-5
    )
    np.testing.assert_allclose(
        sum(out["Dmain"]["terms"].values()), loss_io["Dmain.report.Loss/D/loss"].mean(), rtol=0, atol=1e-5
    )
    np.testing.assert_allclose(
        out["Dreg"]["terms"]["loss_r1"], loss_io["Dreg.report.Loss/D/reg"].mean(), rtol=1e-4, atol=1e-9
    )
    assert set(rep) == {"Gmain", "Dmain", "Dreg"}


@pytest.mark.parametrize("phase", ["Gmain", "Dmain", "Dreg"])
def test_per_sample_reports(stepped, loss_io, phase):
    _, _, ctx = stepped
    rep = ctx.cache["report"][phase]
    prefix = f"{phase}.report.Loss/"
    keys = [k[len(prefix) :] for k in loss_io if k.startswith(prefix) and not k[len(prefix) :].startswith("signs/")]
    assert keys
    for k in keys:
        ref = loss_io[prefix + k]
        tol = dict(rtol=1e-4, atol=1e-9) if k in ("r1_penalty", "D/reg") else dict(rtol=0, atol=1e-5)
        np.testing.assert_allclose(rep[k].double().numpy(), ref, err_msg=k, **tol)
    for k in loss_io:
        if k.startswith(prefix + "signs/"):
            which = k.split("/")[-1]
            np.testing.assert_array_equal(np.sign(rep[f"scores/{which}"].double().numpy()), loss_io[k])


@pytest.mark.parametrize("phase", ["Gmain", "Dmain", "Dreg"])
def test_gradient_norms_and_gradients(stepped, loss_io, phase):
    _, out, _ = stepped
    names = [str(n) for n in loss_io[f"{phase}.grad_names"]]
    assert names == out[phase]["names"]  # named_parameters() order is the official one
    grads = out[phase]["grads"]
    norms = np.array([float(grads[n].double().norm()) for n in names])
    np.testing.assert_allclose(norms, loss_io[f"{phase}.grad_norms"], rtol=1e-3, atol=1e-9)
    prefix = f"{phase}.grad."
    full = [k for k in loss_io if k.startswith(prefix)]
    assert full
    for k in full:
        # README: rtol 1e-3 (+ atol 1e-9), applied to each tensor as a whole: float32 reassociation in the
        # long G chain moves single small entries by more than 1e-3 of themselves (measured: the norm of the
        # error is <= 2e-4 of the gradient's norm for G, <= 2e-5 for D)
        ref = loss_io[k].astype(np.float64)
        mine = grads[k[len(prefix) :]].double().numpy()
        assert np.linalg.norm(mine - ref) <= 1e-3 * np.linalg.norm(ref) + 1e-9, k
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-9 + 1e-3 * np.abs(ref).max(), err_msg=k)


def test_w_avg_tracks_the_gmain_mapping_call(stepped, loss_io):
    _, out, _ = stepped
    np.testing.assert_allclose(out["Gmain"]["w_avg"].numpy(), loss_io["Gmain.w_avg_after"], rtol=0, atol=1e-6)
    # vidgan default: the no-grad G call of Dmain leaves w_avg alone
    np.testing.assert_array_equal(out["Dmain"]["w_avg"].numpy(), loss_io["w_avg_before"])
