"""MidiMe: personalise a trained MusicVAE in a minute with a small VAE over its latents.

A 2-bar MusicVAE's latent space holds every kind of melody it was trained on;
one artist's melodies occupy a small part of it. MidiMe (Dinculescu, Engel
and Roberts, 2019; magenta.js trains it in the browser) learns that part:
the base model encodes the artist's windows to posterior means ``z``
(``z_size``, e.g. 128), and a VAE of a few dense layers learns to code those
vectors with a latent ``w`` of a few dimensions::

    z (z_size) --dense layers--> w ~ N(mu, sigma) (latent_size)
               --dense layers--> z reconstructed

Sampling then draws ``w ~ N(0, I)``, maps it to ``z`` and decodes with the
base model's decoder, unchanged. Unlike magenta.js, the map adds the small
VAE's residual: a few dimensions cannot hold all of an artist's variety, and
the decoder's mean alone regresses to the average melody (measured on
Monteverdi's madrigals: samples with half the range and onsets of the real
lines). The residual is Gaussian, with the covariance of the training
vectors' reconstruction errors, kept in its ``z_size - latent_size`` largest
directions so that one standard normal draw of ``z_size`` values makes one
sample. Only the small network is trained (no
sequence model, no backpropagation through LSTMs), which is why it takes
seconds where fine-tuning the base model takes many minutes.

A personalised model is the base model's folder plus ``midime.npz``: every
command that reads a MusicVAE reads it, and sampling goes through the learnt
map instead of N(0, I) or the fitted Gaussian (``prior.npz``). The network is
kept as numpy arrays, so loading and sampling need no Keras model.

Inputs to the small VAE are the base latents standardised per dimension (the
saved ``z_mean`` / ``z_scale``), so one loss scale suits every base model.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from gensuite.common.config import JsonConfig
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError

MIDIME_FILE = "midime.npz"


@dataclasses.dataclass(frozen=True)
class MidiMeConfig(JsonConfig):
    """The small VAE and its training.

    Attributes
    ----------
    latent_size : int
        Dimensions of ``w`` (magenta.js: 4).
    layer_sizes : tuple of int
        Hidden dense layers of the encoder (ReLU); the decoder mirrors them.
    beta : float
        Weight of the KL term against the reconstruction of the standardised
        latents (squared error summed over dimensions, halved: unit-variance
        Gaussian likelihood).
    num_steps, batch_size, learning_rate
        Adam steps over the artist's latent vectors.
    max_windows : int
        The folder's windows the small VAE learns from, evenly spaced: encoding
        every window was most of a large folder's time, and 2,000 steps of 64
        see each of 4,096 vectors about 30 times.
    """

    latent_size: int = 4
    layer_sizes: tuple[int, ...] = (256, 64)
    beta: float = 1.0
    num_steps: int = 2000
    batch_size: int = 64
    learning_rate: float = 1e-3
    max_windows: int = 4096

    def __post_init__(self):
        for name in ("latent_size", "num_steps", "batch_size", "max_windows"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ParameterError(f"{name}: must be an integer >= 1, got {value!r}")
        if any(int(s) != s or s < 1 for s in self.layer_sizes):
            raise ParameterError(
                f"layer_sizes: must be integers >= 1, got {list(self.layer_sizes)}")
        if not self.beta >= 0:
            raise ParameterError(f"beta: must be >= 0, got {self.beta!r}")
        if not self.learning_rate > 0:
            raise ParameterError(f"learning_rate: must be > 0, got {self.learning_rate!r}")


def _dense_stack(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """ReLU dense layers, the last one linear."""
    for i, (kernel, bias) in enumerate(layers):
        x = x @ kernel + bias
        if i < len(layers) - 1:
            x = np.maximum(x, 0.0)
    return x


@dataclasses.dataclass(frozen=True, eq=False)
class MidiMePrior:
    """A learnt map from ``w ~ N(0, I)`` to a base model's latent vectors.

    Used as a MusicVAE's ``prior``: :meth:`transform` takes standard normal
    draws shaped like ``z`` and uses their first ``latent_size`` columns.

    Attributes
    ----------
    config : MidiMeConfig
    z_mean, z_scale : np.ndarray, shape (z_size,), float32
        Standardisation of the base latents.
    encoder, decoder : list of (kernel, bias)
        Dense layers; the encoder's last layer gives ``2 * latent_size``
        values (mean, then softplus pre-activation of the scale).
    residual : np.ndarray, shape (z_size - latent_size, z_size), float32
        Maps standard normal draws to the residual, in standardised units.
    figures : dict
        What training measured (windows, files, seconds, final losses).
    """

    config: MidiMeConfig
    z_mean: np.ndarray
    z_scale: np.ndarray
    encoder: list
    decoder: list
    residual: np.ndarray
    figures: dict = dataclasses.field(default_factory=dict)

    @property
    def z_size(self) -> int:
        return int(self.z_mean.shape[0])

    def decode_w(self, w: np.ndarray) -> np.ndarray:
        """Personal latents ``(n, latent_size)`` -> base latents ``(n, z_size)``."""
        w = np.asarray(w, np.float32)
        if w.ndim != 2 or w.shape[1] != self.config.latent_size:
            raise ParameterError(
                f"w: must have shape (n, {self.config.latent_size}), got {w.shape}")
        return (_dense_stack(w, self.decoder) * self.z_scale + self.z_mean).astype(np.float32)

    def encode_z(self, z: np.ndarray) -> np.ndarray:
        """Base latents ``(n, z_size)`` -> personal latent means ``(n, latent_size)``."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.z_size:
            raise ParameterError(f"z: must have shape (n, {self.z_size}), got {z.shape}")
        out = _dense_stack((z - self.z_mean) / self.z_scale, self.encoder)
        return out[:, :self.config.latent_size].astype(np.float32)

    def transform(self, eps: np.ndarray) -> np.ndarray:
        """Standard normal draws ``(n, z_size)`` -> base latents: the first
        ``latent_size`` columns are ``w``, the rest draw the residual."""
        eps = np.asarray(eps, np.float32)
        size = self.config.latent_size
        return (self.decode_w(eps[:, :size])
                + (eps[:, size:] @ self.residual) * self.z_scale).astype(np.float32)

    # ----- persistence -------------------------------------------------

    def save(self, folder: str | os.PathLike) -> None:
        """Write ``folder/midime.npz`` atomically."""
        from gensuite.common.fileio import atomic_path  # noqa: PLC0415

        arrays = {"z_mean": self.z_mean, "z_scale": self.z_scale, "residual": self.residual}
        for side, layers in (("encoder", self.encoder), ("decoder", self.decoder)):
            for i, (kernel, bias) in enumerate(layers):
                arrays[f"{side}_{i}_kernel"], arrays[f"{side}_{i}_bias"] = kernel, bias
        arrays["config"] = np.array(self.config.to_json())
        arrays["figures"] = np.array(json.dumps(self.figures))
        with atomic_path(os.path.join(os.fspath(folder), MIDIME_FILE), suffix=".npz") as tmp:
            np.savez(tmp, **arrays)

    @classmethod
    def load(cls, folder: str | os.PathLike, *, z_size: int) -> MidiMePrior | None:
        """The personaliser saved in ``folder``, or None when it has none.

        Raises
        ------
        InputFileError
            Unreadable, or shaped for another latent size.
        """
        from gensuite.music_vae.prior import read_npz  # noqa: PLC0415

        path = os.path.join(os.fspath(folder), MIDIME_FILE)
        arrays = read_npz(path, what="personaliser")
        if arrays is None:
            return None
        try:
            config = MidiMeConfig.from_json(str(arrays["config"]))
            figures = json.loads(str(arrays["figures"]))
            layers = {side: [(arrays[f"{side}_{i}_kernel"].astype(np.float32),
                              arrays[f"{side}_{i}_bias"].astype(np.float32))
                             for i in range(len(config.layer_sizes) + 1)]
                      for side in ("encoder", "decoder")}
            prior = cls(config, arrays["z_mean"].astype(np.float32),
                        arrays["z_scale"].astype(np.float32), layers["encoder"],
                        layers["decoder"], arrays["residual"].astype(np.float32), figures)
        except (KeyError, ValueError) as exc:
            raise InputFileError(path, f"unreadable personaliser ({exc})") from exc
        if (prior.z_size != z_size or prior.decoder[-1][0].shape[1] != z_size
                or prior.residual.shape != (z_size - config.latent_size, z_size)):
            raise InputFileError(path, f"personaliser shaped for latent size {prior.z_size}, "
                                       f"the model's is {z_size}")
        if not all(np.all(np.isfinite(a)) for pair in prior.encoder + prior.decoder
                   for a in (*pair, prior.residual)):
            raise InputFileError(path, "personaliser holds NaN or inf")
        return prior


