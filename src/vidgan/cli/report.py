"""``vidgan report RUN_DIR``: (re)build the HTML report of a training run."""

from __future__ import annotations

import argparse

from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "report",
        help="build RUN_DIR/report.html (samples, curves, checkpoints, config)",
        description=(
            "Build (or rebuild) RUN_DIR/report.html from what a training run directory holds: the latest and "
            "earlier sample grids as playable videos, loss / metric / throughput curves from log.jsonl, the "
            "checkpoints with the metrics logged at their clips count, the resolved config and the environment. "
            "The page and its report_files/ folder open from disk in any browser: no server, no network. "
            "`vidgan train` keeps the report up to date by itself; this command is for runs copied from "
            "elsewhere or made by an older vidgan."
        ),
        example="vidgan report runs/digits && xdg-open runs/digits/report.html",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a training run directory (`vidgan train --run-dir`)")
    add_common(p, device=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidgan.cli import _console as console
    from vidgan.report import write_run_report

    with console.timed("report built in"):
        path = write_run_report(args.run_dir)
    console.info(f"report: {path}")
    console.info(f"open:   {path.resolve().as_uri()}")
    return 0
