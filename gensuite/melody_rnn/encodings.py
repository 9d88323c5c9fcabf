"""MelodyRNN's melody event encodings, vectorised over whole melodies.

A melody is an int array of events, one per sixteenth-note step (16 steps per
bar): ``-2`` NO_EVENT (hold the current note or silence), ``-1`` NOTE_OFF,
``0..127`` note-on of that MIDI pitch. Three encodings reproduce the encoders
of Magenta's MelodyRNN presets exactly (note-seq is the test oracle):

================  ==========================================  =====  =======
preset            note-seq encoder-decoder                    input  classes
================  ==========================================  =====  =======
``basic_rnn``     OneHotEventSequenceEncoderDecoder            38     38
``lookback_rnn``  LookbackEventSequenceEncoderDecoder          121    40
``attention_rnn`` KeyMelodyEncoderDecoder                      74     40
================  ==========================================  =====  =======

all over notes ``[48, 84)``. ``inputs[i]`` encodes ``events[:i + 1]`` (note-seq's
``events_to_input(events, i)``) and ``labels[i]`` is the class of ``events[i]``;
training pairs ``inputs[:-1]`` with ``labels[1:]`` (:meth:`to_training_pair`).
Lookback classes mean "repeat the event 16 (or 32) steps ago".

Every encoder works on arrays of shape ``(..., n_steps)``: leading axes are a
batch of equal-length melodies. The computations are cumulative scans
(``cumsum``, running maxima of "last index where ...") so that each step's
input depends on the history only, never on the future; that is what lets
generation compute the input of step t from the events generated so far.

Melodies are transposed to C and into the model's range before encoding
(:func:`transpose_melody_to_c`, note-seq's ``Melody.squash``) and transposed
back after generation (:func:`transpose_melody_back`).
"""

from __future__ import annotations

import dataclasses
from typing import Union

import numpy as np

from gensuite.common.arrays import one_hot
from gensuite.common.errors import ParameterError

NO_EVENT = -2
NOTE_OFF = -1
MIN_PITCH = 0
MAX_PITCH = 127
N_SPECIAL_EVENTS = 2
NOTES_PER_OCTAVE = 12
STEPS_PER_BAR = 16
DEFAULT_MIN_NOTE = 48
DEFAULT_MAX_NOTE = 84
DEFAULT_LOOKBACK_DISTANCES = (STEPS_PER_BAR, 2 * STEPS_PER_BAR)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
PRESET_NAMES = ("basic_rnn", "lookback_rnn", "attention_rnn")

# KEY_MEMBERSHIP[pc, key] = 1 where pitch class pc lies in the major scale of
# key (note-seq's NOTE_KEYS as a matrix, so histograms become one matmul).
_PITCH_CLASSES = np.arange(NOTES_PER_OCTAVE)
KEY_MEMBERSHIP = np.isin(
    (_PITCH_CLASSES[:, None] - _PITCH_CLASSES[None, :]) % NOTES_PER_OCTAVE,
    MAJOR_SCALE).astype(np.int64)
KEY_MEMBERSHIP.flags.writeable = False


# ----------------------------------------------------------------------------
# Event arrays
# ----------------------------------------------------------------------------

