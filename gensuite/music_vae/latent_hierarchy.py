"""A song-scale MusicVAE built on a trained 2-bar model: a hierarchy over its latents.

Magenta's 16-bar model learns a 256-step encoder and a conductor from scratch,
which takes GPUs for days. Here the bottom level is a trained 2-bar MusicVAE
(frozen), and only a small top level is learnt, over sequences of 2-bar
latent vectors::

    16-bar window (256 steps) --split--> 8 chunks of 2 bars
        --bottom encoder--> chunk posteriors (mu_i, sigma_i), i = 1..8
        --top encoder (BiLSTM over the 8)--> song latent z (VAE, N(0, I) prior)
        --conductor (LSTM, 8 steps)--> predicted chunk latents m_i
        --bottom decoder--> 8 x 32 steps --> 256 steps

The top level is trained on cached chunk posteriors (no 2-bar decoding in the
loop) with the negative log-likelihood of the true chunk means under the
chunk posterior, ``sum ((m_i - mu_i) / sigma_i)^2 / 2``, which weighs each
latent dimension by how sharply the 2-bar encoder pins it down, plus
``beta`` times the KL term of z. Two options of the config: transposed copies of
the training windows (the top level overfits a few thousand tunes without them),
and a note loss that decodes the conducted latents through the frozen 2-bar
decoder (eight 2-bar decodes a window, so it is a slower second stage).

The model's code of a melody has two levels: the chunk latents (what a
reconstruction or an interpolation decodes, so a song's own bars come back
as well as the 2-bar model reproduces them) and the song latent z (what
sampling draws, so the 8 chunks of a sample belong to one tune). Both
figures are reported: ``greedy`` / ``sampled`` accuracy through the chunk
latents, ``top_greedy`` / ``top_sampled`` through z alone.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from gensuite.checkpoints import BOTTOM_DIR, CheckpointInfo, SavedModel
from gensuite.common.arrays import one_hot
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.common.slerp import slerp
from gensuite.music_vae.configs import (  # noqa: F401 (the hierarchy's presets live here too)
    LATENT_PRESETS as PRESETS,
)
from gensuite.music_vae.configs import LatentHierarchyConfig
from gensuite.music_vae.configs import get_latent_config as get_config
from gensuite.music_vae.losses import constant_accuracy
from gensuite.music_vae.model import MusicVAE, check_temperature
from gensuite.music_vae.prior import GaussianPrior, RepeatRule, pair_repeat_rate
from gensuite.training.distribute import (
    any_worker,
    average_loss,
    global_rows,
    is_chief,
    is_distributed,
    per_replica_batch,
    replica_first_row,
    summed_over_slices,
)

KIND = "latent_hierarchy"
ENCODE_BATCH = 1024
REPEATS_KEY = "repeats"  # meta.json's RepeatRule
CALIBRATION_SAMPLES = 4096


# --------------------------------------------------------------------------
# Network


class TopLevel(keras.Model):
    """Top encoder (chunk posteriors -> song posterior) and conductor (z -> chunk means)."""

    def __init__(self, config: LatentHierarchyConfig, *, chunk_z_size: int, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.chunk_z_size = chunk_z_size
        c = config
        self.encoder = keras.layers.Bidirectional(keras.layers.LSTM(c.encoder_size))
        self.to_posterior = keras.layers.Dense(2 * c.z_size)
        self.to_state = keras.layers.Dense(2 * c.conductor_size, activation="tanh")
        self.conductor = keras.layers.LSTM(c.conductor_size, return_sequences=True)
        self.to_chunk = keras.layers.Dense(chunk_z_size)
        self.build_all()

    def build_all(self) -> None:
        c = self.config
        self.conduct(tf.zeros([1, c.z_size]))
        self.encode(tf.zeros([1, c.n_chunks, self.chunk_z_size]),
                    tf.ones([1, c.n_chunks, self.chunk_z_size]))
        self.built = True

    def encode(self, chunk_mu, chunk_sigma):
        """(batch, n_chunks, chunk_z) posteriors -> song (mu, sigma), each (batch, z_size)."""
        features = tf.concat([chunk_mu, tf.math.log(chunk_sigma)], axis=-1)
        mu, raw = tf.split(self.to_posterior(self.encoder(features)), 2, axis=-1)
        return mu, tf.nn.softplus(raw) + 1e-5

    def conduct(self, z):
        """(batch, z_size) -> predicted chunk latents (batch, n_chunks, chunk_z)."""
        h, c = tf.split(self.to_state(z), 2, axis=-1)
        steps = tf.repeat(z[:, None, :], self.config.n_chunks, axis=1)
        return self.to_chunk(self.conductor(steps, initial_state=[h, c]))

    def losses_of(self, chunk_mu, chunk_sigma, *, seed, training: bool = True,
                  note_cross_entropy=None, global_batch: int | None = None):
        """Loss terms of a batch: latent NLL, KL (bits), note CE when given, and the total.

        ``note_cross_entropy`` maps conducted chunk latents (batch, n_chunks,
        chunk_z) to each window's summed cross entropy of its notes (batch,).
        With ``global_batch`` (inside a distributed replica) every term is this
        replica's share of the global batch's, and the random draws are those
        of its rows of the global batch: the replicas' terms and gradients add
        up to one device's.
        """
        mu, sigma = self.encode(chunk_mu, chunk_sigma)
        first = None if global_batch is None else replica_first_row(tf.shape(mu)[0])
        eps = global_rows(lambda shape: tf.random.stateless_normal(shape, seed=seed),
                          tf.shape(mu), first, global_batch)
        predicted = self.conduct(mu + sigma * eps if training else mu)
        nll = 0.5 * tf.reduce_sum(tf.square((predicted - chunk_mu) / chunk_sigma), axis=[1, 2])
        kl = 0.5 * tf.reduce_sum(tf.square(mu) + tf.square(sigma) - 1.0
                                 - 2.0 * tf.math.log(sigma), axis=-1)
        c = self.config
        free_nats = c.free_bits * np.log(2.0)
        mean_nll, mean_kl = average_loss(nll, global_batch), average_loss(kl, global_batch)
        if global_batch is None:
            kl_hinge = tf.maximum(mean_kl - free_nats, 0.0)
        else:
            # The free-bits hinge is of the global mean: all-reduced (its
            # gradient reaches every replica), and each replica adds its share.
            context = tf.distribute.get_replica_context()
            global_kl = context.all_reduce(tf.distribute.ReduceOp.SUM, mean_kl)
            kl_hinge = tf.maximum(global_kl - free_nats, 0.0) / context.num_replicas_in_sync
        total = c.latent_loss_weight * mean_nll + c.max_beta * kl_hinge
        terms = {"latent_nll": mean_nll, "kl_bits": mean_kl / np.log(2.0)}
        if note_cross_entropy is not None:
            terms["note_ce"] = average_loss(note_cross_entropy(predicted), global_batch)
            total += c.note_loss_weight * terms["note_ce"]
        return {"loss": total, **terms}


# --------------------------------------------------------------------------
# The model


class LatentHierarchyVAE(SavedModel):
    """A 16-bar melody VAE: a trained 2-bar MusicVAE under a learnt top level.

    Offers what :class:`~gensuite.music_vae.model.MusicVAE` offers to the
    command line (``encode``, ``decode_to_tensors``, ``sample_tensors``,
    ``interpolate_z``, ``sample``, ``converter``), on 16-bar windows. Its
    latent vector ``z`` is the window's chunk latents, flattened:
    ``(n_chunks * chunk_z_size,)``.

    Parameters
    ----------
    config : LatentHierarchyConfig or str
    bottom : MusicVAE
        The 2-bar model (``n_steps`` 32, a melody converter).
    top : TopLevel, optional
    prior : GaussianPrior, optional
        What :meth:`sample_tensors` draws song latents from (see
        :meth:`fit_prior`); N(0, I) without it.
    repeats : RepeatRule, optional
        Which chunks of a sample are copies of earlier ones (fitted with the
        prior); every chunk decoded on its own without it.
    """

    kind = KIND
    config_type = LatentHierarchyConfig

    def __init__(self, config: LatentHierarchyConfig | str, *, bottom: MusicVAE,
                 top: TopLevel | None = None, prior: GaussianPrior | None = None,
                 repeats: RepeatRule | None = None):
        self.config = get_config(config) if isinstance(config, str) else config
        if bottom.config.n_steps is None or bottom.config.output_depths != (90,):
            raise ParameterError(
                f"bottom: must be a fixed-length melody MusicVAE, got {bottom.config.name}")
        self.bottom = bottom
        self.top = top if top is not None else TopLevel(
            self.config, chunk_z_size=bottom.config.z_size)
        self.chunk_steps = bottom.config.n_steps
        self.prior = prior
        self.repeats = repeats
        self._converter = None

    def fit_prior(self, chunk_mu: np.ndarray, chunk_sigma: np.ndarray,
                  classes: np.ndarray | None = None, *, seed: int = 0) -> None:
        """Sample from a Gaussian fitted to the song posterior means of training windows.

        The top level spends about a thousand bits of KL, so N(0, I) puts most
        of its mass where the conductor saw no song (see
        :mod:`gensuite.music_vae.prior`). Given the windows' ``classes``
        (n, n_steps[, 1]), the repeat rule is calibrated too: samples repeat
        2-bar phrases as often as these windows do.
        """
        means = [self.top.encode(tf.constant(chunk_mu[i:i + ENCODE_BATCH]),
                                 tf.constant(chunk_sigma[i:i + ENCODE_BATCH]))[0].numpy()
                 for i in range(0, len(chunk_mu), ENCODE_BATCH)]
        self.prior = GaussianPrior.fit(np.concatenate(means))
        if classes is None:
            return
        chunks = np.asarray(classes).reshape(len(classes), self.config.n_chunks, -1)
        self.repeats = RepeatRule.calibrate(
            self.conduct(self.draw_song_latents(CALIBRATION_SAMPLES, seed=seed)),
            pair_repeat_rate(chunks))

    def draw_song_latents(self, n: int, *, seed: int | None) -> np.ndarray:
        """``n`` song latents (n, z_size) from the prior (N(0, I) without a fitted one)."""
        z_song = np.random.default_rng(seed).standard_normal(
            (int(n), self.config.z_size)).astype(np.float32)
        return self.prior.transform(z_song) if self.prior is not None else z_song

    # -- what the command line reads of a MusicVAE ---------------------------

    @property
    def n_steps(self) -> int:
        return self.config.n_chunks * self.chunk_steps

    @property
    def z_size(self) -> int:
        return self.config.n_chunks * self.bottom.config.z_size

    @property
    def output_depths(self) -> tuple[int, ...]:
        return self.bottom.config.output_depths

    @property
    def converter(self):
        """The bottom's melody converter, reading whole windows of ``n_steps``."""
        if self._converter is None:
            bars = self.n_steps // self.bottom.converter.steps_per_bar
            self._converter = dataclasses.replace(self.bottom.converter, slice_bars=bars)
        return self._converter

    # -- persistence ------------------------------------------------------

    def saved_network(self):
        return self.top

    def saved_meta(self) -> dict:
        if self.repeats is None:
            return {}
        return {REPEATS_KEY: dataclasses.asdict(self.repeats)}

    def save(self, path: str | os.PathLike, *, figures: dict | None = None,
             meta: dict | None = None) -> None:
        """Write the folder with the 2-bar model inside (``bottom/``), then the top level."""
        self.bottom.save(os.path.join(os.fspath(path), BOTTOM_DIR),
                         figures={"role": "bottom of a latent hierarchy"},
                         meta=self.bottom.provenance)
        if self.prior is not None:
            self.prior.save(path)
        super().save(path, figures=figures, meta=meta)

    @classmethod
    def from_saved(cls, config, info: CheckpointInfo) -> LatentHierarchyVAE:
        bottom_dir = os.path.join(info.path, BOTTOM_DIR)
        if not os.path.isdir(bottom_dir):
            raise InputFileError(info.path, f"latent hierarchy without its {BOTTOM_DIR}/ model")
        prior = GaussianPrior.load(info.path, z_size=config.z_size)
        saved_rule = info.meta.get(REPEATS_KEY)  # its fields are checked with meta.json
        repeats = RepeatRule(**saved_rule) if saved_rule is not None else None
        return cls(config, bottom=MusicVAE.load(bottom_dir), prior=prior, repeats=repeats)

    # -- chunk latents ------------------------------------------------------

    def chunk_one_hots(self, classes: np.ndarray) -> np.ndarray:
        """(n, n_steps) or (n, n_steps, 1) classes -> (n * n_chunks, chunk_steps, 90) float32."""
        classes = np.asarray(classes).reshape(len(classes), self.n_steps)
        chunks = classes.reshape(-1, self.chunk_steps)
        return one_hot(chunks, self.output_depths[0], dtype=np.float32)

    def encode_chunks(self, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chunk posteriors of windows: (mu, sigma), each (n, n_chunks, chunk_z), float32."""
        mus, sigmas = [], []
        # One-hots a batch at a time: all of a large folder's would take gigabytes.
        windows = max(1, ENCODE_BATCH // self.config.n_chunks)
        for start in range(0, len(classes), windows):
            batch = self.chunk_one_hots(classes[start:start + windows])
            _, mu, sigma = self.bottom.encode(
                batch, lengths=np.full(len(batch), self.chunk_steps, np.int32))
            mus.append(mu)
            sigmas.append(sigma)
        shape = (len(classes), self.config.n_chunks, self.bottom.config.z_size)
        return (np.concatenate(mus).reshape(shape).astype(np.float32),
                np.concatenate(sigmas).reshape(shape).astype(np.float32))

    def decode_chunks(self, chunk_z: np.ndarray, *, temperature: float = 1.0,
                      seed: int | None = None, greedy: bool = False) -> np.ndarray:
        """(n, n_chunks, chunk_z) -> one-hots (n, n_steps, 90), bool."""
        chunk_z = np.asarray(chunk_z, np.float32)
        n = len(chunk_z)
        flat = chunk_z.reshape(n * self.config.n_chunks, -1)
        decoded = self.bottom.decode_to_tensors(flat, length=self.chunk_steps,
                                                temperature=temperature, seed=seed, greedy=greedy)
        return decoded.reshape(n, self.n_steps, -1)

    def note_cross_entropy(self, chunk_z: tf.Tensor, classes: tf.Tensor) -> tf.Tensor:
        """Cross entropy (nats) of windows' notes, their chunk latents decoded teacher forced.

        Parameters
        ----------
        chunk_z : tf.Tensor, shape (batch, n_chunks, chunk_z)
        classes : tf.Tensor, shape (batch, n_steps), int

        Returns
        -------
        tf.Tensor, shape (batch,): summed over the window's steps.
        """
        targets = tf.one_hot(tf.reshape(classes, [-1, self.chunk_steps]), self.output_depths[0])
        logits, _ = self.bottom.network.decode(
            tf.reshape(chunk_z, [-1, self.bottom.config.z_size]), targets, None,
            tf.zeros_like(targets))
        ce = tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        return tf.reduce_sum(tf.reshape(ce, [tf.shape(chunk_z)[0], -1]), axis=1)

    def conduct(self, z_song: np.ndarray) -> np.ndarray:
        """Song latents (n, z_size) -> chunk latents (n, n_chunks, chunk_z)."""
        return self.top.conduct(tf.constant(np.asarray(z_song, np.float32))).numpy()

    # -- the MusicVAE-like interface ----------------------------------------

    def encode(self, data, *, lengths=None, seed: int | None = None):
        """Encode one-hot windows (batch, n_steps, 90) to flattened chunk latents.

        Returns
        -------
        z, mu, sigma : np.ndarray, shape (batch, z_size)
            ``z`` is a posterior sample (seeded), ``mu`` the posterior mean.
        """
        data = np.asarray(data)
        if data.ndim != 3 or data.shape[1] != self.n_steps:
            raise ParameterError(
                f"data: must be one-hot windows (batch, {self.n_steps}, depth), got {data.shape}")
        mu, sigma = self.encode_chunks(data.argmax(-1))
        eps = np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)
        flat = (len(data), self.z_size)
        return ((mu + sigma * eps).reshape(flat), mu.reshape(flat), sigma.reshape(flat))

    def decode_to_tensors(self, z, *, length: int | None = None, temperature: float = 1.0,
                          seed: int | None = None, greedy: bool = False) -> np.ndarray:
        """Flattened chunk latents (batch, z_size) -> one-hots (batch, n_steps, 90)."""
        if length not in (None, self.n_steps):
            raise ParameterError(f"length: must be {self.n_steps} for this model, got {length}")
        check_temperature(temperature)
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.z_size:
            raise ParameterError(f"z: must have shape (batch, {self.z_size}), got {z.shape}")
        return self.decode_chunks(z.reshape(len(z), self.config.n_chunks, -1),
                                  temperature=temperature, seed=seed, greedy=greedy)

    def sample_tensors(self, n: int, *, length: int | None = None, temperature: float = 1.0,
                       seed: int | None = None, greedy: bool = False) -> np.ndarray:
        """Song latents from the prior, conducted to chunk latents, decoded; repeats copied."""
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ParameterError(f"n: must be an integer >= 1, got {n!r}")
        chunk_z = self.conduct(self.draw_song_latents(n, seed=seed))
        decoded = self.decode_to_tensors(chunk_z.reshape(int(n), -1), length=length,
                                         temperature=temperature, seed=seed, greedy=greedy)
        return decoded if self.repeats is None else self.repeats.apply(decoded, chunk_z)

    def sample(self, n: int, *, length: int | None = None, temperature: float = 1.0,
               seed: int | None = None, greedy: bool = False) -> list:
        """``n`` 16-bar NoteSequences from the song prior."""
        return list(self.converter.from_tensors(self.sample_tensors(
            n, length=length, temperature=temperature, seed=seed, greedy=greedy)))

    def interpolate_z(self, a, b, *, num_steps: int) -> np.ndarray:
        """Slerp each chunk latent from window ``a``'s to ``b``'s (means), both ends included."""
        if isinstance(num_steps, bool) or int(num_steps) != num_steps or num_steps < 2:
            raise ParameterError(f"num_steps: must be an integer >= 2, got {num_steps!r}")
        _, mu, _ = self.encode(np.stack([a, b]))
        k = self.config.n_chunks
        ends = mu.reshape(2, k, -1)
        return np.stack([
            np.concatenate([slerp(ends[0, i], ends[1, i], t) for i in range(k)])
            for t in np.linspace(0.0, 1.0, int(num_steps))]).astype(np.float32)


def load_melody_model(name_or_path: str | os.PathLike):
    """A MusicVAE or a LatentHierarchyVAE, whichever the folder holds."""
    from gensuite.checkpoints import resolve_checkpoint  # noqa: PLC0415

    info = resolve_checkpoint(name_or_path)
    if info.kind == KIND:
        return LatentHierarchyVAE.load(info.path)
    if info.kind != MusicVAE.kind:
        raise InputFileError(os.fspath(name_or_path),
                             f"holds a {info.kind} model, expected a MusicVAE")
    return MusicVAE.load(info.path)


# --------------------------------------------------------------------------
# Evaluation


def accuracies(model: LatentHierarchyVAE, classes: np.ndarray, *, seed: int = 0,
               batch_size: int = 256) -> dict:
    """Held-out accuracies of 16-bar windows (every step is valid: windows are whole).

    Returns
    -------
    dict
        ``n_examples``; ``greedy_accuracy`` / ``sampled_accuracy`` decoding
        the chunk means greedily / chunk posterior samples at temperature 1;
        ``top_greedy_accuracy`` / ``top_sampled_accuracy`` the same through
        the song latent alone; ``constant_accuracy`` (always the most frequent
        class); ``latent_nll`` and ``kl_bits`` of the top level.
    """
    classes = np.asarray(classes).reshape(len(classes), model.n_steps)
    if not len(classes):
        raise NoExamplesError("no held-out windows to evaluate")
    rng = np.random.default_rng(seed)
    hits = {k: 0.0 for k in ("greedy", "sampled", "top_greedy", "top_sampled")}
    nll = kl = 0.0
    for start in range(0, len(classes), batch_size):
        target = classes[start:start + batch_size]
        mu, sigma = model.encode_chunks(target)
        song_mu, song_sigma = (t.numpy() for t in model.top.encode(mu, sigma))
        terms = model.top.losses_of(tf.constant(mu), tf.constant(sigma),
                                    seed=tf.constant([seed, start], tf.int64), training=False)
        nll += float(terms["latent_nll"]) * len(target)
        kl += float(terms["kl_bits"]) * len(target)
        song_sample = song_mu + song_sigma * rng.standard_normal(song_mu.shape).astype(np.float32)
        chunk_sample = mu + sigma * rng.standard_normal(mu.shape).astype(np.float32)
        for key, chunk_z, greedy in (
                ("greedy", mu, True), ("sampled", chunk_sample, False),
                ("top_greedy", model.conduct(song_mu), True),
                ("top_sampled", model.conduct(song_sample), False)):
            decoded = model.decode_chunks(chunk_z, greedy=greedy, seed=seed + start).argmax(-1)
            hits[key] += float(np.sum(decoded == target))
    n_steps = classes.size
    counts = np.bincount(classes.ravel(), minlength=model.output_depths[0])
    return {"n_examples": len(classes),
            **{f"{k}_accuracy": v / n_steps for k, v in hits.items()},
            "constant_accuracy": constant_accuracy(counts, n_steps, model.output_depths),
            "latent_nll": nll / len(classes), "kl_bits": kl / len(classes)}


# --------------------------------------------------------------------------
# Training

LATENTS_FILE = "latents.npz"


def add_transposed_copies(classes: np.ndarray, *, copies: int, transpose_range: tuple[int, int],
                          depth: int, seed: int) -> np.ndarray:
    """Windows (n, n_steps, 1) followed by ``copies`` randomly transposed copies of each.

    Returns
    -------
    np.ndarray, shape ((copies + 1) * n, n_steps, 1): the windows first, unchanged.
    """
    from gensuite.music_vae.data import transpose_melody_classes  # noqa: PLC0415

    rng = np.random.default_rng((seed, copies))
    return np.concatenate([classes] + [
        transpose_melody_classes(classes, rng=rng, transpose_range=transpose_range, depth=depth)
        for _ in range(copies)])


def cached_chunk_latents(model: LatentHierarchyVAE, run_dir: str, splits: dict, *,
                         write: bool = True) -> dict:
    """Chunk posteriors of each split's windows, encoded once and kept in ``RUN/latents.npz``.

    ``splits`` maps a name to class arrays (n, n_steps, 1); returns name ->
    (mu, sigma). The cache is used only when its window counts match; it is
    written only with ``write`` (the chief of a multi-worker run).
    """
    from gensuite.common.fileio import atomic_path  # noqa: PLC0415

    path = os.path.join(run_dir, LATENTS_FILE)
    if os.path.isfile(path):
        with np.load(path) as cached:
            if all(f"{k}_mu" in cached and len(cached[f"{k}_mu"]) == len(v)
                   for k, v in splits.items()):
                return {k: (cached[f"{k}_mu"].astype(np.float32),
                            cached[f"{k}_sigma"].astype(np.float32)) for k in splits}
    out = {k: model.encode_chunks(v) for k, v in splits.items()}
    if not write:
        return out
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **{f"{k}_{part}": arrays[i] for k, arrays in out.items()
                         for i, part in enumerate(("mu", "sigma"))})
    return out


def train_latent_hierarchy(model: LatentHierarchyVAE, train: tuple[np.ndarray, np.ndarray], *,
                           run_dir: str, num_steps: int, held_out_classes: np.ndarray | None,
                           train_classes: np.ndarray | None = None,
                           eval_every: int = 500, eval_examples: int = 512, seed: int = 0,
                           checkpoint_every_s: float = 300.0, log_every: int = 50,
                           progress: bool = True,
                           strategy: tf.distribute.Strategy | None = None) -> dict:
    """Train the top level on cached chunk posteriors; resumable from ``run_dir``.

    Parameters
    ----------
    train : (mu, sigma)
        Chunk posteriors of the training windows, each (n, n_chunks, chunk_z).
    train_classes : np.ndarray, optional
        The same windows' classes (n, n_steps[, 1]); needed when the config
        weighs the notes (``note_loss_weight`` > 0).
    held_out_classes : np.ndarray, optional
        Held-out windows (n, n_steps, 1): :func:`accuracies` of the first
        ``eval_examples`` every ``eval_every`` steps.
    strategy : tf.distribute.Strategy, optional
        From :func:`gensuite.training.distribute.make_strategy`; ``model`` must
        have been built inside its scope. Each batch is split over the
        replicas; only the chief writes ``run_dir``. Default: one device.

    Returns
    -------
    dict
        The last logged figures.
    """
    from gensuite.training.checkpointing import (  # noqa: PLC0415
        MetricsLogger,
        TrainingCheckpoint,
        record_run_config,
    )
    from gensuite.training.loop import run_training_loop  # noqa: PLC0415

    config = model.config
    strategy = strategy or tf.distribute.get_strategy()
    chief = is_chief(strategy)
    distributed = is_distributed(strategy)
    if distributed:
        per_replica_batch(strategy, config.batch_size)
    if chief:
        record_run_config(run_dir, config)
    with strategy.scope():
        # In cross-replica context the clip sees the summed gradients, as one device's.
        optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate,
                                          global_clipnorm=1.0)
        optimizer.build(model.top.trainable_variables)
    checkpoint = TrainingCheckpoint(run_dir, model=model.top, optimizer=optimizer, chief=chief)
    checkpoint.restore_latest()
    logger = MetricsLogger(run_dir, enabled=chief)
    progress = progress and chief
    variables = model.top.trainable_variables
    mu_all, sigma_all = train
    if not len(mu_all):
        raise NoExamplesError("no training windows")
    weigh_notes = config.note_loss_weight > 0
    if weigh_notes:
        if train_classes is None or len(train_classes) != len(mu_all):
            raise ParameterError(f"{config.name} weighs notes: train_classes must hold the "
                                 f"{len(mu_all)} training windows")
        train_classes = np.asarray(train_classes, np.int32).reshape(len(mu_all), model.n_steps)

    def replica_terms(mu, sigma, classes, step_seed):
        def note_ce(predicted):
            return model.note_cross_entropy(predicted, classes)

        with tf.GradientTape() as tape:
            terms = model.top.losses_of(
                mu, sigma, seed=step_seed, note_cross_entropy=note_ce if weigh_notes else None,
                global_batch=config.batch_size if distributed else None)
        return tape.gradient(terms["loss"], variables), terms

    @tf.function
    def train_step(mu, sigma, classes, step_seed):
        if distributed:
            grads, terms = summed_over_slices(strategy, replica_terms, (mu, sigma, classes),
                                              config.batch_size, step_seed)
        else:
            grads, terms = replica_terms(mu, sigma, classes, step_seed)
        optimizer.apply_gradients(zip(grads, variables))
        return terms

    def step_fn() -> dict:
        step = int(optimizer.iterations.numpy())
        rng = np.random.default_rng((seed, step))
        index = rng.choice(len(mu_all), size=config.batch_size,
                           replace=len(mu_all) < config.batch_size)
        classes = train_classes[index] if weigh_notes else np.zeros((len(index), 0), np.int32)
        terms = train_step(tf.constant(mu_all[index]), tf.constant(sigma_all[index]),
                           tf.constant(classes), tf.constant([seed, step], tf.int64))
        return {k: float(v) for k, v in terms.items()}

    def evaluate_when_due(step: int, last: dict) -> dict | None:
        if held_out_classes is None or not (step % eval_every == 0 or step >= num_steps):
            return None
        figures = accuracies(model, held_out_classes[:eval_examples], seed=seed)
        logger.log("eval", step, figures)
        return {**last, **{f"held_out_{k}": v for k, v in figures.items()}}

    return run_training_loop(
        step_fn, get_step=lambda: int(optimizer.iterations.numpy()), num_steps=num_steps,
        save=checkpoint.save, logger=logger, log_every=log_every,
        checkpoint_every_s=checkpoint_every_s, progress=progress,
        desc=f"vae train {config.name}", after_step=evaluate_when_due, agree=any_worker(strategy),
        postfix=lambda m: {"nll": f"{m['latent_nll']:.1f}", "kl": f"{m['kl_bits']:.0f}b",
                           **({"notes": f"{m['note_ce']:.1f}"} if "note_ce" in m else {})})
