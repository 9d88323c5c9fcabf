"""MelodyRNN (basic, lookback, attention): continue a melody, Magenta's way.

Three parts:

* step encoders (:func:`make_step_encoder`): TensorFlow ports of the numpy
  encodings in :mod:`gensuite.melody_rnn.encodings`. They turn the event history
  into the next network input *one step at a time*, carrying running state
  (sounding note, key histogram, last-played steps, ...), so that generation
  computes inputs from the events it has just sampled inside the compiled
  loop. ``step t`` equals ``encoding.encode_inputs(events)[..., t, :]``.
* :class:`MelodyRNNNetwork`: the Keras network, stacked LSTMs (the first one
  wrapped in Magenta's attention cell for ``attention_rnn``), dropout on every
  layer output in training, a linear layer to the class logits.
* :class:`MelodyRNN`: the user-facing model: config + encoding + network,
  :meth:`MelodyRNN.generate` (sampling and Magenta's beam search in one
  ``tf.while_loop``), teacher-forced scoring, and save / load.

Melody events: ``-2`` NO_EVENT, ``-1`` NOTE_OFF, ``0..127`` note-on; 16 steps
per bar.
"""

from __future__ import annotations

import dataclasses
import secrets
import warnings

import keras
import numpy as np
import tensorflow as tf

from gensuite.checkpoints import SavedModel
from gensuite.common.errors import ParameterError
from gensuite.melody_rnn import encodings as ee
from gensuite.melody_rnn.attention import AttentionLSTMCell, LSTMCell
from gensuite.melody_rnn.configs import MelodyRNNConfig, get_config

KIND = "melody_rnn"


# ----------------------------------------------------------------------------
# Step encoders (TF)
# ----------------------------------------------------------------------------

def _read_column(history: tf.Tensor, step: tf.Tensor, *, fill: int = ee.NO_EVENT) -> tf.Tensor:
    """``history[:, step]``, or ``fill`` where ``step < 0``. history: (batch, T) int32."""
    column = tf.gather(history, tf.maximum(step, 0), axis=1)
    return tf.where(step >= 0, column, tf.fill(tf.shape(column), tf.constant(fill, history.dtype)))


def _binary_counter(position: tf.Tensor, batch_size: tf.Tensor, n_bits: int) -> tf.Tensor:
    """Bits of ``position`` as +-1, shape (batch, n_bits) float32 (note-seq's counter)."""
    bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(position, tf.range(n_bits)), 1)
    row = tf.cast(2 * bits - 1, tf.float32)
    return tf.tile(row[None, :], tf.stack([batch_size, 1]))


def _best_keys(pitch_class_counts: tf.Tensor) -> tf.Tensor:
    """1.0 for every major key tied for most fitting notes; (batch, 12) float32."""
    histogram = tf.matmul(tf.cast(pitch_class_counts, tf.float32),
                          tf.constant(ee.KEY_MEMBERSHIP, tf.float32))
    return tf.cast(tf.equal(histogram, tf.reduce_max(histogram, axis=-1, keepdims=True)),
                   tf.float32)


def _decode_repeats(labels, events, history, position, *, first_repeat_class, distances):
    """Replace repeat classes by the event ``d`` steps before ``position``."""
    for i, distance in enumerate(distances):
        copied = _read_column(history, position - distance)
        events = tf.where(tf.equal(labels, first_repeat_class + i), copied, events)
    return events


class OneHotStepEncoder:
    """TF step form of :class:`gensuite.melody_rnn.encodings.OneHotMelodyEncoding`."""

    def __init__(self, encoding: ee.OneHotMelodyEncoding):
        self.encoding = encoding

    def classes(self, events: tf.Tensor) -> tf.Tensor:
        return tf.where(events >= 0, events - self.encoding.min_note, events) + ee.N_SPECIAL_EVENTS

    def initial_state(self, batch_size) -> tuple:
        return ()

    def encode_step(self, state, history: tf.Tensor, step: tf.Tensor):
        """Input for ``history[:, :step + 1]``: (batch, input_size) float32, and the new state."""
        event = tf.gather(history, step, axis=1)
        return tf.one_hot(self.classes(event), self.encoding.input_size), state

    def decode_labels(self, labels: tf.Tensor, history: tf.Tensor, position: tf.Tensor) -> tf.Tensor:
        """Events the classes ``labels (batch,)`` stand for at step ``position``."""
        return tf.where(labels < ee.N_SPECIAL_EVENTS, labels - ee.N_SPECIAL_EVENTS,
                        labels - ee.N_SPECIAL_EVENTS + self.encoding.min_note)