def as_event_array(events, *, name: str = "events") -> np.ndarray:
    """Return ``events`` as an int64 array of melody events, checked.

    Parameters
    ----------
    events : array_like of int, shape (..., n_steps), or note_seq.Melody
        Melody events in ``[-2, 127]``; leading axes are a batch.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    numpy.ndarray of int64, shape (..., n_steps)

    Raises
    ------
    ParameterError
        Not integers, a scalar, or an event outside ``[-2, 127]``.
    """
    if not isinstance(events, (np.ndarray, list, tuple)) and not np.isscalar(events):
        events = list(events)  # note_seq.Melody and other iterables
    array = np.asarray(events)
    if array.ndim == 0:
        raise ParameterError(f"{name}: must be a sequence of melody events, got scalar {array!r}")
    if array.size == 0:
        return array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ParameterError(
            f"{name}: melody events must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    bad = (array < NO_EVENT) | (array > MAX_PITCH)
    if bad.any():
        raise ParameterError(
            f"{name}: melody events must lie in [{NO_EVENT}, {MAX_PITCH}], "
            f"got {int(array[bad].flat[0])}")
    return array


def clean_melody_events(events) -> np.ndarray:
    """Replace NOTE_OFF events before the first note with NO_EVENT.

    This is what constructing a ``note_seq.Melody`` does to its events, so
    ``encode(clean_melody_events(x))`` matches note-seq's ``encode(Melody(x))``.
    The encoders themselves do not clean: like note-seq's, they encode the
    sequence they are given, which matters during generation.

    Parameters
    ----------
    events : array_like of int, shape (..., n_steps)

    Returns
    -------
    numpy.ndarray of int64, shape (..., n_steps)
        A new array.
    """
    array = as_event_array(events).copy()
    before_first_note = np.cumsum(array >= MIN_PITCH, axis=-1) == 0
    array[before_first_note & (array == NOTE_OFF)] = NO_EVENT
    return array


def check_note_range(events: np.ndarray, *, min_note: int, max_note: int,
                     name: str = "events") -> None:
    """Raise ParameterError unless every note-on lies in ``[min_note, max_note)``."""
    notes = events[events >= MIN_PITCH]
    bad = (notes < min_note) | (notes >= max_note)
    if bad.any():
        raise ParameterError(
            f"{name}: note-on pitches must lie in [{min_note}, {max_note}) "
            f"(transpose with transpose_melody_to_c first), got {int(notes[bad][0])}")


def shift_events(events: np.ndarray, *, n_steps: int, fill: int = NO_EVENT) -> np.ndarray:
    """Return ``out[..., t] = events[..., t - n_steps]``, or ``fill`` where t < n_steps.

    Parameters
    ----------
    events : numpy.ndarray of int, shape (..., T)
    n_steps : int
        Delay in steps, >= 0.
    fill : int
        Value for steps with no history that far back.

    Returns
    -------
    numpy.ndarray, shape (..., T)
    """
    out = np.full_like(events, fill)
    if n_steps < events.shape[-1]:
        out[..., n_steps:] = events[..., :events.shape[-1] - n_steps]
    return out


def find_last_index(mask: np.ndarray) -> np.ndarray:
    """Return, per step t, the last step s <= t where ``mask`` holds, else -1.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (..., T)

    Returns
    -------
    numpy.ndarray of int64, shape (..., T)
    """
    steps = np.arange(mask.shape[-1])
    if mask.shape[-1] == 0:
        return np.zeros(mask.shape, np.int64)
    return np.maximum.accumulate(np.where(mask, steps, -1), axis=-1)


def gather_steps(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Return ``values[..., index]`` along the last axis; index -1 reads step 0."""
    return np.take_along_axis(values, np.clip(index, 0, None), axis=-1)


def find_repeats(events: np.ndarray, *, distance: int) -> np.ndarray:
    """Return whether ``events[..., t] == events[..., t - distance]`` (False if t < distance)."""
    steps = np.arange(events.shape[-1])
    return (steps >= distance) & (events == shift_events(events, n_steps=distance))


def encode_binary_counter(n_steps: int, *, n_bits: int) -> np.ndarray:
    """Return note-seq's metric counter: bit b of (t + 1) as +1 / -1.

    Parameters
    ----------
    n_steps : int
        Number of steps T.
    n_bits : int
        Number of counter bits.

    Returns
    -------
    numpy.ndarray of float32, shape (T, n_bits)
        ``out[t, b] = +1`` if bit b of ``t + 1`` (the length of ``events[:t+1]``,
        i.e. the position of the *next* event) is set, else ``-1``.
    """
    position = np.arange(1, n_steps + 1)[:, None]
    bits = (position >> np.arange(n_bits)[None, :]) & 1
    return (2 * bits - 1).astype(np.float32)


def compute_key_histogram(pitch_class_counts: np.ndarray) -> np.ndarray:
    """Count, for each major key, the notes that fit it (note-seq's key histogram).

    Parameters
    ----------
    pitch_class_counts : numpy.ndarray of int, shape (..., 12)
        Notes counted per pitch class, C = 0.

    Returns
    -------
    numpy.ndarray of int64, shape (..., 12)
        Index k is the number of notes in the major scale of key k (C major = 0).
    """
    return pitch_class_counts.astype(np.int64) @ KEY_MEMBERSHIP


def estimate_major_key(events) -> int:
    """Return the major key (C = 0 ... B = 11) most notes of a melody fit.

    Ties go to the lowest key; a melody with no notes gives 0 (note-seq's
    ``Melody.get_major_key``).

    Parameters
    ----------
    events : array_like of int, shape (n_steps,)

    Returns
    -------
    int
    """
    events = as_event_array(events)
    notes = events[events >= MIN_PITCH]
    counts = np.bincount(notes % NOTES_PER_OCTAVE, minlength=NOTES_PER_OCTAVE)
    return int(np.argmax(compute_key_histogram(counts)))


# ----------------------------------------------------------------------------
# Transposition (note-seq's Melody.transpose / Melody.squash)
# ----------------------------------------------------------------------------

def transpose_melody(events, amount: int, *, min_note: int = 0, max_note: int = 128) -> np.ndarray:
    """Transpose note-ons by ``amount`` semitones, folding octaves into range.

    Parameters
    ----------
    events : array_like of int, shape (..., n_steps)
    amount : int
        Semitones; positive is up.
    min_note, max_note : int
        Notes land in ``[min_note, max_note)``; those outside move by whole
        octaves to the nearest octave inside (note-seq's ``Melody.transpose``).

    Returns
    -------
    numpy.ndarray of int64, shape (..., n_steps)
        A new array; NO_EVENT and NOTE_OFF are unchanged.
    """
    events = as_event_array(events)
    if max_note - min_note < NOTES_PER_OCTAVE:
        raise ParameterError(
            f"max_note - min_note: must be >= {NOTES_PER_OCTAVE} to fold octaves, "
            f"got {max_note - min_note}")
    is_note = events >= MIN_PITCH
    moved = events + int(amount)
    below = min_note + (moved - min_note) % NOTES_PER_OCTAVE
    above = max_note - NOTES_PER_OCTAVE + (moved - max_note) % NOTES_PER_OCTAVE
    moved = np.where(moved < min_note, below, np.where(moved >= max_note, above, moved))
    return np.where(is_note, moved, events)


def squash_melody(events, *, min_note: int, max_note: int,
                  transpose_to_key: int | None = 0) -> tuple[np.ndarray, int]:
    """Transpose a melody to a key, centre it in a range and fold it inside.

    Reproduces note-seq's ``Melody.squash``, which MelodyRNN applies to every
    training melody and to the primer before generation.

    Parameters
    ----------
    events : array_like of int, shape (n_steps,)
    min_note, max_note : int
        Target range ``[min_note, max_note)``.
    transpose_to_key : int or None
        Major key to move to (0 = C); None only folds octaves into range.

    Returns
    -------
    events : numpy.ndarray of int64, shape (n_steps,)
    amount : int
        Semitones the melody moved before folding (0 for a melody with no
        notes). Undo it with :func:`transpose_melody_back`.
    """
    events = as_event_array(events)
    if events.ndim != 1:
        raise ParameterError(f"events: squash takes one melody (1-D), got shape {events.shape}")
    if transpose_to_key is not None and not 0 <= transpose_to_key < NOTES_PER_OCTAVE:
        raise ParameterError(f"transpose_to_key: must be in [0, 11] or None, got {transpose_to_key}")
    notes = events[events >= MIN_PITCH]
    amount = 0
    if transpose_to_key is not None:
        if notes.size == 0:
            return events.copy(), 0
        key_diff = transpose_to_key - estimate_major_key(events)
        melody_center = (int(notes.min()) + int(notes.max())) / 2
        target_center = (min_note + max_note - 1) / 2
        center_diff = target_center - (melody_center + key_diff)
        # Python's round (half to even) is what note-seq uses; keep it.
        amount = key_diff + NOTES_PER_OCTAVE * int(round(center_diff / float(NOTES_PER_OCTAVE)))
    return transpose_melody(events, amount, min_note=min_note, max_note=max_note), amount


def transpose_melody_to_c(events, *, min_note: int = DEFAULT_MIN_NOTE,
                          max_note: int = DEFAULT_MAX_NOTE) -> tuple[np.ndarray, int]:
    """Squash a melody into C major within ``[min_note, max_note)`` (MelodyRNN's default).

    Returns
    -------
    events : numpy.ndarray of int64, shape (n_steps,)
    amount : int
        Pass it to :func:`transpose_melody_back` after generation.
    """
    return squash_melody(events, min_note=min_note, max_note=max_note, transpose_to_key=0)


def transpose_melody_back(events, amount: int) -> np.ndarray:
    """Undo :func:`transpose_melody_to_c` on a (generated) melody.

    As in MelodyRNN's ``generate_melody``, notes move by ``-amount`` and are
    folded into the MIDI range ``[0, 128)``; notes the squash folded by an
    octave do not return to their original octave.
    """
    return transpose_melody(events, -int(amount), min_note=0, max_note=128)


# ----------------------------------------------------------------------------
# Encodings
# ----------------------------------------------------------------------------

def _check_labels(labels, *, num_classes: int) -> np.ndarray:
    array = np.asarray(labels)
    if array.size == 0:
        return array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ParameterError(f"labels: must be integers, got dtype {array.dtype}")
    bad = (array < 0) | (array >= num_classes)
    if bad.any():
        raise ParameterError(
            f"labels: must lie in [0, {num_classes}), got {int(array[bad].flat[0])}")
    return array.astype(np.int64, copy=False)


def _check_lookback_distances(distances: tuple[int, ...]) -> None:
    if not distances or any(int(d) < 1 for d in distances):
        raise ParameterError(
            f"lookback_distances: must be a non-empty tuple of positive steps, got {distances!r}")


class _MelodyEncodingBase:
    """Methods shared by the three encodings (mixin for frozen dataclasses)."""

    min_note: int
    max_note: int

    def __post_init__(self):
        if not 0 <= self.min_note < self.max_note <= MAX_PITCH + 1:
            raise ParameterError(
                f"min_note, max_note: must satisfy 0 <= min_note < max_note <= 128, "
                f"got {self.min_note}, {self.max_note}")

    @property
    def note_range(self) -> int:
        """Number of pitches the encoding covers, ``max_note - min_note``."""
        return self.max_note - self.min_note

    def _events(self, events) -> np.ndarray:
        events = as_event_array(events)
        check_note_range(events, min_note=self.min_note, max_note=self.max_note)
        return events

    def encode_input_at(self, events, position: int) -> np.ndarray:
        """Return the input vector for ``events[:position + 1]`` (note-seq's ``events_to_input``).

        Returns
        -------
        numpy.ndarray of float32, shape (..., input_size)
        """
        events = self._events(events)
        n_steps = events.shape[-1]
        if not -n_steps <= position < n_steps:
            raise ParameterError(f"position: must index a step of a {n_steps}-step melody, got {position}")
        return self.encode_inputs(events[..., :position % n_steps + 1])[..., -1, :]

    def to_training_pair(self, events) -> tuple[np.ndarray, np.ndarray]:
        """Return note-seq's ``encode(events)``: inputs of steps 0..T-2, labels of steps 1..T-1.

        Returns
        -------
        inputs : numpy.ndarray of float32, shape (..., max(T - 1, 0), input_size)
        labels : numpy.ndarray of int64, shape (..., max(T - 1, 0))
        """
        events = self._events(events)
        inputs = self.encode_inputs(events)[..., :-1, :]
        labels = self.encode_labels(events)[..., 1:]
        return inputs, labels

    def decode_label(self, label: int, events_so_far) -> int:
        """Return the event a class label stands for after ``events_so_far``.

        Parameters
        ----------
        label : int
            A class in ``[0, num_classes)``.
        events_so_far : array_like of int, shape (n_steps,)
            The melody the event will be appended to (lookback classes copy
            from it).

        Returns
        -------
        int
        """
        history = self._events(events_so_far)
        if history.ndim != 1:
            raise ParameterError(f"events_so_far: must be one melody (1-D), got shape {history.shape}")
        return int(self.decode_labels(np.array([label]), history[None, :])[0])

    def decode_labels(self, labels, histories) -> np.ndarray:
        """Decode one label per melody of a batch, each after its history.

        Parameters
        ----------
        labels : array_like of int, shape (batch,)
        histories : array_like of int, shape (batch, n_steps)
            Events generated so far; the decoded event is step ``n_steps``.

        Returns
        -------
        numpy.ndarray of int64, shape (batch,)
        """
        labels = _check_labels(labels, num_classes=self.num_classes)
        histories = self._events(histories)
        n_steps = histories.shape[-1]
        return self._decode_at(labels[..., None], histories, np.array([n_steps]))[..., 0]

    def decode_label_sequence(self, labels, *, primer=()) -> np.ndarray:
        """Decode a label sequence that follows ``primer``, step after step.

        Lookback classes may copy events decoded earlier in the same call.
        ``decode_label_sequence(labels[1:], primer=events[:1])`` inverts
        :meth:`encode_labels`.

        Parameters
        ----------
        labels : array_like of int, shape (..., n_steps)
        primer : array_like of int, shape (..., n_primer) or (n_primer,)
            Events before the first label; a 1-D primer is shared by the batch.

        Returns
        -------
        numpy.ndarray of int64, shape (..., n_steps)
            The decoded events, primer excluded.
        """
        labels = _check_labels(labels, num_classes=self.num_classes)
        if labels.ndim == 0:
            raise ParameterError("labels: must be a sequence, got a scalar")
        primer = self._events(primer)
        primer = np.broadcast_to(primer, labels.shape[:-1] + primer.shape[-1:])
        n_primer, n_steps = primer.shape[-1], labels.shape[-1]
        buffer = np.concatenate([primer, np.full(labels.shape, NO_EVENT, np.int64)], axis=-1)
        # Events in one block only copy from before the block, so a block of
        # the shortest lookback distance decodes at once.
        block = self._decode_block_steps(n_steps)
        for start in range(0, n_steps, block):
            stop = min(start + block, n_steps)
            positions = np.arange(n_primer + start, n_primer + stop)
            buffer[..., positions] = self._decode_at(labels[..., start:stop], buffer, positions)
        return buffer[..., n_primer:]


@dataclasses.dataclass(frozen=True)
class OneHotMelodyEncoding(_MelodyEncodingBase):
    """basic_rnn: the current event as a one-hot vector.

    Classes: 0 NO_EVENT, 1 NOTE_OFF, ``2 + pitch - min_note`` note-on.
    Input at step t is the one-hot class of ``events[t]``.
    """

    min_note: int = DEFAULT_MIN_NOTE
    max_note: int = DEFAULT_MAX_NOTE

    @property
    def num_classes(self) -> int:
        return self.note_range + N_SPECIAL_EVENTS

    @property
    def input_size(self) -> int:
        return self.num_classes

    @property
    def default_label(self) -> int:
        """Class of NO_EVENT."""
        return 0

    def encode_classes(self, events) -> np.ndarray:
        """Return each event's one-hot class, shape (..., n_steps), int64."""
        events = self._events(events)
        return np.where(events >= MIN_PITCH, events - self.min_note, events) + N_SPECIAL_EVENTS

    def decode_classes(self, classes) -> np.ndarray:
        """Return the event of each one-hot class, shape ``classes.shape``, int64."""
        classes = _check_labels(classes, num_classes=self.num_classes)
        return np.where(classes < N_SPECIAL_EVENTS, classes - N_SPECIAL_EVENTS,
                        classes - N_SPECIAL_EVENTS + self.min_note)

    def encode_inputs(self, events) -> np.ndarray:
        """Return inputs, float32 of shape (..., n_steps, input_size)."""
        return one_hot(self.encode_classes(events), self.input_size, dtype=np.float32)

    def encode_labels(self, events) -> np.ndarray:
        """Return the class of each event, int64 of shape (..., n_steps)."""
        return self.encode_classes(events)

    def _decode_block_steps(self, n_steps: int) -> int:
        return max(n_steps, 1)

    def _decode_at(self, labels, buffer, positions) -> np.ndarray:
        return self.decode_classes(labels)


@dataclasses.dataclass(frozen=True)
class LookbackMelodyEncoding(_MelodyEncodingBase):
    """lookback_rnn: one-hot event plus lookback events, metric counter, repeat flags.

    Input at step t (121 values for the defaults), in order:
    one-hot class of ``events[t]``; for each lookback distance d, one-hot
    class of ``events[t - d + 1]`` (the event the next step would repeat;
    NO_EVENT before the start); ``binary_counter_bits`` bits of ``t + 1`` as
    +-1; for each d, 1 where ``events[t] == events[t - d]``.

    Classes: the one-hot classes of :class:`OneHotMelodyEncoding`, then one
    "repeat the event d steps back" class per distance. The longest matching
    distance wins, and NO_EVENT within the first ``lookback_distances[-1]``
    steps takes the last repeat class.
    """

    min_note: int = DEFAULT_MIN_NOTE
    max_note: int = DEFAULT_MAX_NOTE
    lookback_distances: tuple[int, ...] = DEFAULT_LOOKBACK_DISTANCES
    binary_counter_bits: int = 5

    def __post_init__(self):
        super().__post_init__()
        _check_lookback_distances(self.lookback_distances)

    @property
    def _one_hot(self) -> OneHotMelodyEncoding:
        return OneHotMelodyEncoding(min_note=self.min_note, max_note=self.max_note)

    @property
    def num_event_classes(self) -> int:
        """Classes of plain events (without the repeat classes)."""
        return self.note_range + N_SPECIAL_EVENTS

    @property
    def num_classes(self) -> int:
        return self.num_event_classes + len(self.lookback_distances)

    @property
    def input_size(self) -> int:
        n_lookbacks = len(self.lookback_distances)
        return ((1 + n_lookbacks) * self.num_event_classes
                + self.binary_counter_bits + n_lookbacks)

    @property
    def default_label(self) -> int:
        """Class of NO_EVENT."""
        return 0

    def encode_inputs(self, events) -> np.ndarray:
        """Return inputs, float32 of shape (..., n_steps, input_size)."""
        events = self._events(events)
        n_steps = events.shape[-1]
        depth = self.num_event_classes
        classes = self._one_hot.encode_classes(events)
        parts = [one_hot(classes, depth, dtype=np.float32)]
        for distance in self.lookback_distances:
            upcoming = shift_events(classes, n_steps=distance - 1, fill=self.default_label)
            parts.append(one_hot(upcoming, depth, dtype=np.float32))
        counter = encode_binary_counter(n_steps, n_bits=self.binary_counter_bits)
        parts.append(np.broadcast_to(counter, events.shape + counter.shape[-1:]))
        for distance in self.lookback_distances:
            parts.append(find_repeats(events, distance=distance)[..., None].astype(np.float32))
        return np.concatenate(parts, axis=-1)

    def encode_labels(self, events) -> np.ndarray:
        """Return the label of each step, int64 of shape (..., n_steps)."""
        events = self._events(events)
        labels = self._one_hot.encode_classes(events)
        for i, distance in enumerate(self.lookback_distances):
            # Later distances overwrite earlier ones: note-seq tries the
            # longest first.
            labels = np.where(find_repeats(events, distance=distance),
                              self.num_event_classes + i, labels)
        early_rest = (np.arange(events.shape[-1]) < self.lookback_distances[-1]) & (events == NO_EVENT)
        return np.where(early_rest, self.num_classes - 1, labels)

    def _decode_block_steps(self, n_steps: int) -> int:
        return min(self.lookback_distances)

    def _decode_at(self, labels, buffer, positions) -> np.ndarray:
        events = self._one_hot.decode_classes(np.minimum(labels, self.num_event_classes - 1))
        return _decode_repeats(labels, events, buffer, positions,
                               first_repeat_class=self.num_event_classes,
                               lookback_distances=self.lookback_distances)


@dataclasses.dataclass(frozen=True)
class KeyMelodyEncoding(_MelodyEncodingBase):
    """attention_rnn: note-seq's KeyMelodyEncoderDecoder (74 inputs, 40 classes).

    Input at step t for the defaults (36 pitches, 2 lookbacks, 7 counter bits):

    ========  =================================================================
    0-35      one-hot pitch of the sounding note (last note-on not yet turned off)
    36, 37    a note is sounding / silence
    38        attack: the last event that is not NOTE_OFF is a note-on
    39        +1 ascending, -1 descending, 0 unknown: sign of the last nonzero
              step between consecutive note-ons
    40, 41    ``events[t] == events[t - d]`` for d = 16, 32
    42-48     bits of ``t + 1`` as +-1
    49        ``t + 1`` is a multiple of 16 (the next event starts a bar)
    50-61     major keys that fit the most notes of ``events[:t + 1]``
    62-73     major keys that fit the most of the last 3 distinct pitches played
    ========  =================================================================

    Classes: ``pitch - min_note`` for note-ons, then NO_EVENT, NOTE_OFF, then
    one repeat class per lookback distance (same precedence as the lookback
    encoding). The default label is NO_EVENT's class, ``note_range``.
    """

    min_note: int = DEFAULT_MIN_NOTE
    max_note: int = DEFAULT_MAX_NOTE
    lookback_distances: tuple[int, ...] = DEFAULT_LOOKBACK_DISTANCES
    binary_counter_bits: int = 7
    steps_per_bar: int = STEPS_PER_BAR

    def __post_init__(self):
        super().__post_init__()
        _check_lookback_distances(self.lookback_distances)

    @property
    def num_classes(self) -> int:
        return self.note_range + N_SPECIAL_EVENTS + len(self.lookback_distances)

    @property
    def input_size(self) -> int:
        return (self.note_range + 2 + 1 + 1 + len(self.lookback_distances)
                + self.binary_counter_bits + 1 + 2 * NOTES_PER_OCTAVE)

    @property
    def default_label(self) -> int:
        """Class of NO_EVENT."""
        return self.note_range

    def encode_inputs(self, events) -> np.ndarray:
        """Return inputs, float32 of shape (..., n_steps, input_size)."""
        events = self._events(events)
        n_steps = events.shape[-1]
        steps = np.arange(n_steps)
        pitches = np.arange(self.min_note, self.max_note)
        is_note = events >= MIN_PITCH

        # Sounding note: the last note-on or NOTE_OFF decides. note-seq tests
        # `if current_note:`, so pitch 0 reads as silence; kept for exactness.
        last_change = find_last_index(events != NO_EVENT)
        current = np.where(last_change >= 0, gather_steps(events, last_change), NOTE_OFF)
        sounding = current > 0
        pitch_part = ((current[..., None] == pitches) & sounding[..., None]).astype(np.float32)

        # NOTE_OFF leaves note-seq's attack flag as it was; NO_EVENT clears it.
        last_not_off = find_last_index(events != NOTE_OFF)
        attack = (last_not_off >= 0) & (gather_steps(events, last_not_off) >= MIN_PITCH)

        last_note = find_last_index(is_note)
        previous_note_step = shift_events(last_note, n_steps=1, fill=-1)
        direction = np.where(is_note & (previous_note_step >= 0),
                             np.sign(events - gather_steps(events, previous_note_step)), 0)
        last_turn = find_last_index(direction != 0)
        ascending = np.where(last_turn >= 0, gather_steps(direction, last_turn), 0)

        repeats = [find_repeats(events, distance=d) for d in self.lookback_distances]
        counter = encode_binary_counter(n_steps, n_bits=self.binary_counter_bits)
        bar_start = ((steps + 1) % self.steps_per_bar == 0).astype(np.float32)

        pitch_classes = (events[..., None] % NOTES_PER_OCTAVE == np.arange(NOTES_PER_OCTAVE)) & is_note[..., None]
        total_key = _best_keys(np.cumsum(pitch_classes, axis=-2))

        # note-seq keeps the last 3 distinct pitches played: the 3 pitches
        # with the latest last-played step.
        played = events[..., None] == pitches
        if n_steps:
            last_played = np.maximum.accumulate(np.where(played, steps[:, None], -1), axis=-2)
        else:
            last_played = np.zeros(played.shape, np.int64)
        if self.note_range > 3:
            third_latest = np.partition(last_played, self.note_range - 3, axis=-1)[..., self.note_range - 3]
            recent = (last_played >= third_latest[..., None]) & (last_played >= 0)
        else:
            recent = last_played >= 0
        pitch_to_class = (pitches[:, None] % NOTES_PER_OCTAVE == np.arange(NOTES_PER_OCTAVE)).astype(np.int64)
        recent_key = _best_keys(recent.astype(np.int64) @ pitch_to_class)

        batch_shape = events.shape
        parts = [
            pitch_part,
            sounding[..., None].astype(np.float32),
            (~sounding)[..., None].astype(np.float32),
            attack[..., None].astype(np.float32),
            ascending[..., None].astype(np.float32),
            *[r[..., None].astype(np.float32) for r in repeats],
            np.broadcast_to(counter, batch_shape + counter.shape[-1:]),
            np.broadcast_to(bar_start[:, None], batch_shape + (1,)),
            total_key,
            recent_key,
        ]
        return np.concatenate(parts, axis=-1)

    def encode_labels(self, events) -> np.ndarray:
        """Return the label of each step, int64 of shape (..., n_steps)."""
        events = self._events(events)
        labels = np.where(events >= MIN_PITCH, events - self.min_note,
                          np.where(events == NO_EVENT, self.note_range, self.note_range + 1))
        for i, distance in enumerate(self.lookback_distances):
            labels = np.where(find_repeats(events, distance=distance),
                              self.note_range + N_SPECIAL_EVENTS + i, labels)
        early_rest = (np.arange(events.shape[-1]) < self.lookback_distances[-1]) & (events == NO_EVENT)
        return np.where(early_rest, self.num_classes - 1, labels)

    def _decode_block_steps(self, n_steps: int) -> int:
        return min(self.lookback_distances)

    def _decode_at(self, labels, buffer, positions) -> np.ndarray:
        events = np.where(labels < self.note_range, labels + self.min_note,
                          np.where(labels == self.note_range, NO_EVENT, NOTE_OFF))
        return _decode_repeats(labels, events, buffer, positions,
                               first_repeat_class=self.note_range + N_SPECIAL_EVENTS,
                               lookback_distances=self.lookback_distances)


def _best_keys(pitch_class_counts: np.ndarray) -> np.ndarray:
    """Return 1.0 for every major key tied for most fitting notes (all keys if none)."""
    histogram = compute_key_histogram(pitch_class_counts)
    return (histogram == histogram.max(axis=-1, keepdims=True)).astype(np.float32)


def _decode_repeats(labels, events, buffer, positions, *, first_repeat_class: int,
                    lookback_distances: tuple[int, ...]) -> np.ndarray:
    """Replace repeat classes by the event ``d`` steps before each position.

    labels, events: (..., b); buffer: (..., L) decoded history; positions: (b,)
    steps being decoded (< L + 1). Before step d a repeat decodes to NO_EVENT.
    """
    if buffer.shape[-1] == 0:
        buffer = np.full(buffer.shape[:-1] + (1,), NO_EVENT, np.int64)
    for i, distance in enumerate(lookback_distances):
        source = positions - distance
        copied = np.where(source >= 0, buffer[..., np.clip(source, 0, None)], NO_EVENT)
        events = np.where(labels == first_repeat_class + i, copied, events)
    return events


MelodyEncoding = Union[OneHotMelodyEncoding, LookbackMelodyEncoding, KeyMelodyEncoding]


def encoding_for(name: str) -> MelodyEncoding:
    """Return the encoding of a MelodyRNN preset.

    Parameters
    ----------
    name : {"basic_rnn", "lookback_rnn", "attention_rnn"}

    Returns
    -------
    OneHotMelodyEncoding, LookbackMelodyEncoding or KeyMelodyEncoding
        Over notes ``[48, 84)`` with lookback distances (16, 32).

    Raises
    ------
    ParameterError
        Unknown name.
    """
    if name == "basic_rnn":
        return OneHotMelodyEncoding()
    if name == "lookback_rnn":
        return LookbackMelodyEncoding()
    if name == "attention_rnn":
        return KeyMelodyEncoding()
    raise ParameterError(f"name: must be one of {', '.join(PRESET_NAMES)}, got {name!r}")

