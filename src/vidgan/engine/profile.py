"""Time training iterations of any family: ``profile_iteration(cfg, steps)`` (also ``vidgan train --profile-steps
N``). Every phase runs every iteration while profiling; the amortised iteration time divides each phase's median
by its interval (lazy regularisation every k iterations costs 1/k of its time per iteration). Nothing is written
outside a temporary folder; the run directory of the config is not touched.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from vidgan.engine.config import RunConfig

__all__ = ["profile_iteration"]


def profile_iteration(
    cfg: RunConfig, steps: int = 3, warmup: int = 1, device: torch.device | None = None, dataset=None
) -> dict[str, Any]:
    """Median seconds per phase and per (amortised) iteration over ``steps`` iterations after ``warmup``."""
    from torch.utils.data import default_collate

    from vidgan.engine.trainer import _Trainer, pick_device, run_dataset, to_device

    if steps < 1 or warmup < 0:
        raise ValueError(f"--profile-steps: need >= 1 measured step, got {steps}")
    device = device or pick_device("auto")
    dataset = dataset if dataset is not None else run_dataset(cfg)
    with tempfile.TemporaryDirectory(prefix="vidgan-profile-") as tmp:
        t = _Trainer(cfg, Path(tmp), dataset, device, None, False)
        t.run_every_phase = True
        b = cfg.train.batch_size
        batches = [
            to_device(default_collate([dataset[((i * b + k) % len(dataset), i * b + k)] for k in range(b)]), device)
            for i in range(min(warmup + steps, 4))
        ]
        for i in range(warmup):
            t.iteration(batches[i % len(batches)])
        t.phase_times = {}
        walls = []
        for i in range(steps):
            t0 = t._clock()
            t.iteration(batches[(warmup + i) % len(batches)])
            walls.append(t._clock() - t0)
        if t.logger is not None:
            t.logger.close()
    intervals = {p.name: p.interval for p in t.parts.objective.phases}
    phases = {name: statistics.median(v) for name, v in t.phase_times.items()}
    amortised = sum(sec / intervals[name] for name, sec in phases.items())
    return {
        "family": cfg.family.name,
        "preset": cfg.preset,
        "batch_size": b,
        "amp": cfg.train.amp,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "steps": steps,
        "phase_seconds": phases,
        "phase_intervals": intervals,
        "iteration_seconds_amortised": amortised,
        "iteration_seconds_all_phases": statistics.median(walls),
        "clips_per_second": b / amortised if amortised > 0 else None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
