"""NSynth-format data (gensuite.audio.nsynth): writer, reader, soundfont builder, ``data nsynth`` CLI."""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest

from gensuite.audio import nsynth
from gensuite.audio import soundfont as synth
from gensuite.audio.nsynth import (
    DEFAULT_PROGRAMS,
    INSTRUMENT_FAMILIES,
    NSynthNote,
    build_nsynth,
    gm_family_and_source,
    read_nsynth,
    rendered_note,
    write_nsynth,
)
from gensuite.audio.pitch import pitch_accuracy
from gensuite.cli import main as cli_main
from gensuite.common.beam import beam_installed
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.common.tfutil import import_tensorflow

needs_fluidsynth = pytest.mark.fluidsynth

# The real NSynth's features and how each is stored (magenta.tensorflow.org/datasets/nsynth).
NSYNTH_FEATURES = {
    "note": ("int64_list", 1), "note_str": ("bytes_list", 1),
    "instrument": ("int64_list", 1), "instrument_str": ("bytes_list", 1),
    "pitch": ("int64_list", 1), "velocity": ("int64_list", 1),
    "sample_rate": ("int64_list", 1), "audio": ("float_list", 64000),
    "qualities": ("int64_list", 10), "qualities_str": ("bytes_list", None),
    "instrument_family": ("int64_list", 1), "instrument_family_str": ("bytes_list", 1),
    "instrument_source": ("int64_list", 1), "instrument_source_str": ("bytes_list", 1),
}


@pytest.fixture
def run_cli(monkeypatch):
    """``gensuite`` with only the data group registered (others may be half-built)."""
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("data",))
    return cli_main.main


def make_note(program: int, pitch: int, velocity: int, *, n_samples: int = 64000) -> NSynthNote:
    """A note whose audio encodes its labels, so that mix-ups show."""
    audio = np.linspace(-1, 1, n_samples, dtype=np.float32) * (pitch / 127) + velocity / 1000
    return rendered_note(program=program, family=nsynth.program_family(program), pitch=pitch,
                         velocity=velocity, audio=audio.astype(np.float32))


def raw_example(*, pitch: int, source: int, family: int, n_samples: int = 64000) -> bytes:
    """A record as the real NSynth has it, built by hand rather than by our writer."""
    tf = import_tensorflow()

    def ints(*v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=v))

    def strings(*v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[s.encode() for s in v]))

    name = f"{INSTRUMENT_FAMILIES[family]}_{nsynth.INSTRUMENT_SOURCES[source]}_033"
    features = {
        "note": ints(201034), "note_str": strings(f"{name}-{pitch:03d}-050"),
        "instrument": ints(417), "instrument_str": strings(name),
        "pitch": ints(pitch), "velocity": ints(50), "sample_rate": ints(16000),
        "audio": tf.train.Feature(float_list=tf.train.FloatList(
            value=np.full(n_samples, 0.25, np.float32))),
        "qualities": ints(0, 1, 0, 0, 0, 0, 0, 0, 0, 0), "qualities_str": strings("dark"),
        "instrument_family": ints(family),
        "instrument_family_str": strings(INSTRUMENT_FAMILIES[family]),
        "instrument_source": ints(source),
        "instrument_source_str": strings(nsynth.INSTRUMENT_SOURCES[source]),
    }
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def negated_soundfont(source: str, path) -> str:
    """A copy of ``source`` whose samples are negated: a distinct soundfont whose notes are
    the source's upside down (same pitch and peak, so the same notes pass the checks)."""
    blob = bytearray(pathlib.Path(source).read_bytes())
    # The sdta list holds one smpl chunk of 16-bit samples; SF2 requires it first.
    start = blob.index(b"sdtasmpl") + 8
    size = int.from_bytes(blob[start:start + 4], "little")
    samples = np.frombuffer(bytes(blob[start + 4:start + 4 + size]), "<i2").astype(np.int32)
    blob[start + 4:start + 4 + size] = np.clip(-samples, -32768, 32767).astype("<i2").tobytes()
    pathlib.Path(path).write_bytes(blob)
    return str(path)


