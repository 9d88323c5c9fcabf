"""Finding a note's attack and starting the note there (gensuite.audio.onsets)."""

import numpy as np
import pytest

from gensuite.audio.onsets import onset_offset_samples, start_at_attack

RATE = 16000


def tone(n_samples: int) -> np.ndarray:
    return np.sin(2 * np.pi * 440 * np.arange(n_samples) / RATE).astype(np.float32)


def test_a_late_attack_is_found_within_a_frame():
    wave = np.concatenate([np.zeros(1600, np.float32), tone(16000)])  # 100 ms of silence
    offset = onset_offset_samples(wave, sample_rate=RATE)
    assert 1600 - 160 <= offset <= 1600


def test_a_slow_swell_starts_where_it_reaches_a_fifth_of_its_early_peak():
    ramp = np.minimum(np.arange(32000) / 3200, 1.0)  # 0 to full level over 200 ms
    offset = onset_offset_samples(ramp * tone(32000), sample_rate=RATE)
    assert offset == pytest.approx(640, abs=160)


@pytest.mark.parametrize("wave", [tone(16000), np.zeros(16000, np.float32),
                                  np.zeros(0, np.float32)], ids=["at once", "silent", "empty"])
def test_a_note_that_starts_at_once_or_never_is_not_moved(wave):
    assert onset_offset_samples(wave, sample_rate=RATE) == 0


def test_a_late_note_starts_at_its_attack_faded_in_and_out_and_keeps_its_length():
    wave = np.concatenate([np.full(1600, 1e-3, np.float32), np.full(14400, 0.5, np.float32)])
    out = start_at_attack(wave, sample_rate=RATE)
    assert out.shape == wave.shape and out.dtype == np.float32
    offset = onset_offset_samples(wave, sample_rate=RATE)
    assert offset == 1520  # the 5-ms frame before the first at a fifth of the peak
    end = len(wave) - offset
    ramp = np.arange(160) / 160  # 10 ms
    np.testing.assert_allclose(out[:160], wave[offset:offset + 160] * ramp, rtol=1e-6)
    np.testing.assert_array_equal(out[160:end - 160], wave[offset + 160:-160])
    np.testing.assert_allclose(out[end - 160:end], 0.5 * ramp[::-1], rtol=1e-6)
    np.testing.assert_array_equal(out[end:], 0)


def test_a_note_that_starts_at_once_is_only_faded_in():
    wave = tone(16000)
    out = start_at_attack(wave, sample_rate=RATE)
    np.testing.assert_array_equal(out[160:], wave[160:])
