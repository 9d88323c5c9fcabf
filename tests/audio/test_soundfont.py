"""Soundfont rendering (gensuite.audio.soundfont): soundfont lookup, NSynth-style notes, sequences."""

from __future__ import annotations

import builtins
import os

import note_seq
import numpy as np
import pytest

from gensuite.audio import soundfont as synth
from gensuite.audio.pitch import pitch_accuracy
from gensuite.audio.soundfont import SoundfontRenderer, SynthUnavailableError, find_soundfont
from gensuite.common.errors import GensuiteError, InputFileError, ParameterError

needs_fluidsynth = pytest.mark.fluidsynth

SAMPLE_RATE = 16000


@pytest.fixture(scope="module")
def renderer(timgm):
    if not synth.fluidsynth_available():
        pytest.skip("FluidSynth missing: apt install libfluidsynth3 && pip install pyfluidsynth")
    with SoundfontRenderer(timgm, sample_rate=SAMPLE_RATE) as renderer:
        yield renderer


# --- find_soundfont ---

def test_find_soundfont_returns_the_given_soundfont(timgm):
    assert find_soundfont(timgm) == timgm


def test_find_soundfont_default_is_an_installed_soundfont():
    path = find_soundfont()
    assert path in (synth.FLUIDR3_PATH, synth._pretty_midi_soundfont())
    synth.check_soundfont(path)


def test_find_soundfont_prefers_fluidr3_then_timgm(monkeypatch, timgm, tmp_path):
    monkeypatch.setattr(synth, "FLUIDR3_PATH", str(tmp_path / "absent.sf2"))
    assert find_soundfont() == timgm


@pytest.mark.parametrize("content, rule", [
    (b"", "not a SoundFont 2/3 file (no RIFF 'sfbk' header)"),
    (b"MThd\x00\x00\x00\x06", "not a SoundFont 2/3 file (no RIFF 'sfbk' header)"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not a SoundFont 2/3 file (no RIFF 'sfbk' header)"),
])
def test_find_soundfont_rejects_files_that_are_not_soundfonts(tmp_path, content, rule):
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(content)
    with pytest.raises(InputFileError) as exc:
        find_soundfont(bad)
    assert str(exc.value) == f"{bad}: {rule}"


def test_find_soundfont_rejects_missing_file_and_folder(tmp_path):
    with pytest.raises(InputFileError, match="no such soundfont file"):
        find_soundfont(tmp_path / "missing.sf2")
    with pytest.raises(InputFileError, match="is a folder"):
        find_soundfont(tmp_path)


def test_sf3_header_is_accepted(tmp_path):
    sf3 = tmp_path / "small.sf3"
    sf3.write_bytes(b"RIFF\x00\x00\x00\x00sfbkLIST")
    assert find_soundfont(sf3) == str(sf3)


# --- missing FluidSynth ---

def test_missing_pyfluidsynth_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_fluidsynth(name, *args, **kwargs):
        if name == "fluidsynth":
            raise ImportError("Couldn't find the FluidSynth library.")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fluidsynth)
    with pytest.raises(SynthUnavailableError) as exc:
        synth.import_fluidsynth()
    assert isinstance(exc.value, GensuiteError)
    assert "apt install libfluidsynth3" in str(exc.value)
    assert "pip install pyfluidsynth" in str(exc.value)
    assert not synth.fluidsynth_available()


# --- notes ---

@needs_fluidsynth
def test_render_note_is_an_audible_nsynth_note_at_its_pitch(renderer):
    wave = renderer.render_note(program=0, pitch=60, velocity=100)
    assert wave.shape == (64000,) and wave.dtype == np.float32
    assert np.max(np.abs(wave)) > 0.02
    assert pitch_accuracy([wave], [60], sample_rate=SAMPLE_RATE) == 1.0


@needs_fluidsynth
def test_render_note_holds_then_releases(renderer):
    wave = renderer.render_note(program=73, pitch=72, velocity=100)  # flute: sustains
    held = np.sqrt(np.mean(wave[40000:48000] ** 2))
    last = np.sqrt(np.mean(wave[-4000:] ** 2))
    assert held > 0.01 and last < held / 10


@needs_fluidsynth
def test_render_note_does_not_depend_on_what_was_rendered_before(timgm, renderer):
    with SoundfontRenderer(timgm, sample_rate=SAMPLE_RATE) as fresh:
        expected = fresh.render_note(program=24, pitch=52, velocity=90)
    renderer.render_note(program=40, pitch=77, velocity=30)
    sequence = note_seq.NoteSequence()
    sequence.notes.add(pitch=64, velocity=80, start_time=0.0107, end_time=0.5)
    renderer.render_sequence(sequence)  # leaves FluidSynth mid-block
    again = renderer.render_note(program=24, pitch=52, velocity=90)
    np.testing.assert_allclose(again, expected, atol=1e-5)


@needs_fluidsynth
def test_module_render_note_uses_durations_and_rate(timgm):
    wave = synth.render_note(program=0, pitch=69, velocity=100, sample_rate=8000,
                             note_s=0.5, total_s=1.0, soundfont=timgm)
    assert wave.shape == (8000,)
    assert np.max(np.abs(wave)) > 0.01


