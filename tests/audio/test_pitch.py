"""Pitch checks (gensuite.audio.pitch) on synthetic tones whose pitch is known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gensuite.audio.pitch import (
    cents_between,
    estimate_f0_hz,
    estimate_note_f0_hz,
    harmonic_to_interharmonic_db,
    midi_to_hz,
    pitch_accuracy,
    pitch_errors_cents,
    search_range_hz,
)
from gensuite.common.errors import ParameterError

SAMPLE_RATE = 16000


def tone(midi_pitch: float, *, n_samples: int = 20000, harmonics=(1.0,)) -> np.ndarray:
    """A steady tone at a (possibly fractional) MIDI pitch, float32 [n_samples]."""
    t = np.arange(n_samples) / SAMPLE_RATE
    f0 = midi_to_hz(midi_pitch)
    wave = sum(a * np.sin(2 * np.pi * f0 * (k + 1) * t) for k, a in enumerate(harmonics))
    return (0.5 * wave / np.max(np.abs(wave))).astype(np.float32)


def test_midi_to_hz_and_cents_between():
    assert midi_to_hz(69) == 440.0
    assert midi_to_hz(57) == 220.0
    assert cents_between(440.0, 69) == pytest.approx(0.0)
    assert cents_between(midi_to_hz(70), 69) == pytest.approx(100.0)
    assert cents_between(220.0, 69) == pytest.approx(-1200.0)
    assert math.isnan(cents_between(math.nan, 60))
    assert math.isnan(cents_between(0.0, 60))
    np.testing.assert_allclose(cents_between(np.array([440.0, 880.0]), 69), [0.0, 1200.0])


def test_estimate_f0_hz_of_a_sine_within_pyin_resolution():
    f0 = estimate_f0_hz(tone(57), sample_rate=SAMPLE_RATE, fmin_hz=100.0, fmax_hz=1000.0)
    assert abs(cents_between(f0, 57)) <= 10  # pYIN's bins are 10 cents wide


def test_estimate_f0_hz_of_silence_is_nan():
    assert math.isnan(estimate_f0_hz(np.zeros(16000, np.float32), sample_rate=SAMPLE_RATE))


def test_note_search_window_ignores_a_missing_fundamental():
    # Harmonics 2-4 only, like a low note whose fundamental is weak: the
    # period is still that of the fundamental, and the window keeps pYIN on it.
    wave = tone(40, harmonics=(0.0, 1.0, 0.8, 0.6))
    f0 = estimate_note_f0_hz(wave, sample_rate=SAMPLE_RATE, midi_pitch=40)
    assert abs(cents_between(f0, 40)) <= 20


@pytest.mark.parametrize("midi_pitch", [24, 36, 60, 84])
def test_pitch_accuracy_is_1_at_the_right_pitch_across_gansynth_range(midi_pitch):
    assert pitch_accuracy([tone(midi_pitch)], [midi_pitch], sample_rate=SAMPLE_RATE) == 1.0


@pytest.mark.parametrize("offset", [-1, 1])
def test_pitch_accuracy_is_0_one_semitone_off(offset):
    waves = [tone(48 + offset), tone(67 + offset)]
    assert pitch_accuracy(waves, [48, 67], sample_rate=SAMPLE_RATE) == 0.0
    errors = pitch_errors_cents(waves, [48, 67], sample_rate=SAMPLE_RATE)
    np.testing.assert_allclose(errors, [100 * offset] * 2, atol=15)


def test_pitch_accuracy_counts_shares_and_unvoiced_notes_as_misses():
    waves = np.stack([tone(60), tone(61), tone(64.3), np.zeros(20000, np.float32)])
    # 64.3 is 30 cents sharp: inside 50, outside 20.
    assert pitch_accuracy(waves, [60, 60, 64, 64], sample_rate=SAMPLE_RATE) == 0.5
    assert pitch_accuracy(waves, [60, 60, 64, 64], sample_rate=SAMPLE_RATE,
                          tolerance_cents=20) == 0.25


def test_pitch_accuracy_of_nothing_is_nan():
    assert math.isnan(pitch_accuracy([], [], sample_rate=SAMPLE_RATE))


@pytest.mark.parametrize("call, message", [
    (lambda: pitch_accuracy([tone(60)], [60, 62], sample_rate=SAMPLE_RATE),
     "waves, pitches: must have the same length, got 1 and 2"),
    (lambda: pitch_accuracy([tone(60)], [60], sample_rate=SAMPLE_RATE, tolerance_cents=0),
     "tolerance_cents: must be > 0, got 0"),
    (lambda: search_range_hz(60, search_semitones=12),
     "search_semitones: must be in (0, 12)"),
    (lambda: estimate_f0_hz(np.zeros((2, 100)), sample_rate=SAMPLE_RATE),
     "wave: must be 1-D [n_samples], got shape (2, 100)"),
    (lambda: estimate_f0_hz(tone(60), sample_rate=SAMPLE_RATE, fmin_hz=500, fmax_hz=9000),
     "fmin_hz, fmax_hz: must satisfy 0 < fmin_hz < fmax_hz <= sample_rate/2 (8000)"),
])
def test_bad_arguments_name_the_parameter_and_rule(call, message):
    with pytest.raises(ParameterError) as exc:
        call()
    assert str(exc.value).startswith(message)


# --- harmonic clarity ------------------------------------------------------------

def harmonic_note(midi_pitch, *, sample_rate=16000, seconds=1.5, noise=0.0, seed=0):
    """Partials 1/k up to 8 kHz plus white noise of standard deviation ``noise``."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    f0 = midi_to_hz(midi_pitch)
    wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 200) if k * f0 < 8000)
    return wave + noise * np.random.default_rng(seed).normal(size=t.size)


