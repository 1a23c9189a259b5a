import os

import pytest
import torch

from vidgan.engine import checkpoint as ckpt_io


def test_atomic_save_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "checkpoints" / "ckpt-000000000004.pt"
    ckpt_io.save_atomic({"modules": {}, "config": {}}, target)
    before = target.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        ckpt_io.save_atomic({"modules": {"x": 1}, "config": {}}, target)
    assert target.read_bytes() == before
    assert os.listdir(target.parent) == [target.name]


def test_prune_and_latest(tmp_path):
    for clips in (4, 8, 12, 16):
        ckpt_io.save_atomic({"modules": {}, "config": {}}, tmp_path / "checkpoints" / f"ckpt-{clips:012d}.pt")
    ckpt_io.prune(tmp_path, keep_last=2)
    assert [p.name for p in ckpt_io.list_checkpoints(tmp_path)] == [
        "ckpt-000000000012.pt",
        "ckpt-000000000016.pt",
    ]
    assert ckpt_io.resolve(tmp_path).name == "ckpt-000000000016.pt"


def test_clear_errors(tmp_path):
    with pytest.raises(ckpt_io.CheckpointError, match="no checkpoints"):
        ckpt_io.resolve(tmp_path)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ckpt_io.CheckpointError, match="bad.pt: cannot read"):
        ckpt_io.load(bad)
    other = tmp_path / "other.pt"
    torch.save({"a": 1}, other)
    with pytest.raises(ckpt_io.CheckpointError, match="not a vidgan checkpoint"):
        ckpt_io.load(other)
