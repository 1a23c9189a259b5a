"""engine.ema: the EMA is beta * ema + (1 - beta) * model with beta = 0.5 ** (clips / half_life); buffers copied."""

import torch
from torch import nn

from vidgan.engine.ema import make_ema, update_ema


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_make_ema_is_a_frozen_eval_copy():
    m = _model()
    ema = make_ema(m)
    assert not ema.training and all(not p.requires_grad for p in ema.parameters())
    assert all(torch.equal(a, b) for a, b in zip(ema.parameters(), m.parameters()))
    assert all(a.data_ptr() != b.data_ptr() for a, b in zip(ema.parameters(), m.parameters()))


def test_update_follows_the_half_life_formula_and_copies_buffers():
    m = _model()
    ema = make_ema(m)
    before = [p.detach().clone() for p in ema.parameters()]
    with torch.no_grad():
        for p in m.parameters():
            p.add_(1.0)
        m[1].running_mean.fill_(3.0)
    update_ema(ema, m, clips=8, half_life_clips=8)  # beta = 0.5
    for e, b, p in zip(ema.parameters(), before, m.parameters()):
        torch.testing.assert_close(e, 0.5 * b + 0.5 * p.detach())
    assert torch.equal(ema[1].running_mean, m[1].running_mean)
    update_ema(ema, m, clips=8, half_life_clips=1e-12)  # beta -> 0: the model itself
    for e, p in zip(ema.parameters(), m.parameters()):
        torch.testing.assert_close(e, p.detach())
