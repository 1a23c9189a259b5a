"""Kill-and-resume: `vidgan train` SIGKILLed at random moments (also while checkpoints are written) and re-run
until it finishes ends bitwise equal to an uninterrupted run, with no temporaries and no duplicate log
records. A few kills in the default suite, 20+ in the slow one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from vidgan.engine import checkpoint as ckpt_io

ARGS = [
    "tganv2:tiny",
    "train.batch_size=2",
    "train.log_every_clips=2",
    "train.sample_every_clips=1000000",
    "train.checkpoint_every_clips=4",  # a checkpoint every 2 steps: kills often land in or near a write
    "train.ema_half_life_clips=4",
    "--no-progress",
]
CLIPS = 48


def _cmd(run_dir, clips=CLIPS):
    return [sys.executable, "-m", "vidgan", "train", *ARGS, "--run-dir", str(run_dir), "--max-clips", str(clips)]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _killed_until_done(run_dir, kills: int, seed: int, clips: int = CLIPS) -> int:
    rng = random.Random(seed)
    done_kills = 0
    for _ in range(kills + 50):
        proc = subprocess.Popen(_cmd(run_dir, clips), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done_kills < kills:
            # wait until this process has trained (a new log record), then kill at a random moment soon after:
            # between steps, inside a step, or while a checkpoint (every 2 steps) is being written
            log = run_dir / "log.jsonl"
            seen = log.stat().st_size if log.exists() else 0
            while proc.poll() is None and (not log.exists() or log.stat().st_size <= seen):
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.25))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                done_kills += 1
                continue
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-2000:]
        return done_kills
    raise AssertionError("the run never finished")


def _check(run_dir, ref_dir, assert_same):
    a = ckpt_io.load(ckpt_io.latest_checkpoint(ref_dir))
    b = ckpt_io.load(ckpt_io.latest_checkpoint(run_dir))
    for key in ("modules", "ema", "optimizers", "objective", "progress", "rng"):
        assert_same(a[key], b[key], key)
    leftovers = [p for p in run_dir.rglob(".*") if p.is_file() or p.is_dir()]
    assert not leftovers, leftovers
    steps = [json.loads(line)["step"] for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)), "duplicate or out-of-order log records"


def _reference(tmp_path, clips=CLIPS):
    ref = tmp_path / "ref"
    subprocess.run(_cmd(ref, clips), env=_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ref


def test_a_few_kills(tmp_path, assert_same):
    ref = _reference(tmp_path)
    kills = _killed_until_done(tmp_path / "run", kills=2, seed=1)
    assert kills == 2
    _check(tmp_path / "run", ref, assert_same)


@pytest.mark.slow
def test_twenty_kills(tmp_path, assert_same):
    ref = _reference(tmp_path, clips=4 * CLIPS)  # long enough that 20 kills land before the end
    kills = _killed_until_done(tmp_path / "run", kills=20, seed=2, clips=4 * CLIPS)
    assert kills == 20
    _check(tmp_path / "run", ref, assert_same)
    assert torch.equal(
        ckpt_io.load(ckpt_io.latest_checkpoint(ref))["modules"]["generator"]["fc.weight"],
        ckpt_io.load(ckpt_io.latest_checkpoint(tmp_path / "run"))["modules"]["generator"]["fc.weight"],
    )
