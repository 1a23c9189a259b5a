"""StyleGAN2 building blocks against direct reference formulas: upfirdn2d (zero insertion, padding, FIR,
decimation), the resampling convs, modulated conv (fused grouped form), minibatch-stddev groups, mapping
w_avg / truncation; first and second derivatives of the FIR op (R1 runs through it)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vidgan.families.styleganv.layers import (
    MappingNetwork,
    MinibatchStdLayer,
    _Conv,
    conv2d_resample,
    modulated_conv2d,
    setup_filter,
    upfirdn2d,
    upsample2d,
)


def _ref_upfirdn(x, f, up=1, down=1, pad=(0, 0, 0, 0), gain=1.0):
    """Textbook definition: zero insertion, zero pad / crop, true convolution, decimation."""
    n, c, h, w = x.shape
    z = torch.zeros(n, c, h * up, w * up, dtype=x.dtype)
    z[:, :, ::up, ::up] = x
    px0, px1, py0, py1 = pad
    z = F.pad(z, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    z = z[:, :, max(-py0, 0) : z.shape[2] - max(-py1, 0), max(-px0, 0) : z.shape[3] - max(-px1, 0)]
    k = (f * gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1).to(x.dtype)
    return F.conv2d(z, k, groups=c)[:, :, ::down, ::down]


CASES = [
    dict(up=2, pad=(2, 1, 2, 1), gain=4.0),
    dict(up=2, pad=(1, 1, 1, 1), gain=4.0),
    dict(up=2, pad=(0, -1, 3, 0), gain=4.0),
    dict(down=2, pad=(2, 2, 2, 2)),
    dict(down=2, pad=(1, 1, 1, 1)),
    dict(down=2, pad=(-1, -1, -1, -1)),
    dict(pad=(2, 1, 0, 3)),
]


@pytest.mark.parametrize("case", CASES)
def test_upfirdn2d_matches_the_definition(case):
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    f = torch.randn(4, 4, dtype=torch.float64)  # asymmetric: catches flipped filters
    args = dict(up=case.get("up", 1), down=case.get("down", 1), gain=case.get("gain", 1.0))
    got = upfirdn2d(x, f, padding=case["pad"], **args)
    want = _ref_upfirdn(x, f, pad=case["pad"], **args)
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("case", CASES[:1] + CASES[3:5])
def test_upfirdn2d_first_and_second_derivatives(case):
    f = setup_filter().double()
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    args = dict(up=case.get("up", 1), down=case.get("down", 1), gain=case.get("gain", 1.0))

    def fn(v):
        return upfirdn2d(v, f, padding=case["pad"], **args)

    assert torch.autograd.gradcheck(fn, (x,))
    assert torch.autograd.gradgradcheck(fn, (x,))


def test_resample_filter_and_upsample_shapes():
    f = setup_filter()
    assert f.shape == (4, 4) and float(f.sum()) == pytest.approx(1.0)
    torch.testing.assert_close(f, torch.outer(torch.tensor([1.0, 3, 3, 1]), torch.tensor([1.0, 3, 3, 1])) / 64)
    x = torch.ones(1, 2, 8, 8)
    y = upsample2d(x, f)
    assert y.shape == (1, 2, 16, 16)
    torch.testing.assert_close(y[:, :, 2:-2, 2:-2], torch.ones(1, 2, 12, 12))  # DC gain 1 inside


@pytest.mark.parametrize("up,down,k", [(2, 1, 3), (1, 2, 3), (1, 2, 1), (1, 1, 3), (2, 1, 1)])
def test_conv2d_resample_equals_conv_then_fir(up, down, k):
    """The fast paths equal 'FIR-upsample then conv' / 'conv then FIR-downsample' written with the reference."""
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    w = torch.randn(5, 4, k, k, dtype=torch.float64)
    f = setup_filter().double()
    got = conv2d_resample(x, w, f, up=up, down=down, padding=k // 2)
    if up > 1:  # zero-insert + FIR (gain 4) then the conv; the official stride-2 transposed conv applies the
        # kernel as a true convolution (flipped), as conv_transpose2d does
        u = _ref_upfirdn(x, f, up=2, pad=(2, 1, 2, 1), gain=4.0)
        want = F.conv2d(u, w.flip([2, 3]), padding=k // 2)
        # (at the borders the official op filters the full transposed output instead of a zero-padded one;
        # the golden generator tests pin that down)
        got, want = got[:, :, 2:-2, 2:-2], want[:, :, 2:-2, 2:-2]
    elif down > 1:  # FIR then stride-2 conv (official order)
        p = k // 2 + 1 if k == 3 else 1
        d = _ref_upfirdn(x, f, pad=(p, p, p, p))
        want = F.conv2d(d, w, stride=2) if k == 3 else F.conv2d(d[:, :, ::2, ::2], w)
    else:
        want = F.conv2d(x, w, padding=k // 2)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("up", [1, 2])
def test_modulated_conv_equals_the_fused_grouped_form(up):
    n, i, o = 3, 4, 5
    x = torch.randn(n, i, 6, 6, dtype=torch.float64)
    weight = torch.randn(o, i, 3, 3, dtype=torch.float64)
    styles = torch.randn(n, i, dtype=torch.float64)
    f = setup_filter().double()
    got = modulated_conv2d(x, weight, styles, up=up, padding=1, resample_filter=f)
    wm = weight[None] * styles[:, None, :, None, None]
    wm = wm * (wm.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    want = torch.cat([conv2d_resample(x[j : j + 1], wm[j], f, up=up, padding=1) for j in range(n)])
    torch.testing.assert_close(got, want)


def test_minibatch_std_uses_strided_groups():
    x = torch.randn(8, 6, 4, 4, dtype=torch.float64)
    y = MinibatchStdLayer(4, 1)(x)
    for j in range(2):  # group j = samples j, j+2, j+4, j+6
        grp = x[j::2]
        want = (grp.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        for i in range(j, 8, 2):
            torch.testing.assert_close(y[i, -1], want.expand(4, 4))
    with pytest.raises(ValueError, match="divisible"):
        MinibatchStdLayer(4, 1)(torch.randn(6, 2, 4, 4))


def test_mapping_w_avg_and_truncation():
    torch.manual_seed(0)
    m = MappingNetwork(8, 0, 8, num_ws=3, num_layers=2)
    z = torch.randn(5, 8)
    m.eval()
    w = m(z)
    assert w.shape == (5, 3, 8) and torch.equal(m.w_avg, torch.zeros(8))
    m.train()
    w1 = m(z)
    torch.testing.assert_close(m.w_avg, w1[:, 0].mean(0) * (1 - 0.995))
    avg = m.w_avg.clone()
    m(z, update_w_avg=False)
    assert torch.equal(m.w_avg, avg)
    m.eval()
    wt = m(z, truncation_psi=0.7)
    torch.testing.assert_close(wt, avg + 0.7 * (w - avg))
    assert math.isfinite(float(wt.detach().sum()))


@pytest.mark.parametrize(
    "transposed,stride,pad,k", [(False, 1, 1, 3), (False, 2, 0, 3), (False, 1, 0, 1), (True, 2, 0, 3)]
)
def test_reduced_precision_conv_gradients(transposed, stride, pad, k):
    """The bf16 CPU conv (GEMM weight gradient) run in float64: its first derivatives are exact."""
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3 if transposed else 4, 4 if transposed else 3, k, k, dtype=torch.float64, requires_grad=True)
    b = None if transposed else torch.randn(4, dtype=torch.float64, requires_grad=True)
    args = (x, w) if transposed else (x, w, b)

    def fn(*a):
        xx, ww = a[0], a[1]
        bb = a[2] if len(a) > 2 else None
        return _Conv.apply(
            xx.contiguous(memory_format=torch.channels_last), ww, bb, stride, pad, transposed, torch.float64
        )

    assert torch.autograd.gradcheck(fn, args)
    ref = (
        F.conv_transpose2d(x, w, stride=stride, padding=pad)
        if transposed
        else F.conv2d(x, w, b, stride=stride, padding=pad)
    )
    torch.testing.assert_close(fn(*args), ref)


def test_bf16_autocast_conv_path_matches_fp32_gradients():
    from vidgan.families.styleganv.layers import conv2d_resample, double_backward_safe

    torch.manual_seed(0)
    x = torch.randn(2, 8, 16, 16).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    w = torch.randn(8, 8, 3, 3, requires_grad=True)
    f = setup_filter()
    grads = []
    for ctx in ("fast", "plain"):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            if ctx == "plain":
                with double_backward_safe():
                    y = conv2d_resample(x, w, f, up=2, padding=1)
            else:
                y = conv2d_resample(x, w, f, up=2, padding=1)
        grads.append(torch.autograd.grad(y.float().square().sum(), (x, w)))
    for a, b in zip(*grads):
        assert float((a - b).norm() / b.norm()) < 2e-2
