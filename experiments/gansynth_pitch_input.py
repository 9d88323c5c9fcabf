"""Short-schedule A/B runs of cpu-gansynth_mel variants: do the notes follow the asked pitch?

Each variant trains on 8,000 images per stage up to 16 x 32 images (3,400
steps, about 10 minutes on 2 cores; ``--num-steps 4450`` reaches 32 x 64),
then its moving-average generator plays 4 notes of every pitch. Figures that
work at that coarse size:

* ``within_1_semitone`` / ``correlation``: each note's time-averaged
  log-magnitude profile is matched to the nearest per-pitch mean profile of
  the real notes (``real_within_1_semitone`` is the same on real notes);
* ``profile_error``: mean absolute difference between the mean fake and mean
  real profile of each pitch (0 for real-like spectra);
* ``tail_level``: mean log-magnitude of the last eighth of the frames, where
  real notes have decayed (real: ``real_tail_level``).
* ``pyin_raw`` / ``pyin_ema``: pitch accuracy (librosa.pyin, as ``gansynth
  evaluate``) of one note per pitch, played at the reached stage and upscaled,
  by the trained and the moving-average generator; ``real_pyin``: the same on
  real notes taken down to that size and back up (the ceiling: 0.43 at
  16 x 32, 0.90 at 32 x 64).

Prints one JSON object per variant::

    python experiments/gansynth_pitch_input.py --data /work/data/nsynth_fluidr3 --out /tmp/ab \\
        --variant magenta pitch_input_scale=1 --variant scaled pitch_input_scale=16

Results on the 3,231 FluidR3 notes (2 shared cores, 2026-11-21). Each row
changes the preset of its time (first rows: Magenta's losses, auxiliary
classifier weights 10, no comb):

==========================================  =====  ========  =====  =======  ====  ====
variant                                     stage  semitone  corr.  profile  tail  pyin
==========================================  =====  ========  =====  =======  ====  ====
pitch_input_scale=1 (Magenta)               4      0.08      0.46
pitch_input_scale=16                        4      0.14      0.81   0.14     -0.58
generator_ac_loss_weight=1                  4      0.12      0.62   0.48     -0.05
pitch_input_scale=16                        5      0.17      0.86   0.29     -0.29
fmap_base=2048                              5      0.14      0.83   0.34     -0.87
pitch_projection, generator AC 0            5      0.12      0.81   0.17     -0.64 0.04
pitch_projection                            5      0.18      0.87   0.15     -0.46 0.00
no AC losses (unconditional)                4      0.07      0.01   0.19     -0.77 0.00
pitch_comb, no AC losses (the preset now)   4      0.48      0.65   0.14     -0.78 0.14
pitch_comb + pitch_projection, no AC        4      0.36      0.75   0.11     -0.77 0.02
==========================================  =====  ========  =====  =======  ====  ====

Real notes: semitone 0.81 (stage 4) / 0.98 (stage 5), tail -0.77; pyin
ceiling 0.43 at stage 4 and 0.90 at stage 5 (49 notes). Stage-4 rows ran 3,400-3,500
steps, stage-5 rows 4,450. The Magenta row comes from an earlier form of this
script without profile and tail figures (its scaled twin then gave 0.15 and
0.82).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os


def pitch_figures(*, real_images, real_pitches, fake_images, fake_pitches) -> dict:
    """The figures of the module docstring for images (n, time, frequency, 2)."""
    import numpy as np

    def unit_profiles(images):
        x = images[..., 0].mean(axis=1)
        x = x - x.mean(axis=1, keepdims=True)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    pitches = np.unique(real_pitches)
    real = unit_profiles(real_images)
    centroids = np.stack([real[real_pitches == p].mean(0) for p in pitches])
    predicted = pitches[np.argmax(unit_profiles(fake_images) @ centroids.T, axis=1)]
    real_predicted = pitches[np.argmax(real @ centroids.T, axis=1)]
    mean_profile = lambda images, labels, p: images[labels == p][..., 0].mean(axis=(0, 1))
    profile_error = np.mean([np.abs(mean_profile(fake_images, fake_pitches, p)
                                    - mean_profile(real_images, real_pitches, p)).mean()
                             for p in np.unique(fake_pitches)])
    tail = max(1, real_images.shape[1] // 8)
    return {"within_1_semitone": float(np.mean(np.abs(predicted - fake_pitches) <= 1)),
            "correlation": float(np.corrcoef(predicted, fake_pitches)[0, 1]),
            "real_within_1_semitone": float(np.mean(np.abs(real_predicted - real_pitches) <= 1)),
            "profile_error": float(profile_error),
            "tail_level": float(fake_images[:, -tail:, :, 0].mean()),
            "real_tail_level": float(real_images[:, -tail:, :, 0].mean())}


def parse_overrides(items: list[str]) -> dict:
    """``["field=value", ...]`` -> {field: float or int}."""
    out = {}
    for item in items:
        field, _, value = item.partition("=")
        out[field] = float(value) if "." in value or "e" in value else int(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="NSynth TFRecords (gensuite data nsynth)")
    parser.add_argument("--out", required=True, help="folder for the run folders")
    parser.add_argument("--variant", nargs="+", action="append", required=True,
                        metavar=("NAME", "FIELD=VALUE"),
                        help="a name and config fields to change; repeat per variant")
    parser.add_argument("--num-steps", type=int, default=3400)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from gensuite.audio.nsynth import read_nsynth
    from gensuite.audio.pitch import pitch_accuracy
    from gensuite.audio.spectral import specgrams_to_waves
    from gensuite.gansynth.configs import get_config
    from gensuite.gansynth.evaluation import choose_eval_notes
    from gensuite.gansynth.layers import downscale, upscale
    from gensuite.gansynth.model import GANSynth
    from gensuite.gansynth.trainer import GANTrainer, waves_to_images

    base = dataclasses.replace(get_config("cpu-gansynth_mel"), stable_stage_images=8000,
                               transition_stage_images=8000)
    notes = read_nsynth(args.data, pitch_range=(base.min_pitch, base.max_pitch),
                        n_samples=base.n_samples)
    images = waves_to_images(notes.audio, config=base)
    for name, *overrides in args.variant:
        changes = parse_overrides(overrides)
        config = dataclasses.replace(base, name=f"ab-{name}", **changes)
        trainer = GANTrainer(config, os.path.join(args.out, name), specgrams=images,
                             pitches=notes.pitch, progress=False, checkpoint_every_minutes=30)
        metrics = trainer.fit(num_steps=args.num_steps)
        n_blocks = int(metrics["n_blocks"])
        pitches = np.tile(np.arange(config.min_pitch, config.max_pitch + 1), 4)
        z = np.random.default_rng(1).standard_normal((len(pitches), config.latent_size))
        fakes = trainer.generator_ema.grow(
            tf.constant(z, tf.float32), tf.one_hot(pitches - config.min_pitch, config.n_pitches),
            n_blocks=n_blocks).numpy()
        real = downscale(images, 2 ** (config.n_resolutions - n_blocks)).numpy()
        figures = pitch_figures(real_images=real, real_pitches=notes.pitch, fake_images=fakes,
                                fake_pitches=pitches)
        grid = np.arange(config.min_pitch, config.max_pitch + 1)
        for label, generator in (("pyin_raw", trainer.generator),
                                 ("pyin_ema", trainer.generator_ema)):
            model = GANSynth(config, generator=generator, n_blocks=n_blocks)
            waves = model.generate(grid, model.make_latents(7, seed=1)[np.arange(len(grid)) % 7])
            figures[label] = pitch_accuracy(waves, grid, sample_rate=config.sample_rate)
        # The same measure on real notes taken down to this stage's size and back up.
        index = choose_eval_notes(notes.pitch, n_notes=len(grid))
        scale = 2 ** (config.n_resolutions - n_blocks)
        real_waves = specgrams_to_waves(upscale(real[index], scale), config=config.spectral)
        figures["real_pyin"] = pitch_accuracy(real_waves.numpy(), notes.pitch[index],
                                              sample_rate=config.sample_rate)
        print(json.dumps({"variant": name, **changes, "step": trainer.step,
                          "n_blocks": n_blocks, "wasserstein": metrics["wasserstein"],
                          **{k: metrics[k] for k in ("fake_pitch_loss", "real_pitch_loss")
                             if k in metrics},  # logged only when the classifier trains
                          **figures}), flush=True)


if __name__ == "__main__":
    main()
