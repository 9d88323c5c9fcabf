"""Resumable training checkpoints and TensorBoard / JSON-lines logging.

A training checkpoint (``RUN/checkpoints/ckpt-STEP.*``) holds the model
weights, the optimizer slots and its step counter, written by
``tf.train.CheckpointManager``: data files first, then the ``checkpoint`` index
file is replaced atomically, so a crash mid-save leaves the previous
checkpoint as the latest. Shipped models use the small weights-only format of
:meth:`gensuite.music_vae.model.MusicVAE.save` instead.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from gensuite.common.config import JsonConfig
from gensuite.training.distribute import throwaway_folder

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
        its step counter numbers the checkpoints, plus ``step_offset``.
    step_offset : tf.Variable, optional
        Steps the run counts before its optimizer's first (a run started from
        a saved model); saved with the checkpoint.
    max_to_keep : int
    chief : bool
        False on a non-chief worker of a multi-worker run: it restores the
        chief's checkpoints and takes part in every save (the strategy needs
        all workers to), but writes into a temporary folder then deleted.
    **others
        More models or optimizers saved alongside (a GAN's discriminator, its
        optimizer, the generator's moving average), by keyword.
    """

    def __init__(self, run_dir: str, *, model: keras.Model,
                 optimizer: keras.optimizers.Optimizer, step_offset: tf.Variable | None = None,
                 max_to_keep: int = 3, chief: bool = True, **others):
        self.directory = os.path.join(run_dir, CHECKPOINT_DIR)
        self.optimizer = optimizer
        self.step_offset = step_offset
        self.chief = chief
        if step_offset is not None:
            others["step_offset"] = step_offset
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
        return self.step

    @property
    def step(self) -> int:
        """The run's step: the optimizer's, plus the offset."""
        offset = 0 if self.step_offset is None else int(self.step_offset.numpy())
        return offset + int(self.optimizer.iterations.numpy())

    def save(self) -> str:
        """Write a checkpoint numbered by the run's step; return its prefix.

        A non-chief worker returns the prefix the chief writes.
        """
        step = self.step
        if self.chief:
            return self._manager.save(checkpoint_number=step)
        with throwaway_folder() as folder:
            self._checkpoint.write(os.path.join(folder, "ckpt"))
        return os.path.join(self.directory, f"ckpt-{step}")


def _scalar_metadata() -> bytes:
    # What tensorboard's scalar summary writes, so TensorBoard shows these as
    # scalars without the tensorboard package being installed here.
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "scalars"
    return metadata.SerializeToString()


