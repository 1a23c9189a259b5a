"""build_dataset: the (index, seed) contract, every sampler, folder/zip sources, index cache, splits."""

from __future__ import annotations

import json
import os
import time
import warnings
import zipfile

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vidgan.data import DataConfig, SyntheticVideos, VideoSource, build_dataset, in_val_split
from vidgan.data.index import CACHE_NAME, index_cache_path
from vidgan.io import VideoReadError, write_video


def tiny(**kw) -> DataConfig:
    base = dict(source="bouncing-shapes:num_videos=10,video_frames=12", frames=4, size=16, val_fraction=0.2)
    return DataConfig(**{**base, **kw})


def same(a, b) -> bool:
    if isinstance(a, tuple):
        return all(torch.equal(x, y) for x, y in zip(a, b))
    return torch.equal(a, b)


@pytest.fixture()
def folder(tmp_path):
    """3 good videos (mp4, gif, png frames; one in a subfolder), 1 too short, 1 corrupt."""
    syn = SyntheticVideos("bouncing-shapes", num_videos=4, video_frames=10, size=24)
    root = tmp_path / "ds"
    write_video(root / "a.mp4", syn.video(0)[:, :, :20])  # 24 x 20: short side 20
    write_video(root / "sub" / "b.gif", syn.video(1))
    write_video(root / "c", syn.video(2))
    write_video(root / "short", syn.video(3)[:2])
    (root / "bad.mp4").write_text("not a video")
    return root


def test_synthetic_samplers_shapes_dtypes():
    ex = build_dataset(tiny())[(1, 5)]
    assert list(ex) == ["video"] and ex["video"].dtype == torch.uint8 and ex["video"].shape == (3, 4, 16, 16)
    ex = build_dataset(tiny(sampler="multilevel", subsample_frame=(2, 2)))[(1, 5)]
    assert ex["video"].shape == (3, 4, 16, 16) and ex["offsets"].dtype == torch.int64 and ex["offsets"].shape == (2,)
    assert [tuple(x.shape) for x in ex["levels"]] == [(3, 4, 4, 4), (3, 2, 8, 8), (3, 1, 16, 16)]
    full = (ex["video"].double() - 128) / 128
    torch.testing.assert_close(
        ex["levels"][-1], full[:, [int(np.arange(4)[ex["offsets"][0] :: 2][ex["offsets"][1]])]].float()
    )
    ex = build_dataset(tiny(sampler="random_t", frames=3, max_dist=8))[(1, 5)]
    assert ex["video"].shape == (3, 3, 16, 16) and ex["times"].dtype == torch.int64
    assert torch.all(ex["times"][1:] > ex["times"][:-1]) and int(ex["times"][-1] - ex["times"][0]) in (
        2,
        4,
        8,
    )


def test_paired_uses_degrade_in_unit_range():
    from vidgan.data.degradations import degrade

    ds = build_dataset(tiny(sampler="paired", scale=4, degradation="bi"))
    ex = ds[(0, 3)]
    assert ex["lr"].shape == (3, 4, 4, 4) and ex["hr"].shape == (3, 4, 16, 16)
    assert ex["lr"].dtype == ex["hr"].dtype == torch.float32
    assert ex["hr"].min() >= -1 and ex["hr"].max() <= 1
    video = build_dataset(tiny())[(0, 3)]["video"]  # same seed -> same clip
    torch.testing.assert_close(ex["hr"], video.float() / 255 * 2 - 1)
    lr = degrade(video.permute(1, 0, 2, 3).float() / 255, "bi", scale=4, sigma=1.5)
    torch.testing.assert_close(ex["lr"], lr.permute(1, 0, 2, 3) * 2 - 1)


def test_index_seed_contract():
    ds = build_dataset(tiny(crop="random", hflip=True, size=12))
    for key in [(0, 1), (3, 99)]:
        a, b = ds[key], ds[key]
        assert all(same(a[k], b[k]) for k in a)
    assert same(ds[2]["video"], ds[(2, 2)]["video"])  # plain int: seed = index
    clips = {ds[(0, s)]["video"].numpy().tobytes() for s in range(20)}
    assert len(clips) > 8  # different seeds -> different starts / flips
    ml = build_dataset(tiny(sampler="multilevel", subsample_frame=(2, 2)))
    offsets = {tuple(ml[(0, s)]["offsets"].tolist()) for s in range(20)}
    assert len(offsets) == 4


def test_synthetic_split_is_deterministic_and_disjoint():
    cfg = tiny()
    tr, va, al = (build_dataset(cfg, s) for s in ("train", "val", "all"))
    assert (len(tr), len(va), len(al)) == (8, 2, 10)  # every 5th video (val_fraction 0.2)
    assert set(tr._ids).isdisjoint(va._ids) and sorted(tr._ids + va._ids) == list(range(10))
    assert same(va[(0, 0)]["video"], al[(4, 0)]["video"])
    with pytest.raises(ValueError, match="video_frames"):
        build_dataset(tiny(frames=20))


