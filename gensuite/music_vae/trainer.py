"""MusicVAE training loop (Magenta's ``music_vae_train``) and evaluation.

:class:`VAETrainer` owns a run folder::

    RUN/config.json           the MusicVAEConfig (a restart must use the same one)
    RUN/checkpoints/          resumable checkpoints: weights + Adam slots + step
    RUN/logs/{train,eval}/    TensorBoard event files
    RUN/metrics.jsonl         the same scalars as JSON lines

Constructing a trainer on an existing run folder restores the newest
checkpoint, so the step counter and every schedule (beta, sampling
probability, learning rate) continue where they stopped. Checkpoints are
written every ``checkpoint_every_minutes``, at the end of :meth:`VAETrainer.fit`
and on KeyboardInterrupt (then re-raised).

Per step: z from the posterior (reparameterised), scheduled sampling with
``p = sampling_probability(step)``, loss ``mean(r_loss) + beta *
mean(max(KL - free_bits ln 2, 0))``, gradients clipped to global norm
``grad_clip`` (and dropped when the norm reaches ``grad_norm_clip_to_zero``),
Adam with ``(lr - min_lr) * decay**step + min_lr``.

Under a ``tf.distribute`` strategy (``strategy=``, see
:mod:`gensuite.training.distribute`) each batch is split over the replicas,
which draw the whole batch's random numbers for their rows and scale their
losses by the global batch; the summed gradients are clipped and applied
once, so the step equals the one-device step on the whole batch.
"""

from __future__ import annotations

import dataclasses
import os
import time

import keras
import numpy as np
import tensorflow as tf

from gensuite.common.errors import NoExamplesError, ParameterError
from gensuite.music_vae.configs import MusicVAEConfig
from gensuite.music_vae.decoder import gumbel_noise
from gensuite.music_vae.losses import (
    LN2,
    accuracy_from_counts,
    constant_accuracy,
    free_bits_kl_cost,
    kl_divergence,
    reconstruction_terms,
)
from gensuite.music_vae.model import MusicVAE, MusicVAENetwork, split_seed
from gensuite.music_vae.schedules import (
    MagentaLearningRate,
    kl_beta,
    learning_rate,
    sampling_probability,
)
from gensuite.training.checkpointing import (
    MetricsLogger,
    TrainingCheckpoint,
    check_run_config,
    record_run_config,
)
from gensuite.training.distribute import (
    any_worker,
    average_loss,
    first_replica,
    is_chief,
    is_distributed,
    per_replica_batch,
    replica_first_row,
    split_batch,
    sum_over_replicas,
)
from gensuite.training.loop import run_training_loop

SCHEDULE_METRICS = ("beta", "p_sample", "learning_rate")
# Magenta uses TF1 Adam's epsilon.
ADAM_EPSILON = 1e-8


@dataclasses.dataclass(frozen=True)
class VAEArrays:
    """A data set as padded arrays.

    Attributes
    ----------
    inputs : np.ndarray, shape (n, n_steps, input_depth), bool or float
    outputs : np.ndarray, shape (n, n_steps, output_depth), bool or float
    lengths : np.ndarray, shape (n,), int
    """

    inputs: np.ndarray
    outputs: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)

    def take(self, index) -> "VAEArrays":
        """The examples at ``index`` (any numpy index)."""
        return VAEArrays(self.inputs[index], self.outputs[index], self.lengths[index])


def examples_to_arrays(inputs, outputs, lengths, *, n_steps: int) -> VAEArrays:
    """Pad converter tensors (lists of ``(steps, depth)`` arrays) to ``n_steps``.

    Parameters
    ----------
    inputs, outputs : list of np.ndarray
        Per-example arrays, as ``ConverterTensors.inputs`` / ``.outputs``.
    lengths : list of int
    n_steps : int

    Raises
    ------
    NoExamplesError
        If there are no examples.
    """
    if not len(lengths):
        raise NoExamplesError("no examples to train or evaluate on")
    def pad(arrays):
        depth = np.asarray(arrays[0]).shape[-1]
        out = np.zeros((len(arrays), n_steps, depth), dtype=bool)
        for i, a in enumerate(arrays):
            a = np.asarray(a)[:n_steps]
            out[i, :len(a)] = a
        return out
    return VAEArrays(pad(inputs), pad(outputs),
                     np.minimum(np.asarray(lengths, dtype=np.int32), n_steps))


