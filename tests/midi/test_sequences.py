"""gensuite.midi.sequences: quantize, split, filter, transpose, extract (Magenta pipeline semantics)."""

from __future__ import annotations

import note_seq
import numpy as np
import pytest

from gensuite.common.errors import ParameterError
from gensuite.midi.sequences import (
    UnusableSequenceError,
    augment_transpose,
    check_steps_per_bar,
    clamp_transpose_range,
    extract_drum_tracks,
    extract_instrument,
    extract_melodies,
    filter_notes,
    format_ranges,
    quantize_sequence,
    split_on_time_changes,
    transpose_sequence,
)

NO_EVENT, NOTE_OFF = -2, -1


def melody_kwargs(**overrides):
    """MusicVAE's extraction settings (OneHotMelodyConverter)."""
    kw = dict(min_bars=1, gap_bars=1.0, min_unique_pitches=1,
              ignore_polyphonic_notes=True, pad_end=True)
    kw.update(overrides)
    return kw


# --- quantize / meter --------------------------------------------------------

def test_quantize_sequence_sets_steps_and_leaves_input_alone(make_sequence):
    seq = make_sequence([(60, 0, 4), (62, 4, 6)])
    q = quantize_sequence(seq)
    assert [(n.quantized_start_step, n.quantized_end_step) for n in q.notes] == [(0, 4), (4, 6)]
    assert q.total_quantized_steps == 6
    assert not note_seq.sequences_lib.is_quantized_sequence(seq)


@pytest.mark.parametrize("meter, steps", [((3, 4), 12), ((6, 8), 12), ((7, 8), 14), ((2, 2), 16)])
def test_check_steps_per_bar_states_meter_and_steps(make_sequence, meter, steps):
    q = quantize_sequence(make_sequence([(60, 0, 4)], time_signature=meter))
    if steps == 16:
        check_steps_per_bar(q, 16)
        return
    with pytest.raises(UnusableSequenceError) as info:
        check_steps_per_bar(q, 16)
    assert info.value.reason == (
        f"{meter[0]}/{meter[1]} meter: {steps} steps per bar, model needs 16")


def test_quantize_rejects_tempo_change_with_reason(make_sequence):
    seq = make_sequence([(60, 0, 40)])
    seq.tempos.add(time=2.0, qpm=90.0)
    with pytest.raises(UnusableSequenceError, match="tempo changes inside the part"):
        quantize_sequence(seq)


def test_quantize_rejects_bad_time_signature(make_sequence):
    with pytest.raises(UnusableSequenceError, match="unusable time signature 4/3"):
        quantize_sequence(make_sequence([(60, 0, 4)], time_signature=(4, 3)))


def test_quantize_rejects_bad_resolution(make_sequence):
    with pytest.raises(ParameterError, match="steps_per_quarter: must be >= 1, got 0"):
        quantize_sequence(make_sequence([(60, 0, 4)]), steps_per_quarter=0)


# --- split / filter ------------------------------------------------------------

def test_split_on_time_changes_cuts_at_tempo_change(make_sequence, add_notes):
    seq = make_sequence([(60, 0, 32)])  # 4 s at 120 qpm
    seq.tempos.add(time=4.0, qpm=60.0)
    add_notes(seq, [(62, 0, 4)], qpm=60.0, offset_seconds=4.0)
    parts = split_on_time_changes(seq)
    assert len(parts) == 2
    assert [p.tempos[0].qpm for p in parts] == [120.0, 60.0]
    assert [n.pitch for n in parts[1].notes] == [62]
    assert parts[1].notes[0].start_time == 0.0


def test_split_without_changes_returns_whole_sequence(make_sequence):
    parts = split_on_time_changes(make_sequence([(60, 0, 4), (64, 4, 8)]))
    assert len(parts) == 1 and len(parts[0].notes) == 2


def test_filter_notes_by_program_pitch_and_drums(make_sequence, add_notes):
    seq = make_sequence([(60, 0, 4), (110, 0, 4)], program=0)
    add_notes(seq, [(64, 0, 4)], program=40, instrument=1)
    add_notes(seq, [(36, 0, 1)], is_drum=True, instrument=9)
    seq.total_time = 10.0
    out = filter_notes(seq, programs=range(32), min_pitch=21, max_pitch=108, keep_drums=False)
    assert [n.pitch for n in out.notes] == [60]
    assert out.total_time == 10.0  # bars do not move
    assert len(seq.notes) == 4  # input untouched
    drums = filter_notes(seq, keep_pitched=False)
    assert [n.pitch for n in drums.notes] == [36]


def test_extract_instrument(make_sequence, add_notes):
    seq = make_sequence([(60, 0, 4)], instrument=0)
    add_notes(seq, [(50, 0, 4), (52, 4, 8)], instrument=3)
    assert [n.pitch for n in extract_instrument(seq, 3).notes] == [50, 52]


