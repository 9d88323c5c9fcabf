"""Generated notes with the generator's own phase and with their harmonics locked, one JSON object.

    python experiments/harmonic_lock.py [CHECKPOINT ...] [--seeds 0,1]

For each checkpoint: MIDI 36-84, one timbre latent per seed, generated with
``lock_harmonics=False`` and ``True``; beside them the same pitches played by
five FluidR3_GM programs (piano, nylon guitar, violin, trumpet, flute) at
velocity 100. Figures per set: pitch accuracy and median error (pYIN),
the fundamental's wander (:func:`gensuite.audio.pitch.fundamental_wander_cents`),
the share of each note's chroma (librosa ``chroma_stft``, 0.1-1.0 s) on its
own pitch class, and harmonic clarity below and above 2 kHz. The table of
docs/decisions.md, "Generated notes play at their pitch's harmonics".
"""

import argparse
import json

import numpy as np

from gensuite.audio.pitch import (fundamental_wander_cents, harmonic_to_interharmonic_db,
                                  pitch_accuracy, pitch_errors_cents)

RATE = 16000
PITCHES = list(range(36, 85))
PROGRAMS = (0, 24, 40, 56, 73)


def chroma_share(wave: np.ndarray, pitch: int) -> float:
    import librosa

    chroma = librosa.feature.chroma_stft(y=np.asarray(wave[int(0.1 * RATE):RATE], np.float32),
                                         sr=RATE, n_fft=4096, hop_length=1024).mean(axis=1)
    return float(chroma[pitch % 12] / chroma.sum())


def figures(waves, pitches) -> dict:
    def median(values):
        return float(np.median(values))

    return {
        "pitch_accuracy": round(float(pitch_accuracy(waves, pitches, sample_rate=RATE)), 3),
        "median_error_cents": round(median(np.abs(pitch_errors_cents(waves, pitches,
                                                                     sample_rate=RATE))), 1),
        "wander_cents": round(median([fundamental_wander_cents(w, sample_rate=RATE, midi_pitch=p)
                                      for w, p in zip(waves, pitches)]), 1),
        "chroma_share": round(float(np.mean([chroma_share(w, p)
                                             for w, p in zip(waves, pitches)])), 3),
        **{f"clarity_{name}_db": round(median([harmonic_to_interharmonic_db(
            w, sample_rate=RATE, midi_pitch=p, band_hz=band) for w, p in zip(waves, pitches)]), 1)
           for name, band in (("0_2khz", (0, 2000)), ("2_8khz", (2000, 8000)))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="*", default=["gansynth_gm", "gansynth_instruments"])
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()

    from gensuite.audio.soundfont import SoundfontRenderer
    from gensuite.gansynth.model import GANSynth

    seeds = [int(s) for s in args.seeds.split(",")]
    with SoundfontRenderer("/usr/share/sounds/sf2/FluidR3_GM.sf2", sample_rate=RATE) as sf:
        real = [sf.render_note(program=program, pitch=p, velocity=100)
                for program in PROGRAMS for p in PITCHES]
    report = {"real_fluidr3_five_programs": figures(real, PITCHES * len(PROGRAMS))}
    for checkpoint in args.checkpoints:
        model = GANSynth.load(checkpoint)
        for lock in (False, True):
            # The lock alone: each note as generated in time, not cut at its attack.
            waves = np.concatenate([model.generate(PITCHES, seed=seed, compiled=False,
                                                   lock_harmonics=lock, start_at_attack=False)
                                    for seed in seeds])
            report[f"{checkpoint}, {'locked' if lock else 'free phase'}"] = figures(
                waves, PITCHES * len(seeds))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
