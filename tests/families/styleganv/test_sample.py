"""``Parts.sample`` (api.SampleOptions): shapes and range, truncation, the decomposition grid, chunked
generation equal to whole-video generation, continuity in t (also across motion-code anchors), t >= 0."""

from __future__ import annotations

import math

import pytest
import torch

from vidgan.families.api import SampleOptions
from vidgan.families.styleganv import PRESETS, Config, build, sample


@pytest.fixture(scope="module")
def gen():
    import types

    p = PRESETS["tiny"]
    torch.manual_seed(0)
    data = types.SimpleNamespace(**{**p["data"], "video_frames": 32})
    g = build(Config(**p["family"]), data).modules["generator"].eval()
    with torch.no_grad():  # a non-trivial w_avg so truncation is visible
        g.mapping.w_avg.copy_(torch.randn(g.w_dim))
    return g


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_shape_range_determinism(gen):
    a = sample(gen, 2, 5, _gen(1))
    b = sample(gen, 2, 5, _gen(1))
    assert a.shape == (2, 3, 5, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b) and a.min() >= -1 and a.max() <= 1
    assert not torch.equal(a, sample(gen, 2, 5, _gen(2)))


def test_truncation_zero_gives_the_mean_content(gen):
    """psi = 0: every video uses w_avg, so two videos with the same motion noise are identical."""
    opts = SampleOptions(truncation=0.0, layout="decomposition")
    v = sample(gen, 4, 3, _gen(0), opts)  # 2x2: rows share content, columns share motion
    torch.testing.assert_close(v[0], v[2])  # same column (motion), different rows (content)
    w_before = gen.mapping.w_avg.clone()
    sample(gen, 2, 2, _gen(0), SampleOptions(truncation=0.5))
    assert torch.equal(gen.mapping.w_avg, w_before)  # sampling never updates w_avg


def test_decomposition_grid(gen):
    n = 3
    frames = 4
    v = sample(gen, n * n, frames, _gen(5), SampleOptions(layout="decomposition"))
    # reproduce the draws: content z (one per row), then motion noise (one per column)
    g = _gen(5)
    z = torch.randn(n, gen.z_dim, generator=g)
    mz = gen.motion_encoder.draw_noise(n, frames - 1.0, g)
    t = torch.arange(frames, dtype=torch.float64)
    with torch.no_grad():
        for r in range(n):
            for c in range(n):
                ws = gen.mapping(z[r : r + 1], None, update_w_avg=False)
                x = gen.synthesis(ws, t[None], motion_z=mz[c : c + 1]).clamp(-1, 1)
                torch.testing.assert_close(v[r * n + c], x.permute(1, 0, 2, 3), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="square"):
        sample(gen, 3, 2, _gen(0), SampleOptions(layout="decomposition"))


def test_chunked_equals_whole_and_time_options(gen):
    opts = SampleOptions(start=3.5, time_step=0.75)
    whole = sample(gen, 2, 23, _gen(9), opts)
    chunks = list(sample(gen, 2, 23, _gen(9), SampleOptions(start=3.5, time_step=0.75, chunk=5)))
    assert [c.shape[2] for c in chunks] == [5, 5, 5, 5, 3]
    torch.testing.assert_close(torch.cat(chunks, dim=2), whole, atol=1e-4, rtol=0)


def test_long_video_streams_in_chunks(gen):
    """A 1000-frame video as chunks: the motion noise is drawn once for the whole length, so a chunk far
    into the video equals the same frames rendered on their own with that noise."""
    it = sample(gen, 1, 1000, _gen(4), SampleOptions(chunk=100))
    last = None
    for i, c in enumerate(it):
        assert c.shape == (1, 3, 100, 32, 32)
        if i == 7:
            last = c
    assert i == 9 and last is not None
    g = _gen(4)
    z = torch.randn(1, gen.z_dim, generator=g)
    mz = gen.motion_encoder.draw_noise(1, 999.0, g)
    t = torch.arange(700, 800, dtype=torch.float64)[None]
    with torch.no_grad():
        x = gen.synthesis(gen.mapping(z, None, update_w_avg=False), t, motion_z=mz).clamp(-1, 1)
    torch.testing.assert_close(last[0], x.permute(1, 0, 2, 3), atol=1e-4, rtol=0)


@pytest.mark.parametrize("t0", [5.25, 16.0, 47.999])
def test_frames_move_by_order_eps(gen, t0):
    """Continuity in t, including at motion-code anchors (t = 16, 48) where (a, φ) switch segments."""
    diffs = []
    for eps in (1e-3, 2e-3):
        v = sample(gen, 1, 2, _gen(2), SampleOptions(start=t0 - eps / 2, time_step=eps))
        diffs.append(float((v[:, :, 1] - v[:, :, 0]).abs().max()))
    assert diffs[1] < 0.05
    assert diffs[0] <= 0.6 * diffs[1] + 1e-6  # shrinks ~linearly with eps
    far = sample(gen, 1, 2, _gen(2), SampleOptions(start=t0, time_step=8.0))
    assert float((far[:, :, 1] - far[:, :, 0]).abs().max()) > 10 * diffs[1]


def test_negative_times_and_unknown_options_rejected(gen):
    with pytest.raises(ValueError, match=">= 0"):
        sample(gen, 1, 3, _gen(0), SampleOptions(start=-1.0))
    with pytest.raises(ValueError, match="unknown sample options"):
        sample(gen, 1, 3, _gen(0), SampleOptions(extra={"bogus": 1}))


def test_mocogan_sampler_chunks(data_spec):
    p = PRESETS["tiny"]
    cfg = Config(**{**p["family"], "arch": "mocogan", "fake_sampler": "uniform"})
    g = build(cfg, data_spec(sampler="clips", max_dist=1)).modules["generator"].eval()
    whole = sample(g, 2, 9, _gen(3))
    chunks = torch.cat(list(sample(g, 2, 9, _gen(3), SampleOptions(chunk=4))), dim=2)
    torch.testing.assert_close(chunks, whole, atol=1e-4, rtol=0)
    assert math.isfinite(float(whole.sum()))
