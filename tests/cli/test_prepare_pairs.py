"""`vidgan prepare --pairs bd|bi`: HR/LR test pairs made with the paired training sampler's degradation."""

from __future__ import annotations

import argparse
import os

import numpy as np
import pytest
import torch
from PIL import Image

from vidgan.cli import prepare
from vidgan.data import DataConfig, build_dataset
from vidgan.data.degradations import degrade
from vidgan.io import read_video


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vidgan")
    prepare.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["prepare", *argv, "--no-progress"])


def _frames(folder, frames: int, h: int, w: int, seed: int) -> None:
    """A smooth moving pattern plus noise (natural-image-like values, not constant)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    yy, xx = np.mgrid[0:h, 0:w]
    for t in range(frames):
        base = 128 + 90 * np.sin((yy + 2 * t) / 5.0)[..., None] * np.cos((xx - t)[..., None] / 7.0 + np.arange(3))
        img = np.clip(base + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"{t:04d}.png")


@pytest.fixture()
def src(tmp_path):
    root = tmp_path / "raw"
    _frames(root / "walk", 5, 38, 43, 0)
    _frames(root / "city", 6, 41, 40, 1)
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50)
    return root


def _expected_lr(hr: np.ndarray, kind: str, **kw) -> np.ndarray:
    x = torch.from_numpy(hr).permute(0, 3, 1, 2).float() / 255.0
    lr = degrade(x, kind, **kw)
    return (lr.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("kind", ["bd", "bi"])
def test_pairs_layout_crop_and_degradation(src, tmp_path, capsys, kind):
    dst = tmp_path / "pairs"
    assert prepare.run(parse([str(src), str(dst), "--crop", "none", "--pairs", kind])) == 0
    err = capsys.readouterr().err
    assert "skipped 1 of 3" in err and "broken.mp4" in err
    assert sorted(os.listdir(dst)) == ["hr", "lr"]
    assert sorted(os.listdir(dst / "hr")) == sorted(os.listdir(dst / "lr")) == ["city", "walk"]
    hr, lr = read_video(dst / "hr" / "walk"), read_video(dst / "lr" / "walk")
    assert hr.shape == (5, 36, 40, 3) and lr.shape == (5, 9, 10, 3)  # 38x43 cropped top-left to multiples of 4
    src_first = np.asarray(Image.open(src / "walk" / "0000.png"))
    np.testing.assert_array_equal(hr[0], src_first[:36, :40])  # top-left crop, HR otherwise untouched
    np.testing.assert_array_equal(lr, _expected_lr(hr, kind, scale=4))
    assert read_video(dst / "hr" / "city").shape == (6, 40, 40, 3)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    with pytest.raises(FileExistsError, match="--overwrite"):
        prepare.run(parse([str(src), str(dst), "--pairs", kind]))


def test_bd_pairs_match_the_training_sampler(src, tmp_path):
    """The LR written to disk is the paired sampler's LR of the same HR frames, up to uint8 rounding."""
    dst = tmp_path / "pairs"
    assert prepare.run(parse([str(src), str(dst), "--size", "32", "--pairs", "bd", "--sigma", "1.5"])) == 0
    cfg = DataConfig(source=str(dst / "hr"), sampler="paired", frames=5, size=32, crop="center", val_fraction=0.0)
    ds = build_dataset(cfg)
    k = [v.relpath for v in ds.videos].index("walk")
    ex = ds[(k, 0)]
    train_lr = ((ex["lr"] + 1) / 2).permute(1, 2, 3, 0).numpy() * 255  # (T, h, w, C) in 0..255
    disk_lr = read_video(dst / "lr" / "walk").astype(np.float64)
    assert train_lr.shape == disk_lr.shape == (5, 8, 8, 3)
    assert np.abs(train_lr - disk_lr).max() <= 0.5 + 1e-3  # rounding only
    assert np.abs(train_lr - disk_lr).mean() > 0.05  # the comparison is not trivially of identical constants


def test_sigma_changes_the_blur(src, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert prepare.run(parse([str(src), str(a), "--crop", "none", "--pairs", "bd"])) == 0
    assert prepare.run(parse([str(src), str(b), "--crop", "none", "--pairs", "bd", "--sigma", "0.8"])) == 0
    hr = read_video(b / "hr" / "walk")
    np.testing.assert_array_equal(read_video(b / "lr" / "walk"), _expected_lr(hr, "bd", scale=4, sigma=0.8))
    assert not np.array_equal(read_video(a / "lr" / "walk"), read_video(b / "lr" / "walk"))


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--pairs", "bd", "--format", "zip"], "--format zip"),
        (["--sigma", "2"], "--sigma: only used with --pairs bd"),
        (["--pairs", "bi", "--sigma", "2"], "--sigma: the bi degradation"),
        (["--pairs", "bd", "--sigma", "0"], "--sigma: must be > 0"),
        (["--pairs", "bd", "--scale", "1"], "--scale: must be >= 2"),
    ],
)
def test_pairs_option_errors(src, tmp_path, argv, match):
    with pytest.raises(ValueError, match=match):
        prepare.run(parse([str(src), str(tmp_path / "out"), *argv]))
    assert not os.path.exists(tmp_path / "out")


def test_too_small_frames_are_skipped_with_a_reason(tmp_path, capsys):
    _frames(tmp_path / "raw" / "tiny", 3, 6, 6, 0)
    assert prepare.run(parse([str(tmp_path / "raw"), str(tmp_path / "out"), "--crop", "none", "--pairs", "bd"])) == 1
    err = capsys.readouterr().err
    assert "too small for --pairs bd --scale 4" in err and not os.path.exists(tmp_path / "out")


def test_prepared_outputs_honour_the_umask(tmp_path):
    """The dataset folder / zip is created as a private temporary and renamed: it must end with the umask's mode."""
    import os
    import stat

    from vidgan.cli.main import main
    from vidgan.data.synthetic import SyntheticVideos
    from vidgan.io import write_video

    src = tmp_path / "src"
    src.mkdir()
    write_video(src / "a.mp4", SyntheticVideos("photo-pans", 1, 4, 32).video(0))
    old = os.umask(0o022)
    try:
        for fmt, dst in (("frames", tmp_path / "frames"), ("zip", tmp_path / "data.zip")):
            assert main(["prepare", str(src), str(dst), "--format", fmt, "-q"]) == 0
            want = 0o755 if fmt == "frames" else 0o644
            assert stat.S_IMODE(dst.stat().st_mode) == want, fmt
    finally:
        os.umask(old)
