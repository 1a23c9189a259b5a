"""``vidgan eval``: golden FVD through PNG frame folders, JSON schema, errors, checkpoint hook."""

import json

import numpy as np
import pytest
from PIL import Image

from vidgan.cli import eval as eval_cli
from vidgan.cli.main import main

GOLDEN_16F = 152.9019  # FD(black, white) at 16 frames (metrics.md §1.6)
GOLDEN_30F = 151.3924  # TF-Hub published 151.39244


def _frame_folders(root, n, value, frames, hw=64):
    for i in range(n):
        d = root / f"vid{i}"
        d.mkdir(parents=True)
        for t in range(frames):
            Image.fromarray(np.full((hw, hw, 3), value, np.uint8)).save(d / f"{t:04d}.png")
    return root


def _eval_json(capsys, *argv):
    assert main(["eval", *argv, "--json", "--no-progress"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fvd_golden_16f_png_folders(tmp_path, i3d_home, monkeypatch, capsys):
    monkeypatch.setenv("VIDGAN_HOME", str(i3d_home))
    real = _frame_folders(tmp_path / "real", 2, 0, 16, hw=32)
    fake = _frame_folders(tmp_path / "fake", 2, 255, 16, hw=32)
    doc = _eval_json(capsys, "fvd", "--frames", "16", "--real", str(real), "--fake", str(fake))
    (r,) = doc["results"]
    assert r["metric"] == "fvd_2_16f"
    assert abs(r["value"] - GOLDEN_16F) < 2e-3, r["value"]
    p = r["protocol"]
    assert p["n_real"] == 2 and p["n_fake"] == 2 and p["frames"] == 16 and p["bn_eps"] == 1e-3
    assert p["resize"] == "tf1_legacy_bilinear_direct_224x224" and p["covariance"] == "unbiased"


@pytest.mark.slow
def test_fvd_golden_30f_8_videos_png_folders(tmp_path, i3d_home, monkeypatch, capsys):
    monkeypatch.setenv("VIDGAN_HOME", str(i3d_home))
    real = _frame_folders(tmp_path / "real", 8, 0, 30)
    fake = _frame_folders(tmp_path / "fake", 8, 255, 30)
    doc = _eval_json(capsys, "fvd", "--frames", "30", "--real", str(real), "--fake", str(fake))
    assert abs(doc["results"][0]["value"] - GOLDEN_30F) < 2e-3


def test_human_output_and_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path / "empty_home"))
    real = _frame_folders(tmp_path / "real", 2, 0, 10, hw=8)
    assert main(["eval", "nonsense_metric", "--real", str(real), "--fake", str(real)]) == 1
    assert "unknown metric 'nonsense_metric'" in capsys.readouterr().err
    # missing weights: one clear line naming the import command
    assert main(["eval", "fvd", "--frames", "10", "--real", str(real), "--fake", str(real)]) == 1
    err = capsys.readouterr().err
    assert "vidgan weights import i3d_k400_tfhub PATH" in err
    assert main(["eval", "fvd", "--real", str(tmp_path / "nope"), "--fake", str(real)]) == 1


def test_checkpoint_hook(tmp_path, monkeypatch):
    ck = tmp_path / "g.pt"
    ck.write_bytes(b"x")
    eval_cli.set_checkpoint_loader(None)
    try:
        with pytest.raises(ValueError, match="no checkpoint loader"):
            eval_cli.video_source(str(ck), 2, 0, "cpu")
    finally:
        eval_cli.set_checkpoint_loader(eval_cli.sample_from_checkpoint)
    calls = []

    def loader(path, num, frames, seed, device):
        calls.append((path.name, num, frames, seed, device))
        return [np.zeros((frames, 4, 4, 3), np.uint8)] * num

    eval_cli.set_checkpoint_loader(loader)
    try:
        vids = list(eval_cli.video_source(str(ck), 3, 7, "cpu")(5))
    finally:
        eval_cli.set_checkpoint_loader(eval_cli.sample_from_checkpoint)
    assert len(vids) == 3 and vids[0].shape == (5, 4, 4, 3) and calls == [("g.pt", 3, 5, 7, "cpu")]


def test_vsr_metric_wired_through_cli(tmp_path, capsys):
    vsr = pytest.importorskip("vidgan.metrics.vsr")  # metrics-B module; wiring only
    rng = np.random.default_rng(0)
    for root, noise in (("gt", 0), ("out", 6)):
        d = tmp_path / root / "seq"
        d.mkdir(parents=True)
        for t in range(7):
            base = (
                rng.integers(0, 256, (48, 48, 3))
                if root == "gt"
                else np.asarray(Image.open(tmp_path / "gt/seq" / f"{t:04d}.png"))
            )
            img = np.clip(base.astype(int) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(img).save(d / f"{t:04d}.png")
    doc = _eval_json(capsys, "psnr_y_teco", "--real", str(tmp_path / "gt"), "--fake", str(tmp_path / "out"))
    (r,) = doc["results"]
    direct = vsr.evaluate_vsr(tmp_path / "out", tmp_path / "gt", metrics=["psnr_y_teco"], progress=False)
    assert r["metric"] == "psnr_y_teco" and abs(r["value"] - direct[0].value) < 1e-9 and 20 < r["value"] < 60


def test_run_directory_is_sampled_on_the_fly(tmp_path):
    """A training run directory as --fake: seeded EMA samples from its latest checkpoint."""
    from vidgan.cli.main import main as vidgan_main

    run = tmp_path / "run"
    assert (
        vidgan_main(
            [
                "train",
                "tganv2:tiny",
                "train.batch_size=1",
                "train.sample_every_clips=100",
                "--run-dir",
                str(run),
                "--max-clips",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    source = eval_cli.video_source(str(run), 3, 5, "cpu")
    vids = list(source(8))
    again = list(source(8))
    assert len(vids) == 3 and vids[0].shape == (8, 32, 32, 3) and vids[0].dtype == np.uint8
    assert all(np.array_equal(a, b) for a, b in zip(vids, again))
    synth = list(eval_cli.video_source("moving-digits:num_videos=4", None, 0, "cpu")(6))
    assert len(synth) == 4 and synth[0].shape[0] == 6
