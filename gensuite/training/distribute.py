"""Training on ``tf.distribute``: the strategy a trainer runs under, and its chores.

Three strategies, by the name of the trainers' ``--strategy`` option:

* ``default``: no distribution (``tf.distribute.get_strategy()`` outside any
  scope); trainers keep their single-device code path and numbers.
* ``mirrored``: ``MirroredStrategy`` over this host's GPUs, or over its
  logical CPU devices where there is no GPU.
* ``multi-worker``: ``MultiWorkerMirroredStrategy`` across the hosts that
  ``TF_CONFIG`` names (see docs/distributed.md).

A distributed trainer splits each global batch into equal, contiguous
per-replica slices (replica ``r`` of ``n`` gets rows ``r*B/n .. (r+1)*B/n``),
scales every per-example loss by the *global* batch, sums the replicas'
gradients and applies them once, so a step computes what one device computes
on the whole batch. Only the chief writes checkpoints, logs and exports;
the other workers take part in each save (``MultiWorkerMirroredStrategy``
needs them to) but write it into a temporary folder that is then deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable

import tensorflow as tf

from gensuite.common.errors import ParameterError

STRATEGIES = ("default", "mirrored", "multi-worker")
DEFAULT_STRATEGY = "default"


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name`` (one of :data:`STRATEGIES`).

    Must be called before TensorFlow runs anything else in a ``multi-worker``
    process: the strategy starts this worker's server.

    Raises
    ------
    ParameterError
        For an unknown name, or ``multi-worker`` without ``TF_CONFIG``.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        # MirroredStrategy() alone takes every GPU, or only CPU:0 when there is
        # none; listing the logical CPUs lets a CPU host (and the tests) split.
        devices = (tf.config.list_logical_devices("GPU")
                   or tf.config.list_logical_devices("CPU"))
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise ParameterError("--strategy multi-worker: set TF_CONFIG on every host "
                                 "(see docs/distributed.md)")
        cluster_spec(os.environ["TF_CONFIG"])  # a malformed TF_CONFIG fails here, in our words
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ParameterError(f"strategy: must be one of {', '.join(STRATEGIES)}, got {name!r}")


def cluster_spec(tf_config: str) -> dict:
    """``TF_CONFIG``'s JSON as a dict with ``cluster`` and ``task``, or ParameterError."""
    try:
        spec = json.loads(tf_config)
        task_type, task_index = spec["task"]["type"], int(spec["task"]["index"])
        if not 0 <= task_index < len(spec["cluster"][task_type]):
            raise IndexError(f"task index {task_index} is not a {task_type} of the cluster")
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ParameterError(
            f"TF_CONFIG: must be JSON with cluster (task type -> host:port list) and task "
            f"(type, index) naming one of those hosts ({type(exc).__name__}: {exc})") from None
    return spec


def is_distributed(strategy: tf.distribute.Strategy) -> bool:
    """Whether ``strategy`` splits batches (else trainers take their one-device path)."""
    return isinstance(strategy, (tf.distribute.MirroredStrategy,
                                 tf.distribute.MultiWorkerMirroredStrategy))


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's checkpoints, logs and exports.

    Every process is the chief except under ``MultiWorkerMirroredStrategy``,
    where ``TF_CONFIG`` decides: task type ``chief``, or ``worker`` 0 in a
    cluster without a chief.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    return task_is_chief(os.environ.get("TF_CONFIG", "{}"))


def task_is_chief(tf_config: str) -> bool:
    """Whether ``TF_CONFIG`` (JSON text) makes this task the chief (see :func:`is_chief`)."""
    spec = cluster_spec(tf_config)
    task_type, task_index = spec["task"]["type"], int(spec["task"]["index"])
    if task_type == "chief":
        return True
    return task_type == "worker" and task_index == 0 and "chief" not in spec["cluster"]


