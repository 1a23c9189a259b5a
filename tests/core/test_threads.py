"""Thread-count policy for shared cores (vidgan.core.threads)."""

from __future__ import annotations

import pytest
import torch

from vidgan.core import threads
from vidgan.core.threads import choose_threads, configure_threads, follow_run


@pytest.mark.parametrize(
    ("cores", "load", "want"),
    [(2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.0, 1), (2, 9.0, 1), (8, 3.2, 5), (8, 0.0, 8), (1, 0.0, 1)],
)
def test_choose_threads_uses_free_cores(cores, load, want):
    assert choose_threads(cores, load) == want


def test_env_overrides_win(monkeypatch):
    monkeypatch.setenv("VIDGAN_THREADS", "3")
    assert configure_threads() == (3, "VIDGAN_THREADS")
    assert torch.get_num_threads() == 3
    monkeypatch.setenv("VIDGAN_THREADS", "zero")
    with pytest.raises(ValueError, match="VIDGAN_THREADS"):
        configure_threads()
    monkeypatch.delenv("VIDGAN_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    assert configure_threads() == (1, "OMP_NUM_THREADS")


def test_automatic_count_follows_a_resumed_run(monkeypatch):
    monkeypatch.delenv("VIDGAN_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "choose_threads", lambda **kw: 1)
    monkeypatch.setattr(threads, "busy_cores", lambda: 0.0)
    assert configure_threads()[0] == 1
    assert follow_run(2) and torch.get_num_threads() == 2  # the run's own count, for bitwise resume
    assert not follow_run(2) and not follow_run(None)
    monkeypatch.setattr(threads, "_automatic", False)  # a count the user fixed is never replaced
    assert not follow_run(1) and torch.get_num_threads() == 2


def test_busy_cores_reads_proc_stat(monkeypatch):
    samples = iter([(100, 200), (150, 300)])  # idle 50 of 100 jiffies: half the machine busy
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 4)
    assert threads.busy_cores() == pytest.approx(2.0)
    monkeypatch.setattr(threads, "_cpu_times", lambda: None)
    assert threads.busy_cores() is None
