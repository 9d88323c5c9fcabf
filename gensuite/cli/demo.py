"""``gensuite demo``: the main job end to end, on shipped data and checkpoints."""

from __future__ import annotations


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the main job on shipped data and checkpoints",
        description="Export two example tunes from the music21 corpus, ingest them "
                    "into a NoteSequence TFRecord, and write a summary and a "
                    "piano-roll PNG of each, then an index.html to look at them.")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.set_defaults(func=run)


def run(args) -> None:
    from gensuite.demo import run_demo

    index = run_demo(out_dir=args.out, progress=True)
    print(f"demo written; open {index}")
