"""docs/cli/*.txt are the committed `--help` texts; regenerate with `python scripts/update_cli_docs.py`."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("update_cli_docs", ROOT / "scripts" / "update_cli_docs.py")
update_cli_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(update_cli_docs)


@pytest.mark.parametrize("name, text", sorted(update_cli_docs.all_texts().items()))
def test_committed_help_is_current(name, text, monkeypatch):
    path = ROOT / "docs" / "cli" / f"{name}.txt"
    assert path.is_file(), f"{path} missing: run python scripts/update_cli_docs.py"
    assert path.read_text() == text, f"{path} is stale: run python scripts/update_cli_docs.py"
