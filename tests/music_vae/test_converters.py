"""gensuite.music_vae.converters: MusicVAE melody / drums / trio tensors, pinned on tiny sequences."""

from __future__ import annotations

import dataclasses
from collections import Counter

import note_seq
import numpy as np
import pytest

from gensuite.common.errors import ParameterError
from gensuite.midi.sequences import quantize_sequence
from gensuite.music_vae.converters import (
    PRESETS,
    ConverterTensors,
    MelodyConverter,
    combine_tensors,
    format_rejections,
    get_converter,
    select_indices,
)

MEL_2BAR = PRESETS["mel_2bar"]
MEL_16BAR = PRESETS["mel_16bar"]
DRUMS_2BAR = PRESETS["drums_2bar"]
TRIO_16BAR = PRESETS["trio_16bar"]


def cls(pitch: int) -> int:
    """Melody class of a note-on (pitches 21-108 -> 2-89)."""
    return pitch - 21 + 2


def bars(*pitches, start_bar=0):
    """Four legato quarter notes per bar, bar k at pitches[k]."""
    return [(p, 16 * (start_bar + b) + 4 * q, 16 * (start_bar + b) + 4 * q + 4)
            for b, p in enumerate(pitches) for q in range(4)]


def bar_classes(*pitches):
    return [c for p in pitches for c in [cls(p), 0, 0, 0] * 4]


def classes_of(tensors: ConverterTensors) -> np.ndarray:
    return tensors.outputs.argmax(-1)


# --- presets -------------------------------------------------------------------------

def test_preset_shapes_match_magenta_configs():
    assert (MEL_2BAR.input_depth, MEL_2BAR.output_depth, MEL_2BAR.n_steps) == (90, 90, 32)
    assert MEL_2BAR.valid_programs == tuple(range(32)) and MEL_2BAR.max_bars == 100
    assert MEL_2BAR.transpose_range == (-5, 5) and MEL_2BAR.gap_bars == 1.0
    assert (MEL_16BAR.n_steps, MEL_16BAR.valid_programs) == (256, None)
    assert (DRUMS_2BAR.input_depth, DRUMS_2BAR.output_depth, DRUMS_2BAR.n_steps) == (10, 512, 32)
    assert (TRIO_16BAR.input_depth, TRIO_16BAR.n_steps) == (692, 256)
    assert TRIO_16BAR.split_output_depths == (90, 90, 512) and TRIO_16BAR.gap_bars == 2


def test_get_converter_and_replace():
    assert get_converter("mel_2bar") is MEL_2BAR
    with pytest.raises(ParameterError, match="converter: must be one of drums_2bar, mel_16bar, "
                                             "mel_2bar, trio_16bar, got 'mel_4bar'"):
        get_converter("mel_4bar")
    four = dataclasses.replace(MEL_2BAR, slice_bars=4)
    assert four.n_steps == 64 and MEL_2BAR.n_steps == 32


