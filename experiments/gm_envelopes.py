"""Each General MIDI program's level over a held note and its release: the render's table.

    python experiments/gm_envelopes.py [--out gensuite/audio/gm_envelopes.npz] [--leave-out fluidr3]

Every program plays MIDI 36-84 in steps of 6 at velocity 100 the NSynth way
(held 3 s, recorded 4 s) in FluidR3_GM, MuseScore General (Lite) and
TimGM6mb, and from each note's RMS level over 10-ms frames:

* its curve: the level averaged (as energy) over the frames within 10 % of
  each of 16 times from 0 to 2.9 s;
* at MIDI 48, 60 and 72, its release: how long after the note-off its level
  takes to fall 20 dB below its level just before (NaN if it never does).

The table holds the medians over the soundfonts (and, for the release, the
three pitches): :mod:`gensuite.audio.envelopes`. ``--leave-out fluidr3``
builds it from the other two, to check that a render's agreement with the
FluidR3 render does not come from FluidR3's own levels.
"""

import argparse

import numpy as np

from gensuite.audio.envelopes import FRAME_S, TABLE_PATH, frame_power
from gensuite.audio.soundfont import NSYNTH_NOTE_S, SoundfontRenderer

RATE = 16000
SOUNDFONTS = {"fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
              "musescore": "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
              "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2"}
PITCHES = np.arange(36, 85, 6)
RELEASE_PITCHES = (48, 60, 72)
TIMES_S = np.array([0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0,
                    1.4, 2.0, 2.9])


def curve_db(levels_db: np.ndarray) -> np.ndarray:
    """The level at each of :data:`TIMES_S`, dB, shape (16,), from 10-ms frame levels."""
    centres_s = (np.arange(len(levels_db)) + 0.5) * FRAME_S
    curve = []
    for t in TIMES_S:
        near = np.abs(centres_s - t) <= max(0.1 * t, FRAME_S / 2) + 1e-9
        curve.append(10 * np.log10(np.mean(10 ** (levels_db[near] / 10))))
    return np.array(curve)


def release_20db_s(power: np.ndarray) -> float:
    """Seconds after the note-off until the level is 20 dB below its level before it; NaN if never.

    From 10-ms frame powers, in dB of the RMS with a floor at -240 dB: the
    tails of notes that have died away before the note-off (a marimba's)
    still fall below -120 dB, and the table was measured so.
    """
    levels_db = 20 * np.log10(np.sqrt(power) + 1e-12)
    off = int(round(NSYNTH_NOTE_S / FRAME_S))
    below = np.nonzero(levels_db[off:] < levels_db[off - 5:off].mean() - 20)[0]
    return below[0] * FRAME_S if len(below) else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=TABLE_PATH)
    parser.add_argument("--leave-out", choices=sorted(SOUNDFONTS))
    args = parser.parse_args()
    paths = [path for name, path in SOUNDFONTS.items() if name != args.leave_out]
    curves = np.zeros((len(paths), 128, len(PITCHES), len(TIMES_S)))
    releases = np.zeros((len(paths), 128, len(RELEASE_PITCHES)))
    for s, path in enumerate(paths):
        with SoundfontRenderer(path, sample_rate=RATE) as renderer:
            for program in range(128):
                for p, pitch in enumerate(PITCHES):
                    power = frame_power(renderer.render_note(
                        program=program, pitch=int(pitch), velocity=100), sample_rate=RATE)
                    curves[s, program, p] = curve_db(10 * np.log10(power + 1e-12))
                    if pitch in RELEASE_PITCHES:
                        releases[s, program, RELEASE_PITCHES.index(pitch)] = release_20db_s(power)
    releases = releases.transpose(1, 0, 2).reshape(128, -1)
    died = np.isnan(releases).all(axis=1)  # no release: NaN, without nanmedian's warning
    release_table = np.full(128, np.nan)
    release_table[~died] = np.round(np.nanmedian(releases[~died], axis=1), 2)
    np.savez_compressed(args.out, levels_db=np.median(curves, axis=0).astype(np.float16),
                        pitches=PITCHES.astype(np.int16), times_s=TIMES_S.astype(np.float32),
                        release_20db_s=release_table.astype(np.float32))


if __name__ == "__main__":
    main()
