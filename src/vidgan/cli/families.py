"""``vidgan families``: list the model families and their presets."""

from __future__ import annotations

import argparse

from vidgan.cli import _console as console
from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "families",
        help="list families and presets",
        description="List the model families vidgan can train and the presets of each.",
        example="vidgan families",
    )
    add_common(p, device=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidgan.families import list_families, load_family

    for name in list_families():
        fam = load_family(name)
        doc = (fam.__doc__ or "").strip().splitlines()
        task = getattr(fam.Config, "task", "")
        default = getattr(fam, "DEFAULT_PRESET", "")
        print(f"{name}  [{task}]  {doc[0] if doc else ''}")
        console.detail(f"{name}: module {fam.__name__} ({getattr(fam, '__file__', None) or 'no file'})")
        for preset in fam.PRESETS:
            mark = " (default)" if preset == default else ""
            print(f"    {name}:{preset}{mark}")
    return 0
