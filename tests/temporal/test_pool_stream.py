"""ImagePool semantics and the streaming helpers (padding, edge blocks)."""

from __future__ import annotations

import numpy as np
import torch

from vidgan.temporal.nets import ResnetGenerator
from vidgan.temporal.pool import ImagePool
from vidgan.temporal.recurrent import RecurrentGenerator
from vidgan.temporal.stream import BlockStream, RecurrentStream


def test_image_pool_fills_then_swaps_reproducibly():
    pool = ImagePool(3)
    first = torch.arange(2.0).view(2, 1)
    assert torch.equal(pool.query(first), first) and len(pool.images) == 2
    out = [pool.query(torch.full((4, 1), float(10 + i)), torch.Generator().manual_seed(i)) for i in range(3)]
    assert len(pool.images) == 3 and all(o.shape == (4, 1) for o in out)
    again = ImagePool(3)
    again.query(first)
    out2 = [again.query(torch.full((4, 1), float(10 + i)), torch.Generator().manual_seed(i)) for i in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(out, out2, strict=True))
    assert torch.equal(ImagePool(0).query(first), first)


def test_recurrent_stream_pads_and_crops():
    gen = RecurrentGenerator(ResnetGenerator(6, 3, 4, 1), 3, 3)
    frames = [np.full((13, 22, 3), 40 * i, np.uint8) for i in range(3)]
    frames[0].setflags(write=False)  # decoders hand out read-only arrays
    out = list(RecurrentStream(gen, multiple=4)(frames))
    assert [o.shape for o in out] == [(13, 22, 3)] * 3


def test_block_stream_centre_frame():
    class Echo(torch.nn.Module):  # returns its input: the stream must emit the centre frame of each block
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return x + self.w

    frames = [np.full((8, 8, 3), 30 * i, np.uint8) for i in range(4)]
    out = list(BlockStream(Echo(), 3)(frames))
    assert [int(o[0, 0, 0]) for o in out] == [0, 30, 60, 90]
