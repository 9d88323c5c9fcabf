"""MIDI folder -> MusicVAE examples: compact classes, augmentation, split, cache, reasons."""

import dataclasses
import json

import numpy as np
import pytest
from note_seq import NoteSequence

from gensuite.common.arrays import one_hot
from gensuite.common.beam import beam_installed
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.midi.io import write_midi
from gensuite.music_vae.converters import ConverterOptions, build_converter, get_converter
from gensuite.music_vae.data import (
    ExampleSet,
    FileExamples,
    TrainingData,
    check_cached_data,
    convert_midi_dir,
    convert_sequence,
    describe_examples,
    no_examples_message,
    prepare_training_data,
    split_by_file,
    tensors_to_classes,
    transpose_melody_classes,
)

MEL_DEPTHS = (90,)


def melody(pitches, *, step_len=2, program=0, is_drum=False, numerator=4, denominator=4):
    """NoteSequence at 120 qpm: one note per ``step_len`` 16th-note steps."""
    seq = NoteSequence(ticks_per_quarter=220)
    seq.tempos.add(time=0.0, qpm=120.0)
    seq.time_signatures.add(time=0.0, numerator=numerator, denominator=denominator)
    for i, p in enumerate(pitches):
        seq.notes.add(pitch=p, velocity=90, program=program, is_drum=is_drum,
                      start_time=i * step_len * 0.125, end_time=(i + 1) * step_len * 0.125)
    seq.total_time = len(pitches) * step_len * 0.125
    return seq


def four_bars(base):
    """32 eighth notes (4 bars of 4/4), no two bars alike (windows are deduplicated)."""
    return [base + (i * 5) % 13 for i in range(32)]


# ----- class indices <-> one-hots ---------------------------------------------


def test_classes_round_trip_with_padding_and_several_outputs():
    classes = np.array([[[0, 3], [89, 511], [-1, -1]]], np.int16)
    depths = (90, 512)
    hot = one_hot(classes, depths)
    assert hot.shape == (1, 3, 602)
    assert hot[0, 0, 0] and hot[0, 0, 90 + 3] and hot[0, 1, 89] and hot[0, 1, 601]
    assert not hot[0, 2].any()  # padding is an all-zero row
    assert hot.sum() == 4
    np.testing.assert_array_equal(tensors_to_classes(hot, depths), classes)


# ----- augmentation -------------------------------------------------------------


def test_transposition_keeps_notes_in_range_and_intervals():
    # Row 0: notes 2..10 (can only go up), row 1: top of the range (only down),
    # row 2: no notes. Classes 0/1 (no event, note off) and -1 never move.
    rows = np.array([[2, 0, 10, 1, -1], [80, 89, 0, 1, -1], [0, 1, 0, 1, -1]], np.int16)
    classes = rows[..., None]
    rng = np.random.default_rng(0)
    shifts = []
    for _ in range(300):
        out = transpose_melody_classes(classes, rng=rng, transpose_range=(-5, 5), depth=90)
        shift = out[:, 0, 0].astype(int) - rows[:, 0]
        # Every note of a row moves by the same amount; other classes stay.
        np.testing.assert_array_equal(out[0, :, 0], np.where(rows[0] >= 2, rows[0] + shift[0],
                                                             rows[0]))
        np.testing.assert_array_equal(out[1, :, 0], np.where(rows[1] >= 2, rows[1] + shift[1],
                                                             rows[1]))
        np.testing.assert_array_equal(out[2], classes[2])
        shifts.append(shift[:2])
    shifts = np.array(shifts)
    assert sorted(set(shifts[:, 0])) == [0, 1, 2, 3, 4, 5]
    assert sorted(set(shifts[:, 1])) == [-5, -4, -3, -2, -1, 0]
    np.testing.assert_array_equal(classes[..., 0], rows)  # input untouched


