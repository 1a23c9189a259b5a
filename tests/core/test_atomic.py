import os

import pytest

from vidgan.core.atomic import atomic_path, atomic_write


def test_replaces_only_on_success_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "sub" / "out.json"
    with atomic_write(target, "w") as f:
        f.write("v1")
    assert target.read_text() == "v1"
    with pytest.raises(RuntimeError), atomic_write(target, "w") as f:
        f.write("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "v1"
    with pytest.raises(RuntimeError), atomic_path(target, suffix=".npz") as tmp:
        assert tmp.endswith(".npz") and os.path.dirname(tmp) == str(target.parent)
        raise RuntimeError
    assert os.listdir(target.parent) == ["out.json"]
