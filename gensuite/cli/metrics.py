"""``gensuite metrics``: how much generated melodies look like reference melodies.

Both folders are cut into melody windows and described by Yang & Lerch style
features; each feature's distribution over the generated windows is compared
with the one over the reference windows (see :mod:`gensuite.midi.metrics`).
MIDI only: TensorFlow is never imported.
"""

from __future__ import annotations

import argparse
import json
import sys

from gensuite.cli._args import positive_int

# How many skipped files to list on stderr before summarising the rest.
MAX_SKIPPED_SHOWN = 10

LABELS = {
    "onsets_per_bar": "onsets per bar",
    "pitch_range": "pitch range (semitones)",
    "pitch_class_entropy": "pitch-class entropy (bits)",
    "in_scale_rate": "in-scale rate",
    "repeated_phrase_rate": "repeated-phrase rate",
    "pitch_class_histogram": "pitch-class histogram",
    "interval_histogram": "interval histogram",
    "ioi_histogram": "inter-onset histogram",
    "note_length_histogram": "note-length histogram",
}


def add_parser(subparsers) -> None:
    """Add the ``metrics`` command to the top-level parser."""
    parser = subparsers.add_parser(
        "metrics", help="compare generated melodies with reference melodies, feature by feature",
        description="Cut the melodies of two MIDI folders into windows of N bars (4/4 at each "
                    "file's first tempo; a file at most N bars long is one window; the "
                    "highest note per onset is kept), describe every window by onsets per "
                    "bar, pitch range, pitch-class entropy, in-scale rate, repeated-phrase "
                    "rate and pitch-class, interval, inter-onset and note-length histograms, "
                    "and print, per feature, how much the generated distribution overlaps "
                    "the reference one (1 = alike, 0 = disjoint; Yang & Lerch 2018) with both "
                    "means, the mean overlap, and the share of degenerate windows (at most one "
                    "onset per bar, or 12+ onsets per bar spanning over 24 semitones).")
    parser.add_argument("generated", metavar="GENERATED_DIR",
                        help="folder of generated MIDI files, searched recursively")
    parser.add_argument("--reference", required=True, metavar="DIR",
                        help="folder of reference MIDI files (e.g. a corpus export), "
                             "searched recursively")
    parser.add_argument("--bars", type=positive_int, default=2, metavar="N",
                        help="window length in 4/4 bars; match the model (mel_2bar: 2)")
    parser.add_argument("--top-track", action="store_true",
                        help="read only each file's highest track (mean pitch) in both "
                             "folders: a score's melody line (a chorale's soprano) instead "
                             "of the top note of all its parts")
    parser.add_argument("--repeats-within", choices=("file", "window"), default="file",
                        help="a bar repeats when it equals an earlier bar of its file, or "
                             "only of its own window: use window when GENERATED_DIR holds "
                             "one-window samples (a 2-bar model's), which have no song "
                             "before them to repeat")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``gensuite metrics``."""
    from gensuite.midi.metrics import compare, folder_features

    reading = {"bars": args.bars, "top_track": args.top_track,
               "repeats_within": args.repeats_within}
    generated = folder_features(args.generated, **reading)
    reference = folder_features(args.reference, **reading)
    result = compare(generated, reference)
    for label, found in (("generated", generated), ("reference", reference)):
        for line in format_skipped(label, found.skipped, max_shown=MAX_SKIPPED_SHOWN):
            print(line, file=sys.stderr)
    if args.json:
        print(json.dumps({"bars": args.bars, "generated": generated.counts(),
                          "reference": reference.counts()} | result))
    else:
        print("\n".join(format_report(result, generated, reference, bars=args.bars)))
    return 0


def format_skipped(label: str, skipped: list[dict[str, str]], *, max_shown: int) -> list[str]:
    """Lines naming the first ``max_shown`` unreadable files of a folder."""
    lines = [f"skipped {label} file {s['file']}: {s['reason']}" for s in skipped[:max_shown]]
    if len(skipped) > max_shown:
        lines.append(f"... and {len(skipped) - max_shown} more {label} files skipped")
    return lines


def _number(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _shares(values) -> str:
    return "-" if values is None else " ".join(f"{round(100 * v):d}" for v in values)


def format_report(result: dict, generated, reference, *, bars: int) -> list[str]:
    """The text report: folders, a feature table, mean overlap and degenerate shares."""
    lines = []
    for label, found in (("generated", generated), ("reference", reference)):
        extra = [f"{found.n_skipped} skipped"]
        if found.files_without_notes:
            extra.append(f"{len(found.files_without_notes)} without notes")
        if found.files_without_windows:
            extra.append(f"{len(found.files_without_windows)} without a full window")
        lines.append(f"{label}: {found.folder}: {len(found)} windows of {bars} bars from "
                     f"{found.n_files} files ({', '.join(extra)})")
    width = max(len(label) for label in LABELS.values())
    lines.append("")
    lines.append(f"{'feature':<{width}}  {'overlap':>7}  {'generated':>9}  {'reference':>9}")
    for name, figures in result["features"].items():
        label = LABELS.get(name, name)
        if figures["kind"] == "scalar":
            lines.append(f"{label:<{width}}  {_number(figures['overlap']):>7}  "
                         f"{_number(figures['generated_mean']):>9}  "
                         f"{_number(figures['reference_mean']):>9}")
        else:
            lines.append(f"{label:<{width}}  {_number(figures['overlap']):>7}")
            lines.append(f"  generated %: {_shares(figures['generated_mean'])}")
            lines.append(f"  reference %: {_shares(figures['reference_mean'])}")
    lines.append("")
    lines.append(f"mean overlap: {_number(result['mean_overlap'])}")
    share = result["degenerate_share"]
    lines.append(
        f"degenerate windows: generated {100 * share['generated']:.1f}% "
        f"({round(share['generated'] * len(generated))} of {len(generated)}), reference "
        f"{100 * share['reference']:.1f}% "
        f"({round(share['reference'] * len(reference))} of {len(reference)})")
    return lines
