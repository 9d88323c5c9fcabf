"""MusicVAE (Roberts et al. 2018, Magenta's ``music_vae``) in Keras 3 / TensorFlow.

Two layers of API:

* :class:`MusicVAENetwork` - the Keras model: a bidirectional LSTM encoder
  (flat or per-bar hierarchical) to ``mu`` and ``sigma`` (softplus), and a
  categorical LSTM decoder conditioned on ``z``, either flat or under a
  conductor that emits one embedding per bar. Works on tensors.
* :class:`MusicVAE` - the user-facing object: load/save checkpoints, encode,
  decode, sample and interpolate, on arrays or on NoteSequences (through the
  converter named by the config).

Hierarchical decoding: the conductor is not autoregressive (its inputs are
zeros, Magenta's ``disable_autoregression=True``) and every bar starts from the
zero start token and its own embedding, so all bars of a batch are decoded as
one batch of ``batch * n_bars`` sequences of ``steps_per_bar`` steps. (Magenta
feeds the last token of the previous bar as a bar's first input; we do not,
which is what lets the bars run in parallel at sampling time.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from gensuite.checkpoints import SavedModel
from gensuite.common.arrays import one_hot
from gensuite.common.errors import NoExamplesError, ParameterError
from gensuite.common.slerp import slerp
from gensuite.music_vae.configs import STEPS_PER_BAR, MusicVAEConfig, get_config
from gensuite.music_vae.decoder import (
    CategoricalLstmDecoder,
    bernoulli_mask,
    gumbel_noise,
    shift_right,
)
from gensuite.music_vae.lstm import (
    BidirectionalLstmEncoder,
    Conductor,
    HierarchicalLstmEncoder,
    WeightInit,
)
from gensuite.training.distribute import global_rows

KIND = "music_vae"


def split_seed(seed: tf.Tensor, n: int) -> tf.Tensor:
    """``n`` independent stateless seeds ``(n, 2)`` derived from one."""
    return tf.random.experimental.stateless_split(seed, num=n)


class MusicVAENetwork(keras.Model):
    """The MusicVAE Keras model; all weights exist after construction.

    Parameters
    ----------
    config : MusicVAEConfig
    seed : int, optional
        Seed of the initial weights (None: unseeded).
    """

    def __init__(self, config: MusicVAEConfig, *, seed: int | None = None, **kwargs):
        super().__init__(name=kwargs.pop("name", "music_vae"), **kwargs)
        self.config = config
        c = config
        init = WeightInit(seed)
        if c.hierarchical_encoder:
            self.encoder = HierarchicalLstmEncoder(
                c.encoder_sizes, c.input_depth, n_segments=c.n_steps // STEPS_PER_BAR,
                segment_steps=STEPS_PER_BAR, init=init, name="encoder")
        else:
            self.encoder = BidirectionalLstmEncoder(
                c.encoder_sizes, c.input_depth, init=init, name="encoder")
        self.mu_layer = keras.layers.Dense(
            c.z_size, kernel_initializer=init.small_normal(), name="mu")
        self.sigma_layer = keras.layers.Dense(
            c.z_size, activation="softplus", kernel_initializer=init.small_normal(), name="sigma")
        for layer in (self.mu_layer, self.sigma_layer):
            layer.build((None, self.encoder.output_dim))
        if c.hierarchical:
            self.conductor = Conductor(c.conductor_sizes, c.z_size, c.n_bars, init=init,
                                       name="conductor")
            cond_dim = self.conductor.output_dim
        else:
            self.conductor = None
            cond_dim = c.z_size
        groups = [(d,) for d in c.output_depths] if c.split_decoders else [c.output_depths]
        self.decoders = [
            CategoricalLstmDecoder(c.decoder_sizes, g, cond_dim, init=init, name=f"decoder_{i}")
            for i, g in enumerate(groups)]
        self.built = True

    def encode(self, inputs: tf.Tensor, lengths: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Posterior parameters.

        Parameters
        ----------
        inputs : tf.Tensor, shape (batch, n_steps, input_depth), float32
        lengths : tf.Tensor, shape (batch,), int32

        Returns
        -------
        mu, sigma : tf.Tensor, shape (batch, z_size)
        """
        h = self.encoder(inputs, lengths)
        return self.mu_layer(h), self.sigma_layer(h)

    def decode(self, z, targets, sample_mask, noise, temperature=1.0):
        """Run the decoder(s) for ``time`` steps.

        Parameters
        ----------
        z : tf.Tensor, shape (batch, z_size)
        targets : tf.Tensor, shape (batch, time, output_depth)
            Teacher-forcing targets (zeros for free sampling); shifted right by
            one step here (per bar for a hierarchical decoder).
        sample_mask : tf.Tensor, shape (batch, time), bool, or None
            True where a step reads the decoder's own previous sample; None
            for pure teacher forcing (a faster path).
        noise : tf.Tensor, shape (batch, time, output_depth)
            Gumbel noise (zeros: greedy).
        temperature : float or scalar tensor, > 0

        Returns
        -------
        logits : tf.Tensor, shape (batch, time, output_depth)
        samples : tf.Tensor, shape (batch, time, n_outputs), int32 class indices
        """
        c = self.config
        if self.conductor is None:
            return self._run_decoders(z, shift_right(targets), sample_mask, noise, temperature)
        batch, n, s, d = tf.shape(z)[0], c.n_bars, c.steps_per_segment, c.output_depth
        cond = tf.reshape(self.conductor(z), [batch * n, self.conductor.output_dim])
        logits, samples = self._run_decoders(
            cond,
            shift_right(tf.reshape(targets, [batch * n, s, d])),
            None if sample_mask is None else tf.reshape(sample_mask, [batch * n, s]),
            tf.reshape(noise, [batch * n, s, d]),
            temperature)
        return (tf.reshape(logits, [batch, n * s, d]),
                tf.reshape(samples, [batch, n * s, samples.shape[-1]]))

    def _run_decoders(self, cond, teacher_inputs, sample_mask, noise, temperature):
        if len(self.decoders) == 1:
            return self.decoders[0](cond, teacher_inputs, sample_mask, noise,
                                    temperature=temperature)
        # Split decoders: each output has its own LSTM reading only its own tokens.
        logits, samples, start = [], [], 0
        for decoder in self.decoders:
            end = start + decoder.output_depth
            lg, sm = decoder(cond, teacher_inputs[..., start:end], sample_mask,
                             noise[..., start:end], temperature=temperature)
            logits.append(lg)
            samples.append(sm)
            start = end
        return tf.concat(logits, axis=-1), tf.concat(samples, axis=-1)

    def reconstruct(self, inputs, outputs, lengths, *, seed, p_sample=0.0,
                    use_mean=False, temperature=1.0,
                    batch_rows: tuple | None = None) -> dict[str, tf.Tensor]:
        """Encode, draw z, decode with scheduled sampling probability ``p_sample``.

        Parameters
        ----------
        inputs : tf.Tensor, shape (batch, time, input_depth)
        outputs : tf.Tensor, shape (batch, time, output_depth)
        lengths : tf.Tensor, shape (batch,)
        seed : tf.Tensor, shape (2,), int64
            Stateless seed for z, the sampling mask and the Gumbel noise.
        p_sample : float or scalar tensor
            0: teacher forcing; 1: every step reads the previous sample. A
            Python 0 selects the faster teacher-forcing-only path.
        use_mean : bool
            Decode from mu instead of a posterior sample.
        batch_rows : (first_row, global_batch), optional
            This batch is rows ``first_row ...`` of a larger one split over
            replicas: the random draws are those of the larger batch's rows,
            so the split computes what one device computes on the whole.

        Returns
        -------
        dict with ``mu``, ``sigma``, ``z`` (batch, z_size), ``logits``
        (batch, time, output_depth) and ``samples`` (batch, time, n_outputs).
        """
        seeds = split_seed(seed, 3)
        first_row, global_batch = batch_rows or (None, None)

        def draw(fn, shape):
            return global_rows(fn, shape, first_row, global_batch)

        mu, sigma = self.encode(inputs, lengths)
        if use_mean:
            z = mu
        else:
            z = mu + sigma * draw(lambda s: tf.random.stateless_normal(s, seed=seeds[0]),
                                  tf.shape(mu))
        shape = tf.shape(outputs)
        teacher_only = isinstance(p_sample, (int, float)) and p_sample == 0
        mask = None if teacher_only else draw(
            lambda s: bernoulli_mask(s, p_sample, seeds[1]), shape[:2])
        noise = draw(lambda s: gumbel_noise(s, seeds[2]), shape)
        logits, samples = self.decode(z, outputs, mask, noise, temperature)
        return {"mu": mu, "sigma": sigma, "z": z, "logits": logits, "samples": samples}

    def sample_free(self, z, n_steps, *, seed, temperature=1.0, greedy=False):
        """Decode ``z`` feeding back the decoder's own samples.

        Returns
        -------
        samples : tf.Tensor, shape (batch, n_steps, n_outputs), int32
        """
        batch = tf.shape(z)[0]
        shape = tf.stack([batch, n_steps, self.config.output_depth])
        noise = gumbel_noise(shape, seed) * (1.0 - tf.cast(greedy, tf.float32))
        targets = tf.zeros(shape)
        mask = tf.ones(shape[:2], tf.bool)
        _, samples = self.decode(z, targets, mask, noise, temperature)
        return samples

    def call(self, inputs, outputs, lengths):
        """Teacher-forced logits decoded from mu (Keras entry point)."""
        mu, _ = self.encode(inputs, lengths)
        shape = tf.shape(outputs)
        logits, _ = self.decode(mu, outputs, None, tf.zeros(shape))
        return logits


