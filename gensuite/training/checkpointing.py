"""Resumable training checkpoints and TensorBoard / JSON-lines logging.

A training checkpoint (``RUN/checkpoints/ckpt-STEP.*``) holds the model
weights, the optimizer slots and its step counter, written by
``tf.train.CheckpointManager``: data files first, then the ``checkpoint`` index
file is replaced atomically, so a crash mid-save leaves the previous
checkpoint as the latest. Shipped models use the small weights-only format of
:meth:`gensuite.models.music_vae.MusicVAE.save` instead.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"
METRICS_FILE = "metrics.jsonl"


class TrainingCheckpoint:
    """Save and restore (model, optimizer) under ``run_dir/checkpoints``.

    Parameters
    ----------
    run_dir : str
    model : keras.Model
    optimizer : keras.optimizers.Optimizer
        Must already be built (its slot variables must exist before restoring);
        its step counter numbers the checkpoints.
    max_to_keep : int
    **others
        More models or optimizers saved alongside (a GAN's discriminator, its
        optimizer, the generator's moving average), by keyword.
    """

    def __init__(self, run_dir: str, *, model: keras.Model,
                 optimizer: keras.optimizers.Optimizer, max_to_keep: int = 3, **others):
        self.directory = os.path.join(run_dir, CHECKPOINT_DIR)
        self.optimizer = optimizer
        self._checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, **others)
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, self.directory, max_to_keep=max_to_keep)

    @property
    def latest(self) -> str | None:
        """Path prefix of the newest checkpoint, or None."""
        return self._manager.latest_checkpoint

    def restore_latest(self) -> int | None:
        """Restore the newest checkpoint; return its step, or None if there is none."""
        path = self.latest
        if path is None:
            return None
        self._checkpoint.restore(path).assert_existing_objects_matched()
        return int(self.optimizer.iterations.numpy())

    def save(self) -> str:
        """Write a checkpoint numbered by the optimizer step; return its prefix."""
        return self._manager.save(checkpoint_number=int(self.optimizer.iterations.numpy()))


def _scalar_metadata() -> bytes:
    # What tensorboard's scalar summary writes, so TensorBoard shows these as
    # scalars without the tensorboard package being installed here.
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "scalars"
    return metadata.SerializeToString()


class MetricsLogger:
    """Write scalar metrics to TensorBoard event files and ``RUN/metrics.jsonl``.

    One TensorBoard run per split under ``RUN/logs/<split>``; each JSON line is
    ``{"split": ..., "step": ..., <name>: <value>, ...}``.
    """

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self._writers: dict[str, tf.summary.SummaryWriter] = {}
        self._metadata = _scalar_metadata()

    def log(self, split: str, step: int, metrics: dict[str, float]) -> None:
        if split not in self._writers:
            self._writers[split] = tf.summary.create_file_writer(
                os.path.join(self.run_dir, LOG_DIR, split))
        with self._writers[split].as_default():
            for name, value in metrics.items():
                tf.summary.write(name, tf.constant(float(value), tf.float32), step=step,
                                 metadata=self._metadata)
        self._writers[split].flush()
        record = {"split": split, "step": int(step), **{k: float(v) for k, v in metrics.items()}}
        with open(os.path.join(self.run_dir, METRICS_FILE), "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def read_metrics(run_dir: str, split: str | None = None) -> list[dict]:
    """The records of ``RUN/metrics.jsonl`` (optionally of one split)."""
    path = os.path.join(run_dir, METRICS_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if split is None or r["split"] == split]
