"""Train a tiny preset a few steps under ``tf.distribute`` strategies, in its own process.

Run by tests/training/test_distribute.py (logical devices must be set up
before TensorFlow starts, hence a process)::

    python distributed_worker.py TRAINER LOGICAL_CPUS STRATEGY:RUN_DIR:NUM_STEPS ...

Each run, in order, in this one process (TensorFlow's start-up is most of a
run's time); its per-step train metrics land in ``RUN_DIR/metrics.jsonl``
(chief only).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

SEED = 3


def train_vae(strategy, run_dir: str, num_steps: int) -> None:
    from gensuite.music_vae.configs import get_config
    from gensuite.music_vae.trainer import VAEArrays, VAETrainer

    config = get_config("tiny-mel_2bar")
    classes = np.random.default_rng(0).integers(0, config.output_depth, (40, config.n_steps))
    one_hots = np.eye(config.output_depth, dtype=bool)[classes]
    data = VAEArrays(one_hots, one_hots, np.full(len(classes), config.n_steps, np.int32))
    # log_every=1: under multi-worker, the workers agree on saving at every step.
    trainer = VAETrainer(config, run_dir, seed=SEED, log_every=1, progress=False,
                         strategy=strategy)
    trainer.fit(data, num_steps=num_steps)


def train_rnn(strategy, run_dir: str, num_steps: int) -> None:
    import dataclasses

    import keras

    from gensuite.melody_rnn.configs import get_config
    from gensuite.melody_rnn.model import MelodyRNN
    from gensuite.melody_rnn.trainer import train_melody_rnn

    # Dropout off: each replica would draw its own masks, and the runs must agree.
    # A clip norm below the gradients' norms: clipping each replica's share
    # instead of the summed gradients would show.
    config = dataclasses.replace(get_config("tiny-basic_rnn"), dropout_keep_prob=1.0,
                                 clip_norm=0.02)
    rng = np.random.default_rng(0)
    events = np.arange(config.min_note, config.max_note).tolist() + [-2, -2, -1]
    melodies = [rng.choice(events, size=int(n)) for n in rng.integers(20, 90, 24)]
    keras.utils.set_random_seed(SEED)
    with strategy.scope():
        model = MelodyRNN(config)
    train_melody_rnn(model, melodies[4:], melodies[:4], run_dir=run_dir, num_steps=num_steps,
                     log_every_steps=1, seed=SEED, progress=False, strategy=strategy)


def train_analyze(strategy, run_dir: str, num_steps: int) -> None:
    from gensuite.analysis.configs import get_config
    from gensuite.analysis.data import LabelledTracks
    from gensuite.analysis.trainer import ClassifierTrainer

    # tiny-cnn has no dropout; its batch normalisation must see the global batch.
    config = get_config("tiny-cnn").with_classes(("a", "b"))
    rng = np.random.default_rng(0)
    n_frames = config.window_frames * 3
    tracks = LabelledTracks(
        files=[f"t{i}.wav" for i in range(8)], pieces=[f"p{i}" for i in range(8)],
        labels=np.arange(8, dtype=np.int32) % 2,
        log_mel=[(rng.normal(-40, 15, (n_frames, config.n_mels)) + 10 * (i % 2)).astype(
            np.float16) for i in range(8)],
        valid_starts=[np.arange(n_frames - config.window_frames + 1, dtype=np.int32)] * 8)
    trainer = ClassifierTrainer(config, run_dir, train=tracks, seed=SEED, log_every=1,
                                progress=False, strategy=strategy)
    trainer.fit(num_steps=num_steps)


def train_gansynth(strategy, run_dir: str, num_steps: int) -> None:
    import dataclasses

    from gensuite.gansynth.configs import get_config
    from gensuite.gansynth.trainer import GANTrainer

    # Two resolutions, so a few steps reach the fade-in; mode seeking on, so
    # the spread over the pairs of the global batch is exercised.
    config = dataclasses.replace(get_config("tiny-gansynth"), n_resolutions=2,
                                 start_shape=(16, 32), mode_seeking_weight=1.0)
    rng = np.random.default_rng(0)
    specgrams = rng.uniform(-1, 1, (12, *config.image_shape)).astype(np.float32)
    pitches = rng.integers(config.min_pitch, config.max_pitch + 1, 12)
    trainer = GANTrainer(config, run_dir, specgrams=specgrams, pitches=pitches, seed=SEED,
                         log_every=1, progress=False, strategy=strategy)
    trainer.fit(num_steps=num_steps)


def train_latent(strategy, run_dir: str, num_steps: int) -> None:
    import keras

    from gensuite.music_vae import latent_hierarchy as lh
    from gensuite.music_vae.configs import get_config
    from gensuite.music_vae.model import MusicVAE

    config = lh.get_config("tiny-latent-mel_16bar")
    keras.utils.set_random_seed(SEED)
    with strategy.scope():
        bottom = MusicVAE(get_config("tiny-mel_2bar"))
        model = lh.LatentHierarchyVAE(config, bottom=bottom)
    rng = np.random.default_rng(0)
    shape = (24, config.n_chunks, model.top.chunk_z_size)
    mu = rng.normal(0, 1, shape).astype(np.float32)
    sigma = rng.uniform(0.1, 1, shape).astype(np.float32)
    lh.train_latent_hierarchy(model, (mu, sigma), run_dir=run_dir, num_steps=num_steps,
                              held_out_classes=None, log_every=1, seed=SEED, progress=False,
                              strategy=strategy)


TRAINERS = {"vae": train_vae, "rnn": train_rnn, "analyze": train_analyze,
            "gansynth": train_gansynth, "latent": train_latent}


def main(trainer: str, logical_cpus: str, *runs: str) -> None:
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration()] * int(logical_cpus))
    from gensuite.training.distribute import make_strategy

    for run in runs:
        strategy_name, run_dir, num_steps = run.split(":")
        TRAINERS[trainer](make_strategy(strategy_name), run_dir, int(num_steps))


if __name__ == "__main__":
    main(*sys.argv[1:])
