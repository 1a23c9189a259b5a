"""Discriminators vs the official ``MultiResNetVideoDiscriminator`` (golden ``discriminator_io.npz``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.families.tganv2.discriminator import concat_logits, downsample

RTOL = 1e-5  # golden README: rtol 1e-5 on D logits


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def test_real_and_fake_logits(dis, dis_io, gen_io):
    with torch.no_grad():
        y_real = dis([_t(dis_io[f"real/x{lvl}"]) for lvl in range(1, 5)])
        y_fake = dis([_t(gen_io[f"train/x{lvl}"]) for lvl in range(1, 5)])  # the fakes are G's train x_l
    for lvl in range(1, 5):
        np.testing.assert_allclose(y_real[lvl - 1].numpy(), dis_io[f"real/logits_level{lvl}"], rtol=RTOL, atol=1e-6)
        np.testing.assert_allclose(y_fake[lvl - 1].numpy(), dis_io[f"fake/logits_level{lvl}"], rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(concat_logits(y_real).numpy(), dis_io["real/logits_concat"], rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(concat_logits(y_fake).numpy(), dis_io["fake/logits_concat"], rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize("lvl", [1, 2, 3, 4])
def test_block_activations_and_sum_pool(dis, dis_io, lvl):
    d = dis.levels[lvl - 1]
    with torch.no_grad():
        feats = d.features(_t(dis_io[f"real/x{lvl}"]))
        pooled = d.head(feats[-1])
    for k, f in enumerate(feats, start=1):
        ref = dis_io[f"real/level{lvl}_block{k}_out"]
        assert tuple(f.shape) == ref.shape, f"level {lvl} block {k}"  # size-1 axes grow to 3 (quirk)
        scale = np.abs(ref).max()
        np.testing.assert_allclose(f.numpy(), ref, atol=1e-6 * max(scale, 1.0), rtol=1e-5)
    ref = dis_io[f"real/level{lvl}_feature_sum"]
    np.testing.assert_allclose(pooled.numpy(), ref, atol=1e-6 * max(np.abs(ref).max(), 1.0), rtol=1e-5)


@pytest.mark.parametrize("case", range(4))
def test_odd_size_pooling_quirk(dis_io, case):
    x = _t(dis_io[f"downsample_quirk/in{case}"])
    ref = dis_io[f"downsample_quirk/out{case}"]
    y = downsample(x)
    assert tuple(y.shape) == ref.shape
    np.testing.assert_allclose(y.numpy(), ref, atol=1e-7, rtol=1e-6)


def test_quirk_rule_sizes():
    """1 -> 3, 2 -> 1, 3 -> 2, 5 -> 3, 7 -> 4; the option d_pad_odd=False pools plainly."""
    for size, want in ((1, 3), (2, 1), (3, 2), (5, 3), (7, 4)):
        assert downsample(torch.ones(1, 1, size, 2, 2)).shape[2] == want
    assert downsample(torch.ones(1, 1, 1, 3, 5), pad_odd=False).shape[2:] == (1, 1, 2)
    # size-1 axis: the padded zeros are averaged in with kernel 1 -> [0, x, 0]
    y = downsample(torch.full((1, 1, 1, 2, 2), 4.0))
    assert y[0, 0, :, 0, 0].tolist() == [0.0, 4.0, 0.0]


def test_no_head_relu_changes_logits(dis_state, dis_io):
    """The PyTorch port's missing ReLU before the sum changes logits by 0.4-2 (README)."""
    from vidgan.families.tganv2 import Config
    from vidgan.families.tganv2.convert import load_chainer_state
    from vidgan.families.tganv2.discriminator import TGANv2Discriminator

    d = load_chainer_state(TGANv2Discriminator(Config(mid_ch=4, d_head_relu=False)), dis_state)
    with torch.no_grad():
        y = d([_t(dis_io[f"real/x{lvl}"]) for lvl in range(1, 5)])
    assert np.abs(concat_logits(y).numpy() - dis_io["real/logits_concat"]).max() > 0.1
