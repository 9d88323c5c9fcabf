"""MusicVAE speed: training examples/s of the CPU presets and sampling latency, one JSON object.

Training: optimizer steps of each preset on random one-hot batches (speed
does not depend on the data or the weights), after two warm-up steps.

Sampling (targets on 2 cores: 64 two-bar samples < 1 s, one 5-step 16-bar
interpolation < 3 s): ``MusicVAE.sample_tensors`` decodes the whole batch in
one compiled loop. Baselines measured in the same run:

- 64 samples drawn one at a time (batch 1, 64 calls), the way a per-request
  server would do it;
- the same 5-step interpolation with the flat 16-bar model, which decodes 256
  steps one after another where the hierarchical one runs 16 bars as a batch.

Usage::

    python benchmarks/vae.py [--repeats 3] [--train-steps 10]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
from timing import best_seconds

TRAIN_CONFIGS = ("cpu-mel_2bar", "cpu-mel_16bar", "cpu-flat-mel_16bar")


def random_arrays(config, n: int, rng: np.random.Generator):
    from gensuite.music_vae.trainer import VAEArrays

    x = np.eye(config.input_depth, dtype=bool)[
        rng.integers(0, config.input_depth, (n, config.n_steps))]
    return VAEArrays(x, x, np.full(n, config.n_steps))


def train_examples_per_second(name: str, n_steps: int, rng) -> float:
    from gensuite.music_vae.configs import get_config
    from gensuite.music_vae.trainer import VAETrainer

    config = get_config(name)
    data = random_arrays(config, config.batch_size, rng)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = VAETrainer(config, run_dir, progress=False)
        batch = (data.inputs.astype(np.float32), data.outputs.astype(np.float32),
                 data.lengths.astype(np.int32))
        for _ in range(2):
            trainer.train_step(*batch)
        started = time.perf_counter()
        for _ in range(n_steps):
            trainer.train_step(*batch)
        seconds = time.perf_counter() - started
    return n_steps * config.batch_size / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=10)
    args = parser.parse_args()

    from gensuite.music_vae.model import MusicVAE

    rng = np.random.default_rng(0)
    result = {"benchmark": "vae", "cpu_count": os.cpu_count(), "train_examples_per_s": {}}
    for name in TRAIN_CONFIGS:
        result["train_examples_per_s"][name] = round(
            train_examples_per_second(name, args.train_steps, rng), 1)

    two_bar = MusicVAE("cpu-mel_2bar")
    batched = best_seconds(lambda: two_bar.sample_tensors(64, temperature=0.5, seed=1),
                           args.repeats)
    one_by_one = best_seconds(
        lambda: [two_bar.sample_tensors(1, temperature=0.5, seed=i) for i in range(64)],
        args.repeats)

    hier, flat = MusicVAE("cpu-mel_16bar"), MusicVAE("cpu-flat-mel_16bar")
    a, b = random_arrays(hier.config, 2, rng).inputs.astype(np.float32)
    interpolate = {}
    for label, model in (("hierarchical", hier), ("flat", flat)):
        interpolate[label] = best_seconds(
            lambda: model.interpolate_tensors(a, b, num_steps=5, temperature=0.5, seed=1),
            args.repeats)

    result.update({
        "sample_64_two_bar_s": round(batched, 3),
        "sample_64_two_bar_one_at_a_time_s": round(one_by_one, 3),
        "sample_batching_ratio": round(one_by_one / batched, 1),
        "interpolate_5_steps_16_bar_s": round(interpolate["hierarchical"], 3),
        "interpolate_5_steps_16_bar_flat_s": round(interpolate["flat"], 3),
        "hierarchical_vs_flat_ratio": round(interpolate["flat"] / interpolate["hierarchical"], 1),
        "targets_met": batched < 1.0 and interpolate["hierarchical"] < 3.0,
        "timing": "best of --repeats after one tracing call; untrained weights",
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
