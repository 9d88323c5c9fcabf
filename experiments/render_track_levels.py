"""Each track's level in a GANSynth render against a soundfont's, and how its program's notes decay.

    python experiments/render_track_levels.py SONG.mid [--checkpoint C] [--seed S]

Per track (drums left out), one JSON object:

* ``level_db``: the RMS level of the track rendered alone, unnormalised, by
  ``gensuite render``'s mixing with the program level curves off
  (``generated``) and on (``with_curves``), and by FluidR3_GM and TimGM6mb;
* ``held_level_at_1s``: a held note at MIDI 60 of the track's program, the
  generator's (the row and z the render uses, started at its attack) and
  FluidR3's, its RMS over 0.95-1.05 s after the onset over its loudest 50 ms
  in the first 0.5 s (a real piano about 0.2, a flute about 1).
"""

import argparse
import copy
import json

import numpy as np

import gensuite.audio.envelopes as envelopes
import gensuite.audio.io as audio_io
import gensuite.render as render
from gensuite.audio.soundfont import SoundfontRenderer
from gensuite.gansynth.model import GANSynth
from gensuite.gansynth.timbres import instrument_for_program
from gensuite.midi.io import read_midi

RATE = 16000
SOUNDFONTS = {"fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
              "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2"}


def level_db(wave: np.ndarray) -> float:
    return round(float(10 * np.log10(np.mean(np.square(wave)) + 1e-12)), 1)


def held_level_at_1s(wave: np.ndarray) -> float:
    rms = np.sqrt(envelopes.frame_power(wave, sample_rate=RATE, frame_s=0.05))
    return round(float(rms[19:21].mean() / rms[:10].max()), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("midi")
    parser.add_argument("--checkpoint", default=render.DEFAULT_CHECKPOINT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # Levels between tracks need each render unnormalised.
    audio_io.peak_normalize = lambda wave, *a, **k: wave
    shape = envelopes.shape_to_envelope
    sequence = read_midi(args.midi)
    model = GANSynth.load(args.checkpoint)
    tracks = sorted({(n.instrument, n.program) for n in sequence.notes if not n.is_drum})
    figures = {}
    for instrument, program in tracks:
        track = copy.deepcopy(sequence)
        del track.notes[:]
        track.notes.extend(n for n in sequence.notes if n.instrument == instrument)
        levels = {}
        for name, shaping in (("generated", lambda wave, **kwargs: wave), ("with_curves", shape)):
            envelopes.shape_to_envelope = shaping
            wave, _ = render.render_midi(track, model=model, seed=args.seed, drums="skip",
                                         sample_rate=RATE)
            levels[name] = level_db(wave)
        envelopes.shape_to_envelope = shape
        for name, path in SOUNDFONTS.items():
            wave, _ = render.render_midi(track, synth="soundfont", soundfont=path, drums="skip",
                                         sample_rate=RATE)
            levels[name] = level_db(wave)
        row = [instrument_for_program(program, model.instruments)] if model.instruments else None
        z = model.make_latents(1, seed=args.seed, instruments=row)
        with SoundfontRenderer(SOUNDFONTS["fluidr3"], sample_rate=RATE) as soundfont:
            real = soundfont.render_note(program=program, pitch=60, velocity=100)
        figures[f"track {instrument}, program {program}"] = {
            "level_db": levels,
            "held_level_at_1s": {"generated": held_level_at_1s(model.generate([60], z)[0]),
                                 "fluidr3": held_level_at_1s(real)}}
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
