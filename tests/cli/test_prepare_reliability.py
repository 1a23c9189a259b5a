"""`vidgan prepare` on failure: the temporary next to DST is removed (a full disk included), an earlier DST is
left intact, an existing DST is refused in one line unless --overwrite."""

from __future__ import annotations

import argparse
import errno
import os

import numpy as np
import pytest

from vidgan.cli import prepare
from vidgan.cli._errors import format_error
from vidgan.io import read_video, write_video


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vidgan")
    prepare.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["prepare", *argv])


@pytest.fixture()
def src(tmp_path):
    rng = np.random.default_rng(0)
    for k in range(3):
        write_video(tmp_path / "raw" / f"v{k}.mp4", rng.integers(0, 256, (4, 16, 16, 3)).astype(np.uint8))
    return tmp_path / "raw"


def leftovers(folder) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith(".") or n.endswith((".tmp", ".partial", ".old")))


@pytest.mark.parametrize("fmt", ["zip", "frames"])
def test_full_disk_leaves_no_temporary_and_keeps_the_old_output(src, tmp_path, monkeypatch, fmt):
    dst = tmp_path / ("out.zip" if fmt == "zip" else "out")
    assert prepare.run(parse([str(src), str(dst), "--format", fmt, "--no-progress"])) == 0
    before = read_video(f"{dst}/v0" if fmt == "zip" else dst / "v0")
    calls = {"n": 0}
    real = prepare._put

    def full_disk(out, name, blob):
        calls["n"] += 1
        if calls["n"] > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(out, name, blob)

    monkeypatch.setattr(prepare, "_put", full_disk)
    with pytest.raises(OSError) as e:
        prepare.run(parse([str(src), str(dst), "--format", fmt, "--overwrite", "--no-progress"]))
    line = format_error(e.value)
    assert line.startswith(f"{dst}: disk full") and "\n" not in line
    assert leftovers(tmp_path) == []
    np.testing.assert_array_equal(read_video(f"{dst}/v0" if fmt == "zip" else dst / "v0"), before)


def test_full_disk_when_the_zip_is_closed(src, tmp_path, monkeypatch):
    """The central directory written by close() is the last write: that failing also cleans up."""
    import zipfile

    def close(self):
        raise OSError(errno.ENOSPC, "No space left on device", self.filename)

    monkeypatch.setattr(zipfile.ZipFile, "close", close)
    with pytest.raises(OSError):
        prepare.run(parse([str(src), str(tmp_path / "o.zip"), "--format", "zip", "--no-progress"]))
    monkeypatch.undo()
    assert leftovers(tmp_path) == [] and not (tmp_path / "o.zip").exists()


def test_existing_destination_refused_then_overwritten(src, tmp_path):
    dst = tmp_path / "out"
    dst.mkdir()
    (dst / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError) as e:
        prepare.run(parse([str(src), str(dst), "--no-progress"]))
    assert format_error(e.value) == f"{dst}: already exists — pass --overwrite or another path"
    assert (dst / "keep.txt").read_text() == "mine"
    assert prepare.run(parse([str(src), str(dst), "--overwrite", "--no-progress"])) == 0
    assert sorted(os.listdir(dst)) == ["v0", "v1", "v2"] and leftovers(tmp_path) == []


def test_interrupt_removes_the_temporary(src, tmp_path, monkeypatch):
    def stop(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(prepare, "_put", stop)
    with pytest.raises(KeyboardInterrupt):
        prepare.run(parse([str(src), str(tmp_path / "o"), "--no-progress"]))
    assert leftovers(tmp_path) == [] and not (tmp_path / "o").exists()