@pytest.fixture(scope="module")
def negated(timgm, tmp_path_factory) -> str:
    """A second soundfont, available wherever TimGM6mb is."""
    return negated_soundfont(timgm, tmp_path_factory.mktemp("sf") / "negated.sf2")


def write_records(path, records) -> str:
    tf = import_tensorflow()
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return str(path)


# --- labels ---

def test_default_programs_are_acoustic_and_cover_every_acoustic_family():
    families = {DEFAULT_PROGRAMS[p] for p in DEFAULT_PROGRAMS}
    assert families == set(INSTRUMENT_FAMILIES) - {"synth_lead"}
    for program, family in DEFAULT_PROGRAMS.items():
        assert gm_family_and_source(program) == (INSTRUMENT_FAMILIES.index(family), 0)


@pytest.mark.parametrize("program, family, source", [
    (0, "keyboard", "acoustic"), (4, "keyboard", "electronic"), (12, "mallet", "acoustic"),
    (21, "reed", "acoustic"), (29, "guitar", "electronic"), (38, "bass", "synthetic"),
    (42, "string", "acoustic"), (81, "synth_lead", "synthetic"), (109, "reed", "acoustic"),
])
def test_gm_family_and_source(program, family, source):
    assert gm_family_and_source(program) == (INSTRUMENT_FAMILIES.index(family),
                                             nsynth.INSTRUMENT_SOURCES.index(source))


def test_note_names_follow_nsynth():
    note = make_note(25, 52, 75)
    assert note.instrument_str == "guitar_acoustic_025"
    assert note.note_str == "guitar_acoustic_025-052-075"
    assert note.qualities_str == []


# --- writer and reader ---

def test_written_records_have_nsynth_features_and_types(tmp_path):
    [shard] = write_nsynth([make_note(0, 60, 100)], tmp_path)
    tf = import_tensorflow()
    [record] = list(tf.data.TFRecordDataset(shard).as_numpy_iterator())
    feature = tf.train.Example.FromString(record).features.feature
    assert set(feature) == set(NSYNTH_FEATURES)
    for name, (kind, length) in NSYNTH_FEATURES.items():
        assert feature[name].WhichOneof("kind") == kind, name
        if length is not None:
            assert len(getattr(feature[name], kind).value) == length, name
    assert feature["note_str"].bytes_list.value == [b"keyboard_acoustic_000-060-100"]
    assert feature["instrument_source_str"].bytes_list.value == [b"acoustic"]


def test_writer_reader_round_trip(tmp_path):
    notes = [make_note(p, pitch, v) for p in (0, 24, 73) for pitch in (36, 60) for v in (75, 127)]
    shards = write_nsynth(notes, tmp_path, n_shards=3)
    assert [os.path.basename(s) for s in shards] == [
        f"nsynth-0000{i}-of-00003.tfrecord" for i in range(3)]
    data = read_nsynth(tmp_path)
    assert len(data) == len(notes) and data.skipped == () and data.n_filtered_out == 0
    by_name = {note.note_str: note for note in notes}
    assert sorted(data.note_str) == sorted(by_name)
    for i, name in enumerate(data.note_str):
        note = by_name[name]
        np.testing.assert_array_equal(data.audio[i], note.audio)
        assert (data.pitch[i], data.velocity[i], data.instrument[i], data.instrument_family[i],
                data.instrument_source[i]) == (note.pitch, note.velocity, note.instrument,
                                               note.instrument_family, note.instrument_source)
    assert data.audio.dtype == np.float32 and data.audio.shape == (12, 64000)

    index = json.loads((tmp_path / "examples.json").read_text())
    assert index["flute_acoustic_073-060-127"] == {
        "note": (73 * 128 + 60) * 128 + 127, "note_str": "flute_acoustic_073-060-127",
        "instrument": 73, "instrument_str": "flute_acoustic_073", "pitch": 60,
        "velocity": 127, "sample_rate": 16000, "qualities": [0] * 10, "qualities_str": [],
        "instrument_family": 2, "instrument_family_str": "flute", "instrument_source": 0,
        "instrument_source_str": "acoustic"}
    assert len(index) == 12


