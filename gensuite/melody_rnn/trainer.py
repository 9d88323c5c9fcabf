"""MelodyRNN training loop, evaluation and resumable run folders.

Data: melodies come from :mod:`gensuite.melody_rnn.data` (Magenta's
``melody_rnn_pipeline``: extracted, split by sequence, squashed to C within
the model's range) as event arrays; batches are encoded on the fly (numpy,
:func:`make_batch`), so memory stays at one int per step.

Training: masked softmax cross-entropy (mean over valid steps, as Magenta's
``loss``), Adam with global-norm clipping, dropout from the config. A run
folder holds::

    RUN/checkpoints/ckpt-STEP.*   weights + optimizer slots + step (resume;
                                  gensuite.training.checkpointing)
    RUN/model.weights.h5, config.json, meta.json   the exported model:
                                  MelodyRNN.load(RUN) works; meta.json figures
                                  hold step, train_seconds, eval figures
    RUN/logs/train, RUN/logs/eval, RUN/metrics.jsonl   TensorBoard scalars
    RUN/melodies.npz, melodies.json   the extracted melodies, when
                                  gensuite.melody_rnn.data.prepare_run_melodies made them

Every file is written atomically; the state is saved every
``checkpoint_every_seconds``, at the end, and on KeyboardInterrupt.

Under a ``tf.distribute`` strategy (``strategy=``, see
:mod:`gensuite.training.distribute`) each batch is split over the replicas,
which divide their summed cross-entropy by the valid steps of the *global*
batch; the summed gradients are clipped and applied once, so the step equals
the one-device step on the whole batch (dropout aside: each replica draws its
own masks). Only the chief writes the run folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from gensuite.checkpoints import META_FILE
from gensuite.common.errors import NoExamplesError, ParameterError
from gensuite.melody_rnn import encodings as ee
from gensuite.melody_rnn.configs import MelodyRNNConfig
from gensuite.melody_rnn.model import MelodyRNN
from gensuite.training.checkpointing import MetricsLogger, TrainingCheckpoint, check_run_config
from gensuite.training.distribute import (
    any_worker,
    is_chief,
    is_distributed,
    per_replica_batch,
    split_batch,
    sum_over_replicas,
)
from gensuite.training.loop import run_training_loop

ADAM_EPSILON = 1e-8  # TF1 AdamOptimizer's default (Keras uses 1e-7)


# ----------------------------------------------------------------------------
# Batches
# ----------------------------------------------------------------------------

def make_batch(encoding: ee.MelodyEncoding, melodies: Sequence[np.ndarray], *,
               window_steps: int | None = None, rng: np.random.Generator | None = None,
               pad_multiple: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encode melodies into one padded batch of training pairs.

    Each melody of T events gives T - 1 steps (inputs of events 0..T-2,
    labels of events 1..T-1). With ``window_steps`` a random window of at
    most that many steps is cut from each, starting on a bar line (a multiple
    of 16 steps); inputs are encoded from the whole melody first, so the
    window keeps its key and position context.

    Parameters
    ----------
    encoding : MelodyEncoding
    melodies : sequence of numpy.ndarray of int, each (T_i,), T_i >= 2, in range
    window_steps : int, optional
    rng : numpy.random.Generator, optional
        Needed with ``window_steps``.
    pad_multiple : int
        Pad the time axis to a multiple of this (fewer distinct shapes).

    Returns
    -------
    inputs : numpy.ndarray of float32, shape (batch, T, input_size)
    labels : numpy.ndarray of int32, shape (batch, T)
    lengths : numpy.ndarray of int32, shape (batch,)
    """
    lengths = np.array([len(m) - 1 for m in melodies], np.int64)
    if lengths.size == 0 or lengths.min() < 1:
        raise ParameterError("melodies: need at least one melody, each of >= 2 events")
    starts = np.zeros(len(melodies), np.int64)
    if window_steps is not None:
        bar = ee.STEPS_PER_BAR
        n_starts = np.maximum((lengths - window_steps) // bar, 0) + 1
        starts = rng.integers(0, n_starts) * bar
        lengths = np.minimum(lengths - starts, window_steps)
    # Encodings are causal: events past the last window never matter.
    n_events = int((starts + lengths).max()) + 1
    events = np.full((len(melodies), n_events), ee.NO_EVENT, np.int64)
    for row, melody in enumerate(melodies):
        kept = melody[:n_events]
        events[row, :len(kept)] = kept
    inputs = encoding.encode_inputs(events)[:, :-1]
    labels = encoding.encode_labels(events)[:, 1:]
    n_steps = int(-(-lengths.max() // pad_multiple) * pad_multiple)
    steps = starts[:, None] + np.arange(n_steps)[None, :]
    valid = np.arange(n_steps)[None, :] < lengths[:, None]
    steps = np.where(valid, np.minimum(steps, inputs.shape[1] - 1), 0)
    rows = np.arange(len(melodies))[:, None]
    batch_inputs = np.where(valid[..., None], inputs[rows, steps], 0.0).astype(np.float32)
    batch_labels = np.where(valid, labels[rows, steps], 0).astype(np.int32)
    return batch_inputs, batch_labels, lengths.astype(np.int32)


# ----------------------------------------------------------------------------
# Losses and metrics
# ----------------------------------------------------------------------------

def masked_sums(logits: tf.Tensor, labels: tf.Tensor, lengths: tf.Tensor):
    """Summed cross-entropy (nats), correct predictions and valid steps of a batch.

    Parameters
    ----------
    logits : tf.Tensor, shape (batch, T, num_classes)
    labels : tf.Tensor, shape (batch, T), int
    lengths : tf.Tensor, shape (batch,), int

    Returns
    -------
    cross_entropy, correct, n_steps : tf.Tensor scalars, float32
    """
    mask = tf.sequence_mask(lengths, tf.shape(labels)[1], dtype=tf.float32)
    labels = tf.cast(labels, tf.int32)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), tf.float32)
    return tf.reduce_sum(ce * mask), tf.reduce_sum(correct * mask), tf.reduce_sum(mask)


def evaluate_melody_rnn(model: MelodyRNN, melodies: Sequence[np.ndarray], *,
                        batch_size: int = 64) -> dict:
    """Held-out log-perplexity per step and next-step accuracy on whole melodies.

    Parameters
    ----------
    model : MelodyRNN
    melodies : sequence of numpy.ndarray
        Squashed melodies (:func:`gensuite.melody_rnn.data.build_melody_datasets`
        output), each >= 2 events.

    Returns
    -------
    dict
        ``n_examples``, ``n_steps``, ``log_perplexity`` (mean nats per
        predicted step, Magenta's ``loss_per_step``), ``perplexity``,
        ``accuracy`` and ``hold_share``: the share of predicted steps that hold
        a note (no event), the accuracy of always predicting a hold, which
        music of long notes makes high.

    Raises
    ------
    NoExamplesError
        If ``melodies`` is empty.
    """
    if not melodies:
        raise NoExamplesError("no evaluation melodies")
    order = np.argsort([len(m) for m in melodies])  # similar lengths: less padding
    step_fn = _eval_step_fn(model)
    totals = np.zeros(3)
    for start in range(0, len(order), batch_size):
        batch = [melodies[i] for i in order[start:start + batch_size]]
        inputs, labels, lengths = make_batch(model.encoding, batch, pad_multiple=64)
        totals += [float(v) for v in step_fn(inputs, labels, lengths)]
    ce, correct, n_steps = totals
    holds = sum(int(np.count_nonzero(m[1:] == ee.NO_EVENT)) for m in melodies)
    return {"n_examples": len(melodies), "n_steps": int(n_steps),
            "log_perplexity": float(ce / n_steps), "perplexity": float(np.exp(ce / n_steps)),
            "accuracy": float(correct / n_steps), "hold_share": holds / n_steps}


def batch_signature(config: MelodyRNNConfig) -> list[tf.TensorSpec]:
    """Specs of (inputs, labels, lengths) with open batch and time axes (one trace)."""
    return [tf.TensorSpec([None, None, config.input_size], tf.float32),
            tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)]


