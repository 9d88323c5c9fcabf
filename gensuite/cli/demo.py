"""``gensuite demo``: the main job end to end, on shipped data and checkpoints."""

from __future__ import annotations


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="a tour of every model on corpus tunes, written to one index.html",
        description="Export two tunes from the music21 corpus (a Bach chorale and an Essen "
                    "folk song), ingest them and draw their piano rolls; sample melodies "
                    "from mel_2bar, turn the chorale's soprano into the folk tune with "
                    "mel_2bar, sample 16-bar melodies from mel_16bar, continue a primer "
                    "with attention_rnn, render each result to WAV through GANSynth and "
                    "the soundfont, and write an index.html, styled like gensuite studio, "
                    "that plays, draws and links it all (it works opened from disk). Stages whose checkpoint or renderer is missing are "
                    "skipped and listed.")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (created), holding index.html")
    parser.set_defaults(func=run)


def run(args) -> None:
    from gensuite.demo import run_demo

    index = run_demo(out_dir=args.out, progress=True)
    print(f"demo written; open {index}")
