"""The CLI end to end at a tiny config, and its errors."""

import json
import subprocess
import sys

import pytest

from vidgan.cli.main import COMMANDS, build_parser, main


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("families", "summary", "train", "generate", "upscale", "eval", "prepare", "weights", "translate"):
        assert name in out, f"`vidgan --help` does not show {name}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(command, capsys):
    sub = build_parser()._subparsers._group_actions[0].choices
    if command not in sub:
        pytest.fail(f"command {command} is not registered")
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert "example" in capsys.readouterr().out


def test_python_m_vidgan_works():
    r = subprocess.run([sys.executable, "-m", "vidgan", "families"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "tganv2:tiny" in r.stdout and "tecogan" in r.stdout


def test_dry_run_prints_resolved_config(capsys):
    assert main(["train", "tganv2:tiny", "train.batch_size=3", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "batch_size: 3" in out and "name: tganv2" in out and "preset: tiny" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "tganv2:tiny", "train.batchsize=3", "--dry-run"], "did you mean 'batch_size'"),
        (["train", "tganv2:tiny", "train.batch_size=big", "--dry-run"], "train.batch_size: expected an integer"),
        (["train", "tganv2:tinny", "--dry-run"], "no preset 'tinny'. Did you mean 'tiny'"),
        (["train", "tgan:tiny", "--dry-run"], "unknown family 'tgan'"),
        (["train", "missing.yaml", "--dry-run"], "config file not found"),
        (["generate", "--checkpoint", "nowhere.pt", "--out", "x"], "checkpoint not found: nowhere.pt"),
    ],
)
def test_bad_input_gives_one_clear_line_and_nonzero_exit(argv, message, capsys):
    runtime = "checkpoint not found" in message  # a missing file is a runtime error (1), the rest usage (2)
    assert main(argv) == (1 if runtime else 2)
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_error_path_exit_codes_debug_and_late_overrides(tmp_path, capsys, monkeypatch):
    # overrides after flags are accepted
    assert main(["train", "tganv2:tiny", "--dry-run", "train.batch_size=3"]) == 0
    assert "batch_size: 3" in capsys.readouterr().out
    # a binary YAML: one line naming the file, exit 2
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(bytes(range(256)))
    assert main(["train", str(bad), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: not a text file") and err.count("\n") == 1
    # a runtime error (missing checkpoint) exits 1; VIDGAN_DEBUG=1 shows the traceback instead
    args = ["generate", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "o")]
    assert main(args) == 1
    monkeypatch.setenv("VIDGAN_DEBUG", "1")
    with pytest.raises(Exception, match="not found"):
        main(args)


def test_disk_full_and_permission_messages():
    import errno

    from vidgan.cli._errors import exit_code, format_error

    full = OSError(errno.ENOSPC, "No space left on device", "/data/out.mp4")
    assert format_error(full).startswith("/data/out.mp4: disk full") and exit_code(full) == 1
    denied = PermissionError(errno.EACCES, "Permission denied", "/root/x")
    assert format_error(denied).startswith("/root/x: permission denied")
    with pytest.raises(KeyError):
        format_error(KeyError("a bug, not a user error"))


def test_summary_json(capsys):
    assert main(["summary", "tganv2:tiny", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["family"] == "tganv2" and data["preset"] == "tiny"
    assert set(data["modules"]) == {"generator", "discriminator"}
    assert all(isinstance(v, int) and v > 0 for v in data["modules"].values())


def test_yaml_config_file(tmp_path, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("family: tganv2\npreset: tiny\ntrain:\n  batch_size: 5\nseed: 3\n")
    assert main(["train", str(cfg), "seed=4", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "batch_size: 5" in out and "seed: 4" in out


def test_train_resume_generate(tmp_path, capsys):
    run = tmp_path / "run"
    common = ["train.sample_num=2", "train.log_every_clips=2", "--run-dir", str(run), "--no-progress"]
    assert main(["train", "tganv2:tiny", *common, "--max-clips", "2"]) == 0
    assert main(["train", "tganv2:tiny", *common, "--max-clips", "4"]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "done: 4 clips, 2 steps" in out
    assert (run / "config.yaml").is_file()
    logs = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert logs[-1]["clips_seen"] == 4 and any(k.startswith("G/") for k in logs[-1])
    assert sorted(p.suffix for p in (run / "samples").glob("samples-000000000004.*")) == [".gif", ".mp4"]

    from vidgan.io import VideoReader

    with VideoReader(run / "samples" / "samples-000000000004.mp4") as r:
        assert r.num_frames == 8  # tiny preset: 8 frames
    out_dir = tmp_path / "gen"
    assert (
        main(
            [
                "generate",
                "--checkpoint",
                str(run),
                "--out",
                str(out_dir),
                "--num-videos",
                "3",
                "--seed",
                "1",
                "--format",
                "gif",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "grid.gif",
        "grid.mp4",
        "video_00000.gif",
        "video_00001.gif",
        "video_00002.gif",
    ]


def test_profile_steps_and_random_init(tmp_path, capsys):
    """A public way to time one training iteration, and inference with random weights (no checkpoint)."""
    assert main(["train", "tganv2:tiny", "train.batch_size=2", "--profile-steps", "1"]) == 0
    prof = json.loads(capsys.readouterr().out)
    assert set(prof["phase_seconds"]) == {"G", "D"} and prof["iteration_seconds_amortised"] > 0
    assert main(["generate", "--random-init", "tganv2:tiny", "--out", str(tmp_path / "g"), "--num-videos", "2"]) == 0
    assert len(list((tmp_path / "g").glob("video_*.mp4"))) == 2


def test_sigterm_during_upscale_leaves_nothing(tmp_path):
    """A SIGTERM'd `vidgan upscale` says so and removes its temporary output (no 0-byte file is left)."""
    import signal
    import subprocess
    import sys
    import time

    import numpy as np
    from PIL import Image

    lr = tmp_path / "lr"
    lr.mkdir()
    rng = np.random.default_rng(0)
    for i in range(400):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(lr / f"{i:04d}.png")
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "vidgan", "upscale", "--random-init", "tecogan:tiny", str(lr), str(out / "hr.mp4")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(out.iterdir()):  # wait until the writer has started
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert list(out.iterdir()) == []
