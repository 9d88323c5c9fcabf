"""GANSynth speed: training steps/s of the CPU preset and note generation, one JSON object.

Training: discriminator + generator + moving-average updates on random
spectrograms (speed does not depend on the data), at the coarsest stage and
at the final resolution, after one warm-up step per stage (tracing).

Generation: ``GANSynth.generate`` (generator and inverse spectrogram in one
graph) at batch 1 and batch 64; notes/s and seconds of audio per second. The
baseline measured in the same run is batch 1, one call per note.

Usage::

    python benchmarks/gansynth.py [--config cpu-gansynth_mel] [--train-steps 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
from timing import best_seconds


def train_steps_per_second(config, n_steps: int) -> dict[str, float]:
    from gensuite.gansynth.trainer import GANTrainer

    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (64, *config.image_shape)).astype(np.float32)
    pitches = rng.integers(config.min_pitch, config.max_pitch + 1, 64)
    result = {}
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = GANTrainer(config, run_dir, specgrams=images, pitches=pitches, progress=False)
        grown = (config.n_resolutions - 1) * config.n_stage_images // config.batch_size
        for label, step in (("coarsest", 0), ("final", grown)):
            trainer.g_optimizer.iterations.assign(step)
            trainer.train_step(rng)  # trace
            started = time.perf_counter()
            for _ in range(n_steps):
                trainer.g_optimizer.iterations.assign(step)  # stay in this stage
                trainer.train_step(rng)
            result[label] = n_steps / (time.perf_counter() - started)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="cpu-gansynth_mel")
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from gensuite.gansynth.configs import get_config
    from gensuite.gansynth.model import GANSynth

    config = get_config(args.config)
    train = train_steps_per_second(config, args.train_steps)
    model = GANSynth(config)
    pitches = np.resize(np.arange(config.min_pitch, config.max_pitch + 1), 64)
    z = model.make_latents(64, seed=0)
    one_by_one = best_seconds(
        lambda: [model.generate(pitches[i:i + 1], z[i:i + 1]) for i in range(8)], args.repeats) / 8
    batched = best_seconds(lambda: model.generate(pitches, z, batch_size=64), args.repeats) / 64
    note_s = config.n_samples / config.sample_rate
    print(json.dumps({
        "benchmark": "gansynth", "config": config.name, "cpu_count": os.cpu_count(),
        "batch_size": config.batch_size,
        "train_steps_per_s_coarsest_stage": round(train["coarsest"], 2),
        "train_steps_per_s_final_stage": round(train["final"], 2),
        "generate_notes_per_s_batch_1": round(1 / one_by_one, 2),
        "generate_notes_per_s_batch_64": round(1 / batched, 2),
        "generate_audio_s_per_s_batch_64": round(note_s / batched, 1),
        "batching_ratio": round(one_by_one / batched, 2),
        "timing": "best of --repeats after one tracing call; untrained weights",
    }))


if __name__ == "__main__":
    main()
