"""MelodyRNN event encodings, checked against note-seq's encoder-decoders."""


import note_seq
import numpy as np
import pytest

from gensuite.common.errors import ParameterError
from gensuite.melody_rnn import encodings as ee

NO, OFF = ee.NO_EVENT, ee.NOTE_OFF


def make_oracle(name):
    """note-seq's encoder-decoder of a MelodyRNN preset (melody_rnn_model.py)."""
    if name == "basic_rnn":
        return note_seq.OneHotEventSequenceEncoderDecoder(note_seq.MelodyOneHotEncoding(48, 84))
    if name == "lookback_rnn":
        return note_seq.LookbackEventSequenceEncoderDecoder(note_seq.MelodyOneHotEncoding(48, 84))
    return note_seq.KeyMelodyEncoderDecoder(min_note=48, max_note=84)


ORACLES = {name: make_oracle(name) for name in ee.PRESET_NAMES}


def make_random_melody(rng, n_steps):
    """Random events in [48, 84) with many repeats at distances 16 and 32."""
    events = []
    for step in range(n_steps):
        r = rng.random()
        if step >= 16 and r < 0.2:
            events.append(events[step - 16])
        elif step >= 32 and r < 0.3:
            events.append(events[step - 32])
        elif r < 0.6:
            events.append(NO)
        elif r < 0.7:
            events.append(OFF)
        else:
            events.append(int(rng.integers(48, 84)))
    return events


def random_melodies(count, *, seed, max_steps):
    rng = np.random.default_rng(seed)
    return [make_random_melody(rng, int(rng.integers(0, max_steps + 1))) for _ in range(count)]


def oracle_inputs_labels(oracle, events):
    n = len(events)
    inputs = np.array([oracle.events_to_input(events, i) for i in range(n)], np.float32)
    labels = np.array([oracle.events_to_label(events, i) for i in range(n)], np.int64)
    return inputs.reshape(n, oracle.input_size), labels.reshape(n)


def assert_matches_note_seq(name, events, *, check_pair=True):
    """Inputs, labels and (if check_pair) the training pair equal note-seq's, exactly."""
    encoding, oracle = ee.encoding_for(name), ORACLES[name]
    want_inputs, want_labels = oracle_inputs_labels(oracle, events)
    inputs, labels = encoding.encode_inputs(events), encoding.encode_labels(events)
    assert inputs.dtype == np.float32 and inputs.shape == (len(events), encoding.input_size)
    np.testing.assert_array_equal(inputs, want_inputs)
    np.testing.assert_array_equal(labels, want_labels)
    if not check_pair:
        return

    melody = note_seq.Melody(events)
    want_pair = oracle.encode(melody)
    n_pairs = max(len(events) - 1, 0)
    pair = encoding.to_training_pair(ee.clean_melody_events(events))
    np.testing.assert_array_equal(
        pair[0], np.array(want_pair[0], np.float32).reshape(n_pairs, encoding.input_size))
    np.testing.assert_array_equal(pair[1], np.array(want_pair[1], np.int64).reshape(n_pairs))


HAND_BUILT = {
    "empty": [],
    "one note": [60],
    "starts with rests": [NO, NO, NO, 60, NO, OFF, NO, 62],
    "starts with note-offs": [OFF, NO, OFF, 64, NO, 65, OFF],
    "range edges": [48, NO, 83, OFF, 48, 83, 83, NO],
    "ascending then flat then down": [60, NO, 64, 64, 62, OFF, NO, 62, 70],
    "note-off after note keeps attack": [60, OFF, OFF, NO, 62, NO, OFF],
    "recent key of three distinct pitches": [60, 64, 67, 60, 72, 64, NO, 71, 60, 61],
    "c major scale": [60, 62, 64, 65, 67, 69, 71, 72, NO, OFF],
    "repeats at 16 and 32": [60, NO, 62, OFF] * 12,
    "one bar rest then melody": [NO] * 16 + [67, NO, OFF, 69] * 6,
    "long rest past 32": [NO] * 40 + [60],
}


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
@pytest.mark.parametrize("melody", list(HAND_BUILT), ids=list(HAND_BUILT))
def test_hand_built_melodies_match_note_seq(name, melody):
    assert_matches_note_seq(name, HAND_BUILT[melody])


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_random_melodies_match_note_seq(name):
    for i, events in enumerate(random_melodies(300, seed=7, max_steps=48)):
        # note-seq's encode() calls the same per-step functions: checking one
        # pair in four keeps the test fast.
        assert_matches_note_seq(name, events, check_pair=i % 4 == 0)


