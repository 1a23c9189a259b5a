"""Argument helpers shared by the commands."""

from __future__ import annotations

import argparse
import textwrap

from vidgan.cli._console import add_verbosity


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
    add_verbosity(p)


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


def add_model_source(p: argparse.ArgumentParser, metavar: str = "CKPT") -> None:
    """``--checkpoint`` or ``--random-init FAMILY:PRESET`` (exactly one)."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", metavar=metavar, help="checkpoint file or run directory")
    src.add_argument(
        "--random-init",
        metavar="FAMILY:PRESET",
        help="use seeded random weights of this preset instead of a checkpoint (speed measurements)",
    )


def run_stream(args: argparse.Namespace, task: str, options) -> int:
    """Stream ``args.input`` through the ``task`` model of ``--checkpoint``/``--random-init`` into ``args.output``."""
    import time

    from vidgan.cli import _console as console
    from vidgan.engine.trainer import pick_device
    from vidgan.sampling.stream import stream_video

    source = args.checkpoint or f"random:{args.random_init}"
    device = pick_device(args.device)
    console.detail(f"model:  {source} (task {task}); device: {console.describe_device(device)}")
    console.detail(f"input:  {args.input}\noutput: {args.output}; options: {options}")
    t0 = time.perf_counter()
    res = stream_video(
        source,
        args.input,
        args.output,
        task=task,
        options=options,
        device=device,
        fps=args.fps,
        progress=console.show_progress(args),
    )
    seconds = time.perf_counter() - t0
    console.info(f"wrote {res.frames} frames {res.width}x{res.height} at {res.fps:g} fps to {res.output}")
    console.detail(f"time:   {seconds:.2f} s ({res.frames / max(seconds, 1e-9):.2f} frames/s, model load included)")
    return 0
