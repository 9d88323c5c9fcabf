"""The ``gensuite`` command: one sub-command module per group.

Each module in ``COMMAND_MODULES`` exposes ``add_parser(subparsers)`` and sets
``func`` on its parsers. TensorFlow is imported (quietly) before the handler
runs unless a parser sets ``preload_tensorflow=False``; other heavy imports
happen inside the handlers so that ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from gensuite import __version__
from gensuite.common.errors import GensuiteError
from gensuite.common.tfutil import import_tensorflow

COMMAND_MODULES = ("demo", "checkpoints", "corpus", "data", "vae", "rnn", "gansynth", "render",
                   "analyze")


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr with exit code 2."""

    def error(self, message: str):  # noqa: D102 (argparse API)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="gensuite", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gensuite {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"gensuite.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    # 3 also hides TF's C++ ERROR lines: on CPU they are notices (no CUDA driver,
    # no AVX-512 kernel for bool ops), not failures; real failures raise in Python.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    # A `kill` (SIGTERM) stops like Ctrl-C: trainers save a checkpoint on
    # KeyboardInterrupt. Background jobs ignore SIGINT, so this is how they stop.
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        if getattr(args, "preload_tensorflow", True):
            import_tensorflow()
        return args.func(args) or 0
    except GensuiteError as exc:
        print(f"gensuite {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gensuite {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
