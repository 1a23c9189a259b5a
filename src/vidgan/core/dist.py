"""torch.distributed helpers for ``torchrun`` (gloo on CPU, nccl on CUDA). Rank-0-only side effects.

Collectives must run on every rank; only side effects (files, prints, logs) go behind :func:`is_main`.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable

import torch
import torch.distributed as dist

__all__ = [
    "init",
    "is_dist",
    "rank",
    "world_size",
    "local_rank",
    "is_main",
    "print0",
    "all_reduce_grads",
    "barrier",
    "shutdown",
    "broadcast_params",
    "broadcast_buffers",
]


_TIMEOUT_S = 120.0


def init(device: torch.device, timeout_s: float | None = None) -> None:
    """Initialise the default process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1).

    Collectives time out after ``timeout_s`` seconds (default ``VIDGAN_DIST_TIMEOUT`` or 120; gloo's own
    default is 30 minutes), so a dead or stalled rank ends the job with a message instead of a hang."""
    global _TIMEOUT_S
    _TIMEOUT_S = float(timeout_s or os.environ.get("VIDGAN_DIST_TIMEOUT", 120))
    if dist.is_initialized() or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=_TIMEOUT_S))


def _collective(what: str, fn, *args, **kwargs):
    """Run a collective; a timeout or a peer's death becomes one message naming this rank."""
    try:
        return fn(*args, **kwargs)
    except RuntimeError as e:
        first = (str(e).strip().splitlines() or ["?"])[0][:200]
        raise RuntimeError(
            f"rank {rank()} of {world_size()}: {what} did not complete within {_TIMEOUT_S:g} s — another rank "
            f"died or stalled (see its log); set VIDGAN_DIST_TIMEOUT to wait longer ({first})"
        ) from e


def is_dist() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_dist() else 0


def world_size() -> int:
    return dist.get_world_size() if is_dist() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def print0(*args, **kwargs) -> None:
    if is_main():
        print(*args, **kwargs)


def barrier() -> None:
    if is_dist():
        _collective("barrier", dist.barrier)


def all_reduce_grads(params: Iterable[torch.nn.Parameter]) -> None:
    """Average gradients over ranks in one flat all-reduce (the stylegan3 way: no DDP wrapper, so R1's
    double backward and per-phase freezing need no special care)."""
    if not is_dist():
        return
    params = [p for p in params if p.grad is not None]
    if not params:
        return
    flat = torch.cat([p.grad.flatten() for p in params])
    _collective("gradient all-reduce", dist.all_reduce, flat)
    flat /= world_size()
    offset = 0
    for p in params:
        n = p.grad.numel()
        p.grad.copy_(flat[offset : offset + n].view_as(p.grad))
        offset += n


def broadcast_flag(flag: bool, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank (a decision taken on one clock, e.g. a time-based checkpoint)."""
    if not is_dist():
        return bool(flag)
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device if device.type == "cuda" else "cpu")
    _collective("flag broadcast", dist.broadcast, t, src=0)
    return bool(t.item())


def broadcast_params(module: torch.nn.Module) -> None:
    """Make every rank start from rank 0's parameters and buffers."""
    if not is_dist():
        return
    for t in list(module.parameters()) + list(module.buffers()):
        _collective("parameter broadcast", dist.broadcast, t.data, src=0)


def broadcast_buffers(module: torch.nn.Module) -> None:
    """Rank 0's buffers (e.g. BN running statistics) to every rank: DDP's ``broadcast_buffers`` semantics,
    used where SyncBatchNorm is unavailable (it is CUDA-only)."""
    if not is_dist():
        return
    for b in module.buffers():
        _collective("buffer broadcast", dist.broadcast, b.data, src=0)


def shutdown() -> None:
    if is_dist():
        dist.destroy_process_group()


def exit_now(code: int) -> None:
    """End a process of a distributed job after an error: skip the interpreter teardown, where the process
    group's destructor aborts (SIGABRT) on a collective that never completed."""
    if is_dist():
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
