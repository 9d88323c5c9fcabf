"""A latent-hierarchy training run's figures on held-out tunes, mid-run. One JSON object.

Restores the run's latest checkpoint (the trainer keeps one every few minutes)
and measures what ``gensuite vae evaluate`` measures of an export, on the
16-bar windows of ``--held``; also counts the held-out windows (and their 2-bar
chunks) that occur in the run's training windows in some key, to say how
unseen "unseen" is.

Usage::

    python experiments/latent_run_figures.py --run-dir RUN --config PRESET --held DIR
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def key_free(window: np.ndarray) -> bytes:
    """A window's classes with its lowest note moved to the lowest pitch class."""
    notes = window >= 2
    low = window[notes].min() if notes.any() else 2
    return np.where(notes, window - low + 2, window).tobytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--config", required=True, help="the run's preset")
    parser.add_argument("--held", required=True, help="folder of held-out MIDI files")
    args = parser.parse_args()

    from gensuite.music_vae import latent_hierarchy as lh
    from gensuite.music_vae.data import ExampleSet, TrainingData, convert_midi_dir
    from gensuite.music_vae.model import MusicVAE

    model = lh.LatentHierarchyVAE(args.config, bottom=MusicVAE.load(f"{args.run_dir}/bottom"))
    held = ExampleSet.from_files(convert_midi_dir(
        args.held, model.converter, n_steps=model.n_steps, output_depths=model.output_depths,
        num_workers=1)).classes

    import keras

    from gensuite.training.checkpointing import TrainingCheckpoint

    optimizer = keras.optimizers.Adam()
    optimizer.build(model.top.trainable_variables)
    step = TrainingCheckpoint(args.run_dir, model=model.top, optimizer=optimizer).restore_latest()
    figures = {"step": step, **lh.accuracies(model, held, seed=0)}

    train = TrainingData.load(args.run_dir).train.classes[..., 0].astype(int)
    held_windows = held[..., 0].astype(int)
    for name, size in (("windows", model.n_steps), ("chunks", model.chunk_steps)):
        seen = {key_free(c) for w in train for c in w.reshape(-1, size)}
        parts = [c for w in held_windows for c in w.reshape(-1, size)]
        figures[f"held_out_{name}_in_training"] = f"{sum(key_free(c) in seen for c in parts)} " \
                                                  f"of {len(parts)}"
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
