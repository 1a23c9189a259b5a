"""StyleGAN-V resume: N iterations == N/2 + resume + N/2, bitwise on CPU, across an R1 (Dreg) step and ADA p
updates that both happen after the resume point; p and its sign statistics survive the checkpoint."""

import torch

from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import run_dataset, train

OVERRIDES = [
    "train.batch_size=2",
    "train.log_every_clips=2",
    "train.sample_every_clips=1000000",
    "train.checkpoint_every_clips=1000000",
    "family.r1_interval=2",  # Dreg at steps 0, 2, 4, 6: steps 4 and 6 after the resume at step 4
    "family.ada_interval=1",  # p updated every iteration
    "family.ada_kimg=0.001",  # ... by a visible amount
]


def test_resume_bitwise_across_r1_and_ada(tmp_path, assert_same):
    cfg = resolve_run_config("styleganv:tiny", OVERRIDES)
    ds = run_dataset(cfg)
    cpu = torch.device("cpu")
    full = train(cfg, tmp_path / "full", ds, device=cpu, max_clips=16, progress=False)
    train(cfg, tmp_path / "split", ds, device=cpu, max_clips=8, progress=False)
    mid = ckpt_io.load(ckpt_io.latest_checkpoint(tmp_path / "split"))
    resumed = train(cfg, tmp_path / "split", ds, device=cpu, max_clips=16, progress=False)
    assert full.step == resumed.step == 8
    a = ckpt_io.load(ckpt_io.latest_checkpoint(tmp_path / "full"))
    b = ckpt_io.load(ckpt_io.latest_checkpoint(tmp_path / "split"))
    for key in ("modules", "ema", "optimizers", "objective", "progress", "rng"):
        assert_same(a[key], b[key], key)
    p_mid, p_end = mid["objective"]["ada_p"], a["objective"]["ada_p"]
    assert p_end != p_mid  # ADA p moved after the resume point (and matched bitwise above)
