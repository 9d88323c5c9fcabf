#!/usr/bin/env python
"""Render one MIDI file through GANSynth timbres and through a soundfont.

What it shows: `gensuite render` plays every note of a multi-track MIDI file
(here a four-part Bach chorale from music21's corpus) either with the shipped
GANSynth model `gansynth_instruments`, which plays each track on the row of
its General MIDI program (--seed varies the timbre within it), or with a
General MIDI soundfont through FluidSynth. It then
measures each WAV (duration, RMS level, peak) with soundfile and numpy, so the
renderings can be compared side by side.

Soundfont rendering needs the system FluidSynth library (`apt install
libfluidsynth3`); without it the script says so and renders only GANSynth.

Commands it runs (DIR is --out):
    gensuite corpus export bach-chorales --out DIR/midi --limit 1
    gensuite render DIR/midi/bwv269.mid --out DIR/gansynth_seed1.wav --synth gansynth --seed 1
    (full: also --seed 2 and --seed 3, three sets of timbres)
    gensuite render DIR/midi/bwv269.mid --out DIR/soundfont.wav --synth soundfont

Time on 2 cores (measured with `time`, other jobs sharing the cores):
full (3 GANSynth seeds) 50 s; --quick (1 seed) 35 s.

Usage: python examples/render_timbres.py [--quick] [--out DIR]
"""
import argparse
import glob
import os
import subprocess
import sys

import numpy as np
import soundfile

from gensuite.audio.soundfont import fluidsynth_available


def gensuite(*args):
    """Run one `gensuite` command, as a user would type it; stop if it fails."""
    print("\n$ gensuite " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "gensuite", *args], check=True)


def main():
    parser = argparse.ArgumentParser(description="Render a chorale with GANSynth and a soundfont.")
    parser.add_argument("--quick", action="store_true", help="tiny settings, for CI")
    parser.add_argument("--out", help="output folder (default examples_out/render_timbres)")
    args = parser.parse_args()
    out = args.out or os.path.join("examples_out", "render_timbres" + "-quick" * args.quick)
    seeds = [1] if args.quick else [1, 2, 3]

    midi_dir = os.path.join(out, "midi")
    gensuite("corpus", "export", "bach-chorales", "--out", midi_dir, "--limit", "1")
    midi_file = min(glob.glob(os.path.join(midi_dir, "*.mid")))
    wavs = []
    for seed in seeds:
        wavs.append(os.path.join(out, f"gansynth_seed{seed}.wav"))
        gensuite("render", midi_file, "--out", wavs[-1], "--synth", "gansynth",
                 "--seed", str(seed))
    if fluidsynth_available():
        wavs.append(os.path.join(out, "soundfont.wav"))
        gensuite("render", midi_file, "--out", wavs[-1], "--synth", "soundfont")
    else:
        print("\nFluidSynth is not installed (apt install libfluidsynth3): "
              "skipping the soundfont rendering.")

    print(f"\nRenderings of {midi_file}:")
    for path in wavs:
        audio, rate = soundfile.read(path)
        rms = np.sqrt(np.mean(audio ** 2))
        print(f"  {path}: {len(audio) / rate:.1f} s at {rate} Hz, RMS {rms:.3f} "
              f"({20 * np.log10(rms + 1e-12):.1f} dBFS), peak {np.max(np.abs(audio)):.2f}")


if __name__ == "__main__":
    main()
