"""The generator's CPU speed paths compute the same function as the plain modules."""

from __future__ import annotations

import torch

from vidgan.families.tganv2.generator import ConvLSTMCell, _hidden_conv


def _output_and_grads(cell: ConvLSTMCell, h0: torch.Tensor, fast: bool, bf16: bool = False):
    """(output, input gradient, weight gradient) of the hidden conv, by the speed path or the module."""
    h = h0.clone().requires_grad_(True)
    cell.zero_grad()
    with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
        y = _hidden_conv(h, cell.w_hifoc) if fast else cell.w_hifoc(h)
    assert y.dtype == (torch.bfloat16 if bf16 else torch.float32)
    (y.float() * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
    return y.detach().float(), h.grad.clone(), cell.w_hifoc.weight.grad.clone()


def test_small_map_conv_gradients_match_conv2d():
    torch.manual_seed(0)
    cell = ConvLSTMCell(16, 32)
    h0 = torch.randn(3, 32, 4, 4)
    for got, ref in zip(_output_and_grads(cell, h0, True), _output_and_grads(cell, h0, False)):
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6)
    # and the fast path really ran
    assert type(_hidden_conv(h0.requires_grad_(True), cell.w_hifoc).grad_fn).__name__ == "_SmallMapConvBackward"


def test_small_map_conv_only_where_it_applies():
    cell = ConvLSTMCell(4, 8)
    big = torch.randn(1, 8, 16, 16, requires_grad=True)  # larger maps: the module's own conv
    assert "SmallMap" not in type(_hidden_conv(big, cell.w_hifoc).grad_fn).__name__


def test_small_map_conv_under_bf16_autocast_matches_the_module():
    """Under CPU autocast both operands are cast to bf16 (as autocast does for the module's conv)."""
    torch.manual_seed(0)
    cell = ConvLSTMCell(8, 16)
    h0 = torch.randn(4, 16, 4, 4)
    for got, ref in zip(_output_and_grads(cell, h0, True, True), _output_and_grads(cell, h0, False, True)):
        assert (got - ref).norm() <= 0.01 * ref.norm()


def test_hidden_weight_cast_once_per_sequence_is_the_same_function():
    """``frames`` casts each hidden weight once for all steps: same bf16 output as a cast per step, gradients
    to bf16 rounding (accumulated over the steps in bf16, as autocast's own cached casts)."""
    from vidgan.families.tganv2 import Config
    from vidgan.families.tganv2.generator import TGANv2Generator

    torch.manual_seed(0)
    gen = TGANv2Generator(Config(clstm_ch=16, ch=4, mid_ch=4, t_size=3, n_frames=6))
    z = torch.rand(2, gen.cfg.z_slow_dim) * 2 - 1
    cell = gen.clstm[0]

    def run(shared: bool):
        gen.zero_grad()
        with torch.autocast("cpu", torch.bfloat16):
            if not shared:
                cell.autocast_hidden_weight = lambda: None  # instance attribute: back to a cast per step
            try:
                y = gen.frames(z)
            finally:
                cell.__dict__.pop("autocast_hidden_weight", None)
        (y.float() * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
        return y.detach().float(), cell.w_hifoc.weight.grad.clone()

    (y1, g1), (y0, g0) = run(True), run(False)
    torch.testing.assert_close(y1, y0, rtol=0, atol=0)
    assert (g1 - g0).norm() <= 0.02 * g0.norm()


def test_hidden_weight_is_cast_once_per_sequence():
    from torch.utils._python_dispatch import TorchDispatchMode

    from vidgan.families.tganv2 import Config
    from vidgan.families.tganv2.generator import TGANv2Generator

    gen = TGANv2Generator(Config(clstm_ch=16, ch=4, mid_ch=4, t_size=3, n_frames=6))
    shape = tuple(gen.clstm[0].w_hifoc.weight.shape)
    casts = []

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func is torch.ops.aten._to_copy.default and tuple(args[0].shape) == shape:
                casts.append(func)
            return func(*args, **(kwargs or {}))

    with torch.no_grad(), torch.autocast("cpu", torch.bfloat16), Count():
        gen.frames(torch.zeros(2, gen.cfg.z_slow_dim))
    # one cast of the input conv's weight (step 0 only has an input) + one of the hidden weight, not one per step
    assert len(casts) == 2 * len(gen.clstm)
