"""How many CPU threads vidgan's torch work uses: all free cores, and one when the cores are shared.

OpenMP worker threads spin while they wait for each other. On a quiet 2-core machine two threads are the
fastest choice, but when other jobs hold the cores a 2-thread step waits for a descheduled partner at every
barrier: measured on this project's 2-core machine, a TGANv2 iteration went from 1.2 s (quiet) to 9-27 s at
load average 4-6 with 2 threads, while one thread degrades only with its share of the CPU (see
docs/performance.md, "shared cores"). So the default is ``cores - load`` rounded, at least 1, decided once
when a command starts. ``VIDGAN_THREADS=N`` (or the usual ``OMP_NUM_THREADS=N``) fixes the number instead.
"""

from __future__ import annotations

import math
import os

__all__ = ["choose_threads", "configure_threads", "follow_run"]

_automatic = False  # set by configure_threads when neither VIDGAN_THREADS nor OMP_NUM_THREADS fixed the count


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS / Windows
        return os.cpu_count() or 1


def choose_threads(cores: int | None = None, load: float | None = None) -> int:
    """Threads for ``cores`` cores (default: this process's CPU set) under ``load`` (default: the 1-minute load
    average, which counts runnable processes): all cores when quiet, ``round(cores - load)`` (at least 1) else."""
    cores = _cores() if cores is None else int(cores)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - no load average on this platform
            load = 0.0
    return max(1, min(cores, math.floor(cores - load + 0.5)))


def configure_threads() -> tuple[int, str]:
    """Set torch's intra-op thread count once per command; returns ``(threads, reason)``.

    ``VIDGAN_THREADS`` wins, then ``OMP_NUM_THREADS`` (torch already honours it), else :func:`choose_threads`.
    """
    import torch

    env = os.environ.get("VIDGAN_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"VIDGAN_THREADS={env!r}: not a whole number — set it to e.g. 2, or unset it") from None
        if n < 1:
            raise ValueError(f"VIDGAN_THREADS={env!r}: must be >= 1 — set it to e.g. 2, or unset it")
        torch.set_num_threads(n)
        return n, "VIDGAN_THREADS"
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return torch.get_num_threads(), "OMP_NUM_THREADS"
    global _automatic
    _automatic = True
    n = choose_threads()
    if n != torch.get_num_threads():
        torch.set_num_threads(n)
    return n, f"{_cores()} cores, load average {os.getloadavg()[0]:.1f}"


def follow_run(threads: int | None) -> bool:
    """On resume: use the thread count the run was started with when this command chose its count by itself.

    CPU kernels reduce in thread-dependent order, so a run resumed with another count is not bitwise equal to an
    uninterrupted one. Returns whether the count changed."""
    import torch

    if not _automatic or not threads or int(threads) == torch.get_num_threads():
        return False
    torch.set_num_threads(int(threads))
    return True
