"""A resumed run continues exactly as an uninterrupted one: N steps == N/2 + resume + N/2, bitwise on CPU."""

import pytest
import torch

from vidgan.data import build_dataset
from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import train
from vidgan.families import list_families

OVERRIDES = [
    "train.log_every_clips=2",
    "train.sample_every_clips=1000000",
    "train.checkpoint_every_clips=1000000",
    "train.ema_half_life_clips=4",
    "train.batch_size=2",
]


def _final_state(run_dir):
    return ckpt_io.load(ckpt_io.latest_checkpoint(run_dir))


def _assert_same(a, b, path="state"):
    """Bitwise: the engine re-seeds every step from (seed, rank, step) and draws data by sample number."""
    if isinstance(a, torch.Tensor):
        diff = (a.double() - b.double()).abs().max().item() if a.numel() and a.is_floating_point() else 0.0
        assert torch.equal(a, b), f"{path} differs (max |diff| {diff:.3g})"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a} != {b}"


@pytest.mark.parametrize("family", list_families())
def test_resume_equals_uninterrupted(family, tmp_path):
    cfg = resolve_run_config(f"{family}:tiny", OVERRIDES)
    ds = build_dataset(cfg.data, "train", seed=cfg.seed)
    clips = 4 * cfg.train.batch_size
    full = train(cfg, tmp_path / "full", ds, device=torch.device("cpu"), max_clips=clips, progress=False)
    half = train(cfg, tmp_path / "split", ds, device=torch.device("cpu"), max_clips=clips // 2, progress=False)
    assert half.step == 2
    resumed = train(cfg, tmp_path / "split", ds, device=torch.device("cpu"), max_clips=clips, progress=False)
    assert full.step == resumed.step == 4 and full.clips_seen == resumed.clips_seen == clips
    a, b = _final_state(tmp_path / "full"), _final_state(tmp_path / "split")
    for key in ("modules", "ema", "optimizers", "objective", "progress"):
        _assert_same(a[key], b[key], key)
    assert full.last_logs.keys() == resumed.last_logs.keys()


def test_rerun_after_finish_is_a_no_op(tmp_path):
    cfg = resolve_run_config(f"{list_families()[0]}:tiny", OVERRIDES)
    ds = build_dataset(cfg.data, "train", seed=cfg.seed)
    first = train(cfg, tmp_path, ds, device=torch.device("cpu"), max_clips=2, progress=False)
    again = train(cfg, tmp_path, ds, device=torch.device("cpu"), max_clips=2, progress=False)
    assert again.step == first.step


def test_resume_refuses_a_different_model(tmp_path):
    fam = list_families()[0]
    cfg = resolve_run_config(f"{fam}:tiny", OVERRIDES)
    ds = build_dataset(cfg.data, "train", seed=cfg.seed)
    train(cfg, tmp_path, ds, device=torch.device("cpu"), max_clips=2, progress=False)
    other = resolve_run_config(f"{fam}:tiny", [*OVERRIDES, "data.val_fraction=0.5"])
    with pytest.raises(ckpt_io.CheckpointError, match="different data config"):
        train(other, tmp_path, ds, device=torch.device("cpu"), max_clips=4, progress=False)
