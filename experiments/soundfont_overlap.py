"""Which General MIDI programs two soundfonts share samples for.

A leave-one-soundfont-out figure measures unseen timbres only where the
held-out soundfont's samples differ from the training soundfonts'.
MuseScore_General is built from FluidR3, so many of its programs play the same
samples. For each program of the instrument classes, one phrase (six notes,
0.45 s each, velocity 80; flutes an octave up) is rendered with every
soundfont, and each pair of renders is compared by waveform correlation: near
1 means the same samples (the same recording, not just a similar instrument;
two recordings of one instrument correlate near 0 sample by sample).

Usage::

    python experiments/soundfont_overlap.py [SF2 ...] [--threshold 0.8]

Default soundfonts: FluidR3_GM, MuseScore_General_Lite, TimGM6mb (the three
of ``/work/data/instruments3``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os

import numpy as np

DEFAULT_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",
                      "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
                      "/usr/share/sounds/sf2/TimGM6mb.sf2")
PHRASE = (60, 64, 67, 72, 55, 62)
FLUTES = (72, 73, 74, 75)  # an octave up: their range starts at 60


def phrase(program: int):
    import note_seq

    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    shift = 12 if program in FLUTES else 0
    for i, pitch in enumerate(PHRASE):
        sequence.notes.add(pitch=pitch + shift, start_time=0.5 * i, end_time=0.5 * i + 0.45,
                           velocity=80, program=program)
    sequence.total_time = 0.5 * len(PHRASE)
    return sequence


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("soundfonts", nargs="*", default=list(DEFAULT_SOUNDFONTS))
    parser.add_argument("--threshold", type=float, default=0.8,
                        help="waveform correlation counted as the same samples")
    args = parser.parse_args()

    from gensuite.analysis.data import INSTRUMENT_CLASSES
    from gensuite.audio.soundfont import SoundfontRenderer

    names = [os.path.basename(p) for p in args.soundfonts]
    renderers = [SoundfontRenderer(p, sample_rate=16000) for p in args.soundfonts]
    programs = sorted({p for c in INSTRUMENT_CLASSES.values() for p in c.programs})
    pairs = list(itertools.combinations(range(len(names)), 2))
    per_program, shared = {}, {f"{names[i]} ~ {names[j]}": [] for i, j in pairs}
    for program in programs:
        waves = [r.render_sequence(phrase(program)) for r in renderers]
        figures = {}
        for i, j in pairs:
            key = f"{names[i]} ~ {names[j]}"
            figures[key] = round(correlation(waves[i], waves[j]), 3)
            if figures[key] >= args.threshold:
                shared[key].append(program)
        per_program[program] = figures
    for renderer in renderers:
        renderer.close()
    print(json.dumps({"threshold": args.threshold,
                      "shared_programs": shared,
                      "n_programs": len(programs),
                      "waveform_correlation": per_program}, indent=1))


if __name__ == "__main__":
    main()
