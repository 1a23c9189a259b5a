"""Paired / unpaired source-target clips for video-to-video translation."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from vidgan.data import DataConfig, build_dataset
from vidgan.io import write_video


def _folder(root, names, offset, frames=6):
    root.mkdir()
    for k, name in enumerate(names):
        # frame t of video k has value offset + 10 k + t everywhere: reveals which frames were taken
        video = np.stack([np.full((20, 24, 3), offset + 10 * k + t, np.uint8) for t in range(frames)])
        write_video(root / name, video)  # frame folder of PNGs (lossless)
    return root


def test_paired_clips_share_frames_crop_and_flip(tmp_path):
    src = _folder(tmp_path / "a", ["v0", "v1", "v2"], 0)
    tgt = _folder(tmp_path / "b", ["v0", "v1", "v2"], 100)
    cfg = DataConfig(
        source=str(src),
        target=str(tgt),
        sampler="translation",
        frames=3,
        size=16,
        crop="random",
        hflip=True,
        val_fraction=0.0,
    )
    ds = build_dataset(cfg, "train")
    for seed in range(5):
        ex = ds[(1, seed)]
        assert ex["source"].shape == ex["target"].shape == (3, 3, 16, 16)
        assert ex["source"].dtype == torch.uint8
        assert torch.equal(
            ex["target"].int() - ex["source"].int(), torch.full_like(ex["source"], 100, dtype=torch.int)
        )


def test_unpaired_draws_independent_targets(tmp_path):
    src = _folder(tmp_path / "a", ["v0", "v1"], 0)
    tgt = _folder(tmp_path / "b", ["x0", "x1", "x2"], 100)
    cfg = DataConfig(
        source=str(src),
        target=str(tgt),
        sampler="translation",
        pairing="unpaired",
        frames=2,
        size=16,
        val_fraction=0.0,
    )
    ds = build_dataset(cfg, "train")
    firsts = {int(ds[(0, s)]["target"][0, 0, 0, 0]) for s in range(12)}
    assert len(firsts) > 2 and all(v >= 100 for v in firsts)
    assert torch.equal(ds[(0, 3)]["target"], ds[(0, 3)]["target"])


def test_paired_needs_matching_names(tmp_path):
    src = _folder(tmp_path / "a", ["v0", "v1"], 0)
    tgt = _folder(tmp_path / "b", ["v0", "other"], 100)
    cfg = DataConfig(source=str(src), target=str(tgt), sampler="translation", frames=2, size=16, val_fraction=0.0)
    with pytest.raises(ValueError, match="no counterpart.*'v1'.*pairing=unpaired"):
        build_dataset(cfg, "train")
    with pytest.raises(ValueError, match="needs data.target"):
        build_dataset(DataConfig(sampler="translation"), "train")


def test_nearest_source_resize_keeps_the_label_palette(tmp_path):
    """data.source_interp=nearest: resized label maps contain only their palette's colours (area resizing
    invents in-between colours that are no class); the target is still area-resized."""
    from PIL import Image

    from vidgan.data import DataConfig, build_dataset

    palette = np.array([[128, 64, 128], [0, 0, 142], [220, 220, 0]], np.uint8)
    rng = np.random.default_rng(0)
    for root in ("src", "tgt"):
        d = tmp_path / root / "v0"
        d.mkdir(parents=True)
        for i in range(4):
            labels = rng.integers(0, 3, (96, 96))
            Image.fromarray(palette[labels]).save(d / f"{i:04d}.png")
    cfg = DataConfig(
        source=str(tmp_path / "src"),
        target=str(tmp_path / "tgt"),
        sampler="translation",
        frames=2,
        size=40,
        val_fraction=0.0,
    )
    colours = lambda x: {tuple(c) for c in x.permute(1, 2, 3, 0).reshape(-1, 3).tolist()}  # noqa: E731
    area = build_dataset(cfg, "all")[(0, 0)]
    assert not colours(area["source"]) <= {tuple(c) for c in palette.tolist()}
    near = build_dataset(replace(cfg, source_interp="nearest"), "all")[(0, 0)]
    assert colours(near["source"]) <= {tuple(c) for c in palette.tolist()}
    assert torch.equal(near["target"], area["target"])  # the target keeps area resizing
