"""Fixtures of the TimeCycle toolkit tests: the golden arrays and values of ../shared/golden/timecycle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch


class Golden:
    """Lazy access to ``golden/timecycle``: ``g.npz(name)``, ``g.values``, ``g.config``, ``g.state(file, net)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._npz: dict[str, dict[str, np.ndarray]] = {}
        self.values = json.loads((root / "values.json").read_text())
        self.config = json.loads((root / "config.json").read_text())

    def npz(self, name: str) -> dict[str, np.ndarray]:
        if name not in self._npz:
            with np.load(self.root / name) as d:
                self._npz[name] = {k: d[k] for k in d.files}
        return self._npz[name]

    def t(self, name: str, key: str) -> torch.Tensor:
        return torch.from_numpy(np.array(self.npz(name)[key], dtype=np.float32))

    def state(self, name: str, net: str) -> dict[str, torch.Tensor]:
        """``sd/<net>/*`` of ``name`` as an (official) state dict."""
        pre = f"sd/{net}/"
        return {k[len(pre) :]: torch.from_numpy(v.copy()) for k, v in self.npz(name).items() if k.startswith(pre)}

    def clips(self) -> dict[str, torch.Tensor]:
        return {k: self.t("clips.npz", k) for k in ("src", "real", "fake", "noise_prev", "noise_cond")}


@pytest.fixture(scope="session")
def golden(shared_dir) -> Golden:
    return Golden(shared_dir / "golden" / "timecycle")


def close(actual, expected, rtol=1e-4, atol=0.0):
    """Scalar comparison with the README's loss tolerance (rtol 1e-4)."""
    assert float(actual) == pytest.approx(float(expected), rel=rtol, abs=atol)
