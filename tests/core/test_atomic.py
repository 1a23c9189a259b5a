import os

import numpy as np
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


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    """Temporaries carry their writer's pid: the next run removes a killed writer's, never a live one's."""
    import subprocess
    import sys

    from vidgan.core.atomic import remove_stale_temporaries, temp_prefix
    from vidgan.io import VideoWriter

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    target = tmp_path / "out.mp4"
    (tmp_path / f".out.mp4.pid{dead_pid}.tmp-abc.mp4").write_bytes(b"half")
    (tmp_path / f".out.mp4.pid{dead_pid}.dir").mkdir()
    live = tmp_path / f".out.mp4.pid{os.getppid()}.tmp-xyz.mp4"
    live.write_bytes(b"someone else's")
    assert temp_prefix(target) == f".out.mp4.pid{os.getpid()}."
    with VideoWriter(target, fps=4) as w:  # a writer of the same path cleans up first
        w.write(np.zeros((8, 8, 3), np.uint8))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([live.name, "out.mp4"])
    assert remove_stale_temporaries(target) == 0
