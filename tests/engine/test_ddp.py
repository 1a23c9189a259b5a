"""Two CPU processes with gloo train together: ranks stay identical, rank 0 alone writes files."""

import os
import socket

import torch
import torch.multiprocessing as mp

from vidgan.families import list_families


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, family: str, run_dir: str, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    from vidgan.core import dist
    from vidgan.data import build_dataset
    from vidgan.engine.config import resolve_run_config
    from vidgan.engine.trainer import train

    cfg = resolve_run_config(f"{family}:tiny", ["train.batch_size=1", "train.sample_every_clips=1000000"])
    ds = build_dataset(cfg.data, "train", seed=cfg.seed)
    res = train(cfg, run_dir, ds, device=torch.device("cpu"), max_clips=4, progress=False)
    # every rank saves its own view of the weights for the parent to compare
    weights = {role: m.state_dict() for role, m in res.modules.items()}
    torch.save({"step": res.step, "clips": res.clips_seen, "weights": weights}, os.path.join(out, f"rank{rank}.pt"))
    dist.shutdown()


def test_two_process_gloo_training(tmp_path):
    family = list_families()[0]
    run_dir, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), family, str(run_dir), str(out)), nprocs=2, join=True)
    r0, r1 = (torch.load(out / f"rank{r}.pt") for r in (0, 1))
    assert r0["step"] == r1["step"] == 2 and r0["clips"] == r1["clips"] == 4  # 2 steps x batch 1 x 2 ranks
    for role, sd in r0["weights"].items():
        for k, v in sd.items():
            assert torch.equal(v, r1["weights"][role][k]), f"ranks diverged at {role}.{k}"
    assert len(list((run_dir / "checkpoints").glob("ckpt-*.pt"))) == 1
    assert (run_dir / "log.jsonl").is_file()
