"""ChainerAdam's multi-tensor step is Chainer's per-parameter formula, bit for bit."""

from __future__ import annotations

import math

import torch

from vidgan.families.tganv2.optim import ChainerAdam


def _chainer_step(p, g, m, v, t, lr, b1, b2, eps):
    m.add_(g - m, alpha=1 - b1)
    v.add_(g * g - v, alpha=1 - b2)
    p.addcdiv_(m, v.sqrt().add_(eps), value=-lr * math.sqrt(1 - b2**t) / (1 - b1**t))


def test_matches_the_per_parameter_formula_with_uneven_steps():
    torch.manual_seed(0)
    params = [torch.randn(5, 3, requires_grad=True), torch.randn(7, requires_grad=True), torch.randn(2, 2, 2)]
    params[2].requires_grad_(True)
    ref = [p.detach().clone() for p in params]
    state = [(torch.zeros_like(r), torch.zeros_like(r), [0]) for r in ref]
    opt = ChainerAdam(params, lr=1e-3, betas=(0.5, 0.99), eps=1e-8)
    for it in range(4):
        for i, p in enumerate(params):
            skip = i == 1 and it == 1  # one parameter misses a step: its step count lags behind
            p.grad = None if skip else torch.randn_like(p) * 1e-2
            if not skip:
                m, v, t = state[i]
                t[0] += 1
                _chainer_step(ref[i], p.grad, m, v, t[0], 1e-3, 0.5, 0.99, 1e-8)
        opt.step()
        for p, r in zip(params, ref):
            assert torch.equal(p.detach(), r)
    assert opt.state[params[1]]["step"] == 3 and opt.state[params[0]]["step"] == 4
