#!/usr/bin/env python
"""Interpolate between two songs with the shipped MusicVAE models.

What it shows: morphing a Bach chorale's tune into an Essen folk song. Both
come from music21's bundled corpus; `gensuite vae interpolate` picks a melody
window of each song, encodes both, and decodes the steps in between, with the
2-bar model `mel_2bar` and with the hierarchical 16-bar model `mel_16bar`. For
each model it writes one MIDI per step, the whole A -> B path joined in one
MIDI (interpolate_all.mid), the two input windows and a piano roll
(interpolate.png).

Commands it runs (DIR is --out):
    gensuite corpus export bach-chorales --out DIR/songs/bach --limit 1
    gensuite corpus export essen --out DIR/songs/essen --limit 1
    (pretty_midi writes the chorale's soprano alone: A.mid = DIR/songs/chorale_soprano.mid)
    gensuite vae interpolate --checkpoint mel_2bar A.mid B.mid --num-outputs 7 \
        --out DIR/mel_2bar
    gensuite vae interpolate --checkpoint mel_16bar A.mid B.mid --num-outputs 7 \
        --out DIR/mel_16bar

Time on 2 cores (measured with `time`, other jobs sharing the cores):
full (7 steps) 36 s; --quick (3 steps) 33 s. Nearly all of it is starting
each command (about 8 s apiece).

Usage: python examples/interpolate_songs.py [--quick] [--out DIR]
"""
import argparse
import glob
import os
import subprocess
import sys

import pretty_midi


def gensuite(*args):
    """Run one `gensuite` command, as a user would type it; stop if it fails."""
    print("\n$ gensuite " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "gensuite", *args], check=True)


def export_first_piece(collection, folder):
    """Export the first piece of a corpus collection; return its MIDI path."""
    gensuite("corpus", "export", collection, "--out", folder, "--limit", "1")
    return min(glob.glob(os.path.join(folder, "*.mid")))


def soprano_line(chorale, path):
    """Write the chorale's tune (its soprano part) alone to path; return path.

    Given the whole chorale, `gensuite vae interpolate --num-outputs` takes the
    busiest voice at the start (the tenor of BWV 269), not the tune.
    """
    midi = pretty_midi.PrettyMIDI(chorale)
    midi.instruments = [track for track in midi.instruments if track.name == "Soprano"]
    midi.write(path)
    return path


def describe(path):
    """'N notes, S s' for a MIDI file."""
    midi = pretty_midi.PrettyMIDI(path)
    notes = sum(len(track.notes) for track in midi.instruments)
    return f"{notes} notes, {midi.get_end_time():.1f} s"


def main():
    parser = argparse.ArgumentParser(description="Interpolate a chorale into a folk song.")
    parser.add_argument("--quick", action="store_true", help="tiny settings, for CI")
    parser.add_argument("--out", help="output folder (default examples_out/interpolate_songs)")
    args = parser.parse_args()
    out = args.out or os.path.join("examples_out", "interpolate_songs" + "-quick" * args.quick)
    steps = "3" if args.quick else "7"

    songs = os.path.join(out, "songs")
    chorale = export_first_piece("bach-chorales", os.path.join(songs, "bach"))
    song_a = soprano_line(chorale, os.path.join(songs, "chorale_soprano.mid"))
    song_b = export_first_piece("essen", os.path.join(songs, "essen"))
    for model in ("mel_2bar", "mel_16bar"):
        gensuite("vae", "interpolate", "--checkpoint", model, song_a, song_b, "--mode", "steps",
                 "--num-outputs", steps, "--out", os.path.join(out, model))

    print(f"\nA: {song_a}, soprano of {chorale} ({describe(song_a)})")
    print(f"B: {song_b} ({describe(song_b)})")
    for model in ("mel_2bar", "mel_16bar"):
        folder = os.path.join(out, model)
        print(f"{model}:")
        for path in sorted(glob.glob(os.path.join(folder, "interpolate_*.mid"))):
            print(f"  {path}: {describe(path)}")
        print(f"  {os.path.join(folder, 'interpolate.png')}: piano roll of A -> B")


if __name__ == "__main__":
    main()
