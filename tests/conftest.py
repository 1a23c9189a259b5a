"""Shared test fixtures: the ../shared folder (golden fixtures, specs, data) and determinism."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()


def shared_path() -> Path:
    """``<repo>/../shared``; skips (with the reason) only where it is absent, e.g. a user's clone.

    In CI (env ``CI`` set) a missing ``../shared`` is a failure, never a skip: a skipped golden test is
    not a pass.
    """
    if not SHARED.is_dir():
        msg = f"../shared not found at {SHARED}: golden fixtures and test data live beside the checkout"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return shared_path()


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _isolated_vidgan_home(tmp_path_factory, monkeypatch):
    """Caches (dataset indexes, weights, feature statistics) go to a per-session temp folder, never ~/.cache."""
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path_factory.getbasetemp() / "vidgan_home"))