def train_midime(z: np.ndarray, config: MidiMeConfig = MidiMeConfig(), *, seed: int = 0,
                 figures: dict | None = None) -> MidiMePrior:
    """Fit the small VAE to base latents ``z`` (n, z_size), n >= 2.

    Returns
    -------
    MidiMePrior
        With ``figures`` plus ``reconstruction`` (mean squared error per
        standardised dimension over the training vectors, through the
        posterior means) and ``kl_bits`` (last batch, per vector).
    """
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    z = np.asarray(z, np.float32)
    if z.ndim != 2 or len(z) < 2:
        raise NoExamplesError(f"MidiMe needs at least two latent vectors, got shape {z.shape}")
    if config.latent_size >= z.shape[1]:
        raise ParameterError(f"latent_size: must be smaller than the base latent size "
                             f"{z.shape[1]}, got {config.latent_size}")
    z_mean = z.mean(0)
    z_scale = z.std(0) + 1e-3
    data = tf.constant((z - z_mean) / z_scale)
    keras.utils.set_random_seed(seed)
    size = config.latent_size

    def stack(sizes, out):
        return keras.Sequential([keras.layers.Dense(s, activation="relu") for s in sizes]
                                + [keras.layers.Dense(out)])

    encoder = stack(config.layer_sizes, 2 * size)
    decoder = stack(tuple(reversed(config.layer_sizes)), z.shape[1])
    encoder.build((None, z.shape[1]))
    decoder.build((None, size))
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer = keras.optimizers.Adam(config.learning_rate)
    optimizer.build(variables)
    n, batch_size = len(z), config.batch_size

    def step(i, r_loss, kl):
        # Stateless draws keyed on (seed, step): the same seed trains the same network.
        key = tf.stack([tf.constant(seed, tf.int32), i])
        index = tf.random.stateless_uniform([batch_size], seed=key, maxval=n, dtype=tf.int32)
        noise = tf.random.stateless_normal([batch_size, size], seed=key + [0, 1 << 20])
        batch = tf.gather(data, index)
        with tf.GradientTape() as tape:
            out = encoder(batch)
            mu, sigma = out[:, :size], tf.nn.softplus(out[:, size:]) + 1e-4
            recon = decoder(mu + sigma * noise)
            r_loss = 0.5 * tf.reduce_sum(tf.square(recon - batch), axis=1)
            kl = 0.5 * tf.reduce_sum(tf.square(mu) + tf.square(sigma)
                                     - 2.0 * tf.math.log(sigma) - 1.0, axis=1)
            loss = tf.reduce_mean(r_loss + config.beta * kl)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return i + 1, tf.reduce_mean(r_loss), tf.reduce_mean(kl)

    # One compiled loop: a Python call per step would cost more than the step.
    @tf.function
    def train():
        return tf.while_loop(lambda i, *_: i < config.num_steps, step,
                             (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))

    _, r_loss, kl = train()
    weights = {}
    for name, net in (("encoder", encoder), ("decoder", decoder)):
        weights[name] = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in net.layers]
    prior = MidiMePrior(config, z_mean, z_scale.astype(np.float32), weights["encoder"],
                        weights["decoder"], np.zeros((0, z.shape[1]), np.float32))
    standardised = data.numpy()
    errors = standardised - _dense_stack(prior.encode_z(z), prior.decoder)
    values, vectors = np.linalg.eigh(np.cov(errors, rowvar=False))
    keep = np.argsort(values)[::-1][:z.shape[1] - size]
    residual = (vectors[:, keep] * np.sqrt(np.maximum(values[keep], 0.0))).T
    result = dict(figures or {})
    result.update({"n_vectors": int(len(z)),
                   "reconstruction": round(float(np.mean(np.square(errors))), 4),
                   "kl_bits": round(float(kl) / np.log(2), 2)})
    return dataclasses.replace(prior, residual=residual.astype(np.float32), figures=result)
