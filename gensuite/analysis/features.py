"""Audio in, log-mel windows out: what every analysis model sees.

Any file libsndfile reads (WAV, FLAC, OGG, MP3; mono or multi-channel, any
sample rate) becomes mono float32 at the model's rate; a log-mel spectrogram
(librosa, power in dB) is cut into fixed windows every ``window_hop_frames``
frames::

    wave = read_audio("song.wav", sample_rate=16000)
    windows = wave_to_windows(wave, features=config.features)
    windows.log_mel.shape  # (n_windows, window_frames, n_mels)

Frames are not centred (no padding), so the frames of a stream read piece by
piece are exactly those of the whole file.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gensuite.analysis.configs import MelFeatures
from gensuite.common.errors import InputFileError, ParameterError

# Power floor before the logarithm: -100 dB, far below 16-bit quantisation.
POWER_FLOOR = 1e-10
# Peak amplitude below which a whole track counts as digital silence (-80 dBFS).
SILENT_PEAK = 1e-4
# Frames per STFT block in log_mel_spectrogram (about 4 MB of spectrum at n_fft 1024).
STFT_BLOCK_FRAMES = 2048


def check_analysable(wave: np.ndarray, *, features: MelFeatures, name: str = "wave") -> None:
    """Raise unless ``wave`` holds at least one window of non-silent audio.

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
        Mono audio at ``features.sample_rate``.
    name : str
        What to call the audio in errors (its file name).

    Raises
    ------
    InputFileError
        If it is shorter than one window, not finite, or digitally silent.
    """
    wave = np.asarray(wave)
    if wave.ndim != 1:
        raise ParameterError(f"{name}: must be mono (n_samples,), got shape {wave.shape}")
    if wave.size < features.window_samples:
        raise InputFileError(
            name, f"too short: {wave.size / features.sample_rate:.2f} s, shorter than one "
                  f"analysis window ({features.window_s:.2f} s)")
    if not np.all(np.isfinite(wave)):
        raise InputFileError(name, "holds NaN or infinite samples")
    peak = float(np.max(np.abs(wave)))
    if peak < SILENT_PEAK:
        level = "-inf" if peak == 0 else f"{20 * np.log10(peak):.0f}"
        raise InputFileError(name, f"silent: peak {level} dBFS, below "
                                   f"{20 * np.log10(SILENT_PEAK):.0f} dBFS")


def mel_filterbank(features: MelFeatures) -> np.ndarray:
    """The (n_mels, 1 + n_fft // 2) Slaney mel matrix the features use."""
    import librosa  # noqa: PLC0415

    return librosa.filters.mel(sr=features.sample_rate, n_fft=features.n_fft,
                               n_mels=features.n_mels, fmin=features.fmin, fmax=features.fmax)


def log_mel_spectrogram(wave: np.ndarray, *, features: MelFeatures) -> np.ndarray:
    """Mel power in dB, frames not centred.

    Returns
    -------
    np.ndarray
        float32, shape (n_frames, n_mels) with ``n_frames = 1 + (n_samples -
        n_fft) // hop_length`` (0 when shorter than one frame); values are
        ``10 log10(max(power, 1e-10))``: -100 dB for silence.
    """
    import librosa  # noqa: PLC0415

    wave = np.asarray(wave, dtype=np.float32)
    if wave.size < features.n_fft:
        return np.zeros((0, features.n_mels), np.float32)
    n_frames = 1 + (wave.size - features.n_fft) // features.hop_length
    weights = mel_filterbank(features)
    out = np.empty((n_frames, features.n_mels), np.float32)
    # Frames are independent (not centred), so blocks of frames give the same
    # values as the whole file while an hour of audio never holds a whole STFT.
    for first in range(0, n_frames, STFT_BLOCK_FRAMES):
        count = min(STFT_BLOCK_FRAMES, n_frames - first)
        start = first * features.hop_length
        segment = wave[start:start + features.n_fft + (count - 1) * features.hop_length]
        power = np.abs(librosa.stft(segment, n_fft=features.n_fft,
                                    hop_length=features.hop_length, center=False)) ** 2
        out[first:first + count] = (10.0 * np.log10(np.maximum(weights @ power, POWER_FLOOR))).T
    return out


def frame_rms_dbfs(wave: np.ndarray, *, features: MelFeatures) -> np.ndarray:
    """RMS level of each STFT frame in dB full scale, shape (n_frames,).

    A full-scale sine is -3 dBFS; silence is -100.
    """
    wave = np.asarray(wave, dtype=np.float32)
    if wave.size < features.n_fft:
        return np.zeros(0, np.float32)
    # Running sum of squares: O(n) memory, where a view of all frames would
    # square n_fft / hop_length times more values.
    energy = np.concatenate([[0.0], np.cumsum(np.square(wave, dtype=np.float64))])
    starts = np.arange(0, wave.size - features.n_fft + 1, features.hop_length)
    mean_square = np.maximum(energy[starts + features.n_fft] - energy[starts], 0.0) / features.n_fft
    return (10.0 * np.log10(np.maximum(mean_square, POWER_FLOOR))).astype(np.float32)


def window_starts(n_frames: int, *, features: MelFeatures) -> np.ndarray:
    """First frame of every whole window, shape (n_windows,), int64."""
    if n_frames < features.window_frames:
        return np.zeros(0, np.int64)
    return np.arange(0, n_frames - features.window_frames + 1, features.window_hop_frames,
                     dtype=np.int64)


def audible_starts(frame_db: np.ndarray, starts: np.ndarray, *,
                   features: MelFeatures) -> np.ndarray:
    """Whether the loudest frame of each window reaches ``silence_dbfs``, bool (n_windows,)."""
    frame_db = np.asarray(frame_db)
    if len(starts) == 0:
        return np.zeros(0, bool)
    window_max = np.lib.stride_tricks.sliding_window_view(
        frame_db, features.window_frames).max(axis=1)
    return window_max[np.asarray(starts)] >= features.silence_dbfs


def slice_windows(log_mel: np.ndarray, starts: np.ndarray, *, window_frames: int) -> np.ndarray:
    """Windows of ``window_frames`` frames at ``starts``: (n_windows, window_frames, n_mels)."""
    starts = np.asarray(starts, dtype=np.int64)
    index = starts[:, None] + np.arange(window_frames)[None, :]
    return np.asarray(log_mel)[index]


@dataclasses.dataclass(frozen=True)
class AudioWindows:
    """The analysis windows of one track.

    Attributes
    ----------
    log_mel : np.ndarray, float32 (n_windows, window_frames, n_mels)
        dB.
    start_s : np.ndarray, float64 (n_windows,)
        Start time of each window in seconds.
    audible : np.ndarray, bool (n_windows,)
        False for windows quieter than ``silence_dbfs`` throughout.
    """

    log_mel: np.ndarray
    start_s: np.ndarray
    audible: np.ndarray

    def __len__(self) -> int:
        return len(self.start_s)


def wave_to_windows(wave: np.ndarray, *, features: MelFeatures,
                    name: str = "wave") -> AudioWindows:
    """Cut a mono wave at ``features.sample_rate`` into log-mel windows.

    Raises
    ------
    InputFileError
        If the wave is silent or shorter than one window (see :func:`check_analysable`).
    """
    check_analysable(wave, features=features, name=name)
    log_mel = log_mel_spectrogram(wave, features=features)
    starts = window_starts(len(log_mel), features=features)
    audible = audible_starts(frame_rms_dbfs(wave, features=features), starts, features=features)
    if not audible.any():
        raise InputFileError(
            name, f"silent: no {features.window_s:.2f} s window reaches "
                  f"{features.silence_dbfs:.0f} dBFS")
    return AudioWindows(
        log_mel=slice_windows(log_mel, starts, window_frames=features.window_frames),
        start_s=starts * features.frame_hop_s, audible=audible)


def white_noise_mel_power(features: MelFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Expected mel power of unit-variance white noise, and its degrees of freedom.

    A windowed FFT bin of white noise of variance 1 has expected power
    ``sum(window ** 2)``; a mel band sums its bins with the filter weights.
    The band's power fluctuates like a gamma variable with ``dof`` degrees of
    freedom (the filter's effective number of independent bins), which is how
    training adds noise without touching waveforms.

    Returns
    -------
    (profile, dof) : two float32 arrays of shape (n_mels,)
    """
    import scipy.signal  # noqa: PLC0415

    weights = mel_filterbank(features)
    window_energy = float(np.sum(scipy.signal.get_window("hann", features.n_fft) ** 2))
    row_sum = weights.sum(axis=1)
    dof = np.maximum(row_sum ** 2 / np.maximum((weights ** 2).sum(axis=1), 1e-20), 1.0)
    return (window_energy * row_sum).astype(np.float32), dof.astype(np.float32)
