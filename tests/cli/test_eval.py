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


def _vsr_pair(tmp_path, frames=7, hw=48):
    """gt/seq (smooth + noise), lr/seq = its BD x4 degradation (uint8), out/seq = gt + a constant offset."""
    import torch

    from vidgan.data.degradations import degrade

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:hw, 0:hw]
    for root in ("gt", "lr", "out"):
        (tmp_path / root / "seq").mkdir(parents=True)
    for t in range(frames):
        base = 120 + 80 * np.sin((yy + t) / 6.0)[..., None] * np.cos(xx[..., None] / 9.0 + np.arange(3))
        gt = np.clip(base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8)
        lr = degrade(torch.from_numpy(gt).permute(2, 0, 1)[None].float() / 255.0, "bd")
        lr8 = (lr[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        Image.fromarray(gt).save(tmp_path / "gt" / "seq" / f"{t:04d}.png")
        Image.fromarray(lr8).save(tmp_path / "lr" / "seq" / f"{t:04d}.png")
        Image.fromarray(np.clip(gt.astype(int) + 5, 0, 255).astype(np.uint8)).save(
            tmp_path / "out" / "seq" / f"{t:04d}.png"
        )
    return tmp_path


def _direct_bicubic_psnr(root, frames=7):
    """Official protocol by hand: frames 2..N-3, crop_8x8 (48 -> centred 32), float studio Y, 20log10(255/RMSE)."""
    import torch

    from vidgan.nn.bicubic import upsample_bicubic

    vals = []
    for t in range(2, frames - 2):
        gt = np.asarray(Image.open(root / "gt" / "seq" / f"{t:04d}.png")).astype(np.float64)
        lr = torch.from_numpy(np.asarray(Image.open(root / "lr" / "seq" / f"{t:04d}.png")).copy())
        up = upsample_bicubic(lr.permute(2, 0, 1)[None].float() / 255.0, 4)
        up = (up[0] * 255).round().clamp(0, 255).permute(1, 2, 0).numpy().astype(np.float64)

        def y(img):
            return 16 + (65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]) / 255.0

        d = y(gt)[8:40, 8:40] - y(up)[8:40, 8:40]
        vals.append(20 * np.log10(255.0 / np.sqrt(np.mean(d**2))))
    return float(np.mean(vals))


def test_bicubic_baseline_row(tmp_path, capsys):
    root = _vsr_pair(tmp_path)
    argv = ["psnr_y_teco", "--real", str(root / "gt"), "--fake", str(root / "out"), "--baseline", "bicubic"]
    doc = _eval_json(capsys, *argv, "--lr", str(root / "lr"), "--report", str(root / "rep"))
    model, bic = doc["results"]
    assert (model["metric"], model["method"]) == ("psnr_y_teco", "model")
    assert (bic["metric"], bic["method"]) == ("psnr_y_teco", "bicubic") and bic["protocol"]["method"] == "bicubic"
    assert abs(bic["value"] - _direct_bicubic_psnr(root)) < 1e-9 and 20 < bic["value"] < model["value"]
    assert (root / "rep" / "report.html").is_file()
    # human output names the method of each row
    assert main(["eval", *argv, "--lr", str(root / "lr"), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "psnr_y_teco [model] = " in text and f"psnr_y_teco [bicubic] = {bic['value']:.6f}" in text
    # without --baseline: one row, method "model"
    (only,) = _eval_json(capsys, "psnr_y_teco", "--real", str(root / "gt"), "--fake", str(root / "out"))["results"]
    assert only["method"] == "model" and only["value"] == model["value"]


def test_baseline_errors(tmp_path, capsys):
    root = _vsr_pair(tmp_path)
    real, fake = ["--real", str(root / "gt")], ["--fake", str(root / "out")]
    for argv, msg in (
        (["psnr_y_teco", *real, *fake, "--baseline", "bicubic"], "--baseline: needs the LR frames"),
        (["psnr_y_teco", *real, *fake, "--lr", str(root / "lr")], "--lr: only used with --baseline"),
        (["fid", *real, *fake, "--baseline", "bicubic", "--lr", str(root / "lr")], "not paired VSR metric"),
        (
            ["psnr_y_teco", *real, *fake, "--baseline", "bicubic", "--lr", str(root / "lr"), "--scale", "2"],
            "x2 are smaller",
        ),
    ):
        assert main(["eval", *argv, "--no-progress"]) != 0
        err = capsys.readouterr().err
        assert err.startswith("error: ") and msg in err and "Traceback" not in err
