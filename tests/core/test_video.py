import numpy as np
import pytest
import torch

from vidgan.core.video import (
    batch_to_videos,
    check_video_batch,
    fold_time,
    to_model,
    to_uint8,
    unfold_time,
    video_to_batch,
)


def test_uint8_round_trip_is_exact():
    x = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 4, 8, 8).expand(2, 3, 4, 8, 8).contiguous()
    y = to_model(x)
    assert y.dtype == torch.float32 and y.min() == -1 and y.max() == 1
    assert torch.equal(to_uint8(y), x)


def test_to_uint8_clips_and_rounds():
    y = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0]).view(1, 1, 5, 1, 1)
    assert to_uint8(y).flatten().tolist() == [0, 0, 128, 255, 255]  # 127.5 rounds half to even -> 128


def test_fold_is_batch_major_and_invertible():
    x = torch.randn(2, 3, 4, 5, 6)
    f = fold_time(x)
    assert f.shape == (8, 3, 5, 6)
    assert torch.equal(f[1 * 4 + 2], x[1, :, 2])
    assert torch.equal(unfold_time(f, 4), x)


def test_numpy_layouts():
    vids = [np.random.randint(0, 255, (4, 5, 6, 3), dtype=np.uint8) for _ in range(2)]
    b = video_to_batch(vids)
    assert b.shape == (2, 3, 4, 5, 6)
    back = batch_to_videos(b)
    assert all(np.array_equal(a, c) for a, c in zip(vids, back))


def test_errors():
    with pytest.raises(TypeError):
        to_model(torch.zeros(1, 3, 2, 2, 2))
    with pytest.raises(ValueError, match="B, C, T, H, W"):
        check_video_batch(torch.zeros(3, 2, 2, 2))
