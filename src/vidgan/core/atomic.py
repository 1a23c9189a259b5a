"""Atomic file output: write beside the target, then ``os.replace`` — readers never see a half-written file,
and a failure (exception, full disk) leaves the previous version untouched and no temporary behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_path", "atomic_write", "apply_umask", "temp_prefix", "remove_stale_temporaries"]


def temp_prefix(path: str | os.PathLike) -> str:
    """Name prefix of a temporary made for ``path`` by this process: ``.<name>.pid<PID>.``; it lets the next run
    find and remove the temporaries of a killed one (:func:`remove_stale_temporaries`)."""
    return f".{Path(path).name}.pid{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> int:
    """Delete the temporaries that killed processes left for ``path`` (siblings named by :func:`temp_prefix`
    whose process is gone); never another live process's. Returns how many were removed."""
    import re
    import shutil

    path = Path(path)
    if not path.parent.is_dir():
        return 0
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.pid(\d+)\.")
    n = 0
    for p in path.parent.iterdir():
        m = pattern.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            n += 1
    return n


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def apply_umask(path: str | os.PathLike) -> None:
    """Give a temporary file (created 0600 by ``mkstemp``) or folder (0700 by ``mkdtemp``) the mode a plain
    ``open``/``mkdir`` would have given it under the current umask, before it is renamed into place."""
    base = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, base & ~_umask())


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; on a clean exit it replaces ``path``, else it is removed.

    For writers that need a file name (``safetensors``, ``np.savez`` keep ``suffix``, e.g. ``".npz"``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; flushed, fsynced and moved onto ``path`` on a clean exit."""
    with atomic_path(path) as tmp, open(tmp, mode) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())