def test_rewriting_with_fewer_shards_removes_the_old_ones(tmp_path):
    write_nsynth([make_note(0, 60, v) for v in (50, 100)], tmp_path, n_shards=2)
    write_nsynth([make_note(0, 60, 75)], tmp_path, n_shards=1)
    assert sorted(os.listdir(tmp_path)) == ["examples.json", "nsynth-00000-of-00001.tfrecord"]
    assert list(read_nsynth(tmp_path).velocity) == [75]


def test_writer_refuses_duplicate_notes_and_leaves_no_files(tmp_path):
    with pytest.raises(ParameterError, match="note_str: must be unique"):
        write_nsynth([make_note(0, 60, 100), make_note(0, 60, 100)], tmp_path / "out")
    assert not os.listdir(tmp_path / "out")


def test_reader_reads_real_nsynth_records_and_applies_gansynth_filters(tmp_path):
    write_records(tmp_path / "nsynth-test.tfrecord", [
        raw_example(pitch=22, source=0, family=0),   # below GANSynth's 24-84
        raw_example(pitch=40, source=2, family=0),   # synthetic bass
        raw_example(pitch=60, source=0, family=3),   # acoustic guitar
        raw_example(pitch=84, source=1, family=4),   # electronic keyboard
    ])
    data = read_nsynth(tmp_path)
    assert list(data.pitch) == [40, 60, 84] and data.n_filtered_out == 1
    assert list(data.note_str) == ["bass_synthetic_033-040-050", "guitar_acoustic_033-060-050",
                                   "keyboard_electronic_033-084-050"]
    assert np.all(data.audio == np.float32(0.25))
    assert list(read_nsynth(tmp_path, acoustic_only=True).pitch) == [60]

    assert list(read_nsynth(tmp_path, pitch_range=None).pitch) == [22, 40, 60, 84]
    assert list(read_nsynth(tmp_path, instrument_families=["keyboard", 0]).pitch) == [40, 84]


def test_reader_says_which_file_each_note_came_from(tmp_path):
    write_records(tmp_path / "a.tfrecord", [raw_example(pitch=60, source=0, family=3)])
    write_records(tmp_path / "b.tfrecord", [raw_example(pitch=p, source=0, family=3)
                                            for p in (61, 62)])
    data = read_nsynth([tmp_path / "b.tfrecord", tmp_path / "a.tfrecord"])
    assert [os.path.basename(data.files[i]) for i in data.file_index] == [
        "b.tfrecord", "b.tfrecord", "a.tfrecord"]
    assert list(data.pitch) == [61, 62, 60]


def test_reader_crops_or_pads_audio_to_n_samples(tmp_path):
    write_records(tmp_path / "a.tfrecord", [raw_example(pitch=60, source=0, family=3,
                                                        n_samples=1000)])
    data = read_nsynth(tmp_path, n_samples=1500)
    assert data.audio.shape == (1, 1500)
    assert np.all(data.audio[0, :1000] == 0.25) and np.all(data.audio[0, 1000:] == 0)
    assert read_nsynth(tmp_path, n_samples=400).audio.shape == (1, 400)


def test_corrupt_shard_is_skipped_reported_and_warned(tmp_path):
    good, bad = write_nsynth([make_note(0, 60, v) for v in (50, 75, 100, 127)], tmp_path,
                             n_shards=2)
    blob = bytearray(open(bad, "rb").read())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte inside the audio: checksum mismatch
    with open(bad, "wb") as f:
        f.write(blob)
    with pytest.warns(UserWarning, match="skipped, corrupt TFRecord"):
        data = read_nsynth(tmp_path)
    assert data.files == (good,)
    assert data.file_index.tolist() == [0, 0]
    assert data.skipped == ({"file": bad,
                             "reason": "corrupt TFRecord (checksum mismatch or truncated)"},)
    assert list(data.velocity) == [50, 100]  # round-robin: shard 0 holds notes 0 and 2


