"""A/B of GANSynth's pitch input weight on a short schedule (the cpu-gansynth_mel departure).

Trains ``cpu-gansynth_mel`` with ``pitch_input_scale`` 1 (Magenta) and 16
(sqrt of the latent size) on 8,000 images per stage up to 16 x 32 images,
then asks how well the generated notes follow the asked pitch, with a measure
that works at that coarse size: each note's time-averaged log-magnitude
profile is matched to the nearest per-pitch mean profile of the real notes.
Prints one JSON object per run. About 20 minutes per run on 2 cores.

    python experiments/gansynth_pitch_input.py --data /work/data/nsynth_fluidr3 --out /tmp/ab
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os


def profile_pitch_accuracy(*, real_images, real_pitches, fake_images, fake_pitches):
    """Share within a semitone and correlation of the nearest real-pitch profile."""
    import numpy as np

    def profiles(images):
        x = images[..., 0].mean(axis=1)
        x = x - x.mean(axis=1, keepdims=True)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    pitches = np.unique(real_pitches)
    real = profiles(real_images)
    centroids = np.stack([real[real_pitches == p].mean(0) for p in pitches])
    predicted = pitches[np.argmax(profiles(fake_images) @ centroids.T, axis=1)]
    real_predicted = pitches[np.argmax(real @ centroids.T, axis=1)]
    return {"within_1_semitone": float(np.mean(np.abs(predicted - fake_pitches) <= 1)),
            "correlation": float(np.corrcoef(predicted, fake_pitches)[0, 1]),
            "real_within_1_semitone": float(np.mean(np.abs(real_predicted - real_pitches) <= 1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="NSynth TFRecords (gensuite data nsynth)")
    parser.add_argument("--out", required=True, help="folder for the two run folders")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 16.0])
    parser.add_argument("--num-steps", type=int, default=3500)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from gensuite.configs.gansynth import get_config
    from gensuite.layers.progressive import downscale
    from gensuite.nsynth import read_nsynth
    from gensuite.training.gan_trainer import GANTrainer, waves_to_images

    base = dataclasses.replace(get_config("cpu-gansynth_mel"), stable_stage_images=8000,
                               transition_stage_images=8000)
    notes = read_nsynth(args.data, pitch_range=(base.min_pitch, base.max_pitch),
                        n_samples=base.n_samples)
    images = waves_to_images(notes.audio, config=base)
    for scale in args.scales:
        config = dataclasses.replace(base, name=f"pitch-input-{scale:g}", pitch_input_scale=scale)
        trainer = GANTrainer(config, os.path.join(args.out, config.name), specgrams=images,
                             pitches=notes.pitch, progress=False, checkpoint_every_minutes=30)
        metrics = trainer.fit(num_steps=args.num_steps)
        n_blocks = int(metrics["n_blocks"])
        factor = 2 ** (config.n_resolutions - n_blocks)
        pitches = np.tile(np.arange(config.min_pitch, config.max_pitch + 1), 4)
        z = np.random.default_rng(1).standard_normal((len(pitches), config.latent_size))
        fakes = trainer.generator_ema.grow(
            tf.constant(z, tf.float32), tf.one_hot(pitches - config.min_pitch, config.n_pitches),
            n_blocks=n_blocks).numpy()
        figures = profile_pitch_accuracy(
            real_images=downscale(images, factor).numpy(), real_pitches=notes.pitch,
            fake_images=fakes, fake_pitches=pitches)
        print(json.dumps({"pitch_input_scale": scale, "step": trainer.step, "n_blocks": n_blocks,
                          "fake_pitch_loss": metrics["fake_pitch_loss"],
                          "real_pitch_loss": metrics["real_pitch_loss"], **figures}), flush=True)


if __name__ == "__main__":
    main()
