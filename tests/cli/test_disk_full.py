"""Full disk, for real: each writer runs on a size-limited tmpfs that is then filled up. Every command ends in
one `error: ... disk full ...` line with exit 1, the previous output stays intact and no temporary is left."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import numpy as np
import pytest
import torch
from PIL import Image

from vidgan.cli.main import main
from vidgan.engine import checkpoint as ckpt_io


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here ({r.stderr.decode().strip()[:80]}); needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(mnt, leave: int = 16 * 1024):
    """Fill the file system up to ``leave`` free bytes."""
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    with open(mnt / "filler", "wb") as f:
        f.write(b"\0" * max(free - leave, 0))


def _no_temporaries(root):
    return [p for p in root.rglob(".*") if ".tmp" in p.name or p.name.startswith((".ckpt", ".samples"))]


def _one_disk_full_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and "disk full" in err[-1], err
    return err[-1]


def test_train_keeps_the_last_good_checkpoint(small_fs, capsys):
    run = small_fs / "run"
    base = ["train", "tganv2:tiny", "train.batch_size=2", "--run-dir", str(run), "--no-progress"]
    assert main([*base, "--max-clips", "4"]) == 0
    good = ckpt_io.latest_checkpoint(run)
    before = good.read_bytes()
    capsys.readouterr()
    _fill(small_fs)
    assert main([*base, "--max-clips", "8"]) == 1
    _one_disk_full_line(capsys)
    assert ckpt_io.latest_checkpoint(run) == good and good.read_bytes() == before
    assert ckpt_io.load(good)["progress"]["clips_seen"] == 4
    assert not _no_temporaries(run)


def test_generate_and_eval_out(small_fs, tmp_path, capsys):
    run = tmp_path / "run"  # trained on the normal disk
    assert (
        main(
            ["train", "tganv2:tiny", "train.batch_size=2", "--run-dir", str(run), "--max-clips", "2", "--no-progress"]
        )
        == 0
    )
    out = small_fs / "samples"
    assert main(["generate", "--checkpoint", str(run), "--out", str(out), "--num-videos", "2", "--no-progress"]) == 0
    listing = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    _fill(small_fs, leave=4096)
    assert main(["generate", "--checkpoint", str(run), "--out", str(out), "--num-videos", "8", "--no-progress"]) == 1
    _one_disk_full_line(capsys)
    assert sorted(p.name for p in out.iterdir()) == listing  # the previous samples are intact
    assert not [p for p in small_fs.iterdir() if p.name.startswith(".")]
    # eval --out: the JSON result file
    os.remove(small_fs / "filler")
    res = small_fs / "res.json"
    res.write_text(json.dumps({"results": []}))
    _fill(small_fs, leave=0)
    frames = tmp_path / "f"
    frames.mkdir()
    for i in range(3):
        Image.fromarray(np.full((16, 16, 3), 10 * i, np.uint8)).save(frames / f"{i:04d}.png")
    code = main(["eval", "psnr_rgb", "--real", str(frames), "--fake", str(frames), "--out", str(res)])
    if code == 0:  # the JSON fitted into the last free block: nothing to prove here
        pytest.skip("the result fitted into the remaining space")
    _one_disk_full_line(capsys)
    assert json.loads(res.read_text()) == {"results": []}


def test_upscale_keeps_the_previous_output(small_fs, tmp_path, capsys):
    from vidgan.families.tecogan import Config, build_generator

    torch.manual_seed(0)
    cfg = Config(num_blocks=1, nf=4, discriminator=False)
    ckpt = tmp_path / "g.pt"
    import dataclasses

    torch.save(
        {
            "modules": {"generator": build_generator(cfg).state_dict()},
            "ema": None,
            "config": {"family": dataclasses.asdict(cfg), "data": {}, "train": {}, "seed": 0},
        },
        ckpt,
    )
    lr = tmp_path / "lr"
    lr.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(lr / f"{i:04d}.png")
    out = small_fs / "hr.mp4"
    assert main(["upscale", "--checkpoint", str(ckpt), str(lr), str(out), "--no-progress"]) == 0
    before = out.read_bytes()
    capsys.readouterr()
    _fill(small_fs, leave=0)
    assert main(["upscale", "--checkpoint", str(ckpt), str(lr), str(small_fs / "frames"), "--no-progress"]) == 1
    _one_disk_full_line(capsys)
    assert out.read_bytes() == before and not (small_fs / "frames").exists()
    assert not [p for p in small_fs.iterdir() if p.name.startswith(".")]
