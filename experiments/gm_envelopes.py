"""Each General MIDI program's level over a held note: the render's envelope table.

    python experiments/gm_envelopes.py [--out gensuite/audio/gm_envelopes.npz] [--leave-out fluidr3]

Every program plays MIDI 36-84 in steps of 6 at velocity 100 the NSynth way
(held 3 s) in FluidR3_GM, MuseScore General (Lite) and TimGM6mb. A note's
curve is its RMS level in dB over 10-ms frames, averaged (as energy) over the
frames within 10 % of each of 16 times from 0 to 2.9 s; the table holds the
median over the three soundfonts (:mod:`gensuite.audio.gm_envelopes`).
``--leave-out fluidr3`` builds it from the other two, to check that a render's
agreement with the FluidR3 render does not come from FluidR3's own levels.
"""

import argparse

import numpy as np

from gensuite.audio.gm_envelopes import FRAME_S, TABLE_PATH, frame_levels_db
from gensuite.audio.soundfont import SoundfontRenderer

RATE = 16000
SOUNDFONTS = {"fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
              "musescore": "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
              "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2"}
PITCHES = np.arange(36, 85, 6)
TIMES_S = np.array([0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0,
                    1.4, 2.0, 2.9])


def curve_db(wave: np.ndarray) -> np.ndarray:
    """The level at each of :data:`TIMES_S`, dB, shape (16,)."""
    levels = frame_levels_db(wave, sample_rate=RATE)
    centres_s = (np.arange(len(levels)) + 0.5) * FRAME_S
    curve = []
    for t in TIMES_S:
        near = np.abs(centres_s - t) <= max(0.1 * t, FRAME_S / 2) + 1e-9
        curve.append(10 * np.log10(np.mean(10 ** (levels[near] / 10))))
    return np.array(curve)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=TABLE_PATH)
    parser.add_argument("--leave-out", choices=sorted(SOUNDFONTS))
    args = parser.parse_args()
    paths = [path for name, path in SOUNDFONTS.items() if name != args.leave_out]
    curves = np.zeros((len(paths), 128, len(PITCHES), len(TIMES_S)))
    for s, path in enumerate(paths):
        with SoundfontRenderer(path, sample_rate=RATE) as renderer:
            for program in range(128):
                for p, pitch in enumerate(PITCHES):
                    curves[s, program, p] = curve_db(renderer.render_note(
                        program=program, pitch=int(pitch), velocity=100))
    np.savez_compressed(args.out, levels_db=np.median(curves, axis=0).astype(np.float16),
                        pitches=PITCHES.astype(np.int16), times_s=TIMES_S.astype(np.float32))


if __name__ == "__main__":
    main()