class LookbackStepEncoder(OneHotStepEncoder):
    """TF step form of :class:`gensuite.melody_rnn.encodings.LookbackMelodyEncoding`."""

    def encode_step(self, state, history, step):
        enc = self.encoding
        depth = enc.num_event_classes
        event = tf.gather(history, step, axis=1)
        parts = [tf.one_hot(self.classes(event), depth)]
        for distance in enc.lookback_distances:
            # The event the next step would repeat; NO_EVENT (the default
            # label's event) before the start.
            upcoming = _read_column(history, step - distance + 1)
            parts.append(tf.one_hot(self.classes(upcoming), depth))
        parts.append(_binary_counter(step + 1, tf.shape(history)[0], enc.binary_counter_bits))
        for distance in enc.lookback_distances:
            repeat = (step >= distance) & tf.equal(event, _read_column(history, step - distance))
            parts.append(tf.cast(repeat, tf.float32)[:, None])
        return tf.concat(parts, axis=-1), state

    def decode_labels(self, labels, history, position):
        enc = self.encoding
        events = super().decode_labels(tf.minimum(labels, enc.num_event_classes - 1),
                                       history, position)
        return _decode_repeats(labels, events, history, position,
                               first_repeat_class=enc.num_event_classes,
                               distances=enc.lookback_distances)


class KeyStepEncoder:
    """TF step form of :class:`gensuite.melody_rnn.encodings.KeyMelodyEncoding`.

    State, per melody: sounding note (last event that is not NO_EVENT), attack
    flag, last note-on pitch, last melodic direction, pitch-class counts
    (12), and the step each pitch of the range was last played (-1: never).
    """

    def __init__(self, encoding: ee.KeyMelodyEncoding):
        self.encoding = encoding
        pitches = np.arange(encoding.min_note, encoding.max_note)
        self._pitch_to_class = (pitches[:, None] % ee.NOTES_PER_OCTAVE
                                == np.arange(ee.NOTES_PER_OCTAVE)).astype(np.float32)

    def initial_state(self, batch_size) -> tuple:
        batch = tf.reshape(tf.cast(batch_size, tf.int32), [1])
        return (
            tf.fill(batch, ee.NOTE_OFF),                       # sounding (current) event
            tf.zeros(batch, tf.bool),                          # attack
            tf.fill(batch, -1),                                # last note-on pitch
            tf.zeros(batch, tf.float32),                       # ascending
            tf.zeros(tf.concat([batch, [ee.NOTES_PER_OCTAVE]], 0), tf.float32),
            tf.fill(tf.concat([batch, [self.encoding.note_range]], 0), -1),
        )

    def encode_step(self, state, history, step):
        enc = self.encoding
        current, attack, last_note, ascending, pc_counts, last_played = state
        event = tf.gather(history, step, axis=1)
        batch_size = tf.shape(history)[0]
        is_note = event >= 0

        current = tf.where(tf.equal(event, ee.NO_EVENT), current, event)
        # note-seq tests `if current_note:`, so pitch 0 reads as silence.
        sounding = current > 0
        pitch_part = tf.one_hot(current - enc.min_note, enc.note_range) * tf.cast(
            sounding, tf.float32)[:, None]
        attack = tf.where(tf.equal(event, ee.NOTE_OFF), attack, is_note)

        direction = tf.where(is_note & (last_note >= 0),
                             tf.cast(tf.sign(event - last_note), tf.float32), 0.0)
        ascending = tf.where(tf.not_equal(direction, 0.0), direction, ascending)
        last_note = tf.where(is_note, event, last_note)

        repeats = [tf.cast((step >= d) & tf.equal(event, _read_column(history, step - d)),
                           tf.float32)[:, None] for d in enc.lookback_distances]
        counter = _binary_counter(step + 1, batch_size, enc.binary_counter_bits)
        bar_start = tf.fill(tf.stack([batch_size, 1]),
                            tf.cast(tf.equal((step + 1) % enc.steps_per_bar, 0), tf.float32))

        pc_counts = pc_counts + tf.one_hot(event % ee.NOTES_PER_OCTAVE, ee.NOTES_PER_OCTAVE) * tf.cast(
            is_note, tf.float32)[:, None]
        played = tf.one_hot(event - enc.min_note, enc.note_range, on_value=True, off_value=False)
        last_played = tf.where(played, step, last_played)
        if enc.note_range > 3:
            third_latest = tf.math.top_k(last_played, 3).values[:, 2]
            recent = (last_played >= third_latest[:, None]) & (last_played >= 0)
        else:
            recent = last_played >= 0
        recent_counts = tf.matmul(tf.cast(recent, tf.float32), self._pitch_to_class)

        inputs = tf.concat([
            pitch_part,
            tf.cast(sounding, tf.float32)[:, None],
            tf.cast(~sounding, tf.float32)[:, None],
            tf.cast(attack, tf.float32)[:, None],
            ascending[:, None],
            *repeats,
            counter,
            bar_start,
            _best_keys(pc_counts),
            _best_keys(recent_counts),
        ], axis=-1)
        return inputs, (current, attack, last_note, ascending, pc_counts, last_played)

    def decode_labels(self, labels, history, position):
        enc = self.encoding
        events = tf.where(labels < enc.note_range, labels + enc.min_note,
                          tf.where(tf.equal(labels, enc.note_range), ee.NO_EVENT, ee.NOTE_OFF))
        return _decode_repeats(labels, events, history, position,
                               first_repeat_class=enc.note_range + ee.N_SPECIAL_EVENTS,
                               distances=enc.lookback_distances)


