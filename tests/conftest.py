"""Shared pytest fixtures and the ``fluidsynth`` and ``slow`` markers."""

from __future__ import annotations

import os

import pytest

FLUIDSYNTH_MISSING = "FluidSynth missing: apt install libfluidsynth3 && pip install pyfluidsynth"


def pytest_configure(config):
    config.addinivalue_line("markers", "fluidsynth: skipped where FluidSynth cannot be loaded")
    config.addinivalue_line(
        "markers", "slow: trains, renders or runs a whole command (the quick loop is "
                   "pytest -m 'not slow')")


def pytest_runtest_setup(item):
    if item.get_closest_marker("fluidsynth") is not None:
        from gensuite.audio.soundfont import fluidsynth_available

        if not fluidsynth_available():
            pytest.skip(FLUIDSYNTH_MISSING)


@pytest.fixture(autouse=True, scope="session")
def _note_cache_in_tmp(tmp_path_factory):
    """``gensuite render`` keeps GANSynth notes under $XDG_CACHE_HOME by default: tests, and
    the commands they start, use a temporary one, never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(scope="session")
def timgm() -> str:
    """pretty_midi's 6 MB General MIDI soundfont: small, so the tests load it fast."""
    from gensuite.audio import soundfont as synth

    path = synth._pretty_midi_soundfont()
    if path is None or not os.path.isfile(path):
        pytest.skip("pretty_midi's TimGM6mb.sf2 is not installed")
    return path


# --- NoteSequence builders (gensuite.midi.sequences / gensuite.music_vae.converters tests) ---
# Notes are given on a grid of steps (4 per quarter: 16th notes), so that tests
# can state exact step positions; at 120 qpm one step is 0.125 s.

def build_note_sequence(notes=(), *, qpm=120.0, time_signature=(4, 4),
                        steps_per_quarter=4, **track):
    """A NoteSequence holding ``notes`` = [(pitch, start_step, end_step), ...].

    ``track`` keywords (instrument, program, is_drum, velocity) apply to every
    note; add more tracks with :func:`add_track_notes`.
    """
    from note_seq import NoteSequence

    sequence = NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(time=0.0, qpm=qpm)
    if time_signature is not None:
        sequence.time_signatures.add(
            time=0.0, numerator=time_signature[0], denominator=time_signature[1])
    add_track_notes(sequence, notes, steps_per_quarter=steps_per_quarter, **track)
    return sequence


def add_track_notes(sequence, notes, *, instrument=0, program=0, is_drum=False,
                    velocity=100, steps_per_quarter=4, qpm=None, offset_seconds=0.0):
    """Append (pitch, start_step, end_step) notes, in place; returns ``sequence``.

    Steps are converted with ``qpm`` (default: the sequence's first tempo) and
    shifted by ``offset_seconds``; ``total_time`` grows to the last note end.
    """
    qpm = qpm or (sequence.tempos[0].qpm if sequence.tempos else 120.0)
    seconds_per_step = 60.0 / qpm / steps_per_quarter
    for pitch, start, end in notes:
        note = sequence.notes.add(
            pitch=pitch, velocity=velocity, instrument=instrument, program=program,
            is_drum=is_drum, start_time=offset_seconds + start * seconds_per_step,
            end_time=offset_seconds + end * seconds_per_step)
        sequence.total_time = max(sequence.total_time, note.end_time)
    return sequence


@pytest.fixture
def make_sequence():
    """Fixture form of :func:`build_note_sequence`."""
    return build_note_sequence


@pytest.fixture
def add_notes():
    """Fixture form of :func:`add_track_notes`."""
    return add_track_notes
