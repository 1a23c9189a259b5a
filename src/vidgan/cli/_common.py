"""Argument helpers shared by the commands."""

from __future__ import annotations

import argparse


def add_common(p: argparse.ArgumentParser, device: bool = True) -> None:
    if device:
        p.add_argument(
            "--device",
            default="auto",
            choices=["auto", "cpu", "cuda"],
            help="where to run (auto: CUDA when available, else CPU)",
        )
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")


def new_parser(sub, name: str, help: str, description: str, example: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
