"""io.writer: grids (layout, panel labels), atomic writers that leave nothing behind on failure."""

import numpy as np
import pytest

from vidgan.io import VideoReader, VideoWriter, make_grid, write_grid
from vidgan.io.writer import label_header


def _videos(b=3, t=2, h=8, w=12):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8) for _ in range(b)]


def test_grid_layout_and_padding():
    vids = _videos()
    grid = make_grid(vids, nrow=2, padding=2)
    assert grid.shape == (2, 2 * (8 + 2) + 2, 2 * (12 + 2) + 2, 3)
    np.testing.assert_array_equal(grid[:, 2:10, 16:28], vids[1])
    assert (grid[:, 12:20, 16:28] == 0).all()  # the empty 4th cell


def test_labels_add_a_band_with_text_over_each_panel(tmp_path):
    vids = _videos(b=2, w=24)  # each cell holds 2 panels of 12 px
    grid = make_grid(vids, nrow=2)
    out = label_header(grid, ["in", "out"], cell_w=24, ncol=2)
    assert out.shape[1] == grid.shape[1] + 14 and out.shape[2] == grid.shape[2]
    np.testing.assert_array_equal(out[:, 14:], grid)
    assert out[0, :14].max() > 200  # white text drawn
    write_grid(tmp_path / "g.mp4", vids, fps=4, nrow=2, labels=["in", "out"])
    assert VideoReader(tmp_path / "g.mp4").num_frames == 2


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "v.mp4"
    with pytest.raises(ValueError):
        with VideoWriter(target, fps=4) as w:
            w.write(np.zeros((8, 8, 3), np.uint8))
            w.write(np.zeros((6, 8, 3), np.uint8))  # size change -> error -> abort
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="no frames"):
        VideoWriter(tmp_path / "empty.mp4").close()
    assert list(tmp_path.iterdir()) == []
