"""Argument helpers shared by the commands."""

from __future__ import annotations

import argparse
import textwrap


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs to the terminal width; keeps indented lines (examples) exactly as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for line in text.splitlines():
            if line.startswith("  ") or not line.strip():
                out.append(indent + line)
            else:
                out.append(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent))
        return "\n".join(out)


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
        formatter_class=HelpFormatter,
    )


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="family-specific inference option (repeatable), passed to the family as options.extra",
    )


def parse_options(items: list[str]) -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (values parsed like config overrides)."""
    from vidgan.core.config import parse_override

    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--opt {item}: expected KEY=VALUE — e.g. --opt noise_mode=const")
        path, value = parse_override(item)
        out[".".join(path)] = value
    return out