def check_temperature(temperature: float) -> float:
    """Return ``temperature`` as float, or raise ParameterError unless finite and > 0."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ParameterError(f"temperature: must be a number > 0, got {temperature!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"temperature: must be > 0, got {temperature!r}")
    return value


def _seed_tensor(seed: int | None, salt: int) -> tf.Tensor:
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    return tf.constant([int(seed), salt], dtype=tf.int64)


class MusicVAE(SavedModel):
    """A MusicVAE ready to encode, decode, sample and interpolate.

    Parameters
    ----------
    config : MusicVAEConfig or str
        A config or a preset name.
    converter : object, optional
        Converter with ``input_depth``, ``output_depth``, ``to_tensors`` and
        ``from_tensors``; by default the one named by ``config.converter``
        with ``converter_options`` applied, built on first use by the
        NoteSequence methods.
    converter_options : ConverterOptions, optional
        How training bent the converter preset (any meter, any program,
        track names); saved with the model and restored by ``load``.
    network : MusicVAENetwork, optional
        Existing weights to wrap (e.g. from a trainer).

    Examples
    --------
    >>> vae = MusicVAE.load("mel_2bar")                      # doctest: +SKIP
    >>> melodies = vae.sample(4, temperature=0.5, seed=1)    # doctest: +SKIP
    """

    kind = KIND
    config_type = MusicVAEConfig

    def __init__(self, config: MusicVAEConfig | str, *, converter=None, converter_options=None,
                 network=None):
        from gensuite.music_vae.converters import ConverterOptions  # noqa: PLC0415

        self.config = get_config(config) if isinstance(config, str) else config
        self.network = network if network is not None else MusicVAENetwork(self.config)
        self.converter_options = converter_options or ConverterOptions()
        self.prior = None  # N(0, I); see fit_prior and midime
        # meta.json's "training" and "data" of the folder it was loaded from, so
        # that a copy (a latent hierarchy's bottom/) keeps the step it reached.
        self.provenance: dict = {}
        self._converter = converter
        c = self.config
        self._encode_fn = tf.function(
            self.network.encode, reduce_retracing=True,
            input_signature=[tf.TensorSpec([None, c.n_steps, c.input_depth], tf.float32),
                             tf.TensorSpec([None], tf.int32)])
        self._sample_fn = tf.function(
            self._sample_graph, reduce_retracing=True,
            input_signature=[tf.TensorSpec([None, c.z_size], tf.float32),
                             tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32),
                             tf.TensorSpec([2], tf.int64), tf.TensorSpec([], tf.bool)])

    def _sample_graph(self, z, n_steps, temperature, seed, greedy):
        return self.network.sample_free(z, n_steps, seed=seed, temperature=temperature,
                                        greedy=greedy)

    # ----- persistence -------------------------------------------------

    def saved_meta(self) -> dict:
        return {"converter_options": self.converter_options.to_dict()}

    def save(self, path, *, figures: dict | None = None, meta: dict | None = None) -> None:
        """Write the model folder, with its prior's file when it has one (``prior.npz``
        fitted, ``midime.npz`` personalised)."""
        if self.prior is not None:
            os.makedirs(path, exist_ok=True)
            self.prior.save(path)
        super().save(path, figures=figures, meta=meta)

    @classmethod
    def from_saved(cls, config, info) -> "MusicVAE":
        from gensuite.music_vae.converters import ConverterOptions  # noqa: PLC0415
        from gensuite.music_vae.midime import MidiMePrior  # noqa: PLC0415
        from gensuite.music_vae.prior import GaussianPrior  # noqa: PLC0415

        model = cls(config, converter_options=ConverterOptions.from_dict(
            info.meta.get("converter_options")))
        model.prior = (MidiMePrior.load(info.path, z_size=config.z_size)
                       or GaussianPrior.load(info.path, z_size=config.z_size))
        model.provenance = {k: info.meta[k] for k in ("training", "data") if k in info.meta}
        return model

    # ----- tensors ------------------------------------------------------

    @property
    def n_steps(self) -> int | None:
        return self.config.n_steps

    @property
    def output_depths(self) -> tuple[int, ...]:
        return self.config.output_depths

    @property
    def converter(self):
        if self._converter is None:
            from gensuite.music_vae.converters import build_converter  # noqa: PLC0415

            self._converter = build_converter(self.config.converter, self.converter_options)
        return self._converter

    def _check_length(self, length: int | None) -> int:
        c = self.config
        if length is None:
            return c.n_steps
        if int(length) != length or length < 1:
            raise ParameterError(f"length: must be an integer >= 1, got {length!r}")
        if c.hierarchical and length != c.n_steps:
            raise ParameterError(
                f"length: must equal {c.n_steps} for hierarchical model {c.name!r}, got {length}")
        return int(length)

    def _pad_inputs(self, inputs, lengths):
        inputs = np.asarray(inputs, dtype=np.float32)
        if inputs.ndim == 2:
            inputs = inputs[None]
        if inputs.ndim != 3 or inputs.shape[-1] != self.config.input_depth:
            raise ParameterError(
                f"inputs: must have shape (batch, steps, {self.config.input_depth}), "
                f"got {inputs.shape}")
        n = inputs.shape[1]
        if n > self.config.n_steps:
            raise ParameterError(f"inputs: at most {self.config.n_steps} steps, got {n}")
        lengths = np.full(len(inputs), n) if lengths is None else np.asarray(lengths).reshape(-1)
        padded = np.zeros((len(inputs), self.config.n_steps, inputs.shape[-1]), np.float32)
        padded[:, :n] = inputs
        return padded, lengths.astype(np.int32)

    def _sequences_to_inputs(self, sequences):
        inputs, lengths = [], []
        for i, seq in enumerate(sequences):
            tensors = self.converter.to_tensors(seq)
            if not len(tensors.inputs):
                name = getattr(seq, "filename", "") or f"sequence {i}"
                why = getattr(tensors, "reason", None)
                raise NoExamplesError(
                    f"{name}: no {self.config.converter} example could be extracted"
                    + (f" ({why})" if why else ""))
            # Several windows: the first one (the CLI chooses windows itself).
            x = np.asarray(tensors.inputs[0], dtype=np.float32)
            padded = np.zeros((self.config.n_steps, self.config.input_depth), np.float32)
            padded[:len(x)] = x[:self.config.n_steps]
            inputs.append(padded)
            lengths.append(min(int(tensors.lengths[0]), self.config.n_steps))
        return np.stack(inputs), np.asarray(lengths, np.int32)

    def _as_inputs(self, data, lengths=None):
        if isinstance(data, tf.Tensor):
            data = data.numpy()
        if isinstance(data, np.ndarray) or (
                isinstance(data, Sequence) and data and isinstance(data[0], np.ndarray)):
            return self._pad_inputs(np.asarray(data), lengths)
        if hasattr(data, "notes"):  # a single NoteSequence
            data = [data]
        return self._sequences_to_inputs(list(data))

    def encode(self, data, *, lengths=None, seed: int | None = None):
        """Encode sequences to latent vectors.

        Parameters
        ----------
        data : array (batch, steps, input_depth) or list of NoteSequence
            Encoder input tensors, or sequences for the converter (the first
            extracted window of each is used).
        lengths : array (batch,), optional
            Valid steps of each array row (default: all).
        seed : int, optional
            Seed of the posterior sample ``z``.

        Returns
        -------
        z, mu, sigma : np.ndarray, shape (batch, z_size)
        """
        inputs, lengths = self._as_inputs(data, lengths)
        mu, sigma = self._encode_fn(tf.constant(inputs), tf.constant(lengths))
        eps = tf.random.stateless_normal(tf.shape(mu), seed=_seed_tensor(seed, 1))
        return (mu + sigma * eps).numpy(), mu.numpy(), sigma.numpy()

    def decode_to_tensors(self, z, *, length: int | None = None, temperature: float = 1.0,
                          seed: int | None = None, greedy: bool = False) -> np.ndarray:
        """Decode latent vectors to one-hot output tensors.

        Parameters
        ----------
        z : array (batch, z_size)
        length : int, optional
            Steps to decode (default and, for hierarchical models, required:
            ``config.n_steps``).
        temperature : float
            Softmax temperature, > 0 (ignored when ``greedy``).
        seed : int, optional
            Same seed, same z -> same output.
        greedy : bool
            Take the most likely class each step instead of sampling.

        Returns
        -------
        np.ndarray, shape (batch, length, output_depth), bool
        """
        temperature = check_temperature(temperature)
        n_steps = self._check_length(length)
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.config.z_size:
            raise ParameterError(f"z: must have shape (batch, {self.config.z_size}), got {z.shape}")
        samples = self._sample_fn(tf.constant(z), tf.constant(n_steps, tf.int32),
                                  tf.constant(temperature, tf.float32),
                                  _seed_tensor(seed, 2), tf.constant(bool(greedy)))
        return one_hot(samples.numpy(), self.config.output_depths)

    def sample_tensors(self, n: int, *, length: int | None = None, temperature: float = 1.0,
                       seed: int | None = None, greedy: bool = False) -> np.ndarray:
        """Draw z from the prior and decode: one-hots ``(n, length, output_depth)``.

        The prior is N(0, I), the Gaussian of :meth:`fit_prior` (see
        :mod:`gensuite.music_vae.prior`) or a personaliser's learnt map (see
        :mod:`gensuite.music_vae.midime`).
        """
        if int(n) != n or n < 1:
            raise ParameterError(f"n: must be an integer >= 1, got {n!r}")
        check_temperature(temperature)
        z = tf.random.stateless_normal([int(n), self.config.z_size],
                                       seed=_seed_tensor(seed, 3)).numpy()
        if self.prior is not None:
            z = self.prior.transform(z)
        return self.decode_to_tensors(z, length=length, temperature=temperature,
                                      seed=seed, greedy=greedy)

    def encode_means(self, classes: np.ndarray, lengths: np.ndarray | None = None, *,
                     batch_size: int = 1024) -> np.ndarray:
        """Posterior means ``(n, z_size)`` of windows given as class indices.

        Parameters
        ----------
        classes : np.ndarray, shape (n, n_steps, n_outputs), int
            The windows as class indices (-1 past the end), as
            :class:`~gensuite.music_vae.data.ExampleSet` holds them; one-hot
            encoded a batch at a time.
        lengths : np.ndarray, shape (n,), optional
        """
        classes = np.asarray(classes)
        lengths = (np.full(len(classes), self.config.n_steps) if lengths is None
                   else np.asarray(lengths))
        return np.concatenate([
            self.encode(one_hot(classes[i:i + batch_size], self.config.output_depths,
                                dtype=np.float32), lengths=lengths[i:i + batch_size])[1]
            for i in range(0, len(classes), batch_size)])

    def fit_prior(self, classes: np.ndarray, lengths: np.ndarray | None = None) -> int:
        """Sample from now on from a Gaussian fitted to the posterior means of real
        windows (arguments as :meth:`encode_means`).

        A melody model leaves out the windows that :mod:`gensuite.midi.metrics`
        calls degenerate (at most one onset a bar: a held note or a rest; or a
        scatter of 12+ onsets a bar over more than two octaves): they are real
        (slow hymns, Renaissance cantus lines in whole notes), but a sampler
        asked for a melody should not draw a held note. All windows are used
        when fewer than two are left. Returns the number of windows fitted.
        """
        from gensuite.music_vae.converters import (  # noqa: PLC0415
            MelodyConverter,
            melody_degenerate_mask,
        )
        from gensuite.music_vae.prior import GaussianPrior  # noqa: PLC0415

        classes = np.asarray(classes)
        lengths = (np.full(len(classes), self.config.n_steps) if lengths is None
                   else np.asarray(lengths))
        if isinstance(self.converter, MelodyConverter):
            keep = ~melody_degenerate_mask(classes[..., 0],
                                           bars=self.config.n_steps // STEPS_PER_BAR)
            if keep.sum() >= 2:
                classes, lengths = classes[keep], lengths[keep]
        self.prior = GaussianPrior.fit(self.encode_means(classes, lengths))
        return len(classes)

    def interpolate_tensors(self, a, b, *, num_steps: int, length: int | None = None,
                            temperature: float = 1.0, seed: int | None = None,
                            greedy: bool = False) -> np.ndarray:
        """Slerp between the posterior means of ``a`` and ``b`` and decode.

        ``a`` and ``b`` are input arrays ``(steps, input_depth)`` or
        NoteSequences. Returns one-hots ``(num_steps, length, output_depth)``;
        the first and last rows decode ``a``'s and ``b``'s means.
        """
        z = self.interpolate_z(a, b, num_steps=num_steps)
        return self.decode_to_tensors(z, length=length, temperature=temperature,
                                      seed=seed, greedy=greedy)

    def interpolate_z(self, a, b, *, num_steps: int) -> np.ndarray:
        """The ``num_steps`` latent vectors (endpoints included) between a and b."""
        if int(num_steps) != num_steps or num_steps < 2:
            raise ParameterError(f"num_steps: must be an integer >= 2, got {num_steps!r}")
        if hasattr(a, "notes"):
            data = [a, b]
        else:
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                raise ParameterError(f"b: must have the shape of a {a.shape}, got {b.shape}")
            data = np.stack([a, b])
        _, mu, _ = self.encode(data)
        return np.stack([slerp(mu[0], mu[1], t) for t in np.linspace(0.0, 1.0, int(num_steps))]
                        ).astype(np.float32)

    # ----- NoteSequences -----------------------------------------------

    def _to_sequences(self, one_hots: np.ndarray) -> list:
        return list(self.converter.from_tensors(list(one_hots)))

    def decode(self, z, *, length: int | None = None, temperature: float = 1.0,
               seed: int | None = None, greedy: bool = False) -> list:
        """Decode latent vectors to NoteSequences (see :meth:`decode_to_tensors`)."""
        return self._to_sequences(self.decode_to_tensors(
            z, length=length, temperature=temperature, seed=seed, greedy=greedy))

    def sample(self, n: int, *, length: int | None = None, temperature: float = 1.0,
               seed: int | None = None, greedy: bool = False) -> list:
        """``n`` NoteSequences from the prior (see :meth:`sample_tensors`)."""
        return self._to_sequences(self.sample_tensors(
            n, length=length, temperature=temperature, seed=seed, greedy=greedy))

    def interpolate(self, a, b, *, num_steps: int, length: int | None = None,
                    temperature: float = 1.0, seed: int | None = None,
                    greedy: bool = False) -> list:
        """``num_steps`` NoteSequences moving from ``a`` to ``b`` (see
        :meth:`interpolate_tensors`)."""
        return self._to_sequences(self.interpolate_tensors(
            a, b, num_steps=num_steps, length=length, temperature=temperature,
            seed=seed, greedy=greedy))
