"""GANSynth (Engel et al. 2019, Magenta's ``gansynth``) in Keras 3 / TensorFlow.

Two layers of API:

* :class:`Generator` and :class:`Discriminator` - the progressive GAN of
  Magenta's ``networks.py`` on spectrogram "images" of shape
  (time, frequency, 2): log-magnitude and instantaneous frequency, both
  normalised to [-1, 1] (:mod:`gensuite.audio.spectral`). Both run at any stage of
  the growth: ``n_blocks`` blocks are active and, during a fade-in, ``alpha``
  blends the newest block with the upscaled (or downscaled) previous one.
  Unlike Magenta, which always computes every block at full resolution, only
  the active blocks run, so early stages are cheap.
* :class:`GANSynth` - the user-facing object: load/save, instrument latents,
  and ``generate(pitches, z)`` -> waveforms, batched in one compiled graph
  (on a GPU when TensorFlow sees one).
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from gensuite.audio import envelopes
from gensuite.audio.spectral import lock_to_harmonics, low_pass, specgrams_to_waves
from gensuite.checkpoints import SavedModel
from gensuite.common.errors import ParameterError
from gensuite.gansynth.configs import HARMONIC_BANDS_HZ, GANSynthConfig, get_config
from gensuite.gansynth.layers import (
    ScaledConv2D,
    ScaledDense,
    append_minibatch_stddev,
    downscale,
    pixel_norm,
    upscale,
)
from gensuite.gansynth.timbres import check_instruments, draw_timbres

KIND = "gansynth"
LEAKY_SLOPE = 0.2
# The instrument table's rows enter multiplied by this. Each row learns only
# from the batches that hold its instrument (1 in 4 steps with 66
# instruments and batch 16), at Adam's step of about learning_rate per update:
# unscaled, a row had moved 0.02 after 180 steps of a continued run, where the
# dense layer's outputs vary by about 1 from latent to latent.
INSTRUMENT_TABLE_GAIN = 20.0


def _leaky_relu(x):
    # Not tf.nn.leaky_relu: grappler's remapper fails on its gradient under the
    # gradient-penalty double backprop and logs an error on every trace.
    return tf.maximum(x, LEAKY_SLOPE * x)


def _layer_seeds(seed: int | None):
    """A distinct initialiser seed per layer (None: unseeded)."""
    i = 0
    while True:
        yield None if seed is None else int(seed) * 1000 + i
        i += 1


def stage_of_images(config: GANSynthConfig, n_images: int) -> tuple[int, float | None]:
    """Where progressive growth stands after ``n_images`` training images.

    Magenta's ``compute_progress``: stages alternate stable (one resolution)
    and transition (fading in the next block); once grown, training stays at
    the final resolution.

    Returns
    -------
    n_blocks : int
        Active blocks, 1 (coarsest only) to ``config.n_resolutions``.
    alpha : float or None
        Weight of the newest block during a fade-in, in (0, 1); None when stable.
    """
    stage, within = divmod(int(n_images), config.n_stage_images)
    if stage >= config.n_resolutions - 1:
        return config.n_resolutions, None
    if within < config.stable_stage_images:
        return stage + 1, None
    alpha = (within - config.stable_stage_images) / config.transition_stage_images
    return stage + 2, max(alpha, 1e-6)


def resize_reals(images: tf.Tensor, *, n_blocks: int, alpha, n_resolutions: int) -> tf.Tensor:
    """Real full-resolution images at the resolution of ``n_blocks`` blocks.

    During a fade-in the reals are blended like the generator's output
    (Magenta's ``blend_images``): the coarser version, upscaled, weighted by
    ``1 - alpha``, so real and fake images change in the same way.
    """
    x = downscale(images, 2 ** (n_resolutions - n_blocks))
    if alpha is None:
        return x
    return alpha * x + (1.0 - alpha) * upscale(downscale(x, 2), 2)


def pitch_combs(config: GANSynthConfig) -> np.ndarray:
    """Where each pitch's harmonics lie on the spectrogram's frequency axis.

    Harmonic ``h`` of a pitch (weight ``1 / h``, up to Nyquist) lights the
    linear FFT bins within one bin width of ``h * f0``; mel configs then take
    the mel filterbank of that spectrum. Each row is scaled to peak 1.

    Returns
    -------
    np.ndarray, float32, shape (n_pitches, n_bins)
        Row ``i`` is pitch ``config.min_pitch + i``.
    """
    from gensuite.audio.spectral import mel_weight_matrix  # noqa: PLC0415

    s = config.spectral
    bin_hz = s.sample_rate / s.n_fft
    bins_hz = bin_hz * np.arange(1, s.n_linear_bins + 1)
    f0_hz = 440.0 * 2.0 ** ((np.arange(config.min_pitch, config.max_pitch + 1) - 69) / 12.0)
    combs = np.zeros((config.n_pitches, s.n_linear_bins))
    for h in range(1, int(s.sample_rate / 2 / f0_hz.min()) + 1):
        harmonic_hz = h * f0_hz[:, None]
        lit = np.maximum(0.0, 1.0 - np.abs(bins_hz[None, :] - harmonic_hz) / bin_hz)
        combs += np.where(harmonic_hz < s.sample_rate / 2, lit, 0.0) / h
    if s.n_mels is not None:
        combs = combs @ mel_weight_matrix(s)
    return (combs / combs.max(axis=1, keepdims=True)).astype(np.float32)


def harmonic_masks(config: GANSynthConfig) -> np.ndarray:
    """Which frequency bins of each pitch lie on a harmonic and which between two.

    A bin (an FFT bin, or a mel band taken at its centre frequency) is on a
    harmonic when its centre is within 0.2 f0 of ``h * f0``, and between two
    when within 0.15 f0 of ``(h + 0.5) * f0``, counting only bins narrower
    than half of f0 (wider ones blur partial and gap together) and below
    ``max_output_hz``. Each (band, pitch) row is scaled to sum 1, so a
    product with a spectrum is a mean; both rows are zero where the band
    lacks either kind of bin.

    Returns
    -------
    np.ndarray, float32, shape (2, n_bands, n_pitches, n_bins)
        ``[0]`` the harmonic bins, ``[1]`` the bins between, per band of
        :data:`gensuite.gansynth.configs.HARMONIC_BANDS_HZ`.
    """
    from gensuite.audio.spectral import mel_weight_matrix  # noqa: PLC0415

    s = config.spectral
    bin_hz = s.sample_rate / s.n_fft
    bins_hz = bin_hz * np.arange(1, s.n_linear_bins + 1)
    if s.n_mels is None:
        centre_hz, width_hz = bins_hz, np.full_like(bins_hz, bin_hz)
    else:
        weights = mel_weight_matrix(s)
        centre_hz = bins_hz @ weights / weights.sum(axis=0)
        # Twice the spread of the band's triangle: its width at about half height.
        width_hz = 2.0 * np.sqrt(((bins_hz[:, None] - centre_hz) ** 2 * weights).sum(axis=0)
                                 / weights.sum(axis=0))
    f0_hz = 440.0 * 2.0 ** ((np.arange(config.min_pitch, config.max_pitch + 1) - 69) / 12.0)
    position = centre_hz[None, :] / f0_hz[:, None]  # in harmonics of each pitch
    offset = np.abs(position - np.round(position))
    usable = (width_hz[None, :] < 0.5 * f0_hz[:, None]) & (
        centre_hz[None, :] < (config.max_output_hz or s.sample_rate / 2))
    on = usable & (offset < 0.2) & (position > 0.5)
    between = usable & (np.abs(offset - 0.5) < 0.15) & (position > 1.0)
    masks = np.zeros((2, len(HARMONIC_BANDS_HZ), config.n_pitches, len(centre_hz)), np.float32)
    for band, (low_hz, high_hz) in enumerate(HARMONIC_BANDS_HZ):
        in_band = (centre_hz >= low_hz) & (centre_hz < high_hz)
        rows = np.stack([on & in_band, between & in_band]).astype(np.float32)
        counts = rows.sum(axis=2, keepdims=True)
        # A contrast needs both kinds of bin; a pitch with one kind only gets neither.
        masks[:, band] = np.where(counts.min(axis=0) > 0, rows / np.maximum(counts, 1.0), 0.0)
    return masks


def harmonic_contrast(images, pitch_one_hot, masks: np.ndarray) -> tf.Tensor:
    """Mean normalised log-magnitude on a note's harmonics minus between them, per band.

    Measured over the note's body: the frames from a sixteenth to three
    quarters of its length (0.25-3 s of an NSynth note, held 3 s of 4).

    Parameters
    ----------
    images : tf.Tensor, shape (batch, time, frequency, 2)
        Normalised spectrograms at full resolution.
    pitch_one_hot : tf.Tensor, shape (batch, n_pitches)
    masks : np.ndarray
        :func:`harmonic_masks` of the config.

    Returns
    -------
    tf.Tensor, float32, shape (batch, n_bands)
        Zero where the band has no usable bin for the pitch.
    """
    n_frames = images.shape[1]
    body = tf.reduce_mean(images[:, n_frames // 16:(3 * n_frames) // 4, :, 0], axis=1)
    on, between = (tf.einsum("bp,npf->bnf", pitch_one_hot, tf.constant(m)) for m in masks)
    return tf.einsum("bf,bnf->bn", body, on - between)


def _block_combs(config: GANSynthConfig) -> list[np.ndarray] | None:
    """:func:`pitch_combs` averaged down to each block's frequency size (None: no comb)."""
    if not config.pitch_comb:
        return None
    combs = pitch_combs(config)
    sizes = [config.start_shape[1] * 2 ** b for b in range(config.n_resolutions)]
    return [combs.reshape(config.n_pitches, size, -1).mean(axis=-1) for size in sizes]


def _append_comb(x, pitch_one_hot, combs, block: int):
    """``x`` (batch, time, frequency, C) with the comb of block ``block`` as channel C + 1."""
    if combs is None:
        return x
    comb = tf.matmul(pitch_one_hot, combs[block - 1])[:, None, :, None]
    return tf.concat([x, tf.broadcast_to(comb, tf.concat([tf.shape(x)[:3], [1]], 0))], axis=-1)


class Generator(keras.Model):
    """Latent z and pitch one-hot -> normalised spectrogram image.

    Block 1 maps ``pixel_norm([z, pitch])`` through a dense layer to the start
    shape and one 3 x 3 conv; each later block doubles time and frequency
    (nearest neighbour) and applies two 3 x 3 convs. Every conv is followed by
    leaky ReLU and pixel norm; each block has its own 1 x 1 ``to_rgb`` conv to
    2 channels with tanh. With ``config.pitch_comb`` each block's first conv
    also sees the pitch's harmonic comb at that resolution as one more channel.
    With ``config.n_instruments`` the dense layer's output adds the instrument
    weights times a table of one learned row per instrument (zeros at first),
    times :data:`INSTRUMENT_TABLE_GAIN`.
    """

    def __init__(self, config: GANSynthConfig, *, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c = config
        h, w = c.start_shape
        seeds = _layer_seeds(seed)
        self.combs = _block_combs(c)
        self.dense = ScaledDense(h * w * c.n_filters(1), gain=np.sqrt(2.0), name="block1_dense",
                                 seed=next(seeds))
        if c.n_instruments:
            self.instrument_table = keras.layers.Embedding(
                c.n_instruments, h * w * c.n_filters(1), embeddings_initializer="zeros",
                name="instrument_table")
            self.instrument_table.build()
        self.convs = [[ScaledConv2D(c.n_filters(1), c.kernel_size, name="block1_conv",
                                    seed=next(seeds))]]
        for b in range(2, c.n_resolutions + 1):
            self.convs.append([ScaledConv2D(c.n_filters(b), c.kernel_size, name=f"block{b}_conv{i}",
                                            seed=next(seeds)) for i in range(2)])
        self.to_rgb = [ScaledConv2D(2, 1, gain=1.0, name=f"block{b}_to_rgb", seed=next(seeds))
                       for b in range(1, c.n_resolutions + 1)]
        for n_blocks in range(1, c.n_resolutions + 1):  # create every weight now
            self.grow(tf.zeros([1, c.timbre_size]), tf.zeros([1, c.n_pitches]), n_blocks=n_blocks)
        self.built = True

    def _block(self, b: int, x, pitch_one_hot):
        x = _append_comb(x, pitch_one_hot, self.combs, b)
        for conv in self.convs[b - 1]:
            x = pixel_norm(_leaky_relu(conv(x)))
        return x

    def grow(self, z, pitch_one_hot, *, n_blocks: int, alpha=None):
        """Images at the resolution of ``n_blocks`` active blocks.

        Parameters
        ----------
        z : tf.Tensor, shape (batch, timbre_size)
            The latent z, then (conditioned configs) the instrument weights.
        pitch_one_hot : tf.Tensor, shape (batch, n_pitches)
        n_blocks : int
        alpha : float or tf.Tensor, optional
            Fade-in weight of block ``n_blocks`` (None: fully faded in).

        Returns
        -------
        tf.Tensor, shape (batch, time, frequency, 2), in [-1, 1]
        """
        c = self.config
        z, instrument_weights = z[:, :c.latent_size], z[:, c.latent_size:]
        x = self.dense(pixel_norm(tf.concat([z, c.pitch_input_scale * pitch_one_hot], axis=-1)))
        if c.n_instruments:
            x += INSTRUMENT_TABLE_GAIN * tf.matmul(instrument_weights,
                                                   self.instrument_table.embeddings)
        x = pixel_norm(_leaky_relu(x))
        x = tf.reshape(x, [-1, *c.start_shape, c.n_filters(1)])
        x = self._block(1, x, pitch_one_hot)
        previous = None
        for b in range(2, n_blocks + 1):
            previous = x
            x = self._block(b, upscale(x, 2), pitch_one_hot)
        image = tf.tanh(self.to_rgb[n_blocks - 1](x))
        if alpha is None or n_blocks == 1:
            return image
        coarse = tf.tanh(self.to_rgb[n_blocks - 2](previous))
        return alpha * image + (1.0 - alpha) * upscale(coarse, 2)

    def call(self, z, pitch_one_hot):
        return self.grow(z, pitch_one_hot, n_blocks=self.config.n_resolutions)


class Discriminator(keras.Model):
    """Spectrogram image -> (realness score, pitch logits).

    Mirror of the generator: a 1 x 1 ``from_rgb`` conv per block, two 3 x 3
    convs and average-pool halving per block, then the minibatch standard
    deviation channel, a 3 x 3 conv, a conv over the whole start shape, and two
    dense heads: the Wasserstein score and the auxiliary pitch classifier.
    With ``config.pitch_comb`` each ``from_rgb`` also sees the pitch's comb;
    with ``config.pitch_projection`` the score adds ``<embed(pitch), features>``,
    and with ``config.n_instruments`` ``<embed(instrument weights), features>``.
    """

    def __init__(self, config: GANSynthConfig, *, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c = config
        seeds = _layer_seeds(seed)
        self.combs = _block_combs(c)
        self.from_rgb = [ScaledConv2D(c.n_filters(b), 1, name=f"block{b}_from_rgb",
                                      seed=next(seeds)) for b in range(1, c.n_resolutions + 1)]
        self.convs = [[ScaledConv2D(c.n_filters(1), c.kernel_size, name="block1_conv",
                                    seed=next(seeds)),
                       ScaledConv2D(c.n_filters(0), c.start_shape, padding="valid",
                                    name="block1_conv_last", seed=next(seeds))]]
        for b in range(2, c.n_resolutions + 1):
            self.convs.append([ScaledConv2D(c.n_filters(b), c.kernel_size, name=f"block{b}_conv0",
                                            seed=next(seeds)),
                               ScaledConv2D(c.n_filters(b - 1), c.kernel_size,
                                            name=f"block{b}_conv1", seed=next(seeds))])
        self.score = ScaledDense(1, name="score", seed=next(seeds))
        self.classifier = ScaledDense(c.n_pitches, name="pitch_logits", seed=next(seeds))
        if c.pitch_projection:
            # Scaled like a dense layer's kernel, so it learns at the rate of the score head.
            self.pitch_embedding = ScaledDense(c.n_filters(0), name="pitch_embedding",
                                               seed=next(seeds))
        if c.n_instruments:
            self.instrument_embedding = ScaledDense(c.n_filters(0), name="instrument_embedding",
                                                    seed=next(seeds))
        for n_blocks in range(1, c.n_resolutions + 1):
            scale = 2 ** (c.n_resolutions - n_blocks)
            shape = (c.image_shape[0] // scale, c.image_shape[1] // scale, 2)
            self.judge(tf.zeros([2, *shape]), n_blocks=n_blocks,
                       pitch_one_hot=tf.zeros([2, c.n_pitches]),
                       instrument_weights=tf.zeros([2, c.n_instruments]))
        self.built = True

    def _conv(self, b: int, x):
        for conv in self.convs[b - 1]:
            x = _leaky_relu(conv(x))
        return x

    def judge(self, images, *, n_blocks: int, alpha=None, pitch_one_hot=None,
              instrument_weights=None):
        """Score images at the resolution of ``n_blocks`` blocks.

        ``pitch_one_hot`` (batch, n_pitches) is required when the config has
        ``pitch_projection`` or ``pitch_comb``: the score then depends on the
        pitch too; likewise ``instrument_weights`` (batch, n_instruments)
        when it has ``n_instruments``.

        Returns
        -------
        score : tf.Tensor, shape (batch,)
        pitch_logits : tf.Tensor, shape (batch, n_pitches)
        """
        if self.config.discriminator_sees_pitch and pitch_one_hot is None:
            raise ParameterError("pitch_one_hot: this discriminator scores notes per pitch")
        if self.config.n_instruments and instrument_weights is None:
            raise ParameterError("instrument_weights: this discriminator scores notes per "
                                 "instrument")
        from_rgb = lambda b, x: _leaky_relu(
            self.from_rgb[b - 1](_append_comb(x, pitch_one_hot, self.combs, b)))
        x = from_rgb(n_blocks, images)
        if n_blocks > 1:
            x = downscale(self._conv(n_blocks, x), 2)
            if alpha is not None:
                coarse = from_rgb(n_blocks - 1, downscale(images, 2))
                x = alpha * x + (1.0 - alpha) * coarse
        for b in range(n_blocks - 1, 1, -1):
            x = downscale(self._conv(b, x), 2)
        x = self._conv(1, append_minibatch_stddev(x))
        x = tf.reshape(x, [-1, self.config.n_filters(0)])
        score = self.score(x)[:, 0]
        if self.config.pitch_projection:
            score += tf.reduce_sum(self.pitch_embedding(pitch_one_hot) * x, axis=-1)
        if self.config.n_instruments:
            score += tf.reduce_sum(self.instrument_embedding(instrument_weights) * x, axis=-1)
        return score, self.classifier(x)

    def call(self, images, pitch_one_hot=None):
        return self.judge(images, n_blocks=self.config.n_resolutions, pitch_one_hot=pitch_one_hot)


def check_pitches(pitches, config: GANSynthConfig) -> np.ndarray:
    """``pitches`` as int32, or ParameterError naming the model's range."""
    values = np.asarray(pitches)
    if values.ndim != 1 or values.size == 0 or not np.all(np.equal(np.mod(values, 1), 0)):
        raise ParameterError(f"pitches: must be a non-empty list of MIDI note numbers, got {pitches!r}")
    values = values.astype(np.int32)
    bad = values[(values < config.min_pitch) | (values > config.max_pitch)]
    if bad.size:
        raise ParameterError(
            f"pitches: this model plays MIDI pitches {config.min_pitch}-{config.max_pitch}, "
            f"got {sorted(set(bad.tolist()))}")
    return values


def slerp_latents(z_a: np.ndarray, z_b: np.ndarray, *, num_steps: int) -> np.ndarray:
    """``num_steps`` latents on the great circle from ``z_a`` to ``z_b``, both ends included."""
    from gensuite.common.slerp import slerp  # noqa: PLC0415

    if num_steps < 2:
        raise ParameterError(f"num_steps: must be >= 2, got {num_steps}")
    return np.stack([slerp(z_a, z_b, t) for t in np.linspace(0.0, 1.0, num_steps)]).astype(
        np.float32)


class GANSynth(SavedModel):
    """A trained GANSynth generator, ready to play notes.

    Parameters
    ----------
    config : GANSynthConfig or str
        A config or a preset name.
    generator : Generator, optional
        Existing weights to wrap (e.g. a trainer's moving-average generator).
    n_blocks : int, optional
        Blocks grown so far (default: all). A model saved mid-training plays
        at its stage, upscaled to the full spectrogram: the blocks not yet
        grown hold random weights and would only add noise.
    alpha : float, optional
        Fade-in weight of block ``n_blocks`` (None: fully faded in).
    instruments : list of dict, optional
        Conditioned configs: the trained instruments, row ``i`` of the
        instrument table first: ``{"name": str, "family": str, "program": int
        or None}`` (the General MIDI program where the notes came from a
        soundfont). :meth:`make_latents` draws among them.

    Examples
    --------
    >>> synth = GANSynth.load("gansynth_gm")                      # doctest: +SKIP
    >>> z = synth.make_latents(1, seed=3)                          # doctest: +SKIP
    >>> waves = synth.generate([60, 64, 67], np.repeat(z, 3, 0))   # doctest: +SKIP
    """

    kind = KIND
    config_type = GANSynthConfig

    def __init__(self, config: GANSynthConfig | str, *, generator: Generator | None = None,
                 n_blocks: int | None = None, alpha: float | None = None,
                 instruments: list[dict] | None = None):
        self.config = get_config(config) if isinstance(config, str) else config
        self.instruments = check_instruments(instruments or [], self.config)
        self.generator = generator if generator is not None else Generator(self.config)
        c = self.config
        self.n_blocks = c.n_resolutions if n_blocks is None else int(n_blocks)
        if not 1 <= self.n_blocks <= c.n_resolutions:
            raise ParameterError(
                f"n_blocks: must be 1-{c.n_resolutions} for config {c.name}, got {n_blocks}")
        self.alpha = None if alpha is None or self.n_blocks == 1 else float(alpha)
        self._waves_fns = {}  # lock_harmonics -> traced _waves_graph

    def _waves_graph(self, z, pitches, *, lock_harmonics: bool):
        c = self.config
        one_hot = tf.one_hot(pitches - c.min_pitch, c.n_pitches)
        images = self.generator.grow(z, one_hot, n_blocks=self.n_blocks, alpha=self.alpha)
        images = upscale(images, 2 ** (c.n_resolutions - self.n_blocks))
        if lock_harmonics:
            images = lock_to_harmonics(images, pitches, config=c.spectral)
        return specgrams_to_waves(images, config=c.spectral)

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    def saved_network(self):
        return self.generator

    def saved_meta(self) -> dict:
        meta = {"instruments": self.instruments} if self.instruments else {}
        if self.n_blocks != self.config.n_resolutions or self.alpha is not None:
            meta["growth"] = {"n_blocks": self.n_blocks, "alpha": self.alpha}
        return meta

    @classmethod
    def from_saved(cls, config, info) -> "GANSynth":
        growth = info.meta.get("growth", {})
        return cls(config, n_blocks=growth.get("n_blocks"), alpha=growth.get("alpha"),
                   instruments=info.meta.get("instruments"))

    def make_latents(self, n: int, *, seed: int | None = None,
                     instruments=None) -> np.ndarray:
        """``n`` timbre latents, shape (n, timbre_size) (:func:`draw_timbres`)."""
        return draw_timbres(int(n), latent_size=self.config.latent_size,
                            n_instruments=self.config.n_instruments,
                            n_trained=len(self.instruments), seed=seed, instruments=instruments)

    def generate(self, pitches, z=None, *, seed: int | None = None,
                 batch_size: int = 64, compiled: bool = True,
                 lock_harmonics: bool = True, start_at_attack: bool = True) -> np.ndarray:
        """Play one note per pitch.

        Parameters
        ----------
        pitches : sequence of int, length n
            MIDI pitches within the model's range.
        z : array, shape (n, timbre_size) or (timbre_size,), optional
            Timbre latents (one for all notes when 1-D); drawn from ``seed``
            when omitted.
        seed : int, optional
        batch_size : int
            Notes generated per graph call (memory bound, not a result change).
        compiled : bool
            Run the generator as one traced graph (the first call traces it:
            seconds on a CPU, repaid over many calls), or op by op (no trace:
            quicker for a command that generates one batch, as ``gensuite
            render`` does). The two differ in the last bits (the graph fuses
            some ops); each is deterministic.
        lock_harmonics : bool
            Play the partials at the exact harmonics of each pitch
            (:func:`gensuite.audio.spectral.lock_to_harmonics`): the
            generator's magnitudes with the asked pitch's frequencies. False:
            the generator's own instantaneous frequencies, as GANSynth plays.
        start_at_attack : bool
            Start each note at its attack, faded in over 10 ms
            (:func:`gensuite.audio.envelopes.start_at_attack`): the generator
            starts notes 50-150 ms late and with a click. False: as generated.

        Returns
        -------
        np.ndarray, shape (n, n_samples), float32 at ``sample_rate`` Hz
        """
        pitches = check_pitches(pitches, self.config)
        if z is None:
            z = self.make_latents(1, seed=seed)
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.shape[0] == 1:
            z = np.repeat(z, len(pitches), axis=0)
        if z.shape != (len(pitches), self.config.timbre_size):
            raise ParameterError(
                f"z: must have shape ({len(pitches)}, {self.config.timbre_size}) to match the "
                f"pitches, got {z.shape}")
        run = functools.partial(self._waves_graph, lock_harmonics=bool(lock_harmonics))
        if compiled:
            run = self._waves_fns.setdefault(bool(lock_harmonics), tf.function(
                run, reduce_retracing=True,
                input_signature=[tf.TensorSpec([None, self.config.timbre_size], tf.float32),
                                 tf.TensorSpec([None], tf.int32)]))
        out = [run(tf.constant(z[i:i + batch_size]), tf.constant(pitches[i:i + batch_size])).numpy()
               for i in range(0, len(pitches), batch_size)]
        waves = np.concatenate(out, axis=0)
        c = self.config
        if start_at_attack:
            waves = np.stack([envelopes.start_at_attack(wave, sample_rate=c.sample_rate)
                              for wave in waves])
        # After the cut, so that nothing it does reaches above max_output_hz.
        if c.max_output_hz is not None:
            waves = low_pass(waves, max_hz=c.max_output_hz, sample_rate=c.sample_rate).numpy()
        return waves