@pytest.mark.parametrize("name, input_size, num_classes, default_label", [
    ("basic_rnn", 38, 38, 0),
    ("lookback_rnn", 121, 40, 0),
    ("attention_rnn", 74, 40, 36),
])
def test_preset_sizes(name, input_size, num_classes, default_label):
    encoding, oracle = ee.encoding_for(name), ORACLES[name]
    assert (encoding.input_size, encoding.num_classes, encoding.default_label) == (
        input_size, num_classes, default_label)
    assert (oracle.input_size, oracle.num_classes, oracle.default_event_label) == (
        input_size, num_classes, default_label)


def test_encoding_for_rejects_unknown_name():
    with pytest.raises(ParameterError, match=r"name: must be one of basic_rnn, lookback_rnn, "
                                             r"attention_rnn, got 'mono_rnn'"):
        ee.encoding_for("mono_rnn")


def test_encodings_are_frozen():
    with pytest.raises(AttributeError):
        ee.encoding_for("attention_rnn").min_note = 0


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_empty_melody_gives_empty_arrays(name):
    encoding = ee.encoding_for(name)
    assert encoding.encode_inputs([]).shape == (0, encoding.input_size)
    assert encoding.encode_labels([]).shape == (0,)
    for events in ([], [60]):
        inputs, labels = encoding.to_training_pair(events)
        assert inputs.shape == (0, encoding.input_size) and labels.shape == (0,)


def test_range_edge_classes():
    events = [48, 83, NO, OFF]
    np.testing.assert_array_equal(ee.encoding_for("basic_rnn").encode_labels(events), [2, 37, 0, 1])
    np.testing.assert_array_equal(ee.encoding_for("lookback_rnn").encode_labels(events), [2, 37, 39, 1])
    key = ee.encoding_for("attention_rnn")
    np.testing.assert_array_equal(key.encode_labels(events), [0, 35, 39, 37])
    inputs = key.encode_inputs(events)
    assert inputs[0, 0] == 1 and inputs[1, 35] == 1 and inputs[1, 36] == 1
    assert inputs[2, 35] == 1  # NO_EVENT holds the note
    assert inputs[3, :36].sum() == 0 and inputs[3, 37] == 1  # silence


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
@pytest.mark.parametrize("pitch", [47, 84, 0, 127])
def test_notes_outside_range_are_rejected(name, pitch):
    with pytest.raises(ParameterError, match=rf"events: note-on pitches must lie in \[48, 84\).*got {pitch}"):
        ee.encoding_for(name).encode_inputs([60, pitch])


@pytest.mark.parametrize("bad, message", [
    ([60, -3], r"events: melody events must lie in \[-2, 127\], got -3"),
    ([60, 128], r"events: melody events must lie in \[-2, 127\], got 128"),
    ([60.0, 61.0], r"events: melody events must be integers, got dtype float64"),
    (60, r"events: must be a sequence of melody events"),
])
def test_bad_events_are_rejected(bad, message):
    with pytest.raises(ParameterError, match=message):
        ee.encoding_for("basic_rnn").encode_labels(bad)


def test_melody_starting_with_no_event_takes_last_repeat_class_for_32_steps():
    events = [NO] * 34
    for name in ("lookback_rnn", "attention_rnn"):
        labels = ee.encoding_for(name).encode_labels(events)
        # Steps 0-31: the "early rest" rule; 32, 33: a genuine repeat at 32.
        np.testing.assert_array_equal(labels, [39] * 34)
    np.testing.assert_array_equal(ee.encoding_for("lookback_rnn").encode_labels([NO, NO, 60, NO]),
                                  [39, 39, 14, 39])
    np.testing.assert_array_equal(ee.encoding_for("attention_rnn").encode_labels([NO, NO, 60, NO]),
                                  [39, 39, 12, 39])


def test_repeats_exactly_at_lookback_distances():
    events = [NO] * 40
    events[0] = events[16] = events[32] = 60  # repeats at 16 and at 32
    events[4] = events[20] = 65               # repeat at 16 only
    events[5] = events[37] = 67               # repeat at 32 only
    events[7] = 70
    events[23] = 71                           # distance 16, different pitch
    for name, first_repeat in (("lookback_rnn", 38), ("attention_rnn", 38)):
        encoding = ee.encoding_for(name)
        labels = encoding.encode_labels(events)
        assert labels[16] == first_repeat       # step 16 repeats step 0 at distance 16
        assert labels[32] == first_repeat + 1   # both match: the longer distance wins
        assert labels[20] == first_repeat
        assert labels[37] == first_repeat + 1
        assert labels[23] != first_repeat
        inputs = encoding.encode_inputs(events)
        flags = slice(119, 121) if name == "lookback_rnn" else slice(40, 42)
        np.testing.assert_array_equal(inputs[[16, 20, 32, 37, 23], flags],
                                      [[1, 0], [1, 0], [1, 1], [0, 1], [0, 0]])
        assert_matches_note_seq(name, events)


