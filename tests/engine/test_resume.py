"""A resumed run continues exactly as an uninterrupted one: N steps == N/2 + resume + N/2, bitwise on CPU."""

import json

import pytest
import torch

from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import run_dataset, train
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


@pytest.mark.parametrize("family", list_families())
def test_resume_equals_uninterrupted(family, tmp_path, assert_same):
    cfg = resolve_run_config(f"{family}:tiny", OVERRIDES)
    ds = run_dataset(cfg, "train")
    clips = 4 * cfg.train.batch_size
    full = train(cfg, tmp_path / "full", ds, device=torch.device("cpu"), max_clips=clips, progress=False)
    half = train(cfg, tmp_path / "split", ds, device=torch.device("cpu"), max_clips=clips // 2, progress=False)
    assert half.step == 2
    resumed = train(cfg, tmp_path / "split", ds, device=torch.device("cpu"), max_clips=clips, progress=False)
    assert full.step == resumed.step == 4 and full.clips_seen == resumed.clips_seen == clips
    a, b = _final_state(tmp_path / "full"), _final_state(tmp_path / "split")
    for key in ("modules", "ema", "optimizers", "objective", "progress"):
        assert_same(a[key], b[key], key)
    assert full.last_logs.keys() == resumed.last_logs.keys()


def test_rerun_after_finish_is_a_no_op(tmp_path):
    cfg = resolve_run_config(f"{list_families()[0]}:tiny", OVERRIDES)
    ds = run_dataset(cfg, "train")
    first = train(cfg, tmp_path, ds, device=torch.device("cpu"), max_clips=2, progress=False)
    again = train(cfg, tmp_path, ds, device=torch.device("cpu"), max_clips=2, progress=False)
    assert again.step == first.step


def test_resume_refuses_a_different_model(tmp_path):
    fam = list_families()[0]
    cfg = resolve_run_config(f"{fam}:tiny", OVERRIDES)
    ds = run_dataset(cfg, "train")
    train(cfg, tmp_path, ds, device=torch.device("cpu"), max_clips=2, progress=False)
    other = resolve_run_config(f"{fam}:tiny", [*OVERRIDES, "data.val_fraction=0.5"])
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ckpt_io.CheckpointError, match=r"different data config \(data.val_fraction differ"):
        train(other, tmp_path, ds, device=torch.device("cpu"), max_clips=4, progress=False)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # a refused resume changes nothing (config.yaml included)


def test_leftovers_removed_log_truncated_and_finished_run_untouched(tmp_path):
    """Temporaries of a killed run are removed on the next start, log records of replayed steps are dropped,
    and re-running a finished run rewrites nothing."""
    cfg = resolve_run_config(f"{list_families()[0]}:tiny", OVERRIDES)
    ds = run_dataset(cfg, "train")
    cpu = torch.device("cpu")
    train(cfg, tmp_path, ds, device=cpu, max_clips=4, progress=False)
    ckpt = ckpt_io.latest_checkpoint(tmp_path)
    (tmp_path / "checkpoints" / ".ckpt-000000000006.pt.abcd.tmp").write_bytes(b"half")
    (tmp_path / "samples").mkdir(exist_ok=True)
    (tmp_path / "samples" / ".samples-000000000006.mp4.tmp-xy.mp4").write_bytes(b"half")
    with open(tmp_path / "log.jsonl", "a") as f:  # records a killed run wrote after its last checkpoint
        f.write('{"clips_seen": 6, "step": 3, "time": 0}\n{"clips_seen": 8, "st')
    stamp = ckpt.stat().st_mtime_ns
    again = train(cfg, tmp_path, ds, device=cpu, max_clips=4, progress=False)  # already finished
    assert again.step == 2 and ckpt.stat().st_mtime_ns == stamp
    assert not [p for p in tmp_path.rglob(".*") if ".tmp" in p.name]
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps and max(steps) <= 2 and len(steps) == len(set(steps))
    train(cfg, tmp_path, ds, device=cpu, max_clips=8, progress=False)
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and max(steps) == 4
