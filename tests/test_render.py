"""Rendering NoteSequences through GANSynth (tiny model) and the soundfont."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import note_seq
import numpy as np
import pytest

from gensuite.cli.main import main
from gensuite.common.errors import InputFileError, ParameterError
from gensuite.gansynth.model import GANSynth
from gensuite.midi.io import write_midi
from gensuite.render import (
    RELEASE_S,
    fold_into_range,
    instrument_times,
    note_envelope,
    parse_timbres,
    release_seconds,
    render_sequence_audio,
)

needs_fluidsynth = pytest.mark.fluidsynth


def make_sequence(notes, *, qpm=120.0):
    """notes: (pitch, start_s, end_s, instrument, program, is_drum, velocity)."""
    seq = note_seq.NoteSequence(ticks_per_quarter=220)
    seq.tempos.add(qpm=qpm)
    for pitch, start, end, instrument, program, is_drum, velocity in notes:
        seq.notes.add(pitch=pitch, start_time=start, end_time=end, instrument=instrument,
                      program=program, is_drum=is_drum, velocity=velocity)
    seq.total_time = max(n.end_time for n in seq.notes)
    return seq


@pytest.fixture(scope="module")
def tiny_model():
    return GANSynth("tiny-gansynth")  # pitches 58-62, 4,096 samples at 16 kHz


def test_fold_into_range_moves_by_octaves():
    np.testing.assert_array_equal(fold_into_range([36, 60, 95, 24], low=48, high=72),
                                  [48, 60, 71, 48])
    # Narrower than an octave: octaves first, then the nearer end.
    np.testing.assert_array_equal(fold_into_range([51, 57, 64, 70], low=58, high=62),
                                  [62, 58, 62, 58])


def test_note_envelope_attack_sustain_release():
    env = note_envelope(1600, sample_rate=16000)
    assert len(env) == 1600 + int(RELEASE_S * 16000)
    assert env[0] == 0.0 and env[160] == 1.0 and env[1599] == 1.0
    assert env[-1] < 0.01 and np.all(np.diff(env[1600:]) < 0)


def test_instrument_times_give_two_latents_even_for_short_files():
    np.testing.assert_allclose(instrument_times(3.0, 5.0), [0.0, 5.0])
    np.testing.assert_allclose(instrument_times(12.0, 5.0), [0, 5, 10, 15])


def test_parse_timbres():
    assert parse_timbres("0=3, 2=11") == {0: 3, 2: 11}
    assert parse_timbres("") == {}
    with pytest.raises(ParameterError, match="--timbre: must be TRACK=SEED"):
        parse_timbres("0:3")


def test_gansynth_render_reuses_distinct_notes_and_keeps_length(tiny_model):
    seq = make_sequence([(60, 0.0, 0.1, 0, 0, False, 100), (60, 0.2, 0.3, 0, 0, False, 100),
                         (62, 0.2, 0.4, 1, 40, False, 64), (60, 0.5, 0.6, 1, 40, False, 127)])
    wave, rate, report = render_sequence_audio(seq, model=tiny_model)
    assert rate == 16000
    assert len(wave) == pytest.approx((0.6 + release_seconds(tiny_model.config)) * rate, abs=2)
    assert np.max(np.abs(wave)) == pytest.approx(0.99, abs=1e-6)
    # (60, track 0) twice, (62, track 1), (60, track 1): three distinct generations.
    assert (report.n_notes, report.n_distinct_generated, report.n_cache_hits) == (4, 3, 1)
    again, _, _ = render_sequence_audio(seq, model=tiny_model)
    np.testing.assert_array_equal(wave, again)
    other, _, _ = render_sequence_audio(seq, model=tiny_model, seed=5)
    assert not np.allclose(wave, other)


def test_notes_outside_the_model_range_are_moved_and_counted(tiny_model):
    seq = make_sequence([(36, 0.0, 0.1, 0, 0, False, 100), (61, 0.1, 0.2, 0, 0, False, 100)])
    with pytest.warns(UserWarning, match="1 of 2 notes lie outside the model's pitches 58-62"):
        from gensuite.render import render_midi

        wave, _ = render_midi(seq, model=tiny_model)
    assert np.any(wave != 0)


def test_secs_per_instrument_mode_renders(tiny_model):
    seq = make_sequence([(60, t, t + 0.1, 0, 0, False, 90) for t in np.arange(0, 2, 0.25)])
    _, _, report = render_sequence_audio(seq, model=tiny_model, secs_per_instrument=1.0)
    assert report.n_notes == 8 and report.n_distinct_generated >= 2


def test_resampling_changes_the_rate(tiny_model):
    seq = make_sequence([(60, 0.0, 0.2, 0, 0, False, 90)])
    wave, rate, _ = render_sequence_audio(seq, model=tiny_model, sample_rate=22050)
    assert rate == 22050
    assert len(wave) == pytest.approx((0.2 + release_seconds(tiny_model.config)) * 22050, abs=3)


def test_only_drums_with_skip_is_an_error(tiny_model):
    seq = make_sequence([(36, 0.0, 0.1, 9, 0, True, 100)])
    with pytest.raises(InputFileError, match="holds only drum notes and --drums skip"):
        render_sequence_audio(seq, model=tiny_model, drums="skip")


def test_empty_sequence_is_an_error(tiny_model):
    with pytest.raises(InputFileError, match="holds no notes to render"):
        render_sequence_audio(note_seq.NoteSequence(), model=tiny_model)


@needs_fluidsynth
def test_drums_go_through_the_soundfont(tiny_model):
    seq = make_sequence([(60, 0.0, 0.3, 0, 0, False, 100), (36, 0.0, 0.2, 9, 0, True, 100)])
    with_drums, _, report = render_sequence_audio(seq, model=tiny_model)
    without, _, _ = render_sequence_audio(seq, model=tiny_model, drums="skip")
    assert report.n_drum_notes == 1
    assert not np.allclose(with_drums[:len(without)], without)


@needs_fluidsynth
def test_cli_render_soundfont_and_errors(tmp_path, capsys):
    path = tmp_path / "song.mid"
    write_midi(make_sequence([(60, 0.0, 0.5, 0, 0, False, 100), (64, 0.5, 1.0, 1, 40, False, 90)]),
               path)
    out = tmp_path / "song.wav"
    assert main(["render", str(path), "--out", str(out), "--synth", "soundfont"]) == 0
    import soundfile

    wave, rate = soundfile.read(out)
    assert rate == 16000 and len(wave) / rate > 1.0
    assert "2 notes" in capsys.readouterr().out

    assert main(["render", str(tmp_path / "missing.mid"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "missing.mid: no such file" in err and len(err.strip().splitlines()) == 1
    assert main(["render", str(path), "--out", str(out), "--checkpoint", "no-such-model"]) == 2
    assert "no such checkpoint folder or shipped name" in capsys.readouterr().err


# --- The note cache, batches and start-up --------------------------------------------------


class CountingModel:
    """Wraps a model and records the number of notes of each generate call."""

    def __init__(self, model):
        self.inner, self.config, self.calls = model, model.config, []

    def generate(self, pitches, z=None, **kwargs):
        self.calls.append(len(pitches))
        return self.inner.generate(pitches, z, **kwargs)

    def saved_network(self):
        return self.inner.saved_network()

    def saved_meta(self):
        return self.inner.saved_meta()


def many_distinct_notes(n_tracks: int = 14):
    """Every pitch of the tiny model (58-62) on ``n_tracks`` tracks: 5 * n_tracks distinct notes."""
    return make_sequence([(58 + j, 0.05 * (5 * i + j), 0.05 * (5 * i + j) + 0.2, i, 0, False, 100)
                          for i in range(n_tracks) for j in range(5)])


def test_padded_rows():
    from gensuite.render import padded_rows

    assert [padded_rows(n) for n in (1, 15, 16, 17, 64, 70)] == [16, 16, 16, 32, 64, 80]


def test_note_batch_size():
    from gensuite.render import CPU_BATCH, GPU_BATCH_CAP, note_batch_size

    assert note_batch_size(n_distinct=500, gpu=False) == CPU_BATCH == 64
    assert note_batch_size(n_distinct=3, gpu=False) == 64
    assert note_batch_size(n_distinct=500, gpu=True) == 500
    assert note_batch_size(n_distinct=5000, gpu=True) == GPU_BATCH_CAP == 1024
    assert note_batch_size(n_distinct=0, gpu=True) == 1


def test_gpu_batching_generates_every_distinct_note_in_one_call(tiny_model, monkeypatch):
    """The GPU branch, run on the CPU: one call for all 70 notes, the same mix as 64 + 6."""
    seq = many_distinct_notes()
    on_cpu = CountingModel(tiny_model)
    cpu_wave, _, report = render_sequence_audio(seq, model=on_cpu)
    assert report.n_distinct_generated == 70 and on_cpu.calls == [64, 16]
    monkeypatch.setattr("gensuite.render._tensorflow_sees_gpu", lambda: True)
    on_gpu = CountingModel(tiny_model)
    gpu_wave, _, _ = render_sequence_audio(seq, model=on_gpu)
    assert on_gpu.calls == [80]  # 70 padded to whole row groups
    np.testing.assert_array_equal(gpu_wave, cpu_wave)


def test_note_cache_round_trip_gives_the_same_mix(tiny_model, tmp_path):
    seq = many_distinct_notes(3)
    plain, _, _ = render_sequence_audio(seq, model=tiny_model)
    cold_model, warm_model = CountingModel(tiny_model), CountingModel(tiny_model)
    cold, _, cold_report = render_sequence_audio(seq, model=cold_model, cache_dir=tmp_path)
    warm, _, warm_report = render_sequence_audio(seq, model=warm_model, cache_dir=tmp_path)
    assert (cold_report.n_distinct_generated, cold_report.n_from_note_cache) == (15, 0)
    assert (warm_report.n_distinct_generated, warm_report.n_from_note_cache) == (0, 15)
    assert warm_model.calls == []
    np.testing.assert_array_equal(cold, plain)
    np.testing.assert_array_equal(warm, plain)
    # Another seed is another set of notes; the cache does not answer for it.
    _, _, other = render_sequence_audio(seq, model=tiny_model, cache_dir=tmp_path, seed=1)
    assert other.n_distinct_generated == 15


def test_a_corrupt_or_missing_cached_note_is_generated_again(tiny_model, tmp_path):
    seq = many_distinct_notes(2)
    plain, _, _ = render_sequence_audio(seq, model=tiny_model)
    render_sequence_audio(seq, model=tiny_model, cache_dir=tmp_path)
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    files = sorted(folder.iterdir())
    files[0].write_bytes(b"not a note")
    files[1].unlink()
    counting = CountingModel(tiny_model)
    again, _, report = render_sequence_audio(seq, model=counting, cache_dir=tmp_path)
    assert (report.n_distinct_generated, report.n_from_note_cache) == (2, 8)
    assert counting.calls == [16]  # two notes, padded: generated as in any batch
    np.testing.assert_array_equal(again, plain)
    assert sorted(folder.iterdir()) == files and files[0].stat().st_size > 1000


def test_a_cache_needs_a_model_with_weights(tmp_path):
    from tests.test_render_score import PluckModel

    seq = make_sequence([(60, 0.0, 0.2, 0, 0, False, 90)])
    with pytest.raises(ParameterError, match="cache_dir: the note cache needs a GANSynth"):
        render_sequence_audio(seq, model=PluckModel(), cache_dir=tmp_path)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, tiny_model):
    path = tmp_path_factory.mktemp("ckpt") / "tiny"
    tiny_model.save(path)
    return path


def test_checkpoint_render_reads_the_config_without_loading_the_model(
        tiny_checkpoint, tmp_path, monkeypatch):
    from gensuite.render import read_note_spec

    seq = many_distinct_notes(2)
    cold, _, _ = render_sequence_audio(seq, checkpoint=str(tiny_checkpoint), cache_dir=tmp_path)
    spec, identity = read_note_spec(str(tiny_checkpoint))
    assert (spec.sample_rate, spec.n_samples, spec.min_pitch, spec.max_pitch,
            spec.latent_size) == (16000, 4096, 58, 62, 8)
    assert os.path.isdir(tmp_path / identity)

    def refuse(checkpoint):
        raise AssertionError("a warm cache loaded the model")

    monkeypatch.setattr("gensuite.render._load_gansynth", refuse)
    warm, _, report = render_sequence_audio(seq, checkpoint=str(tiny_checkpoint),
                                            cache_dir=tmp_path)
    assert report.n_from_note_cache == 10
    np.testing.assert_array_equal(warm, cold)


def test_changed_weights_are_another_model_in_the_cache(tiny_checkpoint, tmp_path):
    from gensuite.render import read_note_spec

    copy = tmp_path / "copy"
    shutil.copytree(tiny_checkpoint, copy)
    assert read_note_spec(str(copy))[1] == read_note_spec(str(tiny_checkpoint))[1]
    weights = copy / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert read_note_spec(str(copy))[1] != read_note_spec(str(tiny_checkpoint))[1]


def _write_song(path):
    write_midi(make_sequence([(60, 0.0, 0.3, 0, 0, False, 100), (62, 0.3, 0.6, 0, 0, False, 90),
                              (64, 0.1, 0.5, 1, 40, False, 80), (59, 0.6, 0.9, 1, 40, False, 70)]),
               path)


RENDER_AND_REPORT_TENSORFLOW = """
import sys
from gensuite.cli.main import main
code = main(sys.argv[1:])
print("tensorflow imported:", "tensorflow" in sys.modules)
sys.exit(code)
"""


@pytest.mark.slow
def test_cli_warm_cache_never_imports_tensorflow_and_writes_the_same_wav(
        tiny_checkpoint, tmp_path, monkeypatch, capsys):
    """Cold cache, warm cache and --no-cache give byte-identical WAVs; only the warm run
    skips TensorFlow. The default cache folder follows XDG_CACHE_HOME."""
    song = tmp_path / "song.mid"
    _write_song(song)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"),
           "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}

    def render(out, *extra):
        result = subprocess.run(
            [sys.executable, "-c", RENDER_AND_REPORT_TENSORFLOW, "render", str(song), "--out",
             str(tmp_path / out), "--checkpoint", str(tiny_checkpoint), *extra],
            capture_output=True, text=True, timeout=300, check=False, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    cold = render("cold.wav")
    assert "tensorflow imported: True" in cold and "(4 generated, 0 from the note cache" in cold
    notes = tmp_path / "xdg" / "gensuite" / "notes"

    def cached_files():  # each write replaces the file: a new inode
        return {f: f.stat().st_ino for d in notes.iterdir() for f in d.iterdir()}

    files = cached_files()
    assert len(files) == 4
    warm = render("warm.wav")
    assert "tensorflow imported: False" in warm and "(0 generated, 4 from the note cache" in warm
    # --no-cache in this process: a third command start would add nothing but time.
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    assert main(["render", str(song), "--out", str(tmp_path / "uncached.wav"),
                 "--checkpoint", str(tiny_checkpoint), "--no-cache"]) == 0
    assert "(4 generated, 0 from the note cache" in capsys.readouterr().out
    assert cached_files() == files  # neither the warm run nor --no-cache wrote to it
    wavs = [(tmp_path / name).read_bytes() for name in ("cold.wav", "warm.wav", "uncached.wav")]
    assert wavs[0] == wavs[1] == wavs[2]


@pytest.mark.parametrize(("cache_dir", "fragment"), [
    ("FILE", "FILE: --cache-dir is a file, expected a folder"),
    ("FILE/notes", "FILE/notes: --cache-dir cannot be created: "),
])
def test_cli_cache_dir_that_cannot_be_a_folder_is_a_one_line_error(
        capsys, tmp_path, cache_dir, fragment):
    from tests.cli_run import assert_one_line_error, run

    song = tmp_path / "song.mid"
    _write_song(song)
    (tmp_path / "FILE").write_text("already here")
    before = sorted(os.listdir(tmp_path))
    code, _, err = run(capsys, "render", song, "--out", tmp_path / "out.wav",
                       "--cache-dir", tmp_path / cache_dir)
    assert_one_line_error(code, err, str(tmp_path / fragment))
    assert sorted(os.listdir(tmp_path)) == before
    assert (tmp_path / "FILE").read_text() == "already here"


def test_cli_no_cache_and_cache_dir_exclude_each_other(capsys, tmp_path):
    from tests.cli_run import run

    code, _, err = run(capsys, "render", "song.mid", "--out", tmp_path / "out.wav",
                       "--no-cache", "--cache-dir", tmp_path)
    assert code == 2 and "not allowed with argument" in err


def test_cli_unusable_default_cache_only_warns(capsys, tmp_path, monkeypatch, tiny_checkpoint):
    song = tmp_path / "song.mid"
    _write_song(song)
    (tmp_path / "xdg").write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    from tests.cli_run import run

    code, out, err = run(capsys, "render", song, "--out", tmp_path / "out.wav",
                         "--checkpoint", tiny_checkpoint)
    assert code == 0 and (tmp_path / "out.wav").is_file()
    assert "warning: note cache off: " in err and "--cache-dir cannot be created" in err
    assert "(4 generated, 0 from the note cache" in out


def test_a_conditioned_model_plays_each_track_on_its_programs_instrument(tmp_path, monkeypatch):
    """Same seed, other programs: other instruments, from the cache without the model too."""
    names = [{"name": "a:keyboard_acoustic_000", "family": "keyboard", "program": 0},
             {"name": "a:string_acoustic_040", "family": "string", "program": 40}]
    model = GANSynth("tiny-gansynth_instruments", instruments=names)
    model.generator.instrument_table.embeddings.assign(
        np.random.default_rng(0).standard_normal((4, model.generator.instrument_table.output_dim)))
    model.save(tmp_path / "model")
    seen = []
    generate = GANSynth.generate

    def spy(self, pitches, z=None, **kwargs):
        seen.extend(map(tuple, np.asarray(z).tolist()))
        return generate(self, pitches, z, **kwargs)

    monkeypatch.setattr(GANSynth, "generate", spy)
    # Track 0 piano, track 1 violin, track 2 cello (nearest string: the violin row).
    seq = make_sequence([(60, 0.0, 0.2, 0, 0, False, 100), (60, 0.0, 0.2, 1, 40, False, 100),
                         (60, 0.0, 0.2, 2, 42, False, 100)])
    cold, _, _ = render_sequence_audio(seq, checkpoint=str(tmp_path / "model"),
                                       timbres={0: 7, 1: 7, 2: 7}, cache_dir=tmp_path / "c")
    distinct = np.array(sorted(set(seen)))  # calls are padded with copies of a row
    # Tracks 1 and 2 share one note: the same seed and the same row.
    assert len(distinct) == 2 and sorted(distinct[:, 8:].argmax(1)) == [0, 1]
    np.testing.assert_array_equal(distinct[0, :8], distinct[1, :8])
    monkeypatch.setattr("gensuite.render._load_gansynth", None)  # a warm cache needs no model
    warm, _, report = render_sequence_audio(seq, checkpoint=str(tmp_path / "model"),
                                            timbres={0: 7, 1: 7, 2: 7}, cache_dir=tmp_path / "c")
    assert report.n_from_note_cache == 2
    np.testing.assert_array_equal(warm, cold)


def test_a_program_fades_over_its_soundfont_release_within_the_bounds():
    from gensuite.audio.envelopes import program_release_20db_s, read_envelope_table
    from gensuite.render import ATTACK_S, RELEASE_S, program_release_s

    assert read_envelope_table()["release_20db_s"].shape == (128,)
    assert program_release_s(73, max_s=1.0) == pytest.approx(program_release_20db_s(73) / 0.9)
    assert program_release_s(52, max_s=0.2) == 0.2  # a choir's long release, capped
    assert program_release_s(87, max_s=1.0) >= ATTACK_S
    assert program_release_20db_s(9) is None and program_release_s(9, max_s=1.0) == RELEASE_S
    assert program_release_20db_s(200) is None and program_release_s(200, max_s=1.0) == RELEASE_S