def split_arrays(data: VAEArrays, *, eval_fraction: float,
                 seed: int = 0) -> tuple[VAEArrays, VAEArrays]:
    """Shuffle (seeded) and split into (train, eval); eval gets >= 1 example if any."""
    if not 0 < eval_fraction < 1:
        raise ParameterError(f"eval_fraction: must be in (0, 1), got {eval_fraction!r}")
    order = np.random.default_rng(seed).permutation(len(data))
    n_eval = max(1, int(round(len(data) * eval_fraction))) if len(data) > 1 else 0
    return data.take(order[n_eval:]), data.take(order[:n_eval])


def make_train_dataset(data: VAEArrays, *, batch_size: int, seed: int = 0) -> tf.data.Dataset:
    """Shuffled, repeated batches ``(inputs, outputs, lengths)`` of fixed size."""
    if not len(data):
        raise NoExamplesError("no training examples")
    ds = tf.data.Dataset.from_tensor_slices((data.inputs, data.outputs, data.lengths))
    ds = ds.shuffle(len(data), seed=seed, reshuffle_each_iteration=True).repeat()
    return ds.batch(batch_size, drop_remainder=True).map(_cast_batch).prefetch(2)


def make_eval_dataset(data: VAEArrays, *, batch_size: int) -> tf.data.Dataset:
    """Batches in order, the last one possibly smaller."""
    ds = tf.data.Dataset.from_tensor_slices((data.inputs, data.outputs, data.lengths))
    return ds.batch(batch_size).map(_cast_batch).prefetch(2)


def _cast_batch(inputs, outputs, lengths):
    return (tf.cast(inputs, tf.float32), tf.cast(outputs, tf.float32), tf.cast(lengths, tf.int32))


def _batch_spec(config: MusicVAEConfig):
    return [tf.TensorSpec([None, config.n_steps, config.input_depth], tf.float32),
            tf.TensorSpec([None, config.n_steps, config.output_depth], tf.float32),
            tf.TensorSpec([None], tf.int32)]


class Evaluator:
    """Held-out metrics of a network: teacher-forced, sampled and greedy accuracy, losses.

    Sampled accuracy is Magenta's eval-job accuracy: z is a posterior sample,
    every decoder step reads the decoder's own sample (temperature 1) of the
    previous step, and the argmax at each step is compared with the target,
    padding excluded. Greedy accuracy decodes from the posterior mean and
    feeds back argmaxes. Seeds are fixed per batch, so the same data gives the
    same figures.
    """

    def __init__(self, network: MusicVAENetwork, *, seed: int = 0):
        self.network = network
        self.config = network.config
        self.seed = int(seed)
        self._step = tf.function(self._eval_batch, input_signature=_batch_spec(self.config)
                                 + [tf.TensorSpec([2], tf.int64)])

    def _eval_batch(self, inputs, outputs, lengths, seed):
        c, net = self.config, self.network
        seeds = split_seed(seed, 2)
        mu, sigma = net.encode(inputs, lengths)
        z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed=seeds[0])
        noise = gumbel_noise(tf.shape(outputs), seeds[1])
        figures = {}
        fed_back = tf.ones(tf.shape(outputs)[:2], tf.bool)
        # Teacher forcing; every step fed the decoder's own sample (Magenta's
        # sampled accuracy); and what a user's reconstruction at low temperature
        # gets: z = mu, every step fed the previous argmax.
        for name, latent, mask, step_noise in (
                ("teacher_forced", z, None, noise), ("sampled", z, fed_back, noise),
                ("greedy", mu, fed_back, tf.zeros_like(noise))):
            logits, _ = net.decode(latent, outputs, mask, step_noise)
            terms = reconstruction_terms(logits, outputs, lengths, c.output_depths)
            figures[f"{name}_correct"] = terms["correct"]
            figures[f"{name}_r_loss"] = tf.reduce_sum(terms["r_loss"])
        kl = kl_divergence(mu, sigma)
        figures["kl"] = tf.reduce_sum(kl)
        figures["kl_cost"] = tf.reduce_sum(free_bits_kl_cost(kl, c.free_bits))
        figures["n_valid"] = terms["n_valid"]
        valid = tf.sequence_mask(lengths, tf.shape(outputs)[1], outputs.dtype)
        figures["class_counts"] = tf.reduce_sum(outputs * valid[..., None], axis=[0, 1])
        figures["n_examples"] = tf.cast(tf.shape(inputs)[0], tf.float32)
        return figures

    def evaluate(self, data: VAEArrays | tf.data.Dataset, *, batch_size: int | None = None,
                 max_batches: int | None = None, step: int = 0) -> dict[str, float]:
        """Evaluate on arrays or on a dataset of ``(inputs, outputs, lengths)`` batches.

        Parameters
        ----------
        step : int
            Only for ``beta`` in the reported total loss.

        Returns
        -------
        dict
            ``n_examples``, ``teacher_forced_accuracy``, ``sampled_accuracy``,
            ``greedy_accuracy`` (z = mu, each step fed the previous argmax),
            ``r_loss`` and ``sampled_r_loss`` (mean per sequence, nats),
            ``kl_bits`` (mean), ``loss`` (teacher-forced r_loss + beta * KL cost),
            ``constant_accuracy`` (always the most frequent class: the floor).
        """
        c = self.config
        if isinstance(data, VAEArrays):
            if not len(data):
                raise NoExamplesError("no evaluation examples")
            data = make_eval_dataset(data, batch_size=batch_size or c.batch_size)
        totals: dict[str, np.ndarray] = {}
        for i, (inputs, outputs, lengths) in enumerate(data):
            if max_batches is not None and i >= max_batches:
                break
            seed = tf.constant([self.seed, i], tf.int64)
            for key, value in self._step(inputs, outputs, lengths, seed).items():
                totals[key] = totals.get(key, 0.0) + value.numpy().astype(np.float64)
        if not totals:
            raise NoExamplesError("no evaluation examples")
        n, n_valid = totals["n_examples"], max(totals["n_valid"], 1.0)
        beta = float(kl_beta(step, max_beta=c.max_beta, beta_rate=c.beta_rate))
        return {
            "n_examples": int(n),
            "teacher_forced_accuracy": accuracy_from_counts(totals["teacher_forced_correct"],
                                                            n_valid),
            "sampled_accuracy": accuracy_from_counts(totals["sampled_correct"], n_valid),
            "greedy_accuracy": accuracy_from_counts(totals["greedy_correct"], n_valid),
            "constant_accuracy": constant_accuracy(totals["class_counts"], n_valid,
                                                   c.output_depths),
            "r_loss": float(totals["teacher_forced_r_loss"] / n),
            "sampled_r_loss": float(totals["sampled_r_loss"] / n),
            "kl_bits": float(totals["kl"] / n / LN2),
            "loss": float((totals["teacher_forced_r_loss"] + beta * totals["kl_cost"]) / n),
        }


