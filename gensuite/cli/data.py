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

from gensuite.cli._args import (add_runner_options, check_output_file, check_output_folder,
                                midi_list, positive_int)
from gensuite.common.beam import check_runner, split_pipeline_options

# How many skipped files to list on stderr before summarising the rest.
MAX_SKIPPED_SHOWN = 10


def add_parser(subparsers) -> None:
    """Add the ``data`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "data", help="ingest MIDI folders, inspect MIDI files, render NSynth note data",
        description="Build and look at data sets: MIDI folders into NoteSequence TFRecords, "
                    "a summary and piano roll of a MIDI file, NSynth-format notes rendered "
                    "from soundfonts.")
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
    add_runner_options(parser)
    # Not preloaded: ingest forks its workers first, which is cheapest without TF.
    parser.set_defaults(func=run_ingest)


def _add_inspect(group) -> None:
    parser = group.add_parser(
        "inspect", help="summarise a MIDI file, optionally draw its piano roll",
        description="Print a MIDI file's tracks, tempos, time and key signatures, "
                    "duration, note count and pitch range.")
    parser.add_argument("midi_file", metavar="FILE.mid", help="MIDI file to read")
    parser.add_argument("--png", metavar="FILE.png", help="also draw a piano roll here")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of text")
    parser.set_defaults(func=run_inspect)


def _add_nsynth(group) -> None:
    parser = group.add_parser(
        "nsynth", help="render an NSynth-format note data set from soundfonts",
        description="Render every soundfont x program x pitch x velocity the NSynth "
                    "way (held 3 s, recorded 4 s, 16 kHz mono) into NSynth TFRecord shards "
                    "plus examples.json and report.json. Notes that are silent, unpitched "
                    "or more than 50 cents off their pitch are dropped and reported.")
    parser.add_argument("--soundfont", nargs="+", metavar="SF2",
                        help="one or more SoundFont 2/3 files, none twice (default: "
                             "FluidR3_GM when installed, else pretty_midi's TimGM6mb); "
                             "each soundfont's programs are separate instruments of the one "
                             "data set: instrument id = soundfont's position (0, 1, ...) "
                             "x 128 + program")
    parser.add_argument("--programs", type=midi_list, metavar="LIST",
                        help="General MIDI programs 0-127 as a comma list of N and LOW-HIGH, "
                             "e.g. 0,24-25,73 (default: 22 acoustic programs covering every "
                             "acoustic NSynth family)")
    parser.add_argument("--pitches", type=midi_list, metavar="LIST",
                        help="MIDI pitches as a comma list of N and LOW-HIGH, e.g. 36-84 or "
                             "36,48-50,60 (default: 24-84, GANSynth's range)")
    parser.add_argument("--velocities", type=midi_list, metavar="LIST",
                        help="MIDI velocities 1-127 as a comma list of N and LOW-HIGH "
                             "(default: NSynth's 25,50,75,100,127)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    parser.add_argument("--examples-per-shard", type=positive_int, metavar="N",
                        help="notes per TFRecord shard (default: 1000, about 256 MB)")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="parallel processes (default: every core)")
    add_runner_options(parser, shards=False)
    # Not preloaded: the workers fork first, which is cheapest without TF.
    parser.set_defaults(func=run_nsynth)


SUBCOMMANDS = (_add_ingest, _add_inspect, _add_nsynth)


def run_ingest(args: argparse.Namespace) -> int:
    """Handler of ``gensuite data ingest``."""
    from gensuite.midi.io import ingest_midi_dir

    runner = check_runner(args.runner)
    pipeline_args = split_pipeline_options(args.pipeline_options)
    check_output_file(args.out, flag="--out")
    check_output_file(args.report, flag="--report")
    report = ingest_midi_dir(
        args.midi_dir, args.out, report_path=args.report, num_workers=args.workers,
        progress=True, runner=runner, num_shards=args.num_shards, pipeline_args=pipeline_args)
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
    from gensuite.midi.io import read_midi
    from gensuite.midi.summary import format_summary, summarize_sequence

    check_output_file(args.png, flag="--png")
    sequence = read_midi(args.midi_file)
    summary = summarize_sequence(sequence)
    if args.png:
        from gensuite.midi.pianoroll import plot_pianoroll

        plot_pianoroll(sequence, path=args.png, title=os.path.basename(args.midi_file))
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0


def run_nsynth(args: argparse.Namespace) -> int:
    """Handler of ``gensuite data nsynth``."""
    from gensuite.audio.nsynth import build_nsynth

    check_output_folder(args.out, flag="--out")
    # Options left out keep build_nsynth's defaults, stated once, there.
    given = {name: value for name, value in (
        ("programs", args.programs), ("pitches", args.pitches),
        ("velocities", args.velocities), ("examples_per_shard", args.examples_per_shard),
    ) if value is not None}
    runner = check_runner(args.runner)
    pipeline_args = split_pipeline_options(args.pipeline_options)
    report = build_nsynth(out_dir=args.out, soundfont=args.soundfont, num_workers=args.workers,
                          progress=True, runner=runner, pipeline_args=pipeline_args, **given)
    several = len(report.soundfonts) > 1
    for d in report.dropped[:MAX_SKIPPED_SHOWN]:
        where = f"{d['soundfont']} " if several else ""
        print(f"dropped {where}program {d['program']} pitch {d['pitch']} velocity "
              f"{d['velocity']}: {d['reason']}", file=sys.stderr)
    if report.n_dropped > MAX_SKIPPED_SHOWN:
        print(f"... and {report.n_dropped - MAX_SKIPPED_SHOWN} more (see report.json)",
              file=sys.stderr)
    for line in format_nsynth_lines(report):
        print(line)
    return 0


def format_nsynth_lines(report) -> list[str]:
    """Result of ``data nsynth``: totals, then one line per instrument that lost notes."""
    reasons = ", ".join(f"{n} {kind}" for kind, n in sorted(report.drop_reasons.items()))
    dropped = f" ({report.n_dropped} dropped: {reasons})" if report.n_dropped else ""
    several = len(report.soundfonts) > 1
    lines = [
        f"kept {report.n_kept} of {report.n_planned} notes{dropped} from "
        f"{', '.join(s['name'] for s in report.soundfonts)} in {report.seconds:.1f} s",
        f"wrote {len(report.shards)} TFRecord shard(s), examples.json and report.json "
        f"to {report.out_dir}",
    ]
    # With several soundfonts a program is several instruments: name the soundfont too.
    lines += [f"  {p['soundfont'] + ' ' if several else ''}program {p['program']:3d} "
              f"{p['name']}: kept {p['kept']}, dropped {p['dropped']}"
              for p in report.per_program if p["dropped"]]
    return lines
