"""Clip-consistent transforms: one draw per clip, identical on every frame."""

from __future__ import annotations

import numpy as np
import pytest

from vidgan.data.transforms import apply_clip_transforms, crop_clip, hflip_clip, resize_short_side


def test_resize_short_side_keeps_aspect():
    clip = np.random.default_rng(0).integers(0, 256, (3, 30, 60, 3), dtype=np.uint8)
    assert resize_short_side(clip, 15).shape == (3, 15, 30, 3)
    assert resize_short_side(clip[:, :, :20], 40).shape == (3, 60, 40, 3)
    const = np.full((2, 30, 60, 3), 77, np.uint8)
    assert (resize_short_side(const, 10) == 77).all()


def test_crops_and_flip_identical_on_every_frame():
    frame = np.random.default_rng(1).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    clip = np.repeat(frame[None], 4, axis=0)
    c = crop_clip(clip, 16, "center")
    np.testing.assert_array_equal(c[0], frame[2:18, 6:22])
    rng = np.random.default_rng(5)
    out = apply_clip_transforms(clip, 16, "none", "random", True, rng)
    assert out.shape == (4, 16, 16, 3) and out.flags.c_contiguous
    assert all(np.array_equal(out[0], out[t]) for t in range(4))
    np.testing.assert_array_equal(hflip_clip(clip)[2, :, 0], frame[:, -1])
    with pytest.raises(ValueError, match="cannot crop"):
        crop_clip(clip, 24, "center")
