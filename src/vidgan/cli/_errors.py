"""One error path for the CLI: which exceptions are user errors (one line, non-zero exit) and which are bugs.

Every user-facing failure prints ``error: <file or field>: <what is wrong> — <what to do>`` and exits with
2 for usage / configuration errors (the command line or a config file asks for something invalid) or 1 for
runtime errors (a file cannot be read, the disk is full, training diverged). ``--debug`` or
``VIDGAN_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import errno

USAGE_ERRORS = ("ConfigError", "DataMismatch", "FamilyNotFound", "UsageError")
USER_ERRORS = (
    *USAGE_ERRORS,
    "VideoReadError",
    "CheckpointError",
    "WeightsError",
    "UnsafePickleError",
    "FileNotFoundError",
    "FileExistsError",
    "ValueError",
    "RuntimeError",
    "PermissionError",
    "IsADirectoryError",
    "NotADirectoryError",
    "FloatingPointError",
    "OSError",
    "UnicodeDecodeError",
)


def _names(e: BaseException) -> set[str]:
    return {c.__name__ for c in type(e).__mro__}


def exit_code(e: BaseException) -> int:
    """2 for usage/config errors, 1 for the rest."""
    return 2 if _names(e) & set(USAGE_ERRORS) else 1


def _os_message(e: OSError) -> str:
    where = e.filename or ""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{where or 'output'}: disk full (no space left on the device) — free space or write elsewhere; "
            "earlier outputs were left intact"
        )
    if e.errno in (errno.EACCES, errno.EPERM) or isinstance(e, PermissionError):
        return f"{where or 'output'}: permission denied — check the folder's permissions or choose another path"
    if e.errno == errno.EROFS:
        return f"{where}: read-only file system — write to another folder"
    if isinstance(e, FileExistsError):
        return f"{where}: already exists — remove it or choose another path"
    if isinstance(e, FileNotFoundError) and where and e.strerror:
        return f"{where}: {e.strerror.lower()} — check the path"
    return str(e) or type(e).__name__


def format_error(e: BaseException) -> str:
    """The one-line message of a user error; re-raises anything that is a bug (traceback)."""
    if not _names(e) & set(USER_ERRORS):
        raise e
    if isinstance(e, UnicodeDecodeError):
        return f"input: not text (byte {e.start} cannot be decoded as {e.encoding}) — pass a UTF-8 YAML/text file"
    if isinstance(e, OSError) and (e.errno is not None or e.filename):
        return _os_message(e)
    msg = str(e) or type(e).__name__
    if "unexpected pos" in msg or "No space left" in msg:  # torch.save's zip writer on a full disk
        return (
            "checkpoint: disk full while saving (torch: unexpected pos) — free space; the last good checkpoint is kept"
        )
    return msg.splitlines()[0] if msg.count("\n") and "Traceback" in msg else msg
