"""compat="tf" (official TF layout): parameter counts, shared keys, and each difference as an identity."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

import vidgan.families.tecogan as T
from vidgan.core.config import from_dict
from vidgan.data.config import DataConfig
from vidgan.families.api import StepContext, count_parameters
from vidgan.families.tecogan.compat import pad_flow, transposed_conv, upsample_flow
from vidgan.families.tecogan.discriminator import assemble_triplets, merge_flows
from vidgan.families.tecogan.generator import FRNet
from vidgan.nn.warp import backward_warp


def test_counts_and_keys():
    pt, tf = FRNet(num_blocks=10), FRNet(num_blocks=10, compat="tf")
    assert count_parameters(tf) == 2_589_093
    assert list(pt.state_dict()) == list(tf.state_dict())  # same names and shapes: only the numerics differ
    d = T.SpatioTemporalDiscriminator(compat="tf")
    assert count_parameters(d) == 802_817  # spec §5.2 [TF]
    sync = torch.nn.SyncBatchNorm.convert_sync_batchnorm(d)  # multi-GPU: beta must survive the conversion
    assert count_parameters(sync) == 802_817


def test_transposed_conv_placement_is_a_one_pixel_phase():
    torch.manual_seed(0)
    pt, tf = transposed_conv(4, "pt"), transposed_conv(4, "tf")
    tf.load_state_dict(pt.state_dict())
    x = torch.randn(1, 4, 5, 6)
    a, b = pt(x), tf(x)
    assert a.shape == b.shape == (1, 4, 10, 12)
    torch.testing.assert_close(b[..., 1:, 1:], a[..., :-1, :-1])


def test_tf_flow_convention_and_upscale_four():
    # a tf flow (dy, dx) sampled at p - f, converted, then warped the pt way
    img = torch.arange(6 * 8, dtype=torch.float32).view(1, 1, 6, 8)
    f_tf = torch.zeros(1, 2, 6, 8)
    f_tf[:, 0], f_tf[:, 1] = 1.0, -2.0  # dy = 1, dx = -2: out(y, x) = img(y - 1, x + 2)
    g = FRNet(nf=4, num_blocks=1, compat="tf")
    out = backward_warp(img, -f_tf.flip(1))
    torch.testing.assert_close(out[0, 0, 1:, :6], img[0, 0, :-1, 2:], atol=1e-4, rtol=0)
    assert g.fnet.compat == "tf"
    # upscale_four: output 4i + a = lerp(i, i + 1, a / 4), last row/col replicated; then x 4 magnitude
    x = torch.randn(1, 2, 3, 5)
    y = upsample_flow(x, 4, g.upsample_func, "tf").numpy() / 4
    xn = x.numpy()
    for i in range(12):
        lo, fr = i // 4, (i % 4) / 4
        hi = min(lo + 1, 2)
        for j in range(20):
            lo2, fr2 = j // 4, (j % 4) / 4
            hi2 = min(lo2 + 1, 4)
            top = xn[0, :, lo, lo2] * (1 - fr2) + xn[0, :, lo, hi2] * fr2
            bot = xn[0, :, hi, lo2] * (1 - fr2) + xn[0, :, hi, hi2] * fr2
            np.testing.assert_allclose(y[0, :, i, j], top * (1 - fr) + bot * fr, atol=1e-5)


def test_symmetric_flow_padding():
    f = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 2, 8, 8)
    assert pad_flow(f, 8, 11, "tf")[0, 0, 0, 8:].tolist() == [7.0, 6.0, 5.0]
    assert pad_flow(f, 8, 11, "pt")[0, 0, 0, 8:].tolist() == [6.0, 5.0, 4.0]


def test_tf_build_trains_and_streams():
    cfg = dataclasses.replace(from_dict(T.Config, T.PRESETS["tiny"]["family"]), compat="tf", vgg_weight=0.0)
    parts = T.build(cfg, DataConfig(sampler="paired", size=32, frames=3))
    b = {"lr": torch.rand(2, 3, 3, 8, 8) * 2 - 1, "hr": torch.rand(2, 3, 3, 32, 32) * 2 - 1}
    ctx = StepContext(0, 0, torch.Generator())
    for phase in parts.objective.phases:
        terms = parts.objective(phase.name, b, parts.modules, ctx)
        loss = sum(terms.values())
        assert torch.isfinite(loss)
        loss.backward()
    gen, disc = parts.modules["generator"], parts.modules["discriminator"]
    lr = (b["lr"] + 1) / 2
    out = gen.forward_sequence(lr)
    flows = merge_flows(out["hr_flow"].detach(), 3)
    x = assemble_triplets((b["hr"] + 1) / 2, lr, flows, disc.upsample_func, compat="tf")
    torch.testing.assert_close(x[:, 0], b["hr"][:, 0, 0])  # original group in [-1, 1]
    logits, _ = disc(x)
    assert logits.shape == (2, 1, 2, 2)  # per-location map
    gen.eval()
    whole = gen.infer_sequence(lr[:, :, :3])
    h = torch.zeros(2, 3, 32, 32)
    p = torch.zeros_like(lr[:, :, 0])
    with torch.no_grad():
        for k, i in enumerate([2, 1, 0, 1, 2]):
            h = gen.step(lr[:, :, i], p, h)
            p = lr[:, :, i]
            if k >= 2:
                assert (h - whole[:, :, k - 2]).abs().max() <= 1e-5
