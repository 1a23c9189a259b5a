"""`vidgan prepare` end to end on tiny videos (2 good + 1 corrupt; then all bad)."""

from __future__ import annotations

import argparse
import os
import zipfile

import numpy as np
import pytest

from vidgan.cli import prepare
from vidgan.data import DataConfig, SyntheticVideos, build_dataset
from vidgan.io import read_video, write_video


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vidgan")
    prepare.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["prepare", *argv])


@pytest.fixture()
def src(tmp_path):
    syn = SyntheticVideos("bouncing-shapes", num_videos=2, video_frames=10, size=32)
    root = tmp_path / "raw"
    write_video(root / "clip one.mp4", syn.video(0)[:, :, :24], fps=10)  # 32 x 24, portrait
    write_video(root / "sub" / "b#2.gif", syn.video(1), fps=10)
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50)
    return root


def test_prepare_frames(src, tmp_path, capsys):
    dst = tmp_path / "out"
    assert prepare.run(parse([str(src), str(dst), "--size", "16", "--fps", "5", "--no-progress"])) == 0
    err = capsys.readouterr().err
    assert "skipped 1 of 3" in err and "broken.mp4" in err
    assert sorted(os.listdir(dst)) == ["clip one", "sub_b_2"]
    assert sorted(os.listdir(dst / "sub_b_2"))[:2] == ["000000.png", "000001.png"]
    v = read_video(dst / "sub_b_2")
    assert v.shape == (5, 16, 16, 3)  # 10 frames at 10 fps -> 5 at 5 fps; square 16 px
    assert not os.path.exists(str(dst) + ".tmp")
    ds = build_dataset(DataConfig(source=str(dst), frames=5, size=16, val_fraction=0.0))
    assert len(ds) == 2
    # time resampling keeps frames 0, 2, 4, ... of the source
    src_v = read_video(src / "sub" / "b#2.gif")
    from vidgan.data.transforms import resize_short_side

    np.testing.assert_array_equal(v[1], resize_short_side(src_v[2:3], 16)[0])
    # DST exists: refuse unless --overwrite
    with pytest.raises(FileExistsError, match="--overwrite"):
        prepare.run(parse([str(src), str(dst), "--no-progress"]))
    assert prepare.run(parse([str(src), str(dst), "--overwrite", "--no-progress"])) == 0
    assert read_video(dst / "clip one").shape == (10, 24, 24, 3)  # no --size: centre square crop only


def test_prepare_zip_styleganv_layout(src, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path / "home"))  # the index of a zip lives there
    dst = tmp_path / "out.zip"
    assert prepare.run(parse([str(src), str(dst), "--size", "16", "--format", "zip", "--no-progress"])) == 0
    names = zipfile.ZipFile(dst).namelist()
    assert all(n.count("/") == 1 for n in names) and len(names) == 20  # exactly two levels
    assert len(build_dataset(DataConfig(source=str(dst), frames=8, size=16, val_fraction=0.0))) == 2


def test_prepare_all_bad_fails(tmp_path, capsys):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "x.mp4").write_text("nope")
    assert prepare.run(parse([str(tmp_path / "raw"), str(tmp_path / "out"), "--no-progress"])) == 1
    assert "none of the 1 video(s)" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out") and not os.path.exists(tmp_path / "out.tmp")


def test_help_has_example(capsys):
    with pytest.raises(SystemExit):
        parse(["--help"])
    assert "example:" in capsys.readouterr().out


def test_list_file_keeps_the_listed_videos_in_list_order(tmp_path):
    import numpy as np

    from vidgan.cli.main import main
    from vidgan.io import write_video

    src = tmp_path / "src"
    for name in ("ClassA/v_a1.mp4", "ClassA/v_a2.mp4", "ClassB/v_b1.mp4"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        write_video(src / name, np.random.default_rng(0).integers(0, 255, (4, 24, 32, 3), dtype=np.uint8))
    lst = tmp_path / "trainlist01.txt"
    lst.write_text("ClassB/v_b1.mp4 2\nClassA/v_a1.mp4 1\n")
    assert (
        main(
            [
                "prepare",
                str(src),
                str(tmp_path / "out"),
                "--list",
                str(lst),
                "--size",
                "16",
                "--filter",
                "cubic",
                "--no-progress",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ClassA_v_a1", "ClassB_v_b1"]
    lst.write_text("ClassC/v_c1.mp4 3\n")
    assert main(["prepare", str(src), str(tmp_path / "out2"), "--list", str(lst), "--no-progress"]) == 1
    assert not (tmp_path / "out2").exists()