def make_step_encoder(encoding: ee.MelodyEncoding):
    """Return the TF step encoder of a numpy encoding.

    The returned object has ``initial_state(batch_size)``,
    ``encode_step(state, history, step) -> (inputs, state)`` (the input for
    ``history[:, :step + 1]``; call it for step 0, 1, 2, ... in order;
    ``history`` is ``(batch, T)`` int32 with the events up to ``step``) and
    ``decode_labels(labels, history, position) -> events``.
    """
    if isinstance(encoding, ee.KeyMelodyEncoding):
        return KeyStepEncoder(encoding)
    if isinstance(encoding, ee.LookbackMelodyEncoding):
        return LookbackStepEncoder(encoding)
    if isinstance(encoding, ee.OneHotMelodyEncoding):
        return OneHotStepEncoder(encoding)
    raise ParameterError(f"encoding: unsupported type {type(encoding).__name__}")


def encode_steps_tf(step_encoder, events: tf.Tensor) -> tf.Tensor:
    """Encode whole melodies with a step encoder, one step at a time (for tests and checks).

    Parameters
    ----------
    events : tf.Tensor, shape (batch, T), int32

    Returns
    -------
    tf.Tensor, shape (batch, T, input_size), float32
    """
    events = tf.convert_to_tensor(events, tf.int32)
    n_steps = tf.shape(events)[1]
    outputs = tf.TensorArray(tf.float32, size=n_steps)

    def body(t, state, outputs):
        inputs, state = step_encoder.encode_step(state, events, t)
        return t + 1, state, outputs.write(t, inputs)

    _, _, outputs = tf.while_loop(
        lambda t, *_: t < n_steps, body,
        (tf.constant(0), step_encoder.initial_state(tf.shape(events)[0]), outputs))
    return tf.transpose(outputs.stack(), [1, 0, 2])


# ----------------------------------------------------------------------------
# Network
# ----------------------------------------------------------------------------