def test_batches_are_seeded_float_and_cover_every_example_each_pass():
    n = 10
    classes = np.tile(np.arange(n, dtype=np.int16)[:, None, None] + 2, (1, 32, 1))
    examples = ExampleSet(classes, np.full(n, 32, np.int32), np.arange(n, dtype=np.int32),
                          tuple(f"f{i}" for i in range(n)))
    batches = examples.iterate_batches(batch_size=5, output_depths=MEL_DEPTHS, seed=3)
    first = [next(batches) for _ in range(2)]
    inputs, outputs, lengths = first[0]
    assert inputs.shape == (5, 32, 90) and inputs.dtype == np.float32
    assert lengths.tolist() == [32] * 5
    seen = sorted(int(np.argmax(b[1][i, 0])) - 2 for b in first for i in range(5))
    assert seen == list(range(n))  # one pass = every example once
    again = examples.iterate_batches(batch_size=5, output_depths=MEL_DEPTHS, seed=3)
    np.testing.assert_array_equal(next(again)[1], first[0][1])
    # A set smaller than a batch is repeated to fill it.
    small = examples.iterate_batches(batch_size=25, output_depths=MEL_DEPTHS, seed=0)
    assert next(small)[0].shape == (25, 32, 90)


# ----- conversion, reasons ------------------------------------------------------


def write_folder(folder, sequences, *, extra=None):
    folder.mkdir(parents=True, exist_ok=True)
    for i, seq in enumerate(sequences):
        write_midi(seq, folder / f"song_{i}.mid")
    for name, data in (extra or {}).items():
        (folder / name).write_bytes(data)
    return folder


def test_drum_only_folder_says_why(tmp_path):
    drums = [melody([36, 38] * 16, is_drum=True) for _ in range(3)]
    folder = write_folder(tmp_path / "drums", drums)
    converter = get_converter("mel_2bar")
    results = convert_midi_dir(folder, converter, n_steps=32, output_depths=MEL_DEPTHS,
                               num_workers=1)
    assert no_examples_message(results, converter) == (
        "0 two-bar melodies found in 3 files: only drum tracks (no pitched notes) (3 files)")


def test_unreadable_and_unusable_files_are_counted_not_raised(tmp_path):
    folder = write_folder(tmp_path / "mix", [melody(four_bars(60)), melody([10] * 32)],
                          extra={"empty.mid": b"", "junk.mid": b"not midi at all"})
    converter = get_converter("mel_2bar")
    results = convert_midi_dir(folder, converter, n_steps=32, output_depths=MEL_DEPTHS,
                               num_workers=1)
    by_name = {r.name: r for r in results}
    assert len(by_name["song_0.mid"]) == 3  # bars 1-2, 2-3, 3-4
    assert by_name["empty.mid"].unreadable == "empty file (0 bytes)"
    assert by_name["song_1.mid"].reasons == ("no pitched notes in pitch range 21-108",)
    assert no_examples_message(results, converter) == (
        "3 two-bar melodies found in 4 files: empty file (1 file); "
        "no pitched notes in pitch range 21-108 (1 file); not a MIDI file (1 file)")


@pytest.mark.skipif(not beam_installed(), reason="Apache Beam is not installed")
@pytest.mark.parametrize("config", ["mel_2bar", "drums_2bar"])
def test_beam_conversion_gives_the_pools_results_in_file_order(tmp_path, config):
    # drums_2bar: encoder inputs differ from the targets, so they travel too.
    pieces = [melody(four_bars(60 + i), is_drum=config == "drums_2bar") for i in range(5)]
    folder = write_folder(tmp_path / "mix", pieces + [melody([10] * 32)],
                          extra={"empty.mid": b"", "junk.mid": b"not midi at all"})
    from gensuite.music_vae.configs import get_config

    converter = get_converter(config)
    kwargs = dict(n_steps=32, output_depths=get_config(f"cpu-{config}").output_depths,
                  num_workers=1)
    local = convert_midi_dir(folder, converter, **kwargs)
    on_beam = convert_midi_dir(folder, converter, runner="DirectRunner", **kwargs)
    assert [r.name for r in on_beam] == [r.name for r in local]
    assert any(r.inputs is not None for r in local) == (config == "drums_2bar")
    for got, want in zip(on_beam, local):
        assert (got.reasons, got.unreadable) == (want.reasons, want.unreadable)
        for field in ("classes", "lengths", "inputs"):
            a, b = getattr(got, field), getattr(want, field)
            assert (a is None) == (b is None) and (a is None or np.array_equal(a, b))
            assert a is None or a.dtype == b.dtype


def test_held_out_selection_equals_the_converters_evaluation_mode():
    # 16 bars -> 15 windows; evaluation mode keeps 5 evenly spaced ones.
    seq = melody(np.random.default_rng(0).integers(55, 80, 128).tolist())
    converter = build_converter("mel_2bar")
    every = convert_sequence(seq, dataclasses.replace(converter, max_tensors_per_notesequence=None),
                             name="a", n_steps=32, output_depths=MEL_DEPTHS)
    held = ExampleSet.from_files([every], max_per_file=converter.max_tensors_per_notesequence)
    expected = converter.to_tensors(seq)
    assert len(every) == 15 and len(held) == 5
    np.testing.assert_array_equal(one_hot(held.classes, MEL_DEPTHS),
                                  expected.outputs)


