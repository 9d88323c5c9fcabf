"""Join collection folders into one training folder without their held-out files.

    python experiments/split_collections.py --out DIR [--eval-fraction 0.1] COLLECTION_DIR [...]

Each collection's MIDI files are hard-linked into ``DIR/<collection folder
name>/``, except the files that ``gensuite rnn evaluate --midi-dir
COLLECTION_DIR --split eval`` scores (the split hashes each file's path within
its own collection's folder). A model trained on DIR has therefore never seen
any collection's held-out files, and a collection's held-out figure is one
``rnn evaluate`` command. Prints the training / held-out file counts as JSON.
The attention_rnn card's wide data was built with it.
"""

from __future__ import annotations

import argparse
import json
import os

from gensuite.melody_rnn.data import is_eval_sequence

MIDI_SUFFIXES = (".mid", ".midi")


def link_training_files(collection_dir: str, out_dir: str, *,
                        eval_fraction: float) -> dict[str, int]:
    """Hard-link the training files of one collection; return its file counts."""
    counts = {"train": 0, "held_out": 0}
    for folder, _, names in os.walk(collection_dir):
        for name in sorted(names):
            if not name.lower().endswith(MIDI_SUFFIXES):
                continue
            source = os.path.join(folder, name)
            relative = os.path.relpath(source, collection_dir)
            if is_eval_sequence(relative, eval_ratio=eval_fraction):
                counts["held_out"] += 1
                continue
            counts["train"] += 1
            target = os.path.join(out_dir, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.exists(target):
                os.link(source, target)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("collections", nargs="+", metavar="COLLECTION_DIR")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--eval-fraction", type=float, default=0.1)
    args = parser.parse_args()
    counts = {}
    for collection_dir in args.collections:
        name = os.path.basename(os.path.normpath(collection_dir))
        counts[name] = link_training_files(collection_dir, os.path.join(args.out, name),
                                           eval_fraction=args.eval_fraction)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