@pytest.mark.parametrize("kwargs, message", [
    (dict(slice_bars=0), "slice_bars: must be an integer >= 1, got 0"),
    (dict(max_tensors_per_notesequence=0), "max_tensors_per_notesequence: must be an integer >= 1"),
    (dict(min_pitch=60, max_pitch=50), "need 0 <= min_pitch <= max_pitch <= 127, got 60, 50"),
    (dict(transpose_range=(3, -3)), r"transpose_range: low must be <= high, got \(3, -3\)"),
    (dict(gap_bars=-1), "gap_bars: must be >= 0 or None, got -1"),
])
def test_melody_converter_validates_config(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        MelodyConverter(**kwargs)


def test_rng_must_be_a_generator(make_sequence):
    with pytest.raises(ParameterError,
                       match="rng: must be a numpy.random.Generator or None, got int"):
        MEL_2BAR.to_tensors(make_sequence(bars(60, 62)), rng=42)


# --- melody encoding -------------------------------------------------------------------

def test_melody_exact_classes_for_quarter_notes(make_sequence):
    t = MEL_2BAR.to_tensors(make_sequence(bars(60, 60)))
    assert t.inputs.shape == (1, 32, 90) and t.inputs.dtype == bool
    assert classes_of(t)[0].tolist() == [41, 0, 0, 0] * 8
    assert t.inputs is t.outputs and t.lengths.tolist() == [32]
    assert t.controls.shape == (1, 32, 0) and t.reason is None
    assert t.inputs.sum(-1).tolist() == [[1] * 32]  # exactly one-hot


def test_melody_note_off_and_no_event_placement(make_sequence):
    # Staccato eighths, then a rest, then a held half note ending before bar end.
    seq = make_sequence([(60, 0, 2), (62, 4, 6), (64, 12, 24)])
    got = classes_of(MEL_2BAR.to_tensors(seq))[0].tolist()
    expected = [cls(60), 0, 1, 0, cls(62), 0, 1, 0, 0, 0, 0, 0, cls(64)] + [0] * 11 + [1] + [0] * 7
    assert got == expected


def test_melody_classes_match_note_seq_oracle(make_sequence):
    notes = [(60, 0, 3), (67, 3, 4), (108, 4, 10), (21, 12, 13), (72, 16, 30)]
    q = quantize_sequence(make_sequence(notes))
    melody = note_seq.Melody()
    melody.from_quantized_sequence(q, gap_bars=1, ignore_polyphonic_notes=True, pad_end=True)
    encoding = note_seq.MelodyOneHotEncoding(21, 109)
    expected = [encoding.encode_event(e) for e in melody]
    assert classes_of(MEL_2BAR.to_tensors(make_sequence(notes)))[0].tolist() == expected
    assert MEL_2BAR.encode_melody(melody).tolist() == expected


def test_melody_keeps_highest_note_under_polyphony(make_sequence):
    chords = [(p, 4 * k, 4 * k + 4) for k in range(8) for p in (48, 52, 55 + k)]
    got = classes_of(MEL_2BAR.to_tensors(make_sequence(chords)))[0]
    assert got[::4].tolist() == [cls(55 + k) for k in range(8)]
    skipping = dataclasses.replace(MEL_2BAR, skip_polyphony=True)
    t = skipping.to_tensors(make_sequence(chords))
    assert t.n_examples == 0 and t.reason == "polyphonic tracks skipped (skip_polyphony=True)"


def test_melody_program_filter(make_sequence, add_notes):
    seq = make_sequence(bars(60, 62), program=0)
    add_notes(seq, bars(80, 81), program=40, instrument=1)  # strings: not a melody program
    t = MEL_2BAR.to_tensors(seq)
    assert t.n_examples == 1 and classes_of(t)[0].tolist() == bar_classes(60, 62)
    strings_only = make_sequence(bars(80, 81), program=40)
    t = MEL_2BAR.to_tensors(strings_only)
    assert t.n_examples == 0 and t.reason == "no pitched notes in programs 0-31"
    # hierdec-mel_16bar has no program filter.
    t = dataclasses.replace(MEL_16BAR, slice_bars=2).to_tensors(strings_only)
    assert classes_of(t)[0].tolist() == bar_classes(80, 81)


def test_melody_track_name_filter(make_sequence, add_notes):
    # Melodies are extracted per track, so without the filter both give one.
    seq = make_sequence(bars(72, 74), instrument=0)
    add_notes(seq, bars(60, 62), instrument=1)
    seq.instrument_infos.add(instrument=0, name="Alto")
    seq.instrument_infos.add(instrument=1, name="Soprano")
    soprano = dataclasses.replace(MEL_2BAR, track_names=("SOPRANO",))
    assert classes_of(soprano.to_tensors(seq)).tolist() == [bar_classes(60, 62)]
    assert sorted(classes_of(MEL_2BAR.to_tensors(seq)).tolist()) == [
        bar_classes(60, 62), bar_classes(72, 74)]
    t = dataclasses.replace(MEL_2BAR, track_names=("tenor", "bass")).to_tensors(seq)
    assert t.n_examples == 0 and t.reason == "no track named tenor or bass"


def test_melody_top_track_keeps_the_highest_line(make_sequence, add_notes):
    # Track 1 (mean 72.5) lies above track 0 (60-62) although track 0 comes first.
    seq = make_sequence(bars(60, 62), instrument=0)
    add_notes(seq, bars(72, 73), instrument=1)
    top = dataclasses.replace(MEL_2BAR, top_track=True)
    assert classes_of(top.to_tensors(seq)).tolist() == [bar_classes(72, 73)]
    # The name filter applies first: the tenor is the only track left.
    seq.instrument_infos.add(instrument=0, name="Tenor")
    seq.instrument_infos.add(instrument=1, name="Soprano")
    low = dataclasses.replace(top, track_names=("tenor",))
    assert classes_of(low.to_tensors(seq)).tolist() == [bar_classes(60, 62)]


def test_melody_pitch_range_filter(make_sequence):
    t = MEL_2BAR.to_tensors(make_sequence([(15, 0, 4), (110, 4, 8)]))
    assert t.reason == "no pitched notes in pitch range 21-108"


def test_melody_gap_bars_splits_melodies(make_sequence):
    # Two 2-bar phrases separated by two silent bars: two melodies, no window
    # straddles the gap.
    seq = make_sequence(bars(60, 62) + bars(64, 65, start_bar=4))
    t = MEL_2BAR.to_tensors(seq)
    assert sorted(classes_of(t)[:, 0].tolist()) == [cls(60), cls(64)]
    assert t.stats["melodies"] == 2
    joined = dataclasses.replace(MEL_2BAR, gap_bars=None, max_tensors_per_notesequence=None)
    t = joined.to_tensors(seq)
    assert t.stats["melodies"] == 1 and t.n_examples == 5  # 6 bars -> 5 windows


def test_melody_slices_hop_one_bar(make_sequence):
    t = MEL_2BAR.to_tensors(make_sequence(bars(60, 62, 64)))
    assert [row.tolist() for row in classes_of(t)] == [bar_classes(60, 62), bar_classes(62, 64)]
    assert t.stats["windows"] == 2


def test_melody_dedupe(make_sequence):
    seq = make_sequence(bars(60, 60, 60, 60))
    t = MEL_2BAR.to_tensors(seq)
    assert t.n_examples == 1 and t.stats["duplicates"] == 2
    t = dataclasses.replace(MEL_2BAR, dedupe=False).to_tensors(seq)
    assert t.n_examples == 3


def test_melody_16_bar_slices(make_sequence):
    pitches = [60 + k for k in range(18)]
    t = MEL_16BAR.to_tensors(make_sequence(bars(*pitches)))
    assert t.inputs.shape == (3, 256, 90)
    assert [row.tolist() for row in classes_of(t)] == [
        bar_classes(*pitches[s:s + 16]) for s in range(3)]


def test_melody_shorter_than_slice(make_sequence):
    t = MEL_2BAR.to_tensors(make_sequence(bars(60)))
    assert t.n_examples == 0 and t.reason == "melodies shorter than 2 bars"
    t = MEL_16BAR.to_tensors(make_sequence(bars(*range(60, 70))))
    assert t.reason == "melodies shorter than 16 bars"


def test_melody_max_bars_truncates_before_slicing(make_sequence):
    capped = dataclasses.replace(MEL_2BAR, max_bars=3, max_tensors_per_notesequence=None)
    t = capped.to_tensors(make_sequence(bars(60, 61, 62, 63, 64)))
    assert classes_of(t)[:, 0].tolist() == [cls(60), cls(61)]


def test_eval_selection_is_evenly_spaced_and_training_selection_random(make_sequence):
    seq = make_sequence(bars(*range(60, 70)))  # 10 bars -> 9 distinct windows
    t = MEL_2BAR.to_tensors(seq)
    assert classes_of(t)[:, 0].tolist() == [cls(p) for p in (60, 62, 64, 66, 68)]
    assert t.stats["windows"] == 9 and t.stats["examples"] == 5
    no_transpose = dataclasses.replace(MEL_2BAR, transpose_range=None)
    picks = {tuple(classes_of(no_transpose.to_tensors(seq, rng=np.random.default_rng(s)))[:, 0])
             for s in range(6)}
    assert len(picks) > 1
    assert all(len(p) == 5 and list(p) == sorted(p) for p in picks)


def test_select_indices():
    assert select_indices(3, 5, None).tolist() == [0, 1, 2]
    assert select_indices(9, 5, None).tolist() == [0, 2, 4, 6, 8]
    assert select_indices(9, None, None).tolist() == list(range(9))
    drawn = select_indices(100, 5, np.random.default_rng(0))
    assert len(set(drawn.tolist())) == 5 and drawn.tolist() == sorted(drawn.tolist())


def test_training_is_deterministic_under_fixed_rng(make_sequence):
    seq = make_sequence(bars(*range(60, 72)))
    a = MEL_2BAR.to_tensors(seq, rng=np.random.default_rng(3))
    b = MEL_2BAR.to_tensors(seq, rng=np.random.default_rng(3))
    assert np.array_equal(a.outputs, b.outputs)
    assert np.array_equal(MEL_2BAR.to_tensors(seq).outputs, MEL_2BAR.to_tensors(seq).outputs)


def test_training_transposition_stays_in_range_and_loses_no_note(make_sequence):
    # Highest note 106: at most +2 semitones; lowest 60: full -5.
    seq = make_sequence(bars(60, 106))
    base = classes_of(MEL_2BAR.to_tensors(seq))[0]
    shifts = set()
    for seed in range(30):
        got = classes_of(MEL_2BAR.to_tensors(seq, rng=np.random.default_rng(seed)))[0]
        onsets = got >= 2
        assert np.array_equal(onsets, base >= 2)  # same notes, none deleted
        shift = set((got[onsets] - base[onsets]).tolist())
        assert len(shift) == 1
        shifts |= shift
        assert got.max() <= cls(108)
    assert shifts == set(range(-5, 3))
    # Evaluation never transposes.
    assert np.array_equal(classes_of(MEL_2BAR.to_tensors(seq))[0], base)


def test_to_tensors_leaves_input_untouched(make_sequence):
    seq = make_sequence(bars(60, 62, 64))
    before = seq.SerializeToString()
    MEL_2BAR.to_tensors(seq, rng=np.random.default_rng(0))
    DRUMS_2BAR.to_tensors(seq)
    TRIO_16BAR.to_tensors(seq)
    assert seq.SerializeToString() == before


# --- meters, tempo changes, pickups, drum-only files -----------------------------------------

@pytest.mark.parametrize("meter", [(3, 4), (6, 8)])
def test_melody_rejects_non_16_step_bars(make_sequence, meter):
    seq = make_sequence(bars(60, 62, 64), time_signature=meter)
    t = MEL_2BAR.to_tensors(seq)
    assert t.n_examples == 0
    assert t.reason == f"{meter[0]}/{meter[1]} meter: 12 steps per bar, model needs 16"


def test_drums_and_trio_reject_3_4(make_sequence, add_notes):
    seq = make_sequence(bars(60, 62), time_signature=(3, 4))
    add_notes(seq, bars(40, 41), program=33, instrument=1)
    add_notes(seq, [(36, 4 * k, 4 * k + 1) for k in range(8)], is_drum=True, instrument=9)
    reason = "3/4 meter: 12 steps per bar, model needs 16"
    assert DRUMS_2BAR.to_tensors(seq).reason == reason
    assert TRIO_16BAR.to_tensors(seq).reason == reason


def test_three_quarter_converter_option(make_sequence):
    waltz = MelodyConverter(quarters_per_bar=3, slice_bars=2)
    assert waltz.n_steps == 24
    notes = [(60 + b, 12 * b + 4 * q, 12 * b + 4 * q + 4) for b in range(3) for q in range(3)]
    for meter in [(3, 4), (6, 8)]:
        t = waltz.to_tensors(make_sequence(notes, time_signature=meter))
        assert t.inputs.shape == (2, 24, 90)
        assert classes_of(t)[0].tolist() == [cls(60), 0, 0, 0] * 3 + [cls(61), 0, 0, 0] * 3
    t = waltz.to_tensors(make_sequence(bars(60, 62)))
    assert t.reason == "4/4 meter: 16 steps per bar, model needs 12"


@pytest.mark.parametrize("meter", [(3, 4), (4, 2)])
def test_ignore_time_signatures_regrids_as_4_4(make_sequence, meter):
    seq = make_sequence(bars(60, 62, 64), time_signature=meter)
    regrid = dataclasses.replace(MEL_2BAR, ignore_time_signatures=True)
    t = regrid.to_tensors(seq)
    assert [row.tolist() for row in classes_of(t)] == [bar_classes(60, 62), bar_classes(62, 64)]
    assert MEL_2BAR.to_tensors(seq).n_examples == 0


def test_tempo_change_presplit(make_sequence, add_notes):
    seq = make_sequence(bars(60, 62))  # 4 s at 120 qpm
    seq.tempos.add(time=4.0, qpm=60.0)
    add_notes(seq, bars(64, 65), qpm=60.0, offset_seconds=4.0)  # 8 s at 60 qpm
    t = MEL_2BAR.to_tensors(seq)
    assert [row.tolist() for row in classes_of(t)] == [bar_classes(60, 62), bar_classes(64, 65)]
    assert t.stats["parts"] == 2
    whole = dataclasses.replace(MEL_2BAR, presplit_on_time_changes=False).to_tensors(seq)
    assert whole.n_examples == 0
    assert whole.reason == "tempo changes inside the part (split on time changes first)"


def test_meter_change_rejects_only_the_3_4_part(make_sequence, add_notes):
    seq = make_sequence(bars(60, 62))
    seq.time_signatures.add(time=4.0, numerator=3, denominator=4)
    add_notes(seq, [(64, 32 + 4 * k, 36 + 4 * k) for k in range(6)])
    t = MEL_2BAR.to_tensors(seq)
    assert classes_of(t).tolist() == [bar_classes(60, 62)]
    assert t.rejections == Counter({"3/4 meter: 12 steps per bar, model needs 16": 1})
    assert t.reason is None


def test_pickup_bar_is_counted_from_time_zero(make_sequence):
    # music21 writes an anacrusis at time 0, so the one-beat pickup falls on
    # step 0 and every window is shifted a beat against the notated bar lines.
    pickup = [(67, 0, 4)] + [(p, 4 + 4 * k, 8 + 4 * k) for k, p in enumerate([72] * 4 + [74] * 4)]
    t = MEL_2BAR.to_tensors(make_sequence(pickup))
    got = classes_of(t)[0].tolist()
    assert got[:8] == [cls(67), 0, 0, 0, cls(72), 0, 0, 0]
    assert got[20:24] == [cls(74), 0, 0, 0]


def test_drum_only_file(make_sequence):
    beat = [(p, 2 * k, 2 * k + 1) for k in range(16) for p in ([36, 42] if k % 4 == 0 else [42])]
    seq = make_sequence(beat, is_drum=True, instrument=9)
    t = MEL_2BAR.to_tensors(seq)
    assert t.n_examples == 0 and t.reason == "only drum tracks (no pitched notes)"
    assert DRUMS_2BAR.to_tensors(seq).n_examples == 1


def test_empty_and_pitched_only_reasons(make_sequence):
    assert MEL_2BAR.to_tensors(make_sequence([])).reason == "no notes"
    assert DRUMS_2BAR.to_tensors(make_sequence(bars(60, 62))).reason == "no drum tracks"
    unknown = make_sequence([(20, 0, 1), (90, 4, 5)], is_drum=True)
    assert DRUMS_2BAR.to_tensors(unknown).reason == "no drum notes in the 9 drum classes"


def test_combine_tensors_adds_reasons_across_files(make_sequence):
    drums = make_sequence([(36, 0, 1)], is_drum=True)
    waltz = make_sequence(bars(60, 62), time_signature=(3, 4))
    results = [MEL_2BAR.to_tensors(s) for s in (drums, drums, waltz, make_sequence(bars(60, 62)))]
    total = combine_tensors(results)
    assert total.n_examples == 1 and total.inputs.shape == (1, 32, 90)
    assert total.stats["sequences"] == 4
    assert format_rejections(total.rejections, unit="files") == (
        "only drum tracks (no pitched notes) (2 files); "
        "3/4 meter: 12 steps per bar, model needs 16 (1 files)")
    assert combine_tensors(results[:2]).reason == "only drum tracks (no pitched notes) (2)"
    assert results[0].reason == "only drum tracks (no pitched notes)"


# --- melody from_tensors ------------------------------------------------------------------

def test_melody_from_tensors_accepts_one_hot_indices_and_probabilities():
    classes = np.array([[cls(60), 0, 1, 0, cls(64), 0, 0, 0] + [0] * 24])
    one_hot = np.eye(90, dtype=bool)[classes]
    probs = one_hot * 0.9 + 0.001
    outs = [MEL_2BAR.from_tensors(classes), MEL_2BAR.from_tensors(one_hot),
            MEL_2BAR.from_tensors(probs), MEL_2BAR.from_tensors([classes[0]])]
    for (seq,) in outs:
        assert seq.tempos[0].qpm == 120.0
        assert [(n.pitch, n.start_time, n.end_time, n.velocity, n.program) for n in seq.notes] == [
            (60, 0.0, 0.25, 80, 0), (64, 0.5, 4.0, 80, 0)]


def test_melody_from_tensors_rejects_bad_input():
    with pytest.raises(ParameterError,
                       match=r"samples\[0\]: expected a melody as one-hot \(T, 90\)"):
        MEL_2BAR.from_tensors(np.zeros((1, 32, 89), bool))
    with pytest.raises(ParameterError, match="melody classes must lie in 0-89, got 0..90"):
        MEL_2BAR.from_tensors(np.array([[0, 90]]))
    with pytest.raises(ParameterError, match="expected a batch"):
        MEL_2BAR.from_tensors(np.array([41, 0, 0]))


def test_melody_round_trip(make_sequence):
    seq = make_sequence([(60, 0, 2), (62, 4, 6), (64, 12, 24), (72, 24, 26), (71, 28, 32)]
                        + bars(65, start_bar=2))
    first = MEL_2BAR.to_tensors(seq)
    assert first.n_examples == 2
    decoded = MEL_2BAR.from_tensors(first.outputs)
    again = [MEL_2BAR.to_tensors(s) for s in decoded]
    assert [a.n_examples for a in again] == [1, 1]
    assert np.array_equal(np.concatenate([a.outputs for a in again]), first.outputs)


def test_held_note_into_a_slice_is_lost_on_decode():
    # A window opening on a note held from the previous bar decodes to silence
    # (NO_EVENT has nothing to hold): Magenta behaves the same.
    classes = np.array([[0] * 16 + [cls(62), 0, 0, 0] * 4])
    (seq,) = MEL_2BAR.from_tensors(classes)
    assert [(n.pitch, n.start_time) for n in seq.notes] == [
        (62, 2.0), (62, 2.5), (62, 3.0), (62, 3.5)]


# --- drums -----------------------------------------------------------------------------

def drum_beat(n_bars=2):
    """Kick + closed hat on beats, snare on 2 and 4, an open hat that moves
    (step 15 of bar 0, 13 of bar 1, ...) so that no two neighbouring bars repeat."""
    notes = []
    for bar in range(n_bars):
        for beat in range(4):
            s = 16 * bar + 4 * beat
            notes += [(42, s, s + 1)] + ([(36, s, s + 1)] if beat % 2 == 0 else [(38, s, s + 1)])
        hat = 16 * bar + 15 - 2 * (bar % 4)
        notes.append((46, hat, hat + 1))
    return notes


def test_drums_exact_encoding_and_roll_input(make_sequence):
    t = DRUMS_2BAR.to_tensors(make_sequence(drum_beat(), is_drum=True, instrument=9))
    assert t.inputs.shape == (1, 32, 10) and t.outputs.shape == (1, 32, 512)
    subsets = classes_of(t)[0]
    # classes: kick 0, snare 1, closed hat 2, open hat 3 -> kick+hat 1+4, snare+hat 2+4
    assert subsets[:16].tolist() == [5, 0, 0, 0, 6, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 8]
    oracle = note_seq.MultiDrumOneHotEncoding()
    assert oracle.encode_event(frozenset({36, 42})) == 5
    assert oracle.encode_event(frozenset({46})) == 8
    roll = t.inputs[0]
    assert roll[0].tolist() == [True, False, True] + [False] * 6 + [False]
    assert roll[1].tolist() == [False] * 9 + [True]  # NOR bit: no drums
    assert roll[15].tolist() == [False, False, False, True] + [False] * 5 + [False]


def test_drum_pitches_map_to_reduced_classes(make_sequence):
    # 35 acoustic kick -> kick (bit 0), 40 electric snare -> snare (bit 1),
    # 59 ride 2 -> ride (bit 8), 60 hi bongo -> mid tom (bit 5).
    seq = make_sequence([(35, 0, 1), (40, 4, 5), (59, 8, 9), (60, 20, 21)], is_drum=True)
    subsets = classes_of(DRUMS_2BAR.to_tensors(seq))[0]
    assert subsets[[0, 4, 8, 20]].tolist() == [1, 2, 256, 32]
    assert np.count_nonzero(subsets) == 4


def test_drums_one_hot_input_and_roll_output(make_sequence):
    seq = make_sequence(drum_beat(), is_drum=True)
    one_hot = dataclasses.replace(DRUMS_2BAR, roll_input=False)
    t = one_hot.to_tensors(seq)
    assert t.inputs.shape == (1, 32, 512) and np.array_equal(t.inputs, t.outputs)
    rolled = dataclasses.replace(DRUMS_2BAR, roll_output=True)
    t = rolled.to_tensors(seq)
    assert rolled.output_depth == 9 and t.outputs.shape == (1, 32, 9)
    assert np.array_equal(t.outputs[0], t.inputs[0, :, :9])
    (back,) = rolled.from_tensors(t.outputs.astype(np.float32) * 0.8)
    assert np.array_equal(rolled.to_tensors(back).outputs, t.outputs)


def test_drums_round_trip_and_from_tensors_forms(make_sequence):
    seq = make_sequence(drum_beat(3), is_drum=True, instrument=9)
    first = DRUMS_2BAR.to_tensors(seq)
    assert first.n_examples == 2
    decoded = DRUMS_2BAR.from_tensors(first.outputs)
    again = combine_tensors([DRUMS_2BAR.to_tensors(s) for s in decoded])
    assert np.array_equal(again.outputs, first.outputs)
    from_indices = DRUMS_2BAR.from_tensors(classes_of(first))
    assert [s.SerializeToString() for s in from_indices] == [s.SerializeToString() for s in decoded]
    notes = decoded[0].notes
    assert {(n.pitch, n.start_time, n.end_time) for n in notes if n.start_time == 0.0} == {
        (36, 0.0, 0.125), (42, 0.0, 0.125)}
    assert all(n.is_drum and n.velocity == 80 and n.instrument == 9 for n in notes)
    assert decoded[0].tempos[0].qpm == 120.0
    with pytest.raises(ParameterError, match="drum classes must lie in 0-511, got 0..512"):
        DRUMS_2BAR.from_tensors(np.array([[0, 512]]))


def test_drums_gap_bars(make_sequence):
    seq = make_sequence(drum_beat(2) + [(36, 16 * 5, 16 * 5 + 1), (38, 16 * 6, 16 * 6 + 1)],
                        is_drum=True)
    t = DRUMS_2BAR.to_tensors(seq)
    assert t.stats["drum_tracks"] == 2 and t.n_examples == 2


# --- trio ------------------------------------------------------------------------------

def trio_sequence(make_sequence, add_notes, n_bars=16, melody_bars=None, bass=True, drums=True):
    seq = make_sequence(bars(*[60 + b % 12 for b in range(melody_bars or n_bars)]), program=0)
    if bass:
        add_notes(seq, [(36 + b % 5, 16 * b, 16 * b + 8) for b in range(n_bars)],
                  instrument=1, program=33)
    if drums:
        add_notes(seq, drum_beat(n_bars), instrument=9, is_drum=True)
    seq.total_time = n_bars * 2.0
    return seq


def test_trio_exact_columns_and_round_trip(make_sequence, add_notes):
    t = TRIO_16BAR.to_tensors(trio_sequence(make_sequence, add_notes))
    assert t.inputs.shape == (1, 256, 692)
    assert t.inputs.sum(-1).tolist() == [[3] * 256]  # one hot per part
    mel, bass, drums = (t.outputs[0, :, :90].argmax(-1), t.outputs[0, :, 90:180].argmax(-1),
                        t.outputs[0, :, 180:].argmax(-1))
    assert mel[:16].tolist() == [cls(60), 0, 0, 0] * 4
    assert bass[:16].tolist() == [cls(36)] + [0] * 7 + [1] + [0] * 7
    assert drums[:16].tolist() == [5, 0, 0, 0, 6, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 8]
    (decoded,) = TRIO_16BAR.from_tensors(t.outputs)
    assert {(n.instrument, n.program, n.is_drum) for n in decoded.notes} == {
        (0, 0, False), (1, 33, False), (9, 0, True)}
    assert decoded.total_time == 32.0
    again = TRIO_16BAR.to_tensors(decoded)
    assert np.array_equal(again.outputs, t.outputs)
    classes = TRIO_16BAR.sample_classes(t.outputs)
    (from_indices,) = TRIO_16BAR.from_tensors(classes)
    assert from_indices.SerializeToString() == decoded.SerializeToString()


def test_trio_slices_every_bar_and_samples(make_sequence, add_notes):
    seq = trio_sequence(make_sequence, add_notes, n_bars=20)
    t = TRIO_16BAR.to_tensors(seq)
    assert t.n_examples == 5 and t.stats["windows"] == 5
    assert t.outputs[:, 0, :90].argmax(-1).tolist() == [cls(60 + b % 12) for b in range(5)]
    one = dataclasses.replace(TRIO_16BAR, max_tensors_per_notesequence=1)
    assert one.to_tensors(seq).n_examples == 1


@pytest.mark.parametrize("kwargs, reason", [
    (dict(bass=False), "no bass (programs 32-39)"),
    (dict(bass=False, drums=False), "no bass (programs 32-39) and no drums"),
    (dict(melody_bars=8), "no 16-bar window where melody, bass and drums all play"),
])
def test_trio_reasons(make_sequence, add_notes, kwargs, reason):
    t = TRIO_16BAR.to_tensors(trio_sequence(make_sequence, add_notes, **kwargs))
    assert t.n_examples == 0 and t.reason == reason


def test_trio_fills_gaps_up_to_gap_bars(make_sequence, add_notes):
    seq = trio_sequence(make_sequence, add_notes)
    # Bars count as played within gap_bars (2) of a played bar on either side,
    # so an inner gap of 4 silent bars (6-9) is bridged and one of 5 is not.
    keep = [n for n in seq.notes if not (n.instrument == 0 and 12.0 <= n.start_time < 20.0)]
    del seq.notes[:]
    seq.notes.extend(keep)
    assert TRIO_16BAR.to_tensors(seq).n_examples == 1
    keep = [n for n in seq.notes if not (n.instrument == 0 and 12.0 <= n.start_time < 22.0)]
    del seq.notes[:]
    seq.notes.extend(keep)
    assert TRIO_16BAR.to_tensors(seq).reason == (
        "no 16-bar window where melody, bass and drums all play")


def test_trio_rejects_bad_samples():
    with pytest.raises(ParameterError, match=r"expected a trio as one-hot \(T, 692\) or integer"):
        TRIO_16BAR.from_tensors(np.zeros((1, 256, 90), bool))
