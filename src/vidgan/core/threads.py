"""How many CPU threads vidgan's torch work uses: all free cores, and one when the cores are shared.

OpenMP worker threads spin while they wait for each other. On a quiet 2-core machine two threads are the
fastest choice, but when other jobs hold the cores a 2-thread step waits for a descheduled partner at every
barrier: measured on this project's 2-core machine, a TGANv2 iteration went from 1.2 s (quiet) to 9-27 s at
load average 4-6 with 2 threads, while one thread degrades only with its share of the CPU (see
docs/performance.md, "shared cores"). So the default is the number of idle cores, measured over 0.2 s from
``/proc/stat`` when a command starts (the load average lags by a minute: right after ``pip install`` it still
reports a busy machine), rounded, at least 1; where ``/proc/stat`` is missing, ``cores - load average``.
``VIDGAN_THREADS=N`` (or the usual ``OMP_NUM_THREADS=N``) fixes the number instead.
"""

from __future__ import annotations

import math
import os
import time

__all__ = ["choose_threads", "configure_threads", "follow_run"]

_automatic = False  # set by configure_threads when neither VIDGAN_THREADS nor OMP_NUM_THREADS fixed the count


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS / Windows
        return os.cpu_count() or 1


def _cpu_times() -> tuple[int, int] | None:
    """(idle + iowait, total) jiffies of all CPUs from ``/proc/stat``; None where it cannot be read."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])) if len(fields) >= 4 else None


def busy_cores(window: float = 0.2) -> float | None:
    """How many cores other processes keep busy now (CPU time not idle over ``window`` seconds, all CPUs of the
    machine scaled to this process's CPU set); None where ``/proc/stat`` is missing."""
    a = _cpu_times()
    if a is None:
        return None
    time.sleep(window)
    b = _cpu_times()
    if b is None or b[1] <= a[1]:
        return None
    busy_fraction = 1.0 - (b[0] - a[0]) / (b[1] - a[1])
    return max(0.0, busy_fraction) * (os.cpu_count() or 1)


def choose_threads(cores: int | None = None, load: float | None = None) -> int:
    """Threads for ``cores`` cores (default: this process's CPU set) when ``load`` cores are busy with other work
    (default: measured by :func:`busy_cores`, else the 1-minute load average): ``round(cores - load)``, at least 1."""
    cores = _cores() if cores is None else int(cores)
    if load is None:
        load = busy_cores()
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

    global _automatic
    _automatic = False
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
    _automatic = True
    busy = busy_cores()
    n = choose_threads(load=busy)
    if n != torch.get_num_threads():
        torch.set_num_threads(n)
    why = f"{busy:.1f} busy" if busy is not None else f"load average {os.getloadavg()[0]:.1f}"
    return n, f"{_cores()} cores, {why}"


def follow_run(threads: int | None) -> bool:
    """On resume: use the thread count the run was started with when this command chose its count by itself.

    CPU kernels reduce in thread-dependent order, so a run resumed with another count is not bitwise equal to an
    uninterrupted one. Returns whether the count changed."""
    import torch

    if not _automatic or not threads or int(threads) == torch.get_num_threads():
        return False
    torch.set_num_threads(int(threads))
    return True
