"""TF-style bicubic x4 (TecoGAN skip): golden taps/outputs, top-left alignment, linear reproduction."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vidgan.nn.bicubic import BicubicUpsampler, bicubic_taps, upsample_bicubic


def test_golden(shared_dir):
    with np.load(shared_dir / "golden/tecogan/bicubic_io.npz") as d:
        assert np.array_equal(bicubic_taps(4).numpy(), d["kernels"])
        y = upsample_bicubic(torch.from_numpy(d["x"]))
        np.testing.assert_allclose(y.numpy(), d["y"], atol=1e-5)
        np.testing.assert_allclose(
            upsample_bicubic(torch.from_numpy(d["x_flowlike"])).numpy(), d["y_flowlike"], atol=1e-5
        )
        hr = 4 * BicubicUpsampler(4)(torch.from_numpy(d["x_flowlike"]))
        np.testing.assert_allclose(hr.numpy(), d["y_flowlike_hrflow"], atol=2e-4)
        ref = F.interpolate(torch.from_numpy(d["x"]), scale_factor=4, mode="bicubic", align_corners=False)
        assert (ref - y).abs().max() > 0.1  # not torch's bicubic


def test_taps_sum_to_one_and_top_left_aligned():
    taps = bicubic_taps(4)
    torch.testing.assert_close(taps.sum(1), torch.ones(4))
    x = torch.arange(10, dtype=torch.float32).view(1, 1, 1, 10).expand(1, 1, 10, 10)
    y = upsample_bicubic(x)[0, 0, 20]
    # output column 4i samples input i exactly; 4i + 2 the midpoint (symmetric taps; a = -0.75 is not
    # linear-exact at the quarter phases)
    torch.testing.assert_close(y[0:40:4], torch.arange(10.0))
    torch.testing.assert_close(y[6:34:4], torch.arange(1, 8.0) + 0.5, atol=1e-5, rtol=0)


def test_shifted_impulse():
    """An impulse at LR (i, j) appears at HR (4i, 4j) unchanged (phase 0 tap = [0, 1, 0, 0])."""
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 5] = 1.0
    y = upsample_bicubic(x)
    assert y[0, 0, 12, 20] == 1.0
    assert y[0, 0, 12::4, ::4].sum() == 1.0 and y[0, 0, ::4, 20::4].sum() == 1.0
    assert state_keys_ok()


def state_keys_ok() -> bool:
    m = BicubicUpsampler(4)
    return list(m.state_dict()) == ["kernels"] and list(BicubicUpsampler(4, persistent=False).state_dict()) == []
