#!/usr/bin/env python
"""Make MusicVAE lean to one artist: personalise it in seconds, or fine-tune it for minutes.

What it shows: the "personal model" workflow two ways. J.S. Bach's chorales are
exported from music21's bundled corpus as MIDI files; the shipped melody model
`mel_2bar` is (1) personalised with MidiMe, a small VAE over its latent vectors of
the chorales' soprano lines, and (2) fine-tuned on the same lines; four two-bar
melodies are sampled from each (the same seed gives the same files).

Commands it runs (DIR is --out):
    gensuite corpus export bach-chorales --out DIR/bach [--limit 4]
    gensuite vae personalize --checkpoint mel_2bar --midi-dir DIR/bach \
        --out DIR/personal [--num-steps 200]
    gensuite vae sample --checkpoint DIR/personal --num-outputs 4 --seed 1 \
        --out DIR/personal_samples
    gensuite vae train --config cpu-mel_2bar --midi-dir DIR/bach --run-dir DIR/run \
        --init-from mel_2bar --top-track --any-meter --any-program --num-steps 18500
    gensuite vae sample --checkpoint DIR/run/export --num-outputs 4 --seed 1 \
        --out DIR/samples

mel_2bar was trained to step 17,500 and its schedules continue from there, so
--num-steps 18500 means 1,000 fine-tuning steps (how the shipped `bach_mel_2bar`
was made). `--top-track` reads each chorale's highest part, the soprano, as
mel_2bar reads every score; `personalize` takes the model's own reading. On 35
unseen chorales both lift the samples' overlap with the real sopranos from 0.74
to 0.86 (mel_2bar card); personalising took 12.6 s, fine-tuning 291 s, on idle
cores. Running the script again resumes the fine-tuning run instead of starting
over. The run caches the melodies it read, so use a new --out after changing
the set of chorales.

Usage: python examples/personal_vae.py [--quick] [--out DIR]
"""
import argparse
import glob
import os
import subprocess
import sys

import pretty_midi

MEL_2BAR_STEP = 17_500  # where the shipped model's training stopped


def gensuite(*args):
    """Run one `gensuite` command, as a user would type it; stop if it fails."""
    print("\n$ gensuite " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "gensuite", *args], check=True)


def main():
    parser = argparse.ArgumentParser(description="Personalise and fine-tune mel_2bar on Bach.")
    parser.add_argument("--quick", action="store_true", help="tiny settings, for CI")
    parser.add_argument("--out", help="output folder (default examples_out/personal_vae)")
    args = parser.parse_args()
    out = args.out or os.path.join("examples_out", "personal_vae" + "-quick" * args.quick)
    midi_dir, run_dir = os.path.join(out, "bach"), os.path.join(out, "run")
    samples_dir = os.path.join(out, "samples")
    limit = ["--limit", "4"] if args.quick else []
    fine_tune_steps = 20 if args.quick else 1000

    personal_dir = os.path.join(out, "personal")
    personal_samples = os.path.join(out, "personal_samples")
    midime_steps = ["--num-steps", "200"] if args.quick else []

    gensuite("corpus", "export", "bach-chorales", "--out", midi_dir, *limit)
    gensuite("vae", "personalize", "--checkpoint", "mel_2bar", "--midi-dir", midi_dir,
             "--out", personal_dir, *midime_steps)
    gensuite("vae", "sample", "--checkpoint", personal_dir, "--num-outputs", "4",
             "--seed", "1", "--out", personal_samples)
    gensuite("vae", "train", "--config", "cpu-mel_2bar", "--midi-dir", midi_dir,
             "--run-dir", run_dir, "--init-from", "mel_2bar", "--top-track",
             "--any-meter", "--any-program",
             "--num-steps", str(MEL_2BAR_STEP + fine_tune_steps))
    gensuite("vae", "sample", "--checkpoint", os.path.join(run_dir, "export"),
             "--num-outputs", "4", "--seed", "1", "--out", samples_dir)

    print(f"\nPersonalised model: {personal_dir}; fine-tuned model: "
          f"{os.path.join(run_dir, 'export')}")
    for label, folder in (("personalised", personal_samples), ("fine-tuned", samples_dir)):
        show_samples(label, folder)


def show_samples(label, folder):
    print(f"Samples of the {label} model ({folder}):")
    for path in sorted(glob.glob(os.path.join(folder, "*.mid"))):
        midi = pretty_midi.PrettyMIDI(path)
        pitches = [note.pitch for track in midi.instruments for note in track.notes]
        names = " ".join(pretty_midi.note_number_to_name(p) for p in pitches[:8])
        print(f"  {os.path.basename(path)}: {len(pitches)} notes in "
              f"{midi.get_end_time():.1f} s, {names}{' ...' * (len(pitches) > 8)}")


if __name__ == "__main__":
    main()
