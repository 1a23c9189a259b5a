"""Model families. A family is a subpackage of this folder (see ``api.py``); nothing self-registers.

``list_families()`` lists the folders that expose the contract; ``load_family(name)`` imports one.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from types import ModuleType

__all__ = ["list_families", "load_family", "FamilyNotFound"]


class FamilyNotFound(ValueError):
    pass


def list_families() -> list[str]:
    """Names of the family subpackages (folders with an ``__init__.py``), sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def load_family(name: str) -> ModuleType:
    """Import ``vidgan.families.<name>`` and check it exposes ``Config``, ``PRESETS`` and ``build``."""
    names = list_families()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise FamilyNotFound(f"unknown family '{name}'.{hint} Available: {', '.join(names) or '(none)'}")
    module = importlib.import_module(f"{__name__}.{name}")
    missing = [a for a in ("Config", "PRESETS", "build") if not hasattr(module, a)]
    if missing:
        raise FamilyNotFound(f"vidgan.families.{name} does not expose {', '.join(missing)}")
    return module
