"""``gensuite data``: build and look at data sets.

Sub-commands are listed in ``SUBCOMMANDS``; each entry is a function that adds
its parser to the group and sets ``func``. To add one (e.g. ``nsynth``), write
``_add_nsynth(group)`` plus its handler and append it there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from gensuite.cli._args import positive_int

# How many skipped files to list on stderr before summarising the rest.
MAX_SKIPPED_SHOWN = 10


def add_parser(subparsers) -> None:
    """Add the ``data`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "data", help="ingest MIDI folders, inspect MIDI files",
        description=__doc__.splitlines()[0])
    group = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    for add in SUBCOMMANDS:
        add(group)


def _add_ingest(group) -> None:
    parser = group.add_parser(
        "ingest", help="read a MIDI folder into a TFRecord of NoteSequences",
        description="Read every .mid/.midi file under MIDI_DIR (recursively) into a "
                    "TFRecord of NoteSequence protos with Magenta's id, filename and "
                    "collection_name. Unusable files are skipped and reported; they "
                    "never stop the run.")
    parser.add_argument("midi_dir", metavar="MIDI_DIR", help="folder searched recursively")
    parser.add_argument("--out", required=True, metavar="FILE.tfrecord",
                        help="TFRecord file to write")
    parser.add_argument("--report", metavar="FILE.json",
                        help="write counts and every skipped file with its reason as JSON")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="parallel processes (default: every core)")
    # Not preloaded: ingest forks its workers first, which is cheapest without TF.
    parser.set_defaults(func=run_ingest, preload_tensorflow=False)


def _add_inspect(group) -> None:
    parser = group.add_parser(
        "inspect", help="summarise a MIDI file, optionally draw its piano roll",
        description="Print a MIDI file's tracks, tempos, time and key signatures, "
                    "duration, note count and pitch range.")
    parser.add_argument("midi_file", metavar="FILE.mid", help="MIDI file to read")
    parser.add_argument("--png", metavar="FILE.png", help="also draw a piano roll here")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of text")
    parser.set_defaults(func=run_inspect, preload_tensorflow=False)


SUBCOMMANDS = (_add_ingest, _add_inspect)


def run_ingest(args: argparse.Namespace) -> int:
    """Handler of ``gensuite data ingest``."""
    from gensuite.midi_io import ingest_midi_dir

    report = ingest_midi_dir(
        args.midi_dir, args.out, report_path=args.report, num_workers=args.workers,
        progress=sys.stderr.isatty())
    for line in format_skipped(report.skipped, max_shown=MAX_SKIPPED_SHOWN):
        print(line, file=sys.stderr)
    print(format_ingest_line(report, report_path=args.report))
    return 0


def format_ingest_line(report, *, report_path: str | None = None) -> str:
    """One-line result of an ingest, e.g. ``read 368 of 371 files (3 skipped, ...)``."""
    skipped = ""
    if report.n_skipped:
        skipped = f" ({report.n_skipped} skipped" + (
            f", see {report_path})" if report_path else ")")
    return (f"read {report.n_read} of {report.n_files} files{skipped} -> "
            f"{report.output} in {report.seconds:.1f} s")


def format_skipped(skipped: list[dict[str, str]], *, max_shown: int) -> list[str]:
    """Lines naming the first ``max_shown`` skipped files and their reasons."""
    lines = [f"skipped {s['file']}: {s['reason']}" for s in skipped[:max_shown]]
    if len(skipped) > max_shown:
        lines.append(f"... and {len(skipped) - max_shown} more")
    return lines


def run_inspect(args: argparse.Namespace) -> int:
    """Handler of ``gensuite data inspect``."""
    from gensuite.midi_io import read_midi
    from gensuite.summary import format_summary, summarize_sequence

    sequence = read_midi(args.midi_file)
    summary = summarize_sequence(sequence)
    if args.png:
        from gensuite.plots import plot_pianoroll

        plot_pianoroll(sequence, path=args.png, title=os.path.basename(args.midi_file))
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0
