"""MusicVAE data converters: NoteSequence <-> model tensors.

Reproduces ``magenta.models.music_vae.data``: ``OneHotMelodyConverter``
(:class:`MelodyConverter`), ``DrumsConverter`` and ``TrioConverter``, with the
presets of ``configs.py`` in :data:`PRESETS`. Each converter is a frozen
dataclass whose fields are its configuration; ``to_tensors(sequence)`` turns
one NoteSequence into a batch of examples and ``from_tensors(samples)`` turns
model output (one-hot arrays or integer classes) back into NoteSequences at
120 qpm, velocity 80.

Encodings (``n_steps`` steps of 16th notes, 16 per 4/4 bar):

* melody: 90 classes, ``0`` NO_EVENT (hold / keep silent), ``1`` NOTE_OFF,
  ``2 + pitch - 21`` note-on for pitches 21-108;
* drums: each step is a set of the 9 drum classes (kick, snare, closed hi-hat,
  open hi-hat, low/mid/high tom, crash, ride); as a one-hot over the 512
  subsets (class ``sum(2**c)``) or as a 9-bit roll, plus a NOR bit ("no
  drums") when the roll is the encoder input;
* trio: melody (programs 0-31), bass (32-39) and drums one-hots concatenated,
  90 + 90 + 512 = 692 columns.

Differences from Magenta, all deliberate:

* randomness (sampling ``max_tensors_per_notesequence`` examples, transposition)
  comes only from the ``rng`` argument; ``rng=None`` is evaluation mode and is
  deterministic: it keeps evenly spaced examples where Magenta kept the first
  ones in ``set`` order;
* duplicates are removed across the whole sequence, not per time-change part;
* training transposition (``transpose_range``) is part of the converter and
  never pushes a note out of ``[min_pitch, max_pitch]``; Magenta's augmenter
  deleted such notes, leaving holes in the melody;
* every call reports why material was rejected (:attr:`ConverterTensors.rejections`);
* ``ignore_time_signatures=True`` (off in every preset) reads music in any
  meter on a 4/4 grid instead of rejecting it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np
from note_seq import DrumTrack, Melody, NoteSequence
from note_seq.drums_encoder_decoder import DEFAULT_DRUM_TYPE_PITCHES

from gensuite.common.arrays import one_hot
from gensuite.common.config import check_fields
from gensuite.common.errors import ParameterError
from gensuite.midi.metrics import degenerate_mask
from gensuite.midi.sequences import (
    BASS_PROGRAMS,
    MEL_PROGRAMS,
    PIANO_MAX_PITCH,
    PIANO_MIN_PITCH,
    UnusableSequenceError,
    augment_transpose,
    check_steps_per_bar,
    extract_drum_tracks,
    extract_melodies,
    filter_notes,
    find_named_tracks,
    format_ranges,
    quantize_sequence,
    rank_tracks_by_pitch,
    replace_time_signatures,
    split_on_time_changes,
)

OUTPUT_VELOCITY = 80
OUTPUT_QPM = 120.0
ELECTRIC_BASS_PROGRAM = 33
MAX_INSTRUMENT_NUMBER = 127
# Melody classes below the first pitch.
NO_EVENT_CLASS = 0
NOTE_OFF_CLASS = 1
N_SPECIAL_CLASSES = 2
# 9 classes: kick, snare, closed hi-hat, open hi-hat, low tom, mid tom,
# high tom, crash, ride; the first pitch of each is what decoding writes.
REDUCED_DRUM_PITCH_CLASSES: tuple[tuple[int, ...], ...] = tuple(
    tuple(p) for p in DEFAULT_DRUM_TYPE_PITCHES)


# --------------------------------------------------------------------------
# Results


# eq=False: comparing arrays with == is ambiguous; compare fields explicitly.
@dataclasses.dataclass(frozen=True, eq=False)
class ConverterTensors:
    """Examples made from one or more NoteSequences, and why others were not.

    Attributes
    ----------
    inputs : numpy.ndarray, bool, shape (n, n_steps, input_depth)
        Encoder inputs. Without slicing, rows are zero-padded to the longest.
    outputs : numpy.ndarray, bool, shape (n, n_steps, output_depth)
        Decoder targets (for melodies the same array as ``inputs``).
    controls : numpy.ndarray, bool, shape (n, n_steps, 0)
        Conditioning; empty for every converter here.
    lengths : numpy.ndarray, int32, shape (n,)
        Unpadded length of each example, in steps.
    rejections : collections.Counter
        Reason -> number of sequences (or time-change parts of one) that gave
        nothing for that reason, e.g. ``{"only drum tracks (no pitched
        notes)": 3}``. Reasons do not name files, so counters from many files
        add up (:func:`combine_tensors`).
    stats : collections.Counter
        Bookkeeping counts: ``sequences``, ``parts``, ``melodies``,
        ``drum_tracks``, ``windows``, ``duplicates``, ``examples``, ...
    """

    inputs: np.ndarray
    outputs: np.ndarray
    controls: np.ndarray
    lengths: np.ndarray
    rejections: Counter = dataclasses.field(default_factory=Counter)
    stats: Counter = dataclasses.field(default_factory=Counter)

    @property
    def n_examples(self) -> int:
        return int(self.lengths.shape[0])

    def __len__(self) -> int:
        return self.n_examples

    @property
    def reason(self) -> str | None:
        """Why there are no examples (one line), or None when there are some."""
        if self.n_examples:
            return None
        return format_rejections(self.rejections) or "no examples"


def format_rejections(rejections: Counter, *, unit: str = "") -> str:
    """One line listing rejection reasons, most frequent first.

    ``Counter({"a": 3, "b": 1})`` -> ``"a (3); b (1)"``, or with
    ``unit="files"`` ``"a (3 files); b (1 files)"``; a reason counted once,
    alone, is written without its count.
    """
    if not rejections:
        return ""
    items = sorted(rejections.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(items) == 1 and items[0][1] == 1:
        return items[0][0]
    suffix = f" {unit}" if unit else ""
    return "; ".join(f"{reason} ({count}{suffix})" for reason, count in items)


def empty_tensors(
    *,
    input_depth: int,
    output_depth: int,
    n_steps: int | None = None,
    rejections: Counter | None = None,
    stats: Counter | None = None,
) -> ConverterTensors:
    """A :class:`ConverterTensors` holding no examples."""
    n_steps = n_steps or 0
    return ConverterTensors(
        inputs=np.zeros((0, n_steps, input_depth), bool),
        outputs=np.zeros((0, n_steps, output_depth), bool),
        controls=np.zeros((0, n_steps, 0), bool),
        lengths=np.zeros((0,), np.int32),
        rejections=Counter(rejections or {}),
        stats=Counter(stats or {}))


def combine_tensors(results: Iterable[ConverterTensors]) -> ConverterTensors:
    """Concatenate the examples of several results and add up their counters.

    Rows of different lengths are zero-padded to the longest.
    """
    results = list(results)
    if not results:
        raise ParameterError("results: need at least one ConverterTensors, got none")
    rejections, stats = Counter(), Counter()
    for r in results:
        rejections.update(r.rejections)
        stats.update(r.stats)
    n_steps = max(r.inputs.shape[1] for r in results)

    def cat(name: str) -> np.ndarray:
        arrays = [getattr(r, name) for r in results]
        padded = [np.pad(a, ((0, 0), (0, n_steps - a.shape[1]), (0, 0))) for a in arrays]
        return np.concatenate(padded, axis=0)

    return ConverterTensors(
        inputs=cat("inputs"), outputs=cat("outputs"), controls=cat("controls"),
        lengths=np.concatenate([r.lengths for r in results]).astype(np.int32),
        rejections=rejections, stats=stats)


# --------------------------------------------------------------------------
# Array helpers


def select_indices(n: int, k: int | None, rng: np.random.Generator | None) -> np.ndarray:
    """Which of ``n`` items to keep when at most ``k`` may be kept.

    All of them when ``k`` is None or ``n <= k``; otherwise ``k`` distinct
    indices, drawn at random from ``rng`` or, without one, evenly spaced over
    the items (deterministic evaluation). Returned sorted.
    """
    if k is None or n <= k:
        return np.arange(n)
    if rng is not None:
        return np.sort(rng.choice(n, size=k, replace=False))
    return np.unique(np.round(np.linspace(0, n - 1, k)).astype(np.int64))


def _pad_rows(rows: Sequence[np.ndarray], fill: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stack 1-D (or (T, k)) integer rows, padding to the longest; also lengths."""
    lengths = np.array([len(r) for r in rows], np.int32)
    if len(set(lengths.tolist())) == 1:
        return np.stack(rows), lengths
    width = int(lengths.max())
    out = np.full((len(rows), width) + rows[0].shape[1:], fill, rows[0].dtype)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out, lengths


