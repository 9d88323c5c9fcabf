"""gensuite.melody_rnn.data: sources, extraction, the split, the run-folder cache, primers."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from gensuite.common.beam import beam_installed
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.melody_rnn import configs
from gensuite.melody_rnn import data as melody_data
from gensuite.melody_rnn import encodings as ee
from gensuite.midi.io import write_midi

CONFIG = configs.get_config("tiny-attention_rnn")
# Four bars of a five-pitch line (kept by the tiny presets: >= 2 bars, >= 2 pitches).
LINE = [(60 + [0, 2, 4, 5, 7][i % 5], 4 * i, 4 * i + 3) for i in range(16)]


def tiny(name, **changes):
    return dataclasses.replace(configs.get_config(f"tiny-{name}"), **changes)


@pytest.fixture
def midi_dir(tmp_path, make_sequence):
    """Ten tunes (tune_0.mid, ...) and one unreadable file (broken.mid)."""
    folder = tmp_path / "tunes"
    folder.mkdir()
    for i in range(10):
        write_midi(make_sequence([(p + i % 5, s, e) for p, s, e in LINE]),
                   folder / f"tune_{i}.mid")
    (folder / "broken.mid").write_bytes(b"not midi")
    return folder


# --------------------------------------------------------------------------
# Extraction and the split
# --------------------------------------------------------------------------

def test_extract_melody_events_applies_magentas_pipeline(make_sequence):
    config = configs.get_config("attention_rnn")
    # 8 bars of a D-major line (5 pitches): kept, squashed to C.
    notes = [(62 + [0, 2, 4, 5, 7][i % 5], 4 * i, 4 * i + 3) for i in range(32)]
    melodies, stats = melody_data.extract_melody_events(make_sequence(notes), config)
    assert stats["melodies"] == 1 and len(melodies) == 1
    melody = melodies[0]
    assert len(melody) == 127  # note-seq ends a melody at its last note's end
    assert melody[0] == 60 and melody[3] == ee.NOTE_OFF  # D -> C, note ends after 3 steps
    assert ee.estimate_major_key(melody) == 0
    # 2 bars only: too short for min_bars 7.
    short, short_stats = melody_data.extract_melody_events(make_sequence(notes[:8]), config)
    assert short == [] and short_stats["melodies_discarded_too_short"] == 1


def named_sequences(make_sequence, n, notes=LINE):
    sequences = []
    for i in range(n):
        sequence = make_sequence(notes)
        sequence.filename = f"song_{i}.mid"
        sequences.append(sequence)
    return sequences


def test_build_melody_datasets_splits_by_sequence_and_rejects_empty(make_sequence):
    sequences = named_sequences(make_sequence, 20)
    train, held_out, stats = melody_data.build_melody_datasets(sequences, CONFIG, eval_ratio=0.3)
    assert len(train) + len(held_out) == 20 and 0 < len(held_out) < 20
    expected = sum(melody_data.is_eval_sequence(f"song_{i}.mid", eval_ratio=0.3)
                   for i in range(20))
    assert stats["eval_melodies"] == len(held_out) == expected
    with pytest.raises(NoExamplesError, match="no training melodies"):
        melody_data.build_melody_datasets([make_sequence(LINE[:2])], CONFIG)


def test_collect_melodies_sides_partition_the_whole(make_sequence):
    sequences = named_sequences(make_sequence, 12)
    every, all_stats = melody_data.collect_melodies(sequences, CONFIG)
    train, train_stats = melody_data.collect_melodies(sequences, CONFIG, split="train",
                                                      eval_ratio=0.3)
    held_out, eval_stats = melody_data.collect_melodies(sequences, CONFIG, split="eval",
                                                        eval_ratio=0.3)
    assert len(every) == 12 == len(train) + len(held_out) and held_out
    assert all_stats["sequences"] == train_stats["sequences"] + eval_stats["sequences"]
    with pytest.raises(ParameterError, match="split: must be one of all, train, eval"):
        melody_data.collect_melodies(sequences, CONFIG, split="test")


def test_iter_source_sequences_needs_exactly_one_source(tmp_path):
    for kwargs in ({}, {"midi_dir": "a", "examples": "b"}):
        with pytest.raises(ParameterError, match="--midi-dir or --examples: exactly one"):
            melody_data.iter_source_sequences(skipped=[], **kwargs)
    with pytest.raises(InputFileError, match="no such file"):
        melody_data.iter_source_sequences(examples=str(tmp_path / "x.tfrecord"), skipped=[])


def test_read_melodies_lists_unreadable_files_and_explains_nothing(midi_dir, tmp_path,
                                                                    make_sequence):
    melodies, stats, skipped = melody_data.read_melodies(midi_dir=str(midi_dir), config=CONFIG)
    assert len(melodies) == stats["sequences"] == 10
    assert skipped == [("broken.mid", "not a MIDI file (no 'MThd' header)")]
    short = tmp_path / "short"
    short.mkdir()
    write_midi(make_sequence(LINE[:4]), short / "one_bar.mid")
    with pytest.raises(NoExamplesError) as caught:
        melody_data.read_melodies(midi_dir=str(short), config=CONFIG)
    assert str(caught.value) == (f"{short}: no melodies for config 'tiny-attention_rnn' in 1 "
                                 f"sequences (1 shorter than 2 bars)")


def test_extract_training_melodies_says_when_all_fell_in_the_held_out_split(
        tmp_path, make_sequence):
    folder = tmp_path / "one"
    folder.mkdir()
    name = next(f"t{i}.mid" for i in range(1000)
                if melody_data.is_eval_sequence(f"t{i}.mid", eval_ratio=0.5))
    write_midi(make_sequence(LINE), folder / name)
    with pytest.raises(NoExamplesError) as caught:
        melody_data.extract_training_melodies(midi_dir=str(folder), config=CONFIG,
                                              eval_ratio=0.5)
    assert str(caught.value) == (f"{folder}: all 1 melodies fell in the held-out split "
                                 f"(--eval-fraction 0.5); add files or lower --eval-fraction")


@pytest.mark.skipif(not beam_installed(), reason="Apache Beam is not installed")
def test_beam_extraction_gives_the_local_melodies_split_and_summary(midi_dir):
    local = melody_data.extract_training_melodies(midi_dir=str(midi_dir), config=CONFIG,
                                                  eval_ratio=0.3)
    on_beam = melody_data.extract_training_melodies(midi_dir=str(midi_dir), config=CONFIG,
                                                    eval_ratio=0.3, runner="DirectRunner",
                                                    num_workers=1)
    assert on_beam.summary == local.summary
    assert local.summary["files_skipped"] == [["broken.mid", "not a MIDI file (no 'MThd' header)"]]
    assert len(local.held_out) > 0
    for got, want in ((on_beam.train, local.train), (on_beam.held_out, local.held_out)):
        assert [m.tolist() for m in got] == [m.tolist() for m in want]


# --------------------------------------------------------------------------
# The run-folder cache
# --------------------------------------------------------------------------

def test_cache_round_trips_melodies_and_summary(midi_dir, tmp_path):
    data = melody_data.extract_training_melodies(midi_dir=str(midi_dir), config=CONFIG,
                                                 eval_ratio=0.3)
    assert data.summary["source"] == {"midi_dir": os.path.abspath(midi_dir)}
    assert data.summary["extraction"]["min_bars"] == 2
    assert data.skipped == [("broken.mid", "not a MIDI file (no 'MThd' header)")]
    run = tmp_path / "run"
    assert melody_data.TrainingMelodies.load(run) is None
    data.save(run)
    assert sorted(os.listdir(run)) == ["melodies.json", "melodies.npz"]  # no temporaries
    loaded = melody_data.TrainingMelodies.load(run)
    assert loaded.summary == json.loads(json.dumps(data.summary))
    assert loaded.skipped == data.skipped
    for mine, theirs in ((data.train, loaded.train), (data.held_out, loaded.held_out)):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            assert b.dtype == np.int64
            np.testing.assert_array_equal(a, b)


def test_unreadable_cache_is_one_line_error(tmp_path):
    (tmp_path / "melodies.json").write_text("{}")
    (tmp_path / "melodies.npz").write_bytes(b"garbage")
    with pytest.raises(InputFileError, match="melodies.npz: unreadable melody cache .*delete it "
                                             "to rebuild it from the source"):
        melody_data.TrainingMelodies.load(tmp_path)


def test_prepare_run_melodies_reuses_the_cache_without_reading_the_source(midi_dir, tmp_path):
    run = str(tmp_path / "run")
    first, reused = melody_data.prepare_run_melodies(run, midi_dir=str(midi_dir), config=CONFIG,
                                                     eval_ratio=0.3)
    assert not reused and first.train
    for name in os.listdir(midi_dir):  # a re-read would now fail: no MIDI files
        os.remove(midi_dir / name)
    # Other presets with the same extraction settings share the cache.
    again, reused = melody_data.prepare_run_melodies(
        run, midi_dir=str(midi_dir), config=tiny("basic_rnn"), eval_ratio=0.3)
    assert reused and len(again.train) == len(first.train)
    assert len(again.held_out) == len(first.held_out)


@pytest.mark.parametrize("change, described", [
    ({"midi_dir": "other"}, "from --midi-dir {tunes}, not from --midi-dir {other}"),
    ({"examples": "x.tfrecord"}, "from --midi-dir {tunes}, not from --examples {tfrecord}"),
    ({"eval_ratio": 0.1}, "with --eval-fraction 0.3, not with --eval-fraction 0.1"),
    ({"config": tiny("attention_rnn", min_bars=3)}, "with min_bars=2, not with min_bars=3"),
    ({"config": tiny("attention_rnn", transpose_to_key=None)},
     "with transpose_to_key=0, not with transpose_to_key=None"),
])
def test_prepare_run_melodies_refuses_another_source_or_settings(midi_dir, tmp_path, change,
                                                                 described):
    run = str(tmp_path / "run")
    melody_data.prepare_run_melodies(run, midi_dir=str(midi_dir), config=CONFIG, eval_ratio=0.3)
    kwargs = dict(midi_dir=str(midi_dir), config=CONFIG, eval_ratio=0.3)
    if "examples" in change:
        kwargs.pop("midi_dir")
    kwargs.update(change)
    with pytest.raises(ParameterError) as caught:
        melody_data.prepare_run_melodies(run, **kwargs)
    described = described.format(tunes=os.path.abspath(midi_dir),
                                 other=os.path.abspath("other"),
                                 tfrecord=os.path.abspath("x.tfrecord"))
    assert str(caught.value) == (
        f"--run-dir: {run} holds melodies extracted {described}: a run resumes only on the "
        f"melodies it started with; use the same data settings or a new --run-dir")


# --------------------------------------------------------------------------
# Primers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["[60,-2,62]", "60 -2 62", " [ 60 , -2,62 ] ", "60,-2,62"])
def test_parse_primer_melody_accepts_lists_with_commas_or_spaces(text):
    assert melody_data.parse_primer_melody(text) == [60, -2, 62]


@pytest.mark.parametrize("text, message", [
    ("[6O, 62]", "--primer-melody: '6O' is not an integer event"),
    ("[60, 62", "--primer-melody: '[60' is not an integer event"),
    ("", "--primer-melody: must hold at least one event"),
    ("[ ]", "--primer-melody: must hold at least one event"),
    ("[60, 128]", "--primer-melody: event 128 is outside -2..127"),
])
def test_parse_primer_melody_names_the_flag_and_token(text, message):
    with pytest.raises(ParameterError) as caught:
        melody_data.parse_primer_melody(text)
    assert str(caught.value).startswith(message)
    with pytest.raises(ParameterError, match="^--primer: "):
        melody_data.parse_primer_melody(text, flag="--primer")


def test_extract_primer_starts_on_the_bar_of_the_first_note(make_sequence):
    sequence = make_sequence([(60, 18, 20), (62, 20, 22)])
    events, start_step = melody_data.extract_primer(sequence, steps_per_quarter=4, path="p")
    assert start_step == 16
    assert events == [-2, -2, 60, -2, 62, -2, -1]
    with pytest.raises(InputFileError, match="^p: no melody found to use as a primer"):
        melody_data.extract_primer(make_sequence([]), steps_per_quarter=4, path="p")


@pytest.mark.parametrize("primer, folded, warning", [
    ([60, -2, 62, -1], [], None),
    ([96, -2, 98, -2, 100, -1], [],
     "P: notes 96, 98, 100 lie outside the model's range 48-83; the primer was transposed "
     "into it for the model and the continuation moved back to the primer's register"),
    ([36, -2, 60, -2, 96], [36, 96],
     "P: notes 36, 96 lie outside the model's 36-semitone range around the primer and were "
     "moved by octaves for the model; the output keeps the primer as given"),
])
def test_primer_range_warning_says_transposed_or_folded(primer, folded, warning):
    assert melody_data.find_folded_notes(primer, config=CONFIG) == folded
    assert melody_data.primer_range_warning(primer, config=CONFIG, source="P") == warning
