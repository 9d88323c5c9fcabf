"""LSTM building blocks for MusicVAE: stacked LSTM, bidirectional encoder, conductor.

Keras 3's LSTM runs a generic per-step loop on CPU that multiplies the input
by the kernel inside the loop. These layers instead project the whole input
sequence with one matrix product before the loop, so each step only does the
recurrent product; the bidirectional encoder also runs both directions in the
same loop as one batched product. The arithmetic is Magenta's
``LSTMBlockCell`` (gates i, g, f, o; forget bias 1.0 added to the forget gate).

Weights are Glorot-uniform, as TF1's default initializer gave Magenta's cells.
All tensors are batch-major ``(batch, time, depth)`` at the interfaces.
"""

from __future__ import annotations

import keras
import tensorflow as tf

FORGET_BIAS = 1.0
# Magenta initialises the dense layers that read z (mu, sigma, initial states)
# with a tiny normal so training starts from the prior.
SMALL_INIT_STDDEV = 0.001


class WeightInit:
    """Initializers that draw from one seeded stream, for reproducible weights.

    Parameters
    ----------
    seed : int, optional
        None draws from Keras' global generator (unseeded).
    """

    def __init__(self, seed: int | None = None):
        self._seed = None if seed is None else keras.random.SeedGenerator(int(seed))

    def glorot(self) -> keras.initializers.Initializer:
        return keras.initializers.GlorotUniform(seed=self._seed)

    def per_direction_glorot(self) -> keras.initializers.Initializer:
        # For (2, fan_in, fan_out) weights: Keras counts the leading axis into
        # both fans, so scale 2 gives each direction Glorot-uniform limits.
        return keras.initializers.VarianceScaling(
            scale=2.0, mode="fan_avg", distribution="uniform", seed=self._seed)

    def small_normal(self) -> keras.initializers.Initializer:
        return keras.initializers.RandomNormal(stddev=SMALL_INIT_STDDEV, seed=self._seed)


