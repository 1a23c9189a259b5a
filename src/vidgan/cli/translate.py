"""``vidgan translate``: video-to-video translation with a translation-task checkpoint.

Translation families (TimeCycleGAN's paired/unpaired models) are not part of this release yet; the command
checks the checkpoint's task and says so instead of failing obscurely.
"""

from __future__ import annotations

import argparse

from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "translate",
        help="video-to-video translation (translation families)",
        description="Translate a video with a translation-task checkpoint (e.g. TimeCycleGAN paired/unpaired "
        "models). No translation family ships in this release yet: the command tells you the task of the "
        "checkpoint you pass and which command serves it.",
        example="vidgan translate --checkpoint runs/edges2faces input.mp4 output.mp4",
    )
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="checkpoint file or run directory")
    p.add_argument("input", metavar="INPUT", help="video file or frame folder")
    p.add_argument("output", metavar="OUTPUT", help=".mp4 file or frame folder")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidgan.engine import checkpoint as ckpt_io
    from vidgan.engine.config import run_config_from_dict
    from vidgan.families import list_families, load_family

    cfg = run_config_from_dict(ckpt_io.load(args.checkpoint)["config"])
    if cfg.family.task != "translation":
        other = {"vsr": "vidgan upscale", "unconditional": "vidgan generate"}[cfg.family.task]
        raise ValueError(
            f"{args.checkpoint} is a '{cfg.family.task}' model (family {cfg.family.name}); use `{other}` for it"
        )
    translators = [n for n in list_families() if load_family(n).Config.task == "translation"]
    raise ValueError(
        f"family {cfg.family.name} has no streaming translator; translation families available: "
        f"{', '.join(translators) or 'none in this release'}"
    )
