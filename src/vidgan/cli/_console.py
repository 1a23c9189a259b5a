"""How much a ``vidgan`` command prints: ``-q/--quiet``, ``-v/--verbose`` and whether progress bars are drawn.

Levels: ``QUIET`` (0) prints errors, warnings and the command's result only (the metric table of ``eval``, the
listing of ``families``; nothing at all for ``generate``), ``NORMAL`` (1) adds the informational lines
(``wrote ... to ...``), ``VERBOSE`` (2) adds details: resolved paths, device, threads, file lists, timings.

``vidgan.cli.main`` sets the level once per command from the parsed arguments (:func:`configure`); commands
print their result with plain ``print``, informational lines with :func:`info` (stdout) and details with
:func:`detail` (stderr, so that a ``--json`` or YAML result on stdout stays parseable). Warnings
(``warnings.warn``, ``warning: ...`` lines) are printed at every level.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

QUIET, NORMAL, VERBOSE = 0, 1, 2
_level = NORMAL
_handler: logging.Handler | None = None


class UsageError(ValueError):
    """A command line that asks for something contradictory (exit 2, one line)."""


def add_verbosity(p: argparse.ArgumentParser, nested: bool = False) -> None:
    """``-q/--quiet`` and ``-v/--verbose`` (``vidgan.cli.main`` refuses both at once with one error line).

    ``nested``: options of a sub-action (``vidgan weights list -q``) that must not reset the value the
    parent parser already set (``vidgan weights -q list``) when they are absent."""
    default = argparse.SUPPRESS if nested else False
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print only errors, warnings and the command's result; no progress bar",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="also print details on stderr: resolved paths, device, threads, files, timings (not with -q)",
    )


def level_of(args: argparse.Namespace) -> int:
    """The level ``args`` ask for; raises :class:`UsageError` for ``-q`` together with ``-v``."""
    quiet, verbose = bool(getattr(args, "quiet", False)), bool(getattr(args, "verbose", False))
    if quiet and verbose:
        raise UsageError("-q/--quiet and -v/--verbose: not allowed together — pass one of them")
    return QUIET if quiet else VERBOSE if verbose else NORMAL


def set_level(level: int) -> int:
    """Set the level (also the ``vidgan`` logger: INFO records are shown when verbose); returns the old one."""
    global _level, _handler
    old, _level = _level, int(level)
    log = logging.getLogger("vidgan")
    if _handler is not None:
        log.removeHandler(_handler)
        _handler = None
    if _level >= VERBOSE:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("%(message)s"))
        _handler.setLevel(logging.INFO)
        log.addHandler(_handler)
        if log.level == logging.NOTSET or log.level > logging.INFO:
            log.setLevel(logging.INFO)
    return old


def configure(args: argparse.Namespace) -> int:
    """Set the level from ``args``; returns the previous level (``main`` restores it when the command ends)."""
    return set_level(level_of(args))


def level() -> int:
    return _level


def quiet() -> bool:
    return _level <= QUIET


def verbose() -> bool:
    return _level >= VERBOSE


def info(*values, **kwargs) -> None:
    """An informational line (stdout unless ``file=``): printed unless ``--quiet``."""
    if _level >= NORMAL:
        print(*values, flush=True, **kwargs)


def detail(*values) -> None:
    """A ``--verbose`` line, on stderr."""
    if _level >= VERBOSE:
        print(*values, file=sys.stderr, flush=True)


def show_progress(args: argparse.Namespace | None = None) -> bool:
    """Draw progress bars? Not with ``--quiet`` or ``--no-progress``, nor when stderr is not a terminal
    (logs and pipes would fill with carriage-return redraws)."""
    if _level <= QUIET or getattr(args, "no_progress", False):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False


@contextmanager
def timed(what: str) -> Iterator[None]:
    """``--verbose``: print ``<what>: <seconds> s`` once the block ends."""
    t0 = time.perf_counter()
    yield
    detail(f"{what}: {time.perf_counter() - t0:.2f} s")


def describe_device(device) -> str:
    """``cuda:0 (NVIDIA H100, ...)`` or ``cpu (N intra-op threads)`` for ``--verbose``."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"{dev} ({torch.get_num_threads()} intra-op threads)"
