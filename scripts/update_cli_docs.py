"""Regenerate docs/cli/<command>.txt from `vidgan <command> --help` (80 columns). tests/cli/test_cli_docs.py
fails when they are stale: run `python scripts/update_cli_docs.py` after changing a command's arguments."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli"


def help_text(argv: list[str]) -> str:
    os.environ["COLUMNS"] = "80"
    from vidgan.cli.main import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        main([*argv, "--help"])
    return buf.getvalue()


def all_texts() -> dict[str, str]:
    from vidgan.cli.main import COMMANDS

    texts = {"vidgan": help_text([])}
    texts.update({name: help_text([name]) for name in COMMANDS})
    return texts


if __name__ == "__main__":
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, text in all_texts().items():
        (DOCS / f"{name}.txt").write_text(text)
        print(f"wrote {DOCS / f'{name}.txt'}")
