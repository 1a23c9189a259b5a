"""`vidgan doctor`: one ok/warn/fail line per check, exit 1 only on a failure, --json, real H.264 round trip."""

from __future__ import annotations

import json

import pytest

from vidgan.cli import doctor
from vidgan.cli import main as cli_main


@pytest.fixture
def cli(monkeypatch, capsys):
    """``vidgan doctor ...`` through the real entry point (registered here if main.py does not list it yet)."""
    monkeypatch.setitem(cli_main.COMMANDS, "doctor", "doctor")

    def run(*argv: str) -> tuple[int, str]:
        rc = cli_main.main(["doctor", *argv])
        return rc, capsys.readouterr().out

    return run


def by_name(out: str) -> dict[str, dict]:
    doc = json.loads(out)
    return {c["name"]: c for c in doc["checks"]}


def test_text_checklist(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out = cli()
    lines = out.strip().splitlines()
    assert rc == 0, out
    assert lines[-1].startswith("summary: ") and lines[-1].endswith(" 0 fail")
    for line in lines[:-1]:
        assert line.split()[0] in ("ok", "warn", "fail"), line
        if line.startswith("warn"):
            assert " — " in line, f"a warning must say what to do: {line}"
    names = [line.split()[1] for line in lines[:-1]]
    for expected in ("torch", "threads", "cuda", "h264", "pillow", "ffmpeg", "cache", "cwd", "disk"):
        assert expected in names, expected
    h264 = next(line for line in lines if line.split()[1] == "h264")
    assert h264.startswith("ok") and "8 frames" in h264 and "read back" in h264


def test_json_reports_threads_cache_and_weights(cli, tmp_path, monkeypatch):
    from vidgan.metrics import weights as W

    home = tmp_path / "home"
    monkeypatch.setenv("VIDGAN_HOME", str(home))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    present = W.REGISTRY["c3d_ucf101_mean"]
    (home / "weights").mkdir(parents=True)
    (home / "weights" / present.filename).write_bytes(b"\0" * 1024)
    rc, out = cli("--json")
    assert rc == 0
    doc = json.loads(out)
    assert doc["ok"] is True and doc["counts"]["fail"] == 0
    checks = by_name(out)
    assert "OMP_NUM_THREADS=1" in checks["threads"]["detail"]
    assert str(home) in checks["cache"]["detail"] and checks["cache"]["status"] == "ok"
    assert checks["weights/c3d_ucf101_mean"]["status"] == "ok"
    assert str(home / "weights" / present.filename) in checks["weights/c3d_ucf101_mean"]["detail"]
    missing = checks["weights/i3d_k400_tfhub"]
    assert missing["status"] == "warn" and "vidgan weights import i3d" in missing["fix"]
    assert {c["status"] for c in doc["checks"]} <= {"ok", "warn", "fail"}
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in doc["checks"])


def test_unwritable_cache_fails_with_fix(cli, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VIDGAN_HOME", str(blocker / "home"))  # cannot be created: its parent is a file
    rc, out = cli("--json")
    assert rc == 1
    cache = by_name(out)["cache"]
    assert cache["status"] == "fail" and "VIDGAN_HOME" in cache["fix"]
    rc, text = cli()
    assert rc == 1
    line = next(x for x in text.splitlines() if x.split()[1] == "cache")
    assert line.startswith("fail") and "— set VIDGAN_HOME to a writable folder" in line


def test_broken_h264_fails(cli, monkeypatch):
    import vidgan.io

    def no_x264(path, video, fps=25.0, format=None):
        raise RuntimeError("Unknown encoder 'libx264'")

    monkeypatch.setattr(vidgan.io, "write_video", no_x264)
    rc, out = cli("--json")
    assert rc == 1
    h264 = by_name(out)["h264"]
    assert (
        h264["status"] == "fail" and "libx264" in h264["detail"] and "pip install --force-reinstall av" in h264["fix"]
    )


def test_oversubscribed_threads_warn(monkeypatch):
    import torch

    monkeypatch.setattr(doctor, "usable_cores", lambda: 1)
    torch.set_num_threads(4)  # the autouse fixture restores the thread count
    [c] = doctor.check_threads()
    assert c.status == "warn" and c.fix == "set OMP_NUM_THREADS=1"


def test_a_crashing_check_is_a_failure_line_not_a_traceback(cli, monkeypatch):
    def broken():
        raise KeyError("boom")

    monkeypatch.setattr(doctor, "CHECKS", [doctor.check_torch, broken])
    rc, out = cli()
    assert rc == 1
    assert out.splitlines()[1].startswith("fail  broken") and "check crashed: KeyError" in out


def test_help_describes_and_gives_an_example(cli, capsys):
    with pytest.raises(SystemExit):
        cli_main.main(["doctor", "--help"])
    text = capsys.readouterr().out
    assert "example:" in text and "vidgan doctor --json" in text and "H.264" in text


def test_cuda_lines(monkeypatch):
    """The three CUDA cases (no GPU here: torch.cuda is faked)."""
    from types import SimpleNamespace

    import torch

    monkeypatch.setattr(torch.version, "cuda", None)
    [c] = doctor.check_cuda()
    assert c.status == "warn" and "CPU-only" in c.detail and "CUDA build" in c.fix
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    [c] = doctor.check_cuda()
    assert c.status == "warn" and "no device is visible" in c.detail and "CUDA_VISIBLE_DEVICES=''" in c.detail
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    props = SimpleNamespace(name="Fake GPU", total_memory=80 * 2**30)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
    [c] = doctor.check_cuda()
    assert (c.status, c.detail) == ("ok", "cuda:0 Fake GPU (80 GiB), cuda:1 Fake GPU (80 GiB)")
