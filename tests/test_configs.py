"""Every shipped YAML config resolves strictly (unknown keys / wrong types would fail here, not at hour 6)."""

from pathlib import Path

import pytest

from vidgan.engine.config import resolve_run_config
from vidgan.families import list_families

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "src" / "vidgan" / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_config_resolves(path):
    cfg = resolve_run_config(str(path))
    assert cfg.family.name in list_families()


FAMILIES_DIR = Path(__file__).resolve().parents[1] / "src" / "vidgan" / "families"
BUILTIN = sorted(p.parent.name for p in FAMILIES_DIR.glob("*/__init__.py"))


@pytest.mark.parametrize("family", BUILTIN)  # plugin families ship their configs in their own package
def test_every_family_ships_a_tiny_config(family):
    path = Path(__file__).resolve().parents[1] / "src" / "vidgan" / "configs" / "tiny" / f"{family}.yaml"
    assert path.is_file(), f"add {path} (DESIGN habit 11)"
    assert resolve_run_config(str(path)).preset == "tiny"
