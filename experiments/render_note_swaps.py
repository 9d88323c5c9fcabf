"""Which property of the generated notes holds a render's harmony down: swap in the real notes'.

    python experiments/render_note_swaps.py SONG.mid [--checkpoint C] [--seed S]

Renders SONG.mid (drums skipped) with ``gensuite render``'s mixing, the
program level curves turned off, and each distinct note replaced by a mix of
the generated note and the FluidR3_GM note of its program and pitch
(velocity 100, the NSynth way):

* ``generated``, ``real``: either note as it is;
* ``real_at_generated_loudness``, ``generated_at_real_loudness``: one note
  scaled to the other's RMS over the whole note;
* ``generated_under_real_curve``, ``real_under_generated_curve``: one note's
  gain per 10-ms frame set so its level follows the other's (within +20 dB).

Prints the chromagram correlation of each render with the FluidR3 render,
one JSON object (the figures of docs/decisions.md, "Each note plays its
program's level curve").
"""

import argparse
import json

import numpy as np

import gensuite.render as render
from gensuite.audio.envelopes import frame_levels_db
from gensuite.audio.pitch import chromagram_correlation
from gensuite.audio.soundfont import SoundfontRenderer

RATE = 16000
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
FRAME = RATE // 100


def follow(wave: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """``wave`` with its 10-ms levels set to ``guide``'s (gain at most +20 dB)."""
    gain_db = np.clip(frame_levels_db(guide, sample_rate=RATE)
                      - frame_levels_db(wave, sample_rate=RATE), -120, 20)
    gain = np.repeat(10 ** (gain_db / 20), FRAME)
    return wave * np.concatenate([gain, np.full(len(wave) - len(gain), gain[-1])])


def rms(wave: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(wave))))


SWAPS = {
    "generated": lambda g, r: g,
    "real": lambda g, r: r,
    "real_at_generated_loudness": lambda g, r: r * rms(g) / rms(r),
    "generated_at_real_loudness": lambda g, r: g * rms(r) / rms(g),
    "generated_under_real_curve": lambda g, r: follow(g, r),
    "real_under_generated_curve": lambda g, r: follow(r, g),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("midi")
    parser.add_argument("--checkpoint", default="gansynth_instruments")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    reference, _ = render.render_midi(args.midi, synth="soundfont", soundfont=FLUIDR3,
                                      drums="skip", sample_rate=RATE)
    import gensuite.audio.envelopes as curves

    curves.shape_to_envelope = lambda wave, **kwargs: wave
    generate = render.NoteSource.waves
    real_notes = {}
    swap = {}

    def swapped(self, pitches, latents):
        model = self.load_model()
        size = model.config.latent_size
        out = []
        with SoundfontRenderer(FLUIDR3, sample_rate=RATE) as soundfont:
            for pitch, z, made in zip(pitches, latents, generate(self, pitches, latents)):
                program = model.instruments[int(np.argmax(z[size:]))]["program"]
                if (program, pitch) not in real_notes:
                    real_notes[program, pitch] = soundfont.render_note(
                        program=program, pitch=int(pitch), velocity=100)[:len(made)]
                out.append(swap["fn"](made, real_notes[program, pitch]).astype(np.float32))
        return out

    render.NoteSource.waves = swapped
    figures = {}
    for name, fn in SWAPS.items():
        swap["fn"] = fn
        wave, _ = render.render_midi(args.midi, checkpoint=args.checkpoint, seed=args.seed,
                                     drums="skip", sample_rate=RATE)
        figures[name] = round(chromagram_correlation(wave, reference, sample_rate=RATE), 3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
