"""Run logs: one JSON line per report in ``log.jsonl`` plus TensorBoard scalars (rank 0 only)."""

from __future__ import annotations

import json
import time
from pathlib import Path


class RunLogger:
    def __init__(self, run_dir: Path, tensorboard: bool = True):
        self.path = Path(run_dir) / "log.jsonl"
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(Path(run_dir) / "tensorboard"))
            except Exception:  # tensorboard missing or broken: JSONL still has everything
                self._tb = None

    def log(self, clips_seen: int, step: int, scalars: dict[str, float]) -> None:
        record = {"clips_seen": clips_seen, "step": step, "time": round(time.time(), 3), **scalars}
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        if self._tb is not None:
            for k, v in scalars.items():
                self._tb.add_scalar(k, v, clips_seen)
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
