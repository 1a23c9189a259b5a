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
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


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
