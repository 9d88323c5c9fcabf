"""MelodyRNN's recurrent cells: Magenta's BasicLSTMCell and AttentionCellWrapper.

:class:`LSTMCell` is TF1's ``BasicLSTMCell`` (one kernel over ``[x, h]``,
gates i, g, f, o, forget bias 1.0). :class:`AttentionLSTMCell` is
``magenta.contrib.rnn.AttentionCellWrapper`` around one: the attention state
travels in the cell state, so it works step by step in generation exactly as
in training. One step, with ``A = attn_size``, ``L = attn_length``::

    x'      = [x, attns] @ W_in + b_in                 # back to the input depth
    h, c    = LSTM(x', (h, c))
    query   = [c, h] @ W_q + b_q                       # (attn_vec_size,)
    score_j = v . tanh(attn_states[j] @ W_k + query)   # j over the last L outputs
    attns   = sum_j softmax(score)_j * attn_states[j]
    output  = [h, attns] @ W_out + b_out               # (A,), the cell's output
    attn_states = attn_states[1:] + [output]

The window starts as L zero vectors, as in Magenta. Two rearrangements keep
the arithmetic but save time: the keys ``attn_states[j] @ W_k`` are carried in
the state (each is computed once, when its output enters the window, instead
of L times), and whatever depends only on ``x`` is projected for a whole
sequence before the time loop (:meth:`project_inputs`).

Both cells share one interface: ``zero_state(batch)``, ``project_inputs(x)``,
``step(x_proj, state) -> (output, state)`` and ``run(x) -> outputs``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gensuite.music_vae.lstm import lstm_update


class LSTMCell(keras.layers.Layer):
    """TF1 ``BasicLSTMCell``: kernel over ``[x, h]`` (glorot uniform), zero bias.

    State is ``(c, h)``, each ``(batch, units)``; the output is ``h``.

    Parameters
    ----------
    units : int
    input_dim : int
    """

    def __init__(self, units: int, input_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.input_dim = int(input_dim)
        # One kernel over [x, h] so Glorot's fans match TF1's initialisation.
        self.kernel = self.add_weight(
            shape=(self.input_dim + self.units, 4 * self.units),
            initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(4 * self.units,), initializer="zeros", name="bias")
        self.built = True

    @property
    def output_size(self) -> int:
        return self.units

    def zero_state(self, batch_size) -> tuple[tf.Tensor, tf.Tensor]:
        zeros = tf.zeros(tf.stack([batch_size, self.units]))
        return (zeros, zeros)

    def project_inputs(self, x: tf.Tensor) -> tf.Tensor:
        """``x @ W_x + b``, shape ``(..., 4 * units)`` from ``x (..., input_dim)``."""
        return tf.tensordot(x, self.kernel[:self.input_dim], axes=1) + self.bias

    def step(self, x_proj: tf.Tensor, state, *, context=None):
        """Advance one step.

        Parameters
        ----------
        x_proj : tf.Tensor, shape (batch, 4 * units)
            :meth:`project_inputs` of this step's input.
        state : (c, h)
        context : tf.Tensor, optional
            :meth:`step_context`, hoisted out of a loop by the caller (slicing
            the kernel inside a loop would cost a full-kernel gradient per step).

        Returns
        -------
        output : tf.Tensor, shape (batch, units)
        state : (c, h)
        """
        c, h = state
        if context is None:
            context = self.step_context()
        h, c = lstm_update(x_proj + tf.matmul(h, context), c)
        return h, (c, h)

    def step_context(self) -> tf.Tensor:
        """The recurrent kernel ``W_h``, shape (units, 4 * units)."""
        return self.kernel[self.input_dim:]

    def run(self, x: tf.Tensor, state=None) -> tf.Tensor:
        """Outputs for a whole sequence ``x (batch, time, input_dim)`` -> ``(batch, time, units)``."""
        return _run_cell(self, x, state)


class AttentionLSTMCell(keras.layers.Layer):
    """Magenta's ``AttentionCellWrapper(BasicLSTMCell(units), attn_length)``.

    State is ``(c, h, attns, attn_states, attn_keys)``: LSTM state, the last
    attention read ``(batch, A)``, the window of the last ``attn_length``
    outputs ``(batch, L, A)`` and their keys ``(batch, L, attn_vec_size)``.

    Parameters
    ----------
    units : int
        LSTM units.
    input_dim : int
        Depth of the cell input (also the depth the input projection keeps).
    attn_length : int
        Outputs in the attention window.
    attn_size, attn_vec_size : int, optional
        Output / attention vector depths; ``units`` by default, as in Magenta.
    """

    def __init__(self, units: int, input_dim: int, attn_length: int, *,
                 attn_size: int | None = None, attn_vec_size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if attn_length < 1:
            raise ValueError(f"attn_length must be >= 1, got {attn_length}")
        self.input_dim = int(input_dim)
        self.attn_length = int(attn_length)
        self.attn_size = int(attn_size or units)
        self.attn_vec_size = int(attn_vec_size or self.attn_size)
        self.cell = LSTMCell(units, self.input_dim, name="lstm")
        glorot, zeros = "glorot_uniform", "zeros"
        self.input_kernel = self.add_weight(
            shape=(self.input_dim + self.attn_size, self.input_dim), initializer=glorot,
            name="input_kernel")
        self.input_bias = self.add_weight(shape=(self.input_dim,), initializer=zeros,
                                          name="input_bias")
        self.attn_kernel = self.add_weight(
            shape=(self.attn_size, self.attn_vec_size), initializer=glorot, name="attn_kernel")
        self.attn_v = self.add_weight(shape=(self.attn_vec_size,), initializer=glorot,
                                      name="attn_v")
        self.query_kernel = self.add_weight(
            shape=(2 * self.cell.units, self.attn_vec_size), initializer=glorot,
            name="query_kernel")
        self.query_bias = self.add_weight(shape=(self.attn_vec_size,), initializer=zeros,
                                          name="query_bias")
        self.output_kernel = self.add_weight(
            shape=(self.cell.units + self.attn_size, self.attn_size), initializer=glorot,
            name="output_kernel")
        self.output_bias = self.add_weight(shape=(self.attn_size,), initializer=zeros,
                                           name="output_bias")
        self.built = True

    @property
    def output_size(self) -> int:
        return self.attn_size

    def zero_state(self, batch_size):
        units = self.cell.units
        zeros = tf.zeros(tf.stack([batch_size, units]))
        return (zeros, zeros, tf.zeros(tf.stack([batch_size, self.attn_size])),
                tf.zeros(tf.stack([batch_size, self.attn_length, self.attn_size])),
                tf.zeros(tf.stack([batch_size, self.attn_length, self.attn_vec_size])))

    def project_inputs(self, x: tf.Tensor) -> tf.Tensor:
        """The part of the LSTM gates that depends on ``x`` only, ``(..., 4 * units)``.

        ``(x @ W_in[:D] + b_in) @ W_x + b``; the attention read's share
        ``attns @ W_in[D:] @ W_x`` is added in :meth:`step`.
        """
        x_in = tf.tensordot(x, self.input_kernel[:self.input_dim], axes=1) + self.input_bias
        return self.cell.project_inputs(x_in)

    def step_context(self) -> tf.Tensor:
        """``[W_in[D:] @ W_x; W_h]``: one product per step for attns and h."""
        cell = self.cell
        attn_to_gates = tf.matmul(self.input_kernel[self.input_dim:],
                                  cell.kernel[:self.input_dim])
        return tf.concat([attn_to_gates, cell.kernel[self.input_dim:]], axis=0)

    def step(self, x_proj: tf.Tensor, state, *, context=None):
        """Advance one step.

        Parameters
        ----------
        x_proj : tf.Tensor, shape (batch, 4 * units)
            :meth:`project_inputs` of this step's input.
        state : tuple
            See the class docstring.
        context : tf.Tensor, optional
            :meth:`step_context`, hoisted out of a loop by the caller.

        Returns
        -------
        output : tf.Tensor, shape (batch, attn_size)
        state : tuple
        """
        c, h, attns, attn_states, attn_keys = state
        if context is None:
            context = self.step_context()
        gates = x_proj + tf.matmul(tf.concat([attns, h], axis=-1), context)
        h, c = lstm_update(gates, c)
        query = tf.matmul(tf.concat([c, h], axis=-1), self.query_kernel) + self.query_bias
        scores = tf.reduce_sum(self.attn_v * tf.tanh(attn_keys + query[:, None, :]), axis=-1)
        weights = tf.nn.softmax(scores, axis=-1)
        attns = tf.reduce_sum(weights[:, :, None] * attn_states, axis=1)
        output = tf.matmul(tf.concat([h, attns], axis=-1), self.output_kernel) + self.output_bias
        attn_states = tf.concat([attn_states[:, 1:], output[:, None, :]], axis=1)
        key = tf.matmul(output, self.attn_kernel)
        attn_keys = tf.concat([attn_keys[:, 1:], key[:, None, :]], axis=1)
        return output, (c, h, attns, attn_states, attn_keys)

    def run(self, x: tf.Tensor, state=None) -> tf.Tensor:
        """Outputs for a whole sequence ``x (batch, time, input_dim)`` -> ``(batch, time, A)``."""
        return _run_cell(self, x, state)


def _run_cell(cell, x: tf.Tensor, state=None) -> tf.Tensor:
    """Run ``cell`` over ``x (batch, time, depth)`` from ``state`` (zeros by default)."""
    batch_size, n_steps = tf.shape(x)[0], tf.shape(x)[1]
    if state is None:
        state = cell.zero_state(batch_size)
    x_proj = tf.TensorArray(x.dtype, size=n_steps).unstack(
        tf.transpose(cell.project_inputs(x), [1, 0, 2]))  # time-major
    outputs = tf.TensorArray(x.dtype, size=n_steps)
    context = cell.step_context()

    def body(t, state, outputs):
        output, state = cell.step(x_proj.read(t), state, context=context)
        return t + 1, state, outputs.write(t, output)

    # maximum_iterations lets the gradient preallocate its per-step stacks:
    # about 1.7x faster training than tf.scan on CPU.
    _, _, outputs = tf.while_loop(
        lambda t, *_: t < n_steps, body, (tf.constant(0), state, outputs),
        maximum_iterations=n_steps, parallel_iterations=32, swap_memory=True)
    return tf.transpose(outputs.stack(), [1, 0, 2])