def test_folder_dataset_skips_and_caches(folder):
    cfg = DataConfig(source=str(folder), frames=5, size=16, val_fraction=0.0, crop="random")
    with pytest.warns(UserWarning, match=r"using 3 videos; skipped 1 unreadable .*bad\.mp4.* 1 shorter than 5"):
        ds = build_dataset(cfg)
    assert [v.relpath for v in ds.videos] == ["a.mp4", "c", "sub/b.gif"]
    assert ds.skipped_short == 1 and ds.bad[0][0] == "bad.mp4"
    ex = ds[(0, 7)]
    assert ex["video"].shape == (3, 5, 16, 16)
    assert not torch.equal(ds[(0, 1)]["video"], ds[(0, 2)]["video"])
    cache = json.loads((folder / CACHE_NAME).read_text())
    assert cache["entries"]["a.mp4"]["num_frames"] == 10 and cache["entries"]["a.mp4"]["width"] == 20
    assert "error" in cache["entries"]["bad.mp4"]
    # edits invalidate the entry: c now has 7 frames
    write_video(folder / "c", SyntheticVideos("moving-digits", 1, 7, 24).video(0))
    os.utime(folder / "c", ns=(time.time_ns() + 10**9,) * 2)
    with pytest.warns(UserWarning):
        ds2 = build_dataset(cfg)
    assert [v.num_frames for v in ds2.videos if v.relpath == "c"] == [7]
    with pytest.raises(VideoReadError, match="bad.mp4"):
        build_dataset(DataConfig(source=str(folder), frames=5, size=16, strict=True))


def test_folder_split_hashes_relpath(folder):
    cfg = DataConfig(source=str(folder), frames=2, size=16, val_fraction=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = {}
        for split in ("train", "val"):
            try:
                parts[split] = {v.relpath for v in build_dataset(cfg, split).videos}
            except ValueError:
                parts[split] = set()
    names = {"a.mp4", "c", "sub/b.gif", "short"}
    assert parts["train"] | parts["val"] == names and not parts["train"] & parts["val"]
    assert parts["val"] == {n for n in names if in_val_split(n, 0.5)}


def test_zip_source_and_collate(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path / "home"))
    syn = SyntheticVideos("moving-digits", num_videos=2, video_frames=6, size=16)
    zpath = tmp_path / "d.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for i in range(2):
            write_video(tmp_path / f"v{i}", syn.video(i))
            for f in sorted(os.listdir(tmp_path / f"v{i}")):
                zf.write(tmp_path / f"v{i}" / f, f"v{i}/{f}")
    ds = build_dataset(DataConfig(source=str(zpath), frames=6, size=16, val_fraction=0.0))
    assert len(ds) == 2
    assert index_cache_path(str(zpath)).startswith(str(tmp_path / "home" / "index"))  # a zip is not writable
    assert os.path.isfile(index_cache_path(str(zpath)))
    np.testing.assert_array_equal(ds[(1, 0)]["video"].permute(1, 2, 3, 0).numpy(), syn.video(1))
    ml = build_dataset(
        DataConfig(
            source=str(zpath),
            sampler="multilevel",
            frames=4,
            size=16,
            val_fraction=0.0,
            subsample_frame=(2, 2),
        )
    )
    batch = next(iter(DataLoader(ml, batch_size=2)))
    assert batch["video"].shape == (2, 3, 4, 16, 16) and batch["levels"][0].shape == (2, 3, 4, 4, 4)


def test_bad_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="embedded dataset"):
        build_dataset(DataConfig(source=str(tmp_path / "nope")))
    with pytest.raises(ValueError, match="divisible"):
        build_dataset(tiny(sampler="multilevel", size=12))


def test_single_video_file_source(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path / "home"))
    write_video(tmp_path / "one.mp4", SyntheticVideos("photo-pans", 1, 9, 32).video(0))
    ds = build_dataset(DataConfig(source=str(tmp_path / "one.mp4"), frames=4, stride=2, size=16, val_fraction=0.0))
    assert len(ds) == 1 and ds.videos[0].relpath == "one.mp4"
    assert ds[(0, 0)]["video"].shape == (3, 4, 16, 16)  # span (4 - 1) * 2 + 1 = 7 <= 9 frames


def test_video_source_whole_videos(folder):
    src = VideoSource("moving-digits:num_videos=3,video_frames=5", size=16)
    assert len(src) == 3 and src.names[1] == "moving-digits[1]" and src[1].shape == (5, 16, 16, 3)
    files = VideoSource(str(folder))
    assert [os.path.basename(n) for n in files.names] == ["a.mp4", "bad.mp4", "c", "short", "b.gif"]
    assert files[0].shape == (10, 24, 20, 3) and files[2].shape == (10, 24, 24, 3)
    with pytest.raises(VideoReadError, match="bad.mp4"):
        files[1]
