"""Samplers: TGANv2 multilevel clips against the official fixtures; StyleGAN-V random frame times."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.data.samplers import (
    STYLEGANV_TOTAL_DISTS,
    contiguous_start,
    draw_offsets,
    multilevel_clip,
    multilevel_frames,
    random_times,
    random_times_min_length,
    ucf101_crop,
    ucf101_draw,
)


# README of golden/tganv2, discriminator_io section: the scripted draws of the two examples
@pytest.fixture(scope="module")
def disc_io(shared_dir):
    return np.load(shared_dir / "golden" / "tganv2" / "discriminator_io.npz")


@pytest.mark.parametrize("ex", [0, 1])
def test_ucf101_crop_reproduces_official_clip(disc_io, ex):
    # the scripted draws of the official UCF101Dataset, as recorded in the fixture
    start, x0 = int(disc_io["real/start_offset"][ex]), int(disc_io["real/x0"][ex])
    flip = bool(disc_io["real/flip"][ex])
    s, e = disc_io["source/video_start"][ex], disc_io["source/video_end"][ex]
    clip = ucf101_crop(disc_io["source/image_u8"][s:e], start, x0, flip)
    assert clip.dtype == torch.uint8 and clip.shape == (3, 16, 192, 192)
    np.testing.assert_array_equal(clip.numpy(), disc_io["real/clip_u8"][ex])


@pytest.mark.parametrize("ex", [0, 1])
def test_multilevel_clip_matches_official_exactly(disc_io, ex):
    offsets = tuple(int(p) for p in disc_io["real/phases"][ex])
    clip = torch.from_numpy(disc_io["real/clip_u8"][ex])
    levels = multilevel_clip(clip, (2, 2, 2), offsets)
    assert [tuple(x.shape) for x in levels] == [
        (3, 16, 24, 24),
        (3, 8, 48, 48),
        (3, 4, 96, 96),
        (3, 2, 192, 192),
    ]
    for level, x in enumerate(levels, 1):
        assert x.dtype == torch.float32
        np.testing.assert_array_equal(x.numpy(), disc_io[f"real/x{level}"][ex])  # bit-exact
        kept = multilevel_frames(16, (2, 2, 2), offsets)[level - 1]
        np.testing.assert_array_equal(kept, disc_io[f"real/frames_kept_level{level}/ex{ex}"])


def test_multilevel_frames_nested_and_validated():
    idx = multilevel_frames(16, (2, 2, 2), (1, 0, 1))
    assert [i.tolist() for i in idx[1:]] == [[1, 3, 5, 7, 9, 11, 13, 15], [1, 5, 9, 13], [5, 13]]
    with pytest.raises(ValueError, match="frame offset"):
        multilevel_frames(16, (2, 2), (0, 2))
    with pytest.raises(ValueError, match="divisible"):
        multilevel_clip(torch.zeros(3, 4, 12, 12, dtype=torch.uint8), (2, 2, 2), (0, 0, 0))


def test_ucf101_draw_ranges():
    rng = np.random.default_rng(0)
    draws = [ucf101_draw(rng, 18, 256) for _ in range(400)]
    starts, xs, flips = zip(*draws)
    assert set(starts) == {0, 1}  # exclusive bound: randint(0, 18 - 16) never gives 2
    assert min(xs) == 4 and max(xs) == 60
    assert 0.4 < np.mean(flips) < 0.6
    assert set(draw_offsets(rng, (2, 3)).tolist()) <= {0, 1, 2}


def test_contiguous_start_covers_every_valid_start():
    rng = np.random.default_rng(1)
    starts = {contiguous_start(rng, 20, 4, stride=3) for _ in range(300)}
    assert starts == set(range(20 - 10 + 1))  # span (4-1)*3+1 = 10
    with pytest.raises(ValueError, match="needs 10 frames"):
        contiguous_start(rng, 9, 4, stride=3)


def test_random_times_follow_styleganv_rule():
    rng = np.random.default_rng(2)
    spans = set()
    for _ in range(2000):
        t = random_times(rng, 100, 3, max_dist=32)
        assert t.dtype == np.int64 and t.shape == (3,)
        assert np.all(np.diff(t) > 0)  # sorted and distinct
        d = int(t[-1] - t[0])
        spans.add(d)
        assert 0 <= t[0] <= 100 - d - 1
    assert spans == {2, 4, 8, 16, 32}  # {d in total_dists : F-1 <= d <= min(L-1, max_dist)}
    # a short video limits the span to L - 1
    assert {int(np.ptp(random_times(rng, 6, 3))) for _ in range(200)} == {2, 4}
    assert random_times(rng, 10, 1, max_dist=0).shape == (1,)
    assert random_times_min_length(3, 32) == 3 and random_times_min_length(4, 32) == 5
    assert STYLEGANV_TOTAL_DISTS[-1] == 2048
    with pytest.raises(ValueError, match="max_dist"):
        random_times_min_length(40, 32)
