"""GANSynth training: WGAN-GP with drift and auxiliary pitch loss, progressive growth.

One step (Magenta's ``gansynth/lib/model.py`` with TF-GAN's losses), both
networks with Adam (``config.learning_rate``, beta1 0, beta2 0.99):

* discriminator: ``mean(D(fake)) - mean(D(real))`` + gradient penalty
  ``weight * mean((|grad D(mix)| / target - 1) ** 2)`` on random mixes of real
  and fake + drift ``weight * mean(D(real) ** 2)`` + pitch cross-entropy on
  the reals;
* generator: ``-mean(D(fake))`` + pitch cross-entropy on its own notes
  (+ the mode-seeking loss when ``config.mode_seeking_weight`` is set, the
  harmonic-contrast floor when ``config.harmonic_contrast_weight`` is, and
  the L1 reconstruction of each fake's real twin when
  ``config.reconstruction_weight`` is);
* the moving average of the generator weights (decay ``config.ema_decay``)
  is what generates.

Fake pitches are drawn from the data's pitch distribution (Magenta's
``provide_one_hot_labels``). A run folder holds::

    RUN/config.json                the config of the run (a resume must match)
    RUN/checkpoints/ckpt-STEP.*    both networks, the moving average, both optimizers
    RUN/export/                    the moving-average generator at the last
                                   periodic checkpoint, at its growth stage:
                                   GANSynth.load("RUN/export") works mid-run
    RUN/logs/train, RUN/metrics.jsonl   TensorBoard scalars
    RUN/samples/step_NNNNNN/*.wav  a few generated notes at each checkpoint

Every file is written atomically; state is saved every few minutes, at the
end and on KeyboardInterrupt.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from gensuite.audio.spectral import waves_to_specgrams
from gensuite.common.errors import ParameterError
from gensuite.gansynth.configs import GANSynthConfig
from gensuite.gansynth.model import (
    Discriminator,
    GANSynth,
    Generator,
    harmonic_contrast,
    harmonic_masks,
    resize_reals,
    stage_of_images,
)
from gensuite.gansynth.timbres import check_instruments
from gensuite.training.checkpointing import MetricsLogger, TrainingCheckpoint, record_run_config
from gensuite.training.distribute import (
    any_worker,
    average_loss,
    is_chief,
    is_distributed,
    per_replica_batch,
    summed_over_slices,
)
from gensuite.training.loop import run_training_loop

ADAM_EPSILON = 1e-8
EXPORT_DIR = "export"


def make_optimizer(config: GANSynthConfig) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate=config.learning_rate, beta_1=config.adam_beta1,
                                 beta_2=config.adam_beta2, epsilon=ADAM_EPSILON)


def pitch_distribution(pitches: np.ndarray, config: GANSynthConfig) -> np.ndarray:
    """Share of each model pitch among the training notes, shape (n_pitches,)."""
    counts = np.bincount(np.asarray(pitches) - config.min_pitch, minlength=config.n_pitches)
    return (counts / counts.sum()).astype(np.float64)


def waves_to_images(waves: np.ndarray, *, config: GANSynthConfig,
                    batch_size: int = 64) -> np.ndarray:
    """Notes (n, n_samples) -> normalised spectrogram images (n, time, frequency, 2), float32.

    Converted in batches so that the complex STFTs of a whole data set are
    never in memory at once.
    """
    parts = [waves_to_specgrams(waves[i:i + batch_size], config=config.spectral).numpy()
             for i in range(0, len(waves), batch_size)]
    return np.concatenate(parts, axis=0).astype(np.float32)


def contrast_floors(specgrams: np.ndarray, pitches: np.ndarray, *, config: GANSynthConfig,
                    batch_size: int = 256) -> np.ndarray:
    """Per pitch and band, the median harmonic contrast of the real notes.

    Returns
    -------
    np.ndarray, float32, shape (n_pitches, n_bands)
        -2 (below any contrast of images in [-1, 1]: no floor) where a pitch
        has no notes or a band no usable bin.
    """
    masks = harmonic_masks(config)
    labels = np.asarray(pitches) - config.min_pitch
    values = np.concatenate([
        harmonic_contrast(tf.constant(specgrams[i:i + batch_size]),
                          tf.one_hot(labels[i:i + batch_size], config.n_pitches), masks).numpy()
        for i in range(0, len(specgrams), batch_size)])
    usable = masks[0].sum(axis=-1).T > 0  # (n_pitches, n_bands)
    floors = np.full(usable.shape, -2.0, np.float32)
    for label in np.unique(labels):
        floors[label] = np.where(usable[label],
                                 np.median(values[labels == label], axis=0), -2.0)
    return floors


def transplant_weights(source: keras.Model, target: keras.Model) -> list[np.ndarray]:
    """``target``'s weights with every one that ``source`` has (same layer and name) copied.

    A weight ``source`` lacks (a new instrument table) keeps ``target``'s
    value, zeros for the instrument table, so the generator plays as before.

    Raises
    ------
    ParameterError
        If a weight both have differs in shape (e.g. instrument tables of two sizes).
    """
    saved = {v.path: v for v in source.weights}  # e.g. "block1_dense/kernel"
    out = []
    for v in target.weights:
        w = saved.get(v.path)
        if w is not None and tuple(w.shape) != tuple(v.shape):
            raise ParameterError(f"model: weight {v.path} has shape {tuple(w.shape)}, this "
                                 f"config needs {tuple(v.shape)}")
        out.append(np.asarray(v.numpy() if w is None else w.numpy()))
    return out


def _cross_entropy(logits, labels):
    """Per-example cross-entropy, shape (batch,)."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def _present(grads, mask: list):
    """The gradients that exist (blocks not yet grown get none), for a cross-replica sum.

    Records in ``mask`` which do (the same for every replica: it depends only
    on the growth stage), for :func:`_restore`.
    """
    mask[:] = [g is not None for g in grads]
    return [g for g in grads if g is not None]


