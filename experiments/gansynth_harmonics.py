"""Where a GANSynth model's notes lose their partials: representation, IF or magnitudes.

    python experiments/gansynth_harmonics.py CHECKPOINT --data DIR [DIR ...]

Harmonic clarity (median harmonic-to-inter-harmonic energy per band, as
``gansynth evaluate``) of the evaluation notes (98 spread over the pitches,
7 latents) in each of these forms, printed as one JSON object:

* real notes, and real notes through the model's images and back (at its mel
  bands and at 512 / 1,024 bands and linear bins), with and without the
  model's low-pass;
* generated notes, and hybrids: generated magnitudes with the real notes'
  instantaneous frequency, and the other way round;
* real magnitudes averaged over 2 or 4 frequency bands, or 2 or 4 frames;

the whistle band: ``whistle_share_db``, the median share of each note's energy
(0.25-3 s) at 5.9-6.5 kHz, real and generated;

and the onset line: ``onset_excess_db``, per note the loudest 2-8 kHz level of
the three 8 ms frames from its onset minus the median level of the 64-320 ms
after it, median over notes, for real and generated notes (a click at the
onset stands out as a large excess: ``gensuite.gansynth.evaluation.onset_click_db``);
``generated_as_played`` is the same notes from ``GANSynth.generate``, which
locks their harmonics and starts them at their attack;
``onset_excess_db_cut_at_level_x_fade_ms``, the locked notes cut where they
reach 0.5 or 0.2 of their early peak and faded in over 10-50 ms.
"""

import argparse
import dataclasses
import json

import numpy as np
import tensorflow as tf

from gensuite.audio import spectral
from gensuite.audio.envelopes import start_at_attack
from gensuite.audio.nsynth import read_nsynth
from gensuite.gansynth.evaluation import choose_eval_notes, harmonic_clarity_db, onset_click_db
from gensuite.gansynth.model import GANSynth

BATCH = 14


def batched(fn, images):
    return np.concatenate([fn(images[i:i + BATCH]) for i in range(0, len(images), BATCH)])


def band_share_db(waves: np.ndarray, rate: int, band_hz=(5900.0, 6500.0)) -> float:
    body = waves[:, int(0.25 * rate):int(3.0 * rate)]
    power = np.abs(np.fft.rfft(body, n=waves.shape[1])) ** 2
    freqs = np.fft.rfftfreq(waves.shape[1], 1.0 / rate)
    in_band = (freqs >= band_hz[0]) & (freqs < band_hz[1])
    return round(float(np.median(10 * np.log10(
        power[:, in_band].sum(axis=1) / power.sum(axis=1) + 1e-12))), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--data", nargs="+", required=True)
    args = parser.parse_args()
    model = GANSynth.load(args.checkpoint)
    c = model.config
    notes = read_nsynth(args.data, pitch_range=(c.min_pitch, c.max_pitch))
    index = choose_eval_notes(notes.pitch, n_notes=98, seed=0)
    waves, pitches = notes.audio[index], notes.pitch[index]
    rate = c.sample_rate

    def clarity(w):
        return {k: round(v, 2) for k, v in harmonic_clarity_db(w, pitches, sample_rate=rate).items()}

    def low_passed(w):
        if not c.max_output_hz:
            return w
        return spectral.low_pass(w, max_hz=c.max_output_hz, sample_rate=rate).numpy()

    def to_waves(images, config=c.spectral, low_pass=True):
        w = batched(lambda x: spectral.specgrams_to_waves(x, config=config).numpy(), images)
        return low_passed(w) if low_pass else w

    figures = {"real": clarity(waves)}
    for n_mels in (c.n_mels, 512, 1024, None):
        config = dataclasses.replace(c.spectral, n_mels=n_mels)
        images = batched(lambda x: spectral.waves_to_specgrams(x, config=config).numpy(), waves)
        name = f"real_through_{n_mels or 'linear'}_bands"
        figures[name] = clarity(to_waves(images, config, low_pass=False))
        figures[name + "_low_passed"] = clarity(to_waves(images, config))
    real = batched(lambda x: spectral.waves_to_specgrams(x, config=c.spectral).numpy(), waves)
    z = model.make_latents(7, seed=0)[np.arange(len(pitches)) % 7]
    one_hot = tf.one_hot(pitches - c.min_pitch, c.n_pitches)
    fake = np.concatenate([model.generator(tf.constant(z[i:i + BATCH]), one_hot[i:i + BATCH]).numpy()
                           for i in range(0, len(z), BATCH)])
    generated = to_waves(fake)
    figures["generated"] = clarity(generated)
    figures["onset_excess_db"] = {
        "real": round(onset_click_db(waves, sample_rate=rate), 2),
        "generated": round(onset_click_db(generated, sample_rate=rate), 2),
        "generated_as_played": round(onset_click_db(
            model.generate(pitches, z, batch_size=BATCH, compiled=False), sample_rate=rate), 2)}
    locked = model.generate(pitches, z, batch_size=BATCH, compiled=False, start_at_attack=False)
    figures["onset_excess_db_cut_at_level_x_fade_ms"] = {
        f"{level} x {fade_ms}": round(onset_click_db(low_passed(np.stack([
            start_at_attack(w, sample_rate=rate, level=level, fade_s=fade_ms / 1000)
            for w in locked])), sample_rate=rate), 2)
        for level in (0.5, 0.2) for fade_ms in (10, 20, 30, 50)}
    figures["whistle_share_db"] = {"real": band_share_db(waves, rate),
                                   "generated": band_share_db(generated, rate)}
    figures["generated_magnitude_real_if"] = clarity(
        to_waves(np.stack([fake[..., 0], real[..., 1]], -1)))
    figures["real_magnitude_generated_if"] = clarity(
        to_waves(np.stack([real[..., 0], fake[..., 1]], -1)))
    for factor in (2, 4):
        for axis, window in (("bands", (1, factor)), ("frames", (factor, 1))):
            pooled = tf.nn.avg_pool2d(real, window, window, "VALID").numpy()
            coarse = np.repeat(pooled, factor, axis=2 if axis == "bands" else 1)
            figures[f"real_magnitude_averaged_over_{factor}_{axis}"] = clarity(
                to_waves(np.stack([coarse[..., 0], real[..., 1]], -1)))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
