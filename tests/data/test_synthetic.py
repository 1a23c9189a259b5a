"""Embedded synthetic datasets: deterministic, lazy, right shapes, readable options."""

from __future__ import annotations

import numpy as np
import pytest

from vidgan.data.synthetic import SYNTHETIC_NAMES, SyntheticVideos, parse_synthetic_source


@pytest.mark.parametrize("name", SYNTHETIC_NAMES)
def test_deterministic_shapes_and_lazy_frames(name):
    ds = SyntheticVideos.from_source(f"{name}:num_videos=5,video_frames=6", size=32, seed=3)
    assert len(ds) == 5
    v = ds.video(2)
    assert v.dtype == np.uint8 and v.shape == (6, 32, 32, 3)
    np.testing.assert_array_equal(
        v, SyntheticVideos.from_source(f"{name}:num_videos=5,video_frames=6", size=32, seed=3).video(2)
    )
    np.testing.assert_array_equal(ds.video(2, [4, 1]), v[[4, 1]])  # rendering only some frames agrees
    assert not np.array_equal(v, ds.video(3))  # videos differ
    assert not np.array_equal(v, SyntheticVideos(name, 5, 6, 32, seed=4).video(2))  # seeds differ
    assert np.abs(np.diff(v.astype(int), axis=0)).sum() > 0  # it moves
    with pytest.raises(IndexError):
        ds.video(5)


def test_moving_digits_white_on_black():
    ds = SyntheticVideos("moving-digits", num_videos=4, video_frames=8, size=64)
    v = ds.video(0)
    assert (v[..., 0] == v[..., 1]).all() and (v[..., 1] == v[..., 2]).all()
    assert v.max() == 255 and np.median(v) == 0
    rows = np.nonzero(v[0, :, :, 0].max(axis=1) > 0)[0]  # glyph ~ size / 2.5 = 26 px tall
    assert 20 <= rows.max() - rows.min() + 1 <= 64


def test_source_options_are_validated():
    assert parse_synthetic_source("moving-digits") == ("moving-digits", {})
    assert parse_synthetic_source("photo-pans:num_videos=3, video_frames=9") == (
        "photo-pans",
        {"num_videos": 3, "video_frames": 9},
    )
    with pytest.raises(ValueError, match="valid options: num_videos"):
        parse_synthetic_source("moving-digits:speed=3")
    with pytest.raises(ValueError, match="must be an int"):
        parse_synthetic_source("moving-digits:num_videos=many")
    with pytest.raises(ValueError, match="choose one of"):
        parse_synthetic_source("moving-mnist")


def test_detail_pans_pages_option():
    """``pages=P``: P % of the videos pan over a generated page; ``pages=0`` is the plain set, video for video."""
    plain = SyntheticVideos.from_source("detail-pans:num_videos=6,video_frames=3", size=32)
    zero = SyntheticVideos.from_source("detail-pans:num_videos=6,video_frames=3,pages=0", size=32)
    pages = SyntheticVideos.from_source("detail-pans:num_videos=6,video_frames=3,pages=100", size=32)
    for i in range(6):
        np.testing.assert_array_equal(plain.video(i), zero.video(i))
        v = pages.video(i)
        assert v.shape == (3, 32, 32, 3) and not np.array_equal(v, plain.video(i))
    assert not np.array_equal(pages.video(0), pages.video(1))
    # videos whose pan window is the widest (1.2x): the page must be larger than it (these failed when it was not)
    big = SyntheticVideos.from_source("detail-pans:num_videos=2048,video_frames=2,pages=100", size=64)
    assert all(big.video(i, [0]).shape == (1, 64, 64, 3) for i in (1167, 1375, 1902))
    with pytest.raises(ValueError, match="0 to 100"):
        parse_synthetic_source("detail-pans:pages=101")
    with pytest.raises(ValueError, match="detail-pans only"):
        parse_synthetic_source("photo-pans:pages=50")
    assert parse_synthetic_source("detail-pans:pages=0") == ("detail-pans", {"pages": 0})


def test_sharp_pans_move_by_subpixel_pans():
    """Each sharp-pans frame is the first one shifted (no zoom, no blur): a straight pan of at most 2.5 px per frame
    and axis, so consecutive frames stay close and differ (sub-pixel steps included)."""
    import cv2

    ds = SyntheticVideos.from_source("sharp-pans:num_videos=12,video_frames=4", size=48, seed=0)
    for i in range(12):
        v = ds.video(i).astype(np.float32).mean(axis=3)
        if v[0].std() < 8:  # a flat patch (dark sky of a photo): no texture to track
            continue
        (dx, dy), _ = cv2.phaseCorrelate(v[0], v[1])
        assert abs(dx) <= 2.6 and abs(dy) <= 2.6
        assert not np.array_equal(v[0], v[1])
    with pytest.raises(ValueError, match="detail-pans only"):
        parse_synthetic_source("sharp-pans:pages=10")