@contextlib.contextmanager
def throwaway_folder(prefix: str = "gensuite-worker-"):
    """A fresh local temporary folder, deleted on exit.

    Where a non-chief worker writes its share of a checkpoint: it must take
    part in every save, but the run keeps only the chief's.
    """
    folder = tempfile.mkdtemp(prefix=prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def per_replica_batch(strategy: tf.distribute.Strategy, global_batch: int) -> int:
    """Rows of a global batch each replica trains on; ParameterError unless it divides."""
    replicas = strategy.num_replicas_in_sync
    if global_batch % replicas:
        raise ParameterError(
            f"batch size {global_batch} does not split evenly over {replicas} replicas; "
            f"use a config whose batch size is a multiple of {replicas}")
    return global_batch // replicas


def split_batch(strategy: tf.distribute.Strategy, arrays, global_batch: int):
    """Distribute a global batch: each replica gets its contiguous slice of every array.

    Every worker holds the same global batch (same data, same seed), so the
    replicas of all workers together see it once.

    Parameters
    ----------
    arrays : tuple of np.ndarray or tf.Tensor
        Each with ``global_batch`` rows.

    Returns
    -------
    tuple of per-replica values, for ``strategy.run``.
    """
    rows = per_replica_batch(strategy, global_batch)

    def replica_slice(context):
        first = context.replica_id_in_sync_group * rows
        return tuple(a[first:first + rows] for a in arrays)

    return strategy.experimental_distribute_values_from_function(replica_slice)


def replica_first_row(rows: int) -> tf.Tensor:
    """Inside ``strategy.run``: the global-batch index of this replica's first row."""
    return tf.distribute.get_replica_context().replica_id_in_sync_group * rows


def global_rows(draw, shape, first_row, global_batch: int):
    """Random draws for this replica's rows, as the whole batch would draw them.

    Parameters
    ----------
    draw : callable
        ``shape -> tensor`` of stateless random draws (fixed seed inside).
    shape : shape-like
        This replica's shape; its first axis is its share of the batch.
    first_row : int or scalar tensor, or None
        From :func:`replica_first_row`; None draws ``shape`` directly (one device).
    global_batch : int
    """
    if first_row is None:
        return draw(shape)
    shape = tf.convert_to_tensor(shape)
    draws = draw(tf.concat([[global_batch], shape[1:]], axis=0))
    return draws[first_row:first_row + shape[0]]


def average_loss(per_example: tf.Tensor, global_batch: int | None = None) -> tf.Tensor:
    """The batch mean of ``per_example`` (a replica's share of it, given ``global_batch``).

    Summing the replicas' shares gives the mean over the global batch; with
    ``global_batch`` None this is ``tf.reduce_mean``, the single-device loss.
    """
    if global_batch is None:
        return tf.reduce_mean(per_example)
    return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)


def any_worker(strategy: tf.distribute.Strategy) -> Callable[[bool], bool] | None:
    """``(flag) -> bool``: whether any worker's flag is set; None on one host.

    Under ``MultiWorkerMirroredStrategy`` a collective call that every worker
    makes at the same step (see ``run_training_loop``'s ``agree``).
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return None

    def agree(flag: bool) -> bool:
        values = strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(float(flag)))
        return bool(strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None) > 0)

    return agree


def sum_over_replicas(strategy: tf.distribute.Strategy, values):
    """Sum every per-replica tensor of a nested structure (cross-replica context)."""
    return tf.nest.map_structure(
        lambda v: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None), values)


def summed_over_slices(strategy: tf.distribute.Strategy, fn, arrays, global_batch: int,
                       *whole):
    """``fn(*slices, *whole)`` on every replica, its outputs summed (cross-replica context).

    Each replica gets its contiguous slice of every array of ``arrays``
    (:func:`split_batch`) and the tensors of ``whole`` as they are. For a
    replica step whose outputs are shares of the global batch (gradients and
    losses divided by the global batch): the sums are one device's values.
    """
    per_replica = strategy.run(fn, args=(*split_batch(strategy, arrays, global_batch), *whole))
    return sum_over_replicas(strategy, per_replica)


def first_replica(strategy: tf.distribute.Strategy, values):
    """Values every replica computed alike (schedules, clipped norms): the first's."""
    return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0], values)