def test_format_ranges():
    assert format_ranges(range(32)) == "0-31"
    assert format_ranges([5, 0, 1, 2, 9, 10]) == "0-2, 5, 9-10"
    assert format_ranges([]) == ""


# --- transposition -----------------------------------------------------------------

def test_transpose_sequence_moves_pitched_notes_only_and_deletes_out_of_range(
        make_sequence, add_notes):
    seq = make_sequence([(60, 0, 4), (106, 4, 8)])
    add_notes(seq, [(36, 0, 1)], is_drum=True, instrument=9)
    out, deleted = transpose_sequence(seq, 3, min_pitch=21, max_pitch=108)
    assert deleted == 1
    assert sorted((n.pitch, n.is_drum) for n in out.notes) == [(36, True), (63, False)]


def test_clamp_transpose_range():
    seq = note_seq.NoteSequence()
    seq.notes.add(pitch=30, end_time=1.0)
    seq.notes.add(pitch=106, end_time=1.0)
    seq.notes.add(pitch=120, end_time=1.0)  # out of range: ignored
    assert clamp_transpose_range(seq, (-5, 5), min_pitch=21, max_pitch=108) == (-5, 2)


def test_augment_transpose_stays_in_range_and_keeps_every_note(make_sequence):
    seq = make_sequence([(24, 0, 4), (60, 4, 8), (106, 8, 12)])
    seen = set()
    for seed in range(40):
        out, semitones = augment_transpose(
            seq, rng=np.random.default_rng(seed), min_pitch=21, max_pitch=108)
        seen.add(semitones)
        pitches = [n.pitch for n in out.notes]
        assert len(pitches) == 3
        assert pitches == [24 + semitones, 60 + semitones, 106 + semitones]
        assert all(21 <= p <= 108 for p in pitches)
    assert seen == {-3, -2, -1, 0, 1, 2}  # clamped from (-5, 5) by 24 and 106


def test_augment_transpose_magenta_mode_deletes_notes(make_sequence):
    seq = make_sequence([(106, 0, 4), (60, 4, 8)])
    counts = set()
    for seed in range(30):
        out, semitones = augment_transpose(
            seq, rng=np.random.default_rng(seed), min_pitch=21, max_pitch=108,
            keep_in_range=False)
        counts.add((semitones > 2, len(out.notes)))
    assert counts == {(False, 2), (True, 1)}


def test_augment_transpose_is_deterministic_under_seed(make_sequence):
    seq = make_sequence([(60, 0, 4)])
    a = [augment_transpose(seq, rng=np.random.default_rng(7))[1] for _ in range(3)]
    rng = np.random.default_rng(7)
    b = [augment_transpose(seq, rng=rng)[1] for _ in range(3)]
    assert a == [b[0]] * 3
    assert all(-5 <= s <= 5 for s in b)


# --- melody extraction ---------------------------------------------------------------

def test_extract_melody_events_and_bar_padding(make_sequence):
    q = quantize_sequence(make_sequence([(60, 0, 4), (62, 4, 6), (64, 8, 20)]))
    melodies, stats = extract_melodies(q, **melody_kwargs())
    assert len(melodies) == 1
    # The last note's NOTE_OFF (step 20) survives padding to the bar line.
    expected = [60, NO_EVENT, NO_EVENT, NO_EVENT, 62, NO_EVENT, NOTE_OFF, NO_EVENT,
                64] + [NO_EVENT] * 11 + [NOTE_OFF] + [NO_EVENT] * 11
    assert list(melodies[0]) == expected
    assert len(melodies[0]) == 32 and stats["melodies"] == 1


def test_extract_melody_keeps_highest_note_under_polyphony(make_sequence):
    # C major triads on beats: the top note wins; a lower note starting later
    # while the top one sounds cuts it (monophony), as in note_seq.Melody.
    q = quantize_sequence(make_sequence(
        [(60, 0, 4), (64, 0, 4), (67, 0, 4), (62, 4, 8), (65, 4, 8), (55, 6, 8)]))
    melodies, _ = extract_melodies(q, **melody_kwargs())
    assert list(melodies[0])[:8] == [67, NO_EVENT, NO_EVENT, NO_EVENT, 65, NO_EVENT, 55, NO_EVENT]
    # Oracle: note_seq's Melody on the same track.
    oracle = note_seq.Melody()
    oracle.from_quantized_sequence(q, instrument=0, gap_bars=1,
                                   ignore_polyphonic_notes=True, pad_end=True)
    assert list(melodies[0]) == list(oracle)


def test_extract_melody_skips_polyphonic_track_when_asked(make_sequence):
    q = quantize_sequence(make_sequence([(60, 0, 4), (64, 0, 4)]))
    melodies, stats = extract_melodies(q, **melody_kwargs(ignore_polyphonic_notes=False))
    assert melodies == [] and stats["polyphonic_tracks_discarded"] == 1


