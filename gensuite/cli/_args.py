"""Argument types and helpers shared by the command modules.

Each type returns the parsed value or raises ``argparse.ArgumentTypeError``
whose text states the rule and the bad value; argparse prefixes the flag name.
``hidden_alias`` keeps an old flag spelling working without listing it, and
``resolve_seed`` draws (and prints) a seed where none was given.
``check_output_folder`` and ``check_output_file`` refuse an output path of the
wrong kind (a file for a folder flag, a folder for a file flag) before any work.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys

from gensuite.common.errors import InputFileError


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    return _int_at_least(text, 0)


def finite_float(text: str) -> float:
    """A finite float: nan, inf and -inf are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite float > 0."""
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value:g}")
    return value


def non_negative_float(text: str) -> float:
    """A finite float >= 0."""
    value = finite_float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value:g}")
    return value


def float_in(low: float, high: float):
    """A type: a finite float in the closed range [low, high]."""
    def parse(text: str) -> float:
        value = finite_float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}], got {value:g}")
        return value

    parse.__name__ = f"float in [{low:g}, {high:g}]"
    return parse


def int_range(text: str) -> tuple[int, int]:
    """An inclusive range written ``LOW-HIGH`` (or a single ``N``)."""
    low, sep, high = text.partition("-")
    try:
        bounds = (int(low), int(high)) if sep else (int(low), int(low))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be LOW-HIGH or N with integers, got {text!r}") from None
    if bounds[0] > bounds[1]:
        raise argparse.ArgumentTypeError(f"LOW must be <= HIGH, got {text!r}")
    return bounds


def fraction(text: str) -> float:
    """A number in [0, 1), e.g. the share of files held out."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value:g}")
    return value


def seed(text: str) -> int:
    """A random seed: an integer in [0, 2**63)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**63), got {value}")
    return value


def midi_list(text: str) -> tuple[int, ...]:
    """MIDI numbers 0-127 written as a comma list of ``N`` and ``LOW-HIGH``, e.g. ``0,24-25``.

    The one syntax of every ``--pitches``, ``--programs`` and ``--velocities``.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("must name at least one number, got an empty list")
    values = []
    for item in text.split(","):
        try:
            low, high = int_range(item.strip())
        except argparse.ArgumentTypeError as exc:
            where = f" (in the list {text!r})" if "," in text else ""
            raise argparse.ArgumentTypeError(f"{exc}{where}") from None
        if not (0 <= low and high <= 127):
            raise argparse.ArgumentTypeError(f"must be within 0-127, got {item.strip()!r}")
        values.extend(range(low, high + 1))
    return tuple(dict.fromkeys(values))  # repeats dropped, order kept


def format_midi_list(values) -> str:
    """The shortest ``midi_list`` text of ``values``, e.g. ``(36, 37, 38, 48)`` -> ``36-38,48``."""
    parts: list[str] = []
    run: list[int] = []
    for value in (int(v) for v in values):
        if run and value == run[-1] + 1:
            run.append(value)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [value]
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(parts)


def hidden_alias(parser: argparse.ArgumentParser, old: str, new: str) -> None:
    """Accept ``old`` as an unlisted spelling of the option ``new`` (declared before).

    Same destination, type and choices; left out of ``--help`` so that old
    scripts keep working while the help shows one name.
    """
    action = parser._option_string_actions[new]
    parser.add_argument(old, dest=action.dest, type=action.type, choices=action.choices,
                        metavar=action.metavar, default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)


def resolve_seed(value: int | None) -> int:
    """``value``, or a random seed printed to stderr so that the run can be repeated."""
    if value is not None:
        return value
    value = secrets.randbelow(2**31)
    print(f"seed: {value} (chosen at random; pass --seed {value} to repeat)", file=sys.stderr)
    return value


def check_output_folder(path: str, *, flag: str) -> None:
    """Raise InputFileError if ``path`` exists and is not a folder (an output folder flag)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputFileError(path, f"{flag} must be a folder, but this is a file")


def check_output_file(path: str | None, *, flag: str) -> None:
    """Raise InputFileError if ``path`` (an output file flag) is an existing folder.

    Called before any long work, so that a run does not fail at its last write.
    """
    if path is not None and os.path.isdir(path):
        raise InputFileError(path, f"is a folder; {flag} expects a file path")


STRATEGY_HELP = ("tf.distribute strategy: default (one device), mirrored (this host's GPUs, "
                 "or its logical CPU devices), multi-worker (the hosts TF_CONFIG names; see "
                 "docs/distributed.md); the global batch is split over the replicas, and only "
                 "the chief writes checkpoints, logs and exports")


def add_strategy_option(parser: argparse.ArgumentParser) -> None:
    """``--strategy``, the same option on every trainer (gensuite.training.distribute)."""
    parser.add_argument("--strategy", choices=("default", "mirrored", "multi-worker"),
                        default="default", help=STRATEGY_HELP)


def add_runner_options(parser: argparse.ArgumentParser, *, shards: bool = True,
                       what: str = "the data", beam_by_default: bool = True) -> None:
    """``--runner``, ``--num-shards`` (if ``shards``), ``--pipeline-options``: Beam options.

    ``beam_by_default`` False keeps the local pool the default even where Beam
    is installed: for a training run's own conversion, which a pipeline's
    start-up (seconds) would only slow down on one machine.
    """
    from gensuite.common.beam import BEAM_RUNNERS, LOCAL, default_runner

    parser.add_argument(
        "--runner", default=default_runner() if beam_by_default else LOCAL, metavar="NAME",
        help=f"build {what} with {LOCAL} (this machine's process pool) or an Apache Beam "
             f"runner: {', '.join(BEAM_RUNNERS)}; DirectRunner runs worker processes on "
             f"this machine; Beam runners need pip install -e \".[beam]\"")
    if shards:
        parser.add_argument(
            "--num-shards", type=non_negative_int, default=1, metavar="N",
            help="Beam runners: output files; 1 writes the --out path itself, N writes "
                 "OUT-00000-of-0000N ... (every reader takes OUT), 0 lets the runner choose")
    parser.add_argument(
        "--pipeline-options", metavar="'OPTIONS'",
        help="Beam pipeline options passed through, as one quoted string after '=' (it "
             "starts with --), e.g. --pipeline-options='--flink_master=host:8081 "
             "--environment_type=LOOPBACK'")


def writes_outputs(args: argparse.Namespace) -> bool:
    """False for a non-chief worker of ``--strategy multi-worker``: the chief writes the outputs."""
    if getattr(args, "strategy", "default") != "multi-worker":
        return True
    from gensuite.training.distribute import task_is_chief  # noqa: PLC0415 (loads TensorFlow)

    return task_is_chief(os.environ.get("TF_CONFIG", ""))