def test_truncated_and_foreign_files_are_skipped(tmp_path):
    [shard] = write_nsynth([make_note(0, 60, 100)], tmp_path / "ok")
    truncated = tmp_path / "truncated.tfrecord"
    truncated.write_bytes(open(shard, "rb").read()[:5000])
    foreign = write_records(tmp_path / "foreign.tfrecord", [b"not an Example"])
    with pytest.warns(UserWarning):
        data = read_nsynth([shard, truncated, foreign])
    assert len(data) == 1
    reasons = {os.path.basename(s["file"]): s["reason"] for s in data.skipped}
    assert reasons["truncated.tfrecord"] == "corrupt TFRecord (checksum mismatch or truncated)"
    assert reasons["foreign.tfrecord"].startswith("records are not NSynth examples")


def test_nothing_readable_is_an_error(tmp_path):
    (tmp_path / "junk.tfrecord").write_bytes(b"\x00" * 64)
    with pytest.warns(UserWarning), pytest.raises(NoExamplesError,
                                                  match="none of the 1 NSynth files"):
        read_nsynth(tmp_path)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"paths_or_dir": "MISSING"}, InputFileError, "no such file or folder"),
    ({"paths_or_dir": "EMPTY"}, InputFileError, "holds no *.tfrecord files"),
    ({"instrument_families": ["piano"]}, ParameterError,
     "instrument_families: 'piano' is not a family id 0-10"),
    ({"pitch_range": (90, 30)}, ParameterError, "pitch_range: must satisfy 0 <= low <= high"),
])
def test_reader_rejects_bad_arguments(tmp_path, kwargs, error, message):
    (tmp_path / "empty").mkdir()
    kwargs = {"paths_or_dir": str(tmp_path)} | kwargs
    if kwargs["paths_or_dir"] in ("MISSING", "EMPTY"):
        kwargs["paths_or_dir"] = str(tmp_path / kwargs["paths_or_dir"].lower())
    with pytest.raises(error, match=message.replace("*", r"\*").replace("(", r"\(")):
        read_nsynth(**kwargs)


# --- building from a soundfont ---

@needs_fluidsynth
@pytest.mark.slow
def test_build_renders_checks_and_drops_silent_notes(timgm, tmp_path):
    report = build_nsynth(out_dir=tmp_path, soundfont=timgm, programs=[0, 73],
                          pitches=[48, 72], velocities=[1, 100], num_workers=1)
    # Velocity 1 peaks near 1e-5 in TimGM6mb: below the -60 dBFS audibility bar.
    assert (report.n_planned, report.n_kept, report.n_dropped) == (8, 4, 4)
    assert report.drop_reasons == {"silent": 4}
    assert {(d["program"], d["pitch"], d["velocity"]) for d in report.dropped} == {
        (p, pitch, 1) for p in (0, 73) for pitch in (48, 72)}
    assert [(p["program"], p["family"], p["kept"], p["dropped"]) for p in report.per_program] \
        == [(0, "keyboard", 2, 2), (73, "flute", 2, 2)]
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["n_kept"] == 4 and saved["n_dropped"] == 4

    data = read_nsynth(tmp_path)
    assert data.audio.shape == (4, 64000)
    assert set(data.velocity) == {100}
    assert np.all(np.max(np.abs(data.audio), axis=1) > 0.01)
    assert pitch_accuracy(data.audio, data.pitch, sample_rate=16000) == 1.0
    assert set(zip(data.instrument, data.instrument_family)) == {(0, 4), (73, 2)}


