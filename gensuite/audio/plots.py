"""Spectrogram PNGs of audio.

matplotlib is imported inside the function (it costs about a second) and used
through its object API with the Agg canvas, never through pyplot, so no global
figure state or interactive backend is involved.
"""

from __future__ import annotations

import os

import numpy as np

from gensuite.common.errors import ParameterError
from gensuite.common.fileio import atomic_path


def plot_spectrogram(
    wave: np.ndarray,
    *,
    sample_rate: int,
    path: str | os.PathLike,
    title: str | None = None,
    n_fft: int = 1024,
    hop_length: int = 256,
    db_range: float = 80.0,
    dpi: int = 100,
) -> None:
    """Draw the log-magnitude spectrogram of a mono waveform into a PNG.

    Parameters
    ----------
    wave : numpy.ndarray, shape (n_samples,)
        Mono audio, any float scale.
    sample_rate : int
        Samples per second (Hz).
    path : str or os.PathLike
        PNG file to write, atomically.
    title : str, optional
        Title over the plot.
    n_fft, hop_length : int
        STFT window and hop in samples (Hann window).
    db_range : float
        Dynamic range shown below the loudest bin, in dB.

    Raises
    ------
    ParameterError
        If ``wave`` is not a non-empty 1-D array of finite numbers, or a
        numeric parameter is out of range.
    """
    wave = np.asarray(wave, dtype=np.float64)
    if wave.ndim != 1 or wave.size == 0:
        raise ParameterError(f"wave: must be a non-empty 1-D array, got shape {wave.shape}")
    if not np.all(np.isfinite(wave)):
        raise ParameterError("wave: must hold finite numbers, got NaN or inf")
    for name, value in (("sample_rate", sample_rate), ("n_fft", n_fft),
                        ("hop_length", hop_length), ("db_range", db_range)):
        if not value > 0:
            raise ParameterError(f"{name}: must be > 0, got {value}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    padded = np.pad(wave, (0, max(0, n_fft - wave.size)))
    n_frames = 1 + (padded.size - n_fft) // hop_length
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length][:n_frames]
    magnitude = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)).T
    decibels = 20.0 * np.log10(magnitude + 1e-10)
    decibels = np.maximum(decibels, decibels.max() - db_range)

    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    image = ax.imshow(decibels, origin="lower", aspect="auto", cmap="magma",
                      extent=(0.0, wave.size / sample_rate, 0.0, sample_rate / 2.0))
    fig.colorbar(image, ax=ax, label="dB")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    if title:
        ax.set_title(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
