"""Rendering NoteSequences through GANSynth (tiny model) and the soundfont."""

from __future__ import annotations

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
