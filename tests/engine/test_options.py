"""Engine options: bf16 autocast, gradient clipping, EMA, fp16 refusal on CPU."""

import json

import pytest
import torch

from vidgan.data import build_dataset
from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import train

BASE = ["train.batch_size=2", "train.sample_every_clips=1000000", "train.log_every_clips=2"]


def _run(tmp_path, extra, clips=4):
    cfg = resolve_run_config("tganv2:tiny", [*BASE, *extra])
    ds = build_dataset(cfg.data, "train", seed=cfg.seed)
    return train(cfg, tmp_path, ds, device=torch.device("cpu"), max_clips=clips, progress=False)


def test_bf16_autocast_and_grad_clip_log_finite_values(tmp_path):
    res = _run(tmp_path, ["train.amp=bf16", "train.grad_clip=0.5"])
    assert res.step == 2
    logs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert "G/grad_norm" in logs[-1] and "D/grad_norm" in logs[-1]
    assert all(v == v and abs(v) < 1e6 for rec in logs for k, v in rec.items() if "/" in k)


def test_ema_tracks_the_generator(tmp_path):
    res = _run(tmp_path, ["train.ema_half_life_clips=1"])
    from vidgan.engine import checkpoint as ckpt_io

    ck = ckpt_io.load(tmp_path)
    g = ck["modules"]["generator"]
    assert ck["ema_roles"] == ["generator"]
    ema = ck["ema"]["generator"]
    diffs = [(ema[k].float() - v.float()).abs().max().item() for k, v in g.items() if v.is_floating_point()]
    assert max(diffs) > 0  # an average, not a copy
    assert res.modules["generator"] is not None


def test_no_ema_when_half_life_is_zero(tmp_path):
    _run(tmp_path, ["train.ema_half_life_clips=0"])
    from vidgan.engine import checkpoint as ckpt_io

    assert ckpt_io.load(tmp_path)["ema"] is None


def test_fp16_on_cpu_is_refused(tmp_path):
    with pytest.raises(ValueError, match="fp16 needs CUDA"):
        _run(tmp_path, ["train.amp=fp16"])


def test_ctrl_c_saves_a_checkpoint_to_resume_from(tmp_path, monkeypatch):
    from vidgan.engine import checkpoint as ckpt_io
    from vidgan.engine.trainer import _Trainer

    real_iteration = _Trainer.iteration

    def interrupt_on_third(self, batch):
        if self.step == 2:
            raise KeyboardInterrupt
        real_iteration(self, batch)

    monkeypatch.setattr(_Trainer, "iteration", interrupt_on_third)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, ["train.checkpoint_every_clips=1000000"], clips=10)
    progress = ckpt_io.load(tmp_path)["progress"]
    assert (progress["step"], progress["clips_seen"]) == (2, 4) and progress["threads"] >= 1


def test_ema_rampup_follows_a_short_run(tmp_path):
    """With the ramp-up the EMA half-life is <= 5 % of clips seen: after a few steps the EMA is close to the
    live generator (without it, a 10k-clip half-life would leave it at the initial weights)."""
    from vidgan.engine import checkpoint as ckpt_io

    def gap(run, extra):
        _run(tmp_path / run, ["train.ema_half_life_clips=10000", *extra], clips=8)
        ck = ckpt_io.load(tmp_path / run)
        g = ck["modules"]["generator"]
        return max((ck["ema"]["generator"][k] - v).abs().max().item() for k, v in g.items() if v.is_floating_point())

    assert gap("ramp", []) < 0.5 * gap("noramp", ["train.ema_rampup=0"])


def test_sigterm_saves_a_checkpoint_too(tmp_path, monkeypatch):
    import os
    import signal

    from vidgan.engine import checkpoint as ckpt_io
    from vidgan.engine.trainer import _Trainer

    real_iteration = _Trainer.iteration

    def term_on_second(self, batch):
        if self.step == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        real_iteration(self, batch)

    monkeypatch.setattr(_Trainer, "iteration", term_on_second)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, ["train.checkpoint_every_clips=1000000"], clips=10)
    assert ckpt_io.load(tmp_path)["progress"]["step"] >= 1
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


def test_nonfinite_steps_are_skipped_then_stop_the_run_naming_the_phase(tmp_path):
    from vidgan.engine.config import resolve_run_config
    from vidgan.engine.trainer import run_dataset, train

    cfg = resolve_run_config("tganv2:tiny", ["family.lr=1e999", "train.batch_size=2", "train.max_bad_steps=2"])
    with pytest.raises(FloatingPointError, match=r"max_bad_steps: 2 iteration\(s\) in a row .* phase G"):
        train(cfg, tmp_path, run_dataset(cfg), device=torch.device("cpu"), max_clips=64, progress=False)
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())


@pytest.mark.parametrize(
    "override, field",
    [
        ("train.batch_size=0", "train.batch_size"),
        ("train.sample_num=0", "train.sample_num"),
        ("seed=-1", "seed"),
        ("train.accumulate=3", "train.accumulate"),
    ],
)
def test_bad_train_values_name_the_field(override, field):
    from vidgan.core.config import ConfigError
    from vidgan.engine.config import resolve_run_config

    with pytest.raises(ConfigError, match=f"^{field}: "):
        resolve_run_config("tganv2:tiny", ["train.batch_size=2", override])
