"""``vidgan summary``: trainable parameter counts per role of a family preset or config."""

from __future__ import annotations

import argparse
import json

from vidgan.cli import _console as console
from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "summary",
        help="parameter counts per role",
        description="Build a model (on the meta device: no memory used) and print the trainable parameters of "
        "each role (generator, discriminator, ...; several discriminators are summed).",
        example="vidgan summary tganv2:ucf101_192 --json",
    )
    p.add_argument("config", metavar="FAMILY[:PRESET]|CONFIG")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.add_argument("--json", action="store_true", help='print {"family", "preset", "modules": {role: count}}')
    add_common(p, device=False)
    p.set_defaults(func=run)


def count_roles(cfg) -> dict[str, int]:
    import torch

    from vidgan.families import load_family
    from vidgan.families.api import DataMismatch, count_parameters

    family = load_family(cfg.family.name)
    try:
        with torch.device("meta"):
            parts = family.build(cfg.family, cfg.data)
    except DataMismatch:
        raise
    except Exception:  # a family whose build needs real tensors: build on CPU
        parts = family.build(cfg.family, cfg.data)
    return {role: count_parameters(m) for role, m in parts.modules.items()}


def run(args: argparse.Namespace) -> int:
    from vidgan.engine.config import resolve_run_config

    cfg = resolve_run_config(args.config, args.overrides)
    console.detail(f"config: {args.config} {' '.join(args.overrides)}".rstrip() + f" -> {cfg.family.name}")
    with console.timed("model built in"):
        counts = count_roles(cfg)
    if args.json:
        print(json.dumps({"family": cfg.family.name, "preset": cfg.preset, "modules": counts}))
    else:
        print(f"{cfg.family.name}:{cfg.preset or 'custom'}")
        for role, n in counts.items():
            print(f"  {role:<16} {n:>14,d}")
        print(f"  {'total':<16} {sum(counts.values()):>14,d}")
    return 0
