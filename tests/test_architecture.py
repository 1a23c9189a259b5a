"""Imports point downward only (DESIGN §3); families never import each other, data, engine or metrics."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vidgan"

# Lower index = lower layer. Packages on the same row may not import each other.
# Deviation from DESIGN §3 (nn | losses | io on one row): loss terms compose nn operators (the warp loss
# uses nn.warp), so losses sit one layer above nn and io.
# ``temporal`` (the TimeCycle toolkit for any GAN) composes losses and nn layers and is used by families.
# ``report`` renders run directories and metric results; it sits beside ``sampling``.
LAYERS = [
    {"core"},
    {"nn", "io"},
    {"losses"},
    {"temporal"},
    {"families", "data", "metrics"},
    {"engine"},
    {"sampling", "report"},
    {"cli"},
]
RANK = {pkg: i for i, row in enumerate(LAYERS) for pkg in row}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m.startswith("vidgan.")}


def _files():
    return sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] in RANK)


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_downward(path):
    parts = path.relative_to(SRC).parts
    mine = parts[0]
    for mod in _imports(path):
        target = mod.split(".")[1]
        if target not in RANK or target == mine:
            continue
        assert RANK[target] < RANK[mine], f"{path.relative_to(SRC)} imports {mod}: {target} is not below {mine}"
    if mine == "families" and len(parts) > 2:  # a family folder
        fam = parts[1]
        for mod in _imports(path):
            bits = mod.split(".")
            if len(bits) > 2 and bits[1] == "families" and bits[2] not in ("api", fam):
                pytest.fail(f"{path.relative_to(SRC)} imports another family: {mod}")


GENERIC = ("cli", "sampling", "engine", "report")  # never name a concrete family: they see only families.api


@pytest.mark.parametrize(
    "path", [p for p in _files() if p.relative_to(SRC).parts[0] in GENERIC], ids=lambda p: str(p.relative_to(SRC))
)
def test_generic_layers_name_no_family(path):
    """cli/, sampling/, engine/ reach families only through ``vidgan.families`` (load_family, list_families) and
    ``vidgan.families.api``; a ``vidgan.families.<name>`` import (or a lazy one inside a function) fails."""
    for mod in _imports(path):
        bits = mod.split(".")
        if len(bits) > 2 and bits[1] == "families":
            assert bits[2] == "api", f"{path.relative_to(SRC)} imports a concrete family: {mod}"
    builtin = {p.name for p in (SRC / "families").iterdir() if (p / "__init__.py").is_file()}
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):  # a family's name as a whole string literal (an if-chain on family names)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in builtin:
            pytest.fail(f"{path.relative_to(SRC)}:{node.lineno} names the family {node.value!r}")
