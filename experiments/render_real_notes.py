"""The render pipeline's own ceiling: real soundfont notes in place of generated ones.

    python experiments/render_real_notes.py SONG.mid NSYNTH_DIR [--checkpoint C]

Renders SONG.mid (drums skipped) with ``gensuite render``'s mixing (envelope,
velocity, normalisation) but with each note taken from NSYNTH_DIR (notes of
one soundfont, from ``gensuite data nsynth``): the velocity-100 note of the
track's program and the note's pitch. Prints the chromagram correlation with
the FluidR3_GM render. The gansynth_instruments card's 0.927 is this script on
the render benchmark's song with the FluidR3 notes of its four programs.
"""

import argparse

import numpy as np

import gensuite.render as render
from gensuite.audio.nsynth import read_nsynth
from gensuite.audio.pitch import chromagram_correlation
from gensuite.gansynth.timbres import draw_timbres
from gensuite.midi.io import read_midi

RATE = 16000
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("midi")
    parser.add_argument("nsynth_dir")
    parser.add_argument("--checkpoint", default="gansynth_gm",
                        help="an unconditioned model: only its latents' layout is used")
    args = parser.parse_args()
    notes = read_nsynth(args.nsynth_dir)
    tracks = {n.instrument: n.program for n in read_midi(args.midi).notes if not n.is_drum}
    # Seed 0 gives track t the latent of seed t (render.assign_latents).
    size = render.read_note_spec(args.checkpoint)[0].latent_size
    program_of = {draw_timbres(1, latent_size=size, seed=t)[0].tobytes(): p
                  for t, p in tracks.items()}

    def real_waves(self, pitches, latents):
        waves = []
        for pitch, z in zip(pitches, latents):
            program = program_of[np.asarray(z, np.float32).tobytes()]
            pick = np.flatnonzero((notes.instrument % 128 == program) & (notes.pitch == pitch)
                                  & (notes.velocity == 100))
            waves.append(notes.audio[pick[0]] if len(pick) else np.zeros(notes.audio.shape[1],
                                                                          np.float32))
        return waves

    reference, _ = render.render_midi(args.midi, synth="soundfont", drums="skip",
                                      soundfont=FLUIDR3, sample_rate=RATE)
    render.NoteSource.waves = real_waves
    wave, _ = render.render_midi(args.midi, checkpoint=args.checkpoint, drums="skip",
                                 sample_rate=RATE)
    print(round(chromagram_correlation(wave, reference, sample_rate=RATE), 3))


if __name__ == "__main__":
    main()