@pytest.mark.parametrize("band_hz", [(0, 2000), (2000, 8000)])
def test_harmonic_clarity_separates_partials_from_noise(band_hz):
    def clarity(wave, midi_pitch=48):
        return harmonic_to_interharmonic_db(wave, sample_rate=16000, midi_pitch=midi_pitch,
                                            band_hz=band_hz)

    clean, noisy = clarity(harmonic_note(48)), clarity(harmonic_note(48, noise=0.05))
    noise = clarity(np.random.default_rng(1).normal(size=24000))
    assert clean > 60 and 10 < noisy < clean and abs(noise) < 2
    # Measured on the asked pitch's grid: a note a tritone off reads as noise-like.
    assert clarity(harmonic_note(54)) < 5


def test_harmonic_clarity_is_nan_without_a_harmonic_in_the_band_and_needs_a_body():
    wave = harmonic_note(96)  # f0 2093 Hz: no harmonic below 2 kHz
    assert np.isnan(harmonic_to_interharmonic_db(wave, sample_rate=16000, midi_pitch=96,
                                                 band_hz=(0, 2000)))
    with pytest.raises(ParameterError, match="body_s: needs at least 4096 samples, got 1600"):
        harmonic_to_interharmonic_db(wave, sample_rate=16000, midi_pitch=96, band_hz=(0, 2000),
                                     body_s=(0.0, 0.1))


def test_fundamental_wander_is_small_for_a_steady_tone_and_grows_with_vibrato():
    from gensuite.audio.pitch import fundamental_wander_cents

    t = np.arange(48000) / 16000
    f0 = 261.63
    steady = np.sin(2 * np.pi * f0 * t)
    # +-30 cents at 1.3 Hz: slow enough for 256-ms frames to follow.
    depth = f0 * (2 ** (30 / 1200) - 1)
    vibrato = np.sin(2 * np.pi * f0 * t - depth / 1.3 * np.cos(2 * np.pi * 1.3 * t))
    assert fundamental_wander_cents(steady, sample_rate=16000, midi_pitch=60) < 1
    assert 12 < fundamental_wander_cents(vibrato, sample_rate=16000, midi_pitch=60) < 30
    assert np.isnan(fundamental_wander_cents(steady[:2000], sample_rate=16000, midi_pitch=60))
