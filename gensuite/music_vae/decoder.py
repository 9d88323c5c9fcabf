"""Autoregressive categorical LSTM decoder serving teacher forcing, scheduled and free sampling.

One compiled loop covers all three: at step t the decoder reads either the
teacher-forced token (the target of step t-1, or zeros at t=0) or its own
sample from step t-1, chosen per example by ``sample_mask[:, t]``. With the
mask all False this is teacher forcing; drawn from Bernoulli(p) it is
Magenta's ``ScheduledOutputTrainingHelper``; all True it is free sampling.

Randomness enters only through tensors the caller passes in (Gumbel noise and
the mask), drawn with stateless ops from an explicit seed, so the same seed
gives the same samples. Sampling a categorical is ``argmax(logits / T + g)``
with ``g`` standard Gumbel noise (the Gumbel-max trick: an exact draw from
``softmax(logits / T)``); zero noise gives greedy decoding.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from gensuite.music_vae.lstm import StackedLSTM, WeightInit, scan_lstm


def gumbel_noise(shape, seed: tf.Tensor) -> tf.Tensor:
    """Standard Gumbel noise from a stateless seed.

    Parameters
    ----------
    shape : shape-like
    seed : tf.Tensor, shape (2,), int32 or int64

    Returns
    -------
    tf.Tensor of ``shape``, float32
    """
    tiny = np.finfo(np.float32).tiny
    u = tf.random.stateless_uniform(shape, seed=seed, minval=tiny, maxval=1.0)
    return -tf.math.log(-tf.math.log(u))


def bernoulli_mask(shape, probability, seed: tf.Tensor) -> tf.Tensor:
    """Boolean tensor, each entry True with ``probability`` (stateless)."""
    return tf.random.stateless_uniform(shape, seed=seed) < probability


def shift_right(targets: tf.Tensor) -> tf.Tensor:
    """Decoder inputs for teacher forcing: zeros, then targets[:, :-1].

    Parameters
    ----------
    targets : tf.Tensor, shape (batch, time, depth)
    """
    return tf.pad(targets[:, :-1], [[0, 0], [1, 0], [0, 0]])


class CategoricalLstmDecoder(keras.layers.Layer):
    """LSTM decoder with one or more categorical outputs (Magenta's
    ``CategoricalLstmDecoder`` / ``MultiOutCategoricalLstmDecoder``).

    The initial state is ``tanh(Dense(cond))`` and every step's input is the
    previous token (one-hot, all outputs concatenated) joined with ``cond``.
    The cell owns the output projection, so it can sample each step.

    Parameters
    ----------
    units : tuple of int
        LSTM layer sizes.
    output_depths : tuple of int
        Depth of each categorical output; logits are their concatenation.
    cond_dim : int
        Size of the conditioning vector (z, or a conductor embedding).
    init : WeightInit, optional
    """

    def __init__(self, units, output_depths, cond_dim, *, init: WeightInit | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        init = init or WeightInit()
        self.output_depths = tuple(int(d) for d in output_depths)
        self.output_depth = sum(self.output_depths)
        self.cond_dim = int(cond_dim)
        self.lstm = StackedLSTM(units, input_dim=self.output_depth + self.cond_dim, init=init,
                                name="lstm")
        self.initial_state = keras.layers.Dense(
            self.lstm.state_size, activation="tanh", name="initial_state",
            kernel_initializer=init.small_normal())
        self.initial_state.build((None, self.cond_dim))
        self.output_projection = keras.layers.Dense(
            self.output_depth, kernel_initializer=init.glorot(), name="output_projection")
        self.output_projection.build((None, self.lstm.units[-1]))
        self.built = True

    def call(self, cond, teacher_inputs, sample_mask, noise, temperature):
        """Decode a batch for ``time`` steps.

        Parameters
        ----------
        cond : tf.Tensor, shape (batch, cond_dim)
        teacher_inputs : tf.Tensor, shape (batch, time, output_depth)
            Input of each step under teacher forcing (see :func:`shift_right`).
        sample_mask : tf.Tensor, shape (batch, time), bool, or None
            True where step t reads the decoder's own sample of step t-1
            (ignored at t=0, which reads ``teacher_inputs[:, 0]``). None means
            pure teacher forcing, computed layer by layer (faster, same result).
        noise : tf.Tensor, shape (batch, time, output_depth)
            Gumbel noise for sampling (zeros: greedy).
        temperature : scalar tf.Tensor, > 0
            Logits are divided by it before sampling (not in the returned logits).

        Returns
        -------
        logits : tf.Tensor, shape (batch, time, output_depth)
        samples : tf.Tensor, shape (batch, time, n_outputs), int32
            Sampled class index of each output at each step.
        """
        depth = self.output_depth
        kernel0 = self.lstm.kernels[0]
        token_kernel, cond_kernel = kernel0[:depth], kernel0[depth:]
        cond_proj = tf.matmul(cond, cond_kernel) + self.lstm.biases[0]
        teacher_proj = tf.einsum("btd,dk->tbk", teacher_inputs, token_kernel)
        # Row blocks of the token kernel, one per output, to embed samples by gather.
        offsets = np.cumsum((0,) + self.output_depths)
        token_blocks = [token_kernel[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
        fused = self.lstm.fused_kernels()
        out_kernel, out_bias = self.output_projection.kernel, self.output_projection.bias
        inv_temperature = 1.0 / tf.cast(temperature, tf.float32)

        batch = tf.shape(cond)[0]
        states = self.lstm.split_state(self.initial_state(cond))
        if sample_mask is None:
            return self._teacher_forced(teacher_proj + cond_proj, states, noise, inv_temperature)
        n_outputs = len(self.output_depths)
        init = (states, teacher_proj[0], tf.zeros([batch, depth]),
                tf.zeros([batch, n_outputs], tf.int32))
        elems = (teacher_proj, tf.transpose(sample_mask, [1, 0]), tf.transpose(noise, [1, 0, 2]))

        def step(carry, elem):
            states, sample_proj, _, _ = carry
            t_proj, use_sample, g = elem
            x_proj = tf.where(use_sample[:, None], sample_proj, t_proj) + cond_proj
            h, states = self.lstm.step(x_proj, states, fused)
            logits = tf.matmul(h, out_kernel) + out_bias
            scaled = logits * inv_temperature + g
            ids, sample_proj = [], 0.0
            for block, a, b in zip(token_blocks, offsets[:-1], offsets[1:]):
                idx = tf.argmax(scaled[:, a:b], axis=-1, output_type=tf.int32)
                ids.append(idx)
                sample_proj += tf.gather(block, idx)
            return states, sample_proj, logits, tf.stack(ids, axis=-1)

        _, _, logits, samples = tf.scan(step, elems, initializer=init)
        return tf.transpose(logits, [1, 0, 2]), tf.transpose(samples, [1, 0, 2])

    def _teacher_forced(self, x_proj0, states, noise, inv_temperature):
        # No feedback, so every layer runs over the whole sequence in turn and
        # the output projection is one product after the loop.
        seq = scan_lstm(x_proj0, self.lstm.recurrent_kernels[0], *states[0])
        for kernel, recurrent, bias, (h0, c0) in zip(
                self.lstm.kernels[1:], self.lstm.recurrent_kernels[1:], self.lstm.biases[1:],
                states[1:]):
            seq = scan_lstm(tf.einsum("tbi,ik->tbk", seq, kernel) + bias, recurrent, h0, c0)
        logits = self.output_projection(tf.transpose(seq, [1, 0, 2]))
        scaled = logits * inv_temperature + noise
        offsets = np.cumsum((0,) + self.output_depths)
        samples = tf.stack([tf.argmax(scaled[..., a:b], axis=-1, output_type=tf.int32)
                            for a, b in zip(offsets[:-1], offsets[1:])], axis=-1)
        return logits, samples
