"""bf16_penalty_convs: conv2d/conv3d under CPU bf16 autocast with a double backward that matches fp32."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vidgan.nn.double_backward import bf16_penalty_convs, input_grads_only

CASES = [
    dict(nd=2),
    dict(nd=2, stride=2),
    dict(nd=2, padding=0),
    dict(nd=2, groups=2),
    dict(nd=2, padding="same"),
    dict(nd=3),
    dict(nd=3, stride=2),
    dict(nd=2, kernel=2, padding="same"),  # asymmetric "same": not handled, runs in fp32
]


def _penalty_grads(mode: str, nd: int = 2, kernel: int = 3, stride: int = 1, padding=1, groups: int = 1):
    torch.manual_seed(0)
    conv = (torch.nn.Conv2d if nd == 2 else torch.nn.Conv3d)(4, 16, kernel, stride, padding, groups=groups)
    x = torch.randn(2, 4, *([4] * (nd - 2)), 32, 32, requires_grad=True)  # the bug shows at 32x32, not at 32x31
    with torch.autocast("cpu", torch.bfloat16, enabled=mode != "fp32"):
        if mode == "guard":
            with bf16_penalty_convs():
                y = conv(x)
        else:
            y = conv(x)
        logits = (F.relu(y.float()) * torch.linspace(0, 1, y.numel()).view_as(y)).flatten(1).sum(1)
    (gx,) = torch.autograd.grad(logits.sum(), [x], create_graph=True)
    (gx.square().sum() + 0.1 * logits.sum()).backward()  # R1-like: double backward plus a first-order term
    return y.dtype, [conv.weight.grad, conv.bias.grad, x.grad]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # the asymmetric case, on purpose
@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_penalty_gradients_match_fp32(case):
    _, ref = _penalty_grads("fp32", **case)
    dtype, got = _penalty_grads("guard", **case)
    handled = not (case.get("kernel") == 2)
    assert dtype == (torch.bfloat16 if handled else torch.float32)
    for g, r in zip(got, ref):
        assert float((g - r).norm() / r.norm()) < 5e-2


def test_the_bug_it_guards_against():
    """Without the guard the padded stride-1 case is wrong (if torch fixes it, this fails: the guard can go)."""
    _, ref = _penalty_grads("fp32")
    _, got = _penalty_grads("plain")
    assert float((got[0] - ref[0]).norm() / ref[0].norm()) > 0.5


def test_outside_bf16_autocast_it_is_torchs_conv():
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 8, 8)
    with bf16_penalty_convs():
        y = conv(x)
    assert y.grad_fn is not None and "Convolution" in type(y.grad_fn).__name__
    torch.testing.assert_close(y, conv(x), rtol=0, atol=0)


def test_input_grads_only_skips_weight_gradients():
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    with torch.autocast("cpu", torch.bfloat16), bf16_penalty_convs():
        y = conv(x)
    with input_grads_only():
        gx, gw = torch.autograd.grad(y.float().sum(), [x, conv.weight], allow_unused=True)
    assert gx is not None and gw is None
    gx, gw = torch.autograd.grad(conv(x).sum(), [x, conv.weight])  # outside: both, as usual
    assert gw is not None
