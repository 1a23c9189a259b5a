"""Backward warp: golden (TecoGAN port), integer shifts, border clamping."""

from __future__ import annotations

import numpy as np
import torch

from vidgan.nn.warp import backward_warp


def test_golden(shared_dir):
    with np.load(shared_dir / "golden/tecogan/warp_io.npz") as d:
        img, flow = torch.from_numpy(d["img"]), torch.from_numpy(d["flow"])
        np.testing.assert_allclose(backward_warp(img, flow).numpy(), d["out"], atol=1e-5)
        zero = backward_warp(img, torch.zeros_like(flow))
        np.testing.assert_allclose(zero.numpy(), d["out_zero_flow"], atol=1e-6)
        assert (zero - img).abs().max() < 1e-6  # not bit-exact (normalised-grid round trip), but close


def test_integer_shift_samples_at_p_plus_flow():
    img = torch.arange(5 * 7, dtype=torch.float32).view(1, 1, 5, 7)
    flow = torch.zeros(1, 2, 5, 7)
    flow[:, 0] = 2.0  # dx
    flow[:, 1] = -1.0  # dy
    out = backward_warp(img, flow)
    # out(y, x) = img(y - 1, x + 2) inside; clamped at the borders
    torch.testing.assert_close(out[0, 0, 1:, :5], img[0, 0, :-1, 2:], atol=1e-4, rtol=0)
    torch.testing.assert_close(out[0, 0, 0, :5], img[0, 0, 0, 2:], atol=1e-4, rtol=0)  # y clamped to 0
    torch.testing.assert_close(out[0, 0, 1:, 5:], img[0, 0, :-1, 6:].expand(4, 2), atol=1e-4, rtol=0)


def test_half_pixel_is_bilinear_and_far_flow_clamps():
    img = torch.rand(1, 3, 6, 8)
    flow = torch.zeros(1, 2, 6, 8)
    flow[:, 0] = 0.5
    out = backward_warp(img, flow)
    torch.testing.assert_close(out[..., :7], (img[..., :7] + img[..., 1:]) / 2, atol=1e-5, rtol=0)
    flow[:, 0] = 100.0
    out = backward_warp(img, flow)
    torch.testing.assert_close(out, img[..., 7:].expand_as(img), atol=1e-5, rtol=0)