class MetricsLogger:
    """Write scalar metrics to TensorBoard event files and ``RUN/metrics.jsonl``.

    One TensorBoard run per split under ``RUN/logs/<split>``; each JSON line is
    ``{"split": ..., "step": ..., <name>: <value>, ...}``. A logger with
    ``enabled`` False (a non-chief worker's) writes nothing.
    """

    def __init__(self, run_dir: str, *, enabled: bool = True):
        self.run_dir = run_dir
        self.enabled = enabled
        self._writers: dict[str, tf.summary.SummaryWriter] = {}
        self._metadata = _scalar_metadata()

    def log(self, split: str, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
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


RUN_CONFIG_FILE = "config.json"


def check_run_config(run_dir: str | os.PathLike, config, *, flag: str = "run_dir",
                     may_differ: tuple[str, ...] = ()) -> JsonConfig | None:
    """Refuse a run folder started with another config; return the recorded one (or None).

    Parameters
    ----------
    run_dir : str or os.PathLike
    config : JsonConfig
        The frozen config dataclass of the run being started or resumed.
    flag : str
        Name of the option in error messages (``--run-dir``, ``--init-from``).
    may_differ : tuple of str
        Fields allowed to change on resume (e.g. ``num_steps`` to extend a run).

    Raises
    ------
    InputFileError
        If ``RUN/config.json`` is unreadable.
    ParameterError
        If it records another config; the message lists the settings that differ.
    """
    from gensuite.common.errors import InputFileError, ParameterError  # noqa: PLC0415

    path = os.path.join(os.fspath(run_dir), RUN_CONFIG_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            saved = type(config).from_json(f.read())
    except (OSError, ValueError, TypeError) as exc:
        raise InputFileError(path, f"unreadable run config ({exc})") from exc
    ours, theirs = config.to_dict(), saved.to_dict()
    changed = sorted(k for k in ours if k not in may_differ and theirs.get(k) != ours[k])
    if changed:
        raise ParameterError(
            f"{flag}: {os.fspath(run_dir)} holds a run of config {saved.name!r} with other "
            f"settings ({', '.join(changed)}); use a new run folder or the same config")
    return saved


def record_run_config(run_dir: str | os.PathLike, config, *,
                      may_differ: tuple[str, ...] = ()) -> None:
    """Write ``RUN/config.json`` for a new run, or check it (see :func:`check_run_config`).

    A recorded config that differs only in ``may_differ`` fields is rewritten.
    """
    from gensuite.common.fileio import write_text_atomic  # noqa: PLC0415

    if check_run_config(run_dir, config, may_differ=may_differ) == config:
        return
    os.makedirs(os.fspath(run_dir), exist_ok=True)
    write_text_atomic(os.path.join(os.fspath(run_dir), RUN_CONFIG_FILE), config.to_json())


def copy_run_checkpoints(source: str | os.PathLike, run_dir: str | os.PathLike, config, *,
                         may_differ: tuple[str, ...] = ()) -> bool:
    """Start the run in ``run_dir`` from the checkpoints of run ``source``.

    Weights, optimizer and step are copied, so every schedule continues where
    the source left off. Nothing is copied when ``run_dir`` already has
    checkpoints of its own (they win: the new run is being resumed) or
    ``source`` has none.

    Parameters
    ----------
    source, run_dir : str or os.PathLike
        Run folders.
    config : JsonConfig
        The new run's config; ``source``'s may differ only in ``may_differ``.
    may_differ : tuple of str

    Returns
    -------
    bool
        Whether checkpoints were copied.

    Raises
    ------
    ParameterError
        If ``source`` holds a run of another config (the message names
        ``--init-from``, the option that gives ``source``).
    """
    import shutil  # noqa: PLC0415

    if has_checkpoints(run_dir) or not has_checkpoints(source):
        return False
    check_run_config(source, config, flag="--init-from", may_differ=may_differ)
    shutil.copytree(os.path.join(os.fspath(source), CHECKPOINT_DIR),
                    os.path.join(os.fspath(run_dir), CHECKPOINT_DIR), dirs_exist_ok=True)
    return True


def saved_model_to_start_from(source: str, config, *, kind: str, what: str,
                              may_differ: tuple[str, ...] = ()):
    """The saved model that ``--init-from`` names when it holds no training checkpoints.

    Parameters
    ----------
    source : str
        A model folder or shipped name.
    config : JsonConfig
        The new run's config; the model's may differ only in ``may_differ``.
    kind : str
        The model kind it must be; ``what`` names it in the error.

    Returns
    -------
    gensuite.checkpoints.CheckpointInfo

    Raises
    ------
    InputFileError
        If ``source`` is neither a run with checkpoints nor such a saved model.
    ParameterError
        If the configs differ elsewhere.
    """
    from gensuite.checkpoints import resolve_checkpoint  # noqa: PLC0415
    from gensuite.common.errors import InputFileError  # noqa: PLC0415

    try:
        info = resolve_checkpoint(source, kind=kind)
    except InputFileError:
        raise InputFileError(source, "holds no training checkpoints (checkpoints/) and is "
                                     f"not a saved {what}") from None
    check_run_config(info.path, config, flag="--init-from", may_differ=may_differ)
    return info


def has_checkpoints(run_dir: str | os.PathLike) -> bool:
    """Whether ``RUN/checkpoints`` holds anything."""
    path = os.path.join(os.fspath(run_dir), CHECKPOINT_DIR)
    return os.path.isdir(path) and bool(os.listdir(path))
