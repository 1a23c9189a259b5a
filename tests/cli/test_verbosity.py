"""-q/--quiet and -v/--verbose on every command: quiet keeps only the result (and warnings, errors), verbose adds
details on stderr, both at once is a one-line usage error; progress bars only on a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np
import pytest
from PIL import Image

from vidgan.cli import _console as console
from vidgan.cli import doctor
from vidgan.cli.main import COMMANDS, build_parser, main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    got = capsys.readouterr()
    return rc, got.out, got.err


def test_every_command_has_quiet_and_verbose():
    sub = build_parser()._subparsers._group_actions[0].choices
    for name in COMMANDS:
        options = {s for a in sub[name]._actions for s in a.option_strings}
        assert {"-q", "--quiet", "-v", "--verbose", "--debug"} <= options, name


@pytest.mark.parametrize(
    "argv",
    [
        ["families", "-q", "-v"],
        ["summary", "tganv2:tiny", "--verbose", "--quiet"],
        ["train", "tganv2:tiny", "--dry-run", "-v", "-q"],
        ["eval", "fvd", "--real", "a", "--fake", "b", "-q", "-v"],
        ["weights", "-q", "list", "-v"],
        ["generate", "--random-init", "tganv2:tiny", "--out", "never_written", "-q", "-v"],
    ],
)
def test_quiet_and_verbose_together_is_one_usage_error(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and out == ""
    assert err == "error: -q/--quiet and -v/--verbose: not allowed together — pass one of them\n"
    assert list(tmp_path.iterdir()) == []  # refused before doing anything
    assert console.level() == console.NORMAL


def test_families_and_summary(capsys):
    rc, normal, err = run(capsys, "families")
    assert rc == 0 and "tganv2:tiny" in normal and err == ""
    rc, quiet, err = run(capsys, "families", "-q")
    assert rc == 0 and quiet == normal and err == ""  # the listing is the result
    rc, verbose, err = run(capsys, "families", "--verbose")
    assert rc == 0 and verbose == normal
    assert "tganv2: module vidgan.families.tganv2 (" in err
    rc, normal, _ = run(capsys, "summary", "tganv2:tiny")
    rc, quiet, err = run(capsys, "summary", "tganv2:tiny", "-q")
    assert quiet == normal and "total" in quiet and err == ""
    rc, verbose, err = run(capsys, "summary", "tganv2:tiny", "train.batch_size=3", "-v")
    assert verbose == normal
    lines = err.splitlines()
    assert lines[0] == "config: tganv2:tiny train.batch_size=3 -> tganv2" and lines[1].startswith("model built in: ")
    assert console.level() == console.NORMAL  # restored when the command ends


def test_train_dry_run_prints_the_config_even_when_quiet(capsys):
    _, normal, _ = run(capsys, "train", "tganv2:tiny", "--dry-run")
    rc, quiet, err = run(capsys, "train", "tganv2:tiny", "--dry-run", "-q")
    assert rc == 0 and quiet == normal and "preset: tiny" in quiet and err == ""
    rc, verbose, err = run(capsys, "train", "tganv2:tiny", "seed=3", "--dry-run", "-v")
    assert rc == 0 and "seed: 3" in verbose and "config:" not in verbose  # stdout stays the YAML alone
    assert "config:   tganv2:tiny -> tganv2:tiny" in err and "override: seed=3" in err


def test_tiny_train_quiet_normal_verbose(tmp_path, capsys):
    run_dir = tmp_path / "run"
    base = ["train", "tganv2:tiny", "train.batch_size=1", "train.sample_every_clips=100", "train.log_every_clips=1"]
    base += ["--run-dir", str(run_dir)]
    rc, out, err = run(capsys, *base, "--max-clips", "2", "-v")
    assert rc == 0 and out.startswith("done: 2 clips, 2 steps")
    assert "[1 clips, step 1] G/loss=" in err and "[2 clips, step 2] " in err and "speed/clips_per_s=" in err
    assert "device:   cpu (" in err and "dataset:  " in err and "training took: " in err
    rc, out, err = run(capsys, *base, "--max-clips", "3", "-q")
    assert rc == 0 and out == "" and "step" not in err  # no "resumed from", no summary, no bar
    assert (run_dir / "checkpoints" / "ckpt-000000000003.pt").is_file()
    rc, out, _ = run(capsys, *base, "--max-clips", "3")
    assert rc == 0 and "already at 3 clips" in out
    rc, out, err = run(capsys, *base, "--max-clips", "3", "--quiet")
    assert rc == 0 and out == "" and err == ""


def test_generate_quiet_prints_nothing(tmp_path, capsys):
    argv = ["generate", "--random-init", "tganv2:tiny", "--num-videos", "1", "--no-grid"]
    rc, out, err = run(capsys, *argv, "--out", str(tmp_path / "a"), "-q")
    assert rc == 0 and out == "" and err == ""
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["video_00000.mp4"]
    rc, out, err = run(capsys, *argv, "--out", str(tmp_path / "b"), "-v")
    assert out == f"wrote 1 videos to {tmp_path / 'b'}\n"
    assert f"  {tmp_path / 'b' / 'video_00000.mp4'}" in err.splitlines() and "videos/s" in err


def test_eval_quiet_keeps_the_result_table(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for root, noise in (("gt", 0), ("out", 6)):
        d = tmp_path / root / "seq"
        d.mkdir(parents=True)
        for t in range(5):
            img = (
                rng.integers(0, 256, (48, 48, 3))
                if root == "gt"
                else np.asarray(Image.open(tmp_path / f"gt/seq/{t:04d}.png"))
            )
            Image.fromarray(np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)).save(d / f"{t:04d}.png")
    argv = ["eval", "psnr_y_teco", "--real", str(tmp_path / "gt"), "--fake", str(tmp_path / "out")]
    rc, normal, err = run(capsys, *argv, "--report", str(tmp_path / "rep"))
    assert rc == 0, err
    assert normal.startswith("psnr_y_teco = ") and "report: " in normal
    rc, quiet, err = run(capsys, *argv, "--report", str(tmp_path / "rep"), "-q")
    assert rc == 0 and quiet == normal.split("report: ")[0] and err == ""  # the table, not the report path
    rc, verbose, err = run(capsys, *argv, "-v")
    assert rc == 0 and verbose == quiet
    assert f"real:   {tmp_path / 'gt'}" in err and "psnr_y_teco: " in err and " s\n" in err


def test_doctor_quiet_lists_only_problems(monkeypatch, capsys):
    checks = [lambda: [doctor.Check("a", "ok", "fine")], lambda: [doctor.Check("b", "warn", "hm", "do x")]]
    monkeypatch.setattr(doctor, "CHECKS", checks)
    _, normal, _ = run(capsys, "doctor")
    assert normal.splitlines()[0].startswith("ok    a ")
    rc, quiet, err = run(capsys, "doctor", "-q")
    assert rc == 0 and quiet.splitlines() == normal.splitlines()[1:] and err == ""
    assert quiet.splitlines()[-1] == "summary: 1 ok, 1 warn, 0 fail"
    rc, verbose, err = run(capsys, "doctor", "-v")
    assert verbose == normal and len(err.splitlines()) == 2 and err.endswith(" s\n")


def test_weights_options_before_or_after_the_action(tmp_path, monkeypatch, capsys):
    parser = build_parser()
    assert parser.parse_args(["weights", "-q", "list"]).quiet
    assert parser.parse_args(["weights", "list", "-q"]).quiet
    assert parser.parse_args(["weights", "verify", "x", "--verbose"]).verbose
    assert not parser.parse_args(["weights", "list"]).quiet
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path))
    rc, out, err = run(capsys, "weights", "list", "-q")
    assert rc == 0 and out.startswith("cache: ") and err == ""  # the listing is the result


def test_fetch_draws_a_byte_bar_when_asked(tmp_path, monkeypatch, capsys):
    from vidgan.metrics import weights as W

    src = tmp_path / "blob.bin"
    src.write_bytes(b"\x01" * 3000)
    name = next(n for n, s in W.REGISTRY.items() if not s.importer)
    spec = W.REGISTRY[name]
    monkeypatch.setitem(W.REGISTRY, name, dataclasses.replace(spec, url=src.as_uri(), sha256=None))
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path / "home"))
    dst = W.fetch(name, progress=True)
    assert dst.read_bytes() == src.read_bytes()
    err = capsys.readouterr().err
    assert "3.00k/3.00k" in err and name in err


def test_show_progress(monkeypatch):
    tty = argparse.Namespace(no_progress=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert console.show_progress(tty) and not console.show_progress(argparse.Namespace(no_progress=True))
    old = console.set_level(console.QUIET)
    try:
        assert not console.show_progress(tty)
    finally:
        console.set_level(old)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not console.show_progress(tty)  # a log file or a pipe: no carriage-return redraws