def test_extract_melody_splits_on_gap_bars(make_sequence):
    # Bar 0 ends at step 4; next note at step 20 (gap 16 = one bar): new melody,
    # starting at its own bar line (step 16).
    q = quantize_sequence(make_sequence([(60, 0, 4), (62, 20, 24), (64, 24, 28)]))
    melodies, stats = extract_melodies(q, **melody_kwargs())
    assert [(m.start_step, len(m)) for m in melodies] == [(0, 16), (16, 16)]
    assert list(melodies[1])[4] == 62
    # A gap of 15 steps does not split.
    q = quantize_sequence(make_sequence([(60, 0, 4), (62, 19, 24)]))
    melodies, _ = extract_melodies(q, **melody_kwargs())
    assert len(melodies) == 1 and len(melodies[0]) == 32
    # gap_bars=2 joins what gap_bars=1 split.
    q = quantize_sequence(make_sequence([(60, 0, 4), (62, 20, 24)]))
    assert len(extract_melodies(q, **melody_kwargs(gap_bars=2))[0]) == 1


def test_extract_melodies_per_instrument_and_drums_ignored(make_sequence, add_notes):
    seq = make_sequence([(72, 0, 4)], instrument=0)
    add_notes(seq, [(48, 0, 8)], instrument=1, program=33)
    add_notes(seq, [(36, 0, 1)], instrument=9, is_drum=True)
    melodies, _ = extract_melodies(quantize_sequence(seq), **melody_kwargs())
    assert [list(m)[0] for m in melodies] == [72, 48]


def test_extract_melody_min_bars_truncate_and_unique_pitches(make_sequence):
    notes = [(60 + (i % 3), 4 * i, 4 * i + 2) for i in range(20)]  # 5 bars
    q = quantize_sequence(make_sequence(notes))
    melodies, stats = extract_melodies(q, **melody_kwargs(max_steps_truncate=40))
    assert len(melodies[0]) == 32  # cut to the bar line below 40 steps
    assert stats["melodies_truncated"] == 1
    melodies, stats = extract_melodies(q, **melody_kwargs(min_bars=6))
    assert melodies == [] and stats["melodies_discarded_too_short"] == 1
    melodies, stats = extract_melodies(q, **melody_kwargs(min_unique_pitches=4))
    assert melodies == [] and stats["melodies_discarded_too_few_pitches"] == 1
    # Magenta's pipeline defaults (min_bars=7) reject a 5-bar melody.
    assert extract_melodies(q)[0] == []


def test_extract_melody_pickup_starts_at_time_zero_bar(make_sequence):
    # An anacrusis written at time 0 (as music21 writes MIDI) is on step 0:
    # bars are counted from the start of the file, not from the notated bar line.
    q = quantize_sequence(make_sequence([(67, 0, 4), (72, 4, 8), (74, 8, 12)]))
    melody = extract_melodies(q, **melody_kwargs())[0][0]
    assert melody.start_step == 0 and list(melody)[0] == 67
    # A pickup padded with a leading rest starts the melody at the bar line.
    q = quantize_sequence(make_sequence([(67, 12, 16), (72, 16, 20)]))
    melody = extract_melodies(q, **melody_kwargs())[0][0]
    assert melody.start_step == 0 and list(melody)[:13] == [NO_EVENT] * 12 + [67]


def test_extract_melody_rejects_fractional_bar(make_sequence):
    q = quantize_sequence(make_sequence([(60, 0, 4)], time_signature=(7, 16)),
                          steps_per_quarter=1)
    with pytest.raises(UnusableSequenceError, match="7/16 meter: 1.75 steps per bar"):
        extract_melodies(q, **melody_kwargs())


# --- drum extraction ----------------------------------------------------------------

def test_extract_drum_tracks_groups_hits_and_splits_on_gap(make_sequence, add_notes):
    seq = make_sequence([(36, 0, 1), (42, 0, 1), (38, 4, 5)], is_drum=True, instrument=9)
    add_notes(seq, [(36, 40, 41)], is_drum=True, instrument=10)  # after a 35-step gap
    add_notes(seq, [(60, 2, 3)])  # pitched: ignored
    tracks, stats = extract_drum_tracks(quantize_sequence(seq), min_bars=1, pad_end=True)
    assert len(tracks) == 2 and stats["drum_tracks"] == 2
    assert list(tracks[0])[:5] == [frozenset({36, 42}), frozenset(), frozenset(),
                                    frozenset(), frozenset({38})]
    assert len(tracks[0]) == 16
    assert tracks[1].start_step == 32 and list(tracks[1])[8] == frozenset({36})


def test_replace_time_signatures_keeps_notes(make_sequence):
    from gensuite.midi.sequences import replace_time_signatures

    seq = make_sequence([(60, 0, 4)], time_signature=(3, 4))
    seq.time_signatures.add(time=1.0, numerator=6, denominator=8)
    out = replace_time_signatures(seq)
    assert [(t.time, t.numerator, t.denominator) for t in out.time_signatures] == [(0.0, 4, 4)]
    assert out.notes == seq.notes and len(seq.time_signatures) == 2