def _eval_step_fn(model: MelodyRNN):
    fn = getattr(model, "_eval_step", None)
    if fn is None:
        @tf.function(input_signature=batch_signature(model.config))
        def fn(inputs, labels, lengths):
            return masked_sums(model.network(inputs, training=False), labels, lengths)
        model._eval_step = fn  # cached on the model: one trace per model
    return fn


# ----------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What :func:`train_melody_rnn` returns.

    Attributes
    ----------
    step : int
        Optimizer steps taken in total (across resumes).
    train_seconds : float
        Wall time spent training, across resumes.
    examples_per_second : float
        Training throughput of this call.
    last_loss, last_accuracy : float
        Of the last training batch.
    eval : dict or None
        Last :func:`evaluate_melody_rnn` result.
    resumed_from : int
        Step the run resumed from (0 for a fresh run).
    """

    step: int
    train_seconds: float
    examples_per_second: float
    last_loss: float
    last_accuracy: float
    eval: dict | None
    resumed_from: int


def make_optimizer(config: MelodyRNNConfig) -> keras.optimizers.Optimizer:
    """Adam at the config's learning rate, clipping the global gradient norm."""
    return keras.optimizers.Adam(learning_rate=config.learning_rate, epsilon=ADAM_EPSILON,
                                 global_clipnorm=config.clip_norm)


