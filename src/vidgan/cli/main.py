"""``vidgan`` command line: one module per command, each exposing ``add_parser(subparsers)`` and ``run(args)``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from vidgan.cli import _console as console
from vidgan.cli._common import HelpFormatter

# command -> module under vidgan.cli (imported lazily so `vidgan --help` stays fast)
COMMANDS: dict[str, str] = {
    "families": "families",
    "summary": "summary",
    "train": "train",
    "generate": "generate",
    "upscale": "upscale",
    "translate": "translate",
    "eval": "eval",
    "prepare": "prepare",
    "weights": "weights",
    "report": "report",
    "doctor": "doctor",
}

EPILOG = """examples:
  vidgan families
  vidgan train tganv2:moving_digits_64 --run-dir runs/digits --max-clips 2048
  vidgan generate --checkpoint runs/digits --out samples --num-videos 16 --frames 16 --seed 0
  vidgan upscale --checkpoint frvsr.pt input.mp4 output.mp4
  vidgan eval fvd --real data/real --fake samples --json
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidgan",
        description="Train, sample and evaluate temporally coherent video GANs (TGANv2, TecoGAN/FRVSR, ...).",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    from vidgan import __version__

    parser.add_argument("--version", action="version", version=f"vidgan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        try:
            mod = importlib.import_module(f"vidgan.cli.{module}")
        except ModuleNotFoundError as e:
            if e.name != f"vidgan.cli.{module}":
                raise
            continue
        mod.add_parser(sub)
    return parser


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"  # CLI users need the message, not the source line that raised it


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _terminate_like_ctrl_c():
    """SIGTERM (``kill``, schedulers) unwinds like Ctrl-C: writers abort and remove their temporaries, training
    saves a checkpoint first. Only in the main thread; returns the previous handler (restored on exit)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    return None


def _debug(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("VIDGAN_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _format_warning
    parser = build_parser()
    # `vidgan train CFG --run-dir R key=value` works like `vidgan train CFG key=value --run-dir R`
    args, extra = parser.parse_known_args(argv)
    if extra:
        if hasattr(args, "overrides") and all("=" in x and not x.startswith("-") for x in extra):
            args.overrides = [*args.overrides, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    previous = _terminate_like_ctrl_c()
    old_level = None
    try:
        old_level = console.configure(args)  # -q / -v (both at once: a one-line usage error)
        if getattr(args, "device", None) is not None:  # a command that computes: threads for shared cores
            from vidgan.core.threads import configure_threads

            threads, why = configure_threads()
            console.detail(f"threads:  {threads} ({why})")
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted: partial outputs were removed; earlier outputs are intact", file=sys.stderr)
        return 130
    except Exception as e:  # user-facing errors: one clear line, non-zero exit; --debug shows the trace
        if _debug(args) or type(e).__name__ in ("AssertionError",):
            raise
        from vidgan.cli._errors import exit_code, format_error

        print(f"error: {format_error(e)}", file=sys.stderr)
        from vidgan.core import dist

        dist.exit_now(exit_code(e))  # under torchrun: exit without the process group's teardown abort
        return exit_code(e)
    finally:
        if old_level is not None:
            console.set_level(old_level)
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
