"""FRNet: parameter counts, streaming ``step()`` == whole-clip inference, first frame, block growth."""

from __future__ import annotations

import pytest
import torch

from vidgan.families.api import count_parameters
from vidgan.families.tecogan import Config, SpatioTemporalDiscriminator, build_generator
from vidgan.families.tecogan.generator import FRNet, grow_resblocks, reflected_order


def test_parameter_counts():
    g10, g16 = FRNet(num_blocks=10), FRNet(num_blocks=16)
    assert count_parameters(g10.fnet) == 1_745_506
    assert count_parameters(g10.srnet) == 843_587
    assert count_parameters(g10) == 2_589_093
    assert count_parameters(g16) == 3_032_229
    assert count_parameters(SpatioTemporalDiscriminator()) == 819_457
    assert count_parameters(build_generator(Config())) == 3_032_229  # default = released TecoGAN
    assert len(g10.state_dict()) == 78 and len(FRNet(degradation="bi").state_dict()) == 76


def _tiny(seed=0, **kw):
    torch.manual_seed(seed)
    g = FRNet(nf=8, num_blocks=2, **kw).eval()
    with torch.no_grad():  # a random FNet gives near-zero flows; make them a few pixels
        g.fnet.flow[2].weight.mul_(30)
    return g


def test_reflected_order():
    assert reflected_order(6) == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5]
    assert reflected_order(3) == [2, 1, 0, 1, 2]
    assert reflected_order(1) == [0]


@pytest.mark.parametrize("size", [(16, 16), (12, 20)])
def test_step_stream_equals_whole_clip(size):
    g = _tiny()
    lr = torch.rand(2, 3, 7, *size)
    whole = g.infer_sequence(lr)  # (B, C, T, 4h, 4w)
    assert whole.shape == (2, 3, 7, 4 * size[0], 4 * size[1])
    lr_prev, hr_prev = torch.zeros_like(lr[:, :, 0]), torch.zeros(2, 3, 4 * size[0], 4 * size[1])
    outs = []
    with torch.no_grad():
        for k, idx in enumerate(reflected_order(7)):
            hr_prev = g.step(lr[:, :, idx], lr_prev, hr_prev)
            lr_prev = lr[:, :, idx]
            if k >= 5:
                outs.append(hr_prev)
    for t, o in enumerate(outs):
        assert (o - whole[:, :, t]).abs().max() <= 1e-5
    # the flows are not trivial: the recurrence matters
    assert g.flow(lr[:, :, 1], lr[:, :, 0]).abs().max() > 0.5


def test_step_matches_training_forward_and_first_frame():
    g = _tiny()
    lr = torch.rand(1, 3, 4, 16, 24)
    with torch.no_grad():
        seq = g.forward_sequence(lr)["hr"]
        first = g.step(lr[:, :, 0], torch.zeros_like(lr[:, :, 0]), torch.zeros(1, 3, 64, 96))
        assert torch.equal(first, g.srnet(lr[:, :, 0], torch.zeros(1, 48, 16, 24)))
        hr = first
        for t in range(1, 4):
            hr = g.step(lr[:, :, t], lr[:, :, t - 1], hr)
            assert (hr - seq[:, :, t]).abs().max() <= 1e-5


def test_grow_resblocks_is_function_preserving_and_trainable():
    small = _tiny()
    torch.manual_seed(1)
    big = FRNet(nf=8, num_blocks=4).eval()
    new = grow_resblocks(big, small.state_dict(), "residual_zero")
    assert len(new) == 8 and all(k.startswith("srnet.resblocks.") for k in new)
    lr = torch.rand(1, 3, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(big.forward_sequence(lr)["hr"], small.forward_sequence(lr)["hr"], atol=1e-6, rtol=0)
    big.train()
    big.forward_sequence(lr)["hr"].square().mean().backward()
    blk = big.srnet.resblocks[3].conv
    assert blk[2].weight.grad.abs().sum() > 0  # the zero conv gets a gradient (random first conv)
    # the official zero fill: both convs of a new block stay frozen at zero
    torch.manual_seed(1)
    off = FRNet(nf=8, num_blocks=4)
    grow_resblocks(off, small.state_dict(), "zero")
    off.forward_sequence(lr)["hr"].square().mean().backward()
    blk = off.srnet.resblocks[3].conv
    assert blk[0].weight.grad.abs().sum() == 0 and blk[2].weight.grad.abs().sum() == 0