def test_lookback_inputs_show_the_event_the_next_step_would_repeat():
    events = list(range(48, 84)) + [NO] * 4
    inputs = ee.encoding_for("lookback_rnn").encode_inputs(events)
    # Step 15: next step 16 would repeat step 0 (pitch 48, class 2).
    assert inputs[15, 38 + 2] == 1
    # Before step 15 there is nothing 16 steps back: NO_EVENT (class 0).
    assert inputs[14, 38 + 0] == 1
    # Step 31: the second lookback block shows step 0.
    assert inputs[31, 76 + 2] == 1 and inputs[31, 38 + 16 + 2] == 1


def test_bar_position_and_counter_bits():
    events = [60] + [NO] * 39
    key_inputs = ee.encoding_for("attention_rnn").encode_inputs(events)
    np.testing.assert_array_equal(np.flatnonzero(key_inputs[:, 49]), [15, 31])
    lookback_inputs = ee.encoding_for("lookback_rnn").encode_inputs(events)
    for step in (0, 6, 15, 31, 39):
        position = step + 1  # counters give the position of the *next* event
        want_key = [1.0 if (position >> bit) & 1 else -1.0 for bit in range(7)]
        np.testing.assert_array_equal(key_inputs[step, 42:49], want_key)
        np.testing.assert_array_equal(lookback_inputs[step, 114:119], want_key[:5])


def test_key_detection_bits():
    key = ee.encoding_for("attention_rnn")
    scale = [60, 62, 64, 65, 67, 69, 71]
    inputs = key.encode_inputs(scale + [NO])
    # All seven notes of C major: only C major fits all of them.
    np.testing.assert_array_equal(np.flatnonzero(inputs[-1, 50:62]), [0])
    # Last three distinct pitches G, A, B: the keys holding all three are C, D and G.
    np.testing.assert_array_equal(np.flatnonzero(inputs[6, 62:74]), [0, 2, 7])
    # No notes yet: every key ties.
    assert key.encode_inputs([NO])[0, 50:74].sum() == 24
    # C, E, G then C again: the recent window holds E, G, C -> keys C, F, G.
    recent = key.encode_inputs([60, 64, 67, 60, 72])
    np.testing.assert_array_equal(np.flatnonzero(recent[3, 62:74]), [0, 5, 7])
    # 72 is a new pitch (C an octave up): the window G, C4, C5 counts C twice, so the
    # keys holding C and G win.
    np.testing.assert_array_equal(np.flatnonzero(recent[4, 62:74]), [0, 3, 5, 7, 8, 10])
    assert_matches_note_seq("attention_rnn", [60, 64, 67, 60, 72])


def test_attack_and_direction_bits():
    key = ee.encoding_for("attention_rnn")
    inputs = key.encode_inputs([60, OFF, NO, 64, 64, 62, NO, 62])
    np.testing.assert_array_equal(inputs[:, 38], [1, 1, 0, 1, 1, 1, 0, 1])
    np.testing.assert_array_equal(inputs[:, 39], [0, 0, 0, 1, 1, -1, -1, -1])


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_batch_encoding_equals_one_melody_at_a_time(name):
    encoding = ee.encoding_for(name)
    rng = np.random.default_rng(3)
    batch = np.array([make_random_melody(rng, 40) for _ in range(6)]).reshape(2, 3, 40)
    inputs, labels = encoding.encode_inputs(batch), encoding.encode_labels(batch)
    assert inputs.shape == (2, 3, 40, encoding.input_size)
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(inputs[i, j], encoding.encode_inputs(batch[i, j]))
            np.testing.assert_array_equal(labels[i, j], encoding.encode_labels(batch[i, j]))
    np.testing.assert_array_equal(encoding.encode_input_at(batch, 17), inputs[..., 17, :])


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_decode_label_matches_note_seq_for_every_class(name):
    encoding, oracle = ee.encoding_for(name), ORACLES[name]
    events = make_random_melody(np.random.default_rng(11), 45)
    for n_steps in (0, 1, 15, 16, 17, 31, 32, 33, 45):
        history = events[:n_steps]
        want = [oracle.class_index_to_event(c, history) for c in range(oracle.num_classes)]
        got = [encoding.decode_label(c, history) for c in range(encoding.num_classes)]
        assert got == want, n_steps


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_decode_labels_for_a_batch(name):
    encoding, oracle = ee.encoding_for(name), ORACLES[name]
    rng = np.random.default_rng(5)
    histories = np.array([make_random_melody(rng, 33) for _ in range(50)])
    labels = rng.integers(0, encoding.num_classes, size=50)
    want = [oracle.class_index_to_event(int(c), [int(e) for e in h]) for c, h in zip(labels, histories)]
    np.testing.assert_array_equal(encoding.decode_labels(labels, histories), want)


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_decode_label_sequence_inverts_labels(name):
    encoding = ee.encoding_for(name)
    for events in random_melodies(100, seed=9, max_steps=80):
        _, labels = encoding.to_training_pair(events)
        decoded = encoding.decode_label_sequence(labels, primer=events[:1])
        np.testing.assert_array_equal(decoded, events[1:])


