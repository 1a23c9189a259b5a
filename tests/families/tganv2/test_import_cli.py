"""``vidgan weights import tganv2 X.npz`` -> a vidgan checkpoint that ``vidgan generate --checkpoint`` reads,
checked on the official Chainer generator snapshot of the golden fixtures."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vidgan.cli.main import main
from vidgan.families.tganv2 import TGANv2Generator, sample
from vidgan.families.tganv2.convert import config_from_chainer, load_chainer_state
from vidgan.io.video_io import VideoReader
from vidgan.sampling.generate import sample_batches
from vidgan.sampling.inference import load_model


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def imported(golden, tmp_path, monkeypatch, capsys) -> tuple[Path, Path]:
    """(snapshot, checkpoint written by the CLI) with ``VIDGAN_HOME`` in ``tmp_path``."""
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path / "home"))
    src = tmp_path / "run" / "generator_iter_82000.npz"  # the official snapshot name
    src.parent.mkdir()
    shutil.copyfile(golden / "generator_state.npz", src)
    assert main(["weights", "import", "tganv2", str(src)]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == tmp_path / "home" / "weights" / "tganv2" / "generator_iter_82000.pt"
    return src, out


def _converted(gen_state) -> TGANv2Generator:
    return load_chainer_state(TGANv2Generator(config_from_chainer(gen_state)), gen_state).eval()


def test_import_writes_a_vidgan_checkpoint(imported, gen_state, gen_io):
    src, out = imported
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["config"]["family"]["name"] == "tganv2"
    assert (ckpt["config"]["family"]["clstm_ch"], ckpt["config"]["family"]["ch"]) == (16, 4)
    assert ckpt["config"]["data"]["size"] == 192 and ckpt["config"]["preset"] == "ucf101_192"
    assert ckpt["source"]["file"] == src.name and ckpt["source"]["sha256"] == _sha(src)
    assert ckpt["ema"] is None and list(ckpt["modules"]) == ["generator"]
    # what `vidgan generate` loads: key for key the converted Chainer state
    got = load_model(out, use="sample", task="unconditional")
    gen = got.modules[got.parts.sample_role]
    want = _converted(gen_state).state_dict()
    have = gen.state_dict()
    assert list(have) == list(want)
    for k in want:
        assert torch.equal(have[k], want[k]), k
    # and it renders the official test-mode output for the recorded z (README: atol 2e-4)
    with torch.no_grad():
        x = gen.dense(torch.from_numpy(gen_io["z"]))
    frames = gen_io["test/frames_stored"].tolist()
    np.testing.assert_allclose(x[:, :, frames].numpy(), gen_io["test/x_dense_subset"], atol=2e-4, rtol=0)


def test_generate_from_import_equals_direct_sampling(imported, gen_state, tmp_path):
    """`vidgan generate` on the imported file writes exactly what the converted generator samples."""
    _, out = imported
    dst = tmp_path / "samples"
    args = ["generate", "--checkpoint", str(out), "--out", str(dst), "--num-videos", "2", "--frames", "3"]
    assert main([*args, "--format", "frames", "--no-grid", "--seed", "5"]) == 0
    written = np.stack([VideoReader(dst / f"video_{i:05d}").read() for i in range(2)])  # (2, T, H, W, 3)
    parts = SimpleNamespace(sample=sample)
    (want,) = sample_batches(parts, _converted(gen_state), 2, 3, 5, 8, torch.device("cpu"))
    assert written.shape == (2, 3, 192, 192, 3)
    np.testing.assert_array_equal(written, want.permute(0, 2, 3, 4, 1).numpy())


def test_reimport_same_file_and_refusals(imported, golden, tmp_path, capsys):
    src, out = imported
    assert main(["weights", "import", "tganv2", str(src)]) == 0  # the same snapshot again: same file
    assert capsys.readouterr().out.strip() == str(out)
    before = out.read_bytes()
    other = tmp_path / "other" / src.name  # another snapshot with the same name
    other.parent.mkdir()
    shutil.copyfile(golden / "discriminator_state.npz", other)
    assert main(["weights", "import", "tganv2", str(other)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {out}: already holds an import of {src.name}") and "delete" in err
    assert out.read_bytes() == before
    renamed = other.with_name("discriminator_iter_82000.npz")
    other.rename(renamed)
    assert main(["weights", "import", "tganv2", str(renamed)]) == 0
    assert torch.load(capsys.readouterr().out.strip(), weights_only=True)["modules"].keys() == {"discriminator"}


def test_old_import_file_in_the_way(golden, tmp_path, monkeypatch, capsys):
    """What the importer used to write ($VIDGAN_HOME/weights/tganv2, a file) gives one line saying what to do."""
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path))
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "tganv2").write_bytes(b"old")
    assert main(["weights", "import", "tganv2", str(golden / "generator_state.npz")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'weights' / 'tganv2'}: a file written by an older") and "\n" not in err


@pytest.mark.slow
def test_generate_default_command(imported, tmp_path):
    """The documented route as typed: mp4 videos and the grids."""
    _, out = imported
    dst = tmp_path / "samples"
    assert main(["generate", "--checkpoint", str(out), "--out", str(dst), "--num-videos", "2"]) == 0
    assert sorted(p.name for p in dst.iterdir()) == ["grid.gif", "grid.mp4", "video_00000.mp4", "video_00001.mp4"]
    with VideoReader(dst / "video_00000.mp4") as r:
        assert r.num_frames == 16 and r.size == (192, 192)