@needs_fluidsynth
@pytest.mark.parametrize("kwargs, message", [
    ({"pitch": 128}, "pitch: must be an integer in [0, 127], got 128"),
    ({"velocity": 0}, "velocity: must be an integer in [1, 127], got 0"),
    ({"program": -1}, "program: must be an integer in [0, 127], got -1"),
    ({"note_s": 5.0}, "note_s, total_s: must satisfy 0 < note_s <= total_s"),
])
def test_render_note_rejects_bad_values(renderer, kwargs, message):
    args = {"program": 0, "pitch": 60, "velocity": 100} | kwargs
    with pytest.raises(ParameterError) as exc:
        renderer.render_note(**args)
    assert str(exc.value).startswith(message)


@needs_fluidsynth
def test_renderer_rejects_bad_sample_rate_and_use_after_close(timgm):
    with pytest.raises(ParameterError, match="sample_rate: must be an integer in"):
        SoundfontRenderer(timgm, sample_rate=4000)
    renderer = SoundfontRenderer(timgm)
    renderer.close()
    with pytest.raises(RuntimeError, match="after close"):
        renderer.render_note(program=0, pitch=60, velocity=100)


@needs_fluidsynth
def test_corrupt_soundfont_with_a_valid_header_is_an_input_error(tmp_path):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00sfbk" + b"\x00" * 16)
    with pytest.raises(InputFileError, match="FluidSynth cannot load this soundfont"):
        SoundfontRenderer(bad)


# --- sequences ---

def _sequence(*notes, drums=()):
    """notes: (pitch, start_s, end_s, program); drums: (pitch, start_s, end_s)."""
    sequence = note_seq.NoteSequence()
    for pitch, start, end, program in notes:
        sequence.notes.add(pitch=pitch, velocity=100, start_time=start, end_time=end,
                           program=program, instrument=program)
    for pitch, start, end in drums:
        sequence.notes.add(pitch=pitch, velocity=110, start_time=start, end_time=end,
                           is_drum=True, instrument=9)
    return sequence


def _rms(wave, start_s, end_s):
    segment = wave[int(start_s * SAMPLE_RATE):int(end_s * SAMPLE_RATE)]
    return float(np.sqrt(np.mean(segment ** 2)))


@needs_fluidsynth
def test_render_sequence_length_is_last_end_plus_tail(renderer):
    sequence = _sequence((60, 0.5, 1.0, 0), (67, 1.0, 2.25, 40))
    wave = renderer.render_sequence(sequence, tail_s=0.75)
    assert wave.dtype == np.float32
    assert wave.shape == (int((2.25 + 0.75) * SAMPLE_RATE),)


@needs_fluidsynth
def test_render_sequence_sounds_where_the_notes_are(renderer):
    wave = renderer.render_sequence(_sequence((72, 1.0, 1.5, 73)), tail_s=1.0)
    assert _rms(wave, 0.0, 0.95) == 0.0
    assert _rms(wave, 1.05, 1.45) > 0.01
    assert _rms(wave, 2.2, 2.5) < _rms(wave, 1.05, 1.45) / 10


@needs_fluidsynth
def test_render_sequence_plays_several_programs_and_drums(renderer):
    sequence = _sequence((48, 0.0, 1.0, 32), (76, 1.0, 2.0, 56), drums=[(38, 2.0, 2.1)])
    wave = renderer.render_sequence(sequence, tail_s=0.5)
    for start in (0.0, 1.0, 2.0):
        assert _rms(wave, start + 0.02, start + 0.2) > 0.005
    # Each part renders what that program alone renders: channels are separate.
    trumpet = renderer.render_sequence(_sequence((76, 1.0, 2.0, 56)), tail_s=0.5)
    assert pitch_accuracy([trumpet[SAMPLE_RATE:]], [76], sample_rate=SAMPLE_RATE) == 1.0


@needs_fluidsynth
def test_render_sequence_without_notes_is_empty(renderer):
    assert renderer.render_sequence(note_seq.NoteSequence()).shape == (0,)


@needs_fluidsynth
def test_module_render_sequence_matches_a_fresh_renderer(timgm):
    sequence = _sequence((60, 0.0, 0.5, 0), (64, 0.25, 0.75, 0))
    first = synth.render_sequence(sequence, soundfont=timgm)
    second = synth.render_sequence(sequence, soundfont=timgm)
    assert first.shape == (int(1.75 * SAMPLE_RATE),)
    np.testing.assert_allclose(first, second, atol=1e-5)


# --- processes ---

FORK_AFTER_LOAD = """
import multiprocessing, sys
from gensuite.audio.soundfont import SoundfontRenderer

def peak(pitch):
    with SoundfontRenderer(sys.argv[1]) as renderer:
        return float(abs(renderer.render_note(program=0, pitch=pitch, velocity=100)).max())

if __name__ == "__main__":
    with SoundfontRenderer(sys.argv[1]) as renderer:
        renderer.render_note(program=0, pitch=60, velocity=100)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print(min(pool.map(peak, [48, 60, 72])) > 0.01)
"""


@needs_fluidsynth
def test_processes_forked_after_loading_a_soundfont_can_render(timgm, tmp_path):
    # libfluidsynth loads soundfonts in an OpenMP loop; libgomp's thread pool
    # does not survive fork(), so without care the children hang forever.
    import signal
    import subprocess
    import sys

    script = tmp_path / "fork_after_load.py"
    script.write_text(FORK_AFTER_LOAD)
    # Own session, so that a hang can be ended with the pool workers it forked.
    process = subprocess.Popen([sys.executable, str(script), timgm], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("pool workers forked after a soundfont load hung")
    assert process.returncode == 0, err
    # pyfluidsynth prints where it found the library when CI is set: read the last line.
    assert out.strip().splitlines()[-1] == "True"
