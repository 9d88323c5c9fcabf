"""Audio files in and out: any libsndfile format read as mono float32, WAV written atomically."""

from __future__ import annotations

import os

import numpy as np

from gensuite.common.errors import InputFileError, ParameterError, check_input_file
from gensuite.common.fileio import atomic_path

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".au")
# Largest sample magnitude read_audio accepts (+120 dBFS). Float files may go a
# little over full scale, but samples near 1e16 overflow float32 spectra into
# inf, and the models would then answer with confident-looking garbage.
MAX_ABS_SAMPLE = 1e6


def write_wav(path: str | os.PathLike, wave: np.ndarray, *, sample_rate: int) -> None:
    """Write a mono or (n_samples, n_channels) float waveform as 16-bit PCM WAV.

    Values outside [-1, 1] are an error rather than silently clipped: callers
    normalise (e.g. :func:`peak_normalize`) so nothing distorts.

    Raises
    ------
    ParameterError
        If the wave is empty, not finite, or exceeds [-1, 1].
    InputFileError
        If the file cannot be written.
    """
    import soundfile  # noqa: PLC0415

    wave = np.asarray(wave, dtype=np.float32)
    if wave.size == 0:
        raise ParameterError(f"wave: must hold samples, got shape {wave.shape}")
    if not np.all(np.isfinite(wave)):
        raise ParameterError("wave: must be finite, got NaN or inf samples")
    peak = float(np.max(np.abs(wave)))
    if peak > 1.0 + 1e-6:
        raise ParameterError(f"wave: samples must lie in [-1, 1], got a peak of {peak:.3f}")
    try:
        with atomic_path(path, suffix=".wav") as tmp:
            soundfile.write(tmp, np.clip(wave, -1.0, 1.0), int(sample_rate), subtype="PCM_16",
                            format="WAV")
    except OSError as exc:
        raise InputFileError(path, f"cannot write ({exc.strerror or exc})") from exc


def peak_normalize(wave: np.ndarray, *, peak: float = 0.99) -> np.ndarray:
    """Scale so that the largest absolute sample is ``peak`` (silence stays silent)."""
    wave = np.asarray(wave, dtype=np.float32)
    top = float(np.max(np.abs(wave))) if wave.size else 0.0
    return wave if top == 0.0 else wave * (peak / top)


def limit_peak(wave: np.ndarray, *, peak: float = 0.99) -> np.ndarray:
    """Scale down only if the largest absolute sample exceeds ``peak`` (never clips).

    Unlike :func:`peak_normalize`, quiet notes stay quiet, so levels compare.
    """
    wave = np.asarray(wave, dtype=np.float32)
    top = float(np.max(np.abs(wave))) if wave.size else 0.0
    return wave * (peak / top) if top > peak else wave


def read_audio(path: str | os.PathLike, *, sample_rate: int) -> np.ndarray:
    """Read an audio file as mono float32 at ``sample_rate``.

    Parameters
    ----------
    path : str or os.PathLike
        WAV, FLAC, OGG/Vorbis, MP3, AIFF, ... (whatever libsndfile reads).
    sample_rate : int
        Output rate in Hz; other rates are resampled (soxr, high quality).

    Returns
    -------
    np.ndarray
        float32, shape (n_samples,); channels are averaged.

    Raises
    ------
    InputFileError
        Missing file, a folder, not audio, no samples, NaN or infinite
        samples, or samples beyond ``MAX_ABS_SAMPLE``.
    """
    import soundfile  # noqa: PLC0415

    path = check_input_file(path, missing="no such audio file", expected="an audio file")
    try:
        wave, file_rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InputFileError(
            path, f"not a readable audio file (WAV, FLAC, OGG, MP3, AIFF): {exc}") from None
    if wave.shape[0] == 0:
        raise InputFileError(path, "holds no audio samples")
    check_sample_values(wave, name=path)
    return resample_wave(to_mono(wave), from_rate=file_rate, to_rate=sample_rate)


def check_sample_values(wave: np.ndarray, *, name: str) -> None:
    """Raise unless every sample of ``wave`` is finite and within ``MAX_ABS_SAMPLE``.

    Float files (WAV, AIFF) can store NaN and inf, which PCM cannot; checked
    before resampling and channel mixing, which would spread them.

    Raises
    ------
    InputFileError
        Naming ``name`` and the rule broken.
    """
    if not np.all(np.isfinite(wave)):
        raise InputFileError(name, "holds NaN or infinite samples")
    peak = float(np.max(np.abs(wave)))
    if peak > MAX_ABS_SAMPLE:
        raise InputFileError(name, f"samples reach {peak:.3g}, far beyond full scale (1); "
                                   f"at most {MAX_ABS_SAMPLE:.0e} is accepted")


def find_audio_files(folder: str | os.PathLike) -> list[str]:
    """Audio files under ``folder`` by suffix (recursive, hidden ones skipped), sorted.

    Raises
    ------
    InputFileError
        If ``folder`` is missing or not a folder.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise InputFileError(folder, "no such folder" if not os.path.exists(folder)
                             else "is not a folder")
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in files
                     if not f.startswith(".") and f.lower().endswith(AUDIO_SUFFIXES))
    return sorted(found)


def to_mono(wave: np.ndarray) -> np.ndarray:
    """(n_samples,) or (n_samples, n_channels) -> float32 (n_samples,), channels averaged."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim == 1:
        return wave
    if wave.ndim != 2:
        raise ParameterError(
            f"wave: must be (n_samples,) or (n_samples, n_channels), got shape {wave.shape}")
    return wave.mean(axis=1, dtype=np.float32)


def resample_wave(wave: np.ndarray, *, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample a mono float wave from ``from_rate`` to ``to_rate`` Hz (soxr)."""
    if not (from_rate > 0 and to_rate > 0):
        raise ParameterError(f"sample rates: must be > 0, got {from_rate} -> {to_rate}")
    wave = np.asarray(wave, dtype=np.float32)
    if int(from_rate) == int(to_rate):
        return wave
    import soxr  # noqa: PLC0415  (librosa's own resampler)

    return soxr.resample(wave, int(from_rate), int(to_rate), quality="HQ").astype(np.float32)
