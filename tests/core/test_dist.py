"""core.dist on 2 gloo processes: gradient averaging in one flat all-reduce, rank-0 parameter and buffer
broadcast; single-process calls are no-ops."""

import os
import socket

import pytest
import torch
import torch.distributed as tdist
import torch.multiprocessing as mp

from vidgan.core import dist


def test_single_process_is_a_no_op():
    m = torch.nn.Linear(2, 2)
    m(torch.ones(1, 2)).sum().backward()
    g = m.weight.grad.clone()
    dist.all_reduce_grads(m.parameters())
    dist.broadcast_params(m)
    assert torch.equal(m.weight.grad, g) and dist.world_size() == 1 and dist.is_main()


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    tdist.init_process_group("gloo", rank=rank, world_size=2)
    torch.manual_seed(rank)  # different init per rank
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    dist.broadcast_params(m)
    m[1].running_mean.fill_(float(rank + 1))
    dist.broadcast_buffers(m)
    m[0].weight.grad = torch.full_like(m[0].weight, float(rank + 1))  # ranks 1 and 2 -> mean 1.5
    m[0].bias.grad = None  # params without grads are skipped
    dist.all_reduce_grads(m.parameters())
    torch.save({"w": m[0].weight.detach(), "g": m[0].weight.grad, "rm": m[1].running_mean}, f"{out}/{rank}.pt")
    tdist.destroy_process_group()


def test_two_gloo_ranks(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(port, str(tmp_path)), nprocs=2, join=True)
    a, b = (torch.load(tmp_path / f"{r}.pt", weights_only=True) for r in (0, 1))
    assert torch.equal(a["w"], b["w"])  # rank 0's init everywhere
    assert torch.equal(a["g"], torch.full_like(a["g"], 1.5)) and torch.equal(b["g"], a["g"])
    assert torch.equal(a["rm"], torch.ones(2)) and torch.equal(b["rm"], torch.ones(2))  # rank 0's buffers


def _stalled_worker(rank: int, port: int, out: str) -> None:
    import time

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank))
    dist.init(torch.device("cpu"), timeout_s=10)  # generous: both ranks must rendezvous within it
    dist.barrier()
    if rank == 1:  # a stalled rank: never joins the collective
        time.sleep(20)
        return
    m = torch.nn.Linear(2, 2)
    m.weight.grad = torch.ones_like(m.weight)
    try:
        dist.all_reduce_grads([m.weight])
        msg = "no error"
    except RuntimeError as e:
        msg = str(e)
    with open(f"{out}/msg.txt", "w") as f:
        f.write(msg)
    dist.exit_now(0)  # what the CLI does after printing the error


@pytest.mark.slow  # ~15 s: a collective has to time out
def test_a_stalled_rank_ends_the_collective_with_a_message(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_stalled_worker, args=(port, str(tmp_path)), nprocs=2, join=True)
    msg = (tmp_path / "msg.txt").read_text()
    assert msg.startswith("rank 0 of 2: gradient all-reduce did not complete within 10 s"), msg
