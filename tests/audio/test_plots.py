"""Spectrogram PNGs."""

from __future__ import annotations

import numpy as np
import pytest

from gensuite.audio.plots import plot_spectrogram
from gensuite.common.errors import ParameterError
from tests.midi.test_pianoroll import PNG_SIGNATURE, read_png


def test_spectrogram_writes_png(tmp_path):
    sample_rate = 8000
    t = np.arange(sample_rate) / sample_rate
    path = tmp_path / "spec.png"
    plot_spectrogram(np.sin(2 * np.pi * 440.0 * t), sample_rate=sample_rate, path=path,
                     title="A4")
    image = read_png(path)
    assert image.shape[0] > 100 and image.std() > 10


def test_spectrogram_of_clip_shorter_than_window(tmp_path):
    plot_spectrogram(np.ones(100), sample_rate=16000, path=tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("wave, rate, message", [
    (np.zeros((2, 10)), 16000, "wave: must be a non-empty 1-D array, got shape (2, 10)"),
    (np.array([]), 16000, "wave: must be a non-empty 1-D array, got shape (0,)"),
    (np.array([0.0, np.nan]), 16000, "wave: must hold finite numbers, got NaN or inf"),
    (np.zeros(10), 0, "sample_rate: must be > 0, got 0"),
])
def test_spectrogram_rejects_bad_input(tmp_path, wave, rate, message):
    with pytest.raises(ParameterError) as exc:
        plot_spectrogram(wave, sample_rate=rate, path=tmp_path / "s.png")
    assert str(exc.value) == message