def _valid_mask(lengths: np.ndarray, n_steps: int) -> np.ndarray:
    return np.arange(n_steps)[None, :] < lengths[:, None]


def _window(rows: Iterable[np.ndarray], window: int | None, hop: int) -> list[np.ndarray]:
    """Windows of ``window`` steps starting every ``hop`` steps (all of a row if None)."""
    if window is None:
        return list(rows)
    return [row[end - window:end] for row in rows
            for end in range(window, len(row) + 1, hop)]


def _dedupe(rows: list[np.ndarray], stats: Counter) -> list[np.ndarray]:
    unique: dict[tuple, np.ndarray] = {}
    for row in rows:
        unique.setdefault((row.shape, row.tobytes()), row)
    if len(rows) > len(unique):
        stats["duplicates"] += len(rows) - len(unique)
    return list(unique.values())


def _check_rng(rng) -> np.random.Generator | None:
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ParameterError(
            f"rng: must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


def _class_rows(samples, *, depth: int, what: str) -> list[np.ndarray]:
    """Model samples -> integer class rows, shape (T,).

    ``samples`` is a batch: an array (n, T, depth) of one-hot vectors or
    probabilities (argmax is taken), an integer array (n, T) of classes, or a
    list of per-sample arrays of either kind, (T, depth) or (T,).
    """
    if isinstance(samples, np.ndarray) and samples.ndim < 2:
        raise ParameterError(
            f"samples: expected a batch, (n, T, {depth}) one-hot or (n, T) "
            f"integer classes, got shape {samples.shape}")
    rows = []
    for i, item in enumerate(samples):
        a = np.asarray(item)
        if a.ndim == 1 and np.issubdtype(a.dtype, np.integer):
            rows.append(a.astype(np.int64))
        elif a.ndim == 2 and a.shape[-1] == depth:
            rows.append(np.argmax(a, axis=-1))
        else:
            raise ParameterError(
                f"samples[{i}]: expected {what} as one-hot (T, {depth}) or integer "
                f"classes (T,), got {a.dtype} array of shape {a.shape}")
    return rows


# --------------------------------------------------------------------------
# Shared converter machinery


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Converter:
    steps_per_quarter: int = 4
    quarters_per_bar: int = 4
    max_tensors_per_notesequence: int | None = 5
    presplit_on_time_changes: bool = True
    # Not in Magenta, off in every preset: read any meter as 4/4 (or as
    # quarters_per_bar/4) instead of rejecting bars of the wrong length.
    ignore_time_signatures: bool = False

    def __post_init__(self):
        _require_int("steps_per_quarter", self.steps_per_quarter, minimum=1)
        _require_int("quarters_per_bar", self.quarters_per_bar, minimum=1)
        if self.max_tensors_per_notesequence is not None:
            _require_int("max_tensors_per_notesequence",
                         self.max_tensors_per_notesequence, minimum=1)

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_quarter * self.quarters_per_bar

    @property
    def control_depth(self) -> int:
        return 0

    def _parts(self, sequence: NoteSequence, stats: Counter) -> list[NoteSequence]:
        if self.ignore_time_signatures:
            sequence = replace_time_signatures(
                sequence, numerator=self.quarters_per_bar, denominator=4)
        parts = (split_on_time_changes(sequence) if self.presplit_on_time_changes
                 else [sequence])
        kept = [p for p in parts if p.notes]
        stats["parts"] += len(kept)
        if len(parts) > len(kept):
            stats["empty_parts"] += len(parts) - len(kept)
        return kept

    def _quantize(self, part: NoteSequence) -> NoteSequence:
        quantized = quantize_sequence(part, steps_per_quarter=self.steps_per_quarter)
        check_steps_per_bar(quantized, self.steps_per_bar)
        return quantized

    def _empty(self, rejections: Counter, stats: Counter) -> ConverterTensors:
        return empty_tensors(
            input_depth=self.input_depth, output_depth=self.output_depth,
            n_steps=self.n_steps, rejections=rejections, stats=stats)

    # Each converter supplies three steps; to_tensors runs them and shares
    # the rest: splitting into parts, quantizing, dedupe, selection, packing.

    def prepare(self, sequence: NoteSequence, rng: np.random.Generator | None) -> NoteSequence:
        """The notes this converter reads (raises UnusableSequenceError when none)."""
        return self.usable_notes(sequence)

    def part_windows(self, quantized: NoteSequence, stats: Counter) -> list[np.ndarray]:
        """Class windows of one quantized part (raises UnusableSequenceError when none)."""
        raise NotImplementedError

    def encode_windows(self, classes: np.ndarray, lengths: np.ndarray):
        """Padded class windows (n, T, ...) and their lengths -> (inputs, outputs)."""
        raise NotImplementedError

    def to_tensors(
        self,
        sequence: NoteSequence,
        *,
        rng: np.random.Generator | None = None,
    ) -> ConverterTensors:
        """Examples from one unquantized NoteSequence.

        Parameters
        ----------
        sequence : NoteSequence
            Unquantized, as read from MIDI.
        rng : numpy.random.Generator, optional
            Training mode: melodies are transposed by ``transpose_range`` and
            at most ``max_tensors_per_notesequence`` examples are sampled at
            random. Without it the result is deterministic.

        Returns
        -------
        ConverterTensors
            ``inputs`` (n, n_steps, input_depth) and ``outputs`` (n, n_steps,
            output_depth); when n is 0, ``reason`` says why.
        """
        rng = _check_rng(rng)
        rejections, stats = Counter(), Counter(sequences=1)
        try:
            usable = self.prepare(sequence, rng)
        except UnusableSequenceError as exc:
            rejections[exc.reason] += 1
            return self._empty(rejections, stats)
        windows: list[np.ndarray] = []
        for part in self._parts(usable, stats):
            try:
                windows.extend(self.part_windows(self._quantize(part), stats))
            except UnusableSequenceError as exc:
                rejections[exc.reason] += 1
        if self.dedupe:
            windows = _dedupe(windows, stats)
        windows = [windows[i] for i in select_indices(
            len(windows), self.max_tensors_per_notesequence, rng)]
        stats["examples"] += len(windows)
        if not windows:
            return self._empty(rejections, stats)
        classes, lengths = _pad_rows(windows)
        inputs, outputs = self.encode_windows(classes, lengths)
        return ConverterTensors(
            inputs=inputs, outputs=outputs,
            controls=np.zeros(inputs.shape[:2] + (0,), bool),
            lengths=lengths, rejections=rejections, stats=stats)


def _require_int(name: str, value, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name}: must be an integer >= {minimum}, got {value!r}")


def _optional_bars(name: str, value) -> None:
    if value is not None:
        _require_int(name, value, minimum=1)


def _gap_steps(gap_bars: float | None) -> float:
    # Magenta: a gap of 0 or None bars disables splitting on silence.
    return gap_bars if gap_bars else math.inf


# --------------------------------------------------------------------------
# Melody


def melody_degenerate_mask(classes: np.ndarray, *, bars: int) -> np.ndarray:
    """Which melody windows :func:`gensuite.midi.metrics.is_degenerate` calls degenerate.

    Parameters
    ----------
    classes : np.ndarray, shape (n, n_steps), int
        Melody classes (``NO_EVENT_CLASS``, ``NOTE_OFF_CLASS``, then pitches;
        -1 past the end).
    bars : int
        Bars per window.

    Returns
    -------
    np.ndarray, shape (n,), bool
    """
    classes = np.asarray(classes)
    onsets = classes >= N_SPECIAL_CLASSES
    highest = np.where(onsets, classes, -1).max(axis=1)
    lowest = np.where(onsets, classes, np.iinfo(np.int32).max).min(axis=1)
    pitch_range = np.where(onsets.any(axis=1), highest - lowest, np.nan)
    return degenerate_mask(onsets.sum(axis=1), pitch_range, bars=bars)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MelodyConverter(_Converter):
    """Monophonic melodies as 90-class one-hots (Magenta ``OneHotMelodyConverter``).

    Per time-change part: quantize to 4 steps per quarter, reject meters whose
    bar is not ``steps_per_bar`` steps, extract melodies per instrument
    (:func:`gensuite.midi.sequences.extract_melodies` with ``min_bars=1``,
    ``pad_end=True``, ``gap_bars``, highest note kept under polyphony unless
    ``skip_polyphony``), truncate to ``max_bars``, cut ``slice_bars`` windows
    with a hop of one bar, dedupe, and keep at most
    ``max_tensors_per_notesequence``.

    Attributes
    ----------
    min_pitch, max_pitch : int
        Inclusive modelled range; other notes are dropped before extraction.
    valid_programs : tuple of int, optional
        MIDI programs kept (any iterable is accepted); None keeps all.
        Drum notes are always dropped.
    track_names : tuple of str, optional
        (Not in Magenta.) Keep only tracks with one of these names, ignoring
        case, e.g. ``("soprano",)`` for the top line of the chorales.
    top_track : bool
        (Not in Magenta.) Keep only the track with the highest mean pitch
        (after the name and program filters): a score's melody line, e.g. a
        chorale's soprano, a quartet's violin I, a madrigal's cantus.
    skip_polyphony : bool
        Skip tracks where notes start together instead of keeping the highest.
    max_bars : int, optional
        Truncate each extracted melody to this many bars before slicing.
    slice_bars : int, optional
        Window length in bars; None keeps whole melodies (variable length).
    gap_bars : float, optional
        A melody ends after this many bars of silence; 0 or None disables.
    dedupe : bool
        Keep one copy of identical windows.
    transpose_range : (int, int), optional
        Training only (``rng`` given): transpose the whole sequence by a
        uniform random number of semitones in this inclusive range, narrowed
        so that no kept note leaves ``[min_pitch, max_pitch]``.
    max_tensors_per_notesequence : int, optional
        At most this many examples per sequence (None: all).
    presplit_on_time_changes : bool
        Convert each tempo / meter section separately; else a sequence with
        changes is rejected.
    ignore_time_signatures : bool
        (Every converter; not in Magenta.) Re-grid any meter as
        ``quarters_per_bar``/4 instead of rejecting bars that are not
        ``steps_per_bar`` long, e.g. a 4/2 bar becomes two 16-step bars.
    """

    min_pitch: int = PIANO_MIN_PITCH
    max_pitch: int = PIANO_MAX_PITCH
    valid_programs: tuple[int, ...] | None = None
    track_names: tuple[str, ...] | None = None
    top_track: bool = False
    skip_polyphony: bool = False
    max_bars: int | None = None
    slice_bars: int | None = None
    gap_bars: float | None = 1.0
    dedupe: bool = True
    transpose_range: tuple[int, int] | None = None

    def __post_init__(self):
        super().__post_init__()
        if not 0 <= self.min_pitch <= self.max_pitch <= 127:
            raise ParameterError(
                "min_pitch, max_pitch: need 0 <= min_pitch <= max_pitch <= 127, "
                f"got {self.min_pitch}, {self.max_pitch}")
        if self.valid_programs is not None:
            object.__setattr__(self, "valid_programs",
                               tuple(sorted({int(p) for p in self.valid_programs})))
        if self.track_names is not None:
            object.__setattr__(self, "track_names", tuple(self.track_names))
        _optional_bars("max_bars", self.max_bars)
        _optional_bars("slice_bars", self.slice_bars)
        if self.gap_bars is not None and self.gap_bars < 0:
            raise ParameterError(f"gap_bars: must be >= 0 or None, got {self.gap_bars}")
        if self.transpose_range is not None:
            low, high = (int(v) for v in self.transpose_range)
            if low > high:
                raise ParameterError(
                    f"transpose_range: low must be <= high, got {self.transpose_range}")
            object.__setattr__(self, "transpose_range", (low, high))

    @property
    def input_depth(self) -> int:
        return self.max_pitch - self.min_pitch + 1 + N_SPECIAL_CLASSES

    @property
    def output_depth(self) -> int:
        return self.input_depth

    @property
    def n_steps(self) -> int | None:
        """Steps per example, or None when whole melodies are kept."""
        return self.slice_bars * self.steps_per_bar if self.slice_bars else None

    # -- encoding -----------------------------------------------------------

    def encode_melody(self, melody: Iterable[int]) -> np.ndarray:
        """Melody events (-2 NO_EVENT, -1 NOTE_OFF, pitch) -> classes, int16 (T,)."""
        events = np.fromiter(melody, dtype=np.int16)
        pitches = events >= 0
        if np.any(pitches & ((events < self.min_pitch) | (events > self.max_pitch))):
            raise ParameterError(
                f"melody: pitches must lie in {self.min_pitch}-{self.max_pitch}, "
                f"got {sorted(set(events[pitches].tolist()))}")
        return np.where(pitches, events - self.min_pitch + N_SPECIAL_CLASSES,
                        events + N_SPECIAL_CLASSES).astype(np.int16)

    def decode_classes(self, classes: np.ndarray) -> list[int]:
        """Classes (T,) -> melody events (-2 NO_EVENT, -1 NOTE_OFF, pitch)."""
        classes = np.asarray(classes, np.int64)
        if classes.size and (classes.min() < 0 or classes.max() >= self.output_depth):
            raise ParameterError(
                f"samples: melody classes must lie in 0-{self.output_depth - 1}, "
                f"got {int(classes.min())}..{int(classes.max())}")
        events = np.where(classes >= N_SPECIAL_CLASSES,
                          classes - N_SPECIAL_CLASSES + self.min_pitch,
                          classes - N_SPECIAL_CLASSES)
        return events.tolist()

    # -- NoteSequence -> tensors ---------------------------------------------

    def usable_notes(self, sequence: NoteSequence) -> NoteSequence:
        """The pitched notes the converter models (programs, pitch range).

        Raises
        ------
        UnusableSequenceError
            When none are left, saying which filter removed them.
        """
        if not sequence.notes:
            raise UnusableSequenceError("no notes")
        pitched = [n for n in sequence.notes if not n.is_drum]
        if not pitched:
            raise UnusableSequenceError("only drum tracks (no pitched notes)")
        tracks = None
        if self.track_names is not None:
            tracks = find_named_tracks(sequence, self.track_names)
            pitched = [n for n in pitched if n.instrument in tracks]
            if not pitched:
                raise UnusableSequenceError(
                    f"no track named {' or '.join(self.track_names)}")
        if self.valid_programs is not None:
            allowed = frozenset(self.valid_programs)
            pitched = [n for n in pitched if n.program in allowed]
            if not pitched:
                raise UnusableSequenceError(
                    f"no pitched notes in programs {format_ranges(self.valid_programs)}")
        if self.top_track:
            top = rank_tracks_by_pitch(pitched)[0][0]
            pitched = [n for n in pitched if n.instrument == top]
            tracks = {top}
        if not any(self.min_pitch <= n.pitch <= self.max_pitch for n in pitched):
            raise UnusableSequenceError(
                f"no pitched notes in pitch range {self.min_pitch}-{self.max_pitch}")
        return filter_notes(sequence, programs=self.valid_programs, instruments=tracks,
                            min_pitch=self.min_pitch, max_pitch=self.max_pitch,
                            keep_drums=False)

    def melody_classes(self, quantized: NoteSequence, stats: Counter) -> list[np.ndarray]:
        """Class rows of every melody in a quantized, filtered part (before slicing)."""
        melodies, extract_stats = extract_melodies(
            quantized, min_bars=1, gap_bars=_gap_steps(self.gap_bars),
            max_steps_truncate=self.max_bars * self.steps_per_bar if self.max_bars else None,
            min_unique_pitches=1, ignore_polyphonic_notes=not self.skip_polyphony,
            pad_end=True)
        stats.update(extract_stats)
        if not melodies:
            if extract_stats["polyphonic_tracks_discarded"]:
                raise UnusableSequenceError(
                    "polyphonic tracks skipped (skip_polyphony=True)")
            raise UnusableSequenceError("no melody found")
        return [self.encode_melody(m) for m in melodies]

    def prepare(self, sequence: NoteSequence, rng: np.random.Generator | None) -> NoteSequence:
        usable = self.usable_notes(sequence)
        if rng is not None and self.transpose_range is not None:
            usable, _ = augment_transpose(
                usable, rng=rng, transpose_range=self.transpose_range,
                min_pitch=self.min_pitch, max_pitch=self.max_pitch)
        return usable

    def part_windows(self, quantized: NoteSequence, stats: Counter) -> list[np.ndarray]:
        windows = _window(self.melody_classes(quantized, stats), self.n_steps,
                          self.steps_per_bar)
        if not windows:
            raise UnusableSequenceError(f"melodies shorter than {self.slice_bars} bars")
        stats["windows"] += len(windows)
        return windows

    def encode_windows(self, classes: np.ndarray, lengths: np.ndarray):
        encoded = one_hot(classes, self.output_depth) & _valid_mask(
            lengths, classes.shape[1])[..., None]
        return encoded, encoded

    # -- tensors -> NoteSequence ---------------------------------------------

    def from_tensors(self, samples) -> list[NoteSequence]:
        """NoteSequences from model samples, 120 qpm, velocity 80, program 0.

        Parameters
        ----------
        samples : array or list of arrays
            (n, T, 90) one-hot vectors or probabilities (argmax taken), or
            (n, T) integer classes, or a list mixing per-sample (T, 90) and
            (T,) arrays.
        """
        return [self.melody_to_sequence(self.decode_classes(row))
                for row in _class_rows(samples, depth=self.output_depth, what="a melody")]

    def melody_to_sequence(self, events: Sequence[int], *, program: int = 0,
                           instrument: int = 0) -> NoteSequence:
        """Melody events -> NoteSequence at 120 qpm, velocity 80."""
        melody = Melody(list(events), steps_per_bar=self.steps_per_bar,
                        steps_per_quarter=self.steps_per_quarter)
        return melody.to_sequence(velocity=OUTPUT_VELOCITY, instrument=instrument,
                                  program=program, qpm=OUTPUT_QPM)


# --------------------------------------------------------------------------
# Drums


@dataclasses.dataclass(frozen=True, kw_only=True)
class DrumsConverter(_Converter):
    """Drum tracks as rolls or one-hots over drum-class subsets (Magenta ``DrumsConverter``).

    Drum notes (``is_drum``) of every instrument are mapped to ``pitch_classes``
    (unknown pitches dropped), grouped per step, split after ``gap_bars`` bars
    without a hit, truncated to ``max_bars``, sliced with a hop of one bar,
    deduplicated and sampled.

    Attributes
    ----------
    pitch_classes : tuple of tuple of int
        Drum classes; decoding writes each class's first pitch. Default: the 9
        reduced classes.
    roll_input : bool
        Encoder input is the class roll plus a NOR ("no drums") bit,
        ``len(pitch_classes) + 1`` columns; else the one-hot over subsets.
    roll_output : bool
        Decoder target is the roll; else the one-hot over ``2**len(pitch_classes)``
        subsets, class ``sum(2**c for c in hit classes)``.
    """

    max_bars: int | None = None
    slice_bars: int | None = None
    gap_bars: float | None = 1.0
    pitch_classes: tuple[tuple[int, ...], ...] = REDUCED_DRUM_PITCH_CLASSES
    roll_input: bool = False
    roll_output: bool = False
    dedupe: bool = True

    def __post_init__(self):
        super().__post_init__()
        classes = tuple(tuple(int(p) for p in c) for c in self.pitch_classes)
        if not classes or any(not c for c in classes):
            raise ParameterError("pitch_classes: need at least one non-empty class")
        if len(classes) > 16:
            raise ParameterError(
                f"pitch_classes: at most 16 classes (2**n one-hot), got {len(classes)}")
        object.__setattr__(self, "pitch_classes", classes)
        _optional_bars("max_bars", self.max_bars)
        _optional_bars("slice_bars", self.slice_bars)
        if self.gap_bars is not None and self.gap_bars < 0:
            raise ParameterError(f"gap_bars: must be >= 0 or None, got {self.gap_bars}")

    @property
    def n_classes(self) -> int:
        return len(self.pitch_classes)

    @property
    def n_subsets(self) -> int:
        return 2 ** self.n_classes

    @property
    def input_depth(self) -> int:
        return self.n_classes + 1 if self.roll_input else self.n_subsets

    @property
    def output_depth(self) -> int:
        return self.n_classes if self.roll_output else self.n_subsets

    @property
    def n_steps(self) -> int | None:
        return self.slice_bars * self.steps_per_bar if self.slice_bars else None

    @cached_property
    def pitch_to_class(self) -> dict[int, int]:
        mapping: dict[int, int] = {}
        for c, pitches in enumerate(self.pitch_classes):
            for p in pitches:
                mapping.setdefault(p, c)
        return mapping

    # -- encoding -----------------------------------------------------------

    def encode_track(self, track: Iterable[frozenset]) -> np.ndarray:
        """Drum events (sets of class indices) -> subset classes, int32 (T,)."""
        return np.fromiter((sum(1 << c for c in event) for event in track),
                           dtype=np.int32)

    def subsets_to_roll(self, subsets: np.ndarray) -> np.ndarray:
        """Subset classes (..., T) -> roll (..., T, n_classes), bool."""
        return ((np.asarray(subsets)[..., None] >> np.arange(self.n_classes)) & 1).astype(bool)

    def encode_inputs_outputs(self, subsets: np.ndarray, lengths: np.ndarray):
        """Subset classes (n, T) -> (inputs, outputs) per ``roll_input`` / ``roll_output``."""
        valid = _valid_mask(lengths, subsets.shape[1])[..., None]
        roll = self.subsets_to_roll(subsets) & valid
        hot = one_hot(subsets, self.n_subsets) & valid
        if self.roll_input:
            nor = ~roll.any(axis=-1, keepdims=True) & valid
            inputs = np.concatenate([roll, nor], axis=-1)
        else:
            inputs = hot
        outputs = roll if self.roll_output else hot
        return inputs, outputs

    def usable_notes(self, sequence: NoteSequence) -> NoteSequence:
        """Drum notes in ``pitch_classes``, their pitch replaced by the class index.

        Raises
        ------
        UnusableSequenceError
            When there are no drum notes, or none in a known class.
        """
        if not sequence.notes:
            raise UnusableSequenceError("no notes")
        drums = [n for n in sequence.notes if n.is_drum]
        if not drums:
            raise UnusableSequenceError("no drum tracks")
        mapping = self.pitch_to_class
        if not any(n.pitch in mapping for n in drums):
            raise UnusableSequenceError(
                f"no drum notes in the {self.n_classes} drum classes")
        out = NoteSequence()
        out.CopyFrom(sequence)
        del out.notes[:]
        for n in drums:
            if n.pitch in mapping:
                out.notes.append(n)
                out.notes[-1].pitch = mapping[n.pitch]
        return out

    def part_windows(self, quantized: NoteSequence, stats: Counter) -> list[np.ndarray]:
        tracks, extract_stats = extract_drum_tracks(
            quantized, min_bars=1, gap_bars=_gap_steps(self.gap_bars),
            max_steps_truncate=(self.max_bars * self.steps_per_bar if self.max_bars else None),
            pad_end=True)
        stats.update(extract_stats)
        windows = _window([self.encode_track(t) for t in tracks], self.n_steps,
                          self.steps_per_bar)
        if not windows:
            raise UnusableSequenceError(f"drum tracks shorter than {self.slice_bars} bars")
        stats["windows"] += len(windows)
        return windows

    def encode_windows(self, classes: np.ndarray, lengths: np.ndarray):
        return self.encode_inputs_outputs(classes, lengths)

    # -- tensors -> NoteSequence ---------------------------------------------

    def sample_subsets(self, samples) -> list[np.ndarray]:
        """Model samples -> subset classes per sample (T,).

        Accepts (n, T, 2**k) one-hots or probabilities (argmax), (n, T, k)
        rolls (a class is hit where its value exceeds 0.5; only when
        ``roll_output``), (n, T) integer subset classes, or a list of
        per-sample arrays of those kinds.
        """
        if self.roll_output:
            items = list(samples)
            rows = []
            for i, item in enumerate(items):
                a = np.asarray(item)
                if a.ndim == 2 and a.shape[-1] == self.n_classes:
                    rows.append(((a > 0.5) * (1 << np.arange(self.n_classes))).sum(-1))
                else:
                    rows.extend(_class_rows([a], depth=self.n_subsets, what="a drum track"))
        else:
            rows = _class_rows(samples, depth=self.n_subsets, what="a drum track")
        for row in rows:
            if row.size and (row.min() < 0 or row.max() >= self.n_subsets):
                raise ParameterError(
                    f"samples: drum classes must lie in 0-{self.n_subsets - 1}, "
                    f"got {int(row.min())}..{int(row.max())}")
        return rows

    def from_tensors(self, samples) -> list[NoteSequence]:
        """NoteSequences (drums, instrument 9) at 120 qpm, velocity 80.

        Each class is written as its first pitch (36 kick, 38 snare, 42
        closed hi-hat, ...). See :meth:`sample_subsets` for accepted shapes.
        """
        return [self.subsets_to_sequence(row) for row in self.sample_subsets(samples)]

    def subsets_to_sequence(self, subsets: np.ndarray) -> NoteSequence:
        """Subset classes (T,) -> drum NoteSequence at 120 qpm, velocity 80."""
        exemplars = [c[0] for c in self.pitch_classes]
        events = [frozenset(exemplars[c] for c in range(self.n_classes) if (s >> c) & 1)
                  for s in np.asarray(subsets).tolist()]
        track = DrumTrack(events, steps_per_bar=self.steps_per_bar,
                          steps_per_quarter=self.steps_per_quarter)
        return track.to_sequence(velocity=OUTPUT_VELOCITY, qpm=OUTPUT_QPM)


# --------------------------------------------------------------------------
# Trio

_MEL, _BASS, _DRUMS, _INVALID = "melody", "bass", "drums", "invalid"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrioConverter(_Converter):
    """Melody + bass + drums, concatenated one-hots (Magenta ``TrioConverter``).

    Instruments are typed by program (melody 0-31, bass 32-39) or ``is_drum``;
    an instrument mixing types is ignored. Each instrument is encoded over the
    whole part (no gap splitting), bars where it plays are marked, gaps of up
    to ``gap_bars`` bars are filled, and every ``slice_bars`` window where one
    melody, one bass and one drum instrument all play becomes an example (all
    combinations of instruments are tried). At most ``max_bars`` bars of a part
    are used.

    Output columns: melody 0-89, bass 90-179, drums 180-691
    (:attr:`split_output_depths`).
    """

    slice_bars: int = 16
    gap_bars: int = 2
    max_bars: int = 1024
    dedupe: bool = False

    def __post_init__(self):
        super().__post_init__()
        _require_int("slice_bars", self.slice_bars, minimum=1)
        _require_int("gap_bars", self.gap_bars, minimum=0)
        _require_int("max_bars", self.max_bars, minimum=1)

    @cached_property
    def melody_converter(self) -> MelodyConverter:
        return MelodyConverter(steps_per_quarter=self.steps_per_quarter,
                               quarters_per_bar=self.quarters_per_bar,
                               gap_bars=None, presplit_on_time_changes=False,
                               max_tensors_per_notesequence=None)

    @cached_property
    def drums_converter(self) -> DrumsConverter:
        return DrumsConverter(steps_per_quarter=self.steps_per_quarter,
                              quarters_per_bar=self.quarters_per_bar,
                              gap_bars=None, presplit_on_time_changes=False,
                              max_tensors_per_notesequence=None)

    @property
    def split_output_depths(self) -> tuple[int, int, int]:
        """Columns of (melody, bass, drums) in the concatenated one-hot."""
        mel = self.melody_converter.output_depth
        return mel, mel, self.drums_converter.output_depth

    @property
    def input_depth(self) -> int:
        return sum(self.split_output_depths)

    @property
    def output_depth(self) -> int:
        return self.input_depth

    @property
    def n_steps(self) -> int:
        return self.slice_bars * self.steps_per_bar

    # -- NoteSequence -> tensors ---------------------------------------------

    def instrument_types(self, quantized: NoteSequence) -> dict[int, str]:
        """Instrument -> melody / bass / drums / invalid (mixed or other programs)."""
        types: dict[int, str] = {}
        for n in quantized.notes:
            if n.instrument > MAX_INSTRUMENT_NUMBER:
                continue
            if n.is_drum:
                kind = _DRUMS
            elif n.program in MEL_PROGRAMS:
                kind = _MEL
            elif n.program in BASS_PROGRAMS:
                kind = _BASS
            else:
                kind = _INVALID
            if types.setdefault(n.instrument, kind) != kind:
                types[n.instrument] = _INVALID
        return types

    def _pitched_classes(self, pitched: NoteSequence, instrument: int,
                         total_steps: int) -> np.ndarray | None:
        melody = Melody()
        melody.from_quantized_sequence(
            pitched, instrument=instrument, gap_bars=math.inf,
            ignore_polyphonic_notes=True, pad_end=True)
        if not melody:
            return None
        melody.set_length(len(melody) + melody.start_step, from_left=True)
        melody.set_length(total_steps)
        return self.melody_converter.encode_melody(melody)

    def _drum_classes(self, quantized: NoteSequence, instrument: int,
                      total_steps: int) -> np.ndarray | None:
        mapping = self.drums_converter.pitch_to_class
        track_seq = NoteSequence()
        track_seq.CopyFrom(quantized)
        del track_seq.notes[:]
        for n in quantized.notes:
            if n.instrument == instrument and n.is_drum and n.pitch in mapping:
                track_seq.notes.append(n)
                track_seq.notes[-1].pitch = mapping[n.pitch]
        track = DrumTrack()
        track.from_quantized_sequence(track_seq, gap_bars=math.inf, pad_end=True)
        if not track:
            return None
        track.set_length(len(track) + track.start_step, from_left=True)
        track.set_length(total_steps)
        return self.drums_converter.encode_track(track)

    def part_windows(self, quantized: NoteSequence, stats: Counter) -> list[np.ndarray]:
        """(n_steps, 3) class windows (melody, bass, drums) of one quantized part."""
        spb = self.steps_per_bar
        total_bars = min(math.ceil(quantized.total_quantized_steps / spb), self.max_bars)
        types = self.instrument_types(quantized)
        by_type = {kind: sorted(i for i, t in types.items() if t == kind)
                   for kind in (_MEL, _BASS, _DRUMS)}
        missing = [label for kind, label in (
            (_MEL, f"melody (programs {format_ranges(MEL_PROGRAMS)})"),
            (_BASS, f"bass (programs {format_ranges(BASS_PROGRAMS)})"),
            (_DRUMS, "drums")) if not by_type[kind]]
        if missing:
            raise UnusableSequenceError("no " + " and no ".join(missing))

        coverage = np.zeros((total_bars, MAX_INSTRUMENT_NUMBER + 1), bool)
        for n in quantized.notes:
            start_bar = n.quantized_start_step // spb
            if n.instrument > MAX_INSTRUMENT_NUMBER or start_bar >= total_bars:
                continue
            end_bar = min(math.ceil(n.quantized_end_step / spb), total_bars)
            coverage[start_bar:end_bar, n.instrument] = True

        total_steps = total_bars * spb
        mel = self.melody_converter
        pitched = filter_notes(quantized, min_pitch=mel.min_pitch,
                               max_pitch=mel.max_pitch, keep_drums=False)
        encoded: dict[int, np.ndarray] = {}
        for i in by_type[_MEL] + by_type[_BASS]:
            classes = self._pitched_classes(pitched, i, total_steps)
            if classes is None:
                coverage[:, i] = False
            else:
                encoded[i] = classes
        for i in by_type[_DRUMS]:
            classes = self._drum_classes(quantized, i, total_steps)
            if classes is None:
                coverage[:, i] = False
            else:
                encoded[i] = classes

        # An instrument counts as playing through gaps of up to gap_bars bars.
        g = self.gap_bars
        filled = coverage.copy()
        for j in range(total_bars):
            filled[j] = coverage[max(0, j - g):min(total_bars, j + g) + 1].any(axis=0)

        windows = []
        for group in itertools.product(by_type[_MEL], by_type[_BASS], by_type[_DRUMS]):
            if not all(i in encoded for i in group):
                continue
            group = list(group)
            playing = filled[:, group].all(axis=1)
            if g:
                # Near the ends one playing instrument is enough, so that
                # re-encoding a slice keeps it (Magenta's leniency).
                playing[:g] = filled[:g, group].any()
                playing[-g:] = filled[-g:, group].any()
            stacked = np.stack([encoded[i] for i in group], axis=1)
            for j in range(total_bars - self.slice_bars + 1):
                if playing[j:j + self.slice_bars].all():
                    windows.append(stacked[j * spb:(j + self.slice_bars) * spb])
        stats["windows"] += len(windows)
        if not windows:
            raise UnusableSequenceError(
                f"no {self.slice_bars}-bar window where melody, bass and drums all play")
        return windows

    def usable_notes(self, sequence: NoteSequence) -> NoteSequence:
        if not sequence.notes:
            raise UnusableSequenceError("no notes")
        return sequence

    def encode_windows(self, classes: np.ndarray, lengths: np.ndarray):
        encoded = self.classes_to_one_hot(classes)
        return encoded, encoded

    def classes_to_one_hot(self, classes: np.ndarray) -> np.ndarray:
        """(..., T, 3) classes -> (..., T, 692) concatenated one-hots."""
        return one_hot(classes, self.split_output_depths)

    # -- tensors -> NoteSequence ---------------------------------------------

    def sample_classes(self, samples) -> list[np.ndarray]:
        """Model samples -> (T, 3) classes: (n, T, 692) one-hots / probabilities
        (argmax per part), (n, T, 3) integer classes, or a list of per-sample arrays."""
        bounds = np.cumsum((0,) + self.split_output_depths)
        items = list(samples)
        rows = []
        for i, item in enumerate(items):
            a = np.asarray(item)
            if np.issubdtype(a.dtype, np.integer) and a.ndim == 2 and a.shape[-1] == 3:
                classes = a.astype(np.int64)
            elif a.ndim == 2 and a.shape[-1] == self.output_depth:
                classes = np.stack([np.argmax(a[:, lo:hi], axis=-1)
                                    for lo, hi in zip(bounds[:-1], bounds[1:])], axis=1)
            else:
                raise ParameterError(
                    f"samples[{i}]: expected a trio as one-hot (T, {self.output_depth}) "
                    f"or integer classes (T, 3), got {a.dtype} array of shape {a.shape}")
            rows.append(classes)
        return rows

    def from_tensors(self, samples) -> list[NoteSequence]:
        """NoteSequences: melody (instrument 0, program 0), bass (instrument 1,
        program 33), drums (instrument 9), 120 qpm, velocity 80."""
        mel, drums = self.melody_converter, self.drums_converter
        out = []
        for classes in self.sample_classes(samples):
            if classes.size and (classes[:, 2].min() < 0
                                 or classes[:, 2].max() >= drums.n_subsets):
                raise ParameterError(
                    f"samples: drum classes must lie in 0-{drums.n_subsets - 1}")
            seq = mel.melody_to_sequence(mel.decode_classes(classes[:, 0]))
            bass = mel.melody_to_sequence(mel.decode_classes(classes[:, 1]),
                                          program=ELECTRIC_BASS_PROGRAM, instrument=1)
            beat = drums.subsets_to_sequence(classes[:, 2])
            seq.notes.extend(bass.notes)
            seq.notes.extend(beat.notes)
            seq.total_time = max(seq.total_time, bass.total_time, beat.total_time)
            out.append(seq)
        return out


# --------------------------------------------------------------------------
# Presets (Magenta configs.py)

Converter = MelodyConverter | DrumsConverter | TrioConverter

PRESETS: dict[str, Converter] = {
    # cat-mel_2bar_small / _big: note_sequence_augmenter transpose_range (-5, 5).
    "mel_2bar": MelodyConverter(valid_programs=MEL_PROGRAMS, skip_polyphony=False,
                                max_bars=100, slice_bars=2, transpose_range=(-5, 5)),
    # hierdec-mel_16bar: no program filter in Magenta's config.
    "mel_16bar": MelodyConverter(skip_polyphony=False, max_bars=100, slice_bars=16),
    # cat-drums_2bar_small
    "drums_2bar": DrumsConverter(max_bars=100, slice_bars=2, roll_input=True),
    # hierdec-trio_16bar
    "trio_16bar": TrioConverter(slice_bars=16, gap_bars=2),
}


def get_converter(name: str) -> Converter:
    """The preset converter called ``name`` (see :data:`PRESETS`)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ParameterError(
            f"converter: must be one of {', '.join(sorted(PRESETS))}, got {name!r}") from None


# --------------------------------------------------------------------------
# Converter options


@dataclasses.dataclass(frozen=True)
class ConverterOptions:
    """How a training run bent its converter preset; saved with the checkpoint.

    Attributes
    ----------
    any_meter : bool
        Read every meter on 16-step (4/4) bars (converter
        ``ignore_time_signatures=True``) instead of rejecting non-4/4 music.
        Needed for folk collections: most Essen tunes are in 2/4, 3/4 or 6/8.
    any_program : bool
        Melody converters: accept every MIDI program, not only 0-31 (piano to
        guitar). Corpus exports use voice programs (52, 53).
    track_names : tuple of str
        Melody converters: use only tracks with these names (ignoring case),
        e.g. ``("soprano",)``; empty uses every track.
    top_track : bool
        Melody converters: use only each file's highest track (mean pitch).
    """

    any_meter: bool = False
    any_program: bool = False
    track_names: tuple[str, ...] = ()
    top_track: bool = False

    def to_dict(self) -> dict:
        """JSON-ready (lists, not tuples, so a saved copy compares equal)."""
        return dataclasses.asdict(self) | {"track_names": list(self.track_names)}

    @classmethod
    def from_dict(cls, data: dict | None) -> ConverterOptions:
        """Inverse of :meth:`to_dict`; None (a run saved before options existed) is the defaults.

        Raises
        ------
        ParameterError
            ``data`` is not an object, names an unknown option, or holds one of
            the wrong type (``"track_names": 5``, ``"any_meter": "yes"``).
        """
        return cls(**check_fields(cls, {} if data is None else data))


def build_converter(name: str, options: ConverterOptions = ConverterOptions()):
    """The converter preset ``name`` with ``options`` applied.

    Raises
    ------
    ParameterError
        If ``any_program`` is asked of a converter whose programs mean roles
        (drums, trio).
    """
    converter = get_converter(name)
    changes = {}
    if options.any_meter:
        changes["ignore_time_signatures"] = True
    if options.any_program:
        if not isinstance(converter, MelodyConverter):
            raise ParameterError(
                f"--any-program: only melody converters filter programs, not {name!r}")
        changes["valid_programs"] = None
    if options.track_names:
        if not isinstance(converter, MelodyConverter):
            raise ParameterError(
                f"--track-name: only melody converters select tracks by name, not {name!r}")
        changes["track_names"] = options.track_names
    if options.top_track:
        if not isinstance(converter, MelodyConverter):
            raise ParameterError(
                f"--top-track: only melody converters choose a track, not {name!r}")
        changes["top_track"] = True
    return dataclasses.replace(converter, **changes) if changes else converter
