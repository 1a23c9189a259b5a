"""Property: any byte mutation of a valid torch / safetensors / npz weight file either loads or ends in
WeightsFileError (one line naming the file) — never another exception, never code from the file."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidgan.io.safe_load import WeightsFileError, load_tensors


def _valid_files() -> dict[str, bytes]:
    from safetensors.torch import save

    w = {"a": torch.arange(12.0).view(3, 4), "b": torch.ones(5, dtype=torch.int64)}
    pt = io.BytesIO()
    torch.save(w, pt)
    npz = io.BytesIO()
    np.savez(npz, a=np.arange(12.0), b=np.ones(5))
    return {"pt": pt.getvalue(), "safetensors": save(w), "npz": npz.getvalue()}


VALID = _valid_files()


@settings(
    max_examples=60, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(sorted(VALID)),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_mutated_weight_files_load_or_fail_cleanly(tmp_path, kind, edits, cut):
    data = bytearray(VALID[kind])
    for pos, val in edits:
        data[pos % len(data)] = val
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per example (tmp_path is shared by them)
    path = folder / f"w.{kind}"
    path.write_bytes(bytes(data))
    try:
        out = load_tensors(path)
    except WeightsFileError as e:
        msg = str(e)
        assert msg.startswith(str(path)) and "\n" not in msg
    else:
        assert isinstance(out, dict)
    assert sorted(p.name for p in folder.iterdir()) == [path.name]
