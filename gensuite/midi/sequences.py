"""Small pure functions on NoteSequences: quantize, split, filter, transpose, extract.

Every function returns a new NoteSequence (or new event lists) and leaves its
input untouched. Where note_seq already does the job correctly (quantizing,
splitting on time changes, building a monophonic ``Melody`` or a ``DrumTrack``
from one search position) these functions call it; what they add is
Magenta's *pipeline* logic, which lives in the ``magenta`` package we do not
depend on (``melody_pipelines.extract_melodies``,
``drum_pipelines.extract_drum_tracks``, ``NoteSequenceAugmenter``), and
failures reported as one readable reason instead of five exception types.

Times in a NoteSequence are seconds; quantized positions are steps
(``steps_per_quarter`` steps per quarter note, 4 by default: sixteenth notes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

import note_seq
import numpy as np
from note_seq import DrumTrack, Melody, NoteSequence, PolyphonicMelodyError, sequences_lib

from gensuite.common.errors import GensuiteError, ParameterError

PIANO_MIN_PITCH = 21
PIANO_MAX_PITCH = 108
MIN_MIDI_PITCH = 0
MAX_MIDI_PITCH = 127
MEL_PROGRAMS = range(0, 32)  # piano, chromatic percussion, organ, guitar
BASS_PROGRAMS = range(32, 40)
DEFAULT_STEPS_PER_QUARTER = 4


class UnusableSequenceError(GensuiteError):
    """A NoteSequence (or part of one) cannot be turned into model examples.

    ``reason`` is a short, file-independent phrase (``"3/4 meter: 12 steps
    per bar, model needs 16"``) so that reasons from many files can be counted
    together and reported as "12 files: 3/4 meter ...".
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def format_ranges(values: Iterable[int]) -> str:
    """Write a set of integers compactly: ``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    values = sorted(set(int(v) for v in values))
    runs: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        runs.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")
        i = j + 1
    return ", ".join(runs)


def quantize_sequence(
    sequence: NoteSequence,
    *,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
) -> NoteSequence:
    """Quantize note times to a grid relative to the tempo (a copy).

    Thin wrapper of ``note_seq.quantize_note_sequence`` (notes get
    ``quantized_start_step`` / ``quantized_end_step``, a zero-length note is
    stretched to one step) that turns its four exception types into one.

    Parameters
    ----------
    sequence : NoteSequence
        Unquantized sequence with at most one tempo and one time signature
        (see :func:`split_on_time_changes`).
    steps_per_quarter : int
        Grid resolution, steps per quarter note.

    Raises
    ------
    UnusableSequenceError
        On tempo or meter changes, a malformed time signature, or negative times.
    """
    if steps_per_quarter < 1:
        raise ParameterError(f"steps_per_quarter: must be >= 1, got {steps_per_quarter}")
    try:
        return note_seq.quantize_note_sequence(sequence, steps_per_quarter)
    except sequences_lib.MultipleTimeSignatureError as exc:
        raise UnusableSequenceError(
            "time signature changes inside the part (split on time changes first)") from exc
    except sequences_lib.MultipleTempoError as exc:
        raise UnusableSequenceError(
            "tempo changes inside the part (split on time changes first)") from exc
    except sequences_lib.BadTimeSignatureError as exc:
        ts = sequence.time_signatures[0] if sequence.time_signatures else None
        meter = f"{ts.numerator}/{ts.denominator}" if ts is not None else "?"
        raise UnusableSequenceError(f"unusable time signature {meter}") from exc
    except sequences_lib.NegativeTimeError as exc:
        raise UnusableSequenceError("notes at negative times") from exc


def steps_per_bar_of(quantized: NoteSequence) -> float:
    """Steps per bar of a quantized sequence (its first time signature)."""
    return sequences_lib.steps_per_bar_in_quantized_sequence(quantized)


def check_steps_per_bar(quantized: NoteSequence, expected: int) -> None:
    """Reject a quantized sequence whose bars are not ``expected`` steps long.

    Raises
    ------
    UnusableSequenceError
        With a reason such as ``"3/4 meter: 12 steps per bar, model needs 16"``.
    """
    found = steps_per_bar_of(quantized)
    if found != expected:
        ts = quantized.time_signatures[0]
        raise UnusableSequenceError(
            f"{ts.numerator}/{ts.denominator} meter: {found:g} steps per bar, "
            f"model needs {expected}")


def split_on_time_changes(
    sequence: NoteSequence,
    *,
    skip_splits_inside_notes: bool = False,
) -> list[NoteSequence]:
    """Cut a sequence at every tempo and time-signature change.

    Each part holds one tempo and one meter and starts at time 0
    (``note_seq.split_note_sequence_on_time_changes``); notes sounding across
    a cut are shortened to end there. A sequence without changes comes back
    as a one-element list; an empty one (``total_time == 0``) as ``[]``.
    """
    return sequences_lib.split_note_sequence_on_time_changes(
        sequence, skip_splits_inside_notes=skip_splits_inside_notes)


def filter_notes(
    sequence: NoteSequence,
    *,
    programs: Collection[int] | None = None,
    instruments: Collection[int] | None = None,
    min_pitch: int = MIN_MIDI_PITCH,
    max_pitch: int = MAX_MIDI_PITCH,
    keep_pitched: bool = True,
    keep_drums: bool = True,
) -> NoteSequence:
    """Copy of ``sequence`` holding only the notes that pass every filter.

    ``total_time`` is kept, so bar positions and later splits do not move.

    Parameters
    ----------
    programs : collection of int, optional
        Keep pitched notes whose MIDI program is in it (drums ignore it).
    instruments : collection of int, optional
        Keep only notes of these instruments (tracks), drums included.
    min_pitch, max_pitch : int
        Inclusive pitch range for pitched notes (drums ignore it).
    keep_pitched, keep_drums : bool
        Whether to keep non-drum and drum (``is_drum``) notes at all.
    """
    allowed = None if programs is None else frozenset(programs)
    tracks = None if instruments is None else frozenset(instruments)
    out = NoteSequence()
    out.CopyFrom(sequence)
    del out.notes[:]
    for n in sequence.notes:
        if tracks is not None and n.instrument not in tracks:
            keep = False
        elif n.is_drum:
            keep = keep_drums
        else:
            keep = (keep_pitched and min_pitch <= n.pitch <= max_pitch
                    and (allowed is None or n.program in allowed))
        if keep:
            out.notes.append(n)
    return out


def find_named_tracks(sequence: NoteSequence, names: Collection[str]) -> set[int]:
    """Instruments whose track name equals one of ``names``, ignoring case.

    MIDI track names are read into ``sequence.instrument_infos``; e.g. the
    corpus export names chorale parts "Soprano", "Alto", "Tenor", "Bass".
    """
    wanted = {name.strip().casefold() for name in names}
    return {info.instrument for info in sequence.instrument_infos
            if info.name.strip().casefold() in wanted}


def rank_tracks_by_pitch(notes: Iterable) -> list[tuple[int, float]]:
    """(instrument, mean pitch) of the pitched notes' tracks, highest line first.

    The highest line is how a melody is taken from a score that has several
    parts: the soprano of a chorale, violin I of a quartet, a madrigal's cantus.
    Drum notes are ignored.
    """
    pitches: dict[int, list[int]] = {}
    for note in notes:
        if not note.is_drum:
            pitches.setdefault(note.instrument, []).append(note.pitch)
    return sorted(((i, float(np.mean(p))) for i, p in pitches.items()), key=lambda t: -t[1])


def melody_events_to_sequence(
    events,
    *,
    qpm: float = 120.0,
    steps_per_quarter: int = 4,
    start_step: int = 0,
) -> NoteSequence:
    """A NoteSequence of one melody (events -2 hold, -1 off, 0-127 note on).

    Notes are piano at velocity 100, as ``note_seq.Melody.to_sequence`` writes
    them; the melody starts at ``start_step`` on a 4/4 grid.
    """
    melody = Melody([int(e) for e in events], start_step=start_step,
                             steps_per_quarter=steps_per_quarter,
                             steps_per_bar=4 * steps_per_quarter)
    return melody.to_sequence(qpm=qpm)


def replace_time_signatures(
    sequence: NoteSequence,
    *,
    numerator: int = 4,
    denominator: int = 4,
) -> NoteSequence:
    """Copy of ``sequence`` with one time signature, at time 0.

    Notes do not move; only the bar grid does. Used to read music in any
    meter as 4/4 (bars of 16 steps), e.g. 4/2 as two bars per notated bar.
    """
    out = NoteSequence()
    out.CopyFrom(sequence)
    del out.time_signatures[:]
    out.time_signatures.add(time=0.0, numerator=numerator, denominator=denominator)
    return out


def extract_instrument(sequence: NoteSequence, instrument: int) -> NoteSequence:
    """Copy of ``sequence`` holding only the notes of one instrument (track)."""
    out = NoteSequence()
    out.CopyFrom(sequence)
    del out.notes[:]
    out.notes.extend(n for n in sequence.notes if n.instrument == instrument)
    return out


def transpose_sequence(
    sequence: NoteSequence,
    semitones: int,
    *,
    min_pitch: int = MIN_MIDI_PITCH,
    max_pitch: int = MAX_MIDI_PITCH,
) -> tuple[NoteSequence, int]:
    """Transpose pitched notes, deleting those that leave ``[min_pitch, max_pitch]``.

    Drum notes are never moved; key signatures and chord symbols follow
    (``note_seq.transpose_note_sequence``).

    Returns
    -------
    NoteSequence
        The transposed copy.
    int
        How many notes were deleted for leaving the range.
    """
    return sequences_lib.transpose_note_sequence(
        sequence, int(semitones), min_allowed_pitch=min_pitch,
        max_allowed_pitch=max_pitch, in_place=False)


def clamp_transpose_range(
    sequence: NoteSequence,
    transpose_range: tuple[int, int],
    *,
    min_pitch: int = MIN_MIDI_PITCH,
    max_pitch: int = MAX_MIDI_PITCH,
) -> tuple[int, int]:
    """Narrow ``transpose_range`` so that no pitched note leaves the range.

    Notes already outside ``[min_pitch, max_pitch]`` are ignored. A sequence
    without pitched notes in range keeps the full range.
    """
    low, high = transpose_range
    pitches = [n.pitch for n in sequence.notes
               if not n.is_drum and min_pitch <= n.pitch <= max_pitch]
    if not pitches:
        return low, high
    room_down, room_up = min(pitches) - min_pitch, max_pitch - max(pitches)
    return max(low, -room_down), min(high, room_up)


def augment_transpose(
    sequence: NoteSequence,
    *,
    rng: np.random.Generator,
    transpose_range: tuple[int, int] = (-5, 5),
    min_pitch: int = MIN_MIDI_PITCH,
    max_pitch: int = MAX_MIDI_PITCH,
    keep_in_range: bool = True,
) -> tuple[NoteSequence, int]:
    """Transpose by a random whole number of semitones (training augmentation).

    Magenta's ``NoteSequenceAugmenter(transpose_range=(-5, 5))`` draws the
    amount uniformly from the inclusive range and deletes notes pushed out of
    0-127. With ``keep_in_range`` (the default here) the range is first
    narrowed by :func:`clamp_transpose_range`, so no note is pushed out of
    ``[min_pitch, max_pitch]`` and none is lost; with ``keep_in_range=False``
    notes leaving the range are deleted, as Magenta does.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random amount.
    transpose_range : (int, int)
        Inclusive semitone bounds, ``low <= 0 <= high`` not required.

    Returns
    -------
    NoteSequence
        The transposed copy.
    int
        The semitones applied.
    """
    low, high = transpose_range
    if low > high:
        raise ParameterError(f"transpose_range: low must be <= high, got {transpose_range}")
    if keep_in_range:
        low, high = clamp_transpose_range(
            sequence, (low, high), min_pitch=min_pitch, max_pitch=max_pitch)
        if low > high:  # the notes span more than the range: do not move them
            low = high = 0
    semitones = int(rng.integers(low, high + 1))
    transposed, _ = transpose_sequence(
        sequence, semitones, min_pitch=min_pitch, max_pitch=max_pitch)
    return transposed, semitones


def fit_length(events, *, min_bars: int, max_steps_discard: int | None,
               max_steps_truncate: int | None, pad_end: bool, stats: Counter,
               kind: str) -> bool:
    """Magenta's length rules for an extracted Melody or DrumTrack.

    Too short (< ``min_bars``) or too long (> ``max_steps_discard``): counted
    in ``stats`` as ``{kind}_discarded_too_short`` / ``_too_long`` and
    rejected (False). Longer than ``max_steps_truncate``: cut in place (to a
    bar line when ``pad_end``) and counted as ``{kind}_truncated``.
    """
    if len(events) < events.steps_per_bar * min_bars:
        stats[f"{kind}_discarded_too_short"] += 1
        return False
    if max_steps_discard is not None and len(events) > max_steps_discard:
        stats[f"{kind}_discarded_too_long"] += 1
        return False
    if max_steps_truncate is not None and len(events) > max_steps_truncate:
        length = max_steps_truncate
        if pad_end:
            length -= max_steps_truncate % events.steps_per_bar
        events.set_length(length)
        stats[f"{kind}_truncated"] += 1
    return True


def _bar_search_start(end_step: int, search_start_step: int, steps_per_bar: int) -> int:
    # Next search starts on the first bar line (relative to the original
    # search start) at or after the end of the previous event list.
    return end_step + (search_start_step - end_step) % steps_per_bar


def extract_melodies(
    quantized: NoteSequence,
    *,
    search_start_step: int = 0,
    min_bars: int = 7,
    max_steps_truncate: int | None = None,
    max_steps_discard: int | None = None,
    gap_bars: float = 1.0,
    min_unique_pitches: int = 5,
    ignore_polyphonic_notes: bool = True,
    pad_end: bool = False,
    filter_drums: bool = True,
) -> tuple[list[Melody], Counter]:
    """Extract monophonic melodies from every instrument, Magenta's way.

    Reproduces ``magenta.pipelines.melody_pipelines.extract_melodies``: per
    instrument, a melody starts at the bar holding its first note and ends
    where ``gap_bars`` bars of silence follow a note; the search then resumes
    at the next bar line. With ``ignore_polyphonic_notes`` the highest of the
    notes starting on one step is kept; otherwise a track with such notes is
    skipped. Defaults are Magenta's pipeline defaults; MusicVAE's converters
    use ``min_bars=1, min_unique_pitches=1, pad_end=True``.

    Parameters
    ----------
    quantized : NoteSequence
        Relative-quantized sequence (:func:`quantize_sequence`) with an
        integer number of steps per bar.
    max_steps_truncate : int, optional
        Longer melodies are cut to this many steps (to a bar line when
        ``pad_end``).

    Returns
    -------
    list of note_seq.Melody
        In instrument order, then time order.
    Counter
        ``polyphonic_tracks_discarded``, ``melodies_discarded_too_short``,
        ``melodies_discarded_too_few_pitches``, ``melodies_discarded_too_long``,
        ``melodies_truncated``, ``melodies`` (kept).
    """
    steps_per_bar = _integer_steps_per_bar(quantized)
    stats: Counter = Counter()
    melodies: list[Melody] = []
    for instrument in sorted({n.instrument for n in quantized.notes}):
        start = search_start_step
        while True:
            melody = Melody()
            try:
                melody.from_quantized_sequence(
                    quantized, instrument=instrument, search_start_step=start,
                    gap_bars=gap_bars, ignore_polyphonic_notes=ignore_polyphonic_notes,
                    pad_end=pad_end, filter_drums=filter_drums)
            except PolyphonicMelodyError:
                stats["polyphonic_tracks_discarded"] += 1
                break
            start = _bar_search_start(melody.end_step, search_start_step, steps_per_bar)
            if not melody:
                break
            if not fit_length(melody, min_bars=min_bars, max_steps_discard=max_steps_discard,
                              max_steps_truncate=max_steps_truncate, pad_end=pad_end,
                              stats=stats, kind="melodies"):
                continue
            if np.count_nonzero(melody.get_note_histogram()) < min_unique_pitches:
                stats["melodies_discarded_too_few_pitches"] += 1
                continue
            stats["melodies"] += 1
            melodies.append(melody)
    return melodies, stats


def extract_drum_tracks(
    quantized: NoteSequence,
    *,
    search_start_step: int = 0,
    min_bars: int = 7,
    max_steps_truncate: int | None = None,
    max_steps_discard: int | None = None,
    gap_bars: float = 1.0,
    pad_end: bool = False,
    ignore_is_drum: bool = False,
) -> tuple[list[DrumTrack], Counter]:
    """Extract drum tracks, Magenta's way (``drum_pipelines.extract_drum_tracks``).

    All drum notes of all instruments form one stream of events (a frozenset
    of the pitches starting on each step); a track ends where ``gap_bars``
    bars pass without a hit, and the search resumes at the next bar line.

    Returns
    -------
    list of note_seq.DrumTrack
    Counter
        ``drum_tracks_discarded_too_short``, ``drum_tracks_discarded_too_long``,
        ``drum_tracks_truncated``, ``drum_tracks`` (kept).
    """
    steps_per_bar = _integer_steps_per_bar(quantized)
    stats: Counter = Counter()
    tracks: list[DrumTrack] = []
    start = search_start_step
    while True:
        track = DrumTrack()
        track.from_quantized_sequence(
            quantized, search_start_step=start, gap_bars=gap_bars,
            pad_end=pad_end, ignore_is_drum=ignore_is_drum)
        start = _bar_search_start(track.end_step, search_start_step, steps_per_bar)
        if not track:
            break
        if not fit_length(track, min_bars=min_bars, max_steps_discard=max_steps_discard,
                          max_steps_truncate=max_steps_truncate, pad_end=pad_end,
                          stats=stats, kind="drum_tracks"):
            continue
        stats["drum_tracks"] += 1
        tracks.append(track)
    return tracks, stats


def _integer_steps_per_bar(quantized: NoteSequence) -> int:
    sequences_lib.assert_is_relative_quantized_sequence(quantized)
    found = steps_per_bar_of(quantized)
    if found % 1:
        ts = quantized.time_signatures[0]
        raise UnusableSequenceError(
            f"{ts.numerator}/{ts.denominator} meter: {found:g} steps per bar "
            "is not a whole number")
    return int(found)

