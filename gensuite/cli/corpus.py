"""``gensuite corpus``: music21's bundled corpus as MIDI files.

``list`` prints every collection with its piece count; ``export NAME --out DIR``
writes one MIDI file per piece (see :mod:`gensuite.midi.corpus` for the file names
and the General MIDI programs chosen).
"""

from __future__ import annotations

import argparse
import sys

from gensuite.cli._args import check_output_file, positive_int

# How many failed pieces to list on stderr before summarising the rest.
MAX_FAILED_SHOWN = 10


def add_parser(subparsers) -> None:
    """Add the ``corpus`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "corpus", help="export music21's corpus (Bach chorales, Essen, ...) as MIDI",
        description="List the collections of music21's bundled corpus and export one as "
                    "MIDI files, one per piece.")
    group = parser.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND", required=True)

    lister = group.add_parser(
        "list", help="list the collections and their piece counts",
        description="Print each collection's name, piece count and a description. "
                    "Counts come from file listings, not from parsing.")
    lister.set_defaults(func=run_list)

    export = group.add_parser(
        "export", help="write one MIDI file per piece of a collection",
        description="Convert every piece of a music21 corpus collection to a MIDI file "
                    "in DIR, in parallel. Each part keeps its own track, channel and a "
                    "General MIDI program; tempo and time signatures are kept. Files are "
                    "named bwv269.mid, <abc file>_<X number>_<title>.mid or <score path>.mid. "
                    "Pieces already in DIR are skipped; pieces that fail are reported and "
                    "never stop the export.")
    export.add_argument("name", metavar="NAME",
                        help="collection, e.g. bach-chorales, essen, ryans-mammoth, oneills "
                             "(see 'gensuite corpus list')")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    export.add_argument("--limit", type=positive_int, metavar="N",
                        help="export only the first N pieces (Riemenschneider order; ABC: by file, then X: number)")
    export.add_argument("--workers", type=positive_int, metavar="N",
                        help="parallel processes (default: every core)")
    export.add_argument("--report", metavar="FILE.json",
                        help="write counts, seconds and every failure with its reason as JSON")
    export.add_argument("--programs", choices=("gm", "piano"), default="gm",
                        help="gm: a General MIDI program per part from its name and the "
                             "collection (voices -> choir 52, fiddle tunes -> violin 40, ...); "
                             "piano: program 0 everywhere")
    export.add_argument("--overwrite", action="store_true",
                        help="convert pieces whose MIDI file already exists")
    export.set_defaults(func=run_export)


def run_list(args: argparse.Namespace) -> int:
    """Handler of ``gensuite corpus list``."""
    from gensuite.midi.corpus import COLLECTIONS, list_collections

    counts = list_collections()
    width = max((len(name) for name in counts), default=0)
    for name, n_pieces in counts.items():
        print(f"{name:<{width}}  {n_pieces:>5}  {COLLECTIONS[name].description}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``gensuite corpus export``."""
    from gensuite.midi.corpus import export_collection

    # Checked before the export, which writes the report only at its end.
    check_output_file(args.report, flag="--report")
    report = export_collection(
        args.name, out_dir=args.out, limit=args.limit, num_workers=args.workers,
        progress=True, policy=args.programs, overwrite=args.overwrite,
        report_path=args.report)
    for failure in report.failed[:MAX_FAILED_SHOWN]:
        print(f"failed: {failure['piece']}: {failure['reason']}", file=sys.stderr)
    if report.n_failed > MAX_FAILED_SHOWN:
        print(f"... and {report.n_failed - MAX_FAILED_SHOWN} more failures"
              + (f" (see {args.report})" if args.report else ""), file=sys.stderr)
    print(f"{report.collection}: exported {report.exported}, skipped "
          f"{report.skipped_existing} already there, failed {report.n_failed} "
          f"of {report.n_pieces} pieces in {report.seconds:.1f} s -> {report.out_dir}"
          + (f" (report: {args.report})" if args.report else ""))
    # Exit 1 when nothing usable came out of a run that had work to do.
    if report.exported == 0 and report.skipped_existing == 0 and report.n_failed:
        return 1
    return 0