def train_melody_rnn(model: MelodyRNN, train_melodies: Sequence[np.ndarray],
                     eval_melodies: Sequence[np.ndarray] = (), *, run_dir: str | os.PathLike,
                     num_steps: int, max_seconds: float | None = None,
                     eval_every_steps: int = 500, log_every_steps: int = 10,
                     checkpoint_every_seconds: float = 300.0, seed: int = 0,
                     progress: bool = True, jit_compile: bool = False,
                     strategy: tf.distribute.Strategy | None = None) -> TrainResult:
    """Train (or resume training) a MelodyRNN; keep a resumable run folder.

    If ``run_dir`` holds a training checkpoint, weights, optimizer slots and
    step are restored (its ``config.json`` must equal ``model.config``) and
    training continues up to ``num_steps`` in total.

    Parameters
    ----------
    model : MelodyRNN
    train_melodies, eval_melodies : sequence of numpy.ndarray
        Squashed melodies (:func:`gensuite.melody_rnn.data.build_melody_datasets`).
    run_dir : str or os.PathLike
    num_steps : int
        Total optimizer steps to reach.
    max_seconds : float, optional
        Stop once this much training wall time has accumulated over all
        sessions of the run (for equal-time comparisons); the state is saved.
    eval_every_steps : int
        Held-out evaluation interval (also at the end), if there are eval
        melodies; 0 only at the end.
    log_every_steps : int
        Training scalars interval (TensorBoard and ``metrics.jsonl``).
    checkpoint_every_seconds : float
        Save interval.
    seed : int
        Batches of step s come from ``default_rng((seed, s))``: resuming
        replays exactly the batches a straight run would see.
    progress : bool
        Report progress (a bar on a terminal, else a line every 30 s).
    jit_compile : bool, optional
        Compile the whole train step with XLA (never under a distributed
        ``strategy``, see :func:`_make_distributed_train_step`). Off by
        default: plain LSTMs run slower under XLA on CPU, and the attention
        cell compiles its own loops (:func:`gensuite.melody_rnn.attention.attention_sequence`).
        Compare: ``python benchmarks/rnn.py --jit off`` (then ``--jit on``).
    strategy : tf.distribute.Strategy, optional
        From :func:`gensuite.training.distribute.make_strategy`: each batch is
        split over its replicas (the batch size must divide evenly), and
        ``model`` must have been built inside ``strategy.scope()``. Only the
        chief writes the run folder. Default: one device.

    Returns
    -------
    TrainResult

    Raises
    ------
    ParameterError
        Bad argument, ``run_dir`` holds a run of another config, the batch
        does not split over the strategy's replicas, or ``model`` was built
        outside the strategy's scope.
    NoExamplesError
        No training melodies.
    KeyboardInterrupt
        Re-raised after the state is saved.
    """
    if not train_melodies:
        raise NoExamplesError("no training melodies")
    if isinstance(num_steps, bool) or int(num_steps) != num_steps or num_steps < 0:
        raise ParameterError(f"num_steps: must be an integer >= 0, got {num_steps!r}")
    run_dir = os.fspath(run_dir)
    config = model.config
    strategy = strategy or tf.distribute.get_strategy()
    chief = is_chief(strategy)
    progress = progress and chief
    per_replica_batch(strategy, config.batch_size)
    check_built_in_scope(strategy, model.network)
    if chief:
        os.makedirs(run_dir, exist_ok=True)
    check_run_config(run_dir, config)
    with strategy.scope():
        optimizer = make_optimizer(config)
        # Build after the model exists (its cells create their weights up front),
        # so restoring finds every slot variable.
        optimizer.build(model.network.trainable_variables)
    checkpoint = TrainingCheckpoint(run_dir, model=model.network, optimizer=optimizer,
                                    chief=chief)
    step = checkpoint.restore_latest() or 0
    resumed_from = step
    train_seconds = _saved_train_seconds(run_dir) if step else 0.0
    logger = MetricsLogger(run_dir, enabled=chief)
    if is_distributed(strategy):
        train_step = _make_distributed_train_step(model.network, optimizer, strategy)
    else:
        train_step = _make_train_step(model.network, optimizer, jit_compile=jit_compile)
    eval_result = None
    call_start = time.perf_counter()

    def elapsed() -> float:
        return train_seconds + time.perf_counter() - call_start

    def out_of_time() -> bool:
        return max_seconds is not None and elapsed() >= max_seconds

    def save() -> None:
        checkpoint.save()
        if not chief:
            return
        figures = {"step": step, "train_seconds": round(elapsed(), 1),
                   "train_melodies": len(train_melodies), "eval_melodies": len(eval_melodies)}
        if eval_result is not None:
            figures.update(eval_log_perplexity=eval_result["log_perplexity"],
                           eval_accuracy=eval_result["accuracy"], eval_step=eval_result["step"])
        model.save(run_dir, figures=figures)

    def run_eval() -> None:
        # Every worker evaluates, so that all take the same saves (each save
        # needs every worker) whatever the figures.
        nonlocal eval_result
        if not eval_melodies:
            return
        eval_result = dict(evaluate_melody_rnn(model, eval_melodies), step=step)
        logger.log("eval", step, {"log_perplexity": eval_result["log_perplexity"],
                                  "accuracy": eval_result["accuracy"]})

    def step_fn() -> dict:
        nonlocal step
        rng = np.random.default_rng((seed, step))
        chosen = rng.choice(len(train_melodies), size=config.batch_size,
                            replace=len(train_melodies) < config.batch_size)
        inputs, labels, lengths = make_batch(
            model.encoding, [train_melodies[i] for i in chosen],
            window_steps=config.train_window_steps, rng=rng)
        loss, accuracy, grad_norm = train_step(inputs, labels, lengths)
        step += 1
        return {"loss": float(loss), "accuracy": float(accuracy),
                "gradient_norm": float(grad_norm)}

    def evaluate_when_due(at_step: int, last: dict) -> None:
        # The last step's evaluation runs before the loop's final save, so
        # the exported figures include it.
        if ((eval_every_steps and at_step % eval_every_steps == 0)
                or at_step >= num_steps or out_of_time()):
            run_eval()

    last = {}
    if step < num_steps:
        last = run_training_loop(
            step_fn, get_step=lambda: step, num_steps=num_steps, save=save, logger=logger,
            log_every=log_every_steps, checkpoint_every_s=checkpoint_every_seconds,
            progress=progress, desc=f"rnn train {config.name}", after_step=evaluate_when_due,
            stop_when=out_of_time, agree=any_worker(strategy),
            postfix=lambda m: {"loss": f"{m['loss']:.3f}", "acc": f"{m['accuracy']:.3f}"})
    if eval_result is None or eval_result["step"] != step:
        run_eval()
        save()
    this_call = time.perf_counter() - call_start
    steps_done = step - resumed_from
    return TrainResult(step=step, train_seconds=elapsed(),
                       examples_per_second=(steps_done * config.batch_size / this_call
                                            if this_call > 0 else 0.0),
                       last_loss=last.get("loss", float("nan")),
                       last_accuracy=last.get("accuracy", float("nan")), eval=eval_result,
                       resumed_from=resumed_from)


