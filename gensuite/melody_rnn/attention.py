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

Training runs whole sequences through :func:`attention_sequence`, which has a
hand-written backward pass. Automatic differentiation of the time loop would
stack every step's window, keys and ``tanh`` (``T x batch x L x 128`` floats
each) and accumulate every weight gradient step by step; the hand-written pass
keeps the window as a ring buffer (softmax attention does not depend on the
order of the window), keeps the forward's gate activations, recomputes the
``tanh`` from the stored keys, and forms each weight gradient with one matrix
product over all steps after the loop. The step's cost is passes over the
window (``batch x L x 128`` floats): the rings are batch-major and written in
place one slot a step, the window's reads and their gradients are batched
matrix-vector products (one pass each: XLA's CPU backend writes out the
product of a multiply-then-sum before summing it), and going back the loop
restores the forward's ring slot by slot rather than gathering each step's
window anew.
Both loops are compiled with XLA. One step then does two matrix products: the
query, and ``[h, attns] @ [W_out | W_out W_k | W_rec]``, which gives the output,
its key and the next step's recurrent gate input at once.

Both cells share one interface: ``zero_state(batch)``, ``project_inputs(x)``,
``step(x_proj, state) -> (output, state)`` and ``run(x) -> outputs``.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from tensorflow.compiler.tf2xla.python import xla