@needs_fluidsynth
def test_build_drops_off_pitch_notes_and_programs_without_preset(timgm, tmp_path,
                                                                  monkeypatch):
    from gensuite.audio import pitch

    real_estimate = pitch.estimate_note_f0_hz

    def sharp_at_60(wave, *, sample_rate, midi_pitch, **kwargs):
        f0 = real_estimate(wave, sample_rate=sample_rate, midi_pitch=midi_pitch, **kwargs)
        return f0 * 2 ** (1 / 12) if midi_pitch == 60 else f0

    real_preset_name = synth.SoundfontRenderer.preset_name
    monkeypatch.setattr(pitch, "estimate_note_f0_hz", sharp_at_60)
    monkeypatch.setattr(synth.SoundfontRenderer, "preset_name",
                        lambda self, p, **k: None if p == 5 else real_preset_name(self, p, **k))
    report = build_nsynth(out_dir=tmp_path, soundfont=timgm, programs=[0, 5],
                          pitches=[55, 60], velocities=[100], num_workers=1)
    assert report.n_kept == 1
    reasons = {(d["program"], d["pitch"]): d["reason"] for d in report.dropped}
    assert reasons[(0, 60)].startswith("off pitch: +10")  # +100 cents, pYIN's 10-cent bins
    assert reasons[(5, 55)] == reasons[(5, 60)] == \
        "no preset: the soundfont has no bank 0 preset for this program"
    assert report.drop_reasons == {"off pitch": 1, "no preset": 2}


@needs_fluidsynth
@pytest.mark.slow
def test_build_in_worker_processes_matches_a_serial_build(timgm, tmp_path):
    kwargs = dict(soundfont=timgm, programs=[24, 40], pitches=[40, 52, 64, 76],
                  velocities=[90])
    build_nsynth(out_dir=tmp_path / "serial", num_workers=1, **kwargs)
    report = build_nsynth(out_dir=tmp_path / "parallel", num_workers=2, **kwargs)
    assert report.n_kept == 8
    serial, parallel = read_nsynth(tmp_path / "serial"), read_nsynth(tmp_path / "parallel")
    assert list(serial.note_str) == list(parallel.note_str)
    np.testing.assert_allclose(serial.audio, parallel.audio, atol=1e-3)


@needs_fluidsynth
@pytest.mark.skipif(not beam_installed(), reason="Apache Beam is not installed")
@pytest.mark.parametrize("n_soundfonts", [1, 2])
def test_build_on_beam_writes_the_pools_notes_index_and_report(timgm, negated, tmp_path,
                                                               n_soundfonts):
    soundfont = timgm if n_soundfonts == 1 else [timgm, negated]
    kwargs = {"soundfont": soundfont, "programs": [24, 40, 120], "pitches": [40, 64],
              "velocities": [90], "examples_per_shard": 2, "num_workers": 1}
    local = build_nsynth(out_dir=tmp_path / "local", **kwargs)
    on_beam = build_nsynth(out_dir=tmp_path / "beam", runner="DirectRunner", **kwargs)
    assert on_beam.n_kept == local.n_kept >= 4 * n_soundfonts
    assert on_beam.dropped == local.dropped and on_beam.per_program == local.per_program
    assert on_beam.soundfonts == local.soundfonts and len(local.soundfonts) == n_soundfonts
    assert [os.path.basename(p) for p in on_beam.shards] == [
        os.path.basename(p) for p in local.shards]
    assert sorted(os.listdir(tmp_path / "beam")) == sorted(os.listdir(tmp_path / "local"))
    assert ((tmp_path / "beam" / "examples.json").read_text()
            == (tmp_path / "local" / "examples.json").read_text())
    mine, theirs = read_nsynth(tmp_path / "beam"), read_nsynth(tmp_path / "local")
    order, their_order = np.argsort(mine.note_str), np.argsort(theirs.note_str)
    assert list(mine.note_str[order]) == list(theirs.note_str[their_order])
    np.testing.assert_allclose(mine.audio[order], theirs.audio[their_order], atol=1e-3)