class VAETrainer:
    """Train a MusicVAE in a run folder, resuming from its newest checkpoint.

    Parameters
    ----------
    config : MusicVAEConfig
    run_dir : str or os.PathLike
    seed : int
        Seeds the initial weights, the posterior samples, the scheduled-sampling
        draws and the data shuffle (per step: the same seed and step give the
        same draws).
    checkpoint_every_minutes : float
        Wall-clock interval between checkpoints during :meth:`fit`.
    max_to_keep : int
        Checkpoints kept in ``RUN/checkpoints``.
    log_every : int
        Steps between train-metric log records (averaged over those steps).
    progress : bool
        Report progress (a bar on a terminal, else a line every 30 s).
    jit_compile : bool
        Compile the train step with XLA.
    strategy : tf.distribute.Strategy, optional
        From :func:`gensuite.training.distribute.make_strategy`: each batch is
        split over its replicas (the batch size must divide evenly). Only the
        chief writes the run folder. Default: one device.

    Raises
    ------
    ParameterError
        If ``run_dir`` holds a run of a different config, or the batch does
        not split over the strategy's replicas.
    """

    def __init__(self, config: MusicVAEConfig, run_dir: str | os.PathLike, *, seed: int = 0,
                 checkpoint_every_minutes: float = 5.0, max_to_keep: int = 3,
                 log_every: int = 50, progress: bool = True, jit_compile: bool = False,
                 strategy: tf.distribute.Strategy | None = None):
        self.config = config
        self.run_dir = os.fspath(run_dir)
        self.seed = int(seed)
        self.checkpoint_every_s = 60.0 * float(checkpoint_every_minutes)
        self.log_every = max(1, int(log_every))
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = is_chief(self.strategy)
        self.progress = progress and self.chief
        if self.chief:
            os.makedirs(self.run_dir, exist_ok=True)
            record_run_config(self.run_dir, config)
        else:
            check_run_config(self.run_dir, config)
        per_replica_batch(self.strategy, config.batch_size)

        c = config
        with self.strategy.scope():
            self.network = MusicVAENetwork(config, seed=self.seed)
            # Weights exist at construction, so the optimizer can build its slots
            # now (they must exist before a checkpoint is restored into them).
            self.optimizer = keras.optimizers.Adam(
                learning_rate=MagentaLearningRate(c.learning_rate, c.min_learning_rate,
                                                  c.decay_rate),
                epsilon=ADAM_EPSILON)
            self.optimizer.build(self.network.trainable_variables)
        self.checkpoint = TrainingCheckpoint(
            self.run_dir, model=self.network, optimizer=self.optimizer, max_to_keep=max_to_keep,
            chief=self.chief)
        self.restored_step = self.checkpoint.restore_latest()
        self.logger = MetricsLogger(self.run_dir, enabled=self.chief)
        self.evaluator = Evaluator(self.network, seed=self.seed)
        if is_distributed(self.strategy):
            # Per-replica inputs have no TensorSpec; the fixed batch traces once.
            self._train_step = tf.function(self._distributed_batch, jit_compile=jit_compile)
        else:
            self._train_step = tf.function(self._train_batch, input_signature=_batch_spec(c),
                                           jit_compile=jit_compile)

    @property
    def step(self) -> int:
        """Optimizer steps taken so far (Magenta's global step)."""
        return int(self.optimizer.iterations.numpy())

    def _train_batch(self, inputs, outputs, lengths):
        grads, counts, schedules = self._replica_gradients(inputs, outputs, lengths)
        return self._apply_gradients(grads, counts, schedules)

    def _distributed_batch(self, inputs, outputs, lengths, *, global_batch: int):
        grads, counts, schedules = self.strategy.run(
            self._replica_gradients, args=(inputs, outputs, lengths),
            kwargs={"global_batch": global_batch})
        return self._apply_gradients(sum_over_replicas(self.strategy, grads),
                                     sum_over_replicas(self.strategy, counts),
                                     first_replica(self.strategy, schedules))

    def _replica_gradients(self, inputs, outputs, lengths, *, global_batch: int | None = None):
        """Gradients, summable figures and schedules of one batch or of a replica's share.

        With ``global_batch`` the batch is this replica's slice of a global
        batch: losses are scaled by the global batch and the random draws are
        the global batch's rows, so the replicas' sums are the one-device step.
        """
        c, net = self.config, self.network
        step = self.optimizer.iterations
        beta = kl_beta(step, max_beta=c.max_beta, beta_rate=c.beta_rate)
        if c.sampling_schedule == "constant" and c.sampling_rate == 0:
            p_sample = 0.0  # a Python 0 selects the teacher-forcing fast path
        else:
            p_sample = sampling_probability(step, schedule=c.sampling_schedule,
                                            rate=c.sampling_rate)
        seed = tf.random.experimental.stateless_fold_in(
            tf.constant([self.seed, 1], tf.int64), tf.cast(step, tf.int64))
        batch_rows = None
        if global_batch is not None:
            batch_rows = (replica_first_row(tf.shape(inputs)[0]), global_batch)
        variables = net.trainable_variables
        with tf.GradientTape() as tape:
            out = net.reconstruct(inputs, outputs, lengths, seed=seed, p_sample=p_sample,
                                  batch_rows=batch_rows)
            terms = reconstruction_terms(out["logits"], outputs, lengths, c.output_depths)
            kl = kl_divergence(out["mu"], out["sigma"])
            kl_cost = free_bits_kl_cost(kl, c.free_bits)
            r_loss = average_loss(terms["r_loss"], global_batch)
            kl_loss = average_loss(kl_cost, global_batch)
            loss = r_loss + beta * kl_loss
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
        lr = learning_rate(step, initial=c.learning_rate, minimum=c.min_learning_rate,
                           decay_rate=c.decay_rate)
        counts = {"loss": loss, "r_loss": r_loss, "kl_loss": kl_loss,
                  "kl_bits": average_loss(kl, global_batch) / LN2,
                  "correct": terms["correct"], "n_valid": terms["n_valid"]}
        schedules = {"beta": beta, "p_sample": p_sample, "learning_rate": lr}
        return grads, counts, schedules

    def _apply_gradients(self, grads, counts, schedules):
        """Clip and apply a whole batch's gradients; the step's metrics."""
        c = self.config
        norm = tf.linalg.global_norm(grads)
        # Magenta: clip to grad_clip, but drop the whole step when the norm is
        # huge (or not finite), rather than take a clipped step in a bad direction.
        keep = norm < c.grad_norm_clip_to_zero
        scale = tf.minimum(1.0, c.grad_clip / tf.maximum(norm, 1e-12))
        grads = [tf.where(keep, g * scale, tf.zeros_like(g)) for g in grads]
        self.optimizer.apply_gradients(zip(grads, self.network.trainable_variables))
        metrics = {k: counts[k] for k in ("loss", "r_loss", "kl_loss", "kl_bits")}
        return {**metrics, "beta": schedules["beta"], "p_sample": schedules["p_sample"],
                "accuracy": tf.reduce_mean(counts["correct"] / tf.maximum(counts["n_valid"], 1.0)),
                "learning_rate": schedules["learning_rate"], "global_norm": norm}

    def train_step(self, inputs, outputs, lengths) -> dict[str, float]:
        """One optimizer step on one (global) batch; returns its metrics."""
        batch = (tf.cast(inputs, tf.float32), tf.cast(outputs, tf.float32),
                 tf.cast(lengths, tf.int32))
        if is_distributed(self.strategy):
            global_batch = int(batch[0].shape[0])
            metrics = self._train_step(*split_batch(self.strategy, batch, global_batch),
                                       global_batch=global_batch)
        else:
            metrics = self._train_step(*batch)
        return {k: float(v) for k, v in metrics.items()}

    def save_checkpoint(self) -> str:
        """Write a resumable checkpoint now; return its path prefix."""
        return self.checkpoint.save()

    def evaluate(self, data, *, batch_size: int | None = None,
                 max_batches: int | None = None) -> dict[str, float]:
        """Held-out metrics (see :meth:`Evaluator.evaluate`)."""
        return self.evaluator.evaluate(data, batch_size=batch_size, max_batches=max_batches,
                                       step=self.step)

    def fit(self, train_data: VAEArrays | tf.data.Dataset, *, num_steps: int,
            eval_data: VAEArrays | tf.data.Dataset | None = None, eval_every: int = 1000,
            eval_batches: int | None = None) -> dict[str, float]:
        """Train until the global step reaches ``num_steps``.

        Parameters
        ----------
        train_data : VAEArrays or tf.data.Dataset
            Arrays (shuffled and batched here with ``config.batch_size``), or a
            dataset yielding ``(inputs, outputs, lengths)`` batches forever.
        num_steps : int
            Total steps of the run (Magenta's ``num_steps``), not steps to add.
        eval_data : optional
            Held-out data, evaluated every ``eval_every`` steps and at the end.
        eval_batches : int, optional
            Evaluate on at most this many batches (default: all).

        Returns
        -------
        dict
            The last evaluation (if ``eval_data``), else the last train metrics.

        Raises
        ------
        KeyboardInterrupt
            After saving a checkpoint.
        """
        if isinstance(train_data, VAEArrays):
            train_data = make_train_dataset(train_data, batch_size=self.config.batch_size,
                                            seed=self.seed + self.step)
        batches = iter(train_data)

        def step_fn():
            started = time.monotonic()
            batch = next(batches)
            metrics = self.train_step(*batch)
            metrics["examples_per_second"] = int(batch[0].shape[0]) / max(
                time.monotonic() - started, 1e-9)
            return metrics

        def evaluate_when_due(step, last):
            if eval_data is not None and (step % eval_every == 0 or step >= num_steps):
                result = self.evaluate(eval_data, max_batches=eval_batches)
                self.logger.log("eval", step, result)
                return result
            return None

        # Losses averaged over each logging window; schedules as of its last step.
        return run_training_loop(
            step_fn, get_step=lambda: self.step, num_steps=num_steps, save=self.save_checkpoint,
            logger=self.logger, log_every=self.log_every,
            checkpoint_every_s=self.checkpoint_every_s, progress=self.progress,
            desc=self.config.name, keep_last=SCHEDULE_METRICS, after_step=evaluate_when_due,
            agree=any_worker(self.strategy),
            postfix=lambda last: {"loss": f"{last['loss']:.3g}", "acc": f"{last['accuracy']:.3f}",
                                  "kl": f"{last['kl_bits']:.1f}b"})

    def export(self, path: str | os.PathLike, *, figures: dict | None = None,
               converter_options=None, prior=None, meta: dict | None = None) -> MusicVAE:
        """Save the current weights as a small (weights-only) MusicVAE checkpoint.

        ``converter_options`` (how the run bent its converter) travel with the
        model, so sampling and evaluation read music as training did; a
        ``prior`` (:class:`~gensuite.music_vae.prior.GaussianPrior`) is what
        sampling draws from.
        """
        model = MusicVAE(self.config, network=self.network, converter_options=converter_options)
        model.prior = prior
        model.save(path, figures=figures, meta=meta)
        return model
