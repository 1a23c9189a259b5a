"""Fixtures for metric tests (the I3D weight fixtures ``i3d_home`` / ``i3d_weights`` live in the root
conftest, since training-time evaluation tests use them too)."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_thread():
    """Run with one intra-op thread: on the shared 2-core CI box two OpenMP threads under contention were
    measured 40x slower than one (Inception forward 7.5 s vs 0.18 s)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