def _saved_train_seconds(run_dir: str) -> float:
    # Wall time so far lives in the exported meta.json, saved with each checkpoint.
    try:
        with open(os.path.join(run_dir, META_FILE), encoding="utf-8") as f:
            return float(json.load(f).get("figures", {}).get("train_seconds", 0.0))
    except (OSError, ValueError, TypeError):
        return 0.0


def check_built_in_scope(strategy: tf.distribute.Strategy, network) -> None:
    """ParameterError unless ``network``'s variables belong to a distributed ``strategy``.

    A model built outside the scope has plain variables that the replicas
    would not share; the optimizer could not apply summed gradients to them.
    """
    if is_distributed(strategy) and not all(
            strategy.extended.variable_created_in_scope(v.value)
            for v in network.trainable_variables):
        raise ParameterError("model: build it inside strategy.scope() to train it under "
                             f"{type(strategy).__name__}")


def _make_train_step(network, optimizer, *, jit_compile: bool):
    variables = network.trainable_variables

    @tf.function(input_signature=batch_signature(network.config), jit_compile=jit_compile)
    def train_step(inputs, labels, lengths):
        with tf.GradientTape() as tape:
            logits = network(inputs, training=True)
            ce, correct, n_steps = masked_sums(logits, labels, lengths)
            loss = ce / n_steps
        grads = tape.gradient(loss, variables)
        grad_norm = tf.linalg.global_norm(grads)
        optimizer.apply_gradients(zip(grads, variables))
        return loss, correct / n_steps, grad_norm

    return train_step