class MelodyRNNNetwork(keras.Model):
    """Stacked LSTM (attention on the first layer if ``attn_length``) and logits.

    Magenta's ``make_rnn_cell`` + ``dynamic_rnn`` + linear layer: every layer's
    output goes through dropout in training (``DropoutWrapper``), including
    the top one before the logits. All weights exist after construction.

    Parameters
    ----------
    config : MelodyRNNConfig
    """

    def __init__(self, config: MelodyRNNConfig, **kwargs):
        super().__init__(name=kwargs.pop("name", "melody_rnn"), **kwargs)
        self.config = config
        self.input_size = config.input_size
        self.num_classes = config.num_classes
        self.dropout_rate = 1.0 - config.dropout_keep_prob
        sizes = config.rnn_layer_sizes
        cells = []
        in_dim = self.input_size
        for i, units in enumerate(sizes):
            if i == 0 and config.attn_length:
                cell = AttentionLSTMCell(units, in_dim, config.attn_length, name="cell_0")
            else:
                cell = LSTMCell(units, in_dim, name=f"cell_{i}")
            cells.append(cell)
            in_dim = cell.output_size
        self.cells = cells
        self.logits_layer = keras.layers.Dense(self.num_classes, name="logits")
        self.logits_layer.build((None, in_dim))
        self.built = True

    def _dropout(self, x: tf.Tensor, training: bool) -> tf.Tensor:
        if training and self.dropout_rate > 0:
            return tf.nn.dropout(x, rate=self.dropout_rate)
        return x

    def call(self, inputs: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Logits for whole sequences.

        Parameters
        ----------
        inputs : tf.Tensor, shape (batch, time, input_size), float32
        training : bool
            Apply dropout.

        Returns
        -------
        tf.Tensor, shape (batch, time, num_classes)
            Logits of the event after each step (causal: step t sees inputs <= t).
        """
        seq = tf.convert_to_tensor(inputs, tf.float32)
        for cell in self.cells:
            seq = self._dropout(cell.run(seq), training)
        return self.logits_layer(seq)

    def zero_state(self, batch_size) -> tuple:
        """Initial state of every layer (zeros, as in Magenta)."""
        return tuple(cell.zero_state(batch_size) for cell in self.cells)

    def step_context(self) -> tuple:
        """Per-call constants for :meth:`step`; compute once outside a loop."""
        return tuple(cell.step_context() for cell in self.cells)

    def step(self, inputs: tf.Tensor, states, context=None):
        """One step for a batch: ``inputs (batch, input_size)`` -> logits ``(batch, num_classes)``."""
        if context is None:
            context = self.step_context()
        x = inputs
        new_states = []
        for cell, state, ctx in zip(self.cells, states, context):
            x, state = cell.step(cell.project_inputs(x), state, context=ctx)
            new_states.append(state)
        return self.logits_layer(x), tuple(new_states)


# ----------------------------------------------------------------------------
# User-facing model
# ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class GeneratedMelodies:
    """What :meth:`MelodyRNN.generate` returns.

    Attributes
    ----------
    events : numpy.ndarray of int64, shape (num_outputs, num_steps)
        Melodies in the primer's key and register; each begins with the primer.
    log_likelihood : numpy.ndarray of float64, shape (num_outputs,)
        Total log-likelihood (nats, at the sampling temperature) of events
        1..num_steps-1 of each melody, primer included, as Magenta's beam
        search scores it.
    transpose_amount : int
        Semitones the primer moved to reach the model's key and range.
    """

    events: np.ndarray
    log_likelihood: np.ndarray
    transpose_amount: int


class MelodyRNN(SavedModel):
    """A MelodyRNN: config, event encoding and network.

    Parameters
    ----------
    config : MelodyRNNConfig or str
        A config or a preset name.

    Examples
    --------
    >>> model = MelodyRNN.load("checkpoints/attention_rnn")      # doctest: +SKIP
    >>> out = model.generate([60, -2, 62, -2, 64], num_steps=64, seed=1)  # doctest: +SKIP
    >>> out.events.shape                                          # doctest: +SKIP
    (1, 64)
    """

    kind = KIND
    config_type = MelodyRNNConfig

    def __init__(self, config: MelodyRNNConfig | str):
        config = get_config(config) if isinstance(config, str) else config
        self.config = config
        self.encoding = config.make_encoding()
        self.step_encoder = make_step_encoder(self.encoding)
        self.network = MelodyRNNNetwork(config)
        self._generate_fn = None

    # -- encoding ------------------------------------------------------------

    def prepare_melody(self, events) -> tuple[np.ndarray, int]:
        """Transpose a melody to the model's key and fold it into its note range.

        Returns
        -------
        events : numpy.ndarray of int64, shape (n_steps,)
        amount : int
            Semitones moved (undo with ``transpose_melody_back``).
        """
        return ee.squash_melody(ee.as_event_array(events), min_note=self.config.min_note,
                                max_note=self.config.max_note,
                                transpose_to_key=self.config.transpose_to_key)

    def logits(self, inputs, *, training: bool = False) -> tf.Tensor:
        """Network logits, ``(batch, time, num_classes)`` from encoded inputs."""
        return self.network(tf.convert_to_tensor(inputs, tf.float32), training=training)

    def log_likelihood(self, events, *, temperature: float = 1.0) -> float:
        """Teacher-forced log-likelihood (nats) of events 1.. given the ones before.

        ``events`` must already lie in the model's range and key (see
        :meth:`prepare_melody`); this is what generation's scores measure.
        """
        events = ee.as_event_array(events, name="events")
        if events.ndim != 1 or events.size < 2:
            raise ParameterError(f"events: must be one melody of >= 2 steps, got shape {events.shape}")
        inputs, labels = self.encoding.to_training_pair(events)
        logits = self.logits(inputs[None])[0] / temperature
        logp = tf.nn.log_softmax(logits, axis=-1).numpy()
        return float(np.sum(logp[np.arange(labels.size), labels]))

    # -- generation ----------------------------------------------------------

    def generate(self, primer_events, *, num_steps: int, temperature: float = 1.0,
                 beam_size: int = 1, branch_factor: int = 1, steps_per_iteration: int = 1,
                 num_outputs: int = 1, seed: int | None = None) -> GeneratedMelodies:
        """Continue a primer melody, by sampling or by Magenta's beam search.

        The primer is transposed to the model's key and range (the amount is
        remembered), run through the network, and extended to ``num_steps``
        events by sampling from the softmax at ``temperature``. Beam search
        (Magenta's ``beam_search``): ``beam_size * branch_factor`` melodies
        are extended ``steps_per_iteration`` steps at a time (the first
        iteration takes ``(n - 1) % steps_per_iteration + 1`` steps, n the
        steps to generate); between iterations only the ``beam_size`` with the
        highest total log-likelihood survive, each copied ``branch_factor``
        times; the best melody at the end is returned. All outputs and beams
        run as one batch inside one compiled ``tf.while_loop``.

        Parameters
        ----------
        primer_events : array_like of int, shape (n_primer,)
            Events -2..127, at least one.
        num_steps : int
            Length of each output in steps, primer included (> n_primer).
        temperature : float
            Logits are divided by it before the softmax; > 0.
        beam_size, branch_factor, steps_per_iteration : int
            Beam search settings, each >= 1 (1, 1, 1 is plain sampling).
        num_outputs : int
            Independent melodies (each its own beam search).
        seed : int, optional
            Same seed, same melodies (on the same device and TF build).

        Returns
        -------
        GeneratedMelodies
            Events begin with ``primer_events`` exactly; the continuation is
            moved back by the transposition amount.

        Raises
        ------
        ParameterError
            Bad argument (the message names it).
        """
        primer = ee.as_event_array(primer_events, name="primer_events")
        if primer.ndim != 1:
            raise ParameterError(f"primer_events: must be one melody (1-D), got shape {primer.shape}")
        if primer.size == 0:
            raise ParameterError("primer_events: must hold at least one event, got none")
        _check_int("num_steps", num_steps, minimum=primer.size + 1,
                   rule=f"> the primer length {primer.size}")
        for name, value in (("beam_size", beam_size), ("branch_factor", branch_factor),
                            ("steps_per_iteration", steps_per_iteration),
                            ("num_outputs", num_outputs)):
            _check_int(name, value, minimum=1, rule=">= 1")
        if not (isinstance(temperature, (int, float, np.floating, np.integer))
                and np.isfinite(temperature) and temperature > 0):
            raise ParameterError(f"temperature: must be a finite number > 0, got {temperature!r}")
        if seed is None:
            seed = secrets.randbits(63)
        _check_int("seed", seed, minimum=0, rule="in [0, 2**63)")
        if seed >= 2**63:
            raise ParameterError(f"seed: must be an integer in [0, 2**63), got {seed!r}")

        squashed, amount = self.prepare_melody(primer)
        folded = ee.transpose_melody_back(squashed, amount)
        if not np.array_equal(folded, primer):
            warnings.warn(
                f"primer_events: notes outside the model's {self.config.max_note - self.config.min_note}"
                f"-semitone range were folded by octaves into it; the continuation follows "
                f"the folded primer", UserWarning, stacklevel=2)
        primer_labels = self.encoding.encode_labels(squashed)

        fn = self._get_generate_fn()
        events, scores = fn(
            tf.constant(squashed, tf.int32), tf.constant(primer_labels, tf.int32),
            tf.constant(num_steps, tf.int32), tf.constant(temperature, tf.float32),
            tf.constant(num_outputs, tf.int32), tf.constant(beam_size, tf.int32),
            tf.constant(branch_factor, tf.int32), tf.constant(steps_per_iteration, tf.int32),
            tf.constant([int(seed) >> 32, int(seed) & 0xFFFFFFFF], tf.int64))
        events = ee.transpose_melody_back(events.numpy().astype(np.int64), amount)
        events[:, :primer.size] = primer
        return GeneratedMelodies(events=events, log_likelihood=scores.numpy().astype(np.float64),
                                 transpose_amount=int(amount))

    def _get_generate_fn(self):
        if self._generate_fn is None:
            scalar_i = tf.TensorSpec([], tf.int32)
            self._generate_fn = tf.function(
                self._generate_graph, reduce_retracing=True,
                input_signature=[
                    tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32),
                    scalar_i, tf.TensorSpec([], tf.float32), scalar_i, scalar_i, scalar_i,
                    scalar_i, tf.TensorSpec([2], tf.int64)])
        return self._generate_fn

    def _generate_graph(self, primer, primer_labels, num_steps, temperature, num_outputs,
                        beam_size, branch_factor, steps_per_iteration, seed):
        """The compiled generation loop (see :meth:`generate`); returns events and scores.

        Rows are ``num_outputs * K`` melodies, K = beam_size * branch_factor,
        output-major. Iteration t feeds event t and chooses event t + 1:
        taken from the primer while t + 1 < n_primer (its log-likelihood
        still counts, as in Magenta), sampled afterwards.
        """
        encoder, network = self.step_encoder, self.network
        n_primer = tf.shape(primer)[0]
        k = beam_size * branch_factor
        batch = num_outputs * k
        history = tf.concat([tf.tile(primer[None, :], tf.stack([batch, 1])),
                             tf.fill(tf.stack([batch, num_steps - n_primer]), ee.NO_EVENT)], axis=1)
        n_generate = num_steps - n_primer
        first_iteration_steps = (n_generate - 1) % steps_per_iteration + 1
        context = network.step_context()
        columns = tf.range(num_steps)

        def prune(state):
            """Keep the beam_size best of each output's K rows, each branch_factor times."""
            scores = state[-1]
            best = tf.math.top_k(tf.reshape(scores, tf.stack([num_outputs, k])), beam_size).indices
            rows = tf.tile(best, tf.stack([1, branch_factor])) + k * tf.range(num_outputs)[:, None]
            rows = tf.reshape(rows, [-1])
            return tf.nest.map_structure(lambda x: tf.gather(x, rows), state)

        def body(t, state):
            generated_index = t + 1 - n_primer
            new_iteration = (generated_index >= first_iteration_steps) & tf.equal(
                (generated_index - first_iteration_steps) % steps_per_iteration, 0)
            state = tf.cond(new_iteration, lambda: prune(state), lambda: state)
            history, encoder_state, rnn_state, scores = state
            inputs, encoder_state = encoder.encode_step(encoder_state, history, t)
            logits, rnn_state = network.step(inputs, rnn_state, context)
            log_probs = tf.nn.log_softmax(logits / temperature, axis=-1)
            step_seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(t, tf.int64))
            sampled = tf.random.stateless_categorical(log_probs, 1, step_seed,
                                                      dtype=tf.int32)[:, 0]
            forced = t + 1 < n_primer
            primer_index = tf.minimum(t + 1, n_primer - 1)
            labels = tf.where(forced, tf.fill(tf.shape(sampled), primer_labels[primer_index]),
                              sampled)
            scores = scores + tf.gather(log_probs, labels, axis=1, batch_dims=1)
            events = tf.where(forced, tf.fill(tf.shape(sampled), primer[primer_index]),
                              encoder.decode_labels(labels, history, t + 1))
            history = tf.where(tf.equal(columns, t + 1)[None, :], events[:, None], history)
            return t + 1, (history, encoder_state, rnn_state, scores)

        state = (history, encoder.initial_state(batch), network.zero_state(batch),
                 tf.zeros(tf.reshape(batch, [1])))
        _, state = tf.while_loop(lambda t, _: t < num_steps - 1, body, (tf.constant(0), state))
        history, _, _, scores = state
        scores = tf.reshape(scores, tf.stack([num_outputs, k]))
        best = tf.argmax(scores, axis=1, output_type=tf.int32)
        history = tf.reshape(history, tf.stack([num_outputs, k, num_steps]))
        return (tf.gather(history, best, axis=1, batch_dims=1),
                tf.gather(scores, best, axis=1, batch_dims=1))


def _check_int(name: str, value, *, minimum: int, rule: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name}: must be an integer {rule}, got {value!r}")