@pytest.mark.parametrize("name", ["lookback_rnn", "attention_rnn"])
def test_decode_label_sequence_copies_events_it_decoded(name):
    encoding = ee.encoding_for(name)
    repeat_16, repeat_32 = encoding.num_classes - 2, encoding.num_classes - 1
    note_class = encoding.encode_labels([60])[0]
    labels = [note_class] + [encoding.default_label] * 15 + [repeat_16] + [repeat_32] * 16 + [repeat_32]
    decoded = encoding.decode_label_sequence(labels)
    assert decoded[16] == 60       # copies step 0, decoded in the same call
    assert decoded[17] == NO       # step 17 < 32: nothing to copy yet
    assert decoded[32] == 60       # step 32 copies step 0
    # A wrong label is refused with its range.
    with pytest.raises(ParameterError, match=r"labels: must lie in \[0, 40\), got 40"):
        encoding.decode_label_sequence([40])


def test_clean_melody_events_matches_note_seq_melody():
    events = [OFF, NO, OFF, 60, OFF, NO, OFF]
    np.testing.assert_array_equal(ee.clean_melody_events(events), list(note_seq.Melody(events)))
    np.testing.assert_array_equal(ee.clean_melody_events([[OFF, 60], [NO, OFF]]), [[NO, 60], [NO, NO]])


def squash_with_note_seq(events):
    melody = note_seq.Melody(events)
    amount = melody.squash(48, 84, 0)
    return list(melody), amount


def test_transpose_to_c_matches_note_seq_squash():
    rng = np.random.default_rng(13)
    pool = np.r_[NO, NO, OFF, np.arange(20, 110)]
    for _ in range(300):
        events = [int(e) for e in rng.choice(pool, size=int(rng.integers(0, 30)))]
        cleaned = ee.clean_melody_events(events)
        want_events, want_amount = squash_with_note_seq(events)
        got_events, got_amount = ee.transpose_melody_to_c(cleaned)
        assert got_amount == want_amount and list(got_events) == want_events, events

        back = note_seq.Melody(want_events)
        back.transpose(-want_amount)
        assert list(ee.transpose_melody_back(got_events, got_amount)) == list(back)


@pytest.mark.parametrize("events, amount, squashed", [
    ([59, 60], 0, [59, 60]),        # centre off by 6 semitones: round(0.5) == 0
    ([47, 48], 24, [71, 72]),       # off by 18: round(1.5) == 2 octaves
    ([67, 69, 71, 72, 74, 76, 78], -7, [60, 62, 64, 65, 67, 69, 71]),  # G major -> C
    ([NO, NO], 0, [NO, NO]),  # no notes: unchanged, amount 0
])
def test_transpose_to_c_cases(events, amount, squashed):
    got_events, got_amount = ee.transpose_melody_to_c(events)
    assert got_amount == amount and list(got_events) == squashed
    assert squash_with_note_seq(events) == (squashed, amount)
    if amount:
        np.testing.assert_array_equal(ee.transpose_melody_back(got_events, got_amount), events)


def test_squash_folds_notes_into_range_and_reports_bad_key():
    events, amount = ee.squash_melody([30, 100], min_note=48, max_note=84, transpose_to_key=None)
    assert amount == 0 and list(events) == [54, 76]
    with pytest.raises(ParameterError, match=r"transpose_to_key: must be in \[0, 11\] or None, got 12"):
        ee.squash_melody([60], min_note=48, max_note=84, transpose_to_key=12)