@needs_fluidsynth
def test_build_from_two_soundfonts_is_the_union_of_single_builds(timgm, negated, tmp_path,
                                                                  monkeypatch):
    kwargs = {"programs": [0, 73], "pitches": [60], "velocities": [1, 100], "num_workers": 1}
    build_nsynth(out_dir=tmp_path / "a", soundfont=timgm, **kwargs)
    build_nsynth(out_dir=tmp_path / "b", soundfont=[negated], **kwargs)  # a list of one
    loads = []

    class Counted(synth.SoundfontRenderer):
        def __init__(self, soundfont, **kwargs):
            loads.append(os.path.basename(soundfont))
            super().__init__(soundfont, **kwargs)

    monkeypatch.setattr(synth, "SoundfontRenderer", Counted)
    report = build_nsynth(out_dir=tmp_path / "ab", soundfont=[timgm, negated], **kwargs)
    # Asked once for presets, then once to render: the jobs come grouped by soundfont.
    assert loads == ["TimGM6mb.sf2", "negated.sf2"] * 2

    assert (report.n_planned, report.n_kept, report.drop_reasons) == (8, 4, {"silent": 4})
    assert report.soundfont is None
    assert [(s["index"], s["name"], s["path"], s["instruments"]) for s in report.soundfonts] \
        == [(0, "TimGM6mb.sf2", timgm, [0, 127]), (1, "negated.sf2", negated, [128, 255])]
    assert [(p["soundfont"], p["instrument"], p["program"], p["kept"], p["dropped"])
            for p in report.per_program] == [
        ("TimGM6mb.sf2", 0, 0, 1, 1), ("TimGM6mb.sf2", 73, 73, 1, 1),
        ("negated.sf2", 128, 0, 1, 1), ("negated.sf2", 201, 73, 1, 1)]
    assert [(d["soundfont"], d["instrument"], d["velocity"]) for d in report.dropped] == [
        ("TimGM6mb.sf2", 0, 1), ("TimGM6mb.sf2", 73, 1), ("negated.sf2", 128, 1),
        ("negated.sf2", 201, 1)]
    saved = json.loads((tmp_path / "ab" / "report.json").read_text())
    assert [s["name"] for s in saved["soundfonts"]] == ["TimGM6mb.sf2", "negated.sf2"]

    both = read_nsynth(tmp_path / "ab")
    assert sorted(both.instrument) == [0, 73, 128, 201]
    index = json.loads((tmp_path / "ab" / "examples.json").read_text())
    assert {(e["instrument"], e["instrument_str"], e["soundfont"]) for e in index.values()} == {
        (0, "keyboard_acoustic_000", "TimGM6mb.sf2"), (73, "flute_acoustic_073", "TimGM6mb.sf2"),
        (128, "keyboard_acoustic_128", "negated.sf2"), (201, "flute_acoustic_201", "negated.sf2")}
    for name, soundfont_index in (("a", 0), ("b", 1)):
        alone = read_nsynth(tmp_path / name)
        # One soundfont: NSynth's entries, ids = programs, whichever soundfont it is.
        assert sorted(alone.instrument) == [0, 73]
        assert all("soundfont" not in e for e in
                   json.loads((tmp_path / name / "examples.json").read_text()).values())
        for i, instrument in enumerate(alone.instrument):
            [j] = np.flatnonzero(both.instrument == instrument + 128 * soundfont_index)
            assert (both.pitch[j], both.velocity[j]) == (alone.pitch[i], alone.velocity[i])
            np.testing.assert_array_equal(both.audio[j], alone.audio[i])
    # The second soundfont really is another one: its notes are the first's upside down.
    a = read_nsynth(tmp_path / "a")
    b = read_nsynth(tmp_path / "b")
    assert np.max(np.abs(a.audio - b.audio)) > 0.01
    np.testing.assert_allclose(b.audio, -a.audio, atol=1e-3)