def _make_distributed_train_step(network, optimizer, strategy: tf.distribute.Strategy):
    """The train step under ``strategy``: same signature and figures as :func:`_make_train_step`.

    Each replica divides its summed cross-entropy by the valid steps of the
    global batch (not its own share), so the replicas' losses and gradients
    add up to the one-device mean over the whole batch. Without XLA: compiled
    inside ``strategy.run`` on logical CPU devices, a replica's step looks
    for the other replicas' variables on its own device and fails
    (TensorFlow's "tf.Variable on a different device" XLA limitation).
    """
    variables = network.trainable_variables

    def replica_gradients(inputs, labels, lengths, global_steps):
        with tf.GradientTape() as tape:
            logits = network(inputs, training=True)
            ce, correct, _ = masked_sums(logits, labels, lengths)
            loss = ce / global_steps
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
        return grads, loss, correct

    # Batches differ in length (padded to multiples of 16): one trace, not one a length.
    @tf.function(reduce_retracing=True)
    def apply_batch(inputs, labels, lengths, global_steps):
        per_replica = strategy.run(replica_gradients,
                                   args=(inputs, labels, lengths, global_steps))
        grads, loss, correct = sum_over_replicas(strategy, per_replica)
        grad_norm = tf.linalg.global_norm(grads)
        # In cross-replica context the optimizer's global_clipnorm clips the
        # summed gradients once, as one device clips the whole batch's.
        optimizer.apply_gradients(zip(grads, variables))
        return loss, correct / global_steps, grad_norm

    def train_step(inputs, labels, lengths):
        global_batch = len(lengths)
        # Every valid step of the global batch (lengths never exceed its time axis).
        global_steps = tf.constant(float(np.sum(lengths)), tf.float32)
        return apply_batch(*split_batch(strategy, (inputs, labels, lengths), global_batch),
                           global_steps)

    return train_step
