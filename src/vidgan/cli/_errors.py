"""Which exceptions are user errors (printed as one line) and which are bugs (traceback)."""

from __future__ import annotations

USER_ERRORS = (
    "ConfigError",
    "VideoReadError",
    "CheckpointError",
    "FamilyNotFound",
    "WeightsError",
    "FileNotFoundError",
    "ValueError",
    "RuntimeError",
    "PermissionError",
    "IsADirectoryError",
    "NotADirectoryError",
    "FloatingPointError",
)


def format_error(e: BaseException) -> str:
    if type(e).__name__ not in USER_ERRORS and not any(c.__name__ in USER_ERRORS for c in type(e).__mro__):
        raise e
    return str(e) or type(e).__name__
