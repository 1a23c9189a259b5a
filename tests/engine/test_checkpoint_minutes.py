"""``train.checkpoint_every_minutes``: wall-time checkpoints (fake clock), side-effect free, bitwise resumable."""

from __future__ import annotations

import shutil

import pytest
import torch

from vidgan.core.config import ConfigError
from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine import trainer as trainer_mod
from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import run_dataset, train

SPEC = "tganv2:tiny"
BASE = [
    "train.log_every_clips=2",
    "train.sample_every_clips=1000000",
    "train.checkpoint_every_clips=1000000",
    "train.ema_half_life_clips=4",
    "train.batch_size=2",
    "train.keep_last=10",
    "train.sample_num=1",
]
CPU = torch.device("cpu")


def _names(run_dir):
    return [p.name for p in ckpt_io.list_checkpoints(run_dir)]


@pytest.fixture()
def fake_clock(monkeypatch):
    """The checkpoint clock reads 30 s per training iteration done (whatever else happens)."""
    done = [0]
    original = trainer_mod._Trainer.iteration

    def iteration(self, batch):
        original(self, batch)
        done[0] += 1

    monkeypatch.setattr(trainer_mod._Trainer, "iteration", iteration)
    monkeypatch.setattr(trainer_mod, "_now", lambda: 30.0 * done[0])


def _timed_and_plain(tmp_path, clips=8):
    cfg = resolve_run_config(SPEC, [*BASE, "train.checkpoint_every_minutes=1"])
    plain = resolve_run_config(SPEC, BASE)
    ds = run_dataset(cfg, "train")
    timed = train(cfg, tmp_path / "timed", ds, device=CPU, max_clips=clips, progress=False)
    untimed = train(plain, tmp_path / "plain", ds, device=CPU, max_clips=clips, progress=False)
    return plain, ds, timed, untimed


def test_minutes_trigger_saves_without_changing_the_run(tmp_path, fake_clock, assert_same):
    _, _, timed, untimed = _timed_and_plain(tmp_path)  # 4 iterations of 2 clips each
    # 60 s after the start at iteration 2 (save, clock restarts), again at iteration 4 = the end (final save)
    assert _names(tmp_path / "timed") == [f"ckpt-{c:012d}.pt" for c in (4, 8)]
    assert _names(tmp_path / "plain") == [f"ckpt-{8:012d}.pt"]
    assert timed.step == untimed.step == 4
    a, b = (ckpt_io.load(tmp_path / d / "checkpoints" / f"ckpt-{8:012d}.pt") for d in ("timed", "plain"))
    for key in ("modules", "ema", "optimizers", "objective", "progress", "rng"):
        assert_same(a[key], b[key], key)  # saving changed neither the RNG streams nor the data order


@pytest.mark.slow
def test_resume_from_a_time_triggered_checkpoint_is_bitwise(tmp_path, fake_clock, assert_same):
    plain, ds, _, _ = _timed_and_plain(tmp_path)
    (tmp_path / "resumed" / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "timed" / "checkpoints" / f"ckpt-{4:012d}.pt", tmp_path / "resumed" / "checkpoints")
    resumed = train(plain, tmp_path / "resumed", ds, device=CPU, max_clips=8, progress=False)
    assert resumed.step == 4
    b = ckpt_io.load(tmp_path / "plain" / "checkpoints" / f"ckpt-{8:012d}.pt")
    c = ckpt_io.load(ckpt_io.latest_checkpoint(tmp_path / "resumed"))
    for key in ("modules", "ema", "optimizers", "objective", "progress"):
        assert_same(b[key], c[key], key)


def test_clip_interval_save_restarts_the_clock(tmp_path, fake_clock):
    """A clip-interval save counts as the last save: the timed one comes a full interval after it."""
    cfg = resolve_run_config(
        SPEC, [*BASE[:2], "train.checkpoint_every_clips=4", *BASE[3:], "train.checkpoint_every_minutes=1.5"]
    )
    train(cfg, tmp_path, run_dataset(cfg, "train"), device=CPU, max_clips=8, progress=False)
    # clip save at iteration 2 (60 s); at iteration 3 (90 s) it is 30 s since that save, not 90 s since the start
    # (which would have saved at 6 clips)
    assert _names(tmp_path) == [f"ckpt-{c:012d}.pt" for c in (4, 8)]


def test_off_by_default_and_validated(monkeypatch):
    assert resolve_run_config(SPEC).train.checkpoint_every_minutes == 0

    def boom():
        raise AssertionError("the clock is read although checkpoint_every_minutes=0")

    monkeypatch.setattr(trainer_mod, "_now", boom)
    clock = trainer_mod._SaveClock(0.0, CPU)
    assert clock.due() is False
    for bad in ("-1", "nan", "inf"):
        with pytest.raises(ConfigError, match="train.checkpoint_every_minutes"):
            resolve_run_config(SPEC, [f"train.checkpoint_every_minutes={bad}"])
