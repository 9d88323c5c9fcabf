"""WAV files in and out: float32 waveforms, written atomically."""

from __future__ import annotations

import os

import numpy as np

from gensuite.errors import InputFileError, ParameterError
from gensuite.fileio import atomic_path


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