def test_build_refuses_repeated_and_bad_soundfonts_before_writing(tmp_path):
    fake = tmp_path / "fake.sf2"  # passes the header check; nothing here renders
    fake.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    (tmp_path / "link.sf2").symlink_to(fake)
    out = tmp_path / "out"
    cases = [
        ([fake, fake], ParameterError, f"soundfont: must not repeat a file, got '{fake}' twice"),
        ([fake, tmp_path / "link.sf2"], ParameterError,
         f"soundfont: must not repeat a file, '{tmp_path / 'link.sf2'}' is the same file as "
         f"'{fake}'"),
        ([], ParameterError, "soundfont: must name at least one file, got none"),
        ([fake, tmp_path / "missing.sf2"], InputFileError,
         f"{tmp_path / 'missing.sf2'}: no such soundfont file"),
        ([fake, tmp_path], InputFileError,
         f"{tmp_path}: is a folder, expected a .sf2/.sf3 soundfont"),
    ]
    for soundfont, error, message in cases:
        with pytest.raises(error) as exc:
            build_nsynth(out_dir=out, soundfont=soundfont, programs=[0], pitches=[60],
                         velocities=[100])
        assert str(exc.value) == message
    assert not out.exists()


def test_instrument_ids_pack_soundfont_and_program():
    assert nsynth.instrument_id(soundfont_index=0, program=73) == 73
    assert nsynth.instrument_id(soundfont_index=2, program=0) == 256
    note = rendered_note(program=25, family=3, pitch=52, velocity=75, soundfont_index=1,
                         soundfont="B.sf2", audio=np.zeros(4, np.float32))
    assert (note.instrument, note.note, note.note_str) == (
        153, (153 * 128 + 52) * 128 + 75, "guitar_acoustic_153-052-075")
    assert note.index_entry()["soundfont"] == "B.sf2"
    assert "soundfont" not in make_note(25, 52, 75).index_entry()


def test_worker_renderers_keep_the_most_recently_used(monkeypatch):
    loads = []
    monkeypatch.setattr(synth, "SoundfontRenderer",
                        lambda soundfont, **kwargs: loads.append(soundfont) or object())
    monkeypatch.setattr(nsynth, "_RENDERERS", {})
    for soundfont, keep in (("a", 1), ("a", 1), ("b", 1), ("a", 1),   # the pool: one kept
                            ("b", 2), ("a", 2), ("b", 2), ("c", 2), ("b", 2), ("a", 2)):
        nsynth._worker_renderer(soundfont, 16000, keep=keep)
    assert loads == ["a", "b", "a", "b", "c", "a"]


@needs_fluidsynth
@pytest.mark.parametrize("runner", ["local", pytest.param("DirectRunner", marks=pytest.mark.skipif(
    not beam_installed(), reason="Apache Beam is not installed"))])
def test_build_with_no_passing_note_writes_nothing(timgm, tmp_path, runner):
    with pytest.raises(NoExamplesError, match="none of the 2 notes passed the checks"):
        build_nsynth(out_dir=tmp_path, soundfont=timgm, programs=[0], pitches=[60],
                     velocities=[1, 2], num_workers=1, runner=runner)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"programs": []}, "programs: must not be empty"),
    ({"pitches": [60, 128]}, "pitches: must be integers in [0, 127], got 128"),
    ({"velocities": [0]}, "velocities: must be integers in [1, 127], got 0"),
    ({"programs": [3, 3]}, "programs: must not repeat a value"),
])
def test_build_rejects_bad_lists(tmp_path, kwargs, message):
    with pytest.raises(ParameterError) as exc:
        build_nsynth(out_dir=tmp_path, **kwargs)
    assert str(exc.value).startswith(message)


# --- command line ---

