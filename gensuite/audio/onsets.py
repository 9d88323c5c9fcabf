"""Where a note's attack is, and starting a note there (numpy only).

A generated note reaches half of its early peak level 50-150 ms after its
first sample, where a soundfont's piano note takes 5 ms, and some models'
notes start with a broadband click. :func:`start_at_attack` moves the note's
attack (where it first reaches a fifth of its early peak) to its first
sample, as a sampler's start offset would, and fades it in over 10 ms (and
out over 10 ms before the silence that now pads its end).
Cutting later into the rise (at half the peak) made the cut itself click on
notes that swell.
"""

from __future__ import annotations

import numpy as np

ONSET_LEVEL = 0.2
ONSET_SEARCH_S = 0.5
ONSET_FRAME_S = 0.005
FADE_S = 0.010


def onset_offset_samples(wave: np.ndarray, *, sample_rate: int, level: float = ONSET_LEVEL) -> int:
    """Samples before a note's attack: where its level first reaches ``level`` of its early peak.

    Levels are RMS over 5-ms frames of the first 0.5 s; the offset is the
    start of the frame before the first one at ``level`` times their maximum
    (0 for a silent note, or one that starts at once).

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
    sample_rate : int
    level : float
        In (0, 1].

    Returns
    -------
    int
    """
    frame = max(1, int(round(ONSET_FRAME_S * sample_rate)))
    n_frames = min(len(wave), int(ONSET_SEARCH_S * sample_rate)) // frame
    if n_frames == 0:
        return 0
    frames = np.asarray(wave[:n_frames * frame], np.float64).reshape(n_frames, frame)
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    if rms.max() == 0:
        return 0
    first = int(np.argmax(rms >= level * rms.max()))
    return max(0, first - 1) * frame


def start_at_attack(wave: np.ndarray, *, sample_rate: int, fade_s: float = FADE_S
                    ) -> np.ndarray:
    """``wave`` from its attack (:func:`onset_offset_samples`) on, faded in, same length.

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
    sample_rate : int
    fade_s : float
        Length of the linear fade-in, s; a note moved earlier also fades out
        over it before the zeros that pad its end.

    Returns
    -------
    np.ndarray, shape (n_samples,), float32
    """
    wave = np.asarray(wave, np.float32)
    offset = onset_offset_samples(wave, sample_rate=sample_rate)
    n_kept = len(wave) - offset
    out = np.zeros_like(wave)
    out[:n_kept] = wave[offset:]
    n_fade = min(n_kept, int(round(fade_s * sample_rate)))
    ramp = np.linspace(0.0, 1.0, n_fade, endpoint=False, dtype=np.float32)
    out[:n_fade] *= ramp
    if offset:
        out[n_kept - n_fade:n_kept] *= ramp[::-1]
    return out
