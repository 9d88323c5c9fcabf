#!/usr/bin/env python
"""Classify the instruments of audio tracks and search for similar tracks.

What it shows: the audio analysis layer on a small collection of your own. A
few pieces of three corpus collections (O'Neill's fiddle tunes -> violin,
Aird's Airs -> flute, Bach chorales -> choir) are rendered to WAV with the
soundfont (with GANSynth where FluidSynth is missing). The shipped classifier
`instrument_cnn` reports what each track is made of; it knows piano, guitars,
synthesizer, strings, flute, organ and brass, so the fiddle tunes come out as
strings, the airs as flute and the choir as its nearest class, strings (about
95%). Then every track is embedded into a search index, and the three tracks
nearest to a query track are listed by cosine similarity: in the full run each
query's neighbours are the other pieces of its own collection.

Commands it runs (DIR is --out):
    gensuite corpus export oneills --out DIR/midi/oneills --limit 4   (and the other two)
    gensuite render DIR/midi/oneills/X.mid --out DIR/audio/oneills/X.wav --synth soundfont
    gensuite analyze classify DIR/audio/oneills/X.wav --checkpoint instrument_cnn --json
    gensuite analyze index DIR/audio --out DIR/index.npz
    gensuite analyze similar DIR/audio/oneills/X.wav --index DIR/index.npz --top-k 3

Time on 2 cores (measured with `time`, other jobs sharing the cores):
full (3 collections x 4 pieces, every track classified, 3 queries) 4.5 min;
--quick (3 fiddle tunes, 1 track classified, 1 query) 65 s. Most of it is
starting each command (about 8 s apiece), not the work itself.

Usage: python examples/classify_and_search.py [--quick] [--out DIR]
"""
import argparse
import glob
import json
import os
import subprocess
import sys

from gensuite.audio.soundfont import fluidsynth_available

COLLECTIONS = ("oneills", "airds-airs", "bach-chorales")


def gensuite(*args, show=True):
    """Run one `gensuite` command, as a user would type it; stop if it fails.

    Returns what it printed (shown too, unless show=False), for this script to parse.
    """
    print("\n$ gensuite " + " ".join(args), flush=True)
    output = subprocess.run([sys.executable, "-m", "gensuite", *args], check=True,
                            stdout=subprocess.PIPE, text=True).stdout
    if show:
        print(output, end="", flush=True)
    return output


def main():
    parser = argparse.ArgumentParser(description="Classify tracks, then find similar ones.")
    parser.add_argument("--quick", action="store_true", help="tiny settings, for CI")
    parser.add_argument("--out", help="output folder (default examples_out/classify_and_search)")
    args = parser.parse_args()
    out = args.out or os.path.join("examples_out", "classify_and_search" + "-quick" * args.quick)
    collections = COLLECTIONS[:1] if args.quick else COLLECTIONS
    per_collection = 3 if args.quick else 4
    if fluidsynth_available():
        synth = ["--synth", "soundfont"]
    else:
        print("FluidSynth is not installed (apt install libfluidsynth3): "
              "rendering with GANSynth instead of the soundfont.")
        synth = ["--synth", "gansynth", "--seed", "1"]

    # 1. A small audio collection: a few pieces of each corpus collection as WAV.
    audio_dir = os.path.join(out, "audio")
    wavs = {}  # collection -> its WAV files
    for collection in collections:
        midi_dir = os.path.join(out, "midi", collection)
        gensuite("corpus", "export", collection, "--out", midi_dir, "--limit", str(per_collection))
        wavs[collection] = []
        for midi_file in sorted(glob.glob(os.path.join(midi_dir, "*.mid"))):
            name = os.path.basename(midi_file).replace(".mid", ".wav")
            wavs[collection].append(os.path.join(audio_dir, collection, name))
            gensuite("render", midi_file, "--out", wavs[collection][-1], *synth)
    queries = [files[0] for files in wavs.values()]  # the first track of each collection
    if args.quick:
        queries = queries[:1]

    # 2. What each track is made of (--quick: only the query track).
    to_classify = queries if args.quick else [wav for files in wavs.values() for wav in files]
    results = {wav: json.loads(gensuite("analyze", "classify", wav, "--checkpoint",
                                        "instrument_cnn", "--json", show=False))
               for wav in to_classify}
    with open(os.path.join(out, "classify.json"), "w") as f:
        json.dump(results, f, indent=1)

    # 3. Index every track, then list the tracks most like each query.
    index = os.path.join(out, "index.npz")
    gensuite("analyze", "index", audio_dir, "--out", index)
    answers = {query: gensuite("analyze", "similar", query, "--index", index, "--top-k", "3",
                               show=False)
               for query in queries}

    print(f"\nInstrument composition (all figures in {os.path.join(out, 'classify.json')}):")
    for wav, result in results.items():
        shares = sorted(result["composition"].items(), key=lambda item: -item[1])
        print(f"  {os.path.relpath(wav, audio_dir)}: "
              + ", ".join(f"{name} {share:.0%}" for name, share in shares if share >= 0.01))
    print(f"\nSimilar tracks (index {index}):")
    for query, answer in answers.items():
        print(f"  like {os.path.relpath(query, audio_dir)}:\n{answer}", end="")


if __name__ == "__main__":
    main()