@pytest.mark.parametrize("args, message", [
    (["--soundfont", "{tmp}/missing.sf2"], "gensuite data: error: {tmp}/missing.sf2: no such "
                                           "soundfont file\n"),
    (["--soundfont", "{tmp}/song.mid"], "gensuite data: error: {tmp}/song.mid: not a SoundFont "
                                        "2/3 file (no RIFF 'sfbk' header)\n"),
    (["--velocities", "0,100"], "gensuite data: error: velocities: must be integers in "
                                "[1, 127], got 0\n"),
])
def test_cli_bad_input_is_one_line_and_exit_2(run_cli, tmp_path, capsys, args, message):
    (tmp_path / "song.mid").write_bytes(b"MThd\x00\x00\x00\x06")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc = run_cli(["data", "nsynth", "--out", str(tmp_path / "out"), *args])
    assert rc == 2
    assert capsys.readouterr().err == message.replace("{tmp}", str(tmp_path))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, value, rule", [
    ("--programs", "", "must name at least one number, got an empty list"),
    ("--programs", "0,x", "must be LOW-HIGH or N with integers, got 'x' (in the list '0,x')"),
    ("--pitches", "84-24", "LOW must be <= HIGH, got '84-24'"),
    ("--pitches", "24-200", "must be within 0-127, got '24-200'"),
    ("--workers", "0", "must be >= 1, got 0"),
])
def test_cli_malformed_lists_are_usage_errors(run_cli, tmp_path, capsys, option, value, rule):
    with pytest.raises(SystemExit) as exc:
        run_cli(["data", "nsynth", "--out", str(tmp_path), option, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith(f"argument {option}: {rule}\n")


@needs_fluidsynth
def test_cli_builds_and_prints_counts_and_where(run_cli, timgm, tmp_path, capsys):
    out = tmp_path / "ns"
    rc = run_cli(["data", "nsynth", "--soundfont", timgm, "--programs", "0,73",
                  "--pitches", "60-61", "--velocities", "1,100", "--out", str(out),
                  "--workers", "1"])
    assert rc == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("kept 4 of 8 notes (4 dropped: 4 silent) from TimGM6mb.sf2 in ")
    assert lines[1] == (f"wrote 1 TFRecord shard(s), examples.json and report.json to {out}")
    assert lines[2:] == ["  program   0 Acoustic Grand Piano: kept 2, dropped 2",
                         "  program  73 Flute: kept 2, dropped 2"]
    assert "dropped program 0 pitch 60 velocity 1: silent: peak" in captured.err
    assert sorted(os.listdir(out)) == ["examples.json", "nsynth-00000-of-00001.tfrecord",
                                       "report.json"]


@needs_fluidsynth
def test_cli_builds_from_several_soundfonts_and_names_them(run_cli, timgm, negated, tmp_path,
                                                           capsys):
    out = tmp_path / "ns"
    rc = run_cli(["data", "nsynth", "--soundfont", timgm, negated, "--programs", "0",
                  "--pitches", "60", "--velocities", "1,100", "--out", str(out),
                  "--workers", "1"])
    assert rc == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("kept 2 of 4 notes (2 dropped: 2 silent) from TimGM6mb.sf2, "
                               "negated.sf2 in ")
    assert lines[2:] == ["  TimGM6mb.sf2 program   0 Acoustic Grand Piano: kept 1, dropped 1",
                         "  negated.sf2 program   0 Acoustic Grand Piano: kept 1, dropped 1"]
    assert "dropped negated.sf2 program 0 pitch 60 velocity 1: silent: peak" in captured.err
    assert sorted(read_nsynth(out).instrument) == [0, 128]


def test_cli_soundfont_help_says_several_are_separate_instruments(run_cli, capsys):
    with pytest.raises(SystemExit):
        run_cli(["data", "nsynth", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--soundfont SF2 [SF2 ...]" in help_text
    assert "one or more SoundFont 2/3 files" in help_text
    assert "each soundfont's programs are separate instruments" in help_text
