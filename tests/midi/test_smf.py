"""The fast MIDI reader gives pretty_midi's NoteSequence, or declines the file."""

import io
import random
import warnings

import mido
import note_seq
import pretty_midi
import pytest
from mido.midifiles import meta as mido_meta

from gensuite.common.errors import InvalidMidiError
from gensuite.midi import io as midi_io
from gensuite.midi import smf
from gensuite.midi.smf import UnsupportedMidiError, smf_to_sequence

TPQ = 480
HEADER = bytes.fromhex("4d546864 00000006 0001 0001 01e0")  # format 1, 1 track, 480 tpq


def on(note, velocity=80, time=0, channel=0):
    return mido.Message("note_on", note=note, velocity=velocity, time=time, channel=channel)


def off(note, time=0, channel=0):
    return mido.Message("note_off", note=note, time=time, channel=channel)


def meta(kind, time=0, **kwargs):
    return mido.MetaMessage(kind, time=time, **kwargs)


def midi_bytes(*tracks, file_type=1, ticks_per_beat=TPQ):
    """A Standard MIDI File holding ``tracks`` (lists of messages, delta times)."""
    midi = mido.MidiFile(type=file_type, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        midi.tracks.append(mido.MidiTrack(messages))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def track_chunk(body_hex):
    body = bytes.fromhex(body_hex)
    return b"MTrk" + len(body).to_bytes(4, "big") + body


def reference(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return note_seq.midi_to_note_sequence(pretty_midi.PrettyMIDI(io.BytesIO(data)))


def same_as_reference(data):
    """The fast reader's sequence, after checking it equals pretty_midi's."""
    sequence = smf_to_sequence(data=data)
    assert sequence == reference(data)
    return sequence


def notes_of(sequence):
    return [(n.pitch, n.velocity, n.start_time, n.end_time, n.program, n.instrument)
            for n in sequence.notes]


def test_ticks_past_pretty_midis_own_limit_read_as_under_note_seq():
    # Past 1e7 ticks pretty_midi alone calls a file corrupt; with note_seq
    # imported (as on the reference path) the limit is 1e10, and the fast
    # reader follows that whether or not note_seq is imported.
    late = int(1.2e7)
    data = midi_bytes([on(60), off(60, time=TPQ), on(62, time=late), off(62, time=TPQ)])
    assert notes_of(same_as_reference(data))[1][0] == 62
    too_late = midi_bytes([on(60), off(60, time=int(1e10))])
    with pytest.raises(UnsupportedMidiError, match="beyond pretty_midi's limit"):
        smf_to_sequence(data=too_late)


def test_running_status():
    # 90 3C 40, then "3C 00" and "3E 50" without a status byte.
    data = HEADER + track_chunk("00 903c40 60 3c00 00 3e50 60 3e00 00 ff2f00")
    sequence = same_as_reference(data)
    assert [(n.pitch, n.start_time, n.end_time) for n in sequence.notes] == [
        (60, 0.0, 0.1), (62, 0.1, 0.2)]


def test_running_status_survives_meta_events_but_not_sysex():
    data = HEADER + track_chunk("00 903c40 10 ff0103616263 10 3c00 00 ff2f00")
    assert [n.end_time for n in same_as_reference(data).notes] == [32 / 960]
    # mido reads "3c 00" after the sysex as another sysex, so 60 never ends.
    data = HEADER + track_chunk("00 903c40 10 f0027e7f 10 3c00 00 903e40 10 803e40 00 ff2f00")
    with pytest.raises(UnsupportedMidiError, match="status 0xf0"):
        smf_to_sequence(data=data)
    assert [n.pitch for n in outcome(data).notes] == [62]
    assert outcome(data) == reference(data)


def test_longer_header_and_bytes_after_the_last_track_are_ignored():
    track = track_chunk("00 903c40 60 803c40 00 ff2f00")
    data = b"MThd\x00\x00\x00\x08" + HEADER[8:] + b"\x00\x00" + track + b"junk"
    assert len(same_as_reference(data).notes) == 1


def test_note_on_with_velocity_0_ends_a_note():
    data = midi_bytes([on(60), on(60, velocity=0, time=240), on(62), off(62, time=240)])
    sequence = same_as_reference(data)
    assert [(n.pitch, n.end_time) for n in sequence.notes] == [(60, 0.25), (62, 0.5)]


def test_overlapping_same_pitch_notes():
    data = midi_bytes([
        on(60, 70), on(60, 71, time=100), off(60, time=100),  # one off ends both
        # An off at the tick a new note starts ends only the older note.
        on(60, 72, time=100), on(60, 73, time=100), off(60), off(60, time=100),
        on(60, 74, time=100), on(60, 75, time=50), off(60, time=50),
    ])
    sequence = same_as_reference(data)
    assert [n.velocity for n in sequence.notes] == [70, 71, 72, 73, 74, 75]


def test_zero_length_note_is_dropped():
    data = midi_bytes([on(60), off(60), on(62, time=10), off(62, time=10)])
    sequence = same_as_reference(data)
    assert [n.pitch for n in sequence.notes] == [62]


def test_note_never_turned_off_is_dropped():
    data = midi_bytes([on(60), on(62, time=10), off(62, time=10)])
    sequence = same_as_reference(data)
    assert [n.pitch for n in sequence.notes] == [62]


def test_notes_and_controls_before_any_program_change():
    data = midi_bytes([
        mido.Message("control_change", control=7, value=100),
        mido.Message("pitchwheel", pitch=300, time=5),
        on(60, time=5),
        mido.Message("program_change", program=40, time=50),  # the note takes 40
        off(60, time=50),
        on(62), off(62, time=10),
    ])
    sequence = same_as_reference(data)
    assert [n.program for n in sequence.notes] == [40, 40]
    assert [c.control_value for c in sequence.control_changes] == [100]
    assert [b.bend for b in sequence.pitch_bends] == [300]


def test_several_programs_on_one_channel_share_early_controls():
    data = midi_bytes([
        meta("track_name", name="Fiddle"),
        mido.Message("control_change", control=64, value=127),
        on(60), off(60, time=10),
        mido.Message("program_change", program=20),
        mido.Message("control_change", control=64, value=0),  # no instrument for 20 yet
        on(62), off(62, time=10),
        meta("track_name", name="Flute"),
        mido.Message("program_change", program=0),
        on(64), off(64, time=10),
        mido.Message("program_change", program=30, channel=1),
        on(65, channel=1), off(65, time=10, channel=1),
    ])
    sequence = same_as_reference(data)
    assert [(n.pitch, n.program, n.instrument) for n in sequence.notes] == [
        (60, 0, 0), (64, 0, 0), (62, 20, 1), (65, 30, 2)]
    # pretty_midi's instruments 0 and 1 share one control list.
    assert [(c.instrument, c.control_value) for c in sequence.control_changes] == [
        (0, 127), (0, 0), (1, 127), (1, 0)]
    assert [(i.instrument, i.name) for i in sequence.instrument_infos] == [
        (0, "Fiddle"), (1, "Fiddle"), (2, "Flute")]


def test_drums_on_channel_10():
    data = midi_bytes([on(36, channel=9), off(36, time=10, channel=9),
                       on(60, channel=8), off(60, time=10, channel=8)])
    sequence = same_as_reference(data)
    assert [(n.pitch, n.is_drum) for n in sequence.notes] == [(36, True), (60, False)]


def test_tempo_changes_count_only_on_the_first_track():
    data = midi_bytes(
        [meta("set_tempo", tempo=400_000), meta("set_tempo", tempo=600_000, time=480),
         meta("set_tempo", tempo=600_000, time=480),  # a repeat: no new entry
         meta("set_tempo", tempo=300_000, time=7)],
        [on(60), off(60, time=960), on(62, time=100), off(62, time=1000),
         meta("set_tempo", tempo=1_000_000, time=10)],  # ignored: not the first track
    )
    sequence = same_as_reference(data)
    assert [(t.time, round(t.qpm, 6)) for t in sequence.tempos] == [
        (0.0, 150.0), (0.4, 100.0), (pytest.approx(0.4 + 487 * 0.6 / 480), 200.0)]
    assert sequence.notes[0].end_time == pytest.approx(0.4 + 0.6)


def test_tempo_on_tick_0_replaces_the_default():
    data = midi_bytes([meta("set_tempo", tempo=1_000_000), meta("set_tempo", tempo=250_000),
                       on(60), off(60, time=480)])
    sequence = same_as_reference(data)
    assert [t.qpm for t in sequence.tempos] == [240.0]


def test_time_and_key_signatures():
    data = midi_bytes(
        [meta("time_signature", numerator=6, denominator=8),
         meta("key_signature", key="Bb"),
         meta("time_signature", numerator=3, denominator=4, time=1440),
         meta("key_signature", key="F#m", time=0),
         meta("key_signature", key="Cb", time=10),
         meta("key_signature", key="Abm", time=10)],
        [meta("key_signature", key="E"), on(60), off(60, time=480)],  # ignored
    )
    sequence = same_as_reference(data)
    assert [(t.numerator, t.denominator) for t in sequence.time_signatures] == [(6, 8), (3, 4)]
    assert [(k.key, k.mode) for k in sequence.key_signatures] == [
        (10, 0), (6, 1), (11, 0), (8, 1)]


@pytest.mark.parametrize("sharps", range(-7, 8))
@pytest.mark.parametrize("minor", [0, 1])
def test_every_key_signature(sharps, minor):
    track = bytes.fromhex("00 ff5902") + bytes([sharps % 256, minor])
    data = HEADER + track_chunk(track.hex() + "00 903c40 60 803c40 00 ff2f00")
    sequence = same_as_reference(data)
    assert len(sequence.key_signatures) == 1


def test_pitch_bends_and_control_changes():
    data = midi_bytes([
        mido.Message("program_change", program=5),
        on(60),
        mido.Message("pitchwheel", pitch=-8192, time=10),
        mido.Message("pitchwheel", pitch=8191, time=10),
        mido.Message("pitchwheel", pitch=0, time=10),
        mido.Message("pitchwheel", pitch=-1, time=10),
        mido.Message("control_change", control=1, value=64, time=10),
        mido.Message("aftertouch", value=30),
        mido.Message("polytouch", note=60, value=30),
        off(60, time=10),
        mido.Message("control_change", control=11, value=5, time=10),
    ])
    sequence = same_as_reference(data)
    assert [b.bend for b in sequence.pitch_bends] == [-8192, 8191, 0, -1]
    assert [(c.control_number, c.program) for c in sequence.control_changes] == [
        (1, 5), (11, 5)]


def test_format_0_and_format_1_give_the_same_notes():
    conductor = [meta("set_tempo", tempo=400_000), meta("time_signature")]
    melody = [on(60), off(60, time=480), on(64, channel=2), off(64, time=480, channel=2)]
    format0 = same_as_reference(midi_bytes(conductor + melody, file_type=0))
    format1 = same_as_reference(midi_bytes(conductor, melody, file_type=1))
    assert notes_of(format0) == notes_of(format1) != []


def test_sysex_and_other_meta_events_are_skipped():
    data = midi_bytes([
        mido.Message("sysex", data=[0x7E, 0x7F, 0x09, 0x01]),
        meta("text", text="hello"), meta("sequencer_specific", data=[1, 2, 3]),
        meta("smpte_offset"), meta("midi_port", port=1),
        on(60, time=5), off(60, time=480),
    ])
    sequence = same_as_reference(data)
    assert [(n.pitch, n.start_time) for n in sequence.notes] == [(60, 5 / 960)]


def test_unknown_meta_event_loses_its_delta_time_as_in_mido():
    data = midi_bytes([on(60), mido.UnknownMetaMessage(0x4B, data=[1], time=100),
                       off(60, time=100)])
    sequence = same_as_reference(data)
    assert sequence.notes[0].end_time == 100 / 960  # not 200 ticks


def test_known_meta_types_are_mido_s():
    known = {key for key in mido_meta._META_SPECS if isinstance(key, int)}
    assert known == smf._MIDO_META_TYPES


@pytest.mark.parametrize("exponent", [0, 1, 5, 28, 29, 30, 31, 40])
def test_time_signature_denominators(exponent):
    track = "00 ff5804 03" + f"{exponent:02x}" + "1808 00 903c40 60 803c40 00 ff2f00"
    data = HEADER + track_chunk(track)
    if exponent <= 28:
        assert same_as_reference(data).time_signatures[0].denominator == 2 ** exponent
    else:  # mido fails on most of these (float rounding), note_seq from 31 on
        with pytest.raises(UnsupportedMidiError):
            smf_to_sequence(data=data)
        assert outcome(data) == reference_outcome(data)


@pytest.mark.parametrize("offset, readable", [
    ("6001020304", True), ("603b3b1863", True), ("80 01020304", False), ("603c0203 04", False),
    ("60013c0304", False), ("6001020364", False), ("60010203", False)])
def test_smpte_offsets_that_mido_refuses_fall_back(offset, readable):
    payload = bytes.fromhex(offset)
    track = "00 ff54" + f"{len(payload):02x}" + payload.hex() + "00 903c40 60 803c40 00 ff2f00"
    data = HEADER + track_chunk(track)
    if readable:
        same_as_reference(data)
    else:
        with pytest.raises(UnsupportedMidiError):
            smf_to_sequence(data=data)
        with pytest.raises(InvalidMidiError, match="corrupt MIDI"):
            midi_io.midi_bytes_to_sequence(data)


def random_file(rng):
    """A random format 1 file that uses every feature above."""
    tracks = []
    for track_index in range(rng.randint(1, 4)):
        messages = []
        for _ in range(rng.randint(1, 60)):
            time = rng.choice([0, 0, 1, 7, 120, 480])
            channel = rng.choice([0, 1, 9])
            note = rng.choice([60, 62, 64])
            kind = rng.random()
            if kind < 0.35:
                messages.append(on(note, rng.randint(1, 127), time, channel))
            elif kind < 0.6:
                messages.append(on(note, 0, time, channel) if rng.random() < 0.3
                                else off(note, time, channel))
            elif kind < 0.7:
                messages.append(mido.Message("program_change", channel=channel,
                                             program=rng.choice([0, 5, 40]), time=time))
            elif kind < 0.78:
                messages.append(mido.Message("control_change", channel=channel,
                                             control=rng.randint(0, 127),
                                             value=rng.randint(0, 127), time=time))
            elif kind < 0.85:
                messages.append(mido.Message("pitchwheel", channel=channel,
                                             pitch=rng.randint(-8192, 8191), time=time))
            elif kind < 0.9:
                messages.append(meta("set_tempo", tempo=rng.choice([300_000, 500_000, 700_001]),
                                     time=time))
            elif kind < 0.93:
                messages.append(meta("time_signature", numerator=rng.randint(1, 12),
                                     denominator=rng.choice([2, 4, 8]), time=time))
            elif kind < 0.95:
                messages.append(meta("key_signature", key=rng.choice(["C", "Eb", "G#m"]),
                                     time=time))
            elif kind < 0.97:
                messages.append(meta("track_name", name=f"t{track_index}é", time=time))
            elif kind < 0.98:  # a meta type mido does not know
                messages.append(mido.UnknownMetaMessage(0x4B, data=[1, 2], time=time))
            elif kind < 0.99:
                messages.append(mido.Message("sysex", data=[1, 2, 3], time=time))
            else:
                messages.append(mido.Message("aftertouch", channel=channel, value=9, time=time))
        tracks.append(messages)
    return midi_bytes(*tracks, ticks_per_beat=rng.choice([96, 480, 10080]))


@pytest.mark.parametrize("seed", range(200))
def test_random_files_match_pretty_midi(seed):
    same_as_reference(random_file(random.Random(seed)))


def test_smpte_division_falls_back_to_pretty_midi(monkeypatch):
    data = midi_bytes([on(60), off(60, time=96)], ticks_per_beat=-(25 << 8) + 40)
    with pytest.raises(UnsupportedMidiError, match="ticks per quarter"):
        smf_to_sequence(data=data)
    calls = []
    original = midi_io._pretty_midi_to_sequence

    def spy(data, *, path):
        calls.append(path)
        return original(data, path=path)

    monkeypatch.setattr(midi_io, "_pretty_midi_to_sequence", spy)
    # pretty_midi turns SMPTE frames into negative seconds per tick, so its
    # notes end before they start.
    with pytest.raises(InvalidMidiError) as info:
        midi_io.midi_bytes_to_sequence(data, path="smpte.mid")
    assert str(info.value) == (
        "smpte.mid: corrupt MIDI (Note end time must be greater than start time)")
    assert calls == ["smpte.mid"]


def test_format_2_falls_back_and_equals_pretty_midi():
    data = midi_bytes([on(60), off(60, time=96)], [on(62), off(62, time=96)], file_type=2)
    with pytest.raises(UnsupportedMidiError, match="format 2"):
        smf_to_sequence(data=data)
    assert midi_io.midi_bytes_to_sequence(data) == reference(data)


def test_midi_bytes_to_sequence_uses_the_fast_reader(monkeypatch):
    def fail(data, *, path):
        raise AssertionError("pretty_midi path used")

    monkeypatch.setattr(midi_io, "_pretty_midi_to_sequence", fail)
    data = midi_bytes([on(60), off(60, time=96)])
    assert midi_io.midi_bytes_to_sequence(data) == reference(data)


GOOD_TRACK = "00 ff510307a120 00 903c40 60 803c40 00 ff2f00"


@pytest.mark.parametrize("data, rule", [
    (HEADER + track_chunk(GOOD_TRACK)[:-5], "truncated MIDI (data ends inside a track)"),
    (HEADER + b"XTrk" + track_chunk(GOOD_TRACK)[4:],
     "corrupt MIDI (no MTrk header at start of track)"),
    (HEADER + track_chunk("00 903cc8 60 803c40 00 ff2f00"),
     "corrupt MIDI (data byte must be in range 0..127)"),
    (HEADER + track_chunk("00 3c40 60 803c40 00 ff2f00"),
     "corrupt MIDI (running status without last_status)"),
    (HEADER + track_chunk("00 ff59020302 " + GOOD_TRACK),
     "corrupt MIDI (Could not decode key with 3 flats and mode 2)"),
    (HEADER + track_chunk("00 ff5103000000 " + GOOD_TRACK), "corrupt MIDI (float division by zero)"),
    (HEADER + track_chunk("00 ff510200 " + GOOD_TRACK), "corrupt MIDI (list index out of range)"),
    (HEADER + track_chunk("00 ff580400021808 " + GOOD_TRACK),
     "corrupt MIDI (0 is not a valid `numerator` type or value)"),
    (HEADER + track_chunk("00 f4 " + GOOD_TRACK), "corrupt MIDI (undefined status byte 0xf4)"),
    (HEADER[:10] + b"\x00\x02" + HEADER[12:] + track_chunk(GOOD_TRACK) + track_chunk(""),
     "corrupt MIDI (max() arg is an empty sequence)"),
    (HEADER + b"MTrk" + (len(bytes.fromhex(GOOD_TRACK)) - 1).to_bytes(4, "big")
     + bytes.fromhex(GOOD_TRACK), "truncated MIDI (data ends inside a track)"),  # overrun
])
def test_broken_files_raise_as_before(data, rule):
    with pytest.raises(UnsupportedMidiError):
        smf_to_sequence(data=data)
    with pytest.raises(InvalidMidiError) as info:
        midi_io.midi_bytes_to_sequence(data, path="bad.mid")
    assert str(info.value) == f"bad.mid: {rule}"


def outcome(data):
    """What midi_bytes_to_sequence gives: a NoteSequence or an error message."""
    try:
        return midi_io.midi_bytes_to_sequence(data, path="x.mid")
    except InvalidMidiError as exc:
        return str(exc)


def reference_outcome(data):
    """pretty_midi's NoteSequence for ``data``, or the error it gives."""
    try:
        return midi_io._pretty_midi_to_sequence(data, path="x.mid")
    except InvalidMidiError as exc:
        return str(exc)


@pytest.mark.parametrize("seed", range(150))
def test_damaged_bytes_read_or_fail_as_pretty_midi_does(seed):
    rng = random.Random(seed)
    data = bytearray(random_file(rng))
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(14, len(data))] = rng.choice([0x00, 0x7F, 0x80, 0xF0, 0xFF, 0x51,
                                                         rng.randrange(256)])
    data = bytes(data[:rng.randint(14, len(data))] if rng.random() < 0.3 else data)
    try:
        fast = smf_to_sequence(data=data)
    except UnsupportedMidiError:
        return
    assert fast == reference_outcome(data)