def _restore(present, mask: list) -> list:
    """Inverse of :func:`_present`: None back where a variable got no gradient."""
    present = iter(present)
    return [next(present) if has else None for has in mask]


class GANTrainer:
    """Train a GANSynth in a run folder, resuming from its newest checkpoint.

    Parameters
    ----------
    config : GANSynthConfig
    run_dir : str or os.PathLike
    specgrams : np.ndarray, shape (n, time, frequency, 2), float32 in [-1, 1]
        Training notes (:func:`gensuite.audio.spectral.waves_to_specgrams`).
    pitches : np.ndarray, shape (n,), int
        MIDI pitch of each note, within the config's range.
    instruments : np.ndarray, shape (n,), int, optional
        Conditioned configs: each note's row of the instrument table.
    instrument_names : list of dict, optional
        Conditioned configs: what each row is (:class:`GANSynth`'s
        ``instruments``), kept in exports.
    seed : int
        Seeds the initial weights, batches and latents.
    checkpoint_every_minutes : float
    log_every : int
        Steps between log records (losses averaged over them).
    progress : bool
        Report progress (a bar on a terminal, else a line every 30 s).
    strategy : tf.distribute.Strategy, optional
        From :func:`gensuite.training.distribute.make_strategy`: each batch is
        split over its replicas (the batch size must divide evenly); batch
        statistics (the discriminator's minibatch standard deviation, the
        mode-seeking spread) are those of the global batch; only the chief
        writes the run folder. Default: one device.

    Raises
    ------
    ParameterError
        If ``run_dir`` holds a run of another config, or the data do not fit it.
    """

    def __init__(self, config: GANSynthConfig, run_dir: str | os.PathLike, *,
                 specgrams: np.ndarray, pitches: np.ndarray, instruments: np.ndarray | None = None,
                 instrument_names: list[dict] | None = None, seed: int = 0,
                 checkpoint_every_minutes: float = 5.0, log_every: int = 50,
                 progress: bool = True, strategy: tf.distribute.Strategy | None = None):
        self.config = config
        self.run_dir = os.fspath(run_dir)
        self.log_every = max(1, int(log_every))
        self.checkpoint_every_s = 60.0 * float(checkpoint_every_minutes)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = is_chief(self.strategy)
        self.progress = progress and self.chief
        # None on one device: the losses are plain means.
        self._global_batch = None
        if is_distributed(self.strategy):
            per_replica_batch(self.strategy, config.batch_size)  # must split evenly
            self._global_batch = config.batch_size
        if specgrams.shape[1:] != config.image_shape:
            raise ParameterError(
                f"specgrams: config {config.name} needs notes of shape {config.image_shape}, "
                f"got {specgrams.shape[1:]}")
        self.specgrams = specgrams
        self.labels = (np.asarray(pitches) - config.min_pitch).astype(np.int32)
        if self.labels.min() < 0 or self.labels.max() >= config.n_pitches:
            raise ParameterError(
                f"pitches: config {config.name} plays {config.min_pitch}-{config.max_pitch}, "
                f"the data hold {int(np.min(pitches))}-{int(np.max(pitches))}")
        self.pitch_probs = pitch_distribution(pitches, config)
        self.instrument_names = check_instruments(instrument_names or [], config)
        if config.n_instruments:
            if instruments is None or len(instruments) != len(self.labels):
                raise ParameterError(f"instruments: config {config.name} needs each note's "
                                     "instrument row")
            self.instruments = np.asarray(instruments, np.int32)
            if self.instruments.min() < 0 or self.instruments.max() >= len(self.instrument_names):
                raise ParameterError(
                    f"instruments: rows must be in 0-{len(self.instrument_names) - 1}, got "
                    f"{int(self.instruments.min())}-{int(self.instruments.max())}")
        else:
            self.instruments = np.zeros(len(self.labels), np.int32)
        if self.chief:
            os.makedirs(self.run_dir, exist_ok=True)
            record_run_config(self.run_dir, config)

        self.seed = int(seed)
        if config.harmonic_contrast_weight > 0:
            self._contrast_masks = harmonic_masks(config)
            self._contrast_floors = tf.constant(contrast_floors(specgrams, pitches, config=config))
        with self.strategy.scope():
            self.generator = Generator(config, seed=self.seed)
            self.discriminator = Discriminator(config, seed=self.seed + 1)
            self.generator_ema = Generator(config)
            self.generator_ema.set_weights(self.generator.get_weights())
            self.g_optimizer = make_optimizer(config)
            self.d_optimizer = make_optimizer(config)
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            # Steps taken before this run's optimizers existed (a run started
            # from a saved generator): the growth schedule counts them, Adam's
            # bias correction must not.
            self.step_offset = tf.Variable(0, dtype=tf.int64, trainable=False)
        # Keras 3 models expose only some layers to tf.train.Checkpoint (lists of
        # layers are missed), so every network's weights go in as explicit lists.
        self.checkpoint = TrainingCheckpoint(
            self.run_dir, model=self.generator, optimizer=self.g_optimizer,
            d_optimizer=self.d_optimizer, generator_weights=list(self.generator.weights),
            discriminator_weights=list(self.discriminator.weights),
            generator_ema_weights=list(self.generator_ema.weights), step_offset=self.step_offset,
            chief=self.chief)
        self.restored_step = self.checkpoint.restore_latest()
        self.logger = MetricsLogger(self.run_dir, enabled=self.chief)
        self._steps: dict[tuple[int, bool, bool], tf.types.experimental.GenericFunction] = {}

    @property
    def step(self) -> int:
        return self.checkpoint.step

    def stage(self, step: int | None = None) -> tuple[int, float | None]:
        """(active blocks, fade-in alpha or None) at ``step`` (default: now)."""
        step = self.step if step is None else step
        return stage_of_images(self.config, step * self.config.batch_size)

    def _discriminator_step(self, reals, labels, fake_labels, z, mix, alpha, *, n_blocks,
                            fading):
        """The discriminator's gradients and loss terms on (a replica's share of) a batch.

        Every mean over the batch is a share of the global batch's mean
        (:func:`gensuite.training.distribute.average_loss`), so the replicas'
        gradients and terms add up to one device's.
        """
        c = self.config
        alpha = alpha if fading else None
        reals = resize_reals(reals, n_blocks=n_blocks, alpha=alpha, n_resolutions=c.n_resolutions)
        fake_one_hot = tf.one_hot(fake_labels, c.n_pitches)
        real_one_hot = tf.one_hot(labels, c.n_pitches)
        # Fakes take the reals' instruments (z's tail), as their pitches.
        instrument_weights = z[:, c.latent_size:]
        g, d = self.generator, self.discriminator

        def mean(values):
            return average_loss(values, self._global_batch)

        with tf.GradientTape() as d_tape:
            fakes = g.grow(z, fake_one_hot, n_blocks=n_blocks, alpha=alpha)
            real_score, real_logits = d.judge(reals, n_blocks=n_blocks, alpha=alpha,
                                              pitch_one_hot=real_one_hot,
                                              instrument_weights=instrument_weights)
            fake_score, _ = d.judge(fakes, n_blocks=n_blocks, alpha=alpha,
                                    pitch_one_hot=fake_one_hot,
                                    instrument_weights=instrument_weights)
            mixed = reals + mix[:, None, None, None] * (fakes - reals)
            with tf.GradientTape() as gp_tape:
                gp_tape.watch(mixed)
                mixed_score, _ = d.judge(mixed, n_blocks=n_blocks, alpha=alpha,
                                         pitch_one_hot=real_one_hot,
                                         instrument_weights=instrument_weights)
            slopes = tf.sqrt(tf.reduce_sum(
                tf.square(gp_tape.gradient(mixed_score, mixed)), axis=[1, 2, 3]) + 1e-10)
            penalty = mean(tf.square(slopes / c.gradient_penalty_target - 1.0))
            wasserstein = mean(fake_score) - mean(real_score)
            drift = mean(tf.square(real_score))
            real_ac = mean(_cross_entropy(real_logits, labels))
            d_loss = (wasserstein + c.gradient_penalty_weight * penalty
                      + c.real_score_penalty_weight * drift
                      + c.discriminator_ac_loss_weight * real_ac)
        logs = {"d_loss": d_loss, "wasserstein": -wasserstein, "gradient_penalty": penalty,
                "drift": drift}
        if c.discriminator_ac_loss_weight > 0:  # otherwise the classifier is untrained noise
            logs.update(real_pitch_loss=real_ac, real_pitch_accuracy=mean(tf.cast(tf.equal(
                tf.argmax(real_logits, -1, output_type=tf.int32), labels), tf.float32)))
        return d_tape.gradient(d_loss, d.trainable_variables), logs

    def _generator_step(self, reals, fake_labels, z, pairs, alpha, *, n_blocks, fading):
        """The generator's gradients and loss terms (shares, as in :meth:`_discriminator_step`).

        ``pairs`` sets up the mode-seeking term, which pairs the first rows of
        the global batch with second latents: on one device ``(z_pairs,)``;
        in a replica ``(z_pairs_rows, pair_mask, latent_distance, n_pairs)``,
        its rows' second latents (zeros past the pairs), which of its rows are
        paired, and the pairs' mean latent distance over the global batch.
        """
        c = self.config
        alpha = alpha if fading else None
        fake_one_hot = tf.one_hot(fake_labels, c.n_pitches)
        g, d = self.generator, self.discriminator
        logs = {}
        with tf.GradientTape() as g_tape:
            fakes = g.grow(z, fake_one_hot, n_blocks=n_blocks, alpha=alpha)
            fake_score, fake_logits = d.judge(fakes, n_blocks=n_blocks, alpha=alpha,
                                              pitch_one_hot=fake_one_hot,
                                              instrument_weights=z[:, c.latent_size:])
            fake_ac = average_loss(_cross_entropy(fake_logits, fake_labels), self._global_batch)
            g_loss = (-average_loss(fake_score, self._global_batch)
                      + c.generator_ac_loss_weight * fake_ac)
            if c.mode_seeking_weight > 0:
                spread = self._latent_spread(fakes, z, fake_one_hot, pairs, n_blocks=n_blocks,
                                             alpha=alpha)
                # The whole term on every replica, divided among them (a share,
                # like every other term): the all-reduced spread sends each
                # replica the full derivative.
                n_replicas = tf.distribute.get_replica_context().num_replicas_in_sync
                g_loss += c.mode_seeking_weight / (spread + 1e-5) / n_replicas
                logs["latent_spread"] = spread / n_replicas
            if c.harmonic_contrast_weight > 0 and n_blocks == c.n_resolutions:
                shortfall = tf.nn.relu(
                    tf.gather(self._contrast_floors, fake_labels)
                    - harmonic_contrast(fakes, fake_one_hot, self._contrast_masks))
                shortfall = average_loss(tf.reduce_sum(shortfall, axis=-1), self._global_batch)
                g_loss += c.harmonic_contrast_weight * shortfall
                logs["contrast_shortfall"] = shortfall
            if c.reconstruction_weight > 0:
                reals = resize_reals(reals, n_blocks=n_blocks, alpha=alpha,
                                     n_resolutions=c.n_resolutions)
                error = average_loss(tf.reduce_mean(tf.abs(fakes[..., 0] - reals[..., 0]),
                                                    axis=[1, 2]), self._global_batch)
                g_loss += c.reconstruction_weight * error
                logs["reconstruction_error"] = error
        logs.update(g_loss=g_loss)
        if c.discriminator_ac_loss_weight > 0:
            logs["fake_pitch_loss"] = fake_ac
        return g_tape.gradient(g_loss, g.trainable_variables), logs

    def _latent_spread(self, fakes, z, fake_one_hot, pairs, *, n_blocks, alpha):
        """mean |G(z) - G(z')| / mean |z - z'| over the pairs of the global batch."""
        grow = functools.partial(self.generator.grow, n_blocks=n_blocks, alpha=alpha)
        if len(pairs) == 1:
            (z_pairs,) = pairs
            n_pairs = z_pairs.shape[0]
            others = grow(z_pairs, fake_one_hot[:n_pairs])
            return (tf.reduce_mean(tf.abs(fakes[:n_pairs] - others))
                    / tf.reduce_mean(tf.abs(z[:n_pairs] - z_pairs)))
        z_pairs_rows, pair_mask, latent_distance, n_pairs = pairs
        distance = tf.abs(fakes - grow(z_pairs_rows, fake_one_hot))
        summed = tf.distribute.get_replica_context().all_reduce(
            tf.distribute.ReduceOp.SUM,
            tf.reduce_sum(distance * pair_mask[:, None, None, None]))
        n_values = float(n_pairs * np.prod(fakes.shape[1:]))
        return summed / n_values / latent_distance

    def _train_graph(self, reals, labels, fake_labels, z, z_pairs, mix, alpha, *,
                     n_blocks, fading, train_generator=True):
        stage = {"n_blocks": n_blocks, "fading": fading}
        d_grads, logs = self._discriminator_step(reals, labels, fake_labels, z, mix, alpha,
                                                 **stage)
        self._apply(self.d_optimizer, d_grads, self.discriminator.trainable_variables)
        if not train_generator:
            return logs
        g_grads, g_logs = self._generator_step(reals, fake_labels, z, (z_pairs,), alpha, **stage)
        self._apply(self.g_optimizer, g_grads, self.generator.trainable_variables)
        self._update_ema()
        return {**logs, **g_logs}

    def _distributed_graph(self, reals, labels, fake_labels, z, z_pairs, mix, alpha, *,
                           n_blocks, fading, train_generator=True):
        """:meth:`_train_graph` over the strategy's replicas: the same updates as one device.

        Each replica takes its contiguous slice of the batch; the discriminator
        is updated with the summed gradients before the generator's step, as
        on one device.
        """
        strategy, batch = self.strategy, self._global_batch
        stage = {"n_blocks": n_blocks, "fading": fading}
        d_mask, g_mask = [], []

        def d_step(reals, labels, fake_labels, z, mix):
            grads, logs = self._discriminator_step(reals, labels, fake_labels, z, mix, alpha,
                                                   **stage)
            return _present(grads, d_mask), logs

        grads, logs = summed_over_slices(strategy, d_step,
                                         (reals, labels, fake_labels, z, mix), batch)
        self._apply(self.d_optimizer, _restore(grads, d_mask),
                    self.discriminator.trainable_variables)
        if not train_generator:
            return logs

        paired_rows = ()
        if self.config.mode_seeking_weight > 0:
            n_pairs = z_pairs.shape[0]
            latent_distance = tf.reduce_mean(tf.abs(z[:n_pairs] - z_pairs))
            paired_rows = (tf.concat([z_pairs, tf.zeros_like(z[n_pairs:])], axis=0),
                           tf.cast(tf.range(batch) < n_pairs, tf.float32))

        def g_step(reals, fake_labels, z, *paired):
            pairs = (*paired, latent_distance, n_pairs) if paired else ()
            grads, logs = self._generator_step(reals, fake_labels, z, pairs, alpha, **stage)
            return _present(grads, g_mask), logs

        grads, g_logs = summed_over_slices(strategy, g_step,
                                           (reals, fake_labels, z, *paired_rows), batch)
        self._apply(self.g_optimizer, _restore(grads, g_mask),
                    self.generator.trainable_variables)
        self._update_ema()
        return {**logs, **g_logs}

    def _update_ema(self):
        c = self.config
        for w_ema, w in zip(self.generator_ema.weights, self.generator.weights):
            w_ema.assign(c.ema_decay * w_ema + (1.0 - c.ema_decay) * w)

    @staticmethod
    def _apply(optimizer, grads, variables):
        # Blocks not yet grown get no gradient; the optimizer skips them.
        pairs = [(gr, v) for gr, v in zip(grads, variables) if gr is not None]
        optimizer.apply_gradients(pairs)

    def _step_fn(self, n_blocks: int, fading: bool, train_generator: bool = True):
        key = (n_blocks, fading, train_generator)
        if key not in self._steps:
            graph = self._distributed_graph if is_distributed(self.strategy) else self._train_graph
            self._steps[key] = tf.function(functools.partial(
                graph, n_blocks=n_blocks, fading=fading, train_generator=train_generator))
        return self._steps[key]

    def fake_labels(self, rng: np.random.Generator, real_labels: np.ndarray) -> np.ndarray:
        """Pitch labels of a batch's fakes: drawn like the data's, or the reals' (projection,
        comb or instruments: each fake is judged, or reconstructed, as its real note's twin)."""
        if self.config.discriminator_sees_pitch or self.config.n_instruments:
            return real_labels
        return rng.choice(self.config.n_pitches, size=len(real_labels), p=self.pitch_probs)

    def train_step(self, rng: np.random.Generator, *,
                   train_generator: bool = True) -> dict[str, float]:
        """One discriminator and (unless told not to) one generator update on a random batch."""
        c = self.config
        n_blocks, alpha = self.stage()
        index = rng.integers(0, len(self.specgrams), c.batch_size)
        fake_labels = self.fake_labels(rng, self.labels[index])
        z = rng.standard_normal((c.batch_size, c.latent_size)).astype(np.float32)
        if c.n_instruments:
            z = np.concatenate([z, np.eye(c.n_instruments, dtype=np.float32)[
                self.instruments[index]]], axis=1)
        mix = rng.random(c.batch_size).astype(np.float32)
        # Second latents for the mode-seeking loss, drawn only when it is on so
        # that runs without it keep their random stream.
        n_pairs = c.batch_size // 2 if c.mode_seeking_weight > 0 else 0
        z_pairs = rng.standard_normal((n_pairs, c.latent_size)).astype(np.float32)
        z_pairs = np.concatenate([z_pairs, z[:n_pairs, c.latent_size:]], axis=1)
        metrics = self._step_fn(n_blocks, alpha is not None, train_generator)(
            tf.constant(self.specgrams[index]), tf.constant(self.labels[index]),
            tf.constant(fake_labels.astype(np.int32)), tf.constant(z), tf.constant(z_pairs),
            tf.constant(mix), tf.constant(alpha or 1.0, tf.float32))
        out = {k: float(v) for k, v in metrics.items()}
        out.update(n_blocks=n_blocks, alpha=1.0 if alpha is None else alpha)
        return out

    def start_from_saved(self, model: GANSynth, *, step: int) -> None:
        """Begin a new run with a saved generator, at the step it was saved at.

        The generator and its moving average take ``model``'s weights and the
        growth schedule goes on from ``step``; the discriminator and
        both optimizers start afresh (a saved model keeps neither), so call
        :meth:`warm_up_discriminator` before :meth:`fit`.

        Raises
        ------
        ParameterError
            If this run already has checkpoints, or ``model`` is not fully grown.
        """
        if self.restored_step is not None or self.step:
            raise ParameterError(f"{self.run_dir}: a run with checkpoints of its own resumes "
                                 "from them, not from a saved model")
        if model.n_blocks != self.config.n_resolutions or model.alpha is not None:
            raise ParameterError(
                f"model: only a fully grown generator can start a run, this one has "
                f"{model.n_blocks} of {self.config.n_resolutions} blocks")
        grown = stage_of_images(self.config, step * self.config.batch_size)
        if grown != (self.config.n_resolutions, None):
            raise ParameterError(f"step: the schedule of {self.config.name} is not fully grown "
                                 f"at step {step}")
        weights = transplant_weights(model.generator, self.generator)
        self.generator.set_weights(weights)
        self.generator_ema.set_weights(weights)
        self.step_offset.assign(int(step))

    def warm_up_discriminator(self, num_steps: int) -> dict[str, float]:
        """Train the discriminator alone for ``num_steps`` batches, then save a checkpoint.

        A fresh discriminator's first judgements are noise; a trained generator
        following them would unlearn its notes before the discriminator caught up.
        Returns the last step's losses.
        """
        from gensuite.common.progress import progress_bar  # noqa: PLC0415

        rng = np.random.default_rng([self.seed, self.step, 1])
        metrics = {}
        with progress_bar(total=int(num_steps), desc="discriminator warm-up", unit="step",
                          enabled=self.progress) as bar:
            for _ in range(int(num_steps)):
                metrics = self.train_step(rng, train_generator=False)
                bar.update(1)
        self.save_checkpoint()
        return metrics

    def save_checkpoint(self) -> str:
        return self.checkpoint.save()

    def _after_save(self, step: int) -> None:
        if not self.chief:
            return
        self.write_samples(step)
        self.export(os.path.join(self.run_dir, EXPORT_DIR),
                    figures={"steps": step, "images": step * self.config.batch_size})

    def write_samples(self, step: int, *, n_notes: int = 4) -> str:
        """Write a few notes of the moving-average generator to ``RUN/samples/step_NNNNNN/``.

        WAV files rather than a TensorBoard audio summary, which needs the
        tensorboard package; returns the folder.
        """
        from gensuite.audio.io import limit_peak, write_wav  # noqa: PLC0415

        c = self.config
        pitches = np.linspace(c.min_pitch, c.max_pitch, n_notes).round().astype(np.int32)
        model = self.model()
        folder = os.path.join(self.run_dir, "samples", f"step_{step:06d}")
        waves = model.generate(pitches, model.make_latents(1, seed=self.seed))
        for pitch, wave in zip(pitches, waves):
            write_wav(os.path.join(folder, f"pitch_{pitch:03d}.wav"), limit_peak(wave),
                      sample_rate=c.sample_rate)
        return folder

    def fit(self, *, num_steps: int,
            after_step: Callable[[int, dict], object] | None = None) -> dict[str, float]:
        """Train until the step counter reaches ``num_steps`` (a total, not steps to add).

        ``after_step(step, metrics)`` runs after every step (e.g. to print
        progress where there is no progress bar).

        Raises
        ------
        KeyboardInterrupt
            After saving a checkpoint.
        """
        # A new stream per resume, so a restarted run does not replay its batches.
        rng = np.random.default_rng([self.seed, self.step])
        return run_training_loop(
            lambda: self.train_step(rng), get_step=lambda: self.step, num_steps=num_steps,
            save=self.save_checkpoint, logger=self.logger, log_every=self.log_every,
            checkpoint_every_s=self.checkpoint_every_s, progress=self.progress,
            desc=self.config.name, keep_last=("n_blocks", "alpha"),
            after_save=self._after_save, after_step=after_step,
            agree=any_worker(self.strategy),
            postfix=lambda last: {"blocks": f"{last['n_blocks']:.0f}",
                                  "d": f"{last['d_loss']:.3g}", "g": f"{last['g_loss']:.3g}"})

    def model(self) -> GANSynth:
        """The moving-average generator, at the current growth stage, as a :class:`GANSynth`."""
        n_blocks, alpha = self.stage()
        return GANSynth(self.config, generator=self.generator_ema, n_blocks=n_blocks, alpha=alpha,
                        instruments=self.instrument_names)

    def export(self, path: str | os.PathLike, *, figures: dict | None = None) -> GANSynth:
        """Save the moving-average generator as a small weights-only model folder."""
        model = self.model()
        model.save(path, figures=figures)
        return model
