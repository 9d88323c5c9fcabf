"""Figures behind the gansynth_gm card and the render chroma test, one JSON object.

    python experiments/gansynth_render_checks.py CHECKPOINT [--data DIR]

* ``above_cutoff``: on a grid of 49 pitches x 8 latents (seed 11), played
  without the low-pass, the share of notes with over 1% of their energy
  above ``max_output_hz`` (and the median share); with ``--data``, the
  median share of 200 real notes;
* ``near_silent``: notes of the same grid, low-passed as shipped, whose peak
  is under 0.05;
* ``chroma``: mean chroma (n_fft 8192) of the render test's two-track score
  against its soundfont render: the soundfont with other programs, the
  score a semitone up, and the model at seeds 0-3.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import numpy as np

# The render test's score, so that these figures describe exactly what it checks.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from test_render_score import mean_chromas, two_track_score  # noqa: E402

OTHER_PROGRAMS = [(73, 42), (40, 32), (56, 57), (19, 19), (11, 24)]  # melody, bass


def above_cutoff_share(waves: np.ndarray, *, max_hz: float, sample_rate: int) -> np.ndarray:
    power = np.abs(np.fft.rfft(waves, axis=-1)) ** 2
    hz = np.fft.rfftfreq(waves.shape[-1], 1 / sample_rate)
    return power[:, hz > max_hz].sum(axis=1) / power.sum(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--data", help="NSynth folder of the training notes")
    args = parser.parse_args()

    from gensuite.gansynth.model import GANSynth
    from gensuite.render import render_sequence_audio

    model = GANSynth.load(args.checkpoint)
    c = model.config
    cutoff = c.max_output_hz or c.sample_rate / 2
    pitches = np.tile(np.arange(c.min_pitch, c.max_pitch + 1), 8)
    z = np.repeat(model.make_latents(8, seed=11), c.n_pitches, axis=0)
    unfiltered = GANSynth(dataclasses.replace(c, max_output_hz=None), generator=model.generator,
                          n_blocks=model.n_blocks, alpha=model.alpha)
    share = above_cutoff_share(unfiltered.generate(pitches, z), max_hz=cutoff,
                               sample_rate=c.sample_rate)
    figures = {"checkpoint": args.checkpoint, "n_grid_notes": len(pitches),
               "above_cutoff": {"notes_over_1pct": round(float(np.mean(share > 0.01)), 3),
                                "median": float(np.median(share))},
               "near_silent": int(np.sum(np.abs(model.generate(pitches, z)).max(axis=1) < 0.05))}
    if args.data:
        from gensuite.audio.nsynth import read_nsynth

        real = read_nsynth(args.data).audio
        pick = np.random.default_rng(0).choice(len(real), 200, replace=False)
        figures["above_cutoff"]["real_median"] = float(np.median(
            above_cutoff_share(real[pick], max_hz=cutoff, sample_rate=c.sample_rate)))

    def soundfont(programs=None, shift=0):
        seq = two_track_score()
        for note in seq.notes:
            if programs:
                note.program = programs[note.instrument]
            note.pitch += shift
        return render_sequence_audio(seq, synth="soundfont", sample_rate=c.sample_rate)[0]

    reference = soundfont()

    def correlation(wave):
        a, b = mean_chromas(wave, reference, c.sample_rate)
        return round(float(np.corrcoef(a, b)[0, 1]), 2)

    figures["chroma"] = {
        "soundfont_other_programs": {f"{m}+{b}": correlation(soundfont((m, b)))
                                     for m, b in OTHER_PROGRAMS},
        "soundfont_semitone_up": correlation(soundfont(shift=1)),
        "model_by_seed": [correlation(render_sequence_audio(two_track_score(), model=model,
                                                            seed=seed)[0])
                          for seed in range(4)]}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
