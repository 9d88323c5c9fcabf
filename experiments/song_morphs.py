"""Whole-song morphs over many pairs of a folder's songs: how well each end reproduces its song.

The figures behind the mel_16bar card's interpolation paragraph: the folder's
MIDI files, sorted by path, are paired in turn (1st with 2nd, 3rd with 4th,
...), each pair morphed as ``gensuite vae interpolate A B`` does (song mode,
as many bars as the shorter melody has), and the per-step accuracy of the
first 2 bars against A and of the last 2 bars against B summarised as one
JSON object. Pairs whose melodies are too short are left out and counted.

Usage::

    python experiments/song_morphs.py --checkpoint mel_16bar --folder DIR \\
        [--temperature 0.5] [--seed 0]
"""

from __future__ import annotations

import argparse
import glob
import json
import os

import numpy as np

from gensuite.common.errors import GensuiteError
from gensuite.midi.io import read_midi
from gensuite.music_vae import interpolation
from gensuite.music_vae.melody_models import load_model, read_checkpoint, song_lines, song_morph_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--folder", required=True, help="folder of songs, searched recursively")
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    info, spec = read_checkpoint(args.checkpoint)
    spec = song_morph_spec(info, spec)
    model = load_model(info)
    model = getattr(model, "bottom", model)
    files = sorted(glob.glob(os.path.join(args.folder, "**", "*.mid"), recursive=True))
    openings, endings, skipped = [], [], 0
    for a, b in zip(files[0::2], files[1::2]):
        try:
            lines, n_segments = song_lines(spec, [read_midi(a), read_midi(b)], names=(a, b))
        except GensuiteError:
            skipped += 1
            continue
        result = interpolation.interpolate_songs(
            model, spec.converter, *lines, n_segments=n_segments,
            temperature=args.temperature, seed=args.seed)
        openings.append(result.opening_accuracy)
        endings.append(result.ending_accuracy)
    ends = np.array(openings + endings)
    print(json.dumps({
        "checkpoint": args.checkpoint, "pairs": len(openings), "pairs_skipped": skipped,
        "opening_mean": round(float(np.mean(openings)), 3),
        "ending_mean": round(float(np.mean(endings)), 3),
        "both_ends_mean": round(float(ends.mean()), 3),
        "opening_median": round(float(np.median(openings)), 3),
        "ending_median": round(float(np.median(endings)), 3),
        "share_of_ends_at_least_0.85": round(float(np.mean(ends >= 0.85)), 3)}))


if __name__ == "__main__":
    main()
