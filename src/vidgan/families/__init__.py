"""Model families: the built-in folders of this package plus plugins (see ``api.py`` for the contract).

* built in: every subpackage of this folder;
* plugins: any installed distribution that declares an entry point in the group ``vidgan.families``, e.g. in
  its ``pyproject.toml``::

      [project.entry-points."vidgan.families"]
      toy_translate = "my_package.toy_translate"

  The entry-point name is the family name; its value is the module exposing the contract. Nothing
  self-registers and no vidgan file changes when a plugin is installed.

``list_families()`` lists both; ``load_family(name)`` imports one and checks it exposes the contract.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from importlib.metadata import entry_points
from types import ModuleType

__all__ = ["list_families", "load_family", "family_samplers", "FamilyNotFound", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "vidgan.families"


class FamilyNotFound(ValueError):
    pass


def _builtin() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def _plugins() -> dict[str, str]:
    """Entry-point name -> module path of the installed plugin families (built-in names take precedence)."""
    builtin = set(_builtin())
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in builtin}


def list_families() -> list[str]:
    """Names of the built-in family folders and the installed plugin families, sorted."""
    return sorted({*_builtin(), *_plugins()})


def load_family(name: str) -> ModuleType:
    """Import family ``name`` and check it exposes ``Config``, ``PRESETS`` and ``build``."""
    plugins = _plugins()
    if name in _builtin():
        module_path = f"{__name__}.{name}"
    elif name in plugins:
        module_path = plugins[name].split(":")[0]
    else:
        names = list_families()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise FamilyNotFound(f"unknown family '{name}'.{hint} Available: {', '.join(names) or '(none)'}")
    try:
        module = importlib.import_module(module_path)
    except ImportError as e:
        raise FamilyNotFound(f"family '{name}': cannot import {module_path} ({e})") from e
    missing = [a for a in ("Config", "PRESETS", "build") if not hasattr(module, a)]
    if missing:
        raise FamilyNotFound(f"family '{name}' ({module_path}) does not expose {', '.join(missing)}")
    return module


def family_samplers(name: str) -> dict:
    """The extra data samplers a family declares (``SAMPLERS``), selectable as ``data.sampler``."""
    return dict(getattr(load_family(name), "SAMPLERS", {}) or {})
