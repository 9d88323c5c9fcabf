"""The gensuite command: one sub-command module per group.

Each module in ``COMMAND_MODULES`` exposes ``add_parser(subparsers)`` and sets
``func`` on its parsers. Heavy imports happen inside the handlers, so that
``--help`` stays instant and commands that need no model never load
TensorFlow; wherever TensorFlow is first imported, it starts silently
(:func:`gensuite.common.tfutil.quiet_tensorflow_imports`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import shlex
import signal
import sys
import textwrap
import warnings

from gensuite import __version__
from gensuite.common.errors import GensuiteError
from gensuite.common.tfutil import quiet_tensorflow_imports

# Options naming what a command writes: each is checked writable before any
# work, locked while the command runs (one writer per output), and cleared of
# what killed writers left there.
OUTPUT_OPTIONS = (("run_dir", "--run-dir"), ("out", "--out"), ("export", "--export"))

COMMAND_MODULES = ("demo", "checkpoints", "corpus", "data", "vae", "rnn", "gansynth", "render",
                   "analyze", "metrics", "studio")


DESCRIPTION = """\
gensuite is a generative music studio: train MusicVAE models and sample,
interpolate and evaluate melodies with them; continue melodies with MelodyRNN;
synthesize pitched notes and morph timbres with GANSynth; render MIDI files to
WAV through GANSynth or a soundfont; and analyse audio (which instrument or
collection a track sounds like, similar tracks). Shipped checkpoints make every
command usable without training (gensuite checkpoints lists them)."""

EPILOG = "Run gensuite COMMAND --help for the options of a command."


class HelpFormatter(argparse.HelpFormatter):
    """Help that states every option's default and keeps multi-line descriptions as written.

    An option whose default is set (not None, False, empty or suppressed) gets
    "(default: X)" after its help. A description or epilog holding line breaks
    is printed as is (argparse's RawDescriptionHelpFormatter); a one-line one is
    wrapped to the terminal. Lines never break inside a hyphenated flag name.
    """

    def __init__(self, prog, indent_increment=2, max_help_position=30, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default is argparse.SUPPRESS
                or (isinstance(default, (str, list, tuple)) and not default)
                or "%(default)" in text
                or not (action.option_strings or action.nargs in ("?", "*"))):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr with exit code 2.

    Every sub-command's parser is one too (``add_subparsers`` makes its
    parsers of the parent's class), so all share :class:`HelpFormatter`.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="gensuite", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"gensuite {__version__}",
                        help="print the version and exit")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=Parser,
        title="commands")
    for name in COMMAND_MODULES:
        importlib.import_module(f"gensuite.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    # 3 also hides TF's C++ ERROR lines: on CPU they are notices (no CUDA driver,
    # no AVX-512 kernel for bool ops), not failures; real failures raise in Python.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    quiet_tensorflow_imports()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    # A `kill` (SIGTERM) stops like Ctrl-C: trainers save a checkpoint on
    # KeyboardInterrupt. Background jobs ignore SIGINT, so this is how they stop.
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        with contextlib.ExitStack() as stack, warnings.catch_warnings():
            warnings.showwarning = functools.partial(_print_warning, command=args.command)
            claim_outputs(args, stack, holder=shlex.join(["gensuite", *argv[:2]]))
            return args.func(args) or 0
    except GensuiteError as exc:
        print(f"gensuite {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gensuite {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:
    """The ``gensuite`` program: :func:`main`, then exit with its code.

    Where the command imported TensorFlow, the process ends at once, without
    the interpreter's teardown: TensorFlow's takes about a second on two
    cores, after every output has been written, closed and renamed into place.
    """
    code = main()
    if "tensorflow" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def claim_outputs(args: argparse.Namespace, stack: contextlib.ExitStack, *, holder: str) -> None:
    """Check, lock and clear each output the command names (see ``OUTPUT_OPTIONS``)."""
    from gensuite.cli._args import writes_outputs
    from gensuite.common.fileio import check_writable, remove_orphan_temp_files
    from gensuite.common.locks import output_lock

    if not writes_outputs(args):
        # A non-chief training worker shares the chief's run folder but writes
        # nothing there; locking it would refuse the chief (same host) or itself.
        return
    for attr, flag in OUTPUT_OPTIONS:
        path = getattr(args, attr, None)
        if path:
            check_writable(path, flag=flag)
            stack.enter_context(output_lock(path, flag=flag, holder=holder))
            remove_orphan_temp_files(path)


def _print_warning(message, category, filename, lineno, file=None, line=None, *, command):
    # A library's warning as one line in our words, without its source line.
    text = " ".join(str(message).split())
    print(f"gensuite {command}: warning: {text}", file=file or sys.stderr)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
