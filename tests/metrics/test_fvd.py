"""FVD: golden value on real TF-Hub weights, preprocessing variants, clip sampling, protocol records."""

import numpy as np
import pytest
import torch

from vidgan.metrics.feature_stats import FeatureStats
from vidgan.metrics.fvd import FVDProtocol, fvd, fvd_from_stats, preprocess, sample_clips

GOLDEN_30F = 151.3924  # metrics.md §1.6 / golden/metrics/README.md (TF published 151.39244)
GOLDEN_16F = 152.9019  # same test, 16 frames (plain-torch port; no TF value)


def _const_videos(n, value, t=30, hw=64):
    return [np.full((t, hw, hw, 3), value, np.uint8) for _ in range(n)]


@pytest.mark.slow
def test_golden_black_vs_white_8_videos(i3d_weights):
    """The published test through the public API (fast variants: test_i3d.py and tests/cli/test_eval.py)."""
    r = fvd(_const_videos(8, 0), _const_videos(8, 255), frames=30, batch_size=4)
    assert abs(r.value - GOLDEN_30F) < 2e-3, r.value
    assert r.metric == "fvd_8_30f"
    p = r.protocol
    assert p["bn_eps"] == 1e-3 and p["resize"].startswith("tf1_legacy") and p["covariance"] == "unbiased"
    assert p["n_real"] == 8 and p["n_fake"] == 8 and p["frames"] == 30
    assert p["weights_source_sha256"].startswith("af5c50f0")
    r16 = fvd(_const_videos(8, 0), _const_videos(8, 255), frames=16, batch_size=4)
    assert abs(r16.value - GOLDEN_16F) < 2e-3, r16.value


def test_preprocess_variants():
    g = torch.Generator().manual_seed(0)
    v = torch.randint(0, 256, (1, 3, 2, 36, 48), generator=g, dtype=torch.uint8)
    tf = preprocess(v, "tf")
    sg = preprocess(v, "styleganv")
    vg = preprocess(v, "videogpt")
    for x in (tf, sg, vg):
        assert x.shape == (1, 3, 2, 224, 224) and x.min() >= -1 and x.max() <= 1
    assert (tf - sg).abs().max() > 0.05  # different resize conventions
    # TF1 legacy: output pixel (0, 0) is exactly input pixel (0, 0)
    assert torch.allclose(tf[0, :, :, 0, 0], v[0, :, :, 0, 0].float() * 2 / 255 - 1)
    c = torch.full((1, 3, 1, 20, 30), 255, dtype=torch.uint8)
    assert torch.allclose(preprocess(c, "videogpt"), torch.ones(1, 3, 1, 224, 224))
    with pytest.raises(ValueError, match="uint8 RGB"):
        preprocess(v.float(), "tf")


def test_sample_clips_modes():
    vids = [np.arange(20, dtype=np.uint8)[:, None, None, None].repeat(3, -1).repeat(2, 1).repeat(2, 2)] * 3
    first = list(sample_clips(vids, 4, stride=2))
    assert [c[:, 0, 0, 0].tolist() for c in first] == [[0, 2, 4, 6]] * 3
    a = [c[0, 0, 0, 0] for c in sample_clips(vids, 4, mode="random", seed=1)]
    b = [c[0, 0, 0, 0] for c in sample_clips(vids, 4, mode="random", seed=1)]
    assert a == b and max(a) <= 16
    assert len(list(sample_clips(vids, 4, num=2))) == 2
    short = [np.zeros((3, 2, 2, 3), np.uint8)]
    assert list(sample_clips(short + vids, 4, skip_short=True))[0].shape == (4, 2, 2, 3)
    with pytest.raises(ValueError, match="video 0 has 3 frames"):
        list(sample_clips(short, 4))


def test_protocol_names_and_biased_styleganv():
    assert FVDProtocol("tf", 16).name(2048) == "fvd_2048_16f"
    assert FVDProtocol("styleganv", 16, stride=8).name(2048) == "fvd_styleganv_2048_128f_sub8"
    assert FVDProtocol("videogpt", 16).name(256) == "fvd_videogpt_256_16f"
    rng = np.random.default_rng(0)
    a, b = FeatureStats(), FeatureStats()
    a.update(rng.standard_normal((50, 3)))
    b.update(rng.standard_normal((50, 3)) + 0.1)
    ru = fvd_from_stats(a, b, FVDProtocol("tf"))
    rb = fvd_from_stats(a, b, FVDProtocol("styleganv"))
    assert ru.protocol["covariance"] == "unbiased" and rb.protocol["covariance"] == "biased"
    assert ru.value != rb.value


@pytest.mark.slow
def test_vid4_resize_convention_moves_logits(i3d_weights, shared_dir):
    """metrics.md §1.4 [measured]: TF1-legacy vs PyTorch bilinear on the 26 16-frame Vid4 calendar clips
    changes I3D logits by 9.7 % mean relative L2 and |Δμ|² = 4.63."""
    from PIL import Image

    from vidgan.metrics.fvd import i3d_stats, load_i3d

    files = sorted((shared_dir / "data" / "vid4_calendar_lr").glob("*.png"))
    video = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])  # (41, 144, 180, 3)
    clips = [video[s : s + 16] for s in range(len(video) - 15)]
    model, _ = load_i3d(i3d_weights)
    st_tf = i3d_stats(clips, model, "tf", batch_size=2)
    st_pt = i3d_stats(clips, model, "styleganv", batch_size=2)
    d_mu = float(((st_tf.mean - st_pt.mean) ** 2).sum())
    assert st_tf.n == 26 and abs(d_mu - 4.63) < 0.01, d_mu


def test_mixed_video_sizes_batch_separately():
    from vidgan.metrics.fvd import _batches

    clips = [np.zeros((4, 8, 8, 3), np.uint8)] * 3 + [np.zeros((4, 6, 10, 3), np.uint8)] * 2
    shapes = [tuple(b.shape) for b in _batches(iter(clips), batch_size=4)]
    assert shapes == [(3, 3, 4, 8, 8), (2, 3, 4, 6, 10)]