def lstm_update(gates: tf.Tensor, c: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """One LSTM cell update.

    Parameters
    ----------
    gates : tf.Tensor, shape (..., 4 * units)
        Pre-activations ``x @ W + h @ U + b`` in the order i, g, f, o.
    c : tf.Tensor, shape (..., units)
        Previous cell state.

    Returns
    -------
    h, c : tf.Tensor, shape (..., units)
    """
    input_gate, candidate, forget_gate, output_gate = lstm_gate_activations(gates)
    c = forget_gate * c + input_gate * candidate
    return output_gate * tf.tanh(c), c


def lstm_gate_activations(gates: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """Activations of the gates, in the order i, g, f, o.

    Sigmoid, tanh, sigmoid after adding the forget bias, sigmoid: each
    ``(..., units)``, from ``gates (..., 4 * units)``.
    """
    i, g, f, o = tf.split(gates, 4, axis=-1)
    return tf.sigmoid(i), tf.tanh(g), tf.sigmoid(f + FORGET_BIAS), tf.sigmoid(o)


def scan_lstm(x_proj: tf.Tensor, recurrent_kernel: tf.Tensor, h0: tf.Tensor,
              c0: tf.Tensor) -> tf.Tensor:
    """Run one LSTM layer over a pre-projected, time-major sequence.

    Parameters
    ----------
    x_proj : tf.Tensor, shape (time, *lead, batch, 4 * units)
        ``x @ W + b`` for every step.
    recurrent_kernel : tf.Tensor, shape (*lead, units, 4 * units)
        ``U``; a leading axis (e.g. direction) is applied as a batched product.
    h0, c0 : tf.Tensor, shape (*lead, batch, units)

    Returns
    -------
    tf.Tensor, shape (time, *lead, batch, units)
        The hidden state after every step.
    """
    def step(carry, xp):
        h, c = carry
        return lstm_update(xp + tf.matmul(h, recurrent_kernel), c)

    hs, _ = tf.scan(step, x_proj, initializer=(h0, c0))
    return hs


class StackedLSTM(keras.layers.Layer):
    """Stacked LSTM whose layer 0 reads ``input_dim`` features, layer l>0 reads h of l-1.

    Weights are created at construction. Use :meth:`run` for whole sequences
    (layer by layer) and :meth:`step` inside an autoregressive loop.

    Parameters
    ----------
    units : tuple of int
        Units of each layer.
    input_dim : int
        Input depth of layer 0.
    init : WeightInit, optional
    """

    def __init__(self, units, input_dim, *, init: WeightInit | None = None, **kwargs):
        super().__init__(**kwargs)
        init = init or WeightInit()
        self.units = tuple(int(u) for u in units)
        self.input_dim = int(input_dim)
        self.kernels, self.recurrent_kernels, self.biases = [], [], []
        in_dim = self.input_dim
        for i, n in enumerate(self.units):
            self.kernels.append(self.add_weight(
                shape=(in_dim, 4 * n), initializer=init.glorot(), name=f"kernel_{i}"))
            self.recurrent_kernels.append(self.add_weight(
                shape=(n, 4 * n), initializer=init.glorot(), name=f"recurrent_kernel_{i}"))
            self.biases.append(self.add_weight(
                shape=(4 * n,), initializer="zeros", name=f"bias_{i}"))
            in_dim = n
        self.built = True

    @property
    def state_size(self) -> int:
        """Total size of all (h, c) states, for initial-state projections."""
        return 2 * sum(self.units)

    def split_state(self, flat: tf.Tensor) -> list[tuple[tf.Tensor, tf.Tensor]]:
        """Split a ``(batch, state_size)`` tensor into per-layer ``(h, c)``."""
        sizes = [n for n in self.units for _ in range(2)]
        parts = tf.split(flat, sizes, axis=-1)
        return [(parts[2 * i], parts[2 * i + 1]) for i in range(len(self.units))]

    def zero_state(self, batch_size) -> list[tuple[tf.Tensor, tf.Tensor]]:
        return [(tf.zeros([batch_size, n]), tf.zeros([batch_size, n])) for n in self.units]

    def run(self, x: tf.Tensor, states) -> tf.Tensor:
        """Run all layers over a whole sequence.

        Parameters
        ----------
        x : tf.Tensor, shape (batch, time, input_dim)
        states : list of (h, c), each shape (batch, units)

        Returns
        -------
        tf.Tensor, shape (batch, time, units[-1])
        """
        seq = tf.transpose(x, [1, 0, 2])
        for kernel, recurrent, bias, (h0, c0) in zip(
                self.kernels, self.recurrent_kernels, self.biases, states):
            seq = scan_lstm(tf.einsum("tbi,ik->tbk", seq, kernel) + bias, recurrent, h0, c0)
        return tf.transpose(seq, [1, 0, 2])

    def fused_kernels(self) -> list[tf.Tensor]:
        """``[W; U]`` of layers 1.. for one product per layer per step."""
        return [tf.concat([k, u], axis=0)
                for k, u in zip(self.kernels[1:], self.recurrent_kernels[1:])]

    def step(self, x_proj0: tf.Tensor, states, fused) -> tuple[tf.Tensor, list]:
        """Advance every layer one step.

        Parameters
        ----------
        x_proj0 : tf.Tensor, shape (batch, 4 * units[0])
            Layer 0's ``x @ W + b`` (computed by the caller, who may hoist it).
        states : list of (h, c)
        fused : list of tf.Tensor
            :meth:`fused_kernels`, computed once outside the loop.

        Returns
        -------
        h_top : tf.Tensor, shape (batch, units[-1])
        states : list of (h, c)
        """
        h, c = lstm_update(x_proj0 + tf.matmul(states[0][0], self.recurrent_kernels[0]),
                           states[0][1])
        new_states = [(h, c)]
        for (h_prev, c_prev), kernel, bias in zip(states[1:], fused, self.biases[1:]):
            h, c = lstm_update(tf.matmul(tf.concat([h, h_prev], axis=-1), kernel) + bias, c_prev)
            new_states.append((h, c))
        return h, new_states


class BidirectionalLstmEncoder(keras.layers.Layer):
    """Stacked bidirectional LSTM returning ``concat(final fw h, final bw h)``.

    Magenta's ``BidirectionalLstmEncoder``: layer l+1 reads the concatenated
    forward and backward outputs of layer l (``stack_bidirectional_dynamic_rnn``);
    the backward direction reverses each sequence within its length, so padding
    never reaches the states that are returned.

    Parameters
    ----------
    units : tuple of int
        Units per direction of each layer.
    input_dim : int
    init : WeightInit, optional
    """

    def __init__(self, units, input_dim, *, init: WeightInit | None = None, **kwargs):
        super().__init__(**kwargs)
        init = init or WeightInit()
        self.units = tuple(int(u) for u in units)
        self.input_dim = int(input_dim)
        self.kernels, self.recurrent_kernels, self.biases = [], [], []
        in_dim = self.input_dim
        for i, n in enumerate(self.units):
            # Leading axis 2: forward, backward.
            self.kernels.append(self.add_weight(
                shape=(2, in_dim, 4 * n), initializer=init.per_direction_glorot(),
                name=f"kernel_{i}"))
            self.recurrent_kernels.append(self.add_weight(
                shape=(2, n, 4 * n), initializer=init.per_direction_glorot(),
                name=f"recurrent_kernel_{i}"))
            self.biases.append(self.add_weight(
                shape=(2, 1, 4 * n), initializer="zeros", name=f"bias_{i}"))
            in_dim = 2 * n
        self.built = True

    @property
    def output_dim(self) -> int:
        return 2 * self.units[-1]

    def call(self, x: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
        """Encode a batch.

        Parameters
        ----------
        x : tf.Tensor, shape (batch, time, input_dim), float32
        lengths : tf.Tensor, shape (batch,), int32
            Valid steps of each sequence (0 gives a zero encoding).

        Returns
        -------
        tf.Tensor, shape (batch, 2 * units[-1])
        """
        lengths = tf.cast(lengths, tf.int32)
        batch = tf.shape(x)[0]
        last = tf.stack([tf.range(batch), tf.maximum(lengths - 1, 0)], axis=1)
        seq = x
        for kernel, recurrent, bias, n in zip(
                self.kernels, self.recurrent_kernels, self.biases, self.units):
            backward_in = tf.reverse_sequence(seq, lengths, seq_axis=1, batch_axis=0)
            both = tf.stack([seq, backward_in], axis=0)  # (2, batch, time, in)
            x_proj = tf.einsum("dbti,dik->tdbk", both, kernel) + bias
            zeros = tf.zeros([2, batch, n])
            hs = scan_lstm(x_proj, recurrent, zeros, zeros)  # (time, 2, batch, n)
            hs = tf.transpose(hs, [1, 2, 0, 3])  # (2, batch, time, n)
            fw_out, bw_out_reversed = hs[0], hs[1]
            bw_out = tf.reverse_sequence(bw_out_reversed, lengths, seq_axis=1, batch_axis=0)
            seq = tf.concat([fw_out, bw_out], axis=-1)
        # The backward final state is its output at step length-1 of the reversed
        # sequence. An empty sequence encodes to zeros (dynamic_rnn's zero state).
        final = tf.concat([tf.gather_nd(fw_out, last), tf.gather_nd(bw_out_reversed, last)], -1)
        return final * tf.cast(lengths > 0, final.dtype)[:, None]


class HierarchicalLstmEncoder(keras.layers.Layer):
    """Magenta's two-level ``HierarchicalLstmEncoder``: bars, then the bar embeddings.

    Each segment of ``segment_steps`` steps is encoded on its own (all segments
    as one batch); a second bidirectional encoder reads the segment embeddings.

    Parameters
    ----------
    units : tuple of int
        Sizes of both levels' bidirectional encoders.
    input_dim : int
    n_segments, segment_steps : int
        ``n_segments * segment_steps`` equals the padded sequence length.
    init : WeightInit, optional
    """

    def __init__(self, units, input_dim, n_segments, segment_steps, *,
                 init: WeightInit | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_segments = int(n_segments)
        self.segment_steps = int(segment_steps)
        self.level_0 = BidirectionalLstmEncoder(units, input_dim, init=init, name="level_0")
        self.level_1 = BidirectionalLstmEncoder(
            units, self.level_0.output_dim, init=init, name="level_1")
        self.built = True

    @property
    def output_dim(self) -> int:
        return self.level_1.output_dim

    def call(self, x: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(x)[0]
        segments = tf.reshape(x, [batch * self.n_segments, self.segment_steps, x.shape[-1]])
        segment_lengths = split_lengths(lengths, self.n_segments, self.segment_steps)
        # A segment past the end has length 0 and encodes to zeros.
        embeddings = self.level_0(segments, tf.reshape(segment_lengths, [-1]))
        embeddings = tf.reshape(embeddings, [batch, self.n_segments, self.level_0.output_dim])
        return self.level_1(embeddings, tf.fill([batch], self.n_segments))


def split_lengths(lengths: tf.Tensor, n_segments: int, segment_steps: int) -> tf.Tensor:
    """Per-segment valid lengths of sequences cut into equal segments.

    Parameters
    ----------
    lengths : tf.Tensor, shape (batch,)
    n_segments, segment_steps : int

    Returns
    -------
    tf.Tensor, shape (batch, n_segments), int32
        ``clip(length - i * segment_steps, 0, segment_steps)`` for segment i.
    """
    starts = tf.range(n_segments, dtype=tf.int32) * segment_steps
    return tf.clip_by_value(tf.cast(lengths, tf.int32)[:, None] - starts[None, :], 0, segment_steps)


class Conductor(keras.layers.Layer):
    """Magenta's hierarchical decoder top level with autoregression disabled.

    A stacked LSTM whose initial state is ``tanh(Dense(z))`` and whose input at
    every step is a single zero; its top-layer output at step i is the
    embedding that conditions segment (bar) i.

    Parameters
    ----------
    units : tuple of int
    z_size : int
    n_segments : int
    init : WeightInit, optional
    """

    def __init__(self, units, z_size, n_segments, *, init: WeightInit | None = None, **kwargs):
        super().__init__(**kwargs)
        init = init or WeightInit()
        self.n_segments = int(n_segments)
        self.lstm = StackedLSTM(units, input_dim=1, init=init, name="lstm")
        self.initial_state = keras.layers.Dense(
            self.lstm.state_size, activation="tanh", name="initial_state",
            kernel_initializer=init.small_normal())
        self.initial_state.build((None, int(z_size)))
        self.built = True

    @property
    def output_dim(self) -> int:
        return self.lstm.units[-1]

    def call(self, z: tf.Tensor) -> tf.Tensor:
        """Embeddings ``(batch, n_segments, units[-1])`` from ``z (batch, z_size)``."""
        states = self.lstm.split_state(self.initial_state(z))
        zeros = tf.zeros([tf.shape(z)[0], self.n_segments, 1])
        return self.lstm.run(zeros, states)