def test_converter_options():
    assert build_converter("mel_2bar").valid_programs == tuple(range(32))
    bent = build_converter("mel_2bar", ConverterOptions(any_meter=True, any_program=True))
    assert bent.valid_programs is None and bent.ignore_time_signatures
    assert bent.transpose_range == (-5, 5)
    with pytest.raises(ParameterError, match="--any-program: only melody converters"):
        build_converter("drums_2bar", ConverterOptions(any_program=True))
    assert describe_examples(get_converter("mel_16bar")) == "16-bar melodies"
    assert describe_examples(get_converter("drums_2bar"), plural=False) == "two-bar drum pattern"
    # 3/4 and voice programs (corpus exports) need both options.
    waltz = melody(four_bars(60), program=53, numerator=3)
    assert len(build_converter("mel_2bar").to_tensors(waltz)) == 0
    assert len(bent.to_tensors(waltz)) > 0


# ----- split and cache -----------------------------------------------------------


def fake_results(n):
    return [FileExamples(f"f{i}", np.full((2, 32, 1), i + 2, np.int16),
                         np.full(2, 32, np.int32)) for i in range(n)]


def test_split_is_by_file_seeded_and_disjoint():
    results = fake_results(20) + [FileExamples("empty", np.zeros((0, 32, 1), np.int16),
                                               np.zeros(0, np.int32), reasons=("no notes",))]
    train, held = split_by_file(results, eval_fraction=0.2, seed=1)
    assert len(held) == 4 and len(train) == 16
    assert not {r.name for r in train} & {r.name for r in held}
    assert "empty" not in {r.name for r in train + held}
    again = split_by_file(results, eval_fraction=0.2, seed=1)[1]
    assert [r.name for r in again] == [r.name for r in held]
    assert [r.name for r in split_by_file(results, eval_fraction=0.2, seed=2)[1]] != [
        r.name for r in held]
    assert len(split_by_file(fake_results(3), eval_fraction=0.01, seed=0)[1]) == 1
    assert split_by_file(fake_results(3), eval_fraction=0, seed=0)[1] == []
    with pytest.raises(NoExamplesError, match="at least 2 files, got 1"):
        split_by_file(fake_results(1), eval_fraction=0.1, seed=0)
    with pytest.raises(ParameterError, match=r"--eval-fraction: must be in \[0, 1\)"):
        split_by_file(results, eval_fraction=1.0, seed=0)


def test_training_data_cache_round_trip_and_resume_check(tmp_path):
    folder = write_folder(tmp_path / "songs", [melody(four_bars(60 + 2 * i)) for i in range(4)])
    converter = build_converter("mel_2bar")
    kwargs = dict(converter_name="mel_2bar", options=ConverterOptions(), eval_fraction=0.25,
                  seed=0)
    data = prepare_training_data(midi_dir=str(folder), examples=None, converter=converter,
                                 n_steps=32, output_depths=MEL_DEPTHS, num_workers=1, **kwargs)
    assert data.summary["train"] == {"n_files": 3, "n_examples": 9}
    assert data.summary["held_out"] == {"n_files": 1, "n_examples": 3}
    assert not set(data.train.files) & set(data.held_out.files)
    data.save(tmp_path / "run")
    loaded = TrainingData.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.train.classes, data.train.classes)
    assert loaded.held_out.files == data.held_out.files
    assert loaded.summary == json.loads(json.dumps(data.summary))
    check_cached_data(loaded, source={"midi_dir": str(folder.resolve())}, **kwargs)
    check_cached_data(loaded, source=None, **kwargs)
    with pytest.raises(ParameterError, match="made with seed=0, this command asks for 5"):
        check_cached_data(loaded, source=None, **{**kwargs, "seed": 5})
    assert TrainingData.load(tmp_path / "nothing") is None
    np.savez(tmp_path / "run" / "examples.npz", train_classes=data.train.classes)  # keys missing
    with pytest.raises(InputFileError, match="examples.npz: unreadable example cache .*delete it"):
        TrainingData.load(tmp_path / "run")
