"""Discriminators vs the official ``MultiResNetVideoDiscriminator`` (golden ``discriminator_io.npz``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.families.tganv2.discriminator import concat_logits, downsample

RTOL = 1e-5  # golden README: rtol 1e-5 on D logits (float64 re-implementation: relative <= 4e-7)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _assert_close(got: np.ndarray, ref: np.ndarray, err_msg: str = "") -> None:
    """rtol RTOL, and atol RTOL x the reference's own max |value| (values near 0 inside a larger array
    carry the rounding of the whole array's scale)."""
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=RTOL * float(np.abs(ref).max()), err_msg=err_msg)


def test_real_and_fake_logits(dis, dis_io, gen_io):
    with torch.no_grad():
        y_real = dis([_t(dis_io[f"real/x{lvl}"]) for lvl in range(1, 5)])
        y_fake = dis([_t(gen_io[f"train/x{lvl}"]) for lvl in range(1, 5)])  # the fakes are G's train x_l
    for lvl in range(1, 5):
        _assert_close(y_real[lvl - 1].numpy(), dis_io[f"real/logits_level{lvl}"], f"real {lvl}")
        _assert_close(y_fake[lvl - 1].numpy(), dis_io[f"fake/logits_level{lvl}"], f"fake {lvl}")
    _assert_close(concat_logits(y_real).numpy(), dis_io["real/logits_concat"])
    _assert_close(concat_logits(y_fake).numpy(), dis_io["fake/logits_concat"])


@pytest.mark.parametrize("lvl", [1, 2, 3, 4])
def test_block_activations_and_sum_pool(dis, dis_io, lvl):
    d = dis.levels[lvl - 1]
    with torch.no_grad():
        feats = d.features(_t(dis_io[f"real/x{lvl}"]))
        pooled = d.head(feats[-1])
    for k, f in enumerate(feats, start=1):
        ref = dis_io[f"real/level{lvl}_block{k}_out"]
        assert tuple(f.shape) == ref.shape, f"level {lvl} block {k}"  # size-1 axes grow to 3 (quirk)
        _assert_close(f.numpy(), ref, f"level {lvl} block {k}")
    _assert_close(pooled.numpy(), dis_io[f"real/level{lvl}_feature_sum"], f"level {lvl} feature sum")


@pytest.mark.parametrize("case", range(4))
def test_odd_size_pooling_quirk(dis_io, case):
    x = _t(dis_io[f"downsample_quirk/in{case}"])
    ref = dis_io[f"downsample_quirk/out{case}"]
    y = downsample(x)
    assert tuple(y.shape) == ref.shape
    _assert_close(y.numpy(), ref)


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
    ref = dis_io["real/logits_concat"]
    # far outside the golden comparison of test_real_and_fake_logits (README: off by 0.4-2)
    assert np.abs(concat_logits(y).numpy() - ref).max() > 10 * (RTOL * np.abs(ref).max() + RTOL * np.abs(ref)).max()


@pytest.mark.parametrize("ex", [0, 1])
def test_real_inputs_from_recorded_crop_draws(dis_io, dis, ex):
    """The real D inputs from the source video and *every* recorded crop draw, y0 included.

    vidgan's ``ucf101_crop`` takes rows from 0 (the prepared UCF101 frames are exactly ``crop`` rows
    tall, so the official ``randint`` for y0 has a single value); the recorded ``real/y0`` must be that
    value, and the slice the official code took at (y0, x0) must be what vidgan crops. A fixture whose
    source is taller than the crop (y0 > 0 possible) would fail here, not silently pass."""
    from vidgan.data.samplers import multilevel_clip, ucf101_crop

    s, e = (int(dis_io[f"source/video_{w}"][ex]) for w in ("start", "end"))
    video = dis_io["source/image_u8"][s:e]  # (N, C, H, W) uint8, HDF5 layout
    start, x0, y0 = (int(dis_io[f"real/{k}"][ex]) for k in ("start_offset", "x0", "y0"))
    flip, offsets = bool(dis_io["real/flip"][ex]), tuple(int(p) for p in dis_io["real/phases"][ex])
    ref_clip = dis_io["real/clip_u8"][ex]  # (C, T, crop, crop)
    _, frames, crop, _ = ref_clip.shape
    assert 0 <= y0 <= video.shape[2] - crop  # a valid official draw
    # the official slice at the recorded (start, y0, x0, flip) is the recorded clip
    expected = video[start : start + frames, :, y0 : y0 + crop, x0 : x0 + crop]
    expected = expected[..., ::-1] if flip else expected
    np.testing.assert_array_equal(expected.transpose(1, 0, 2, 3), ref_clip)
    # vidgan's crop from the same draws (it has no y0: rows from 0) gives the same clip
    clip = ucf101_crop(video, start, x0, flip, frames=frames, crop=crop)
    np.testing.assert_array_equal(clip.numpy(), ref_clip)
    # ... and through the multi-level sampler, the recorded real inputs and real logits of that example
    levels = multilevel_clip(clip, dis.cfg.subsample_frame, offsets)
    for lvl, x in enumerate(levels, start=1):
        np.testing.assert_array_equal(x.numpy(), dis_io[f"real/x{lvl}"][ex])
    with torch.no_grad():
        y = dis([x[None] for x in levels])
    for lvl in range(1, 5):
        ref = dis_io[f"real/logits_level{lvl}"]
        np.testing.assert_allclose(
            y[lvl - 1].numpy()[0], ref[ex], rtol=RTOL, atol=RTOL * float(np.abs(ref).max()), err_msg=f"level {lvl}"
        )


@pytest.mark.parametrize("shape", [(2, 3, 1, 8, 8), (2, 3, 4, 6, 10), (1, 2, 5, 7, 9)])
@pytest.mark.parametrize("kernel", [(1, 2, 2), (2, 2, 2)])
def test_avg_pool_is_avg_pool3d(shape, kernel):
    """The pair-sum pooling is avg_pool3d's function (odd sizes floor), its gradient too; bf16 to rounding."""
    from vidgan.families.tganv2.discriminator import avg_pool

    if shape[2] < kernel[0]:
        shape = (*shape[:2], kernel[0], *shape[3:])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g, dtype=torch.float64).float()
    up = torch.randn(F_avg(x, kernel).shape, generator=g)
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ya, yb = avg_pool(xa, kernel), F_avg(xb, kernel)
    torch.testing.assert_close(ya, yb, rtol=1e-6, atol=1e-6)
    (ya * up).sum().backward()
    (yb * up).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-6, atol=1e-6)
    y16 = avg_pool(x.bfloat16(), kernel)
    assert y16.dtype == torch.bfloat16
    torch.testing.assert_close(y16.float(), yb.detach(), rtol=2e-2, atol=2e-2)


def F_avg(x: torch.Tensor, kernel) -> torch.Tensor:  # noqa: N802
    return torch.nn.functional.avg_pool3d(x, kernel, stride=kernel)