from gensuite.music_vae.lstm import lstm_gate_activations, lstm_update


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
        # One product with the folded kernel W_in[:D] @ W_x: the sequence is
        # long and the kernels small.
        w_x = self.cell.kernel[:self.input_dim]
        kernel = tf.matmul(self.input_kernel[:self.input_dim], w_x)
        bias = tf.linalg.matvec(w_x, self.input_bias, transpose_a=True) + self.cell.bias
        return tf.tensordot(x, kernel, axes=1) + bias

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
        """Outputs for a whole sequence ``x (batch, time, input_dim)`` -> ``(batch, time, A)``.

        From the zero state (training, scoring) this is :func:`attention_sequence`;
        from a given state, the step loop.
        """
        if state is not None:
            return _run_cell(self, x, state)
        context = self.step_context()
        # [h, attns] rows, as the output kernel reads them; step_context's are [attns, h].
        recurrent = tf.concat([context[self.attn_size:], context[:self.attn_size]], axis=0)
        fused = tf.concat([self.output_kernel, tf.matmul(self.output_kernel, self.attn_kernel),
                           recurrent], axis=1)
        x_gates = self.project_inputs(tf.transpose(x, [1, 0, 2]))  # time-major
        weights = [tf.convert_to_tensor(w) for w in (
            self.query_kernel, self.query_bias, self.attn_v, self.output_bias)]
        key_bias = tf.linalg.matvec(self.attn_kernel, self.output_bias, transpose_a=True)
        # Halves of the batch run as independent loops: on a CPU they run on
        # two cores at once, and each half's window stays in its core's cache.
        batch = tf.shape(x_gates)[1]
        # A split (not two slices): its gradient is one concat, where each
        # slice's would be a zero-padded copy of the whole batch.
        parts = [x_gates] if x.shape[0] is not None and x.shape[0] < 2 else tf.split(
            x_gates, tf.stack([batch // 2, batch - batch // 2]), axis=1)
        outputs = [attention_sequence(part, fused, *weights, key_bias,
                                      attn_length=self.attn_length) for part in parts]
        return tf.transpose(tf.concat(outputs, axis=1), [1, 0, 2])


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


# ----------------------------------------------------------------------------
# Whole sequences with a hand-written backward pass
# ----------------------------------------------------------------------------

def attention_sequence(x_gates, fused_kernel, query_kernel, query_bias, attn_v, output_bias,
                       key_bias, *, attn_length: int) -> tf.Tensor:
    """Run the attention cell over a time-major sequence from the zero state.

    Parameters
    ----------
    x_gates : tf.Tensor, shape (time, batch, 4 * units)
        :meth:`AttentionLSTMCell.project_inputs` of every step.
    fused_kernel : tf.Tensor, shape (units + A, A + V + 4 * units)
        ``[W_out | W_out @ W_k | W_rec]`` over rows ``[h, attns]``, where
        ``W_rec`` is the recurrent gate kernel (the step context, rows reordered).
    query_kernel, query_bias, attn_v : tf.Tensor
        The cell's weights, shapes (2 * units, V), (V,), (V,).
    output_bias, key_bias : tf.Tensor, shapes (A,), (V,)
        ``b_out`` and ``b_out @ W_k``.
    attn_length : int

    Returns
    -------
    tf.Tensor, shape (time, batch, A)
        The cell's outputs; differentiable in every argument.
    """
    @tf.custom_gradient
    def run(x_gates, fused_kernel, query_kernel, query_bias, attn_v, output_bias, key_bias):
        weights = (fused_kernel, query_kernel, query_bias, attn_v, output_bias, key_bias)
        saved = _attention_forward(x_gates, *weights, attn_length=attn_length)
        outputs = saved[6]  # the stacked outputs: see _attention_forward

        def grad(d_outputs):
            return _attention_backward(d_outputs, saved, *weights, attn_length=attn_length)

        return outputs, grad

    return run(x_gates, fused_kernel, query_kernel, query_bias, attn_v, output_bias, key_bias)


def _put(ring: tf.Tensor, slot: tf.Tensor, value: tf.Tensor) -> tf.Tensor:
    """``ring`` with ``ring[:, slot] = value``; ring (batch, L, depth), value (batch, depth).

    XLA updates a loop-carried ring in place.
    """
    return xla.dynamic_update_slice(ring, value[:, None], tf.stack([0, slot, 0]))


def _ring_attention(ring_keys, ring_outputs, query, attn_v):
    """Softmax weights over the window ``(batch, L)`` and the read ``(batch, A)``.

    Batched matrix-vector products: each reads its window once.
    """
    hidden = tf.tanh(ring_keys + query[:, None, :])
    weights = tf.nn.softmax(tf.linalg.matvec(hidden, attn_v), axis=-1)
    return weights, tf.linalg.matvec(ring_outputs, weights, transpose_a=True)


@tf.function(jit_compile=True, reduce_retracing=True)
def _attention_forward(x_gates, fused_kernel, query_kernel, query_bias, attn_v, output_bias,
                       key_bias, *, attn_length):
    """Forward loop; returns what the backward pass needs.

    ``(gate activations, c, h, attns, queries, attention weights, outputs, keys)``,
    time-major, then the final rings of outputs and keys.
    """
    n_steps, batch = tf.shape(x_gates)[0], tf.shape(x_gates)[1]
    n_gates = x_gates.shape[-1]
    units, attn_size, vec_size = n_gates // 4, output_bias.shape[0], key_bias.shape[0]

    def body(t, c, h, recurrent, ring_outputs, ring_keys, arrays):
        activations, c, h = _lstm_activations(x_gates[t] + recurrent, c)
        query = tf.matmul(tf.concat([c, h], axis=-1), query_kernel) + query_bias
        weights, attns = _ring_attention(ring_keys, ring_outputs, query, attn_v)
        fused = tf.matmul(tf.concat([h, attns], axis=-1), fused_kernel)
        output = fused[:, :attn_size] + output_bias
        key = fused[:, attn_size:attn_size + vec_size] + key_bias
        slot = t % attn_length
        arrays = [a.write(t, v) for a, v in zip(
            arrays, (activations, c, h, attns, query, weights, output, key))]
        return (t + 1, c, h, fused[:, attn_size + vec_size:], _put(ring_outputs, slot, output),
                _put(ring_keys, slot, key), arrays)

    def zeros(*shape):
        return tf.zeros(tf.stack(shape))

    arrays = [tf.TensorArray(tf.float32, size=n_steps) for _ in range(8)]
    loop_vars = (tf.constant(0), zeros(batch, units), zeros(batch, units),
                 zeros(batch, n_gates), zeros(batch, attn_length, attn_size),
                 zeros(batch, attn_length, vec_size), arrays)
    *_, ring_outputs, ring_keys, arrays = tf.while_loop(
        lambda t, *_: t < n_steps, body, loop_vars, maximum_iterations=n_steps)
    return (*(a.stack() for a in arrays), ring_outputs, ring_keys)


@tf.function(jit_compile=True, reduce_retracing=True)
def _attention_backward(d_outputs, saved, fused_kernel, query_kernel, query_bias, attn_v,
                        output_bias, key_bias, *, attn_length):
    """Gradients of :func:`attention_sequence`'s arguments given ``d_outputs (time, batch, A)``.

    The reverse loop carries the gradients flowing back through the cell
    state and the recurrent gates, the forward's rings of outputs and keys
    (each step puts back the entry its forward step overwrote), and two rings
    holding, for the outputs in the window, the gradients their later reads
    and keys have sent so far. A ring slot is complete when the loop reaches
    its step.
    """
    (activations_all, c_all, h_all, attns_all, queries, weights_all, outputs, keys,
     last_ring_outputs, last_ring_keys) = saved
    n_steps, batch = tf.shape(d_outputs)[0], tf.shape(d_outputs)[1]
    units, attn_size, vec_size = c_all.shape[-1], output_bias.shape[0], key_bias.shape[0]
    c_before = tf.concat([tf.zeros_like(c_all[:1]), c_all], axis=0)  # row t: c of step t - 1
    # Row t: the output (key) that step t overwrote in the ring; zeros before the start.
    outputs_before = tf.concat([tf.zeros(tf.stack([attn_length, batch, attn_size])), outputs],
                               axis=0)
    keys_before = tf.concat([tf.zeros(tf.stack([attn_length, batch, vec_size])), keys], axis=0)

    def body(t, d_recurrent, dc, ring_outputs, ring_keys, ring_d_out, ring_d_key, d_v, arrays):
        slot = t % attn_length
        ring_outputs = _put(ring_outputs, slot, outputs_before[t])
        ring_keys = _put(ring_keys, slot, keys_before[t])
        d_out = d_outputs[t] + ring_d_out[:, slot]
        d_key = ring_d_key[:, slot]
        ring_d_out = _put(ring_d_out, slot, tf.zeros_like(d_out))
        ring_d_key = _put(ring_d_key, slot, tf.zeros_like(d_key))
        d_fused = tf.concat([d_out, d_key, d_recurrent], axis=-1)
        d_h_attns = tf.matmul(d_fused, fused_kernel, transpose_b=True)
        dh, d_attns = d_h_attns[:, :units], d_h_attns[:, units:]

        weights = weights_all[t]
        d_weights = tf.linalg.matvec(ring_outputs, d_attns)
        ring_d_out += weights[:, :, None] * d_attns[:, None, :]
        d_scores = weights * (d_weights - tf.reduce_sum(weights * d_weights, axis=-1,
                                                        keepdims=True))
        hidden = tf.tanh(ring_keys + queries[t][:, None, :])
        d_v += tf.tensordot(d_scores, hidden, axes=[[0, 1], [0, 1]])
        tanh_slope = 1.0 - hidden * hidden
        ring_d_key += d_scores[:, :, None] * attn_v * tanh_slope
        d_query = attn_v * tf.linalg.matvec(tanh_slope, d_scores, transpose_a=True)
        d_c_h = tf.matmul(d_query, query_kernel, transpose_b=True)
        dc += d_c_h[:, :units]
        dh += d_c_h[:, units:]

        d_gates, dc = _lstm_update_backward(activations_all[t], c_before[t], c_all[t], dh, dc)
        arrays = [a.write(t, v) for a, v in zip(arrays, (d_gates, d_query, d_fused))]
        return (t - 1, d_gates, dc, ring_outputs, ring_keys, ring_d_out, ring_d_key, d_v,
                arrays)

    arrays = [tf.TensorArray(tf.float32, size=n_steps) for _ in range(3)]
    zeros = tf.zeros(tf.stack([batch, units]))
    loop_vars = (n_steps - 1, tf.zeros(tf.stack([batch, 4 * units])), zeros,
                 last_ring_outputs, last_ring_keys, tf.zeros_like(last_ring_outputs),
                 tf.zeros_like(last_ring_keys), tf.zeros_like(attn_v), arrays)
    *_, d_v, arrays = tf.while_loop(lambda t, *_: t >= 0, body, loop_vars,
                                    maximum_iterations=n_steps)
    d_gates, d_queries, d_fused = (a.stack() for a in arrays)

    def summed_product(a, b):
        """sum over time and batch of a^T b."""
        return tf.matmul(tf.reshape(a, [-1, a.shape[-1]]), tf.reshape(b, [-1, b.shape[-1]]),
                         transpose_a=True)

    return (d_gates,
            summed_product(tf.concat([h_all, attns_all], axis=-1), d_fused),
            summed_product(tf.concat([c_all, h_all], axis=-1), d_queries),
            tf.reduce_sum(d_queries, axis=[0, 1]),
            d_v,
            tf.reduce_sum(d_fused[..., :attn_size], axis=[0, 1]),
            tf.reduce_sum(d_fused[..., attn_size:attn_size + vec_size], axis=[0, 1]))


def _lstm_activations(gates, c):
    """:func:`lstm_update` that also returns its gate activations (the backward pass reuses them).

    Returns ``activations (batch, 4 * units)``, the new ``c`` and ``h``. (XLA computes
    the activations once for both.)
    """
    h, c = lstm_update(gates, c)
    return tf.concat(lstm_gate_activations(gates), axis=-1), c, h


def _lstm_update_backward(activations, c_prev, c, dh, dc):
    """Gradients of :func:`lstm_update` wrt its gates and ``c_prev``, given dh and dc."""
    si, tg, sf, so = tf.split(activations, 4, axis=-1)
    tc = tf.tanh(c)
    dc = dc + dh * so * (1.0 - tc * tc)
    d_gates = tf.concat([dc * tg * si * (1.0 - si), dc * si * (1.0 - tg * tg),
                         dc * c_prev * sf * (1.0 - sf), dh * tc * so * (1.0 - so)], axis=-1)
    return d_gates, dc * sf
