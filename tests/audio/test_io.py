"""Reading audio files: any format libsndfile reads, as mono float32 at the asked rate."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from gensuite.audio.io import find_audio_files, read_audio
from gensuite.common.errors import InputFileError
from tests.analysis.test_features import sine


def test_stereo_44k_file_reads_as_mono_16k_with_its_pitch(tmp_path):
    left = sine(440.0, 1.0, sample_rate=44100)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, left], axis=1), 44100)
    wave = read_audio(path, sample_rate=16000)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(wave.size - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(wave))
    assert np.argmax(spectrum) * 16000 / wave.size == pytest.approx(440.0, abs=2.0)
    assert np.max(np.abs(wave)) == pytest.approx(0.5, abs=0.02)


def test_flac_and_channels_that_cancel_are_read(tmp_path):
    path = tmp_path / "opposite.flac"
    tone = sine(300.0, 0.5)
    soundfile.write(path, np.stack([tone, -tone], axis=1), 16000)
    wave = read_audio(path, sample_rate=16000)
    assert np.max(np.abs(wave)) < 1e-3  # averaged: the channels cancel


@pytest.mark.parametrize("content, rule", [
    (b"this is not audio at all" * 10, "not a readable audio file"),
    (b"", "not a readable audio file"),
])
def test_non_audio_file_is_a_clear_error(tmp_path, content, rule):
    path = tmp_path / "song.wav"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=rule) as info:
        read_audio(path, sample_rate=16000)
    assert str(path) in str(info.value)


def test_missing_file_and_folder_are_errors(tmp_path):
    with pytest.raises(InputFileError, match="no such audio file"):
        read_audio(tmp_path / "nope.wav", sample_rate=16000)
    with pytest.raises(InputFileError, match="is a folder"):
        read_audio(tmp_path, sample_rate=16000)


def test_find_audio_files_by_suffix_recursively(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/x.wav", "b.FLAC", "c.mid", ".hidden.wav", "d.mp3"):
        (tmp_path / name).write_bytes(b"")
    found = [p.replace(str(tmp_path) + "/", "") for p in find_audio_files(tmp_path)]
    assert found == ["a/x.wav", "b.FLAC", "d.mp3"]
    with pytest.raises(InputFileError, match="no such folder"):
        find_audio_files(tmp_path / "missing")
