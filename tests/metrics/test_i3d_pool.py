"""The I3D's separable TF-SAME max-pool equals padding with -inf + torch's max_pool3d, bit for bit."""

import pytest
import torch
import torch.nn.functional as F

from vidgan.metrics.detectors.i3d import _max_pool_same, _same_pads


def _reference(x, k, s):
    flat = [p for pair in reversed(_same_pads(x, k, s)) for p in pair]
    return F.max_pool3d(F.pad(x, flat, value=float("-inf")), k, s)


@pytest.mark.parametrize(
    "shape, k, s",
    [
        ((1, 4, 8, 16, 16), (1, 3, 3), (1, 2, 2)),
        ((2, 3, 5, 9, 7), (3, 3, 3), (1, 1, 1)),
        ((1, 2, 5, 9, 9), (3, 3, 3), (2, 2, 2)),
        ((1, 2, 4, 7, 6), (2, 2, 2), (2, 2, 2)),
        ((1, 1, 1, 3, 3), (3, 3, 3), (1, 1, 1)),
    ],
)
def test_matches_max_pool3d(shape, k, s):
    x = torch.randn(shape)
    assert torch.equal(_max_pool_same(x, k, s), _reference(x, k, s))
