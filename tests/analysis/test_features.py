"""Audio in, log-mel windows out: reading, resampling, windows, silence, augmentation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gensuite.analysis.configs import get_config
from gensuite.analysis.features import (
    check_analysable,
    frame_rms_dbfs,
    log_mel_spectrogram,
    mel_filterbank,
    wave_to_windows,
    white_noise_mel_power,
    window_starts,
)
from gensuite.analysis.trainer import augment_windows
from gensuite.common.errors import InputFileError

TINY = get_config("tiny-cnn")
F = TINY.features  # 16 kHz, n_fft 256, hop 128, windows of 16 frames every 8


def sine(frequency_hz, duration_s, *, sample_rate=16000, amplitude=0.5):
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def test_window_sizes_follow_the_config():
    assert F.window_samples == 256 + 15 * 128
    assert F.window_hop_samples == 8 * 128
    assert F.window_s == pytest.approx(2176 / 16000)
    cpu = get_config("cpu-cnn").features
    assert cpu.window_s == pytest.approx(2.096, abs=1e-3)
    assert cpu.window_hop_s == pytest.approx(1.024)


def test_silent_and_too_short_audio_are_errors():
    with pytest.raises(InputFileError, match=r"quiet.wav: silent: peak -inf dBFS"):
        check_analysable(np.zeros(F.window_samples * 3, np.float32), features=F,
                         name="quiet.wav")
    with pytest.raises(InputFileError, match=r"too short: 0\.10 s, shorter than one analysis "
                                             r"window \(0\.14 s\)"):
        check_analysable(sine(440, 0.1), features=F, name="short.wav")
    check_analysable(sine(440, 0.2), features=F)  # one window is enough


def test_log_mel_frames_and_windows_have_the_documented_shapes():
    wave = sine(1000.0, 1.0)
    log_mel = log_mel_spectrogram(wave, features=F)
    n_frames = 1 + (wave.size - F.n_fft) // F.hop_length
    assert log_mel.shape == (n_frames, F.n_mels)
    assert log_mel.dtype == np.float32
    # The loudest band is the one around 1 kHz.
    centres = np.argmax(mel_filterbank(F), axis=1) * F.sample_rate / F.n_fft
    assert abs(centres[int(np.argmax(log_mel.mean(axis=0)))] - 1000.0) < 400.0
    starts = window_starts(n_frames, features=F)
    assert starts[0] == 0 and np.all(np.diff(starts) == F.window_hop_frames)
    assert starts[-1] + F.window_frames <= n_frames < starts[-1] + F.window_frames + 8
    windows = wave_to_windows(wave, features=F)
    assert windows.log_mel.shape == (len(starts), F.window_frames, F.n_mels)
    np.testing.assert_allclose(windows.start_s, starts * F.hop_length / F.sample_rate)
    np.testing.assert_array_equal(windows.log_mel[1], log_mel[starts[1]:starts[1] + 16])


def test_windows_in_silence_are_marked_inaudible():
    wave = np.concatenate([sine(500.0, 0.5), np.zeros(8000, np.float32)])
    windows = wave_to_windows(wave, features=F)
    end_s = windows.start_s + F.window_s
    assert windows.audible[end_s < 0.5].all()
    assert not windows.audible[windows.start_s > 0.5 + F.frame_hop_s].any()


def test_all_quiet_wave_with_a_speck_of_signal_is_silent():
    wave = np.zeros(16000, np.float32)
    wave[100] = 0.01  # above -80 dBFS peak, but no frame reaches -60 dBFS RMS
    with pytest.raises(InputFileError, match="silent: no 0.14 s window reaches -60 dBFS"):
        wave_to_windows(wave, features=F)


def test_frame_rms_of_a_full_scale_sine_is_minus_3_dbfs():
    levels = frame_rms_dbfs(sine(1000.0, 0.5, amplitude=1.0), features=F)
    np.testing.assert_allclose(levels, -3.01, atol=0.1)


def test_white_noise_profile_predicts_the_mel_power_of_noise():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(16000 * 4).astype(np.float32) * 0.1
    measured = (10 ** (log_mel_spectrogram(noise, features=F) / 10)).mean(axis=0)
    profile, dof = white_noise_mel_power(F)
    np.testing.assert_allclose(measured, 0.01 * profile, rtol=0.15)
    assert np.all(dof >= 1)


def test_augmentation_shifts_by_a_gain_and_adds_noise_at_the_asked_snr():
    rng = np.random.default_rng(1)
    profile, dof = white_noise_mel_power(F)
    windows = log_mel_spectrogram(sine(700.0, 1.0), features=F)[None, :16]
    gain_only = dataclasses.replace(TINY, volume_db=(-12.0, -12.0), noise_probability=0.0)
    shifted = augment_windows(windows, rng=rng, config=gain_only, noise_profile=profile,
                              noise_dof=dof)
    loud = windows > -80
    np.testing.assert_allclose(shifted[loud], windows[loud] - 12.0, atol=1e-3)

    noisy = dataclasses.replace(TINY, volume_db=(0.0, 0.0), noise_probability=1.0,
                                noise_snr_db=(10.0, 10.0))
    out = augment_windows(np.repeat(windows, 8, axis=0), rng=rng, config=noisy,
                          noise_profile=profile, noise_dof=dof)
    signal = (10 ** (windows / 10)).sum(axis=2).mean()
    added = (10 ** (out / 10) - 10 ** (windows / 10)).sum(axis=2).mean()
    assert 10 * np.log10(signal / added) == pytest.approx(10.0, abs=1.0)
    assert out.dtype == np.float32 and out.shape == (8, 16, F.n_mels)


def test_long_audio_is_processed_in_blocks_with_the_same_frames(monkeypatch):
    import gensuite.analysis.features as audio_features

    wave = np.random.default_rng(3).standard_normal(16000 * 3).astype(np.float32) * 0.1
    whole = log_mel_spectrogram(wave, features=F)
    monkeypatch.setattr(audio_features, "STFT_BLOCK_FRAMES", 7)
    np.testing.assert_allclose(log_mel_spectrogram(wave, features=F), whole, atol=1e-3)
    frames = np.lib.stride_tricks.sliding_window_view(wave, F.n_fft)[::F.hop_length]
    expected = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1))
    np.testing.assert_allclose(frame_rms_dbfs(wave, features=F), expected, atol=1e-3)
