"""Round trips, random access, layouts and bad inputs of vidgan.io (tiny videos made in tmp dirs)."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from vidgan.io import (
    VideoReader,
    VideoReadError,
    VideoWriter,
    list_videos,
    make_grid,
    natural_key,
    read_video,
    write_grid,
    write_video,
)


def smooth_video(t: int = 8, h: int = 32, w: int = 48) -> np.ndarray:
    """uint8 (T, H, W, 3): smooth moving gradients (codec friendly, every frame different)."""
    tt, yy, xx = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
    r = 128 + 100 * np.sin(0.2 * xx + 0.4 * tt + 0.1 * yy)
    g = 128 + 100 * np.cos(0.15 * yy - 0.3 * tt)
    b = 40 + 20 * tt + 0 * xx
    return np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse)) if mse else float("inf")


@pytest.fixture(scope="module")
def long_mp4(tmp_path_factory) -> tuple[str, np.ndarray]:
    """30-frame mp4 with a keyframe every 8 frames, so random access really seeks."""
    path = str(tmp_path_factory.mktemp("v") / "long.mp4")
    video = smooth_video(30)
    with VideoWriter(path, fps=12, gop_size=8) as w:
        for f in video:
            w.write(f)
    return path, video


def test_natural_sort():
    names = ["frame10.png", "frame2.png", "Frame1.png", "frame100.png", "a.png"]
    assert sorted(names, key=natural_key) == [
        "a.png",
        "Frame1.png",
        "frame2.png",
        "frame10.png",
        "frame100.png",
    ]


def test_mp4_round_trip(tmp_path):
    video = smooth_video()
    write_video(tmp_path / "a.mp4", video, fps=10)
    with VideoReader(tmp_path / "a.mp4") as r:
        assert (r.num_frames, r.size, len(r)) == (8, (32, 48), 8)
        assert r.fps == pytest.approx(10.0)
        back = r.read()
    assert back.dtype == np.uint8 and back.shape == video.shape
    assert psnr(back, video) > 30
    assert sorted(os.listdir(tmp_path)) == ["a.mp4"]  # no temp files left behind


def test_mp4_odd_size_is_edge_padded(tmp_path):
    video = smooth_video(4, 31, 45)
    write_video(tmp_path / "odd.mp4", video)
    back = read_video(tmp_path / "odd.mp4")
    assert back.shape == (4, 32, 46, 3)
    assert psnr(back[:, :31, :45], video) > 30
    # the padding replicates the last row / column
    assert psnr(back[:, 31, :45], video[:, 30]) > 30


@pytest.mark.parametrize("ext", ["mkv", "webm", "avi", "mov"])
def test_other_containers(tmp_path, ext):
    video = smooth_video(5)
    write_video(tmp_path / f"a.{ext}", video)
    r = VideoReader(tmp_path / f"a.{ext}")
    assert r.num_frames == 5
    assert psnr(r.read(), video) > 28


def test_gif_round_trip_exact_for_flat_colours(tmp_path):
    video = np.zeros((6, 20, 30, 3), np.uint8)
    for t in range(6):
        video[t, 2 + t : 10 + t, 3 * t : 3 * t + 8] = (250, 30, 10)
        video[t, 12:, :] = (0, 0, 200)
    write_video(tmp_path / "a.gif", video, fps=20)
    r = VideoReader(tmp_path / "a.gif")
    assert (r.num_frames, r.size) == (6, (20, 30))
    assert r.fps == pytest.approx(20.0)
    np.testing.assert_array_equal(r.read(), video)
    np.testing.assert_array_equal(r[4], video[4])
    # Pillow merges identical consecutive frames into one longer frame; the reader restores them
    still = np.repeat(video[:1], 4, axis=0)
    still[3] = video[5]
    write_video(tmp_path / "still.gif", still, fps=25)
    r = VideoReader(tmp_path / "still.gif")
    assert (r.num_frames, r.fps) == (4, 25.0)
    np.testing.assert_array_equal(r.read(), still)
    np.testing.assert_array_equal(r.read_frames([2, 3]), still[2:])


def test_png_frames_exact_and_random_access(tmp_path):
    video = smooth_video(12)
    write_video(tmp_path / "frames", video)
    assert sorted(os.listdir(tmp_path / "frames"))[:2] == ["000000.png", "000001.png"]
    r = VideoReader(tmp_path / "frames")
    assert (r.num_frames, r.fps) == (12, 25.0)
    np.testing.assert_array_equal(r.read(), video)
    np.testing.assert_array_equal(r.read(3, 4, 2), video[3:11:2])
    np.testing.assert_array_equal(r.read_frames([7, 1, 7]), video[[7, 1, 7]])
    np.testing.assert_array_equal(np.stack(list(r.iter_frames())), video)


def test_frame_folder_natural_order_and_colour_policy(tmp_path):
    d = tmp_path / "f"
    d.mkdir()
    for i in (1, 2, 10):  # lexicographic order would put frame10 before frame2
        Image.fromarray(np.full((4, 5), i, np.uint8), mode="L").save(d / f"frame{i}.png")
    Image.fromarray(np.full((4, 5, 4), 3, np.uint8), mode="RGBA").save(d / "frame3.png")
    v = read_video(d)
    assert v.shape == (4, 4, 5, 3)
    assert v[:, 0, 0, 0].tolist() == [1, 2, 3, 10]  # grayscale -> RGB, RGBA -> alpha dropped


def test_random_access_equals_sequential_decode(long_mp4):
    path, video = long_mp4
    r = VideoReader(path)
    seq = np.stack(list(r.iter_frames()))
    assert seq.shape == (30, 32, 48, 3) and psnr(seq, video) > 30
    assert r._seek_table() and len(r._kf) > 1  # several keyframes: the seek path is exercised
    assert r._decode_av_seek(17, 17, None) is not None  # and it is used (no fallback)
    for i in (0, 7, 8, 9, 17, 29):
        np.testing.assert_array_equal(r[i], seq[i])
    np.testing.assert_array_equal(r[-1], seq[29])
    np.testing.assert_array_equal(r.read(5, 6, 4), seq[5:27:4])
    np.testing.assert_array_equal(r.read_frames([20, 3, 11]), seq[[20, 3, 11]])
    with pytest.raises(IndexError):
        r.read(25, 6)


def test_zip_layout_and_list_videos(tmp_path):
    a, b = smooth_video(3), smooth_video(5)[:, ::-1]
    zpath = tmp_path / "ds.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for name, vid in (("vid10", a), ("vid2", b)):
            for t, f in enumerate(vid):
                buf = tmp_path / "x.png"
                Image.fromarray(f).save(buf)
                zf.write(buf, f"{name}/{t:06d}.png")
    assert list_videos(zpath) == [f"{zpath}/vid2", f"{zpath}/vid10"]
    np.testing.assert_array_equal(read_video(f"{zpath}/vid10"), a)
    r = VideoReader(f"{zpath}/vid2")
    np.testing.assert_array_equal(r.read(1, 2, 2), b[[1, 3]])
    np.testing.assert_array_equal(np.stack(list(r.iter_frames())), b)
    # a folder root finds container files, frame folders and zip members, naturally sorted
    write_video(tmp_path / "clip.mp4", a)
    write_video(tmp_path / "sub" / "frames", a)
    os.remove(tmp_path / "x.png")
    got = [os.path.relpath(p, tmp_path) for p in list_videos(tmp_path)]
    assert got == ["clip.mp4", "ds.zip/vid2", "ds.zip/vid10", os.path.join("sub", "frames")]


def test_atomic_writer_leaves_nothing_on_error(tmp_path):
    for name in ("x.mp4", "x.gif", "frames_out"):
        with pytest.raises(RuntimeError), VideoWriter(tmp_path / name) as w:
            w.write(smooth_video(1)[0])
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="earlier ones"), VideoWriter(tmp_path / "y.mp4") as w:
        w.write(np.zeros((8, 8, 3), np.uint8))
        w.write(np.zeros((8, 10, 3), np.uint8))
    assert os.listdir(tmp_path) == []


def test_bad_inputs_raise_with_filename(tmp_path, long_mp4):
    good = open(long_mp4[0], "rb").read()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "half.mp4").write_bytes(good[: len(good) // 2])
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 10)
    (tmp_path / "noframes").mkdir()
    (tmp_path / "noframes" / "readme.txt").write_text("x")
    (tmp_path / "bad.zip").write_bytes(b"PK not really")
    cases = {
        "missing.mp4": "missing",
        "empty.mp4": "empty",
        "half.mp4": "corrupt",
        "text.mp4": "not a video",
        "noframes": "zero frames",
        "bad.zip/vid": "corrupt zip",
    }
    for name, reason in cases.items():
        with pytest.raises(VideoReadError, match=reason) as e:
            VideoReader(tmp_path / name).read()
        assert name.split("/")[0] in str(e.value)
        assert isinstance(e.value, ValueError)


def test_make_grid_shapes_and_placement(tmp_path):
    vids = [np.full((4, 6, 8, 3), 10 * (k + 1), np.uint8) for k in range(5)]
    vids[4] = vids[4][:2]  # a shorter video holds its last frame
    g = make_grid(vids, nrow=3, padding=2)
    assert g.shape == (4, 2 * (6 + 2) + 2, 3 * (8 + 2) + 2, 3)
    assert g[0, 2, 2, 0] == 10 and g[3, 10, 12, 0] == 50 and g[0, 0, 0, 0] == 0
    batch = torch.from_numpy(np.stack([v for v in vids[:4]])).permute(0, 4, 1, 2, 3)  # (B, C, T, H, W)
    assert make_grid(batch).shape == (4, 2 * 8 + 2, 2 * 10 + 2, 3)
    write_grid(tmp_path / "g.gif", batch, fps=5)
    assert VideoReader(tmp_path / "g.gif").read().shape == (4, 18, 22, 3)
