"""The two spectrogram PNGs of a GANSynth model card: an arpeggio over the range per latent.

    python experiments/gansynth_card_pngs.py CHECKPOINT OUT_DIR

writes ``spectrogram_instrument_1.png`` and ``spectrogram_instrument_2.png``:
MIDI 36-84 in C-major steps, 1 s of each note, one instrument latent (seed 1,
then 2) for all of them.
"""

import sys

import numpy as np

from gensuite.audio.plots import plot_spectrogram
from gensuite.gansynth.model import GANSynth

PITCHES = np.array([36, 43, 48, 55, 60, 67, 72, 79, 84])


def main(checkpoint: str, out_dir: str) -> None:
    model = GANSynth.load(checkpoint)
    rate = model.config.sample_rate
    for seed in (1, 2):
        z = np.repeat(model.make_latents(1, seed=seed), len(PITCHES), axis=0)
        joined = np.concatenate([w[:rate] for w in model.generate(PITCHES, z)])
        path = f"{out_dir}/spectrogram_instrument_{seed}.png"
        plot_spectrogram(joined, sample_rate=rate, path=path,
                         title=f"instrument seed {seed}: MIDI {', '.join(map(str, PITCHES))} "
                               "(1 s each)")
        print(path)


if __name__ == "__main__":
    main(*sys.argv[1:3])
